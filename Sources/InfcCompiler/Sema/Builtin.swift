// Sema stage: the built-in functions and their arities (docs/language.md describes each).

public enum Builtin: String, CaseIterable, Sendable {
    case uuid, now, len, str, int, float, json, parse, keys, merge, range, min, max, log

    /// Accepted argument counts; `Int.max` marks a variadic upper bound.
    public var arity: ClosedRange<Int> {
        switch self {
        case .uuid, .now: return 0...0
        case .len, .str, .int, .float, .json, .parse, .keys: return 1...1
        case .merge: return 2...Int.max
        case .range: return 1...2
        case .min, .max: return 1...Int.max
        case .log: return 1...Int.max
        }
    }

    /// How the call reads, for arity messages and completion.
    public var signature: String {
        switch self {
        case .uuid: return "uuid()"
        case .now: return "now()"
        case .len: return "len(value)"
        case .str: return "str(value)"
        case .int: return "int(value)"
        case .float: return "float(value)"
        case .json: return "json(value)"
        case .parse: return "parse(text)"
        case .keys: return "keys(object)"
        case .merge: return "merge(a, b, …)"
        case .range: return "range(n) or range(start, end)"
        case .min: return "min(a, …)"
        case .max: return "max(a, …)"
        case .log: return "log(value, …)"
        }
    }

    public var summary: String {
        switch self {
        case .uuid: return "a new random UUID string"
        case .now: return "the current time in milliseconds since 1970-01-01 UTC"
        case .len: return "the length of a string, list or object"
        case .str: return "a value as text"
        case .int: return "a number or numeric string as a whole number"
        case .float: return "a number or numeric string as a number"
        case .json: return "a value as JSON text"
        case .parse: return "a value parsed from JSON text"
        case .keys: return "an object's keys, as a list"
        case .merge: return "objects merged left to right (later keys win)"
        case .range: return "the list of whole numbers from start (default 0) up to end, exclusive"
        case .min: return "the smallest of its arguments, or of one list"
        case .max: return "the largest of its arguments, or of one list"
        case .log: return "writes its arguments to the invocation's log"
        }
    }

    static let byName: [String: Builtin] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })
}

extension ClosedRange where Bound == Int {
    /// "1 argument", "2 arguments", "1 or 2 arguments", "at least 2 arguments".
    var argumentDescription: String {
        func n(_ k: Int) -> String { "\(k) argument\(k == 1 ? "" : "s")" }
        if upperBound == Int.max { return "at least \(n(lowerBound))" }
        if lowerBound == upperBound { return n(lowerBound) }
        if upperBound == lowerBound + 1 { return "\(lowerBound) or \(n(upperBound))" }
        return "\(lowerBound) to \(n(upperBound))"
    }
}
