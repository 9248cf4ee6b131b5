// Infer stage: the facts one handler or fn body states directly — its sync and async calls,
// resource operations, sleeps and parallel blocks — each with the range that caused it and
// whether a condition guards it. Inference closes them over synchronous calls.

/// One fact with its cause.
public struct Site<T: Hashable & Sendable>: Hashable, Sendable {
    public var value: T
    public var range: SourceRange
    /// True when an `if`, loop, `try`/`catch` or short-circuit operator may skip it.
    public var conditional: Bool
}

public struct OperationUse: Hashable, Sendable {
    public var declaration: Int
    public var kind: ResourceKind
    public var operation: ResourceOperation
    public var action: Action { operation.action(on: kind) }
}

public struct BodyFacts: Sendable {
    public var syncCalls: [Site<Int>] = []
    public var asyncCalls: [Site<Int>] = []
    public var operations: [Site<OperationUse>] = []
    public var sleeps: [SourceRange] = []
    /// `parallel` blocks that call fns.
    public var parallelCalls: [SourceRange] = []
    /// Calls of `async` in this body, by call expression id (for fix-its).
    public var callRanges: [Int: [SourceRange]] = [:]

    /// Collects the direct facts of one body.
    static func collect(_ body: Block, model: SemanticModel) -> BodyFacts {
        var c = FactCollector(model: model)
        c.block(body, conditional: false)
        return c.facts
    }
}

private struct FactCollector {
    let model: SemanticModel
    var facts = BodyFacts()
    var inParallel = false
    var parallelHasCall = false

    mutating func block(_ b: Block, conditional: Bool) {
        for s in b.statements { stmt(s, conditional: conditional) }
    }

    mutating func stmt(_ s: Stmt, conditional: Bool) {
        switch s.kind {
        case .binding(_, _, let value): expr(value, conditional: conditional)
        case .assign(let target, let value):
            expr(value, conditional: conditional)
            expr(target, conditional: conditional)
        case .ifElse(let c, let then, let otherwise):
            expr(c, conditional: conditional)
            block(then, conditional: true)
            if let otherwise { stmt(otherwise, conditional: true) }
        case .forIn(_, let seq, let body):
            expr(seq, conditional: conditional)
            block(body, conditional: true)
        case .whileLoop(let c, let body):
            expr(c, conditional: conditional)
            block(body, conditional: true)
        case .returnStmt(let v): if let v { expr(v, conditional: conditional) }
        case .throwStmt(let v): expr(v, conditional: conditional)
        case .tryCatch(let body, _, let handler):
            block(body, conditional: conditional)
            block(handler, conditional: true)
        case .sleep(let d):
            expr(d, conditional: conditional)
            facts.sleeps.append(s.range)
        case .parallel(let b):
            let (savedIn, savedHas) = (inParallel, parallelHasCall)
            inParallel = true
            parallelHasCall = false
            block(b, conditional: conditional)
            if parallelHasCall { facts.parallelCalls.append(s.range) }
            inParallel = savedIn
            parallelHasCall = savedHas || parallelHasCall
        case .block(let b): block(b, conditional: conditional)
        case .expression(let e): expr(e, conditional: conditional)
        case .invalid: break
        }
    }

    mutating func expr(_ e: Expr, conditional: Bool) {
        switch e.kind {
        case .null, .bool, .number, .duration, .name, .invalid: break
        case .string(let parts):
            for case .interpolation(let inner) in parts { expr(inner, conditional: conditional) }
        case .list(let items): for i in items { expr(i, conditional: conditional) }
        case .object(let entries): for en in entries { expr(en.value, conditional: conditional) }
        case .unary(_, let x): expr(x, conditional: conditional)
        case .binary(let op, let l, let r):
            expr(l, conditional: conditional)
            expr(r, conditional: conditional || op == .and || op == .or || op == .coalesce)
        case .member(let base, _): expr(base, conditional: conditional)
        case .index(let base, let i):
            expr(base, conditional: conditional)
            expr(i, conditional: conditional)
        case .call(let callee, let args):
            for a in args { expr(a, conditional: conditional) }
            if case .member = callee.kind, model.calls[e.id] == nil { expr(callee, conditional: conditional) }
            switch model.calls[e.id] {
            case .fn(let d):
                facts.syncCalls.append(Site(value: d, range: e.range, conditional: conditional))
                if inParallel { parallelHasCall = true }
            case .operation(let d, let kind, let op):
                facts.operations.append(Site(value: OperationUse(declaration: d, kind: kind, operation: op), range: e.range, conditional: conditional))
            case .builtin, nil:
                break
            }
        case .async(let call):
            guard case .call(_, let args) = call.kind else { return }
            for a in args { expr(a, conditional: conditional) }
            if case .fn(let d) = model.calls[call.id] {
                facts.asyncCalls.append(Site(value: d, range: e.range, conditional: conditional))
            }
        }
    }
}
