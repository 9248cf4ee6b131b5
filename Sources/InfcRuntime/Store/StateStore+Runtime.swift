// Runtime state: what the running engine needs beyond resources, queues and workflows —
// invocation records (for `infc trace`) and releasing the claims of a runtime that died.
import InfcCompiler

/// One function invocation or workflow execution, as recorded for `infc trace`.
public struct InvocationRecord: Sendable, Hashable {
    public var id: String
    public var trace: String
    /// The invocation whose work started this one (a route that did `async`, a workflow step's
    /// execution), or nil for a root.
    public var parent: String?
    public var function: String
    /// `function` or `workflow`.
    public var kind: String
    /// What started it: `route POST /orders`, `queue charge-queue`, `step 3 of follow_up`…
    public var trigger: String
    public var startedAt: Double
    /// nil while it runs.
    public var durationMs: Double?
    /// ok, error, timeout, throttled, sleeping, interrupted, running, completed, failed.
    public var outcome: String
    public var error: String?

    public init(id: String, trace: String, parent: String?, function: String, kind: String, trigger: String,
                startedAt: Double, durationMs: Double?, outcome: String, error: String?) {
        self.id = id
        self.trace = trace
        self.parent = parent
        self.function = function
        self.kind = kind
        self.trigger = trigger
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.outcome = outcome
        self.error = error
    }
}

extension StateStore {
    /// Inserts or replaces invocation records, all in one transaction (the runtime batches them).
    public func recordInvocations(_ records: [InvocationRecord]) throws(StoreError) {
        guard !records.isEmpty else { return }
        try database.transaction { () throws(StoreError) in
            for r in records {
                try database.run(
                    "INSERT INTO invocations (id, trace, parent, function, kind, trigger, started_at, duration_ms, outcome, error) "
                        + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                        + "duration_ms = excluded.duration_ms, outcome = excluded.outcome, error = excluded.error",
                    [.text(r.id), .text(r.trace), .optionalText(r.parent), .text(r.function), .text(r.kind),
                     .text(r.trigger), .real(r.startedAt), .optionalReal(r.durationMs), .text(r.outcome),
                     .optionalText(r.error)])
            }
        }
    }

    /// Every record of one trace, oldest first. `trace` may be a unique prefix of the trace id.
    public func invocations(trace: String) throws(StoreError) -> [InvocationRecord] {
        var rows = try database.query(
            "SELECT id, trace, parent, function, kind, trigger, started_at, duration_ms, outcome, error "
                + "FROM invocations WHERE trace = ? ORDER BY started_at, id", [.text(trace)])
        if rows.isEmpty, trace.count >= 4 {
            let prefix = try database.query(
                "SELECT DISTINCT trace FROM invocations WHERE trace >= ? AND trace < ? LIMIT 2",
                [.text(trace), .text(trace + "\u{10FFFF}")])
            if prefix.count == 1 {
                rows = try database.query(
                    "SELECT id, trace, parent, function, kind, trigger, started_at, duration_ms, outcome, error "
                        + "FROM invocations WHERE trace = ? ORDER BY started_at, id", [.text(try prefix[0].string(0))])
            }
        }
        var out: [InvocationRecord] = []
        for row in rows {
            out.append(InvocationRecord(
                id: try row.string(0), trace: try row.string(1), parent: try row.optionalString(2),
                function: try row.string(3), kind: try row.string(4), trigger: try row.string(5),
                startedAt: try row.double(6), durationMs: try row.optionalDouble(7), outcome: try row.string(8),
                error: try row.optionalString(9)))
        }
        return out
    }

    /// The most recent trace ids, newest first, with their root function.
    public func recentTraces(limit: Int) throws(StoreError) -> [(trace: String, startedAt: Double, function: String)] {
        let rows = try database.query(
            "SELECT trace, min(started_at), function FROM invocations GROUP BY trace ORDER BY min(started_at) DESC LIMIT ?",
            [.int(limit)])
        var out: [(trace: String, startedAt: Double, function: String)] = []
        for row in rows { out.append((try row.string(0), try row.double(1), try row.string(2))) }
        return out
    }

    /// Deletes invocation records older than `before`, keeping the table bounded.
    public func pruneInvocations(before: Double) throws(StoreError) {
        try database.run("DELETE FROM invocations WHERE started_at < ?", [.real(before)])
    }

    /// Makes every claimed message receivable again at once. Only for a runtime starting on a
    /// state directory it holds exclusively: the claims belong to a process that is gone, so
    /// there is no point waiting for their visibility timeouts. Returns how many were released.
    @discardableResult
    public func releaseAllClaims(now: Double) throws(StoreError) -> Int {
        try database.run(
            "UPDATE queue_messages SET visible_at = ?, receipt = NULL WHERE receipt IS NOT NULL AND visible_at > ?",
            [.real(now), .real(now)])
    }
}
