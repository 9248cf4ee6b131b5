// Runtime stage (interpreter): the error a running handler raises — a value thrown by `throw`,
// a runtime error (bad operands, a refused operation), or an uncatchable stop (timeout,
// cancellation, call depth). `catch e` binds `value`.

import InfcCompiler

/// An error raised while running `.inf` code, with where it happened and the fn stack.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// `throw v`.
        case thrown(JSON)
        /// A failed operation: `code` is stable (e.g. "type-error", "access-denied").
        case runtime(code: String, message: String)
        /// The invocation ran past its deadline (`host.isCancelled` turned true).
        case timeout
        /// The runtime is shutting the invocation down.
        case cancelled
        /// Calls nested deeper than `Interpreter.maxCallDepth`, or the thread's stack ran low.
        case callDepth
    }

    /// What happened.
    public var kind: Kind {
        get { storage.kind }
        set { update { $0.kind = newValue } }
    }
    /// The expression or statement that failed, when known.
    public var range: SourceRange? {
        get { storage.range }
        set { update { $0.range = newValue } }
    }
    /// Handler and fn names, innermost first.
    public var stack: [String] {
        get { storage.stack }
        set { update { $0.stack = newValue } }
    }
    /// Extra fields of a runtime error's value (e.g. `status` and `body` of a service answer).
    public var extra: JSONObject {
        get { storage.extra }
        set { update { $0.extra = newValue } }
    }

    /// The fields live in one immutable box, so that the error is a single word wide: every
    /// `throws(RuntimeError)` call reserves room for one in its caller's stack frame.
    private final class Storage: Sendable {
        struct Fields {
            var kind: Kind
            var range: SourceRange?
            var stack: [String]
            var extra: JSONObject
        }
        let kind: Kind
        let range: SourceRange?
        let stack: [String]
        let extra: JSONObject
        init(_ f: Fields) {
            kind = f.kind
            range = f.range
            stack = f.stack
            extra = f.extra
        }
        var fields: Fields { Fields(kind: kind, range: range, stack: stack, extra: extra) }
    }

    private var storage: Storage

    private mutating func update(_ change: (inout Storage.Fields) -> Void) {
        var fields = storage.fields
        change(&fields)
        storage = Storage(fields)
    }

    public init(_ kind: Kind, range: SourceRange? = nil, stack: [String] = [], extra: JSONObject = JSONObject()) {
        storage = Storage(.init(kind: kind, range: range, stack: stack, extra: extra))
    }

    /// A runtime error: `RuntimeError.runtime("access-denied", "…", extra: ["status": 404])`.
    public static func runtime(_ code: String, _ message: String, extra: KeyValuePairs<String, JSON> = [:],
                               at range: SourceRange? = nil) -> RuntimeError {
        var object = JSONObject()
        for (k, v) in extra { object[k] = v }
        return RuntimeError(.runtime(code: code, message: message), range: range, extra: object)
    }

    /// What `throw value` raises.
    public static func thrown(_ value: JSON, at range: SourceRange? = nil) -> RuntimeError {
        RuntimeError(.thrown(value), range: range)
    }

    public static func timeout(at range: SourceRange? = nil) -> RuntimeError { RuntimeError(.timeout, range: range) }
    public static func cancelled(at range: SourceRange? = nil) -> RuntimeError { RuntimeError(.cancelled, range: range) }

    /// Thrown values and runtime errors can be caught; timeouts, cancellation and call depth cannot.
    public var isCatchable: Bool {
        switch kind {
        case .thrown, .runtime: return true
        case .timeout, .cancelled, .callDepth: return false
        }
    }

    /// The stable code: "thrown" for `throw`, the runtime error's code, or "timeout", "cancelled", "call-depth".
    public var code: String {
        switch kind {
        case .thrown: return "thrown"
        case .runtime(let code, _): return code
        case .timeout: return "timeout"
        case .cancelled: return "cancelled"
        case .callDepth: return "call-depth"
        }
    }

    /// One line saying what went wrong (no range, no stack).
    public var message: String {
        switch kind {
        case .thrown(let v): return "uncaught error: " + (v.stringValue ?? v.serialized())
        case .runtime(_, let message): return message
        case .timeout: return "the invocation timed out"
        case .cancelled: return "the invocation was cancelled"
        case .callDepth: return "calls nested too deeply (more than \(Interpreter.maxCallDepth) levels, or the stack ran out)"
        }
    }

    /// What `catch e` binds: the thrown value itself, otherwise `{error, code, …extra}`.
    public var value: JSON {
        if case .thrown(let v) = kind { return v }
        var object = JSONObject()
        object["error"] = .string(message)
        object["code"] = .string(code)
        for (k, v) in extra where k != "error" && k != "code" { object[k] = v }
        return .object(object)
    }

    public var description: String {
        var text = kind.isThrown ? message : "\(code): \(message)"
        if !stack.isEmpty { text += " (in \(stack.joined(separator: " ← ")))" }
        return text
    }

    /// Fills in the range and stack when the raiser (e.g. the host) did not know them.
    func located(at range: SourceRange, stack: @autoclosure () -> [String]) -> RuntimeError {
        guard self.range == nil || self.stack.isEmpty else { return self }
        return RuntimeError(kind, range: self.range ?? range, stack: self.stack.isEmpty ? stack() : self.stack, extra: extra)
    }
}

extension RuntimeError.Kind {
    var isThrown: Bool { if case .thrown = self { return true } else { return false } }
}
