// Infer stage: what the plan checks (`PlanChecks`, the pass after inference) need of
// inference's closure over calls, handed over as a value: each route's calls and limited
// operations, which callees are workflows and why, and the async graph.

extension Inference {
    /// The plan checks' input.
    func checkInput() -> PlanCheckInput {
        var input = PlanCheckInput()
        input.unitNames = names.units
        input.keys = names.keys
        input.declaredNames = declaredNames
        input.workflows = units.workflowSet
        for (i, d) in program.declarations.enumerated() {
            if case .service(let s) = d.kind, s.limit != nil || s.rate != nil {
                input.serviceLimitRanges[i] = s.limit?.range ?? s.name.range
            }
        }
        for (i, d) in program.declarations.enumerated() {
            guard let h = d.handler, case .route(let m, let p, _) = h.trigger, let f = facts[i] else { continue }
            var route = PlanCheckInput.Route(method: m.name, path: p, calls: [], limitedOperations: [], parallelCalls: f.parallelCalls)
            var seen: Set<Int> = []
            for call in f.syncCalls where seen.insert(call.value).inserted {
                let callee = call.value
                var c = PlanCheckInput.Call(callee: callee, range: call.range, isWorkflow: isWorkflow(callee))
                if c.isWorkflow {
                    c.workflowReason = workflowReasons(callee).first?.range
                } else {
                    c.limitedOperation = closure(callee).operations.first { isLimitedService($0.value) }
                }
                route.calls.append(c)
            }
            route.limitedOperations = f.operations.filter { isLimitedService($0.value) }
            input.routes.append(route)
        }
        input.asyncEdges = asyncEdges()
        return input
    }

    func isLimitedService(_ op: OperationUse) -> Bool {
        guard op.kind == .service, case .service(let s) = program.declarations[op.declaration].kind else { return false }
        return s.limit != nil || s.rate != nil
    }

    func asyncEdges() -> [AsyncEdge] {
        var edges: [AsyncEdge] = []
        let deployed = units.functions + units.workflows + Array(units.taskFns)
        var subscribers: [Int: [Int]] = [:]
        for (h, topic) in model.subscriptions.sorted(by: { $0.key < $1.key }) { subscribers[topic, default: []].append(h) }
        for u in Set(deployed).sorted() {
            let wf = units.workflowSet.contains(u)
            let c = closure(u)
            let asyncs = wf ? (facts[u]?.asyncCalls ?? []) : c.asyncCalls
            for a in asyncs {
                edges.append(AsyncEdge(from: u, to: a.value, range: a.range, conditional: a.conditional, why: .async))
            }
            let ops = wf ? (facts[u]?.operations ?? []) : c.operations
            for op in ops where op.value.kind == .topic && op.value.operation == .publish {
                for s in subscribers[op.value.declaration] ?? [] {
                    edges.append(AsyncEdge(from: u, to: s, range: op.range, conditional: op.conditional,
                                           why: .publish(topic: op.value.declaration)))
                }
            }
            if wf {
                for call in facts[u]?.syncCalls ?? [] where units.taskFns.contains(call.value) || units.workflowSet.contains(call.value) {
                    edges.append(AsyncEdge(from: u, to: call.value, range: call.range, conditional: call.conditional, why: .step))
                }
            }
        }
        return edges
    }
}
