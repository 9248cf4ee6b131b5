// Runtime HTTP: the HTTP/1.1 server — listens on 127.0.0.1 only, accepts on one thread, serves
// connections from a few epoll event loops, and stops by draining in-flight requests.

import Glibc
import Synchronization

/// An HTTP/1.1 server on POSIX sockets, bound to 127.0.0.1 only.
///
/// Threading: one accept thread hands each connection to one of a few `EventLoop`s (one per
/// core, at most 8), whose thread reads, parses, runs the handler and writes inline — no
/// thread switch per request. A slow or silent client costs nothing while it waits; a handler
/// that blocks is covered by the watchdog, which gives its loop to a new thread after
/// `EventLoop.stallNanoseconds`. Requests on one connection are handled once each, in order.
///
/// Call `stop(drainTimeout:)` before dropping the server: its threads keep it alive.
public final class HTTPServer: Sendable {
    /// The only address the runtime ever listens on.
    public static let host = "127.0.0.1"

    public let limits: HTTPLimits
    private let requestedPort: Int
    private let handler: @Sendable (HTTPRequest) -> HTTPResponse
    private let stopping = Atomic<Bool>(false)
    private let state = Mutex(State())

    private struct State {
        var phase = Phase.new
        var port = 0
        var wakeWriteFD: Int32 = -1
        var acceptLoopDone = false
        var watchdogDone = false
        var loops: [EventLoop] = []
        var loopsRunning = 0
        var nextConnection: UInt64 = 1
    }

    private enum Phase { case new, running, stopped }

    /// - Parameters:
    ///   - port: the TCP port on 127.0.0.1; 0 picks a free ephemeral port.
    ///   - handler: called once per request, on an event loop's thread (see `EventLoop`).
    public init(port: Int, limits: HTTPLimits = HTTPLimits(), handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.requestedPort = port
        self.limits = limits
        self.handler = handler
    }

    /// The bound port once started, else nil.
    public var port: Int? {
        state.withLock { $0.phase == .running ? $0.port : nil }
    }

    /// Connections currently open.
    public var openConnections: Int {
        state.withLock { $0.loops }.reduce(0) { $0 + $1.connectionCount }
    }

    /// How many event loops serve connections: one per core, at most 8.
    static var loopCount: Int { max(1, min(8, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))) }

    /// Binds 127.0.0.1:`port`, starts accepting, and returns the bound port.
    /// Throws a `RuntimeStartError` with a one-line message saying what to do.
    @discardableResult
    public func start() throws -> Int {
        guard (0...65535).contains(requestedPort) else {
            throw RuntimeStartError("port \(requestedPort) is not a TCP port; pass --port N with 0 ≤ N ≤ 65535")
        }
        guard state.withLock({ $0.phase == .new }) else {
            throw RuntimeStartError("the HTTP server was already started")
        }
        signal(SIGPIPE, SIG_IGN)
        let listenFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listenFD >= 0 else { throw RuntimeStartError("cannot create a socket: \(String(cString: strerror(errno)))") }
        Socket.setInt(listenFD, SOL_SOCKET, SO_REUSEADDR, 1)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(requestedPort).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian  // 127.0.0.1, never any other.
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound != 0 {
            let code = errno
            close(listenFD)
            switch code {
            case EADDRINUSE: throw RuntimeStartError("port \(requestedPort) is in use; pass --port N or --port 0")
            case EACCES: throw RuntimeStartError("port \(requestedPort) needs privileges; pass --port N above 1023 or --port 0")
            default: throw RuntimeStartError("cannot listen on \(Self.host):\(requestedPort): \(String(cString: strerror(code)))")
            }
        }
        guard listen(listenFD, 1024) == 0 else {
            let message = String(cString: strerror(errno))
            close(listenFD)
            throw RuntimeStartError("cannot listen on \(Self.host):\(requestedPort): \(message)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listenFD, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: actual.sin_port))
        var wake: [Int32] = [-1, -1]
        guard pipe(&wake) == 0 else {
            close(listenFD)
            throw RuntimeStartError("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        state.withLock {
            $0.phase = .running
            $0.port = port
            $0.wakeWriteFD = wake[1]
        }
        let wakeReadFD = wake[0]
        for fd in [listenFD, wake[0], wake[1]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var loops: [EventLoop] = []
        do throws(RuntimeStartError) {
            for _ in 0..<Self.loopCount { loops.append(try EventLoop(server: self, limits: limits, handler: handler)) }
        } catch {
            for loop in loops { close(loop.epfd) }
            close(listenFD)
            close(wake[0])
            close(wake[1])
            state.withLock { $0.phase = .stopped }
            throw error
        }
        state.withLock {
            $0.loops = loops
            $0.loopsRunning = loops.count
        }
        var started = true
        for loop in loops where !loop.start() {
            started = false
            loopExited()
            close(loop.epfd)
        }
        started = started && ThreadLauncher.spawn(stackBytes: 256 * 1024, { self.watchdog() })
        guard started, ThreadLauncher.spawn(stackBytes: 512 * 1024, { self.acceptLoop(listenFD: listenFD, wakeFD: wakeReadFD) }) else {
            close(listenFD)
            close(wake[0])
            state.withLock { $0.acceptLoopDone = true }
            stop(drainTimeout: .zero)
            throw RuntimeStartError("cannot start the HTTP server's threads")
        }
        return port
    }

    /// Stops accepting, closes idle keep-alive connections, and lets in-flight requests finish
    /// (their responses carry `Connection: close`). After `drainTimeout`, remaining connections
    /// are shut down. Returns true when every connection ended within the timeout.
    @discardableResult
    public func stop(drainTimeout: Duration = .seconds(5)) -> Bool {
        let wakeFD: Int32? = state.withLock {
            guard $0.phase == .running else { return nil }
            $0.phase = .stopped
            return $0.wakeWriteFD
        }
        guard let wakeFD else { return true }
        stopping.store(true, ordering: .sequentiallyConsistent)
        var byte: UInt8 = 1
        _ = write(wakeFD, &byte, 1)
        // The loops close idle connections themselves and exit when they have none left.
        let deadline = Socket.deadline(after: drainTimeout)
        let drained = waitForAllThreads(until: deadline)
        if !drained {
            for loop in state.withLock({ $0.loops }) { loop.abortAll() }
            _ = waitForAllThreads(until: Socket.deadline(after: .seconds(1)))
        }
        close(wakeFD)
        return drained
    }

    private func waitForAllThreads(until deadline: Int64) -> Bool {
        while true {
            if state.withLock({ $0.loopsRunning == 0 && $0.acceptLoopDone && $0.watchdogDone }) { return true }
            if Socket.now() >= deadline { return false }
            usleep(2_000)
        }
    }

    /// A loop's last thread exited (the server is stopping and the loop has no connections).
    func loopExited() {
        state.withLock { $0.loopsRunning -= 1 }
    }

    /// Hands a loop whose thread has been busy too long to a new thread. It looks every 5 ms
    /// while some loop's thread is busy and every 20 ms (`stallNanoseconds`) while none is, so
    /// an idle server wakes it 50 times a second, not 200. A stall is still caught within
    /// `stallNanoseconds` plus 5 ms: a thread that turned busy just after an idle look has been
    /// busy for less than the stall time at the next one, and the looks after that are 5 ms apart.
    private func watchdog() {
        defer { state.withLock { $0.watchdogDone = true } }
        let loops = state.withLock { $0.loops }
        var anyBusy = false
        while state.withLock({ $0.loopsRunning > 0 }) {
            usleep(anyBusy ? 5_000 : UInt32(EventLoop.stallNanoseconds / 1_000))
            let now = Socket.now()
            anyBusy = false
            for loop in loops where loop.relieveIfStalled(now: now) { anyBusy = true }
        }
    }

    var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    private func acceptLoop(listenFD: Int32, wakeFD: Int32) {
        defer {
            close(listenFD)
            close(wakeFD)
            state.withLock { $0.acceptLoopDone = true }
        }
        var fds = [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
        while !isStopping {
            let ready = poll(&fds, 2, -1)
            if ready < 0 && errno != EINTR { return }
            if fds[1].revents != 0 || isStopping { return }
            guard fds[0].revents != 0 else { continue }
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM { usleep(10_000) }
                continue
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            admit(fd)
        }
    }

    private static let refusal: [UInt8] = {
        var writer = ResponseWriter()
        var bytes: [UInt8] = []
        writer.append(.error(status: 503, message: "too many open connections; try again shortly"),
                      headOnly: false, connection: .close, to: &bytes)
        return bytes
    }()

    private func admit(_ fd: Int32) {
        let (loops, id) = state.withLock { s -> ([EventLoop], UInt64) in
            defer { s.nextConnection += 1 }
            return (s.loops, s.nextConnection)
        }
        guard !loops.isEmpty, loops.reduce(0, { $0 + $1.connectionCount }) < limits.maxConnections else {
            return Socket.refuse(fd, with: Self.refusal)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        Socket.setInt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        let loop = loops[Int(id % UInt64(loops.count))]
        guard loop.add(HTTPConnection(id: id, fd: fd, loop: loop)) else { return Socket.refuse(fd, with: Self.refusal) }
    }
}
