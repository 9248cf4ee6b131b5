// Infer stage: a workflow's body as a state graph (SPEC §3.4) — task steps for effectful fn
// calls, direct integrations for resource operations, a small limited function for calls to a
// limited service, waits, choices, parallel branches, maps, loops, catches, sends and starts.

struct WorkflowBuilder {
    let inference: Inference
    let declaration: Int
    let name: String
    var grants = GrantList()
    var usedNames: [String: Int] = [:]
    var extraFunctions: [PlanFunction] = []

    init(inference: Inference, declaration: Int) {
        self.inference = inference
        self.declaration = declaration
        self.name = inference.unitName(declaration)
    }

    var file: SourceFile { inference.file }
    var model: SemanticModel { inference.model }

    mutating func build() -> PlanWorkflow {
        let h = inference.handler(declaration)!
        let states = block(h.body)
        let attrs = inference.attributes(declaration)
        for f in extraFunctions where inference.plan.function(named: f.name) == nil {
            inference.plan.functions.append(f)
        }
        return PlanWorkflow(
            name: name, handler: declaration, states: states,
            grants: grants.sorted,
            reasons: inference.workflowReasons(declaration),
            retries: attrs.retry?.value ?? PlatformLimits.defaultRetries,
            backoffMs: attrs.backoffMs?.value ?? PlatformLimits.defaultBackoffMs,
            timeoutMs: attrs.timeoutMs?.value, startedBy: [], range: h.headerRange)
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
        case .binding(_, _, let value): return expr(value)
        case .assign(let target, let value): return expr(value) + expr(target)
        case .expression(let e): return expr(e)
        case .ifElse(let c, let then, let otherwise):
            let cond = expr(c)
            let t = block(then)
            let o = otherwise.map { statement($0) } ?? []
            if t.isEmpty && o.isEmpty { return cond }
            return cond + [WorkflowState(name: stateName("choice"), kind: .choice(then: t, otherwise: o), range: s.range)]
        case .forIn(_, let seq, let body):
            let pre = expr(seq)
            let inner = block(body)
            if inner.isEmpty { return pre }
            return pre + [WorkflowState(name: stateName("map"), kind: .map(body: inner), range: s.range)]
        case .whileLoop(let c, let body):
            let inner = expr(c) + block(body)
            if inner.isEmpty { return [] }
            return [WorkflowState(name: stateName("loop"), kind: .loop(body: inner), range: s.range)]
        case .returnStmt(let v):
            return (v.map { expr($0) } ?? []) + [WorkflowState(name: stateName("succeed"), kind: .succeed, range: s.range)]
        case .throwStmt(let v):
            return expr(v) + [WorkflowState(name: stateName("fail"), kind: .fail, range: s.range)]
        case .tryCatch(let body, _, let handler):
            let b = block(body)
            let h = block(handler)
            if b.isEmpty { return h }
            return [WorkflowState(name: stateName("try"), kind: .tryCatch(body: b, handler: h), range: s.range)]
        case .sleep(let d):
            var ms: Int64?
            if case .duration(let v) = d.kind { ms = v }
            let label = ms != nil ? "wait_\(file.text(d.range))" : "wait"
            return expr(d) + [WorkflowState(name: stateName(label), kind: .wait(milliseconds: ms), range: s.range)]
        case .parallel(let b):
            let branches = b.statements.map { statement($0) }.filter { !$0.isEmpty }
            if branches.isEmpty { return [] }
            return [WorkflowState(name: stateName("parallel"), kind: .parallel(branches: branches), range: s.range)]
        case .block(let b): return block(b)
        case .invalid: return []
        }
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
            if p.type == .workflow {
                return pre + [WorkflowState(name: stateName("start_\(targetName)"), kind: .start(workflow: targetName), range: e.range)]
            }
            return pre + [WorkflowState(name: stateName("send_\(targetName)"), kind: .send(queue: p.resource), range: e.range)]
        }
    }

    private mutating func call(_ e: Expr) -> [WorkflowState] {
        switch model.calls[e.id] {
        case .fn(let d):
            let fnName = inference.unitName(d)
            if inference.units.workflowSet.contains(d) {
                grant(Permission(resource: fnName, type: .workflow, action: .start), e.range)
                return [WorkflowState(name: stateName(fnName), kind: .childWorkflow(fnName), range: e.range)]
            }
            if inference.isPure(d) { return [] }  // plain computation: the workflow evaluates it
            grant(Permission(resource: fnName, type: .function, action: .invoke), e.range)
            return [WorkflowState(name: stateName(fnName), kind: .task(fn: fnName, function: fnName), range: e.range)]
        case .operation(let d, let kind, let op):
            let resource = inference.resourceName(d)
            if kind == .service, case .service(let s) = inference.program.declarations[d].kind, s.limit != nil || s.rate != nil {
                let fname = "\(name)_\(resource)"
                grant(Permission(resource: fname, type: .function, action: .invoke), e.range)
                if !extraFunctions.contains(where: { $0.name == fname }) {
                    extraFunctions.append(PlanFunction(
                        name: fname, handlers: [], triggers: [.workflowTask], limit: s.limit?.value,
                        limitReasons: s.limit.map { [Reason("calls \(resource) (limit \($0.value), \(at: $0.range))", e.range)] } ?? [],
                        timeoutMs: PlatformLimits.defaultTimeoutMs, retries: inference.attributes(declaration).retry?.value ?? PlatformLimits.defaultRetries,
                        backoffMs: inference.attributes(declaration).backoffMs?.value ?? PlatformLimits.defaultBackoffMs,
                        grants: [Grant(permission: Permission(resource: resource, type: .service, action: .call),
                                       reasons: [Reason("\(resource).\(op.rawValue) at \(at: e.range)", e.range)])],
                        range: e.range, serviceCall: resource))
                } else if let i = extraFunctions.firstIndex(where: { $0.name == fname }) {
                    extraFunctions[i].grants[0].reasons.append(Reason("\(resource).\(op.rawValue) at \(at: e.range)", e.range))
                }
                return [WorkflowState(name: stateName("call_\(resource)"), kind: .serviceCall(service: resource, function: fname), range: e.range)]
            }
            let perm = inference.permission(for: OperationUse(declaration: d, kind: kind, operation: op))
            grant(perm, e.range)
            let verb = op.action(on: kind).rawValue
            return [WorkflowState(name: stateName("\(verb)_\(resource)"), kind: .integration(resource: resource, type: kind, operation: op), range: e.range)]
        case .builtin, nil:
            return []
        }
    }
}
