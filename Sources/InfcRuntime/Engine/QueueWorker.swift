// Runtime engine: queue workers — one dispatcher thread per queue that claims messages with the
// queue's visibility timeout, never more at once than the consumer's limit, and runs each
// delivery on a thread; success acks, failure retries after exponential backoff with jitter,
// and the last allowed failure moves the message to the dead letters with its error. Idle
// workers sleep until the next message becomes visible or a local enqueue wakes them.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler
import Synchronization

/// What a queue delivers to: the manifest's queues, a subscriber's delivery queue, a schedule's
/// firing queue.
struct QueuePlan: Sendable {
    enum Action: Sendable {
        /// Run the handler `declaration` of `function` with the message's `args` (or `[event]`).
        case run(function: FunctionID, declaration: Int)
        /// Start the workflow with the message's arguments (a workflow-starter or a schedule).
        case start(workflow: WorkflowID, starter: FunctionID?)
    }

    var queue: QueueID
    var action: Action
    /// The function whose limit (and timeout) bounds the deliveries.
    var function: FunctionID?
    var maxReceiveCount: Int
    var backoffMs: Int
    var visibilityTimeout: Double

    /// Default concurrency of a consumer without a limit.
    static let defaultConcurrency = 8

    static func all(for deployment: Deployment) -> [QueuePlan] {
        let m = deployment.manifest
        var plans: [QueuePlan] = []
        for q in m.queues {
            let declaration: Int
            if q.sourceType == "async" {
                declaration = deployment.fnDeclarations[q.sourceName] ?? -1
            } else {
                declaration = m.subscriptions.first { $0.queue == q.name }.map { deployment.declaration($0.handler) } ?? -1
            }
            plans.append(QueuePlan(queue: q.name, action: .run(function: q.consumer, declaration: declaration),
                                   function: q.consumer, maxReceiveCount: max(1, q.maxReceiveCount),
                                   backoffMs: q.backoffMs, visibilityTimeout: Double(q.visibilityTimeoutMs) / 1000))
        }
        // Subscribers without a queue and schedules: the delivery queues the manifest names.
        func plan(_ d: ManifestDelivery, _ action: Action, function: FunctionID?) -> QueuePlan {
            QueuePlan(queue: d.queue, action: action, function: function, maxReceiveCount: max(1, d.maxReceiveCount),
                      backoffMs: d.backoffMs, visibilityTimeout: Double(d.visibilityTimeoutMs) / 1000)
        }
        for s in m.subscriptions where s.queue == nil {
            guard let d = s.delivery, let f = m.function(s.target) else { continue }
            let action: Action = f.startsWorkflow.map { .start(workflow: $0, starter: f.name) }
                ?? .run(function: f.name, declaration: deployment.declaration(s.handler))
            plans.append(plan(d, action, function: f.name))
        }
        for s in m.schedules {
            switch s.target {
            case .workflow(let workflow):
                plans.append(plan(s.delivery, .start(workflow: workflow, starter: nil), function: nil))
            case .function(let function):
                guard let f = m.function(function) else { continue }
                plans.append(plan(s.delivery, .run(function: f.name, declaration: deployment.declaration(s.handler)), function: f.name))
            }
        }
        return plans
    }
}

final class QueueWorker: Sendable {
    unowned let runtime: Runtime
    let plan: QueuePlan
    let deployment: Deployment
    /// Permits for deliveries: the consumer function's own limit, or a local cap.
    private let capacity: CountingSemaphore
    private let wake = WakeSignal()
    private let stopped = Atomic<Bool>(false)

    init(runtime: Runtime, plan: QueuePlan, deployment: Deployment) {
        self.runtime = runtime
        self.plan = plan
        self.deployment = deployment
        capacity = plan.function.flatMap { runtime.limits.semaphore(for: $0) }
            ?? CountingSemaphore(capacity: QueuePlan.defaultConcurrency)
    }

    func start() {
        let ok = Threads.spawn(stackBytes: 512 * 1024) { [self] in dispatch() }
        if !ok { runtime.logger.warning("cannot start the worker of queue \(plan.queue)") }
    }

    /// Stops claiming; deliveries in progress finish on their own.
    func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        wake.signal()
    }

    func notify() { wake.signal() }

    private var isStopped: Bool { stopped.load(ordering: .relaxed) || runtime.isStopping }

    /// The dispatcher: take a permit, claim as many messages as there are free permits, start a
    /// delivery for each; with nothing to claim, sleep until the next visible time.
    private func dispatch() {
        while !isStopped {
            guard capacity.acquire(cancelled: { [self] in isStopped }) else { break }
            var permits = 1
            while permits < 32 && capacity.tryAcquire() { permits += 1 }
            let now = runtime.clock.now()
            let messages: [QueueMessage]
            do {
                messages = try runtime.store.receive(plan.queue.text, visibilityTimeout: plan.visibilityTimeout, now: now, max: permits)
            } catch {
                for _ in 0..<permits { capacity.release() }
                if isStopped { break }
                runtime.logger.warning("queue \(plan.queue): cannot receive: \(error)")
                wake.wait(until: now + 1)
                continue
            }
            for _ in messages.count..<permits { capacity.release() }
            for message in messages {
                runtime.work.enter()
                let started = Threads.spawn { [self] in
                    deliver(message)
                    capacity.release()
                    runtime.work.leave()
                }
                if !started {
                    capacity.release()
                    runtime.work.leave()
                }
            }
            if messages.isEmpty {
                let next = (try? runtime.store.nextVisibleTime(plan.queue.text)) ?? nil
                let until = min(next ?? .greatestFiniteMagnitude, runtime.clock.now() + 30)
                wake.wait(until: max(until, runtime.clock.now() + 0.005))
            }
        }
    }

    /// Runs one delivery and settles the message: ack, retry later, or dead-letter.
    private func deliver(_ message: QueueMessage) {
        let parent = message.body["parent"]?.stringValue
        let arguments = message.body["args"]?.arrayValue ?? message.body["event"].map { [$0] } ?? []
        let failure: String?
        var interrupted = false
        var retryable = true
        switch plan.action {
        case .run(let functionName, let declaration):
            guard let function = deployment.manifest.function(functionName), declaration >= 0 else {
                failure = "queue \(plan.queue) has no consumer in this version of the app"
                break
            }
            let result = runtime.invoke(InvocationRequest(
                deployment: deployment, function: function, declaration: declaration, arguments: arguments,
                trigger: "queue \(plan.queue)", trace: message.trace, parent: parent, cancelled: nil))
            switch result.value {
            case .success: failure = nil
            case .failure(let e):
                interrupted = result.outcome == .interrupted
                retryable = result.outcome == .timeout || RetryRule.isRetryable(e)
                failure = result.outcome == .timeout
                    ? "timed out after \(RuntimeLogger.duration(Double(function.timeoutMs)))"
                    : runtime.redactor.redact(e.description)
            }
        case .start(let workflow, let starter):
            failure = startWorkflow(workflow, starter: starter, message: message, arguments: arguments, parent: parent)
        }
        settle(message, failure: failure, interrupted: interrupted, retryable: retryable)
    }

    /// A delivery that starts a workflow: the execution id comes from the message, so a
    /// redelivery finds the execution it already created.
    private func startWorkflow(_ workflow: WorkflowID, starter: FunctionID?, message: QueueMessage, arguments: [JSON],
                               parent: String?) -> String? {
        let id = "\(plan.queue)-\(message.id)"
        let run = { @Sendable [self] () throws(RuntimeError) -> JSON in
            .string(try runtime.startExecution(workflow: workflow, arguments: arguments, trace: message.trace, parent: parent,
                                               trigger: starter.map { "started by \($0)" } ?? "schedule \(plan.queue)", id: id))
        }
        if let starter, let function = deployment.manifest.function(starter) {
            let result = runtime.invokeNative(function: function, deployment: deployment, trigger: "queue \(plan.queue)",
                                              trace: message.trace, parent: parent) { [self] _ throws(RuntimeError) in
                try runtime.authorize(.function(function), resource: workflow, type: "workflow", action: "start")
                return try run()
            }
            if case .failure(let e) = result.value { return runtime.redactor.redact(e.description) }
            return nil
        }
        do throws(RuntimeError) {
            _ = try run()
            return nil
        } catch {
            return error.description
        }
    }

    private func settle(_ message: QueueMessage, failure: String?, interrupted: Bool, retryable: Bool) {
        let store = runtime.store
        let now = runtime.clock.now()
        do {
            guard let failure else {
                try store.ack(message.id, receipt: message.receipt)
                return
            }
            // A delivery cut short by shutdown keeps its claim: the next start releases it.
            if interrupted && runtime.isForceCancelled { return }
            if message.receiveCount >= plan.maxReceiveCount || !retryable {
                try store.deadLetter(message.id, receipt: message.receipt, error: failure, now: now)
                runtime.logger.notice(
                    "queue \(plan.queue): message \(message.id) moved to the dead letters after \(message.receiveCount) receive(s)"
                        + (retryable ? "" : " (a failure that would repeat: not retried)") + ": \(oneLine(failure))")
            } else {
                let delay = runtime.clock.backoff(baseMilliseconds: plan.backoffMs, attempt: message.receiveCount)
                try store.retryLater(message.id, receipt: message.receipt, delay: delay, error: failure, now: now)
                wake.signal()
            }
        } catch {
            runtime.logger.warning("queue \(plan.queue): cannot settle message \(message.id): \(error)")
        }
    }
}
