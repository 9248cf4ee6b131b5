// Runtime HTTP tests: a tiny blocking HTTP/1.1 client on raw sockets (127.0.0.1 only), and a
// helper that runs a server for the length of one test. Every read times out within seconds.

import Glibc
@testable import InfcRuntime

struct TestClientError: Error, CustomStringConvertible {
    var description: String
}

/// A response as read off the wire.
struct TestResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// One blocking TCP connection to 127.0.0.1:port.
final class TestClient {
    let fd: Int32
    private var pending: [UInt8] = []

    init(port: Int, timeout: Duration = .seconds(3)) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError(description: "socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw TestClientError(description: "connect failed: \(errno)")
        }
        Socket.setTimeout(fd, SO_RCVTIMEO, timeout)
        Socket.setTimeout(fd, SO_SNDTIMEO, timeout)
    }

    deinit { close(fd) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        let ok = bytes.withUnsafeBytes { Socket.writeAll(fd, $0) }
        if !ok { throw TestClientError(description: "send failed: \(errno)") }
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

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

    /// Reads one response; `bodyless` for answers to HEAD. Skips 100 Continue.
    func readResponse(bodyless: Bool = false) throws -> TestResponse {
        while true {
            var headEnd: Int?
            while true {
                if let i = findHeadEnd() { headEnd = i; break }
                guard try fill() else { throw TestClientError(description: "connection closed before a response") }
            }
            let head = String(decoding: pending[0..<headEnd!], as: UTF8.self)
            pending.removeFirst(headEnd!)
            var lines = head.split(separator: "\r\n", omittingEmptySubsequences: true)
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else {
                throw TestClientError(description: "bad status line in \(head)")
            }
            let headers = lines.map { line -> (name: String, value: String) in
                let colon = line.firstIndex(of: ":")!
                return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingSpaces)
            }
            if status == 100 { continue }
            var response = TestResponse(status: status, headers: headers, body: [])
            let length = bodyless ? 0 : Int(response.header("Content-Length") ?? "0")!
            while pending.count < length {
                guard try fill() else { throw TestClientError(description: "connection closed inside a body") }
            }
            response.body = Array(pending[0..<length])
            pending.removeFirst(length)
            return response
        }
    }

    /// True when the server closed the connection (EOF, or reset) with nothing more to read.
    func isClosedByServer() -> Bool {
        if !pending.isEmpty { return false }
        do { return try !fill() } catch { return errno == ECONNRESET }
    }

    private func findHeadEnd() -> Int? {
        guard pending.count >= 4 else { return nil }
        for i in 0...(pending.count - 4)
        where pending[i] == 13 && pending[i + 1] == 10 && pending[i + 2] == 13 && pending[i + 3] == 10 {
            return i + 4
        }
        return nil
    }

    /// Sends one request and reads its response.
    func request(_ method: String, _ target: String, headers: [String] = [], body: String? = nil) throws -> TestResponse {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\n"
        for h in headers { text += h + "\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        try send(text)
        return try readResponse(bodyless: method == "HEAD")
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

/// Runs `body` against a started server on an ephemeral port, then stops it.
func withServer(
    limits: HTTPLimits = HTTPLimits(lingerTimeout: .milliseconds(500)),
    handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse = echo,
    _ body: (Int) throws -> Void
) throws {
    let server = HTTPServer(port: 0, limits: limits, handler: handler)
    let port = try server.start()
    defer { server.stop(drainTimeout: .seconds(1)) }
    try body(port)
}

/// Answers with what it received, as `METHOD path ?query body`.
@Sendable func echo(_ request: HTTPRequest) -> HTTPResponse {
    let query = request.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    return .text("\(request.method) \(request.path) ?\(query) \(request.bodyText)")
}

func sleepMillis(_ ms: Int) { usleep(useconds_t(ms * 1000)) }

func monotonicMillis() -> Int { Int(Socket.now() / 1_000_000) }
