// Unit tests of the support types: JSON and SHA-256.
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
