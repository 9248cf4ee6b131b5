// End-to-end: the language server's patched diagnostics against a full compile. One document
// is edited keystroke by keystroke (incremental `didChange`, no debounce), so the server patches
// its diagnostics where it can; after every edit the same text is opened as a new document,
// which the server compiles in full. Diagnostics, hover, completion and code lenses must agree.
import Foundation
import Testing
import InfcCompiler
import InfcTestSupport

@Suite struct LanguageServerIncrementalTests {
    static let edits = ["x", "1", " ", "\n", ".", "(", "\"", "y2", "let unused_a = 1\n", "log(\"hi\")\n", "return 1\n",
                        "undefined_name\n", "if true { log(1) }\n", "// comment\n", "missing(1, 2)\n"]

    @Test(arguments: ["examples/shop.inf", "examples/booking.inf"])
    func patchedEqualsFull(_ relative: String) throws {
        let text = try String(contentsOf: CLI.root.appendingPathComponent(relative), encoding: .utf8)
        try Self.session(text: text, edits: 30, seed: 16)
    }

    /// bench/generate.py's 2,000-line app.
    @Test func generatedApp() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infc-lsp-incremental-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["python3", CLI.root.appendingPathComponent("bench/generate.py").path, dir.path],
                            executable: URL(fileURLWithPath: "/usr/bin/env"))
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOf: dir.appendingPathComponent("app_20.inf"), encoding: .utf8)
        try Self.session(text: text, edits: 20, seed: 2000)
    }

    static func session(text: String, edits count: Int, seed: UInt64) throws {
        let client = try LSPTestClient(arguments: ["--debounce-ms", "0"])
        _ = try client.request("initialize", ["capabilities": [:]])
        client.notify("initialized")
        let uri = "file:///tmp/infc-incremental/edited.inf"
        client.notify("textDocument/didOpen", ["textDocument": ["uri": .string(uri), "languageId": "infc", "version": 1, "text": .string(text)]])
        _ = try client.diagnostics(for: uri, "on open")
        var rng = SeededGenerator(seed: seed)
        var bytes = Array(text.utf8)
        for step in 1...count {
            let file = SourceFile(path: "edited.inf", bytes: bytes)
            let bodies = Parser.parse(file).program.declarations.compactMap { $0.handler?.body.range }.filter { $0.length > 2 }
            guard let body = bodies.randomElement(using: &rng) else { break }
            var at = Int.random(in: (body.start + 1)..<(body.end - 1), using: &rng)
            while at > 0 && bytes[at] & 0xC0 == 0x80 { at -= 1 }
            let insertion = edits.randomElement(using: &rng) ?? "x"
            let p = file.utf16Position(of: at)
            bytes.insert(contentsOf: Array(insertion.utf8), at: at)
            let version = step + 1
            client.notify("textDocument/didChange", [
                "textDocument": ["uri": .string(uri), "version": .int(version)],
                "contentChanges": [["range": lspRange(p.line, p.character, p.line, p.character), "text": .string(insertion)]],
            ])
            let patched = try client.waitFor("diagnostics of version \(version)") {
                $0["method"] == "textDocument/publishDiagnostics" && $0["params"]?["uri"]?.stringValue == uri
                    && $0["params"]?["version"] == .int(version)
            }
            // The same text, opened afresh: compiled in full.
            let fresh = "file:///tmp/infc-incremental/fresh-\(step)/edited.inf"
            client.notify("textDocument/didOpen", ["textDocument": ["uri": .string(fresh), "languageId": "infc", "version": .int(version),
                                                                    "text": .string(String(decoding: bytes, as: UTF8.self))]])
            let full = try client.waitFor("diagnostics of the fresh copy") {
                $0["method"] == "textDocument/publishDiagnostics" && $0["params"]?["uri"]?.stringValue == fresh
            }
            let context = "step \(step) (seed \(seed)): inserted \(insertion.debugDescription) at \(p)"
            // Related information names the document: compared with the URIs taken out.
            let a = patched["params"]?["diagnostics"]?.serialized().replacingOccurrences(of: uri, with: "URI")
            let b = full["params"]?["diagnostics"]?.serialized().replacingOccurrences(of: fresh, with: "URI")
            #expect(a == b, "\(context)")

            // Requests at the edit and on the line after it.
            let end = SourceFile(path: "edited.inf", bytes: bytes).utf16Position(of: at + insertion.utf8.count)
            for (line, character) in [(end.line, end.character), (end.line + 1, 2)] {
                for method in ["textDocument/hover", "textDocument/completion"] {
                    let x = try client.request(method, ["textDocument": ["uri": .string(uri)], "position": lspPosition(line, character)])
                    let y = try client.request(method, ["textDocument": ["uri": .string(fresh)], "position": lspPosition(line, character)])
                    #expect(x["result"] == y["result"], "\(context): \(method) at \(line):\(character)")
                }
            }
            let lensA = try client.request("textDocument/codeLens", ["textDocument": ["uri": .string(uri)]])
            let lensB = try client.request("textDocument/codeLens", ["textDocument": ["uri": .string(fresh)]])
            #expect(lensA["result"]?.serialized().replacingOccurrences(of: uri, with: "URI")
                    == lensB["result"]?.serialized().replacingOccurrences(of: fresh, with: "URI"), "\(context): code lenses")
            client.notify("textDocument/didClose", ["textDocument": ["uri": .string(fresh)]])
            _ = try client.diagnostics(for: fresh, "cleared on close")
        }
        _ = try client.request("shutdown")
        client.notify("exit")
        #expect(client.waitForExit() == 0)
    }
}
