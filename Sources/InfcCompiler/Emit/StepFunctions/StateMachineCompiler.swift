// Emit stage (AWS target): a workflow's state graph of the plan → an Amazon States Language
// definition (JSONPath). It reads the plan only; docs/aws.md describes the mapping. The state's
// data is `{v: variables, r: step results later expressions use, n: null, a: staged values}`.

/// A resource a definition names: the template resolves it through `DefinitionSubstitutions`.
enum StateMachineReference: Hashable, Comparable {
    case function(FunctionID)
    case table(ResourceID)
    case topic(ResourceID)
    case queue(QueueID)
    case stateMachine(WorkflowID)

    static func < (a: Self, b: Self) -> Bool { a.sortKey < b.sortKey }
    private var sortKey: String {
        switch self {
        case .function(let n): return "function\u{0}" + n.text
        case .table(let n): return "table\u{0}" + n.text
        case .topic(let n): return "topic\u{0}" + n.text
        case .queue(let n): return "queue\u{0}" + n.text
        case .stateMachine(let n): return "stateMachine\u{0}" + n.text
        }
    }
}

/// A compiled definition: the JSON (with `${…}` placeholders) and the references it names.
struct StateMachineDefinition {
    var definition: JSON
    var references: [StateMachineReference]
    /// What the program asks that a state machine cannot do as the local runtime does (a build
    /// error of the AWS target, never an approximation).
    var problems: [String] = []
}

struct StateMachineCompiler {
    let plan: Plan
    let workflow: PlanWorkflow
    /// The placeholder of a reference, `${Name}` without the braces.
    let placeholder: (StateMachineReference) -> String
    private var used: Set<String> = []
    private var references: Set<StateMachineReference> = []
    private var problems: [String] = []
    /// Steps whose result a later expression uses (kept in `$.r`).
    private var referenced: Set<SourceRange> = []
    private let evaluator: FunctionID?

    /// Errors of Lambda itself (not of the code), retried on every Lambda call.
    static let lambdaTransient: [String] = [
        "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException",
    ]
    /// What a `return` inside a branch (a map's body, a try's body) raises to leave the branch.
    static let returnError = "infc.Return"
    /// What `throw` fails with; the cause is the thrown value as JSON.
    static let thrownError = "infc.Thrown"

    init(plan: Plan, workflow: PlanWorkflow, placeholder: @escaping (StateMachineReference) -> String) {
        self.plan = plan
        self.workflow = workflow
        self.placeholder = placeholder
        self.evaluator = workflow.evaluator?.name
        var calls = Set<SourceRange>()
        func collect(_ e: Expr) {
            switch e.kind {
            case .call(let callee, let args):
                calls.insert(e.range)
                collect(callee)
                args.forEach(collect)
            case .async(let c):
                calls.insert(e.range)
                collect(c)
            case .string(let parts): for case .interpolation(let inner) in parts { collect(inner) }
            case .list(let items): items.forEach(collect)
            case .object(let entries): for en in entries { collect(en.value) }
            case .unary(_, let x), .member(let x, _): collect(x)
            case .binary(_, let l, let r), .index(let l, let r):
                collect(l)
                collect(r)
            default: break
            }
        }
        workflow.states.forEachState { s in
            if let e = s.expression {
                if case .serviceCall = s.kind {} else { collect(e) }
            }
            s.arguments.forEach(collect)
        }
        var steps = Set<SourceRange>()
        StatesForm.stepRanges(workflow.states, into: &steps)
        // A call nested in a state's expression or arguments that is itself an unbound step.
        var bound = Set<SourceRange>()
        workflow.states.forEachState { s in
            if !s.binds.isEmpty { bound.insert(s.range) }
        }
        referenced = calls.intersection(steps).subtracting(bound)
    }

    // MARK: The definition

    mutating func compile() -> StateMachineDefinition {
        checkShortCircuits()
        var states = JSONObject()
        let done = unique("Done")
        let body = sequence(workflow.states, then: done, depth: 0, known: Set(workflow.parameters), into: &states)
        // A body that always returns or throws never gets to the end.
        if body == done || Self.targets(states).contains(done) {
            states[done] = ["Type": "Pass", "OutputPath": .string(StatesForm.null), "End": true]
        }
        var v = JSONObject()
        for (i, p) in workflow.parameters.enumerated() { v[p + ".$"] = .string("$.args[\(i)]") }
        let start = unique("Start")
        var all = JSONObject()
        all[start] = ["Type": "Pass", "Parameters": ["v": .object(v), "r": [:], "n": nil], "Next": .string(body)]
        for (k, val) in states { all[k] = val }
        var root = JSONObject()
        root["Comment"] = .string("infc workflow \(workflow.name)")
        root["StartAt"] = .string(start)
        if let t = workflow.timeoutMs { root["TimeoutSeconds"] = .int(Int((t + 999) / 1000)) }
        root["States"] = .object(Self.inFlowOrder(all, start: start))
        return StateMachineDefinition(definition: .object(root), references: references.sorted(), problems: problems)
    }

    /// A step on the right of `&&`, `||` or `??` runs locally only when the left side does not
    /// decide the value. Conditions of `if` and `while` compile to that control flow
    /// (`conditionFlow`); anywhere else a state machine would run the step regardless, so it is
    /// a build error of the AWS target.
    private mutating func checkShortCircuits() {
        var steps: [SourceRange: String] = [:]
        workflow.states.forEachState { s in
            switch s.kind {
            case .task, .childWorkflow, .integration, .serviceCall, .send, .start: steps[s.range] = s.name
            default: break
            }
        }
        var found: [String] = []
        func walk(_ e: Expr, right: String?) {
            switch e.kind {
            case .call(let callee, let args):
                if let op = right, let step = steps[e.range] {
                    found.append("workflow \(workflow.name): the step \(step) is on the right of `\(op)`, which runs it only when the left side does not decide the value; a state machine would run it regardless (outside the condition of an `if` or a `while`): decide with an `if` first")
                }
                walk(callee, right: right)
                args.forEach { walk($0, right: right) }
            case .async(let c):
                if let op = right, let step = steps[e.range] {
                    found.append("workflow \(workflow.name): the step \(step) is on the right of `\(op)`, which runs it only when the left side does not decide the value; a state machine would run it regardless (outside the condition of an `if` or a `while`): decide with an `if` first")
                }
                walk(c, right: right)
            case .binary(let op, let l, let r):
                walk(l, right: right)
                walk(r, right: op == .and || op == .or || op == .coalesce ? (right ?? op.rawValue) : right)
            case .string(let parts): for case .interpolation(let inner) in parts { walk(inner, right: right) }
            case .list(let items): items.forEach { walk($0, right: right) }
            case .object(let entries): entries.forEach { walk($0.value, right: right) }
            case .unary(_, let x), .member(let x, _): walk(x, right: right)
            case .index(let l, let r):
                walk(l, right: right)
                walk(r, right: right)
            default: break
            }
        }
        /// A condition's top `&&`/`||`/`!` compile to control flow; its leaves are expressions.
        func condition(_ e: Expr) {
            switch e.kind {
            case .binary(.and, let l, let r), .binary(.or, let l, let r): condition(l); condition(r)
            case .unary(.not, let x): condition(x)
            default: walk(e, right: nil)
            }
        }
        workflow.states.forEachState { s in
            switch s.kind {
            case .choice, .loop: s.expression.map(condition)
            default: s.expression.map { walk($0, right: nil) }
            }
            s.arguments.forEach { walk($0, right: nil) }
        }
        for f in found where !problems.contains(f) { problems.append(f) }
    }

    /// The states that some state of `states` goes to (its own scope).
    static func targets(_ states: JSONObject) -> Set<String> {
        var out: Set<String> = []
        for (_, state) in states {
            for c in state["Choices"]?.arrayValue ?? [] { if let n = c["Next"]?.stringValue { out.insert(n) } }
            if let d = state["Default"]?.stringValue { out.insert(d) }
            if let n = state["Next"]?.stringValue { out.insert(n) }
            for c in state["Catch"]?.arrayValue ?? [] { if let n = c["Next"]?.stringValue { out.insert(n) } }
        }
        return out
    }

    /// The states in the order a reader follows them: depth first from `start`, each state's
    /// rules, default, next and catchers in turn (states are built back to front).
    static func inFlowOrder(_ states: JSONObject, start: String) -> JSONObject {
        var out = JSONObject()
        var stack = [start]
        while let name = stack.popLast() {
            guard out[name] == nil, let state = states[name] else { continue }
            out[name] = state
            var next: [String] = []
            for c in state["Choices"]?.arrayValue ?? [] { if let n = c["Next"]?.stringValue { next.append(n) } }
            if let d = state["Default"]?.stringValue { next.append(d) }
            if let n = state["Next"]?.stringValue { next.append(n) }
            for c in state["Catch"]?.arrayValue ?? [] { if let n = c["Next"]?.stringValue { next.append(n) } }
            stack += next.reversed()
        }
        for (k, v) in states where out[k] == nil { out[k] = v }
        return out
    }

    /// A state name not used yet (ASL names are unique in the whole machine, at most 80 characters).
    private mutating func unique(_ base: String) -> String {
        let trimmed = String(base.prefix(72))
        var name = trimmed
        var n = 2
        while used.contains(name) {
            name = "\(trimmed)_\(n)"
            n += 1
        }
        used.insert(name)
        return name
    }

    private func stepPath(_ r: SourceRange) -> String? {
        referenced.contains(r) ? "\(StatesForm.results).\(StatesForm.resultKey(r))" : nil
    }

    private func value(_ e: Expr) -> StatesValue? { StatesForm.value(e, step: stepPath) }

    private mutating func ref(_ r: StateMachineReference) -> JSON {
        references.insert(r)
        return .string("${\(placeholder(r))}")
    }

    /// Where a step's result goes: its variable, its slot in `$.r`, or nowhere.
    private func target(_ s: WorkflowState) -> String? {
        if let b = s.binds.first { return "\(StatesForm.variables).\(b)" }
        return stepPath(s.range)
    }

    // MARK: Sequences

    /// Compiles `list` so that it continues at `next`; returns the name of its first state.
    private mutating func sequence(_ list: [WorkflowState], then next: String, depth: Int, known: Set<String>,
                                   into states: inout JSONObject) -> String {
        // Names bound before each state, for branches that hand bindings back.
        var knownBefore: [Set<String>] = []
        var k = known
        for s in list {
            knownBefore.append(k)
            k.formUnion(s.binds)
        }
        var next = next
        var i = list.count - 1
        while i >= 0 {
            let s = list[i]
            if case .choice(let t, let o) = s.kind, let e = s.expression {
                // The condition's own steps are the states just before it, inside it: they run as
                // the condition short-circuits (`conditionFlow`), not all before it.
                var first = i
                while first > 0, Self.inside(list[first - 1].range, e.range) { first -= 1 }
                let name = unique(s.name)
                let thenEntry = sequence(t, then: next, depth: depth, known: knownBefore[i], into: &states)
                let elseEntry = sequence(o, then: next, depth: depth, known: knownBefore[i], into: &states)
                next = conditionFlow(e, steps: Array(list[first..<i]), name: name, then: thenEntry, otherwise: elseEntry,
                                     depth: depth, known: knownBefore[first], into: &states)
                i = first - 1
                continue
            }
            next = state(s, then: next, depth: depth, known: knownBefore[i], into: &states)
            i -= 1
        }
        return next
    }

    static func inside(_ r: SourceRange, _ outer: SourceRange) -> Bool { r.start >= outer.start && r.end <= outer.end }

    /// A condition as control flow that short-circuits as the local runtime does: `l && r` tests
    /// `l` first and runs `r`'s steps only when it is truthy, `l || r` only when it is not, `!x`
    /// swaps the ways out; any other condition runs its own steps, then one choice (compiled
    /// rules, or the evaluator's truthiness). Returns the entry state.
    /// `name` is the first choice's; the later ones are named after it (`NAME.then`).
    private mutating func conditionFlow(_ e: Expr, steps: [WorkflowState], name: String, first: Bool = true, then: String, otherwise: String,
                                        depth: Int, known: Set<String>, into states: inout JSONObject) -> String {
        func within(_ x: Expr) -> [WorkflowState] { steps.filter { Self.inside($0.range, x.range) } }
        switch e.kind {
        case .binary(.and, let l, let r) where !within(r).isEmpty:
            let right = conditionFlow(r, steps: within(r), name: name, first: false, then: then, otherwise: otherwise, depth: depth,
                                      known: known, into: &states)
            return conditionFlow(l, steps: within(l), name: name, first: first, then: right, otherwise: otherwise, depth: depth,
                                 known: known, into: &states)
        case .binary(.or, let l, let r) where !within(r).isEmpty:
            let right = conditionFlow(r, steps: within(r), name: name, first: false, then: then, otherwise: otherwise, depth: depth,
                                      known: known, into: &states)
            return conditionFlow(l, steps: within(l), name: name, first: first, then: then, otherwise: right, depth: depth,
                                 known: known, into: &states)
        case .unary(.not, let x) where !steps.isEmpty:
            return conditionFlow(x, steps: steps, name: name, first: first, then: otherwise, otherwise: then, depth: depth, known: known,
                                 into: &states)
        default:
            let choiceName = first ? name : unique(name + ".then")
            let check = choice(e, name: choiceName, then: then, otherwise: otherwise, into: &states)
            return sequence(steps, then: check, depth: depth, known: known, into: &states)
        }
    }

    /// The names a branch hands back: what its own states bind, and what nested states assign to
    /// names bound before it (a `let` inside a nested block is gone after it).
    private func handedBack(_ list: [WorkflowState], known: Set<String>) -> [String] {
        var out: [String] = []
        func add(_ n: String) { if !out.contains(n) { out.append(n) } }
        func bindsOutward(_ s: WorkflowState) -> Bool {
            switch s.kind {
            case .map, .tryCatch: return false   // an item or an error is the body's own
            default: return true
            }
        }
        for s in list {
            if bindsOutward(s) { s.binds.forEach(add) }
            for inner in s.nested {
                inner.forEachState { n in
                    if bindsOutward(n) { for b in n.binds where known.contains(b) { add(b) } }
                }
            }
        }
        return out
    }

    private func results(in list: [WorkflowState]) -> [String] {
        var steps = Set<SourceRange>()
        StatesForm.stepRanges(list, into: &steps)
        return steps.intersection(referenced).sorted().map(StatesForm.resultKey)
    }

    private static func containsReturn(_ list: [WorkflowState]) -> Bool {
        list.containsState { s in
            if case .succeed = s.kind { return true }
            return false
        }
    }

    // MARK: Staging values

    enum Mode: String { case value, condition, seconds, attribute }
    /// What a staged value must be: a reference path, or also an intrinsic function's argument.
    enum Need { case path, argument }

    /// Makes each expression available as a path or an intrinsic argument before state `main`:
    /// inline when it already is one, staged by a Pass when the state machine can build it, by the
    /// evaluator otherwise. Returns the entry state (the stage, or `main`) and the values.
    private mutating func stage(_ items: [(key: String, expr: Expr, mode: Mode)], before main: String, needs: Need = .path,
                                retry: JSON? = nil, into states: inout JSONObject) -> (entry: String, values: [String: String]) {
        var values: [String: String] = [:]
        var direct = true
        var inline = true
        for item in items {
            guard item.mode == .value, let v = value(item.expr) else {
                direct = false
                inline = false
                break
            }
            switch (v, needs) {
            case (.path(let p), _): values[item.key] = p
            case (_, .argument) where v.argument != nil: values[item.key] = v.argument
            default: inline = false
            }
        }
        if inline { return (main, values) }
        values = [:]
        let name = unique(main + ".values")
        if direct {
            var parameters = JSONObject()
            for item in items {
                guard let v = value(item.expr) else { continue }
                let (k, j) = v.entry(item.key)
                parameters[k] = j
                values[item.key] = "\(StatesForm.arguments).\(item.key)"
            }
            states[name] = ["Type": "Pass", "Parameters": .object(parameters), "ResultPath": .string(StatesForm.arguments),
                            "Next": .string(main)]
            return (name, values)
        }
        var evaluate = JSONObject()
        for item in items {
            evaluate[item.key] = ["at": [.int(item.expr.range.start), .int(item.expr.range.end)], "as": .string(item.mode.rawValue)]
            values[item.key] = "\(StatesForm.arguments).\(item.key)"
        }
        states[name] = evaluatorTask(["evaluate": .object(evaluate)], resultPath: StatesForm.arguments, next: main, retry: retry)
        return (name, values)
    }

    /// A Task state that calls the workflow's evaluator with `request` (plus the variables and
    /// step results).
    private mutating func evaluatorTask(_ request: JSONObject, resultPath: String?, next: String, retry: JSON? = nil) -> JSON {
        // Inference gives every workflow that needs one an evaluator (StatesForm decides both).
        precondition(evaluator != nil, "workflow \(workflow.name) needs its evaluator, and the plan has none")
        var parameters = JSONObject()
        parameters["workflow"] = .string(workflow.name.text)
        for (k, v) in request { parameters[k] = v }
        parameters["variables.$"] = .string(StatesForm.variables)
        parameters["results.$"] = .string(StatesForm.results)
        var retriers: [JSON] = [["ErrorEquals": .array(Self.lambdaTransient.map { .string($0) }), "IntervalSeconds": 1,
                                 "MaxAttempts": 3, "BackoffRate": 2, "JitterStrategy": "FULL"]]
        if case .array(let more)? = retry { retriers += more }
        var o: JSONObject = ["Type": "Task", "Resource": ref(.function(evaluator ?? FunctionID("")))]
        o["Parameters"] = .object(parameters)
        o["ResultPath"] = resultPath.map(JSON.string) ?? .null
        o["Retry"] = .array(retriers)
        o["Next"] = .string(next)
        return .object(o)
    }

    /// The one retry rule as a `Retry`: final failures are not retried, every other failure up
    /// to `retries` more times, the interval from `backoff` doubling with full jitter.
    static func retry(_ retries: Int, backoffMs: Int64) -> JSON? {
        guard retries > 0 else { return nil }
        let final = FinalFailures.codes + [FinalFailures.refusedServiceAnswer]
        return [
            ["ErrorEquals": .array(final.map { .string($0) }), "MaxAttempts": 0],
            ["ErrorEquals": ["States.ALL"], "IntervalSeconds": .int(max(1, Int((backoffMs + 999) / 1000))),
             "MaxAttempts": .int(retries), "BackoffRate": 2, "JitterStrategy": "FULL"],
        ]
    }

    /// `States.Array(…)` of the staged arguments.
    private func argsArray(_ values: [String: String], count: Int) -> (String, JSON) {
        if count == 0 { return ("args", []) }
        let list = (0..<count).compactMap { values["a\($0)"] }
        return ("args.$", .string("States.Array(\(list.joined(separator: ", ")))"))
    }

    private func argumentItems(_ s: WorkflowState) -> [(key: String, expr: Expr, mode: Mode)] {
        s.arguments.enumerated().map { ("a\($0.offset)", $0.element, .value) }
    }

    /// A copy of `from` to `to` (a Pass whose input is `from`).
    private mutating func copy(_ base: String, from: String, to: String?, next: String, into states: inout JSONObject) -> String {
        guard let to else { return next }
        let name = unique(base + ".bind")
        states[name] = ["Type": "Pass", "InputPath": .string(from), "ResultPath": .string(to), "Next": .string(next)]
        return name
    }

    // MARK: States

    private mutating func state(_ s: WorkflowState, then next: String, depth: Int, known: Set<String>,
                                into states: inout JSONObject) -> String {
        switch s.kind {
        case .task(_, let function):
            let f = plan.function(named: function)
            return invoke(s, function: function, payload: [:], retry: Self.retry(f?.retries ?? 0, backoffMs: f?.backoffMs ?? 0),
                          then: next, into: &states)
        case .serviceCall(_, let function):
            return invoke(s, function: function, payload: ["operation": .string(operationName(s))],
                          retry: Self.retry(workflow.retries, backoffMs: workflow.backoffMs), then: next, into: &states)
        case .childWorkflow(let w):
            let name = unique(s.name)
            let after = copy(s.name, from: "$.t.value", to: target(s), next: next, into: &states)
            let (entry, values) = stage(argumentItems(s), before: name, needs: .argument, into: &states)
            let (k, args) = argsArray(values, count: s.arguments.count)
            states[name] = ["Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                            "Parameters": ["StateMachineArn": ref(.stateMachine(w)), "Input": .object(JSONObject([(k, args)]))],
                            "ResultSelector": ["value.$": "$.Output"], "ResultPath": "$.t", "Next": .string(after)]
            return entry
        case .integration(let resource, let type, let op):
            return integration(s, resource: resource, type: type, op: op, then: next, into: &states)
        case .send(let queue):
            let name = unique(s.name)
            let after = copy(s.name, from: "$.t.value", to: target(s), next: next, into: &states)
            // The message `{"args": [...]}` is built by a Pass, then sent as its JSON text.
            let message = unique(s.name + ".message")
            let (entry, values) = stage(argumentItems(s), before: message, needs: .argument, into: &states)
            let (k, args) = argsArray(values, count: s.arguments.count)
            states[message] = ["Type": "Pass", "Parameters": .object(JSONObject([(k, args)])), "ResultPath": "$.m", "Next": .string(name)]
            var o: JSONObject = ["Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage"]
            o["Parameters"] = ["QueueUrl": ref(.queue(queue)), "MessageBody.$": "States.JsonToString($.m)"]
            o["ResultSelector"] = ["value.$": "$.MessageId"]
            o["ResultPath"] = "$.t"
            o["Next"] = .string(after)
            states[name] = .object(o)
            return entry
        case .start(let w):
            let name = unique(s.name)
            let after = copy(s.name, from: "$.t.value", to: target(s), next: next, into: &states)
            let (entry, values) = stage(argumentItems(s), before: name, needs: .argument, into: &states)
            let (k, args) = argsArray(values, count: s.arguments.count)
            states[name] = ["Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
                            "Parameters": ["StateMachineArn": ref(.stateMachine(w)), "Input": .object(JSONObject([(k, args)]))],
                            "ResultSelector": ["value.$": "$.ExecutionArn"], "ResultPath": "$.t", "Next": .string(after)]
            return entry
        case .wait(let ms):
            let name = unique(s.name)
            if let ms {
                states[name] = ["Type": "Wait", "Seconds": .int(Int((ms + 999) / 1000)), "Next": .string(next)]
                return name
            }
            guard let e = s.expression else {
                states[name] = ["Type": "Wait", "Seconds": 0, "Next": .string(next)]
                return name
            }
            let (entry, values) = stage([("s", e, .seconds)], before: name, into: &states)
            states[name] = ["Type": "Wait", "SecondsPath": .string(values["s"] ?? ""), "Next": .string(next)]
            return entry
        case .choice(let t, let o):
            // (A choice with a condition is compiled by `sequence`, with the condition's steps.)
            let thenEntry = sequence(t, then: next, depth: depth, known: known, into: &states)
            let elseEntry = sequence(o, then: next, depth: depth, known: known, into: &states)
            guard let e = s.expression else { return thenEntry }
            return conditionFlow(e, steps: [], name: unique(s.name), then: thenEntry, otherwise: elseEntry, depth: depth, known: known,
                                 into: &states)
        case .loop(let body):
            // The condition's own steps come first in the body (run as it short-circuits); then the rest.
            let condRange = s.expression?.range
            let condStates = body.prefix { st in condRange.map { Self.inside(st.range, $0) } ?? false }
            let rest = Array(body.dropFirst(condStates.count))
            let again = unique(s.name + ".again")
            let name = unique(s.name)
            let restEntry = sequence(rest, then: again, depth: depth, known: known, into: &states)
            let entry: String
            if let e = s.expression {
                entry = conditionFlow(e, steps: Array(condStates), name: name, then: restEntry, otherwise: next, depth: depth, known: known,
                                      into: &states)
            } else {
                states[name] = ["Type": "Pass", "Next": .string(restEntry)]
                entry = name
            }
            states[again] = ["Type": "Pass", "Next": .string(entry)]
            return entry
        case .map(let body):
            return map(s, body: body, then: next, depth: depth, known: known, into: &states)
        case .parallel(let branches):
            return parallel(s, branches: branches, then: next, depth: depth, known: known, into: &states)
        case .tryCatch(let body, let handler):
            return tryCatch(s, body: body, handler: handler, then: next, depth: depth, known: known, into: &states)
        case .succeed:
            let name = unique(s.name)
            guard let e = s.expression else {
                states[name] = depth == 0
                    ? ["Type": "Pass", "OutputPath": .string(StatesForm.null), "End": true]
                    : ["Type": "Fail", "Error": .string(Self.returnError), "Cause": "null"]
                return name
            }
            if depth == 0, case .literal(let lit)? = value(e) {
                states[name] = ["Type": "Pass", "Result": lit, "End": true]
                return name
            }
            let (entry, values) = stage([("a0", e, .value)], before: name, into: &states)
            let p = values["a0"] ?? StatesForm.null
            states[name] = depth == 0
                ? ["Type": "Pass", "OutputPath": .string(p), "End": true]
                : ["Type": "Fail", "Error": .string(Self.returnError), "CausePath": .string("States.JsonToString(\(p))")]
            return entry
        case .fail:
            let name = unique(s.name)
            guard let e = s.expression else {
                states[name] = ["Type": "Fail", "Error": .string(Self.thrownError), "Cause": "null"]
                return name
            }
            if case .literal(let lit)? = value(e) {
                states[name] = ["Type": "Fail", "Error": .string(Self.thrownError), "Cause": .string(lit.serialized())]
                return name
            }
            let (entry, values) = stage([("a0", e, .value)], before: name, into: &states)
            states[name] = ["Type": "Fail", "Error": .string(Self.thrownError),
                            "CausePath": .string("States.JsonToString(\(values["a0"] ?? StatesForm.null))")]
            return entry
        case .compute:
            guard let e = s.expression else { return next }
            let name = unique(s.name)
            guard let to = target(s) else {
                // Evaluated for what it may raise (or log); its value is dropped.
                if value(e) != nil { return next }
                states[name] = evaluatorTask(["evaluate": ["a0": ["at": [.int(e.range.start), .int(e.range.end)], "as": "value"]]],
                                             resultPath: nil, next: next)
                return name
            }
            if case .literal(let lit)? = value(e) {
                states[name] = ["Type": "Pass", "Result": lit, "ResultPath": .string(to), "Next": .string(next)]
                return name
            }
            let (entry, values) = stage([("a0", e, .value)], before: name, into: &states)
            states[name] = ["Type": "Pass", "InputPath": .string(values["a0"] ?? StatesForm.null), "ResultPath": .string(to),
                            "Next": .string(next)]
            return entry
        }
    }

    /// The operation of a service-call state: its expression is the call (`courier.post(…)`).
    private func operationName(_ s: WorkflowState) -> String {
        if case .call(let callee, _)? = s.expression?.kind, case .member(_, let op) = callee.kind { return op.name }
        return ""
    }

    /// A Lambda task of `function` with the state's arguments.
    private mutating func invoke(_ s: WorkflowState, function: FunctionID, payload: JSONObject, retry: JSON?, then next: String,
                                 into states: inout JSONObject) -> String {
        let name = unique(s.name)
        let (entry, values) = stage(argumentItems(s), before: name, needs: .argument, into: &states)
        var parameters = payload
        let (k, args) = argsArray(values, count: s.arguments.count)
        parameters[k] = args
        var o: JSONObject = ["Type": "Task", "Resource": ref(.function(function)), "Parameters": .object(parameters)]
        o["ResultPath"] = target(s).map(JSON.string) ?? .null
        var retriers: [JSON] = [["ErrorEquals": .array(Self.lambdaTransient.map { .string($0) }), "IntervalSeconds": 1,
                                 "MaxAttempts": 3, "BackoffRate": 2, "JitterStrategy": "FULL"]]
        if case .array(let more)? = retry { retriers += more }
        o["Retry"] = .array(retriers)
        o["Next"] = .string(next)
        states[name] = .object(o)
        return entry
    }

    private mutating func choice(_ e: Expr, name: String, then: String, otherwise: String,
                                 into states: inout JSONObject) -> String {
        if var rule = StatesForm.condition(e, step: stepPath)?.objectValue {
            rule["Next"] = .string(then)
            states[name] = ["Type": "Choice", "Choices": [.object(rule)], "Default": .string(otherwise)]
            return name
        }
        let (entry, values) = stage([("c", e, .condition)], before: name, into: &states)
        states[name] = ["Type": "Choice",
                        "Choices": [["Variable": .string(values["c"] ?? ""), "BooleanEquals": true, "Next": .string(then)]],
                        "Default": .string(otherwise)]
        return entry
    }

    // MARK: Integrations

    private mutating func integration(_ s: WorkflowState, resource: ResourceID, type: ResourceKind, op: ResourceOperation,
                                      then next: String, into states: inout JSONObject) -> String {
        let name = unique(s.name)
        if StatesForm.evaluatorPerforms(type, op) {
            // Evaluated whole: the evaluator performs it; a service call retries per the workflow.
            let retry = type == .service ? Self.retry(workflow.retries, backoffMs: workflow.backoffMs) : nil
            states[name] = evaluatorTask(
                ["evaluate": ["value": ["at": [.int(s.range.start), .int(s.range.end)], "as": "value"]]],
                resultPath: "$.t", next: copy(s.name, from: "$.t.value", to: target(s), next: next, into: &states), retry: retry)
            return name
        }
        switch (type, op) {
        case (.table, .get):
            let unwrap = unique(s.name + ".unwrap")
            states[unwrap] = evaluatorTask(["unwrap.$": "$.t"], resultPath: target(s), next: next)
            let (entry, values) = stage([("key", s.arguments.first ?? Expr(id: NodeID(0), range: s.range, kind: .null), .value)], before: name, into: &states)
            states[name] = ["Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
                            "Parameters": ["TableName": ref(.table(resource)), "Key": ["id": ["S.$": .string(values["key"] ?? "")]],
                                           "ConsistentRead": true],
                            "ResultPath": "$.t", "Next": .string(unwrap)]
            return entry
        case (.table, .put):
            let after = copy(s.name, from: StatesForm.null, to: target(s), next: next, into: &states)
            let key = s.arguments.first ?? Expr(id: NodeID(0), range: s.range, kind: .null)
            let item = s.arguments.count > 1 ? s.arguments[1] : Expr(id: NodeID(0), range: s.range, kind: .null)
            let (entry, values) = stage([("key", key, .value), ("item", item, .attribute)], before: name, into: &states)
            states[name] = ["Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                            "Parameters": ["TableName": ref(.table(resource)),
                                           "Item": ["id": ["S.$": .string(values["key"] ?? "")], "value.$": .string(values["item"] ?? "")]],
                            "ResultPath": .null, "Next": .string(after)]
            return entry
        case (.table, _):  // delete
            let after = copy(s.name, from: StatesForm.null, to: target(s), next: next, into: &states)
            let key = s.arguments.first ?? Expr(id: NodeID(0), range: s.range, kind: .null)
            let (entry, values) = stage([("key", key, .value)], before: name, into: &states)
            states[name] = ["Type": "Task", "Resource": "arn:aws:states:::dynamodb:deleteItem",
                            "Parameters": ["TableName": ref(.table(resource)), "Key": ["id": ["S.$": .string(values["key"] ?? "")]]],
                            "ResultPath": .null, "Next": .string(after)]
            return entry
        default:  // topic publish
            let after = copy(s.name, from: StatesForm.null, to: target(s), next: next, into: &states)
            let message = s.arguments.first ?? Expr(id: NodeID(0), range: s.range, kind: .null)
            var parameters: JSONObject = ["TopicArn": ref(.topic(resource))]
            var entry = name
            if case .literal(let lit)? = value(message) {
                parameters["Message"] = .string(lit.serialized())
            } else {
                let staged = stage([("a0", message, .value)], before: name, into: &states)
                entry = staged.entry
                parameters["Message.$"] = .string("States.JsonToString(\(staged.values["a0"] ?? StatesForm.null))")
            }
            states[name] = ["Type": "Task", "Resource": "arn:aws:states:::sns:publish", "Parameters": .object(parameters),
                            "ResultPath": .null, "Next": .string(after)]
            return entry
        }
    }

    // MARK: Branches

    /// The end of a branch: the names it hands back and the step results it kept.
    private func branchEnd(_ list: [WorkflowState], known: Set<String>) -> JSON {
        var v = JSONObject()
        for n in handedBack(list, known: known) { v[n + ".$"] = .string("\(StatesForm.variables).\(n)") }
        var r = JSONObject()
        for k in results(in: list) { r[k + ".$"] = .string("\(StatesForm.results).\(k)") }
        return ["Type": "Pass", "Parameters": ["v": .object(v), "r": .object(r)], "End": true]
    }

    /// A parallel's result as an object of its branches' hand-backs (`$.p.b0`, …): intrinsic
    /// functions then take plain paths (an indexed path is a list of matches on some engines).
    private static func branchSelector(_ count: Int) -> JSON {
        .object(JSONObject((0..<count).map { ("b\($0).$", .string("$[\($0)]")) }))
    }

    /// Merges the branches' hand-backs (`$.p.bI`) into the variables and results, in order.
    private mutating func merge(_ base: String, count: Int, then next: String, into states: inout JSONObject) -> String {
        var next = next
        for i in (0..<count).reversed() {
            let name = unique("\(base).merge\(count > 1 ? "\(i + 1)" : "")")
            var parameters: JSONObject = [
                "v.$": .string("States.JsonMerge(\(StatesForm.variables), $.p.b\(i).v, false)"),
                "r.$": .string("States.JsonMerge(\(StatesForm.results), $.p.b\(i).r, false)"),
                "n": nil,
            ]
            if i < count - 1 { parameters["p.$"] = "$.p" }
            states[name] = ["Type": "Pass", "Parameters": .object(parameters), "Next": .string(next)]
            next = name
        }
        return next
    }

    /// Where a `return` inside a branch at `depth` lands: the workflow's end, or the next branch out.
    private mutating func returnLanding(_ base: String, depth: Int, into states: inout JSONObject) -> String {
        let name = unique(base + ".return")
        states[name] = depth == 0
            ? ["Type": "Pass", "Parameters": ["value.$": "States.StringToJson($.x.Cause)"], "OutputPath": "$.value", "End": true]
            : ["Type": "Fail", "Error": .string(Self.returnError), "CausePath": "$.x.Cause"]
        return name
    }

    private mutating func branch(_ list: [WorkflowState], prologue: JSONObject?, depth: Int, known: Set<String>) -> JSON {
        var states = JSONObject()
        let end = unique("branch.end")
        let entry = sequence(list, then: end, depth: depth + 1, known: known, into: &states)
        if entry == end || Self.targets(states).contains(end) { states[end] = branchEnd(list, known: known) }
        var start = entry
        var all = JSONObject()
        if var p = prologue {
            let name = unique("item")
            p["Next"] = .string(entry)
            all[name] = .object(p)
            start = name
        }
        for (k, v) in states { all[k] = v }
        return ["StartAt": .string(start), "States": .object(Self.inFlowOrder(all, start: start))]
    }

    private mutating func parallel(_ s: WorkflowState, branches: [[WorkflowState]], then next: String, depth: Int,
                                   known: Set<String>, into states: inout JSONObject) -> String {
        let name = unique(s.name)
        let merged = merge(s.name, count: branches.count, then: next, into: &states)
        let compiled = branches.map { branch($0, prologue: nil, depth: depth, known: known) }
        states[name] = ["Type": "Parallel", "Branches": .array(compiled), "ResultSelector": Self.branchSelector(branches.count),
                        "ResultPath": "$.p", "Next": .string(merged)]
        return name
    }

    private mutating func map(_ s: WorkflowState, body: [WorkflowState], then next: String, depth: Int,
                              known: Set<String>, into states: inout JSONObject) -> String {
        let name = unique(s.name)
        let item = s.binds.first ?? "item"
        let list = s.expression ?? Expr(id: NodeID(0), range: s.range, kind: .list([]))
        var entry = name
        let itemsPath: String
        if case .path(let p)? = value(list) {
            itemsPath = p
        } else {
            let staged = stage([("l", list, .value)], before: name, into: &states)
            entry = staged.entry
            itemsPath = staged.values["l"] ?? ""
        }
        for n in handedBack(body, known: known) where known.contains(n) {
            problems.append("the `for` loop \(s.name) of workflow \(workflow.name) assigns `\(n)`, bound outside it: a Step Functions map's iterations cannot hand variables back (collect the values in a fn, or keep the loop in a task)")
        }
        let bind: JSONObject = ["Type": "Pass", "InputPath": "$.i", "ResultPath": .string("\(StatesForm.variables).\(item)")]
        var processor = branch(body, prologue: bind, depth: depth, known: known.union([item])).objectValue ?? JSONObject()
        processor["ProcessorConfig"] = ["Mode": "INLINE"]
        var o: JSONObject = ["Type": "Map", "ItemsPath": .string(itemsPath),
                             "ItemSelector": ["v.$": .string(StatesForm.variables), "r.$": .string(StatesForm.results), "n": nil,
                                              "i.$": "$$.Map.Item.Value"],
                             "MaxConcurrency": 1, "ItemProcessor": .object(processor), "ResultPath": .null]
        if Self.containsReturn(body) {
            o["Catch"] = [["ErrorEquals": .array([.string(Self.returnError)]), "ResultPath": "$.x",
                           "Next": .string(returnLanding(s.name, depth: depth, into: &states))]]
        }
        o["Next"] = .string(next)
        states[name] = .object(o)
        return entry
    }

    private mutating func tryCatch(_ s: WorkflowState, body: [WorkflowState], handler: [WorkflowState], then next: String,
                                   depth: Int, known: Set<String>, into states: inout JSONObject) -> String {
        let name = unique(s.name)
        for n in handedBack(body, known: known) where known.contains(n) {
            problems.append("the `try` \(s.name) of workflow \(workflow.name) assigns `\(n)`, bound outside it: when the body fails, a Step Functions catch starts from the variables before the `try` (assign it after the `try`, or in the catch)")
        }
        let merged = merge(s.name, count: 1, then: next, into: &states)
        var handlerEntry = sequence(handler, then: next, depth: depth, known: known.union(s.binds), into: &states)
        if let e = s.binds.first {
            let convert = unique(s.name + ".error")
            states[convert] = evaluatorTask(["error.$": "$.x"], resultPath: "\(StatesForm.variables).\(e)", next: handlerEntry)
            handlerEntry = convert
        }
        var catchers: [JSON] = []
        if Self.containsReturn(body) {
            catchers.append(["ErrorEquals": .array([.string(Self.returnError)]), "ResultPath": "$.x",
                             "Next": .string(returnLanding(s.name, depth: depth, into: &states))])
        }
        catchers.append(["ErrorEquals": ["States.ALL"], "ResultPath": "$.x", "Next": .string(handlerEntry)])
        states[name] = ["Type": "Parallel", "Branches": [branch(body, prologue: nil, depth: depth, known: known)],
                        "ResultSelector": Self.branchSelector(1), "ResultPath": "$.p", "Catch": .array(catchers), "Next": .string(merged)]
        return name
    }
}

