// Test support: child processes — python3 and the repository's scripts, a process run with input
// and a deadline, a pytest file run as one test — and a seeded random generator. The only copies
// of these in the tests.
import Foundation
import Glibc

/// The repository's root (the directory of Package.swift).
public let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// What a finished child process left: its status and both outputs.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: String
    /// Standard output as text.
    public var text: String { String(decoding: stdout, as: UTF8.self) }
}

public enum Python {
    /// The first `python3` on PATH.
    public static let python3: String? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(dir)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// Whether python3 can import every module named.
    public static func has(_ modules: String...) -> Bool {
        guard let python3 else { return false }
        let result = try? runProcess(python3, ["-c", modules.map { "import \($0)" }.joined(separator: "; ")], timeout: 60)
        return result?.status == 0
    }

    /// Runs one pytest file of the repository (no cache, no benchmark plugin, so nothing is left
    /// in the checkout) with `environment` added to this process's; killed after `timeout` seconds.
    /// Standard error is folded into the output's text.
    public static func pytest(_ script: String, environment: [String: String] = [:], timeout: Double) throws -> ProcessOutput {
        try pytest([script], environment: environment, timeout: timeout)
    }

    /// Several pytest files in one session (session fixtures, such as one emulator, are shared).
    public static func pytest(_ scripts: [String], environment: [String: String] = [:], timeout: Double) throws -> ProcessOutput {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let r = try runProcess(python3 ?? "python3", ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:benchmark"] + scripts,
                               environment: env, directory: repositoryRoot, timeout: timeout)
        return ProcessOutput(status: r.status, stdout: r.stdout + Array(r.stderr.utf8), stderr: "")
    }
}

/// Runs `executable` with `input` on its standard input; kills it after `timeout` seconds.
public func runProcess(_ executable: String, _ arguments: [String], input: [UInt8] = [], environment: [String: String]? = nil,
                       directory: URL? = nil, timeout: Double) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = directory }
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let out = Locked<[UInt8]>([]), err = Locked<[UInt8]>([])
    let readers = [Thread { out.value = [UInt8](stdout.fileHandleForReading.readDataToEndOfFile()) },
                   Thread { err.value = [UInt8](stderr.fileHandleForReading.readDataToEndOfFile()) }]
    readers.forEach { $0.start() }
    try stdin.fileHandleForWriting.write(contentsOf: input)
    try stdin.fileHandleForWriting.close()
    let deadline = Date(timeIntervalSinceNow: timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    while readers.contains(where: { !$0.isFinished }) { usleep(1000) }
    return ProcessOutput(status: process.terminationStatus, stdout: out.value, stderr: String(decoding: err.value, as: UTF8.self))
}

/// SplitMix64: a small, seeded, reproducible generator.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
