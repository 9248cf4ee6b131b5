// Incremental analysis: a compilation's diagnostics, patched after an edit inside one handler's
// body instead of compiling the whole file again. Only that declaration is lexed, parsed and
// resolved (before and after the edit); everything else is reused, its ranges moved by the
// edit's length. Inference runs only when it could say something new: when the body's facts
// (calls, operations, sleeps, parallel blocks) changed, the update declines and the caller
// compiles in full. The result equals a full compile's diagnostics (the differential tests
// compare them edit by edit); any edit it cannot prove local is declined, never guessed.

/// The diagnostics of one version of a file, and what an edit inside a handler's body needs to
/// patch them: each declaration's header, the globals, the uses of each global, the front-end
/// and plan diagnostics kept apart (as `Compilation.compile` merges them).
public struct IncrementalDiagnostics: Sendable {
    /// The version of the file these diagnostics are of.
    public private(set) var file: SourceFile
    /// What `Compilation.compile(file).diagnostics` gives.
    public private(set) var diagnostics: [Diagnostic]

    /// Every declaration without its body's statements or its attributes (the body's range is
    /// kept), ranges as in `file`: what resolving one body reads of the others.
    private var headers: [Declaration]
    private let globals: [String: Int]
    private let routePaths: [Int: RoutePath]
    /// How many uses (calls, operations, references, subscriptions) each declaration has.
    private var uses: [Int]
    private let workflowRoots: Set<Int>
    private let options: CompileOptions
    private var frontEnd: [Diagnostic]
    private var plan: [Diagnostic]

    /// The diagnostics of a full compilation, ready to be patched.
    public init(_ compilation: Compilation, options: CompileOptions = CompileOptions()) {
        file = compilation.file
        diagnostics = compilation.diagnostics
        headers = compilation.program.declarations.map { $0.header }
        globals = compilation.model.globals
        routePaths = compilation.model.routePaths
        var uses = [Int](repeating: 0, count: headers.count)
        for o in compilation.model.occurrences where !o.isDefinition {
            if case .declaration(let d) = o.symbol, uses.indices.contains(d) { uses[d] += 1 }
        }
        self.uses = uses
        workflowRoots = Set(compilation.plan.workflows.map(\.handler))
        self.options = options
        frontEnd = compilation.frontEndDiagnostics
        plan = compilation.planDiagnostics
    }

    /// The diagnostics of `newFile`, when it differs from `file` only inside one handler's body
    /// and in a way that leaves that body's facts as they were; nil otherwise (compile in full).
    public func updated(to newFile: SourceFile) -> IncrementalDiagnostics? {
        let old = file.bytes, new = newFile.bytes
        guard let edit = BodyEdit(old, new) else {
            var same = self
            same.file = newFile
            return same
        }
        // The handler whose body holds the edit, braces excluded.
        guard let e = headers.firstIndex(where: { d in
            guard let body = d.handler?.body.range, d.range.end == body.end else { return false }
            return body.start < edit.start && edit.oldEnd < body.end
        }), !workflowRoots.contains(e) else { return nil }
        let oldRange = headers[e].range
        let newRange = SourceRange(oldRange.start, oldRange.end + edit.delta)
        // It starts a line and the next line follows it: its tokens are those a full parse sees.
        guard oldRange.start == 0 || old[oldRange.start - 1] == UInt8(ascii: "\n"),
              newRange.end == new.count || new[newRange.end] == UInt8(ascii: "\n") else { return nil }

        guard let before = IncrementalDiagnostics.parseHandler(file, oldRange),
              let after = IncrementalDiagnostics.parseHandler(newFile, newRange),
              after.declaration.handler?.body.range.end == newRange.end else { return nil }

        var newHeaders = headers
        for i in newHeaders.indices where i > e { newHeaders[i] = newHeaders[i].header(shiftedBy: edit.delta) }
        var oldProgram = Program(declarations: headers, nodeCount: 0)
        oldProgram.declarations[e] = before.declaration
        var newProgram = Program(declarations: newHeaders, nodeCount: 0)
        newProgram.declarations[e] = after.declaration
        let was = Resolver.resolveBody(of: e, in: oldProgram, file: file, globals: globals, routePaths: routePaths)
        let now = Resolver.resolveBody(of: e, in: newProgram, file: newFile, globals: globals, routePaths: routePaths)

        // Inference reads a body only through its facts: the same facts, moved, infer the same plan.
        guard let oldBody = before.declaration.handler?.body, let newBody = after.declaration.handler?.body,
              edit.moved(BodyFacts.collect(oldBody, model: was.model), equals: BodyFacts.collect(newBody, model: now.model))
        else { return nil }

        // Parse and resolve diagnostics: the body's old ones out, the others moved, its new ones in.
        var kept = frontEnd
        for d in before.diagnostics + was.diagnostics {
            guard let at = kept.firstIndex(of: d) else { return nil }
            kept.remove(at: at)
        }
        var added = after.diagnostics + now.diagnostics
        var newUses = uses
        for g in Set(was.uses.keys).union(now.uses.keys) where newUses.indices.contains(g) {
            let count = uses[g] - was.uses[g, default: 0] + now.uses[g, default: 0]
            newUses[g] = count
            if uses[g] == 0, let unused = Resolver.unusedDiagnostic(of: g, in: oldProgram, file: file, globals: globals) {
                guard let at = kept.firstIndex(of: unused) else { return nil }
                kept.remove(at: at)
            }
            if count == 0, let unused = Resolver.unusedDiagnostic(of: g, in: newProgram, file: newFile, globals: globals) {
                added.append(unused)
            }
        }
        var bag = DiagnosticBag()
        for d in kept {
            guard let moved = edit.moved(d) else { return nil }
            bag.add(moved)
        }
        bag.add(contentsOf: added)
        var movedPlan: [Diagnostic] = []
        for d in plan {
            guard let moved = edit.moved(d) else { return nil }
            movedPlan.append(moved)
        }

        var result = self
        result.file = newFile
        result.headers = newHeaders
        result.headers[e] = after.declaration.header
        result.uses = newUses
        result.frontEnd = bag.sorted
        result.plan = movedPlan
        result.diagnostics = result.frontEnd
        // As `Compilation.compile`: plan diagnostics on a program that does not resolve would only repeat its errors.
        if !result.frontEnd.contains(where: { $0.severity == .error }) && !movedPlan.isEmpty {
            var all = DiagnosticBag()
            all.add(contentsOf: result.frontEnd)
            all.add(contentsOf: movedPlan)
            result.diagnostics = all.sorted
        }
        return result
    }

    /// One handler declaration parsed alone from `range`, with its diagnostics; nil unless the
    /// range holds exactly that declaration, its body closed by the range's last byte, and
    /// nothing in it reached the range's end (where a full parse would read on).
    private static func parseHandler(_ file: SourceFile, _ range: SourceRange) -> (declaration: Declaration, diagnostics: [Diagnostic])? {
        let parser = Parser(file: file, range: range.start..<range.end, nextID: 0, depth: 0)
        let declarations = parser.parseDeclarations()
        func reachesEnd(_ d: Diagnostic) -> Bool {
            d.range.end >= range.end || d.secondary.contains { $0.range.end >= range.end }
                || d.fixIts.contains { $0.edits.contains { $0.range.end >= range.end } }
        }
        guard declarations.count == 1, let d = declarations.first, d.handler != nil, d.range == range,
              !parser.reportedNesting, !parser.diagnostics.contains(where: reachesEnd) else { return nil }
        return (d, parser.diagnostics)
    }
}

/// The one changed stretch between two versions of a text: `start..<oldEnd` of the old replaced
/// by `start..<start + oldEnd - start + delta` of the new.
struct BodyEdit {
    let start: Int
    let oldEnd: Int
    let delta: Int

    /// nil when the texts are the same.
    init?(_ old: [UInt8], _ new: [UInt8]) {
        if old == new { return nil }
        let shorter = min(old.count, new.count)
        var prefix = 0
        while prefix < shorter && old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < shorter - prefix && old[old.count - 1 - suffix] == new[new.count - 1 - suffix] { suffix += 1 }
        start = prefix
        oldEnd = old.count - suffix
        delta = new.count - old.count
    }

    /// An old range's place in the new text; nil when the edit changed part of it.
    func moved(_ r: SourceRange) -> SourceRange? {
        let s: Int, e: Int
        if r.start >= oldEnd { s = r.start + delta } else if r.start <= start { s = r.start } else { return nil }
        if r.end <= start { e = r.end } else if r.end >= oldEnd { e = r.end + delta } else { return nil }
        guard s <= e else { return nil }
        return SourceRange(s, e)
    }

    func moved(_ d: Diagnostic) -> Diagnostic? {
        var d = d
        guard let primary = moved(d.primary.range) else { return nil }
        d.primary.range = primary
        for i in d.secondary.indices {
            guard let r = moved(d.secondary[i].range) else { return nil }
            d.secondary[i].range = r
        }
        for i in d.fixIts.indices {
            for j in d.fixIts[i].edits.indices {
                guard let r = moved(d.fixIts[i].edits[j].range) else { return nil }
                d.fixIts[i].edits[j].range = r
            }
        }
        return d
    }

    private func moved<T>(_ sites: [Site<T>]) -> [Site<T>]? {
        var out: [Site<T>] = []
        out.reserveCapacity(sites.count)
        for s in sites {
            guard let r = moved(s.range) else { return nil }
            out.append(Site(value: s.value, range: r, conditional: s.conditional))
        }
        return out
    }

    private func moved(_ ranges: [SourceRange]) -> [SourceRange]? {
        var out: [SourceRange] = []
        for r in ranges {
            guard let m = moved(r) else { return nil }
            out.append(m)
        }
        return out
    }

    /// True when `new` states what `old` stated, each fact where the edit moved it.
    func moved(_ old: BodyFacts, equals new: BodyFacts) -> Bool {
        guard moved(old.syncCalls) == new.syncCalls, moved(old.asyncCalls) == new.asyncCalls,
              moved(old.operations) == new.operations, moved(old.sleeps) == new.sleeps,
              moved(old.parallelCalls) == new.parallelCalls else { return false }
        // Keyed by node id, which differ between the two parses: compared as a list of lists.
        var oldCalls: [[SourceRange]] = []
        for ranges in old.callRanges.values {
            guard let m = moved(ranges) else { return false }
            oldCalls.append(m)
        }
        let order = { (a: [SourceRange], b: [SourceRange]) in a.lexicographicallyPrecedes(b) }
        return oldCalls.sorted(by: order) == new.callRanges.values.sorted(by: order)
    }
}

extension Declaration {
    /// The declaration as another body's resolution reads it: names, kinds and parameters; no
    /// statements (the body's range is kept) and no attributes.
    var header: Declaration { header(shiftedBy: 0) }

    /// `header`, every range moved by `delta` bytes.
    func header(shiftedBy delta: Int) -> Declaration {
        func r(_ x: SourceRange) -> SourceRange { SourceRange(x.start + delta, x.end + delta) }
        func i(_ x: Identifier) -> Identifier { Identifier(x.name, r(x.range)) }
        let kind: Kind
        switch self.kind {
        case .app(let a): kind = .app(AppDecl(name: i(a.name), settings: []))
        case .resource(let res): kind = .resource(ResourceDecl(kind: res.kind, kindRange: r(res.kindRange), name: i(res.name)))
        case .service(let s):
            kind = .service(ServiceDecl(name: i(s.name), url: s.url, urlRange: r(s.urlRange),
                                        limit: s.limit.map { IntegerClause(value: $0.value, range: r($0.range)) },
                                        rate: s.rate.map { RateClause(count: $0.count, perSeconds: $0.perSeconds, range: r($0.range)) }))
        case .handler(let h):
            let trigger: HandlerDecl.Trigger
            switch h.trigger {
            case .fn(let name): trigger = .fn(name: i(name))
            case .route(let method, let path, let pathRange): trigger = .route(method: i(method), path: path, pathRange: r(pathRange))
            case .on(let topic): trigger = .on(topic: i(topic))
            case .every(.interval(let ms, let range)): trigger = .every(.interval(milliseconds: ms, range: r(range)))
            case .every(.cron(let text, let range)): trigger = .every(.cron(text, range: r(range)))
            }
            kind = .handler(HandlerDecl(trigger: trigger, params: h.params.map(i), paramsRange: r(h.paramsRange), attributes: [],
                                        body: Block(statements: [], range: r(h.body.range)), headerRange: r(h.headerRange)))
        case .invalid: kind = .invalid
        }
        return Declaration(id: id, range: r(range), kind: kind)
    }
}
