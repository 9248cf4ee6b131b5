// swift-tools-version:6.0
// infc: an infrastructure-from-code compiler and its local runtime.
// No package dependencies by design: Foundation, Dispatch, Glibc and the system libsqlite3 only.
import PackageDescription

let package = Package(
    name: "infc",
    products: [
        .executable(name: "infc", targets: ["infc"]),
        .executable(name: "infc-runtime", targets: ["infc-runtime"]),
        .executable(name: "infc-lambda", targets: ["infc-lambda"]),
    ],
    targets: [
        // The system SQLite, through a module map (libsqlite3-dev).
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        // Linux epoll (sys/epoll.h), for the runtime's HTTP event loops.
        .systemLibrary(name: "CEpoll", path: "Sources/CEpoll"),
        // glibc's malloc.h (mallopt): the runtime executable's arena limit, a one-shot compile's heap.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        // The system OpenSSL (libssl-dev; static archives too), for HTTPS without libcurl.
        .systemLibrary(name: "CTLS", path: "Sources/CTLS"),
        // The system zlib (zlib1g-dev): deflate and CRC-32 for the code package's zip.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // Pure compiler: no files, no printing, no clock, no exit.
        // Release builds skip the dynamic exclusivity checks (about a tenth of a compile, on the
        // parser's and resolver's class state); debug builds and the tests keep them.
        .target(name: "InfcCompiler",
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))],
                linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
        // The local runtime: interpreter, HTTP, queues, workflows, SQLite state.
        .target(name: "InfcRuntime", dependencies: ["InfcCompiler", "CSQLite", "CEpoll"]),
        // The runtime's network client for service calls (URLSession, so libcurl): linked by
        // the runtime's executable only.
        .target(name: "InfcServiceClient", dependencies: ["InfcRuntime"]),
        // An HTTP/1.1 client on POSIX sockets, HTTPS through OpenSSL: links statically.
        .target(name: "InfcHTTPClient", dependencies: ["CTLS"]),
        // AWS: SigV4, the services' wire protocols and clients, credentials and endpoints.
        .target(name: "InfcAWS", dependencies: ["InfcCompiler", "InfcHTTPClient"]),
        // Lambda: the Runtime API client and the event adapters, over the local runtime's interpreter.
        .target(name: "InfcLambda", dependencies: ["InfcRuntime", "InfcAWS"]),
        // Deploy: the deterministic zip, the code package, and the deployment of a stack
        // (artifact upload, change sets, events, outputs, secrets) over InfcAWS's clients.
        .target(name: "InfcDeploy", dependencies: ["InfcCompiler", "InfcAWS", "CZlib"]),
        // The commands that package and deploy (package, deploy, destroy): linked by infc-runtime
        // only, which already maps OpenSSL and zlib (through libcurl); infc hands them over.
        .target(name: "InfcCloudCommands", dependencies: ["InfcCommandLine", "InfcDeploy", "InfcRuntime", "InfcAWS", "InfcHTTPClient"]),
        // The Lambda custom runtime (`bootstrap`): the interpreter with the AWS host. Built
        // statically by scripts/build-lambda.sh (no URLSession, so no libcurl).
        .executableTarget(name: "infc-lambda", dependencies: ["InfcLambda"]),
        // The only code that knows JSON-RPC and LSP.
        .target(name: "InfcLanguageServer", dependencies: ["InfcCompiler"]),
        // argv, file IO, exit codes: every command, for both executables.
        .target(name: "InfcCommandLine", dependencies: ["InfcCompiler", "InfcRuntime", "InfcLanguageServer", "CMalloc"]),
        // The compiler's executable: `run`, `dev`, `package`, `deploy` and `destroy` hand over to infc-runtime.
        .executableTarget(name: "infc", dependencies: ["InfcCommandLine"]),
        // The runtime's executable: the same commands, with the network client and the cloud commands.
        .executableTarget(name: "infc-runtime", dependencies: ["InfcCommandLine", "InfcCloudCommands", "InfcServiceClient", "CMalloc"]),
        // What the test targets share: one loopback HTTP client, one `Locked`, one way to wait.
        .target(name: "InfcTestSupport", dependencies: ["InfcCompiler"], path: "Tests/InfcTestSupport"),
        .testTarget(name: "InfcCompilerTests", dependencies: ["InfcCompiler", "InfcTestSupport"]),
        .testTarget(name: "InfcRuntimeTests", dependencies: ["InfcRuntime", "InfcTestSupport"]),
        .testTarget(name: "InfcAWSTests", dependencies: ["InfcAWS", "InfcHTTPClient", "InfcLambda", "InfcTestSupport"]),
        .testTarget(name: "InfcDeployTests", dependencies: ["InfcDeploy", "InfcAWS", "InfcHTTPClient", "InfcCompiler", "InfcTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["InfcCompiler", "InfcTestSupport"]),
    ]
)
