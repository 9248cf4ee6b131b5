// The invariant "every consumer reads the plan; the runtime trusts the manifest"
// (docs/ARCHITECTURE.md), kept by reading the sources: the runtime names none of the compiler's
// middle end (it parses and resolves the code, and takes the plan from the manifest), and the
// emitters and the language server's plan views read the plan, never the syntax tree's
// declarations or the naming algorithm.
import Foundation
import Testing
@testable import InfcCompiler

@Suite struct ArchitectureTests {
    /// The Swift files under `directory` (relative to the package root), recursively, sorted.
    static func swiftFiles(under directory: String) -> [String] {
        let root = Golden.url(directory).path
        let all = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        return all.filter { $0.hasSuffix(".swift") }.sorted().map { directory + "/" + $0 }
    }

    /// A file's code without its `//` comments (line comments and doc comments).
    static func code(_ relative: String) throws -> String {
        let text = try String(contentsOf: Golden.url(relative), encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("//") { return "" }
            if let r = line.range(of: " // ") { return line[..<r.lowerBound] }
            return line
        }.joined(separator: "\n")
    }

    /// Names of the compiler's middle end: inference, its checks, the budget, the naming step.
    static let middleEnd = ["Compilation", "Inference", "PlanChecks", "WorkflowBuilder", "BodyFacts",
                            "Budget", "HandlerKey", "Names."]

    /// What the Lambda bootstrap links imports no `Foundation` (only `FoundationEssentials`, or
    /// `Foundation` as the `#else` of `#if canImport(FoundationEssentials)`), so no ICU: the
    /// static bootstrap stays under 10 MB zipped.
    @Test func theBootstrapsModulesStayOffFoundation() throws {
        for module in ["InfcCompiler", "InfcRuntime", "InfcHTTPClient", "InfcAWS", "InfcLambda", "infc-lambda"] {
            let files = Self.swiftFiles(under: "Sources/" + module)
            #expect(!files.isEmpty, "\(module)")
            for file in files {
                let lines = try Self.code(file).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                for (i, line) in lines.enumerated() where line == "import Foundation" || line.hasPrefix("import Foundation ")
                    || line.hasPrefix("import FoundationInternationalization") || line.hasPrefix("import FoundationNetworking") {
                    #expect(line == "import Foundation" && i > 0 && lines[i - 1] == "#else",
                            "\(file) imports \(line): the Lambda bootstrap links this module (use FoundationEssentials)")
                }
            }
        }
    }

    @Test func theRuntimeTrustsTheManifest() throws {
        let files = Self.swiftFiles(under: "Sources/InfcRuntime")
        #expect(files.count > 20)
        for file in files {
            let code = try Self.code(file)
            for name in Self.middleEnd {
                #expect(!code.contains(name), "\(file) uses \(name): the runtime takes the plan from the manifest")
            }
        }
        // What it does compile: the front end only.
        let deployment = try Self.code("Sources/InfcRuntime/Engine/Deployment.swift")
        #expect(deployment.contains("ResolvedProgram.resolve("))
    }

    @Test func theEmittersReadThePlan() throws {
        let files = Self.swiftFiles(under: "Sources/InfcCompiler/Emit")
        #expect(files.count >= 5)
        for file in files {
            let code = try Self.code(file)
            for name in [".program", ".model", "HandlerKey.", "Names.derive", "Inference"] {
                #expect(!code.contains(name), "\(file) uses \(name): emitters read the plan")
            }
        }
    }

    /// The language server's plan views (hover's plan text, code lenses) read the plan only.
    @Test func theLanguageServersPlanViewsReadThePlan() throws {
        for file in ["Sources/InfcLanguageServer/PlanText.swift", "Sources/InfcLanguageServer/CodeLensProvider.swift"] {
            let code = try Self.code(file)
            for name in [".program", ".model", "HandlerKey.", "Names.derive", "Inference"] {
                #expect(!code.contains(name), "\(file) uses \(name): the plan views read the plan")
            }
        }
    }

    /// The plan and the runtime's manifest name units, resources, queues and schedules by typed
    /// ids (docs/ARCHITECTURE.md, "typed ids"): no stored name of one is a `String`, and a
    /// permission is made only from an id of its kind.
    @Test func thePlanNamesThingsByTypedIds() throws {
        let names = ["name", "consumer", "function", "target", "topic", "queue", "deadLetterQueue", "serviceCall",
                     "evaluates", "startsWorkflow", "users", "startedBy", "topics", "tables", "buckets", "secrets"]
        // The one allowed: a workflow state's own name (a label inside its state machine).
        let allowed = ["Sources/InfcCompiler/Infer/Plan.swift": ["public var name: String"], "Sources/InfcRuntime/Engine/Manifest.swift": []]
        for (file, expected) in allowed {
            let lines = try Self.code(file).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            let stringly = lines.filter { line in
                names.contains { name in ["String", "String?", "[String]"].contains { line == "public var \(name): \($0)" } }
            }
            #expect(stringly == expected, "\(file) names things by String: \(stringly)")
        }
        // Units and resources as the plan declares them, and the manifest as the runtime reads it.
        let plan = try Self.code("Sources/InfcCompiler/Infer/Plan.swift")
        for declaration in ["public var name: FunctionID", "public var name: WorkflowID", "public var name: ResourceID",
                            "public var name: QueueID", "public var name: ScheduleID", "public var consumer: FunctionID",
                            "public var target: UnitID", "public var function: FunctionID"] {
            #expect(plan.contains(declaration), "Plan.swift lost `\(declaration)`")
        }
        let manifest = try Self.code("Sources/InfcRuntime/Engine/Manifest.swift")
        for declaration in ["public var name: FunctionID", "public var name: WorkflowID", "public var name: QueueID",
                            "public var name: ScheduleID", "public var consumer: FunctionID", "public var target: UnitID"] {
            #expect(manifest.contains(declaration), "Manifest.swift lost `\(declaration)`")
        }
        // A permission's name is set only by its typed initialisers.
        #expect(plan.contains("public private(set) var resource: String"))
        for module in ["Sources/InfcCompiler", "Sources/InfcLanguageServer", "Sources/InfcCommandLine"] {
            for file in Self.swiftFiles(under: module) {
                #expect(!(try Self.code(file)).contains("Permission(resource:"), "\(file) makes a permission from a bare name")
            }
        }
    }

    /// The runtime's public entry takes a resolved program and a manifest, not a compilation.
    @Test func theDeploymentIsBuiltFromAResolvedProgram() throws {
        let deployment = try Self.code("Sources/InfcRuntime/Engine/Deployment.swift")
        #expect(deployment.contains("public init(directory: String, manifest: Manifest, source: ResolvedProgram)"))
        #expect(deployment.contains("public let source: ResolvedProgram"))
    }
}
