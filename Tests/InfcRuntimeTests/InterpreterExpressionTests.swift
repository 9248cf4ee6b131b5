// Runtime interpreter tests: expressions — arithmetic and joins, comparison, truthiness, `??`,
// member access and indexing with null propagation, string interpolation formatting.

import InfcCompiler
import Testing
@testable import InfcRuntime

@Suite struct InterpreterExpressionTests {
    @Test func arithmetic() {
        #expect(value("1 + 2 * 3") == 7)
        #expect(value("(1 + 2) * 3") == 9)
        #expect(value("7 - 10") == -3)
        #expect(value("7 / 2") == 3.5)
        #expect(value("7 % 3") == 1)
        #expect(value("-7 % 3") == -1)
        #expect(value("-(2 + 3)") == -5)
        #expect(value("0.1 + 0.2") == JSON.number(0.1 + 0.2))
        #expect(value("1500ms + 2s") == 3500)
    }

    @Test func additionJoinsStringsAndLists() {
        #expect(value(#""a" + "b""#) == "ab")
        #expect(value(#""n=" + 3"#) == "n=3")
        #expect(value(#"2.5 + "x""#) == "2.5x")
        #expect(value(#""x" + true + null"#) == "xtruenull")
        #expect(value(#"null + "!""#) == "null!")
        #expect(value("[1, 2] + [3]") == [1, 2, 3])
        #expect(value("[] + []") == [])
    }

    @Test func additionTypeErrors() {
        let e = failure("[1] + 2")
        #expect(e?.code == "type-error")
        #expect(e?.message == "cannot add list and number")
        #expect(failure(#""a" + [1]"#)?.message == "cannot add string and list")
        #expect(failure("{} + {}")?.message == "cannot add object and object")
        #expect(failure("true + 1")?.code == "type-error")
        #expect(failure("null + 1")?.code == "type-error")
    }

    @Test func arithmeticErrors() {
        #expect(failure(#""a" - 1"#)?.code == "type-error")
        #expect(failure("2 * null")?.code == "type-error")
        #expect(failure(#"-"x""#)?.code == "type-error")
        let division = failure("1 / 0")
        #expect(division?.code == "division-by-zero")
        #expect(division?.isCatchable == true)
        #expect(failure("5 % 0")?.code == "division-by-zero")
        #expect(failure(#"parse("1e308") * 10"#)?.code == "overflow")
    }

    @Test func errorsCarryTheFailingExpressionsRange() {
        let text = "fn main() {\n  let a = 1\n  return a + [2]\n}\n"
        let error = runProgram(text).error
        let range = error?.range
        #expect(range.map { String(decoding: Array(text.utf8)[$0.start..<$0.end], as: UTF8.self) } == "a + [2]")
        #expect(error?.stack == ["main"])
    }

    @Test func comparisons() {
        #expect(value("1 < 2") == true)
        #expect(value("2 <= 2") == true)
        #expect(value("3 > 4") == false)
        #expect(value("3 >= 4") == false)
        #expect(value(#""apple" < "banana""#) == true)
        #expect(value(#""b" >= "a""#) == true)
        #expect(failure(#"1 < "2""#)?.code == "type-error")
        #expect(failure("null < 1")?.code == "type-error")
        #expect(failure("[1] < [2]")?.code == "type-error")
    }

    @Test func equalityIsStructural() {
        #expect(value("1 == 1.0") == true)
        #expect(value(#"1 == "1""#) == false)
        #expect(value("null == null") == true)
        #expect(value("null != false") == true)
        #expect(value("[1, [2, {a: 3}]] == [1, [2, {a: 3}]]") == true)
        #expect(value("[1, 2] == [2, 1]") == false)
        #expect(value("{a: 1, b: 2} == {b: 2, a: 1}") == true)
        #expect(value("{a: 1} == {a: 1, b: null}") == false)
    }

    @Test func truthinessAndLogic() {
        #expect(value("!null") == true)
        #expect(value("!false") == true)
        #expect(value("!0") == false)
        #expect(value(#"!"""#) == false)
        #expect(value("![]") == false)
        #expect(value("!{}") == false)
        #expect(value("!!1") == true)
        #expect(value(#"0 && "x""#) == "x")
        #expect(value(#"null && "x""#) == .null)
        #expect(value(#"false || "default""#) == "default")
        #expect(value(#""first" || "second""#) == "first")
        #expect(value(#"0 || "x""#) == 0)
    }

    @Test func shortCircuitSkipsTheRightOperand() {
        #expect(value("false && 1 / 0") == false)
        #expect(value("true || 1 / 0") == true)
        #expect(value("1 ?? 1 / 0") == 1)
    }

    @Test func coalesce() {
        #expect(value("null ?? 5") == 5)
        #expect(value("false ?? 5") == false)
        #expect(value("0 ?? 5") == 0)
        #expect(value(#"x.missing ?? "none""#, prelude: "let x = {a: 1}") == "none")
        #expect(value("null ?? null ?? 3") == 3)
    }

    @Test func memberAccessAndNullPropagation() {
        let prelude = #"let o = {a: {b: [10, 20]}, n: null}"#
        #expect(value("o.a.b", prelude: prelude) == [10, 20])
        #expect(value("o.missing", prelude: prelude) == .null)
        #expect(value("o.missing.deeper.still", prelude: prelude) == .null)
        #expect(value("o.n.x", prelude: prelude) == .null)
        #expect(value("o.a.b[1]", prelude: prelude) == 20)
        let e = failure("o.a.b.length", prelude: prelude)
        #expect(e?.code == "type-error")
        #expect(e?.message == "cannot read field `length` of a list")
        #expect(failure(#""text".size"#)?.message == "cannot read field `size` of a string")
        #expect(failure("(5).x")?.code == "type-error")
    }

    @Test func indexing() {
        let prelude = #"let l = [1, 2, 3]; let o = {k: "v"}"#
        #expect(value("l[0]", prelude: prelude) == 1)
        #expect(value("l[2.0]", prelude: prelude) == 3)
        #expect(value("l[3]", prelude: prelude) == .null)
        #expect(value("l[100]", prelude: prelude) == .null)
        #expect(value(#"o["k"]"#, prelude: prelude) == "v")
        #expect(value(#"o["nope"]"#, prelude: prelude) == .null)
        #expect(value("null[0]") == .null)
        #expect(value(#"null["k"]"#) == .null)
        #expect(failure("l[-1]", prelude: prelude)?.code == "index-error")
        #expect(failure("l[0.5]", prelude: prelude)?.code == "type-error")
        #expect(failure(#"l["0"]"#, prelude: prelude)?.code == "type-error")
        #expect(failure("o[0]", prelude: prelude)?.code == "type-error")
        #expect(failure(#""abc"[0]"#)?.code == "type-error")
        #expect(failure("(5)[0]")?.code == "type-error")
    }

    @Test func literals() {
        #expect(value("[1, \"two\", true, null, {a: [ ]}]") == [1, "two", true, JSON.null, ["a": []]])
        #expect(value("{a: 1, b: {c: 2}}") == ["a": 1, "b": ["c": 2]])
        #expect(value("{b: 1, a: 2}")?.objectValue?.keys == ["b", "a"])
        #expect(value("250ms") == 250)
        #expect(value("1d") == 86_400_000)
    }

    @Test func interpolationFormatsWithStr() {
        let prelude = #"let n = 3; let f = 2.5; let big = 12345678901; let tiny = 0.1 + 0.2"#
        #expect(value(#""n={n} f={f}""#, prelude: prelude) == "n=3 f=2.5")
        #expect(value(#""{big}|{tiny}""#, prelude: prelude) == "12345678901|0.30000000000000004")
        #expect(value(#""{true} {false} {null}""#) == "true false null")
        #expect(value(#""{[1, "a", {k: null}]}""#) == #"[1,"a",{"k":null}]"#)
        #expect(value(#""{ "in" + "ner" }!""#) == "inner!")
        #expect(value(#""{-0.5}{parse("1e21")}""#) == "-0.51e+21")
        #expect(value(#""{1 / 3}""#) == "0.3333333333333333")
        #expect(value(#""{4 / 2}""#) == "2")
    }
}
