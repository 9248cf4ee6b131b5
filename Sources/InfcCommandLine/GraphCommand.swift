// infc driver: `infc graph FILE [--format dot|mermaid|json] [--target local|aws] [-o OUT]
// [--focus NAME]` — the architecture diagram of what the program became (docs/graph.md); with
// `--target aws`, each workflow is the state machine the AWS target emits.
import Foundation
import InfcCompiler

struct GraphCommand {
    var arguments: [String]

    func run() throws -> Int32 {
        let args = try Arguments(arguments, command: "graph",
                                 valueFlags: ["--format": [], "-o": ["--output"], "--focus": [],
                                              "--max-resources": [], "--color": [], "--target": []])
        guard args.positionals.count == 1 else {
            throw CLIError("usage: infc graph FILE [--format dot|mermaid|json] [--target local|aws] [-o OUT] [--focus NAME]")
        }
        let format = try args.choice("--format", GraphRenderer.Format.allCases.map(\.rawValue), default: "dot")
        let target = try args.choice("--target", ["local", "aws"], default: "local")
        let c = try CheckedCompilation(path: args.positionals[0], args: args, quietWarnings: true).compilation
        var graph = target == "aws" ? GraphBuilder.buildAWS(c) : GraphBuilder.build(c)
        if let name = args.values["--focus"] {
            guard let focused = graph.focused(on: name) else {
                let close = graph.closeFocusNames(to: name)
                let hint = close.isEmpty ? "" : "did you mean \(close.map { "'\($0)'" }.joined(separator: ", "))? "
                throw CLIError("no handler, fn or resource named '\(name)' in \(c.plan.app); \(hint)try a fn, a route like 'POST /orders', or a resource")
            }
            graph = focused
        }
        let text = GraphRenderer.render(graph, as: GraphRenderer.Format(rawValue: format)!)
        if let out = args.values["-o"], out != "-" {
            do {
                let url = URL(fileURLWithPath: out)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: url, options: .atomic)
            } catch {
                throw CLIError("cannot write '\(out)': \(error.localizedDescription)")
            }
        } else {
            print(text, terminator: "")
        }
        return ExitCode.ok
    }
}
