// Golden tests of inference: for every example and every focused program under
// Tests/Golden/plan, the manifest and the explain output (with the budget breakdown); a
// program with errors has its diagnostics as the golden instead.
import Foundation
import Testing
@testable import InfcCompiler

@Suite struct PlanGoldenTests {
    static let examples = Golden.sources(in: "examples")
    static let focused = Golden.sources(in: "Tests/Golden/plan")

    static func goldenBase(_ path: String) -> String {
        if path.hasPrefix("examples/") { return "Tests/Golden/emit/" + String(path.dropFirst("examples/".count).dropLast(4)) }
        return String(path.dropLast(4))
    }

    @Test(arguments: examples + focused)
    func plan(_ path: String) throws {
        let c = compile(try Golden.source(path))
        let base = Self.goldenBase(path)
        if c.hasErrors {
            Golden.check(DiagnosticRenderer().text(c.diagnostics, in: c.file), against: base + ".err")
            return
        }
        Golden.check(ManifestEmitter.emit(c).prettyPrinted(), against: base + ".manifest.json")
        Golden.check(Explainer.explain(c), against: base + ".explain.txt")
    }

    /// `isWorkflow` restates the criteria `workflowReasons` lists, so as not to write reasons
    /// it does not need: the two must agree on every handler of every program.
    @Test(arguments: examples + focused)
    func workflowClassificationMatchesItsReasons(_ path: String) throws {
        let c = compile(try Golden.source(path))
        let inference = Inference(Classification.classify(c.program, file: c.file, model: c.model), program: c.program, file: c.file, model: c.model)
        inference.run()
        var workflows = 0
        for d in c.program.declarations.indices where c.program.declarations[d].handler != nil {
            let reasons = inference.workflowReasons(d)
            #expect(inference.isWorkflow(d) == !reasons.isEmpty, "\(path): declaration \(d)")
            if !reasons.isEmpty { workflows += 1 }
        }
        if path.hasSuffix("shop.inf") { #expect(workflows > 0) }
    }

    @Test(arguments: examples)
    func examplesCheckClean(_ path: String) throws {
        let c = compile(try Golden.source(path))
        #expect(c.diagnostics.isEmpty, "\(path): \(c.diagnostics.map(\.message))")
    }

    @Test(arguments: examples + focused)
    func buildsAreDeterministic(_ path: String) throws {
        let a = ManifestEmitter.files(for: compile(try Golden.source(path)))
        let b = ManifestEmitter.files(for: compile(try Golden.source(path)))
        #expect(a.map(\.path) == b.map(\.path))
        #expect(a.map(\.bytes) == b.map(\.bytes))
    }

    @Test func overBudgetAndGrouped() throws {
        let over = compile(try Golden.source("Tests/Golden/plan/budget_over.inf"))
        let error = try #require(over.diagnostics.first { $0.code == .overBudget })
        #expect(over.plan.budget.total == 243)
        #expect(error.notes.contains { $0.hasPrefix("by kind:") && $0.contains("40 AWS::Lambda::Function") })
        #expect(error.notes.contains { $0.hasPrefix("largest contributors:") })
        #expect(error.help?.contains("granularity: \"grouped\"") == true)
        let grouped = compile(try Golden.source("Tests/Golden/plan/budget_grouped.inf"))
        #expect(!grouped.hasErrors)
        #expect(grouped.plan.functions.count == 1)
        #expect(grouped.plan.routes.count == 40)
        #expect(grouped.plan.budget.total < 200)
        #expect(grouped.plan.budget.total == 243 - 39 * 3)
    }

    @Test func maxResourcesFlagOverridesTheApp() throws {
        let file = try Golden.source("examples/shop.inf")
        let c = compile(file, options: CompileOptions(maxResources: 30))
        #expect(c.plan.budget.cap == 30)
        #expect(c.diagnostics.contains { $0.code == .overBudget })
    }

    /// SPEC §3, the end of the section: the plan of the §2 program, fact by fact.
    @Test func specProgramPlan() throws {
        let c = compile(try Golden.source("examples/shop.inf"))
        #expect(c.diagnostics.isEmpty)
        let p = c.plan
        #expect(Set(p.functions.map(\.name)) == ["post_orders", "get_orders_id", "on_order_events", "every_1d", "charge", "remind"])
        #expect(p.queues.count == 1)
        let q = try #require(p.queues.first)
        #expect(q.consumer == "charge" && q.maxReceiveCount == 4 && q.deadLetterQueue == "charge-dlq")
        let charge = try #require(p.function(named: "charge"))
        #expect(charge.limit == 10)
        #expect(charge.limitReasons.first?.text(in: c.file).contains("payments") == true)
        #expect(p.workflows.map(\.name) == ["follow_up"])
        let wf = try #require(p.workflow(named: "follow_up"))
        #expect(wf.startedBy.map(\.text) == ["on_order_events"])
        #expect(Explainer.describe(wf.states) == "wait 1d → read orders → choice (task remind)")
        #expect(!p.queues.contains { $0.consumer == "follow_up" })
        let post = try #require(p.function(named: "post_orders"))
        #expect(Set(post.permissions) == [Permission(.write, on: "orders", .table), .send(to: "charge-queue")])
        let get = try #require(p.function(named: "get_orders_id"))
        #expect(get.permissions == [Permission(.read, on: "orders", .table)])
        let manifest = ManifestEmitter.emit(c).serialized()
        #expect(manifest.contains("\"payments_key\""))
        #expect(p.secrets == ["payments_key"])
    }
}
