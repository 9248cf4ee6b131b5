// Language server: the Markdown the server writes (hover, completion documentation, the plan
// shown by a code lens) as plain text, for clients that ask for `plaintext`.

enum Markup {
    /// `markdown` without its markup. The server writes a small subset — fenced code blocks,
    /// `**bold**`, `` `code` ``, lines in `_italics_` and `---` rules — and this undoes exactly
    /// that: fences are dropped and code inside them is kept verbatim; outside them, bold
    /// markers and backticks are removed, a whole-line `_…_` loses its underscores and a rule
    /// becomes a blank line's worth of dashes.
    static func plainText(_ markdown: String) -> String {
        var out: [Substring] = []
        var inCode = false
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inCode.toggle()
                continue
            }
            if inCode {
                out.append(line)
                continue
            }
            var text = String(line).replacingAll("**", with: "").replacingAll("`", with: "")
            if text.count > 2, text.hasPrefix("_"), text.hasSuffix("_") { text = String(text.dropFirst().dropLast()) }
            out.append(Substring(text == "---" ? "────────" : text))
        }
        return out.joined(separator: "\n")
    }
}

private extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
