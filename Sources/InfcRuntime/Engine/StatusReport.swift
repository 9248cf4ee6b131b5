// Runtime engine: the status of an app's state — queue depths and in-flight messages, dead
// letters with every attempt's error, schedules with their next firing, running, sleeping and
// failed workflows, invocation counts. Built from the SQLite file alone, so `infc status` works
// beside a running runtime; the /_infc/status endpoint adds what only the process knows
// (invocations in flight).
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler

public struct StatusReport: Sendable {
    public var app: String?
    public var queues: [String: QueueDepth] = [:]
    public var deadLetterCounts: [String: Int] = [:]
    /// The most recent dead letters (at most `deadLetterLimit`), oldest first.
    public var deadLetters: [DeadLetter] = []
    public var schedules: [ScheduleState] = []
    public var executionCounts: [ExecutionStatus: Int] = [:]
    /// Running and sleeping executions (at most `executionLimit`).
    public var openExecutions: [WorkflowExecution] = []
    /// The newest failed executions (at most `failureLimit`), newest first.
    public var failedExecutions: [WorkflowExecution] = []
    public var invocations: [String: InvocationCount] = [:]
    /// Invocations running right now, by function (only the runtime itself knows).
    public var inFlightInvocations: [String: Int]?

    public static let deadLetterLimit = 20
    public static let executionLimit = 50
    public static let failureLimit = 20

    /// Reads the store. With a manifest, every queue of the app is listed, empty ones too.
    public static func build(store: StateStore, now: Double, manifest: Manifest? = nil) throws(StoreError) -> StatusReport {
        var r = StatusReport()
        r.app = manifest?.app
        r.queues = try store.depths(now: now)
        if let manifest {
            for q in manifest.queues where r.queues[q.name.text] == nil { r.queues[q.name.text] = QueueDepth() }
        }
        r.deadLetterCounts = try store.deadLetterCounts()
        // A queue that holds only dead letters is a queue of the report too.
        for name in r.deadLetterCounts.keys where r.queues[name] == nil { r.queues[name] = QueueDepth() }
        let total = r.deadLetterCounts.values.reduce(0, +)
        if total > 0 {
            r.deadLetters = try store.deadLetters(newest: deadLetterLimit)
        }
        r.schedules = try store.scheduleStates()
        r.executionCounts = try store.executionCounts()
        let open = try store.executions(status: .running) + store.executions(status: .sleeping)
        r.openExecutions = Array(open.prefix(executionLimit))
        r.failedExecutions = try store.recentFailures(limit: failureLimit)
        r.invocations = try store.invocationCounts()
        return r
    }

    public func json() -> JSON {
        var o = JSONObject()
        if let app { o["app"] = .string(app) }
        o["queues"] = .array(queues.keys.sorted().map { name in
            let d = queues[name] ?? QueueDepth()
            return ["name": .string(name), "visible": .int(d.visible), "inFlight": .int(d.inFlight),
                    "delayed": .int(d.delayed), "deadLetters": .int(deadLetterCounts[name] ?? 0)]
        })
        o["deadLetterCounts"] = .object(JSONObject(deadLetterCounts.keys.sorted().map { ($0, .int(deadLetterCounts[$0] ?? 0)) }))
        o["deadLetters"] = .array(deadLetters.map { d in
            ["id": .number(Double(d.id)), "queue": .string(d.queue), "message": .number(Double(d.messageID)),
             "receiveCount": .int(d.receiveCount), "error": .string(d.error), "trace": .string(d.trace),
             "deadAt": .string(RuntimeLogger.timestamp(d.deadAt)), "body": Self.payload(d.body),
             "attempts": .array(d.attempts.map { ["at": .string(RuntimeLogger.timestamp($0.at)), "error": .string($0.error)] })]
        })
        o["schedules"] = .array(schedules.map { s in
            var x = JSONObject()
            x["name"] = .string(s.name)
            if let every = s.every { x["every"] = .string(every) }
            x["lastFire"] = .string(RuntimeLogger.timestamp(s.lastFire))
            x["nextFire"] = s.nextFire.map { .string(RuntimeLogger.timestamp($0)) } ?? .null
            return .object(x)
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
        }), "failed": .array(failedExecutions.map { e in
            ["id": .string(e.id), "workflow": .string(e.workflow), "trace": .string(e.trace),
             "failedAt": .string(RuntimeLogger.timestamp(e.updatedAt)), "error": .string(e.error ?? "")]
        })]
        o["invocations"] = .object(JSONObject(invocations.keys.sorted().map { f in
            let c = invocations[f] ?? InvocationCount(invocations: 0, failures: 0)
            var x: JSONObject = JSONObject([("invocations", .number(Double(c.invocations))), ("failures", .number(Double(c.failures)))])
            if let running = inFlightInvocations?[f] { x["inFlight"] = .int(running) }
            return (f, .object(x))
        }))
        if let inFlightInvocations {
            o["inFlight"] = .object(JSONObject(inFlightInvocations.keys.sorted().map { ($0, .int(inFlightInvocations[$0] ?? 0)) }))
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
        if queues.isEmpty {
            lines.append("  (no messages)")
        } else {
            let rows = queues.keys.sorted().map { name -> [String] in
                let d = queues[name] ?? QueueDepth()
                return [name, String(d.visible), String(d.inFlight), String(d.delayed), String(deadLetterCounts[name] ?? 0)]
            }
            lines += Self.table(header: ["QUEUE", "VISIBLE", "IN FLIGHT", "DELAYED", "DEAD LETTERS"], rows: rows)
        }
        let total = deadLetterCounts.values.reduce(0, +)
        lines.append("dead letters (\(total))")
        for d in deadLetters {
            lines.append("  \(d.queue) message \(d.messageID) after \(d.receiveCount) receive(s) at \(RuntimeLogger.timestamp(d.deadAt)), trace \(d.trace)")
            if d.attempts.isEmpty {
                lines.append("    error: \(oneLine(d.error))")
            } else {
                for (i, a) in d.attempts.enumerated() {
                    lines.append("    attempt \(i + 1) at \(RuntimeLogger.timestamp(a.at)): \(oneLine(a.error))")
                }
            }
            lines.append("    body: \(oneLine(Self.payload(d.body).serialized(), limit: 200))")
        }
        lines.append("schedules")
        if schedules.isEmpty {
            lines.append("  (none)")
        } else {
            lines += Self.table(header: ["SCHEDULE", "EVERY", "LAST FIRED", "NEXT FIRING"], rows: schedules.map { s in
                [s.name, s.every ?? "-", RuntimeLogger.timestamp(s.lastFire), s.nextFire.map(RuntimeLogger.timestamp) ?? "-"]
            })
        }
        lines.append("workflows")
        lines.append("  " + ExecutionStatus.allCases.map { "\($0.rawValue) \(executionCounts[$0] ?? 0)" }.joined(separator: "  "))
        for e in openExecutions {
            var line = "  \(e.workflow) \(e.id) \(e.status.rawValue)"
            if let w = e.wakeAt { line += " until \(RuntimeLogger.timestamp(w))" }
            lines.append(line)
        }
        for e in failedExecutions {
            lines.append("  \(e.workflow) \(e.id) failed at \(RuntimeLogger.timestamp(e.updatedAt)): \(oneLine(e.error ?? ""))")
        }
        lines.append("invocations")
        if invocations.isEmpty {
            lines.append("  (none yet)")
        } else {
            lines += Self.table(header: ["FUNCTION", "INVOCATIONS", "FAILED", "RUNNING"], rows: invocations.keys.sorted().map { f in
                let c = invocations[f] ?? InvocationCount(invocations: 0, failures: 0)
                return [f, String(c.invocations), String(c.failures), inFlightInvocations.map { String($0[f] ?? 0) } ?? "-"]
            })
        }
        return lines.joined(separator: "\n")
    }

    /// Rows under a header, indented two spaces; each column as wide as its widest cell (names
    /// are never cut), columns of numbers right-aligned, the others left-aligned.
    public static func table(header: [String], rows: [[String]]) -> [String] {
        let numeric = header.indices.map { i in
            !rows.isEmpty && rows.allSatisfy { i < $0.count && ($0[i].allSatisfy(\.isNumber) || $0[i] == "-") }
        }
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var out = "  "
            for (i, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                if i > 0 { out += "  " }
                out += numeric[i] ? pad + cell : cell + pad
            }
            while out.hasSuffix(" ") { out.removeLast() }
            return out
        }
        return [line(header)] + rows.map(line)
    }
}
