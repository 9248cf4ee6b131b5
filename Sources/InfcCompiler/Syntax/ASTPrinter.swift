// Syntax stage: a readable, indented dump of the tree (`infc dump ast`), with line:column of
// every node, so parser bugs are cheap to report.

public struct ASTPrinter {
    let file: SourceFile
    var out = ""

    public static func print(_ program: Program, file: SourceFile) -> String {
        var p = ASTPrinter(file: file)
        for d in program.declarations { p.declaration(d) }
        return p.out
    }

    public static func tokens(_ file: SourceFile) -> String {
        var out = ""
        for t in Lexer.tokenize(file.bytes).tokens {
            let loc = file.location(of: t.range.start)
            let kind: String
            switch t.kind {
            case .keyword(let k): kind = "keyword"; _ = k
            default: kind = "\(t.kind)"
            }
            out += "\(loc.line):\(loc.column)\t\(kind)\t\(file.text(t.range).debugDescription)\(t.atLineStart ? "\tline-start" : "")\n"
        }
        return out
    }

    private func at(_ r: SourceRange) -> String {
        let l = file.location(of: r.start)
        return "@\(l.line):\(l.column)"
    }

    private mutating func line(_ depth: Int, _ text: String) {
        out += String(repeating: "  ", count: depth) + text + "\n"
    }

    private mutating func declaration(_ d: Declaration) {
        switch d.kind {
        case .app(let a):
            line(0, "app \(a.name.name) \(at(d.range))")
            for s in a.settings {
                line(1, "setting \(s.key.name)")
                expr(s.value, 2)
            }
        case .resource(let r): line(0, "\(r.kind.rawValue) \(r.name.name) \(at(d.range))")
        case .service(let s):
            var extra = ""
            if let l = s.limit { extra += " limit \(l.value)" }
            if let r = s.rate { extra += " rate \(r.count)/\(r.perSeconds)s" }
            line(0, "service \(s.name.name) \(s.url.debugDescription)\(extra) \(at(d.range))")
        case .handler(let h):
            let head: String
            switch h.trigger {
            case .fn(let name): head = "fn \(name.name)"
            case .route(let m, let p, _): head = "route \(m.name) \(p.debugDescription)"
            case .on(let t): head = "on \(t.name)"
            case .every(.interval(let ms, _)): head = "every \(ms)ms"
            case .every(.cron(let c, _)): head = "every \(c.debugDescription)"
            }
            line(0, "\(head) (\(h.params.map(\.name).joined(separator: ", "))) \(at(d.range))")
            for a in h.attributes {
                line(1, "attribute \(a.name.name)")
                expr(a.value, 2)
            }
            block(h.body, 1)
        case .invalid:
            line(0, "<invalid declaration> \(at(d.range))")
        }
    }

    private mutating func block(_ b: Block, _ depth: Int) {
        line(depth, "block \(at(b.range))")
        for s in b.statements { stmt(s, depth + 1) }
    }

    private mutating func stmt(_ s: Stmt, _ depth: Int) {
        switch s.kind {
        case .binding(let mutable, let name, let value):
            line(depth, "\(mutable ? "var" : "let") \(name.name) \(at(s.range))")
            expr(value, depth + 1)
        case .assign(let target, let value):
            line(depth, "assign \(at(s.range))")
            expr(target, depth + 1)
            expr(value, depth + 1)
        case .ifElse(let c, let then, let otherwise):
            line(depth, "if \(at(s.range))")
            expr(c, depth + 1)
            block(then, depth + 1)
            if let otherwise {
                line(depth, "else")
                stmt(otherwise, depth + 1)
            }
        case .forIn(let v, let seq, let body):
            line(depth, "for \(v.name) \(at(s.range))")
            expr(seq, depth + 1)
            block(body, depth + 1)
        case .whileLoop(let c, let body):
            line(depth, "while \(at(s.range))")
            expr(c, depth + 1)
            block(body, depth + 1)
        case .returnStmt(let v):
            line(depth, "return \(at(s.range))")
            if let v { expr(v, depth + 1) }
        case .throwStmt(let v):
            line(depth, "throw \(at(s.range))")
            expr(v, depth + 1)
        case .tryCatch(let body, let v, let handler):
            line(depth, "try \(at(s.range))")
            block(body, depth + 1)
            line(depth, "catch \(v?.name ?? "_")")
            block(handler, depth + 1)
        case .sleep(let d):
            line(depth, "sleep \(at(s.range))")
            expr(d, depth + 1)
        case .parallel(let b):
            line(depth, "parallel \(at(s.range))")
            block(b, depth + 1)
        case .block(let b):
            block(b, depth)
        case .expression(let e):
            line(depth, "expr \(at(s.range))")
            expr(e, depth + 1)
        case .invalid:
            line(depth, "<invalid statement> \(at(s.range))")
        }
    }

    private mutating func expr(_ e: Expr, _ depth: Int) {
        switch e.kind {
        case .null: line(depth, "null")
        case .bool(let b): line(depth, "\(b)")
        case .number(let n): line(depth, JSON.format(number: n))
        case .duration(let ms): line(depth, "duration \(ms)ms")
        case .string(let parts):
            line(depth, "string")
            for p in parts {
                switch p {
                case .text(let t): line(depth + 1, t.debugDescription)
                case .interpolation(let inner): expr(inner, depth + 1)
                }
            }
        case .name(let n): line(depth, "name \(n)")
        case .list(let items):
            line(depth, "list")
            for i in items { expr(i, depth + 1) }
        case .object(let entries):
            line(depth, "object")
            for en in entries {
                line(depth + 1, "key \(en.key)")
                expr(en.value, depth + 2)
            }
        case .unary(let op, let x):
            line(depth, "unary \(op.rawValue)")
            expr(x, depth + 1)
        case .binary(let op, let l, let r):
            line(depth, "binary \(op.rawValue)")
            expr(l, depth + 1)
            expr(r, depth + 1)
        case .member(let base, let name):
            line(depth, "member .\(name.name)")
            expr(base, depth + 1)
        case .index(let base, let i):
            line(depth, "index")
            expr(base, depth + 1)
            expr(i, depth + 1)
        case .call(let callee, let args):
            line(depth, "call")
            expr(callee, depth + 1)
            if !args.isEmpty { line(depth + 1, "args") }
            for a in args { expr(a, depth + 2) }
        case .async(let call):
            line(depth, "async")
            expr(call, depth + 1)
        case .invalid:
            line(depth, "<invalid expression>")
        }
    }
}
