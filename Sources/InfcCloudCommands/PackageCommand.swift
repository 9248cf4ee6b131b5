// Cloud commands: `infc package FILE [-o DIR] [--bootstrap PATH]` — check, then write
// DIR/package.zip, the deterministic code package of the AWS target (the Lambda bootstrap, the
// manifest, the code). These commands run in infc-runtime (`infc` hands them over), which maps
// OpenSSL and zlib anyway, so the compiler's process loads neither.
import Foundation
import InfcCommandLine
import InfcCompiler
import InfcDeploy

/// The cloud commands, for the runtime's executable to hand to `CommandLineTool`.
public enum CloudCommands {
    public static func run(_ command: String, _ arguments: [String]) throws -> Int32 {
        switch command {
        case "package": return try PackageCommand(arguments: arguments).run()
        case "deploy": return try DeployCommand(arguments: arguments).run()
        case "destroy": return try DestroyCommand(arguments: arguments).run()
        default: throw CLIError("unknown command '\(command)'; run 'infc help' for the list")
        }
    }
}

struct PackageCommand {
    var arguments: [String]

    func run() throws -> Int32 {
        let args = try Arguments(arguments, command: "package",
                                 valueFlags: ["-o": ["--output"], "--bootstrap": [], "--max-resources": [], "--color": []],
                                 boolFlags: ["-q", "--quiet"])
        guard args.positionals.count == 1 else { throw CLIError("usage: infc package FILE [-o DIR] [--bootstrap PATH]") }
        let quiet = args.flags.contains("-q") || args.flags.contains("--quiet")
        let bootstrap = try LambdaBootstrap.load(args.values["--bootstrap"])
        let c = try CheckedCompilation(path: args.positionals[0], args: args, quietWarnings: quiet).compilation
        let package = try LambdaBootstrap.package(c, bootstrap: bootstrap)
        let out = args.values["-o"] ?? "build"
        try BuildCommand.writeFiles([(PackageCommand.fileName, package.zip)], to: out)
        if !quiet {
            print("packaged \(c.plan.app) → \(out)/\(PackageCommand.fileName) (\(package.paths.joined(separator: ", ")); \(Deployer.size(package.zip.count)), sha256 \(package.sha256.prefix(16)))")
        }
        return ExitCode.ok
    }

    static let fileName = "package.zip"
}

/// The Lambda bootstrap executable (`infc-lambda`) that the package carries as `bootstrap`.
enum LambdaBootstrap {
    static let executableName = "infc-lambda"

    /// The bytes of `--bootstrap PATH`, else of `infc-lambda` beside this executable.
    static func load(_ explicit: String?) throws -> [UInt8] {
        let path: String
        if let explicit {
            path = explicit
        } else {
            let own = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
            path = URL(fileURLWithPath: own).deletingLastPathComponent().appendingPathComponent(executableName).path
            guard FileManager.default.fileExists(atPath: path) else {
                throw CLIError("no Lambda bootstrap: \(path) does not exist; build the release (make build puts \(executableName) beside infc) or pass --bootstrap PATH")
            }
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw CLIError("--bootstrap \(path) is not a file; pass the \(executableName) executable")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read the Lambda bootstrap \(path); check its permissions")
        }
        return [UInt8](data)
    }

    static func package(_ c: Compilation, bootstrap: [UInt8]) throws -> LambdaPackage.Built {
        do {
            return try LambdaPackage.build(c, bootstrap: bootstrap)
        } catch {
            throw CLIError("cannot package \(c.plan.app): \(error.description)")
        }
    }
}
