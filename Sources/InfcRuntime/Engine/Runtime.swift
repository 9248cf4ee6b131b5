// Runtime engine: the local runtime of SPEC §9 — one process that serves a deployment's routes,
// drains its queues, fires its schedules and runs its workflows, on the durable StateStore.
// This file wires the parts together (start, swap, graceful stop) and runs one invocation.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler
import Synchronization

/// How `infc run` and `infc dev` configure the runtime.
public struct RuntimeOptions: Sendable {
    /// The API port on 127.0.0.1; 0 picks a free one.
    public var port: Int = 3000
    /// The state directory (holds `state.db`).
    public var stateDirectory: String
    public var logFormat: LogFormat = .text
    /// Divides sleeps, schedule intervals and backoffs (tests); never timeouts.
    public var timeScale: Double = 1
    /// Where `.env` is read from; the build directory's parent by default.
    public var appDirectory: String?
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    public var httpLimits = HTTPLimits()
    /// Where lines go (standard output when nil).
    public var sink: (@Sendable (String) -> Void)?
    /// How service calls reach the network (without one, every service call fails).
    public var serviceTransport: ServiceTransport?

    public init(stateDirectory: String) { self.stateDirectory = stateDirectory }
}

/// What one invocation of a function is asked to do.
struct InvocationRequest: Sendable {
    var deployment: Deployment
    var function: ManifestFunction
    var declaration: Int
    var arguments: [JSON]
    var trigger: String
    var trace: String
    var parent: String?
    /// Turns true to stop the invocation early (besides its timeout and a forced shutdown).
    var cancelled: (@Sendable () -> Bool)?
}

/// How an invocation ended.
struct InvocationResult: Sendable {
    var id: String
    var value: Result<JSON, RuntimeError>
    var outcome: Outcome
    var durationMs: Double
}

/// The running local runtime.
public final class Runtime: Sendable {
    public let options: RuntimeOptions
    let clock: RuntimeClock
    let logger: RuntimeLogger
    let redactor = Redactor()
    /// The token the control endpoints require (`runtime.json`).
    let controlToken = Identifiers.uuid().filter { $0 != "-" } + Identifiers.uuid().filter { $0 != "-" }
    let store: StateStore
    let recorder: InvocationRecorder
    let secrets: SecretSource
    let services: ServiceGateway
    let limits = FunctionLimits()
    private let lock: StateLock
    private let active: Mutex<ActiveDeployment>
    private let workers = Mutex<[QueueID: QueueWorker]>([:])
    private let server = Mutex<HTTPServer?>(nil)
    /// Workflow executions running on a thread of this process (never run one twice at once).
    let activeExecutions = Mutex<Set<String>>([])
    /// Set when an execution could not get a thread (the cap); the next to finish picks them up.
    let executionsDeferred = Atomic<Bool>(false)
    /// Wakes the scheduler thread (schedules, sleeping workflows).
    let schedulerWake = WakeSignal()
    let schedulerState = Mutex(SchedulerState())
    /// Set when a graceful stop begins: no new work is claimed or accepted.
    let stopping = Atomic<Bool>(false)
    /// Set when the drain time is over: every running invocation is told to stop.
    let forceCancel = Atomic<Bool>(false)
    /// Invocations, deliveries and workflow runs in progress (graceful stop waits for them).
    let work = InFlight()

    /// Opens the state (refusing a directory another runtime holds) and prepares every part.
    /// Nothing runs until `start()`.
    public init(deployment: Deployment, options: RuntimeOptions) throws(RuntimeStartError) {
        self.options = options
        clock = RuntimeClock(timeScale: options.timeScale)
        logger = RuntimeLogger(format: options.logFormat, redactor: redactor, sink: options.sink)
        lock = try StateLock(directory: options.stateDirectory)
        do {
            store = try StateStore(path: options.stateDirectory + "/state.db")
        } catch {
            lock.release()
            throw RuntimeStartError("\(error)")
        }
        recorder = InvocationRecorder(store: store, traces: TraceLog(stateDirectory: options.stateDirectory), logger: logger)
        secrets = SecretSource(appDirectory: options.appDirectory ?? deployment.appDirectory,
                               environment: options.environment, redactor: redactor)
        services = ServiceGateway(environment: options.environment, logger: logger,
                                  transport: options.serviceTransport ?? NoServiceTransport())
        active = Mutex(ActiveDeployment(deployment))
    }

    /// The deployment new work runs on.
    var deployment: Deployment { active.withLock { $0.deployment } }
    var activeDeployment: ActiveDeployment { active.withLock { $0 } }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }
    var isForceCancelled: Bool { forceCancel.load(ordering: .relaxed) }

    /// Starts everything and returns the API port.
    @discardableResult
    public func start() throws(RuntimeStartError) -> Int {
        let deployment = self.deployment
        let now = clock.now()
        do {
            let released = try store.releaseAllClaims(now: now)
            if released > 0 { logger.notice("released \(released) message(s) claimed by a runtime that stopped") }
        } catch {
            throw RuntimeStartError("\(error)")
        }
        services.configure(deployment.manifest.services)
        limits.configure(deployment.manifest.functions)
        // Bind before starting workers: a port in use fails the start before any work is done.
        let http = HTTPServer(port: options.port, limits: options.httpLimits) { [unowned self] request in
            self.handle(request)
        }
        let port: Int
        do {
            port = try http.start()
        } catch {
            store.close()
            lock.release()
            throw (error as? RuntimeStartError) ?? RuntimeStartError("cannot start the HTTP server: \(error)")
        }
        recorder.start()
        startWorkers(for: deployment)
        startScheduler()
        resumeRunningExecutions()
        server.withLock { $0 = http }
        writeEndpointFile(port: port)
        banner(deployment, port: port)
        return port
    }

    /// Swaps in a new version of the app (`infc dev`): new requests, deliveries, schedules and
    /// workflow runs use it; work in progress finishes on the old one. State and queued
    /// messages are untouched.
    public func swap(to deployment: Deployment) {
        let previous = self.deployment.manifest
        active.withLock { $0 = ActiveDeployment(deployment) }
        warnAboutMissingSecrets(deployment.manifest, previous: previous)
        services.configure(deployment.manifest.services)
        limits.configure(deployment.manifest.functions)
        startWorkers(for: deployment)
        schedulerWake.signal()
        logger.notice("now serving the new version of \(deployment.manifest.app) (\(deployment.manifest.sourcePath))")
    }

    /// Stops accepting, lets work in progress finish until `drainTimeout` (default: the longest
    /// function timeout, at most 60 s), then stops the rest and closes the state.
    public func stop(drainTimeout: Double? = nil) {
        guard !stopping.exchange(true, ordering: .sequentiallyConsistent) else { return }
        let longest = Double(deployment.manifest.functions.map(\.timeoutMs).max() ?? 30_000) / 1000
        let deadline = clock.now() + (drainTimeout ?? min(longest, 60))
        if let http = server.withLock({ $0 }) {
            let seconds = max(0, deadline - clock.now())
            http.stop(drainTimeout: .milliseconds(Int(seconds * 1000)))
        }
        stopParts(drainUntil: deadline)
    }

    private func stopParts(drainUntil deadline: Double) {
        stopping.store(true, ordering: .sequentiallyConsistent)
        for w in workers.withLock({ Array($0.values) }) { w.stop() }
        stopScheduler()
        if !work.waitForZero(until: deadline) {
            forceCancel.store(true, ordering: .sequentiallyConsistent)
            work.waitForZero(until: clock.now() + 2)
        }
        recorder.stop()
        removeEndpointFile()
        store.close()
        lock.release()
        logger.flush()
    }

    // MARK: Workers

    /// Replaces the queue workers with those of `deployment` (the old ones stop claiming; their
    /// deliveries in progress finish).
    private func startWorkers(for deployment: Deployment) {
        let plans = QueuePlan.all(for: deployment)
        let old = workers.withLock { table -> [QueueWorker] in
            let old = Array(table.values)
            table = [:]
            return old
        }
        for w in old { w.stop() }
        var fresh: [QueueID: QueueWorker] = [:]
        for plan in plans {
            let worker = QueueWorker(runtime: self, plan: plan, deployment: deployment)
            fresh[plan.queue] = worker
        }
        workers.withLock { $0 = fresh }
        for w in fresh.values { w.start() }
    }

    /// Wakes the worker of `queue` (a message was just enqueued or released).
    func notify(queue: QueueID) {
        workers.withLock { $0[queue] }?.notify()
    }

    /// The queue a topic subscriber receives on (named in the manifest).
    static func deliveryQueue(for subscription: ManifestSubscription) -> QueueID { subscription.deliveryQueue }

    // MARK: Invocations

    /// Runs one invocation of a function's handler: its timeout, its permissions, one log line
    /// and one record. The caller holds the function's concurrency permit.
    func invoke(_ request: InvocationRequest) -> InvocationResult {
        invokeNative(function: request.function, deployment: request.deployment, trigger: request.trigger,
                     trace: request.trace, parent: request.parent, cancelled: request.cancelled) { host throws(RuntimeError) in
            try request.deployment.interpreter.run(declaration: request.declaration, arguments: request.arguments, host: host)
        }
    }

    /// Runs native work as an invocation of `function` (a workflow's limited-service call).
    func invokeNative(function: ManifestFunction, deployment: Deployment, trigger: String, trace: String, parent: String?,
                      body: @escaping @Sendable (OperationContext) throws(RuntimeError) -> JSON) -> InvocationResult {
        invokeNative(function: function, deployment: deployment, trigger: trigger, trace: trace, parent: parent,
                     cancelled: nil) { host throws(RuntimeError) in try body(host.context) }
    }

    private func invokeNative(function: ManifestFunction, deployment: Deployment, trigger: String, trace: String,
                              parent: String?, cancelled: (@Sendable () -> Bool)?,
                              body: (FunctionHost) throws(RuntimeError) -> JSON) -> InvocationResult {
        let id = Identifiers.invocation()
        let started = clock.now()
        let deadline = started + Double(function.timeoutMs) / 1000
        work.enter()
        defer { work.leave() }
        var record = InvocationRecord(
            id: id, trace: trace, parent: parent, function: function.name.text, kind: "function",
            trigger: trigger, startedAt: started, durationMs: nil, outcome: "running", error: nil)
        recorder.began(record)
        let host = FunctionHost(runtime: self, deployment: deployment, principal: .function(function), invocation: id,
                                trace: trace, deadline: deadline, externalCancel: cancelled)
        let value: Result<JSON, RuntimeError>
        do throws(RuntimeError) {
            value = .success(try body(host))
        } catch {
            value = .failure(error)
        }
        let duration = (clock.now() - started) * 1000
        let outcome: Outcome
        var errorText: String?
        switch value {
        case .success: outcome = .ok
        case .failure(let e):
            switch e.kind {
            case .timeout where isForceCancelled, .cancelled: outcome = .interrupted
            case .timeout:
                outcome = .timeout
                errorText = "timed out after \(RuntimeLogger.duration(Double(function.timeoutMs)))"
            default: outcome = .error
            }
            errorText = redactor.redact(errorText ?? e.description)
        }
        logger.invocation(function: function.name.text, trigger: trigger, durationMs: duration,
                          outcome: outcome, trace: trace, error: errorText)
        record.durationMs = duration
        record.outcome = outcome.rawValue
        record.error = errorText
        recorder.finished(record)
        return InvocationResult(id: id, value: value, outcome: outcome, durationMs: duration)
    }

    /// Runs a function of the deployment as a workflow's task step: waits for a permit of its
    /// limit (until the shutdown cancels), then invokes it.
    func invokeHeld(_ request: InvocationRequest) -> InvocationResult {
        let semaphore = limits.semaphore(for: request.function.name)
        if let semaphore {
            let got = semaphore.acquire(cancelled: { [self] in isForceCancelled || (request.cancelled?() ?? false) })
            guard got else {
                return InvocationResult(id: "", value: .failure(.cancelled()), outcome: .interrupted, durationMs: 0)
            }
        }
        defer { semaphore?.release() }
        return invoke(request)
    }

    // MARK: Banner

    /// One warning per declared secret without a value (not repeated for those `previous` had).
    func warnAboutMissingSecrets(_ m: Manifest, previous: Manifest?) {
        let known = Set(previous?.secrets.map(\.name) ?? [])
        for secret in m.secrets where !known.contains(secret.name) && !secrets.isSet(name: secret.name.text, env: secret.env) {
            logger.warning("secret \(secret.name) is not set: set \(secret.env) in the environment or add "
                + "\(secret.env)=… to \(secrets.dotEnvPath); until then its value() fails with missing-secret")
        }
    }

    private func banner(_ deployment: Deployment, port: Int) {
        let m = deployment.manifest
        logger.notice("infc run: \(m.app) from \(deployment.directory), state in \(options.stateDirectory)")
        func line(_ kind: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            logger.notice("  " + kind + String(repeating: " ", count: max(1, 11 - kind.count)) + items.joined(separator: ", "))
        }
        line("routes", m.routes.map { "\($0.method) \($0.path)" })
        line("functions", m.functions.map { f in f.limit.map { "\(f.name) (limit \($0))" } ?? f.name.text })
        line("queues", m.queues.map(\.name.text))
        line("topics", m.topics.map { t in "\(t) (\(m.subscriptions.filter { $0.topic == t }.count) subscriber(s))" })
        line("schedules", m.schedules.map { s in s.cron.map { "\(s.name) (\"\($0)\")" } ?? "\(s.name) (every \(s.rateMs ?? 0) ms)" })
        line("workflows", m.workflows.map(\.name.text))
        line("tables", m.tables.map(\.text))
        line("buckets", m.buckets.map(\.text))
        line("secrets", m.secrets.map(\.name.text))
        line("services", m.services.map(\.name.text))
        warnAboutMissingSecrets(m, previous: nil)
        if clock.timeScale != 1 { logger.notice("  time scale ×\(JSON.format(number: clock.timeScale)): sleeps, schedules and backoffs run faster") }
        logger.notice("listening on http://\(HTTPServer.host):\(port) (status: /_infc/status)")
    }
}

/// A deployment with its route table, swapped as one value.
struct ActiveDeployment: Sendable {
    var deployment: Deployment
    var router: Router<ManifestRoute>

    init(_ deployment: Deployment) {
        self.deployment = deployment
        var router = Router<ManifestRoute>()
        for r in deployment.manifest.routes { router.add(r.method, r.path, r) }
        self.router = router
    }
}

/// Per-function concurrency limits, kept across swaps (a semaphore per limited function).
final class FunctionLimits: Sendable {
    private let table = Mutex<[FunctionID: CountingSemaphore]>([:])

    func configure(_ functions: [ManifestFunction]) {
        table.withLock { t in
            for f in functions {
                guard let limit = f.limit else { t[f.name] = nil; continue }
                if let s = t[f.name] { s.setCapacity(limit) } else { t[f.name] = CountingSemaphore(capacity: limit) }
            }
        }
    }

    /// The semaphore of a limited function, nil for an unlimited one.
    func semaphore(for function: FunctionID) -> CountingSemaphore? { table.withLock { $0[function] } }
}

/// Identifiers for traces, invocations and executions.
///
/// Trace and invocation ids are time-ordered, like UUIDv7: they start with the time in
/// milliseconds, so the invocation records, keyed and indexed by them, are appended at the end
/// of their B-trees instead of dirtying a random page per record. The rest comes from
/// SplitMix64 over a process-wide counter whose start is drawn from the system's random source
/// once: SplitMix64 is a bijection, so no two draws of a process repeat, and none costs a
/// system call.
enum Identifiers {
    /// 32 lowercase hex digits (the W3C trace-id shape): 48 bits of milliseconds, 80 of noise.
    static func trace() -> String {
        let noise = random64()
        return hex(milliseconds() << 16 | noise >> 48, random64())
    }

    /// 16 lowercase hex digits: 44 bits of milliseconds, then 20 bits of a counter.
    static func invocation() -> String {
        hex(milliseconds() << 20 | (sequence.wrappingAdd(1, ordering: .relaxed).newValue & 0xF_FFFF))
    }

    static func uuid() -> String { UUID().uuidString.lowercased() }

    private static let counter = Atomic<UInt64>(UInt64.random(in: .min ... .max))
    private static let sequence = Atomic<UInt64>(UInt64.random(in: .min ... .max))

    private static func milliseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) &* 1000 &+ UInt64(ts.tv_nsec / 1_000_000)
    }

    /// The next 64 random-looking bits (SplitMix64's output function over the counter).
    static func random64() -> UInt64 {
        var z = counter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `words` as lowercase hex, 16 digits each, most significant first.
    static func hex(_ words: UInt64...) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: words.count * 16) { out in
            var i = 0
            digits.withUTF8Buffer { d in
                for w in words {
                    for shift in stride(from: 60, through: 0, by: -4) {
                        out[i] = d[Int((w >> UInt64(shift)) & 15)]
                        i += 1
                    }
                }
            }
            return i
        }
    }

    /// A client-supplied `X-Trace-Id` is used when it is 1–128 characters of [A-Za-z0-9._:-].
    static func acceptTrace(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 128,
              value.utf8.allSatisfy({ c in
                  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 46 || c == 58 || c == 95
              })
        else { return nil }
        return value
    }
}

/// An exclusive lock on a state directory (`runtime.lock`, flock): one runtime per state.
final class StateLock: Sendable {
    private let fd: Int32

    init(directory: String) throws(RuntimeStartError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RuntimeStartError("cannot create the state directory \(directory): \(FileIO.message(error))")
        }
        let path = directory + "/runtime.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RuntimeStartError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw RuntimeStartError("another infc runtime is using the state in \(directory); stop it or pass --state DIR")
        }
        self.fd = fd
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
