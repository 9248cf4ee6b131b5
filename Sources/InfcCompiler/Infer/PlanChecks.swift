// Infer stage: the checks that need the plan (SPEC §5) — async cycles through queues,
// workflow starts and topics; routes that would become workflows or synchronously use a
// limited service. (The budget is its own pass: BudgetCheck.)

extension Inference {
    /// An edge of the async graph: `from` makes `to` run later, because of `site`.
    struct AsyncEdge {
        var from: Int
        var to: Int
        var range: SourceRange
        var conditional: Bool
        var why: Why

        /// What makes `to` run: written out only for the edges of a reported cycle.
        enum Why {
            case async
            case publish(topic: Int)
            case step
        }
    }

    /// An edge's label in a cycle's diagnostic.
    func label(_ e: AsyncEdge) -> String {
        switch e.why {
        case .async:
            let how = units.workflowSet.contains(e.to) ? "starts workflow" : "sends to the queue of"
            return "\(how) `\(unitName(e.to))`"
        case .publish(let topic): return "publishes to `\(resourceName(topic))`, delivered to \(unitLabel(e.to))"
        case .step: return "runs `\(unitName(e.to))` as a step"
        }
    }

    func checkPlan() {
        checkRoutes()
        checkCycles()
    }

    // MARK: Routes

    private func checkRoutes() {
        for (i, d) in program.declarations.enumerated() {
            guard let h = d.handler, case .route(let m, let p, _) = h.trigger, let f = facts[i] else { continue }
            var reported: Set<Int> = []
            for call in f.syncCalls where reported.insert(call.value).inserted {
                let callee = call.value
                let calleeName = unitName(callee)
                if isWorkflow(callee) {
                    let why = workflowReasons(callee).first
                    diagnostics.append(Diagnostic(.workflowInRoute,
                        "route \(m.name) \(p) calls `\(calleeName)` synchronously, but `\(calleeName)` is a workflow",
                        at: Label(call.range, "the route would wait for the whole workflow"),
                        secondary: why.map { [Label($0.range, "this makes `\(calleeName)` a workflow")] } ?? [],
                        notes: ["a route must answer within \(PlatformLimits.routeTimeoutSeconds) seconds; a workflow can run for days"],
                        help: "start it in the background with `async \(file.text(call.range))` and answer with 202",
                        fixIts: [FixIt("start it with `async`", [TextEdit(SourceRange(call.range.start, call.range.start), "async ")])]))
                    continue
                }
                for op in closure(callee).operations where isLimitedService(op.value) {
                    diagnostics.append(Diagnostic(.routeUsesLimitedService,
                        "route \(m.name) \(p) calls limited service `\(resourceName(op.value.declaration))` synchronously through `\(calleeName)`",
                        at: Label(call.range), secondary: [Label(op.range, "the limited call")],
                        notes: ["bursts of requests will be throttled by the service's limit or rate"],
                        help: "start `\(calleeName)` with `async` so requests queue instead of failing",
                        fixIts: [FixIt("start it with `async`", [TextEdit(SourceRange(call.range.start, call.range.start), "async ")])]))
                    break
                }
            }
            for op in f.operations where isLimitedService(op.value) {
                diagnostics.append(Diagnostic(.routeUsesLimitedService,
                    "route \(m.name) \(p) calls limited service `\(resourceName(op.value.declaration))` synchronously",
                    at: Label(op.range), secondary: [Label(serviceLimitRange(resourceName(op.value.declaration)), "limited here")],
                    notes: ["bursts of requests will be throttled by the service's limit or rate"],
                    help: "move the call into a fn and start it with `async`, answering 202"))
            }
            for par in f.parallelCalls {
                diagnostics.append(Diagnostic(.workflowInRoute, "a route cannot run fns in `parallel`", at: Label(par),
                    notes: ["`parallel` over fn calls makes a workflow, and a route must answer within \(PlatformLimits.routeTimeoutSeconds) seconds"],
                    help: "move the parallel work into a fn and start it with `async`"))
            }
        }
    }

    func isLimitedService(_ op: OperationUse) -> Bool {
        guard op.kind == .service, case .service(let s) = program.declarations[op.declaration].kind else { return false }
        return s.limit != nil || s.rate != nil
    }

    // MARK: Async cycles

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

    private func checkCycles() {
        let edges = asyncEdges()
        var reportedNodes: Set<Int> = []
        // Unconditional cycles first (errors), then the rest (warnings).
        for unconditionalOnly in [true, false] {
            let usable = edges.filter { !unconditionalOnly || !$0.conditional }
            for scc in Inference.stronglyConnected(usable) {
                guard !scc.contains(where: reportedNodes.contains), let cycle = Inference.cycle(in: scc, edges: usable) else { continue }
                reportedNodes.formUnion(scc)
                let names = cycle.map { unitName($0.from) } + [unitName(cycle[0].from)]
                let first = cycle[0]
                diagnostics.append(Diagnostic(unconditionalOnly ? .asyncCycle : .possibleAsyncCycle,
                    unconditionalOnly
                        ? "async cycle: \(names.joined(separator: " → ")) runs forever"
                        : "possible async cycle: \(names.joined(separator: " → "))",
                    at: Label(first.range, label(first)),
                    secondary: cycle.dropFirst().map { Label($0.range, label($0)) },
                    notes: [unconditionalOnly
                        ? "every step of the cycle is unconditional: each message makes another, an infinite loop that bills forever"
                        : "a condition may break the cycle; make sure it always ends"],
                    help: unconditionalOnly
                        ? "break the cycle: guard one of the steps with a condition that ends it, or call the work synchronously"
                        : "if the cycle is intended, bound it (for example with a counter carried in the message)"))
            }
        }
    }

    /// Tarjan's strongly connected components (iterative), keeping those that contain a cycle.
    /// Nodes are declaration indices, so the tables are arrays indexed by node.
    static func stronglyConnected(_ edges: [AsyncEdge]) -> [[Int]] {
        guard let top = edges.lazy.map({ max($0.from, $0.to) }).max() else { return [] }
        let size = top + 1
        var adjacency = [[Int]](repeating: [], count: size)
        var present = [Bool](repeating: false, count: size)
        for e in edges {
            adjacency[e.from].append(e.to)
            present[e.from] = true
            present[e.to] = true
        }
        var index = 0
        var indices = [Int](repeating: -1, count: size), low = [Int](repeating: 0, count: size)
        var onStack = [Bool](repeating: false, count: size), stack: [Int] = []
        var result: [[Int]] = []
        var work: [(node: Int, next: Int)] = []
        for start in 0..<size where present[start] && indices[start] < 0 {
            work.append((start, 0))
            indices[start] = index; low[start] = index; index += 1
            stack.append(start); onStack[start] = true
            while var frame = work.popLast() {
                if frame.next < adjacency[frame.node].count {
                    let w = adjacency[frame.node][frame.next]
                    frame.next += 1
                    work.append(frame)
                    if indices[w] < 0 {
                        indices[w] = index; low[w] = index; index += 1
                        stack.append(w); onStack[w] = true
                        work.append((w, 0))
                    } else if onStack[w] {
                        low[frame.node] = min(low[frame.node], indices[w])
                    }
                    continue
                }
                if let parent = work.last { low[parent.node] = min(low[parent.node], low[frame.node]) }
                if low[frame.node] == indices[frame.node] {
                    var component: [Int] = []
                    while let w = stack.popLast() {
                        onStack[w] = false
                        component.append(w)
                        if w == frame.node { break }
                    }
                    let selfLoop = component.count == 1 && adjacency[component[0]].contains(component[0])
                    if component.count > 1 || selfLoop { result.append(component.sorted()) }
                }
            }
        }
        return result.sorted { $0[0] < $1[0] }
    }

    /// A shortest cycle through the smallest node of `scc`, as its edges.
    static func cycle(in scc: [Int], edges: [AsyncEdge]) -> [AsyncEdge]? {
        let members = Set(scc)
        let start = scc[0]
        var previous: [Int: AsyncEdge] = [:]
        var frontier = [start]
        var seen: Set<Int> = []
        while !frontier.isEmpty {
            var next: [Int] = []
            for n in frontier {
                for e in edges where e.from == n && members.contains(e.to) {
                    if e.to == start {
                        var path = [e]
                        var cur = n
                        while cur != start, let p = previous[cur] { path.insert(p, at: 0); cur = p.from }
                        return path
                    }
                    if seen.insert(e.to).inserted {
                        previous[e.to] = e
                        next.append(e.to)
                    }
                }
            }
            frontier = next
        }
        return nil
    }
}
