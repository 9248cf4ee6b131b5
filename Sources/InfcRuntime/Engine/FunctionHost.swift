// Runtime engine: the interpreter host of one function invocation — resource operations under
// the function's permissions, `async` sends and starts, a deadline that really stops runaway
// code (`isCancelled`), `parallel` branches on threads of their own, and `log`.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler
import Synchronization

final class FunctionHost: InterpreterHost {
    let runtime: Runtime
    let deployment: Deployment
    let principal: Principal
    let invocation: String
    let trace: String
    let deadline: Double
    private let externalCancel: (@Sendable () -> Bool)?

    init(runtime: Runtime, deployment: Deployment, principal: Principal, invocation: String, trace: String,
         deadline: Double, externalCancel: (@Sendable () -> Bool)?) {
        self.runtime = runtime
        self.deployment = deployment
        self.principal = principal
        self.invocation = invocation
        self.trace = trace
        self.deadline = deadline
        self.externalCancel = externalCancel
    }

    var context: OperationContext {
        OperationContext(deployment: deployment, invocation: invocation, trace: trace, deadline: deadline,
                         cancelled: { [self] in isCancelled })
    }

    func perform(_ operation: ResourceOperation, on resource: String, kind: ResourceKind, arguments: [JSON],
                 at range: SourceRange) throws(RuntimeError) -> JSON {
        try runtime.perform(operation, on: resource, kind: kind, arguments: arguments, principal: principal, context: context)
    }

    func startAsync(fn declaration: Int, name: String, arguments: [JSON], at range: SourceRange) throws(RuntimeError) -> JSON {
        try runtime.sendAsync(fn: declaration, name: name, arguments: arguments, principal: principal, context: context)
    }

    /// Outside a workflow a `sleep` holds the invocation (and counts against its timeout).
    func sleep(milliseconds: Double, at range: SourceRange) throws(RuntimeError) {
        let until = runtime.clock.now() + runtime.clock.scaled(milliseconds: milliseconds)
        try FunctionHost.wait(until: until, cancelled: { [self] in isCancelled })
    }

    func runParallel(_ branches: [@Sendable () throws(RuntimeError) -> Void]) throws(RuntimeError) {
        try FunctionHost.runConcurrently(count: branches.count) { i throws(RuntimeError) in try branches[i]() }
    }

    func uuid() -> String { Identifiers.uuid() }

    func now() -> Double { (Date().timeIntervalSince1970 * 1000).rounded() }

    func log(_ text: String) { runtime.logger.program(function: principal.name, trace: trace, text: text) }

    var isCancelled: Bool {
        if Date().timeIntervalSince1970 >= deadline { return true }
        if runtime.isForceCancelled { return true }
        return externalCancel?() ?? false
    }

    // MARK: Shared helpers

    /// Sleeps until `time` in slices of at most 50 ms; throws a timeout when `cancelled` turns true.
    static func wait(until time: Double, cancelled: () -> Bool) throws(RuntimeError) {
        while true {
            if cancelled() { throw RuntimeError.timeout() }
            let remaining = time - Date().timeIntervalSince1970
            if remaining <= 0 { return }
            sleepThread(min(remaining, 0.05))
        }
    }

    /// Runs every branch on its own thread, waits for all of them, and rethrows the error of
    /// the first branch (in program order) that failed.
    static func runConcurrently(count: Int, _ branch: @escaping @Sendable (Int) throws(RuntimeError) -> Void) throws(RuntimeError) {
        if count == 0 { return }
        let errors = Mutex<[Int: RuntimeError]>([:])
        let running = InFlight()
        for i in 0..<count {
            running.enter()
            let started = Threads.spawn {
                do throws(RuntimeError) {
                    try branch(i)
                } catch {
                    errors.withLock { $0[i] = error }
                }
                running.leave()
            }
            if !started {
                errors.withLock { $0[i] = RuntimeError.runtime("resource-exhausted", "the system refused a thread for a parallel branch") }
                running.leave()
            }
        }
        running.waitForZero(until: Date().timeIntervalSince1970 + 1e9)
        let all = errors.withLock { $0 }
        if let first = all.keys.min() { throw all[first]! }
    }
}
