// Syntax stage: the Lexer turns a byte range of a source file into tokens. It never fails:
// bad input becomes `.invalid` tokens plus diagnostics. String literals are scanned whole;
// their decoded text and interpolation ranges are kept beside the token for the parser.

/// One piece of a string literal: decoded text, or the byte range of an `{expr}`.
public enum LexedStringPart: Sendable {
    case text(String, SourceRange)
    case interpolation(SourceRange)
}

public struct LexedTokens: Sendable {
    public var tokens: [Token]
    /// String literal parts, keyed by token index.
    public var strings: [Int: [LexedStringPart]]
    public var diagnostics: [Diagnostic]
}

public struct Lexer {
    /// The file's bytes, borrowed for the duration of `tokenize` (no bounds checks, no
    /// reference counting in the per-byte loops).
    private let bytes: UnsafeBufferPointer<UInt8>
    private var i: Int
    private let end: Int
    /// Where tokens are written (uninitialized memory), `count` written so far.
    private let out: UnsafeMutableBufferPointer<Token>
    private var count = 0
    private var strings: [Int: [LexedStringPart]] = [:]
    private var diagnostics: [Diagnostic] = []
    private var sawNewline = true

    /// Lexes `bytes[range]`; token ranges are offsets into the whole file.
    public static func tokenize(_ bytes: [UInt8], range: Range<Int>? = nil) -> LexedTokens {
        let r = (range ?? 0..<bytes.count).clamped(to: 0..<bytes.count)
        return bytes.withUnsafeBufferPointer { tokenize($0, range: r) }
    }

    private static func tokenize(_ bytes: UnsafeBufferPointer<UInt8>, range r: Range<Int>) -> LexedTokens {
        // Every token but the end takes at least one byte, so the table never needs to grow;
        // only the part written is ever touched (about one token per three bytes).
        var strings: [Int: [LexedStringPart]] = [:], diagnostics: [Diagnostic] = []
        let tokens = [Token](unsafeUninitializedCapacity: r.count + 1) { buffer, initialized in
            var lexer = Lexer(bytes: bytes, i: r.lowerBound, end: r.upperBound, out: buffer)
            lexer.run()
            initialized = lexer.count
            strings = lexer.strings
            diagnostics = lexer.diagnostics
        }
        return LexedTokens(tokens: tokens, strings: strings, diagnostics: diagnostics)
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, i: Int, end: Int, out: UnsafeMutableBufferPointer<Token>) {
        self.bytes = bytes
        self.i = i
        self.end = end
        self.out = out
    }

    private mutating func run() {
        while true {
            skipTrivia()
            guard i < end else { break }
            lexToken()
        }
        write(Token(.eof, SourceRange(end, end), atLineStart: true))
    }

    private mutating func emit(_ kind: TokenKind, from start: Int) {
        write(Token(kind, SourceRange(start, i), atLineStart: sawNewline))
        sawNewline = false
    }

    @inline(__always)
    private mutating func write(_ token: Token) {
        guard count < out.count else { return }  // cannot happen: each token but the end takes a byte
        out.initializeElement(at: count, to: token)
        count += 1
    }

    private mutating func report(_ message: DiagnosticMessage, _ range: SourceRange) {
        diagnostics.append(Diagnostic(message, at: Label(range)))
    }

    private func peek(_ k: Int = 0) -> UInt8 { i + k < end ? bytes[i + k] : 0 }

    // MARK: Trivia

    private mutating func skipTrivia() {
        while i < end {
            let c = bytes[i]
            if c == 0x0A { sawNewline = true; i += 1 }
            else if c == 0x20 || c == 0x09 || c == 0x0D { i += 1 }
            else if c == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "/") {
                while i < end && bytes[i] != 0x0A { i += 1 }
            } else if c == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "*") {
                let start = i
                i += 2
                var closed = false
                while i < end {
                    if bytes[i] == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/") { i += 2; closed = true; break }
                    if bytes[i] == 0x0A { sawNewline = true }
                    i += 1
                }
                if !closed {
                    report(.unterminatedComment, SourceRange(start, start + 2))
                }
            } else {
                break
            }
        }
    }

    // MARK: Tokens

    private mutating func lexToken() {
        let start = i
        let c = bytes[i]
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"):
            while i < end && Lexer.isIdentifierByte(bytes[i]) { i += 1 }
            emit(Lexer.keyword(bytes, start, i).map { .keyword($0) } ?? .identifier, from: start)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            lexNumber(start)
        case UInt8(ascii: "\""):
            lexString(start)
        default:
            i += 1
            let kind: TokenKind
            switch c {
            case UInt8(ascii: "("): kind = .leftParen
            case UInt8(ascii: ")"): kind = .rightParen
            case UInt8(ascii: "{"): kind = .leftBrace
            case UInt8(ascii: "}"): kind = .rightBrace
            case UInt8(ascii: "["): kind = .leftBracket
            case UInt8(ascii: "]"): kind = .rightBracket
            case UInt8(ascii: ","): kind = .comma
            case UInt8(ascii: ":"): kind = .colon
            case UInt8(ascii: ";"): kind = .semicolon
            case UInt8(ascii: "."): kind = .dot
            case UInt8(ascii: "+"): kind = .plus
            case UInt8(ascii: "-"): kind = .minus
            case UInt8(ascii: "*"): kind = .star
            case UInt8(ascii: "/"): kind = .slash
            case UInt8(ascii: "%"): kind = .percent
            case UInt8(ascii: "!"): kind = match(UInt8(ascii: "=")) ? .bangEqual : .bang
            case UInt8(ascii: "="): kind = match(UInt8(ascii: "=")) ? .equalEqual : .equal
            case UInt8(ascii: "<"): kind = match(UInt8(ascii: "=")) ? .lessEqual : .less
            case UInt8(ascii: ">"): kind = match(UInt8(ascii: "=")) ? .greaterEqual : .greater
            case UInt8(ascii: "&") where match(UInt8(ascii: "&")): kind = .ampAmp
            case UInt8(ascii: "|") where match(UInt8(ascii: "|")): kind = .pipePipe
            case UInt8(ascii: "?") where match(UInt8(ascii: "?")): kind = .questionQuestion
            default:
                lexInvalid(start)
                return
            }
            emit(kind, from: start)
        }
    }

    private mutating func match(_ byte: UInt8) -> Bool {
        if i < end && bytes[i] == byte { i += 1; return true }
        return false
    }

    /// A run of characters that cannot start a token becomes one `.invalid` token and one diagnostic.
    private mutating func lexInvalid(_ start: Int) {
        i = start
        let first = bytes[i]
        if first >= 0x80 {
            while i < end && bytes[i] >= 0x80 { i += 1 }
        } else {
            i += 1
        }
        let range = SourceRange(start, i)
        if first == 0 {
            report(.unexpectedNULByte, range)
        } else if first >= 0x80 {
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            if String(validating: bytes[start..<i], as: UTF8.self) == nil {
                report(.invalidUTF8, range)
            } else {
                report(.unexpectedCharacter(text, hint: .nonASCII), range)
            }
        } else {
            let ch = Character(Unicode.Scalar(first))
            let hint: DiagnosticMessage.CharacterHint? = switch first {
            case UInt8(ascii: "&"): .and
            case UInt8(ascii: "|"): .or
            case UInt8(ascii: "?"): .coalesce
            case UInt8(ascii: "'"): .singleQuote
            default: nil
            }
            report(.unexpectedCharacter(String(ch), hint: hint), range)
        }
        emit(.invalid, from: start)
    }

    private mutating func lexNumber(_ start: Int) {
        while i < end && Lexer.isDigit(bytes[i]) { i += 1 }
        var isDecimal = false
        if i + 1 < end && bytes[i] == UInt8(ascii: ".") && Lexer.isDigit(bytes[i + 1]) {
            isDecimal = true
            i += 1
            while i < end && Lexer.isDigit(bytes[i]) { i += 1 }
        }
        if isDecimal && i + 1 < end && bytes[i] == UInt8(ascii: ".") && Lexer.isDigit(bytes[i + 1]) {
            while i + 1 < end && bytes[i] == UInt8(ascii: ".") && Lexer.isDigit(bytes[i + 1]) {
                i += 1
                while i < end && Lexer.isDigit(bytes[i]) { i += 1 }
            }
            report(.invalidNumber(String(decoding: bytes[start..<i], as: UTF8.self), looksLikeVersion: true), SourceRange(start, i))
            emit(.invalid, from: start)
            return
        }
        guard i < end, Lexer.isIdentifierStart(bytes[i]) else {
            emit(isDecimal ? .decimal : .integer, from: start)
            return
        }
        // A unit follows: this is a duration.
        let unitStart = i
        while i < end && Lexer.isIdentifierByte(bytes[i]) { i += 1 }
        let unit = String(decoding: bytes[unitStart..<i], as: UTF8.self)
        let range = SourceRange(start, i)
        if Lexer.durationUnits[unit] == nil {
            if Lexer.isDigitsThenLetters(unit) || unit.first == "e" || unit.first == "E" {
                report(.invalidNumber(String(decoding: bytes[start..<i], as: UTF8.self), looksLikeVersion: false), range)
            } else {
                report(.unknownDurationUnit(unit: String(unit), literal: String(decoding: bytes[start..<i], as: UTF8.self)), range)
            }
            emit(.invalid, from: start)
        } else if isDecimal {
            report(.fractionalDuration, range)
            emit(.invalid, from: start)
        } else {
            emit(.duration, from: start)
        }
    }

    private static func isDigitsThenLetters(_ s: String) -> Bool { s.first?.isNumber ?? false }

    static let durationUnits: [String: Int64] = ["ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]

    /// The value in milliseconds of a duration token's text (`250ms`, `2h`), or nil when it overflows.
    public static func durationMilliseconds(_ text: String) -> Int64? {
        let digits = text.prefix { $0.isNumber }
        guard let n = Int64(digits), let unit = durationUnits[String(text.dropFirst(digits.count))] else { return nil }
        let (v, overflow) = n.multipliedReportingOverflow(by: unit)
        return overflow ? nil : v
    }

    // MARK: Strings

    private enum StringFrame { case string, interpolation(braces: Int) }

    /// Scans a whole string literal, nested interpolations included, without recursion.
    private mutating func lexString(_ start: Int) {
        var stack: [StringFrame] = [.string]
        var parts: [LexedStringPart] = []
        var text: [UInt8] = []
        var textStart = start + 1
        var interpolationStart = 0
        i += 1
        func flushText(_ lexer: inout Lexer, upTo end: Int) {
            if !text.isEmpty {
                parts.append(.text(String(decoding: text, as: UTF8.self), SourceRange(textStart, end)))
                text.removeAll(keepingCapacity: true)
            }
        }
        while true {
            guard i < end, bytes[i] != 0x0A else {
                report(.unterminatedString, SourceRange(start, i))
                flushText(&self, upTo: i)
                strings[count] = parts
                emit(.string, from: start)
                return
            }
            let c = bytes[i]
            switch stack[stack.count - 1] {
            case .string:
                let outer = stack.count == 1
                if c == UInt8(ascii: "\"") {
                    i += 1
                    stack.removeLast()
                    if stack.isEmpty {
                        flushText(&self, upTo: i - 1)
                        strings[count] = parts
                        emit(.string, from: start)
                        return
                    }
                } else if c == UInt8(ascii: "\\") {
                    if outer { lexEscape(into: &text) } else { i = min(i + 2, end) }
                } else if c == UInt8(ascii: "{") {
                    if outer {
                        flushText(&self, upTo: i)
                        interpolationStart = i + 1
                    }
                    stack.append(.interpolation(braces: 0))
                    i += 1
                } else {
                    if outer {
                        if c >= 0x80 {
                            let n = min(SourceFile.scalarLength(lead: c), end - i)
                            if String(validating: bytes[i..<i + n], as: UTF8.self) == nil {
                                report(.invalidUTF8InString, SourceRange(i, i + n))
                                text.append(contentsOf: [0xEF, 0xBF, 0xBD])
                                i += 1
                                continue
                            }
                            text.append(contentsOf: bytes[i..<i + n])
                            i += n
                            continue
                        }
                        if c == 0 {
                            report(.unexpectedNULByteInString, SourceRange(i, i + 1))
                        } else {
                            text.append(c)
                        }
                    }
                    i += 1
                }
            case .interpolation(let braces):
                if c == UInt8(ascii: "{") {
                    stack[stack.count - 1] = .interpolation(braces: braces + 1)
                } else if c == UInt8(ascii: "}") {
                    if braces == 0 {
                        stack.removeLast()
                        if stack.count == 1 {
                            parts.append(.interpolation(SourceRange(interpolationStart, i)))
                            textStart = i + 1
                        }
                    } else {
                        stack[stack.count - 1] = .interpolation(braces: braces - 1)
                    }
                } else if c == UInt8(ascii: "\"") {
                    stack.append(.string)
                }
                i += 1
            }
        }
    }

    /// Decodes one escape sequence at `i` (which points at the backslash).
    private mutating func lexEscape(into text: inout [UInt8]) {
        let start = i
        i += 1
        guard i < end, bytes[i] != 0x0A else {
            report(.incompleteEscape, SourceRange(start, i))
            return
        }
        let c = bytes[i]
        i += 1
        switch c {
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "0"): text.append(0x00)
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "{"), UInt8(ascii: "}"): text.append(c)
        case UInt8(ascii: "u"):
            guard i < end, bytes[i] == UInt8(ascii: "{") else {
                report(.unicodeEscapeWithoutBraces, SourceRange(start, i))
                return
            }
            let hexStart = i + 1
            var j = hexStart
            while j < end && j - hexStart < 8 && Lexer.isHexDigit(bytes[j]) { j += 1 }
            let hex = String(decoding: bytes[hexStart..<j], as: UTF8.self)
            guard j < end, bytes[j] == UInt8(ascii: "}"), let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else {
                i = min(j + (j < end && bytes[j] == UInt8(ascii: "}") ? 1 : 0), end)
                report(.invalidUnicodeEscape, SourceRange(start, i))
                return
            }
            i = j + 1
            text.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            let n = c >= 0x80 ? min(SourceFile.scalarLength(lead: c), end - start - 1) : 1
            i = start + 1 + n
            let shown = String(decoding: bytes[(start + 1)..<i], as: UTF8.self)
            report(.invalidEscape(shown), SourceRange(start, i))
        }
    }

    // MARK: Character classes

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    @inline(__always) static func isHexDigit(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)
    }
    @inline(__always) static func isIdentifierStart(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F
    }
    @inline(__always) static func isIdentifierByte(_ b: UInt8) -> Bool { isIdentifierStart(b) || isDigit(b) }

    /// Up to 8 bytes packed into one integer (first byte lowest), so that a keyword is one compare.
    @inline(__always) private static func pack(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in stride(from: end - 1, through: start, by: -1) { v = v << 8 | UInt64(bytes[k]) }
        return v
    }

    /// The keyword whose packed spelling is `packed` (LexerTests check the table against `Keyword`).
    static func keyword(packed: UInt64) -> Keyword? {
        switch packed {
        case 0x74656C: return .`let`  // let
        case 0x726176: return .`var`  // var
        case 0x6669: return .`if`  // if
        case 0x65736C65: return .`else`  // else
        case 0x726F66: return .`for`  // for
        case 0x6E69: return .`in`  // in
        case 0x656C696877: return .`while`  // while
        case 0x6E7275746572: return .`return`  // return
        case 0x776F726874: return .`throw`  // throw
        case 0x797274: return .`try`  // try
        case 0x6863746163: return .`catch`  // catch
        case 0x7065656C73: return .sleep  // sleep
        case 0x6C656C6C61726170: return .parallel  // parallel
        case 0x636E797361: return .async  // async
        case 0x65757274: return .`true`  // true
        case 0x65736C6166: return .`false`  // false
        case 0x6C6C756E: return .null  // null
        case 0x6E66: return .fn  // fn
        default: return nil
        }
    }

    /// The keyword spelled by `bytes[start..<end]`, if any; no String is built.
    static func keyword(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Keyword? {
        let n = end - start
        guard n >= 2 && n <= 8 else { return nil }
        // Every keyword starts with a lowercase letter in a, c, e, f, i, l, n, p, r, s, t, v, w.
        switch bytes[start] {
        case UInt8(ascii: "a"), UInt8(ascii: "c"), UInt8(ascii: "e"), UInt8(ascii: "f"), UInt8(ascii: "i"),
             UInt8(ascii: "l"), UInt8(ascii: "n"), UInt8(ascii: "p"), UInt8(ascii: "r"), UInt8(ascii: "s"),
             UInt8(ascii: "t"), UInt8(ascii: "v"), UInt8(ascii: "w"):
            return keyword(packed: pack(bytes, start, end))
        default:
            return nil
        }
    }
}
