// Test support: the one loopback HTTP/1.1 client of the tests — a blocking connection to
// 127.0.0.1 with send and receive timeouts: raw bytes, one request after another on a kept-alive
// connection, or one request per connection (`HTTP.request`). Every read times out.
import Foundation
import Glibc
import InfcCompiler

public struct TestClientError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// A response as read off the wire.
public struct TestResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
    public var json: JSON? { try? JSON.parse(bytes: body) }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// One blocking TCP connection to 127.0.0.1:port.
public final class TestClient: @unchecked Sendable {
    public let fd: Int32
    private var pending: [UInt8] = []
    private var closed = false

    public convenience init(port: Int, timeout: Duration = .seconds(3)) throws {
        let (s, a) = timeout.components
        try self.init(port: port, seconds: Double(s) + Double(a) / 1e18)
    }

    public init(port: Int, seconds timeout: Double) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError(description: "socket failed") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            Glibc.close(fd)
            closed = true
            throw TestClientError(description: "cannot connect to 127.0.0.1:\(port) (errno \(errno))")
        }
    }

    deinit { close() }

    public func close() {
        if !closed {
            closed = true
            Glibc.close(fd)
        }
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw TestClientError(description: "send failed: \(errno)") }
            offset += n
        }
    }

    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads more bytes; false on EOF, throws on timeout or error.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            pending += chunk[0..<n]
            return true
        }
        if n == 0 { return false }
        throw TestClientError(description: errno == EAGAIN ? "read timed out" : "read failed: \(errno)")
    }

    /// Reads until the peer closes (a reset after some bytes counts as the end); throws when the
    /// receive timeout passes first.
    public func readToEnd() throws -> [UInt8] {
        while true {
            do {
                if try !fill() { break }
            } catch {
                if errno == ECONNRESET, !pending.isEmpty { break }
                throw TestClientError(description: "read failed or timed out (errno \(errno)) after \(pending.count) bytes")
            }
        }
        defer { pending = [] }
        return pending
    }

    /// Reads one response; `bodyless` for answers to HEAD. Skips 100 Continue.
    public func readResponse(bodyless: Bool = false) throws -> TestResponse {
        while true {
            var headEnd: Int?
            while true {
                if let i = HTTP.headEnd(in: pending) { headEnd = i; break }
                guard try fill() else { throw TestClientError(description: "connection closed before a response") }
            }
            guard let end = headEnd else { continue }
            let (status, headers) = try HTTP.head(Array(pending[0..<end]))
            pending.removeFirst(end)
            if status == 100 { continue }
            var response = TestResponse(status: status, headers: headers, body: [])
            let length = bodyless ? 0 : Int(response.header("Content-Length") ?? "0") ?? 0
            while pending.count < length {
                guard try fill() else { throw TestClientError(description: "connection closed inside a body") }
            }
            response.body = Array(pending[0..<length])
            pending.removeFirst(length)
            return response
        }
    }

    /// True when the server closed the connection (EOF, or reset) with nothing more to read.
    /// Whether a response byte or the server's close is already waiting, without waiting.
    public func hasDataOrClosed() -> Bool {
        if !pending.isEmpty { return true }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0
    }

    public func isClosedByServer() -> Bool {
        if !pending.isEmpty { return false }
        do { return try !fill() } catch { return errno == ECONNRESET }
    }

    /// Sends one request and reads its response.
    public func request(_ method: String, _ target: String, headers: [String] = [], body: String? = nil) throws -> TestResponse {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\n"
        for h in headers { text += h + "\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        try send(text)
        return try readResponse(bodyless: method == "HEAD")
    }
}

/// One request per connection, and the parsing of whole responses.
public enum HTTP {
    /// Sends one request with `Connection: close` on a new connection and reads its response.
    public static func request(_ method: String, port: Int, path: String, headers: [(String, String)] = [],
                               body: [UInt8] = [], timeout: Double = 15) throws -> TestResponse {
        let client = try TestClient(port: port, seconds: timeout)
        defer { client.close() }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if !body.isEmpty || method == "POST" || method == "PUT" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try client.send(Array(head.utf8) + body)
        return try parse(client.readToEnd())
    }

    /// Parses one complete response (read until the server closed).
    public static func parse(_ bytes: [UInt8]) throws -> TestResponse {
        guard let end = headEnd(in: bytes) else {
            throw TestClientError(description: "incomplete response: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        let (status, headers) = try head(Array(bytes[..<end]))
        var body = Array(bytes[end...])
        if let length = headers.first(where: { $0.name.lowercased() == "content-length" }).flatMap({ Int($0.value) }) {
            body = Array(body.prefix(length))
        }
        return TestResponse(status: status, headers: headers, body: body)
    }

    /// The status and headers of a response head (through its blank line).
    static func head(_ bytes: [UInt8]) throws -> (Int, [(name: String, value: String)]) {
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let statusParts = (lines.first ?? "").split(separator: " ")
        guard statusParts.count >= 2, statusParts[0] == "HTTP/1.1", let status = Int(statusParts[1]) else {
            throw TestClientError(description: "bad status line \(lines.first ?? "")")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return (status, headers)
    }

    /// The offset just past the first blank line (`\r\n\r\n`), if there is one.
    public static func headEnd(in bytes: [UInt8]) -> Int? {
        find([13, 10, 13, 10], in: bytes).map { $0 + 4 }
    }

    public static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count, let first = needle.first else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == first {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}
