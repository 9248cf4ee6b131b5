// Runtime engine: workflow executions — created durably (insert-once ids, so a redelivered start
// never starts twice), run on a thread each by a WorkflowHost, suspended at `sleep`, resumed by
// the scheduler when due, and resumed after a crash from their journal.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler

extension Runtime {
    /// Creates an execution of `workflow` (committed before this returns) and starts it. With an
    /// `id` that already exists, changes nothing and returns it.
    func startExecution(workflow: WorkflowID, arguments: [JSON], trace: String, parent: String?, trigger: String,
                        id: String? = nil) throws(RuntimeError) -> String {
        let id = id ?? "wf-" + Identifiers.uuid()
        let now = clock.now()
        let created = try storing { () throws(StoreError) in
            try store.createExecution(id: id, workflow: workflow.text, input: .array(arguments), trace: trace, now: now)
        }
        if created {
            recorder.update(InvocationRecord(
                id: id, trace: trace, parent: parent, function: workflow.text, kind: "workflow", trigger: trigger,
                startedAt: now, durationMs: nil, outcome: "running", error: nil))
            launchExecution(id)
        }
        return id
    }

    /// Executions running on threads at once; more wait (durably `running` or `sleeping`) for a
    /// slot, so a burst of starts cannot exhaust the process's threads.
    static let maxActiveExecutions = 256

    /// Runs the execution on a thread of its own, unless it already runs here, the process is at
    /// its cap (it is picked up when a slot frees), or we are stopping.
    func launchExecution(_ id: String) {
        guard !isStopping else { return }
        let admitted = activeExecutions.withLock { active -> Bool in
            guard active.count < Self.maxActiveExecutions else { return false }
            return active.insert(id).inserted
        }
        guard admitted else {
            executionsDeferred.store(true, ordering: .sequentiallyConsistent)
            return
        }
        work.enter()
        let started = Threads.spawn { [self] in
            runExecution(id)
            activeExecutions.withLock { _ = $0.remove(id) }
            if executionsDeferred.exchange(false, ordering: .sequentiallyConsistent) { resumeRunningExecutions() }
            work.leave()
            schedulerWake.signal()
        }
        if !started {
            activeExecutions.withLock { _ = $0.remove(id) }
            work.leave()
            logger.warning("cannot start a thread for workflow execution \(id); it will be retried")
        }
    }

    /// After a start: every execution that was running when the last runtime stopped.
    func resumeRunningExecutions() {
        do {
            let active = activeExecutions.withLock { $0 }
            for e in try store.runningExecutions() where !active.contains(e.id) { launchExecution(e.id) }
        } catch {
            logger.warning("cannot read running workflow executions: \(error)")
        }
    }

    /// Resumes sleeping executions whose time has come. Returns how many it launched.
    @discardableResult
    func resumeDueExecutions() -> Int {
        guard let due = try? store.dueExecutions(now: clock.now()) else { return 0 }
        var launched = 0
        for e in due where !activeExecutions.withLock({ $0.contains(e.id) }) {
            launchExecution(e.id)
            launched += 1
        }
        return launched
    }

    /// Runs (or resumes) one execution until it completes, fails, sleeps or is interrupted.
    private func runExecution(_ id: String) {
        guard let execution = try? store.execution(id),
              execution.status == .running || execution.status == .sleeping
        else { return }
        let deployment = self.deployment
        guard let workflow = deployment.manifest.workflow(WorkflowID(execution.workflow)) else {
            finish(execution, status: .failed, error: "workflow \(execution.workflow) is not in this version of the app",
                   segmentStart: clock.now())
            return
        }
        let started = clock.now()
        let journal: [String: JSON]
        do {
            guard try store.markRunning(id, now: started) else { return }
            journal = try store.journal(execution: id)
        } catch {
            logger.warning("cannot resume workflow execution \(id): \(error)")
            _ = try? store.markSleeping(id, until: started + 5, now: started)
            return
        }
        recorder.began(record(execution, outcome: "running", durationMs: nil, error: nil))
        let host = WorkflowHost(runtime: self, deployment: deployment, workflow: workflow, execution: execution,
                                journal: journal)
        StepContextSlot.set(host.root)
        let result: Result<JSON, RuntimeError>
        do throws(RuntimeError) {
            let arguments = execution.input.arrayValue ?? [execution.input]
            result = .success(try deployment.interpreter.run(
                declaration: deployment.declaration(workflow.entry), arguments: arguments, host: host))
        } catch {
            result = .failure(error)
        }
        StepContextSlot.set(nil)

        switch result {
        case .success(let value):
            finish(execution, status: .completed, result: value, segmentStart: started)
        case .failure(let error):
            if let failure = host.storeFailure {
                logger.warning("workflow execution \(id) could not write its journal (\(failure)); retrying in 5 s")
                _ = try? store.markSleeping(id, until: clock.now() + 5, now: clock.now())
                recorder.finished(record(execution, outcome: "sleeping", durationMs: nil, error: nil), counted: false)
            } else if let wakeAt = host.suspendedUntil {
                suspend(execution, until: wakeAt, waitingOn: host.waitingOn, segmentStart: started)
            } else if !error.isCatchable && (isStopping || isForceCancelled) {
                logger.invocation(function: workflow.name.text, trigger: "workflow \(id)", durationMs: (clock.now() - started) * 1000,
                                  outcome: .interrupted, trace: execution.trace, detail: "resumes on the next start")
                recorder.finished(record(execution, outcome: "running", durationMs: nil, error: nil), counted: false)
            } else {
                var text = error.description
                if case .timeout = error.kind, let t = workflow.timeoutMs {
                    text = "the workflow timed out after \(RuntimeLogger.duration(Double(t)))"
                }
                finish(execution, status: .failed, error: redactor.redact(text), segmentStart: started)
            }
        }
    }

    private func suspend(_ execution: WorkflowExecution, until wakeAt: Double, waitingOn children: [String],
                         segmentStart: Double) {
        let now = clock.now()
        do {
            try store.markSleeping(execution.id, until: wakeAt, now: now)
            // A child that finished while we were suspending could not wake us: check now.
            for child in children {
                if let c = try store.execution(child), c.status == .completed || c.status == .failed {
                    try store.markSleeping(execution.id, until: now, now: now)
                    break
                }
            }
        } catch {
            logger.warning("cannot suspend workflow execution \(execution.id): \(error)")
        }
        let detail = children.isEmpty
            ? "sleeps until \(RuntimeLogger.timestamp(wakeAt))"
            : "waits for \(children.joined(separator: ", "))"
        logger.invocation(function: execution.workflow, trigger: "workflow \(execution.id)",
                          durationMs: (now - segmentStart) * 1000, outcome: .sleeping, trace: execution.trace, detail: detail)
        recorder.finished(record(execution, outcome: "sleeping", durationMs: nil, error: nil), counted: false)
        schedulerWake.signal()
    }

    private func finish(_ execution: WorkflowExecution, status: ExecutionStatus, result: JSON = .null, error: String? = nil,
                        segmentStart: Double) {
        let now = clock.now()
        do {
            if status == .completed {
                try store.markCompleted(execution.id, result: result, now: now)
            } else {
                try store.markFailed(execution.id, error: error ?? "failed", now: now)
            }
        } catch {
            logger.warning("cannot record the end of workflow execution \(execution.id): \(error)")
        }
        logger.invocation(function: execution.workflow, trigger: "workflow \(execution.id)",
                          durationMs: (now - segmentStart) * 1000, outcome: status == .completed ? .ok : .error,
                          trace: execution.trace, error: error, detail: status.rawValue)
        recorder.finished(record(execution, outcome: status.rawValue, durationMs: (now - execution.createdAt) * 1000,
                                 error: error))
        wakeParent(of: execution.id)
    }

    /// A child execution (`<parent>/<step>`) finished: wake its parent if it sleeps waiting.
    private func wakeParent(of id: String) {
        guard let slash = id.lastIndex(of: "/") else { return }
        let parent = String(id[..<slash])
        guard let p = try? store.execution(parent), p.status == .sleeping else { return }
        _ = try? store.markSleeping(parent, until: clock.now(), now: clock.now())
        schedulerWake.signal()
    }

    private func record(_ e: WorkflowExecution, outcome: String, durationMs: Double?, error: String?) -> InvocationRecord {
        InvocationRecord(id: e.id, trace: e.trace, parent: nil, function: e.workflow, kind: "workflow",
                         trigger: "workflow", startedAt: e.createdAt, durationMs: durationMs, outcome: outcome, error: error)
    }
}
