// Infer stage: a workflow's body as a state graph (SPEC §3.4) — task steps for effectful fn
// calls, direct integrations for resource operations, a small limited function for calls to a
// limited service, waits, choices, parallel branches, maps, loops, catches, sends and starts.

struct WorkflowBuilder {
    let inference: Inference
    let declaration: Int
    let name: WorkflowID
    var grants = GrantList()
    var usedNames: [String: Int] = [:]
    var extraFunctions: [PlanFunction] = []
    /// What the evaluator performs for the workflow on the AWS target (docs/aws.md).
    var evaluatorGrants = GrantList()

    init(inference: Inference, declaration: Int) {
        self.inference = inference
        self.declaration = declaration
        self.name = inference.workflowID(declaration)
    }

    var file: SourceFile { inference.file }
    var model: SemanticModel { inference.model }

    mutating func build() -> PlanWorkflow {
        let h = inference.handler(declaration)!
        let states = block(h.body)
        let attrs = inference.attributes(declaration)
        let evaluated = StatesForm.evaluatedStates(states)
        var evaluator: PlanFunction?
        if !evaluated.isEmpty {
            // Expressions without a States form run in one small function of the workflow's own.
            let fname = Names.evaluator(of: name)
            for r in evaluated { grant(.invoke(fname), r) }
            evaluator = (PlanFunction(
                name: fname, handlers: [], triggers: [.workflowTask], limit: nil, limitReasons: [],
                timeoutMs: PlatformLimits.defaultTimeoutMs, retries: attrs.retry?.value ?? PlatformLimits.defaultRetries,
                backoffMs: attrs.backoffMs?.value ?? PlatformLimits.defaultBackoffMs,
                grants: evaluatorGrants.sorted, range: evaluated[0], serviceCall: nil, evaluates: name))
        }
        for f in extraFunctions where inference.plan.function(named: f.name) == nil {
            inference.plan.functions.append(f)
        }
        return PlanWorkflow(
            name: name, handler: declaration, states: states,
            grants: grants.sorted,
            reasons: inference.workflowReasons(declaration),
            retries: attrs.retry?.value ?? PlatformLimits.defaultRetries,
            backoffMs: attrs.backoffMs?.value ?? PlatformLimits.defaultBackoffMs,
            timeoutMs: attrs.timeoutMs?.value, startedBy: [], range: h.headerRange,
            parameters: h.params.map(\.name), evaluator: evaluator)
    }

    private mutating func stateName(_ base: String) -> String {
        let clean = String(base.map { $0.isLetter || $0.isNumber ? $0 : "_" })
        usedNames[clean, default: 0] += 1
        let n = usedNames[clean]!
        return n == 1 ? clean : "\(clean)_\(n)"
    }

    private mutating func grant(_ p: Permission, _ range: SourceRange) {
        grants.add(p, Reason("\(source: range, firstLine: true, prefix: 60) at \(at: range)", range))
    }

    // MARK: Statements

    private mutating func block(_ b: Block) -> [WorkflowState] {
        var out: [WorkflowState] = []
        for s in b.statements { out += statement(s) }
        return out
    }

    private mutating func statement(_ s: Stmt) -> [WorkflowState] {
        switch s.kind {
        case .binding(_, let name, let value): return binding(name.name, expr(value), value, s.range)
        case .assign(let target, let value):
            guard case .name(let n) = target.kind else { return fieldAssignment(target, value, s.range) }
            return binding(n, expr(value), value, s.range)
        case .expression(let e):
            // A computation whose value is dropped still runs: it may fail (or log), as locally.
            let states = expr(e)
            if states.last?.range == e.range || StatesForm.cannotFail(e) { return states }
            return states + [state("compute", .compute, s.range, expression: e)]
        case .ifElse(let c, let then, let otherwise):
            let cond = expr(c)
            let t = block(then)
            let o = otherwise.map { statement($0) } ?? []
            if t.isEmpty && o.isEmpty { return cond }
            return cond + [state("choice", .choice(then: t, otherwise: o), s.range, expression: c)]
        case .forIn(let variable, let seq, let body):
            let pre = expr(seq)
            let inner = block(body)
            if inner.isEmpty { return pre }
            var map = state("map", .map(body: inner), s.range, expression: seq)
            map.binds = [variable.name]
            return pre + [map]
        case .whileLoop(let c, let body):
            let inner = expr(c) + block(body)
            if inner.isEmpty { return [] }
            return [state("loop", .loop(body: inner), s.range, expression: c)]
        case .returnStmt(let v):
            return (v.map { expr($0) } ?? []) + [state("succeed", .succeed, s.range, expression: v)]
        case .throwStmt(let v):
            return expr(v) + [state("fail", .fail, s.range, expression: v)]
        case .tryCatch(let body, let variable, let handler):
            let b = block(body)
            let h = block(handler)
            if b.isEmpty { return h }
            var tryState = state("try", .tryCatch(body: b, handler: h), s.range)
            if let variable, !variable.name.isEmpty { tryState.binds = [variable.name] }
            return [tryState]
        case .sleep(let d):
            var ms: Int64?
            if case .duration(let v) = d.kind { ms = v }
            let label = ms != nil ? "wait_\(file.text(d.range))" : "wait"
            return expr(d) + [state(label, .wait(milliseconds: ms), s.range, expression: d)]
        case .parallel(let b):
            let branches = b.statements.map { statement($0) }.filter { !$0.isEmpty }
            if branches.isEmpty { return [] }
            return [WorkflowState(name: stateName("parallel"), kind: .parallel(branches: branches), range: s.range)]
        case .block(let b): return block(b)
        case .invalid: return []
        }
    }

    /// A state named from `base`, with the expression it evaluates and the locals it reads.
    private mutating func state(_ base: String, _ kind: WorkflowState.Kind, _ range: SourceRange,
                                expression: Expr? = nil, arguments: [Expr] = []) -> WorkflowState {
        var s = WorkflowState(name: stateName(base), kind: kind, range: range)
        s.expression = expression
        s.arguments = arguments
        var reads: [String] = []
        if let expression { locals(expression, into: &reads) }
        for a in arguments { locals(a, into: &reads) }
        s.reads = reads
        return s
    }

    /// `name = value`: when the value is itself a step (its last state is the value's own call),
    /// that state binds `name`; else a `compute` state evaluates the value and binds it.
    private mutating func binding(_ name: String, _ states: [WorkflowState], _ value: Expr, _ range: SourceRange) -> [WorkflowState] {
        var states = states
        guard !name.isEmpty else { return states }
        if let last = states.indices.last, states[last].range == value.range {
            states[last].binds = [name]
            return states
        }
        var compute = state("set_\(name)", .compute, range, expression: value)
        compute.binds = [name]
        return states + [compute]
    }

    /// `x.f = v`, `x[i] = v` (any path): a `compute` state that binds `x` to its value after the
    /// assignment; the evaluator makes the assignment (its expression is the statement's range).
    private mutating func fieldAssignment(_ target: Expr, _ value: Expr, _ range: SourceRange) -> [WorkflowState] {
        var root = target
        var indices: [Expr] = []
        while true {
            if case .member(let base, _) = root.kind { root = base } else if case .index(let base, let i) = root.kind {
                indices.insert(i, at: 0)
                root = base
            } else { break }
        }
        let pre = expr(value) + indices.flatMap { expr($0) }
        guard case .name(let n) = root.kind else { return pre }
        var compute = state("set_\(n)", .compute, range, expression: Expr(id: target.id, range: range, kind: .invalid))
        var reads: [String] = []
        locals(value, into: &reads)
        locals(target, into: &reads)
        compute.reads = reads
        compute.binds = [n]
        // The value and the indices, so that the steps inside them keep their results for it.
        compute.arguments = [value] + indices
        return pre + [compute]
    }

    /// The local variables `e` reads, in order of first use, appended to `out` once each.
    private func locals(_ e: Expr, into out: inout [String]) {
        switch e.kind {
        case .null, .bool, .number, .duration, .invalid: return
        case .name(let n):
            if case .local(let b)? = model.references[e.id], b < model.bindings.count, !out.contains(n) { out.append(n) }
        case .string(let parts):
            for case .interpolation(let inner) in parts { locals(inner, into: &out) }
        case .list(let items): for i in items { locals(i, into: &out) }
        case .object(let entries): for entry in entries { locals(entry.value, into: &out) }
        case .unary(_, let x): locals(x, into: &out)
        case .binary(_, let l, let r):
            locals(l, into: &out)
            locals(r, into: &out)
        case .member(let base, _): locals(base, into: &out)
        case .index(let base, let i):
            locals(base, into: &out)
            locals(i, into: &out)
        case .call(let callee, let args):
            locals(callee, into: &out)
            for a in args { locals(a, into: &out) }
        case .async(let c): locals(c, into: &out)
        }
    }

    /// A call expression's arguments.
    private func arguments(_ e: Expr) -> [Expr] {
        if case .call(_, let args) = e.kind { return args }
        return []
    }

    // MARK: Expressions, in evaluation order

    private mutating func expr(_ e: Expr) -> [WorkflowState] {
        switch e.kind {
        case .null, .bool, .number, .duration, .name, .invalid: return []
        case .string(let parts):
            var out: [WorkflowState] = []
            for case .interpolation(let inner) in parts { out += expr(inner) }
            return out
        case .list(let items): return items.flatMap { expr($0) }
        case .object(let entries): return entries.flatMap { expr($0.value) }
        case .unary(_, let x): return expr(x)
        case .binary(_, let l, let r): return expr(l) + expr(r)
        case .member(let base, _): return expr(base)
        case .index(let base, let i): return expr(base) + expr(i)
        case .call(_, let args):
            let pre = args.flatMap { expr($0) }
            return pre + call(e)
        case .async(let c):
            guard case .call(_, let args) = c.kind, case .fn(let target) = model.calls[c.id] else { return [] }
            let pre = args.flatMap { expr($0) }
            let p = inference.asyncPermission(target)
            grant(p, e.range)
            let targetName = inference.unitName(target)
            if let workflow = p.workflow {
                return pre + [state("start_\(targetName)", .start(workflow: workflow), e.range, arguments: args)]
            }
            guard let queue = p.queue else { return pre }
            return pre + [state("send_\(targetName)", .send(queue: queue), e.range, arguments: args)]
        }
    }

    private mutating func call(_ e: Expr) -> [WorkflowState] {
        switch model.calls[e.id] {
        case .fn(let d):
            let fnName = inference.unitName(d)
            if inference.units.workflowSet.contains(d) {
                let workflow = WorkflowID(fnName)
                grant(.start(workflow), e.range)
                return [state(fnName, .childWorkflow(workflow), e.range, arguments: arguments(e))]
            }
            if inference.isPure(d) { return [] }  // plain computation: the workflow evaluates it
            let function = FunctionID(fnName)
            grant(.invoke(function), e.range)
            return [state(fnName, .task(fn: fnName, function: function), e.range, arguments: arguments(e))]
        case .operation(let d, let kind, let op):
            let resource = inference.resourceName(d)
            if kind == .service, case .service(let s) = inference.program.declarations[d].kind, s.limit != nil || s.rate != nil {
                let fname = Names.serviceCaller(of: name, service: resource)
                grant(.invoke(fname), e.range)
                if !extraFunctions.contains(where: { $0.name == fname }) {
                    extraFunctions.append(PlanFunction(
                        name: fname, handlers: [], triggers: [.workflowTask], limit: s.limit?.value,
                        limitReasons: s.limit.map { [Reason("calls \(resource) (limit \($0.value), \(at: $0.range))", e.range)] } ?? [],
                        timeoutMs: PlatformLimits.defaultTimeoutMs, retries: inference.attributes(declaration).retry?.value ?? PlatformLimits.defaultRetries,
                        backoffMs: inference.attributes(declaration).backoffMs?.value ?? PlatformLimits.defaultBackoffMs,
                        grants: [Grant(permission: Permission(.call, on: resource, .service),
                                       reasons: [Reason("\(resource).\(op.rawValue) at \(at: e.range)", e.range)])],
                        range: e.range, serviceCall: resource))
                } else if let i = extraFunctions.firstIndex(where: { $0.name == fname }) {
                    extraFunctions[i].grants[0].reasons.append(Reason("\(resource).\(op.rawValue) at \(at: e.range)", e.range))
                }
                // The call is the state's expression: its callee names the operation.
                return [state("call_\(resource)", .serviceCall(service: resource, function: fname), e.range,
                              expression: e, arguments: arguments(e))]
            }
            let perm = inference.permission(for: OperationUse(declaration: d, kind: kind, operation: op))
            grant(perm, e.range)
            if StatesForm.evaluatorPerforms(kind, op) {
                evaluatorGrants.add(perm, Reason("\(source: e.range, firstLine: true, prefix: 60) at \(at: e.range)", e.range))
            }
            let verb = op.action(on: kind).rawValue
            return [state("\(verb)_\(resource)", .integration(resource: resource, type: kind, operation: op), e.range, arguments: arguments(e))]
        case .builtin, nil:
            return []
        }
    }
}
