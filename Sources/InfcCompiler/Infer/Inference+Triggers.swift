// Infer stage: what triggers each unit — routes, topic subscriptions (with a queue in front of
// a limited subscriber), schedules, workflow starts — and `granularity: "grouped"`, which
// lets handlers with identical permissions and limits share one function.

extension Inference {
    func buildTriggers() {
        plan.reindex()
        for (i, d) in program.declarations.enumerated() {
            guard let h = d.handler else { continue }
            let name = unitName(i)
            let isWF = units.workflowSet.contains(i)
            switch h.trigger {
            case .route(let m, let p, _):
                plan.routes.append(PlanRoute(method: m.name, path: p, function: FunctionID(name), handler: i))
            case .on(let t):
                guard model.subscriptions[i] != nil else { continue }
                let topic = ResourceID(t.name)
                if isWF {
                    // A topic cannot start a workflow itself: a small function does it.
                    let workflow = WorkflowID(name)
                    let starter = Names.workflowStarter(of: workflow)
                    plan.functions.append(PlanFunction(
                        name: starter, handlers: [], triggers: [.workflowStarter(workflow)], limit: nil, limitReasons: [],
                        timeoutMs: PlatformLimits.defaultTimeoutMs, retries: PlatformLimits.defaultRetries, backoffMs: PlatformLimits.defaultBackoffMs,
                        grants: [Grant(permission: .start(workflow),
                                       reasons: [Reason("`on \(t.name)` starts workflow \(name) at \(at: h.headerRange)", h.headerRange)])],
                        range: h.headerRange, serviceCall: nil))
                    plan.subscriptions.append(PlanSubscription(topic: topic, target: .function(starter), queue: nil, handler: i))
                    continue
                }
                let function = FunctionID(name)
                var queue: QueueID?
                if let fi = plan.position(ofFunction: function), let limit = plan.functions[fi].limit {
                    let f = plan.functions[fi]
                    let q = Names.queue(of: function)
                    queue = q
                    plan.functions[fi].triggers = [.queue(q)]
                    plan.queues.append(PlanQueue(
                        name: q, deadLetterQueue: Names.deadLetterQueue(of: function), consumer: function, source: .topic(topic),
                        maxReceiveCount: f.retries + 1, backoffMs: f.backoffMs, visibilityTimeoutMs: PlatformLimits.visibilityTimeoutFactor * f.timeoutMs,
                        reasons: [Reason("`on \(t.name)` has limit \(limit): bursts wait in a queue instead of failing", h.headerRange)]))
                }
                plan.subscriptions.append(PlanSubscription(topic: topic, target: .function(function), queue: queue, handler: i))
            case .every(let schedule):
                let expression: PlanSchedule.ScheduleExpression
                switch schedule {
                case .interval(let ms, _): expression = .rate(milliseconds: ms)
                case .cron(let c, _): expression = .cron(c)
                }
                plan.schedules.append(PlanSchedule(name: Names.schedule(of: name), expression: expression,
                                                   target: isWF ? .workflow(WorkflowID(name)) : .function(FunctionID(name)), handler: i))
            case .fn:
                break
            }
        }
        // Who starts each workflow, in one pass over the starters.
        // Keyed by the workflow's name text: see `allocateLimits` (a new key type's first
        // dictionary costs a conformance lookup on every `check`).
        var starters: [String: [WorkflowStarter]] = [:]
        for f in plan.functions {
            for g in f.grants where g.permission.action == .start {
                if let w = g.permission.workflow { starters[w.text, default: []].append(.function(f.name)) }
            }
        }
        for w in plan.workflows {
            for g in w.grants where g.permission.action == .start {
                if let started = g.permission.workflow { starters[started.text, default: []].append(.workflow(w.name)) }
            }
        }
        for s in plan.schedules { if let w = s.target.workflow { starters[w.text, default: []].append(.schedule(s.name)) } }
        for wi in plan.workflows.indices {
            plan.workflows[wi].startedBy = (starters[plan.workflows[wi].name.text] ?? []).sorted()
        }
    }

    // MARK: Grouping

    func groupFunctions() {
        plan.grouped = true
        var rename: [FunctionID: FunctionID] = [:]
        for (k, members) in plan.groupingCandidates().enumerated() {
            let groupName = Names.group(k)
            var merged: PlanFunction?
            for m in members {
                guard let f = plan.function(named: m) else { continue }
                rename[m] = groupName
                if merged == nil {
                    merged = f
                    merged!.name = groupName
                } else {
                    merged!.handlers += f.handlers
                    merged!.triggers += f.triggers
                    for g in f.grants {
                        if let gi = merged!.grants.firstIndex(where: { $0.permission == g.permission }) {
                            merged!.grants[gi].reasons += g.reasons
                        }
                    }
                }
            }
            plan.functions.removeAll { members.contains($0.name) }
            if let merged { plan.functions.append(merged) }
        }
        guard !rename.isEmpty else { return }
        func r(_ n: FunctionID) -> FunctionID { rename[n] ?? n }
        func unit(_ u: UnitID) -> UnitID { u.function.map { .function(r($0)) } ?? u }
        func starter(_ s: WorkflowStarter) -> WorkflowStarter {
            if case .function(let f) = s { return .function(r(f)) }
            return s
        }
        for i in plan.queues.indices { plan.queues[i].consumer = r(plan.queues[i].consumer) }
        for i in plan.routes.indices { plan.routes[i].function = r(plan.routes[i].function) }
        for i in plan.subscriptions.indices { plan.subscriptions[i].target = unit(plan.subscriptions[i].target) }
        for i in plan.schedules.indices { plan.schedules[i].target = unit(plan.schedules[i].target) }
        for i in plan.services.indices { plan.services[i].users = Array(Set(plan.services[i].users.map(unit))).sorted() }
        for (d, role) in plan.roles { if case .function(let n) = role { plan.roles[d] = .function(r(n)) } }
        for i in plan.workflows.indices {
            plan.workflows[i].states = plan.workflows[i].states.map { renameTasks($0, r) }
            plan.workflows[i].startedBy = Array(Set(plan.workflows[i].startedBy.map(starter))).sorted()
            plan.workflows[i].grants = plan.workflows[i].grants.map { g in
                var g = g
                g.permission = g.permission.renamingFunction(r)
                return g
            }
        }
    }

    private func renameTasks(_ s: WorkflowState, _ r: (FunctionID) -> FunctionID) -> WorkflowState {
        var s = s
        func all(_ list: [WorkflowState]) -> [WorkflowState] { list.map { renameTasks($0, r) } }
        switch s.kind {
        case .task(let fn, let function): s.kind = .task(fn: fn, function: r(function))
        case .choice(let t, let o): s.kind = .choice(then: all(t), otherwise: all(o))
        case .parallel(let b): s.kind = .parallel(branches: b.map(all))
        case .map(let b): s.kind = .map(body: all(b))
        case .loop(let b): s.kind = .loop(body: all(b))
        case .tryCatch(let b, let h): s.kind = .tryCatch(body: all(b), handler: all(h))
        default: break
        }
        return s
    }

    /// Names the local runtime's delivery queues — one per subscriber without a queue, one per
    /// schedule — with the retries and visibility of the unit they deliver to (after grouping,
    /// which renames targets).
    func nameDeliveries() {
        func delivery(_ queue: QueueID, toFunction name: FunctionID) -> PlanDelivery? {
            guard let f = plan.function(named: name) else { return nil }
            return PlanDelivery(queue: queue, maxReceiveCount: f.retries + 1, backoffMs: f.backoffMs,
                                visibilityTimeoutMs: PlatformLimits.visibilityTimeoutFactor * f.timeoutMs)
        }
        for i in plan.subscriptions.indices where plan.subscriptions[i].queue == nil {
            guard let target = plan.subscriptions[i].target.function else { continue }
            plan.subscriptions[i].delivery = delivery(Names.deliveryQueue(of: target), toFunction: target)
        }
        for i in plan.schedules.indices {
            let s = plan.schedules[i]
            switch s.target {
            case .workflow(let workflow):
                let w = plan.workflow(named: workflow)
                plan.schedules[i].delivery = PlanDelivery(
                    queue: QueueID(s.name.text), maxReceiveCount: (w?.retries ?? PlatformLimits.defaultRetries) + 1,
                    backoffMs: w?.backoffMs ?? PlatformLimits.defaultBackoffMs,
                    visibilityTimeoutMs: PlatformLimits.workflowStartVisibilityMs)
            case .function(let function):
                plan.schedules[i].delivery = delivery(QueueID(s.name.text), toFunction: function)
            }
        }
    }

    /// Records every handler and fn declaration with its key, ranges and role.
    func recordHandlers() {
        var positions = [Int](repeating: -1, count: program.declarations.count)
        var handlers: [PlanHandler] = []
        for (i, d) in program.declarations.enumerated() {
            guard let h = d.handler, let key = names.keys[i] else { continue }
            positions[i] = handlers.count
            handlers.append(PlanHandler(declaration: i, key: key, range: d.range, headerRange: h.headerRange,
                                        role: plan.roles[i] ?? .unused, attributes: attributes(i)))
        }
        plan.handlers = handlers
        plan.handlerPositions = positions
    }

    /// Every list in a stable order, so the manifest, graph and explain output are deterministic.
    func sortPlan() {
        plan.functions.sort { $0.name < $1.name }
        plan.reindex()
        plan.queues.sort { $0.name < $1.name }
        plan.workflows.sort { $0.name < $1.name }
        plan.subscriptions.sort { ($0.topic, $0.target) < ($1.topic, $1.target) }
        plan.schedules.sort { $0.name < $1.name }
        plan.routes.sort { ($0.path, $0.method) < ($1.path, $1.method) }
        plan.tables.sort()
        plan.buckets.sort()
        plan.topics.sort()
        plan.secrets.sort()
        plan.services.sort { $0.name < $1.name }
    }
}

extension Plan {
    /// Handlers whose permissions, limits, timeouts and retries are identical: candidates to share
    /// one function. Keyed and ordered deterministically.
    func groupingCandidates() -> [[FunctionID]] {
        var groups: [String: [FunctionID]] = [:]
        for f in functions where f.serviceCall == nil && !f.handlers.isEmpty {
            let key = f.permissions.map { "\($0.type.rawValue):\($0.resource):\($0.action.rawValue)" }.joined(separator: ",")
                + "|\(f.limit.map(String.init) ?? "-")|\(f.timeoutMs)|\(f.retries)|\(f.backoffMs)"
            groups[key, default: []].append(f.name)
        }
        return groups.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }
}
