// Runtime engine: the small concurrency kit the engine runs on — threads, a counting semaphore
// with an adjustable capacity (function and service limits), a sliding window (service rates), a
// wake-up signal for workers, and the clock with its test time scale.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Synchronization

/// Wall-clock time for the store (seconds since 1970) and the `--time-scale` that shortens
/// sleeps, schedule intervals and backoffs in tests. Timeouts are never scaled.
public struct RuntimeClock: Sendable {
    /// Divides every sleep, schedule interval and retry backoff; 1 in production.
    public var timeScale: Double

    public init(timeScale: Double = 1) { self.timeScale = max(timeScale, 1e-9) }

    /// Seconds since 1970-01-01 UTC.
    public func now() -> Double { Date().timeIntervalSince1970 }

    /// A program duration in milliseconds as real seconds under the time scale.
    public func scaled(milliseconds: Double) -> Double { max(0, milliseconds) / 1000 / timeScale }

    /// The delay before retry `attempt` (1 for the first retry): `base·2^(attempt−1)`, ±20 %
    /// jitter, capped at 15 minutes, then scaled.
    public func backoff(baseMilliseconds: Int, attempt: Int) -> Double {
        let exponent = Double(min(max(attempt - 1, 0), 30))
        let raw = min(Double(max(baseMilliseconds, 0)) * pow(2, exponent), 900_000)
        return scaled(milliseconds: raw * Double.random(in: 0.8...1.2))
    }
}

/// Starting detached threads with a stack big enough for the interpreter.
enum Threads {
    /// Stack of threads that run program code (the interpreter checks how much is left).
    static let programStackBytes = 8 * 1024 * 1024

    /// Starts `body` on a new thread; if the system refuses, runs nothing and returns false.
    @discardableResult
    static func spawn(stackBytes: Int = programStackBytes, _ body: @escaping @Sendable () -> Void) -> Bool {
        ThreadLauncher.spawn(stackBytes: stackBytes, body)
    }
}

/// A counting semaphore whose capacity can change (an `infc dev` swap may change a limit).
/// `acquire` waits until a permit is free, the deadline passes, or `cancelled` turns true.
public final class CountingSemaphore: @unchecked Sendable {
    private let condition = Condition()
    private var capacity: Int
    private var used = 0

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Permits in use now.
    public var inUse: Int {
        condition.lock()
        defer { condition.unlock() }
        return used
    }

    public var limit: Int {
        condition.lock()
        defer { condition.unlock() }
        return capacity
    }

    public func setCapacity(_ n: Int) {
        condition.lock()
        capacity = max(1, n)
        condition.broadcast()
        condition.unlock()
    }

    /// Takes a permit when one is free now.
    public func tryAcquire() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard used < capacity else { return false }
        used += 1
        return true
    }

    /// Waits for a permit until `deadline` (seconds since 1970; nil waits forever), checking
    /// `cancelled` at least every 100 ms. Returns false when it gave up.
    public func acquire(deadline: Double? = nil, cancelled: () -> Bool = { false }) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while used >= capacity {
            if cancelled() { return false }
            let now = Date().timeIntervalSince1970
            if let deadline, now >= deadline { return false }
            let wait = min(deadline.map { $0 - now } ?? 0.1, 0.1)
            _ = condition.wait(seconds: max(wait, 0.001))
        }
        used += 1
        return true
    }

    public func release() {
        condition.lock()
        used = max(0, used - 1)
        condition.signal()
        condition.unlock()
    }
}

/// A service's rate as the gateway holds it: a slot taken when a call starts (nil when the
/// deadline comes first or the call is cancelled), given back when it ends. Locally a
/// `RateWindow`; in Lambda, slots shared by every container (InfcLambda's `SharedRateWindow`).
public protocol ServiceRate: AnyObject, Sendable {
    var ratePerSecond: Double { get }
    func take(deadline: Double?, cancelled: () -> Bool) throws(RuntimeError) -> Int?
    func release(_ slot: Int)
}

/// The slots of a rate: `count` slots, each free again `window` seconds after the call that
/// held it ended (`rate N/s` is N slots of one second; below one a second, one slot of `1/rate`).
public struct RateSlots: Sendable, Equatable {
    public var count: Int
    public var window: Double
    public init(ratePerSecond: Double) {
        if ratePerSecond >= 1 {
            count = Int(ratePerSecond.rounded(.down))
            window = 1
        } else {
            count = 1
            window = 1 / max(ratePerSecond, 0.0001)
        }
    }
}

/// A sliding-window rate limit: at most `count` calls in any `window` seconds, as the provider
/// counts them. `rate N/s` is N in any one second — not a token bucket, whose full bucket would
/// let 2N through in the first second. A rate below one a second becomes one call per
/// `1/rate` seconds.
///
/// There are `count` slots. A call takes a free slot when it starts and gives it back when it
/// ends; the slot is free again one window after that end. So of any `count + 1` calls, two
/// used the same slot, and the later started at least a window after the earlier ended: the
/// provider received them at least a window apart, whatever the network's delays. (Starting
/// times alone would not do: late requests of one second and prompt ones of the next could
/// reach the provider within one second.)
public final class RateWindow: ServiceRate, @unchecked Sendable {
    private let lock = Lock()
    private let window: Double
    /// When each slot is free again; `.infinity` while a call holds it.
    private var freeAt: [Double]
    public let ratePerSecond: Double

    public init(ratePerSecond: Double) {
        self.ratePerSecond = ratePerSecond
        let slots = RateSlots(ratePerSecond: ratePerSecond)
        window = slots.window
        freeAt = Array(repeating: 0, count: slots.count)
    }

    /// Takes a slot, waiting for one until `deadline`; nil when the deadline comes first or
    /// `cancelled` turns true. Give it back with `release` when the call has ended.
    public func take(deadline: Double? = nil, cancelled: () -> Bool = { false }) -> Int? {
        while true {
            lock.lock()
            let now = Date().timeIntervalSince1970
            var soonest = Double.infinity
            var chosen: Int?
            for (i, t) in freeAt.enumerated() where t < soonest {
                soonest = t
                chosen = i
            }
            if let chosen, soonest <= now {
                freeAt[chosen] = .infinity
                lock.unlock()
                return chosen
            }
            lock.unlock()
            if cancelled() { return nil }
            if let deadline, soonest.isFinite ? soonest > deadline : now >= deadline { return nil }
            sleepThread(soonest.isFinite ? min(soonest - now, 0.1) : 0.01)
        }
    }

    /// Gives back the slot of a call that has ended (answered, failed or abandoned).
    public func release(_ slot: Int) {
        lock.lock()
        freeAt[slot] = Date().timeIntervalSince1970 + window
        lock.unlock()
    }
}

/// A wake-up call for a worker that sleeps until a time or until someone has news for it.
public final class WakeSignal: @unchecked Sendable {
    private let condition = Condition()
    private var pending = false

    public init() {}

    /// Wakes the waiter (or makes its next wait return at once).
    public func signal() {
        condition.lock()
        pending = true
        condition.broadcast()
        condition.unlock()
    }

    /// Sleeps until `time` (seconds since 1970) or a signal, whichever comes first.
    public func wait(until time: Double) {
        condition.lock()
        defer { condition.unlock() }
        while !pending {
            let remaining = time - Date().timeIntervalSince1970
            if remaining <= 0 { break }
            _ = condition.wait(seconds: remaining)
        }
        pending = false
    }
}

/// A counter of work in progress that can be waited on to reach zero (graceful drain).
public final class InFlight: @unchecked Sendable {
    private let condition = Condition()
    private var count = 0

    public init() {}

    public var current: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }

    public func enter() {
        condition.lock()
        count += 1
        condition.unlock()
    }

    public func leave() {
        condition.lock()
        count -= 1
        if count <= 0 { condition.broadcast() }
        condition.unlock()
    }

    /// Waits for the count to reach zero until `deadline`; true when it did.
    @discardableResult
    public func waitForZero(until deadline: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while count > 0 {
            let remaining = deadline - Date().timeIntervalSince1970
            if remaining <= 0 { return false }
            _ = condition.wait(seconds: remaining)
        }
        return true
    }
}
