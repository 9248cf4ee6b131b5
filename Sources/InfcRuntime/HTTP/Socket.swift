// Runtime HTTP: thin wrappers over POSIX sockets, poll, the monotonic clock and pthreads.
// Everything Glibc-specific in the HTTP server lives here.

import Glibc

/// Low-level socket operations with deadlines. Deadlines are monotonic nanoseconds.
enum Socket {
    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        let (scaled, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max / 4 : scaled + atto / 1_000_000_000
    }

    static func deadline(after d: Duration) -> Int64 { now() + nanoseconds(d) }

    /// Sends every byte on a non-blocking socket; while the client's window is full it waits
    /// (marked busy on `turn`, so the loop can be handed on) until `deadline`. False when the
    /// peer is gone or too slow.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, deadline: Int64 = .max, turn: LoopTurn? = nil) -> Bool {
        guard var p = bytes.baseAddress else { return true }
        var left = bytes.count
        var waiting = false
        defer { if waiting { turn?.leaveBusy() } }
        while left > 0 {
            let n = send(fd, p, left, Int32(MSG_NOSIGNAL))
            if n > 0 {
                p += n
                left -= n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            guard n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) else { return false }
            if !waiting {
                waiting = true
                turn?.enterBusy()
            }
            let remaining = deadline - now()
            if remaining <= 0 { return false }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&pfd, 1, Int32(clamping: remaining / 1_000_000 + 1)) < 0 && errno != EINTR { return false }
        }
        return true
    }

    static func setInt(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    static func setTimeout(_ fd: Int32, _ name: Int32, _ d: Duration) {
        let ns = nanoseconds(d)
        var tv = timeval(tv_sec: Int(ns / 1_000_000_000), tv_usec: Int(ns % 1_000_000_000 / 1000))
        _ = setsockopt(fd, SOL_SOCKET, name, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// A non-blocking best effort for connections refused at accept time: drop what the
    /// client already sent, send `bytes`, half-close and close.
    static func refuse(_ fd: Int32, with bytes: [UInt8]) {
        var scratch = [UInt8](repeating: 0, count: 4096)
        scratch.withUnsafeMutableBytes { buf in
            while recv(fd, buf.baseAddress!, buf.count, Int32(MSG_DONTWAIT)) > 0 {}
        }
        bytes.withUnsafeBytes { _ = send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        shutdown(fd, Int32(SHUT_WR))
        scratch.withUnsafeMutableBytes { buf in
            while recv(fd, buf.baseAddress!, buf.count, Int32(MSG_DONTWAIT)) > 0 {}
        }
        close(fd)
    }
}

/// Starts detached pthreads with an explicit stack size (Foundation's Thread is not needed).
enum ThreadLauncher {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Returns false when the system refuses a new thread.
    static func spawn(stackBytes: Int, _ body: @escaping @Sendable () -> Void) -> Bool {
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        pthread_attr_setstacksize(&attr, max(stackBytes, 256 * 1024))
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attr, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            body.run()
            return nil
        }, context)
        if rc != 0 {
            Unmanaged<Body>.fromOpaque(context).release()
            return false
        }
        return true
    }
}
