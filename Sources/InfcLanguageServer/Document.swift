// Language server: open documents — their text, the client's version and a server revision —
// and the edits of `textDocument/didChange` (incremental ranges in UTF-16 positions, or the
// whole text).
import Foundation
import InfcCompiler

/// One open document, as a value: a snapshot that the compilation thread can hold safely.
struct Document: Sendable {
    var uri: String
    /// The client's version number, echoed in `publishDiagnostics`.
    var version: Int?
    /// A server-side counter, unique across all documents and edits: the cache key of
    /// compilations (a reopened file may reuse a client version with other text).
    var revision: Int
    var bytes: [UInt8]

    /// The document as the compiler sees it (the file path derived from the URI).
    var sourceFile: SourceFile { SourceFile(path: DocumentURI.path(of: uri), bytes: bytes) }

    /// Applies one `TextDocumentContentChangeEvent`: with a `range`, replaces that range (UTF-16
    /// positions, clamped to the text); without one, replaces the whole text. Returns false for
    /// an event that is not an object with a string `text`.
    mutating func apply(change: JSON) -> Bool {
        guard let text = change["text"]?.stringValue else { return false }
        guard let range = change["range"], !range.isNull else {
            bytes = Array(text.utf8)
            return true
        }
        let file = SourceFile(path: "", bytes: bytes)
        guard let start = Positions.offset(of: range["start"], in: file),
              let end = Positions.offset(of: range["end"], in: file) else { return false }
        let lo = min(start, end), hi = max(start, end)
        bytes.replaceSubrange(lo..<hi, with: Array(text.utf8))
        return true
    }
}

/// Conversions between LSP positions and ranges (0-based lines, UTF-16 columns) and the
/// compiler's UTF-8 byte offsets.
enum Positions {
    /// The byte offset of an LSP `Position` object, or nil when it is not one.
    static func offset(of position: JSON?, in file: SourceFile) -> Int? {
        guard let line = position?["line"]?.intValue, let character = position?["character"]?.intValue else { return nil }
        if line >= file.lineCount { return file.bytes.count }
        return file.offset(utf16Line: max(0, line), character: max(0, character))
    }

    static func position(_ offset: Int, in file: SourceFile) -> JSON {
        let p = file.utf16Position(of: offset)
        return ["line": .int(p.line), "character": .int(p.character)]
    }

    static func range(_ range: SourceRange, in file: SourceFile) -> JSON {
        ["start": position(range.start, in: file), "end": position(range.end, in: file)]
    }

    static func location(_ range: SourceRange, uri: String, in file: SourceFile) -> JSON {
        ["uri": .string(uri), "range": self.range(range, in: file)]
    }
}

/// `file://` URIs and the paths the compiler names files by.
enum DocumentURI {
    /// The decoded path of a `file://` URI; other URIs are used as they are.
    static func path(of uri: String) -> String {
        guard uri.hasPrefix("file://") else { return uri }
        var rest = Substring(uri.dropFirst("file://".count))
        // Skip an authority (`file://host/path`): the path starts at the first slash.
        if let slash = rest.firstIndex(of: "/") { rest = rest[slash...] }
        return rest.removingPercentEncoding ?? String(rest)
    }
}
