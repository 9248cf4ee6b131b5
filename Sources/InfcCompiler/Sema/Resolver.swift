// Sema stage: name resolution and body checks — scopes, undefined names with suggestions,
// arities of fns, built-ins and resource operations, `let`/`var` assignment, `return` inside
// `parallel`, `sleep` in routes, unreachable code and unused variables, fns and resources.

public final class Resolver {
    let program: Program
    let file: SourceFile
    var model: SemanticModel
    var diagnostics: [Diagnostic] = []

    /// The open scopes of the body being resolved (seeded with the globals after collecting them).
    private var scopes = Scopes(globals: [:])
    private var currentDeclaration = 0
    private var currentIsRoute = false
    private var routeParameter: Int?
    private var parallelDepth = 0
    /// Uses of each global declaration (calls, operations, subscriptions).
    private var globalUses: [Int: Int] = [:]
    /// `req.params.NAME` reads per route, and whether `req` escaped as a whole.
    private var paramReads: Set<String> = []
    private var requestEscapes = false

    public static func resolve(_ program: Program, file: SourceFile) -> (SemanticModel, [Diagnostic]) {
        let stem = file.fileName.hasSuffix(".inf") ? String(file.fileName.dropLast(4)) : file.fileName
        let r = Resolver(program: program, file: file, model: SemanticModel(appName: stem, nodeCount: program.nodeCount))
        r.run()
        return (r.model, r.diagnostics)
    }

    init(program: Program, file: SourceFile, model: SemanticModel) {
        self.program = program
        self.file = file
        self.model = model
    }

    func report(_ message: DiagnosticMessage, _ range: SourceRange, label: String = "",
                secondary: [Label] = [], fixIts: [FixIt] = []) {
        diagnostics.append(Diagnostic(message, at: Label(range, label), secondary: secondary, fixIts: fixIts))
    }

    private func run() {
        collectGlobals()
        scopes = Scopes(globals: model.globals)
        checkDeclarations()
        for (i, decl) in program.declarations.enumerated() {
            guard let h = decl.handler else { continue }
            resolveHandler(h, declaration: i)
        }
        reportUnusedGlobals()
    }

    // MARK: Globals

    private func collectGlobals() {
        for (i, decl) in program.declarations.enumerated() {
            guard let name = decl.declaredName, !name.name.isEmpty else { continue }
            if let first = model.globals[name.name] {
                let firstRange = program.declarations[first].declaredName?.range ?? .zero
                report(.duplicateDeclaration(name.name), name.range, label: "declared again here",
                       secondary: [Label(firstRange, "first declared here")])
                continue
            }
            if Builtin.byName[name.name] != nil {
                report(.builtinRedeclared(name.name), name.range)
                continue
            }
            model.globals[name.name] = i
            model.occurrences.append(Occurrence(range: name.range, symbol: .declaration(i), isDefinition: true))
        }
    }

    func markUsed(_ index: Int) { globalUses[index, default: 0] += 1 }

    private func useGlobal(_ index: Int, at range: SourceRange) {
        globalUses[index, default: 0] += 1
        model.occurrences.append(Occurrence(range: range, symbol: .declaration(index), isDefinition: false))
    }

    private func kindName(_ index: Int) -> String {
        switch program.declarations[index].kind {
        case .resource(let r): return "a \(r.kind.rawValue)"
        case .service: return "a service"
        case .handler: return "a function"
        default: return "a declaration"
        }
    }

    private func reportUnusedGlobals() {
        for (i, decl) in program.declarations.enumerated() {
            guard let name = decl.declaredName, model.globals[name.name] == i, globalUses[i, default: 0] == 0,
                  !name.name.hasPrefix("_") else { continue }
            let removal = FixIt("remove the unused declaration", [TextEdit(lineRange(of: decl.range), "")])
            if decl.handler != nil {
                report(.unusedFunction(name.name), name.range, fixIts: [removal])
            } else {
                let what = kindName(i).split(separator: " ").last.map(String.init) ?? "resource"
                report(.unusedResource(name.name, kind: what), name.range, fixIts: [removal])
            }
        }
    }

    /// The full lines a range covers, for fix-its that delete whole declarations.
    func lineRange(of r: SourceRange) -> SourceRange {
        let startLine = file.lineIndex(of: r.start)
        let endLine = file.lineIndex(of: max(r.start, r.end - 1))
        let end = endLine + 1 < file.lineCount ? file.lineStarts[endLine + 1] : file.bytes.count
        return SourceRange(file.lineStarts[startLine], end)
    }

    // MARK: Handlers and scopes

    private func resolveHandler(_ h: HandlerDecl, declaration: Int) {
        currentDeclaration = declaration
        currentIsRoute = false
        routeParameter = nil
        paramReads = []
        requestEscapes = false
        scopes.reset()
        defer { scopes.closeAll() }
        let firstBinding = model.bindings.count
        for p in h.params where !p.name.isEmpty {
            if scopes.inOutermostScope(p.name) != nil {
                report(.duplicateParameter(p.name), p.range)
                continue
            }
            _ = declare(p, kind: .parameter)
        }
        if case .route = h.trigger {
            currentIsRoute = true
            routeParameter = h.params.first.flatMap { scopes.inOutermostScope($0.name) }
        }
        resolveBlock(h.body, newScope: false)
        reportUnusedBindings(from: firstBinding)
        if case .route(_, let path, let pathRange) = h.trigger, let routePath = model.routePaths[declaration],
           routeParameter != nil, !requestEscapes {
            for name in routePath.parameterNames where !paramReads.contains(name) {
                let r = Resolver.segmentRange(of: ":" + name, inPath: path, at: pathRange)
                report(.unusedPathParameter(name, request: h.params.first?.name ?? "req"), r)
            }
        }
    }

    /// The source range of one segment of a route path literal (the path starts after the quote).
    static func segmentRange(of segment: String, inPath path: String, at pathRange: SourceRange) -> SourceRange {
        var offset = pathRange.start + 1
        for part in path.split(separator: "/", omittingEmptySubsequences: false) {
            if part == segment { return SourceRange(offset, offset + part.utf8.count) }
            offset += part.utf8.count + 1
        }
        return pathRange
    }

    private func declare(_ name: Identifier, kind: LocalBinding.Kind) -> Int {
        let index = model.bindings.count
        model.bindings.append(LocalBinding(name: name, kind: kind, declaration: currentDeclaration))
        scopes.declare(name.name, binding: index)
        model.occurrences.append(Occurrence(range: name.range, symbol: .local(index), isDefinition: true))
        return index
    }

    /// What a name refers to here: a local binding, else a declaration, else a built-in.
    private func lookup(_ name: String) -> Symbol? { scopes.lookup(name) }

    private func visibleNames() -> [String] { scopes.visibleNames }

    private func reportUnusedBindings(from start: Int) {
        for i in start..<model.bindings.count {
            let b = model.bindings[i]
            guard b.reads == 0, b.kind != .parameter, !b.name.name.hasPrefix("_"), !b.name.name.isEmpty else { continue }
            report(.unusedVariable(b.name.name), b.name.range,
                   fixIts: [FixIt("rename to `_\(b.name.name)`", [TextEdit(b.name.range, "_" + b.name.name)])])
        }
    }

    // MARK: Statements

    private func resolveBlock(_ block: Block, newScope: Bool = true) {
        if newScope { scopes.push() }
        var terminated: SourceRange?
        var reportedUnreachable = false
        for s in block.statements {
            if let t = terminated, !reportedUnreachable {
                reportedUnreachable = true
                report(.unreachableCode, s.range, secondary: [Label(t, "because this leaves the block first")])
            }
            resolveStatement(s, siblingScopeOwner: newScope)
            switch s.kind {
            case .returnStmt, .throwStmt: terminated = s.range
            default: break
            }
        }
        if newScope { scopes.pop() }
    }

    private func resolveStatement(_ s: Stmt, siblingScopeOwner: Bool) {
        switch s.kind {
        case .binding(let mutable, let name, let value):
            resolveExpr(value)
            if let existing = scopes.inInnermostScope(name.name) {
                report(.duplicateBinding(name.name, mutable: mutable), name.range,
                       secondary: [Label(model.bindings[existing].name.range, "first declared here")])
            }
            if !name.name.isEmpty { _ = declare(name, kind: mutable ? .var : .let) }
        case .assign(let target, let value):
            resolveExpr(value)
            resolveAssignmentTarget(target)
        case .ifElse(let condition, let then, let otherwise):
            resolveExpr(condition)
            resolveBlock(then)
            if let otherwise { resolveStatement(otherwise, siblingScopeOwner: true) }
        case .forIn(let variable, let sequence, let body):
            resolveExpr(sequence)
            scopes.push()
            if !variable.name.isEmpty { _ = declare(variable, kind: .loop) }
            resolveBlock(body, newScope: false)
            scopes.pop()
        case .whileLoop(let condition, let body):
            resolveExpr(condition)
            resolveBlock(body)
        case .returnStmt(let value):
            if let value { resolveExpr(value) }
            if parallelDepth > 0 {
                report(.returnInParallel, s.range)
            }
        case .throwStmt(let value):
            resolveExpr(value)
        case .tryCatch(let body, let variable, let handler):
            resolveBlock(body)
            scopes.push()
            if let variable, !variable.name.isEmpty { _ = declare(variable, kind: .catch) }
            resolveBlock(handler, newScope: false)
            scopes.pop()
        case .sleep(let duration):
            resolveExpr(duration)
            if currentIsRoute {
                report(.sleepInRoute, s.range)
            }
        case .parallel(let block):
            // Bindings inside `parallel` are visible after it: no new scope.
            parallelDepth += 1
            for inner in block.statements { resolveStatement(inner, siblingScopeOwner: false) }
            parallelDepth -= 1
        case .block(let block):
            resolveBlock(block)
        case .expression(let e):
            resolveExpr(e)
        case .invalid:
            break
        }
    }

    private func resolveAssignmentTarget(_ target: Expr) {
        var root = target
        while true {
            switch root.kind {
            case .member(let base, _): root = base
            case .index(let base, let index):
                resolveExpr(index)
                root = base
            default:
                guard case .name(let name) = root.kind else { return }
                guard let symbol = resolveName(root, name) else { return }
                switch symbol {
                case .local(let b):
                    model.occurrences.append(Occurrence(range: root.range, symbol: symbol, isDefinition: false))
                    let binding = model.bindings[b]
                    if binding.kind == .var { return }
                    if target.id != root.id { model.bindings[b].reads += 1 }
                    var fixIts: [FixIt] = []
                    if binding.kind == .let, let letRange = letKeywordRange(before: binding.name.range) {
                        fixIts.append(FixIt("change `let` to `var`", [TextEdit(letRange, "var")]))
                    }
                    let what = binding.kind == .let ? "a `let` constant" : binding.kind == .parameter ? "a parameter" : "a \(binding.kind.rawValue) variable"
                    report(.assignToBinding(name, what: what, isLet: binding.kind == .let), target.range,
                           secondary: [Label(binding.name.range, "declared here")], fixIts: fixIts)
                case .declaration(let d):
                    report(.assignToDeclaration(name, kind: kindName(d)), target.range)
                case .builtin:
                    report(.assignToBuiltin(name), target.range)
                }
                return
            }
        }
    }

    /// The `let` keyword's range when it directly precedes a binding's name.
    private func letKeywordRange(before name: SourceRange) -> SourceRange? {
        var i = name.start - 1
        while i > 0 && (file.bytes[i] == 0x20 || file.bytes[i] == 0x09) { i -= 1 }
        guard i >= 2, file.text(SourceRange(i - 2, i + 1)) == "let" else { return nil }
        return SourceRange(i - 2, i + 1)
    }

    /// Looks up the name expression `e`, records what it refers to, and reports it when undefined.
    private func resolveName(_ e: Expr, _ name: String) -> Symbol? {
        guard let symbol = lookup(name) else {
            undefined(name, at: e.range)
            return nil
        }
        model.references[e.id] = symbol
        return symbol
    }

    private func undefined(_ name: String, at range: SourceRange) {
        let suggestion = Spelling.closest(to: name, in: visibleNames())
        report(.undefinedName(name, suggestion: suggestion), range, label: "not declared",
               fixIts: suggestion.map { [FixIt("replace with `\($0)`", [TextEdit(range, $0)])] } ?? [])
    }

    // MARK: Expressions

    private func resolveExpr(_ e: Expr) {
        switch e.kind {
        case .null, .bool, .number, .duration, .invalid:
            break
        case .string(let parts):
            for case .interpolation(let inner) in parts { resolveExpr(inner) }
        case .name(let name):
            guard let symbol = resolveName(e, name) else { return }
            switch symbol {
            case .local(let b):
                model.bindings[b].reads += 1
                model.occurrences.append(Occurrence(range: e.range, symbol: symbol, isDefinition: false))
                if b == routeParameter { requestEscapes = true }
            case .declaration(let d):
                useGlobal(d, at: e.range)
                notAValue(d, name: name, at: e.range)
            case .builtin(let b):
                report(.builtinNotValue(name, signature: b.signature), e.range)
            }
        case .list(let items):
            items.forEach(resolveExpr)
        case .object(let entries):
            entries.forEach { resolveExpr($0.value) }
        case .unary(_, let operand):
            resolveExpr(operand)
        case .binary(_, let l, let r):
            resolveExpr(l)
            resolveExpr(r)
        case .member(let base, let field):
            if case .name(let name) = base.kind, let symbol = lookup(name), case .declaration(let d) = symbol {
                model.references[base.id] = symbol
                useGlobal(d, at: base.range)
                if let kind = model.resourceKind(of: d, in: program) {
                    report(.operationNotCalled(resource: name, operation: field.name, kind: kind.rawValue,
                                                       signature: kind.operations.contains { $0.rawValue == field.name }
                                                           ? ResourceOperation(rawValue: field.name).map { $0.signature(on: kind) } ?? field.name : nil,
                                                       supported: Resolver.operationList(kind)), e.range)
                } else {
                    notAValue(d, name: name, at: base.range)
                }
                return
            }
            if noteParamRead(e) { return }
            resolveExpr(base)
        case .index(let base, let index):
            resolveExpr(base)
            resolveExpr(index)
        case .call(let callee, let arguments):
            resolveCall(e, callee: callee, arguments: arguments)
        case .async(let call):
            resolveExpr(call)
            if case .call = call.kind, let target = model.calls[call.id] {
                if case .fn = target { return }
                report(.asyncNeedsFn, e.range)
            }
        }
    }

    /// Records `req.params.NAME` on the route's request parameter; true when it handled `e`.
    private func noteParamRead(_ e: Expr) -> Bool {
        guard let routeParameter, let path = e.memberPath, path.count >= 2,
              let first = scopes.inOutermostScope(path[0]), first == routeParameter,
              lookup(path[0]) == .local(routeParameter) else { return false }
        guard let base = firstNameExpr(e) else { return false }
        model.references[base.id] = .local(routeParameter)
        model.bindings[routeParameter].reads += 1
        model.occurrences.append(Occurrence(range: base.range, symbol: .local(routeParameter), isDefinition: false))
        if path[1] == "params" {
            if path.count >= 3 {
                paramReads.insert(path[2])
                if let routePath = model.routePaths[currentDeclaration], !routePath.parameterNames.contains(path[2]) {
                    let known = routePath.parameterNames
                    let suggestion = Spelling.closest(to: path[2], in: known)
                    report(.unknownPathParameter(path[2], request: path[0], known: known, suggestion: suggestion), e.range)
                }
            } else {
                requestEscapes = true
            }
        }
        return true
    }

    private func firstNameExpr(_ e: Expr) -> Expr? {
        switch e.kind {
        case .name: return e
        case .member(let base, _): return firstNameExpr(base)
        default: return nil
        }
    }

    private func notAValue(_ d: Int, name: String, at range: SourceRange) {
        if program.declarations[d].handler != nil {
            report(.fnNotValue(name), range)
        } else if let kind = model.resourceKind(of: d, in: program) {
            report(.resourceNotValue(name, kind: kindName(d), operations: Resolver.operationList(kind)), range)
        }
    }

    static func operationList(_ kind: ResourceKind) -> String {
        let ops = kind.operations.map { "`\($0.rawValue)`" }
        return ops.count == 1 ? ops[0] : ops.dropLast().joined(separator: ", ") + " and " + ops[ops.count - 1]
    }

    private func resolveCall(_ e: Expr, callee: Expr, arguments: [Expr]) {
        arguments.forEach(resolveExpr)
        switch callee.kind {
        case .name(let name):
            guard let symbol = resolveName(callee, name) else { return }
            switch symbol {
            case .builtin(let b):
                model.calls[e.id] = .builtin(b)
                model.occurrences.append(Occurrence(range: callee.range, symbol: symbol, isDefinition: false))
                checkArity(b.arity, given: arguments.count, call: e, what: "`\(name)`", signature: b.signature)
            case .declaration(let d):
                useGlobal(d, at: callee.range)
                if let h = program.declarations[d].handler {
                    model.calls[e.id] = .fn(declaration: d)
                    let n = h.params.count
                    checkArity(n...n, given: arguments.count, call: e, what: "fn `\(name)`",
                               signature: "\(name)(\(h.params.map(\.name).joined(separator: ", ")))",
                               definition: program.declarations[d].declaredName?.range)
                } else if let kind = model.resourceKind(of: d, in: program) {
                    report(.resourceNotCallable(name, kind: kindName(d), example: kind.operations[0].signature(on: kind)),
                           callee.range)
                }
            case .local(let b):
                model.bindings[b].reads += 1
                model.occurrences.append(Occurrence(range: callee.range, symbol: symbol, isDefinition: false))
                report(.variableNotCallable(name), callee.range)
            }
        case .member(let base, let op):
            if case .name(let name) = base.kind, let symbol = lookup(name), case .declaration(let d) = symbol,
               let kind = model.resourceKind(of: d, in: program) {
                model.references[base.id] = symbol
                useGlobal(d, at: base.range)
                guard let operation = ResourceOperation(rawValue: op.name), kind.operations.contains(operation) else {
                    let suggestion = Spelling.closest(to: op.name, in: kind.operations.map(\.rawValue))
                    report(.unknownOperation(kind: kind.rawValue, resource: name, operation: op.name, supported: Resolver.operationList(kind), suggestion: suggestion),
                           op.range,
                           fixIts: suggestion.map { [FixIt("replace with `\($0)`", [TextEdit(op.range, $0)])] } ?? [])
                    return
                }
                model.calls[e.id] = .operation(declaration: d, kind, operation)
                checkArity(operation.arity(on: kind), given: arguments.count, call: e, what: "`\(name).\(op.name)`",
                           signature: "\(name).\(operation.signature(on: kind))")
                return
            }
            if case .name(let name) = base.kind, lookup(name) == nil {
                undefined(name, at: base.range)
                return
            }
            if case .name(let name) = base.kind, let symbol = lookup(name), case .declaration(let d) = symbol {
                model.references[base.id] = symbol
                useGlobal(d, at: base.range)
                report(.fnHasNoOperations(name), callee.range)
                return
            }
            resolveExpr(callee)
            report(.notAMethod(op.name), op.range)
        default:
            resolveExpr(callee)
            if case .invalid = callee.kind { return }
            report(.expressionNotCallable, callee.range)
        }
    }

    /// `what` and `signature` are written only for a wrong count: every call is checked.
    private func checkArity(_ arity: ClosedRange<Int>, given: Int, call: Expr, what: @autoclosure () -> String,
                            signature: @autoclosure () -> String, definition: SourceRange? = nil) {
        guard !arity.contains(given) else { return }
        report(.wrongArity(what: what(), expects: arity.argumentDescription, given: given, signature: signature()),
               call.range, secondary: definition.map { [Label($0, "defined here")] } ?? [])
    }
}
