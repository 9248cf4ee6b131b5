// The diagnostic catalogue (DiagnosticMessage.swift) as data: one example of every message,
// with placeholder facts, for docs/diagnostics.md; checks that the examples cover every case of
// the catalogue and that no diagnostic is written anywhere else.
import Foundation
import Testing
@testable import InfcCompiler

/// One instance of every message of the catalogue, facts written as placeholders.
enum CatalogueExamples {
    static let all: [DiagnosticMessage] = [
        .unexpectedCharacter("C", hint: nil), .unexpectedNULByte, .unexpectedNULByteInString,
        .unterminatedString, .unterminatedComment,
        .incompleteEscape, .unicodeEscapeWithoutBraces, .invalidUnicodeEscape, .invalidEscape("C"),
        .invalidNumber("NUMBER", looksLikeVersion: false), .numberTooLarge("NUMBER"),
        .unknownDurationUnit(unit: "UNIT", literal: "DURATION"), .fractionalDuration, .durationTooLong("DURATION"),
        .expected("WHAT", found: "FOUND"), .expectedServiceURL(service: "NAME", found: "FOUND"),
        .expectedCatch(found: "FOUND"), .expectedSleepDuration(found: "FOUND"), .unclosedBlock,
        .expectedExpression("an expression", found: "FOUND", hint: nil), .emptyInterpolation,
        .expectedDeclaration(found: "FOUND", hint: .list),
        .nestingTooDeep(what: "WHAT", limit: Parser.maxNesting),
        .invalidUTF8, .invalidUTF8InString, .invalidAssignmentTarget,
        .chainedComparison, .interpolationNotAllowed, .elseWithoutIf,
        .undefinedName("NAME", suggestion: nil), .undefinedTopic("NAME", suggestion: nil),
        .duplicateDeclaration("NAME"), .builtinRedeclared("NAME"),
        .wrongArity(what: "WHAT", expects: "N arguments", given: 2, signature: "SIGNATURE"),
        .unknownOperation(kind: "KIND", resource: "NAME", operation: "OPERATION", supported: "OPERATIONS", suggestion: nil),
        .builtinNotValue("NAME", signature: "SIGNATURE"),
        .operationNotCalled(resource: "NAME", operation: "OPERATION", kind: "KIND", signature: "SIGNATURE", supported: "OPERATIONS"),
        .fnNotValue("NAME"), .resourceNotValue("NAME", kind: "a KIND", operations: "OPERATIONS"),
        .assignToBinding("NAME", what: "a `let` constant", isLet: true), .assignToDeclaration("NAME", kind: "a KIND"),
        .assignToBuiltin("NAME"),
        .resourceNotCallable("NAME", kind: "a KIND", example: "OPERATION(…)"), .variableNotCallable("NAME"),
        .fnHasNoOperations("NAME"), .notAMethod("NAME"), .expressionNotCallable,
        .asyncNeedsCall, .asyncNeedsFn,
        .duplicateBinding("NAME", mutable: false), .duplicateObjectKey("KEY"),
        .duplicateParameter("NAME"), .notATopic("NAME"), .returnInParallel,
        .unknownPathParameter("NAME", request: "req", known: ["PARAMETER"], suggestion: nil),
        .scheduleParameters, .routeParameters, .subscriberParameters(topic: "TOPIC"),
        .unknownServiceSetting("NAME", suggestion: nil), .unknownAttribute("NAME", suggestion: nil),
        .duplicateServiceSetting("NAME"), .duplicateAppSetting("NAME"), .duplicateAttribute("NAME"),
        .attributeOnRoute("NAME"),
        .serviceLimitBelowOne, .invalidLimit, .invalidRetry, .invalidDurationAttribute("NAME"),
        .unknownAppSetting("NAME", settings: ["SETTING"], suggestion: nil),
        .invalidGranularity, .unreservedNotBelowAccount(account: 1000), .appSettingNotWholeNumber("`SETTING`", minimum: 1),
        .duplicateApp,
        .invalidRoutePath("PATH", problem: "PROBLEM"), .invalidHTTPMethod("METHOD", methods: ["GET", "POST"]),
        .duplicateRoute(method: "METHOD", path: "PATH"),
        .conflictingRoute(method: "METHOD", path: "PATH", otherPath: "OTHER", shape: "SHAPE"),
        .invalidCron("CRON", problem: "PROBLEM"), .scheduleTooFrequent, .invalidServiceURL("URL"),
        .rateWithoutPeriod(count: "N"), .unknownRatePeriod(count: "N", unit: "UNIT"), .rateBelowOne,
        .sleepInRoute, .routeTimeoutTooLong,
        .asyncCycle(["A", "B", "A"]),
        .routeCallsWorkflow(method: "METHOD", path: "PATH", callee: "NAME", call: "CALL"), .parallelInRoute,
        .serviceLimitTooSmall(service: "NAME", cap: 1, users: ["A", "B"]),
        .reservedConcurrencyTooHigh(reserved: 2000, available: 900, account: 1000, unreserved: 100),
        .overBudget(.init(total: 250, cap: 200, byType: [.init("TYPE", 250)], contributors: [.init("LABEL", 10)],
                          groups: 0, groupExample: [], appName: "APP", groupingSaves: 0, unused: [], unusedSaves: 0)),
        .unusedVariable("NAME"), .unusedFunction("NAME"), .unusedResource("NAME", kind: "KIND"), .unreachableCode,
        .possibleAsyncCycle(["A", "B", "A"]),
        .routeCallsLimitedServiceThrough(method: "METHOD", path: "PATH", service: "NAME", callee: "FN"),
        .routeCallsLimitedService(method: "METHOD", path: "PATH", service: "NAME"),
        .unusedPathParameter("NAME", request: "req"),
    ]

    /// The name of a message's case, as the catalogue declares it.
    static func caseName(_ m: DiagnosticMessage) -> String {
        String(String(describing: m).prefix { $0 != "(" })
    }

    /// The names of the cases `DiagnosticMessage.swift` declares (lines `    case NAME…`).
    static func declaredCases() throws -> [String] {
        let source = try String(contentsOf: Golden.url("Sources/InfcCompiler/Diagnostics/DiagnosticMessage.swift"), encoding: .utf8)
        return source.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("    case ") else { return nil }
            return String(line.dropFirst(9).prefix { $0.isLetter || $0.isNumber })
        }
    }
}

@Suite struct DiagnosticCatalogueTests {
    /// The examples hold each case of the catalogue exactly once, so the generated reference
    /// (docs/diagnostics.md) lists every message.
    @Test func examplesCoverTheCatalogue() throws {
        let declared = try CatalogueExamples.declaredCases()
        let examples = CatalogueExamples.all.map(CatalogueExamples.caseName)
        #expect(declared.count > 90)
        #expect(Set(declared).count == declared.count)
        #expect(examples.sorted() == declared.sorted(),
                "missing: \(Set(declared).subtracting(examples).sorted()); extra: \(Set(examples).subtracting(declared).sorted())")
    }

    /// Every code has at least one message, and a message's code is the one it names in the
    /// catalogue's grouping comments.
    @Test func everyCodeHasAMessage() {
        let codes = Set(CatalogueExamples.all.map(\.code))
        #expect(codes == Set(DiagnosticCode.allCases), "codes without a message: \(Set(DiagnosticCode.allCases).subtracting(codes).map(\.rawValue).sorted())")
    }

    /// No diagnostic text is written outside the catalogue: the compiler's sources build
    /// diagnostics only from `DiagnosticMessage` (there is no initializer taking a string), and
    /// none passes prose as `help:` or `notes:`.
    @Test func diagnosticsAreWrittenOnlyInTheCatalogue() throws {
        let root = Golden.url("Sources/InfcCompiler").path
        let files = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        #expect(files.count > 20)
        for file in files where !file.hasPrefix("Diagnostics/") {
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            for needle in ["help: \"", "notes: [\""] {
                #expect(!text.contains(needle), "\(file) writes diagnostic prose (`\(needle)`) outside the catalogue")
            }
        }
    }
}
