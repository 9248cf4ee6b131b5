// Runtime interpreter: one expression of a body evaluated on its own (a workflow's evaluator on
// the AWS target) — its locals from given variables, the steps already made answered from their
// recorded values and never made again, the state's own call made, field assignments made and
// the variable handed back, and a range that is no expression refused.

import InfcCompiler
import Testing
@testable import InfcRuntime

@Suite struct InterpreterExpressionAtTests {
    static let source = """
        table t
        fn f(x) { return t.get(x) }
        fn main(id) {
          var doc = { n: 1 }
          let got = f(id)
          let label = "got {got ?? "nothing"} for {id}"
          doc.extra = f("k") ?? len(label)
          return t.get(id)
        }
        """

    /// The range of the first occurrence of `text` in the source.
    static func range(_ text: String, after: String = "") -> SourceRange {
        let bytes = Array(source.utf8), needle = Array(text.utf8)
        var from = 0
        if !after.isEmpty, let a = index(of: Array(after.utf8), in: bytes, from: 0) { from = a }
        let start = index(of: needle, in: bytes, from: from) ?? -1
        return SourceRange(start, start + needle.count)
    }

    static func index(of needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard needle.count <= bytes.count else { return nil }
        for i in from...(bytes.count - needle.count) where Array(bytes[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    func setUp() -> (Interpreter, Int, InterpreterTestHost) {
        let c = compileProgram(Self.source)
        let interpreter = Interpreter(program: c.program, model: c.model, file: c.file)
        return (interpreter, c.model.globals["main"] ?? -1, InterpreterTestHost())
    }

    @Test func evaluatesOverTheVariablesWithTheRecordedSteps() throws {
        let (interpreter, main, host) = setUp()
        let label = try interpreter.evaluate(expressionAt: Self.range(#""got {got ?? "nothing"} for {id}""#), in: main,
                                             variables: ["id": "a1", "got": nil], steps: [:], host: host)
        #expect(label == "got nothing for a1")
        // `f("k")` was a step: its recorded value answers, and nothing is called again.
        let call = Self.range(#"f("k")"#)
        let value = try interpreter.evaluate(expressionAt: Self.range(#"f("k") ?? len(label)"#), in: main,
                                             variables: ["label": "abc"], steps: [call: nil], host: host)
        #expect(value == 3)
        #expect(host.operations.isEmpty)
        // The state's own call is made even when a value was recorded for it (a loop's earlier turn).
        host.state.withLock { $0.tables["t"] = ["a1": "stored"] }
        let own = Self.range("t.get(id)", after: "return")
        #expect(try interpreter.evaluate(expressionAt: own, in: main, variables: ["id": "a1"], steps: [own: "old"], host: host) == "stored")
        #expect(host.operations.map(\.operation) == [.get])
    }

    @Test func makesAFieldAssignmentAndHandsBackTheVariable() throws {
        let (interpreter, main, host) = setUp()
        let statement = Self.range(#"doc.extra = f("k") ?? len(label)"#)
        let doc = try interpreter.evaluate(expressionAt: statement, in: main, variables: ["doc": ["n": 1], "label": "xy"],
                                           steps: [Self.range(#"f("k")"#): "v"], host: host)
        #expect(doc == ["n": 1, "extra": "v"])
    }

    @Test func aRangeThatIsNoExpressionIsRefused() {
        let (interpreter, main, host) = setUp()
        #expect(throws: RuntimeError.self) {
            try interpreter.evaluate(expressionAt: SourceRange(0, 3), in: main, variables: [:], steps: [:], host: host)
        }
    }
}
