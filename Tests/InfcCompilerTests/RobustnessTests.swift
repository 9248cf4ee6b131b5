// The front end never crashes or hangs: token mutations of every example (drop or duplicate
// each token), large inputs and binary garbage all give diagnostics.
import Foundation
import Testing
@testable import InfcCompiler

@Suite struct RobustnessTests {
    static let examples = Golden.sources(in: "examples")

    /// Drops each token of an example in turn, then duplicates every third token, and runs the
    /// whole pipeline (parse, resolve, infer, emit) on each mutant.
    @Test(arguments: examples)
    func tokenMutations(_ path: String) throws {
        let file = try Golden.source(path)
        let tokens = Lexer.tokenize(file.bytes).tokens.dropLast()
        var mutants = 0
        var withDiagnostics = 0
        for (i, t) in tokens.enumerated() {
            var dropped = file.bytes
            dropped.removeSubrange(t.range.start..<t.range.end)
            let c = compile(SourceFile(path: path, bytes: dropped))
            _ = ManifestEmitter.emit(c)
            mutants += 1
            if !c.diagnostics.isEmpty { withDiagnostics += 1 }
            if i % 3 == 0 {
                var doubled = file.bytes
                doubled.insert(contentsOf: file.bytes[t.range.start..<t.range.end], at: t.range.start)
                let d = compile(SourceFile(path: path, bytes: doubled))
                _ = ManifestEmitter.emit(d)
                mutants += 1
            }
        }
        #expect(mutants > 100)
        // Nearly every deletion breaks the program, and the compiler says so.
        #expect(withDiagnostics * 10 >= tokens.count * 9, "\(withDiagnostics) of \(tokens.count) deletions reported")
    }

    @Test func binaryGarbage() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let bytes = (0..<2000).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let c = compile(SourceFile(path: "garbage.inf", bytes: bytes))
            #expect(!c.diagnostics.isEmpty)
        }
    }

    @Test func tenMegabyteFile() throws {
        let shop = try String(contentsOf: Golden.url("examples/shop.inf"), encoding: .utf8)
        var text = "app big\n"
        var i = 0
        while text.utf8.count < 10_000_000 {
            let renamed = shop.split(separator: "\n").filter { !$0.hasPrefix("app ") }.joined(separator: "\n")
                .replacingOccurrences(of: "orders", with: "orders\(i)").replacingOccurrences(of: "receipts", with: "receipts\(i)")
                .replacingOccurrences(of: "order_events", with: "order_events\(i)").replacingOccurrences(of: "payments", with: "payments\(i)")
                .replacingOccurrences(of: "charge", with: "charge\(i)").replacingOccurrences(of: "follow_up", with: "follow_up\(i)")
                .replacingOccurrences(of: "remind", with: "remind\(i)").replacingOccurrences(of: "\"/orders", with: "\"/o\(i)")
                .replacingOccurrences(of: "every 1d", with: "every \(i + 1)d")
            text += renamed + "\n"
            i += 1
        }
        let c = compile(SourceFile(path: "big.inf", text: text))
        // Only the app's totals are exceeded (resources, reserved concurrency): the code is fine.
        #expect(c.diagnostics.allSatisfy { $0.code == .overBudget || $0.code == .unsatisfiableLimits })
        #expect(c.plan.functions.count == 6 * i)
    }
}
