// Golden tests of diagnostics: every Tests/Golden/check/NAME.inf is checked; its rendered
// diagnostics must match NAME.err, and the diagnostics its `// expect:` line names must be
// reported at the stated line and column, with nothing else.
import Foundation
import Testing
@testable import InfcCompiler

@Suite struct DiagnosticGoldenTests {
    static let cases = Golden.sources(in: "Tests/Golden/check")

    @Test(arguments: cases)
    func goldenDiagnostics(_ path: String) throws {
        let file = try Golden.source(path)
        let c = compile(file)
        let text = DiagnosticRenderer().text(c.diagnostics, in: file)
        Golden.check(text, against: String(path.dropLast(4)) + ".err")

        // The intent stated on line 1.
        let first = file.lineText(0)
        let pattern = try Regex(#"(error|warning) ([EW]\d{4}) at (\d+):(\d+)"#)
        var expected: [(String, Int, Int)] = []
        for m in first.matches(of: pattern) {
            let code = String(first[m.output[2].range!])
            let line = Int(first[m.output[3].range!])!
            let col = Int(first[m.output[4].range!])!
            expected.append((code, line, col))
        }
        #expect(!expected.isEmpty, "\(path): line 1 names no expected diagnostic")
        for (code, line, col) in expected {
            let found = c.diagnostics.contains { d in
                let loc = file.location(of: d.range.start)
                return d.code.rawValue == code && loc.line == line && loc.column == col
            }
            #expect(found, "\(path): expected \(code) at \(line):\(col); got \(c.diagnostics.map { "\($0.code.rawValue)@\(file.location(of: $0.range.start).line):\(file.location(of: $0.range.start).column)" })")
        }
        #expect(c.diagnostics.count == expected.count,
                "\(path): expected exactly \(expected.count) diagnostic(s), got \(c.diagnostics.map { "\($0.code.rawValue)@\(file.location(of: $0.range.start).line):\(file.location(of: $0.range.start).column) \($0.message)" })")
    }

    /// The three renderings of a file with several independent errors.
    @Test func multipleErrorsInEveryFormat() throws {
        let path = "Tests/Golden/check/multiple_errors.inf"
        let file = try Golden.source(path)
        let c = compile(file)
        #expect(c.diagnostics.filter { $0.severity == .error }.count == 3)
        Golden.check(DiagnosticRenderer().json(c.diagnostics, in: file).prettyPrinted(), against: "Tests/Golden/check/multiple_errors.json")
        Golden.check(DiagnosticRenderer().gcc(c.diagnostics, in: file), against: "Tests/Golden/check/multiple_errors.gcc")
    }

    /// Every code in the catalogue has at least one golden case that reports it.
    @Test func everyCodeHasAGoldenCase() throws {
        var seen: Set<DiagnosticCode> = []
        for path in Self.cases {
            let c = compile(try Golden.source(path))
            for d in c.diagnostics { seen.insert(d.code) }
        }
        let missing = DiagnosticCode.allCases.filter { !seen.contains($0) }
        #expect(missing.isEmpty, "codes without a golden case: \(missing.map(\.rawValue))")
    }
}
