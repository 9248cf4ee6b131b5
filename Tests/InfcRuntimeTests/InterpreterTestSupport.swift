import Foundation
// Runtime interpreter tests: a host that keeps tables and buckets in memory and records every
// operation, async start, log line and sleep; and helpers that compile and run snippets.

import Dispatch
import InfcCompiler
import Synchronization
import Testing
@testable import InfcRuntime

/// An in-memory host. `cancelAfter` turns `isCancelled` true after that many checks;
/// `concurrent` runs `parallel` branches on several threads.
final class InterpreterTestHost: InterpreterHost {
    struct Operation: Equatable, Sendable {
        var operation: ResourceOperation
        var resource: String
        var arguments: [JSON]
    }

    struct AsyncCall: Equatable, Sendable {
        var declaration: Int
        var name: String
        var arguments: [JSON]
    }

    struct State: Sendable {
        var tables: [String: JSONObject] = [:]
        var buckets: [String: JSONObject] = [:]
        var operations: [Operation] = []
        var asyncCalls: [AsyncCall] = []
        var calls: [String] = []
        var logs: [String] = []
        var sleeps: [Double] = []
        var cancellationChecks = 0
        var uuids = 0
        var clock = 1_700_000_000_000.0
        var denied: Set<String> = []
    }

    let state = Mutex(State())
    let cancelAfter: Int?
    let concurrent: Bool

    init(cancelAfter: Int? = nil, concurrent: Bool = false) {
        self.cancelAfter = cancelAfter
        self.concurrent = concurrent
    }

    var operations: [Operation] { state.withLock { $0.operations } }
    var asyncCalls: [AsyncCall] { state.withLock { $0.asyncCalls } }
    var calls: [String] { state.withLock { $0.calls } }
    var logs: [String] { state.withLock { $0.logs } }
    var sleeps: [Double] { state.withLock { $0.sleeps } }
    func table(_ name: String) -> JSONObject { state.withLock { $0.tables[name] ?? JSONObject() } }
    func deny(_ resource: String) { state.withLock { _ = $0.denied.insert(resource) } }

    func perform(_ operation: ResourceOperation, on resource: String, kind: ResourceKind, arguments: [JSON],
                 at range: SourceRange) throws(RuntimeError) -> JSON {
        let result: Result<JSON, RuntimeError> = state.withLock { s in
            s.operations.append(Operation(operation: operation, resource: resource, arguments: arguments))
            if s.denied.contains(resource) {
                return .failure(.runtime("access-denied", "not allowed to \(operation.rawValue) \(resource)",
                                         extra: ["resource": .string(resource)]))
            }
            func key() -> String? { arguments.first?.stringValue }
            switch (kind, operation) {
            case (.table, .get), (.bucket, .get):
                guard let k = key() else { return .failure(.runtime("type-error", "keys are strings")) }
                return .success((kind == .table ? s.tables : s.buckets)[resource]?[k] ?? .null)
            case (.table, .put), (.bucket, .put):
                guard let k = key() else { return .failure(.runtime("type-error", "keys are strings")) }
                if kind == .table { s.tables[resource, default: JSONObject()][k] = arguments[1] } else {
                    s.buckets[resource, default: JSONObject()][k] = arguments[1]
                }
                return .success(.null)
            case (.table, .delete), (.bucket, .delete):
                guard let k = key() else { return .failure(.runtime("type-error", "keys are strings")) }
                if kind == .table { s.tables[resource]?[k] = nil } else { s.buckets[resource]?[k] = nil }
                return .success(.null)
            case (.table, .scan):
                return .success(.array((s.tables[resource] ?? JSONObject()).map(\.value)))
            case (.bucket, .list):
                let prefix = arguments.first?.stringValue ?? ""
                return .success(.array((s.buckets[resource]?.keys ?? []).filter { $0.hasPrefix(prefix) }.map { .string($0) }))
            case (.secret, .value):
                return .success(.string("secret-\(resource)"))
            case (.service, _):
                let path = key() ?? ""
                if path.contains("fail") {
                    return .failure(.runtime("service-error", "\(resource) answered 502",
                                             extra: ["status": 502, "body": ["error": "bad gateway"]]))
                }
                return .success(["id": "pay-1", "path": .string(path)])
            default:
                return .success(.null)
            }
        }
        return try result.get()
    }

    func startAsync(fn declaration: Int, name: String, arguments: [JSON], at range: SourceRange) throws(RuntimeError) -> JSON {
        state.withLock { s in
            s.asyncCalls.append(AsyncCall(declaration: declaration, name: name, arguments: arguments))
            return .string("async-\(s.asyncCalls.count)")
        }
    }

    func call(fn declaration: Int, name: String, arguments: [JSON], at range: SourceRange,
              body: () throws(RuntimeError) -> JSON) throws(RuntimeError) -> JSON {
        state.withLock { $0.calls.append(name) }
        return try body()
    }

    func sleep(milliseconds: Double, at range: SourceRange) throws(RuntimeError) {
        state.withLock { $0.sleeps.append(milliseconds) }
    }

    func runParallel(_ branches: [@Sendable () throws(RuntimeError) -> Void]) throws(RuntimeError) {
        guard concurrent else {
            for branch in branches { try branch() }
            return
        }
        let errors = Mutex<[Int: RuntimeError]>([:])
        DispatchQueue.concurrentPerform(iterations: branches.count) { i in
            do throws(RuntimeError) { try branches[i]() } catch { errors.withLock { $0[i] = error } }
        }
        if let first = errors.withLock({ $0.sorted { $0.key < $1.key }.first?.value }) { throw first }
    }

    func uuid() -> String {
        state.withLock { s in
            s.uuids += 1
            return "uuid-\(s.uuids)"
        }
    }

    func now() -> Double { state.withLock { $0.clock } }
    func log(_ text: String) { state.withLock { $0.logs.append(text) } }

    var isCancelled: Bool {
        state.withLock { s in
            s.cancellationChecks += 1
            return cancelAfter.map { s.cancellationChecks > $0 } ?? false
        }
    }
}

/// Compiles a program, expecting no errors (warnings are fine).
func compileProgram(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Compilation {
    // Compile on a big stack, as the CLI and the runtime do: test tasks run on pool threads
    // whose small stacks a debug build of the parser can overrun on deeply nested input.
    final class Box: @unchecked Sendable { var value: Compilation?; let done = DispatchSemaphore(value: 0) }
    let box = Box()
    let thread = Thread {
        box.value = Compilation.compile(SourceFile(path: "t.inf", text: text))
        box.done.signal()
    }
    thread.stackSize = 64 << 20
    thread.start()
    box.done.wait()
    let compilation = box.value!
    let errors = compilation.diagnostics.filter { $0.severity == .error }
    #expect(errors.isEmpty, "compile errors: \(errors.map(\.message))", sourceLocation: sourceLocation)
    return compilation
}

/// Runs fn `name` (or the handler at `declaration`) of a program.
func runProgram(_ text: String, fn name: String = "main", arguments: [JSON] = [],
                host: InterpreterHost = InterpreterTestHost(),
                sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Result<JSON, RuntimeError> {
    let compilation = compileProgram(text, sourceLocation: sourceLocation)
    guard let declaration = compilation.model.globals[name] else {
        Issue.record("no fn `\(name)`", sourceLocation: sourceLocation)
        return .success(.null)
    }
    let interpreter = Interpreter(program: compilation.program, model: compilation.model, file: compilation.file)
    return Result { () throws(RuntimeError) -> JSON in
        try interpreter.run(declaration: declaration, arguments: arguments, host: host)
    }
}

/// The value of `expression`, computed in a fn whose body sets up `prelude` first.
func evaluate(_ expression: String, prelude: String = "", sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Result<JSON, RuntimeError> {
    runProgram("fn main() {\n\(prelude)\nreturn \(expression)\n}\n", sourceLocation: sourceLocation)
}

/// The value, or nil (with a recorded issue) when running failed.
func value(_ expression: String, prelude: String = "", sourceLocation: Testing.SourceLocation = #_sourceLocation) -> JSON? {
    switch evaluate(expression, prelude: prelude, sourceLocation: sourceLocation) {
    case .success(let v): return v
    case .failure(let e):
        Issue.record("failed: \(e)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The runtime error's code and message, or nil (with a recorded issue) when it succeeded.
func failure(_ expression: String, prelude: String = "", sourceLocation: Testing.SourceLocation = #_sourceLocation) -> RuntimeError? {
    switch evaluate(expression, prelude: prelude, sourceLocation: sourceLocation) {
    case .success(let v):
        Issue.record("expected an error, got \(v.serialized())", sourceLocation: sourceLocation)
        return nil
    case .failure(let e): return e
    }
}

extension Result where Failure == RuntimeError {
    var error: RuntimeError? {
        if case .failure(let e) = self { return e }
        return nil
    }

    var success: Success? {
        if case .success(let v) = self { return v }
        return nil
    }
}
