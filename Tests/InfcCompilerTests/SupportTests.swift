// Unit tests of the support types: JSON (values, objects, text), SHA-256 and the plan's
// reason sentences.
import Testing
@testable import InfcCompiler

@Suite struct SupportTests {
    @Test func routePathsParseOrSayWhatIsWrong() throws {
        func parsed(_ path: String) -> [RoutePath.Segment]? { try? RoutePath.parse(path).get().segments }
        func error(_ path: String) -> String? {
            if case .failure(let e) = RoutePath.parse(path) { return e.message }
            return nil
        }
        #expect(parsed("/") == [])
        #expect(parsed("/orders/:id/items/:item_2") == [.literal("orders"), .parameter("id"), .literal("items"), .parameter("item_2")])
        #expect(parsed("/a-b.c_d~e/Z9") == [.literal("a-b.c_d~e"), .literal("Z9")])
        #expect(parsed("/:_x") == [.parameter("_x")])
        #expect(try RoutePath.parse("/orders/:id").get().shape == "/orders/:")
        #expect(error("orders") == "a route path must start with `/`")
        #expect(error("/orders/") == "a route path must not end with `/`")
        #expect(error("/a//b") == "a route path cannot contain an empty segment (`//`)")
        #expect(error("/:id/x/:id") == "path parameter `:id` appears twice")
        for bad in [":1st", ":", ":a-b", ":caf\u{E9}"] {
            #expect(error("/x/" + bad) == "`\(bad)` is not a valid path parameter; write `:name` with letters, digits and `_`")
        }
        #expect(error("/caf\u{E9}/x") == "character `\u{E9}` is not allowed in a route path; use letters, digits, `-`, `.`, `_` and `~`")
        #expect(error("/a b") == "character ` ` is not allowed in a route path; use letters, digits, `-`, `.`, `_` and `~`")
        #expect(error("/a?b") == "character `?` is not allowed in a route path; use letters, digits, `-`, `.`, `_` and `~`")
    }

    @Test func sha256KnownVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func jsonRoundTrip() throws {
        let text = #"{"b":[1,2.5,-3e2,true,false,null],"a":"x\"\u00e9\ud83d\ude00\n"}"#
        let value = try JSON.parse(text)
        #expect(value["b"]?.arrayValue?.count == 6)
        #expect(value["a"]?.stringValue == "x\"é😀\n")
        #expect(value.serialized() == #"{"b":[1,2.5,-300,true,false,null],"a":"x\"é😀\n"}"#)
        #expect(try JSON.parse(value.serialized()) == value)
    }

    @Test(arguments: [3, JSONObject.indexThreshold + 5])
    func jsonObjectKeepsOrderAndCompares(count: Int) {
        // Small objects scan one array; large ones keep an index beside it: both behave alike.
        var object = JSONObject()
        for i in 0..<count { object["k\(i)"] = .int(i) }
        object["k0"] = "first, replaced"
        #expect(object.count == count)
        #expect(object.keys == (0..<count).map { "k\($0)" })
        #expect(object["k0"] == "first, replaced")
        #expect(object["k\(count - 1)"] == .int(count - 1))
        #expect(object["missing"] == nil)

        object["k1"] = nil
        #expect(object.count == count - 1)
        #expect(object["k1"] == nil)
        #expect(object["k2"] == .int(2))
        #expect(Array(object.map(\.key).prefix(2)) == ["k0", "k2"])

        // Equality and hashing ignore order, as for a dictionary.
        var reversed = JSONObject()
        for (k, v) in object.reversed() { reversed[k] = v }
        #expect(reversed == object)
        #expect(reversed.hashValue == object.hashValue)
        reversed["k2"] = .int(-2)
        #expect(reversed != object)
    }

    @Test func lineStartsFindEveryNewline() {
        // Newlines at every position of the eight-byte words and in the tail, and none at all.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15  // a fixed sequence: a failure reproduces
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        for length in 0..<70 {
            for _ in 0..<8 {
                let bytes = (0..<length).map { _ in [UInt8(ascii: "\n"), 0x0B, 0x09, 0x8A, 0x61][next() % 5] }
                let expected = [0] + bytes.indices.filter { bytes[$0] == UInt8(ascii: "\n") }.map { $0 + 1 }
                #expect(SourceFile(path: "a.inf", bytes: bytes).lineStarts == expected, "\(bytes)")
            }
        }
    }

    @Test func permissionOrderIsByNameThenDeclaration() {
        // The ranks behind `<` keep the orders the plan has always sorted by.
        let types = Permission.ResourceType.allCases
        #expect(types.sorted() == types.sorted { $0.rawValue < $1.rawValue })
        #expect(Action.allCases.sorted() == Action.allCases)
    }

    @Test func grantListGroupsReasonsByPermission() {
        // Past the linear scan's eight permissions too: each permission once, reasons in order.
        var list = GrantList()
        let tables = (0..<20).map { "t\($0)" }
        for round in 0..<3 {
            for t in tables.reversed() {
                list.add(Permission(.read, on: ResourceID(t), .table), Reason("\(t) \(round)", .zero))
            }
        }
        list.add(Permission(.write, on: "t0", .table), Reason("w", .zero))
        let file = SourceFile(path: "a.inf", text: "")
        let grants = list.sorted
        #expect(grants.count == 21)
        #expect(grants.map(\.permission) == grants.map(\.permission).sorted())
        let t5 = grants.first { $0.permission == Permission(.read, on: "t5", .table) }
        #expect(t5?.reasons.map { $0.text(in: file) } == ["t5 0", "t5 1", "t5 2"])
    }

    @Test func nameTableFindsWhatItHolds() {
        // Enough names to grow the table several times, ASCII and not, and look-alikes.
        var table = NameTable()
        let names = (0..<3000).map { "n\($0)" } + ["", "é", "ñame", "_"]
        for (k, name) in names.enumerated() {
            #expect(table.insert(name) == (k, true))
            #expect(table.insert(name) == (k, false))
        }
        for (k, name) in names.enumerated() { #expect(table.find(name) == k) }
        #expect(table.find("n3000") == nil && table.find("N1") == nil && table.find("n01") == nil)
        #expect(table.names == names)
    }

    @Test func reasonsAreWrittenFromTheirPieces() {
        let file = SourceFile(path: "dir/app.inf", text: "fn f() {\n  sleep(1d)\n  orders.put(\"k\", {\n    v: 1 })\n}\n")
        let statement = SourceRange(file.lineStarts[2] + 2, file.lineStarts[4] - 1)
        let reason = Reason("waits with `\(source: statement, firstLine: true)` at \(at: statement)", statement)
        #expect(reason.text(in: file) == "waits with `orders.put(\"k\", {` at app.inf:3:3")
        #expect(Reason("\(source: statement, prefix: 6) (limit \(10))", statement).text(in: file) == "orders (limit 10)")
        #expect(Reason("plain words", .zero).text(in: file) == "plain words")

        // A list of names leaves one out, and past four says how many more there are.
        let few = ["a", "b", "c"], many = (1...9).map { "f\($0)" }
        #expect(Reason("with \(names: few, excluding: "b")", .zero).text(in: file) == "with a, c")
        #expect(Reason("with \(names: Array(many.prefix(5)), excluding: "f5")", .zero).text(in: file) == "with f1, f2, f3, f4")
        #expect(Reason("with \(names: many, excluding: "f1")", .zero).text(in: file) == "with f2, f3, f4 and 5 others")
    }

    @Test func jsonRejectsMalformedInput() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "\"\\x\"", "tru", "[1] 2", String(repeating: "[", count: 10_000)] {
            #expect(throws: JSONParseError.self) { try JSON.parse(bad) }
        }
    }

    @Test func prettyPrintingIsStable() {
        let v: JSON = ["z": 1, "a": ["x", ["k": .null]], "e": [:], "l": []]
        #expect(v.prettyPrinted() == "{\n  \"z\": 1,\n  \"a\": [\n    \"x\",\n    {\n      \"k\": null\n    }\n  ],\n  \"e\": {},\n  \"l\": []\n}\n")
    }
}
