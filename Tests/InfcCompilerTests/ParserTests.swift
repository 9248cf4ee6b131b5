// Unit tests of the Parser: precedence, statement boundaries, recovery and limits.
import Testing
@testable import InfcCompiler

@Suite struct ParserTests {
    func parse(_ body: String) -> (ParseResult, SourceFile) {
        let file = SourceFile(path: "t.inf", text: "fn f(a, b, c) {\n\(body)\n}\n")
        return (Parser.parse(file), file)
    }

    /// The body's statements, printed compactly.
    func statements(_ body: String) -> [String] {
        let (r, _) = parse(body)
        guard let h = r.program.declarations.first?.handler else { return [] }
        return h.body.statements.map { s in
            if case .expression(let e) = s.kind { return Self.sexpr(e) }
            if case .binding(_, let n, let e) = s.kind { return "let \(n.name) = \(Self.sexpr(e))" }
            return "\(s.kind)"
        }
    }

    static func sexpr(_ e: Expr) -> String {
        switch e.kind {
        case .name(let n): return n
        case .number(let n): return JSON.format(number: n)
        case .binary(let op, let l, let r): return "(\(op.rawValue) \(sexpr(l)) \(sexpr(r)))"
        case .unary(let op, let x): return "(\(op.rawValue) \(sexpr(x)))"
        case .call(let c, let args): return "(call \(sexpr(c))\(args.map { " " + sexpr($0) }.joined()))"
        case .member(let b, let n): return "(. \(sexpr(b)) \(n.name))"
        case .index(let b, let i): return "([] \(sexpr(b)) \(sexpr(i)))"
        case .list(let items): return "[\(items.map(sexpr).joined(separator: " "))]"
        case .async(let c): return "(async \(sexpr(c)))"
        case .object(let entries): return "{\(entries.map { "\($0.key): \(sexpr($0.value))" }.joined(separator: ", "))}"
        default: return "\(e.kind)"
        }
    }

    @Test func precedence() {
        #expect(statements("a + b * c") == ["(+ a (* b c))"])
        #expect(statements("a || b && c == 1") == ["(|| a (&& b (== c 1)))"])
        #expect(statements("a ?? b || c") == ["(?? a (|| b c))"])
        #expect(statements("-a * !b") == ["(* (- a) (! b))"])
        #expect(statements("a - b - c") == ["(- (- a b) c)"])
        #expect(statements("a.b(c)[0].d") == ["(. ([] (call (. a b) c) 0) d)"])
    }

    @Test func lineBreaksEndStatements() {
        #expect(statements("a\n(b)") == ["a", "b"])
        #expect(statements("a\n[b]") == ["a", "[b]"])
        #expect(statements("a +\n b") == ["(+ a b)"])
        #expect(statements("a\n  .b") == ["(. a b)"])
        #expect(statements("a; b") == ["a", "b"])
    }

    @Test func objectLiteralsAndAsync() {
        #expect(statements("let o = { x: 1, \"y-z\": [a, b], if: c }") == ["let o = {x: 1, y-z: [a b], if: c}"])
        #expect(statements("async f(a)") == ["(async (call f a))"])
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
