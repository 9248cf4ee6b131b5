// Runtime state: the values SQLite stores and returns, and a row read from a query.

/// One SQLite value, used both to bind statement parameters and to read result columns.
public enum SQLValue: Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public var int64Value: Int64? {
        switch self {
        case .integer(let i): return i
        case .real(let d) where d.rounded() == d && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .real(let d): return d
        case .integer(let i): return Double(i)
        default: return nil
        }
    }

    public var stringValue: String? {
        if case .text(let s) = self { return s } else { return nil }
    }

    public var blobValue: [UInt8]? {
        switch self {
        case .blob(let b): return b
        case .text(let s): return Array(s.utf8)
        default: return nil
        }
    }

    public var isNull: Bool { self == .null }
}

extension SQLValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByNilLiteral
{
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(nilLiteral: ()) { self = .null }

    /// An integer parameter from a platform `Int`.
    public static func int(_ value: Int) -> SQLValue { .integer(Int64(value)) }

    /// Text, or NULL when `value` is nil.
    public static func optionalText(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }

    /// A real, or NULL when `value` is nil.
    public static func optionalReal(_ value: Double?) -> SQLValue { value.map { .real($0) } ?? .null }
}

/// One result row. The typed readers throw `StoreError.corruptValue` when a column holds
/// NULL or a value of another type, so schema drift is reported instead of papered over.
public struct SQLRow: Sendable, Hashable {
    public var values: [SQLValue]

    public init(_ values: [SQLValue]) { self.values = values }

    public var count: Int { values.count }

    public subscript(index: Int) -> SQLValue { values[index] }

    public func int64(_ index: Int) throws(StoreError) -> Int64 {
        guard let v = values[index].int64Value else { throw mismatch(index, "an integer") }
        return v
    }

    public func int(_ index: Int) throws(StoreError) -> Int { Int(try int64(index)) }

    public func double(_ index: Int) throws(StoreError) -> Double {
        guard let v = values[index].doubleValue else { throw mismatch(index, "a number") }
        return v
    }

    public func string(_ index: Int) throws(StoreError) -> String {
        guard let v = values[index].stringValue else { throw mismatch(index, "text") }
        return v
    }

    public func blob(_ index: Int) throws(StoreError) -> [UInt8] {
        guard let v = values[index].blobValue else { throw mismatch(index, "a blob") }
        return v
    }

    /// The column as text, or nil when it is NULL.
    public func optionalString(_ index: Int) throws(StoreError) -> String? {
        values[index].isNull ? nil : try string(index)
    }

    /// The column as a number, or nil when it is NULL.
    public func optionalDouble(_ index: Int) throws(StoreError) -> Double? {
        values[index].isNull ? nil : try double(index)
    }

    private func mismatch(_ index: Int, _ expected: String) -> StoreError {
        .corruptValue("column \(index) holds \(values[index]) where \(expected) was expected")
    }
}
