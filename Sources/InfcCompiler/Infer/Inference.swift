// Infer stage: lower — the second pass of inference, from the classification (`Classification`)
// to the plan, SPEC §3 rule by rule — functions, queues, concurrency limits, workflows,
// permissions and supporting resources. Every inferred fact keeps the range that caused it.

public final class Inference {
    let program: Program
    let file: SourceFile
    let model: SemanticModel
    let classification: Classification
    var diagnostics: [Diagnostic] = []
    var plan: Plan
    var syncCallees: Set<Int> = []

    typealias Closure = Classification.Closure
    typealias Units = Classification.Units

    /// Each declaration's own facts, by declaration index (nil for declarations without a body).
    var facts: [BodyFacts?] { classification.facts }
    /// Handler keys and deployed names, by declaration index (the naming step).
    var names: Names { classification.names }
    /// Each declaration's declared name ("" for none), by declaration index.
    var declaredNames: [String] { classification.declaredNames }
    var units: Units { classification.units }

    /// Classifies and lowers a resolved program: its plan (without its budget, which
    /// `BudgetCheck` counts), what the plan checks (`PlanChecks`) need of it, and inference's
    /// own diagnostics.
    public static func infer(_ program: Program, file: SourceFile, model: SemanticModel)
        -> (plan: Plan, checks: PlanCheckInput, diagnostics: [Diagnostic]) {
        lower(Classification.classify(program, file: file, model: model), program: program, file: file, model: model)
    }

    /// The lower pass: the plan of a classified program, the plan checks' input, and the
    /// diagnostics of allocating limits.
    static func lower(_ classification: Classification, program: Program, file: SourceFile, model: SemanticModel)
        -> (plan: Plan, checks: PlanCheckInput, diagnostics: [Diagnostic]) {
        let inference = Inference(classification, program: program, file: file, model: model)
        inference.run()
        return (inference.plan, inference.checkInput(), inference.diagnostics)
    }

    init(_ classification: Classification, program: Program, file: SourceFile, model: SemanticModel) {
        self.program = program
        self.file = file
        self.model = model
        self.classification = classification
        self.plan = Plan(app: model.app.name)
        plan.limits = PlatformLimits(accountConcurrency: model.app.accountConcurrency,
                                     unreservedConcurrency: model.app.unreservedConcurrency)
    }

    // MARK: The classification, as lowering asks for it

    func closure(_ d: Int) -> Closure { classification.closure(d) }
    func isWorkflow(_ d: Int) -> Bool { classification.isWorkflow(d) }
    func isPure(_ d: Int) -> Bool { classification.isPure(d) }
    func isRoute(_ d: Int) -> Bool { classification.isRoute(d) }
    func stepTargets(_ d: Int, visited: Set<Int>) -> [Int] { classification.stepTargets(d) }
    func workflowAsyncCalls(_ d: Int) -> [Int] { classification.workflowAsyncCalls(d) }

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

    // MARK: Run

    func run() {
        collectResources()
        buildUnits()
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
                let name = ResourceID(r.name.name)
                plan.resources.append(PlanResource(name: name, type: type, declaration: i, range: d.range))
                switch r.kind {
                case .table: plan.tables.append(name)
                case .bucket: plan.buckets.append(name)
                case .topic: plan.topics.append(name)
                case .secret: plan.secrets.append(name)
                case .service: break
                }
            case .service(let s):
                let name = ResourceID(s.name.name)
                plan.resources.append(PlanResource(name: name, type: .service, declaration: i, range: d.range))
                plan.services.append(PlanService(name: name, url: s.url, limit: s.limit?.value,
                                                 ratePerSecond: s.rate?.perSecond,
                                                 rateText: s.rate.map { String(file.text($0.range).dropFirst("rate ".count)) }, users: []))
            default: break
            }
        }
    }

}
