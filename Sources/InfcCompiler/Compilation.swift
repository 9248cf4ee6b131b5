// The phase script: parse → resolve → check → infer → budget. One value holds every stage's
// result, so the CLI, the language server and the runtime all see the same facts.

public struct CompileOptions: Sendable {
    /// `--max-resources N`: overrides the app's cap.
    public var maxResources: Int?
    public init(maxResources: Int? = nil) { self.maxResources = maxResources }
}

public struct Compilation: Sendable {
    public let file: SourceFile
    public let program: Program
    public let model: SemanticModel
    /// The inferred plan. Built even when the program has errors (best effort), so that hover
    /// and explain keep working while the user types.
    public let plan: Plan
    /// Every diagnostic of every stage, in source order.
    public let diagnostics: [Diagnostic]

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    public static func compile(_ file: SourceFile, options: CompileOptions = CompileOptions()) -> Compilation {
        var bag = DiagnosticBag()
        let parsed = Parser.parse(file)
        bag.add(contentsOf: parsed.diagnostics)
        let (model, resolveDiagnostics) = Resolver.resolve(parsed.program, file: file)
        bag.add(contentsOf: resolveDiagnostics)
        let (plan, planDiagnostics) = Inference.infer(parsed.program, file: file, model: model, options: options)
        // Plan diagnostics on a program that does not resolve would only repeat its errors.
        if !bag.hasErrors { bag.add(contentsOf: planDiagnostics) }
        return Compilation(file: file, program: parsed.program, model: model, plan: plan, diagnostics: bag.sorted)
    }
}
