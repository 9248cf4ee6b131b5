// Unit tests of the Parser: precedence, statement boundaries and object literals as golden
// trees (Tests/Golden/parse, printed by the AST printer), recovery and limits.
import Testing
@testable import InfcCompiler

@Suite struct ParserTests {
    func parse(_ body: String) -> (ParseResult, SourceFile) {
        let file = SourceFile(path: "t.inf", text: "fn f(a, b, c) {\n\(body)\n}\n")
        return (Parser.parse(file), file)
    }

    /// The trees of Tests/Golden/parse/NAME.inf (precedence, statement boundaries, object
    /// literals), as `infc dump ast` prints them, must match NAME.ast; each parses cleanly.
    @Test(arguments: Golden.sources(in: "Tests/Golden/parse"))
    func astGolden(_ path: String) throws {
        let file = try Golden.source(path)
        let r = Parser.parse(file)
        #expect(r.diagnostics.isEmpty, "\(path): \(r.diagnostics.map(\.message))")
        Golden.check(ASTPrinter.print(r.program, file: file), against: String(path.dropLast(4)) + ".ast")
    }

    @Test func objectLiteralInIfHeaderNeedsParentheses() {
        let (r, _) = parse("if a == { x: 1 } { log(a) }")
        #expect(r.diagnostics.contains { $0.code == .expectedToken || $0.code == .expectedExpression })
        let (ok, _) = parse("if a == ({ x: 1 }) { log(a) }")
        #expect(ok.diagnostics.isEmpty)
    }

    @Test func comparisonsDoNotChain() {
        let (r, _) = parse("a < b < c")
        #expect(r.diagnostics.map(\.message).contains("comparisons cannot be chained"))
    }

    @Test func recoversAndReportsEveryIndependentError() {
        let file = SourceFile(path: "t.inf", text: """
        app t
        fn f() {
          let = 1
          log(1 +)
        }
        route GET (req) { return 1 }
        fn g() { let x = [1, 2 }
        every 1h { log(2) }
        """)
        let r = Parser.parse(file)
        let lines = r.diagnostics.map { file.location(of: $0.range.start).line }
        #expect(Set(lines).isSuperset(of: [3, 4, 6, 7]))
        // The declarations after the errors are still parsed.
        #expect(r.program.declarations.contains { if case .every = $0.handler?.trigger { true } else { false } })
    }

    @Test func missingClosingBraceBeforeNextDeclaration() {
        let file = SourceFile(path: "t.inf", text: "fn f() {\n  log(1)\n\nfn g() { log(2) }\n")
        let r = Parser.parse(file)
        #expect(r.diagnostics.count == 1)
        #expect(r.program.declarations.compactMap { $0.handler?.fnName } == ["f", "g"])
    }

    @Test func nestingLimits() {
        for (open, close) in [("(", ")"), ("[", "]"), ("{ x: ", "}"), ("-", ""), ("!", "")] {
            let depth = 10_000
            let text = "fn f() { log(" + String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth) + ") }\n"
            let r = onBigStack { Parser.parse(SourceFile(path: "t.inf", text: text)) }
            #expect(r.diagnostics.contains { $0.code == .nestingTooDeep }, "\(open)")
        }
        let blocks = "fn f() {" + String(repeating: " if a {", count: 10_000) + String(repeating: "}", count: 10_000) + "}\n"
        #expect(onBigStack { Parser.parse(SourceFile(path: "t.inf", text: blocks)) }.diagnostics.contains { $0.code == .nestingTooDeep })
        let chain = "fn f() { log(" + Array(repeating: "1", count: 100_000).joined(separator: " + ") + ") }\n"
        let c = compile(SourceFile(path: "t.inf", text: chain))
        #expect(c.diagnostics.contains { $0.code == .nestingTooDeep })
    }
}
