// Infer stage: count — the last pass of the phase script. The plan's resources are counted
// from the one expansion table (`Budget`); over the cap (the app's `max_resources`, or
// `--max-resources`) is E0404, with the breakdown, the largest contributors by source line and
// concrete ways back under. A function of the plan and the app's settings only.

public enum BudgetCheck {
    /// The plan with its budget counted, and the over-budget error when there is one.
    public static func run(_ plan: Plan, app: AppSettings, file: SourceFile,
                           options: CompileOptions) -> (Plan, [Diagnostic]) {
        var plan = plan
        plan.budget = Budget.count(plan)
        plan.budget.cap = options.maxResources ?? app.maxResources
        guard plan.budget.isOver else { return (plan, []) }
        var ranges: [UnitID: (String, SourceRange)] = [:]
        // In declaration order: a grouped unit is labelled by its first handler, in every run.
        for h in plan.handlers {
            let unit: UnitID
            switch h.role {
            case .function(let f): unit = .function(f)
            case .workflow(let w): unit = .workflow(w)
            case .inlined, .unused: continue
            }
            if ranges[unit] == nil {
                ranges[unit] = ("\(h.key.text) (line \(file.location(of: h.headerRange.start).line))", h.headerRange)
            }
        }
        for f in plan.functions where ranges[.function(f.name)] == nil {
            ranges[.function(f.name)] = ("\(f.name) (line \(file.location(of: f.range.start).line))", f.range)
        }
        plan.budget.contributors = Budget.contributors(of: plan, declarationRanges: ranges)
        let b = plan.budget
        let top = b.contributors.prefix(5)
        let candidates = plan.grouped ? [] : plan.groupingCandidates()
        let unused = unusedDeclarations(plan)
        let overrun = DiagnosticMessage.BudgetOverrun(
            total: b.total, cap: b.cap,
            byType: b.byType.map { .init($0.type, $0.count) },
            contributors: top.map { .init($0.label, $0.count) },
            groups: candidates.count, groupExample: candidates.first.map { $0.prefix(3).map(\.text) } ?? [], appName: app.name,
            groupingSaves: candidates.reduce(0) { $0 + ($1.count - 1) * Budget.Construct.function.resources.count },
            unused: unused.map(\.0.text), unusedSaves: unused.reduce(0) { $0 + $1.1 })
        let at = app.maxResourcesRange ?? app.nameRange ?? SourceRange(0, 0)
        let error = Diagnostic(.overBudget(overrun), at: Label(at, "budget \(b.cap)"),
            secondary: top.filter { $0.range != .zero }.map { Label($0.range, "+\($0.count) resources") })
        return (plan, [error])
    }

    /// Declared resources no code uses, with what each costs.
    static func unusedDeclarations(_ plan: Plan) -> [(ResourceID, Int)] {
        var used: Set<ResourceID> = []
        for f in plan.functions { for p in f.permissions { if let r = p.declared { used.insert(r) } } }
        for w in plan.workflows { for p in w.permissions { if let r = p.declared { used.insert(r) } } }
        for s in plan.subscriptions { used.insert(s.topic) }
        var out: [(ResourceID, Int)] = []
        for t in plan.tables where !used.contains(t) { out.append((t, 1)) }
        for t in plan.buckets where !used.contains(t) { out.append((t, 1)) }
        for t in plan.topics where !used.contains(t) { out.append((t, 1)) }
        for t in plan.secrets where !used.contains(t) { out.append((t, 1)) }
        return out
    }
}
