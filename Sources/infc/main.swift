// infc: the compiler's executable — check, build, explain, graph, lsp, status, trace. `infc run`,
// `dev`, `package`, `deploy` and `destroy` hand the process to `infc-runtime` beside it, so this one
// never loads the network stack (libcurl and its dozens of libraries, OpenSSL, zlib: several
// milliseconds at every start).
import Foundation
import InfcCommandLine

exit(CommandLineTool(arguments: Array(CommandLine.arguments.dropFirst()), runtimeHost: .sibling("infc-runtime")).run())
