// Emit stage: builds the architecture graph from the plan. Data edges come from permissions
// only: exactly one edge per (function or workflow, resource), labelled with all its actions.

public enum GraphBuilder {
    public static func build(_ c: Compilation) -> Graph { build(c, stateMachines: nil) }

    /// The graph with each workflow drawn as the state machine the AWS target emits
    /// (`infc graph --target aws`): its Amazon States Language states and transitions.
    public static func buildAWS(_ c: Compilation) -> Graph {
        let out = CloudFormationEmitter.emit(c.plan)
        return build(c, stateMachines: Dictionary(out.stateMachines.map { ($0.workflow, $0.definition) }, uniquingKeysWith: { a, _ in a }))
    }

    static func build(_ c: Compilation, stateMachines: [WorkflowID: JSON]?) -> Graph {
        var b = Builder(c: c)
        b.stateMachines = stateMachines
        b.run()
        return Graph(app: c.plan.app, budgetTotal: c.plan.budget.total, budgetCap: c.plan.budget.cap,
                     nodes: b.nodes.values.sorted { $0.id < $1.id },
                     edges: Array(Set(b.edges)).sorted(),
                     clusters: b.clusters)
    }

    static func id(_ kind: Permission.ResourceType, _ name: String) -> String {
        switch kind {
        case .function: return "fn:" + name
        case .workflow: return "wf:" + name
        default: return kind.rawValue + ":" + name
        }
    }

    static let dataTypes: Set<Permission.ResourceType> = [.table, .bucket, .topic, .secret, .service]
}

private struct Builder {
    let c: Compilation
    var nodes: [String: GraphNode] = [:]
    var edges: [GraphEdge] = []
    var clusters: [GraphCluster] = []
    /// When drawing the AWS target: each workflow's state machine definition.
    var stateMachines: [WorkflowID: JSON]?

    init(c: Compilation) { self.c = c }

    func span(_ r: SourceRange?) -> GraphSpan? {
        guard let r else { return nil }
        return GraphSpan(start: c.file.location(of: r.start), end: c.file.location(of: r.end))
    }

    func handlerRange(_ d: Int) -> SourceRange? { c.plan.handler(d)?.headerRange }

    /// The declaration of a resource or service by name.
    func declarationRange(_ name: ResourceID) -> SourceRange? { c.plan.resource(named: name)?.range }

    mutating func add(_ id: String, _ kind: GraphNode.Kind, name: String, label: String,
                      attributes: [String: String] = [:], range: SourceRange? = nil) {
        nodes[id] = GraphNode(id: id, kind: kind, name: name, label: label, attributes: attributes, span: span(range))
    }

    mutating func edge(_ from: String, _ to: String, _ kind: GraphEdge.Kind, _ label: String = "") {
        edges.append(GraphEdge(from: from, to: to, kind: kind, label: label))
    }

    static func duration(_ ms: Int64) -> String { Explainer.duration(ms) }

    mutating func run() {
        let plan = c.plan
        if !plan.routes.isEmpty {
            add("api:http", .api, name: "http", label: "HTTP API", attributes: ["routes": String(plan.routes.count)])
        }
        for r in plan.routes {
            let id = "route:\(r.method) \(r.path)"
            add(id, .route, name: "\(r.method) \(r.path)", label: "\(r.method) \(r.path)",
                attributes: ["method": r.method, "path": r.path], range: handlerRange(r.handler))
            edge("api:http", id, .serves)
        }
        for f in plan.functions { addFunction(f) }
        for q in plan.queues {
            add(Self.id(.queue(q.name)), .queue, name: q.name.text,
                label: "\(q.name)\nmax receives \(q.maxReceiveCount) · visibility \(Self.duration(q.visibilityTimeoutMs))",
                attributes: ["maxReceiveCount": String(q.maxReceiveCount), "backoffMs": String(q.backoffMs),
                             "visibilityTimeoutMs": String(q.visibilityTimeoutMs), "deadLetterQueue": q.deadLetterQueue.text],
                range: q.reasons.first?.range)
            add(Self.id(.deadLetterQueue(q.deadLetterQueue)), .dlq, name: q.deadLetterQueue.text, label: "\(q.deadLetterQueue)\ndead letters",
                attributes: ["queue": q.name.text], range: q.reasons.first?.range)
        }
        for t in plan.topics {
            add(Self.id(.topic(t)), .topic, name: t.text, label: t.text, range: declarationRange(t))
        }
        for s in plan.schedules {
            let text: String
            var attributes: [String: String] = [:]
            switch s.expression {
            case .rate(let ms): text = "every \(Self.duration(ms))"; attributes["rateMs"] = String(ms)
            case .cron(let expr): text = "cron \(expr)"; attributes["cron"] = expr
            }
            add(Self.id(.schedule(s.name)), .schedule, name: s.name.text, label: "\(s.name)\n\(text)",
                attributes: attributes, range: handlerRange(s.handler))
        }
        for w in plan.workflows.sorted(by: { $0.name < $1.name }) { addWorkflow(w) }
        for t in plan.tables { add(GraphBuilder.id(.table, t.text), .table, name: t.text, label: t.text, range: declarationRange(t)) }
        for b in plan.buckets { add(GraphBuilder.id(.bucket, b.text), .bucket, name: b.text, label: b.text, range: declarationRange(b)) }
        for s in plan.secrets { add(GraphBuilder.id(.secret, s.text), .secret, name: s.text, label: s.text, range: declarationRange(s)) }
        for s in plan.services {
            var facts: [String] = []
            var attributes = ["url": s.url]
            if let l = s.limit { facts.append("limit \(l)"); attributes["limit"] = String(l) }
            if let r = s.rateText ?? s.ratePerSecond.map({ "\(JSON.format(number: $0))/s" }) {
                facts.append("rate \(r)"); attributes["rate"] = r
            }
            add(GraphBuilder.id(.service, s.name.text), .service, name: s.name.text,
                label: ([s.name.text] + (facts.isEmpty ? [] : [facts.joined(separator: " · ")])).joined(separator: "\n"),
                attributes: attributes, range: declarationRange(s.name))
        }
        // Triggers, sends, starts, invokes, dead letters and data access: the plan's edges.
        for e in plan.edges {
            let (from, to) = (Self.id(e.from), Self.id(e.to))
            switch e.kind {
            case .trigger: edge(from, to, .trigger)
            case .send: edge(from, to, .send, "async")
            case .start: edge(from, to, .start, "start")
            case .invoke: edge(from, to, .invoke, "invoke")
            case .access: edge(from, to, .data, e.actions.map(\.rawValue).joined(separator: ", "))
            case .deadLetter:
                guard case .queue(let q) = e.from, let queue = plan.queue(named: q) else { continue }
                edge(from, to, .deadLetter, "after \(queue.maxReceiveCount) receives")
            }
        }
    }

    /// The graph node id of an edge's endpoint.
    static func id(_ node: PlanNode) -> String {
        switch node {
        case .route(let m, let p): return "route:\(m) \(p)"
        case .function(let n): return "fn:" + n.text
        case .workflow(let n): return "wf:" + n.text
        case .queue(let n): return "queue:" + n.text
        case .deadLetterQueue(let n): return "dlq:" + n.text
        case .topic(let n): return "topic:" + n.text
        case .schedule(let n): return "schedule:" + n.text
        case .resource(let type, let name): return GraphBuilder.id(type, name.text)
        }
    }

    mutating func addFunction(_ f: PlanFunction) {
        var facts: [String] = []
        var attributes = ["timeoutMs": String(f.timeoutMs), "retries": String(f.retries)]
        if let l = f.limit { facts.append("limit \(l)"); attributes["limit"] = String(l) }
        if f.retries > 0 { facts.append("retry \(f.retries)") }
        facts.append("timeout \(Self.duration(f.timeoutMs))")
        if let s = f.serviceCall { attributes["serviceCall"] = s.text }
        add(Self.id(.function(f.name)), .function, name: f.name.text, label: "\(f.name)\n" + facts.joined(separator: " · "),
            attributes: attributes, range: f.range)
    }

    mutating func addWorkflow(_ w: PlanWorkflow) {
        let id = Self.id(.workflow(w.name))
        var facts = ["workflow", "retry \(w.retries)"]
        var attributes = ["retries": String(w.retries), "backoffMs": String(w.backoffMs)]
        if let t = w.timeoutMs { facts.append("timeout \(Self.duration(t))"); attributes["timeoutMs"] = String(t) }
        add(id, .workflow, name: w.name.text, label: "\(w.name)\n" + facts.joined(separator: " · "),
            attributes: attributes, range: w.range)
        var used: Set<String> = []
        let cluster = "cluster:" + w.name.text
        clusters.append(GraphCluster(id: cluster, label: "workflow \(w.name)", nodes: [id], parent: nil))
        let index = clusters.count - 1
        if let machine = stateMachines?[w.name] {
            let (members, first) = addMachine(machine, workflow: w.name, cluster: cluster)
            clusters[index].nodes += members
            if let first { edge(id, first, .step) }
            return
        }
        let (members, first, _) = addStates(w.states, workflow: w.name, cluster: cluster, used: &used)
        clusters[index].nodes += members
        if let first { edge(id, first, .step) }
    }

    /// Adds the states of one scope of a state machine (its branches and map bodies as
    /// sub-clusters) with their transitions; returns the ids placed in `cluster` and StartAt's.
    mutating func addMachine(_ machine: JSON, workflow: WorkflowID, cluster: String) -> ([String], String?) {
        guard let states = machine["States"]?.objectValue else { return ([], nil) }
        func sid(_ name: String) -> String { "state:\(workflow)/\(name)" }
        var members: [String] = []
        for (name, s) in states {
            let type = s["Type"]?.stringValue ?? "?"
            var detail = ""
            if let r = s["Resource"]?.stringValue {
                detail = r.hasPrefix("arn:aws:states:::") ? String(r.dropFirst("arn:aws:states:::".count))
                    : "lambda " + String(r.dropFirst(r.hasPrefix("${") ? 2 : 0).dropLast(r.hasSuffix("Arn}") ? 4 : 0))
            } else if let secs = s["Seconds"] {
                detail = "\(secs.serialized()) s"
            } else if s["SecondsPath"] != nil {
                detail = "computed"
            }
            let label = detail.isEmpty ? "\(type) \(name)" : "\(type) \(name)\n\(detail)"
            var attributes = ["stateKind": "asl-" + type.lowercased()]
            if let r = s["Resource"]?.stringValue { attributes["resource"] = r }
            add(sid(name), .state, name: name, label: label, attributes: attributes)
            members.append(sid(name))
            for c in s["Choices"]?.arrayValue ?? [] { if let n = c["Next"]?.stringValue { edge(sid(name), sid(n), .step, "rule") } }
            if let d = s["Default"]?.stringValue { edge(sid(name), sid(d), .step, "default") }
            if let n = s["Next"]?.stringValue { edge(sid(name), sid(n), .step) }
            for c in s["Catch"]?.arrayValue ?? [] {
                if let n = c["Next"]?.stringValue {
                    let errors = (c["ErrorEquals"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")
                    edge(sid(name), sid(n), .step, "catch " + errors)
                }
            }
            var scopes: [(String, JSON)] = []
            for (i, b) in (s["Branches"]?.arrayValue ?? []).enumerated() { scopes.append(("branch \(i + 1)", b)) }
            if let p = s["ItemProcessor"] { scopes.append(("each item", p)) }
            for (label, scope) in scopes {
                let sub = "cluster:\(workflow)/\(name)/\(label)"
                clusters.append(GraphCluster(id: sub, label: "\(name): \(label)", nodes: [], parent: cluster))
                let index = clusters.count - 1
                let (inner, first) = addMachine(scope, workflow: workflow, cluster: sub)
                clusters[index].nodes += inner
                if let first { edge(sid(name), first, .step, label) }
            }
        }
        return (members, machine["StartAt"]?.stringValue.map(sid))
    }

    /// Adds a sequence of states with step edges between them; returns the ids placed directly
    /// in `cluster`, the first state's id and the last one's.
    mutating func addStates(_ states: [WorkflowState], workflow: WorkflowID, cluster: String,
                            used: inout Set<String>) -> ([String], String?, String?) {
        var members: [String] = []
        var previous: String?
        var first: String?
        for s in states {
            // Plain computation is no step: the graph shows steps.
            if !s.isStep { continue }
            var base = s.name.isEmpty ? "step" : s.name
            if used.contains(base) {
                var n = 2
                while used.contains("\(base)_\(n)") { n += 1 }
                base = "\(base)_\(n)"
            }
            used.insert(base)
            let id = "state:\(workflow)/\(base)"
            let (label, kind) = describe(s.kind)
            add(id, .state, name: base, label: label, attributes: ["stateKind": kind], range: s.range)
            members.append(id)
            if let previous { edge(previous, id, .step) }
            first = first ?? id
            previous = id
            let branches: [(String, [WorkflowState])]
            switch s.kind {
            case .choice(let t, let e): branches = [("then", t), ("else", e)]
            case .parallel(let bs): branches = bs.enumerated().map { ("branch \($0.offset + 1)", $0.element) }
            case .map(let body): branches = [("each", body)]
            case .loop(let body): branches = [("while", body)]
            case .tryCatch(let body, let handler): branches = [("try", body), ("catch", handler)]
            default: branches = []
            }
            let nonEmpty = branches.filter { $0.1.contains { $0.isStep } }
            guard !nonEmpty.isEmpty else { continue }
            let sub = "cluster:\(workflow)/\(base)"
            clusters.append(GraphCluster(id: sub, label: label, nodes: [], parent: cluster))
            let index = clusters.count - 1
            for (name, list) in nonEmpty {
                let (inner, head, _) = addStates(list, workflow: workflow, cluster: sub, used: &used)
                clusters[index].nodes += inner
                if let head { edge(id, head, .step, name) }
            }
        }
        return (members, first, previous)
    }

    func describe(_ k: WorkflowState.Kind) -> (label: String, kind: String) {
        switch k {
        case .task(let fn, _): return ("task \(fn)", "task")
        case .childWorkflow(let w): return ("workflow \(w)", "child-workflow")
        case .integration(let r, let kind, let op): return ("\(op.action(on: kind).rawValue) \(r)", "integration")
        case .serviceCall(let s, _): return ("call \(s)", "service-call")
        case .wait(let ms): return ("wait \(ms.map(Self.duration) ?? "(computed)")", "wait")
        case .choice: return ("choice", "choice")
        case .parallel: return ("parallel", "parallel")
        case .map: return ("map", "map")
        case .loop: return ("loop", "loop")
        case .tryCatch: return ("try", "try")
        case .send(let q): return ("send \(q)", "send")
        case .start(let w): return ("start \(w)", "start")
        case .succeed: return ("succeed", "succeed")
        case .fail: return ("fail", "fail")
        case .compute: return ("compute", "compute")
        }
    }
}
