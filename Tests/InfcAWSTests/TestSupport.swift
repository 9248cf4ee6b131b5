// Test support for the AWS tests: what they need beyond InfcTestSupport's processes.
import Foundation
import InfcTestSupport

enum TestEnvironment {
    static let repositoryRoot = InfcTestSupport.repositoryRoot
    static let python3 = Python.python3
    static let hasBotocore = Python.has("botocore")
    static let hasMoto = Python.has("moto", "moto.server")
    static let hasOpenSSL = FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")

    /// Runs `executable` with `input` on its standard input; kills it after `timeout` seconds.
    static func run(_ executable: String, _ arguments: [String], input: [UInt8] = [], environment: [String: String]? = nil,
                    directory: URL? = nil, timeout: Double) throws -> ProcessOutput {
        try runProcess(executable, arguments, input: input, environment: environment, directory: directory, timeout: timeout)
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
