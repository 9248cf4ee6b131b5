// Runtime engine: invocation bookkeeping — records for `infc trace` and per-function counters
// for `infc status`, batched in memory and written in one transaction every 250 ms so that the
// request path never waits for SQLite. Observability only: accepted work is never batched.
import Foundation
import Synchronization

public final class InvocationRecorder: Sendable {
    private struct Pending {
        var records: [String: InvocationRecord] = [:]
        var order: [String] = []
        var counts: [String: InvocationCount] = [:]
        var inFlight: [String: Int] = [:]
    }

    private let store: StateStore
    private let logger: RuntimeLogger
    private let pending = Mutex(Pending())
    private let stopped = Atomic<Bool>(false)
    private let wake = WakeSignal()
    private let done = InFlight()

    public init(store: StateStore, logger: RuntimeLogger) {
        self.store = store
        self.logger = logger
    }

    /// Starts the flushing thread; prunes records older than a week once at start.
    public func start() {
        try? store.pruneInvocations(before: Date().timeIntervalSince1970 - 7 * 86_400)
        done.enter()
        Threads.spawn(stackBytes: 512 * 1024) { [self] in
            while !stopped.load(ordering: .relaxed) {
                wake.wait(until: Date().timeIntervalSince1970 + 0.25)
                flush()
            }
            flush()
            done.leave()
        }
    }

    /// Flushes what is pending and stops the thread.
    public func stop() {
        stopped.store(true, ordering: .relaxed)
        wake.signal()
        done.waitForZero(until: Date().timeIntervalSince1970 + 5)
    }

    /// An invocation began (counts it as in flight, for the status endpoint).
    public func began(_ record: InvocationRecord) {
        pending.withLock { p in
            p.inFlight[record.function, default: 0] += 1
            if record.kind == "workflow" { Self.put(record, into: &p) }
        }
    }

    /// An invocation ended: its final record and its counter.
    public func finished(_ record: InvocationRecord, counted: Bool = true) {
        pending.withLock { p in
            p.inFlight[record.function, default: 1] -= 1
            if p.inFlight[record.function] ?? 0 <= 0 { p.inFlight[record.function] = nil }
            Self.put(record, into: &p)
            if counted {
                let failed = record.outcome != Outcome.ok.rawValue && record.outcome != "completed"
                    && record.outcome != Outcome.sleeping.rawValue
                var c = p.counts[record.function] ?? InvocationCount(invocations: 0, failures: 0)
                c.invocations += 1
                if failed { c.failures += 1 }
                p.counts[record.function] = c
            }
        }
    }

    /// A record that is not an invocation of a function (a workflow's status change).
    public func update(_ record: InvocationRecord) {
        pending.withLock { Self.put(record, into: &$0) }
    }

    /// Invocations running now, by function.
    public var inFlight: [String: Int] { pending.withLock { $0.inFlight } }

    /// Counts not yet written, to add to what the store holds.
    public var unflushedCounts: [String: InvocationCount] { pending.withLock { $0.counts } }

    /// Keeps the first record's identity (parent, trigger, start) and the latest outcome, as
    /// the store's upsert does.
    private static func put(_ record: InvocationRecord, into p: inout Pending) {
        guard var existing = p.records[record.id] else {
            p.order.append(record.id)
            p.records[record.id] = record
            return
        }
        existing.durationMs = record.durationMs
        existing.outcome = record.outcome
        existing.error = record.error
        p.records[record.id] = existing
    }

    private func flush() {
        let (records, counts) = pending.withLock { p -> ([InvocationRecord], [String: InvocationCount]) in
            let r = p.order.compactMap { p.records[$0] }
            let c = p.counts
            p.records = [:]
            p.order = []
            p.counts = [:]
            return (r, c)
        }
        guard !records.isEmpty || !counts.isEmpty else { return }
        do {
            try store.recordInvocations(records)
            if !counts.isEmpty { try store.recordInvocations(counts) }
        } catch {
            logger.warning("cannot record invocations: \(error)")
        }
    }
}
