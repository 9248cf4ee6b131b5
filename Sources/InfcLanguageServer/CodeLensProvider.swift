// Language server: code lenses — above each handler and fn, one line summarising what the plan
// made of it ("function · queue · limit 10 · 4 permissions · 6 resources"). Informational only:
// the command id is empty, so clients render the title without making it clickable.
import InfcCompiler

enum CodeLensProvider {
    static func lenses(_ a: Analysis) -> JSON {
        var out: [JSON] = []
        for h in a.compilation.plan.handlers {
            guard let title = PlanText.summary(a, h.declaration) else { continue }
            out.append([
                "range": Positions.range(h.headerRange, in: a.file),
                "command": ["title": .string(title), "command": ""],
            ])
        }
        return .array(out)
    }
}
