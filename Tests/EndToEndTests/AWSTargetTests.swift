import InfcTestSupport
// End-to-end tests of `infc build --target aws`: the real binary writes template.json
// and workflows/NAME.asl.json (byte-identical across builds, errors for what AWS cannot
// express), scripts/aws_template_test.py checks the templates with cfn-lint and deploys the
// shop's to moto in server mode on loopback, and scripts/aws_workflow_test.py runs workflows on
// moto (Step Functions executing, tasks through a loopback shim) and on the local runtime alike.
import Foundation
import Testing

@Suite struct AWSTargetTests {
    @Test func buildWritesTheTemplate() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a"), b = dir.appendingPathComponent("b")
        let first = try CLI.run(["build", "examples/shop.inf", "--target", "aws", "-o", a.path])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("template.json") && first.stdout.contains("44 resources"))
        #expect(!first.stderr.contains("warning"), "\(first.stderr)")
        let asl = try Data(contentsOf: a.appendingPathComponent("workflows/follow_up.asl.json"))
        #expect(asl == (try Data(contentsOf: CLI.root.appendingPathComponent("Tests/Golden/emit/shop.follow_up.asl.json"))))
        #expect(try CLI.run(["build", "examples/shop.inf", "--target", "aws", "-o", b.path, "-q"]).status == 0)
        let x = try Data(contentsOf: a.appendingPathComponent("template.json"))
        let y = try Data(contentsOf: b.appendingPathComponent("template.json"))
        #expect(x == y)
        #expect(!FileManager.default.fileExists(atPath: a.appendingPathComponent("manifest.json").path))
        let golden = try Data(contentsOf: CLI.root.appendingPathComponent("Tests/Golden/emit/shop.template.json"))
        #expect(x == golden)
    }

    @Test func whatAWSCannotExpressStopsTheBuild() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = dir.appendingPathComponent("s.inf")
        try "app s\nevery 90s { log(\"tick\") }\n".write(to: src, atomically: true, encoding: .utf8)
        let r = try CLI.run(["build", src.path, "--target", "aws", "-o", dir.appendingPathComponent("out").path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("whole minutes"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/template.json").path))
        // The local target still builds it.
        #expect(try CLI.run(["build", src.path, "-o", dir.appendingPathComponent("local").path, "-q"]).status == 0)
    }

    /// cfn-lint and the template on moto (scripts/aws_template_test.py), and the workflows executed
    /// on moto against the local runtime (scripts/aws_workflow_test.py): one session, one moto.
    @Test(.enabled(if: Python.python3 != nil, "python3 is not installed: the cfn-lint and moto tests need it"))
    func cfnLintAndMoto() throws {
        let r = try Python.pytest(["scripts/aws_template_test.py", "scripts/aws_workflow_test.py"],
                                  environment: ["INFC": Binary.url.path], timeout: 900)
        #expect(r.status == 0, "cfn-lint/moto test failed (scripts/install-test-deps.sh installs cfn-lint and moto):\n\(r.text)")
    }
}
