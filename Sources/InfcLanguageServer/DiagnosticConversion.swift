// Language server: compiler diagnostics as LSP diagnostics — the same codes, ranges and
// messages as `infc check`, UTF-16 ranges, related information for secondary labels, and the
// fix-its in `data` for code actions.
import InfcCompiler

enum DiagnosticConversion {
    /// Codes whose subject is dead code: editors fade it (`DiagnosticTag.Unnecessary`).
    static let unnecessaryCodes: Set<DiagnosticCode> = [.unusedVariable, .unusedFunction, .unusedResource,
                                                        .unreachableCode, .unusedPathParameter]

    static func lsp(_ diagnostics: [Diagnostic], uri: String, in file: SourceFile) -> [JSON] {
        diagnostics.map { lsp($0, uri: uri, in: file) }
    }

    static func lsp(_ d: Diagnostic, uri: String, in file: SourceFile) -> JSON {
        var message = d.message
        if !d.primary.message.isEmpty && d.secondary.isEmpty { message += " (\(d.primary.message))" }
        for note in d.notes { message += "\nnote: \(note)" }
        if let help = d.help { message += "\nhelp: \(help)" }
        var object = JSONObject()
        object["range"] = Positions.range(d.range, in: file)
        object["severity"] = .int(severity(d.severity))
        object["code"] = .string(d.code.rawValue)
        object["source"] = "infc"
        object["message"] = .string(message)
        if unnecessaryCodes.contains(d.code) { object["tags"] = [1] }
        if !d.secondary.isEmpty {
            var related: [JSON] = []
            if !d.primary.message.isEmpty {
                related.append(["location": Positions.location(d.primary.range, uri: uri, in: file),
                                "message": .string(d.primary.message)])
            }
            for label in d.secondary {
                related.append(["location": Positions.location(label.range, uri: uri, in: file),
                                "message": .string(label.message.isEmpty ? "related" : label.message)])
            }
            object["relatedInformation"] = .array(related)
        }
        if !d.fixIts.isEmpty {
            object["data"] = ["fixIts": .array(d.fixIts.map { fixIt($0, in: file) })]
        }
        return .object(object)
    }

    /// A fix-it as `{ title, edits: [TextEdit] }`, the shape code actions turn into a WorkspaceEdit.
    static func fixIt(_ f: FixIt, in file: SourceFile) -> JSON {
        ["title": .string(f.message), "edits": .array(f.edits.map { textEdit($0, in: file) })]
    }

    static func textEdit(_ e: InfcCompiler.TextEdit, in file: SourceFile) -> JSON {
        ["range": Positions.range(e.range, in: file), "newText": .string(e.replacement)]
    }

    /// LSP `DiagnosticSeverity`: Error 1, Warning 2, Information 3.
    static func severity(_ s: Severity) -> Int {
        switch s {
        case .error: return 1
        case .warning: return 2
        case .note: return 3
        }
    }
}
