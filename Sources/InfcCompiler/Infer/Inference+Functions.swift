// Infer stage: functions and their permissions (SPEC §3.1, §3.5), queues (§3.2) and
// concurrency limits (§3.3), including the allocation of shared service limits.

extension Inference {
    // MARK: Names

    /// The deployed name of a handler or fn: `post_orders`, `on_order_events`, `every_1d`, `charge`.
    func unitName(_ d: Int) -> String {
        if d < names.units.count, let n = names.units[d] { return n }
        return "unit_\(d)"
    }
    /// The unit of a handler or fn deployed as a function.
    func functionID(_ d: Int) -> FunctionID { FunctionID(unitName(d)) }
    /// The unit of a handler or fn that is a workflow.
    func workflowID(_ d: Int) -> WorkflowID { WorkflowID(unitName(d)) }

    func resourceName(_ d: Int) -> ResourceID { ResourceID(d < declaredNames.count ? declaredNames[d] : "") }


    // MARK: Units → functions and workflows

    func buildUnits() {
        syncCallees = Set(facts.lazy.compactMap { $0 }.flatMap { $0.syncCalls.map(\.value) })
        let workflowSet = Set(units.workflows)
        let functionSet = Set(units.functions)
        for (i, d) in program.declarations.enumerated() {
            guard d.handler != nil else { continue }
            if workflowSet.contains(i) {
                plan.roles[i] = .workflow(workflowID(i))
            } else if functionSet.contains(i) || units.taskFns.contains(i) {
                plan.roles[i] = .function(functionID(i))
            } else if isCalledSynchronously(i) {
                plan.roles[i] = .inlined
            } else {
                plan.roles[i] = .unused
            }
        }
        var deployed = units.functions
        for t in units.taskFns.sorted() where !deployed.contains(t) { deployed.append(t) }
        for d in deployed.sorted() where !workflowSet.contains(d) {
            plan.functions.append(makeFunction(d))
        }
        for d in units.workflows.sorted() {
            var builder = WorkflowBuilder(inference: self, declaration: d)
            plan.workflows.append(builder.build())
        }
    }

    func isCalledSynchronously(_ d: Int) -> Bool { syncCallees.contains(d) }

    func isAsyncTarget(_ d: Int) -> Bool { units.asyncTargets.contains(d) }

    private func makeFunction(_ d: Int) -> PlanFunction {
        let h = handler(d)!
        let attrs = attributes(d)
        let name = functionID(d)
        var triggers: [FunctionTrigger] = []
        let isRouteHandler = isRoute(d)
        switch h.trigger {
        case .route(let m, let p, _): triggers.append(.route(method: m.name, path: p))
        case .on(let t): triggers.append(.topic(ResourceID(t.name)))
        case .every: triggers.append(.schedule(Names.schedule(of: name.text)))
        case .fn:
            if isAsyncTarget(d) { triggers.append(.queue(Names.queue(of: name))) }
            if units.taskFns.contains(d) { triggers.append(.workflowTask) }
        }
        let (limit, limitReasons) = ownLimit(d)
        return PlanFunction(name: name, handlers: [d], triggers: triggers, limit: limit, limitReasons: limitReasons,
                            timeoutMs: attrs.timeoutMs?.value ?? (isRouteHandler ? PlatformLimits.routeTimeoutMs : PlatformLimits.defaultTimeoutMs),
                            retries: isRouteHandler ? 0 : attrs.retry?.value ?? PlatformLimits.defaultRetries,
                            backoffMs: attrs.backoffMs?.value ?? PlatformLimits.defaultBackoffMs,
                            grants: functionGrants(d), range: h.headerRange, serviceCall: nil)
    }

    /// A function's own limit: the smallest of its `limit` and the limits of the services its code uses.
    func ownLimit(_ d: Int) -> (Int?, [Reason]) {
        var limit: Int?
        var reasons: [Reason] = []
        if let l = attributes(d).limit {
            limit = l.value
            reasons.append(Reason("`limit \(l.value)` at \(at: l.range)", l.range))
        }
        var seen: Set<Int> = []
        for op in closure(d).operations where op.value.kind == .service && seen.insert(op.value.declaration).inserted {
            guard case .service(let s) = program.declarations[op.value.declaration].kind, let sl = s.limit else { continue }
            let r = Reason("uses \(s.name.name) (limit \(sl.value), \(at: sl.range)) at \(at: op.range)", op.range)
            if limit == nil || sl.value < limit! {
                limit = sl.value
                reasons.insert(r, at: 0)
            } else {
                reasons.append(r)
            }
        }
        return (limit, reasons)
    }

    /// The exact (resource, action) pairs a function's code reaches, with the lines that need them.
    func functionGrants(_ d: Int) -> [Grant] {
        var grants = GrantList()
        let c = closure(d)
        for op in c.operations {
            grants.add(permission(for: op.value), Reason("\(source: op.range, prefix: 60) at \(at: op.range)", op.range))
        }
        for a in c.asyncCalls {
            grants.add(asyncPermission(a.value), Reason("async at \(at: a.range)", a.range))
        }
        return grants.sorted
    }

    func permission(for op: OperationUse) -> Permission {
        let type: Permission.ResourceType
        switch op.kind {
        case .table: type = .table
        case .bucket: type = .bucket
        case .topic: type = .topic
        case .secret: type = .secret
        case .service: type = .service
        }
        return Permission(op.action, on: resourceName(op.declaration), type)
    }

    /// `send` on the target's queue, or `start` on the target workflow.
    func asyncPermission(_ target: Int) -> Permission {
        if units.workflowSet.contains(target) {
            return .start(workflowID(target))
        }
        return .send(to: Names.queue(of: functionID(target)))
    }

    // MARK: Queues

    func buildQueues() {
        plan.reindex()
        var callers: [Int: [(Int, Site<Int>)]] = [:]
        for (caller, fact) in facts.enumerated() {
            guard let fact else { continue }
            for a in fact.asyncCalls { callers[a.value, default: []].append((caller, a)) }
        }
        let workflows = units.workflowSet
        for d in units.asyncTargets.sorted() where !workflows.contains(d) {
            let name = functionID(d)
            guard let f = plan.function(named: name) else { continue }
            let reasons = (callers[d] ?? []).map { caller, a in
                Reason("`async \(name)(…)` in \(unitLabel(caller)) at \(at: a.range)", a.range)
            }
            plan.queues.append(PlanQueue(name: Names.queue(of: name), deadLetterQueue: Names.deadLetterQueue(of: name), consumer: name,
                                         source: .async(fn: name), maxReceiveCount: f.retries + 1, backoffMs: f.backoffMs,
                                         visibilityTimeoutMs: PlatformLimits.visibilityTimeoutFactor * f.timeoutMs, reasons: reasons))
        }
    }

    /// "route POST /orders", "fn charge", "on order_events" for messages.
    func unitLabel(_ d: Int) -> String { (d < names.keys.count ? names.keys[d]?.text : nil) ?? unitName(d) }

    // MARK: Limits

    /// Shares each limited service's capacity among the functions that use it (sum ≤ limit, each
    /// ≥ 1), then checks the account's reserved concurrency.
    func allocateLimits() {
        // Keyed by the service's name text, not its id: the first dictionary of a key type a
        // process makes looks the key's Hashable conformance up (about 0.4 M instructions), a
        // cost `check` pays on every run; String's is looked up already.
        var functionUsers: [String: [Int]] = [:], workflowUsers: [String: [UnitID]] = [:]
        for (i, f) in plan.functions.enumerated() {
            for g in f.grants { if g.permission.type == .service, let s = g.permission.declared { functionUsers[s.text, default: []].append(i) } }
        }
        for w in plan.workflows {
            for g in w.grants { if g.permission.type == .service, let s = g.permission.declared { workflowUsers[s.text, default: []].append(.workflow(w.name)) } }
        }
        for (si, service) in plan.services.enumerated() {
            let users = functionUsers[service.name.text] ?? []
            plan.services[si].users = (users.map { .function(plan.functions[$0].name) } + (workflowUsers[service.name.text] ?? [])).sorted()
            guard let cap = service.limit, !users.isEmpty else { continue }
            let desired = users.map { min(plan.functions[$0].limit ?? cap, cap) }
            guard desired.reduce(0, +) > cap else { continue }
            let declRange = serviceLimitRange(service.name)
            if users.count > cap {
                diagnostics.append(Diagnostic(.serviceLimitTooSmall(service: service.name.text, cap: cap, users: users.map { plan.functions[$0].name.text }),
                    at: Label(declRange, "limit \(cap)"),
                    secondary: users.map { Label(plan.functions[$0].range, "uses \(service.name)") }))
                continue
            }
            // Round-robin in name order, each user from 1 up to what it asks for.
            // `order` holds positions in `users`; `given[k]` is what users[k] has so far.
            let order = users.indices.sorted { plan.functions[users[$0]].name < plan.functions[users[$1]].name }
            var given = [Int](repeating: 1, count: users.count)
            var remaining = cap - users.count
            var progress = true
            while remaining > 0 && progress {
                progress = false
                for k in order where remaining > 0 && given[k] < desired[k] {
                    given[k] += 1
                    remaining -= 1
                    progress = true
                }
            }
            let others = order.map { plan.functions[users[$0]].name.text }
            for (k, u) in users.enumerated() {
                plan.functions[u].limit = given[k]
                plan.functions[u].limitReasons.insert(Reason(
                    "shares \(service.name)'s limit of \(cap) with \(names: others, excluding: plan.functions[u].name.text): reserved \(given[k])",
                    declRange), at: 0)
            }
        }
        let reserved = plan.functions.compactMap(\.limit).reduce(0, +)
        let available = plan.limits.reservableConcurrency
        if reserved > available {
            let biggest = plan.functions.filter { $0.limit != nil }.sorted { ($0.limit!, $1.name) > ($1.limit!, $0.name) }.prefix(3)
            diagnostics.append(Diagnostic(.reservedConcurrencyTooHigh(reserved: reserved, available: available,
                                                                      account: plan.limits.accountConcurrency,
                                                                      unreserved: plan.limits.unreservedConcurrency),
                at: Label(model.app.nameRange ?? SourceRange(0, 0)),
                secondary: biggest.map { Label($0.range, "limit \($0.limit!)") }))
        }
    }

    func serviceLimitRange(_ name: ResourceID) -> SourceRange {
        for d in program.declarations {
            if case .service(let s) = d.kind, s.name.name == name.text { return s.limit?.range ?? s.name.range }
        }
        return .zero
    }
}
