// Syntax stage: the recursive-descent parser's core — token cursor, node ids, error recovery
// and nesting limits. Grammar rules live in Parser+Declarations, +Statements, +Expressions.
// Invariant: parsing never fails; it returns a tree (with `.invalid` placeholders) and diagnostics.

public struct ParseResult: Sendable {
    public var program: Program
    public var diagnostics: [Diagnostic]
}

public final class Parser {
    /// Deepest nesting of blocks, brackets and interpolations the parser accepts.
    public static let maxNesting = 256
    /// Tallest expression tree the parser builds (long operator chains count too).
    public static let maxExpressionHeight = 512

    let file: SourceFile
    let bytes: [UInt8]
    var tokens: [Token]
    var strings: [Int: [LexedStringPart]]
    var index = 0
    var diagnostics: [Diagnostic]
    var nextID: Int32
    var depth: Int
    /// Height of each expression taller than 1, by node id (missing or 1: a leaf). An array, not
    /// a dictionary: every expression node reads its children's heights.
    var heights: [Int32] = []
    /// False in `if`/`while`/`for` headers, where `{` opens the body, not an object literal.
    var allowObjectLiteral = true
    var reportedNesting = false

    /// Parses a whole file.
    public static func parse(_ file: SourceFile) -> ParseResult {
        let parser = Parser(file: file, range: 0..<file.bytes.count, nextID: 0, depth: 0)
        let decls = parser.parseDeclarations()
        return ParseResult(program: Program(declarations: decls, nodeCount: Int(parser.nextID)),
                           diagnostics: parser.diagnostics)
    }

    init(file: SourceFile, range: Range<Int>, nextID: Int32, depth: Int) {
        self.file = file
        self.bytes = file.bytes
        let lexed = Lexer.tokenize(file.bytes, range: range)
        self.tokens = lexed.tokens
        self.strings = lexed.strings
        self.diagnostics = lexed.diagnostics
        self.nextID = nextID
        self.depth = depth
    }

    // MARK: Cursor

    var current: Token { tokens[index] }
    var kind: TokenKind { tokens[index].kind }
    var previousEnd: Int { index > 0 ? tokens[index - 1].range.end : tokens[0].range.start }
    func peekKind(_ k: Int = 1) -> TokenKind { tokens[min(index + k, tokens.count - 1)].kind }

    @discardableResult
    func advance() -> Token {
        let t = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    func at(_ k: TokenKind) -> Bool { kind == k }

    @discardableResult
    func eat(_ k: TokenKind) -> Bool {
        if kind == k { advance(); return true }
        return false
    }

    func text(_ t: Token) -> String { String(decoding: bytes[t.range.start..<t.range.end], as: UTF8.self) }

    /// True when the current token is an identifier spelled `word`.
    func atWord(_ word: String) -> Bool {
        guard kind == .identifier, current.range.length == word.utf8.count else { return false }
        var j = current.range.start
        for b in word.utf8 {
            if bytes[j] != b { return false }
            j += 1
        }
        return true
    }

    /// The current token's text when it can name something (identifiers and, in member and key
    /// positions, keywords).
    func identifier(allowKeywords: Bool = false) -> Identifier? {
        switch kind {
        case .identifier: let t = advance(); return Identifier(text(t), t.range)
        case .keyword where allowKeywords: let t = advance(); return Identifier(text(t), t.range)
        default: return nil
        }
    }

    // MARK: Nodes

    func makeID() -> NodeID {
        defer { nextID += 1 }
        return NodeID(nextID)
    }

    /// The height of an expression built by this parse (1 for a leaf).
    @inline(__always)
    func height(_ e: Expr) -> Int32 {
        let i = Int(e.id.raw)
        return i < heights.count ? heights[i] : 1
    }

    /// The tallest of `items` (0 when empty).
    func maxHeight(_ items: [Expr]) -> Int32 {
        var h: Int32 = 0
        for e in items { h = max(h, height(e)) }
        return h
    }

    /// A new expression node whose tallest child has height `childHeight` (0: no children);
    /// an expression taller than `maxExpressionHeight` becomes `.invalid` and is reported.
    func expr(_ kind: Expr.Kind, _ range: SourceRange, childHeight: Int32 = 0) -> Expr {
        let id = makeID()
        let h = childHeight + 1
        if h > 1 {
            let i = Int(id.raw)
            if heights.count <= i {
                // Doubling: ids grow one by one, and most nodes are leaves that never get here.
                heights += [Int32](repeating: 1, count: max(i + 1, 2 * heights.count, 1024) - heights.count)
            }
            heights[i] = h
        }
        if Int(h) > Parser.maxExpressionHeight {
            reportNesting(at: range, what: "expression")
            return Expr(id: id, range: range, kind: .invalid)
        }
        return Expr(id: id, range: range, kind: kind)
    }

    func stmt(_ kind: Stmt.Kind, _ range: SourceRange) -> Stmt { Stmt(id: makeID(), range: range, kind: kind) }

    func range(from start: Int) -> SourceRange { SourceRange(start, max(start, previousEnd)) }

    // MARK: Diagnostics and recovery

    func error(_ message: DiagnosticMessage, _ range: SourceRange, fixIts: [FixIt] = []) {
        diagnostics.append(Diagnostic(message, at: Label(range), fixIts: fixIts))
    }

    /// Reports "expected X, found Y" (`.expected(what, found:)`) at the current token.
    func expected(_ what: String, fixIts: [FixIt] = []) {
        expected({ .expected(what, found: $0) }, fixIts: fixIts)
    }

    /// Reports a message of the "expected …, found Y" kind at the current token, given what was
    /// found, unless an error was already reported there.
    func expected(_ message: (_ found: String) -> DiagnosticMessage, fixIts: [FixIt] = []) {
        if kind == .invalid { return }  // the lexer already reported this token
        let found = kind == .keyword(.fn) || kind == .identifier ? "`\(text(current))`" : kind.description
        let at = kind == .eof ? SourceRange(previousEnd, previousEnd) : current.range
        if let last = diagnostics.last, last.range.start == at.start, last.severity == .error { return }
        error(message(found), at, fixIts: fixIts)
    }

    /// Consumes `k` or reports that it is missing (with a fix-it inserting it).
    @discardableResult
    func expect(_ k: TokenKind, _ what: String? = nil) -> Bool {
        if eat(k) { return true }
        let name = what ?? k.description
        let insertion = TokenKind.insertionText[k]
        let fix = insertion.map { [FixIt("insert `\($0)`", [TextEdit(SourceRange(previousEnd, previousEnd), $0)])] } ?? []
        expected(name, fixIts: fix)
        return false
    }

    func reportNesting(at range: SourceRange, what: String) {
        guard !reportedNesting else { return }
        reportedNesting = true
        error(.nestingTooDeep(what: what, limit: Parser.maxNesting), range)
    }

    /// Enters one level of nesting; false (with a diagnostic) when the limit is reached.
    func enterNesting() -> Bool {
        if depth >= Parser.maxNesting {
            reportNesting(at: current.range, what: "code")
            return false
        }
        depth += 1
        return true
    }

    func exitNesting() { depth -= 1 }

    /// Skips the current token, or the whole bracketed group it opens, without recursion.
    func skipGroup() {
        var balance = 0
        repeat {
            switch kind {
            case .leftParen, .leftBrace, .leftBracket: balance += 1
            case .rightParen, .rightBrace, .rightBracket: balance -= 1
            case .eof: return
            default: break
            }
            advance()
        } while balance > 0
    }

    /// Skips to the end of the enclosing construct: stops before a closer that would unbalance,
    /// or (when `toLineStart`) before the next token that starts a line at bracket depth 0.
    func recover(toLineStart: Bool, stopAtDeclarations: Bool = false) {
        var balance = 0
        var first = true
        var progress = LoopProgress()
        while kind != .eof && progress.check(self) {
            if balance == 0 && !first {
                if toLineStart && current.atLineStart { return }
                if stopAtDeclarations && current.atLineStart && atDeclarationStart { return }
            }
            switch kind {
            case .leftParen, .leftBrace, .leftBracket: balance += 1
            case .rightParen, .rightBrace, .rightBracket:
                if balance == 0 { return }
                balance -= 1
            case .semicolon where balance == 0:
                advance()
                return
            default: break
            }
            first = false
            advance()
        }
    }

    var atDeclarationStart: Bool {
        if kind == .keyword(.fn) { return true }
        guard kind == .identifier, current.range.length <= 7 else { return false }
        // Compared in place: this runs for every statement that starts a line.
        switch bytes[current.range.start] {
        case UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "e"), UInt8(ascii: "o"), UInt8(ascii: "r"),
             UInt8(ascii: "s"), UInt8(ascii: "t"):
            for word in Parser.declarationWordList where atWord(word) { return true }
            return false
        default:
            return false
        }
    }

    /// A declaration word followed by what a declaration would have next (`table orders`,
    /// `route GET`, `every 1d`): inside a block this means a `}` is missing.
    var looksLikeDeclaration: Bool {
        if kind == .keyword(.fn) { return true }
        guard atDeclarationStart else { return false }
        switch peekKind() {
        case .identifier, .string, .duration: return true
        default: return false
        }
    }

    static let declarationWordList = ["app", "table", "bucket", "topic", "secret", "service", "route", "on", "every"]
    static let declarationWords = Set(declarationWordList)
}

/// The progress check of a parser loop: each turn must start further on than the one before.
/// A turn that consumes no token would repeat forever (`app x{)` once hung every command and the
/// language server): that is a parser bug, so it fails an assertion in debug builds (the tests and
/// the fuzzers), and ends the loop in release builds, where a user gets at worst a missing
/// diagnostic, never a hang. Every loop of the parser that calls a grammar rule checks it.
struct LoopProgress {
    private var last = -1

    /// True when the parser moved on since the previous call (always on the first).
    mutating func check(_ parser: Parser) -> Bool {
        guard parser.index > last else {
            assertionFailure("a parser loop made no progress at byte \(parser.current.range.start)")
            return false
        }
        last = parser.index
        return true
    }
}

extension TokenKind {
    /// Text a fix-it inserts for a missing token.
    static let insertionText: [TokenKind: String] = [
        .rightParen: ")", .rightBrace: "}", .rightBracket: "]", .leftBrace: "{", .leftParen: "(",
        .colon: ":", .comma: ",", .equal: "=",
    ]
}
