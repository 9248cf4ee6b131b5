// Diagnostics stage: a diagnostic is data (code, severity, message, labels, notes, help,
// fix-its). It is rendered once, by DiagnosticRenderer, for the terminal, golden tests and LSP.

public enum Severity: String, Sendable, Comparable {
    case error, warning, note

    private var rank: Int { self == .error ? 0 : self == .warning ? 1 : 2 }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// A range with an optional message, drawn under the source excerpt.
public struct Label: Hashable, Sendable {
    public var range: SourceRange
    public var message: String
    public init(_ range: SourceRange, _ message: String = "") {
        self.range = range
        self.message = message
    }
}

/// One replacement of a range's text.
public struct TextEdit: Hashable, Sendable {
    public var range: SourceRange
    public var replacement: String
    public init(_ range: SourceRange, _ replacement: String) {
        self.range = range
        self.replacement = replacement
    }
}

/// A suggested change that resolves a diagnostic, offered by `check --format json` and as an
/// LSP code action.
public struct FixIt: Hashable, Sendable {
    public var message: String
    public var edits: [TextEdit]
    public init(_ message: String, _ edits: [TextEdit]) {
        self.message = message
        self.edits = edits
    }
}

public struct Diagnostic: Hashable, Sendable {
    public var code: DiagnosticCode
    public var severity: Severity
    public var message: String
    public var primary: Label
    public var secondary: [Label]
    public var notes: [String]
    public var help: String?
    public var fixIts: [FixIt]

    /// A diagnostic of one message of the catalogue (`DiagnosticMessage`), which gives its code,
    /// text, notes and help; the call site gives only where it is and what fixes it.
    public init(_ message: DiagnosticMessage, at primary: Label, secondary: [Label] = [], fixIts: [FixIt] = []) {
        let entry = message.entry
        self.code = entry.code
        self.severity = entry.code.severity
        self.message = entry.text
        self.primary = primary
        self.secondary = secondary
        self.notes = entry.notes
        self.help = entry.help
        self.fixIts = fixIts
    }

    public var range: SourceRange { primary.range }
}

/// Diagnostics collected by one compilation, passed along as a value (never a global).
public struct DiagnosticBag: Sendable {
    public private(set) var items: [Diagnostic] = []
    public init() {}

    public mutating func add(_ d: Diagnostic) { items.append(d) }
    public mutating func add(contentsOf other: [Diagnostic]) { items.append(contentsOf: other) }

    public var hasErrors: Bool { items.contains { $0.severity == .error } }
    public var errorCount: Int { items.count { $0.severity == .error } }
    public var warningCount: Int { items.count { $0.severity == .warning } }

    /// Diagnostics in source order, then by code: the order every renderer prints.
    public var sorted: [Diagnostic] {
        items.enumerated().sorted { a, b in
            if a.element.range.start != b.element.range.start { return a.element.range.start < b.element.range.start }
            if a.element.severity != b.element.severity { return a.element.severity < b.element.severity }
            if a.element.code != b.element.code { return a.element.code.rawValue < b.element.code.rawValue }
            return a.offset < b.offset
        }.map(\.element)
    }
}
