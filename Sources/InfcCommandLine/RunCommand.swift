// infc driver: `infc run [BUILD_DIR]` — the local runtime on a build directory, until SIGINT or
// SIGTERM (drain, exit 0; a second signal exits at once). Shared runtime flags live here too.
import Foundation
import InfcRuntime

struct RunCommand {
    var arguments: [String]
    var transport: ServiceTransport

    func run() throws -> Int32 {
        let args = try Arguments(arguments, command: "run", valueFlags: RuntimeFlags.valueFlags)
        guard args.positionals.count <= 1 else { throw CLIError("usage: infc run [BUILD_DIR] [--port N] [--state DIR]") }
        let directory = args.positionals.first ?? "build"
        let deployment: Deployment
        do {
            deployment = try Deployment.load(directory: directory)
        } catch {
            throw CLIError(error.message)
        }
        let state = args.values["--state"] ?? deployment.appDirectory + "/.infc"
        let options = try RuntimeFlags.options(args, stateDirectory: state, appDirectory: deployment.appDirectory, transport: transport)
        let runtime: Runtime
        do {
            runtime = try Runtime(deployment: deployment, options: options)
            try runtime.start()
        } catch {
            throw CLIError(error.message)
        }
        RuntimeSession.waitForSignals(runtime)
    }
}

/// The flags `infc run` and `infc dev` share.
enum RuntimeFlags {
    static let valueFlags: [String: [String]] = [
        "--port": ["-p"], "--state": [], "--log-format": [], "--time-scale": [],
    ]

    static func options(_ args: Arguments, stateDirectory: String, appDirectory: String,
                        transport: ServiceTransport) throws -> RuntimeOptions {
        var options = RuntimeOptions(stateDirectory: URL(fileURLWithPath: stateDirectory).standardizedFileURL.path)
        options.appDirectory = appDirectory
        options.serviceTransport = transport
        if let p = args.values["--port"] {
            guard let port = Int(p), (0...65535).contains(port) else {
                throw CLIError("--port takes a TCP port from 0 to 65535 (0 picks a free one), not '\(p)'")
            }
            options.port = port
        }
        let format = try args.choice("--log-format", LogFormat.allCases.map(\.rawValue), default: "text")
        options.logFormat = LogFormat(rawValue: format) ?? .text
        let scaleText = args.values["--time-scale"] ?? ProcessInfo.processInfo.environment["INFC_TIME_SCALE"]
        if let scaleText {
            guard let scale = Double(scaleText), scale > 0, scale.isFinite else {
                throw CLIError("--time-scale takes a positive number (e.g. 3600 makes an hour pass in a second), not '\(scaleText)'")
            }
            options.timeScale = scale
        }
        return options
    }
}

/// Runs until a signal: the first SIGINT/SIGTERM drains and exits 0, a second exits at once.
enum RuntimeSession {
    static func waitForSignals(_ runtime: Runtime, onStop: (@Sendable () -> Void)? = nil) -> Never {
        let stopping = DispatchSemaphore(value: 0)
        let count = SignalCount()
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                if count.increment() == 1 {
                    Terminal.stderr("infc: stopping (finishing work in progress; press Ctrl-C again to quit at once)\n")
                    stopping.signal()
                } else {
                    Terminal.stderr("infc: stopped at once\n")
                    _exit(1)
                }
            }
            source.resume()
            sources.append(source)
        }
        stopping.wait()
        onStop?()
        runtime.stop()
        Terminal.stderr("infc: stopped\n")
        _ = sources
        exit(ExitCode.ok)
    }

    private final class SignalCount: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func increment() -> Int {
            lock.lock()
            defer { lock.unlock() }
            n += 1
            return n
        }
    }
}
