// Language server: completion — a resource's operations after `name.` (and the request's
// fields after `req.` in a route); elsewhere the variables in scope at the cursor, declared
// names, built-ins and the keywords that fit (declarations at top level, statements in bodies).
import InfcCompiler

enum CompletionProvider {
    /// LSP `CompletionItemKind` values used here.
    enum Kind: Int {
        case method = 2, function = 3, field = 5, variable = 6, interface = 8, property = 10
        case keyword = 14, folder = 19, constant = 21, `struct` = 22, event = 23
    }

    static let declarationKeywords = ["app", "table", "bucket", "topic", "secret", "service", "fn", "route", "on", "every"]
    static let statementKeywords = ["let", "var", "if", "else", "for", "in", "while", "return", "throw", "try", "catch",
                                    "sleep", "parallel", "async", "true", "false", "null"]
    static let attributeKeywords = ["limit", "timeout", "retry", "backoff"]
    static let requestFields = ["method", "path", "params", "query", "headers", "body"]

    static func complete(_ a: Analysis, at offset: Int) -> JSON {
        let items: [JSON]
        if let base = memberBase(a.file.bytes, before: offset) {
            items = memberItems(a, base: base, at: offset)
        } else {
            items = nameItems(a, at: offset)
        }
        guard !a.client.markdownDocumentation else { return ["isIncomplete": false, "items": .array(items)] }
        let plain = items.map { item -> JSON in
            guard let markdown = item["documentation"]?["value"]?.stringValue else { return item }
            return item.setting("documentation", ["kind": "plaintext", "value": .string(Markup.plainText(markdown))])
        }
        return ["isIncomplete": false, "items": .array(plain)]
    }

    // MARK: After a dot

    /// For a cursor after `name.` or `name.par`, the `name`; nil when there is no dot, or the
    /// base is not a plain name (`a.b.`, `f().`).
    static func memberBase(_ bytes: [UInt8], before offset: Int) -> String?? {
        var i = min(max(0, offset), bytes.count)
        while i > 0 && isIdentifier(bytes[i - 1]) { i -= 1 }
        guard i > 0 && bytes[i - 1] == UInt8(ascii: ".") else { return nil }
        let end = i - 1
        var start = end
        while start > 0 && isIdentifier(bytes[start - 1]) { start -= 1 }
        guard start < end, !(start > 0 && bytes[start - 1] == UInt8(ascii: ".")) else { return .some(nil) }
        return .some(String(decoding: bytes[start..<end], as: UTF8.self))
    }

    private static func memberItems(_ a: Analysis, base: String?, at offset: Int) -> [JSON] {
        guard let base else { return [] }
        let enclosing = a.declarationIndex(containing: offset)
        let shadowed = enclosing.map { d in visibleBindings(a, declaration: d, at: offset).contains { a.model.bindings[$0].name.name == base } } ?? false
        if !shadowed, let d = a.model.globals[base], let kind = a.model.resourceKind(of: d, in: a.program) {
            return kind.operations.enumerated().map { n, op in
                item(op.rawValue, .method, detail: op.signature(on: kind),
                     documentation: "\(kind.rawValue) operation — grants `\(op.action(on: kind).rawValue)` on `\(base)`",
                     sortText: rank(n))
            }
        }
        if let d = enclosing, let h = a.program.declarations[d].handler, case .route = h.trigger, h.params.first?.name == base {
            return requestFields.enumerated().map { n, field in
                item(field, .property, detail: "request \(field)", documentation: nil, sortText: rank(n))
            }
        }
        return []
    }

    // MARK: Names

    private static func nameItems(_ a: Analysis, at offset: Int) -> [JSON] {
        var items: [JSON] = []
        var seen: Set<String> = []
        let enclosing = a.declarationIndex(containing: offset)
        let inBody = enclosing.flatMap { a.program.declarations[$0].handler }.map {
            $0.body.range.start < offset && offset < $0.body.range.end
        } ?? false
        if inBody, let d = enclosing {
            for b in visibleBindings(a, declaration: d, at: offset).reversed() {
                let binding = a.model.bindings[b]
                guard seen.insert(binding.name.name).inserted else { continue }
                items.append(item(binding.name.name, .variable, detail: binding.kind.rawValue, documentation: nil, sortText: "0"))
            }
        }
        if inBody || isAfterOn(a, offset) {
            for (name, d) in a.model.globals.sorted(by: { $0.key < $1.key }) where seen.insert(name).inserted {
                items.append(globalItem(a, name: name, declaration: d))
            }
        }
        if inBody {
            for b in Builtin.allCases where seen.insert(b.rawValue).inserted {
                items.append(item(b.rawValue, .function, detail: b.signature, documentation: b.summary, sortText: "2"))
            }
        }
        let keywords = inBody ? statementKeywords : enclosing == nil ? declarationKeywords : attributeKeywords + declarationKeywords
        for k in keywords where seen.insert(k).inserted {
            items.append(item(k, .keyword, detail: "keyword", documentation: nil, sortText: "3"))
        }
        return items
    }

    /// Whether the cursor follows `on ` in a handler header, where a topic name goes.
    private static func isAfterOn(_ a: Analysis, _ offset: Int) -> Bool {
        guard let d = a.declarationIndex(containing: offset), let h = a.program.declarations[d].handler,
              case .on = h.trigger else { return false }
        return offset < h.body.range.start
    }

    private static func globalItem(_ a: Analysis, name: String, declaration d: Int) -> JSON {
        switch a.program.declarations[d].kind {
        case .resource(let r):
            let kind: Kind = r.kind == .table ? .struct : r.kind == .bucket ? .folder : r.kind == .topic ? .event : .constant
            return item(name, kind, detail: r.kind.rawValue, documentation: HoverProvider.kindSummary(r.kind), sortText: "1")
        case .service(let s):
            return item(name, .interface, detail: "service \(s.url)", documentation: HoverProvider.kindSummary(.service), sortText: "1")
        case .handler(let h):
            return item(name, .function, detail: "fn \(name)(\(h.params.map(\.name).joined(separator: ", ")))", documentation: nil, sortText: "1")
        default:
            return item(name, .variable, detail: "", documentation: nil, sortText: "1")
        }
    }

    // MARK: Scopes

    /// The bindings visible at `offset` in declaration `d`, outermost first: parameters, then
    /// `let`/`var` declared before the cursor in enclosing blocks (and in earlier `parallel`
    /// blocks), loop and catch variables of the blocks around the cursor.
    static func visibleBindings(_ a: Analysis, declaration d: Int, at offset: Int) -> [Int] {
        guard let h = a.program.declarations[d].handler else { return [] }
        var byStart: [Int: Int] = [:]
        for (i, b) in a.model.bindings.enumerated() where b.declaration == d { byStart[b.name.range.start] = i }
        var names: [Identifier] = h.params
        collect(h.body, offset, into: &names)
        return names.compactMap { byStart[$0.range.start] }
    }

    private static func collect(_ block: Block, _ offset: Int, into names: inout [Identifier]) {
        guard block.range.touches(offset) else { return }
        for s in block.statements {
            if s.range.end <= offset {
                if case .binding(_, let name, _) = s.kind { names.append(name) }
                if case .parallel(let inner) = s.kind {
                    for t in inner.statements { if case .binding(_, let name, _) = t.kind { names.append(name) } }
                }
            } else if s.range.touches(offset) {
                collect(s, offset, into: &names)
            }
        }
    }

    private static func collect(_ s: Stmt, _ offset: Int, into names: inout [Identifier]) {
        switch s.kind {
        case .forIn(let variable, _, let body):
            if body.range.touches(offset) { names.append(variable) }
            collect(body, offset, into: &names)
        case .tryCatch(let body, let variable, let handler):
            collect(body, offset, into: &names)
            if handler.range.touches(offset), let variable { names.append(variable) }
            collect(handler, offset, into: &names)
        case .ifElse(_, let then, let otherwise):
            collect(then, offset, into: &names)
            if let otherwise, otherwise.range.touches(offset) { collect(otherwise, offset, into: &names) }
        case .whileLoop(_, let body), .parallel(let body), .block(let body):
            collect(body, offset, into: &names)
        default: break
        }
    }

    // MARK: Items

    private static func item(_ label: String, _ kind: Kind, detail: String, documentation: String?, sortText: String) -> JSON {
        var o = JSONObject()
        o["label"] = .string(label)
        o["kind"] = .int(kind.rawValue)
        if !detail.isEmpty { o["detail"] = .string(detail) }
        if let documentation { o["documentation"] = ["kind": "markdown", "value": .string(documentation)] }
        o["sortText"] = .string(sortText + label)
        return .object(o)
    }

    private static func isIdentifier(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
    }

    /// A sort key that keeps a list in its declared order.
    private static func rank(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
