// Runtime stage (interpreter): calls — fns through the host (which may journal them), built-ins,
// resource operations and `async`.

import InfcCompiler

extension Evaluator {
    func call(_ e: Expr) throws(RuntimeError) -> JSON {
        guard case .call(_, let argumentExprs) = e.kind else { throw invalid(e.range) }
        try checkStack(e.range)
        let plan = interpreter.calls[Int(e.id.raw)]
        if case .none = plan { throw invalid(e.range) }
        var arguments: [JSON] = []
        arguments.reserveCapacity(argumentExprs.count)
        for argument in argumentExprs { arguments.append(try evaluate(argument)) }
        switch plan {
        case .fn(let declaration, let name):
            return try callFn(declaration, name, arguments, e.range)
        case .builtin(let builtin):
            return try callBuiltin(builtin, arguments, e.range)
        case .operation(let resource, let kind, let operation):
            do {
                return try host.perform(operation, on: resource, kind: kind, arguments: arguments, at: e.range)
            } catch {
                throw locate(error, e.range)
            }
        case .none:
            throw invalid(e.range)
        }
    }

    private func callFn(_ declaration: Int, _ name: String, _ arguments: [JSON], _ range: SourceRange) throws(RuntimeError) -> JSON {
        try checkCancelled(range)
        guard depth < Interpreter.maxCallDepth else { throw fail(.callDepth, at: range) }
        do {
            return try host.call(fn: declaration, name: name, arguments: arguments, at: range) { () throws(RuntimeError) -> JSON in
                depth += 1
                defer { depth -= 1 }
                return try runBody(of: declaration, arguments: arguments)
            }
        } catch {
            throw locate(error, range)
        }
    }

    /// `async f(args)`: the host enqueues or starts it and answers an id.
    func startAsync(_ e: Expr) throws(RuntimeError) -> JSON {
        let range = e.range
        guard case .async(let call) = e.kind, case .call(_, let argumentExprs) = call.kind,
              case .fn(let declaration, let name) = interpreter.calls[Int(call.id.raw)] else { throw invalid(range) }
        try checkStack(range)
        var arguments: [JSON] = []
        arguments.reserveCapacity(argumentExprs.count)
        for argument in argumentExprs { arguments.append(try evaluate(argument)) }
        do {
            return try host.startAsync(fn: declaration, name: name, arguments: arguments, at: range)
        } catch {
            throw locate(error, range)
        }
    }

    private func callBuiltin(_ builtin: Builtin, _ arguments: [JSON], _ range: SourceRange) throws(RuntimeError) -> JSON {
        switch builtin {
        case .uuid: return .string(host.uuid())
        case .now: return .number(host.now())
        case .log:
            host.log(arguments.map(ValueSemantics.text).joined(separator: " "))
            return .null
        default:
            do { return try BuiltinFunctions.apply(builtin, arguments) } catch { throw locate(error, range) }
        }
    }
}
