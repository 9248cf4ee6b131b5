// Syntax stage: blocks and statements. Statements end at a line break, `;` or `}`; after an
// error the parser skips to the next line start at the same bracket depth.

extension Parser {
    func parseBlock() -> Block {
        let start = current.range.start
        guard expect(.leftBrace) else { return Block(statements: [], range: SourceRange(start, start)) }
        guard enterNesting() else {
            recover(toLineStart: false)
            eat(.rightBrace)
            return Block(statements: [], range: range(from: start))
        }
        defer { exitNesting() }
        var statements: [Stmt] = []
        var progress = LoopProgress()
        while kind != .rightBrace && kind != .eof && progress.check(self) {
            if eat(.semicolon) { continue }
            if current.atLineStart && looksLikeDeclaration {
                break  // a missing `}`: let the declaration parser take over
            }
            let before = index
            let s = parseStatement()
            statements.append(s)
            if index == before {
                // A statement cannot start here (a stray closer): skip it and the closers right
                // after it, reported once — `))))…` is one mistake, not one per token.
                advance()
                while kind == .rightParen || kind == .rightBracket { advance() }
            }
            if case .invalid = s.kind { continue }
            // A statement ends at a line break, `;` or `}`.
            if kind != .rightBrace && kind != .eof && kind != .semicolon && !current.atLineStart {
                expected("a line break or `;` after the statement")
                recover(toLineStart: true)
            }
        }
        if kind == .rightBrace {
            advance()
        } else {
            error(.unclosedBlock, SourceRange(start, start + 1),
                  fixIts: [FixIt("insert `}`", [TextEdit(SourceRange(previousEnd, previousEnd), "\n}")])])
        }
        return Block(statements: statements, range: range(from: start))
    }

    func parseStatement() -> Stmt {
        let start = current.range.start
        switch kind {
        case .keyword(.let), .keyword(.var):
            let mutable = advance().kind == .keyword(.var)
            guard let name = identifier() else {
                expected("a name after `\(mutable ? "var" : "let")`")
                recover(toLineStart: true)
                return stmt(.invalid, range(from: start))
            }
            guard expect(.equal) else {
                recover(toLineStart: true)
                return stmt(.invalid, range(from: start))
            }
            let value = parseExpression()
            return stmt(.binding(mutable: mutable, name: name, value: value), range(from: start))
        case .keyword(.if):
            return parseIf()
        case .keyword(.for):
            advance()
            guard let variable = identifier() else {
                expected("a loop variable name after `for`")
                recover(toLineStart: true)
                return stmt(.invalid, range(from: start))
            }
            guard expect(.keyword(.in)) else {
                recover(toLineStart: true)
                return stmt(.invalid, range(from: start))
            }
            let sequence = parseHeaderExpression()
            let body = parseBlock()
            return stmt(.forIn(variable: variable, sequence: sequence, body: body), range(from: start))
        case .keyword(.while):
            advance()
            let condition = parseHeaderExpression()
            let body = parseBlock()
            return stmt(.whileLoop(condition: condition, body: body), range(from: start))
        case .keyword(.return):
            advance()
            if kind == .rightBrace || kind == .semicolon || kind == .eof || current.atLineStart {
                return stmt(.returnStmt(nil), range(from: start))
            }
            return stmt(.returnStmt(parseExpression()), range(from: start))
        case .keyword(.throw):
            advance()
            return stmt(.throwStmt(parseExpression()), range(from: start))
        case .keyword(.try):
            advance()
            let body = parseBlock()
            var variable: Identifier?
            let handler: Block
            if eat(.keyword(.catch)) {
                variable = identifier()
                handler = parseBlock()
            } else {
                expected { .expectedCatch(found: $0) }
                handler = Block(statements: [], range: SourceRange(previousEnd, previousEnd))
            }
            return stmt(.tryCatch(body: body, variable: variable, handler: handler), range(from: start))
        case .keyword(.sleep):
            advance()
            if current.atLineStart || kind == .rightBrace {
                expected { .expectedSleepDuration(found: $0) }
                return stmt(.invalid, range(from: start))
            }
            return stmt(.sleep(parseExpression()), range(from: start))
        case .keyword(.parallel):
            advance()
            return stmt(.parallel(parseBlock()), range(from: start))
        case .leftBrace:
            return stmt(.block(parseBlock()), range(from: start))
        case .keyword(.else):
            error(.elseWithoutIf, current.range)
            advance()
            recover(toLineStart: true)
            return stmt(.invalid, range(from: start))
        default:
            let e = parseExpression()
            if case .invalid = e.kind {
                recover(toLineStart: true)
                return stmt(.invalid, range(from: start))
            }
            if kind == .equal {
                advance()
                let value = parseExpression()
                if !Parser.isAssignable(e) {
                    error(.invalidAssignmentTarget, e.range)
                }
                return stmt(.assign(target: e, value: value), range(from: start))
            }
            return stmt(.expression(e), range(from: start))
        }
    }

    private func parseIf() -> Stmt {
        let start = advance().range.start
        let condition = parseHeaderExpression()
        let then = parseBlock()
        var otherwise: Stmt?
        if kind == .keyword(.else) {
            advance()
            if kind == .keyword(.if) {
                guard enterNesting() else {
                    recover(toLineStart: false)
                    return stmt(.ifElse(condition: condition, then: then, otherwise: nil), range(from: start))
                }
                otherwise = parseIf()
                exitNesting()
            } else {
                let blockStart = current.range.start
                let block = parseBlock()
                otherwise = stmt(.block(block), range(from: blockStart))
            }
        }
        return stmt(.ifElse(condition: condition, then: then, otherwise: otherwise), range(from: start))
    }

    /// An expression in an `if`, `while` or `for` header, where `{` begins the body.
    private func parseHeaderExpression() -> Expr {
        if kind == .leftBrace {
            expected("a condition before `{`")
            return expr(.invalid, SourceRange(previousEnd, previousEnd))
        }
        let saved = allowObjectLiteral
        allowObjectLiteral = false
        defer { allowObjectLiteral = saved }
        return parseExpression()
    }

    static func isAssignable(_ e: Expr) -> Bool {
        switch e.kind {
        case .name: return true
        case .member(let base, _), .index(let base, _): return isAssignable(base)
        default: return false
        }
    }
}
