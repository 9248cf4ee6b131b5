// Language server: the requests answered from a compilation, and the queries they share —
// what name is at a cursor, which declaration encloses it, which resource operation it names.
import InfcCompiler

/// The LSP requests that need a compiled document.
enum Feature: String {
    case hover = "textDocument/hover"
    case definition = "textDocument/definition"
    case references = "textDocument/references"
    case documentSymbol = "textDocument/documentSymbol"
    case completion = "textDocument/completion"
    case codeAction = "textDocument/codeAction"
    case codeLens = "textDocument/codeLens"
    case executeCommand = "workspace/executeCommand"

    /// The answer for a document that is not open.
    var emptyResult: JSON {
        switch self {
        case .hover, .definition, .executeCommand: return .null
        case .references, .documentSymbol, .completion, .codeAction, .codeLens: return []
        }
    }

    /// A request's result and the notifications sent just before it.
    struct Answer {
        var result: JSON
        var notifications: [JSON] = []
    }

    func answer(_ analysis: Analysis, _ params: JSON) throws(RequestError) -> Answer {
        if self == .executeCommand { return try CodeLensProvider.execute(analysis, params) }
        return Answer(result: try result(analysis, params))
    }

    private func result(_ analysis: Analysis, _ params: JSON) throws(RequestError) -> JSON {
        switch self {
        case .hover: return HoverProvider.hover(analysis, at: try analysis.offset(params))
        case .definition: return Navigation.definition(analysis, at: try analysis.offset(params))
        case .references:
            let includeDeclaration = params["context"]?["includeDeclaration"]?.boolValue ?? false
            return Navigation.references(analysis, at: try analysis.offset(params), includeDeclaration: includeDeclaration)
        case .documentSymbol: return DocumentSymbols.symbols(analysis)
        case .completion: return CompletionProvider.complete(analysis, at: try analysis.offset(params))
        case .codeAction: return CodeActions.actions(analysis, params: params)
        case .codeLens: return CodeLensProvider.lenses(analysis)
        case .executeCommand: return .null
        }
    }
}

/// One compiled document and the questions features ask of it.
struct Analysis {
    let uri: String
    let compilation: Compilation
    var client = ClientOptions()

    var file: SourceFile { compilation.file }
    var program: Program { compilation.program }
    var model: SemanticModel { compilation.model }

    /// The byte offset of `params.position`.
    func offset(_ params: JSON) throws(RequestError) -> Int {
        guard let offset = Positions.offset(of: params["position"], in: file) else {
            throw RequestError("`params.position` must be an object with integer `line` and `character`")
        }
        return offset
    }

    /// The name occurrence under the cursor: the smallest range containing the offset, or else
    /// one ending at it (the cursor just after a name).
    func occurrence(at offset: Int) -> Occurrence? {
        var best: Occurrence?
        for o in model.occurrences where o.range.touches(offset) {
            guard let b = best else {
                best = o
                continue
            }
            let inside = o.range.contains(offset), bestInside = b.range.contains(offset)
            if inside && !bestInside || inside == bestInside && o.range.length < b.range.length { best = o }
        }
        return best
    }

    /// The declaration whose source range holds the offset.
    func declarationIndex(containing offset: Int) -> Int? {
        program.declarations.indices.first { program.declarations[$0].range.touches(offset) }
    }

    /// Where a symbol is defined.
    func definitionRange(of symbol: Symbol) -> SourceRange? {
        switch symbol {
        case .local(let b): return model.bindings.indices.contains(b) ? model.bindings[b].name.range : nil
        case .declaration(let d):
            guard program.declarations.indices.contains(d) else { return nil }
            return program.declarations[d].declaredName?.range ?? program.declarations[d].range
        case .builtin: return nil
        }
    }

    /// A resource operation named at the cursor (`orders.ge|t`): the resource's declaration, its
    /// kind and the operation, when the operation exists for that kind.
    func operation(at offset: Int) -> (declaration: Int, kind: ResourceKind, operation: ResourceOperation, range: SourceRange)? {
        guard let d = declarationIndex(containing: offset), let h = program.declarations[d].handler else { return nil }
        var found: (Int, ResourceKind, ResourceOperation, SourceRange)?
        SyntaxWalk.forEachExpr(in: h.body) { e in
            guard found == nil, case .member(let base, let op) = e.kind, op.range.touches(offset),
                  case .declaration(let r)? = model.references[base.id],
                  let kind = model.resourceKind(of: r, in: program),
                  let operation = ResourceOperation(rawValue: op.name), kind.operations.contains(operation) else { return }
            found = (r, kind, operation, op.range)
        }
        return found.map { (declaration: $0.0, kind: $0.1, operation: $0.2, range: $0.3) }
    }

    /// A short name for a declaration in lists: `fn charge`, `route POST /orders`, `on order_events`.
    func title(of index: Int) -> String {
        let decl = program.declarations[index]
        switch decl.kind {
        case .app(let a): return "app \(a.name.name)"
        case .resource(let r): return "\(r.kind.rawValue) \(r.name.name)"
        case .service(let s): return "service \(s.name.name)"
        case .handler(let h):
            switch h.trigger {
            case .fn(let name): return "fn \(name.name)"
            case .route(let method, let path, _): return "route \(method.name) \(path)"
            case .on(let topic): return "on \(topic.name)"
            case .every(let schedule):
                switch schedule {
                case .interval(_, let range): return "every \(file.text(range))"
                case .cron(let text, _): return "every \"\(text)\""
                }
            }
        case .invalid: return "declaration"
        }
    }

    /// A declaration's header as written, on one line: `fn charge(order) retry 3 backoff 2s`.
    func signature(of index: Int) -> String {
        let decl = program.declarations[index]
        switch decl.kind {
        case .handler(let h): return Analysis.oneLine(file.text(h.headerRange))
        case .resource(let r): return "\(r.kind.rawValue) \(r.name.name)"
        default: return Analysis.oneLine(file.text(decl.range))
        }
    }

    /// Collapses runs of whitespace (line breaks included) to single spaces.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
    }
}
