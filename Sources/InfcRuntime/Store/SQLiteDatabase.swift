// Runtime state: one SQLite connection in WAL mode, shared by every thread of the runtime
// behind a lock, with cached prepared statements, transactions and schema migrations.
import CSQLite
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// A SQLite database file holding the runtime's durable state.
///
/// The file is opened in WAL mode with `synchronous=NORMAL`: a committed transaction survives the
/// process being killed (kill -9); only an operating-system crash may lose the last commits.
/// One connection serves every thread: each call takes a recursive lock, so a `transaction`
/// body may call `run`, `query` or a nested `transaction` (a savepoint) on the same thread,
/// while other threads wait for the transaction to finish. Prepared statements are cached by
/// their SQL text and reused. Checkpoints run on a second connection (`WALCheckpointer`), never
/// under the lock. Every failure is a `StoreError`.
public final class SQLiteDatabase: @unchecked Sendable {
    /// The file path, or ":memory:".
    public let path: String

    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    private var transactionDepth = 0
    private var checkpointer: WALCheckpointer?
    private let lock = Lock(recursive: true)
    private static let statementCacheLimit = 256

    /// Opens (creating if needed, with its directories) the database at `path` and configures
    /// WAL mode, `synchronous=NORMAL`, a busy timeout and foreign keys.
    public init(path: String, busyTimeout: Double = 5) throws(StoreError) {
        self.path = path
        let inMemory = path == ":memory:" || path.isEmpty
        if !inMemory {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw .open(path: path, message: "cannot create directory \(directory): \(FileIO.message(error))")
            }
        }
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw .open(path: path, message: message)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Int32(max(0, busyTimeout) * 1000))
        do throws(StoreError) {
            let mode = try queryFirst("PRAGMA journal_mode=WAL")?[0].stringValue?.lowercased()
            if !inMemory && mode != "wal" {
                throw StoreError.open(path: path, message: "cannot switch to WAL journal mode (got \(mode ?? "nothing"))")
            }
            // The WAL file keeps the size it once reached; past 64 MB it is cut back after a reset.
            try execute("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA journal_size_limit=67108864;")
            if !inMemory, let c = WALCheckpointer(path: path, busyTimeout: busyTimeout), c.attach(to: db) {
                checkpointer = c
            }
        } catch {
            close()
            if case .open = error { throw error }
            throw .open(path: path, message: error.description)
        }
    }

    deinit { close() }

    /// Finalizes every cached statement and closes the connection; later calls throw `.closed`.
    /// SQLite checkpoints the WAL into the main file when the last connection closes.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        guard let db = handle else { return }
        checkpointer?.stop(detaching: db)
        checkpointer = nil
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        sqlite3_close_v2(db)
        handle = nil
    }

    public var isOpen: Bool {
        lock.lock()
        defer { lock.unlock() }
        return handle != nil
    }

    // MARK: Statements

    /// Runs one or more statements without parameters (DDL, pragmas).
    public func execute(_ sql: String) throws(StoreError) {
        try locked { db throws(StoreError) in
            var message: UnsafeMutablePointer<CChar>?
            let rc = sqlite3_exec(db, sql, nil, nil, &message)
            guard rc == SQLITE_OK else {
                let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(db))
                sqlite3_free(message)
                throw .sqlite(code: sqlite3_extended_errcode(db), message: text, sql: sql)
            }
        }
    }

    /// Runs one statement to completion and returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ parameters: [SQLValue] = []) throws(StoreError) -> Int {
        try withStatement(sql, parameters) { statement, db throws(StoreError) in
            try stepToEnd(statement, db, sql)
            return Int(sqlite3_changes(db))
        }
    }

    /// Runs one INSERT and returns the rowid of the inserted row.
    public func insert(_ sql: String, _ parameters: [SQLValue] = []) throws(StoreError) -> Int64 {
        try withStatement(sql, parameters) { statement, db throws(StoreError) in
            try stepToEnd(statement, db, sql)
            return sqlite3_last_insert_rowid(db)
        }
    }

    /// Runs one statement and returns every row it produces.
    public func query(_ sql: String, _ parameters: [SQLValue] = []) throws(StoreError) -> [SQLRow] {
        try withStatement(sql, parameters) { statement, db throws(StoreError) in
            var rows: [SQLRow] = []
            while true {
                let rc = sqlite3_step(statement)
                if rc == SQLITE_ROW {
                    rows.append(Self.readRow(statement))
                } else if rc == SQLITE_DONE {
                    return rows
                } else {
                    throw Self.failure(db, sql)
                }
            }
        }
    }

    /// Runs one statement and returns its first row, if any.
    public func queryFirst(_ sql: String, _ parameters: [SQLValue] = []) throws(StoreError) -> SQLRow? {
        try withStatement(sql, parameters) { statement, db throws(StoreError) in
            let rc = sqlite3_step(statement)
            if rc == SQLITE_ROW { return Self.readRow(statement) }
            if rc == SQLITE_DONE { return nil }
            throw Self.failure(db, sql)
        }
    }

    // MARK: Transactions and migrations

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction, committed when it returns and rolled back
    /// when it throws. Nested calls on the same thread become savepoints. Other threads wait.
    public func transaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        lock.lock()
        defer { lock.unlock() }
        guard let db = handle else { throw .closed }
        if transactionDepth > 0 {
            let name = "infc_sp\(transactionDepth)"
            try run("SAVEPOINT \(name)")
            transactionDepth += 1
            defer { transactionDepth -= 1 }
            do {
                let result = try body()
                try run("RELEASE \(name)")
                return result
            } catch {
                _ = try? run("ROLLBACK TO \(name)")
                _ = try? run("RELEASE \(name)")
                throw error
            }
        }
        try run("BEGIN IMMEDIATE")
        transactionDepth = 1
        defer { transactionDepth = 0 }
        do {
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            if sqlite3_get_autocommit(db) == 0 { _ = try? run("ROLLBACK") }
            throw error
        }
    }

    /// The schema version stored in the file (`PRAGMA user_version`).
    public func userVersion() throws(StoreError) -> Int {
        try queryFirst("PRAGMA user_version")?.int(0) ?? 0
    }

    /// Brings the schema up to date: `migrations[i]` takes version `i` to `i + 1`. All pending
    /// migrations run in one transaction. A file newer than `migrations.count` is refused.
    public func migrate(_ migrations: [String]) throws(StoreError) {
        try transaction { () throws(StoreError) in
            let current = try userVersion()
            guard current <= migrations.count else {
                throw .newerSchema(found: current, known: migrations.count)
            }
            for (index, sql) in migrations.enumerated() where index >= current {
                try execute(sql)
                try execute("PRAGMA user_version = \(index + 1)")
            }
        }
    }

    // MARK: Internals

    private func locked<T>(_ body: (OpaquePointer) throws(StoreError) -> T) throws(StoreError) -> T {
        lock.lock()
        defer { lock.unlock() }
        guard let db = handle else { throw .closed }
        return try body(db)
    }

    /// Prepares (or reuses) the statement for `sql`, binds `parameters`, runs `body`, then
    /// resets the statement so the cache can hand it out again.
    private func withStatement<T>(
        _ sql: String, _ parameters: [SQLValue],
        _ body: (OpaquePointer, OpaquePointer) throws(StoreError) -> T
    ) throws(StoreError) -> T {
        try locked { db throws(StoreError) in
            let statement = try prepared(db, sql)
            defer {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            }
            try bind(statement, parameters, db, sql)
            return try body(statement, db)
        }
    }

    private func prepared(_ db: OpaquePointer, _ sql: String) throws(StoreError) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        var rest = ""
        let rc = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(db, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
            if let tail { rest = String(cString: tail) }  // `tail` points into `text`: read it here
            return rc
        }
        guard rc == SQLITE_OK, let statement else { throw Self.failure(db, sql) }
        if !rest.allSatisfy({ $0.isWhitespace || $0 == ";" }) {
            sqlite3_finalize(statement)
            throw .sqlite(code: SQLITE_MISUSE, message: "one statement expected; use execute for several", sql: sql)
        }
        if statements.count >= Self.statementCacheLimit {
            for cached in statements.values { sqlite3_finalize(cached) }
            statements.removeAll()
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ statement: OpaquePointer, _ parameters: [SQLValue], _ db: OpaquePointer, _ sql: String)
        throws(StoreError)
    {
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == parameters.count else {
            throw .sqlite(
                code: SQLITE_RANGE, message: "the statement takes \(expected) parameters but \(parameters.count) were given",
                sql: sql)
        }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (offset, value) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(statement, index)
            case .integer(let n):
                rc = sqlite3_bind_int64(statement, index, n)
            case .real(let d):
                rc = sqlite3_bind_double(statement, index, d)
            case .text(var s):
                // Explicit byte length: text may contain NUL. An empty string must not be a
                // NULL pointer, which SQLite would bind as NULL.
                rc = s.withUTF8 { bytes in
                    bytes.isEmpty
                        ? sqlite3_bind_text(statement, index, "", 0, transient)
                        : sqlite3_bind_text64(
                            statement, index, UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self),
                            UInt64(bytes.count), transient, UInt8(SQLITE_UTF8))
                }
            case .blob(let b):
                rc = b.isEmpty
                    ? sqlite3_bind_zeroblob(statement, index, 0)
                    : b.withUnsafeBytes { sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), transient) }
            }
            guard rc == SQLITE_OK else { throw Self.failure(db, sql) }
        }
    }

    private func stepToEnd(_ statement: OpaquePointer, _ db: OpaquePointer, _ sql: String) throws(StoreError) {
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return }
            if rc != SQLITE_ROW { throw Self.failure(db, sql) }
        }
    }

    private static func readRow(_ statement: OpaquePointer) -> SQLRow {
        let count = sqlite3_column_count(statement)
        var values: [SQLValue] = []
        values.reserveCapacity(Int(count))
        for column in 0..<count {
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER:
                values.append(.integer(sqlite3_column_int64(statement, column)))
            case SQLITE_FLOAT:
                values.append(.real(sqlite3_column_double(statement, column)))
            case SQLITE3_TEXT:
                let text = sqlite3_column_text(statement, column)
                let length = Int(sqlite3_column_bytes(statement, column))
                values.append(.text(text.map { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""))
            case SQLITE_BLOB:
                let bytes = sqlite3_column_blob(statement, column)
                let length = Int(sqlite3_column_bytes(statement, column))
                values.append(.blob(bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []))
            default:
                values.append(.null)
            }
        }
        return SQLRow(values)
    }

    private static func failure(_ db: OpaquePointer, _ sql: String) -> StoreError {
        .sqlite(code: sqlite3_extended_errcode(db), message: String(cString: sqlite3_errmsg(db)), sql: sql)
    }
}
