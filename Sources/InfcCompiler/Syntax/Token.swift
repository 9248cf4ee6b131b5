// Syntax stage: tokens produced by the Lexer.

public enum TokenKind: Hashable, Sendable {
    case identifier
    case keyword(Keyword)
    case integer
    case decimal
    case duration
    case string
    // Punctuation and operators
    case leftParen, rightParen, leftBrace, rightBrace, leftBracket, rightBracket
    case comma, colon, semicolon, dot
    case plus, minus, star, slash, percent
    case bang, equal, equalEqual, bangEqual, less, lessEqual, greater, greaterEqual
    case ampAmp, pipePipe, questionQuestion
    case invalid
    case eof
}

/// Reserved words. Declaration words (app, table, bucket, topic, secret, service, route, on,
/// every) are contextual: they are identifiers everywhere except at the start of a declaration.
public enum Keyword: String, CaseIterable, Sendable {
    case `let`, `var`, `if`, `else`, `for`, `in`, `while`, `return`, `throw`, `try`, `catch`
    case sleep, parallel, async, `true`, `false`, null, fn
}

public struct Token: Hashable, Sendable {
    public var kind: TokenKind
    /// True when a line break (or the start of the file) separates this token from the previous one.
    public var atLineStart: Bool
    // The range as 32-bit offsets: 12 bytes a token instead of 32, and the token table is the
    // largest thing a parse allocates. (Offsets saturate at 4 GiB; the CLI reads 64 MiB at most.)
    private var start: UInt32
    private var end: UInt32

    public var range: SourceRange {
        get { SourceRange(Int(start), Int(end)) }
        set {
            start = UInt32(clamping: newValue.start)
            end = UInt32(clamping: newValue.end)
        }
    }

    public init(_ kind: TokenKind, _ range: SourceRange, atLineStart: Bool) {
        self.kind = kind
        self.atLineStart = atLineStart
        self.start = UInt32(clamping: range.start)
        self.end = UInt32(clamping: range.end)
    }
}

extension TokenKind {
    /// How the token is named in "expected X, found Y" messages.
    public var description: String {
        switch self {
        case .identifier: return "a name"
        case .keyword(let k): return "`\(k.rawValue)`"
        case .integer: return "an integer"
        case .decimal: return "a number"
        case .duration: return "a duration"
        case .string: return "a string"
        case .leftParen: return "`(`"
        case .rightParen: return "`)`"
        case .leftBrace: return "`{`"
        case .rightBrace: return "`}`"
        case .leftBracket: return "`[`"
        case .rightBracket: return "`]`"
        case .comma: return "`,`"
        case .colon: return "`:`"
        case .semicolon: return "`;`"
        case .dot: return "`.`"
        case .plus: return "`+`"
        case .minus: return "`-`"
        case .star: return "`*`"
        case .slash: return "`/`"
        case .percent: return "`%`"
        case .bang: return "`!`"
        case .equal: return "`=`"
        case .equalEqual: return "`==`"
        case .bangEqual: return "`!=`"
        case .less: return "`<`"
        case .lessEqual: return "`<=`"
        case .greater: return "`>`"
        case .greaterEqual: return "`>=`"
        case .ampAmp: return "`&&`"
        case .pipePipe: return "`||`"
        case .questionQuestion: return "`??`"
        case .invalid: return "an invalid character"
        case .eof: return "the end of the file"
        }
    }
}
