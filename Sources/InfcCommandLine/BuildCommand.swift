// infc driver: `infc build FILE [-o DIR]` — check, then write the build directory (manifest
// and code) and print what was inferred; `infc explain FILE` — the plan in words.
import Foundation
import InfcCompiler

/// Compiles a file and prints its diagnostics; errors end the command with exit 1.
package struct CheckedCompilation {
    package let compilation: Compilation

    package init(path: String, args: Arguments, quietWarnings: Bool = false) throws {
        let file = try SourceLoader.load(path)
        let options = CompileOptions(maxResources: try args.positiveInt("--max-resources"))
        compilation = Compilation.compile(file, options: options)
        let colorMode = try args.choice("--color", ["auto", "always", "never"], default: "auto")
        let shown = compilation.diagnostics.filter { $0.severity == .error || !quietWarnings }
        if !shown.isEmpty {
            let renderer = DiagnosticRenderer(color: Terminal.useColor(colorMode, fd: 2))
            Terminal.stderr(renderer.text(shown, in: file))
        }
        if compilation.hasErrors {
            throw CLIError("\(path) has errors; fix them and run again", code: ExitCode.diagnostics)
        }
    }
}

package struct BuildCommand {
    var arguments: [String]

    func run() throws -> Int32 {
        let args = try Arguments(arguments, command: "build",
                                 valueFlags: ["-o": ["--output"], "--max-resources": [], "--color": [], "--target": []],
                                 boolFlags: ["-q", "--quiet"])
        guard args.positionals.count == 1 else { throw CLIError("usage: infc build FILE [-o DIR] [--target local|aws]") }
        let target = try args.choice("--target", ["local", "aws"], default: "local")
        let quiet = args.flags.contains("-q") || args.flags.contains("--quiet")
        let c = try CheckedCompilation(path: args.positionals[0], args: args, quietWarnings: quiet).compilation
        let out = args.values["-o"] ?? "build"
        if target == "aws" { return try BuildCommand.writeAWS(c, to: out, quiet: quiet) }
        try BuildCommand.write(c, to: out)
        if !quiet { print(BuildCommand.summary(c, directory: out), terminator: "") }
        return ExitCode.ok
    }

    /// `--target aws`: DIR/template.json, one CloudFormation stack (docs/aws.md). Warnings go to
    /// standard error; a construct AWS cannot express stops the build before anything is written.
    static func writeAWS(_ c: Compilation, to directory: String, quiet: Bool) throws -> Int32 {
        let output = CloudFormationEmitter.emit(c)
        if !output.errors.isEmpty {
            for e in output.errors { Terminal.stderr("error: \(e)\n") }
            throw CLIError("\(c.file.path) cannot be built for AWS", code: ExitCode.diagnostics)
        }
        for w in output.warnings { Terminal.stderr("warning: \(w)\n") }
        try writeFiles(CloudFormationEmitter.files(output), to: directory)
        if !quiet {
            print("built \(c.plan.app) → \(directory)/\(CloudFormationEmitter.templatePath) (AWS CloudFormation, \(c.plan.budget.total) resources / \(c.plan.budget.cap))")
        }
        return ExitCode.ok
    }

    package static func writeFiles(_ files: [(path: String, bytes: [UInt8])], to directory: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: directory, isDirectory: &isDir), !isDir.boolValue {
            throw CLIError("'\(directory)' exists and is not a directory; choose another with -o")
        }
        do {
            for (path, bytes) in files {
                let url = URL(fileURLWithPath: directory).appendingPathComponent(path)
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(bytes).write(to: url, options: .atomic)
            }
        } catch {
            throw CLIError("cannot write '\(directory)': \(error.localizedDescription)")
        }
    }

    /// Writes the build directory: infc's own files are replaced, nothing else is touched.
    static func write(_ c: Compilation, to directory: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: directory, isDirectory: &isDir), !isDir.boolValue {
            throw CLIError("'\(directory)' exists and is not a directory; choose another with -o")
        }
        do {
            let codeDir = URL(fileURLWithPath: directory).appendingPathComponent("code")
            if fm.fileExists(atPath: codeDir.path) { try fm.removeItem(at: codeDir) }
            for (path, bytes) in ManifestEmitter.files(for: c) {
                let url = URL(fileURLWithPath: directory).appendingPathComponent(path)
                try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(bytes).write(to: url, options: .atomic)
            }
        } catch {
            throw CLIError("cannot write '\(directory)': \(error.localizedDescription)")
        }
    }

    static func summary(_ c: Compilation, directory: String) -> String {
        let p = c.plan
        let limited = p.functions.filter { $0.limit != nil }
        let permissions = p.functions.reduce(0) { $0 + $1.grants.count } + p.workflows.reduce(0) { $0 + $1.grants.count }
        func row(_ label: String, _ n: Int, _ detail: String) -> String {
            "  " + label.padding(toLength: 12, withPad: " ", startingAt: 0) + String(n).padding(toLength: 4, withPad: " ", startingAt: 0) + detail + "\n"
        }
        var s = "built \(p.app) → \(directory)/ (manifest.json, \(ManifestEmitter.codePath(c)))\n"
        s += row("functions", p.functions.count, p.functions.map(\.name.text).joined(separator: ", "))
        s += row("queues", p.queues.count, p.queues.map { "\($0.name) (dead letters: \($0.deadLetterQueue))" }.joined(separator: ", "))
        s += row("workflows", p.workflows.count, p.workflows.map(\.name.text).joined(separator: ", "))
        s += row("limits", limited.count, limited.map { "\($0.name) \($0.limit!)" }.joined(separator: ", "))
        s += row("permissions", permissions, "least privilege: see 'infc explain'")
        s += "  resources: \(p.budget.total) / \(p.budget.cap)\n"
        return s
    }
}

struct ExplainCommand {
    var arguments: [String]

    func run() throws -> Int32 {
        let args = try Arguments(arguments, command: "explain", valueFlags: ["--max-resources": [], "--color": []])
        guard args.positionals.count == 1 else { throw CLIError("usage: infc explain FILE") }
        let c = try CheckedCompilation(path: args.positionals[0], args: args, quietWarnings: true).compilation
        print(Explainer.explain(c), terminator: "")
        return ExitCode.ok
    }
}
