// Runtime engine: the runtime's output — one structured line per invocation (text or JSON), the
// program's `log(…)` lines, and notices. Every line passes through the secret redactor, so a
// secret value never reaches the terminal.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler
import Synchronization

/// How log lines look: `text` for people, `json` (one object per line) for tools.
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}

/// The outcome of one invocation, as logged and recorded for `infc trace`.
public enum Outcome: String, Sendable {
    /// Finished normally.
    case ok
    /// Raised an uncaught error (or answered 5xx).
    case error
    /// Ran past its timeout and was stopped.
    case timeout
    /// Refused before running (over its concurrency limit).
    case throttled
    /// A workflow execution that stopped at a `sleep`, to resume later.
    case sleeping
    /// Stopped by shutdown; resumes or is redelivered on the next start.
    case interrupted
}

/// Replaces secret values with a placeholder in any text about to leave the process.
public final class Redactor: Sendable {
    private let values = Mutex<[String]>([])
    public static let placeholder = "‹secret›"

    public init() {}

    /// Adds a value to hide (values shorter than 3 characters would hide too much and are kept).
    public func hide(_ value: String) {
        guard value.count >= 3 else { return }
        values.withLock { if !$0.contains(value) { $0.append(value); $0.sort { $0.count > $1.count } } }
    }

    public func redact(_ text: String) -> String {
        let secrets = values.withLock { $0 }
        var out = text
        for s in secrets where out.contains(s) { out = out.replacing(s, with: Self.placeholder) }
        return out
    }
}

/// Standard output for the runtime's lines. Whole lines are appended to a buffer under a lock
/// (so lines from different threads never interleave) and written by a flusher thread about
/// 10 ms after the first line of a batch, or as soon as 64 KB are waiting: a busy server makes
/// one `write` per batch, not one per request. A request thread never writes itself, so a slow
/// terminal or a full pipe cannot stall an event loop. While `limitBytes` are waiting
/// (standard output is read more slowly than lines come), further lines are dropped and
/// counted; the next line that fits carries the count back to the logger, which says so.
/// `flush()` writes what is pending.
final class BufferedStandardOutput: Sendable {
    static let shared = BufferedStandardOutput(descriptor: 1, limitBytes: 4 << 20)

    private struct Pending {
        var bytes: [UInt8] = []
        var dropped = 0
    }

    private let descriptor: Int32
    private let limitBytes: Int
    private let pending = Mutex(Pending())
    private let writing = Mutex(())
    private let wake = WakeSignal()
    private let started = Atomic<Bool>(false)
    private static let batchDelay = 0.010
    private static let flushAtBytes = 64 * 1024

    init(descriptor: Int32, limitBytes: Int) {
        self.descriptor = descriptor
        self.limitBytes = limitBytes
    }

    /// Queues one line. Returns how many lines were dropped before it for want of room (0 if
    /// none, and 0 when this one is dropped too).
    @discardableResult
    func write(line: String) -> Int {
        let size = line.utf8.count + 1
        let (dropped, wake) = pending.withLock { p -> (Int, Bool) in
            let before = p.bytes.count
            guard before + size <= limitBytes else {
                p.dropped += 1
                return (0, false)
            }
            p.bytes.append(contentsOf: line.utf8)
            p.bytes.append(10)
            defer { p.dropped = 0 }
            // The first line of a batch starts its delay; the line that fills 64 KB ends it.
            return (p.dropped, before == 0 || (before < Self.flushAtBytes && p.bytes.count >= Self.flushAtBytes))
        }
        if wake {
            startFlusher()
            self.wake.signal()
        }
        return dropped
    }

    /// Writes every pending byte now. One writer at a time, so batches leave in order.
    func flush() {
        writing.withLock { _ in
            let bytes = pending.withLock { p -> [UInt8] in
                defer { p.bytes.removeAll(keepingCapacity: true) }
                return p.bytes
            }
            _ = FileIO.writeAll(descriptor, bytes)  // a closed or broken output: nothing to do
        }
    }

    private func startFlusher() {
        guard !started.exchange(true, ordering: .sequentiallyConsistent) else { return }
        Threads.spawn(stackBytes: 256 * 1024) { [self] in
            while true {
                wake.wait(until: Date().timeIntervalSince1970 + 3600)  // the first line of a batch
                wake.wait(until: Date().timeIntervalSince1970 + Self.batchDelay)  // or 64 KB waiting
                flush()
            }
        }
    }
}

/// Writes the runtime's lines to standard output (through `BufferedStandardOutput`), or to a
/// sink of the caller's.
public final class RuntimeLogger: Sendable {
    public let format: LogFormat
    public let redactor: Redactor
    /// nil: standard output.
    private let sink: (@Sendable (String) -> Void)?

    public init(format: LogFormat, redactor: Redactor, sink: (@Sendable (String) -> Void)? = nil) {
        self.format = format
        self.redactor = redactor
        self.sink = sink
    }

    /// Writes pending lines now (before the process exits).
    public func flush() {
        if sink == nil { BufferedStandardOutput.shared.flush() }
    }

    /// A plain line (startup banner, notices); in JSON format it becomes `{"time","message"}`.
    public func notice(_ text: String) {
        switch format {
        case .text: emit(redactor.redact(text))
        case .json:
            emit(JSON.object(JSONObject([("time", .string(Self.timestamp())), ("level", "info"),
                                         ("message", .string(redactor.redact(text)))])).serialized())
        }
    }

    /// A warning about the runtime itself (store failures, a worker that cannot start).
    public func warning(_ text: String) {
        switch format {
        case .text: emit("warning: " + redactor.redact(text))
        case .json:
            emit(JSON.object(JSONObject([("time", .string(Self.timestamp())), ("level", "warning"),
                                         ("message", .string(redactor.redact(text)))])).serialized())
        }
    }

    /// The line for one finished invocation.
    public func invocation(function: String, trigger: String, durationMs: Double, outcome: Outcome,
                           trace: String, error: String? = nil, detail: String? = nil) {
        let time = Self.timestamp()
        let error = error.map { redactor.redact(oneLine($0)) }
        switch format {
        case .text:
            var line = "\(time) \(function) \(trigger) \(Self.duration(durationMs)) \(outcome.rawValue) trace=\(trace)"
            if let detail { line += " " + detail }
            if let error { line += " error: " + error }
            emit(line)
        case .json:
            var o = JSONObject()
            o["time"] = .string(time)
            o["function"] = .string(function)
            o["trigger"] = .string(trigger)
            o["durationMs"] = .number((durationMs * 10).rounded() / 10)
            o["outcome"] = .string(outcome.rawValue)
            o["trace"] = .string(trace)
            if let detail { o["detail"] = .string(detail) }
            if let error { o["error"] = .string(error) }
            emit(JSON.object(o).serialized())
        }
    }

    /// A `log(…)` line from the program.
    public func program(function: String, trace: String, text: String) {
        let text = redactor.redact(text)
        switch format {
        case .text: emit("\(Self.timestamp()) \(function) log trace=\(trace): \(text)")
        case .json:
            emit(JSON.object(JSONObject([("time", .string(Self.timestamp())), ("function", .string(function)),
                                         ("trace", .string(trace)), ("log", .string(text))])).serialized())
        }
    }

    private func emit(_ line: String) {
        if let sink { return sink(line) }
        let dropped = BufferedStandardOutput.shared.write(line: line)
        if dropped > 0 {
            warning("\(dropped) log line\(dropped == 1 ? " was" : "s were") dropped: standard output was not read as fast as "
                        + "the runtime wrote (a paused terminal or a full pipe)")
        }
    }

    /// `1.3ms` below 10 ms (one decimal), `42ms` above.
    public static func duration(_ ms: Double) -> String {
        guard ms.isFinite, ms >= 0 else { return "0.0ms" }
        if ms >= 10 { return "\(Int(ms.rounded()))ms" }
        let tenths = Int((ms * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)ms"
    }

    /// ISO 8601 UTC with milliseconds, e.g. `2026-12-01T21:07:56.196Z`.
    public static func timestamp(_ time: Double = Date().timeIntervalSince1970) -> String {
        var t = time_t(time)
        var parts = tm()
        gmtime_r(&t, &parts)
        let ms = min(999, max(0, Int((time - Double(t)) * 1000)))
        let fields: [(Int, Int, UInt8)] = [
            (Int(parts.tm_year) + 1900, 4, UInt8(ascii: "-")), (Int(parts.tm_mon) + 1, 2, UInt8(ascii: "-")),
            (Int(parts.tm_mday), 2, UInt8(ascii: "T")), (Int(parts.tm_hour), 2, UInt8(ascii: ":")),
            (Int(parts.tm_min), 2, UInt8(ascii: ":")), (Int(parts.tm_sec), 2, UInt8(ascii: ".")),
            (ms, 3, UInt8(ascii: "Z")),
        ]
        return String(unsafeUninitializedCapacity: 24) { out in
            var i = 0
            for (value, width, separator) in fields {
                var v = max(0, value)
                for k in stride(from: width - 1, through: 0, by: -1) {
                    out[i + k] = UInt8(ascii: "0") + UInt8(v % 10)
                    v /= 10
                }
                out[i + width] = separator
                i += width + 1
            }
            return i
        }
    }
}
