// infc: the command-line driver — argv, file IO and exit codes. Everything else lives in the
// InfcCompiler, InfcRuntime and InfcLanguageServer modules.
import Foundation

exit(CommandLineTool(arguments: Array(CommandLine.arguments.dropFirst())).run())
