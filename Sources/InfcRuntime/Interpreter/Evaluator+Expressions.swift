// Runtime stage (interpreter): expressions — literals, names, operators, member access and
// indexing. Each compound expression checks the stack first, so deep nesting cannot crash.

import InfcCompiler

extension Evaluator {
    // The recursive path (`evaluate` and the function of each compound expression) binds as
    // little as it can per frame: debug builds give every binding and every `try` its own
    // stack slot, and code nests up to 256 levels deep.

    func evaluate(_ e: Expr) throws(RuntimeError) -> JSON {
        switch e.kind {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let n): return .number(n)
        case .duration(let ms): return .number(Double(ms))
        case .name: return slots[try slot(of: e.id, e.range)]
        case .string: return try interpolate(e)
        case .list: return try list(e)
        case .object: return try object(e)
        case .unary: return try unary(e)
        case .binary: return try binary(e)
        case .member: return try member(e)
        case .index: return try index(e)
        case .call:
            if recorded != nil, let v = recordedStep(e) { return v }
            return try call(e)
        case .async:
            if recorded != nil, let v = recordedStep(e) { return v }
            return try startAsync(e)
        case .invalid: throw invalid(e.range)
        }
    }

    /// A call's recorded value when it is a step already made (never the performed one).
    private func recordedStep(_ e: Expr) -> JSON? {
        guard e.range != performed else { return nil }
        return recorded?[e.range]
    }

    private func interpolate(_ e: Expr) throws(RuntimeError) -> JSON {
        guard case .string(let parts) = e.kind else { throw invalid(e.range) }
        if parts.count == 1, case .text(let text) = parts[0] { return .string(text) }
        try checkStack(e.range)
        var out = ""
        for part in parts {
            switch part {
            case .text(let text): out += text
            case .interpolation(let inner): out += try ValueSemantics.textOrError(evaluate(inner))
            }
        }
        return .string(out)
    }

    private func list(_ e: Expr) throws(RuntimeError) -> JSON {
        guard case .list(let items) = e.kind else { throw invalid(e.range) }
        try checkStack(e.range)
        var out: [JSON] = []
        out.reserveCapacity(items.count)
        for item in items { out.append(try evaluate(item)) }
        return .array(out)
    }

    private func object(_ e: Expr) throws(RuntimeError) -> JSON {
        guard case .object(let entries) = e.kind else { throw invalid(e.range) }
        try checkStack(e.range)
        var out = JSONObject()
        for entry in entries { out[entry.key] = try evaluate(entry.value) }
        return .object(out)
    }

    private func unary(_ e: Expr) throws(RuntimeError) -> JSON {
        guard case .unary(let op, let operand) = e.kind else { throw invalid(e.range) }
        try checkStack(e.range)
        let value = try evaluate(operand)
        if op == .not { return .bool(!ValueSemantics.truthy(value)) }
        do { return try ValueSemantics.negate(value) } catch { throw locate(error, e.range) }
    }

    private func binary(_ e: Expr) throws(RuntimeError) -> JSON {
        guard case .binary(let op, let left, let right) = e.kind else { throw invalid(e.range) }
        try checkStack(e.range)
        let a = try evaluate(left)
        switch op {
        case .and: if !ValueSemantics.truthy(a) { return a }
        case .or: if ValueSemantics.truthy(a) { return a }
        case .coalesce: if !a.isNull { return a }
        default:
            let b = try evaluate(right)
            do { return try ValueSemantics.binary(op, a, b) } catch { throw locate(error, e.range) }
        }
        return try evaluate(right)
    }

    private func member(_ e: Expr) throws(RuntimeError) -> JSON {
        guard case .member(let base, let field) = e.kind else { throw invalid(e.range) }
        try checkStack(e.range)
        let value = try evaluate(base)
        do { return try ValueSemantics.member(value, field.name) } catch { throw locate(error, e.range) }
    }

    private func index(_ e: Expr) throws(RuntimeError) -> JSON {
        guard case .index(let base, let key) = e.kind else { throw invalid(e.range) }
        try checkStack(e.range)
        let value = try evaluate(base)
        let keyValue = try evaluate(key)
        do { return try ValueSemantics.index(value, keyValue) } catch { throw locate(error, e.range) }
    }
}
