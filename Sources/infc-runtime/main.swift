// infc-runtime: the local runtime's executable — the same commands as `infc`, with a network
// client for service calls and the AWS commands. `infc run`, `dev`, `package`, `deploy` and
// `destroy` replace themselves with it.
import CMalloc
import Foundation
import InfcCloudCommands
import InfcCommandLine
import InfcServiceClient

// glibc gives each busy thread a malloc arena of its own, up to eight per core, and keeps each
// at its high-water mark. Four per core halve that ceiling: at the benchmark's peak the runtime
// held 124-153 MiB instead of 211-238 MiB, at the same requests/s within the host's noise (one
// per core held 105-129 MiB but served about 8 % fewer requests).
_ = mallopt(M_ARENA_MAX, Int32(4 * max(1, ProcessInfo.processInfo.activeProcessorCount)))

exit(CommandLineTool(arguments: Array(CommandLine.arguments.dropFirst()), runtimeHost: .inProcess(URLSessionTransport()),
                     cloudCommands: CloudCommands.run).run())
