// Runtime engine: invocation bookkeeping — records for `infc trace` (appended to the trace log)
// and per-function counters for `infc status` (in the state database), batched in memory and
// written every 250 ms, so that the request path never waits for a disk. Observability only:
// accepted work is never batched.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Synchronization

public final class InvocationRecorder: Sendable {
    /// One event of the request path, for the counters. Under the lock the request path only
    /// appends one of these and encodes its record (no hashing, no dictionaries, no
    /// allocation once the buffers have grown): counts and in-flight numbers are worked out by
    /// the flusher.
    private struct Event {
        enum Kind { case began, finished, finishedUncounted }
        var kind: Kind
        var function: String
        var failed = false
    }

    private struct Pending {
        var events: [Event] = []
        /// Records encoded for the trace log (`TraceRecordCodec`), in the order they happened.
        var records: [UInt8] = []
        /// Events the flusher took and is writing: still pending for the readers.
        var flushing: [Event] = []
        /// Invocations in flight as of the events before `flushing`.
        var inFlight: [String: Int] = [:]
    }

    /// What only the flusher's thread touches: the trace log's writer and the buffers it hands
    /// back to the request path, emptied but keeping their capacity.
    private struct Flusher {
        var writer: TraceLogWriter?
        var spareEvents: [Event] = []
        var spareRecords: [UInt8] = []
        /// Whether the last write to the trace log failed (warned once until one succeeds).
        var failing = false
    }

    private let store: StateStore
    private let traces: TraceLog
    private let logger: RuntimeLogger
    private let pending = Mutex(Pending())
    private let stopped = Atomic<Bool>(false)
    private let wake = WakeSignal()
    private let done = InFlight()

    public init(store: StateStore, traces: TraceLog, logger: RuntimeLogger) {
        self.store = store
        self.traces = traces
        self.logger = logger
    }

    /// Starts the flushing thread, which opens a new segment of the trace log (dropping
    /// segments older than a week).
    public func start() {
        done.enter()
        Threads.spawn(stackBytes: 512 * 1024) { [self] in
            var flusher = Flusher()
            do throws(TraceLogError) {
                flusher.writer = try TraceLogWriter(log: traces, now: Date().timeIntervalSince1970)
            } catch {
                logger.warning("invocations will not be traced: \(error)")
            }
            while !stopped.load(ordering: .relaxed) {
                wake.wait(until: Date().timeIntervalSince1970 + 0.25)
                flush(&flusher)
            }
            flush(&flusher)
            flusher.writer?.close()
            done.leave()
        }
    }

    /// Flushes what is pending and stops the thread.
    public func stop() {
        stopped.store(true, ordering: .relaxed)
        wake.signal()
        done.waitForZero(until: Date().timeIntervalSince1970 + 5)
    }

    /// An invocation began (counts it as in flight, for the status endpoint). A workflow
    /// execution's record is traced from its start; a function's only when it ends.
    public func began(_ record: InvocationRecord) {
        let event = Event(kind: .began, function: record.function)
        let traced = record.kind == "workflow"
        pending.withLock { p in
            p.events.append(event)
            if traced { TraceRecordCodec.append(record, to: &p.records) }
        }
    }

    /// An invocation ended: its final record and its counter.
    public func finished(_ record: InvocationRecord, counted: Bool = true) {
        let outcome = record.outcome
        let failed = outcome != Outcome.ok.rawValue && outcome != "completed" && outcome != Outcome.sleeping.rawValue
        let event = Event(kind: counted ? .finished : .finishedUncounted, function: record.function, failed: failed)
        pending.withLock { p in
            p.events.append(event)
            TraceRecordCodec.append(record, to: &p.records)
        }
    }

    /// A record that is not an invocation of a function (a workflow's status change).
    public func update(_ record: InvocationRecord) {
        pending.withLock { TraceRecordCodec.append(record, to: &$0.records) }
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
            }
        }
    }

    private static func counts(of events: [Event]) -> [String: InvocationCount] {
        var counts: [String: InvocationCount] = [:]
        for e in events where e.kind == .finished {
            counts[e.function, default: InvocationCount(invocations: 0, failures: 0)].invocations += 1
            if e.failed { counts[e.function, default: InvocationCount(invocations: 0, failures: 0)].failures += 1 }
        }
        return counts
    }

    /// Swaps the pending lists for the spare ones in O(1) under the lock (request threads
    /// append under it at 50k a second), writes the records and counts outside it, then moves
    /// the in-flight numbers and drops the events in one more O(1) step: a reader sees every
    /// event either in the lists or in `inFlight`, never in both or neither.
    private func flush(_ flusher: inout Flusher) {
        var events = flusher.spareEvents
        var records = flusher.spareRecords
        flusher.spareEvents = []
        flusher.spareRecords = []
        let base = pending.withLock { p -> [String: Int]? in
            guard !p.events.isEmpty || !p.records.isEmpty else { return nil }
            swap(&events, &p.events)
            swap(&records, &p.records)
            p.flushing = events
            return p.inFlight
        }
        guard let base else {
            flusher.spareEvents = events
            flusher.spareRecords = records
            return
        }
        var inFlight = base
        Self.apply(events, toInFlight: &inFlight)
        let counts = Self.counts(of: events)
        if !records.isEmpty, let writer = flusher.writer {
            do throws(TraceLogError) {
                try writer.append(records)
                flusher.failing = false
            } catch {
                if !flusher.failing { logger.warning("cannot trace invocations: \(error)") }
                flusher.failing = true
            }
        }
        do throws(StoreError) {
            if !counts.isEmpty { try store.recordInvocations(counts) }
        } catch {
            logger.warning("cannot count invocations: \(error)")
        }
        pending.withLock { p in
            p.inFlight = inFlight
            p.flushing = []
        }
        // The lists are now only the flusher's: emptied, they keep their capacity.
        events.removeAll(keepingCapacity: true)
        records.removeAll(keepingCapacity: true)
        flusher.spareEvents = events
        flusher.spareRecords = records
    }
}
