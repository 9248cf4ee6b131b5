// Language server: JSON-RPC 2.0 framing over byte streams (`Content-Length` headers). The
// reader recovers from any garbage by resynchronising on the next `Content-Length` header; the
// writer frames whole messages atomically so that two threads never interleave their bytes.
import Foundation
import InfcCompiler

/// JSON-RPC error codes (JSON-RPC 2.0 and LSP 3.17).
public enum RPCErrorCode: Int, Sendable {
    case parseError = -32700
    case invalidRequest = -32600
    case methodNotFound = -32601
    case invalidParams = -32602
    case internalError = -32603
    case serverNotInitialized = -32002
    case requestCancelled = -32800
    case requestFailed = -32803
}

/// One frame read off the input: a body, or a header block the reader had to give up on.
enum Frame: Equatable {
    /// The bytes of one message body, exactly `Content-Length` long.
    case body([UInt8])
    /// A header block without a usable `Content-Length` (skipped; the reader resynchronises).
    case malformedHeader
}

/// Splits a byte stream into frames. Pure: bytes go in with `append`, frames come out of
/// `nextFrame`, so the framing rules are testable without file descriptors.
struct FrameDecoder {
    /// Bodies larger than this are refused (their header is skipped) rather than buffered.
    static let maxBodyLength = 64 << 20
    /// A header block longer than this is garbage; all but its tail is dropped.
    static let maxHeaderLength = 16 << 10

    private var buffer: [UInt8] = []
    private var start = 0
    /// The body length of a header already parsed, while its body is still arriving.
    private var pendingLength: Int?

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Bytes received but not yet returned as a frame.
    var pendingByteCount: Int { buffer.count - start }

    /// The next complete frame, or nil when more bytes are needed.
    mutating func nextFrame() -> Frame? {
        if let length = pendingLength {
            guard buffer.count - start >= length else { return nil }
            let body = Array(buffer[start..<start + length])
            start += length
            pendingLength = nil
            return .body(body)
        }
        guard let end = headerEnd() else {
            dropOverlongGarbage()
            return nil
        }
        let header = buffer[start..<end.headerEnd]
        start = end.bodyStart
        guard let length = FrameDecoder.contentLength(in: header), length <= FrameDecoder.maxBodyLength else {
            return .malformedHeader
        }
        pendingLength = length
        return nextFrame()
    }

    /// Finds the blank line ending a header block: `\r\n\r\n`, or a bare `\n\n` from lax clients.
    private func headerEnd() -> (headerEnd: Int, bodyStart: Int)? {
        var i = start
        let lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        while i < buffer.count {
            if buffer[i] == lf {
                // A line feed followed by an optional carriage return and another line feed.
                var j = i + 1
                if j < buffer.count && buffer[j] == cr { j += 1 }
                if j < buffer.count && buffer[j] == lf { return (i, j + 1) }
            }
            i += 1
        }
        return nil
    }

    /// Without any header end in sight, keep only the tail that might begin a real header.
    private mutating func dropOverlongGarbage() {
        let count = buffer.count - start
        guard count > FrameDecoder.maxHeaderLength else { return }
        start = buffer.count - 64
    }

    /// The value of the last `Content-Length:` in a header block, matched case-insensitively
    /// anywhere on a line, so garbage glued before a real header does not hide it. Other
    /// headers (`Content-Type`) are ignored.
    static func contentLength(in header: ArraySlice<UInt8>) -> Int? {
        let needle = Array("content-length:".utf8)
        let bytes = Array(header)
        var found: Int?
        var i = 0
        while i + needle.count <= bytes.count {
            var match = true
            for k in 0..<needle.count where lowercase(bytes[i + k]) != needle[k] {
                match = false
                break
            }
            if match {
                var j = i + needle.count
                while j < bytes.count && (bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t")) { j += 1 }
                var value = 0, digits = 0
                while j < bytes.count, bytes[j] >= UInt8(ascii: "0"), bytes[j] <= UInt8(ascii: "9"), digits < 12 {
                    value = value * 10 + Int(bytes[j] - UInt8(ascii: "0"))
                    digits += 1
                    j += 1
                }
                let rest = j < bytes.count ? bytes[j] : UInt8(ascii: "\r")
                found = digits > 0 && (rest == UInt8(ascii: "\r") || rest == UInt8(ascii: "\n") || rest == UInt8(ascii: " ")) ? value : nil
                i = j
            } else {
                i += 1
            }
        }
        return found
    }

    private static func lowercase(_ b: UInt8) -> UInt8 {
        b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b + 32 : b
    }
}

/// Reads frames from a file descriptor; `nil` at end of input or on a read error.
final class MessageReader {
    private let fd: Int32
    private var decoder = FrameDecoder()
    private var chunk = [UInt8](repeating: 0, count: 64 << 10)
    private var atEnd = false

    init(fd: Int32) { self.fd = fd }

    func next() -> Frame? {
        while true {
            if let frame = decoder.nextFrame() { return frame }
            if atEnd { return nil }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                atEnd = true
                continue
            }
            chunk.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}

/// Writes framed messages to a file descriptor; safe to call from any thread.
public final class MessageWriter: @unchecked Sendable {
    private let fd: Int32
    private let lock = Lock()
    private var broken = false

    public init(fd: Int32) { self.fd = fd }

    public func send(_ message: JSON) {
        let body = Array(message.serialized().utf8)
        let frame = Array("Content-Length: \(body.count)\r\n\r\n".utf8) + body
        lock.withLock {
            guard !broken else { return }
            var offset = 0
            while offset < frame.count {
                let n = frame.withUnsafeBytes { write(fd, $0.baseAddress! + offset, frame.count - offset) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    broken = true   // the client has gone; the reader will see end of input
                    return
                }
                offset += n
            }
        }
    }
}

/// A mutex with a closure interface.
final class Lock: @unchecked Sendable {
    private let lock = NSLock()

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
