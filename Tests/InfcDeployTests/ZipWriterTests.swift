// The deterministic zip writer and the code package: read back by independent readers (Python's
// zipfile, which checks every CRC, and Info-ZIP's `unzip -t` and extraction), byte-identical for
// the same input in any order, and refusing what a package must not hold.
import Foundation
import InfcCompiler
import InfcTestSupport
import Testing
@testable import InfcDeploy

@Suite struct ZipWriterTests {
    /// Files of every shape: empty, text, very compressible, incompressible, non-ASCII name, nested.
    static func sampleEntries() -> [ZipEntry] {
        // Incompressible but fixed: a linear congruential sequence's high bytes.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let noise = (0..<70_000).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        return [
            ZipEntry(path: "manifest.json", bytes: Array("{\"app\": \"shop\"}\n".utf8)),
            ZipEntry(path: "bootstrap", bytes: noise, mode: 0o755),
            ZipEntry(path: "code/app.inf", bytes: Array(String(repeating: "route GET \"/\" { return 1 }\n", count: 400).utf8)),
            ZipEntry(path: "empty", bytes: []),
            ZipEntry(path: "code/naïve ünïcode.txt", bytes: Array("é\n".utf8)),
        ]
    }

    @Test func crc32IsTheZipPolynomial() {
        #expect(ZipWriter.crc32(of: Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(ZipWriter.crc32(of: []) == 0)
    }

    @Test func theSameEntriesGiveTheSameBytesInAnyOrder() throws {
        let a = try ZipWriter.archive(Self.sampleEntries())
        let b = try ZipWriter.archive(Self.sampleEntries().reversed())
        #expect(a == b)
        // A changed byte changes the archive.
        var changed = Self.sampleEntries()
        changed[0].bytes[2] ^= 1
        #expect(try ZipWriter.archive(changed) != a)
    }

    @Test func pythonsZipfileReadsItBack() throws {
        let dir = try Temporary()
        defer { dir.remove() }
        let archive = try ZipWriter.archive(Self.sampleEntries())
        try Data(archive).write(to: dir.url.appendingPathComponent("a.zip"))
        // Every entry's CRC (testzip), names in order, bytes, modes, dates and methods.
        let script = """
            import sys, zipfile, json, base64
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            print(json.dumps([{"name": i.filename, "mode": i.external_attr >> 16, "date": list(i.date_time),
                               "method": i.compress_type, "system": i.create_system,
                               "data": base64.b64encode(z.read(i)).decode()} for i in z.infolist()]))
            """
        let r = try runProcess("/usr/bin/env", ["python3", "-c", script, dir.url.appendingPathComponent("a.zip").path], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        let listed = try JSON.parse(bytes: r.stdout)
        let expected = Self.sampleEntries().sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        guard case .array(let items) = listed, items.count == expected.count else {
            Issue.record("unexpected listing \(r.stdout)")
            return
        }
        for (item, entry) in zip(items, expected) {
            #expect(item["name"]?.stringValue == entry.path)
            #expect(item["mode"] == .int(Int(0o100000 | Int(entry.mode))))
            #expect(item["date"] == .array([.int(1980), .int(1), .int(1), .int(0), .int(0), .int(0)]))
            #expect(item["system"] == .int(3))
            #expect(item["data"]?.stringValue == Base64.encode(entry.bytes))
        }
        // Text deflates; the noise is stored (deflate would grow it).
        #expect(items.first { $0["name"]?.stringValue == "code/app.inf" }?["method"] == .int(8))
        #expect(items.first { $0["name"]?.stringValue == "bootstrap" }?["method"] == .int(0))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip"), "unzip is not installed"))
    func unzipTestsAndExtractsIt() throws {
        let dir = try Temporary()
        defer { dir.remove() }
        let path = dir.url.appendingPathComponent("a.zip").path
        try Data(try ZipWriter.archive(Self.sampleEntries())).write(to: URL(fileURLWithPath: path))
        let test = try runProcess("/usr/bin/unzip", ["-t", path], timeout: 120)
        #expect(test.status == 0 && test.text.contains("No errors detected"), "\(test.text)\(test.stderr)")
        let out = dir.url.appendingPathComponent("out").path
        let extract = try runProcess("/usr/bin/unzip", ["-q", path, "-d", out], timeout: 120)
        #expect(extract.status == 0, "\(extract.stderr)")
        let attributes = try FileManager.default.attributesOfItem(atPath: out + "/bootstrap")
        #expect((attributes[.posixPermissions] as? Int) == 0o755)
        #expect(FileManager.default.contents(atPath: out + "/code/app.inf") == Data(Self.sampleEntries()[2].bytes))
    }

    @Test func refusesWhatAPackageMustNotHold() {
        for bad in ["", "/etc/passwd", "a/../b", "./a", "a//b", "a/"] {
            #expect(throws: ZipError.self, "\(bad)") { try ZipWriter.archive([ZipEntry(path: bad, bytes: [1])]) }
        }
        #expect(throws: ZipError("`a` is in the archive twice")) {
            try ZipWriter.archive([ZipEntry(path: "a", bytes: [1]), ZipEntry(path: "a", bytes: [2])])
        }
    }

    @Test func thePackageHoldsTheBootstrapTheManifestAndTheCode() throws {
        let source = try String(contentsOf: repositoryRoot.appendingPathComponent("examples/shop.inf"), encoding: .utf8)
        let c = Compilation.compile(SourceFile(path: "shop.inf", bytes: Array(source.utf8)))
        #expect(!c.hasErrors)
        // Any bytes do as the bootstrap here: the package only carries them.
        let bootstrap = Array("#!/bin/sh\necho bootstrap\n".utf8)
        let first = try LambdaPackage.build(c, bootstrap: bootstrap)
        let second = try LambdaPackage.build(Compilation.compile(SourceFile(path: "shop.inf", bytes: Array(source.utf8))), bootstrap: bootstrap)
        #expect(first.zip == second.zip && first.sha256 == second.sha256)
        #expect(first.paths == ["bootstrap", "code/shop.inf", "manifest.json"])
        #expect(first.sha256 == SHA256.hex(first.zip))
        #expect(LambdaPackage.key(app: "shop", sha256: first.sha256) == "shop/\(first.sha256).zip")
        let other = try LambdaPackage.build(c, bootstrap: bootstrap + [0])
        #expect(other.sha256 != first.sha256)
    }
}

/// A temporary directory for one test.
struct Temporary {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("infc-deploy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func remove() { try? FileManager.default.removeItem(at: url) }
}
