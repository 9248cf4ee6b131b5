// infc: the compiler's executable — check, build, explain, graph, lsp, status, trace. `infc run`
// and `infc dev` hand the process to `infc-runtime` beside it, so this one never loads the
// network stack (libcurl and its dozens of libraries cost several milliseconds at every start).
import Foundation
import InfcCommandLine

exit(CommandLineTool(arguments: Array(CommandLine.arguments.dropFirst()), runtimeHost: .sibling("infc-runtime")).run())
