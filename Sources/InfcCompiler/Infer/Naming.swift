// Infer stage: the naming step — every name the plan uses, derived once, here: each handler's
// stable key (`fn charge`, `route POST /orders`), each deployed unit's name (`post_orders`,
// `every_1d`, `cron_1`), and the names of what inference adds around units (queues,
// dead-letter queues, delivery queues, schedules, workflow starters, groups).

/// The names of a program's declarations, by declaration index.
public struct Names: Sendable {
    /// The stable key of each handler declaration (nil for declarations without a body).
    public var keys: [HandlerKey?]
    /// The deployed name of each handler or fn (nil for declarations without a body).
    public var units: [String?]

    /// Derives every handler key and unit name of `program`.
    public static func derive(_ program: Program, file: SourceFile) -> Names {
        let count = program.declarations.count
        var keys = [HandlerKey?](repeating: nil, count: count)
        var units = [String?](repeating: nil, count: count)

        // Keys: the trigger, with `#2`… for repeats.
        var seen: [String: Int] = [:]
        for (i, d) in program.declarations.enumerated() {
            guard let h = d.handler else { continue }
            let base: String
            switch h.trigger {
            case .fn(let name): base = "fn \(name.name)"
            case .route(let m, let p, _): base = "route \(m.name) \(p)"
            case .on(let t): base = "on \(t.name)"
            case .every(.interval(_, let r)): base = "every \(file.text(r))"
            case .every(.cron(let c, _)): base = "every \"\(c)\""
            }
            let n = (seen[base] ?? 0) + 1
            seen[base] = n
            keys[i] = HandlerKey(text: n == 1 ? base : "\(base) #\(n)")
        }

        // Unit names: fns keep their own names; handlers take what is left.
        var used: Set<String> = []
        var cronCount = 0
        func claim(_ base: String) -> String {
            var name = base.isEmpty ? "handler" : base
            var n = 2
            while used.contains(name) { name = "\(base)_\(n)"; n += 1 }
            used.insert(name)
            return name
        }
        for (i, d) in program.declarations.enumerated() {
            if let name = d.handler?.fnName { units[i] = claim(name) }
        }
        for (i, d) in program.declarations.enumerated() {
            guard let h = d.handler else { continue }
            switch h.trigger {
            case .fn: continue
            case .route(let m, let p, _): units[i] = claim(routeUnit(method: m.name, path: p))
            case .on(let t): units[i] = claim("on_\(t.name)")
            case .every(.interval(_, let r)): units[i] = claim("every_\(file.text(r))")
            case .every(.cron):
                cronCount += 1
                units[i] = claim("cron_\(cronCount)")
            }
        }
        return Names(keys: keys, units: units)
    }

    // MARK: Names of what inference adds

    /// The queue in front of a function: an async target's, or a limited subscriber's.
    public static func queue(of unit: FunctionID) -> QueueID { QueueID("\(unit)-queue") }
    /// The dead-letter queue beside `queue(of: unit)`.
    public static func deadLetterQueue(of unit: FunctionID) -> QueueID { QueueID("\(unit)-dlq") }
    /// The local runtime's delivery queue of a subscriber without a queue of its own.
    public static func deliveryQueue(of unit: FunctionID) -> QueueID { QueueID("\(unit)-deliveries") }
    /// The schedule that fires a unit (also the local runtime's firing queue).
    public static func schedule(of unit: String) -> ScheduleID { ScheduleID("\(unit)-schedule") }
    /// The small function that starts a workflow when its topic delivers.
    public static func workflowStarter(of workflow: WorkflowID) -> FunctionID { FunctionID("start_\(workflow)") }
    /// The `k`th (from 0) function shared by handlers under `granularity: "grouped"`.
    public static func group(_ k: Int) -> FunctionID { FunctionID("group_\(k + 1)") }
    /// A workflow's evaluator function (docs/aws.md).
    public static func evaluator(of workflow: WorkflowID) -> FunctionID { FunctionID("\(workflow)-eval") }
    /// The small function of a workflow that calls the limited service `service`.
    public static func serviceCaller(of workflow: WorkflowID, service: ResourceID) -> FunctionID { FunctionID("\(workflow)_\(service)") }

    /// `POST /orders/:id/items` → `post_orders_id_items`, `GET /` → `get_root`: the method, then
    /// each segment without its leading colons, letters and digits kept, anything else `_`.
    public static func routeUnit(method: String, path: String) -> String {
        var name = method.lowercased()
        var segments = 0
        for segment in path.utf8.split(separator: UInt8(ascii: "/")) {
            name += "_"
            segments += 1
            let word = segment.drop { $0 == UInt8(ascii: ":") }
            if word.allSatisfy({ $0 < 0x80 }) {
                // ASCII, as nearly every path is: byte by byte, no grapheme breaking.
                var bytes = [UInt8](word)
                for k in bytes.indices {
                    let a = bytes[k]
                    let keep = (a >= 0x30 && a <= 0x39) || (a >= 0x41 && a <= 0x5A) || (a >= 0x61 && a <= 0x7A)
                    if !keep { bytes[k] = UInt8(ascii: "_") }
                }
                name += String(decoding: bytes, as: UTF8.self)
                continue
            }
            for c in Substring(word) {
                if let a = c.asciiValue {
                    let keep = (a >= 0x30 && a <= 0x39) || (a >= 0x41 && a <= 0x5A) || (a >= 0x61 && a <= 0x7A)
                    name.append(keep ? c : "_")
                } else {
                    name.append(c.isLetter || c.isNumber ? c : "_")
                }
            }
        }
        if segments == 0 { name += "_root" }
        return name
    }
}
