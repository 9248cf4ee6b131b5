// Runtime interpreter tests: every built-in function, with its error cases.

import InfcCompiler
import Testing
@testable import InfcRuntime

@Suite struct InterpreterBuiltinTests {
    @Test func uuidAndNowComeFromTheHost() {
        #expect(value("[uuid(), uuid(), now()]") == ["uuid-1", "uuid-2", 1_700_000_000_000])
    }

    @Test func len() {
        #expect(value(#"len("héllo")"#) == 5)
        #expect(value(#"len("👍🏽")"#) == 1)
        #expect(value("len([1, [2, 3]])") == 2)
        #expect(value("len({a: 1, b: 2})") == 2)
        #expect(value(#"len("")"#) == 0)
        #expect(failure("len(5)")?.code == "type-error")
        #expect(failure("len(null)")?.code == "type-error")
    }

    @Test func str() {
        #expect(value(#"str("s")"#) == "s")
        #expect(value("str(42)") == "42")
        #expect(value("str(-0.25)") == "-0.25")
        #expect(value("str(true)") == "true")
        #expect(value("str(null)") == "null")
        #expect(value(#"str({a: [1, "b"]})"#) == #"{"a":[1,"b"]}"#)
    }

    @Test func int() {
        #expect(value("int(3.9)") == 3)
        #expect(value("int(-3.9)") == -3)
        #expect(value(#"int("42")"#) == 42)
        #expect(value(#"int(" 7.8 ")"#) == 7)
        #expect(value(#"int("-1e3")"#) == -1000)
        #expect(failure(#"int("abc")"#)?.code == "invalid-argument")
        #expect(failure(#"int("")"#)?.code == "invalid-argument")
        #expect(failure(#"int("12abc")"#)?.code == "invalid-argument")
        #expect(failure("int(null)")?.code == "type-error")
        #expect(failure("int(true)")?.code == "type-error")
    }

    @Test func float() {
        #expect(value("float(2)") == 2)
        #expect(value(#"float("2.5")"#) == 2.5)
        #expect(failure(#"float("two")"#)?.code == "invalid-argument")
        #expect(failure("float([1])")?.code == "type-error")
    }

    @Test func jsonAndParse() {
        #expect(value(#"json({a: [1, 2.5, "x\n"], b: null})"#) == #"{"a":[1,2.5,"x\n"],"b":null}"#)
        #expect(value(#"json("s")"#) == #""s""#)
        #expect(value(#"parse("\{\"a\": [1, true, null]}")"#) == ["a": [1, true, JSON.null]])
        #expect(value(#"parse(json({k: [1, {z: "q"}]}))"#) == ["k": [1, ["z": "q"]]])
        let bad = failure(#"parse("\{nope")"#)
        #expect(bad?.code == "parse-error")
        #expect(bad?.isCatchable == true)
        #expect(failure("parse(5)")?.code == "type-error")
    }

    @Test func keys() {
        #expect(value("keys({b: 1, a: 2})") == ["b", "a"])
        #expect(value("keys({})") == [])
        #expect(failure("keys([1])")?.code == "type-error")
        #expect(failure("keys(null)")?.code == "type-error")
    }

    @Test func merge() {
        #expect(value("merge({a: 1, b: 2}, {b: 3, c: 4})") == ["a": 1, "b": 3, "c": 4])
        #expect(value("merge({a: 1}, {b: 2}, {a: 9})") == ["a": 9, "b": 2])
        #expect(value("merge({a: 1, b: 2}, {a: 0})")?.objectValue?.keys == ["a", "b"])
        let e = failure("merge({a: 1}, [2])")
        #expect(e?.code == "type-error")
        #expect(e?.message == "`merge` takes objects; argument 2 is a list")
        #expect(failure("merge(null, {})")?.code == "type-error")
    }

    @Test func range() {
        #expect(value("range(4)") == [0, 1, 2, 3])
        #expect(value("range(2, 5)") == [2, 3, 4])
        #expect(value("range(-2, 1)") == [-2, -1, 0])
        #expect(value("range(0)") == [])
        #expect(value("range(5, 2)") == [])
        #expect(value("len(range(1000000))") == 1_000_000)
        #expect(failure("range(1000001)")?.code == "invalid-argument")
        #expect(failure("range(0, 2000000)")?.code == "invalid-argument")
        #expect(failure("range(1.5)")?.code == "type-error")
        #expect(failure(#"range("3")"#)?.code == "type-error")
    }

    @Test func minAndMax() {
        #expect(value("min(3, 1, 2)") == 1)
        #expect(value("max(3, 1, 2)") == 3)
        #expect(value("min([4, -2, 9])") == -2)
        #expect(value("max([4, -2, 9])") == 9)
        #expect(value("max(7)") == 7)
        #expect(value(#"min("pear", "apple")"#) == "apple")
        #expect(value(#"max(["pear", "apple"])"#) == "pear")
        #expect(failure("min([])")?.code == "invalid-argument")
        #expect(failure(#"max(1, "2")"#)?.code == "type-error")
        #expect(failure("min(null, 1)")?.code == "type-error")
        #expect(failure("max([[1]])")?.code == "type-error")
    }

    @Test func logJoinsStrWithSpaces() {
        let host = InterpreterTestHost()
        #expect(runProgram(#"fn main() { return log("order", 3, {a: 1}, null, 2.5) }"#, host: host).success == .null)
        #expect(host.logs == [#"order 3 {"a":1} null 2.5"#])
    }

    @Test func builtinErrorsCarryTheCallRange() {
        let text = "fn main() {\n  return 1 + len(5)\n}\n"
        let range = runProgram(text).error?.range
        #expect(range.map { String(decoding: Array(text.utf8)[$0.start..<$0.end], as: UTF8.self) } == "len(5)")
    }
}
