// Runtime stage (interpreter): what operators, indexing and assignment do to values. Pure
// functions; the errors they raise get their range and stack from the evaluator.

import InfcCompiler

enum ValueSemantics {
    static func truthy(_ v: JSON) -> Bool {
        switch v {
        case .null, .bool(false): return false
        default: return true
        }
    }

    /// The name of a value's type, for messages: "null", "bool", "number", "string", "list", "object".
    static func typeName(_ v: JSON) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "string"
        case .array: return "list"
        case .object: return "object"
        case .bytes: return "bytes"
        }
    }

    /// "a number", "an object", "null".
    static func describe(_ v: JSON) -> String {
        switch v {
        case .null: return "null"
        case .array: return "a list"
        case .object: return "an object"
        default: return "a " + typeName(v)
        }
    }

    /// `str(v)`.
    static func text(_ v: JSON) -> String {
        switch v {
        case .string(let s): return s
        case .number(let n): return JSON.format(number: n)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array, .object: return v.serialized()
        case .bytes(let b): return "‹\(b.data.count) bytes of \(b.contentType)›"
        }
    }

    /// `str(v)`, string interpolation and `+` with a string: like `text`, but bytes are not
    /// text, so turning them into a string is an error rather than a silent corruption.
    static func textOrError(_ v: JSON) throws(RuntimeError) -> String {
        if case .bytes(let b) = v { throw bytesAreNotText(b, doing: "turn them into a string") }
        return text(v)
    }

    /// The error of a text operation on bytes.
    static func bytesAreNotText(_ b: Bytes, doing what: String) -> RuntimeError {
        typeError("cannot \(what): the value is \(b.data.count) bytes of \(b.contentType), not text "
            + "(bytes can be stored, served, sent and compared, and `len` counts them)")
    }

    static func typeError(_ message: String) -> RuntimeError { .runtime("type-error", message) }

    // MARK: Operators

    static func negate(_ v: JSON) throws(RuntimeError) -> JSON {
        guard case .number(let n) = v else { throw typeError("cannot negate \(describe(v))") }
        return .number(-n)
    }

    /// Every binary operator except the short-circuiting `&&`, `||` and `??`.
    static func binary(_ op: BinaryOperator, _ a: JSON, _ b: JSON) throws(RuntimeError) -> JSON {
        switch op {
        case .add: return try add(a, b)
        case .subtract, .multiply, .divide, .remainder: return try arithmetic(op, a, b)
        case .equal: return .bool(a == b)
        case .notEqual: return .bool(a != b)
        case .less, .lessEqual, .greater, .greaterEqual: return .bool(try compare(op, a, b))
        case .and: return truthy(a) ? b : a
        case .or: return truthy(a) ? a : b
        case .coalesce: return a == .null ? b : a
        }
    }

    static func add(_ a: JSON, _ b: JSON) throws(RuntimeError) -> JSON {
        switch (a, b) {
        case (.number(let x), .number(let y)): return try finite(x + y)
        case (.string(let x), .string(let y)): return .string(x + y)
        case (.array(let x), .array(let y)): return .array(x + y)
        case (.string(let x), .number), (.string(let x), .bool), (.string(let x), .null): return .string(x + text(b))
        case (.number, .string(let y)), (.bool, .string(let y)), (.null, .string(let y)): return .string(text(a) + y)
        case (.bytes(let x), .string), (.string, .bytes(let x)): throw bytesAreNotText(x, doing: "add bytes and a string")
        default: throw typeError("cannot add \(typeName(a)) and \(typeName(b))")
        }
    }

    static func arithmetic(_ op: BinaryOperator, _ a: JSON, _ b: JSON) throws(RuntimeError) -> JSON {
        guard case .number(let x) = a, case .number(let y) = b else {
            let verb = op == .subtract ? "subtract" : op == .multiply ? "multiply" : op == .divide ? "divide" : "take the remainder of"
            throw typeError("cannot \(verb) \(typeName(a)) and \(typeName(b)) (`\(op.rawValue)` needs two numbers)")
        }
        switch op {
        case .subtract: return try finite(x - y)
        case .multiply: return try finite(x * y)
        case .divide:
            if y == 0 { throw RuntimeError.runtime("division-by-zero", "division by zero") }
            return try finite(x / y)
        default:
            if y == 0 { throw RuntimeError.runtime("division-by-zero", "remainder of a division by zero") }
            return try finite(x.truncatingRemainder(dividingBy: y))
        }
    }

    static func finite(_ n: Double) throws(RuntimeError) -> JSON {
        guard n.isFinite else { throw RuntimeError.runtime("overflow", "the result is too large to represent as a number") }
        return .number(n)
    }

    static func compare(_ op: BinaryOperator, _ a: JSON, _ b: JSON) throws(RuntimeError) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            switch op {
            case .less: return x < y
            case .lessEqual: return x <= y
            case .greater: return x > y
            default: return x >= y
            }
        case (.string(let x), .string(let y)):
            switch op {
            case .less: return x < y
            case .lessEqual: return x <= y
            case .greater: return x > y
            default: return x >= y
            }
        default:
            throw typeError("cannot compare \(typeName(a)) and \(typeName(b)) with `\(op.rawValue)` (it needs two numbers or two strings)")
        }
    }

    // MARK: Reading

    static func member(_ base: JSON, _ field: String) throws(RuntimeError) -> JSON {
        switch base {
        case .object(let o): return o[field] ?? .null
        case .null: return .null
        default: throw typeError("cannot read field `\(field)` of \(describe(base))")
        }
    }

    static func index(_ base: JSON, _ index: JSON) throws(RuntimeError) -> JSON {
        switch base {
        case .array(let items):
            let i = try listIndex(index)
            return i < items.count ? items[i] : .null
        case .object(let o):
            guard case .string(let key) = index else {
                throw typeError("an object's key must be a string, not \(describe(index))")
            }
            return o[key] ?? .null
        case .null: return .null
        default: throw typeError("cannot index into \(describe(base))")
        }
    }

    /// A whole, non-negative list index.
    static func listIndex(_ index: JSON) throws(RuntimeError) -> Int {
        guard case .number(let n) = index, n.rounded() == n, n.isFinite else {
            throw typeError("a list index must be a whole number, not \(index.doubleValue.map { JSON.format(number: $0) } ?? describe(index))")
        }
        guard n >= 0 else { throw RuntimeError.runtime("index-error", "list index \(JSON.format(number: n)) is negative") }
        return n < 9.0e15 ? Int(n) : Int.max
    }

    // MARK: Assignment

    /// One step of an assignment target after `x`: `.f` or `[i]` (the index already evaluated).
    enum PathStep {
        case field(String, SourceRange)
        case index(JSON, SourceRange)

        var range: SourceRange {
            switch self {
            case .field(_, let r), .index(_, let r): return r
            }
        }
    }

    /// Sets `value` at `path` inside `target`, in place. On error `target` is unchanged and the
    /// error carries the failing step's range.
    static func assign(_ target: inout JSON, _ path: ArraySlice<PathStep>, _ value: JSON) throws(RuntimeError) {
        guard let step = path.first else {
            target = value
            return
        }
        let rest = path.dropFirst()
        // Each container is moved out of `target` before it changes, so that it is uniquely
        // referenced and changes in place rather than being copied.
        switch step {
        case .field(let key, let range):
            guard case .object(var o) = target else {
                throw RuntimeError.runtime("type-error", "cannot set field `\(key)` on \(describe(target))", at: range)
            }
            try assign(&target, object: &o, key: key, rest, value)
        case .index(let index, let range):
            if case .array(var items) = target {
                let i: Int
                do { i = try listIndex(index) } catch { throw error.located(at: range, stack: []) }
                guard i < items.count else {
                    throw RuntimeError.runtime("index-error", "cannot set element \(i) of a list of \(items.count)", at: range)
                }
                target = .null
                defer { target = .array(items) }
                try assign(&items[i], rest, value)
            } else if case .object(var o) = target {
                guard case .string(let key) = index else {
                    throw RuntimeError.runtime("type-error", "an object's key must be a string, not \(describe(index))", at: range)
                }
                try assign(&target, object: &o, key: key, rest, value)
            } else {
                throw RuntimeError.runtime("type-error", "cannot set an element of \(describe(target))", at: range)
            }
        }
    }

    /// `assign` on an object `o` taken out of `target`.
    private static func assign(_ target: inout JSON, object o: inout JSONObject, key: String,
                               _ rest: ArraySlice<PathStep>, _ value: JSON) throws(RuntimeError) {
        if rest.isEmpty {
            target = .null
            o[key] = value
            target = .object(o)
            return
        }
        guard var child = o[key] else {
            var missing = JSON.null
            try assign(&missing, rest, value)  // always fails: null has no fields or elements
            return
        }
        target = .null
        o[key] = .null
        defer {
            o[key] = child
            target = .object(o)
        }
        try assign(&child, rest, value)
    }
}
