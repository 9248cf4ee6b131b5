// End-to-end tests of the two executables: `infc` (the compiler, which never loads the network
// stack) hands `run` and `dev` to `infc-runtime` beside it, and says so when it is missing.
import Foundation
import Testing

@Suite struct ExecutablesTests {
    @Test func theCompilerProcessDoesNotLoadTheNetworkStack() throws {
        // A language server stays up while its input is open: read what it has mapped.
        let p = Process()
        p.executableURL = Binary.url
        p.arguments = ["lsp"]
        let input = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer {
            try? input.fileHandleForWriting.close()
            p.waitUntilExit()
        }
        var maps = ""
        let deadline = Date().addingTimeInterval(10)
        // Mapped once its main runs: wait for Foundation to be there.
        while Date() < deadline {
            maps = (try? String(contentsOfFile: "/proc/\(p.processIdentifier)/maps", encoding: .utf8)) ?? ""
            if maps.contains("libswiftCore") || maps.contains("Foundation") || maps.count > 200_000 { break }
            usleep(20_000)
        }
        #expect(!maps.isEmpty)
        #expect(!maps.contains("libcurl"), "the compiler process mapped libcurl")
        #expect(!maps.contains("libssl") && !maps.contains("libcrypto"), "the compiler process mapped OpenSSL")
        #expect(!maps.contains("libz.so"), "the compiler process mapped zlib")
        #expect(!maps.contains("FoundationNetworking"), "the compiler process mapped FoundationNetworking")
    }

    @Test func runWithoutTheRuntimeExecutableSaysWhatIsMissing() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lone = dir.appendingPathComponent("infc")
        try FileManager.default.copyItem(at: Binary.url, to: lone)
        for command in ["run", "dev", "package", "deploy", "destroy"] {
            let r = try CLI.run([command, "anything"], executable: lone)
            #expect(r.status == 2)
            #expect(r.stderr.hasPrefix("infc: error: cannot start the runtime \(dir.path)/infc-runtime"), "\(r.stderr)")
            #expect(r.stderr.contains("make install"))
        }
        // Help needs no runtime.
        #expect(try CLI.run(["run", "--help"], executable: lone).status == 0)
    }

    @Test func everyCommandAnswersHelpFlags() throws {
        for command in ["check", "build", "explain", "graph", "run", "dev", "lsp", "new", "status", "trace", "package", "deploy", "destroy"] {
            let help = try CLI.run(["help", command])
            #expect(help.status == 0 && !help.stdout.isEmpty)
            for flag in ["--help", "-h"] {
                let r = try CLI.run([command, flag])
                #expect(r.status == 0 && r.stdout == help.stdout, "infc \(command) \(flag)")
            }
        }
    }

    @Test func anInstalledInfcFindsItsRuntimeAndTemplates() throws {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // `make install` is `make build` then this copy step, here of the debug build.
        let install = try CLI.run(["-s", "install-files", "INFC=\(Binary.url.path)", "DESTDIR=\(dir.path)", "PREFIX=/opt/infc"],
                                  executable: URL(fileURLWithPath: "/usr/bin/make"))
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        let infc = dir.appendingPathComponent("opt/infc/bin/infc")
        #expect(FileManager.default.isExecutableFile(atPath: infc.path + "-runtime"))

        // `infc new` finds the templates under share/infc, and the app checks clean.
        let work = dir.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let created = try CLI.run(["new", "hello"], in: work, executable: infc)
        #expect(created.status == 0, "\(created.stderr)")
        let check = try CLI.run(["check", "hello/app.inf"], in: work, executable: infc)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        // `infc run` hands over to the infc-runtime beside it: the error is the runtime's own.
        let run = try CLI.run(["run", "no-such-build", "--port", "0"], in: work, executable: infc)
        #expect(run.status != 0)
        #expect(!run.stderr.contains("cannot start the runtime"), "\(run.stderr)")
        #expect(run.stderr.contains("no-such-build"), "\(run.stderr)")
    }
}
