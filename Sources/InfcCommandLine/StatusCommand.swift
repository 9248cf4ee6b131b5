// infc driver: `infc status [--state DIR]` — queue depths, in-flight messages, dead letters with
// their errors, running and sleeping workflows, invocation counts. Reads the state database
// directly, so it works beside a running runtime (SQLite WAL allows a concurrent reader).
import Foundation
import InfcCompiler
import InfcRuntime

struct StatusCommand {
    var arguments: [String]

    func run() throws -> Int32 {
        let args = try Arguments(arguments, command: "status", valueFlags: ["--state": [], "--format": []])
        guard args.positionals.isEmpty else { throw CLIError("usage: infc status [--state DIR] [--format text|json]") }
        let format = try args.choice("--format", ["text", "json"], default: "text")
        let store = try StateAccess.open(args.values["--state"])
        defer { store.close() }
        let report: StatusReport
        do {
            report = try StatusReport.build(store: store, now: Date().timeIntervalSince1970)
        } catch {
            throw CLIError("cannot read the state: \(error)")
        }
        print(format == "json" ? report.json().prettyPrinted() : report.text())
        return ExitCode.ok
    }
}

/// Opening an existing state directory for the read-mostly commands.
enum StateAccess {
    static func open(_ directory: String?) throws -> StateStore {
        let dir = directory ?? ".infc"
        let path = try stateFile(dir)
        do {
            return try StateStore(path: path)
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// The trace log of a state directory that a runtime has used.
    static func traceLog(_ directory: String) throws -> TraceLog {
        _ = try stateFile(directory)
        return TraceLog(stateDirectory: directory)
    }

    private static func stateFile(_ directory: String) throws -> String {
        let path = directory + "/state.db"
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("no runtime state in '\(directory)'; pass --state DIR (infc run keeps it in .infc/ beside the app)")
        }
        return path
    }
}
