// Runtime stage (interpreter): what the interpreter asks of the runtime around it — resource
// operations, `async`, fn calls (a workflow host journals them), sleeps, `parallel`, the clock,
// ids, logs and cancellation. The interpreter itself does no IO.

import InfcCompiler

/// The runtime side of an invocation. One host value may serve several threads at once
/// (the branches of `parallel`), hence `Sendable`.
public protocol InterpreterHost: AnyObject, Sendable {
    /// A resource operation (table/bucket/topic/secret/service). The host checks permissions and performs it.
    func perform(_ operation: ResourceOperation, on resource: String, kind: ResourceKind, arguments: [JSON],
                 at range: SourceRange) throws(RuntimeError) -> JSON
    /// `async f(args)`: enqueue or start; returns an id (string).
    func startAsync(fn declaration: Int, name: String, arguments: [JSON], at range: SourceRange) throws(RuntimeError) -> JSON
    /// A synchronous call to a fn. The default behaviour is `try body()`; a workflow host journals it as a step.
    func call(fn declaration: Int, name: String, arguments: [JSON], at range: SourceRange,
              body: () throws(RuntimeError) -> JSON) throws(RuntimeError) -> JSON
    func sleep(milliseconds: Double, at range: SourceRange) throws(RuntimeError)
    /// Runs the branches of `parallel` (concurrently or not, the host's choice); rethrows the first error.
    func runParallel(_ branches: [@Sendable () throws(RuntimeError) -> Void]) throws(RuntimeError)
    /// A new random id (a workflow host journals it).
    func uuid() -> String
    /// Milliseconds since 1970-01-01 UTC (a workflow host journals it).
    func now() -> Double
    func log(_ text: String)
    /// Checked at every loop iteration and call; when true the interpreter throws a non-catchable timeout.
    var isCancelled: Bool { get }
}

extension InterpreterHost {
    /// Runs the fn body directly: no journaling.
    public func call(fn declaration: Int, name: String, arguments: [JSON], at range: SourceRange,
                     body: () throws(RuntimeError) -> JSON) throws(RuntimeError) -> JSON {
        try body()
    }

    /// Runs the branches one after another, in order, stopping at the first error.
    public func runParallel(_ branches: [@Sendable () throws(RuntimeError) -> Void]) throws(RuntimeError) {
        for branch in branches { try branch() }
    }
}
