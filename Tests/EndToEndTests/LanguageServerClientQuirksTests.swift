// End-to-end tests: `infc lsp` as real editors drive it — `"params": null` (eglot, lsp-mode),
// plain-text clients (ALE, eglot without markdown-mode), code lenses that run a command the
// server implements (Neovim's codelens.run, lsp-mode), and text typed mid-edit that once hung
// the front end.
import Foundation
import InfcCompiler
import Testing

@Suite struct LanguageServerClientQuirksTests {
    static let uri = LanguageServerEndToEndTests.uri
    static let shop = LanguageServerEndToEndTests.shop

    static func open(_ client: LSPTestClient, _ text: String = shop, uri: String = uri) throws -> [JSON] {
        client.notify("textDocument/didOpen", ["textDocument": ["uri": .string(uri), "languageId": "infc", "version": 1, "text": .string(text)]])
        return try client.diagnostics(for: uri, "on open")
    }

    /// eglot's `shutdown` and lsp-mode's `exit` carry `"params": null`: both are accepted.
    @Test func nullParamsAreNoParams() throws {
        let client = try LSPTestClient()
        client.send(["jsonrpc": "2.0", "id": 1, "method": "initialize", "params": ["capabilities": [:]]])
        _ = try client.response(to: 1)
        client.send(["jsonrpc": "2.0", "method": "initialized", "params": .null])
        client.send(["jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": .null])
        let shutdown = try client.response(to: 2)
        #expect(shutdown["error"] == nil && shutdown["result"] == .null, "shutdown: \(shutdown)")
        client.send(["jsonrpc": "2.0", "method": "exit", "params": .null])
        #expect(client.waitForExit() == 0, "stderr: \(client.serverLog)")
    }

    /// `params` absent altogether, on a request that takes none.
    @Test func absentParamsAreNoParams() throws {
        let client = try LSPTestClient()
        client.send(["jsonrpc": "2.0", "id": 1, "method": "initialize", "params": ["capabilities": [:]]])
        _ = try client.response(to: 1)
        client.send(["jsonrpc": "2.0", "id": 2, "method": "shutdown"])
        #expect(try client.response(to: 2)["result"] == .null)
        client.send(["jsonrpc": "2.0", "method": "exit"])
        #expect(client.waitForExit() == 0)
    }

    /// A client that prefers plain text gets no Markdown in hover or completion documentation;
    /// one that lists Markdown first gets Markdown.
    @Test(arguments: [["plaintext"], ["plaintext", "markdown"], ["markdown", "plaintext"]])
    func hoverAndCompletionFollowTheClientsFormat(_ formats: [String]) throws {
        let client = try LSPTestClient()
        let list = JSON.array(formats.map { .string($0) })
        _ = try client.request("initialize", ["capabilities": ["textDocument": [
            "hover": ["contentFormat": list],
            "completion": ["completionItem": ["documentationFormat": list]],
        ]]])
        client.notify("initialized")
        _ = try Self.open(client)
        let expected = formats[0]
        let text = Self.shop

        let hover = try client.request("textDocument/hover", [
            "textDocument": ["uri": .string(Self.uri)], "position": LanguageServerEndToEndTests.position(of: "fn charge", in: text, shift: 4),
        ])
        let contents = hover["result"]?["contents"]
        #expect(contents?["kind"]?.stringValue == expected)
        let value = contents?["value"]?.stringValue ?? ""
        #expect(value.contains("fn charge(order) retry 3 backoff 2s") && value.contains("limit 10"), "hover: \(value)")
        if expected == "plaintext" {
            #expect(!value.contains("`") && !value.contains("**"), "markup in plain text: \(value)")
            #expect(value.contains("Limit 10 — from service payments (line 8)"), "hover: \(value)")
        } else {
            #expect(value.contains("**Limit** 10 — from service `payments` (line 8)"), "hover: \(value)")
        }

        // Completion after `orders.` in a handler: the operations, documented in that format.
        let line = text.components(separatedBy: "\n").firstIndex { $0.contains("orders.put(order.id, order)") } ?? 0
        client.notify("textDocument/didChange", [
            "textDocument": ["uri": .string(Self.uri), "version": 2],
            "contentChanges": [["range": lspRange(line + 1, 0, line + 1, 0), "text": "  orders.\n"]],
        ])
        let completion = try client.request("textDocument/completion", [
            "textDocument": ["uri": .string(Self.uri)], "position": lspPosition(line + 1, 9),
        ])
        let items = completion["result"]?["items"]?.arrayValue ?? []
        #expect(items.compactMap { $0["label"]?.stringValue } == ["get", "put", "delete", "scan", "insert", "replace"])
        for item in items {
            let doc = item["documentation"]
            #expect(doc?["kind"]?.stringValue == expected, "item: \(item)")
            if expected == "plaintext" { #expect(doc?["value"]?.stringValue?.contains("`") == false, "item: \(item)") }
        }
        _ = try client.request("shutdown")
        client.notify("exit")
        #expect(client.waitForExit() == 0)
    }

    /// Every lens runs `infc.showPlan`, which the server advertises and implements: the plan of
    /// that declaration as a message, then a null result.
    @Test func codeLensesRunACommandTheServerImplements() throws {
        let client = try LSPTestClient()
        let initialized = try client.request("initialize", ["capabilities": [:]])
        let commands = initialized["result"]?["capabilities"]?["executeCommandProvider"]?["commands"]?.arrayValue ?? []
        #expect(commands == ["infc.showPlan"])
        client.notify("initialized")
        _ = try Self.open(client)
        let lenses = try client.request("textDocument/codeLens", ["textDocument": ["uri": .string(Self.uri)]])["result"]?.arrayValue ?? []
        #expect(lenses.count == 7)
        for lens in lenses {
            #expect(lens["command"]?["command"]?.stringValue.map { commands.contains(.string($0)) } == true, "lens: \(lens)")
        }
        let chargeLine = LanguageServerEndToEndTests.position(of: "fn charge", in: Self.shop)["line"]
        let charge = try #require(lenses.first { $0["range"]?["start"]?["line"] == chargeLine })
        let command = try #require(charge["command"])
        #expect(command["arguments"] == [.string(Self.uri), "fn charge"])

        let result = try client.request("workspace/executeCommand", ["command": command["command"] ?? .null, "arguments": command["arguments"] ?? .null])
        #expect(result["error"] == nil && result["result"] == .null, "executeCommand: \(result)")
        let shown = try client.waitFor("the plan as a message") { $0["method"] == "window/showMessage" }
        let message = shown["params"]?["message"]?.stringValue ?? ""
        #expect(message.hasPrefix("fn charge\n") && message.contains("Limit 10 — from service payments (line 8)") && !message.contains("`"), "message: \(message)")

        let unknown = try client.request("workspace/executeCommand", ["command": "infc.nothing", "arguments": [.string(Self.uri)]])
        #expect(unknown["error"]?["code"] == -32602)
        _ = try client.request("shutdown")
        client.notify("exit")
        #expect(client.waitForExit() == 0)
    }

    /// The text that once hung the front end, typed into an open document: diagnostics come,
    /// and later requests are answered.
    @Test func textThatOnceHungIsAnsweredMidEdit() throws {
        let client = try LSPTestClient(arguments: ["--debounce-ms", "0"])
        _ = try client.request("initialize", ["capabilities": [:]])
        client.notify("initialized")
        _ = try Self.open(client)
        for (version, typed) in ["app test { max_resource: 100)x}", "app x{)", "app x {]"].enumerated() {
            client.notify("textDocument/didChange", [
                "textDocument": ["uri": .string(Self.uri), "version": .int(version + 2)],
                "contentChanges": [["text": .string(typed + "\n" + Self.shop)]],
            ])
            let hover = try client.request("textDocument/hover", ["textDocument": ["uri": .string(Self.uri)], "position": lspPosition(0, 2)])
            #expect(hover["error"] == nil, "hover: \(hover)")
            let diagnostics = try client.diagnostics(for: Self.uri, "after typing \(typed)") { d in d.contains { $0["code"] == "E0107" } }
            #expect(diagnostics.contains { $0["range"]?["start"]?["line"] == 0 })
        }
        let symbols = try client.request("textDocument/documentSymbol", ["textDocument": ["uri": .string(Self.uri)]])
        #expect(symbols["result"]?.arrayValue?.isEmpty == false)
        _ = try client.request("shutdown")
        client.notify("exit")
        #expect(client.waitForExit() == 0)
    }
}

extension LanguageServerClientQuirksTests {
    /// With a deadline shorter than any analysis, requests sent while a large document is being
    /// compiled are still answered: from the last finished compilation, or (before the first)
    /// refused with RequestFailed — never left waiting. The first fresh compilation then answers
    /// as usual.
    @Test func requestsPastTheirDeadlineAreAnswered() throws {
        let client = try LSPTestClient(arguments: ["--debounce-ms", "0", "--request-deadline-ms", "0"])
        _ = try client.request("initialize", ["capabilities": [:]])
        client.notify("initialized")
        // 200 copies of the shop's handlers under new names: thousands of lines.
        var big = Self.shop
        for i in 0..<200 { big += "\nfn helper\(i)(x) {\n  let y = x + \(i)\n  return orders.get(y)\n}\n" }
        client.notify("textDocument/didOpen", ["textDocument": ["uri": .string(Self.uri), "languageId": "infc", "version": 1, "text": .string(big)]])
        var ids: [JSON] = []
        for _ in 0..<5 { ids.append(client.sendRequest("textDocument/documentSymbol", ["textDocument": ["uri": .string(Self.uri)]])) }
        for id in ids {
            let answer = try client.response(to: id)
            #expect(answer["result"]?.arrayValue != nil || answer["error"]?["code"] == -32803, "answer: \(answer)")
        }
        _ = try client.diagnostics(for: Self.uri, "on open")
        // Edits and requests interleaved: every request gets exactly one answer.
        ids = []
        for version in 2..<6 {
            client.notify("textDocument/didChange", [
                "textDocument": ["uri": .string(Self.uri), "version": .int(version)],
                "contentChanges": [["range": lspRange(0, 0, 0, 0), "text": "\n"]],
            ])
            ids.append(client.sendRequest("textDocument/hover", ["textDocument": ["uri": .string(Self.uri)], "position": lspPosition(5, 2)]))
        }
        for id in ids {
            let answer = try client.response(to: id)
            #expect(answer["error"] == nil, "answer: \(answer)")
        }
        _ = try client.request("shutdown")
        client.notify("exit")
        #expect(client.waitForExit() == 0)
        let duplicates = client.drain().filter { $0["id"] != nil }
        #expect(duplicates.isEmpty, "second answers: \(duplicates)")
    }
}
