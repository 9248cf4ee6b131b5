// HTTP client: HTTP/1.1 requests over POSIX sockets, HTTPS through OpenSSL, with kept-alive
// connections reused per scheme, host and port. No URLSession, so no libcurl: an executable that
// uses only this client links statically.
import Glibc
import Synchronization

public final class HTTPClient: Sendable {
    public struct Configuration: Sendable {
        /// Seconds a connect, and each read or write, may wait.
        public var timeout: Double = 30
        /// The CA bundle for HTTPS; nil: `SSL_CERT_FILE`, then `CABundle.searchPaths`.
        public var caFile: String?
        /// The largest response body accepted.
        public var maximumBodyBytes = 512 << 20
        /// Idle connections kept per host and port.
        public var maximumIdlePerHost = 8
        public init() {}
    }

    public let configuration: Configuration
    private let environment: [String: String]
    private let idle = Mutex<[String: [Connection]]>([:])
    private let tls = Mutex<TLSContext?>(nil)

    /// `environment` is consulted for `SSL_CERT_FILE` only.
    public init(configuration: Configuration = Configuration(), environment: [String: String] = [:]) {
        self.configuration = configuration
        self.environment = environment
        signal(SIGPIPE, SIG_IGN)   // OpenSSL writes with write(2): a reset peer must be an error, not the end
    }

    /// Sends `request` and reads the whole response. A `Host` header is added when missing, and
    /// `Content-Length` always. A kept-alive connection that turns out to be closed is replaced
    /// once, before any byte of a response has arrived.
    public func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        let head = try Self.head(of: request)
        let key = "\(request.url.scheme.rawValue)://\(request.url.host):\(request.url.port)"
        var attempt = 0
        while true {
            attempt += 1
            let (connection, reused) = try connection(for: request.url, key: key)
            do {
                try connection.write(head + request.body)
                let response = try read(from: connection, method: request.method)
                if connection.reusable { release(connection) } else { connection.close() }
                return response
            } catch {
                let stale = reused && connection.receivedBytes == 0 && attempt == 1
                connection.close()
                if stale, case .closed = error { continue }
                if stale, case .io = error { continue }
                throw error
            }
        }
    }

    static func head(of request: HTTPRequest) throws(HTTPClientError) -> [UInt8] {
        func valid(_ s: String, allowSpace: Bool) -> Bool {
            !s.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 || (!allowSpace && ($0 == 32 || $0 == 9)) })
        }
        guard !request.method.isEmpty, valid(request.method, allowSpace: false) else { throw .invalidRequest("method \(request.method)") }
        var text = "\(request.method) \(request.url.target) HTTP/1.1\r\n"
        if !request.headers.contains("Host") { text += "Host: \(request.url.authority)\r\n" }
        for (name, value) in request.headers where !HTTPHeaders.same(name, "Content-Length") {
            guard !name.isEmpty, valid(name, allowSpace: false), !name.contains(":"), valid(value, allowSpace: true) else {
                throw .invalidRequest("header \(name)")
            }
            text += "\(name): \(value)\r\n"
        }
        if !request.body.isEmpty || !["GET", "HEAD", "DELETE", "OPTIONS"].contains(request.method) {
            text += "Content-Length: \(request.body.count)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    private func connection(for url: HTTPURL, key: String) throws(HTTPClientError) -> (Connection, Bool) {
        if let c = idle.withLock({ $0[key]?.popLast() }) {
            c.resetForNextExchange()
            return (c, true)
        }
        let c = try Connection.open(url, key: key, timeout: configuration.timeout) { () throws(HTTPClientError) -> TLSContext in
            try tlsContext()
        }
        return (c, false)
    }

    private func release(_ connection: Connection) {
        let kept = idle.withLock { table -> Bool in
            var list = table[connection.key] ?? []
            guard list.count < configuration.maximumIdlePerHost else { return false }
            list.append(connection)
            table[connection.key] = list
            return true
        }
        if !kept { connection.close() }
    }

    private func tlsContext() throws(HTTPClientError) -> TLSContext {
        try tls.withLock { (slot: inout TLSContext?) throws(HTTPClientError) -> TLSContext in
            if let existing = slot { return existing }
            let file = configuration.caFile ?? CABundle.locate(environment: environment, exists: CABundle.fileExists)
            guard let file else { throw .noCertificates(searched: CABundle.searchPaths) }
            let context = try TLSContext(caFile: file)
            slot = context
            return context
        }
    }

    /// Closes every idle connection.
    public func closeIdleConnections() {
        let all = idle.withLock { table -> [Connection] in
            defer { table.removeAll() }
            return table.values.flatMap { $0 }
        }
        for c in all { c.close() }
    }

    // MARK: Responses

    private func read(from c: Connection, method: String) throws(HTTPClientError) -> HTTPResponse {
        var response: HTTPResponse
        var keepAlive: Bool
        repeat {
            (response, keepAlive) = try readHead(from: c)
        } while response.status >= 100 && response.status < 200 && response.status != 101
        let te = response.headers.values("Transfer-Encoding").joined(separator: ",").lowercased()
        if method == "HEAD" || response.status == 204 || response.status == 304 {
            response.body = []
        } else if te.contains("chunked") {
            response.body = try readChunked(from: c)
        } else if let lengthText = response.headers["Content-Length"] {
            guard let length = Int(lengthText.trimmingSpaces), length >= 0 else { throw .malformedResponse("Content-Length \(lengthText)") }
            guard length <= configuration.maximumBodyBytes else { throw .tooLarge("the response body (\(length) bytes)") }
            response.body = try c.read(count: length)
        } else {
            response.body = try c.readToEnd(limit: configuration.maximumBodyBytes)
            keepAlive = false
        }
        c.reusable = keepAlive && !c.hasBufferedBytes
        return response
    }

    private func readHead(from c: Connection) throws(HTTPClientError) -> (HTTPResponse, Bool) {
        let statusLine = String(decoding: try c.readLine(limit: 16384), as: UTF8.self)
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]) else {
            throw .malformedResponse("status line \(statusLine.prefix(80))")
        }
        var headers = HTTPHeaders()
        var total = 0
        while true {
            let line = try c.readLine(limit: 65536)
            if line.isEmpty { break }
            total += line.count
            if total > 262_144 { throw .tooLarge("the response headers") }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .malformedResponse("header line without a colon") }
            let name = String(decoding: line[..<colon], as: UTF8.self)
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingSpaces
            headers.add(name, value)
        }
        let connectionTokens = headers.values("Connection").joined(separator: ",").lowercased()
        let keepAlive = parts[0] == "HTTP/1.1" ? !connectionTokens.contains("close") : connectionTokens.contains("keep-alive")
        return (HTTPResponse(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers), keepAlive)
    }

    private func readChunked(from c: Connection) throws(HTTPClientError) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let line = String(decoding: try c.readLine(limit: 4096), as: UTF8.self)
            let sizeText = line.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingSpaces } ?? ""
            guard !sizeText.isEmpty, sizeText.count <= 15, let size = Int(sizeText, radix: 16), size >= 0 else {
                throw .malformedResponse("chunk size \(line.prefix(40))")
            }
            if size == 0 {
                while !(try c.readLine(limit: 65536)).isEmpty {}   // trailers
                return body
            }
            guard body.count + size <= configuration.maximumBodyBytes else { throw .tooLarge("the response body") }
            body += try c.read(count: size)
            guard try c.readLine(limit: 2).isEmpty else { throw .malformedResponse("a chunk longer than its size") }
        }
    }
}

extension String {
    var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" }) ?? first
        return String(scalars[first...last])
    }
}
