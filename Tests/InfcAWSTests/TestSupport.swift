// Test support for the AWS tests: python3 and the repository's scripts, a child process run with
// input and a deadline, a seeded random generator.
import Foundation
import Glibc

enum TestEnvironment {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let python3: String? = {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(dir)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// Whether python3 can import every module named.
    static func pythonHas(_ modules: String...) -> Bool {
        guard let python3 else { return false }
        let result = try? run(python3, ["-c", modules.map { "import \($0)" }.joined(separator: "; ")], timeout: 60)
        return result?.status == 0
    }

    static let hasBotocore = pythonHas("botocore")
    static let hasMoto = pythonHas("moto", "moto.server")
    static let hasOpenSSL = FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")

    struct Output { var status: Int32; var stdout: [UInt8]; var stderr: String }

    /// Runs `executable` with `input` on its standard input; kills it after `timeout` seconds.
    static func run(_ executable: String, _ arguments: [String], input: [UInt8] = [], environment: [String: String]? = nil,
                    directory: URL? = nil, timeout: Double) throws -> Output {
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
        return Output(status: process.terminationStatus, stdout: out.value, stderr: String(decoding: err.value, as: UTF8.self))
    }
}

final class Locked<T>: @unchecked Sendable {
    private var stored: T
    private let lock = NSLock()
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

/// SplitMix64: a small, seeded, reproducible generator.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A child server the tests talk to on 127.0.0.1; stopped by `stop()` (its standard input is
/// closed and it is terminated), and, should the test process die, by its standard input closing.
final class ChildServer: @unchecked Sendable {
    let process = Process()
    private let stdin = Pipe()
    private let stdout = Pipe()
    let port: Int

    /// Starts `arguments` under python3 and waits for its "PORT n" line (`announcesPort`), or
    /// for `port` to accept connections.
    init(pythonArguments: [String], port: Int? = nil, environment: [String: String] = [:], timeout: Double = 60) throws {
        process.executableURL = URL(fileURLWithPath: TestEnvironment.python3 ?? "/usr/bin/python3")
        process.arguments = pythonArguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date(timeIntervalSinceNow: timeout)
        if let port {
            self.port = port
            while Date() < deadline {
                if Self.accepts(port) { return }
                if !process.isRunning { break }
                usleep(50_000)
            }
            stop()
            throw TestFailure("the server on port \(port) did not start")
        }
        var line: [UInt8] = []
        let handle = stdout.fileHandleForReading
        while Date() < deadline, process.isRunning {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty { break }
            if byte.first == 10 { break }
            line += byte
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let p = Int(text.dropFirst(5)) else {
            process.terminate()
            throw TestFailure("the server did not announce its port: \(text)")
        }
        self.port = p
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("infc-aws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func remove() { try? FileManager.default.removeItem(at: url) }
}
