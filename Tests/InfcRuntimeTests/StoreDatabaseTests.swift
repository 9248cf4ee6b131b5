// Runtime state tests: the SQLite connection — binding, reading, transactions, migrations, errors.
import Foundation
import Testing
@testable import InfcRuntime

@Suite struct StoreDatabaseTests {
    @Test func opensInWALModeWithForeignKeys() throws {
        let temp = TemporaryState()
        let db = try SQLiteDatabase(path: temp.path)
        #expect(try db.queryFirst("PRAGMA journal_mode")?[0] == .text("wal"))
        #expect(try db.queryFirst("PRAGMA synchronous")?[0] == .integer(1))  // NORMAL
        #expect(try db.queryFirst("PRAGMA foreign_keys")?[0] == .integer(1))
        #expect(FileManager.default.fileExists(atPath: temp.path))
    }

    @Test func bindsAndReadsEveryType() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        try db.execute("CREATE TABLE t (a, b, c, d, e)")
        let values: [[SQLValue]] = [
            [.integer(Int64.min), .real(-0.5), .text("héllo\u{0}wörld"), .blob([0, 1, 255]), .null],
            [.integer(0), .real(1e300), .text(""), .blob([]), .text("🙂")],
        ]
        for row in values { try db.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", row) }
        let rows = try db.query("SELECT a, b, c, d, e FROM t ORDER BY rowid")
        #expect(rows.map(\.values) == values)
        #expect(try rows[1].blob(3) == [])
        #expect(try rows[0].string(2) == "héllo\u{0}wörld")
    }

    @Test func insertReturnsRowIDAndRunReturnsChanges() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        #expect(try db.insert("INSERT INTO t (v) VALUES (?)", ["a"]) == 1)
        #expect(try db.insert("INSERT INTO t (v) VALUES (?)", ["b"]) == 2)
        #expect(try db.run("UPDATE t SET v = 'c'") == 2)
        #expect(try db.queryFirst("SELECT v FROM t WHERE id = ?", [99]) == nil)
    }

    @Test func transactionRollsBackWhenBodyThrows() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        try db.execute("CREATE TABLE t (v INTEGER UNIQUE)")
        #expect(throws: StoreError.self) {
            try db.transaction { () throws(StoreError) in
                try db.run("INSERT INTO t VALUES (1)")
                try db.run("INSERT INTO t VALUES (1)")  // constraint violation
            }
        }
        #expect(try db.query("SELECT v FROM t").isEmpty)
        // Usable afterwards; a nested failure rolls back only its savepoint.
        try db.transaction { () throws(StoreError) in
            try db.run("INSERT INTO t VALUES (2)")
            _ = try? db.transaction { () throws(StoreError) in
                try db.run("INSERT INTO t VALUES (3)")
                try db.run("INSERT INTO t VALUES (3)")
            }
        }
        #expect(try db.query("SELECT v FROM t").map(\.values) == [[.integer(2)]])
    }

    @Test func errorsCarrySQLiteMessageOnOneLine() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        do {
            try db.run("SELECT *\nFROM missing_table")
            Issue.record("expected an error")
        } catch {
            guard case .sqlite(_, let message, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(message.contains("no such table: missing_table"))
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains("FROM missing_table"))
        }
        #expect(throws: StoreError.self) { try db.run("SELECT ?", []) }
        #expect(throws: StoreError.self) { try db.run("SELECT 1; SELECT 2") }
    }

    @Test func migrationsRunOnceAndNewerFilesAreRefused() throws {
        let temp = TemporaryState()
        let first = try SQLiteDatabase(path: temp.path)
        try first.migrate(["CREATE TABLE a (x)", "CREATE TABLE b (y)"])
        #expect(try first.userVersion() == 2)
        try first.migrate(["CREATE TABLE a (x)", "CREATE TABLE b (y)", "INSERT INTO b VALUES (1)"])
        #expect(try first.userVersion() == 3)
        #expect(try first.query("SELECT y FROM b").count == 1)
        first.close()
        #expect(throws: StoreError.closed) { try first.run("SELECT 1") }

        let second = try SQLiteDatabase(path: temp.path)
        #expect(throws: StoreError.newerSchema(found: 3, known: 1)) { try second.migrate(["CREATE TABLE a (x)"]) }
    }

    @Test func theWriteAheadLogIsCheckpointedWhileOpen() throws {
        let temp = TemporaryState()
        let db = try SQLiteDatabase(path: temp.path)
        try db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
        let value = String(repeating: "x", count: 2_000)
        // Well past the 1,000 WAL pages that wake the checkpointer, one commit each.
        for k in 0..<3_000 { try db.run("INSERT INTO t VALUES (?, ?)", [.integer(Int64(k)), .text(value)]) }
        func size(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
        let deadline = Date().addingTimeInterval(5)
        while size(temp.path) < 4_000_000 && Date() < deadline { usleep(20_000) }
        // The rows reached the database file itself while the connection stayed open.
        #expect(size(temp.path) >= 4_000_000)
        db.close()
    }

    @Test func openFailureIsClear() {
        #expect {
            _ = try SQLiteDatabase(path: "/proc/infc-cannot-exist/state.sqlite")
        } throws: { error in
            guard let error = error as? StoreError, case .open = error else { return false }
            return error.description.hasPrefix("cannot open state database /proc/infc-cannot-exist/state.sqlite")
        }
    }
}
