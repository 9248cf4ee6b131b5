// Language server: the inferred plan in words, shared by hover and code lens — what a handler
// became, its queue, limit and where it comes from, its permissions and its share of the budget.
import InfcCompiler

enum PlanText {
    /// The plan unit (function or workflow) a handler declaration became, if any.
    enum Unit {
        case function(PlanFunction)
        case workflow(PlanWorkflow)

        var id: UnitID {
            switch self {
            case .function(let f): return .function(f.name)
            case .workflow(let w): return .workflow(w.name)
            }
        }

        var grants: [Grant] {
            switch self {
            case .function(let f): return f.grants
            case .workflow(let w): return w.grants
            }
        }
    }

    static func unit(_ a: Analysis, _ index: Int) -> Unit? {
        let plan = a.compilation.plan
        switch plan.roles[index] {
        case .function(let name)?: return plan.function(named: name).map(Unit.function)
        case .workflow(let name)?: return plan.workflow(named: name).map(Unit.workflow)
        default: return nil
        }
    }

    /// `write table orders`: the permission as the plan states it.
    static func permission(_ p: Permission) -> String { "\(p.action.rawValue) \(p.type.rawValue) \(p.resource)" }

    /// 1-based line of a byte offset.
    static func line(_ a: Analysis, _ range: SourceRange) -> Int { a.file.location(of: range.start).line }

    /// The resources the budget counts for a unit, by construct, in the order `Budget.count`
    /// counts them (the same attribution as the budget's contributors).
    static func cost(_ plan: Plan, unit: UnitID) -> [(construct: Budget.Construct, resources: Int)] {
        var rows: [(Budget.Construct, Int)] = []
        func add(_ c: Budget.Construct, _ n: Int) {
            guard n > 0 else { return }
            if let i = rows.firstIndex(where: { $0.0 == c }) { rows[i].1 += n * c.resources.count } else { rows.append((c, n * c.resources.count)) }
        }
        add(.route, plan.routes.filter { .function($0.function) == unit }.count)
        add(.function, plan.functions.filter { .function($0.name) == unit }.count)
        add(.queue, plan.queues.filter { .function($0.consumer) == unit }.count)
        for s in plan.subscriptions where s.target == unit { add(s.queue == nil ? .subscription : .queueSubscription, 1) }
        for s in plan.schedules where s.target == unit { add(s.targetIsWorkflow ? .workflowSchedule : .schedule, 1) }
        add(.workflow, plan.workflows.filter { .workflow($0.name) == unit }.count)
        return rows.map { (construct: $0.0, resources: $0.1) }
    }

    /// Where a function's limit comes from: "its own `limit 5` (line 3)", "service `payments` (line 8)".
    static func limitSource(_ a: Analysis, _ f: PlanFunction) -> String? {
        guard let limit = f.limit else { return nil }
        let plan = a.compilation.plan
        var sources: [String] = []
        for d in f.handlers {
            if let own = plan.handler(d)?.attributes.limit, own.value == limit {
                sources.append("its own `limit \(limit)` (line \(line(a, own.range)))")
            }
        }
        for s in plan.services where s.limit != nil && s.users.contains(.function(f.name)) {
            guard let declared = plan.resource(named: s.name), declared.type == .service else { continue }
            if s.limit == limit || f.limitReasons.first?.text(in: a.file).hasPrefix("shares \(s.name)'s") == true {
                sources.append("service `\(s.name)` (line \(line(a, declared.range)))")
            }
        }
        if sources.isEmpty, let first = f.limitReasons.first { sources.append(first.text(in: a.file)) }
        return sources.joined(separator: " and ")
    }

    static func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

    // MARK: Code lens

    /// One line: "function · queue · limit 10 · 4 permissions · 6 resources".
    static func summary(_ a: Analysis, _ index: Int) -> String? {
        let plan = a.compilation.plan
        switch plan.roles[index] {
        case .inlined?: return "no function of its own · runs inside its callers"
        case .unused?: return "never called · nothing deployed"
        case nil: return nil
        case .function(let name)?:
            guard let f = plan.function(named: name) else { return "function" }
            var parts = ["function"]
            if plan.queues.contains(where: { $0.consumer == name }) { parts.append("queue") }
            if let limit = f.limit { parts.append("limit \(limit)") }
            if f.retries > 0 { parts.append("retry \(f.retries)") }
            parts.append(plural(f.grants.count, "permission"))
            parts.append(plural(cost(plan, unit: .function(name)).reduce(0) { $0 + $1.resources }, "resource"))
            return parts.joined(separator: " · ")
        case .workflow(let name)?:
            guard let w = plan.workflow(named: name) else { return "workflow" }
            var parts = ["workflow", plural(w.states.count, "step")]
            if w.retries > 0 { parts.append("retry \(w.retries)") }
            parts.append(plural(w.grants.count, "permission"))
            parts.append(plural(cost(plan, unit: .workflow(name)).reduce(0) { $0 + $1.resources }, "resource"))
            return parts.joined(separator: " · ")
        }
    }
}
