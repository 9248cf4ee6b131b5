// Infer stage: the resource budget (SPEC §4). One expansion table maps each construct of the
// plan to the CloudFormation resources a single stack holds for it, and one enumeration lists the
// plan's construct instances: the count and the AWS template (Emit/CloudFormation) both walk
// them, so the count equals the template's resources, type by type.

public struct Budget: Sendable {
    /// A construct of the plan and what it expands to.
    public enum Construct: String, Sendable, CaseIterable {
        case httpAPI = "http-api"
        case route
        case function
        case queue
        case topic
        case subscription
        case queueSubscription = "queue-subscription"
        case schedule
        case workflowSchedule = "workflow-schedule"
        case workflow
        case workflowEvaluator = "workflow-evaluator"
        case table
        case bucket
        case secret
        case serviceRates = "service-rates"

        /// The expansion table: the single source of truth (docs/budget.md prints it).
        public var resources: [String] {
            switch self {
            case .httpAPI: return ["AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage"]
            case .route: return ["AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration", "AWS::Lambda::Permission"]
            case .function: return ["AWS::Lambda::Function", "AWS::IAM::Role", "AWS::Logs::LogGroup"]
            case .queue: return ["AWS::SQS::Queue", "AWS::SQS::Queue", "AWS::Lambda::EventSourceMapping"]
            case .topic: return ["AWS::SNS::Topic"]
            case .subscription: return ["AWS::SNS::Subscription", "AWS::Lambda::Permission"]
            case .queueSubscription: return ["AWS::SNS::Subscription", "AWS::SQS::QueuePolicy"]
            case .schedule: return ["AWS::Events::Rule", "AWS::Lambda::Permission"]
            case .workflowSchedule: return ["AWS::Events::Rule", "AWS::IAM::Role"]
            case .workflow: return ["AWS::StepFunctions::StateMachine", "AWS::IAM::Role", "AWS::Logs::LogGroup"]
            case .workflowEvaluator: return ["AWS::Lambda::Function", "AWS::IAM::Role", "AWS::Logs::LogGroup"]
            case .table: return ["AWS::DynamoDB::Table"]
            case .bucket: return ["AWS::S3::Bucket"]
            case .secret: return ["AWS::SecretsManager::Secret"]
            case .serviceRates: return ["AWS::DynamoDB::Table"]
            }
        }

        public var summary: String {
            switch self {
            case .httpAPI: return "the HTTP API and its stage, once when the app has routes"
            case .route: return "each route: route, integration, invoke permission"
            case .function: return "each function: function, role, log group"
            case .queue: return "each inferred queue: queue, dead-letter queue, event source mapping"
            case .topic: return "each topic"
            case .subscription: return "a topic subscriber without a limit: subscription, invoke permission"
            case .queueSubscription: return "a limited topic subscriber: subscription to its queue, queue policy"
            case .schedule: return "each schedule of a function: rule, invoke permission"
            case .workflowSchedule: return "each schedule of a workflow: rule, role that starts it"
            case .workflow: return "each workflow: state machine, role, log group"
            case .workflowEvaluator: return "a workflow with expressions that have no Step Functions form: its evaluator function, role, log group"
            case .table: return "each table"
            case .bucket: return "each bucket"
            case .secret: return "each secret"
            case .serviceRates: return "the table every function shares to hold the services' `rate`s, once when a service has a rate"
            }
        }
    }

    /// What one handler or declaration adds to the count.
    public struct Contribution: Sendable {
        public var label: String
        public var range: SourceRange
        public var count: Int
    }

    public var cap = 200
    public var total = 0
    /// CloudFormation resource type → count, sorted by type.
    public var byType: [(type: String, count: Int)] = []
    /// Construct → (instances, resources).
    public var byConstruct: [(construct: Construct, instances: Int, resources: Int)] = []
    /// The largest contributors first; filled only when the plan is over its cap (the
    /// over-budget diagnostic names them), by `contributors(of:declarationRanges:)`.
    public var contributors: [Contribution] = []

    public var isOver: Bool { total > cap }

    /// One instance of a construct in a plan: what the template expands and the count counts.
    public enum Instance: Sendable {
        case httpAPI
        case route(PlanRoute)
        case function(PlanFunction)
        case queue(PlanQueue)
        case topic(ResourceID)
        case subscription(PlanSubscription)
        case schedule(PlanSchedule)
        case workflow(PlanWorkflow)
        case evaluator(PlanFunction)
        case table(ResourceID)
        case bucket(ResourceID)
        case secret(ResourceID)
        case serviceRates

        /// The construct this instance is of (a subscription or schedule depends on its target).
        public var construct: Construct {
            switch self {
            case .httpAPI: return .httpAPI
            case .route: return .route
            case .function: return .function
            case .queue: return .queue
            case .topic: return .topic
            case .subscription(let s): return s.queue == nil ? .subscription : .queueSubscription
            case .schedule(let s): return s.targetIsWorkflow ? .workflowSchedule : .schedule
            case .workflow: return .workflow
            case .evaluator: return .workflowEvaluator
            case .table: return .table
            case .bucket: return .bucket
            case .secret: return .secret
            case .serviceRates: return .serviceRates
            }
        }

        /// The function or workflow the instance belongs to, for the largest-contributors list.
        var unit: UnitID? {
            switch self {
            case .route(let r): return .function(r.function)
            case .function(let f): return .function(f.name)
            case .queue(let q): return .function(q.consumer)
            case .subscription(let s): return s.target
            case .schedule(let s): return s.target
            case .workflow(let w): return .workflow(w.name)
            case .evaluator(let f): return f.evaluates.map { .workflow($0) }
            case .httpAPI, .topic, .table, .bucket, .secret, .serviceRates: return nil
            }
        }
    }

    /// Every construct instance of a plan, in the plan's order.
    public static func forEachInstance(of plan: Plan, _ add: (Instance) -> Void) {
        if !plan.routes.isEmpty { add(.httpAPI) }
        for r in plan.routes { add(.route(r)) }
        for f in plan.functions { add(.function(f)) }
        for q in plan.queues { add(.queue(q)) }
        for t in plan.topics { add(.topic(t)) }
        for s in plan.subscriptions { add(.subscription(s)) }
        for s in plan.schedules { add(.schedule(s)) }
        for w in plan.workflows {
            add(.workflow(w))
            if let e = w.evaluator { add(.evaluator(e)) }
        }
        for t in plan.tables { add(.table(t)) }
        for b in plan.buckets { add(.bucket(b)) }
        for s in plan.secrets { add(.secret(s)) }
        if plan.services.contains(where: { $0.ratePerSecond != nil }) { add(.serviceRates) }
    }

    /// Counts a plan (without contributors).
    static func count(_ plan: Plan) -> Budget {
        var instances: [Construct: Int] = [:]
        forEachInstance(of: plan) { instances[$0.construct, default: 0] += 1 }
        var b = Budget()
        var types: [String: Int] = [:]
        for c in Construct.allCases {
            guard let n = instances[c], n > 0 else { continue }
            b.byConstruct.append((c, n, n * c.resources.count))
            for t in c.resources { types[t, default: 0] += n }
        }
        b.byType = types.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        b.total = b.byConstruct.reduce(0) { $0 + $1.resources }
        return b
    }

    /// What each unit adds, largest first. `ranges` gives a label and source range per unit name.
    static func contributors(of plan: Plan, declarationRanges: [UnitID: (String, SourceRange)]) -> [Contribution] {
        // `resources` builds its array on each call: count each construct's once.
        let sizes = Dictionary(uniqueKeysWithValues: Construct.allCases.map { ($0, $0.resources.count) })
        var perUnit: [UnitID: Int] = [:]
        forEachInstance(of: plan) { instance in
            if let unit = instance.unit { perUnit[unit, default: 0] += sizes[instance.construct] ?? 0 }
        }
        return perUnit.map { name, count in
            let info = declarationRanges[name]
            return Contribution(label: info?.0 ?? name.text, range: info?.1 ?? .zero, count: count)
        }.sorted { ($1.count, $0.label) < ($0.count, $1.label) }
    }
}
