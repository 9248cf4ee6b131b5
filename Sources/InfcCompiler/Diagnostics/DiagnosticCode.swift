// Diagnostics stage: the catalogue of stable diagnostic codes. Append-only: a code, once
// published, keeps its meaning forever. docs/diagnostics.md documents each with an example.
// The messages of each code are written in the catalogue, DiagnosticMessage.swift.

public enum DiagnosticCode: String, CaseIterable, Sendable, Comparable {
    // Lexical and syntax (E01xx)
    case unexpectedCharacter = "E0101"
    case unterminatedString = "E0102"
    case unterminatedComment = "E0103"
    case invalidEscape = "E0104"
    case invalidNumber = "E0105"
    case invalidDuration = "E0106"
    case expectedToken = "E0107"
    case expectedExpression = "E0108"
    case expectedDeclaration = "E0109"
    case nestingTooDeep = "E0110"
    case invalidUTF8 = "E0111"
    case invalidAssignmentTarget = "E0112"
    case chainedComparison = "E0113"
    case interpolationNotAllowed = "E0114"
    case elseWithoutIf = "E0115"

    // Names, arity and resource operations (E02xx)
    case undefinedName = "E0201"
    case duplicateDeclaration = "E0202"
    case wrongArity = "E0203"
    case unknownOperation = "E0204"
    case resourceNotValue = "E0205"
    case assignToImmutable = "E0206"
    case notCallable = "E0207"
    case asyncTarget = "E0208"
    case duplicateBinding = "E0209"
    case duplicateParameter = "E0210"
    case notATopic = "E0211"
    case returnInParallel = "E0212"
    case unknownPathParameter = "E0213"
    case wrongParameterCount = "E0214"

    // Declarations, attributes, routes, schedules (E03xx)
    case unknownAttribute = "E0301"
    case duplicateAttribute = "E0302"
    case misplacedAttribute = "E0303"
    case invalidAttributeValue = "E0304"
    case unknownAppSetting = "E0305"
    case invalidAppSetting = "E0306"
    case duplicateApp = "E0307"
    case invalidRoutePath = "E0308"
    case invalidHTTPMethod = "E0309"
    case duplicateRoute = "E0310"
    case conflictingRoute = "E0311"
    case invalidCron = "E0312"
    case scheduleTooFrequent = "E0313"
    case invalidServiceURL = "E0314"
    case invalidRate = "E0315"
    case sleepInRoute = "E0316"
    case routeTimeoutTooLong = "E0317"

    // The plan: workflows, cycles, limits, budget (E04xx)
    case asyncCycle = "E0401"
    case workflowInRoute = "E0402"
    case unsatisfiableLimits = "E0403"
    case overBudget = "E0404"

    // Warnings (W05xx)
    case unusedVariable = "W0501"
    case unusedFunction = "W0502"
    case unusedResource = "W0503"
    case unreachableCode = "W0504"
    case possibleAsyncCycle = "W0505"
    case routeUsesLimitedService = "W0506"
    case unusedPathParameter = "W0507"

    public var severity: Severity { rawValue.hasPrefix("W") ? .warning : .error }

    /// A short kebab-case name, shown in `--format json` and docs/diagnostics.md.
    public var name: String {
        let chars = Array(String(describing: self))
        var out = ""
        for (i, ch) in chars.enumerated() {
            if ch.isUppercase && i > 0 {
                let prevLower = chars[i - 1].isLowercase
                let nextLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if prevLower || (chars[i - 1].isUppercase && nextLower) { out += "-" }
            }
            out += ch.lowercased()
        }
        return out
    }

    public static func < (a: DiagnosticCode, b: DiagnosticCode) -> Bool { a.rawValue < b.rawValue }
}
