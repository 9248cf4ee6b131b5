// infc driver: `infc dev FILE` — build, run and watch. The source is polled every 300 ms; a
// change is rebuilt into `.infc/build` beside it and swapped into the running runtime (state and
// queued messages stay); a change with errors prints its diagnostics and the old version serves on.
import Foundation
import InfcCompiler
import InfcRuntime

struct DevCommand {
    var arguments: [String]
    var transport: ServiceTransport

    /// How often the source is checked for changes.
    static let pollInterval: TimeInterval = 0.3

    func run() throws -> Int32 {
        let args = try Arguments(arguments, command: "dev", valueFlags: RuntimeFlags.valueFlags.merging(
            ["--color": [], "--max-resources": []]) { a, _ in a })
        guard args.positionals.count == 1 else { throw CLIError("usage: infc dev FILE [--port N] [--state DIR]") }
        let path = args.positionals[0]
        let appDirectory = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent().path
        let buildDirectory = appDirectory + "/.infc/build"
        let state = args.values["--state"] ?? appDirectory + "/.infc"
        let options = try RuntimeFlags.options(args, stateDirectory: state, appDirectory: appDirectory, transport: transport)
        let colorMode = try args.choice("--color", ["auto", "always", "never"], default: "auto")
        let compileOptions = CompileOptions(maxResources: try args.positiveInt("--max-resources"))
        let watcher = SourceWatcher(path: path)

        // The first version: wait until the source builds.
        var deployment: Deployment?
        while deployment == nil {
            watcher.poll()
            deployment = build(path, into: buildDirectory, colorMode: colorMode, options: compileOptions)
            if deployment == nil {
                Terminal.stderr("infc dev: waiting for \(path) to change…\n")
                watcher.waitForChange(every: Self.pollInterval)
            }
        }
        let runtime: Runtime
        do {
            runtime = try Runtime(deployment: deployment!, options: options)
            try runtime.start()
        } catch {
            throw CLIError(error.message)
        }
        FileHandle.standardOutput.write(Data("infc dev: watching \(path) (rebuilds on save)\n".utf8))
        Thread.detachNewThread {
            while true {
                watcher.waitForChange(every: Self.pollInterval)
                Terminal.stderr("infc dev: \(path) changed; rebuilding\n")
                guard let next = build(path, into: buildDirectory, colorMode: colorMode, options: compileOptions) else {
                    Terminal.stderr("infc dev: keeping the previous version; fix the errors above and save again\n")
                    continue
                }
                runtime.swap(to: next)
            }
        }
        RuntimeSession.waitForSignals(runtime)
    }
}

/// Compiles `path`; on errors prints them and returns nil; else writes the build directory and
/// loads it.
private func build(_ path: String, into directory: String, colorMode: String, options: CompileOptions) -> Deployment? {
    do {
        let file = try SourceLoader.load(path)
        let c = Compilation.compile(file, options: options)
        let errors = c.diagnostics.filter { $0.severity == .error }
        if !errors.isEmpty {
            Terminal.stderr(DiagnosticRenderer(color: Terminal.useColor(colorMode, fd: 2)).text(c.diagnostics, in: file))
            return nil
        }
        try BuildCommand.write(c, to: directory)
        return try Deployment.load(directory: directory)
    } catch let e as CLIError {
        Terminal.error(e.message)
    } catch let e as RuntimeStartError {
        Terminal.error(e.message)
    } catch {
        Terminal.error("\(error)")
    }
    return nil
}

/// Notices changes to one file by polling its modification time, size and contents' hash.
final class SourceWatcher: @unchecked Sendable {
    let path: String
    private var last: String?

    init(path: String) { self.path = path }

    /// Takes the file's current state as the known one.
    func poll() { last = signature() }

    /// Blocks until the file differs from the known state, then takes the new state.
    func waitForChange(every interval: TimeInterval) {
        while true {
            Thread.sleep(forTimeInterval: interval)
            let now = signature()
            if now != last, now != nil {
                last = now
                return
            }
        }
    }

    private func signature() -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let data = FileManager.default.contents(atPath: path)
        else { return nil }
        let mtime = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(mtime):\(data.count):\(SHA256.hex(Array(data)))"
    }
}
