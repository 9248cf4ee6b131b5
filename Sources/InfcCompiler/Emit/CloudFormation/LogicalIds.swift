// Emit stage (AWS target): the logical ids of the template's resources. Each resource of a
// construct instance gets `Pascal(name) + role` ("charge" → `ChargeFunction`, `ChargeRole`);
// ids that would collide (names differing only in `_`, case or characters CloudFormation does
// not allow) get a short hash of what they name, so every id is unique and stable.

/// Which resource of a construct instance an id names.
enum ResourceRole: String, Sendable, CaseIterable {
    case httpAPI = "HttpApi", httpAPIStage = "HttpApiStage"
    case route = "Route", integration = "Integration", routePermission = "RoutePermission"
    case function = "Function", role = "Role", logGroup = "LogGroup"
    case queue = "Queue", deadLetterQueue = "DeadLetterQueue", eventSourceMapping = "EventSourceMapping"
    case topic = "Topic"
    case subscription = "Subscription", subscriptionPermission = "SubscriptionPermission", queuePolicy = "QueuePolicy"
    case rule = "Rule", rulePermission = "RulePermission", ruleRole = "RuleRole"
    case stateMachine = "StateMachine", stateMachineRole = "StateMachineRole", stateMachineLogGroup = "StateMachineLogGroup"
    case table = "Table", bucket = "Bucket", secret = "Secret"
    case serviceRates = "ServiceRates"
}

/// The logical id of every resource of a template, built once from the plan's instances.
struct LogicalIds {
    private var ids: [String: String] = [:]

    static func key(_ role: ResourceRole, _ name: String) -> String { role.rawValue + "\u{0}" + name }

    /// The id of `role` for the instance named `name`. Asking for a resource the plan does not
    /// have is a compiler bug.
    func id(_ role: ResourceRole, _ name: String) -> String {
        guard let id = ids[LogicalIds.key(role, name)] else {
            preconditionFailure("no logical id for \(role.rawValue) \(name)")
        }
        return id
    }
    /// The id of `role` for the function, workflow, queue, schedule or resource `name`.
    func id(_ role: ResourceRole, _ name: some PlanID) -> String { id(role, name.text) }
    /// The id of `role` for the function or workflow `unit`.
    func id(_ role: ResourceRole, _ unit: UnitID) -> String { id(role, unit.text) }

    /// Assigns ids to `wanted` (role, name, shown name) triples: `Pascal(shown) + role` where
    /// that is unique, else followed by 8 hex digits of FNV-1a over the role and name.
    init(_ wanted: [(role: ResourceRole, name: String, shown: String)]) {
        var byBase: [String: Int] = [:]
        let bases = wanted.map { LogicalIds.pascal($0.shown) + $0.role.rawValue }
        for b in bases { byBase[b, default: 0] += 1 }
        var used: Set<String> = []
        for (i, (role, name, _)) in wanted.enumerated() {
            let key = LogicalIds.key(role, name)
            if ids[key] != nil { continue }
            var id = bases[i]
            if byBase[id, default: 0] > 1 || id.count > 200 {
                let hash = FNV1a.hash(key.utf8)
                let hex = String(hash & 0xFFFF_FFFF, radix: 16)
                id = String(id.prefix(200)) + String(repeating: "0", count: 8 - hex.count) + hex
            }
            precondition(!used.contains(id), "logical id \(id) assigned twice")
            used.insert(id)
            ids[key] = id
        }
    }

    /// `get_orders_id` → `GetOrdersId`; `charge-queue` → `ChargeQueue`. Only ASCII letters and
    /// digits are kept (CloudFormation's alphabet for ids); a leading digit gets an `N` before it.
    static func pascal(_ name: String) -> String {
        var out = ""
        var upper = true
        for b in name.utf8 {
            let isLetter = (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z")
            let isDigit = b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")
            guard isLetter || isDigit else { upper = true; continue }
            if out.isEmpty && isDigit { out += "N" }
            out.unicodeScalars.append(Unicode.Scalar(upper && isLetter ? b & ~0x20 : b))
            upper = false
        }
        return out
    }
}
