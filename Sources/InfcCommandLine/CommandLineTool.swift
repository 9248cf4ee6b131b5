// infc driver: command dispatch, common flags and the one-line error convention.
import Foundation
import InfcCompiler
import InfcRuntime

/// Exit codes: 0 ok, 1 diagnostics (errors), 2 usage or IO.
package enum ExitCode {
    package static let ok: Int32 = 0
    package static let diagnostics: Int32 = 1
    package static let usage: Int32 = 2
}

/// A failure the user can act on: printed as one line, `infc: error: …`, never a stack trace.
package struct CLIError: Error {
    package var message: String
    package var code: Int32 = ExitCode.usage
    package init(_ message: String, code: Int32 = ExitCode.usage) {
        self.message = message
        self.code = code
    }
}

/// Where `infc run` and `infc dev` run the runtime.
public enum RuntimeHost: Sendable {
    /// In this process, with this network client for service calls (the runtime executable).
    case inProcess(ServiceTransport)
    /// In the runtime executable of this name beside this one, which replaces this process
    /// (same pid, same signals): the compiler's executable never loads the network stack.
    case sibling(String)
}

public struct CommandLineTool {
    var arguments: [String]
    var runtimeHost: RuntimeHost
    /// Runs `package`, `deploy` and `destroy` (command, its arguments): given by the runtime's
    /// executable, which links the AWS clients; the compiler's hands these commands over to it.
    var cloudCommands: (@Sendable (String, [String]) throws -> Int32)?

    public init(arguments: [String], runtimeHost: RuntimeHost, cloudCommands: (@Sendable (String, [String]) throws -> Int32)? = nil) {
        self.arguments = arguments
        self.runtimeHost = runtimeHost
        self.cloudCommands = cloudCommands
    }

    public func run() -> Int32 {
        guard let command = arguments.first else {
            print(Help.overview)
            return ExitCode.ok
        }
        let rest = Array(arguments.dropFirst())
        // `infc check --help` is `infc help check`, for every command.
        if rest.contains(where: { $0 == "--help" || $0 == "-h" }), let text = Help.command(command) {
            print(text)
            return ExitCode.ok
        }
        if ["check", "build", "explain", "graph"].contains(command) { CompileHeap.prepareForOneCompile() }
        do {
            switch command {
            case "check": return try CheckCommand(arguments: rest).run()
            case "build": return try BuildCommand(arguments: rest).run()
            case "explain": return try ExplainCommand(arguments: rest).run()
            case "package", "deploy", "destroy":
                switch runtimeHost {
                case .inProcess:
                    guard let cloudCommands else { throw CLIError("infc \(command) is not available in this executable") }
                    return try cloudCommands(command, rest)
                case .sibling(let name):
                    try RuntimeExecutable.replaceProcess(with: name, arguments: arguments)
                }
            case "graph": return try GraphCommand(arguments: rest).run()
            case "dump": return try DumpCommand(arguments: rest).run()
            case "new": return try NewCommand(arguments: rest).run()
            case "run", "dev":
                switch runtimeHost {
                case .inProcess(let transport):
                    return command == "run" ? try RunCommand(arguments: rest, transport: transport).run()
                                            : try DevCommand(arguments: rest, transport: transport).run()
                case .sibling(let name):
                    try RuntimeExecutable.replaceProcess(with: name, arguments: arguments)
                }
            case "status": return try StatusCommand(arguments: rest).run()
            case "trace": return try TraceCommand(arguments: rest).run()
            case "table": return try TableCommand(arguments: rest).run()
            case "bucket": return try BucketCommand(arguments: rest).run()
            case "invoke": return try InvokeCommand(arguments: rest).run()
            case "publish": return try PublishCommand(arguments: rest).run()
            case "schedule": return try ScheduleCommand(arguments: rest).run()
            case "lsp": return try LSPCommand(arguments: rest).run()
            case "version", "--version", "-V":
                print("infc \(Version.current)")
                return ExitCode.ok
            case "help", "--help", "-h":
                if let topic = rest.first {
                    guard let text = Help.command(topic) else { throw CLIError("unknown command '\(topic)'; run 'infc help' for the list") }
                    print(text)
                } else {
                    print(Help.overview)
                }
                return ExitCode.ok
            default:
                let known = Help.commands.map(\.name)
                let hint = Spelling.closest(to: command, in: known).map { "did you mean 'infc \($0)'? " } ?? ""
                throw CLIError("unknown command '\(command)'; \(hint)run 'infc help' for the list")
            }
        } catch let e as CLIError {
            Terminal.error(e.message)
            return e.code
        } catch {
            Terminal.error("\(error)")
            return ExitCode.usage
        }
    }
}

/// The runtime executable, `infc-runtime`, installed beside `infc`.
enum RuntimeExecutable {
    /// Replaces this process with the runtime executable `name` from this executable's
    /// directory, passing `arguments` (the command first). Returns only by throwing.
    static func replaceProcess(with name: String, arguments: [String]) throws -> Never {
        let own = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let path = URL(fileURLWithPath: own).deletingLastPathComponent().appendingPathComponent(name).path
        let argv = [CommandLine.arguments.first ?? "infc"] + arguments
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArgs.append(nil)
        execv(path, &cArgs)
        let reason = String(cString: strerror(errno))
        throw CLIError("cannot start the runtime \(path): \(reason); it is built and installed beside infc (make build, make install)")
    }
}

enum Version {
    static let current = "0.1.0"
}

/// Writing to the terminal: stderr for errors, colour only where it helps.
package enum Terminal {
    package static func error(_ message: String) {
        FileHandle.standardError.write(Data("infc: error: \(message)\n".utf8))
    }

    package static func warning(_ message: String) {
        FileHandle.standardError.write(Data("infc: warning: \(message)\n".utf8))
    }

    package static func stderr(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Whether to colour output: `--color always|never|auto` (auto: a TTY and no NO_COLOR).
    package static func useColor(_ mode: String, fd: Int32 = 1) -> Bool {
        switch mode {
        case "always": return true
        case "never": return false
        default: return isatty(fd) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        }
    }
}
