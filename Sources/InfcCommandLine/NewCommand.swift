// infc driver: `infc new NAME [--template T]` — a starter app from templates/.
import Foundation
import InfcCompiler

struct NewCommand {
    var arguments: [String]
    static let templates = ["api", "worker", "workflow"]

    func run() throws -> Int32 {
        let args = try Arguments(arguments, command: "new", valueFlags: ["--template": ["-t"]])
        guard args.positionals.count == 1, let target = args.positionals.first else {
            throw CLIError("usage: infc new NAME [--template \(NewCommand.templates.joined(separator: "|"))]")
        }
        let template = try args.choice("--template", NewCommand.templates, default: "api")
        let name = URL(fileURLWithPath: target).lastPathComponent
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
              name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }) else {
            throw CLIError("'\(name)' is not a valid app name; use letters, digits and '_' (e.g. my_shop)")
        }
        guard !FileManager.default.fileExists(atPath: target) else {
            throw CLIError("'\(target)' already exists; choose another name or remove it first")
        }
        let source = try NewCommand.templateDirectory().appendingPathComponent(template)
        let files = try FileManager.default.contentsOfDirectory(atPath: source.path).sorted()
        do {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            for f in files {
                let text = try String(contentsOf: source.appendingPathComponent(f), encoding: .utf8)
                try Data(text.replacingOccurrences(of: "{{name}}", with: name).utf8)
                    .write(to: URL(fileURLWithPath: target).appendingPathComponent(f))
            }
        } catch {
            throw CLIError("cannot create '\(target)': \(error.localizedDescription)")
        }
        print("created \(target)/ from the '\(template)' template (\(files.joined(separator: ", ")))")
        print("next: cd \(target) && infc check app.inf && infc build app.inf && infc run")
        return ExitCode.ok
    }

    /// `$INFC_TEMPLATES`, then `<prefix>/share/infc/templates` beside an installed binary, then a
    /// `templates/` directory above the binary (a source checkout).
    static func templateDirectory() throws -> URL {
        if let env = ProcessInfo.processInfo.environment["INFC_TEMPLATES"] { return URL(fileURLWithPath: env) }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        let installed = dir.deletingLastPathComponent().appendingPathComponent("share/infc/templates")
        if FileManager.default.fileExists(atPath: installed.appendingPathComponent("api/app.inf").path) { return installed }
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("templates")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("api/app.inf").path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw CLIError("cannot find infc's templates; set INFC_TEMPLATES to the templates/ directory of infc")
    }
}
