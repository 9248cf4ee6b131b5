// Emit stage (AWS target): the plan as one CloudFormation stack (docs/aws.md). It reads the plan
// only. It walks the budget's construct instances (`Budget.forEachInstance`) and expands each to
// exactly the resource types of the budget's table (`Budget.Construct.resources`), so the count
// is the template. Deterministic: ordered keys, the plan's order, no clock, no paths.

public enum CloudFormationEmitter {
    /// The template file of the build directory.
    public static let templatePath = "template.json"
    /// Memory of every function (the plan has no memory setting; docs/aws.md).
    static let functionMemoryMB = 256
    /// CloudFormation's limit of resources in one stack.
    public static let maxStackResources = 500
    /// Retention of every log group.
    static let logRetentionDays = 30
    /// Where the build directory holds a readable copy of each workflow's definition.
    public static func definitionPath(_ workflow: WorkflowID) -> String { "workflows/\(workflow).asl.json" }

    /// The template, what the build should warn about, and what stops it.
    public struct Output: Sendable {
        public var template: JSON
        public var warnings: [String]
        public var errors: [String]
        /// The resource types of the template with their counts, sorted by type.
        public var byType: [(type: String, count: Int)]
        /// Each workflow's state machine definition (Amazon States Language, `${…}` placeholders
        /// as in the template's `DefinitionString`), in the plan's order.
        public var stateMachines: [(workflow: WorkflowID, definition: JSON)] = []
    }

    /// The template of a compilation: of its plan, which carries every handler key.
    public static func emit(_ c: Compilation) -> Output { emit(c.plan) }

    public static func emit(_ plan: Plan) -> Output {
        var instances: [Budget.Instance] = []
        Budget.forEachInstance(of: plan) { instances.append($0) }
        let ids = LogicalIds(instances.flatMap(ResourceNames.wanted))
        var context = TemplateContext(plan: plan, ids: ids)

        var resources = JSONObject()
        var types: [String: Int] = [:]
        for instance in instances {
            let expanded = context.expand(instance)
            // The one table: an emitter that disagrees with the budget is a compiler bug.
            precondition(expanded.map(\.type) == instance.construct.resources,
                         "\(instance.construct.rawValue) expands to \(expanded.map(\.type)), the budget counts \(instance.construct.resources)")
            for r in expanded {
                resources[r.id] = r.json
                types[r.type, default: 0] += 1
            }
        }

        var root = JSONObject()
        root["AWSTemplateFormatVersion"] = "2010-09-09"
        root["Description"] = .string("infc app \(plan.app): \(plan.budget.total) resources, written by `infc build --target aws`")
        root["Parameters"] = [
            "CodeBucket": ["Type": "String", "MinLength": 3, "Description": "The S3 bucket that holds the code package (bootstrap, code, manifest)"],
            "CodeKey": ["Type": "String", "MinLength": 1, "Description": "The S3 key of the code package (a zip)"],
        ]
        root["Resources"] = .object(resources)
        let outputs = context.outputs()
        if !outputs.isEmpty { root["Outputs"] = .object(outputs) }

        if plan.budget.total > maxStackResources {
            context.errors.append("the plan needs \(plan.budget.total) resources; one CloudFormation stack holds at most \(maxStackResources): lower max_resources or use granularity: \"grouped\"")
        }
        return Output(template: .object(root), warnings: context.warnings, errors: context.errors,
                      byType: types.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                      stateMachines: context.definitions)
    }

    /// The build directory's file: `template.json`, pretty-printed.
    public static func files(_ output: Output) -> [(path: String, bytes: [UInt8])] {
        [(templatePath, Array(output.template.prettyPrinted().utf8))]
            + output.stateMachines.map { (definitionPath($0.workflow), Array($0.definition.prettyPrinted().utf8)) }
    }
}

/// The names the logical ids are made of, per construct instance, in the budget table's order.
enum ResourceNames {
    static func wanted(_ instance: Budget.Instance) -> [(role: ResourceRole, name: String, shown: String)] {
        func all(_ roles: [ResourceRole], _ name: String, _ shown: String) -> [(role: ResourceRole, name: String, shown: String)] {
            roles.map { ($0, name, shown) }
        }
        switch instance {
        case .httpAPI: return all([.httpAPI, .httpAPIStage], "", "")
        case .route(let r): return all([.route, .integration, .routePermission], routeName(r), "\(r.method.lowercased()) \(r.path)")
        case .function(let f): return all([.function, .role, .logGroup], f.name.text, f.name.text)
        case .queue(let q): return all([.queue, .deadLetterQueue, .eventSourceMapping], q.name.text, stripped(q.name.text, "-queue"))
        case .topic(let t): return all([.topic], t.text, t.text)
        case .subscription(let s):
            return all(s.queue == nil ? [.subscription, .subscriptionPermission] : [.subscription, .queuePolicy],
                       subscriptionName(s), "\(s.topic) to \(s.target)")
        case .schedule(let s):
            return all(s.targetIsWorkflow ? [.rule, .ruleRole] : [.rule, .rulePermission], s.name.text, stripped(s.name.text, "-schedule"))
        case .workflow(let w): return all([.stateMachine, .stateMachineRole, .stateMachineLogGroup], w.name.text, w.name.text)
        case .evaluator(let f): return all([.function, .role, .logGroup], f.name.text, f.name.text)
        case .serviceRates: return all([.serviceRates], "", "infc")
        case .table(let t): return all([.table], t.text, t.text)
        case .bucket(let b): return all([.bucket], b.text, b.text)
        case .secret(let s): return all([.secret], s.text, s.text)
        }
    }

    static func routeName(_ r: PlanRoute) -> String { "\(r.method) \(r.path)" }
    static func subscriptionName(_ s: PlanSubscription) -> String { s.topic.text + "\u{0}" + s.target.text }
    static func stripped(_ name: String, _ suffix: String) -> String {
        name.hasSuffix(suffix) && name.count > suffix.count ? String(name.dropLast(suffix.count)) : name
    }
}

/// One resource of the template.
struct TemplateResource {
    var id: String
    var type: String
    var properties: JSONObject
    /// Keeps its data when the stack is deleted or the resource replaced.
    var retain = false

    var json: JSON {
        var o = JSONObject()
        o["Type"] = .string(type)
        if retain {
            o["DeletionPolicy"] = "Retain"
            o["UpdateReplacePolicy"] = "Retain"
        }
        o["Properties"] = .object(properties)
        return .object(o)
    }
}

// MARK: Intrinsic functions

enum Intrinsic {
    static func ref(_ id: String) -> JSON { ["Ref": .string(id)] }
    static func getAtt(_ id: String, _ attribute: String) -> JSON { ["Fn::GetAtt": [.string(id), .string(attribute)]] }
    static func sub(_ text: String) -> JSON { ["Fn::Sub": .string(text)] }
    static func join(_ parts: [JSON]) -> JSON { ["Fn::Join": ["", .array(parts)]] }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSON)...) { self.init(elements) }
}
