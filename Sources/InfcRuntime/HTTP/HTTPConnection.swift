// Runtime HTTP: one client connection as a state machine driven by readiness — the input
// buffer, the request being received (head, then body), pipelined requests, framed output,
// the connection's deadline, and the lingering close after a final response.

import Glibc
import Synchronization

/// The per-connection state. Exactly one thread works on a connection at a time: the one that
/// holds its claim (see `EventLoop`). The socket is non-blocking and edge-triggered: each
/// `work` reads until a read comes back short (the socket is drained) or, once the peer has
/// hung up, until the end of stream.
final class HTTPConnection: @unchecked Sendable {
    let id: UInt64
    let fd: Int32
    let loop: EventLoop
    /// Held by the one thread working on the connection.
    let claimed = Atomic<Bool>(false)
    /// Readiness seen while another thread held the claim; the holder serves it on release.
    let pending = Atomic<Bool>(false)
    /// The peer closed its side (or the socket failed): read to the end of stream.
    let hungUp = Atomic<Bool>(false)

    // Everything below is touched only under the claim.
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    /// Bytes after `start` already searched for the end of the head.
    private var scanned = 0
    private var output: [UInt8] = []
    private var writer = ResponseWriter()
    private var phase: Phase = .head(started: false)
    private var firstRequest = true
    /// When the current phase times out (monotonic nanoseconds).
    private(set) var deadline: Int64
    private(set) var isClosed = false

    private enum Phase {
        /// Waiting for a request head; `started` once a byte of it arrived.
        case head(started: Bool)
        /// A head is parsed and its body is arriving.
        case body(RequestInProgress)
        /// A final response is out and our side is shut; unread input is dropped until the
        /// client closes or the linger time passes, so that it sees the response, not a reset.
        case linger
    }

    private struct RequestInProgress {
        var head: HTTPRequestHead
        var path: String
        var rawQuery: Substring?
        var body: [UInt8] = []
        /// Set for chunked bodies; else the body has `head.contentLength` bytes.
        var decoder: ChunkedDecoder?
    }

    private enum Progress { case wait, done }

    init(id: UInt64, fd: Int32, loop: EventLoop) {
        self.id = id
        self.fd = fd
        self.loop = loop
        let limits = loop.limits
        buffer = [UInt8](repeating: 0, count: max(limits.maxHeaderBytes, ChunkedDecoder.maxSizeLine) + 4096)
        deadline = Socket.deadline(after: limits.headerReadTimeout)
    }

    private var limits: HTTPLimits { loop.limits }

    /// True while nothing of a next request has arrived (safe to close when stopping).
    var isIdle: Bool {
        if case .head(started: false) = phase { return start == end }
        if case .linger = phase { return true }
        return false
    }

    // MARK: Readiness

    /// Reads what arrived, serves every complete request, writes the answers; closes the
    /// connection at its end.
    func work(_ turn: LoopTurn) {
        guard !isClosed else { return }
        if case .linger = phase { return drainLinger() }
        var eof = false
        while true {
            compact()
            var filled = false
            if end < buffer.count {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + end, $0.count - end, 0) }
                if n > 0 {
                    end += n
                    // A short read drained the socket, unless the end of stream is behind it.
                    filled = end == buffer.count || hungUp.load(ordering: .sequentiallyConsistent)
                    noteInput()
                } else if n == 0 {
                    eof = true
                } else if errno == EINTR {
                    continue  // Edge-triggered: input left unread would raise no new event.
                } else if errno != EAGAIN && errno != EWOULDBLOCK {
                    return close()
                }
            }
            if serveBuffered(turn) == .done { return }
            if !filled { break }  // A full buffer may hide more input: read again.
        }
        guard flush(turn) else { return close() }
        // The client has sent everything: what is incomplete will never be.
        if eof { close() }
    }

    /// The deadline passed (called by the loop's timer, under the claim).
    func expire(_ turn: LoopTurn, now: Int64) {
        guard !isClosed, now >= deadline else { return }
        switch phase {
        case .head(started: false): close()
        case .head(started: true):
            fail(408, "request headers not received within \(limits.headerReadTimeout)", turn)
        case .body: fail(408, "request body not received within \(limits.bodyReadTimeout)", turn)
        case .linger: close()
        }
    }

    /// The server stops: an idle connection is closed at once; one receiving a request is
    /// left to finish (its response carries `Connection: close`).
    func stopIfIdle() {
        if !isClosed && isIdle { close() }
    }

    /// Shuts the socket down for good (the drain took too long); the next readiness closes it.
    func abort() {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    // MARK: Requests

    /// Serves the complete requests in the buffer. `.done` when the connection reached its
    /// end (a final response is out, or it closed).
    private func serveBuffered(_ turn: LoopTurn) -> Progress {
        while true {
            switch phase {
            case .linger:
                return .done
            case .head:
                // Empty lines before a request line are ignored (RFC 9112 §2.2).
                while start < end, buffer[start] == HTTPParser.cr || buffer[start] == HTTPParser.lf {
                    start += 1
                    scanned = 0
                }
                guard start < end else { return .wait }
                let found = buffer.withUnsafeBufferPointer { HTTPParser.findHeadEnd($0, from: start + scanned, to: end) }
                guard let headEnd = found else {
                    if end - start >= limits.maxHeaderBytes {
                        return fail(431, "request line and headers exceed \(limits.maxHeaderBytes) bytes", turn)
                    }
                    scanned = max(0, end - start - 3)
                    return .wait
                }
                if headEnd - start > limits.maxHeaderBytes {
                    return fail(431, "request line and headers exceed \(limits.maxHeaderBytes) bytes", turn)
                }
                let head: HTTPRequestHead
                do {
                    head = try buffer.withUnsafeBufferPointer { (all) throws(HTTPParseError) in
                        try HTTPParser.parseHead(UnsafeBufferPointer(rebasing: all[start..<headEnd]), limits: limits)
                    }
                } catch {
                    return fail(error.status, error.message, turn)
                }
                start = headEnd
                scanned = 0
                let (rawPath, rawQuery) = HTTPRequest.split(target: head.target)
                guard let path = PercentDecoding.decode(rawPath, plusAsSpace: false) else {
                    return fail(400, "malformed percent-encoding in the request path", turn)
                }
                var request = RequestInProgress(head: head, path: path, rawQuery: rawQuery)
                if head.chunked {
                    request.decoder = ChunkedDecoder(maxBodyBytes: limits.maxBodyBytes, maxTrailerBytes: limits.maxHeaderBytes)
                } else if let length = head.contentLength, length > 0 {
                    if length > limits.maxBodyBytes {
                        return fail(413, "request body exceeds \(limits.maxBodyBytes) bytes", turn)
                    }
                    request.body.reserveCapacity(length)
                } else {
                    if respond(to: request, turn) == .done { return .done }
                    continue
                }
                if head.expectContinue, head.minorVersion >= 1, start == end {
                    output.append(contentsOf: "HTTP/1.1 100 Continue\r\n\r\n".utf8)
                }
                phase = .body(request)
                deadline = Socket.deadline(after: limits.bodyReadTimeout)
            case .body(var request):
                phase = .head(started: true)  // Drop the enum's copy so `request.body` stays unique.
                if var decoder = request.decoder {
                    do {
                        let consumed = try buffer.withUnsafeBufferPointer { (all) throws(HTTPParseError) in
                            try decoder.feed(UnsafeBufferPointer(rebasing: all[start..<end]), into: &request.body)
                        }
                        start += consumed
                    } catch {
                        return fail(error.status, error.message, turn)
                    }
                    request.decoder = decoder
                    guard decoder.isDone else {
                        phase = .body(request)
                        return .wait
                    }
                } else {
                    let length = request.head.contentLength ?? 0
                    let take = min(length - request.body.count, end - start)
                    request.body.append(contentsOf: buffer[start..<(start + take)])
                    start += take
                    guard request.body.count == length else {
                        phase = .body(request)
                        return .wait
                    }
                }
                if respond(to: request, turn) == .done { return .done }
            }
        }
    }

    /// Calls the handler for a complete request and frames its response.
    private func respond(to request: RequestInProgress, _ turn: LoopTurn) -> Progress {
        let head = request.head
        let httpRequest = HTTPRequest(
            method: head.method, path: request.path, rawTarget: head.target,
            query: request.rawQuery.map(PercentDecoding.parseQuery) ?? [], headers: head.headers,
            body: request.body, version: head.version
        )
        turn.enterBusy()
        let response = loop.handler(httpRequest)
        turn.leaveBusy()
        let keepAlive = head.wantsKeepAlive && !loop.isStopping
        let connection: ResponseWriter.ConnectionHeader = keepAlive ? (head.minorVersion == 0 ? .keepAlive : .none) : .close
        writer.append(response, headOnly: head.method == "HEAD", connection: connection, to: &output)
        firstRequest = false
        phase = .head(started: false)
        deadline = Socket.deadline(after: limits.idleTimeout)
        if !keepAlive { return finish(turn) }
        if output.count >= 64 * 1024, !flush(turn) {
            close()
            return .done
        }
        return .wait
    }

    /// Answers with an error; the connection ends after it.
    @discardableResult
    private func fail(_ status: Int, _ message: String, _ turn: LoopTurn) -> Progress {
        writer.append(.error(status: status, message: message), headOnly: false, connection: .close, to: &output)
        return finish(turn)
    }

    /// Sends what is pending, half-closes, and lingers.
    private func finish(_ turn: LoopTurn) -> Progress {
        guard flush(turn), !loop.isStopping else {
            close()
            return .done
        }
        shutdown(fd, Int32(SHUT_WR))
        phase = .linger
        deadline = Socket.deadline(after: limits.lingerTimeout)
        drainLinger()
        return .done
    }

    /// Drops whatever the client still sends; closes at its end of stream.
    private func drainLinger() {
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            if n < 0 && errno == EINTR { continue }
            return close()
        }
    }

    // MARK: Buffers

    /// A byte arrived: the first byte of a head starts its timer; body bytes reset theirs.
    private func noteInput() {
        switch phase {
        case .head(started: false):
            phase = .head(started: true)
            // The first request's head must be complete within the limit from accept.
            if !firstRequest { deadline = Socket.deadline(after: limits.headerReadTimeout) }
        case .body: deadline = Socket.deadline(after: limits.bodyReadTimeout)
        case .head(started: true), .linger: break
        }
    }

    /// Moves unread input to the front when the tail is full.
    private func compact() {
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
    }

    /// Writes pending output, waiting (as a blocking operation of the loop) while the client's
    /// window is full. False when the client is gone or too slow to read.
    private func flush(_ turn: LoopTurn) -> Bool {
        if output.isEmpty { return true }
        let ok = output.withUnsafeBytes { bytes in
            Socket.writeAll(fd, bytes, deadline: Socket.deadline(after: limits.writeTimeout), turn: turn)
        }
        if output.capacity > 256 * 1024 { output = [] } else { output.removeAll(keepingCapacity: true) }
        return ok
    }

    /// Forgets the connection (so nothing touches a descriptor number that is reused), then
    /// closes it.
    private func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.remove(self)
    }
}
