// Runtime HTTP: one client connection, served on its own thread — read requests (keep-alive,
// pipelined, Content-Length or chunked bodies), call the handler, write framed responses.

import Glibc

/// The per-connection request loop. It owns the socket's input buffer and output bytes;
/// the server owns the socket itself (it closes it once `run()` returns).
final class HTTPConnection {
    /// How the connection ended: `linger` means a response was sent and the socket was
    /// half-closed and drained, so the server only has to close it.
    enum Ending { case abort, linger }

    private let fd: Int32
    private let limits: HTTPLimits
    private let handler: @Sendable (HTTPRequest) -> HTTPResponse
    private let slot: ConnectionSlot
    private let isStopping: () -> Bool

    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var output: [UInt8] = []
    private var writer = ResponseWriter()

    init(
        fd: Int32, limits: HTTPLimits, slot: ConnectionSlot,
        handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse, isStopping: @escaping () -> Bool
    ) {
        self.fd = fd
        self.limits = limits
        self.slot = slot
        self.handler = handler
        self.isStopping = isStopping
        buffer = [UInt8](repeating: 0, count: max(limits.maxHeaderBytes, ChunkedDecoder.maxSizeLine) + 4096)
        output.reserveCapacity(4096)
    }

    /// Serves requests until the client leaves, a limit is hit, or the server stops.
    func run() -> Ending {
        var firstRequest = true
        let acceptDeadline = Socket.deadline(after: limits.headerReadTimeout)
        while true {
            // 1. The head: wait (idle) for a first byte, then for the whole head within the limit.
            let idleDeadline = firstRequest ? acceptDeadline : Socket.deadline(after: limits.idleTimeout)
            var headDeadline: Int64? = firstRequest ? acceptDeadline
                : start < end ? Socket.deadline(after: limits.headerReadTimeout) : nil  // Pipelined bytes.
            var scanned = 0  // Bytes after `start` already searched for the end of the head.
            var headEnd = 0
            while true {
                if start < end, buffer[start] == HTTPParser.cr || buffer[start] == HTTPParser.lf {
                    // Empty lines before a request line are ignored (RFC 9112 §2.2).
                    while start < end, buffer[start] == HTTPParser.cr || buffer[start] == HTTPParser.lf { start += 1 }
                    scanned = 0
                }
                if let found = buffer.withUnsafeBufferPointer({ HTTPParser.findHeadEnd($0, from: start + scanned, to: end) }) {
                    headEnd = found
                    if headEnd - start > limits.maxHeaderBytes {
                        return fail(431, "request line and headers exceed \(limits.maxHeaderBytes) bytes")
                    }
                    break
                }
                if end - start >= limits.maxHeaderBytes {
                    return fail(431, "request line and headers exceed \(limits.maxHeaderBytes) bytes")
                }
                scanned = max(0, end - start - 3)
                guard flush() else { return .abort }
                let idle = start == end
                if idle {
                    slot.idle.store(true, ordering: .sequentiallyConsistent)
                    if isStopping() { return .abort }
                }
                let result = fill(deadline: headDeadline ?? idleDeadline)
                if idle { slot.idle.store(false, ordering: .sequentiallyConsistent) }
                switch result {
                case .bytes:
                    if headDeadline == nil { headDeadline = Socket.deadline(after: limits.headerReadTimeout) }
                case .timeout:
                    if idle { return .abort }
                    return fail(408, "request headers not received within \(limits.headerReadTimeout)")
                case .eof, .failed:
                    return .abort
                }
            }

            // 2. Parse the head.
            let head: HTTPRequestHead
            do {
                head = try buffer.withUnsafeBufferPointer { (all) throws(HTTPParseError) in
                    try HTTPParser.parseHead(UnsafeBufferPointer(rebasing: all[start..<headEnd]), limits: limits)
                }
            } catch {
                return fail(error.status, error.message)
            }
            start = headEnd
            let (rawPath, rawQuery) = HTTPRequest.split(target: head.target)
            guard let path = PercentDecoding.decode(rawPath, plusAsSpace: false) else {
                return fail(400, "malformed percent-encoding in the request path")
            }

            // 3. The body.
            var body: [UInt8] = []
            if head.chunked || (head.contentLength ?? 0) > 0 {
                if let length = head.contentLength, length > limits.maxBodyBytes {
                    return fail(413, "request body exceeds \(limits.maxBodyBytes) bytes")
                }
                if head.expectContinue, head.minorVersion >= 1, start == end {
                    output.append(contentsOf: "HTTP/1.1 100 Continue\r\n\r\n".utf8)
                }
                do {
                    body = try head.chunked ? readChunkedBody() : readBody(length: head.contentLength!)
                } catch let error as HTTPParseError {
                    return fail(error.status, error.message)
                } catch {
                    return .abort
                }
            }

            // 4. Handle and answer.
            let request = HTTPRequest(
                method: head.method, path: path, rawTarget: head.target,
                query: rawQuery.map(PercentDecoding.parseQuery) ?? [], headers: head.headers,
                body: body, version: head.version
            )
            let response = handler(request)
            let keepAlive = head.wantsKeepAlive && !isStopping()
            let connection: ResponseWriter.ConnectionHeader = keepAlive ? (head.minorVersion == 0 ? .keepAlive : .none) : .close
            writer.append(response, headOnly: head.method == "HEAD", connection: connection, to: &output)
            if !keepAlive {
                guard flush() else { return .abort }
                linger()
                return .linger
            }
            if output.count >= 64 * 1024 { guard flush() else { return .abort } }
            firstRequest = false
        }
    }

    /// Answers with an error, half-closes and drains: the connection ends after it.
    private func fail(_ status: Int, _ message: String) -> Ending {
        writer.append(.error(status: status, message: message), headOnly: false, connection: .close, to: &output)
        guard flush() else { return .abort }
        linger()
        return .linger
    }

    /// Drains the client's leftovers after a final response. The response is already out, so
    /// the connection counts as idle: a stopping server may cut the drain short.
    private func linger() {
        slot.idle.store(true, ordering: .sequentiallyConsistent)
        if isStopping() { return }
        Socket.lingeringDrain(fd, linger: limits.lingerTimeout)
    }

    /// Writes pending output. False when the client is gone or too slow to read.
    private func flush() -> Bool {
        if output.isEmpty { return true }
        let ok = output.withUnsafeBytes { Socket.writeAll(fd, $0) }
        if output.capacity > 256 * 1024 { output = [] } else { output.removeAll(keepingCapacity: true) }
        return ok
    }

    /// Reads more input into the buffer, compacting it first when the tail is full.
    private func fill(deadline: Int64) -> Socket.ReadResult {
        if start == end {
            start = 0
            end = 0
        } else if end == buffer.count, start > 0 {
            buffer.withUnsafeMutableBufferPointer { b in
                _ = memmove(b.baseAddress!, b.baseAddress! + start, end - start)
            }
            end -= start
            start = 0
        }
        precondition(end < buffer.count, "HTTP input buffer full: a limit check is missing")
        let result = buffer.withUnsafeMutableBytes { b in
            Socket.read(fd, into: b.baseAddress! + end, count: b.count - end, deadline: deadline)
        }
        if case .bytes(let n) = result { end += n }
        return result
    }

    private struct ClientGone: Error {}

    private func bodyTimeout() -> HTTPParseError {
        HTTPParseError(status: 408, message: "request body not received within \(limits.bodyReadTimeout)")
    }

    /// Reads exactly `length` body bytes: first from the buffer, then straight from the socket.
    private func readBody(length: Int) throws -> [UInt8] {
        var body = [UInt8](repeating: 0, count: length)
        let fromBuffer = min(length, end - start)
        body.withUnsafeMutableBytes { dst in
            buffer.withUnsafeBytes { src in
                dst.baseAddress!.copyMemory(from: src.baseAddress! + start, byteCount: fromBuffer)
            }
        }
        start += fromBuffer
        var filled = fromBuffer
        while filled < length {
            guard flush() else { throw ClientGone() }
            let result = body.withUnsafeMutableBytes { dst in
                Socket.read(fd, into: dst.baseAddress! + filled, count: length - filled,
                            deadline: Socket.deadline(after: limits.bodyReadTimeout))
            }
            switch result {
            case .bytes(let n): filled += n
            case .timeout: throw bodyTimeout()
            case .eof, .failed: throw ClientGone()
            }
        }
        return body
    }

    private func readChunkedBody() throws -> [UInt8] {
        var decoder = ChunkedDecoder(maxBodyBytes: limits.maxBodyBytes, maxTrailerBytes: limits.maxHeaderBytes)
        var body: [UInt8] = []
        while true {
            let consumed = try buffer.withUnsafeBufferPointer { (all) throws(HTTPParseError) in
                try decoder.feed(UnsafeBufferPointer(rebasing: all[start..<end]), into: &body)
            }
            start += consumed
            if decoder.isDone { return body }
            guard flush() else { throw ClientGone() }
            switch fill(deadline: Socket.deadline(after: limits.bodyReadTimeout)) {
            case .bytes: continue
            case .timeout: throw bodyTimeout()
            case .eof, .failed: throw ClientGone()
            }
        }
    }
}
