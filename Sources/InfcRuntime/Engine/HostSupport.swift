// Runtime engine: what another interpreter host (the Lambda runtime's AWS host) shares with the
// local one, so that both give a program the same semantics — `parallel` on threads, `sleep`
// in slices that notice cancellation, ids, the retry rule, and how values become objects.
import InfcCompiler

public enum HostSupport {
    /// Runs every branch on its own thread (a big stack, as the local runtime's), waits for
    /// all of them, and rethrows the error of the first branch (in program order) that failed.
    public static func runConcurrently(count: Int, _ branch: @escaping @Sendable (Int) throws(RuntimeError) -> Void) throws(RuntimeError) {
        try FunctionHost.runConcurrently(count: count, branch)
    }

    /// Sleeps until `time` (seconds since 1970) in slices of at most 50 ms; throws a timeout
    /// when `cancelled` turns true.
    public static func wait(until time: Double, cancelled: () -> Bool) throws(RuntimeError) {
        try FunctionHost.wait(until: time, cancelled: cancelled)
    }

    /// A random UUID in lower case (what `uuid()` answers).
    public static func uuid() -> String { Identifiers.uuid() }

    /// A new trace id (32 hex digits), and one taken from a caller when it is well-formed.
    public static func trace() -> String { Identifiers.trace() }
    public static func acceptTrace(_ value: String?) -> String? { Identifiers.acceptTrace(value) }

    /// Whether another attempt at a failed delivery could succeed (the one retry rule).
    public static func isRetryable(_ error: RuntimeError) -> Bool { RetryRule.isRetryable(error) }

    /// What `bucket.put` stores for a value, and what `bucket.get` answers for stored bytes.
    public static func objectData(_ value: JSON) -> (data: [UInt8], contentType: String?) { Runtime.objectData(value) }
    public static func objectValue(_ data: [UInt8], contentType: String?) -> JSON { Runtime.objectValue(data, contentType: contentType) }

    /// A route's answer for a handler's value: a response object as such, bytes with their
    /// type, anything else as 200 JSON.
    public static func routeResponse(for value: JSON) -> HTTPResponse {
        Runtime.response(for: value) ?? Runtime.plainResponse(value)
    }
}
