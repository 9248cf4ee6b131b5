// Runtime engine: invocation bookkeeping — records for `infc trace` and per-function counters
// for `infc status`, batched in memory and written in one transaction every 250 ms so that the
// request path never waits for SQLite. Observability only: accepted work is never batched.
import Foundation
import Synchronization

public final class InvocationRecorder: Sendable {
    /// What the request path adds under the lock: appends and counter bumps only, so the lock
    /// is held for well under a microsecond. Records of one id are merged at flush time.
    private struct Pending {
        var records: [InvocationRecord] = []
        var counts: [String: InvocationCount] = [:]
        var inFlight: [String: Int] = [:]
    }

    private let store: StateStore
    private static let recordsPerTransaction = 128
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
            if record.kind == "workflow" { p.records.append(record) }
        }
    }

    /// An invocation ended: its final record and its counter.
    public func finished(_ record: InvocationRecord, counted: Bool = true) {
        pending.withLock { p in
            p.inFlight[record.function, default: 1] -= 1
            if p.inFlight[record.function] ?? 0 <= 0 { p.inFlight[record.function] = nil }
            p.records.append(record)
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
        pending.withLock { $0.records.append(record) }
    }

    /// Invocations running now, by function.
    public var inFlight: [String: Int] { pending.withLock { $0.inFlight } }

    /// Counts not yet written, to add to what the store holds.
    public var unflushedCounts: [String: InvocationCount] { pending.withLock { $0.counts } }

    /// Merges the records of one id as the store's upsert does: the first record's identity
    /// (parent, trigger, start) with the latest outcome. Keeps first-appearance order.
    static func merged(_ records: [InvocationRecord]) -> [InvocationRecord] {
        var index: [String: Int] = [:]
        index.reserveCapacity(records.count)
        var out: [InvocationRecord] = []
        out.reserveCapacity(records.count)
        for record in records {
            if let i = index[record.id] {
                out[i].durationMs = record.durationMs
                out[i].outcome = record.outcome
                out[i].error = record.error
            } else {
                index[record.id] = out.count
                out.append(record)
            }
        }
        return out
    }

    private func flush() {
        let (pendingRecords, counts) = pending.withLock { p -> ([InvocationRecord], [String: InvocationCount]) in
            defer {
                p.records = []
                p.counts = [:]
            }
            return (p.records, p.counts)
        }
        guard !pendingRecords.isEmpty || !counts.isEmpty else { return }
        do {
            // Small transactions: the request path shares the database lock, and a handler
            // waiting behind thousands of inserts would stall its event loop.
            let records = Self.merged(pendingRecords)
            for chunk in stride(from: 0, to: records.count, by: Self.recordsPerTransaction) {
                try store.recordInvocations(Array(records[chunk..<min(chunk + Self.recordsPerTransaction, records.count)]))
            }
            if !counts.isEmpty { try store.recordInvocations(counts) }
        } catch {
            logger.warning("cannot record invocations: \(error)")
        }
    }
}
