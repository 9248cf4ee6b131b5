// Runtime engine: the manifest as the runtime reads it (docs/manifest.md). The manifest is the
// only contract between compiler and runtime: limits, retries, queues and permissions come from
// here, never from re-running inference, so an edited manifest is honoured as written.
import InfcCompiler

/// A (resource, type, action) triple as the manifest spells it: `orders`/`table`/`write`.
public struct ManifestPermission: Hashable, Sendable, CustomStringConvertible {
    public var resource: String
    public var type: String
    public var action: String

    public init(resource: String, type: String, action: String) {
        self.resource = resource
        self.type = type
        self.action = action
    }

    public var description: String { "\(action) on \(type) \(resource)" }
}

/// A handler the manifest names: its key, and where its declaration is in the code (UTF-8 byte
/// offsets of the hashed source), which is how the runtime finds the code to run.
public struct ManifestHandler: Hashable, Sendable, CustomStringConvertible {
    public var key: String
    public var start: Int
    public var end: Int

    public init(key: String, start: Int, end: Int) {
        self.key = key
        self.start = start
        self.end = end
    }

    public var description: String { key }
}

/// How the runtime delivers a subscription's messages or a schedule's firings: a queue the
/// manifest names, with its receive count, backoff and visibility.
public struct ManifestDelivery: Sendable {
    public var queue: QueueID
    public var maxReceiveCount: Int
    public var backoffMs: Int
    public var visibilityTimeoutMs: Int
}

/// The platform limits the plan was made for.
public struct ManifestLimits: Sendable {
    public var routeTimeoutMs: Int
    public var defaultTimeoutMs: Int
    public var maxFunctionTimeoutMs: Int
    public var accountConcurrency: Int
    public var unreservedConcurrency: Int
}

/// A deployed function: the code it runs, its limits and its policy.
public struct ManifestFunction: Sendable {
    public var name: FunctionID
    /// Its handlers (`fn charge`, `route POST /orders`), several when grouped.
    public var handlers: [ManifestHandler]
    /// Trigger types: route, queue, topic, schedule, workflow-task, workflow-starter.
    public var triggerTypes: [String]
    /// For a `workflow-starter` function: the workflow it starts.
    public var startsWorkflow: WorkflowID?
    public var limit: Int?
    public var timeoutMs: Int
    public var retries: Int
    public var backoffMs: Int
    public var permissions: Set<ManifestPermission>
    /// For a workflow's limited-service function: the service it calls.
    public var serviceCall: ResourceID?
}

public struct ManifestQueue: Sendable {
    public var name: QueueID
    public var deadLetterQueue: QueueID
    public var consumer: FunctionID
    /// `async` (a fn's queue) or `topic` (a limited subscriber's queue).
    public var sourceType: String
    /// The fn whose queue this is (`async`), or the topic (`topic`).
    public var sourceName: String
    public var maxReceiveCount: Int
    public var backoffMs: Int
    public var visibilityTimeoutMs: Int
}

public struct ManifestSubscription: Sendable {
    public var topic: ResourceID
    /// The function (or workflow-starter function) that receives the messages.
    public var target: FunctionID
    /// The `on` declaration.
    public var handler: ManifestHandler
    /// The queue between topic and function, when the subscriber has a limit.
    public var queue: QueueID?
    /// Without a `queue`: the delivery queue the runtime uses.
    public var delivery: ManifestDelivery?

    /// The queue this subscriber receives on.
    public var deliveryQueue: QueueID { queue ?? delivery?.queue ?? QueueID("") }
}

public struct ManifestSchedule: Sendable {
    public var name: ScheduleID
    public var rateMs: Int?
    public var cron: String?
    /// The function or workflow it fires.
    public var target: UnitID
    public var targetIsWorkflow: Bool { target.isWorkflow }
    public var handler: ManifestHandler
    /// The queue each firing goes through, with its retries.
    public var delivery: ManifestDelivery
}

public struct ManifestRoute: Sendable {
    public var method: String
    public var path: String
    public var function: FunctionID
    public var handler: ManifestHandler
}

public struct ManifestWorkflow: Sendable {
    public var name: WorkflowID
    /// The declaration whose body is the workflow.
    public var entry: ManifestHandler
    public var retries: Int
    public var backoffMs: Int
    public var timeoutMs: Int?
    public var permissions: Set<ManifestPermission>
    /// On the AWS target, the function that evaluates the expressions without a States form
    /// (`NAME-eval`) and what it may do; nil when the workflow needs none.
    public var evaluator: ManifestEvaluator? = nil
}

public struct ManifestEvaluator: Sendable {
    public var name: FunctionID
    public var permissions: Set<ManifestPermission>
}

extension ManifestWorkflow {
    /// Its evaluator as a function of its own: its name and the permissions the manifest gives
    /// the evaluator (the operations it performs), nothing else.
    public func evaluatorFunction(timeoutMs: Int) -> ManifestFunction? {
        guard let evaluator else { return nil }
        return ManifestFunction(name: evaluator.name, handlers: [], triggerTypes: ["workflow-task"], startsWorkflow: nil, limit: nil,
                                timeoutMs: timeoutMs, retries: retries, backoffMs: backoffMs, permissions: evaluator.permissions,
                                serviceCall: nil)
    }
}

public struct ManifestSecret: Sendable {
    public var name: ResourceID
    public var env: String
}

public struct ManifestService: Sendable {
    public var name: ResourceID
    public var url: String
    public var urlEnv: String
    public var limit: Int?
    public var ratePerSecond: Double?
}

/// The decoded `manifest.json`.
public struct Manifest: Sendable {
    public static let format = "infc-manifest"
    public static let version = 2

    public var app: String
    public var sourcePath: String
    public var sourceSHA256: String
    public var limits: ManifestLimits
    public var budgetTotal: Int
    public var budgetCap: Int
    public var functions: [ManifestFunction]
    public var queues: [ManifestQueue]
    public var subscriptions: [ManifestSubscription]
    public var topics: [ResourceID]
    public var schedules: [ManifestSchedule]
    public var routes: [ManifestRoute]
    public var workflows: [ManifestWorkflow]
    public var tables: [ResourceID]
    public var buckets: [ResourceID]
    public var secrets: [ManifestSecret]
    public var services: [ManifestService]

    public func function(_ name: FunctionID) -> ManifestFunction? { functions.first { $0.name == name } }
    public func workflow(_ name: WorkflowID) -> ManifestWorkflow? { workflows.first { $0.name == name } }
    public func service(_ name: ResourceID) -> ManifestService? { services.first { $0.name == name } }

    /// Decodes a manifest, checking its format and version first. Errors are one line each.
    public static func decode(_ json: JSON) throws(RuntimeStartError) -> Manifest {
        let root = Reader(json, path: "manifest")
        let format = try root.string("format")
        guard format == Self.format else {
            throw RuntimeStartError("manifest.json has format \"\(format)\", not \"\(Self.format)\"; rebuild with infc build")
        }
        let version = try root.int("version")
        guard version <= Self.version else {
            throw RuntimeStartError("manifest.json has version \(version): built by a newer infc; rebuild with this version")
        }
        guard version == Self.version else {
            throw RuntimeStartError("manifest.json has version \(version), which this infc does not know; rebuild with infc build")
        }
        let source = try root.object("source")
        var topics: [ResourceID] = []
        var subscriptions: [ManifestSubscription] = []
        for t in try root.array("topics") {
            let name = ResourceID(try t.string("name"))
            topics.append(name)
            for s in try t.array("subscriptions") {
                let queue = try s.optionalString("queue").map(QueueID.init)
                let delivery = try s.optionalObject("delivery").map { d throws(RuntimeStartError) in try Self.delivery(d) }
                guard queue != nil || delivery != nil else {
                    throw RuntimeStartError("manifest.json: the subscription of \(try s.string("target")) to \(name) has neither a queue nor a delivery; rebuild with infc build")
                }
                subscriptions.append(ManifestSubscription(
                    topic: name, target: FunctionID(try s.string("target")), handler: try handler(s.object("handler")),
                    queue: queue, delivery: delivery))
            }
        }
        let limits = try root.object("limits")
        let budget = try root.object("budget")
        return Manifest(
            app: try root.string("app"),
            sourcePath: try source.string("path"),
            sourceSHA256: try source.string("sha256"),
            limits: ManifestLimits(
                routeTimeoutMs: try limits.int("routeTimeoutMs"), defaultTimeoutMs: try limits.int("defaultTimeoutMs"),
                maxFunctionTimeoutMs: try limits.int("maxFunctionTimeoutMs"),
                accountConcurrency: try limits.int("accountConcurrency"),
                unreservedConcurrency: try limits.int("unreservedConcurrency")),
            budgetTotal: try budget.int("total"),
            budgetCap: try budget.int("cap"),
            functions: try root.array("functions").map { f throws(RuntimeStartError) in
                let triggers = try f.array("triggers")
                var starts: WorkflowID?
                for t in triggers where starts == nil { starts = try t.optionalString("workflow").map(WorkflowID.init) }
                return ManifestFunction(
                    name: FunctionID(try f.string("name")),
                    handlers: try f.array("handlers").map { h throws(RuntimeStartError) in try handler(h) },
                    triggerTypes: try triggers.map { t throws(RuntimeStartError) in try t.string("type") },
                    startsWorkflow: starts,
                    limit: try f.optionalInt("limit"),
                    timeoutMs: try f.int("timeoutMs"),
                    retries: try f.int("retries"),
                    backoffMs: try f.int("backoffMs"),
                    permissions: try permissions(f),
                    serviceCall: try f.optionalString("serviceCall").map(ResourceID.init))
            },
            queues: try root.array("queues").map { q throws(RuntimeStartError) in
                let source = try q.object("source")
                let type = try source.string("type")
                return ManifestQueue(
                    name: QueueID(try q.string("name")), deadLetterQueue: QueueID(try q.string("deadLetterQueue")),
                    consumer: FunctionID(try q.string("consumer")), sourceType: type,
                    sourceName: type == "async" ? try source.string("fn") : try source.string("topic"),
                    maxReceiveCount: try q.int("maxReceiveCount"), backoffMs: try q.int("backoffMs"),
                    visibilityTimeoutMs: try q.int("visibilityTimeoutMs"))
            },
            subscriptions: subscriptions,
            topics: topics,
            schedules: try root.array("schedules").map { s throws(RuntimeStartError) in
                // Read in the manifest's order, so a broken manifest names the same first field.
                let name = ScheduleID(try s.string("name"))
                let rateMs = try s.optionalInt("rateMs"), cron = try s.optionalString("cron")
                let target = try s.string("target")
                let isWorkflow = try s.string("targetType") == "workflow"
                return ManifestSchedule(
                    name: name, rateMs: rateMs, cron: cron,
                    target: isWorkflow ? .workflow(WorkflowID(target)) : .function(FunctionID(target)),
                    handler: try handler(s.object("handler")), delivery: try delivery(s.object("delivery")))
            },
            routes: try root.array("routes").map { r throws(RuntimeStartError) in
                ManifestRoute(method: try r.string("method"), path: try r.string("path"),
                              function: FunctionID(try r.string("function")), handler: try handler(r.object("handler")))
            },
            workflows: try root.array("workflows").map { w throws(RuntimeStartError) in
                ManifestWorkflow(
                    name: WorkflowID(try w.string("name")), entry: try handler(w.object("entry")),
                    retries: try w.int("retries"), backoffMs: try w.int("backoffMs"),
                    timeoutMs: try w.optionalInt("timeoutMs"), permissions: try permissions(w),
                    evaluator: try w.optionalObject("evaluator").map { e throws(RuntimeStartError) in
                        ManifestEvaluator(name: FunctionID(try e.string("name")), permissions: try permissions(e))
                    })
            },
            tables: try root.array("tables").map { t throws(RuntimeStartError) in ResourceID(try t.stringValue()) },
            buckets: try root.array("buckets").map { b throws(RuntimeStartError) in ResourceID(try b.stringValue()) },
            secrets: try root.array("secrets").map { s throws(RuntimeStartError) in
                ManifestSecret(name: ResourceID(try s.string("name")), env: try s.string("env"))
            },
            services: try root.array("services").map { s throws(RuntimeStartError) in
                ManifestService(
                    name: ResourceID(try s.string("name")), url: try s.string("url"), urlEnv: try s.string("urlEnv"),
                    limit: try s.optionalInt("limit"), ratePerSecond: try s.optionalNumber("ratePerSecond"))
            })
    }

    private static func handler(_ r: Reader) throws(RuntimeStartError) -> ManifestHandler {
        let range = try r.object("range")
        let start = try range.int("start"), end = try range.int("end")
        guard start >= 0, end >= start else {
            throw RuntimeStartError("manifest.json: \(r.path).range does not run from start to end; rebuild with infc build")
        }
        return ManifestHandler(key: try r.string("key"), start: start, end: end)
    }

    private static func delivery(_ r: Reader) throws(RuntimeStartError) -> ManifestDelivery {
        ManifestDelivery(queue: QueueID(try r.string("queue")), maxReceiveCount: try r.int("maxReceiveCount"),
                         backoffMs: try r.int("backoffMs"), visibilityTimeoutMs: try r.int("visibilityTimeoutMs"))
    }

    private static func permissions(_ r: Reader) throws(RuntimeStartError) -> Set<ManifestPermission> {
        var out: Set<ManifestPermission> = []
        for p in try r.array("permissions") {
            out.insert(ManifestPermission(resource: try p.string("resource"), type: try p.string("type"),
                                          action: try p.string("action")))
        }
        return out
    }
}

/// Reads fields of a JSON value, with errors that say which field of manifest.json is wrong.
private struct Reader {
    let value: JSON
    let path: String

    init(_ value: JSON, path: String) {
        self.value = value
        self.path = path
    }

    private func fail(_ key: String, _ expected: String) -> RuntimeStartError {
        RuntimeStartError("manifest.json: \(path).\(key) is missing or not \(expected); rebuild with infc build")
    }

    private func field(_ key: String) -> JSON? {
        guard case .object(let o) = value else { return nil }
        return o[key]
    }

    func string(_ key: String) throws(RuntimeStartError) -> String {
        guard let s = field(key)?.stringValue else { throw fail(key, "a string") }
        return s
    }

    func optionalString(_ key: String) throws(RuntimeStartError) -> String? {
        guard let v = field(key), !v.isNull else { return nil }
        guard let s = v.stringValue else { throw fail(key, "a string") }
        return s
    }

    func int(_ key: String) throws(RuntimeStartError) -> Int {
        guard let n = field(key)?.intValue else { throw fail(key, "a whole number") }
        return n
    }

    func optionalInt(_ key: String) throws(RuntimeStartError) -> Int? {
        guard let v = field(key), !v.isNull else { return nil }
        guard let n = v.intValue else { throw fail(key, "a whole number") }
        return n
    }

    func optionalNumber(_ key: String) throws(RuntimeStartError) -> Double? {
        guard let v = field(key), !v.isNull else { return nil }
        guard let n = v.doubleValue else { throw fail(key, "a number") }
        return n
    }

    func optionalObject(_ key: String) throws(RuntimeStartError) -> Reader? {
        guard let v = field(key), !v.isNull else { return nil }
        guard case .object = v else { throw fail(key, "an object") }
        return Reader(v, path: "\(path).\(key)")
    }

    func object(_ key: String) throws(RuntimeStartError) -> Reader {
        guard let v = field(key), case .object = v else { throw fail(key, "an object") }
        return Reader(v, path: "\(path).\(key)")
    }

    func array(_ key: String) throws(RuntimeStartError) -> [Reader] {
        guard let v = field(key), case .array(let items) = v else { throw fail(key, "a list") }
        return items.enumerated().map { Reader($0.element, path: "\(path).\(key)[\($0.offset)]") }
    }

    func stringValue() throws(RuntimeStartError) -> String {
        guard let s = value.stringValue else {
            throw RuntimeStartError("manifest.json: \(path) is not a string; rebuild with infc build")
        }
        return s
    }
}
