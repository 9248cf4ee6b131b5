// Emit stage: `infc explain` — the plan in words, handler by handler: what each became and
// why, pointing at the lines that caused each queue, limit, workflow and permission.

public enum Explainer {
    public static func explain(_ c: Compilation) -> String {
        let plan = c.plan
        let file = c.file
        func at(_ r: SourceRange) -> String { file.describe(r) }
        func duration(_ ms: Int64) -> String { Explainer.duration(ms) }
        var out = "\(plan.app): \(count(plan.functions.count, "function")), \(count(plan.queues.count, "queue")), "
            + "\(count(plan.workflows.count, "workflow")); resources \(plan.budget.total) / \(plan.budget.cap)"
            + (plan.grouped ? " (grouped)" : "") + "\n"
        for h in plan.handlers {
            out += "\n\(h.key) (\(at(h.headerRange)))\n"
            switch h.role {
            case .unused:
                out += "  → nothing: it is never called\n"
            case .inlined:
                out += "  → no function of its own: called only synchronously, its code runs inside each caller\n"
            case .function(let name):
                guard let f = plan.function(named: name) else { continue }
                var what = "function \(name)"
                if f.handlers.count > 1 { what += " (shared by \(f.handlers.count) handlers: granularity \"grouped\")" }
                if f.triggers.contains(.workflowTask) {
                    let wfs = plan.workflows.filter { w in w.grants.contains { $0.permission == .invoke(name) } }.map(\.name.text)
                    what += wfs.isEmpty ? "" : " (a task step of workflow \(wfs.joined(separator: ", ")))"
                }
                out += "  → \(what)\n"
                for q in plan.queues where q.consumer == name {
                    let why = q.reasons.map { $0.text(in: file) }.joined(separator: "; ")
                    out += "  queue \(q.name): \(why)\n"
                    out += "    dead-letter queue \(q.deadLetterQueue) after \(q.maxReceiveCount) receives; backoff from \(duration(q.backoffMs)); visibility \(duration(q.visibilityTimeoutMs))\n"
                }
                if let limit = f.limit {
                    out += "  limit \(limit): \(f.limitReasons.map { $0.text(in: file) }.joined(separator: "; "))\n"
                }
                out += "  timeout \(duration(f.timeoutMs))" + (f.retries > 0 ? ", retry \(f.retries)" : "") + "\n"
                out += permissions(f.grants, file)
            case .workflow(let name):
                guard let w = plan.workflow(named: name) else { continue }
                out += "  → workflow \(name): \(w.reasons.map { $0.text(in: file) }.joined(separator: "; "))\n"
                out += "  steps: \(describe(w.states))\n"
                if !w.startedBy.isEmpty { out += "  started by \(w.startedBy.map(\.text).joined(separator: ", ")) (no queue: the workflow service is the durable buffer)\n" }
                out += "  task steps retry per their own fn; service calls: retry \(w.retries), backoff from \(duration(w.backoffMs))\n"
                out += permissions(w.grants, file)
                if let e = w.evaluator {
                    let lines = w.grants.first { $0.permission.function == e.name }?
                        .reasons.map { file.describe($0.range) } ?? []
                    out += "  on AWS, function \(e.name) evaluates what has no Step Functions form (\(lines.joined(separator: ", ")))\n"
                }
            }
        }
        let extra = plan.functions.filter { $0.handlers.isEmpty }
        if !extra.isEmpty {
            out += "\nsupporting functions\n"
            for f in extra {
                if let s = f.serviceCall {
                    out += "  \(f.name): calls \(s) for a workflow, held to \(f.limit.map { "limit \($0)" } ?? "its rate") (\(at(f.range)))\n"
                } else if case .workflowStarter(let w)? = f.triggers.first {
                    out += "  \(f.name): starts workflow \(w) when its topic delivers (a topic cannot start a workflow itself)\n"
                }
            }
        }
        out += "\nbudget: \(plan.budget.total) / \(plan.budget.cap) resources\n"
        for row in plan.budget.byConstruct {
            out += "  \(row.construct.rawValue): \(row.instances) × \(row.construct.resources.count) = \(row.resources)\n"
        }
        return out
    }

    static func permissions(_ grants: [Grant], _ file: SourceFile) -> String {
        guard !grants.isEmpty else { return "  permissions: none\n" }
        var out = "  permissions:\n"
        for g in grants {
            let p = g.permission
            let lines = g.reasons.map { file.describe($0.range) }
            out += "    \(p.action.rawValue) \(p.type.rawValue) \(p.resource) (\(lines.joined(separator: ", ")))\n"
        }
        return out
    }

    static func count(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }

    public static func duration(_ ms: Int64) -> String {
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where ms >= size && ms % size == 0 {
            return "\(ms / size)\(unit)"
        }
        return "\(ms)ms"
    }

    /// A one-line reading of a state list: `wait 1d → read orders → choice (remind)`.
    public static func describe(_ states: [WorkflowState]) -> String {
        let states = states.filter(\.isStep)
        if states.isEmpty { return "(none)" }
        return states.map { s -> String in
            switch s.kind {
            case .task(let fn, _): return "task \(fn)"
            case .childWorkflow(let w): return "workflow \(w)"
            case .integration(let r, let kind, let op): return "\(op.action(on: kind).rawValue) \(r)"
            case .serviceCall(let svc, _): return "call \(svc)"
            case .wait(let ms): return "wait \(ms.map(duration) ?? "(computed)")"
            case .choice(let t, let e): return "choice (\(describe(t))" + (!e.contains(where: \.isStep) ? ")" : " | else \(describe(e)))")
            case .parallel(let b): return "parallel [\(b.map(describe).joined(separator: " ‖ "))]"
            case .map(let b): return "map (\(describe(b)))"
            case .loop(let b): return "loop (\(describe(b)))"
            case .tryCatch(let b, let h): return "try (\(describe(b))) catch (\(describe(h)))"
            case .send(let q): return "send \(q)"
            case .start(let w): return "start \(w)"
            case .succeed: return "succeed"
            case .fail: return "fail"
            case .compute: return "compute"
            }
        }.joined(separator: " → ")
    }
}
