// Infer stage: the plan's edges — who triggers, sends to, starts, invokes and reads or writes
// whom — derived from the plan in one place, for every consumer that draws or wires them (the
// graph, the manifest, the cloud emitters).

/// An endpoint of an edge: a unit, a queue, a trigger source or a declared resource.
public enum PlanNode: Hashable, Sendable {
    case route(method: String, path: String)
    case function(FunctionID)
    case workflow(WorkflowID)
    case queue(QueueID)
    case deadLetterQueue(QueueID)
    case topic(ResourceID)
    case schedule(ScheduleID)
    /// A table, bucket, topic, secret or service reached by an operation.
    case resource(type: Permission.ResourceType, name: ResourceID)

    /// The node of a function or workflow.
    public static func unit(_ unit: UnitID) -> PlanNode {
        switch unit {
        case .function(let f): return .function(f)
        case .workflow(let w): return .workflow(w)
        }
    }
}

/// One edge of the plan.
public struct PlanEdge: Hashable, Sendable {
    public enum Kind: String, Sendable {
        /// Route → function, queue → consumer, topic → subscriber or its queue, schedule → target.
        case trigger
        /// `async` on a fn: a message to its queue.
        case send
        /// A workflow start.
        case start
        /// A workflow invokes its task function.
        case invoke
        /// Data access on a declared resource, with the actions.
        case access
        /// A queue's failed messages go to its dead-letter queue.
        case deadLetter = "dead-letter"
    }

    public var from: PlanNode
    public var to: PlanNode
    public var kind: Kind
    /// For `access`: the actions, each once, in `Action` order.
    public var actions: [Action]
}

extension Plan {
    /// Every edge of the plan, in a deterministic order: routes, queues, subscriptions,
    /// schedules, then each function's and workflow's grants.
    public var edges: [PlanEdge] {
        var out: [PlanEdge] = []
        func add(_ from: PlanNode, _ to: PlanNode, _ kind: PlanEdge.Kind, _ actions: [Action] = []) {
            out.append(PlanEdge(from: from, to: to, kind: kind, actions: actions))
        }
        for r in routes { add(.route(method: r.method, path: r.path), .function(r.function), .trigger) }
        for q in queues {
            add(.queue(q.name), .function(q.consumer), .trigger)
            add(.queue(q.name), .deadLetterQueue(q.deadLetterQueue), .deadLetter)
            if case .topic(let t) = q.source { add(.topic(t), .queue(q.name), .trigger) }
        }
        for s in subscriptions where s.queue == nil {
            add(.topic(s.topic), .unit(s.target), .trigger)
        }
        for s in schedules {
            add(.schedule(s.name), .unit(s.target), .trigger)
        }
        func grants(_ unit: PlanNode, _ permissions: [Permission]) {
            var data: [(PlanNode, [Action])] = []
            for p in permissions {
                if let q = p.queue, p.action == .send { add(unit, .queue(q), .send) }
                else if let w = p.workflow, p.action == .start { add(unit, .workflow(w), .start) }
                else if let f = p.function, p.action == .invoke { add(unit, .function(f), .invoke) }
                else if let r = p.declared {
                    let node = PlanNode.resource(type: p.type, name: r)
                    if let i = data.firstIndex(where: { $0.0 == node }) { data[i].1.append(p.action) } else { data.append((node, [p.action])) }
                }
            }
            for (node, actions) in data { add(unit, node, .access, Set(actions).sorted()) }
        }
        for f in functions { grants(.function(f.name), f.permissions) }
        // A workflow's evaluator is a supporting resource of the AWS target, no unit of the plan.
        for w in workflows { grants(.workflow(w.name), w.permissions.filter { $0.function == nil || $0.function != w.evaluator?.name }) }
        return out
    }
}
