// Runtime stage (interpreter): runs handler and fn bodies straight from the syntax tree, with
// per-node tables precomputed from the semantic model. Values are `JSON`; everything the code
// does outside itself (resources, async, sleeps, parallel, clock, ids, logs) goes to the host.
//
// Semantics of `.inf` code at run time (docs/language.md mirrors this block):
// - Truthiness: `null` and `false` are falsy, everything else is truthy. `a && b` and `a || b`
//   short-circuit and yield an operand (`a && b` is a when a is falsy, else b); `a ?? b` is b
//   only when a is null; `!a` is a boolean.
// - Numbers are doubles. `+`: numbers add; two strings join; two lists concatenate; a string and
//   a number, bool or null join, the non-string formatted by `str`; anything else is a type
//   error ("cannot add list and number"). `- * / %` take numbers only; `%` keeps the dividend's
//   sign; dividing by zero, or a result too large to represent, is an error. `< <= > >=`
//   compare two numbers or two strings; `==` and `!=` compare structurally (object key order
//   does not matter).
// - `a.f`: an object's field, or null when missing; on null, null (null propagates); on
//   anything else a type error. `a[i]`: a list with a whole-number index (past the end: null;
//   negative: an error); an object with a string key (missing: null); on null, null; else an error.
// - Assignment `x = v`, `x.f = v`, `x[i] = v` (and longer paths) changes a `var`. Values are
//   copied, never shared. The value is evaluated first, then the target's indices left to
//   right. Setting a field of a non-object, or a list element past the end, is an error.
// - `str(v)` and string interpolation: strings as they are; whole numbers without ".0"; other
//   numbers in the shortest form that reads back the same; `true`, `false`, `null`; lists and
//   objects as compact JSON.
// - `for x in e`: a list's elements; an object's keys, in order; nothing for null; else an
//   error. `while c { … }`. Both check for cancellation at every iteration.
// - `return` leaves the handler or fn (null when bare or when the body ends). `throw v` raises
//   v. `try { … } catch e { … }` catches thrown values and runtime errors (e binds the thrown
//   value, or `{error: message, code: code, …}`), never timeouts, cancellation or call depth.
// - `sleep e`: e is a number of milliseconds ≥ 0 (duration literals are milliseconds).
// - `parallel { s1 s2 … }`: each statement is a branch, run by the host (maybe concurrently),
//   each on its own copy of the variables. Afterwards the variables each branch declared or
//   assigned are copied back, in statement order: a later branch wins.
// - Calls: a fn call goes through `host.call` (a workflow host journals it); more than
//   `maxCallDepth` nested calls, or a thread stack running low, stops the invocation with a
//   `.callDepth` error. Cancellation is checked at every call. Resource operations go to
//   `host.perform` with the resource's declared name; `async f(…)` to `host.startAsync`.
// - Built-ins: `uuid() now()` (from the host); `len(x)` (a string's characters, a list's
//   elements, an object's keys); `str(x)`; `int(x)` (truncates; numeric strings are parsed);
//   `float(x)`; `json(x)` (compact JSON text); `parse(s)` (JSON text; an error when malformed);
//   `keys(o)`; `merge(a, b, …)` (objects, later keys win); `range(n)`, `range(a, b)` (whole
//   numbers, at most 1,000,000 elements); `min`/`max` (of one list, or of several arguments;
//   all numbers or all strings); `log(…)` (the `str` of each argument, joined by spaces).
// - Errors carry the range of the failing expression or statement and the stack of handler and
//   fn names, innermost first. Runtime error codes: type-error, division-by-zero, overflow,
//   index-error, invalid-argument, parse-error, invalid-program (code the compiler rejected),
//   plus whatever the host raises (e.g. access-denied).
// - Known limit: values nested tens of thousands of levels deep (built by a loop such as
//   `x = [x]`) are not refused; comparing, serialising or freeing them recurses in Swift.

import InfcCompiler

/// A compiled program, ready to run any of its handlers and fns, any number of times, from any
/// thread. Holds no per-invocation state.
public final class Interpreter: Sendable {
    /// Nested fn calls allowed below the handler being run.
    public static let maxCallDepth = 200
    /// The most elements `range` produces.
    public static let maxRangeCount = 1_000_000

    let program: Program
    /// By `NodeID.raw`: the frame slot a name expression reads or a `let`/`var`/`for`/`catch`
    /// statement declares; -1 for every other node.
    let slots: [Int32]
    /// By `NodeID.raw`: what a call expression calls.
    let calls: [CallPlan]
    /// By declaration: slot count of a frame, parameter slots (-1: unbound), body, stack label.
    let frameSizes: [Int]
    /// By declaration: the name each slot of its frame binds (several slots may share a name).
    let slotNames: [[String]]
    let parameterSlots: [[Int]]
    let bodies: [Block?]
    let labels: [String]

    /// A call expression's target, resolved once.
    enum CallPlan: Sendable {
        case none
        case fn(declaration: Int, name: String)
        case builtin(Builtin)
        case operation(resource: String, kind: ResourceKind, operation: ResourceOperation)
    }

    public convenience init(resolved: ResolvedProgram) {
        self.init(program: resolved.program, model: resolved.model, file: resolved.file)
    }

    public init(program: Program, model: SemanticModel, file: SourceFile) {
        self.program = program
        let declarationCount = program.declarations.count

        // Each binding gets the next slot of its declaration's frame.
        var bindingSlot = [Int](repeating: -1, count: model.bindings.count)
        var sizes = [Int](repeating: 0, count: declarationCount)
        var bindingAt: [Int: Int] = [:]
        var names = [[String]](repeating: [], count: declarationCount)
        for (i, b) in model.bindings.enumerated() {
            guard b.declaration >= 0 && b.declaration < declarationCount else { continue }
            bindingSlot[i] = sizes[b.declaration]
            sizes[b.declaration] += 1
            names[b.declaration].append(b.name.name)
            bindingAt[b.name.range.start] = i
        }
        frameSizes = sizes
        slotNames = names

        var slots = [Int32](repeating: -1, count: program.nodeCount)
        for (id, symbol) in model.references {
            if case .local(let b) = symbol, b < bindingSlot.count, Int(id.raw) < slots.count {
                slots[Int(id.raw)] = Int32(bindingSlot[b])
            }
        }
        func declared(_ name: Identifier) -> Int {
            guard let b = bindingAt[name.range.start], model.bindings[b].name.name == name.name else { return -1 }
            return bindingSlot[b]
        }
        func visit(_ block: Block) {
            for s in block.statements { visit(s) }
        }
        func visit(_ s: Stmt) {
            let id = Int(s.id.raw)
            switch s.kind {
            case .binding(_, let name, _): slots[id] = Int32(declared(name))
            case .forIn(let variable, _, let body):
                slots[id] = Int32(declared(variable))
                visit(body)
            case .tryCatch(let body, let variable, let handler):
                if let variable { slots[id] = Int32(declared(variable)) }
                visit(body)
                visit(handler)
            case .ifElse(_, let then, let otherwise):
                visit(then)
                if let otherwise { visit(otherwise) }
            case .whileLoop(_, let body), .parallel(let body), .block(let body): visit(body)
            case .assign, .returnStmt, .throwStmt, .sleep, .expression, .invalid: break
            }
        }

        var parameterSlots: [[Int]] = []
        var bodies: [Block?] = []
        var labels: [String] = []
        for decl in program.declarations {
            guard let h = decl.handler else {
                parameterSlots.append([])
                bodies.append(nil)
                labels.append(decl.declaredName?.name ?? "")
                continue
            }
            visit(h.body)
            parameterSlots.append(h.params.map(declared))
            bodies.append(h.body)
            switch h.trigger {
            case .fn(let name): labels.append(name.name)
            case .route(let method, let path, _): labels.append("route \(method.name) \(path)")
            case .on(let topic): labels.append("on \(topic.name)")
            case .every(let schedule): labels.append("every " + file.text(schedule.range))
            }
        }
        self.slots = slots
        self.parameterSlots = parameterSlots
        self.bodies = bodies
        self.labels = labels

        var calls = [CallPlan](repeating: .none, count: program.nodeCount)
        for (id, target) in model.calls where Int(id.raw) < calls.count {
            switch target {
            case .fn(let d):
                calls[Int(id.raw)] = .fn(declaration: d, name: program.declarations[d].declaredName?.name ?? "")
            case .builtin(let b):
                calls[Int(id.raw)] = .builtin(b)
            case .operation(let d, let kind, let operation):
                calls[Int(id.raw)] = .operation(resource: program.declarations[d].declaredName?.name ?? "",
                                                kind: kind, operation: operation)
            }
        }
        self.calls = calls
    }

    /// Runs a handler or fn declaration's body with its parameters bound to `arguments`
    /// (missing ones are null, extra ones ignored). The result is the value of its `return`.
    public func run(declaration: Int, arguments: [JSON], host: InterpreterHost) throws(RuntimeError) -> JSON {
        guard declaration >= 0, declaration < bodies.count, bodies[declaration] != nil else {
            throw RuntimeError.runtime("invalid-program", "declaration \(declaration) is not a handler or fn")
        }
        let evaluator = Evaluator(interpreter: self, host: host, slots: [], depth: 0, callStack: [],
                                  stackLimit: StackBounds.lowestSafeAddress())
        return try evaluator.runBody(of: declaration, arguments: arguments)
    }

    /// A value as `str` formats it (and string interpolation): for hosts that render values.
    public static func format(_ value: JSON) -> String { ValueSemantics.text(value) }

    /// The truthiness of a value: everything but `null` and `false` is true.
    public static func isTruthy(_ value: JSON) -> Bool { ValueSemantics.truthy(value) }
}
