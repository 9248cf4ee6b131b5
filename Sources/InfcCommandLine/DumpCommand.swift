// infc driver: `infc dump tokens|ast|plan FILE` — every stage made visible for bug reports.
import InfcCompiler

struct DumpCommand {
    var arguments: [String]

    func run() throws -> Int32 {
        let args = try Arguments(arguments, command: "dump")
        guard args.positionals.count == 2, let stage = args.positionals.first else {
            throw CLIError("usage: infc dump tokens|ast|plan FILE")
        }
        let file = try SourceLoader.load(args.positionals[1])
        switch stage {
        case "tokens":
            print(ASTPrinter.tokens(file), terminator: "")
        case "ast":
            let parsed = Parser.parse(file)
            print(ASTPrinter.print(parsed.program, file: file), terminator: "")
        case "plan":
            let c = Compilation.compile(file)
            print(ManifestEmitter.emit(c).prettyPrinted(), terminator: "")
        default:
            throw CLIError("unknown stage '\(stage)'; dump shows tokens, ast or plan")
        }
        return ExitCode.ok
    }
}
