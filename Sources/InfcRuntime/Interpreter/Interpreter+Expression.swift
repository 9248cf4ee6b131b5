// Runtime stage (interpreter): one expression of a declaration evaluated on its own, as the body
// would evaluate it at that point — for a workflow's evaluator on the AWS target, whose state
// machine runs the steps and hands over the variables and step results (docs/aws.md,
// "Expressions without a States form"). The same evaluator as a whole body: one interpreter.

import InfcCompiler

extension Interpreter {
    /// Evaluates the expression at exactly `range` in the body of `declaration`, with each local
    /// named in `variables` bound to its value (locals not named are null) and each call inside
    /// it whose range is in `steps` answered with that recorded value instead of being made (the
    /// steps the state machine already ran). The expression itself, when it is a call, is made.
    /// An unknown range is an `invalid-program` error (the package and the definition disagree).
    public func evaluate(expressionAt range: SourceRange, in declaration: Int, variables: JSONObject,
                         steps: [SourceRange: JSON], host: InterpreterHost) throws(RuntimeError) -> JSON {
        guard declaration >= 0, declaration < bodies.count, let body = bodies[declaration] else {
            throw RuntimeError.runtime("invalid-program", "declaration \(declaration) is not a handler or fn")
        }
        var frame = [JSON](repeating: .null, count: frameSizes[declaration])
        for (slot, name) in slotNames[declaration].enumerated() where slot < frame.count {
            if let value = variables[name] { frame[slot] = value }
        }
        let evaluator = Evaluator(interpreter: self, host: host, slots: frame, depth: 0, callStack: [labels[declaration]],
                                  stackLimit: StackBounds.lowestSafeAddress())
        evaluator.recorded = steps
        if let expression = Self.expression(at: range, in: body) {
            evaluator.performed = expression.range
            return try evaluator.evaluate(expression)
        }
        // An assignment to a field or element (`x.f = v`, `x[i] = v`): made, and `x` answered.
        if let statement = Self.assignment(at: range, in: body), case .assign(var root, _) = statement.kind {
            while true {
                if case .member(let base, _) = root.kind { root = base } else if case .index(let base, _) = root.kind { root = base } else { break }
            }
            _ = try evaluator.execute(statement)
            return evaluator.slots[try evaluator.slot(of: root.id, root.range)]
        }
        throw RuntimeError.runtime("invalid-program", "no expression at \(range.start)..<\(range.end) in \(labels[declaration]): the state machine and the package come from different builds; deploy them together")
    }

    /// The assignment statement of `block` whose range is exactly `range`.
    static func assignment(at range: SourceRange, in block: Block) -> Stmt? {
        for s in block.statements {
            guard s.range.start <= range.start && range.end <= s.range.end else { continue }
            if s.range == range, case .assign = s.kind { return s }
            switch s.kind {
            case .ifElse(_, let then, let otherwise):
                if let found = assignment(at: range, in: then) { return found }
                if let o = otherwise { return assignment(at: range, in: Block(statements: [o], range: o.range)) }
            case .forIn(_, _, let body), .whileLoop(_, let body), .parallel(let body), .block(let body):
                if let found = assignment(at: range, in: body) { return found }
            case .tryCatch(let body, _, let handler):
                if let found = assignment(at: range, in: body) ?? assignment(at: range, in: handler) { return found }
            default: break
            }
        }
        return nil
    }

    /// The outermost expression of `block` whose range is exactly `range`.
    static func expression(at range: SourceRange, in block: Block) -> Expr? {
        func inBlock(_ b: Block) -> Expr? {
            for s in b.statements {
                if let found = inStatement(s) { return found }
            }
            return nil
        }
        func inStatement(_ s: Stmt) -> Expr? {
            guard s.range.start <= range.start && range.end <= s.range.end else { return nil }
            switch s.kind {
            case .binding(_, _, let value): return inExpr(value)
            case .assign(let target, let value): return inExpr(value) ?? inExpr(target)
            case .ifElse(let c, let then, let otherwise): return inExpr(c) ?? inBlock(then) ?? otherwise.flatMap(inStatement)
            case .forIn(_, let sequence, let body): return inExpr(sequence) ?? inBlock(body)
            case .whileLoop(let c, let body): return inExpr(c) ?? inBlock(body)
            case .returnStmt(let v): return v.flatMap(inExpr)
            case .throwStmt(let v), .sleep(let v), .expression(let v): return inExpr(v)
            case .tryCatch(let body, _, let handler): return inBlock(body) ?? inBlock(handler)
            case .parallel(let b), .block(let b): return inBlock(b)
            case .invalid: return nil
            }
        }
        func inExpr(_ e: Expr) -> Expr? {
            if e.range == range { return e }
            guard e.range.start <= range.start && range.end <= e.range.end else { return nil }
            switch e.kind {
            case .string(let parts):
                for case .interpolation(let inner) in parts { if let f = inExpr(inner) { return f } }
                return nil
            case .list(let items): return items.lazy.compactMap(inExpr).first
            case .object(let entries): return entries.lazy.compactMap { inExpr($0.value) }.first
            case .unary(_, let x), .member(let x, _), .async(let x): return inExpr(x)
            case .binary(_, let l, let r), .index(let l, let r): return inExpr(l) ?? inExpr(r)
            case .call(let callee, let args): return inExpr(callee) ?? args.lazy.compactMap(inExpr).first
            case .null, .bool, .number, .duration, .name, .invalid: return nil
            }
        }
        return inBlock(block)
    }
}
