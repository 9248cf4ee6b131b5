// Language server: pre-order walks over handler bodies — every expression and statement —
// for hover (operations, callers), completion (scopes) and document symbols.
import InfcCompiler

enum SyntaxWalk {
    /// Calls `visit` on every statement of a block, nested blocks included, outermost first.
    static func forEachStmt(in block: Block, _ visit: (Stmt) -> Void) {
        for s in block.statements { forEachStmt(in: s, visit) }
    }

    static func forEachStmt(in stmt: Stmt, _ visit: (Stmt) -> Void) {
        visit(stmt)
        for b in childBlocks(of: stmt) { forEachStmt(in: b, visit) }
        if case .ifElse(_, _, let otherwise?) = stmt.kind { forEachStmt(in: otherwise, visit) }
    }

    /// The blocks directly inside a statement (an `else if` is a statement, not a block).
    static func childBlocks(of stmt: Stmt) -> [Block] {
        switch stmt.kind {
        case .ifElse(_, let then, _): return [then]
        case .forIn(_, _, let body), .whileLoop(_, let body): return [body]
        case .tryCatch(let body, _, let handler): return [body, handler]
        case .parallel(let b), .block(let b): return [b]
        default: return []
        }
    }

    /// The expressions directly held by a statement (not those of nested statements).
    static func expressions(of stmt: Stmt) -> [Expr] {
        switch stmt.kind {
        case .binding(_, _, let value): return [value]
        case .assign(let target, let value): return [target, value]
        case .ifElse(let condition, _, _), .whileLoop(let condition, _): return [condition]
        case .forIn(_, let sequence, _): return [sequence]
        case .returnStmt(let e): return e.map { [$0] } ?? []
        case .throwStmt(let e), .sleep(let e), .expression(let e): return [e]
        case .tryCatch, .parallel, .block, .invalid: return []
        }
    }

    /// Calls `visit` on every expression in a block, outer expressions before their parts.
    static func forEachExpr(in block: Block, _ visit: (Expr) -> Void) {
        forEachStmt(in: block) { s in
            for e in expressions(of: s) { forEachExpr(in: e, visit) }
        }
    }

    static func forEachExpr(in expr: Expr, _ visit: (Expr) -> Void) {
        visit(expr)
        switch expr.kind {
        case .null, .bool, .number, .duration, .name, .invalid: break
        case .string(let parts):
            for case .interpolation(let e) in parts { forEachExpr(in: e, visit) }
        case .list(let items): items.forEach { forEachExpr(in: $0, visit) }
        case .object(let entries): entries.forEach { forEachExpr(in: $0.value, visit) }
        case .unary(_, let e), .async(let e): forEachExpr(in: e, visit)
        case .binary(_, let a, let b), .index(let a, let b):
            forEachExpr(in: a, visit)
            forEachExpr(in: b, visit)
        case .member(let base, _): forEachExpr(in: base, visit)
        case .call(let callee, let arguments):
            forEachExpr(in: callee, visit)
            arguments.forEach { forEachExpr(in: $0, visit) }
        }
    }

    /// Every call in a block with whether it is started with `async`.
    static func calls(in block: Block) -> [(call: Expr, isAsync: Bool)] {
        var asyncCalls: Set<NodeID> = []
        var result: [(Expr, Bool)] = []
        forEachExpr(in: block) { e in
            if case .async(let inner) = e.kind { asyncCalls.insert(inner.id) }
            if case .call = e.kind { result.append((e, asyncCalls.contains(e.id))) }
        }
        return result.map { (call: $0.0, isAsync: $0.1) }
    }
}
