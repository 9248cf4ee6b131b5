// Runtime state tests: documents, objects and key rules, schedules, invocation counters.
import InfcCompiler
import Testing
@testable import InfcRuntime

@Suite struct StoreStateTests {
    @Test func upgradingDropsTheOldInvocationRecordsAndKeepsTheState() throws {
        let temp = TemporaryState()
        let old = try SQLiteDatabase(path: temp.path)
        try old.migrate(Array(StoreSchema.migrations.prefix(2)))
        try old.run("INSERT INTO documents (tbl, key, value) VALUES ('orders', 'a', '1')")
        try old.run("INSERT INTO invocations (id, trace, function, kind, trigger, started_at, outcome) "
                        + "VALUES ('i', 't', 'f', 'function', 'route GET /', 1, 'ok')")
        old.close()
        let store = try temp.open()
        #expect(try store.database.userVersion() == StoreSchema.migrations.count)
        #expect(try store.database.query("SELECT name FROM sqlite_master WHERE name LIKE 'invocations%'").isEmpty)
        #expect(try store.document(table: "orders", key: "a") == 1)
    }

    @Test func documentsPutGetDeleteAndScanInKeyOrder() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        try store.putDocument(table: "orders", key: "b", value: ["total": 2])
        try store.putDocument(table: "orders", key: "a", value: ["total": 1, "items": ["x", nil]])
        try store.putDocument(table: "orders", key: "c", value: "three")
        try store.putDocument(table: "users", key: "a", value: true)
        #expect(try store.document(table: "orders", key: "a") == ["total": 1, "items": ["x", nil]])
        #expect(try store.document(table: "orders", key: "zz") == nil)

        try store.putDocument(table: "orders", key: "b", value: ["total": 20])
        #expect(try store.document(table: "orders", key: "b") == ["total": 20])

        #expect(try store.scanDocuments(table: "orders").map(\.key) == ["a", "b", "c"])
        #expect(try store.scanDocuments(table: "orders").map(\.value)[2] == "three")
        #expect(try store.scanDocuments(table: "orders", after: "a", limit: 1).map(\.key) == ["b"])

        #expect(try store.deleteDocument(table: "orders", key: "b"))
        #expect(try !store.deleteDocument(table: "orders", key: "b"))
        #expect(try store.scanDocuments(table: "orders").map(\.key) == ["a", "c"])
        #expect(try store.scanDocuments(table: "users").map(\.key) == ["a"])
        #expect(try store.scanDocuments(table: "empty").isEmpty)
    }

    @Test func bytesAndLookalikeObjectsReadBackExactlyAsWritten() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        let photo = JSON.bytes(Bytes((0...255).map { UInt8($0) }, contentType: "image/jpeg"))
        let lookalike: JSON = ["$bytes": "AAEC", "contentType": "image/png"]
        let wrapperLookalike: JSON = ["$object": ["a": 1]]
        let value: JSON = ["photo": photo, "plain": lookalike, "wrapped": wrapperLookalike, "list": [photo, "$x"]]
        try store.putDocument(table: "t", key: "k", value: value)
        #expect(try store.document(table: "t", key: "k") == value)
        try store.putDocument(table: "t", key: "top", value: lookalike)
        #expect(try store.document(table: "t", key: "top") == lookalike)
        // A plain value is stored as plain JSON, as before bytes existed.
        try store.putDocument(table: "t", key: "p", value: ["a": [1, "b"]])
        #expect(try store.database.queryFirst("SELECT value FROM documents WHERE key = 'p'")?.string(0) == #"{"a":[1,"b"]}"#)

        try store.putObject(bucket: "b", key: "img", data: [0xFF, 0xD8], contentType: "image/jpeg")
        #expect(try store.storedObject(bucket: "b", key: "img")?.contentType == "image/jpeg")
        try store.putObject(bucket: "b", key: "img", text: "now text")
        #expect(try store.storedObject(bucket: "b", key: "img")?.contentType == nil)
    }

    @Test func base64RoundTripsAndRefusesWhatIsNotBase64() {
        for n in 0..<8 {
            let data = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 97 + 3) }
            #expect(Base64.decode(Base64.encode(data)) == data)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.decode("Zm8") == nil)
        #expect(Base64.decode("Z=8=") == nil)
        #expect(Base64.decode("Zm8*") == nil)
    }

    @Test func objectsPutGetListByPrefixAndDelete() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        try store.putObject(bucket: "files", key: "img/b.png", data: [1, 2, 3])
        try store.putObject(bucket: "files", key: "img/a.png", data: [])
        try store.putObject(bucket: "files", key: "imgs", text: "x")
        try store.putObject(bucket: "files", key: "notes/ü.txt", text: "grüß")
        try store.putObject(bucket: "other", key: "img/c.png", data: [9])

        #expect(try store.object(bucket: "files", key: "img/b.png") == [1, 2, 3])
        #expect(try store.object(bucket: "files", key: "img/a.png") == [])
        #expect(try store.objectText(bucket: "files", key: "notes/ü.txt") == "grüß")
        #expect(try store.object(bucket: "files", key: "missing") == nil)

        #expect(try store.listObjects(bucket: "files").map(\.key) == ["img/a.png", "img/b.png", "imgs", "notes/ü.txt"])
        #expect(try store.listObjects(bucket: "files", prefix: "img/") == [
            ObjectSummary(key: "img/a.png", size: 0), ObjectSummary(key: "img/b.png", size: 3),
        ])
        #expect(try store.listObjects(bucket: "files", prefix: "img").map(\.key) == ["img/a.png", "img/b.png", "imgs"])
        #expect(try store.listObjects(bucket: "files", prefix: "notes/ü").map(\.key) == ["notes/ü.txt"])
        #expect(try store.listObjects(bucket: "files", prefix: "zzz").isEmpty)

        #expect(try store.deleteObject(bucket: "files", key: "imgs"))
        #expect(try !store.deleteObject(bucket: "files", key: "imgs"))
        #expect(try store.listObjects(bucket: "files", prefix: "").count == 3)
    }

    @Test(arguments: [
        "", String(repeating: "k", count: 1025), "a\u{0}b", "/etc/passwd", "..", "../x", "a/../b", "a/..",
        "a\\b",
    ])
    func objectKeyValidationRefuses(_ key: String) throws {
        let temp = TemporaryState()
        let store = try temp.open()
        #expect {
            try store.putObject(bucket: "b", key: key, data: [1])
        } throws: { error in
            guard let error = error as? StoreError, case .invalidKey(let refused, _) = error else { return false }
            return refused == key && !error.description.contains("\n")
        }
        #expect(throws: StoreError.self) { try store.object(bucket: "b", key: key) }
        #expect(throws: StoreError.self) { try store.deleteObject(bucket: "b", key: key) }
    }

    @Test(arguments: ["a", "a/b/c.txt", "..a", "a..", "a/.../b", "./a", String(repeating: "é", count: 512), "a b"])
    func objectKeyValidationAccepts(_ key: String) throws {
        try StateStore.validateObjectKey(key)
    }

    @Test func schedulesRememberTheirLastFire() throws {
        let temp = TemporaryState()
        do {
            let store = try temp.open()
            #expect(try store.lastFire("nightly") == nil)
            try store.setLastFire("nightly", 1000.5)
            try store.setLastFire("nightly", 2000.25)
            store.close()
        }
        let reopened = try temp.open()
        #expect(try reopened.lastFire("nightly") == 2000.25)
        #expect(try reopened.lastFire("hourly") == nil)
    }

    @Test func invocationCountersAccumulate() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        try store.recordInvocation("createOrder")
        try store.recordInvocation("createOrder", failed: true)
        try store.recordInvocation("ship")
        try store.recordInvocations(["ship": InvocationCount(invocations: 10, failures: 2)])
        #expect(try store.invocationCounts() == [
            "createOrder": InvocationCount(invocations: 2, failures: 1),
            "ship": InvocationCount(invocations: 11, failures: 2),
        ])
    }
}

extension StoreStateTests {
    @Test func conditionalPutsWriteOnlyWhatTheyExpect() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        // Insert: only where nothing is stored.
        #expect(try store.putDocument(table: "t", key: "a", value: ["by": "x"], ifCurrent: nil) == nil)
        #expect(try store.putDocument(table: "t", key: "a", value: ["by": "y"], ifCurrent: nil) == ["by": "x"])
        #expect(try store.document(table: "t", key: "a") == ["by": "x"])
        // Replace: only where the stored value is still the expected one (key order does not matter).
        let read: JSON = ["n": 1, "by": "x"]
        try store.putDocument(table: "t", key: "b", value: ["by": "x", "n": 1])
        #expect(try store.putDocument(table: "t", key: "b", value: ["by": "x", "n": 2], ifCurrent: read) == nil)
        #expect(try store.putDocument(table: "t", key: "b", value: ["by": "x", "n": 3], ifCurrent: read) == ["by": "x", "n": 2])
        #expect(try store.document(table: "t", key: "b") == ["by": "x", "n": 2])
        // Expecting a value where there is none fails with null.
        #expect(try store.putDocument(table: "t", key: "c", value: 1, ifCurrent: 0) == .null)
        #expect(try store.document(table: "t", key: "c") == nil)
    }
}
