// Runtime engine: the status of an app's state — queue depths and in-flight messages, dead
// letters with their errors, running and sleeping workflows, invocation counts. Built from the
// SQLite file alone, so `infc status` works beside a running runtime; the /_infc/status
// endpoint adds what only the process knows (invocations in flight).
import Foundation
import InfcCompiler

public struct StatusReport: Sendable {
    public var app: String?
    public var queues: [String: QueueDepth] = [:]
    public var deadLetterCounts: [String: Int] = [:]
    /// The most recent dead letters (at most `deadLetterLimit`), oldest first.
    public var deadLetters: [DeadLetter] = []
    public var executionCounts: [ExecutionStatus: Int] = [:]
    /// Running and sleeping executions (at most `executionLimit`).
    public var openExecutions: [WorkflowExecution] = []
    public var invocations: [String: InvocationCount] = [:]
    /// Invocations running right now, by function (only the runtime itself knows).
    public var inFlightInvocations: [String: Int]?

    public static let deadLetterLimit = 20
    public static let executionLimit = 50

    /// Reads the store. With a manifest, every queue of the app is listed, empty ones too.
    public static func build(store: StateStore, now: Double, manifest: Manifest? = nil) throws(StoreError) -> StatusReport {
        var r = StatusReport()
        r.app = manifest?.app
        r.queues = try store.depths(now: now)
        if let manifest {
            for q in manifest.queues where r.queues[q.name] == nil { r.queues[q.name] = QueueDepth() }
        }
        r.deadLetterCounts = try store.deadLetterCounts()
        let total = r.deadLetterCounts.values.reduce(0, +)
        if total > 0 {
            let all = try store.deadLetters(limit: 10_000)
            r.deadLetters = Array(all.suffix(deadLetterLimit))
        }
        r.executionCounts = try store.executionCounts()
        let open = try store.executions(status: .running) + store.executions(status: .sleeping)
        r.openExecutions = Array(open.prefix(executionLimit))
        r.invocations = try store.invocationCounts()
        return r
    }

    public func json() -> JSON {
        var o = JSONObject()
        if let app { o["app"] = .string(app) }
        o["queues"] = .array(queues.keys.sorted().map { name in
            let d = queues[name]!
            return ["name": .string(name), "visible": .int(d.visible), "inFlight": .int(d.inFlight),
                    "delayed": .int(d.delayed), "deadLetters": .int(deadLetterCounts[name] ?? 0)]
        })
        o["deadLetterCounts"] = .object(JSONObject(deadLetterCounts.keys.sorted().map { ($0, .int(deadLetterCounts[$0]!)) }))
        o["deadLetters"] = .array(deadLetters.map { d in
            ["id": .number(Double(d.id)), "queue": .string(d.queue), "message": .number(Double(d.messageID)),
             "receiveCount": .int(d.receiveCount), "error": .string(d.error), "trace": .string(d.trace),
             "deadAt": .string(RuntimeLogger.timestamp(d.deadAt)), "body": Self.payload(d.body)]
        })
        var counts = JSONObject()
        for s in ExecutionStatus.allCases { counts[s.rawValue] = .int(executionCounts[s] ?? 0) }
        o["workflows"] = ["counts": .object(counts), "open": .array(openExecutions.map { e in
            var x = JSONObject()
            x["id"] = .string(e.id)
            x["workflow"] = .string(e.workflow)
            x["status"] = .string(e.status.rawValue)
            x["trace"] = .string(e.trace)
            if let w = e.wakeAt { x["wakeAt"] = .string(RuntimeLogger.timestamp(w)) }
            return .object(x)
        })]
        o["invocations"] = .object(JSONObject(invocations.keys.sorted().map { f in
            let c = invocations[f]!
            var x: JSONObject = JSONObject([("invocations", .number(Double(c.invocations))), ("failures", .number(Double(c.failures)))])
            if let running = inFlightInvocations?[f] { x["inFlight"] = .int(running) }
            return (f, .object(x))
        }))
        if let inFlightInvocations {
            o["inFlight"] = .object(JSONObject(inFlightInvocations.keys.sorted().map { ($0, .int(inFlightInvocations[$0]!)) }))
        }
        return .object(o)
    }

    /// What a message carried, without the runtime's envelope.
    static func payload(_ body: JSON) -> JSON {
        body["args"] ?? body["event"] ?? body
    }

    public func text() -> String {
        var lines: [String] = []
        if let app { lines.append("app \(app)") }
        lines.append("queues")
        if queues.isEmpty { lines.append("  (no messages)") }
        let width = max(12, queues.keys.map(\.count).max() ?? 0)
        for name in queues.keys.sorted() {
            let d = queues[name]!
            lines.append("  " + name.padding(toLength: width, withPad: " ", startingAt: 0)
                + "  visible \(d.visible)  in flight \(d.inFlight)  delayed \(d.delayed)  dead letters \(deadLetterCounts[name] ?? 0)")
        }
        for (name, n) in deadLetterCounts.sorted(by: { $0.key < $1.key }) where queues[name] == nil {
            lines.append("  " + name.padding(toLength: width, withPad: " ", startingAt: 0)
                + "  visible 0  in flight 0  delayed 0  dead letters \(n)")
        }
        let total = deadLetterCounts.values.reduce(0, +)
        lines.append("dead letters (\(total))")
        for d in deadLetters {
            lines.append("  \(d.queue) message \(d.messageID) after \(d.receiveCount) receive(s) at \(RuntimeLogger.timestamp(d.deadAt)), trace \(d.trace)")
            lines.append("    error: \(oneLine(d.error))")
            lines.append("    body: \(oneLine(Self.payload(d.body).serialized(), limit: 200))")
        }
        lines.append("workflows")
        lines.append("  " + ExecutionStatus.allCases.map { "\($0.rawValue) \(executionCounts[$0] ?? 0)" }.joined(separator: "  "))
        for e in openExecutions {
            var line = "  \(e.workflow) \(e.id) \(e.status.rawValue)"
            if let w = e.wakeAt { line += " until \(RuntimeLogger.timestamp(w))" }
            lines.append(line)
        }
        lines.append("invocations")
        if invocations.isEmpty { lines.append("  (none yet)") }
        for f in invocations.keys.sorted() {
            let c = invocations[f]!
            var line = "  \(f)  \(c.invocations)"
            if c.failures > 0 { line += " (\(c.failures) failed)" }
            if let running = inFlightInvocations?[f] { line += ", \(running) running" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
