// Language server: code actions — each fix-it the compiler attached to a diagnostic in the
// requested range becomes a `quickfix` with a WorkspaceEdit.
import InfcCompiler

enum CodeActions {
    static func actions(_ a: Analysis, params: JSON) -> JSON {
        if let only = params["context"]?["only"]?.arrayValue?.compactMap(\.stringValue),
           !only.contains(where: { $0 == "quickfix" || $0.hasPrefix("quickfix.") || "quickfix".hasPrefix($0 + ".") }) {
            return []
        }
        let requested: SourceRange
        if let start = Positions.offset(of: params["range"]?["start"], in: a.file),
           let end = Positions.offset(of: params["range"]?["end"], in: a.file) {
            requested = SourceRange(min(start, end), max(start, end))
        } else {
            requested = SourceRange(0, a.file.bytes.count)
        }
        let clientDiagnostics = params["context"]?["diagnostics"]?.arrayValue ?? []
        var result: [JSON] = []
        for d in a.compilation.diagnostics where !d.fixIts.isEmpty && overlaps(d.range, requested) {
            let lsp = DiagnosticConversion.lsp(d, uri: a.uri, in: a.file)
            // Echo the client's own copy when it sent one, so editors link the two.
            let linked = clientDiagnostics.first { $0["range"] == lsp["range"] && $0["code"] == lsp["code"] } ?? lsp
            for fix in d.fixIts {
                let edits = JSON.array(fix.edits.map { DiagnosticConversion.textEdit($0, in: a.file) })
                result.append([
                    "title": .string(fix.message),
                    "kind": "quickfix",
                    "diagnostics": [linked],
                    "isPreferred": .bool(d.fixIts.count == 1),
                    "edit": ["changes": .object(JSONObject([(a.uri, edits)]))],
                ])
            }
        }
        return .array(result)
    }

    /// Ranges overlap, or touch when either is empty (a cursor on a diagnostic's edge).
    static func overlaps(_ x: SourceRange, _ y: SourceRange) -> Bool {
        x.start <= y.end && y.start <= x.end
    }
}
