// Runtime state: the errors of the SQLite-backed store, each one line saying what went wrong.

/// An error from the runtime's durable state: SQLite failures carry SQLite's own message,
/// the others name the offending key, execution or value.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The database file could not be opened or configured.
    case open(path: String, message: String)
    /// SQLite refused a statement; `code` is the extended result code.
    case sqlite(code: Int32, message: String, sql: String)
    /// An object key broke a naming rule (empty, too long, NUL, leading "/", ".." segment, backslash).
    case invalidKey(key: String, reason: String)
    /// A workflow execution id that does not exist.
    case unknownExecution(String)
    /// A stored value could not be read back (bad JSON or an unexpected column type).
    case corruptValue(String)
    /// The database is at a schema version newer than this build knows.
    case newerSchema(found: Int, known: Int)
    /// The database was closed.
    case closed

    public var description: String {
        switch self {
        case .open(let path, let message):
            return "cannot open state database \(path): \(oneLine(message))"
        case .sqlite(let code, let message, let sql):
            return "SQLite error \(code): \(oneLine(message)) (in `\(oneLine(sql, limit: 80))`)"
        case .invalidKey(let key, let reason):
            return "invalid object key \"\(oneLine(key, limit: 80))\": \(reason)"
        case .unknownExecution(let id):
            return "no workflow execution with id \"\(oneLine(id, limit: 80))\""
        case .corruptValue(let message):
            return "corrupt stored value: \(oneLine(message))"
        case .newerSchema(let found, let known):
            return "the state database has schema version \(found) but this infc knows only \(known); use a newer infc or another --state directory"
        case .closed:
            return "the state database is closed"
        }
    }
}

/// Collapses whitespace and control characters (newlines, NUL) to single spaces and shortens
/// long text, so that every message stays on one line.
func oneLine(_ text: String, limit: Int = 300) -> String {
    let words = text.split(whereSeparator: { c in
        c.isWhitespace || c.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    })
    let joined = words.joined(separator: " ")
    return joined.count > limit ? String(joined.prefix(limit)) + "…" : joined
}
