// The phase script: parse → resolve (`ResolvedProgram`) → classify (`Classification`: naming,
// body facts, closures, deployed units) → lower (`Inference`: functions, queues, limits,
// triggers, workflows) → check (`PlanChecks`) → count (`BudgetCheck`). One value holds every
// stage's result, so the CLI and the language server see the same facts; the runtime compiles
// the front end only and reads the plan from the manifest.

public struct CompileOptions: Sendable {
    /// `--max-resources N`: overrides the app's cap.
    public var maxResources: Int?
    public init(maxResources: Int? = nil) { self.maxResources = maxResources }
}

/// The front end's result: the program parsed and resolved, with those stages' diagnostics.
/// It is all the runtime compiles: it runs this code, and takes the plan from the manifest.
public struct ResolvedProgram: Sendable {
    public let file: SourceFile
    public let program: Program
    public let model: SemanticModel
    /// Parse and resolve diagnostics, in source order.
    public let diagnostics: [Diagnostic]

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// Parses and resolves `file`: no inference, no plan checks, no budget.
    public static func resolve(_ file: SourceFile) -> ResolvedProgram {
        var bag = DiagnosticBag()
        let parsed = Parser.parse(file)
        bag.add(contentsOf: parsed.diagnostics)
        let (model, resolveDiagnostics) = Resolver.resolve(parsed.program, file: file)
        bag.add(contentsOf: resolveDiagnostics)
        return ResolvedProgram(file: file, program: parsed.program, model: model, diagnostics: bag.sorted)
    }
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
    /// The parse and resolve diagnostics, in source order, and the plan's (inference, checks,
    /// budget) as reported, shown only when the first have no error: what
    /// `IncrementalDiagnostics` patches after an edit.
    public let frontEndDiagnostics: [Diagnostic]
    public let planDiagnostics: [Diagnostic]

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    public static func compile(_ file: SourceFile, options: CompileOptions = CompileOptions()) -> Compilation {
        let resolved = ResolvedProgram.resolve(file)
        var diagnostics = resolved.diagnostics
        let classified = Classification.classify(resolved.program, file: file, model: resolved.model)
        let inferred = Inference.lower(classified, program: resolved.program, file: file, model: resolved.model)
        let checkDiagnostics = PlanChecks.run(inferred.checks, file: file)
        let (plan, budgetDiagnostics) = BudgetCheck.run(inferred.plan, app: resolved.model.app, file: file, options: options)
        let planDiagnostics = inferred.diagnostics + checkDiagnostics + budgetDiagnostics
        // Plan diagnostics on a program that does not resolve would only repeat its errors.
        if !resolved.hasErrors && !planDiagnostics.isEmpty {
            var bag = DiagnosticBag()
            bag.add(contentsOf: diagnostics)
            bag.add(contentsOf: planDiagnostics)
            diagnostics = bag.sorted
        }
        return Compilation(file: file, program: resolved.program, model: resolved.model, plan: plan, diagnostics: diagnostics,
                           frontEndDiagnostics: resolved.diagnostics, planDiagnostics: planDiagnostics)
    }
}
