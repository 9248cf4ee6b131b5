// Runtime HTTP: the event loops — an epoll set of connections per loop, served inline by the
// one thread that holds the loop's turn, and handed to a fresh thread when that one blocks.

import CEpoll
import Glibc
import Synchronization

/// One thread's turn at running a loop. The thread marks itself busy while it runs a handler
/// or waits on a slow client, so the server's watchdog can see a stalled loop.
final class LoopTurn: Sendable {
    private let busySince = Atomic<Int64>(0)

    func enterBusy() { busySince.store(Socket.now(), ordering: .relaxed) }
    func leaveBusy() { busySince.store(0, ordering: .relaxed) }

    /// How long the thread has been busy, in nanoseconds (0 when it is not).
    func busyFor(now: Int64) -> Int64 {
        let since = busySince.load(ordering: .relaxed)
        return since == 0 ? 0 : now - since
    }
}

/// An epoll set of connections and the thread that serves it.
///
/// Exactly one thread at a time waits on the set: the holder of the loop's current `LoopTurn`.
/// It serves each ready connection inline — read, parse, run the handler, write — which is what
/// makes a small route cheap: no thread hand-off per request. A handler that blocks (a slow
/// service, a long computation) would hold up the other connections of its loop, so the
/// server's watchdog gives the turn to a new thread once the holder has been busy for
/// `stallNanoseconds`; the old thread finishes the request it holds and exits, and the new one
/// goes on with the loop's ready list.
///
/// Connections are registered edge-triggered and served under a claim
/// (`HTTPConnection.claimed`): readiness that arrives while another thread holds the claim is
/// marked `pending` and served by that thread when it lets go, so no two threads ever serve one
/// connection and no wake-up is lost. A read that returns less than the buffer's free space has
/// drained the socket, so the next byte raises a new edge; no re-arming per request.
final class EventLoop: @unchecked Sendable {
    let epfd: Int32
    let limits: HTTPLimits
    let handler: @Sendable (HTTPRequest) -> HTTPResponse
    /// Weak: the server owns its loops; a loop outliving it (its last thread on the way out)
    /// sees it as stopping.
    private weak var server: HTTPServer?
    private let turn: Mutex<LoopTurn>
    private let members = Mutex<[UInt64: HTTPConnection]>([:])
    /// Connections the epoll set reported ready and no thread has taken yet.
    private let ready = Mutex(ReadyList())
    /// A handler busy for longer than this gets its loop handed to a new thread.
    static let stallNanoseconds: Int64 = 20_000_000
    private static let sweepNanoseconds: Int64 = 100_000_000

    init(server: HTTPServer, limits: HTTPLimits, handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) throws(RuntimeStartError) {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw RuntimeStartError("cannot create an epoll set: \(String(cString: strerror(errno)))") }
        epfd = fd
        self.server = server
        self.limits = limits
        self.handler = handler
        turn = Mutex(LoopTurn())
    }

    var isStopping: Bool { server?.isStopping ?? true }

    var connectionCount: Int { members.withLock { $0.count } }

    /// Starts the loop's first thread.
    func start() -> Bool {
        let first = turn.withLock { $0 }
        return ThreadLauncher.spawn(stackBytes: limits.threadStackBytes) { self.run(first) }
    }

    // MARK: Membership

    /// Registers an accepted, non-blocking socket.
    func add(_ connection: HTTPConnection) -> Bool {
        members.withLock { $0[connection.id] = connection }
        var event = epoll_event()
        event.events = Self.armed
        event.data.u64 = connection.id
        guard epoll_ctl(epfd, EPOLL_CTL_ADD, connection.fd, &event) == 0 else {
            members.withLock { _ = $0.removeValue(forKey: connection.id) }
            return false
        }
        return true
    }

    /// Forgets a connection, then closes its socket.
    func remove(_ connection: HTTPConnection) {
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, connection.fd, nil)
        members.withLock { _ = $0.removeValue(forKey: connection.id) }
        Glibc.close(connection.fd)
    }

    private static let armed = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
    private static let hangUps = EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue

    // MARK: Serving

    /// Serves readiness of `connection`: takes its claim, works, releases, and serves again
    /// what arrived while the claim was held.
    private func serve(_ connection: HTTPConnection, _ turn: LoopTurn) {
        connection.pending.store(true, ordering: .sequentiallyConsistent)
        drainPending(connection, turn)
    }

    private func drainPending(_ connection: HTTPConnection, _ turn: LoopTurn) {
        while connection.pending.load(ordering: .sequentiallyConsistent),
              connection.claimed.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged {
            if connection.pending.exchange(false, ordering: .sequentiallyConsistent) { connection.work(turn) }
            connection.claimed.store(false, ordering: .sequentiallyConsistent)
        }
    }

    /// Runs `body` on the connection under its claim, unless another thread holds it now.
    private func withClaim(_ connection: HTTPConnection, _ turn: LoopTurn, _ body: (HTTPConnection) -> Void) {
        guard connection.claimed.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged
        else { return }
        body(connection)
        connection.claimed.store(false, ordering: .sequentiallyConsistent)
        drainPending(connection, turn)
    }

    private func holds(_ mine: LoopTurn) -> Bool { turn.withLock { $0 === mine } }

    /// The loop of one thread's turn: take the next ready connection (waiting on the epoll set
    /// when none is left), serve it, sweep timers; exit on losing the turn. The ready list is
    /// the loop's, not the thread's, so events taken with a blocked connection's are served by
    /// the next holder of the turn rather than after the block.
    private func run(_ mine: LoopTurn) {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        var nextSweep = Socket.now() + Self.sweepNanoseconds
        while holds(mine) {
            if let (id, flags) = ready.withLock({ $0.pop() }) {
                if let connection = members.withLock({ $0[id] }) {
                    // The peer's end of stream may come with the data, in one edge: say so.
                    if flags & Self.hangUps != 0 { connection.hungUp.store(true, ordering: .sequentiallyConsistent) }
                    serve(connection, mine)
                }
                continue
            }
            if isStopping {
                sweep(mine, stopping: true)
                if connectionCount == 0 {
                    Glibc.close(epfd)
                    server?.loopExited()
                    return
                }
            }
            let n = epoll_wait(epfd, &events, Int32(events.count), 50)
            if n < 0 && errno != EINTR { usleep(1_000) }
            if n > 0 { ready.withLock { for i in 0..<Int(n) { $0.push(events[i].data.u64, events[i].events) } } }
            let now = Socket.now()
            if now >= nextSweep {
                sweep(mine, stopping: false)
                nextSweep = now + Self.sweepNanoseconds
            }
        }
    }

    /// Times out connections past their deadline; when stopping, closes the idle ones.
    private func sweep(_ mine: LoopTurn, stopping: Bool) {
        let now = Socket.now()
        for connection in members.withLock({ Array($0.values) }) {
            withClaim(connection, mine) { c in
                if stopping { c.stopIfIdle() }
                c.expire(mine, now: now)
            }
        }
    }

    /// Called by the watchdog: when the turn's thread has been busy too long, a new thread
    /// takes the turn (if no thread can be started, the watchdog tries again on its next tick).
    /// Returns whether the thread was busy at all.
    func relieveIfStalled(now: Int64) -> Bool {
        turn.withLock { current in
            let busy = current.busyFor(now: now)
            guard busy > Self.stallNanoseconds else { return busy > 0 }
            let next = LoopTurn()
            if ThreadLauncher.spawn(stackBytes: limits.threadStackBytes, { self.run(next) }) { current = next }
            return true
        }
    }

    /// Shuts down every connection (the drain timed out); their threads see the end of stream.
    func abortAll() {
        for connection in members.withLock({ Array($0.values) }) { connection.abort() }
    }
}

/// A FIFO of connection ids and their event flags, reused without shrinking.
struct ReadyList {
    private var entries: [(id: UInt64, flags: UInt32)] = []
    private var head = 0

    mutating func push(_ id: UInt64, _ flags: UInt32) { entries.append((id, flags)) }

    mutating func pop() -> (UInt64, UInt32)? {
        guard head < entries.count else { return nil }
        let entry = entries[head]
        head += 1
        if head == entries.count {
            entries.removeAll(keepingCapacity: true)
            head = 0
        }
        return (entry.id, entry.flags)
    }
}
