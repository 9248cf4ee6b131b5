// Runtime engine: invocation bookkeeping — records for `infc trace` and per-function counters
// for `infc status`, batched in memory and written every 250 ms in small transactions, so that
// the request path never waits for SQLite. Observability only: accepted work is never batched.
import Foundation
import Synchronization

public final class InvocationRecorder: Sendable {
    /// One event of the request path. Under the lock the request path only appends one of
    /// these (no hashing, no dictionaries): counts, in-flight numbers and merged records are
    /// worked out by the flusher.
    private struct Event {
        enum Kind { case began, finished, finishedUncounted, update }
        var kind: Kind
        var function: String
        /// nil for the start of a plain function invocation (only its in-flight count matters).
        var record: InvocationRecord?
    }

    private struct Pending {
        var events: [Event] = []
        /// Events the flusher took and is writing: still pending for the readers.
        var flushing: [Event] = []
        /// Invocations in flight as of the events before `flushing`.
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
        let event = Event(kind: .began, function: record.function, record: record.kind == "workflow" ? record : nil)
        pending.withLock { $0.events.append(event) }
    }

    /// An invocation ended: its final record and its counter.
    public func finished(_ record: InvocationRecord, counted: Bool = true) {
        let event = Event(kind: counted ? .finished : .finishedUncounted, function: record.function, record: record)
        pending.withLock { $0.events.append(event) }
    }

    /// A record that is not an invocation of a function (a workflow's status change).
    public func update(_ record: InvocationRecord) {
        let event = Event(kind: .update, function: record.function, record: record)
        pending.withLock { $0.events.append(event) }
    }

    /// Invocations running now, by function.
    public var inFlight: [String: Int] {
        pending.withLock { p in
            var counts = p.inFlight
            Self.apply(p.flushing, toInFlight: &counts)
            Self.apply(p.events, toInFlight: &counts)
            return counts
        }
    }

    /// Counts not yet written, to add to what the store holds.
    public var unflushedCounts: [String: InvocationCount] {
        pending.withLock { Self.counts(of: $0.flushing + $0.events) }
    }

    private static func apply(_ events: [Event], toInFlight counts: inout [String: Int]) {
        for e in events {
            switch e.kind {
            case .began: counts[e.function, default: 0] += 1
            case .finished, .finishedUncounted:
                let left = (counts[e.function] ?? 1) - 1
                counts[e.function] = left > 0 ? left : nil
            case .update: break
            }
        }
    }

    private static func counts(of events: [Event]) -> [String: InvocationCount] {
        var counts: [String: InvocationCount] = [:]
        for e in events where e.kind == .finished {
            let outcome = e.record?.outcome ?? Outcome.ok.rawValue
            let failed = outcome != Outcome.ok.rawValue && outcome != "completed" && outcome != Outcome.sleeping.rawValue
            counts[e.function, default: InvocationCount(invocations: 0, failures: 0)].invocations += 1
            if failed { counts[e.function, default: InvocationCount(invocations: 0, failures: 0)].failures += 1 }
        }
        return counts
    }

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

    /// Takes the pending events in O(1) under the lock (request threads append under it at
    /// 50k a second), works out counts and writes them outside it, then moves the in-flight
    /// numbers and drops the events in one more O(1) step: a reader sees every event either
    /// in the lists or in `inFlight`, never in both or neither.
    private func flush() {
        let taken = pending.withLock { p -> (events: [Event], inFlight: [String: Int])? in
            guard !p.events.isEmpty else { return nil }
            p.flushing = p.events
            p.events = []
            return (p.flushing, p.inFlight)
        }
        guard let (events, base) = taken else { return }
        var inFlight = base
        Self.apply(events, toInFlight: &inFlight)
        defer {
            pending.withLock { p in
                p.inFlight = inFlight
                p.flushing = []
            }
        }
        let counts = Self.counts(of: events)
        do {
            // Small transactions: the request path shares the database lock, and a handler
            // waiting behind thousands of inserts would stall its event loop.
            let records = Self.merged(events.compactMap(\.record))
            for chunk in stride(from: 0, to: records.count, by: Self.recordsPerTransaction) {
                try store.recordInvocations(Array(records[chunk..<min(chunk + Self.recordsPerTransaction, records.count)]))
            }
            if !counts.isEmpty { try store.recordInvocations(counts) }
        } catch {
            logger.warning("cannot record invocations: \(error)")
        }
    }
}
