// Infer stage: from the checked program to the plan, SPEC §3 rule by rule — functions,
// queues, concurrency limits, workflows, permissions and supporting resources. Facts are
// closed over synchronous calls; every inferred fact keeps the range that caused it.

public final class Inference {
    let program: Program
    let file: SourceFile
    let model: SemanticModel
    var diagnostics: [Diagnostic] = []
    /// Each declaration's own facts, by declaration index (nil for declarations without a body).
    var facts: [BodyFacts?] = []
    var plan: Plan
    /// Handler keys and deployed names, by declaration index (the naming step).
    var names = Names(keys: [], units: [])
    /// Each declaration's declared name ("" for none), by declaration index.
    var declaredNames: [String] = []
    var syncCallees: Set<Int> = []
    var units = Units()

    /// The plan of a resolved program (without its budget, which `BudgetCheck` counts), what
    /// the plan checks (`PlanChecks`) need of it, and inference's own diagnostics.
    public static func infer(_ program: Program, file: SourceFile, model: SemanticModel)
        -> (plan: Plan, checks: PlanCheckInput, diagnostics: [Diagnostic]) {
        let inference = Inference(program: program, file: file, model: model)
        inference.run()
        return (inference.plan, inference.checkInput(), inference.diagnostics)
    }

    init(program: Program, file: SourceFile, model: SemanticModel) {
        self.program = program
        self.file = file
        self.model = model
        self.plan = Plan(app: model.app.name)
        plan.limits = PlatformLimits(accountConcurrency: model.app.accountConcurrency,
                                     unreservedConcurrency: model.app.unreservedConcurrency)
    }

    // MARK: Closure over synchronous calls

    /// The facts a declaration's code reaches: its own and those of every fn it calls synchronously.
    /// A class: asked for again and again, and shared rather than copied array by array.
    final class Closure {
        var declarations: [Int] = []
        var operations: [Site<OperationUse>] = []
        var asyncCalls: [Site<Int>] = []
        var syncCalls: [Site<Int>] = []
        var sleeps: [SourceRange] = []
        var parallelCalls: [SourceRange] = []
        /// Whether the declaration is a workflow (`workflowReasons` not empty), once asked.
        var isWorkflow: Bool?
    }

    /// Closures computed so far, by declaration index.
    private var closures: [Closure?] = []

    func closure(_ root: Int) -> Closure {
        if let c = closures[root] { return c }
        if let f = facts[root], f.syncCalls.isEmpty {
            // Most bodies call no fn synchronously: their closure is their own facts, shared.
            let c = Closure()
            c.declarations = [root]
            c.operations = f.operations
            c.asyncCalls = f.asyncCalls
            c.sleeps = f.sleeps
            c.parallelCalls = f.parallelCalls
            closures[root] = c
            return c
        }
        // Declarations reached through unconditional calls, then through any calls.
        func reach(unconditionalOnly: Bool) -> [Int] {
            var seen: Set<Int> = [root]
            var order = [root]
            var stack = [root]
            while let d = stack.popLast() {
                for call in facts[d]?.syncCalls ?? [] where !(unconditionalOnly && call.conditional) {
                    if seen.insert(call.value).inserted {
                        order.append(call.value)
                        stack.append(call.value)
                    }
                }
            }
            return order
        }
        let always = Set(reach(unconditionalOnly: true))
        let c = Closure()
        c.declarations = reach(unconditionalOnly: false)
        for d in c.declarations {
            guard let f = facts[d] else { continue }
            let guarded = !always.contains(d)
            c.operations += f.operations.map { Site(value: $0.value, range: $0.range, conditional: $0.conditional || guarded) }
            c.asyncCalls += f.asyncCalls.map { Site(value: $0.value, range: $0.range, conditional: $0.conditional || guarded) }
            c.syncCalls += f.syncCalls.map { Site(value: $0.value, range: $0.range, conditional: $0.conditional || guarded) }
            c.sleeps += f.sleeps
            c.parallelCalls += f.parallelCalls
        }
        closures[root] = c
        return c
    }

    // MARK: Classification

    func handler(_ d: Int) -> HandlerDecl? { program.declarations[d].handler }

    func attributes(_ d: Int) -> HandlerAttributes { model.attributes[d] ?? HandlerAttributes() }

    /// Why a declaration is a workflow, or empty when it is not one.
    func workflowReasons(_ d: Int) -> [Reason] {
        var reasons: [Reason] = []
        let c = closure(d)
        for s in c.sleeps { reasons.append(Reason("waits with `\(source: s, firstLine: true)` at \(at: s)", s)) }
        for p in c.parallelCalls { reasons.append(Reason("runs fns in `parallel` at \(at: p)", p)) }
        if let t = attributes(d).timeoutMs, t.value > PlatformLimits.maxFunctionTimeoutMs {
            reasons.append(Reason("its timeout (\(source: t.range)) exceeds a function's \(PlatformLimits.maxFunctionTimeoutLiteral) at \(at: t.range)", t.range))
        }
        // A long timeout is the fn's own; whoever calls it synchronously waits as long.
        for x in c.declarations where x != d {
            if let t = attributes(x).timeoutMs, t.value > PlatformLimits.maxFunctionTimeoutMs {
                reasons.append(Reason("calls `\(unitName(x))` (\(source: t.range), a workflow) synchronously", t.range))
            }
        }
        return reasons
    }

    /// True when `workflowReasons(d)` is not empty (without writing the reasons).
    func isWorkflow(_ d: Int) -> Bool {
        let c = closure(d)
        if let known = c.isWorkflow { return known }
        let workflow = !c.sleeps.isEmpty || !c.parallelCalls.isEmpty
            || c.declarations.contains { (model.attributes[$0]?.timeoutMs?.value ?? 0) > PlatformLimits.maxFunctionTimeoutMs }
        c.isWorkflow = workflow
        return workflow
    }

    /// True when a fn has no effects a workflow must run as a step (no operations, async or calls
    /// to effectful fns): a workflow evaluates such calls itself.
    func isPure(_ d: Int) -> Bool {
        let c = closure(d)
        return c.operations.isEmpty && c.asyncCalls.isEmpty && c.sleeps.isEmpty && c.parallelCalls.isEmpty
    }

    // MARK: Run

    func run() {
        names = Names.derive(program, file: file)
        let count = program.declarations.count
        facts = Array(repeating: nil, count: count)
        closures = Array(repeating: nil, count: count)
        declaredNames = program.declarations.map { $0.declaredName?.name ?? "" }
        for (i, d) in program.declarations.enumerated() {
            if let h = d.handler { facts[i] = BodyFacts.collect(h.body, model: model) }
        }
        collectResources()
        let units = deployedUnits()
        buildUnits(units)
        buildQueues()
        allocateLimits()
        buildTriggers()
        if model.app.grouped { groupFunctions() }
        sortPlan()
        nameDeliveries()
        recordHandlers()
    }

    private func collectResources() {
        for (i, d) in program.declarations.enumerated() {
            switch d.kind {
            case .resource(let r):
                let type: Permission.ResourceType
                switch r.kind {
                case .table: type = .table
                case .bucket: type = .bucket
                case .topic: type = .topic
                case .secret: type = .secret
                case .service: type = .service
                }
                plan.resources.append(PlanResource(name: r.name.name, type: type, declaration: i, range: d.range))
                switch r.kind {
                case .table: plan.tables.append(r.name.name)
                case .bucket: plan.buckets.append(r.name.name)
                case .topic: plan.topics.append(r.name.name)
                case .secret: plan.secrets.append(r.name.name)
                case .service: break
                }
            case .service(let s):
                plan.resources.append(PlanResource(name: s.name.name, type: .service, declaration: i, range: d.range))
                plan.services.append(PlanService(name: s.name.name, url: s.url, limit: s.limit?.value,
                                                 ratePerSecond: s.rate?.perSecond,
                                                 rateText: s.rate.map { String(file.text($0.range).dropFirst("rate ".count)) }, users: []))
            default: break
            }
        }
    }

    // MARK: Deployed units

    struct Units {
        var functions: [Int] = []  // handler or fn declarations deployed as functions
        var workflows: [Int] = [] { didSet { workflowSet = Set(workflows) } }
        private(set) var workflowSet: Set<Int> = []
        var asyncTargets: Set<Int> = []
        var taskFns: Set<Int> = []
    }

    /// Walks from the triggers (routes, `on`, `every`) through async calls and workflow steps to
    /// decide which declarations are deployed, and as what.
    private func deployedUnits() -> Units {
        var u = Units()
        var queue: [Int] = []
        var seen: Set<Int> = []
        for (i, d) in program.declarations.enumerated() {
            guard let h = d.handler, h.fnName == nil else { continue }
            queue.append(i)
            seen.insert(i)
        }
        var head = 0
        var workflowDecls: [Int] = []
        while head < queue.count {
            let d = queue[head]
            head += 1
            let wf = isWorkflow(d) && !isRoute(d)
            if wf { workflowDecls.append(d) } else { u.functions.append(d) }
            var next: [Int] = []
            if wf {
                // A workflow runs each effectful fn it calls as a step: a task or a child workflow.
                for call in facts[d]?.syncCalls ?? [] {
                    for t in stepTargets(call.value, visited: []) {
                        if !isWorkflow(t) { u.taskFns.insert(t) }
                        next.append(t)
                    }
                }
                for a in workflowAsyncCalls(d) {
                    u.asyncTargets.insert(a)
                    next.append(a)
                }
            } else {
                for a in closure(d).asyncCalls {
                    u.asyncTargets.insert(a.value)
                    next.append(a.value)
                }
            }
            for n in next where seen.insert(n).inserted { queue.append(n) }
        }
        u.workflows = workflowDecls
        return u
    }

    /// The fns a workflow runs as steps when it calls `d`: `d` itself when effectful, else the
    /// effectful fns that pure `d` reaches.
    func stepTargets(_ d: Int, visited: Set<Int>) -> [Int] {
        if !isPure(d) || isWorkflow(d) { return [d] }
        return []
    }

    /// Async calls a workflow makes directly, and through the pure fns it evaluates itself.
    func workflowAsyncCalls(_ d: Int) -> [Int] {
        (facts[d]?.asyncCalls ?? []).map(\.value)
    }

    func isRoute(_ d: Int) -> Bool {
        if case .route = handler(d)?.trigger { return true }
        return false
    }
}
