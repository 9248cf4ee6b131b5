// infc driver: `infc lsp` — the language server on stdin/stdout (LSP 3.17). The protocol lives in
// InfcLanguageServer; this only checks the arguments and returns the server's exit code.
import Foundation
import InfcLanguageServer

struct LSPCommand {
    var arguments: [String]

    func run() throws -> Int32 {
        // `--stdio` is what many editor clients append; stdio is the only transport.
        let unknown = arguments.filter { $0 != "--stdio" }
        guard unknown.isEmpty else { throw CLIError("unknown argument '\(unknown[0])' for lsp; usage: infc lsp") }
        return LanguageServer(serverVersion: Version.current).run(input: STDIN_FILENO, output: STDOUT_FILENO)
    }
}
