// infc-runtime: the local runtime's executable — the same commands as `infc`, with a network
// client for service calls. `infc run` and `infc dev` replace themselves with it.
import Foundation
import InfcCommandLine
import InfcServiceClient

exit(CommandLineTool(arguments: Array(CommandLine.arguments.dropFirst()), runtimeHost: .inProcess(URLSessionTransport())).run())
