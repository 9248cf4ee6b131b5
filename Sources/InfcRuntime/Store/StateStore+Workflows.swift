// Runtime state: durable workflow executions — their status, wake-up times and the journal of
// finished steps that lets a restarted workflow skip what it already did.
import InfcCompiler

/// Where a workflow execution stands. `completed` and `failed` are final.
public enum ExecutionStatus: String, Sendable, Hashable, CaseIterable {
    case running, sleeping, completed, failed
}

/// One run of a workflow, as stored.
public struct WorkflowExecution: Sendable, Hashable {
    public var id: String
    public var workflow: String
    public var input: JSON
    public var trace: String
    public var status: ExecutionStatus
    /// The workflow's result, once `completed`.
    public var result: JSON?
    /// Why it failed, once `failed`.
    public var error: String?
    /// When a `sleeping` execution is due to resume.
    public var wakeAt: Double?
    public var createdAt: Double
    public var updatedAt: Double
}

extension StateStore {
    /// Records a new `running` execution. Returns false, changing nothing, when an execution with
    /// this id already exists, so a redelivered start message does not start the workflow twice.
    @discardableResult
    public func createExecution(id: String, workflow: String, input: JSON, trace: String, now: Double)
        throws(StoreError) -> Bool
    {
        try database.run(
            "INSERT INTO workflow_executions (id, workflow, input, trace, status, created_at, updated_at) "
                + "VALUES (?, ?, ?, ?, 'running', ?, ?) ON CONFLICT (id) DO NOTHING",
            [.text(id), .text(workflow), .text(StoredValue.encode(input)), .text(trace), .real(now), .real(now)]) > 0
    }

    /// The execution with this id, or nil.
    public func execution(_ id: String) throws(StoreError) -> WorkflowExecution? {
        try database.queryFirst("SELECT " + Self.executionColumns + " FROM workflow_executions WHERE id = ?", [.text(id)])
            .map { row throws(StoreError) in try Self.execution(row) }
    }

    /// Journals the result of a finished step, once: when `stepKey` is already journaled for this
    /// execution the call changes nothing and returns the first result, which the caller must use.
    @discardableResult
    public func recordStep(execution: String, stepKey: String, result: JSON, now: Double) throws(StoreError) -> JSON {
        try database.transaction { () throws(StoreError) -> JSON in
            if let existing = try database.queryFirst(
                "SELECT result FROM workflow_steps WHERE execution = ? AND step_key = ?", [.text(execution), .text(stepKey)])
            {
                return try Self.decode(existing.string(0))
            }
            do throws(StoreError) {
                try database.run(
                    "INSERT INTO workflow_steps (execution, step_key, result, recorded_at) VALUES (?, ?, ?, ?)",
                    [.text(execution), .text(stepKey), .text(StoredValue.encode(result)), .real(now)])
            } catch {
                if case .sqlite(let code, _, _) = error, code == Self.foreignKeyViolation {
                    throw .unknownExecution(execution)
                }
                throw error
            }
            return result
        }
    }

    /// Every journaled step result of an execution, by step key.
    public func journal(execution: String) throws(StoreError) -> [String: JSON] {
        var result: [String: JSON] = [:]
        let rows = try database.query(
            "SELECT step_key, result FROM workflow_steps WHERE execution = ?", [.text(execution)])
        for row in rows { result[try row.string(0)] = try Self.decode(row.string(1)) }
        return result
    }

    /// Marks the execution running (clearing any wake-up time).
    /// Returns false when it is already completed or failed; throws for an unknown id.
    @discardableResult
    public func markRunning(_ id: String, now: Double) throws(StoreError) -> Bool {
        try update(id, "status = 'running', wake_at = NULL", [], now: now)
    }

    /// Marks the execution sleeping until `wakeAt`; `dueExecutions` returns it from then on.
    /// Returns false when it is already completed or failed; throws for an unknown id.
    @discardableResult
    public func markSleeping(_ id: String, until wakeAt: Double, now: Double) throws(StoreError) -> Bool {
        try update(id, "status = 'sleeping', wake_at = ?", [.real(wakeAt)], now: now)
    }

    /// Marks the execution completed with `result` (final).
    /// Returns false when it is already completed or failed; throws for an unknown id.
    @discardableResult
    public func markCompleted(_ id: String, result: JSON, now: Double) throws(StoreError) -> Bool {
        try update(id, "status = 'completed', wake_at = NULL, result = ?", [.text(StoredValue.encode(result))], now: now)
    }

    /// Marks the execution failed with `error` (final).
    /// Returns false when it is already completed or failed; throws for an unknown id.
    @discardableResult
    public func markFailed(_ id: String, error: String, now: Double) throws(StoreError) -> Bool {
        try update(id, "status = 'failed', wake_at = NULL, error = ?", [.text(error)], now: now)
    }

    /// Sleeping executions whose wake-up time has come, earliest first.
    public func dueExecutions(now: Double) throws(StoreError) -> [WorkflowExecution] {
        try executions(
            "WHERE status = 'sleeping' AND wake_at <= ? ORDER BY wake_at, id", [.real(now)])
    }

    /// The earliest wake-up time of any sleeping execution, or nil when none sleeps.
    public func nextWakeTime() throws(StoreError) -> Double? {
        try database.queryFirst("SELECT min(wake_at) FROM workflow_executions WHERE status = 'sleeping'")?
            .optionalDouble(0)
    }

    /// The executions with this status, oldest first.
    public func executions(status: ExecutionStatus) throws(StoreError) -> [WorkflowExecution] {
        try executions("WHERE status = ? ORDER BY created_at, id", [.text(status.rawValue)])
    }

    /// The newest `limit` failed executions, newest first.
    public func recentFailures(limit: Int) throws(StoreError) -> [WorkflowExecution] {
        try executions("WHERE status = 'failed' ORDER BY updated_at DESC, id LIMIT ?", [.int(limit)])
    }

    /// The executions that were running: after a restart, these resume from their journal.
    public func runningExecutions() throws(StoreError) -> [WorkflowExecution] {
        try executions(status: .running)
    }

    /// The number of executions in each status, for the status command.
    public func executionCounts() throws(StoreError) -> [ExecutionStatus: Int] {
        var result: [ExecutionStatus: Int] = [:]
        for row in try database.query("SELECT status, count(*) FROM workflow_executions GROUP BY status") {
            guard let status = ExecutionStatus(rawValue: try row.string(0)) else { continue }
            result[status] = try row.int(1)
        }
        return result
    }

    // MARK: Internals

    private static let foreignKeyViolation: Int32 = 787  // SQLITE_CONSTRAINT_FOREIGNKEY

    private static let executionColumns =
        "id, workflow, input, trace, status, result, error, wake_at, created_at, updated_at"

    private func executions(_ clause: String, _ parameters: [SQLValue]) throws(StoreError) -> [WorkflowExecution] {
        let rows = try database.query("SELECT " + Self.executionColumns + " FROM workflow_executions " + clause, parameters)
        var result: [WorkflowExecution] = []
        result.reserveCapacity(rows.count)
        for row in rows { result.append(try Self.execution(row)) }
        return result
    }

    /// Applies `assignments` to a non-final execution, distinguishing "final already" (false)
    /// from "no such execution" (thrown).
    private func update(_ id: String, _ assignments: String, _ parameters: [SQLValue], now: Double)
        throws(StoreError) -> Bool
    {
        try database.transaction { () throws(StoreError) -> Bool in
            let changed = try database.run(
                "UPDATE workflow_executions SET " + assignments + ", updated_at = ? "
                    + "WHERE id = ? AND status IN ('running', 'sleeping')",
                parameters + [.real(now), .text(id)])
            if changed > 0 { return true }
            guard try database.queryFirst("SELECT 1 FROM workflow_executions WHERE id = ?", [.text(id)]) != nil else {
                throw .unknownExecution(id)
            }
            return false
        }
    }

    private static func execution(_ row: SQLRow) throws(StoreError) -> WorkflowExecution {
        let statusText = try row.string(4)
        guard let status = ExecutionStatus(rawValue: statusText) else {
            throw .corruptValue("unknown workflow status \"\(statusText)\"")
        }
        return WorkflowExecution(
            id: try row.string(0), workflow: try row.string(1), input: try decode(row.string(2)),
            trace: try row.string(3), status: status, result: try decode(row.optionalString(5)),
            error: try row.optionalString(6), wakeAt: try row.optionalDouble(7), createdAt: try row.double(8),
            updatedAt: try row.double(9))
    }
}
