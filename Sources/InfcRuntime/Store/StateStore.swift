// Runtime state: the durable store behind every resource of `infc run` — documents (tables),
// objects (buckets), schedules and invocation counters here; queues and workflows in extensions.
import InfcCompiler

/// The runtime's durable state in one SQLite file. Every mutating call is committed before it
/// returns (one transaction per call), so it survives kill -9. Time is always passed in by the
/// caller as seconds since the epoch; the store has no clock. Safe to use from any thread.
public final class StateStore: Sendable {
    public let database: SQLiteDatabase

    /// Opens (creating it and its directories if needed) the state file at `path`.
    public convenience init(path: String) throws(StoreError) {
        try self.init(database: SQLiteDatabase(path: path))
    }

    /// Uses an open database, bringing its schema up to date.
    public init(database: SQLiteDatabase) throws(StoreError) {
        self.database = database
        try database.migrate(StoreSchema.migrations)
    }

    /// Closes the database; later calls throw `StoreError.closed`.
    public func close() { database.close() }

    // MARK: Documents (tables)

    /// Stores `value` under `key` in `table`, replacing any previous value.
    public func putDocument(table: String, key: String, value: JSON) throws(StoreError) {
        try database.run(
            "INSERT INTO documents (tbl, key, value) VALUES (?, ?, ?) "
                + "ON CONFLICT (tbl, key) DO UPDATE SET value = excluded.value",
            [.text(table), .text(key), .text(StoredValue.encode(value))])
    }

    /// Stores `value` under `key` only if the stored value equals `expected` (nil: no value
    /// stored), atomically — across threads and processes (`BEGIN IMMEDIATE`). Returns nil when
    /// it was written, else the value found there (`.null` when there was none).
    public func putDocument(table: String, key: String, value: JSON, ifCurrent expected: JSON?) throws(StoreError) -> JSON? {
        try database.transaction { () throws(StoreError) -> JSON? in
            let current = try document(table: table, key: key)
            guard current == expected else { return .some(current ?? .null) }
            try putDocument(table: table, key: key, value: value)
            return Optional<JSON>.none
        }
    }

    /// The value stored under `key` in `table`, or nil.
    public func document(table: String, key: String) throws(StoreError) -> JSON? {
        guard let row = try database.queryFirst(
            "SELECT value FROM documents WHERE tbl = ? AND key = ?", [.text(table), .text(key)])
        else { return nil }
        return try Self.decode(row.string(0))
    }

    /// Deletes `key` from `table`; returns whether it existed.
    @discardableResult
    public func deleteDocument(table: String, key: String) throws(StoreError) -> Bool {
        try database.run("DELETE FROM documents WHERE tbl = ? AND key = ?", [.text(table), .text(key)]) > 0
    }

    /// The documents of `table` in key order (byte order of UTF-8), optionally only those whose
    /// key sorts after `after`, at most `limit` of them.
    public func scanDocuments(table: String, after: String? = nil, limit: Int? = nil) throws(StoreError)
        -> [(key: String, value: JSON)]
    {
        let rows = try database.query(
            "SELECT key, value FROM documents WHERE tbl = ?1 AND (?2 IS NULL OR key > ?2) ORDER BY key LIMIT ?3",
            [.text(table), .optionalText(after), .int(limit ?? -1)])
        var result: [(key: String, value: JSON)] = []
        result.reserveCapacity(rows.count)
        for row in rows { result.append((try row.string(0), try Self.decode(row.string(1)))) }
        return result
    }

    // MARK: Objects (buckets)

    /// Stores `data` under `key` in `bucket`, replacing any previous object. `contentType` is
    /// the media type of binary data; nil marks text.
    public func putObject(bucket: String, key: String, data: [UInt8], contentType: String? = nil) throws(StoreError) {
        try Self.validateObjectKey(key)
        try database.run(
            "INSERT INTO objects (bucket, key, data, content_type) VALUES (?, ?, ?, ?) "
                + "ON CONFLICT (bucket, key) DO UPDATE SET data = excluded.data, content_type = excluded.content_type",
            [.text(bucket), .text(key), .blob(data), .optionalText(contentType)])
    }

    /// Stores the UTF-8 bytes of `text` under `key` in `bucket`.
    public func putObject(bucket: String, key: String, text: String) throws(StoreError) {
        try putObject(bucket: bucket, key: key, data: Array(text.utf8))
    }

    /// The bytes stored under `key` in `bucket`, or nil.
    public func object(bucket: String, key: String) throws(StoreError) -> [UInt8]? {
        try storedObject(bucket: bucket, key: key)?.data
    }

    /// The bytes under `key` in `bucket` with the media type they were stored with (nil for
    /// text), or nil when there is no such object.
    public func storedObject(bucket: String, key: String) throws(StoreError) -> (data: [UInt8], contentType: String?)? {
        try Self.validateObjectKey(key)
        guard let row = try database.queryFirst(
            "SELECT data, content_type FROM objects WHERE bucket = ? AND key = ?", [.text(bucket), .text(key)])
        else { return nil }
        return (try row.blob(0), try row.optionalString(1))
    }

    /// The object under `key` decoded as UTF-8 (invalid sequences replaced), or nil.
    public func objectText(bucket: String, key: String) throws(StoreError) -> String? {
        try object(bucket: bucket, key: key).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Deletes `key` from `bucket`; returns whether it existed.
    @discardableResult
    public func deleteObject(bucket: String, key: String) throws(StoreError) -> Bool {
        try Self.validateObjectKey(key)
        return try database.run("DELETE FROM objects WHERE bucket = ? AND key = ?", [.text(bucket), .text(key)]) > 0
    }

    /// The objects of `bucket` whose keys start with `prefix` (all when nil or empty), in key order.
    public func listObjects(bucket: String, prefix: String? = nil) throws(StoreError) -> [ObjectSummary] {
        let rows: [SQLRow]
        if let prefix, !prefix.isEmpty {
            // Every UTF-8 string that starts with `prefix` sorts in [prefix, prefix + 0xF5): no
            // UTF-8 byte is 0xF5 or above. The range keeps the primary-key index usable.
            rows = try database.query(
                "SELECT key, length(data) FROM objects WHERE bucket = ? AND key >= ? AND key < CAST(? AS TEXT) ORDER BY key",
                [.text(bucket), .text(prefix), .blob(Array(prefix.utf8) + [0xF5])])
        } else {
            rows = try database.query(
                "SELECT key, length(data) FROM objects WHERE bucket = ? ORDER BY key", [.text(bucket)])
        }
        var result: [ObjectSummary] = []
        result.reserveCapacity(rows.count)
        for row in rows { result.append(ObjectSummary(key: try row.string(0), size: try row.int(1))) }
        return result
    }

    /// Refuses keys that would be unsafe or ambiguous as object names or file paths: empty, over
    /// 1024 UTF-8 bytes, containing NUL or a backslash, starting with "/", or with a ".." segment.
    public static func validateObjectKey(_ key: String) throws(StoreError) {
        let bytes = key.utf8
        func refuse(_ reason: String) -> StoreError { .invalidKey(key: key, reason: reason) }
        if bytes.isEmpty { throw refuse("a key must not be empty") }
        if bytes.count > maxObjectKeyBytes {
            throw refuse("a key must be at most \(maxObjectKeyBytes) bytes of UTF-8 (this one is \(bytes.count))")
        }
        if bytes.contains(0) { throw refuse("a key must not contain a NUL character") }
        if bytes.first == UInt8(ascii: "/") { throw refuse("a key must not start with \"/\"") }
        if bytes.contains(UInt8(ascii: "\\")) { throw refuse("a key must not contain a backslash; use \"/\"") }
        if key.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
            throw refuse("a key must not contain a \"..\" path segment")
        }
    }

    public static let maxObjectKeyBytes = 1024

    // MARK: Schedules

    /// When the schedule `name` last fired, or nil if it never has.
    public func lastFire(_ name: String) throws(StoreError) -> Double? {
        try database.queryFirst("SELECT last_fire FROM schedules WHERE name = ?", [.text(name)])?.double(0)
    }

    /// Records that the schedule `name` fired at `time`, so a restart does not fire it again.
    public func setLastFire(_ name: String, _ time: Double) throws(StoreError) {
        try database.run(
            "INSERT INTO schedules (name, last_fire) VALUES (?, ?) "
                + "ON CONFLICT (name) DO UPDATE SET last_fire = excluded.last_fire",
            [.text(name), .real(time)])
    }

    /// Records a schedule's interval or cron text and its next firing (nil: the running version
    /// does not have it), for `infc status` and `infc schedule list`.
    public func setScheduleState(_ name: String, every: String, nextFire: Double?, now: Double) throws(StoreError) {
        try database.run(
            "INSERT INTO schedules (name, last_fire, every, next_fire) VALUES (?1, ?4, ?2, ?3) "
                + "ON CONFLICT (name) DO UPDATE SET every = excluded.every, next_fire = excluded.next_fire",
            [.text(name), .text(every), nextFire.map { .real($0) } ?? .null, .real(now)])
    }

    /// Marks every schedule not in `names` as not scheduled (its next firing NULL).
    public func retireSchedules(except names: [String]) throws(StoreError) {
        let list = JSON.array(names.map { .string($0) }).serialized()
        try database.run(
            "UPDATE schedules SET next_fire = NULL WHERE next_fire IS NOT NULL AND name NOT IN (SELECT value FROM json_each(?))",
            [.text(list)])
    }

    /// The schedules the runtime has recorded, by name.
    public func scheduleStates() throws(StoreError) -> [ScheduleState] {
        try database.query("SELECT name, every, last_fire, next_fire FROM schedules WHERE every IS NOT NULL AND next_fire IS NOT NULL ORDER BY name").map {
            row throws(StoreError) in
            ScheduleState(name: try row.string(0), every: try row.optionalString(1), lastFire: try row.double(2),
                          nextFire: try row.optionalDouble(3))
        }
    }

    // MARK: Invocation counters

    /// Counts one invocation of `function` (and one failure when `failed`).
    public func recordInvocation(_ function: String, failed: Bool = false) throws(StoreError) {
        try addInvocations(function, InvocationCount(invocations: 1, failures: failed ? 1 : 0))
    }

    /// Adds counts gathered in memory, all in one transaction; for runtimes that flush
    /// periodically instead of writing on every request.
    public func recordInvocations(_ counts: [String: InvocationCount]) throws(StoreError) {
        try database.transaction { () throws(StoreError) in
            for (function, count) in counts { try addInvocations(function, count) }
        }
    }

    /// Every function's counts so far.
    public func invocationCounts() throws(StoreError) -> [String: InvocationCount] {
        var result: [String: InvocationCount] = [:]
        for row in try database.query("SELECT function, invocations, failures FROM invocation_counts") {
            result[try row.string(0)] = InvocationCount(invocations: try row.int64(1), failures: try row.int64(2))
        }
        return result
    }

    private func addInvocations(_ function: String, _ count: InvocationCount) throws(StoreError) {
        try database.run(
            "INSERT INTO invocation_counts (function, invocations, failures) VALUES (?, ?, ?) "
                + "ON CONFLICT (function) DO UPDATE SET invocations = invocations + excluded.invocations, "
                + "failures = failures + excluded.failures",
            [.text(function), .integer(count.invocations), .integer(count.failures)])
    }

    // MARK: Helpers

    /// Parses a stored JSON text; a failure means the file was altered outside infc.
    static func decode(_ text: String) throws(StoreError) -> JSON {
        try StoredValue.decode(text)
    }

    static func decode(_ text: String?) throws(StoreError) -> JSON? {
        guard let text else { return nil }
        return try decode(text)
    }
}

/// One object in a bucket listing.
public struct ObjectSummary: Sendable, Hashable {
    public var key: String
    /// The size in bytes.
    public var size: Int

    public init(key: String, size: Int) {
        self.key = key
        self.size = size
    }
}

/// A schedule as the runtime last recorded it.
public struct ScheduleState: Sendable, Hashable {
    public var name: String
    /// `5m`-style interval or the cron text.
    public var every: String?
    public var lastFire: Double
    /// When it fires next (as of the runtime's last look).
    public var nextFire: Double?
}

/// How often a function ran, and how many of those runs failed.
public struct InvocationCount: Sendable, Hashable {
    public var invocations: Int64
    public var failures: Int64

    public init(invocations: Int64, failures: Int64) {
        self.invocations = invocations
        self.failures = failures
    }
}
