// Test support: one value shared by test threads behind a lock — the only `Locked` of the tests.
import Foundation

/// A value shared by test threads behind a lock.
public final class Locked<Value>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()

    public init(_ value: Value) { stored = value }

    /// Reads or changes the value under the lock.
    public func withValue<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&stored)
    }

    public var value: Value {
        get { withValue { $0 } }
        set { withValue { $0 = newValue } }
    }
}
