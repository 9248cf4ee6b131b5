// infc driver: `infc lsp` — the language server on stdin/stdout (LSP 3.17). The protocol lives in
// InfcLanguageServer; this only checks the arguments and returns the server's exit code.
import Foundation
import InfcLanguageServer

struct LSPCommand {
    static let usage = "infc lsp [--debounce-ms N]"
    var arguments: [String]

    func run() throws -> Int32 {
        // `--stdio` is what many editor clients append; stdio is the only transport.
        var debounceMs = 50
        var rest = arguments.filter { $0 != "--stdio" }[...]
        while let argument = rest.popFirst() {
            var value: String?
            if argument == "--debounce-ms" {
                value = rest.popFirst()
            } else if argument.hasPrefix("--debounce-ms=") {
                value = String(argument.dropFirst("--debounce-ms=".count))
            } else {
                throw CLIError("unknown argument '\(argument)' for lsp; usage: \(Self.usage)")
            }
            guard let text = value, let ms = Int(text), ms >= 0, ms <= 60_000 else {
                throw CLIError("--debounce-ms needs a number of milliseconds from 0 to 60000; usage: \(Self.usage)")
            }
            debounceMs = ms
        }
        return LanguageServer(serverVersion: Version.current, diagnosticsDelay: Double(debounceMs) / 1000)
            .run(input: STDIN_FILENO, output: STDOUT_FILENO)
    }
}
