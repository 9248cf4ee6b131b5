// swift-tools-version:6.0
// infc: an infrastructure-from-code compiler and its local runtime.
// No package dependencies by design: Foundation, Dispatch, Glibc and the system libsqlite3 only.
import PackageDescription

let package = Package(
    name: "infc",
    products: [
        .executable(name: "infc", targets: ["infc"]),
        .executable(name: "infc-runtime", targets: ["infc-runtime"]),
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
        // The only code that knows JSON-RPC and LSP.
        .target(name: "InfcLanguageServer", dependencies: ["InfcCompiler"]),
        // argv, file IO, exit codes: every command, for both executables.
        .target(name: "InfcCommandLine", dependencies: ["InfcCompiler", "InfcRuntime", "InfcLanguageServer", "CMalloc"]),
        // The compiler's executable: `run` and `dev` hand over to infc-runtime.
        .executableTarget(name: "infc", dependencies: ["InfcCommandLine"]),
        // The runtime's executable: the same commands, with the network client.
        .executableTarget(name: "infc-runtime", dependencies: ["InfcCommandLine", "InfcServiceClient", "CMalloc"]),
        // What the test targets share: one loopback HTTP client, one `Locked`, one way to wait.
        .target(name: "InfcTestSupport", dependencies: ["InfcCompiler"], path: "Tests/InfcTestSupport"),
        .testTarget(name: "InfcCompilerTests", dependencies: ["InfcCompiler"]),
        .testTarget(name: "InfcRuntimeTests", dependencies: ["InfcRuntime", "InfcTestSupport"]),
        .testTarget(name: "InfcAWSTests", dependencies: ["InfcAWS", "InfcHTTPClient", "InfcLambda", "InfcTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["InfcCompiler", "InfcTestSupport"]),
    ]
)
