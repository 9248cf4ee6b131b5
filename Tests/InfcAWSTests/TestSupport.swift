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
