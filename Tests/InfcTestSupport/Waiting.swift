// Test support: the one way tests wait — for a condition (a server's readiness line, a row, a
// count), polled with a deadline, never a fixed sleep that hopes the condition holds.
import Foundation

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass; returns whether it
/// held.
public func eventually(timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}
