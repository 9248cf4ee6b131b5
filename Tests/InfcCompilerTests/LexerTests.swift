// Unit tests of the Lexer: token kinds, durations, strings and interpolation, line starts.
import Testing
@testable import InfcCompiler

@Suite struct LexerTests {
    func kinds(_ text: String) -> [TokenKind] {
        Lexer.tokenize(Array(text.utf8)).tokens.map(\.kind)
    }

    @Test func punctuationAndOperators() {
        #expect(kinds("( ) { } [ ] , : ; . + - * / % ! = == != < <= > >= && || ??") == [
            .leftParen, .rightParen, .leftBrace, .rightBrace, .leftBracket, .rightBracket, .comma, .colon, .semicolon, .dot,
            .plus, .minus, .star, .slash, .percent, .bang, .equal, .equalEqual, .bangEqual, .less, .lessEqual, .greater,
            .greaterEqual, .ampAmp, .pipePipe, .questionQuestion, .eof])
    }

    @Test func keywordsAndContextualWords() {
        #expect(kinds("let var fn async table route on every") == [
            .keyword(.let), .keyword(.var), .keyword(.fn), .keyword(.async), .identifier, .identifier, .identifier, .identifier, .eof])
    }

    /// The lexer matches keywords by their packed bytes: every keyword, and nothing that only
    /// starts or ends like one.
    @Test func everyKeywordAndNearMisses() {
        for k in Keyword.allCases {
            #expect(kinds(k.rawValue) == [.keyword(k), .eof])
            #expect(kinds(k.rawValue + "x") == [.identifier, .eof])
            #expect(kinds("x" + k.rawValue) == [.identifier, .eof])
            #expect(kinds(String(k.rawValue.dropLast())) == (k.rawValue.count > 2 && Keyword(rawValue: String(k.rawValue.dropLast())) != nil
                ? [.keyword(Keyword(rawValue: String(k.rawValue.dropLast()))!), .eof] : [.identifier, .eof]))
        }
        #expect(kinds("Let IF parallels f") == [.identifier, .identifier, .identifier, .identifier, .eof])
    }

    @Test func numbersAndDurations() {
        #expect(kinds("42 3.14 250ms 30s 5m 2h 1d") == [.integer, .decimal, .duration, .duration, .duration, .duration, .duration, .eof])
        #expect(Lexer.durationMilliseconds("250ms") == 250)
        #expect(Lexer.durationMilliseconds("2h") == 7_200_000)
        #expect(Lexer.durationMilliseconds("1d") == 86_400_000)
        #expect(Lexer.durationMilliseconds("99999999999999999d") == nil)
    }

    @Test func badDurationsAndNumbers() {
        let lexed = Lexer.tokenize(Array("1w 1.5h 1.2.3".utf8))
        #expect(lexed.tokens.map(\.kind) == [.invalid, .invalid, .invalid, .eof])
        #expect(lexed.diagnostics.map(\.code) == [.invalidDuration, .invalidDuration, .invalidNumber])
    }

    @Test func stringPartsAndEscapes() {
        let lexed = Lexer.tokenize(Array(#""a\n\"{x + "}"}\{\}\u{1F600}""#.utf8))
        #expect(lexed.diagnostics.isEmpty)
        #expect(lexed.tokens.map(\.kind) == [.string, .eof])
        let parts = lexed.strings[0] ?? []
        #expect(parts.count == 3)
        if case .text(let t, _) = parts[0] { #expect(t == "a\n\"") } else { Issue.record("expected text") }
        if case .interpolation(let r) = parts[1] { #expect(r.length == 7) } else { Issue.record("expected interpolation") }
        if case .text(let t, _) = parts[2] { #expect(t == "{}😀") } else { Issue.record("expected text") }
    }

    @Test func unterminatedStringStopsAtLineEnd() {
        let lexed = Lexer.tokenize(Array("let a = \"oops\nlet b = 1".utf8))
        #expect(lexed.diagnostics.map(\.code) == [.unterminatedString])
        #expect(lexed.tokens.filter { $0.kind == .keyword(.let) }.count == 2)
    }

    @Test func commentsAndLineStarts() {
        let tokens = Lexer.tokenize(Array("a // c\n/* x\n y */ b c".utf8)).tokens
        #expect(tokens.map(\.atLineStart) == [true, true, false, true])
    }

    @Test func invalidCharactersAreCoalescedAndReported() {
        let lexed = Lexer.tokenize(Array("a @ b é c \u{0}".utf8))
        #expect(lexed.diagnostics.map(\.code) == [.unexpectedCharacter, .unexpectedCharacter, .unexpectedCharacter])
        #expect(lexed.tokens.map(\.kind) == [.identifier, .invalid, .identifier, .invalid, .identifier, .invalid, .eof])
    }

    @Test func deeplyNestedInterpolationDoesNotRecurse() {
        let depth = 20_000
        let text = String(repeating: "\"{", count: depth) + String(repeating: "}\"", count: depth)
        let lexed = Lexer.tokenize(Array(text.utf8))
        #expect(lexed.tokens.count == 2)
    }
}
