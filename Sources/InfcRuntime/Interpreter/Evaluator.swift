// Runtime stage (interpreter): one thread's walk through handler and fn bodies — statements,
// frames of slots, control flow, `try`/`catch` and `parallel`. Expressions and calls are in
// Evaluator+Expressions.swift and Evaluator+Calls.swift.

import InfcCompiler
import Synchronization

/// Runs code on one thread. A fn call swaps in a fresh frame of slots and restores the caller's
/// afterwards; a `parallel` branch gets an evaluator of its own.
final class Evaluator {
    let interpreter: Interpreter
    let host: InterpreterHost
    /// The current frame: one slot per binding of the running declaration.
    var slots: [JSON]
    /// Inside a `parallel` branch: which slots of this frame were written.
    var written: [Bool] = []
    var tracksWrites = false
    /// Fn calls below the invocation's handler.
    var depth: Int
    /// Handler and fn names, outermost first.
    var callStack: [String]
    let stackLimit: UInt
    /// For one expression evaluated on its own (`Interpreter.evaluate(expressionAt:…)`): the
    /// values of calls already made, by range, and the range of the call to make regardless.
    var recorded: [SourceRange: JSON]?
    var performed: SourceRange?

    /// How a statement ends.
    enum Flow {
        case next
        case returned(JSON)
    }

    init(interpreter: Interpreter, host: InterpreterHost, slots: [JSON], depth: Int, callStack: [String], stackLimit: UInt) {
        self.interpreter = interpreter
        self.host = host
        self.slots = slots
        self.depth = depth
        self.callStack = callStack
        self.stackLimit = stackLimit
    }

    /// Runs a declaration's body in a fresh frame; restores the current frame afterwards.
    func runBody(of declaration: Int, arguments: [JSON]) throws(RuntimeError) -> JSON {
        guard let body = interpreter.bodies[declaration] else {
            throw fail("invalid-program", "declaration \(declaration) has no body", at: .zero)
        }
        var frame = [JSON](repeating: .null, count: interpreter.frameSizes[declaration])
        for (i, slot) in interpreter.parameterSlots[declaration].enumerated() where slot >= 0 && i < arguments.count {
            frame[slot] = arguments[i]
        }
        let callerSlots = slots, callerWritten = written, callerTracks = tracksWrites
        slots = frame
        written = []
        tracksWrites = false
        callStack.append(interpreter.labels[declaration])
        defer {
            slots = callerSlots
            written = callerWritten
            tracksWrites = callerTracks
            callStack.removeLast()
        }
        if case .returned(let value) = try execute(body) { return value }
        return .null
    }

    // MARK: Errors

    /// Handler and fn names, innermost first.
    var trace: [String] { callStack.reversed() }

    func fail(_ code: String, _ message: String, at range: SourceRange) -> RuntimeError {
        RuntimeError(.runtime(code: code, message: message), range: range, stack: trace)
    }

    func fail(_ kind: RuntimeError.Kind, at range: SourceRange) -> RuntimeError {
        RuntimeError(kind, range: range, stack: trace)
    }

    /// An error raised by the host or by `ValueSemantics`, completed with where it happened.
    func locate(_ error: RuntimeError, _ range: SourceRange) -> RuntimeError {
        error.located(at: range, stack: trace)
    }

    func invalid(_ range: SourceRange) -> RuntimeError {
        fail("invalid-program", "this code has compile errors and cannot run", at: range)
    }

    @inline(__always)
    func checkCancelled(_ range: SourceRange) throws(RuntimeError) {
        if host.isCancelled { throw fail(.timeout, at: range) }
    }

    /// Stops before the thread's stack runs out (deeply nested code on a small stack).
    @inline(__always)
    func checkStack(_ range: SourceRange) throws(RuntimeError) {
        if StackBounds.currentAddress() < stackLimit { throw fail(.callDepth, at: range) }
    }

    // MARK: Slots

    func slot(of id: NodeID, _ range: SourceRange) throws(RuntimeError) -> Int {
        let slot = interpreter.slots[Int(id.raw)]
        guard slot >= 0 else { throw invalid(range) }
        return Int(slot)
    }

    @inline(__always)
    func write(_ slot: Int, _ value: JSON) {
        slots[slot] = value
        if tracksWrites { written[slot] = true }
    }

    // MARK: Statements

    func execute(_ block: Block) throws(RuntimeError) -> Flow {
        for statement in block.statements {
            if case .returned(let value) = try execute(statement) { return .returned(value) }
        }
        return .next
    }

    /// Dispatches without binding the statement's parts; see `evaluate` for why.
    func execute(_ s: Stmt) throws(RuntimeError) -> Flow {
        try checkStack(s.range)
        switch s.kind {
        case .binding: try bind(s)
        case .assign: try assign(s)
        case .ifElse: return try ifElse(s)
        case .forIn: return try forIn(s)
        case .whileLoop: return try whileLoop(s)
        case .returnStmt: return try returnStatement(s)
        case .throwStmt: try throwStatement(s)
        case .tryCatch: return try tryCatch(s)
        case .sleep: try sleep(s)
        case .parallel: try parallel(s)
        case .block(let block): return try execute(block)
        case .expression(let e): _ = try evaluate(e)
        case .invalid: throw invalid(s.range)
        }
        return .next
    }

    private func bind(_ s: Stmt) throws(RuntimeError) {
        guard case .binding(_, _, let value) = s.kind else { throw invalid(s.range) }
        let v = try evaluate(value)
        write(try slot(of: s.id, s.range), v)
    }

    private func ifElse(_ s: Stmt) throws(RuntimeError) -> Flow {
        guard case .ifElse(let condition, let then, let otherwise) = s.kind else { throw invalid(s.range) }
        if ValueSemantics.truthy(try evaluate(condition)) { return try execute(then) }
        if let otherwise { return try execute(otherwise) }
        return .next
    }

    private func whileLoop(_ s: Stmt) throws(RuntimeError) -> Flow {
        guard case .whileLoop(let condition, let body) = s.kind else { throw invalid(s.range) }
        while true {
            try checkCancelled(s.range)
            guard ValueSemantics.truthy(try evaluate(condition)) else { return .next }
            if case .returned(let value) = try execute(body) { return .returned(value) }
        }
    }

    private func returnStatement(_ s: Stmt) throws(RuntimeError) -> Flow {
        guard case .returnStmt(let value) = s.kind else { throw invalid(s.range) }
        guard let value else { return .returned(.null) }
        return .returned(try evaluate(value))
    }

    private func throwStatement(_ s: Stmt) throws(RuntimeError) {
        guard case .throwStmt(let value) = s.kind else { throw invalid(s.range) }
        throw fail(.thrown(try evaluate(value)), at: s.range)
    }

    private func tryCatch(_ s: Stmt) throws(RuntimeError) -> Flow {
        guard case .tryCatch(let body, let variable, let handler) = s.kind else { throw invalid(s.range) }
        do {
            return try execute(body)
        } catch {
            guard error.isCatchable else { throw error }
            if variable != nil { write(try slot(of: s.id, s.range), error.value) }
            return try execute(handler)
        }
    }

    private func forIn(_ s: Stmt) throws(RuntimeError) -> Flow {
        guard case .forIn(_, let sequence, let body) = s.kind else { throw invalid(s.range) }
        let values = try evaluate(sequence)
        let slot = try slot(of: s.id, s.range)
        switch values {
        case .array(let items):
            for item in items {
                try checkCancelled(s.range)
                write(slot, item)
                if case .returned(let value) = try execute(body) { return .returned(value) }
            }
        case .object(let object):
            for key in object.keys {
                try checkCancelled(s.range)
                write(slot, .string(key))
                if case .returned(let value) = try execute(body) { return .returned(value) }
            }
        case .null:
            break
        default:
            throw fail("type-error", "cannot iterate over \(ValueSemantics.describe(values)); `for` takes a list, an object or null",
                       at: sequence.range)
        }
        return .next
    }

    private func sleep(_ s: Stmt) throws(RuntimeError) {
        guard case .sleep(let duration) = s.kind else { throw invalid(s.range) }
        let value = try evaluate(duration)
        guard case .number(let ms) = value, ms >= 0, ms.isFinite else {
            throw fail("invalid-argument", "`sleep` takes a number of milliseconds ≥ 0, not \(ValueSemantics.text(value))",
                       at: duration.range)
        }
        try checkCancelled(s.range)
        do { try host.sleep(milliseconds: ms, at: s.range) } catch { throw locate(error, s.range) }
    }

    /// `target = value`, where target is `x` followed by any `.f` and `[i]`.
    private func assign(_ s: Stmt) throws(RuntimeError) {
        guard case .assign(let target, let valueExpr) = s.kind else { throw invalid(s.range) }
        let value = try evaluate(valueExpr)
        var pending: [Expr] = []
        var root = target
        while true {
            if case .member(let base, _) = root.kind {
                pending.append(root)
                root = base
            } else if case .index(let base, _) = root.kind {
                pending.append(root)
                root = base
            } else {
                break
            }
        }
        guard case .name = root.kind else { throw invalid(target.range) }
        let slot = try slot(of: root.id, root.range)
        if pending.isEmpty {
            write(slot, value)
            return
        }
        var path: [ValueSemantics.PathStep] = []
        path.reserveCapacity(pending.count)
        for step in pending.reversed() {
            switch step.kind {
            case .member(_, let field): path.append(.field(field.name, step.range))
            case .index(_, let index): path.append(.index(try evaluate(index), step.range))
            default: break
            }
        }
        if tracksWrites { written[slot] = true }
        do { try ValueSemantics.assign(&slots[slot], path[...], value) } catch { throw locate(error, target.range) }
    }

    // MARK: parallel

    /// The frame each branch ended with, and which of its slots it wrote.
    private final class BranchResults: Sendable {
        private let results: Mutex<[Branch?]>
        init(count: Int) { results = Mutex(Array(repeating: nil, count: count)) }
        func store(_ branch: Branch, at i: Int) { results.withLock { $0[i] = branch } }
        var all: [Branch?] { results.withLock { $0 } }
    }

    private struct Branch: Sendable {
        var slots: [JSON]
        var written: [Bool]
    }

    /// Everything a branch needs, captured once for all branches.
    private struct BranchContext: Sendable {
        let interpreter: Interpreter
        let host: InterpreterHost
        let snapshot: [JSON]
        let depth: Int
        let callStack: [String]
        let results: BranchResults

        /// Runs one branch on the calling thread, on its own copy of the variables.
        func run(_ statement: Stmt, index: Int) throws(RuntimeError) {
            let evaluator = Evaluator(interpreter: interpreter, host: host, slots: snapshot, depth: depth,
                                      callStack: callStack, stackLimit: StackBounds.lowestSafeAddress())
            evaluator.tracksWrites = true
            evaluator.written = Array(repeating: false, count: snapshot.count)
            _ = try evaluator.execute(statement)  // `return` is not allowed inside `parallel`
            results.store(Branch(slots: evaluator.slots, written: evaluator.written), at: index)
        }
    }

    private func parallel(_ s: Stmt) throws(RuntimeError) {
        guard case .parallel(let block) = s.kind else { throw invalid(s.range) }
        let range = s.range
        let statements = block.statements
        guard !statements.isEmpty else { return }
        try checkCancelled(range)
        let results = BranchResults(count: statements.count)
        let context = BranchContext(interpreter: interpreter, host: host, snapshot: slots, depth: depth,
                                    callStack: callStack, results: results)
        var branches: [@Sendable () throws(RuntimeError) -> Void] = []
        branches.reserveCapacity(statements.count)
        for (i, statement) in statements.enumerated() {
            // Typed so, not as a closure literal passed to `append`: that form crashes Swift 6.3's IRGen.
            let branch: @Sendable () throws(RuntimeError) -> Void = { try context.run(statement, index: i) }
            branches.append(branch)
        }
        do { try host.runParallel(branches) } catch { throw locate(error, range) }
        for outcome in results.all {
            guard let outcome else {
                throw fail("invalid-program", "the runtime did not run every branch of `parallel`", at: range)
            }
            for (slot, wasWritten) in outcome.written.enumerated() where wasWritten {
                write(slot, outcome.slots[slot])
            }
        }
    }
}
