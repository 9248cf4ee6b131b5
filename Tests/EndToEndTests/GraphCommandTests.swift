// End-to-end tests of `infc graph`: the real binary writes the golden DOT to stdout, a file
// with -o, and a one-line error with close names for an unknown --focus.
import Foundation
import Testing

@Suite struct GraphCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func infc(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = Binary.url
        p.arguments = arguments
        p.currentDirectoryURL = root
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        nonisolated(unsafe) var stdout = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { stdout = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    static func golden(_ name: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent("Tests/Golden/emit/" + name), encoding: .utf8)
    }

    @Test func graphWritesDotToStdout() throws {
        let r = try Self.infc(["graph", "examples/shop.inf"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == (try Self.golden("shop.dot")))
    }

    @Test func graphTargetAWSDrawsTheStateMachine() throws {
        let r = try Self.infc(["graph", "examples/shop.inf", "--target", "aws", "--format", "mermaid"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == (try Self.golden("shop.aws.mmd")))
        let bad = try Self.infc(["graph", "examples/shop.inf", "--target", "gcp"])
        #expect(bad.status == 2 && bad.stderr.contains("--target"))
    }

    @Test func graphWritesAFileWithOutput() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infc-graph-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("nested/shop.mmd").path
        let r = try Self.infc(["graph", "examples/shop.inf", "--format", "mermaid", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect((try String(contentsOfFile: out, encoding: .utf8)) == (try Self.golden("shop.mmd")))
        let json = try Self.infc(["graph", "examples/shop.inf", "--format=json", "--focus", "charge"])
        #expect(json.status == 0)
        #expect(json.stdout.contains("\"id\": \"dlq:charge-dlq\""))
        #expect(!json.stdout.contains("\"id\": \"fn:remind\""))
    }

    @Test func graphUnknownFocusIsOneLineWithCloseNames() throws {
        let r = try Self.infc(["graph", "examples/shop.inf", "--focus", "chrage"])
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("infc: error: no handler, fn or resource named 'chrage'"))
        #expect(r.stderr.contains("'charge'"))
        #expect(r.stderr.filter { $0 == "\n" }.count == 1)
        let bad = try Self.infc(["graph", "examples/shop.inf", "--format", "svg"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--format must be one of dot, mermaid, json"))
    }
}
