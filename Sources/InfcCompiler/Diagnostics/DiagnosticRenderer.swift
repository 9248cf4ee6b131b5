// Diagnostics stage: the one renderer of diagnostics — rustc/swiftc-style text with source
// excerpts and carets (optionally coloured), JSON with a stable schema, and gcc-style lines.

public enum DiagnosticFormat: String, Sendable, CaseIterable {
    case text, json, gcc
}

public struct DiagnosticRenderer: Sendable {
    public var color: Bool
    public init(color: Bool = false) { self.color = color }

    // MARK: gcc

    /// `file:line:col: severity: message [code]`, one line per diagnostic.
    public func gcc(_ diagnostics: [Diagnostic], in file: SourceFile) -> String {
        var out = ""
        for d in diagnostics {
            let loc = file.location(of: d.range.start)
            out += "\(file.path):\(loc.line):\(loc.column): \(d.severity.rawValue): \(d.message) [\(d.code.rawValue)]\n"
        }
        return out
    }

    // MARK: JSON

    /// The `--format json` document: `{"version":1,"file":…,"diagnostics":[…],"errors":N,"warnings":N}`.
    public func json(_ diagnostics: [Diagnostic], in file: SourceFile) -> JSON {
        .object(JSONObject([
            ("version", 1),
            ("file", .string(file.path)),
            ("diagnostics", .array(diagnostics.map { jsonValue($0, in: file) })),
            ("errors", .int(diagnostics.count { $0.severity == .error })),
            ("warnings", .int(diagnostics.count { $0.severity == .warning })),
        ]))
    }

    public func jsonValue(_ d: Diagnostic, in file: SourceFile) -> JSON {
        var o = JSONObject()
        o["file"] = .string(file.path)
        o["range"] = jsonRange(d.range, in: file)
        o["severity"] = .string(d.severity.rawValue)
        o["code"] = .string(d.code.rawValue)
        o["name"] = .string(d.code.name)
        o["message"] = .string(d.message)
        if !d.primary.message.isEmpty { o["label"] = .string(d.primary.message) }
        o["related"] = .array(d.secondary.map { .object(JSONObject([("range", jsonRange($0.range, in: file)), ("message", .string($0.message))])) })
        o["notes"] = .array(d.notes.map { .string($0) })
        if let help = d.help { o["help"] = .string(help) }
        o["fixits"] = .array(d.fixIts.map { fix in
            .object(JSONObject([
                ("message", .string(fix.message)),
                ("edits", .array(fix.edits.map { .object(JSONObject([("range", jsonRange($0.range, in: file)), ("text", .string($0.replacement))])) })),
            ]))
        })
        return .object(o)
    }

    /// A range as 1-based line/column (Unicode scalars) and 0-based byte offsets.
    public func jsonRange(_ r: SourceRange, in file: SourceFile) -> JSON {
        let s = file.location(of: r.start), e = file.location(of: r.end)
        return .object(JSONObject([
            ("start", .object(JSONObject([("line", .int(s.line)), ("column", .int(s.column)), ("offset", .int(r.start))]))),
            ("end", .object(JSONObject([("line", .int(e.line)), ("column", .int(e.column)), ("offset", .int(r.end))]))),
        ]))
    }

    // MARK: Text

    /// rustc-style text: header, `--> file:line:col`, numbered excerpt with carets, notes and help.
    public func text(_ diagnostics: [Diagnostic], in file: SourceFile) -> String {
        var out = ""
        for d in diagnostics {
            out += text(d, in: file)
            out += "\n"
        }
        let errors = diagnostics.count { $0.severity == .error }
        let warnings = diagnostics.count { $0.severity == .warning }
        if errors > 0 || warnings > 0 {
            var parts: [String] = []
            if errors > 0 { parts.append("\(errors) error\(errors == 1 ? "" : "s")") }
            if warnings > 0 { parts.append("\(warnings) warning\(warnings == 1 ? "" : "s")") }
            out += paint(errors > 0 ? "error" : "warning", errors > 0 ? .red : .yellow, bold: true)
            out += paint(": \(file.path): \(parts.joined(separator: ", "))", nil, bold: true) + "\n"
        }
        return out
    }

    public func text(_ d: Diagnostic, in file: SourceFile) -> String {
        let sevColor: Ansi = d.severity == .error ? .red : d.severity == .warning ? .yellow : .cyan
        var out = paint("\(d.severity.rawValue)[\(d.code.rawValue)]", sevColor, bold: true)
        out += paint(": \(d.message)", nil, bold: true) + "\n"
        var labels = [(d.primary, true)] + d.secondary.map { ($0, false) }
        labels.sort { $0.0.range.start < $1.0.range.start }
        let lines = labels.map { file.location(of: $0.0.range.start).line }
        let gutterWidth = String(lines.max() ?? 1).count
        let pad = String(repeating: " ", count: gutterWidth)
        let loc = file.location(of: d.range.start)
        out += pad + paint("--> ", .blue, bold: true) + "\(file.path):\(loc.line):\(loc.column)\n"
        out += pad + paint(" |", .blue, bold: true) + "\n"
        var lastLine = -1
        for (label, isPrimary) in labels {
            let lineIndex = file.lineIndex(of: label.range.start)
            if lastLine >= 0 && lineIndex > lastLine + 1 { out += paint("...", .blue, bold: true) + "\n" }
            let lineText = file.lineText(lineIndex).replacingTabs()
            let number = String(lineIndex + 1)
            if lineIndex != lastLine {
                out += paint(String(repeating: " ", count: gutterWidth - number.count) + number + " |", .blue, bold: true)
                out += (lineText.isEmpty ? "" : " " + lineText) + "\n"
            }
            lastLine = lineIndex
            let startCol = file.location(of: label.range.start).column
            // A label that spans lines is underlined to the end of its first line.
            let endOffset = min(label.range.end, lineIndex + 1 < file.lineCount ? file.lineStarts[lineIndex + 1] - 1 : file.bytes.count)
            let endCol = max(startCol + 1, file.location(of: max(endOffset, label.range.start)).column)
            let marker = String(repeating: isPrimary ? "^" : "-", count: max(1, endCol - startCol))
            var underline = String(repeating: " ", count: startCol - 1) + marker
            if !label.message.isEmpty { underline += " " + label.message }
            out += pad + paint(" |", .blue, bold: true) + " " + paint(underline, isPrimary ? sevColor : .blue, bold: true) + "\n"
        }
        out += pad + paint(" |", .blue, bold: true) + "\n"
        for note in d.notes { out += pad + paint(" = ", .blue, bold: true) + paint("note", nil, bold: true) + ": \(note)\n" }
        if let help = d.help { out += pad + paint(" = ", .blue, bold: true) + paint("help", nil, bold: true) + ": \(help)\n" }
        for fix in d.fixIts {
            out += pad + paint(" = ", .blue, bold: true) + paint("fix", nil, bold: true) + ": \(fix.message)\n"
        }
        return out
    }

    enum Ansi: String {
        case red = "31", yellow = "33", blue = "34", cyan = "36", green = "32"
    }

    func paint(_ s: String, _ c: Ansi?, bold: Bool) -> String {
        guard color else { return s }
        var codes: [String] = []
        if bold { codes.append("1") }
        if let c { codes.append(c.rawValue) }
        return "\u{1B}[\(codes.joined(separator: ";"))m\(s)\u{1B}[0m"
    }
}

extension String {
    /// Tabs become single spaces so carets line up with their columns.
    func replacingTabs() -> String { String(map { $0 == "\t" ? " " : $0 }) }
}
