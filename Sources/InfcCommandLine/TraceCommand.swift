// infc driver: `infc trace [ID] [--state DIR]` — the tree of one trace's work across functions,
// queues, topics and workflow steps; without ID, the most recent traces.
import Foundation
import InfcCompiler
import InfcRuntime

struct TraceCommand {
    var arguments: [String]

    func run() throws -> Int32 {
        let args = try Arguments(arguments, command: "trace", valueFlags: ["--state": [], "--format": []])
        guard args.positionals.count <= 1 else { throw CLIError("usage: infc trace [ID] [--state DIR] [--format text|json]") }
        let format = try args.choice("--format", ["text", "json"], default: "text")
        let directory = args.values["--state"] ?? ".infc"
        let log = try StateAccess.traceLog(directory)
        do {
            guard let id = args.positionals.first else {
                let recent = try log.recentTraces(limit: 20)
                if recent.isEmpty { print("no traces yet") }
                for r in recent { print("\(r.trace)  \(r.function)") }
                return ExitCode.ok
            }
            let records = try log.records(trace: id)
            guard !records.isEmpty else {
                throw CLIError("no trace '\(id)' in the state; run 'infc trace' for recent ones (records are written within a second)")
            }
            print(format == "json" ? TraceReport.json(records).prettyPrinted() : TraceReport.text(records))
        } catch let e as CLIError {
            throw e
        } catch {
            throw CLIError("cannot read the trace log: \(error)")
        }
        return ExitCode.ok
    }
}
