// Runtime engine: the interpreter host of a workflow execution — durable execution by
// deterministic replay. Every step (task call, resource operation, service call, uuid(), now(),
// sleep timer, async send or start, child workflow) gets a step key from its position in the
// execution ("3", "5.p1.2" inside branch 1 of the parallel at step 5) and its outcome is
// journaled before the next step starts. A restarted execution re-runs the body and the host
// answers journaled steps from the journal without redoing them. `sleep` journals its wake time
// and suspends the execution: the thread ends, and the scheduler resumes it when due.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler
import Synchronization

/// The step numbering of one thread of workflow code (the body, or one parallel branch).
final class StepContext: @unchecked Sendable {
    let prefix: String
    private var counter = 0

    init(prefix: String) { self.prefix = prefix }

    /// The next step key; only the owning thread calls this.
    func next() -> String {
        counter += 1
        return prefix + String(counter)
    }
}

/// The step context of the calling thread (set by the workflow runner and by parallel branches).
enum StepContextSlot {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// The caller keeps `context` alive while it is set.
    static func set(_ context: StepContext?) {
        pthread_setspecific(key, context.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) })
    }

    static func get() -> StepContext? {
        pthread_getspecific(key).map { Unmanaged<StepContext>.fromOpaque($0).takeUnretainedValue() }
    }
}

final class WorkflowHost: InterpreterHost {
    let runtime: Runtime
    let deployment: Deployment
    let workflow: ManifestWorkflow
    let executionID: String
    let trace: String
    let root = StepContext(prefix: "")
    /// The workflow's own deadline (its `timeout`), if any.
    let deadline: Double?
    private let journal: Mutex<[String: JSON]>
    private let halted = Atomic<Bool>(false)
    private let suspension = Mutex<(wakeAt: Double?, children: [String], storeFailure: String?)>((nil, [], nil))

    /// Waits shorter than this stay on the thread instead of suspending the execution.
    static let inlineSleepLimit = 1.0
    /// How long a direct integration (a resource operation of the workflow itself) may take.
    static let integrationTimeout = 30.0

    init(runtime: Runtime, deployment: Deployment, workflow: ManifestWorkflow, execution: WorkflowExecution,
         journal: [String: JSON]) {
        self.runtime = runtime
        self.deployment = deployment
        self.workflow = workflow
        self.executionID = execution.id
        self.trace = execution.trace
        self.journal = Mutex(journal)
        self.deadline = workflow.timeoutMs.map { execution.createdAt + Double($0) / 1000 }
    }

    /// When the execution asked to sleep: the earliest wake time requested.
    var suspendedUntil: Double? { suspension.withLock { $0.wakeAt } }
    /// Child executions this one waits for.
    var waitingOn: [String] { suspension.withLock { $0.children } }
    /// Set when the journal could not be written: the execution must retry later.
    var storeFailure: String? { suspension.withLock { $0.storeFailure } }

    private var principal: Principal { .workflow(workflow) }

    private var context: StepContext { StepContextSlot.get() ?? root }

    private func operationContext(deadline: Double) -> OperationContext {
        OperationContext(deployment: deployment, invocation: executionID, trace: trace, deadline: deadline,
                         cancelled: { [self] in isCancelled })
    }

    // MARK: InterpreterHost

    func perform(_ operation: ResourceOperation, on resource: String, kind: ResourceKind, arguments: [JSON],
                 at range: SourceRange) throws(RuntimeError) -> JSON {
        if kind == .service, let function = serviceFunction(for: ResourceID(resource)) {
            return try step(retry: workflowRetry) { key throws(RuntimeError) in
                try runtime.authorize(principal, resource: function.name, type: "function", action: "invoke")
                let runtime = runtime
                return try runStep(function, trigger: "step \(key) of \(workflow.name)") { context throws(RuntimeError) in
                    try runtime.perform(operation, on: resource, kind: kind, arguments: arguments,
                                        principal: .function(function), context: context)
                }
            }
        }
        if kind == .secret {
            // Not a step: a secret's value must never be written to the journal (or anywhere in
            // the database), and reading it again on replay gives the same answer.
            return try runtime.perform(operation, on: resource, kind: kind, arguments: arguments, principal: principal,
                                       context: operationContext(deadline: runtime.clock.now() + Self.integrationTimeout))
        }
        return try step(retry: kind == .service ? workflowRetry : nil) { key throws(RuntimeError) in
            let started = runtime.clock.now()
            let stepDeadline = min(started + Self.integrationTimeout, deadline ?? .greatestFiniteMagnitude)
            do throws(RuntimeError) {
                return try runtime.perform(operation, on: resource, kind: kind, arguments: arguments, principal: principal,
                                           context: operationContext(deadline: stepDeadline))
            } catch {
                // A service call is no invocation of its own: keep each failed attempt in the
                // trace, so that every attempt's error (a service's answer included) is there.
                if kind == .service, error.isCatchable {
                    runtime.recorder.finished(InvocationRecord(
                        id: Identifiers.invocation(), trace: trace, parent: executionID, function: "\(resource).\(operation.rawValue)",
                        kind: "step", trigger: "step \(key) of \(workflow.name)", startedAt: started,
                        durationMs: (runtime.clock.now() - started) * 1000, outcome: "error",
                        error: runtime.redactor.redact(error.description)), counted: false)
                }
                throw error
            }
        }
    }

    func call(fn declaration: Int, name: String, arguments: [JSON], at range: SourceRange,
              body: () throws(RuntimeError) -> JSON) throws(RuntimeError) -> JSON {
        if let child = deployment.workflowByDeclaration[declaration] {
            return try childWorkflow(child, arguments: arguments)
        }
        guard let functionName = deployment.functionByDeclaration[declaration],
              let function = deployment.manifest.function(functionName),
              function.triggerTypes.contains("workflow-task")
        else {
            return try body()  // plain computation: the workflow evaluates it itself
        }
        // A task step runs as the fn's own function: its own retry and backoff (SPEC §3.4).
        return try step(retry: RetryPolicy(retries: function.retries, backoffMs: function.backoffMs)) { key throws(RuntimeError) in
            try runtime.authorize(principal, resource: function.name, type: "function", action: "invoke")
            let result = runtime.invokeHeld(InvocationRequest(
                deployment: deployment, function: function, declaration: declaration, arguments: arguments,
                trigger: "step \(key) of \(workflow.name)", trace: trace, parent: executionID, cancelled: nil))
            return try Self.stepValue(result, function: function.name.text)
        }
    }

    func startAsync(fn declaration: Int, name: String, arguments: [JSON], at range: SourceRange) throws(RuntimeError) -> JSON {
        if let target = deployment.workflowByDeclaration[declaration] {
            return try step(retry: nil) { key throws(RuntimeError) in
                try runtime.authorize(principal, resource: target, type: "workflow", action: "start")
                // A deterministic id: a replayed start finds the execution it already created.
                return .string(try runtime.startExecution(
                    workflow: target, arguments: arguments, trace: trace, parent: executionID,
                    trigger: "async from \(workflow.name)", id: "\(executionID)~\(key)"))
            }
        }
        // A send: the message and the step's journal entry commit together.
        let key = context.next()
        if let entry = journaled(key) { return try Self.replay(entry) }
        try checkHalted()
        guard let queue = deployment.queueByFn[name] else {
            throw RuntimeError.runtime("invalid-program", "fn \(name) has no queue in the manifest; rebuild with infc build")
        }
        try runtime.authorize(principal, resource: queue.name, type: "queue", action: "send")
        let body: JSON = ["args": .array(arguments), "parent": .string(executionID)]
        let now = runtime.clock.now()
        let stored = try journalWrite { () throws(StoreError) -> JSON in
            try runtime.store.database.transaction { () throws(StoreError) -> JSON in
                let id = try runtime.store.enqueue(queue.name.text, body: body, trace: trace, now: now)
                return try runtime.store.recordStep(execution: executionID, stepKey: key,
                                                    result: ["ok": .string(String(id))], now: now)
            }
        }
        journal.withLock { $0[key] = stored }
        runtime.notify(queue: queue.name)
        return try Self.replay(stored)
    }

    func sleep(milliseconds: Double, at range: SourceRange) throws(RuntimeError) {
        let key = context.next()
        let wakeAt: Double
        if let entry = journaled(key), let t = entry["wakeAt"]?.doubleValue {
            wakeAt = t
        } else {
            try checkHalted()
            let t = runtime.clock.now() + runtime.clock.scaled(milliseconds: milliseconds)
            let stored = try journalWrite { () throws(StoreError) -> JSON in
                try runtime.store.recordStep(execution: executionID, stepKey: key, result: ["wakeAt": .number(t)],
                                             now: runtime.clock.now())
            }
            journal.withLock { $0[key] = stored }
            wakeAt = stored["wakeAt"]?.doubleValue ?? t
        }
        let remaining = wakeAt - runtime.clock.now()
        if remaining <= 0 { return }
        if remaining <= Self.inlineSleepLimit {
            do throws(RuntimeError) {
                try FunctionHost.wait(until: wakeAt, cancelled: { [self] in isCancelled })
                return
            } catch {
                throw halt(until: wakeAt)
            }
        }
        throw halt(until: wakeAt)
    }

    func runParallel(_ branches: [@Sendable () throws(RuntimeError) -> Void]) throws(RuntimeError) {
        let key = context.next()
        try checkHalted()
        let contexts = branches.indices.map { StepContext(prefix: "\(key).p\($0 + 1).") }
        do throws(RuntimeError) {
            try FunctionHost.runConcurrently(count: branches.count) { i throws(RuntimeError) in
                StepContextSlot.set(contexts[i])
                defer { StepContextSlot.set(nil) }
                try branches[i]()
            }
        } catch {
            if halted.load(ordering: .sequentiallyConsistent) { throw RuntimeError.cancelled() }
            throw error
        }
    }

    func uuid() -> String {
        let value = (try? step(retry: nil) { _ throws(RuntimeError) in .string(Identifiers.uuid()) })?.stringValue
        return value ?? Identifiers.uuid()
    }

    func now() -> Double {
        let value = (try? step(retry: nil) { _ throws(RuntimeError) in
            .number((Date().timeIntervalSince1970 * 1000).rounded())
        })?.doubleValue
        return value ?? (Date().timeIntervalSince1970 * 1000).rounded()
    }

    func log(_ text: String) { runtime.logger.program(function: workflow.name.text, trace: trace, text: text) }

    var isCancelled: Bool {
        if halted.load(ordering: .relaxed) || runtime.isStopping || runtime.isForceCancelled { return true }
        if let deadline, Date().timeIntervalSince1970 >= deadline { return true }
        return false
    }

    // MARK: Steps

    /// How often a step is retried and how its backoff starts.
    struct RetryPolicy {
        var retries: Int
        var backoffMs: Int
    }

    /// Service calls are retried per the workflow's `retry`/`backoff`.
    private var workflowRetry: RetryPolicy { RetryPolicy(retries: workflow.retries, backoffMs: workflow.backoffMs) }

    /// Runs one journaled step: replays it when the journal has it, else runs `body` (retrying
    /// a retryable failure per `retry`, when given), journals the outcome — a value or a
    /// catchable error — and returns or throws it. Uncatchable stops are not journaled.
    private func step(retry: RetryPolicy?, _ body: (String) throws(RuntimeError) -> JSON) throws(RuntimeError) -> JSON {
        let key = context.next()
        if let entry = journaled(key) { return try Self.replay(entry) }
        try checkHalted()
        var attempt = 1
        while true {
            let outcome: JSON
            do throws(RuntimeError) {
                outcome = ["ok": try body(key)]
            } catch {
                guard error.isCatchable else {
                    if halted.load(ordering: .relaxed) { throw RuntimeError.cancelled() }
                    throw error
                }
                if let retry, attempt <= retry.retries, Self.isRetryable(error) {
                    let delay = runtime.clock.backoff(baseMilliseconds: retry.backoffMs, attempt: attempt)
                    attempt += 1
                    try FunctionHost.wait(until: runtime.clock.now() + delay, cancelled: { [self] in isCancelled })
                    continue
                }
                outcome = ["err": Self.encode(error)]
            }
            let stored = try journalWrite { () throws(StoreError) -> JSON in
                try runtime.store.recordStep(execution: executionID, stepKey: key, result: outcome, now: runtime.clock.now())
            }
            journal.withLock { $0[key] = stored }
            return try Self.replay(stored)
        }
    }

    /// Runs `body` as an invocation of `function` (a workflow's limited-service function): its
    /// permit, its timeout, its log line and record.
    private func runStep(_ function: ManifestFunction, trigger: String,
                         _ body: @escaping @Sendable (OperationContext) throws(RuntimeError) -> JSON) throws(RuntimeError) -> JSON {
        let semaphore = runtime.limits.semaphore(for: function.name)
        if let semaphore, !semaphore.acquire(cancelled: { [self] in runtime.isForceCancelled || halted.load(ordering: .relaxed) }) {
            throw RuntimeError.cancelled()
        }
        defer { semaphore?.release() }
        let result = runtime.invokeNative(function: function, deployment: deployment, trigger: trigger, trace: trace,
                                          parent: executionID, body: body)
        return try Self.stepValue(result, function: function.name.text)
    }

    /// A step's value from an invocation's result: a timeout of the task becomes a catchable
    /// "task-timeout"; a shutdown stays uncatchable (the step reruns after the restart).
    static func stepValue(_ result: InvocationResult, function: String) throws(RuntimeError) -> JSON {
        switch result.value {
        case .success(let v): return v
        case .failure(let e):
            if e.isCatchable { throw e }
            if result.outcome == .timeout {
                throw RuntimeError.runtime("task-timeout", "task \(function) timed out")
            }
            throw RuntimeError.cancelled()
        }
    }

    private func childWorkflow(_ child: WorkflowID, arguments: [JSON]) throws(RuntimeError) -> JSON {
        let key = context.next()
        if let entry = journaled(key) { return try Self.replay(entry) }
        try checkHalted()
        try runtime.authorize(principal, resource: child, type: "workflow", action: "start")
        let childID = "\(executionID)/\(key)"
        _ = try runtime.startExecution(workflow: child, arguments: arguments, trace: trace, parent: executionID,
                                       trigger: "step \(key) of \(workflow.name)", id: childID)
        let status = try journalWrite { () throws(StoreError) in try runtime.store.execution(childID) }
        let outcome: JSON
        switch status?.status {
        case .completed?: outcome = ["ok": status?.result ?? .null]
        case .failed?:
            outcome = ["err": Self.encode(RuntimeError.runtime(
                "workflow-failed", "workflow \(child) (\(childID)) failed: \(status?.error ?? "unknown error")"))]
        default:
            suspension.withLock { $0.children.append(childID) }
            // The child wakes this execution when it finishes; the timer is only a safety net.
            throw halt(until: runtime.clock.now() + 60)
        }
        let stored = try journalWrite { () throws(StoreError) -> JSON in
            try runtime.store.recordStep(execution: executionID, stepKey: key, result: outcome, now: runtime.clock.now())
        }
        journal.withLock { $0[key] = stored }
        return try Self.replay(stored)
    }

    /// The function that holds calls from this workflow to a limited `service`, if any: the
    /// manifest's function that calls `service` and that this workflow may invoke (found by the
    /// manifest's facts, not by how the compiler names it).
    private func serviceFunction(for service: ResourceID) -> ManifestFunction? {
        deployment.manifest.functions.first { f in
            f.serviceCall == service
                && workflow.permissions.contains(ManifestPermission(resource: f.name.text, type: "function", action: "invoke"))
        }
    }

    // MARK: Suspension and the journal

    /// Records a wish to sleep until `time` and stops this execution's threads.
    private func halt(until time: Double) -> RuntimeError {
        suspension.withLock { s in s.wakeAt = min(s.wakeAt ?? time, time) }
        halted.store(true, ordering: .sequentiallyConsistent)
        return RuntimeError.cancelled()
    }

    private func checkHalted() throws(RuntimeError) {
        if isCancelled { throw RuntimeError.cancelled() }
    }

    private func journaled(_ key: String) -> JSON? { journal.withLock { $0[key] } }

    /// Runs a journal write; a store failure stops the execution (it retries a little later).
    private func journalWrite<T>(_ body: () throws(StoreError) -> T) throws(RuntimeError) -> T {
        do {
            return try body()
        } catch {
            suspension.withLock { $0.storeFailure = error.description }
            halted.store(true, ordering: .sequentiallyConsistent)
            throw RuntimeError.cancelled()
        }
    }

    static func isRetryable(_ error: RuntimeError) -> Bool { RetryRule.isRetryable(error) }

    static func encode(_ error: RuntimeError) -> JSON {
        switch error.kind {
        case .thrown(let value): return ["kind": "thrown", "value": value]
        case .runtime(let code, let message):
            return ["kind": "runtime", "code": .string(code), "message": .string(message), "extra": .object(error.extra)]
        default:
            return ["kind": "runtime", "code": .string(error.code), "message": .string(error.message), "extra": .object(error.extra)]
        }
    }

    /// A journaled outcome: `{ok: v}` returns v, `{err: e}` throws e again, `{wakeAt}` is a timer.
    static func replay(_ entry: JSON) throws(RuntimeError) -> JSON {
        if let v = entry["ok"] { return v }
        guard let e = entry["err"] else { return .null }
        if e["kind"]?.stringValue == "thrown" { throw RuntimeError.thrown(e["value"] ?? .null) }
        throw RuntimeError(.runtime(code: e["code"]?.stringValue ?? "error", message: e["message"]?.stringValue ?? ""),
                           extra: e["extra"]?.objectValue ?? JSONObject())
    }
}
