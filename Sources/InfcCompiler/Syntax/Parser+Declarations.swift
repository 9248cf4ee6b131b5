// Syntax stage: declarations — app, resources, services and handlers (fn, route, on, every),
// with their parameter lists and attributes. Recovery point: the next declaration word that
// starts a line.

extension Parser {
    func parseDeclarations() -> [Declaration] {
        var decls: [Declaration] = []
        var progress = LoopProgress()
        while kind != .eof && progress.check(self) {
            if eat(.semicolon) { continue }
            let before = index
            decls.append(parseDeclaration())
            if index == before { advance() }  // always make progress
        }
        return decls
    }

    func parseDeclaration() -> Declaration {
        let start = current.range.start
        let id = makeID()
        let kind: Declaration.Kind
        if self.kind == .keyword(.fn) {
            kind = parseFn()
        } else if self.kind == .identifier {
            switch text(current) {
            case "app": kind = parseApp()
            case "table": kind = parseResource(.table)
            case "bucket": kind = parseResource(.bucket)
            case "topic": kind = parseResource(.topic)
            case "secret": kind = parseResource(.secret)
            case "service": kind = parseService()
            case "route": kind = parseRoute()
            case "on": kind = parseOn()
            case "every": kind = parseEvery()
            default: kind = invalidDeclaration()
            }
        } else {
            kind = invalidDeclaration()
        }
        return Declaration(id: id, range: range(from: start), kind: kind)
    }

    private func invalidDeclaration() -> Declaration.Kind {
        var hint = DiagnosticMessage.DeclarationHint.list
        if case .keyword(let k) = kind, [.let, .var, .if, .for, .while, .return, .sleep].contains(k) {
            hint = .statement
        } else if kind == .identifier, let suggestion = Spelling.closest(to: text(current), in: Array(Parser.declarationWords) + ["fn"]) {
            hint = .suggestion(suggestion)
        }
        if kind != .invalid {
            expected { .expectedDeclaration(found: $0, hint: hint) }
        }
        advance()
        recover(toLineStart: false, stopAtDeclarations: true)
        // Skip stray closers at top level too.
        while kind == .rightBrace || kind == .rightParen || kind == .rightBracket { advance() }
        return .invalid
    }

    /// `NAME` after a declaration word; reports and returns a placeholder when missing.
    private func declaredName(_ what: String) -> Identifier {
        if let name = identifier() { return name }
        expected("a name for the \(what)")
        return Identifier("", SourceRange(previousEnd, previousEnd))
    }

    // MARK: app, resources, services

    private func parseApp() -> Declaration.Kind {
        advance()
        let name = declaredName("app")
        var settings: [Setting] = []
        if current.atLineStart == false && eat(.leftBrace) {
            var progress = LoopProgress()
            while kind != .rightBrace && kind != .eof && progress.check(self) {
                if eat(.comma) || eat(.semicolon) { continue }
                guard let key = identifier() else {
                    expected("a setting name such as `max_resources`")
                    recoverInSettings()
                    continue
                }
                guard expect(.colon) else {
                    recoverInSettings()
                    continue
                }
                settings.append(Setting(key: key, value: parseExpression()))
            }
            expect(.rightBrace)
        }
        return .app(AppDecl(name: name, settings: settings))
    }

    /// Skips a malformed setting up to the next line. `recover` stops before a closer it cannot
    /// balance, but a stray `)` or `]` cannot close the settings' `{`: it is skipped too, or the
    /// settings loop would stand still on it (`app x{)` once hung every command).
    private func recoverInSettings() {
        recover(toLineStart: true)
        if kind == .rightParen || kind == .rightBracket { advance() }
    }

    private func parseResource(_ resourceKind: ResourceKind) -> Declaration.Kind {
        let kindRange = advance().range
        let name = declaredName(resourceKind.rawValue)
        return .resource(ResourceDecl(kind: resourceKind, kindRange: kindRange, name: name))
    }

    private func parseService() -> Declaration.Kind {
        advance()
        let name = declaredName("service")
        var url = ""
        var urlRange = SourceRange(previousEnd, previousEnd)
        if kind == .string && !current.atLineStart {
            let lit = parsePlainString()
            url = lit.text
            urlRange = lit.range
        } else {
            expected { .expectedServiceURL(service: name.name, found: $0) }
        }
        var limit: IntegerClause?
        var rate: RateClause?
        var progress = LoopProgress()
        while kind == .identifier && !current.atLineStart && progress.check(self) {
            let word = text(current)
            let wordStart = current.range.start
            if word == "limit" {
                advance()
                if limit != nil { error(.duplicateServiceSetting("limit"), range(from: wordStart)) }
                limit = parseIntegerClause(after: "limit", start: wordStart)
            } else if word == "rate" {
                advance()
                if rate != nil { error(.duplicateServiceSetting("rate"), range(from: wordStart)) }
                rate = parseRate(start: wordStart)
            } else {
                let suggestion = Spelling.closest(to: word, in: ["limit", "rate"])
                error(.unknownServiceSetting(word, suggestion: suggestion), current.range)
                advance()
                if !current.atLineStart && (kind == .integer || kind == .duration) { advance() }
            }
        }
        return .service(ServiceDecl(name: name, url: url, urlRange: urlRange, limit: limit, rate: rate))
    }

    private func parseIntegerClause(after word: String, start: Int) -> IntegerClause? {
        guard kind == .integer && !current.atLineStart else {
            expected("a whole number after `\(word)`")
            return nil
        }
        let t = advance()
        guard let v = Int(text(t)) else {
            error(.numberTooLarge(text(t)), t.range)
            return nil
        }
        return IntegerClause(value: v, range: range(from: start))
    }

    /// `rate N/s`, `rate N/m`, `rate N/h`.
    private func parseRate(start: Int) -> RateClause? {
        guard kind == .integer && !current.atLineStart else {
            expected("a rate such as `50/s`")
            return nil
        }
        let countToken = advance()
        guard eat(.slash), kind == .identifier, !current.atLineStart else {
            error(.rateWithoutPeriod(count: text(countToken)), range(from: start))
            return nil
        }
        let unitToken = advance()
        let unit = text(unitToken)
        let seconds: Int
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3600
        default:
            error(.unknownRatePeriod(count: text(countToken), unit: unit), SourceRange(countToken.range.start, unitToken.range.end))
            return nil
        }
        guard let count = Int(text(countToken)), count > 0 else {
            error(.rateBelowOne, range(from: start))
            return nil
        }
        return RateClause(count: count, perSeconds: seconds, range: range(from: start))
    }

    // MARK: Handlers

    private func parseFn() -> Declaration.Kind {
        let start = advance().range.start
        let name = declaredName("function")
        return .handler(parseHandlerRest(trigger: .fn(name: name), start: start, what: "`fn \(name.name)`"))
    }

    private func parseRoute() -> Declaration.Kind {
        let start = advance().range.start
        let method: Identifier
        if let m = identifier() {
            method = m
        } else {
            expected("an HTTP method such as GET or POST")
            method = Identifier("", SourceRange(previousEnd, previousEnd))
        }
        var path = ""
        var pathRange = SourceRange(previousEnd, previousEnd)
        if kind == .string {
            let lit = parsePlainString()
            path = lit.text
            pathRange = lit.range
        } else {
            expected("the route's path as a string, such as \"/orders/:id\"")
        }
        return .handler(parseHandlerRest(trigger: .route(method: method, path: path, pathRange: pathRange),
                                         start: start, what: "this route"))
    }

    private func parseOn() -> Declaration.Kind {
        let start = advance().range.start
        let topic = declaredName("topic to subscribe to")
        return .handler(parseHandlerRest(trigger: .on(topic: topic), start: start, what: "this handler"))
    }

    private func parseEvery() -> Declaration.Kind {
        let start = advance().range.start
        let schedule: Schedule
        switch kind {
        case .duration:
            let t = advance()
            let ms = Lexer.durationMilliseconds(text(t)) ?? Int64.max
            schedule = .interval(milliseconds: ms, range: t.range)
        case .string:
            let lit = parsePlainString()
            schedule = .cron(lit.text, range: lit.range)
        default:
            expected("a duration such as `1h` or a cron string such as \"0 9 * * 1\"")
            schedule = .interval(milliseconds: 0, range: SourceRange(previousEnd, previousEnd))
        }
        return .handler(parseHandlerRest(trigger: .every(schedule), start: start, what: "this schedule", takesParameters: false))
    }

    /// `(params) attrs { body }`, shared by every handler kind.
    private func parseHandlerRest(trigger: HandlerDecl.Trigger, start: Int, what: String,
                                  takesParameters: Bool = true) -> HandlerDecl {
        var params: [Identifier] = []
        var paramsRange = SourceRange(previousEnd, previousEnd)
        if kind == .leftParen {
            let open = advance().range.start
            var progress = LoopProgress()
            while kind != .rightParen && kind != .eof && kind != .leftBrace && progress.check(self) {
                if let p = identifier() {
                    params.append(p)
                } else {
                    expected("a parameter name")
                    if kind != .comma && kind != .rightParen { advance() }
                }
                if !eat(.comma) { break }
            }
            expect(.rightParen)
            paramsRange = range(from: open)
            if !takesParameters {
                error(.scheduleParameters, paramsRange, fixIts: [FixIt("remove the parameter list", [TextEdit(paramsRange, "")])])
            }
        } else if takesParameters {
            if case .fn = trigger {
                expected("`(` to start the parameter list", fixIts: [FixIt("insert `()`", [TextEdit(SourceRange(previousEnd, previousEnd), "()")])])
            }
        }
        var attributes: [Attribute] = []
        var progress = LoopProgress()
        while kind == .identifier && progress.check(self) {
            let nameToken = advance()
            let name = Identifier(text(nameToken), nameToken.range)
            let value: Expr
            if kind == .leftBrace || current.atLineStart {
                expected("a value for `\(name.name)`")
                value = expr(.invalid, SourceRange(previousEnd, previousEnd))
            } else {
                value = parseUnary()
            }
            attributes.append(Attribute(name: name, value: value, range: range(from: nameToken.range.start)))
        }
        let headerRange = range(from: start)
        let body: Block
        if kind == .leftBrace {
            body = parseBlock()
        } else {
            expected("`{` to start the body of \(what)")
            recover(toLineStart: false, stopAtDeclarations: true)
            body = Block(statements: [], range: SourceRange(previousEnd, previousEnd))
        }
        return HandlerDecl(trigger: trigger, params: params, paramsRange: paramsRange, attributes: attributes,
                           body: body, headerRange: headerRange)
    }

    /// A string literal that must not interpolate (URLs, paths, cron strings).
    func parsePlainString() -> (text: String, range: SourceRange) {
        let tokenIndex = index
        let t = advance()
        var out = ""
        for part in strings[tokenIndex] ?? [] {
            switch part {
            case .text(let s, _): out += s
            case .interpolation(let r):
                error(.interpolationNotAllowed, SourceRange(r.start - 1, r.end + 1))
            }
        }
        return (out, t.range)
    }
}
