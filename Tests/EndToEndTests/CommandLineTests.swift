// End-to-end tests of the command line: exit codes (0 ok, 1 diagnostics, 2 usage/IO), the three
// diagnostic formats, one-line IO errors, `infc new`, and byte-identical builds.
import Foundation
import Testing

/// Runs the real `infc` with stdout and stderr captured in files, at most 60 seconds.
struct CLI {
    var status: Int32
    var stdout: String
    var stderr: String

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @discardableResult
    static func run(_ args: [String], in directory: URL = root, executable: URL = Binary.url) throws -> CLI {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("infc-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let out = tmp.appendingPathComponent("out"), err = tmp.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        p.currentDirectoryURL = directory
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { p.terminate(); throw CocoaError(.executableLoad) }
        return CLI(status: p.terminationStatus,
                   stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    static func tempDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infc-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

@Suite struct CommandLineTests {
    @Test func everyExampleChecksClean() throws {
        let examples = try FileManager.default.contentsOfDirectory(atPath: CLI.root.appendingPathComponent("examples").path)
            .filter { $0.hasSuffix(".inf") }.sorted().map { "examples/\($0)" }
        #expect(examples.count >= 5)
        let r = try CLI.run(["check"] + examples)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }

    @Test func errorsExitOneInEveryFormat() throws {
        let file = "Tests/Golden/check/multiple_errors.inf"
        let text = try CLI.run(["check", "--color", "never", file])
        #expect(text.status == 1)
        #expect(text.stdout.contains("error[E0313]") && text.stdout.contains("error[E0203]") && text.stdout.contains("error[E0201]"))
        #expect(text.stdout.contains("--> \(file):5:7"))
        let gcc = try CLI.run(["check", "--format", "gcc", file])
        #expect(gcc.status == 1)
        #expect(gcc.stdout.split(separator: "\n") == [
            "\(file):5:7: error: a schedule can run at most once a minute [E0313]",
            "\(file):6:12: error: `uuid` takes 0 arguments but 1 was given [E0203]",
            "\(file):7:18: error: cannot find `ordrs` in scope [E0201]",
        ])
        let json = try CLI.run(["check", "--format=json", file])
        #expect(json.status == 1)
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let diags = doc?["diagnostics"] as? [[String: Any]] ?? []
        #expect(diags.map { $0["code"] as? String } == ["E0313", "E0203", "E0201"])
        let start = (diags.last?["range"] as? [String: Any])?["start"] as? [String: Any]
        #expect(start?["line"] as? Int == 7 && start?["column"] as? Int == 18)
        #expect((diags.last?["fixits"] as? [Any])?.count == 1)
    }

    @Test func warningsAloneExitZero() throws {
        let r = try CLI.run(["check", "Tests/Golden/check/unused_variable.inf"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("warning[W0501]"))
    }

    @Test func usageAndIOErrorsAreOneLineAndExitTwo() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data([0x61, 0x70, 0x70, 0x20, 0xFF, 0xFE, 0x0A]).write(to: dir.appendingPathComponent("latin1.inf"))
        let cases: [([String], String)] = [
            (["check", dir.appendingPathComponent("missing.inf").path], "no such file"),
            (["check", dir.path], "is a directory"),
            (["check", dir.appendingPathComponent("latin1.inf").path], "is not UTF-8"),
            (["check"], "check needs a file"),
            (["check", "--format", "xml", "examples/shop.inf"], "--format must be one of"),
            (["chekc", "x"], "did you mean 'infc check'"),
            (["check", "--bogus", "examples/shop.inf"], "unknown option '--bogus'"),
            (["build", "examples/shop.inf", "--target", "gcp"], "--target must be one of local, aws"),
        ]
        for (args, message) in cases {
            let r = try CLI.run(args)
            #expect(r.status == 2, "\(args): \(r.status)")
            #expect(r.stderr.hasPrefix("infc: error: ") && r.stderr.contains(message), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
    }

    @Test func buildTwiceIsByteIdentical() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a"), b = dir.appendingPathComponent("b")
        let first = try CLI.run(["build", "examples/shop.inf", "-o", a.path])
        #expect(first.status == 0)
        #expect(first.stdout.contains("resources: 44 / 200"))
        #expect(try CLI.run(["build", "examples/shop.inf", "-o", b.path]).status == 0)
        for f in ["manifest.json", "code/shop.inf"] {
            let x = try Data(contentsOf: a.appendingPathComponent(f)), y = try Data(contentsOf: b.appendingPathComponent(f))
            #expect(x == y, "\(f) differs between builds")
        }
        let manifest = try String(contentsOf: a.appendingPathComponent("manifest.json"), encoding: .utf8)
        #expect(!manifest.contains(dir.path))
    }

    /// Inputs that once made the front end spin forever (Tests/Golden/check/recovery_*.inf, one
    /// of them 7 bytes: `app x{)`): every command that compiles reports them and exits 1.
    @Test func recoveryReproducersEndEveryCommand() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = try FileManager.default.contentsOfDirectory(atPath: CLI.root.appendingPathComponent("Tests/Golden/check").path)
            .filter { $0.hasPrefix("recovery_") && $0.hasSuffix(".inf") }.sorted()
        #expect(cases.count >= 6)
        for name in cases {
            let file = "Tests/Golden/check/\(name)"
            for args in [["check", file], ["build", file, "-o", dir.appendingPathComponent("out").path],
                         ["explain", file], ["graph", file]] {
                let r = try CLI.run(args)
                #expect(r.status == 1, "infc \(args.joined(separator: " ")): \(r.status) \(r.stdout)\(r.stderr)")
                #expect((r.stdout + r.stderr).contains("error[E01"), "infc \(args.joined(separator: " ")) reported no syntax error")
            }
        }
    }

    @Test func buildRefusesErrorsAndWritesNothing() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["build", "Tests/Golden/check/async_cycle.inf", "-o", dir.appendingPathComponent("out").path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("error[E0401]"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/manifest.json").path))
    }

    @Test func newCreatesAppsThatCheckCleanAndRefusesToOverwrite() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for template in ["api", "worker", "workflow"] {
            let name = "my_\(template)"
            let r = try CLI.run(["new", name, "--template", template], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
            let app = dir.appendingPathComponent("\(name)/app.inf")
            let text = try String(contentsOf: app, encoding: .utf8)
            #expect(text.contains("app \(name)"))
            let check = try CLI.run(["check", app.path])
            #expect(check.status == 0 && !check.stdout.contains("warning"), "\(template): \(check.stdout)")
            let again = try CLI.run(["new", name], in: dir)
            #expect(again.status == 2 && again.stderr.contains("already exists"))
        }
    }

    @Test func explainDumpHelpAndVersion() throws {
        let explain = try CLI.run(["explain", "examples/shop.inf"])
        #expect(explain.status == 0)
        #expect(explain.stdout.contains("→ workflow follow_up"))
        #expect(explain.stdout.contains("limit 10: uses payments"))
        for stage in ["tokens", "ast", "plan"] {
            let r = try CLI.run(["dump", stage, "examples/shop.inf"])
            #expect(r.status == 0 && !r.stdout.isEmpty, "dump \(stage)")
        }
        let help = try CLI.run(["help"])
        for command in ["check", "build", "explain", "run", "dev", "lsp", "new", "status"] {
            #expect(help.stdout.contains("  \(command)"), "help lists \(command)")
            #expect(try CLI.run(["help", command]).status == 0)
        }
        #expect(try CLI.run(["version"]).stdout.hasPrefix("infc "))
    }
}
