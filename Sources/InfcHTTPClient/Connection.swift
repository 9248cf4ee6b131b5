// HTTP client: one TCP connection (plain or TLS) with a read buffer — name resolution, a connect
// bounded in time, and socket timeouts on every read and write.
import Glibc

/// Used by one exchange at a time: the idle pool hands it over whole.
final class Connection: @unchecked Sendable {
    let key: String
    private let fd: Int32
    private var tls: TLSSession?
    private var buffer: [UInt8] = []
    private var start = 0
    /// The response of the last exchange was complete and the server did not ask to close.
    var reusable = false
    private var closed = false
    /// Bytes received since the current exchange began.
    private(set) var receivedBytes = 0

    private init(key: String, fd: Int32) {
        self.key = key
        self.fd = fd
    }

    deinit { close() }

    /// Resolves `url.host`, connects to the first address that answers within `timeout`
    /// seconds, and for HTTPS handshakes with `tls`.
    static func open(_ url: HTTPURL, key: String, timeout: Double, tls: () throws(HTTPClientError) -> TLSContext) throws(HTTPClientError) -> Connection {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(url.host, String(url.port), &hints, &list)
        guard rc == 0, let first = list else {
            throw .resolve(host: url.host, reason: rc == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(list) }
        var lastReason = "no address"
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let info = node {
            node = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 { lastReason = String(cString: strerror(errno)); continue }
            if let reason = connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen, timeout: timeout) {
                Glibc.close(fd)
                lastReason = reason
                continue
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let connection = Connection(key: key, fd: fd)
            if url.scheme == .https {
                connection.tls = try TLSSession(context: try tls(), fd: fd, host: url.host)
            }
            return connection
        }
        throw .connect(host: url.host, port: url.port, reason: lastReason)
    }

    /// A non-blocking connect awaited with poll; nil when connected, else why not.
    private static func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t, timeout: Double) -> String? {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        if Glibc.connect(fd, address, length) == 0 { return nil }
        guard errno == EINPROGRESS else { return String(cString: strerror(errno)) }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        var rc: Int32
        repeat { rc = poll(&pfd, 1, Int32(clamping: Int(timeout * 1000))) } while rc < 0 && errno == EINTR
        if rc == 0 { return "timed out after \(timeout) s" }
        if rc < 0 { return String(cString: strerror(errno)) }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
        return error == 0 ? nil : String(cString: strerror(error))
    }

    func write(_ bytes: [UInt8]) throws(HTTPClientError) {
        var failure: HTTPClientError?
        bytes.withUnsafeBytes { raw in
            do throws(HTTPClientError) {
                if let tls { try tls.write(raw); return }
                var offset = 0
                while offset < raw.count {
                    let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                    if n > 0 { offset += n; continue }
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw .timedOut("sending") }
                    throw .io("sending: \(String(cString: strerror(errno)))")
                }
            } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Reads more bytes into the buffer; false at the end of the stream.
    private func fill() throws(HTTPClientError) -> Bool {
        if start > 0 && start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: 16384))
        var n = 0
        var failure: HTTPClientError?
        buffer.withUnsafeMutableBytes { raw in
            let target = UnsafeMutableRawBufferPointer(rebasing: raw[old...])
            do throws(HTTPClientError) {
                if let tls { n = try tls.read(target); return }
                while true {
                    let r = recv(fd, target.baseAddress, target.count, 0)
                    if r >= 0 { n = r; return }
                    if errno == EINTR { continue }
                    if errno == EAGAIN || errno == EWOULDBLOCK { throw .timedOut("waiting for the response") }
                    throw .io("receiving: \(String(cString: strerror(errno)))")
                }
            } catch { failure = error }
        }
        buffer.removeLast(16384 - n)
        receivedBytes += n
        if let failure { throw failure }
        return n > 0
    }

    /// Whether any byte has arrived since the request was sent.
    var hasBufferedBytes: Bool { start < buffer.count }

    /// The next line without its CRLF (or LF), at most `limit` bytes.
    func readLine(limit: Int) throws(HTTPClientError) -> [UInt8] {
        var scanned = start
        while true {
            if let nl = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = nl
                if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = Array(buffer[start..<end])
                start = nl + 1
                return line
            }
            let pending = buffer.count - start
            if pending > limit { throw .tooLarge("a response line or header") }
            guard try fill() else { throw hasReadAnything ? .malformedResponse("the connection ended inside the headers") : .closed }
            scanned = start + pending   // fill may have moved the unread bytes to the front
        }
    }

    private var hasReadAnything: Bool { receivedBytes > 0 }

    /// Exactly `count` bytes.
    func read(count: Int) throws(HTTPClientError) -> [UInt8] {
        while buffer.count - start < count {
            guard try fill() else { throw .malformedResponse("the connection ended inside the body") }
        }
        let bytes = Array(buffer[start..<(start + count)])
        start += count
        return bytes
    }

    /// Everything until the server closes, at most `limit` bytes.
    func readToEnd(limit: Int) throws(HTTPClientError) -> [UInt8] {
        repeat {
            if buffer.count - start > limit { throw .tooLarge("the response body") }
        } while try fill()
        if buffer.count - start > limit { throw .tooLarge("the response body") }
        let bytes = Array(buffer[start...])
        start = buffer.count
        return bytes
    }

    /// Forgets what was read for the previous exchange (a kept-alive connection starts clean).
    func resetForNextExchange() {
        buffer.removeAll(keepingCapacity: true)
        start = 0
        receivedBytes = 0
    }

    func close() {
        if closed { return }
        closed = true
        tls?.shutdown()
        tls = nil
        Glibc.close(fd)
    }
}
