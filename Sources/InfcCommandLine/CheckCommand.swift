// infc driver: `infc check FILE...` — diagnostics in text, json or gcc form; exit 0 (no
// errors), 1 (errors) or 2 (usage or IO).
import Foundation
import InfcCompiler

struct CheckCommand {
    var arguments: [String]

    func run() throws -> Int32 {
        let args = try Arguments(arguments, command: "check",
                                 valueFlags: ["--format": [], "--color": [], "--max-resources": []],
                                 boolFlags: ["-q", "--quiet"])
        let format = try args.choice("--format", DiagnosticFormat.allCases.map(\.rawValue), default: "text")
        let colorMode = try args.choice("--color", ["auto", "always", "never"], default: "auto")
        let quiet = args.flags.contains("-q") || args.flags.contains("--quiet")
        let options = CompileOptions(maxResources: try args.positiveInt("--max-resources"))
        guard !args.positionals.isEmpty else { throw CLIError("check needs a file: infc check app.inf") }
        let renderer = DiagnosticRenderer(color: format == "text" && Terminal.useColor(colorMode))
        var exit = ExitCode.ok
        var jsonDocuments: [JSON] = []
        for path in args.positionals {
            let file = try SourceLoader.load(path)
            let compilation = Compilation.compile(file, options: options)
            let diagnostics = compilation.diagnostics
            if compilation.hasErrors { exit = ExitCode.diagnostics }
            switch format {
            case "json":
                jsonDocuments.append(renderer.json(diagnostics, in: file))
            case "gcc":
                print(renderer.gcc(diagnostics, in: file), terminator: "")
            default:
                if !diagnostics.isEmpty {
                    print(renderer.text(diagnostics, in: file), terminator: "")
                } else if !quiet {
                    print("\(path): ok (\(compilation.model.app.name): \(summary(compilation)))")
                }
            }
            ProcessLifetime.keep(compilation)
        }
        if format == "json" {
            print((jsonDocuments.count == 1 ? jsonDocuments[0] : .array(jsonDocuments)).prettyPrinted(), terminator: "")
        }
        return exit
    }

    private func summary(_ c: Compilation) -> String {
        let handlers = c.program.declarations.count { $0.handler != nil }
        return "\(handlers) handler\(handlers == 1 ? "" : "s"), no problems"
    }
}
