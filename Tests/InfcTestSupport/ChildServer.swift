// Test support: servers the tests start on 127.0.0.1 — a free port, a child server (python3
// scripts that announce "PORT n" and stop when their standard input closes), and the AWS emulator
// (moto in server mode, through scripts/moto_server.py): the one launcher of it in the Swift tests.
import Foundation
import Glibc

/// A free TCP port on 127.0.0.1 (bound, read, released).
public func freeLoopbackPort() -> Int {
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
public final class ChildServer: @unchecked Sendable {
    public let process = Process()
    private let stdin = Pipe()
    private let stdout = Pipe()
    public let port: Int

    /// Starts `arguments` under python3 and waits for its "PORT n" line (`announcesPort`), or
    /// for `port` to accept connections.
    public init(pythonArguments: [String], port: Int? = nil, environment: [String: String] = [:], timeout: Double = 60) throws {
        process.executableURL = URL(fileURLWithPath: Python.python3 ?? "/usr/bin/python3")
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

    public static func accepts(_ port: Int) -> Bool {
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

    public func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension ChildServer {
    /// moto in server mode on a free loopback port, through the project's one launcher of it
    /// (scripts/moto_server.py, which corrects moto 5.2.6's Step Functions `startExecution`
    /// integration); it exits when this process closes its standard input. `MOTO_PORT`, where
    /// moto's own service calls go (a state machine's tasks), is its port, or `lambdaShim`: the
    /// port scripts/conftest.py's `LambdaShim` will serve.
    public static func moto(lambdaShim: Int? = nil) throws -> ChildServer {
        let port = freeLoopbackPort()
        let launcher = repositoryRoot.appendingPathComponent("scripts/moto_server.py").path
        return try ChildServer(pythonArguments: [launcher, "--until-stdin-closes", "-H", "127.0.0.1", "-p", String(port)],
                               port: port, environment: ["MOTO_PORT": String(lambdaShim ?? port)], timeout: 90)
    }
}
