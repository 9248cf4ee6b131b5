// Infer stage: classify — the first pass of inference, a function of the resolved program
// (`Classification.classify`). Names every handler and unit once (the naming step), collects
// what each body states (`BodyFacts`), closes those facts over synchronous calls, and decides
// which declarations are deployed and as what: functions, workflows, workflow tasks, async
// targets. Lowering (`Inference`) turns the classification into the plan.

/// What the classify pass found: names, facts, deployed units, and each declaration's closure
/// over synchronous calls (computed when first asked, then kept).
struct Classification {
    let names: Names
    /// Each declaration's own facts, by declaration index (nil for declarations without a body).
    let facts: [BodyFacts?]
    /// Each declaration's declared name ("" for none), by declaration index.
    let declaredNames: [String]
    let units: Units
    private let classifier: Classifier

    typealias Closure = Classifier.Closure
    typealias Units = Classifier.Units

    /// Classifies a resolved program.
    static func classify(_ program: Program, file: SourceFile, model: SemanticModel) -> Classification {
        let names = Names.derive(program, file: file)
        var facts = [BodyFacts?](repeating: nil, count: program.declarations.count)
        for (i, d) in program.declarations.enumerated() {
            if let h = d.handler { facts[i] = BodyFacts.collect(h.body, model: model) }
        }
        let classifier = Classifier(program: program, model: model, facts: facts)
        return Classification(names: names, facts: facts,
                              declaredNames: program.declarations.map { $0.declaredName?.name ?? "" },
                              units: classifier.deployedUnits(), classifier: classifier)
    }

    func closure(_ d: Int) -> Closure { classifier.closure(d) }
    func isWorkflow(_ d: Int) -> Bool { classifier.isWorkflow(d) }
    func isPure(_ d: Int) -> Bool { classifier.isPure(d) }
    func isRoute(_ d: Int) -> Bool { classifier.isRoute(d) }
    func stepTargets(_ d: Int) -> [Int] { classifier.stepTargets(d, visited: []) }
    func workflowAsyncCalls(_ d: Int) -> [Int] { classifier.workflowAsyncCalls(d) }
}

/// The classify pass's working state: the facts, and the closures computed so far (asked for
/// again and again by classification and lowering, so each is computed once and shared).
final class Classifier {
    let program: Program
    let model: SemanticModel
    let facts: [BodyFacts?]

    init(program: Program, model: SemanticModel, facts: [BodyFacts?]) {
        self.program = program
        self.model = model
        self.facts = facts
        self.closures = Array(repeating: nil, count: facts.count)
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
    func deployedUnits() -> Units {
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
