// Runtime stage (interpreter): the pure built-in functions (`uuid`, `now` and `log` need the
// host and live in Evaluator+Calls.swift). The compiler has checked their arities.

import InfcCompiler

enum BuiltinFunctions {
    static func apply(_ builtin: Builtin, _ args: [JSON]) throws(RuntimeError) -> JSON {
        guard builtin.arity.contains(args.count) else {
            throw invalidArgument("`\(builtin.rawValue)` cannot take \(args.count) arguments; call it as `\(builtin.signature)`")
        }
        switch builtin {
        case .len: return try len(args[0])
        case .str: return .string(try ValueSemantics.textOrError(args[0]))
        case .int: return .number(try number(args[0], for: "int").rounded(.towardZero))
        case .float: return .number(try number(args[0], for: "float"))
        case .json: return .string(args[0].serialized())
        case .parse: return try parse(args[0])
        case .keys:
            guard case .object(let o) = args[0] else { throw typeError("`keys` takes an object, not \(describe(args[0]))") }
            return .array(o.keys.map { .string($0) })
        case .merge: return try merge(args)
        case .range: return try range(args)
        case .min: return try extreme(args, smallest: true)
        case .max: return try extreme(args, smallest: false)
        case .uuid, .now, .log:
            throw RuntimeError.runtime("invalid-program", "`\(builtin.rawValue)` needs the host")
        }
    }

    static func typeError(_ message: String) -> RuntimeError { .runtime("type-error", message) }
    static func invalidArgument(_ message: String) -> RuntimeError { .runtime("invalid-argument", message) }
    static func describe(_ v: JSON) -> String { ValueSemantics.describe(v) }

    static func len(_ v: JSON) throws(RuntimeError) -> JSON {
        switch v {
        case .string(let s): return .int(s.count)
        case .array(let items): return .int(items.count)
        case .object(let o): return .int(o.count)
        case .bytes(let b): return .int(b.data.count)
        default: throw typeError("`len` takes a string, a list, an object or bytes, not \(describe(v))")
        }
    }

    /// A number, or a string holding one (JSON number syntax, surrounding spaces allowed).
    static func number(_ v: JSON, for name: String) throws(RuntimeError) -> Double {
        switch v {
        case .bytes(let b): throw ValueSemantics.bytesAreNotText(b, doing: "read a number with `\(name)`")
        case .number(let n): return n
        case .string(let s):
            let trimmed = s.trimmingSpaces
            if let first = trimmed.utf8.first, first == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first),
               let parsed = try? JSON.parse(trimmed), case .number(let n) = parsed, n.isFinite {
                return n
            }
            throw invalidArgument("`\(name)` cannot read a number from \(JSON.string(s).serialized())")
        default:
            throw typeError("`\(name)` takes a number or a numeric string, not \(describe(v))")
        }
    }

    static func parse(_ v: JSON) throws(RuntimeError) -> JSON {
        if case .bytes(let b) = v { throw ValueSemantics.bytesAreNotText(b, doing: "`parse` them") }
        guard case .string(let text) = v else { throw typeError("`parse` takes a string of JSON text, not \(describe(v))") }
        do {
            return try JSON.parse(text)
        } catch {
            throw RuntimeError.runtime("parse-error", "`parse` was given malformed JSON: \(error.description)")
        }
    }

    static func merge(_ args: [JSON]) throws(RuntimeError) -> JSON {
        var out = JSONObject()
        for (i, arg) in args.enumerated() {
            guard case .object(let o) = arg else {
                throw typeError("`merge` takes objects; argument \(i + 1) is \(describe(arg))")
            }
            if i == 0 {
                out = o
            } else {
                for (k, v) in o { out[k] = v }
            }
        }
        return .object(out)
    }

    static func range(_ args: [JSON]) throws(RuntimeError) -> JSON {
        var bounds: [Double] = []
        for arg in args {
            guard case .number(let n) = arg, n.rounded() == n, n.isFinite else {
                throw typeError("`range` takes whole numbers, not \(arg.doubleValue.map { JSON.format(number: $0) } ?? describe(arg))")
            }
            bounds.append(n)
        }
        let start = bounds.count == 2 ? bounds[0] : 0
        let end = bounds.count == 2 ? bounds[1] : bounds[0]
        guard end - start <= Double(Interpreter.maxRangeCount) else {
            throw invalidArgument("`range` would make \(JSON.format(number: end - start)) numbers; the limit is \(Interpreter.maxRangeCount)")
        }
        guard end > start else { return .array([]) }
        let first = Int(start), count = Int(end - start)
        return .array((0..<count).map { .int(first + $0) })
    }

    /// `min`/`max`: of one list's elements, or of the arguments; all numbers or all strings.
    static func extreme(_ args: [JSON], smallest: Bool) throws(RuntimeError) -> JSON {
        let name = smallest ? "min" : "max"
        var values = args
        if args.count == 1, case .array(let items) = args[0] { values = items }
        guard let first = values.first else { throw invalidArgument("`\(name)` of an empty list") }
        switch first {
        case .number(var best):
            for v in values.dropFirst() {
                guard case .number(let n) = v else { throw mixed(name, v) }
                if smallest ? n < best : n > best { best = n }
            }
            return .number(best)
        case .string(var best):
            for v in values.dropFirst() {
                guard case .string(let s) = v else { throw mixed(name, v) }
                if smallest ? s < best : s > best { best = s }
            }
            return .string(best)
        default:
            throw typeError("`\(name)` compares numbers or strings, not \(describe(first))")
        }
    }

    private static func mixed(_ name: String, _ v: JSON) -> RuntimeError {
        typeError("`\(name)` compares numbers or strings, all of one type; found \(describe(v)) among them")
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and newlines.
    fileprivate var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
