// Language server: code lenses — above each handler and fn, one line summarising what the plan
// made of it ("function · queue · limit 10 · 4 permissions · 6 resources"). A lens runs
// `infc.showPlan` (workspace/executeCommand, advertised in `executeCommandProvider`), which
// shows the declaration's whole plan as a message: Neovim's `codelens.run()` and lsp-mode's
// click both send that command to the server.
import InfcCompiler

enum CodeLensProvider {
    static let showPlan = "infc.showPlan"
    static let commands = [showPlan]

    static func lenses(_ a: Analysis) -> JSON {
        var out: [JSON] = []
        for h in a.compilation.plan.handlers {
            guard let title = PlanText.summary(a, h.declaration) else { continue }
            out.append([
                "range": Positions.range(h.headerRange, in: a.file),
                "command": ["title": .string(title), "command": .string(showPlan),
                            "arguments": [.string(a.uri), .string(a.title(of: h.declaration))]],
            ])
        }
        return .array(out)
    }

    /// `infc.showPlan URI TITLE`: a `window/showMessage` with the plan of the declaration titled
    /// `TITLE` (`fn charge`, `route POST /orders`) in plain text; the result is null.
    static func execute(_ a: Analysis, _ params: JSON) throws(RequestError) -> Feature.Answer {
        guard params["command"]?.stringValue == showPlan else {
            throw RequestError("unknown command; the server runs \(commands.map { "`\($0)`" }.joined(separator: ", "))")
        }
        guard let title = params["arguments"]?.arrayValue?.dropFirst().first?.stringValue else {
            throw RequestError("`\(showPlan)` takes the document's URI and a declaration such as \"fn charge\"")
        }
        guard let index = a.compilation.plan.handlers.first(where: { a.title(of: $0.declaration) == title })?.declaration else {
            throw RequestError("the document has no declaration `\(title)` (it changed since the lens was shown)")
        }
        let text = title + "\n\n" + Markup.plainText(HoverProvider.hoverPlanSection(a, declaration: index))
        let message: JSON = ["jsonrpc": "2.0", "method": "window/showMessage",
                             "params": ["type": 3, "message": .string(text)]]
        return Feature.Answer(result: .null, notifications: [message])
    }
}
