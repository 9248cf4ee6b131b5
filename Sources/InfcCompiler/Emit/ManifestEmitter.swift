// Emit stage: the manifest (SPEC §6) — the only contract between compiler and runtime.
// Deterministic: the same source gives byte-identical JSON (ordered keys, sorted lists, no
// clock, no absolute paths). Secrets appear by name only. Format: docs/manifest.md and
// templates/manifest.schema.json.

public enum ManifestEmitter {
    public static let format = "infc-manifest"
    public static let version = 2

    /// The build directory's files: `manifest.json` and the program under `code/`.
    public static func files(for c: Compilation) -> [(path: String, bytes: [UInt8])] {
        let manifest = emit(c).prettyPrinted()
        return [("manifest.json", Array(manifest.utf8)), (codePath(c), c.file.bytes)]
    }

    public static func codePath(_ c: Compilation) -> String { "code/" + c.file.fileName }

    public static func emit(_ c: Compilation) -> JSON {
        let plan = c.plan
        func line(_ r: SourceRange) -> JSON { .int(c.file.location(of: r.start).line) }
        func range(_ r: SourceRange) -> JSON { ["start": .int(r.start), "end": .int(r.end)] }
        /// An expression of a workflow state: its source text and range.
        func expression(_ e: Expr) -> JSON { ["source": .string(c.file.text(e.range)), "range": range(e.range)] }
        func handlerRef(_ d: Int) -> JSON {
            guard let h = plan.handler(d) else { return ["key": "", "line": 0, "range": range(.zero)] }
            return ["key": .string(h.key.text), "line": line(h.headerRange), "range": range(h.range)]
        }
        func delivery(_ d: PlanDelivery?) -> JSON {
            guard let d else { return .null }
            return ["queue": .string(d.queue.text), "maxReceiveCount": .int(d.maxReceiveCount), "backoffMs": .int(Int(d.backoffMs)),
                    "visibilityTimeoutMs": .int(Int(d.visibilityTimeoutMs))]
        }
        func permissions(_ ps: [Permission]) -> JSON {
            .array(ps.map { ["resource": .string($0.resource), "type": .string($0.type.rawValue), "action": .string($0.action.rawValue)] })
        }
        func reasons(_ rs: [Reason]) -> JSON {
            .array(rs.map { ["text": .string($0.text(in: c.file)), "line": line($0.range)] })
        }

        var root = JSONObject()
        root["format"] = .string(format)
        root["version"] = .int(version)
        root["app"] = .string(plan.app)
        root["source"] = ["path": .string(codePath(c)), "sha256": .string(SHA256.hex(c.file.bytes)), "bytes": .int(c.file.bytes.count)]
        root["granularity"] = .string(plan.grouped ? "grouped" : "per-handler")
        root["budget"] = budget(plan.budget)
        root["limits"] = limits(plan.limits)
        root["handlers"] = .array(plan.handlers.map { h in
            var o = JSONObject()
            o["key"] = .string(h.key.text)
            o["line"] = line(h.headerRange)
            o["range"] = range(h.range)
            switch h.role {
            case .function(let name): o["role"] = "function"; o["unit"] = .string(name.text)
            case .workflow(let name): o["role"] = "workflow"; o["unit"] = .string(name.text)
            case .inlined: o["role"] = "inlined"
            case .unused: o["role"] = "unused"
            }
            return .object(o)
        })

        root["functions"] = .array(plan.functions.map { f in
            var o = JSONObject()
            o["name"] = .string(f.name.text)
            o["handlers"] = .array(f.handlers.sorted().map(handlerRef))
            o["triggers"] = .array(f.triggers.map(trigger))
            o["limit"] = f.limit.map { .int($0) } ?? .null
            o["limitReasons"] = reasons(f.limitReasons)
            o["timeoutMs"] = .int(Int(f.timeoutMs))
            o["retries"] = .int(f.retries)
            o["backoffMs"] = .int(Int(f.backoffMs))
            o["permissions"] = permissions(f.permissions)
            if let s = f.serviceCall { o["serviceCall"] = .string(s.text) }
            if let w = f.evaluates { o["evaluates"] = .string(w.text) }
            o["line"] = line(f.range)
            return .object(o)
        })
        root["queues"] = .array(plan.queues.map { q in
            var o = JSONObject()
            o["name"] = .string(q.name.text)
            o["deadLetterQueue"] = .string(q.deadLetterQueue.text)
            o["consumer"] = .string(q.consumer.text)
            switch q.source {
            case .async(let fn): o["source"] = ["type": "async", "fn": .string(fn.text)]
            case .topic(let t): o["source"] = ["type": "topic", "topic": .string(t.text)]
            }
            o["maxReceiveCount"] = .int(q.maxReceiveCount)
            o["backoffMs"] = .int(Int(q.backoffMs))
            o["visibilityTimeoutMs"] = .int(Int(q.visibilityTimeoutMs))
            o["reasons"] = reasons(q.reasons)
            return .object(o)
        })
        root["topics"] = .array(plan.topics.map { t in
            ["name": .string(t.text),
             "subscriptions": .array(plan.subscriptions.filter { $0.topic == t }.map { s in
                 ["target": .string(s.target.text), "handler": handlerRef(s.handler), "queue": s.queue.map { .string($0.text) } ?? .null,
                  "delivery": delivery(s.delivery)]
             })]
        })
        root["schedules"] = .array(plan.schedules.map { s in
            var o = JSONObject()
            o["name"] = .string(s.name.text)
            switch s.expression {
            case .rate(let ms): o["rateMs"] = .int(Int(ms))
            case .cron(let expr): o["cron"] = .string(expr)
            }
            o["target"] = .string(s.target.text)
            o["targetType"] = .string(s.targetIsWorkflow ? "workflow" : "function")
            o["handler"] = handlerRef(s.handler)
            o["delivery"] = delivery(s.delivery)
            return .object(o)
        })
        root["routes"] = .array(plan.routes.map { r in
            ["method": .string(r.method), "path": .string(r.path), "function": .string(r.function.text), "handler": handlerRef(r.handler)]
        })
        root["workflows"] = .array(plan.workflows.map { w in
            var o = JSONObject()
            o["name"] = .string(w.name.text)
            o["entry"] = handlerRef(w.handler)
            o["reasons"] = reasons(w.reasons)
            o["retries"] = .int(w.retries)
            o["backoffMs"] = .int(Int(w.backoffMs))
            o["timeoutMs"] = w.timeoutMs.map { .int(Int($0)) } ?? .null
            o["startedBy"] = .array(w.startedBy.map { .string($0.text) })
            o["permissions"] = permissions(w.permissions)
            o["states"] = states(w.states, line: line, expression: expression)
            if let e = w.evaluator {
                o["evaluator"] = ["name": .string(e.name.text), "permissions": permissions(e.permissions)]
            }
            return .object(o)
        })
        root["tables"] = .array(plan.tables.map { .string($0.text) })
        root["buckets"] = .array(plan.buckets.map { .string($0.text) })
        root["secrets"] = .array(plan.secrets.map { ["name": .string($0.text), "env": .string("INFC_SECRET_" + $0.text.uppercased())] })
        root["services"] = .array(plan.services.map { s in
            ["name": .string(s.name.text), "url": .string(s.url), "urlEnv": .string("INFC_SERVICE_\(s.name.text.uppercased())_URL"),
             "limit": s.limit.map { .int($0) } ?? .null, "ratePerSecond": s.ratePerSecond.map { .number($0) } ?? .null,
             "users": .array(s.users.map { .string($0.text) })]
        })
        root["edges"] = .array(plan.edges.map { e in
            var o = JSONObject()
            o["from"] = node(e.from)
            o["to"] = node(e.to)
            o["kind"] = .string(e.kind.rawValue)
            if !e.actions.isEmpty { o["actions"] = .array(e.actions.map { .string($0.rawValue) }) }
            return .object(o)
        })
        return .object(root)
    }

    static func budget(_ b: Budget) -> JSON {
        ["cap": .int(b.cap), "total": .int(b.total),
         "byType": .object(JSONObject(b.byType.map { ($0.type, .int($0.count)) })),
         "byConstruct": .array(b.byConstruct.map { ["construct": .string($0.construct.rawValue), "instances": .int($0.instances), "resources": .int($0.resources)] })]
    }

    static func limits(_ l: PlatformLimits) -> JSON {
        ["routeTimeoutMs": .int(Int(PlatformLimits.routeTimeoutMs)), "defaultTimeoutMs": .int(Int(PlatformLimits.defaultTimeoutMs)),
         "maxFunctionTimeoutMs": .int(Int(PlatformLimits.maxFunctionTimeoutMs)),
         "accountConcurrency": .int(l.accountConcurrency), "unreservedConcurrency": .int(l.unreservedConcurrency)]
    }

    static func node(_ n: PlanNode) -> JSON {
        switch n {
        case .route(let m, let p): return ["type": "route", "method": .string(m), "path": .string(p)]
        case .function(let name): return ["type": "function", "name": .string(name.text)]
        case .workflow(let name): return ["type": "workflow", "name": .string(name.text)]
        case .queue(let name): return ["type": "queue", "name": .string(name.text)]
        case .deadLetterQueue(let name): return ["type": "dead-letter-queue", "name": .string(name.text)]
        case .topic(let name): return ["type": "topic", "name": .string(name.text)]
        case .schedule(let name): return ["type": "schedule", "name": .string(name.text)]
        case .resource(let type, let name): return ["type": .string(type.rawValue), "name": .string(name.text)]
        }
    }

    static func trigger(_ t: FunctionTrigger) -> JSON {
        switch t {
        case .route(let m, let p): return ["type": "route", "method": .string(m), "path": .string(p)]
        case .queue(let q): return ["type": "queue", "queue": .string(q.text)]
        case .topic(let t): return ["type": "topic", "topic": .string(t.text)]
        case .schedule(let s): return ["type": "schedule", "schedule": .string(s.text)]
        case .workflowTask: return ["type": "workflow-task"]
        case .workflowStarter(let w): return ["type": "workflow-starter", "workflow": .string(w.text)]
        }
    }

    static func states(_ list: [WorkflowState], line: (SourceRange) -> JSON, expression: (Expr) -> JSON) -> JSON {
        .array(list.map { s in
            var o = JSONObject()
            o["name"] = .string(s.name)
            switch s.kind {
            case .task(let fn, let function):
                o["type"] = "task"; o["fn"] = .string(fn); o["function"] = .string(function.text)
            case .childWorkflow(let w):
                o["type"] = "workflow"; o["workflow"] = .string(w.text)
            case .integration(let r, let kind, let op):
                o["type"] = "integration"; o["resource"] = .string(r.text); o["resourceType"] = .string(kind.rawValue)
                o["operation"] = .string(op.rawValue); o["action"] = .string(op.action(on: kind).rawValue)
            case .serviceCall(let service, let function):
                o["type"] = "service-call"; o["service"] = .string(service.text); o["function"] = .string(function.text)
            case .wait(let ms):
                o["type"] = "wait"; o["ms"] = ms.map { .int(Int($0)) } ?? .null
            case .choice(let t, let e):
                o["type"] = "choice"; o["then"] = states(t, line: line, expression: expression); o["else"] = states(e, line: line, expression: expression)
            case .parallel(let branches):
                o["type"] = "parallel"; o["branches"] = .array(branches.map { states($0, line: line, expression: expression) })
            case .map(let body):
                o["type"] = "map"; o["body"] = states(body, line: line, expression: expression)
            case .loop(let body):
                o["type"] = "loop"; o["body"] = states(body, line: line, expression: expression)
            case .tryCatch(let body, let handler):
                o["type"] = "try"; o["body"] = states(body, line: line, expression: expression); o["catch"] = states(handler, line: line, expression: expression)
            case .send(let q):
                o["type"] = "send"; o["queue"] = .string(q.text)
            case .start(let w):
                o["type"] = "start"; o["workflow"] = .string(w.text)
            case .succeed: o["type"] = "succeed"
            case .fail: o["type"] = "fail"
            case .compute: o["type"] = "compute"
            }
            if let e = s.expression { o["expression"] = expression(e) }
            if !s.arguments.isEmpty { o["arguments"] = .array(s.arguments.map(expression)) }
            if !s.binds.isEmpty { o["binds"] = .array(s.binds.map { .string($0) }) }
            if !s.reads.isEmpty { o["reads"] = .array(s.reads.map { .string($0) }) }
            o["line"] = line(s.range)
            return .object(o)
        })
    }
}
