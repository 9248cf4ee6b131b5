// End-to-end tests of the AWS target's deployment commands through the real binary: `infc package`
// (a deterministic zip read back by Python's zipfile and `unzip -t`).
//
// Until the Lambda bootstrap (`infc-lambda`) is built beside infc, these tests compile a tiny C
// program and pass it with --bootstrap: it is only the zip's payload, never run.
import Foundation
import InfcTestSupport
import Testing

enum StandInBootstrap {
    /// A small real executable built here with the C compiler (nil when there is none).
    static func build(in dir: URL) throws -> URL? {
        guard let cc = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let source = dir.appendingPathComponent("bootstrap.c")
        try "int main(void) { return 0; }\n".write(to: source, atomically: true, encoding: .utf8)
        let binary = dir.appendingPathComponent("stand-in-bootstrap")
        let r = try CLI.run([source.path, "-o", binary.path], executable: URL(fileURLWithPath: cc))
        guard r.status == 0 else { throw CocoaError(.executableLoad) }
        return binary
    }
}

@Suite struct PackageCommandTests {
    @Test func packageWritesADeterministicZip() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        guard let bootstrap = try StandInBootstrap.build(in: dir) else { return }
        let a = dir.appendingPathComponent("a"), b = dir.appendingPathComponent("b")
        let first = try CLI.run(["package", "examples/shop.inf", "-o", a.path, "--bootstrap", bootstrap.path])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("packaged shop → \(a.path)/package.zip (bootstrap, code/shop.inf, manifest.json;"), "\(first.stdout)")
        #expect(try CLI.run(["package", "examples/shop.inf", "-o", b.path, "--bootstrap", bootstrap.path, "-q"]).status == 0)
        let x = try Data(contentsOf: a.appendingPathComponent("package.zip"))
        let y = try Data(contentsOf: b.appendingPathComponent("package.zip"))
        #expect(x == y)

        // An independent reader: every CRC, the bootstrap's bytes and mode, the build directory's files.
        let script = """
            import sys, zipfile
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            assert z.namelist() == ["bootstrap", "code/shop.inf", "manifest.json"], z.namelist()
            assert z.read("bootstrap") == open(sys.argv[2], "rb").read()
            assert z.getinfo("bootstrap").external_attr >> 16 == 0o100755
            assert z.read("code/shop.inf") == open("examples/shop.inf", "rb").read()
            assert b'"app": "shop"' in z.read("manifest.json")
            """
        if let python = LanguageServerEndToEndTests.python3 {
            let r = try CLI.run(["-c", script, a.appendingPathComponent("package.zip").path, bootstrap.path], executable: python)
            #expect(r.status == 0, "\(r.stderr)")
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip") {
            let r = try CLI.run(["-t", a.appendingPathComponent("package.zip").path], executable: URL(fileURLWithPath: "/usr/bin/unzip"))
            #expect(r.status == 0 && r.stdout.contains("No errors detected"), "\(r.stdout)")
        }
        // The manifest in the zip is the one `infc build` writes.
        let build = dir.appendingPathComponent("build")
        #expect(try CLI.run(["build", "examples/shop.inf", "-o", build.path, "-q"]).status == 0)
        let unzip = try CLI.run(["-p", a.appendingPathComponent("package.zip").path, "manifest.json"], executable: URL(fileURLWithPath: "/usr/bin/unzip"))
        #expect(unzip.stdout == (try String(contentsOf: build.appendingPathComponent("manifest.json"), encoding: .utf8)))
    }

    @Test func withoutABootstrapPackageSaysHowToGetOne() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A lone infc: no infc-lambda beside it.
        let lone = dir.appendingPathComponent("infc")
        try FileManager.default.copyItem(at: Binary.url, to: lone)
        let r = try CLI.run(["package", "examples/shop.inf", "-o", dir.appendingPathComponent("out").path], executable: lone)
        #expect(r.status == 2)
        #expect(r.stderr == "infc: error: no Lambda bootstrap: \(dir.path)/infc-lambda does not exist; build the release (make build puts infc-lambda beside infc) or pass --bootstrap PATH\n", "\(r.stderr)")
        let missing = try CLI.run(["package", "examples/shop.inf", "--bootstrap", dir.appendingPathComponent("nope").path])
        #expect(missing.status == 2 && missing.stderr.contains("is not a file"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }
}
