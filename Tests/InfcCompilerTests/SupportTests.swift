// Unit tests of the support types: JSON (values, objects, text) and SHA-256.
import Testing
@testable import InfcCompiler

@Suite struct SupportTests {
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
