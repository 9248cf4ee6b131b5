// Language server: the document outline — app, resources, services, routes ("POST /orders"),
// `on` handlers, schedules and fns, with each handler's variables as children.
import InfcCompiler

enum DocumentSymbols {
    /// LSP `SymbolKind` values used here.
    enum Kind: Int {
        case module = 2, package = 4, method = 6, interface = 11, function = 12, variable = 13, constant = 14
        case array = 18, object = 19, event = 24, `struct` = 23
    }

    static func symbols(_ a: Analysis) -> JSON {
        var result: [JSON] = []
        for (i, decl) in a.program.declarations.enumerated() {
            guard let (name, kind, selection) = describe(a, i), !name.isEmpty else { continue }
            var symbol = JSONObject()
            symbol["name"] = .string(name)
            symbol["detail"] = .string(detail(a, i))
            symbol["kind"] = .int(kind.rawValue)
            let range = decl.range.union(selection)
            symbol["range"] = Positions.range(range, in: a.file)
            symbol["selectionRange"] = Positions.range(selection, in: a.file)
            let children = variables(a, i, within: range)
            if !children.isEmpty { symbol["children"] = .array(children) }
            result.append(.object(symbol))
        }
        return a.client.hierarchicalSymbols ? .array(result) : .array(flattened(result, uri: a.uri))
    }

    /// `SymbolInformation[]` for clients without hierarchical symbols: every symbol with its
    /// location, children naming their parent as `containerName`.
    static func flattened(_ symbols: [JSON], uri: String, container: String? = nil) -> [JSON] {
        var result: [JSON] = []
        for symbol in symbols {
            var info: JSON = ["name": symbol["name"] ?? "", "kind": symbol["kind"] ?? 13,
                              "location": ["uri": .string(uri), "range": symbol["selectionRange"] ?? .null]]
            if let container { info = info.setting("containerName", .string(container)) }
            result.append(info)
            result += flattened(symbol["children"]?.arrayValue ?? [], uri: uri, container: symbol["name"]?.stringValue)
        }
        return result
    }

    /// The name, kind and name range of a declaration's symbol.
    private static func describe(_ a: Analysis, _ i: Int) -> (String, Kind, SourceRange)? {
        let decl = a.program.declarations[i]
        switch decl.kind {
        case .app(let app): return (app.name.name, .package, app.name.range)
        case .resource(let r):
            let kind: Kind
            switch r.kind {
            case .table: kind = .struct
            case .bucket: kind = .array
            case .topic: kind = .event
            case .secret: kind = .constant
            case .service: kind = .interface
            }
            return (r.name.name, kind, r.name.range)
        case .service(let s): return (s.name.name, .interface, s.name.range)
        case .handler(let h):
            switch h.trigger {
            case .fn(let name): return (name.name, .function, name.range)
            case .route(let method, let path, let pathRange): return ("\(method.name) \(path)", .method, method.range.union(pathRange))
            case .on: return (a.title(of: i), .event, h.headerRange)
            case .every: return (a.title(of: i), .event, h.headerRange)
            }
        case .invalid: return nil
        }
    }

    private static func detail(_ a: Analysis, _ i: Int) -> String {
        switch a.program.declarations[i].kind {
        case .app: return "app"
        case .resource(let r): return r.kind.rawValue
        case .service(let s): return "service \(s.url)"
        case .handler(let h):
            switch h.trigger {
            case .fn: return Analysis.oneLine(a.file.text(h.headerRange))
            case .route: return "route"
            case .on: return "subscriber"
            case .every: return "schedule"
            }
        case .invalid: return ""
        }
    }

    /// The handler's parameters and bindings, in source order.
    private static func variables(_ a: Analysis, _ i: Int, within range: SourceRange) -> [JSON] {
        a.model.bindings.filter { $0.declaration == i && !$0.name.name.isEmpty && range.touches($0.name.range.start) }
            .sorted { $0.name.range < $1.name.range }
            .map { b in
                [
                    "name": .string(b.name.name),
                    "detail": .string(b.kind.rawValue),
                    "kind": .int(Kind.variable.rawValue),
                    "range": Positions.range(b.name.range, in: a.file),
                    "selectionRange": Positions.range(b.name.range, in: a.file),
                ]
            }
    }
}
