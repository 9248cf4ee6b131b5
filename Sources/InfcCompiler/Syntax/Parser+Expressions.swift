// Syntax stage: expressions by precedence climbing. Postfix `(` and `[` bind only on the same
// line; `.` may start a continuation line. String interpolations are parsed by a sub-parser
// over the interpolation's byte range, sharing node ids and the nesting budget.

extension Parser {
    func parseExpression() -> Expr {
        parseBinary(minPrecedence: 1)
    }

    private func binaryOperator(_ k: TokenKind) -> BinaryOperator? {
        switch k {
        case .plus: return .add
        case .minus: return current.atLineStart ? nil : .subtract
        case .star: return .multiply
        case .slash: return .divide
        case .percent: return .remainder
        case .equalEqual: return .equal
        case .bangEqual: return .notEqual
        case .less: return .less
        case .lessEqual: return .lessEqual
        case .greater: return .greater
        case .greaterEqual: return .greaterEqual
        case .ampAmp: return .and
        case .pipePipe: return .or
        case .questionQuestion: return .coalesce
        default: return nil
        }
    }

    private func parseBinary(minPrecedence: Int) -> Expr {
        var lhs = parseUnary()
        var progress = LoopProgress()
        while let op = binaryOperator(kind), op.precedence >= minPrecedence, progress.check(self) {
            let opToken = advance()
            if kind == .eof || kind == .rightBrace || kind == .rightParen {
                expected { .expectedExpression("an expression after `\(op.rawValue)`", found: $0, hint: nil) }
                return expr(.binary(op, lhs, expr(.invalid, opToken.range)), lhs.range.union(opToken.range))
            }
            // Comparisons do not chain: `a < b < c` is parsed as `(a < b) < c` and reported.
            let rhs = parseBinary(minPrecedence: op.precedence + 1)
            if op.precedence == 5, case .binary(let inner, _, _) = lhs.kind, inner.precedence == 5 {
                error(.chainedComparison, lhs.range.union(rhs.range))
            }
            lhs = expr(.binary(op, lhs, rhs), lhs.range.union(rhs.range), childHeight: max(height(lhs), height(rhs)))
        }
        return lhs
    }

    func parseUnary() -> Expr {
        let start = current.range.start
        switch kind {
        case .minus, .bang:
            let op: UnaryOperator = advance().kind == .minus ? .negate : .not
            guard enterNesting() else { skipGroup(); return expr(.invalid, range(from: start)) }
            defer { exitNesting() }
            let operand = parseUnary()
            return expr(.unary(op, operand), range(from: start), childHeight: height(operand))
        case .keyword(.async):
            advance()
            let operand = parsePostfix()
            guard case .call = operand.kind else {
                if case .invalid = operand.kind { return operand }
                error(.asyncNeedsCall, operand.range)
                return expr(.invalid, range(from: start))
            }
            return expr(.async(operand), range(from: start), childHeight: height(operand))
        default:
            return parsePostfix()
        }
    }

    private func parsePostfix() -> Expr {
        var e = parsePrimary()
        if case .invalid = e.kind { return e }
        var progress = LoopProgress()
        while progress.check(self) {
            switch kind {
            case .dot:
                advance()
                guard let name = identifier(allowKeywords: true) else {
                    expected("a field or operation name after `.`")
                    return expr(.invalid, e.range)
                }
                e = expr(.member(e, name), e.range.union(name.range), childHeight: height(e))
            case .leftParen where !current.atLineStart:
                advance()
                let args = parseList(closer: .rightParen, what: "argument")
                e = expr(.call(callee: e, arguments: args), range(from: e.range.start), childHeight: max(height(e), maxHeight(args)))
            case .leftBracket where !current.atLineStart:
                advance()
                let saved = allowObjectLiteral
                allowObjectLiteral = true
                let index = parseExpression()
                allowObjectLiteral = saved
                expect(.rightBracket)
                e = expr(.index(e, index), range(from: e.range.start), childHeight: max(height(e), height(index)))
            default:
                return e
            }
        }
        return e
    }

    /// Comma-separated expressions up to `closer` (consumed); newlines are insignificant inside.
    private func parseList(closer: TokenKind, what: String) -> [Expr] {
        guard enterNesting() else { index -= 1; skipGroup(); return [] }
        defer { exitNesting() }
        let saved = allowObjectLiteral
        allowObjectLiteral = true
        defer { allowObjectLiteral = saved }
        var items: [Expr] = []
        var progress = LoopProgress()
        while kind != closer && kind != .eof && progress.check(self) {
            let item = parseExpression()
            items.append(item)
            if case .invalid = item.kind {
                recoverInList(closer: closer)
            }
            if !eat(.comma) { break }
        }
        expect(closer)
        return items
    }

    /// Skips to the next `,` or `closer` at this bracket depth.
    private func recoverInList(closer: TokenKind) {
        var balance = 0
        while kind != .eof {
            if balance == 0 && (kind == .comma || kind == closer) { return }
            switch kind {
            case .leftParen, .leftBrace, .leftBracket: balance += 1
            case .rightParen, .rightBrace, .rightBracket:
                if balance == 0 { return }
                balance -= 1
            default: break
            }
            advance()
        }
    }

    private func parsePrimary() -> Expr {
        let t = current
        switch t.kind {
        case .integer, .decimal:
            advance()
            let value = t.kind == .integer ? integerValue(t) : Double(text(t)) ?? .infinity
            if !value.isFinite { error(.numberTooLarge(text(t)), t.range) }
            return expr(.number(value), t.range)
        case .duration:
            advance()
            guard let ms = Lexer.durationMilliseconds(text(t)) else {
                error(.durationTooLong(text(t)), t.range)
                return expr(.invalid, t.range)
            }
            return expr(.duration(ms), t.range)
        case .string:
            return parseStringLiteral()
        case .keyword(.true): advance(); return expr(.bool(true), t.range)
        case .keyword(.false): advance(); return expr(.bool(false), t.range)
        case .keyword(.null): advance(); return expr(.null, t.range)
        case .identifier:
            advance()
            return expr(.name(text(t)), t.range)
        case .leftParen:
            advance()
            guard enterNesting() else { index -= 1; skipGroup(); return expr(.invalid, range(from: t.range.start)) }
            defer { exitNesting() }
            let saved = allowObjectLiteral
            allowObjectLiteral = true
            let inner = parseExpression()
            allowObjectLiteral = saved
            expect(.rightParen)
            return expr(inner.kind, range(from: t.range.start), childHeight: height(inner))
        case .leftBracket:
            advance()
            let items = parseList(closer: .rightBracket, what: "element")
            return expr(.list(items), range(from: t.range.start), childHeight: maxHeight(items))
        case .leftBrace where allowObjectLiteral:
            return parseObjectLiteral()
        case .invalid:
            advance()
            return expr(.invalid, t.range)
        default:
            var hint: DiagnosticMessage.ExpressionHint?
            if case .keyword(let k) = t.kind, k != .async {
                hint = .reservedWord(k.rawValue)
            }
            if t.kind == .leftBrace {
                hint = .bareObjectLiteral
            }
            expected { .expectedExpression("an expression", found: $0, hint: hint) }
            return expr(.invalid, SourceRange(t.range.start, t.range.start))
        }
    }

    /// An integer literal's value; exact like `Double(String)` for up to 15 digits (below 2^53),
    /// which covers nearly every literal without building a String.
    private func integerValue(_ t: Token) -> Double {
        guard t.range.length <= 15 else { return Double(text(t)) ?? .infinity }
        var v: Int64 = 0
        for i in t.range.start..<t.range.end { v = v * 10 + Int64(bytes[i] &- 0x30) }
        return Double(v)
    }

    private func parseObjectLiteral() -> Expr {
        let start = advance().range.start
        guard enterNesting() else { index -= 1; skipGroup(); return expr(.invalid, range(from: start)) }
        defer { exitNesting() }
        var entries: [ObjectEntry] = []
        // Keys seen, for duplicates: found by a scan of `entries` while there are few (most
        // literals have a handful of keys, and a dictionary per literal cost a tenth of the
        // parse), in a dictionary once there are many.
        var seen: [String: SourceRange]?
        var progress = LoopProgress()
        while kind != .rightBrace && kind != .eof && progress.check(self) {
            if eat(.comma) { continue }
            // A stray closer ends the literal; `expect` below reports the missing `}`.
            if kind == .rightParen || kind == .rightBracket { break }
            let key: String
            let keyRange: SourceRange
            if kind == .string {
                let lit = parsePlainString()
                key = lit.text
                keyRange = lit.range
            } else if let name = identifier(allowKeywords: true) {
                key = name.name
                keyRange = name.range
            } else {
                expected("a key in the object literal")
                recoverInList(closer: .rightBrace)
                continue
            }
            guard expect(.colon) else {
                recoverInList(closer: .rightBrace)
                continue
            }
            let value = parseExpression()
            let previous = seen != nil ? seen?[key] : entries.last(where: { $0.key == key })?.keyRange
            if let first = previous {
                diagnostics.append(Diagnostic(.duplicateObjectKey(key), at: Label(keyRange),
                                              secondary: [Label(first, "first given here")]))
            }
            entries.append(ObjectEntry(key: key, keyRange: keyRange, value: value))
            if seen != nil {
                seen?[key] = keyRange
            } else if entries.count > 16 {
                seen = Dictionary(entries.map { ($0.key, $0.keyRange) }, uniquingKeysWith: { _, later in later })
            }
            if case .invalid = value.kind { recoverInList(closer: .rightBrace) }
            if kind != .rightBrace && kind != .comma && !current.atLineStart {
                expected("`,` or `}` in the object literal")
                recoverInList(closer: .rightBrace)
            }
        }
        expect(.rightBrace)
        var tallest: Int32 = 0
        for entry in entries { tallest = max(tallest, height(entry.value)) }
        return expr(.object(entries), range(from: start), childHeight: tallest)
    }

    private func parseStringLiteral() -> Expr {
        let tokenIndex = index
        let t = advance()
        var parts: [StringPart] = []
        var children: [Expr] = []
        for part in strings[tokenIndex] ?? [] {
            switch part {
            case .text(let s, _):
                parts.append(.text(s))
            case .interpolation(let r):
                let e = parseInterpolation(r)
                children.append(e)
                parts.append(.interpolation(e))
            }
        }
        return expr(.string(parts), t.range, childHeight: maxHeight(children))
    }

    private func parseInterpolation(_ r: SourceRange) -> Expr {
        guard depth < Parser.maxNesting else {
            reportNesting(at: r, what: "string interpolation")
            return expr(.invalid, r)
        }
        let sub = Parser(file: file, range: r.start..<r.end, nextID: nextID, depth: depth + 1)
        sub.reportedNesting = reportedNesting
        // Ids continue in the sub-parser, so it takes over the height table (moved, not copied).
        sub.heights = heights
        heights = []
        var e: Expr
        if sub.kind == .eof {
            e = sub.expr(.invalid, SourceRange(r.start - 1, r.end + 1))
            sub.error(.emptyInterpolation, SourceRange(r.start - 1, r.end + 1))
        } else {
            e = sub.parseExpression()
            if sub.kind != .eof { sub.expected("the end of the interpolation `}`") }
        }
        nextID = sub.nextID
        diagnostics.append(contentsOf: sub.diagnostics)
        reportedNesting = sub.reportedNesting
        heights = sub.heights
        sub.heights = []
        return e
    }
}
