// Incremental analysis against the full compiler: chains of random edits (seeded, so a failure
// replays) over every example and the generated 2,000-line app; after each edit the patched
// diagnostics must equal a full compile's, and most edits inside bodies must be patched.
import Foundation
import Testing
import InfcTestSupport
@testable import InfcCompiler

@Suite struct IncrementalDiagnosticsTests {
    /// What a user types: characters, whole statements that change a body's facts or not,
    /// mistakes, and deletions.
    static let insertions = [
        "x", "1", " ", "\n", ".", "(", ")", "{", "}", "\"", "é", ",", "_", "y2",
        "let unused_a = 1\n", "let t = now()\n  log(t)\n", "log(\"hi\")\n", "return 1\n", "sleep 1s\n",
        "orders.get(\"k\")\n", "events.publish({ a: 1 })\n", "if true { log(1) }\n", "undefined_name\n",
        "for i in [1, 2] { log(i) }\n", "try { log(1) } catch e { log(e) }\n", "parallel { log(1) }\n",
        "// comment\n", "\"\\(1 + 2)\"\n", "missing(1, 2)\n",
    ]

    /// Runs `steps` edits from `text`, checking each against a full compile; returns how many
    /// edits were patched and how many landed inside a handler's body.
    static func run(path: String, text: [UInt8], steps: Int, seed: UInt64) -> (patched: Int, inBodies: Int) {
        var rng = SeededGenerator(seed: seed)
        var bytes = text
        var state = IncrementalDiagnostics(Compilation.compile(SourceFile(path: path, bytes: bytes)))
        var patched = 0, inBodies = 0
        for step in 0..<steps {
            // Mostly inside a body (where patching applies), sometimes anywhere.
            let program = Parser.parse(SourceFile(path: path, bytes: bytes)).program
            let bodies = program.declarations.compactMap { $0.handler?.body.range }.filter { $0.length > 2 }
            var at: Int
            if let body = bodies.randomElement(using: &rng), Int.random(in: 0..<8, using: &rng) != 0 {
                at = Int.random(in: (body.start + 1)..<(body.end - 1), using: &rng)
                inBodies += 1
            } else {
                at = Int.random(in: 0...bytes.count, using: &rng)
            }
            // Not inside a UTF-8 sequence.
            while at < bytes.count && at > 0 && bytes[at] & 0xC0 == 0x80 { at -= 1 }
            if Int.random(in: 0..<3, using: &rng) == 0 && at < bytes.count {
                var end = min(bytes.count, at + Int.random(in: 1...6, using: &rng))
                while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
                bytes.removeSubrange(at..<end)
            } else {
                bytes.insert(contentsOf: Array(insertions.randomElement(using: &rng)!.utf8), at: at)
            }
            let file = SourceFile(path: path, bytes: bytes)
            let full = Compilation.compile(file)
            if let next = state.updated(to: file) {
                patched += 1
                let renderer = DiagnosticRenderer()
                #expect(next.diagnostics == full.diagnostics, """
                    \(path) step \(step) (seed \(seed)): patched diagnostics differ from a full compile
                    only patched: \(renderer.gcc(next.diagnostics.filter { !full.diagnostics.contains($0) }, in: file))
                    only full: \(renderer.gcc(full.diagnostics.filter { !next.diagnostics.contains($0) }, in: file))
                    counts: \(next.diagnostics.count) patched, \(full.diagnostics.count) full
                    """)
                if next.diagnostics != full.diagnostics { return (patched, inBodies) }
                state = next
            } else {
                state = IncrementalDiagnostics(full)
            }
            // Now and then start over, so that the edits are not all made to one broken file.
            if Int.random(in: 0..<25, using: &rng) == 0 {
                bytes = text
                state = IncrementalDiagnostics(Compilation.compile(SourceFile(path: path, bytes: bytes)))
            }
        }
        return (patched, inBodies)
    }

    @Test(arguments: Golden.sources(in: "examples"))
    func examples(_ path: String) throws {
        let file = try Golden.source(path)
        let (patched, inBodies) = IncrementalDiagnosticsTests.run(path: path, text: file.bytes, steps: 150, seed: 16)
        // Edits that change a body's facts or break out of it are compiled in full (random
        // statements and stray braces and quotes do, often); many are not.
        #expect(patched * 5 >= inBodies, "\(path): only \(patched) of \(inBodies) edits inside bodies were patched")
    }

    /// bench/generate.py's 2,000-line app, which uses every construct of the language.
    @Test func generatedApp() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infc-incremental-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Golden.url("bench/generate.py").path, dir.path]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let bytes = try Array(Data(contentsOf: dir.appendingPathComponent("app_20.inf")))
        #expect(bytes.count(where: { $0 == UInt8(ascii: "\n") }) >= 2000)
        let (patched, inBodies) = IncrementalDiagnosticsTests.run(path: "app_20.inf", text: bytes, steps: 120, seed: 2000)
        #expect(patched * 5 >= inBodies, "only \(patched) of \(inBodies) edits inside bodies were patched")
    }

    /// Edits the patch must decline: they reach outside one body.
    @Test func declinesEditsOutsideOneBody() {
        let text = "app a {}\ntable orders\nfn f(x) {\n  orders.put(\"k\", x)\n}\nroute GET \"/\" (req) {\n  f(1)\n  return 1\n}\n"
        let state = IncrementalDiagnostics(Compilation.compile(SourceFile(path: "a.inf", text: text)))
        let edits = [
            text.replacingOccurrences(of: "fn f(x)", with: "fn g(x)"),      // a header
            text.replacingOccurrences(of: "  f(1)\n", with: "  f(1)\n}\n"),  // closes the body early
            text.replacingOccurrences(of: "  f(1)\n", with: "  f(1) {\n"),   // leaves it open
            text.replacingOccurrences(of: "orders.put", with: "orders.get"), // changes a fact
        ]
        for edited in edits {
            #expect(state.updated(to: SourceFile(path: "a.inf", text: edited)) == nil, "\(edited)")
        }
        let local = text.replacingOccurrences(of: "return 1", with: "return 12")
        #expect(state.updated(to: SourceFile(path: "a.inf", text: local))?.diagnostics
                == Compilation.compile(SourceFile(path: "a.inf", text: local)).diagnostics)
    }
}
