// Sema stage: checks of declarations themselves — the app and its settings, services (URL,
// limit, rate), handler parameters and attributes, route methods and paths (duplicates and
// conflicts), `on` topics and `every` schedules.

extension Resolver {
    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    static let minScheduleMs: Int64 = 60_000

    func checkDeclarations() {
        var firstApp: SourceRange?
        var routes: [String: (Int, SourceRange, String)] = [:]  // "METHOD shape" -> first
        for (i, decl) in program.declarations.enumerated() {
            switch decl.kind {
            case .app(let app):
                if let firstApp {
                    report(.duplicateApp, app.name.range, secondary: [Label(firstApp, "the app is declared here")])
                    continue
                }
                firstApp = app.name.range
                checkApp(app)
            case .service(let s):
                checkService(s)
            case .handler(let h):
                checkHandler(h, declaration: i, routes: &routes)
            case .resource, .invalid:
                break
            }
        }
    }

    // MARK: app

    private static let appSettings = ["max_resources", "granularity", "account_concurrency", "unreserved_concurrency"]

    private func checkApp(_ app: AppDecl) {
        if !app.name.name.isEmpty {
            model.app.name = app.name.name
            model.app.nameRange = app.name.range
        }
        var seen: [String: SourceRange] = [:]
        for setting in app.settings {
            let key = setting.key.name
            if let first = seen[key] {
                report(.duplicateAppSetting(key), setting.key.range, secondary: [Label(first, "first given here")])
                continue
            }
            seen[key] = setting.key.range
            switch key {
            case "max_resources":
                if let n = wholeNumber(setting.value, min: 1, what: "`max_resources`") {
                    model.app.maxResources = n
                    model.app.maxResourcesRange = setting.key.range.union(setting.value.range)
                }
            case "account_concurrency":
                if let n = wholeNumber(setting.value, min: 1, what: "`account_concurrency`") { model.app.accountConcurrency = n }
            case "unreserved_concurrency":
                if let n = wholeNumber(setting.value, min: 0, what: "`unreserved_concurrency`") { model.app.unreservedConcurrency = n }
            case "granularity":
                guard case .string(let parts) = setting.value.kind, parts.count <= 1,
                      let text = parts.first.flatMap({ if case .text(let t) = $0 { t } else { nil } }) ?? (parts.isEmpty ? "" : nil),
                      text == "grouped" || text == "per-handler" else {
                    report(.invalidGranularity, setting.value.range)
                    continue
                }
                model.app.grouped = text == "grouped"
            default:
                let suggestion = Spelling.closest(to: key, in: Resolver.appSettings)
                report(.unknownAppSetting(key, settings: Resolver.appSettings, suggestion: suggestion), setting.key.range,
                       fixIts: suggestion.map { [FixIt("replace with `\($0)`", [TextEdit(setting.key.range, $0)])] } ?? [])
            }
        }
        if model.app.unreservedConcurrency >= model.app.accountConcurrency {
            report(.unreservedNotBelowAccount(account: model.app.accountConcurrency), app.name.range)
        }
    }

    private func wholeNumber(_ e: Expr, min: Int, what: String) -> Int? {
        if case .number(let n) = e.kind, n.rounded() == n, n >= Double(min), n < 1e9 { return Int(n) }
        report(.appSettingNotWholeNumber(what, minimum: min), e.range)
        return nil
    }

    // MARK: services

    private func checkService(_ s: ServiceDecl) {
        if !s.url.isEmpty || s.urlRange.length > 0 {
            let lower = s.url.lowercased()
            let scheme = lower.hasPrefix("https://") ? 8 : lower.hasPrefix("http://") ? 7 : 0
            let host = s.url.dropFirst(scheme).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            if scheme == 0 || host.isEmpty || host.contains(" ") || s.url.contains(" ") {
                report(.invalidServiceURL(s.url), s.urlRange)
            }
        }
        if let limit = s.limit, limit.value < 1 {
            report(.serviceLimitBelowOne, limit.range)
        }
    }

    // MARK: handlers

    private func allowedAttributes(_ trigger: HandlerDecl.Trigger) -> [String] {
        if case .route = trigger { return ["limit", "timeout"] }
        return ["limit", "timeout", "retry", "backoff"]
    }

    private func checkHandler(_ h: HandlerDecl, declaration: Int, routes: inout [String: (Int, SourceRange, String)]) {
        switch h.trigger {
        case .fn:
            break
        case .route(let method, let path, let pathRange):
            if h.params.count > 1 {
                report(.routeParameters, h.paramsRange)
            }
            var methodOK = true
            if !method.name.isEmpty && !Resolver.methods.contains(method.name) {
                methodOK = false
                let upper = method.name.uppercased()
                let fix = Resolver.methods.contains(upper) ? upper : Spelling.closest(to: upper, in: Resolver.methods)
                report(.invalidHTTPMethod(method.name, methods: Resolver.methods), method.range,
                       fixIts: fix.map { [FixIt("replace with `\($0)`", [TextEdit(method.range, $0)])] } ?? [])
            }
            switch RoutePath.parse(path) {
            case .failure(let e):
                if pathRange.length > 0 {
                    report(.invalidRoutePath(path, problem: e.message), pathRange,
                           fixIts: !path.hasPrefix("/") ? [FixIt("add a leading `/`", [TextEdit(SourceRange(pathRange.start + 1, pathRange.start + 1), "/")])] : [])
                }
            case .success(let routePath):
                model.routePaths[declaration] = routePath
                guard methodOK else { break }
                let key = "\(method.name) \(routePath.shape)"
                if let (first, firstRange, firstPath) = routes[key] {
                    _ = first
                    if firstPath == path {
                        report(.duplicateRoute(method: method.name, path: path), pathRange,
                               secondary: [Label(firstRange, "first declared here")])
                    } else {
                        report(.conflictingRoute(method: method.name, path: path, otherPath: firstPath, shape: routePath.shape),
                               pathRange, secondary: [Label(firstRange, "this route matches the same requests")])
                    }
                } else {
                    routes[key] = (declaration, pathRange, path)
                }
            }
        case .on(let topic):
            if h.params.count > 1 {
                report(.subscriberParameters(topic: topic.name), h.paramsRange)
            }
            if topic.name.isEmpty { break }
            guard let d = model.globals[topic.name] else {
                let topics = program.declarations.compactMap { decl -> String? in
                    if case .resource(let r) = decl.kind, r.kind == .topic { return r.name.name }
                    return nil
                }
                let suggestion = Spelling.closest(to: topic.name, in: topics)
                report(.undefinedTopic(topic.name, suggestion: suggestion), topic.range, label: "not declared",
                       fixIts: suggestion.map { [FixIt("replace with `\($0)`", [TextEdit(topic.range, $0)])] } ?? [])
                break
            }
            useGlobalSubscription(d, at: topic.range)
            if case .resource(let r) = program.declarations[d].kind, r.kind == .topic {
                model.subscriptions[declaration] = d
            } else {
                report(.notATopic(topic.name), topic.range,
                       secondary: program.declarations[d].declaredName.map { [Label($0.range, "declared here")] } ?? [])
            }
        case .every(let schedule):
            switch schedule {
            case .interval(let ms, let range):
                if range.length > 0 && ms < Resolver.minScheduleMs {
                    report(.scheduleTooFrequent, range, fixIts: [FixIt("use `1m`", [TextEdit(range, "1m")])])
                }
            case .cron(let text, let range):
                switch CronExpression.parse(text) {
                case .success(let cron): model.cronSchedules[declaration] = cron
                case .failure(let e):
                    report(.invalidCron(text, problem: e.message), range)
                }
            }
        }
        checkAttributes(h, declaration: declaration)
    }

    private func useGlobalSubscription(_ d: Int, at range: SourceRange) {
        // An `on` handler is a use of its topic.
        model.occurrences.append(Occurrence(range: range, symbol: .declaration(d), isDefinition: false))
        markUsed(d)
    }

    private func checkAttributes(_ h: HandlerDecl, declaration: Int) {
        var attrs = HandlerAttributes()
        var seen: [String: SourceRange] = [:]
        let allowed = allowedAttributes(h.trigger)
        let all = ["limit", "timeout", "retry", "backoff"]
        for a in h.attributes {
            let name = a.name.name
            guard all.contains(name) else {
                let suggestion = Spelling.closest(to: name, in: all)
                report(.unknownAttribute(name, suggestion: suggestion), a.name.range,
                       fixIts: suggestion.map { [FixIt("replace with `\($0)`", [TextEdit(a.name.range, $0)])] } ?? [])
                continue
            }
            if let first = seen[name] {
                report(.duplicateAttribute(name), a.range, secondary: [Label(first, "first given here")],
                       fixIts: [FixIt("remove the duplicate", [TextEdit(a.range, "")])])
                continue
            }
            seen[name] = a.range
            guard allowed.contains(name) else {
                report(.attributeOnRoute(name), a.range, fixIts: [FixIt("remove `\(a.name.name)`", [TextEdit(a.range, "")])])
                continue
            }
            switch name {
            case "limit":
                if let n = integer(a.value), n >= 1, n <= 100_000 { attrs.limit = (n, a.range) } else {
                    report(.invalidLimit, a.value.range)
                }
            case "retry":
                if let n = integer(a.value), n >= 0, n <= 100 { attrs.retry = (n, a.range) } else {
                    report(.invalidRetry, a.value.range)
                }
            case "timeout", "backoff":
                guard case .duration(let ms) = a.value.kind, ms > 0 else {
                    report(.invalidDurationAttribute(name), a.value.range)
                    continue
                }
                if name == "backoff" {
                    attrs.backoffMs = (ms, a.range)
                } else {
                    if case .route = h.trigger, ms > PlatformLimits.routeTimeoutMs {
                        report(.routeTimeoutTooLong, a.value.range,
                               fixIts: [FixIt("use `\(PlatformLimits.routeTimeoutLiteral)`", [TextEdit(a.value.range, PlatformLimits.routeTimeoutLiteral)])])
                        continue
                    }
                    attrs.timeoutMs = (ms, a.range)
                }
            default:
                break
            }
        }
        model.attributes[declaration] = attrs
    }

    private func integer(_ e: Expr) -> Int? {
        if case .number(let n) = e.kind, n.rounded() == n, abs(n) < 1e9 { return Int(n) }
        return nil
    }
}
