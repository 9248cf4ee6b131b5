// infc driver: `infc lsp` — the language server on stdin/stdout (LSP 3.17). The protocol lives in
// InfcLanguageServer; this only checks the arguments and returns the server's exit code.
import Foundation
import InfcLanguageServer

struct LSPCommand {
    static let usage = "infc lsp [--debounce-ms N] [--request-deadline-ms N]"
    var arguments: [String]

    func run() throws -> Int32 {
        // `--stdio` is what many editor clients append; stdio is the only transport.
        var options = ["--debounce-ms": 5, "--request-deadline-ms": 1000]
        var rest = arguments.filter { $0 != "--stdio" }[...]
        while let argument = rest.popFirst() {
            var name = argument, value: String?
            if let eq = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<eq])
                value = String(argument[argument.index(after: eq)...])
            } else {
                value = options[name] != nil ? rest.popFirst() : nil
            }
            guard options[name] != nil else {
                throw CLIError("unknown argument '\(argument)' for lsp; usage: \(Self.usage)")
            }
            guard let text = value, let ms = Int(text), ms >= 0, ms <= 60_000 else {
                throw CLIError("\(name) needs a number of milliseconds from 0 to 60000; usage: \(Self.usage)")
            }
            options[name] = ms
        }
        return LanguageServer(serverVersion: Version.current,
                              diagnosticsDelay: Double(options["--debounce-ms"] ?? 5) / 1000,
                              requestDeadline: Double(options["--request-deadline-ms"] ?? 1000) / 1000)
            .run(input: STDIN_FILENO, output: STDOUT_FILENO)
    }
}
