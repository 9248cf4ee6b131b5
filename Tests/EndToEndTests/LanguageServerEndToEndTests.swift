// End-to-end tests: `infc lsp` as a subprocess holding real JSON-RPC conversations — the
// editing session of the SPEC §2 program, garbage on stdin, and a third-party client
// (pytest-lsp) driving the same binary.
import InfcTestSupport
import Foundation
import InfcCompiler
import Testing

@Suite struct LanguageServerEndToEndTests {
    static let uri = "file:///tmp/infc-lsp-test/shop.inf"

    /// The program of SPEC §2.
    static let shop: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("examples/shop.inf"), encoding: .utf8)) ?? ""
    }()

    /// The 0-based line and UTF-16 column of the `occurrence`-th `needle` in `text`, plus `shift`.
    static func position(of needle: String, in text: String, occurrence: Int = 0, shift: Int = 0) -> JSON {
        var seen = 0
        for (line, content) in text.components(separatedBy: "\n").enumerated() {
            var searchStart = content.startIndex
            while let r = content.range(of: needle, range: searchStart..<content.endIndex) {
                if seen == occurrence {
                    return lspPosition(line, content[..<r.lowerBound].utf16.count + shift)
                }
                seen += 1
                searchStart = r.upperBound
            }
        }
        Issue.record("`\(needle)` not found")
        return lspPosition(0, 0)
    }

    static func errors(_ diagnostics: [JSON]) -> [JSON] { diagnostics.filter { $0["severity"] == 1 } }

    static func textDocument(_ uri: String = uri) -> JSON { ["uri": .string(uri)] }

    // MARK: A whole editing session

    @Test func editingSession() throws {
        let client = try LSPTestClient()
        let uri = Self.uri, text = Self.shop

        let initialized = try client.request("initialize", [
            "processId": .null, "rootUri": .null,
            "capabilities": ["textDocument": ["documentSymbol": ["hierarchicalDocumentSymbolSupport": true]]],
        ])
        let capabilities = initialized["result"]?["capabilities"]
        #expect(capabilities?["textDocumentSync"]?["change"] == 2)
        #expect(capabilities?["hoverProvider"] == true)
        #expect(capabilities?["definitionProvider"] == true)
        #expect(capabilities?["completionProvider"]?["triggerCharacters"] == ["."])
        #expect(capabilities?["codeLensProvider"]?["resolveProvider"] == false)
        #expect(initialized["result"]?["serverInfo"]?["name"] == "infc")
        client.notify("initialized")

        // Open: the SPEC program has no errors.
        client.notify("textDocument/didOpen", ["textDocument": ["uri": .string(uri), "languageId": "infc", "version": 1, "text": .string(text)]])
        let opened = try client.diagnostics(for: uri, "on open") { _ in true }
        #expect(Self.errors(opened).isEmpty, "unexpected errors: \(opened)")

        // An incremental change adds an error after non-ASCII text: the range counts UTF-16 units.
        let line = Int(Self.position(of: "fn remind(order) {", in: text)["line"]!.intValue!) + 1
        let inserted = "  log(\"café 😀\", orders.gett(order.id))\n"
        client.notify("textDocument/didChange", [
            "textDocument": ["uri": .string(uri), "version": 2],
            "contentChanges": [["range": lspRange(line, 0, line, 0), "text": .string(inserted)]],
        ])
        let broken = try client.diagnostics(for: uri, "after the error") { !Self.errors($0).isEmpty }
        let error = try #require(Self.errors(broken).first)
        #expect(error["code"] == "E0204")
        #expect(error["source"] == "infc")
        #expect(error["message"]?.stringValue?.contains("has no operation `gett`") == true)
        // `  log("café 😀", orders.` is 24 UTF-16 units (é is one, 😀 two); `gett` is 4 more.
        #expect(error["range"] == lspRange(line, 24, line, 28))

        // The fix-it comes back as a quick fix; applying its edit clears the diagnostics.
        let actions = try client.request("textDocument/codeAction", [
            "textDocument": Self.textDocument(), "range": lspRange(line, 25, line, 25),
            "context": ["diagnostics": [error]],
        ])["result"]?.arrayValue ?? []
        let fix = try #require(actions.first { $0["kind"] == "quickfix" })
        #expect(fix["title"] == "replace with `get`")
        let edit = try #require(fix["edit"]?["changes"]?[uri]?.arrayValue?.first)
        #expect(edit["range"] == lspRange(line, 24, line, 28))
        client.notify("textDocument/didChange", [
            "textDocument": ["uri": .string(uri), "version": 3],
            "contentChanges": [["range": edit["range"]!, "text": edit["newText"]!]],
        ])
        let fixed = try client.diagnostics(for: uri, "after the fix") { _ in true }
        #expect(fixed.isEmpty, "diagnostics not cleared: \(fixed)")

        // Hover on `charge`, where it is declared and where it is started.
        for position in [Self.position(of: "fn charge", in: text, shift: 4), Self.position(of: "async charge", in: text, shift: 7)] {
            let hover = try client.request("textDocument/hover", ["textDocument": Self.textDocument(), "position": position])
            let markdown = hover["result"]?["contents"]?["value"]?.stringValue ?? ""
            #expect(hover["result"]?["contents"]?["kind"] == "markdown")
            #expect(markdown.contains("fn charge(order) retry 3 backoff 2s"), "hover: \(markdown)")
            #expect(markdown.contains("`payments.post`") && markdown.contains("limit 10"), "hover: \(markdown)")
            // What it became: its queue, the limit 10 from `payments`, its exact permissions, its cost.
            #expect(markdown.contains("function `charge`"), "hover: \(markdown)")
            #expect(markdown.contains("`charge-queue`") && markdown.contains("max receive count 4"), "hover: \(markdown)")
            #expect(markdown.contains("**Limit** 10 — from service `payments` (line 8)"), "hover: \(markdown)")
            for permission in ["write table orders", "call service payments", "read secret payments_key", "publish topic order_events"] {
                #expect(markdown.contains("- `\(permission)`"), "hover lacks \(permission): \(markdown)")
            }
            #expect(markdown.contains("**Permissions** (4)"), "hover: \(markdown)")
            #expect(markdown.contains("6 resources (function 3 + queue 3)"), "hover: \(markdown)")
        }
        let workflowHover = try client.request("textDocument/hover", [
            "textDocument": Self.textDocument(), "position": Self.position(of: "fn follow_up", in: text, shift: 4),
        ])["result"]?["contents"]?["value"]?.stringValue ?? ""
        #expect(workflowHover.contains("workflow `follow_up` (wait 1d → read orders → choice (task remind))"), "hover: \(workflowHover)")
        #expect(workflowHover.contains("**Started by** `on order_events`"), "hover: \(workflowHover)")
        let tableHover = try client.request("textDocument/hover", [
            "textDocument": Self.textDocument(), "position": Self.position(of: "table orders", in: text, shift: 6),
        ])["result"]?["contents"]?["value"]?.stringValue ?? ""
        #expect(tableHover.contains("function `charge` (write)") && tableHover.contains("workflow `follow_up` (read)"), "hover: \(tableHover)")

        // A code lens on each handler and fn header, summarising its plan.
        let lenses = try client.request("textDocument/codeLens", ["textDocument": Self.textDocument()])["result"]?.arrayValue ?? []
        #expect(lenses.count == 7, "lenses: \(lenses)")
        let chargeLine = Self.position(of: "fn charge", in: text)["line"]
        let chargeLens = try #require(lenses.first { $0["range"]?["start"]?["line"] == chargeLine })
        let lensTitle = chargeLens["command"]?["title"]?.stringValue ?? ""
        #expect(lensTitle.hasPrefix("function · queue · limit 10") && lensTitle.contains("4 permissions") && lensTitle.contains("6 resources"), "lens: \(lensTitle)")
        let followUpLine = Self.position(of: "fn follow_up", in: text)["line"]
        #expect(lenses.first { $0["range"]?["start"]?["line"] == followUpLine }?["command"]?["title"]?.stringValue?.hasPrefix("workflow") == true)
        let operationHover = try client.request("textDocument/hover", [
            "textDocument": Self.textDocument(), "position": Self.position(of: "orders.get(req", in: text, shift: 8),
        ])
        #expect(operationHover["result"]?["contents"]?["value"]?.stringValue?.contains("grants `read` on `orders`") == true)

        // Go to definition from a use of `orders` lands on its declaration.
        let declaration = Self.position(of: "table orders", in: text, shift: 6)
        let definition = try client.request("textDocument/definition", [
            "textDocument": Self.textDocument(), "position": Self.position(of: "orders.put(order.id, order)", in: text, shift: 3),
        ])
        #expect(definition["result"]?["uri"]?.stringValue == uri)
        #expect(definition["result"]?["range"]?["start"] == declaration)

        // References: with and without the declaration.
        for include in [true, false] {
            let refs = try client.request("textDocument/references", [
                "textDocument": Self.textDocument(), "position": declaration, "context": ["includeDeclaration": .bool(include)],
            ])["result"]?.arrayValue ?? []
            #expect(refs.count == (include ? 7 : 6), "references: \(refs)")
            #expect(refs.contains { $0["range"]?["start"] == declaration } == include)
        }

        // Completion after `orders.` offers the table's operations.
        client.notify("textDocument/didChange", [
            "textDocument": ["uri": .string(uri), "version": 4],
            "contentChanges": [["range": lspRange(line + 1, 0, line + 1, 0), "text": "  orders.\n"]],
        ])
        let completion = try client.request("textDocument/completion", [
            "textDocument": Self.textDocument(), "position": lspPosition(line + 1, 9), "context": ["triggerKind": 2, "triggerCharacter": "."],
        ])
        let labels = completion["result"]?["items"]?.arrayValue?.compactMap { $0["label"]?.stringValue } ?? []
        #expect(labels == ["get", "put", "delete", "scan", "insert", "replace"])

        // The outline.
        let symbols = try client.request("textDocument/documentSymbol", ["textDocument": Self.textDocument()])["result"]?.arrayValue ?? []
        let names = symbols.compactMap { $0["name"]?.stringValue }
        #expect(names == ["shop", "orders", "receipts", "order_events", "payments_key", "payments", "POST /orders",
                          "GET /orders/:id", "charge", "on order_events", "follow_up", "remind", "every 1d"])
        let charge = symbols.first { $0["name"] == "charge" }
        #expect(charge?["kind"] == 12 && charge?["detail"] == "fn charge(order) retry 3 backoff 2s")
        #expect(charge?["children"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["order", "payment"])

        // Closing clears the document's diagnostics; then shutdown and exit with status 0.
        client.notify("textDocument/didClose", ["textDocument": Self.textDocument()])
        _ = try client.diagnostics(for: uri, "after close") { $0.isEmpty }
        let shutdown = try client.request("shutdown")
        #expect(shutdown["result"] == .null && shutdown["error"] == nil)
        client.notify("exit")
        #expect(client.waitForExit() == 0)
    }

    // MARK: Diagnostics from the plan

    @Test func planDiagnosticsArePublished() throws {
        let client = try LSPTestClient(arguments: ["--debounce-ms", "0"])
        _ = try client.request("initialize", ["capabilities": [:]])
        client.notify("initialized")
        let uri = "file:///tmp/infc-lsp-test/cycle.inf"
        // ping → its queue → pong → its queue → ping, on every path: an error (E0401).
        let text = """
        app loop
        table seen
        fn ping(n) {
          seen.put("ping", n)
          async pong(n + 1)
        }
        fn pong(n) {
          async ping(n + 1)
        }
        route POST "/start" (req) {
          async ping(0)
          return { status: 202 }
        }

        """
        client.notify("textDocument/didOpen", ["textDocument": ["uri": .string(uri), "languageId": "infc", "version": 1, "text": .string(text)]])
        let diagnostics = try client.diagnostics(for: uri, "for the async cycle") { !Self.errors($0).isEmpty }
        let cycle = try #require(diagnostics.first { $0["code"] == "E0401" }, "diagnostics: \(diagnostics)")
        #expect(cycle["severity"] == 1)
        #expect(cycle["message"]?.stringValue?.contains("async cycle") == true)
        #expect(cycle["range"]?["start"]?["line"]?.intValue.map { [4, 7].contains($0) } == true, "range: \(cycle)")

        // Breaking the cycle clears it: pong no longer sends back (an incremental edit, no debounce).
        client.notify("textDocument/didChange", [
            "textDocument": ["uri": .string(uri), "version": 2],
            "contentChanges": [["range": lspRange(7, 2, 7, 19), "text": "log(n)"]],
        ])
        let after = try client.diagnostics(for: uri, "after breaking the cycle") { d in !d.contains { $0["code"] == "E0401" } }
        #expect(Self.errors(after).isEmpty, "diagnostics: \(after)")
        _ = try client.request("shutdown")
        client.notify("exit")
        #expect(client.waitForExit() == 0)
    }

    // MARK: Garbage on stdin

    @Test func garbageNeverCrashesTheServer() throws {
        let client = try LSPTestClient()

        // Random bytes (no header in them), then a request before initialize.
        var generator = SeededGenerator(seed: 42)
        client.sendRaw((0..<4096).map { _ in UInt8(truncatingIfNeeded: generator.next()) } + Array("\r\n\r\n".utf8))
        let early = try client.request("textDocument/hover", ["textDocument": Self.textDocument(), "position": lspPosition(0, 0)])
        #expect(early["error"]?["code"] == -32002)

        // Invalid JSON in a well-formed frame (with a Content-Type header): ParseError, id null.
        client.sendRaw(Array("Content-Length: 13\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{\"id\": 1, ]]]".utf8))
        let parseError = try client.waitFor("a parse error") { $0["error"]?["code"] == -32700 }
        #expect(parseError["id"] == .null)

        // A header without a length is skipped; a message that is not a request is invalid.
        client.sendRaw(Array("Content-Length: many\r\n\r\n".utf8))
        client.send([1, 2, 3])
        let invalid = try client.waitFor("an invalid request error") { $0["error"]?["code"] == -32600 }
        #expect(invalid["id"] == .null)

        let initialized = try client.request("initialize", ["capabilities": [:]])
        #expect(initialized["result"]?["capabilities"] != nil)
        client.notify("initialized")

        // Unknown request: MethodNotFound; unknown notification: no answer at all.
        client.notify("infc/unknownNotification", ["x": 1])
        let unknown = try client.request("infc/unknownRequest")
        #expect(unknown["error"]?["code"] == -32601)

        // A frame shorter than its body: a parse error, then the reader finds the next header.
        client.sendRaw(Array("Content-Length: 10\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":9999,\"method\":\"shutdown\"}".utf8))
        _ = try client.waitFor("a parse error for the short frame") { $0["error"]?["code"] == -32700 }

        // Deeply nested input compiles on the worker's large stack without crashing.
        let deepURI = "file:///tmp/infc-lsp-test/deep.inf"
        client.notify("textDocument/didOpen", ["textDocument": [
            "uri": .string(deepURI), "languageId": "infc", "version": 1,
            "text": .string("fn f() { let x = " + String(repeating: "[(", count: 50_000) + "\n}\n"),
        ]])
        let deep = try client.diagnostics(for: deepURI, "for deeply nested input")
        #expect(!Self.errors(deep).isEmpty)

        // Positions out of range and ill-typed params are answered, not fatal.
        let odd = try client.request("textDocument/hover", ["textDocument": ["uri": .string(deepURI)], "position": lspPosition(-3, 1_000_000)])
        #expect(odd["error"] == nil)
        let bad = try client.request("textDocument/hover", ["textDocument": ["uri": .string(deepURI)], "position": "here"])
        #expect(bad["error"]?["code"] == -32602)

        // A cancelled request gets exactly one answer: its result or RequestCancelled.
        let id = client.sendRequest("textDocument/documentSymbol", ["textDocument": ["uri": .string(deepURI)]])
        client.notify("$/cancelRequest", ["id": id])
        let answer = try client.response(to: id)
        #expect(answer["result"] != nil || answer["error"]?["code"] == -32800)

        // Still working: a normal request is answered.
        // (This client declared no hierarchical symbol support: a flat SymbolInformation list.)
        let symbols = try client.request("textDocument/documentSymbol", ["textDocument": ["uri": .string(deepURI)]])
        #expect(symbols["result"]?.arrayValue?.first?["name"] == "f")
        #expect(symbols["result"]?.arrayValue?.first?["location"]?["uri"]?.stringValue == deepURI)

        // Nothing unexpected was said (the unknown notification, the skipped header, the
        // duplicate answer to the cancelled request).
        let leftovers = client.drain().filter { $0["method"] != "textDocument/publishDiagnostics" }
        #expect(leftovers.isEmpty, "unexpected messages: \(leftovers)")
        let duplicate = try? client.waitFor("a second answer", timeout: 0.3) { $0["id"] == id }
        #expect(duplicate == nil)

        // A truncated frame, then end of input: the server exits by itself, 1 for no shutdown.
        client.sendRaw(Array("Content-Length: 500\r\n\r\n{\"jsonrpc\":".utf8))
        client.closeInput()
        #expect(client.waitForExit() == 1, "stderr: \(client.serverLog)")
    }

    @Test func requestsAfterShutdownAreInvalid() throws {
        let client = try LSPTestClient()
        _ = try client.request("initialize", ["capabilities": [:]])
        _ = try client.request("shutdown")
        let late = try client.request("textDocument/hover", ["textDocument": Self.textDocument(), "position": lspPosition(0, 0)])
        #expect(late["error"]?["code"] == -32600)
        client.notify("exit")
        #expect(client.waitForExit() == 0)
    }

    @Test func exitWithoutShutdownIsAnError() throws {
        let client = try LSPTestClient()
        _ = try client.request("initialize", ["capabilities": [:]])
        client.notify("exit")
        #expect(client.waitForExit() == 1)
    }

    // MARK: A third-party client

    @Test(.enabled(if: Python.python3 != nil, "python3 is not installed: the pytest-lsp client test needs it"))
    func pytestLSPClient() throws {
        let r = try Python.pytest("scripts/lsp_client_test.py", environment: ["INFC": Binary.url.path], timeout: 180)
        #expect(r.status == 0, "pytest-lsp test failed (run scripts/install-test-deps.sh to install pytest-lsp):\n\(r.text)")
    }
}
