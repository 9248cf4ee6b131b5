// Infer stage: check — the checks that need the plan (SPEC §5): async cycles through queues,
// workflow starts and topics; routes that would become workflows or synchronously use a
// limited service. A pass of its own, listed in `Compilation` after inference: a function of
// `PlanCheckInput` (what the checks need of inference's closure over calls, as values) and the
// source file.

/// An edge of the async graph: `from` makes `to` run later, because of the code at `range`.
/// Nodes are declaration indices.
public struct AsyncEdge: Sendable {
    var from: Int
    var to: Int
    var range: SourceRange
    var conditional: Bool
    var why: Why

    /// What makes `to` run: written out only for the edges of a reported cycle.
    enum Why: Sendable {
        case async
        case publish(topic: Int)
        case step
    }
}

/// What the plan checks need of inference, as values: each route's calls and operations (with
/// what each callee's code reaches), the async graph, and the names to write messages with.
public struct PlanCheckInput: Sendable {
    struct Route: Sendable {
        var method: String
        var path: String
        var calls: [Call]
        /// The route's own operations on services with a limit or rate.
        var limitedOperations: [Site<OperationUse>]
        var parallelCalls: [SourceRange]
    }

    /// A synchronous call of a route, once per callee.
    struct Call: Sendable {
        var callee: Int
        var range: SourceRange
        var isWorkflow: Bool
        /// For a workflow: the range of the first reason it is one.
        var workflowReason: SourceRange?
        /// The first operation on a limited service the callee's code reaches.
        var limitedOperation: Site<OperationUse>?
    }

    var routes: [Route] = []
    var asyncEdges: [AsyncEdge] = []
    /// Unit names, handler keys and declared names, by declaration index.
    var unitNames: [String?] = []
    var keys: [HandlerKey?] = []
    var declaredNames: [String] = []
    /// Declarations that are workflows.
    var workflows: Set<Int> = []
    /// Where each limited service states its limit (or its name), by declaration index.
    var serviceLimitRanges: [Int: SourceRange] = [:]

    func unitName(_ d: Int) -> String {
        if d < unitNames.count, let n = unitNames[d] { return n }
        return "unit_\(d)"
    }
    func resourceName(_ d: Int) -> String { d < declaredNames.count ? declaredNames[d] : "" }
    func unitLabel(_ d: Int) -> String { (d < keys.count ? keys[d]?.text : nil) ?? unitName(d) }
}

public enum PlanChecks {
    /// Every diagnostic of the plan checks, routes first, then cycles.
    public static func run(_ input: PlanCheckInput, file: SourceFile) -> [Diagnostic] {
        checkRoutes(input, file: file) + checkCycles(input)
    }

    // MARK: Routes

    static func checkRoutes(_ input: PlanCheckInput, file: SourceFile) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        for route in input.routes {
            let (m, p) = (route.method, route.path)
            for call in route.calls {
                let calleeName = input.unitName(call.callee)
                if call.isWorkflow {
                    diagnostics.append(Diagnostic(.routeCallsWorkflow(method: m, path: p, callee: calleeName, call: file.text(call.range)),
                        at: Label(call.range, "the route would wait for the whole workflow"),
                        secondary: call.workflowReason.map { [Label($0, "this makes `\(calleeName)` a workflow")] } ?? [],
                        fixIts: [FixIt("start it with `async`", [TextEdit(SourceRange(call.range.start, call.range.start), "async ")])]))
                    continue
                }
                if let op = call.limitedOperation {
                    diagnostics.append(Diagnostic(.routeCallsLimitedServiceThrough(method: m, path: p, service: input.resourceName(op.value.declaration),
                                                                                    callee: calleeName),
                        at: Label(call.range), secondary: [Label(op.range, "the limited call")],
                        fixIts: [FixIt("start it with `async`", [TextEdit(SourceRange(call.range.start, call.range.start), "async ")])]))
                }
            }
            for op in route.limitedOperations {
                diagnostics.append(Diagnostic(.routeCallsLimitedService(method: m, path: p, service: input.resourceName(op.value.declaration)),
                    at: Label(op.range), secondary: [Label(input.serviceLimitRanges[op.value.declaration] ?? .zero, "limited here")]))
            }
            for par in route.parallelCalls {
                diagnostics.append(Diagnostic(.parallelInRoute, at: Label(par)))
            }
        }
        return diagnostics
    }

    // MARK: Async cycles

    /// An edge's label in a cycle's diagnostic.
    static func label(_ e: AsyncEdge, _ input: PlanCheckInput) -> String {
        switch e.why {
        case .async:
            let how = input.workflows.contains(e.to) ? "starts workflow" : "sends to the queue of"
            return "\(how) `\(input.unitName(e.to))`"
        case .publish(let topic): return "publishes to `\(input.resourceName(topic))`, delivered to \(input.unitLabel(e.to))"
        case .step: return "runs `\(input.unitName(e.to))` as a step"
        }
    }

    static func checkCycles(_ input: PlanCheckInput) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let edges = input.asyncEdges
        var reportedNodes: Set<Int> = []
        // Unconditional cycles first (errors), then the rest (warnings).
        for unconditionalOnly in [true, false] {
            let usable = edges.filter { !unconditionalOnly || !$0.conditional }
            for scc in stronglyConnected(usable) {
                guard !scc.contains(where: reportedNodes.contains), let cycle = cycle(in: scc, edges: usable) else { continue }
                reportedNodes.formUnion(scc)
                let names = cycle.map { input.unitName($0.from) } + [input.unitName(cycle[0].from)]
                let first = cycle[0]
                diagnostics.append(Diagnostic(unconditionalOnly ? .asyncCycle(names) : .possibleAsyncCycle(names),
                    at: Label(first.range, label(first, input)),
                    secondary: cycle.dropFirst().map { Label($0.range, label($0, input)) }))
            }
        }
        return diagnostics
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
