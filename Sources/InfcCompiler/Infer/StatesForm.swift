// Infer stage: which of a workflow's expressions have a form in Amazon States Language
// (JSONPath) that behaves exactly as the local runtime evaluates them, and that form. The one
// place that decides it: inference asks it whether a workflow needs an evaluator function, the
// state machine compiler (Emit/StepFunctions) asks it for the form. Everything else is
// evaluated by the workflow's evaluator (docs/aws.md, "Expressions without a States form").

/// A value as a state machine builds it without any compute.
enum StatesValue: Equatable {
    /// Plain JSON: a literal, or a list or object of literals.
    case literal(JSON)
    /// A reference path into the state (`$.v.order`).
    case path(String)
    /// An intrinsic function call (`States.Array($.v.a, 'x')`).
    case intrinsic(String)
    /// A payload template object: keys ending in `.$` hold paths or intrinsics.
    case template(JSONObject)

    /// The entry of a payload template that yields this value under `key`.
    func entry(_ key: String) -> (String, JSON) {
        switch self {
        case .literal(let j): return (key, j)
        case .path(let p), .intrinsic(let p): return (key + ".$", .string(p))
        case .template(let o): return (key, .object(o))
        }
    }

    /// The value as an intrinsic function's argument, when it can be one: a path, a string or a
    /// number (intrinsics take no objects, and no literal lists).
    var argument: String? {
        switch self {
        case .path(let p), .intrinsic(let p): return p
        case .literal(.string(let s)): return StatesForm.quoted(s)
        case .literal(.number(let n)) where n.isFinite: return JSON.format(number: n)
        default: return nil
        }
    }
}

enum StatesForm {
    /// Where the state machine keeps variables, step results and a state's staged arguments.
    static let variables = "$.v"
    static let results = "$.r"
    static let arguments = "$.a"
    /// A path that always holds `null` (the result of a workflow that returns nothing).
    static let null = "$.n"

    /// The key of a step's result in `$.r`: `s<start>_<end>`, from its source range.
    static func resultKey(_ range: SourceRange) -> String { "s\(range.start)_\(range.end)" }

    /// A string as an intrinsic function's literal argument: quoted, with `'{}\` escaped.
    static func quoted(_ s: String) -> String {
        var out = "'"
        for ch in s {
            if ch == "'" || ch == "{" || ch == "}" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out + "'"
    }

    /// The value of `e` built without compute, or nil when it needs the evaluator. `step` gives
    /// the path of a step's result for a call expression that is a step (by its range).
    static func value(_ e: Expr, step: (SourceRange) -> String?) -> StatesValue? {
        switch e.kind {
        case .null: return .literal(.null)
        case .bool(let b): return .literal(.bool(b))
        case .number(let n): return n.isFinite ? .literal(.number(n)) : nil
        case .string(let parts):
            if parts.isEmpty { return .literal(.string("")) }
            // Text with `${` never goes into a definition: CloudFormation's
            // DefinitionSubstitutions would take it for a placeholder. The evaluator makes it.
            if parts.count == 1, case .text(let t) = parts[0], !t.contains("${") { return .literal(.string(t)) }
            return nil
        case .name(let n): return .path("\(variables).\(n)")
        case .call, .async:
            return step(e.range).map(StatesValue.path)
        case .list(let items):
            let values = items.map { value($0, step: step) }
            var literals: [JSON] = []
            for v in values { if case .literal(let j)? = v { literals.append(j) } }
            if literals.count == items.count { return .literal(.array(literals)) }
            if items.isEmpty { return .literal(.array([])) }
            let args = values.compactMap { $0?.argument }
            guard args.count == items.count else { return nil }
            return .intrinsic("States.Array(\(args.joined(separator: ", ")))")
        case .object(let entries):
            var o = JSONObject()
            var allLiteral = true
            var literal = JSONObject()
            for entry in entries {
                guard let v = value(entry.value, step: step) else { return nil }
                let (k, j) = v.entry(entry.key)
                o[k] = j
                if case .literal(let l) = v { literal[entry.key] = l } else { allLiteral = false }
            }
            return allLiteral ? .literal(.object(literal)) : .template(o)
        case .duration, .unary, .binary, .member, .index, .invalid:
            return nil
        }
    }

    /// Whether evaluating `e` can neither fail nor do anything: a literal, a name, or a list or
    /// object of those (a statement of only that needs no state).
    static func cannotFail(_ e: Expr) -> Bool {
        switch e.kind {
        case .null, .bool, .number, .duration, .name: return true
        case .string(let parts): return parts.allSatisfy { if case .text = $0 { return true } else { return false } }
        case .list(let items): return items.allSatisfy(cannotFail)
        case .object(let entries): return entries.allSatisfy { cannotFail($0.value) }
        default: return false
        }
    }

    /// The Choice rule (without `Next`) that is true exactly when `e` is truthy (not `null`,
    /// not `false`), or nil when the condition needs the evaluator.
    static func condition(_ e: Expr, step: (SourceRange) -> String?) -> JSON? {
        switch e.kind {
        case .bool(let b):
            // A constant: compare the always-null path with null.
            return ["Variable": .string(null), "IsNull": .bool(b)]
        case .name, .call:
            guard case .path(let p)? = value(e, step: step) else { return nil }
            return truthy(p)
        case .unary(.not, let x):
            return condition(x, step: step).map { ["Not": $0] }
        case .binary(.and, let l, let r), .binary(.or, let l, let r):
            guard let a = condition(l, step: step), let b = condition(r, step: step) else { return nil }
            if case .binary(.and, _, _) = e.kind { return ["And": [a, b]] }
            return ["Or": [a, b]]
        case .binary(.equal, let l, let r), .binary(.notEqual, let l, let r):
            guard let rule = equality(l, r, step: step) ?? equality(r, l, step: step) else { return nil }
            if case .binary(.notEqual, _, _) = e.kind { return ["Not": rule] }
            return rule
        default:
            return nil
        }
    }

    static func truthy(_ p: String) -> JSON {
        ["Not": ["Or": [["Variable": .string(p), "IsNull": true], ["Variable": .string(p), "BooleanEquals": false]]]]
    }

    /// `path == literal`: a comparison of the literal's type, false for a value of another type
    /// (as `==` is false across types).
    private static func equality(_ l: Expr, _ r: Expr, step: (SourceRange) -> String?) -> JSON? {
        guard case .path(let p)? = value(l, step: step), case .literal(let lit)? = value(r, step: step) else { return nil }
        switch lit {
        case .null: return ["Variable": .string(p), "IsNull": true]
        case .bool(let b): return ["Variable": .string(p), "BooleanEquals": .bool(b)]
        case .number(let n): return ["Variable": .string(p), "NumericEquals": .number(n)]
        case .string(let s): return ["Variable": .string(p), "StringEquals": .string(s)]
        default: return nil
        }
    }

    /// Whether the evaluator, not the state machine, performs this resource operation: those
    /// without a direct integration that behaves as the local runtime (docs/aws.md).
    static func evaluatorPerforms(_ type: ResourceKind, _ op: ResourceOperation) -> Bool {
        switch type {
        case .table: return !(op == .get || op == .put || op == .delete)
        case .topic: return false
        case .bucket, .secret, .service: return true
        }
    }

    /// Whether compiling `s` (not its nested states) needs the workflow's evaluator.
    static func needsEvaluator(_ s: WorkflowState, step: (SourceRange) -> String?) -> Bool {
        func direct(_ e: Expr?) -> Bool { e.map { value($0, step: step) != nil } ?? true }
        func directArguments() -> Bool { s.arguments.allSatisfy { value($0, step: step) != nil } }
        switch s.kind {
        case .task, .childWorkflow, .serviceCall, .send, .start: return !directArguments()
        case .integration(_, let type, let op):
            if evaluatorPerforms(type, op) { return true }
            // A table's items are attribute values: reading unwraps, writing wraps them.
            if type == .table && op != .delete { return true }
            return !directArguments()
        case .wait(let ms): return ms == nil
        case .choice, .loop: return s.expression.map { condition($0, step: step) == nil } ?? false
        case .map: return !direct(s.expression)
        case .succeed, .fail, .compute: return !direct(s.expression)
        case .tryCatch: return !s.binds.isEmpty
        case .parallel: return false
        }
    }

    /// The ranges of every step state (whose result a later expression may use), nested too.
    static func stepRanges(_ states: [WorkflowState], into out: inout Set<SourceRange>) {
        states.forEachState { s in
            switch s.kind {
            case .task, .childWorkflow, .integration, .serviceCall, .send, .start: out.insert(s.range)
            case .choice, .parallel, .map, .loop, .tryCatch, .wait, .succeed, .fail, .compute: break
            }
        }
    }

    /// The ranges of the states that need the evaluator, in order (empty: the workflow needs none).
    static func evaluatedStates(_ states: [WorkflowState]) -> [SourceRange] {
        var steps = Set<SourceRange>()
        stepRanges(states, into: &steps)
        let step: (SourceRange) -> String? = { steps.contains($0) ? "\(results).\(resultKey($0))" : nil }
        var out: [SourceRange] = []
        states.forEachState { s in
            if needsEvaluator(s, step: step) { out.append(s.range) }
        }
        return out
    }
}
