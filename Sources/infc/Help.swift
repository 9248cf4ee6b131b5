// infc driver: `infc help [COMMAND]` — the text is the truth about every command and flag.

enum Help {
    struct Command {
        var name: String
        var summary: String
        var usage: String
        var details: String
    }

    static let commonFlags = """
    Common flags:
      --max-resources N        override the resource budget (default 200, or the app's max_resources)
      --color auto|always|never
      -q, --quiet              print only problems
    """

    static let commands: [Command] = [
        Command(name: "check", summary: "parse, resolve, infer and check a program; print diagnostics",
                usage: "infc check FILE... [--format text|json|gcc] [--color auto|always|never] [--max-resources N] [-q]",
                details: """
                Exit status: 0 when there are no errors (warnings allowed), 1 when there are errors, 2 for
                usage or IO problems.
                  --format text   rustc-style diagnostics with source excerpts (default)
                  --format json   one JSON object per file: diagnostics with ranges, codes, notes and fix-its
                  --format gcc    file:line:col: severity: message [code], for editor problem matchers
                """),
        Command(name: "new", summary: "create a new app from a template",
                usage: "infc new NAME [--template api|worker|workflow]",
                details: "Creates the directory NAME with app.inf and a README. Refuses to overwrite an existing directory."),
        Command(name: "dump", summary: "show a compiler stage: tokens, ast or plan",
                usage: "infc dump tokens|ast|plan FILE", details: "For bug reports and curiosity; the format may change."),
        Command(name: "lsp", summary: "run the language server on stdin/stdout (for editors)",
                usage: "infc lsp", details: "Speaks LSP 3.17 over stdio; docs/editors.md shows how to set up VS Code, Neovim, Helix and Emacs."),
        Command(name: "version", summary: "print the version", usage: "infc version", details: ""),
        Command(name: "help", summary: "show help for infc or one command", usage: "infc help [COMMAND]", details: ""),
    ]

    static var overview: String {
        let width = commands.map(\.name.count).max() ?? 8
        var s = """
        infc — an infrastructure-from-code compiler: write one .inf program; infc infers its functions,
        queues, limits, workflows and permissions, checks the resource budget, and runs it locally.

        Usage: infc COMMAND [options]

        Commands:

        """
        for c in commands {
            s += "  " + c.name + String(repeating: " ", count: width - c.name.count + 3) + c.summary + "\n"
        }
        s += "\n" + commonFlags + "\n\nRun 'infc help COMMAND' for a command's options."
        return s
    }

    static func command(_ name: String) -> String? {
        guard let c = commands.first(where: { $0.name == name }) else { return nil }
        var s = "infc \(c.name) — \(c.summary)\n\nUsage: \(c.usage)\n"
        if !c.details.isEmpty { s += "\n" + c.details + "\n" }
        return s
    }
}
