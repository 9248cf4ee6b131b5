// Language server: hover, in Markdown — declarations (fn, route, on, every, resources,
// services), resource operations with the permission they grant, built-ins and variables.
// What a handler *became* (the inferred plan) is added by `hoverPlanSection` alone.
import Foundation
import InfcCompiler

enum HoverProvider {
    static func hover(_ a: Analysis, at offset: Int) -> JSON {
        guard let (markdown, range) = content(a, at: offset) else { return .null }
        let contents: JSON = a.client.markdownHover
            ? ["kind": "markdown", "value": .string(markdown)]
            : ["kind": "plaintext", "value": .string(Markup.plainText(markdown))]
        return ["contents": contents, "range": Positions.range(range, in: a.file)]
    }

    /// The Markdown for whatever is under the cursor, and the range it describes.
    static func content(_ a: Analysis, at offset: Int) -> (String, SourceRange)? {
        if let op = a.operation(at: offset) {
            return (operation(a, declaration: op.declaration, kind: op.kind, operation: op.operation), op.range)
        }
        if let field = requestField(a, at: offset) { return field }
        if let o = a.occurrence(at: offset) {
            switch o.symbol {
            case .declaration(let d): return (declaration(a, d), o.range)
            case .local(let b): return (variable(a, b), o.range)
            case .builtin(let b): return (builtin(b), o.range)
            }
        }
        // Headers of declarations without a name (`route`, `on`, `every`) and declaration keywords.
        for (i, decl) in a.program.declarations.enumerated() {
            if let h = decl.handler, h.headerRange.touches(offset) { return (declaration(a, i), h.headerRange) }
            if case .resource(let r) = decl.kind, r.kindRange.touches(offset) { return (declaration(a, i), r.kindRange) }
        }
        return nil
    }

    // MARK: Declarations

    static func declaration(_ a: Analysis, _ index: Int) -> String {
        var parts = [codeBlock(a.signature(of: index))]
        parts.append(hoverPlanSection(a, declaration: index))
        if let uses = usesLine(a, index) { parts.append(uses) }
        return parts.joined(separator: "\n\n")
    }

    /// What the declaration is and does, then what the plan made of it: for a handler or fn,
    /// its function or workflow, queue, limit and its source, timeout, retries, permissions and
    /// its cost in the budget; for a resource, the functions and workflows granted access.
    static func hoverPlanSection(_ a: Analysis, declaration index: Int) -> String {
        let decl = a.program.declarations[index]
        switch decl.kind {
        case .resource(let r):
            var parts = ["**\(r.kind.rawValue)** `\(r.name.name)` — \(kindSummary(r.kind))", operationList(r.kind)]
            if let granted = grantedLine(a, name: ResourceID(r.name.name), type: r.kind.rawValue) { parts.append(granted) }
            return parts.joined(separator: "\n\n")
        case .service(let s):
            var lines = ["**service** `\(s.name.name)` — \(kindSummary(.service)) at \(s.url)"]
            var capacity: [String] = []
            if let limit = s.limit { capacity.append("limit \(limit.value) concurrent calls") }
            if let rate = s.rate { capacity.append("rate \(rate.count) per \(periodName(rate.perSeconds))") }
            if !capacity.isEmpty { lines.append("Capacity: " + capacity.joined(separator: " · ")) }
            lines.append(operationList(.service))
            if let granted = grantedLine(a, name: ResourceID(s.name.name), type: "service") { lines.append(granted) }
            return lines.joined(separator: "\n\n")
        case .handler(let h):
            return planSection(a, index) + "\n\n---\n\n" + handlerSection(a, index, h)
        case .app(let app):
            let budget = a.compilation.plan.budget
            return "**app** `\(app.name.name)` — resource budget \(budget.total) of \(budget.cap)"
        case .invalid:
            return "declaration"
        }
    }

    /// What a handler or fn became, in Markdown.
    static func planSection(_ a: Analysis, _ index: Int) -> String {
        let plan = a.compilation.plan
        var lines: [String] = []
        switch plan.roles[index] {
        case nil:
            return "_Not in the plan (fix the errors above it first)._"
        case .inlined?:
            let callers = callers(a, of: index)
            return "**Becomes:** no function of its own — called only synchronously, it runs inside its callers"
                + (callers.isEmpty ? "" : " (" + callers.joined(separator: ", ") + ")") + "; its permissions are theirs."
        case .unused?:
            return "**Becomes:** nothing — it is never called, so nothing is deployed for it."
        case .function(let name)?:
            guard let f = plan.function(named: name) else { return "**Becomes:** function `\(name)`" }
            var what = "**Becomes:** function `\(name)`"
            if f.handlers.count > 1 { what += " (shared by \(f.handlers.count) handlers: granularity \"grouped\")" }
            let triggers = f.triggers.map { trigger(plan, name, $0) }
            if !triggers.isEmpty { what += ", triggered by " + triggers.joined(separator: ", ") }
            lines.append(what)
            for q in plan.queues where q.consumer == name {
                lines.append("**Queue** `\(q.name)` in front of it, dead-letter queue `\(q.deadLetterQueue)` after max receive count \(q.maxReceiveCount); "
                    + "backoff from \(duration(q.backoffMs)), exponential with jitter; visibility timeout \(duration(q.visibilityTimeoutMs))"
                    + (q.reasons.isEmpty ? "" : "\n\n" + q.reasons.map { "- " + reasonText(a, $0) }.joined(separator: "\n")))
            }
            if let limit = f.limit {
                lines.append("**Limit** \(limit) — from " + (PlanText.limitSource(a, f) ?? "its code"))
            } else {
                lines.append("**Limit** none (the account's unreserved concurrency)")
            }
            lines.append("**Timeout** \(duration(f.timeoutMs)) · **retries** \(f.retries)" + (f.retries > 0 ? " (backoff from \(duration(f.backoffMs)))" : ""))
            lines.append(permissionList(a, f.grants))
            lines.append(costLine(plan, .function(name)))
        case .workflow(let name)?:
            guard let w = plan.workflow(named: name) else { return "**Becomes:** workflow `\(name)`" }
            lines.append("**Becomes:** workflow `\(name)` (\(Explainer.describe(w.states)))")
            if !w.reasons.isEmpty { lines.append("Why a workflow:\n" + w.reasons.map { "- " + reasonText(a, $0) }.joined(separator: "\n")) }
            lines.append(w.startedBy.isEmpty ? "Started by nothing." : "**Started by** " + w.startedBy.map { starter(a, $0) }.joined(separator: ", ")
                + " (no queue: the workflow service is the durable buffer)")
            lines.append("Task steps retry per their own fn; service calls: **retries** \(w.retries), backoff from \(duration(w.backoffMs))"
                + (w.timeoutMs.map { " · **timeout** \(duration($0))" } ?? ""))
            lines.append(permissionList(a, w.grants))
            lines.append(costLine(plan, .workflow(name)))
        }
        return lines.joined(separator: "\n\n")
    }

    /// A workflow's starter, by the handler it runs when it is a function: "`on order_events`".
    private static func starter(_ a: Analysis, _ starter: WorkflowStarter) -> String {
        if case .function(let name) = starter, let f = a.compilation.plan.function(named: name), let d = f.handlers.first {
            return "`\(a.title(of: d))`"
        }
        return "`\(starter)`"
    }

    private static func trigger(_ plan: Plan, _ function: FunctionID, _ t: FunctionTrigger) -> String {
        switch t {
        case .route(let method, let path): return "route `\(method) \(path)`"
        case .queue(let q): return "queue `\(q)`"
        case .topic(let topic): return "topic `\(topic)`"
        case .schedule(let s): return "schedule `\(s)`"
        case .workflowTask:
            let wfs = plan.workflows.filter { w in w.grants.contains { $0.permission.function == function && $0.permission.action == .invoke } }
            return wfs.isEmpty ? "a workflow task step" : "task steps of workflow " + wfs.map { "`\($0.name)`" }.joined(separator: ", ")
        case .workflowStarter(let w): return "a topic, to start workflow `\(w)`"
        }
    }

    /// A reason's sentence, pointing at its line.
    private static func reasonText(_ a: Analysis, _ r: Reason) -> String {
        var text = r.text(in: a.file)
        // The compiler's sentences end in "at shop.inf:13:3"; in the editor the line is enough.
        if let at = text.range(of: " at \(a.file.fileName):", options: .backwards) { text = String(text[..<at.lowerBound]) }
        return "\(text) (line \(PlanText.line(a, r.range)))"
    }

    /// Its exact permissions, one per line, with the lines that need them.
    private static func permissionList(_ a: Analysis, _ grants: [Grant]) -> String {
        guard !grants.isEmpty else { return "**Permissions:** none" }
        return "**Permissions** (\(grants.count)):\n" + grants.map { g in
            let lines = Set(g.reasons.map { PlanText.line(a, $0.range) }).sorted().map(String.init)
            return "- `\(PlanText.permission(g.permission))`" + (lines.isEmpty ? "" : " (line\(lines.count == 1 ? "" : "s") \(lines.joined(separator: ", ")))")
        }.joined(separator: "\n")
    }

    /// "Budget: 6 resources (function 3 + queue 3) of the app's 42 / 200".
    private static func costLine(_ plan: Plan, _ unit: UnitID) -> String {
        let rows = PlanText.cost(plan, unit: unit)
        let total = rows.reduce(0) { $0 + $1.resources }
        let breakdown = rows.map { "\($0.construct.rawValue) \($0.resources)" }.joined(separator: " + ")
        return "**Budget:** \(PlanText.plural(total, "resource"))" + (rows.isEmpty ? "" : " (\(breakdown))")
            + " of the app's \(plan.budget.total) / \(plan.budget.cap)"
    }

    /// The functions and workflows the plan grants access to a resource, with their actions.
    private static func grantedLine(_ a: Analysis, name: ResourceID, type: String) -> String? {
        let plan = a.compilation.plan
        var users: [String] = []
        func add(_ kind: String, _ unit: String, _ grants: [Grant]) {
            let actions = grants.map(\.permission).filter { $0.declared == name && $0.type.rawValue == type }.map(\.action.rawValue)
            if !actions.isEmpty { users.append("\(kind) `\(unit)` (\(actions.joined(separator: ", ")))") }
        }
        for f in plan.functions { add("function", f.name.text, f.grants) }
        for w in plan.workflows { add("workflow", w.name.text, w.grants) }
        for s in plan.subscriptions where s.topic == name && type == "topic" {
            users.append("\(s.targetIsWorkflow ? "workflow" : "function") `\(s.target)` (subscribed" + (s.queue.map { " through queue `\($0)`" } ?? "") + ")")
        }
        return users.isEmpty ? "**Granted to:** no function or workflow" : "**Granted to:** " + users.joined(separator: ", ")
    }

    private static func handlerSection(_ a: Analysis, _ index: Int, _ h: HandlerDecl) -> String {
        var lines: [String] = []
        let params = h.params.map { "`\($0.name)`" }.joined(separator: ", ")
        switch h.trigger {
        case .fn(let name):
            lines.append("**fn** `\(name.name)` — \(h.params.count) parameter\(h.params.count == 1 ? "" : "s")" + (params.isEmpty ? "" : ": \(params)"))
        case .route(let method, let path, _):
            var line = "**route** `\(method.name) \(path)` — an HTTP handler"
            if let names = a.model.routePaths[index]?.parameterNames, !names.isEmpty {
                line += "; path parameters " + names.map { "`\($0)`" }.joined(separator: ", ")
            }
            lines.append(line)
        case .on(let topic):
            lines.append("**on** `\(topic.name)` — runs for each message published to the topic" + (params.isEmpty ? "" : " (as \(params))"))
        case .every(let schedule):
            switch schedule {
            case .interval(let ms, _): lines.append("**every** \(duration(ms)) — a scheduled handler")
            case .cron(let text, _): lines.append("**every** `\(text)` — a scheduled handler (cron, UTC)")
            }
        }
        if let attrs = a.model.attributes[index] {
            var list: [String] = []
            if let v = attrs.limit { list.append("limit \(v.value)") }
            if let v = attrs.timeoutMs { list.append("timeout \(duration(v.value))") }
            if let v = attrs.retry { list.append("retry \(v.value)") }
            if let v = attrs.backoffMs { list.append("backoff \(duration(v.value))") }
            if !list.isEmpty { lines.append("Attributes: " + list.joined(separator: " · ")) }
        }
        let calls = SyntaxWalk.calls(in: h.body)
        var operations: [String] = [], seen: Set<String> = []
        var callees: [String] = []
        for (call, isAsync) in calls {
            switch a.model.calls[call.id] {
            case .operation(let r, let kind, let op)?:
                let name = a.program.declarations[r].declaredName?.name ?? "?"
                let capacity = serviceCapacity(a, r)
                let text = "`\(name).\(op.rawValue)` (\(op.action(on: kind).rawValue)\(capacity.isEmpty ? "" : "; " + capacity))"
                if seen.insert(text).inserted { operations.append(text) }
            case .fn(let d)?:
                let text = (isAsync ? "async " : "") + "`\(a.program.declarations[d].declaredName?.name ?? "?")`"
                if !callees.contains(text) { callees.append(text) }
            default: break
            }
        }
        if !operations.isEmpty { lines.append("Resource operations in its body: " + operations.joined(separator: ", ")) }
        var sleeps: [String] = []
        SyntaxWalk.forEachStmt(in: h.body) { s in
            if case .sleep(let e) = s.kind { sleeps.append("`sleep \(a.file.text(e.range))` (line \(a.file.location(of: s.range.start).line))") }
        }
        if !sleeps.isEmpty { lines.append("Sleeps: " + sleeps.joined(separator: ", ")) }
        if !callees.isEmpty { lines.append("Calls: " + callees.joined(separator: ", ")) }
        if case .fn = h.trigger {
            let callers = callers(a, of: index)
            if !callers.isEmpty { lines.append("Called from: " + callers.joined(separator: ", ")) }
        }
        return lines.joined(separator: "\n\n")
    }

    /// Each declaration that calls fn `index`, marked `async` where it starts it.
    static func callers(_ a: Analysis, of index: Int) -> [String] {
        var result: [String] = []
        for (i, decl) in a.program.declarations.enumerated() {
            guard let h = decl.handler else { continue }
            for (call, isAsync) in SyntaxWalk.calls(in: h.body) {
                guard case .fn(let d)? = a.model.calls[call.id], d == index else { continue }
                let text = "`\(a.title(of: i))`" + (isAsync ? " (async)" : "")
                if !result.contains(text) { result.append(text) }
            }
        }
        return result
    }

    /// The handlers whose bodies use a resource or service, for its hover.
    private static func usesLine(_ a: Analysis, _ index: Int) -> String? {
        guard a.model.resourceKind(of: index, in: a.program) != nil else { return nil }
        var users: [String] = []
        for (i, decl) in a.program.declarations.enumerated() {
            guard let h = decl.handler else { continue }
            var ops: [String] = []
            for (call, _) in SyntaxWalk.calls(in: h.body) {
                if case .operation(let r, _, let op)? = a.model.calls[call.id], r == index, !ops.contains(op.rawValue) {
                    ops.append(op.rawValue)
                }
            }
            if case .on(let topic) = h.trigger, a.model.subscriptions[i] == index || topic.name == a.program.declarations[index].declaredName?.name {
                ops.append("subscribe")
            }
            if !ops.isEmpty { users.append("`\(a.title(of: i))` (\(ops.joined(separator: ", ")))") }
        }
        return users.isEmpty ? "Not used by any handler." : "Used by: " + users.joined(separator: ", ")
    }

    // MARK: Operations, built-ins, variables

    /// `req.params` and the other request fields, in a route whose parameter is `req`.
    static func requestField(_ a: Analysis, at offset: Int) -> (String, SourceRange)? {
        guard let d = a.declarationIndex(containing: offset), let h = a.program.declarations[d].handler,
              case .route = h.trigger, let request = h.params.first else { return nil }
        var found: (String, SourceRange)?
        SyntaxWalk.forEachExpr(in: h.body) { e in
            guard found == nil, case .member(let base, let field) = e.kind, field.range.touches(offset),
                  case .local(let b)? = a.model.references[base.id], a.model.bindings[b].name.range == request.range else { return }
            let text: String
            switch field.name {
            case "method": text = "the HTTP method, such as `\"POST\"`"
            case "path": text = "the request path"
            case "params":
                let names = a.model.routePaths[d]?.parameterNames ?? []
                text = "the path parameters, as an object" + (names.isEmpty ? " (this route has none)" : ": " + names.map { "`\($0)`" }.joined(separator: ", "))
            case "query": text = "the query string parameters, as an object"
            case "headers": text = "the request headers, as an object"
            case "body": text = "the request body, parsed when it is JSON"
            default: return
            }
            found = (codeBlock("\(request.name).\(field.name)") + "\n\n**request** `\(field.name)` — \(text)", field.range)
        }
        return found
    }

    static func operation(_ a: Analysis, declaration: Int, kind: ResourceKind, operation: ResourceOperation) -> String {
        let name = a.program.declarations[declaration].declaredName?.name ?? "?"
        let action = operation.action(on: kind).rawValue
        return codeBlock("\(name).\(operation.signature(on: kind))") + "\n\n"
            + "**\(kind.rawValue) operation** `\(operation.signature(on: kind))` — grants `\(action)` on `\(name)`"
            + { let c = serviceCapacity(a, declaration); return c.isEmpty ? "" : " (\(c))" }()
    }

    static func builtin(_ b: Builtin) -> String {
        codeBlock(b.signature) + "\n\n**built-in** — \(b.summary)"
    }

    static func variable(_ a: Analysis, _ index: Int) -> String {
        guard a.model.bindings.indices.contains(index) else { return "variable" }
        let b = a.model.bindings[index]
        let owner = a.model.bindings[index].declaration
        let where_ = a.program.declarations.indices.contains(owner) ? " of `\(a.title(of: owner))`" : ""
        let description: String
        switch b.kind {
        case .parameter: description = "**parameter** `\(b.name.name)`\(where_)"
        case .let: description = "**let** `\(b.name.name)` — an immutable binding\(where_)"
        case .var: description = "**var** `\(b.name.name)` — a mutable binding\(where_)"
        case .loop: description = "**loop variable** `\(b.name.name)`\(where_)"
        case .catch: description = "**caught error** `\(b.name.name)`\(where_)"
        }
        var text = codeBlock("\(b.kind == .parameter || b.kind == .loop || b.kind == .catch ? "" : b.kind.rawValue + " ")\(b.name.name)")
            + "\n\n" + description
        if b.kind == .parameter, a.program.declarations.indices.contains(owner),
           case .route? = a.program.declarations[owner].handler?.trigger {
            text += "\n\nThe request: `method`, `path`, `params`, `query`, `headers`, `body`."
        }
        return text
    }

    // MARK: Text

    static func kindSummary(_ kind: ResourceKind) -> String {
        switch kind {
        case .table: return "a document store keyed by string"
        case .bucket: return "a blob store"
        case .topic: return "publish/subscribe messaging"
        case .secret: return "a value supplied at run time, never in the build output"
        case .service: return "an external HTTP API"
        }
    }

    static func operationList(_ kind: ResourceKind) -> String {
        "Operations: " + kind.operations.map { "`\($0.signature(on: kind))` → \($0.action(on: kind).rawValue)" }.joined(separator: " · ")
    }

    /// "service limit 10, rate 50/s" for a service with capacity clauses; empty otherwise.
    private static func serviceCapacity(_ a: Analysis, _ index: Int) -> String {
        guard case .service(let s) = a.program.declarations[index].kind else { return "" }
        var parts: [String] = []
        if let limit = s.limit { parts.append("limit \(limit.value)") }
        if let rate = s.rate { parts.append("rate \(rate.count)/\(periodUnit(rate.perSeconds))") }
        return parts.isEmpty ? "" : "service \(parts.joined(separator: ", "))"
    }

    static func duration(_ ms: Int64) -> String {
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where ms >= size && ms % size == 0 {
            return "\(ms / size)\(unit)"
        }
        return "\(ms)ms"
    }

    private static func periodUnit(_ seconds: Int) -> String {
        seconds == 1 ? "s" : seconds == 60 ? "m" : seconds == 3600 ? "h" : "\(seconds)s"
    }

    private static func periodName(_ seconds: Int) -> String {
        seconds == 1 ? "second" : seconds == 60 ? "minute" : seconds == 3600 ? "hour" : "\(seconds) seconds"
    }

    static func codeBlock(_ code: String) -> String { "```infc\n\(code)\n```" }
}
