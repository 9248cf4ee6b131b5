// Runtime state: the trace log — the invocation records `infc trace` shows, appended in a compact
// binary form to segment files under `<state>/traces/`, of which the newest few are kept.
// Observability only: nothing the runtime does depends on it, and a record lost to a crash
// loses no work. It is not in `state.db` so that recording 50,000 invocations a second costs
// one `write` per batch, not a SQLite transaction with three B-tree inserts per record.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler

/// One function invocation or workflow execution, as recorded for `infc trace`.
public struct InvocationRecord: Sendable, Hashable {
    public var id: String
    public var trace: String
    /// The invocation whose work started this one (a route that did `async`, a workflow step's
    /// execution), or nil for a root.
    public var parent: String?
    public var function: String
    /// `function` or `workflow`.
    public var kind: String
    /// What started it: `route POST /orders`, `queue charge-queue`, `step 3 of follow_up`…
    public var trigger: String
    public var startedAt: Double
    /// nil while it runs.
    public var durationMs: Double?
    /// ok, error, timeout, throttled, sleeping, interrupted, running, completed, failed.
    public var outcome: String
    public var error: String?

    public init(id: String, trace: String, parent: String?, function: String, kind: String, trigger: String,
                startedAt: Double, durationMs: Double?, outcome: String, error: String?) {
        self.id = id
        self.trace = trace
        self.parent = parent
        self.function = function
        self.kind = kind
        self.trigger = trigger
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.outcome = outcome
        self.error = error
    }
}

/// A trace log that cannot be read or written, in one line.
public struct TraceLogError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }

    static func io(_ what: String, _ path: String, _ code: Int32 = errno) -> TraceLogError {
        TraceLogError("cannot \(what) \(path): \(String(cString: strerror(code)))")
    }
}

/// The binary form of a record in a segment:
///
///     u32 payload length | u32 check (low half of the payload's FNV-1a) | payload
///     payload: u8 flags | f64 startedAt | f64 durationMs (flag 1) | id | trace | parent (flag 2)
///              | function | kind | trigger | outcome | error (flag 4)
///
/// A string is a u16 byte count and its UTF-8, at most `maxStringBytes` (a longer error
/// message is cut there, on a character boundary). Little-endian throughout. A record whose
/// length runs past the end of its file, or whose check fails, is a torn write: a segment is
/// read up to it and no further.
enum TraceRecordCodec {
    static let maxStringBytes = 4096
    static let headerBytes = 8
    /// The first bytes of every segment file.
    static let magic: [UInt8] = Array("infctrc1".utf8)

    private static let hasDuration: UInt8 = 1
    private static let hasParent: UInt8 = 2
    private static let hasError: UInt8 = 4

    static func append(_ r: InvocationRecord, to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: headerBytes))
        let flags = (r.durationMs == nil ? 0 : hasDuration) | (r.parent == nil ? 0 : hasParent) | (r.error == nil ? 0 : hasError)
        out.append(flags)
        put(r.startedAt.bitPattern, &out)
        if let d = r.durationMs { put(d.bitPattern, &out) }
        put(r.id, &out)
        put(r.trace, &out)
        if let p = r.parent { put(p, &out) }
        put(r.function, &out)
        put(r.kind, &out)
        put(r.trigger, &out)
        put(r.outcome, &out)
        if let e = r.error { put(e, &out) }
        let length = UInt32(out.count - start - headerBytes)
        let check = UInt32(truncatingIfNeeded: FNV1a.hash(out[(start + headerBytes)...]))
        for i in 0..<4 {
            out[start + i] = UInt8(truncatingIfNeeded: length >> (8 * i))
            out[start + 4 + i] = UInt8(truncatingIfNeeded: check >> (8 * i))
        }
    }

    private static func put(_ v: UInt64, _ out: inout [UInt8]) {
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }

    private static func put(_ s: String, _ out: inout [UInt8]) {
        let utf8 = s.utf8
        var n = utf8.count
        if n > maxStringBytes {
            n = maxStringBytes
            var cut = utf8.index(utf8.startIndex, offsetBy: n)
            while n > 0, utf8[cut] & 0xC0 == 0x80 {  // a continuation byte: the cut splits a character
                cut = utf8.index(before: cut)
                n -= 1
            }
        }
        out.append(UInt8(n & 0xFF))
        out.append(UInt8(n >> 8))
        out.append(contentsOf: utf8.prefix(n))
    }

    /// Calls `body` with the payload of each intact record of a segment file, in order, and
    /// the offset of the payload in the file.
    static func forEachPayload(in file: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer, Int) -> Void) {
        guard file.count >= magic.count, magic.indices.allSatisfy({ file[$0] == magic[$0] }) else { return }
        var at = magic.count
        while file.count - at >= headerBytes {
            let length = Int(u32(file, at))
            guard length <= file.count - at - headerBytes else { return }
            let payload = UnsafeRawBufferPointer(rebasing: file[(at + headerBytes)..<(at + headerBytes + length)])
            guard UInt32(truncatingIfNeeded: FNV1a.hash(payload)) == u32(file, at + 4) else { return }
            body(payload, at + headerBytes)
            at += headerBytes + length
        }
    }

    private static func u32(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }

    /// Reads the fields of one payload in order; every read is bounds-checked, so a payload
    /// that passed its check but is malformed (written by something else) reads as nil.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var at = 0
        var flags: UInt8 = 0

        init?(_ bytes: UnsafeRawBufferPointer) {
            guard !bytes.isEmpty else { return nil }
            self.bytes = bytes
            flags = bytes[0]
            at = 1
        }

        mutating func u64() -> UInt64? {
            guard bytes.count - at >= 8 else { return nil }
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(bytes[at + i]) << (8 * i) }
            at += 8
            return v
        }

        /// The next string's bytes.
        mutating func raw() -> UnsafeRawBufferPointer? {
            guard bytes.count - at >= 2 else { return nil }
            let n = Int(bytes[at]) | Int(bytes[at + 1]) << 8
            guard bytes.count - at - 2 >= n else { return nil }
            defer { at += 2 + n }
            return UnsafeRawBufferPointer(rebasing: bytes[(at + 2)..<(at + 2 + n)])
        }

        mutating func string() -> String? { raw().map { String(decoding: $0, as: UTF8.self) } }

        /// Reads up to the trace id and returns its bytes and where they start in the payload.
        mutating func startedAndTrace() -> (startedAt: Double, trace: UnsafeRawBufferPointer, offset: Int)? {
            guard let started = u64() else { return nil }
            if flags & hasDuration != 0, u64() == nil { return nil }
            guard raw() != nil else { return nil }
            let offset = at + 2
            guard let trace = raw() else { return nil }
            return (Double(bitPattern: started), trace, offset)
        }
    }

    static func decode(_ payload: UnsafeRawBufferPointer) -> InvocationRecord? {
        guard var r = Reader(payload), let started = r.u64() else { return nil }
        var duration: Double?
        if r.flags & hasDuration != 0 {
            guard let d = r.u64() else { return nil }
            duration = Double(bitPattern: d)
        }
        guard let id = r.string(), let trace = r.string() else { return nil }
        var parent: String?
        if r.flags & hasParent != 0 {
            guard let p = r.string() else { return nil }
            parent = p
        }
        guard let function = r.string(), let kind = r.string(), let trigger = r.string(), let outcome = r.string()
        else { return nil }
        var error: String?
        if r.flags & hasError != 0 {
            guard let e = r.string() else { return nil }
            error = e
        }
        return InvocationRecord(id: id, trace: trace, parent: parent, function: function, kind: kind, trigger: trigger,
                                startedAt: Double(bitPattern: started), durationMs: duration, outcome: outcome, error: error)
    }

    /// The root function of a payload (after its trace id): for the list of recent traces.
    static func function(_ payload: UnsafeRawBufferPointer) -> String? {
        guard var r = Reader(payload), r.startedAndTrace() != nil else { return nil }
        if r.flags & hasParent != 0, r.raw() == nil { return nil }
        return r.string()
    }
}

/// The trace log of a state directory: segment files `00000001.trace`, `00000002.trace`… in
/// `directory`. Each runtime start begins a new segment, and a segment is closed once it
/// reaches `segmentBytes`; only the newest `keptSegments` are kept (64 MiB by default, about
/// 600,000 invocations), and none older than `maxAge`. Readers (`infc trace`) scan the
/// segments, so they can run while a runtime appends.
public struct TraceLog: Sendable {
    public let directory: String
    public let segmentBytes: Int
    public let keptSegments: Int
    public static let maxAge: Double = 7 * 86_400

    /// The trace log of the runtime that keeps its state in `stateDirectory`.
    public init(stateDirectory: String) { self.init(directory: stateDirectory + "/traces") }

    public init(directory: String, segmentBytes: Int = 8 << 20, keptSegments: Int = 8) {
        self.directory = directory
        self.segmentBytes = segmentBytes
        self.keptSegments = max(1, keptSegments)
    }

    /// The directory's segments, oldest first.
    func segments() -> [(number: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var out: [(number: Int, path: String)] = []
        for name in names where name.hasSuffix(".trace") {
            let digits = name.dropLast(".trace".count)
            guard digits.count >= 8, let number = Int(digits) else { continue }
            out.append((number, directory + "/" + name))
        }
        return out.sorted { $0.number < $1.number }
    }

    /// The contents of every segment, oldest first.
    private func files() throws(TraceLogError) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for segment in segments() {
            if let bytes = try Self.contents(of: segment.path) { out.append(bytes) }
        }
        return out
    }

    /// Calls `body` with every intact record payload, oldest segment first.
    private func forEachPayload(_ body: (UnsafeRawBufferPointer) -> Void) throws(TraceLogError) {
        for file in try files() {
            file.withUnsafeBytes { TraceRecordCodec.forEachPayload(in: $0) { payload, _ in body(payload) } }
        }
    }

    /// The records of one trace, merged by invocation (its first record's identity, its latest
    /// outcome), by start time. `trace` may be a unique prefix (4 characters or more) of an id.
    public func records(trace: String) throws(TraceLogError) -> [InvocationRecord] {
        let wanted = Array(trace.utf8)
        var exact: [InvocationRecord] = []
        var prefixed: [String: [InvocationRecord]] = [:]
        try forEachPayload { payload in
            guard var reader = TraceRecordCodec.Reader(payload), let (_, id, _) = reader.startedAndTrace() else { return }
            if id.elementsEqual(wanted) {
                if let r = TraceRecordCodec.decode(payload) { exact.append(r) }
            } else if exact.isEmpty, wanted.count >= 4, id.count > wanted.count, id.starts(with: wanted) {
                let key = String(decoding: id, as: UTF8.self)
                // Two traces share the prefix: it is ambiguous, whatever else turns up.
                guard prefixed[key] != nil || prefixed.count < 2, let r = TraceRecordCodec.decode(payload) else { return }
                prefixed[key, default: []].append(r)
            }
        }
        let found = !exact.isEmpty ? exact : (prefixed.count == 1 ? prefixed.first?.value ?? [] : [])
        return Self.merged(found).sorted { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }
    }

    /// The most recent traces, newest first, with the function of each one's first record
    /// (ties in time by trace id, descending).
    ///
    /// A full log holds about 600,000 records: the scan keys each trace by the FNV-1a hash of
    /// its id and keeps where its first record is, making strings only for the traces listed.
    /// Two ids with one hash are told apart by their bytes.
    public func recentTraces(limit: Int) throws(TraceLogError) -> [(trace: String, startedAt: Double, function: String)] {
        /// A trace's earliest record: its start, and where its payload and id are in `files`.
        struct First {
            var startedAt: Double
            var file: Int
            var payload: Range<Int>
            var trace: Range<Int>
        }
        let files = try files()
        var firsts: [UInt64: First] = [:]
        var collided: [String: First] = [:]
        for (index, file) in files.enumerated() {
            file.withUnsafeBytes { bytes in
                TraceRecordCodec.forEachPayload(in: bytes) { payload, offset in
                    guard var reader = TraceRecordCodec.Reader(payload), let (started, id, at) = reader.startedAndTrace()
                    else { return }
                    let here = First(startedAt: started, file: index, payload: offset..<(offset + payload.count),
                                     trace: (offset + at)..<(offset + at + id.count))
                    let key = FNV1a.hash(id)
                    guard let seen = firsts[key] else { return firsts[key] = here }
                    let same = files[seen.file].withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[seen.trace]).elementsEqual(id) }
                    if same {
                        if started < seen.startedAt { firsts[key] = here }
                    } else {
                        let name = String(decoding: id, as: UTF8.self)
                        if let other = collided[name], other.startedAt <= started { return }
                        collided[name] = here
                    }
                }
            }
        }
        let all = Array(firsts.values) + Array(collided.values)
        guard limit > 0, !all.isEmpty else { return [] }
        // Everything at least as recent as the limit-th start, ties included, then by id.
        let threshold = all.map(\.startedAt).sorted(by: >)[min(limit, all.count) - 1]
        let listed = all.filter { $0.startedAt >= threshold }.map { first in
            files[first.file].withUnsafeBytes { bytes in
                (trace: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[first.trace]), as: UTF8.self),
                 startedAt: first.startedAt,
                 function: TraceRecordCodec.function(UnsafeRawBufferPointer(rebasing: bytes[first.payload])) ?? "?")
            }
        }
        return Array(listed.sorted { ($0.startedAt, $0.trace) > ($1.startedAt, $1.trace) }.prefix(limit))
    }

    /// Merges the records of one id: the first record's identity (parent, trigger, start)
    /// with the latest outcome. Keeps first-appearance order.
    static func merged(_ records: [InvocationRecord]) -> [InvocationRecord] {
        var index: [String: Int] = [:]
        var out: [InvocationRecord] = []
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

    /// A whole file, or nil when it does not exist (a writer may have just removed it).
    static func contents(of path: String) throws(TraceLogError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw .io("open", path)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io("read", path) }
        // The size when opened: a record appended meanwhile is read next time.
        let size = max(0, Int(info.st_size))
        var failure: Int32?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            guard let base = buffer.baseAddress else { return }
            while count < size {
                let n = read(fd, base + count, size - count)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failure = errno }
                if n <= 0 { return }
                count += n
            }
        }
        if let failure { throw .io("read", path, failure) }
        return bytes
    }
}

/// Appends batches of encoded records to a trace log. Used by one thread at a time (the
/// invocation recorder's flusher).
final class TraceLogWriter {
    let log: TraceLog
    private var fd: Int32 = -1
    private var number = 0
    private var written = 0

    /// Opens a new segment after the newest one, first removing segments older than
    /// `TraceLog.maxAge` at `now` and the oldest beyond the number kept.
    init(log: TraceLog, now: Double) throws(TraceLogError) {
        self.log = log
        do {
            try FileManager.default.createDirectory(atPath: log.directory, withIntermediateDirectories: true)
        } catch {
            throw TraceLogError("cannot create \(log.directory): \(FileIO.message(error))")
        }
        for segment in log.segments() {
            var info = stat()
            if stat(segment.path, &info) == 0, Double(info.st_mtim.tv_sec) < now - TraceLog.maxAge { unlink(segment.path) }
        }
        try openNext()
    }

    deinit { close() }

    /// Appends whole records (`TraceRecordCodec.append`); starts the next segment when this
    /// one is full. After a failed write the segment may end in a torn record, so the next
    /// batch goes to a new segment.
    func append(_ bytes: [UInt8]) throws(TraceLogError) {
        if fd < 0 { try openNext() }
        let failure = FileIO.writeAll(fd, bytes)
        if let failure {
            close()
            throw .io("write to", segmentPath(number), failure)
        }
        written += bytes.count
        if written >= log.segmentBytes {
            close()
            try openNext()
        }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    private func segmentPath(_ number: Int) -> String {
        let digits = String(number)
        return log.directory + "/" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits + ".trace"
    }

    private func openNext() throws(TraceLogError) {
        mkdir(log.directory, 0o755)  // again, in case it was removed while the runtime ran
        let existing = log.segments()
        number = max(number, existing.last?.number ?? 0) + 1
        for old in existing.dropLast(log.keptSegments - 1) { unlink(old.path) }
        let path = segmentPath(number)
        let opened = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
        guard opened >= 0 else { throw .io("create", path) }
        fd = opened
        written = 0
        try append(TraceRecordCodec.magic)
    }
}
