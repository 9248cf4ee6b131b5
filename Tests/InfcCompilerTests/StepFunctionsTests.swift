// Workflows as Step Functions state machines: golden ASL for every workflow of the examples, the
// plan goldens and the workflow corpus (Tests/Golden/workflows), each definition valid; the
// validator on hand-made bad definitions; the mapping's key facts (retry rule, integrations,
// evaluator, substitutions).
import Testing
@testable import InfcCompiler

@Suite struct StepFunctionsTests {
    static let corpus = Golden.sources(in: "Tests/Golden/workflows")
    static let programs = PlanGoldenTests.examples + PlanGoldenTests.focused + corpus

    static func base(_ path: String) -> String {
        path.hasPrefix("Tests/Golden/workflows/") ? String(path.dropLast(4)) : PlanGoldenTests.goldenBase(path)
    }

    @Test(arguments: programs)
    func goldenDefinitions(_ path: String) throws {
        let c = compile(try Golden.source(path))
        guard !c.hasErrors else { return }
        let out = CloudFormationEmitter.emit(c)
        #expect(out.errors.isEmpty, "\(path): \(out.errors)")
        #expect(out.warnings.isEmpty, "\(path): \(out.warnings)")
        #expect(out.stateMachines.map(\.workflow) == c.plan.workflows.map(\.name))
        for (workflow, definition) in out.stateMachines {
            Golden.check(definition.prettyPrinted(), against: "\(Self.base(path)).\(workflow).asl.json")
        }
        // The template's definition is the same one, compact.
        let resources = out.template["Resources"]?.objectValue ?? JSONObject()
        for (workflow, definition) in out.stateMachines {
            let machine = resources.first { $0.value["Type"] == "AWS::StepFunctions::StateMachine"
                && $0.value["Properties"]?["DefinitionString"]?.stringValue?.contains("\"infc workflow \(workflow)\"") == true }
            #expect(machine?.value["Properties"]?["DefinitionString"]?.stringValue == definition.serialized(), "\(workflow)")
        }
    }

    @Test func corpusCoversEveryConstruct() throws {
        var types: Set<String> = []
        var resources: Set<String> = []
        func walk(_ machine: JSON) {
            for (_, s) in machine["States"]?.objectValue ?? JSONObject() {
                if let t = s["Type"]?.stringValue { types.insert(t) }
                if let r = s["Resource"]?.stringValue { resources.insert(r.hasPrefix("${") ? "lambda" : r) }
                if s["SecondsPath"] != nil { types.insert("Wait/SecondsPath") }
                if s["Catch"] != nil { types.insert("Catch") }
                if s["Retry"] != nil { types.insert("Retry") }
                for b in s["Branches"]?.arrayValue ?? [] { walk(b) }
                if let p = s["ItemProcessor"] { walk(p) }
            }
        }
        var timeouts = 0
        for path in Self.corpus {
            let out = CloudFormationEmitter.emit(compile(try Golden.source(path)))
            for (_, d) in out.stateMachines {
                walk(d)
                if d["TimeoutSeconds"] != nil { timeouts += 1 }
            }
        }
        #expect(types.isSuperset(of: ["Task", "Pass", "Wait", "Wait/SecondsPath", "Choice", "Parallel", "Map", "Catch", "Retry",
                                      "Succeed", "Fail"].filter { $0 != "Succeed" }))
        #expect(resources.isSuperset(of: ["lambda", "arn:aws:states:::dynamodb:getItem", "arn:aws:states:::dynamodb:putItem",
                                          "arn:aws:states:::dynamodb:deleteItem", "arn:aws:states:::sns:publish",
                                          "arn:aws:states:::sqs:sendMessage", "arn:aws:states:::states:startExecution",
                                          "arn:aws:states:::states:startExecution.sync:2"]))
        #expect(timeouts >= 1)
    }

    /// The one retry rule: a task retries per its fn, final failures never.
    @Test func taskRetryIsTheFnsOwn() throws {
        let c = compile(try Golden.source("Tests/Golden/workflows/tasks.inf"))
        let out = CloudFormationEmitter.emit(c)
        let quote = try #require(out.stateMachines.first { $0.workflow == "quote" }?.definition)
        let lookup = try #require(quote["States"]?["lookup"]?["Retry"]?.arrayValue)
        #expect(lookup.count == 3)
        #expect(lookup[1]["MaxAttempts"] == 0)
        #expect(lookup[1]["ErrorEquals"]?.arrayValue?.contains("condition-failed") == true)
        #expect(lookup[2]["ErrorEquals"] == ["States.ALL"])
        #expect(lookup[2]["MaxAttempts"] == 5 && lookup[2]["IntervalSeconds"] == 3)
        #expect(lookup[2]["BackoffRate"] == 2 && lookup[2]["JitterStrategy"] == "FULL")
        // retry 0: only Lambda's own transient errors.
        #expect(quote["States"]?["lookup_twice"]?["Retry"]?.arrayValue?.count == 1)
    }

    /// Expressions without a States form make an evaluator function, counted in the budget and
    /// invoked by the workflow; a workflow that needs none has none.
    @Test func evaluatorOnlyWhenNeeded() throws {
        let c = compile(try Golden.source("Tests/Golden/workflows/computation.inf"))
        let w = try #require(c.plan.workflows.first)
        let evaluator = try #require(w.evaluator)
        #expect(evaluator.name == "every_1h-eval" && evaluator.evaluates == "every_1h")
        #expect(c.plan.functions.allSatisfy { $0.evaluates == nil })
        #expect(c.plan.budget.byConstruct.contains { $0.construct == .workflowEvaluator && $0.instances == 1 })
        #expect(w.permissions.contains(.invoke(evaluator.name)))
        let plain = compile(SourceFile(path: "p.inf", text: """
        app p
        table t
        every 1h {
          sleep 1m
          let x = t.delete("k")
          t.delete("j")
        }
        """))
        #expect(!plain.hasErrors)
        #expect(plain.plan.workflows[0].evaluator == nil)
        #expect(!plain.plan.workflows[0].permissions.contains { $0.type == .function })
    }

    /// What a state machine cannot do as locally is a build error of the AWS target, never an
    /// approximation; the local target still builds.
    @Test func outerAssignmentsInAMapOrTryBodyStopTheAWSBuild() throws {
        let source = """
        app a
        table t
        every 1h {
          sleep 1m
          var total = 0
          for x in t.scan() { total = total + len(t.get(x.id)) }
          var last = null
          try { last = t.get("k") } catch e { log(e) }
          t.put("total", { total: total, last: last })
        }
        """
        let c = compile(SourceFile(path: "a.inf", text: source))
        #expect(!c.hasErrors)
        let out = CloudFormationEmitter.emit(c)
        #expect(out.errors.count == 2, "\(out.errors)")
        #expect(out.errors.contains { $0.contains("the `for` loop map of workflow every_1h assigns `total`") })
        #expect(out.errors.contains { $0.contains("the `try` try of workflow every_1h assigns `last`") })
    }

    /// A step on the right of `&&`, `||` or `??` runs only when the left side does not decide:
    /// conditions of `if` and `while` compile to that control flow; elsewhere it stops the build.
    @Test func stepsThatShortCircuitRunOnlyWhenTheyWould() throws {
        let good = """
        app a
        table t
        fn f(x) { return t.get(x) }
        every 1h {
          sleep 1m
          let k = t.get("k")
          if k != null && f(k) { t.put("seen", k) }
          while k == null || !f("again") { sleep 1s }
        }
        """
        let out = CloudFormationEmitter.emit(compile(SourceFile(path: "a.inf", text: good)))
        #expect(out.errors.isEmpty, "\(out.errors)")
        let definition = try #require(out.stateMachines.first?.definition)
        // `f(k)` runs after a choice on `k != null`, never before it.
        let states = definition["States"]?.objectValue ?? JSONObject()
        let first = try #require(states["choice"]?["Choices"]?.arrayValue?.first)
        #expect(first["Next"]?.stringValue == "f", "\(first)")
        #expect(states["f"]?["Next"]?.stringValue == "choice.then")

        let bad = """
        app a
        table t
        fn f(x) { return t.get(x) }
        every 1h {
          sleep 1m
          let k = t.get("k")
          let v = k ?? f("default")
          t.put("v", v)
        }
        """
        let errors = CloudFormationEmitter.emit(compile(SourceFile(path: "a.inf", text: bad))).errors
        #expect(errors == ["workflow every_1h: the step f is on the right of `??`, which runs it only when the left side does not decide the value; a state machine would run it regardless (outside the condition of an `if` or a `while`): decide with an `if` first"], "\(errors)")
    }

    /// Text with `${` never goes into a definition (CloudFormation's DefinitionSubstitutions
    /// would take it for a placeholder): the evaluator makes it; the template's definition holds
    /// no `${` but its placeholders.
    @Test func textWithAPlaceholderOpeningIsMadeByTheEvaluator() throws {
        let source = """
        app a
        table t
        every 1h {
          sleep 1m
          t.put("k", { text: "$\\{HOME\\}", plain: "no placeholder" })
        }
        """
        let out = CloudFormationEmitter.emit(compile(SourceFile(path: "a.inf", text: source)))
        #expect(out.errors.isEmpty, "\(out.errors)")
        let text = try #require(out.stateMachines.first?.definition).serialized()
        #expect(!text.contains("HOME") && text.contains("EvalFunctionArn"), "\(text)")
        let machine = try #require((out.template["Resources"]?.objectValue ?? JSONObject()).first { $0.value["Type"] == "AWS::StepFunctions::StateMachine" }?.value)
        let string = machine["Properties"]?["DefinitionString"]?.stringValue ?? ""
        let keys = Set((machine["Properties"]?["DefinitionSubstitutions"]?.objectValue ?? JSONObject()).keys)
        let pieces = string.split(separator: "$", omittingEmptySubsequences: false).dropFirst().filter { $0.hasPrefix("{") }
        #expect(!pieces.isEmpty)
        for piece in pieces { #expect(keys.contains(String(piece.dropFirst().prefix { $0 != "}" })), "\(piece.prefix(40))") }
    }

    // MARK: The validator

    static func problems(_ text: String, references: [String: String] = ["F": "function", "T": "table"]) throws -> [String] {
        StateMachineValidator.validate(try JSON.parse(text), references: references)
    }

    @Test func validatorAcceptsAGoodDefinition() throws {
        #expect(try Self.problems("""
        {"StartAt":"a","States":{
          "a":{"Type":"Task","Resource":"${F}","Next":"b"},
          "b":{"Type":"Choice","Choices":[{"Variable":"$.x","IsNull":true,"Next":"c"}],"Default":"d"},
          "c":{"Type":"Succeed"},
          "d":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem","Parameters":{"TableName":"${T}"},"End":true}}}
        """) == [])
    }

    @Test func validatorRejectsBadDefinitions() throws {
        let cases: [(String, String)] = [
            (#"{"StartAt":"x","States":{"a":{"Type":"Succeed"}}}"#, "StartAt names no state: x"),
            (#"{"StartAt":"a","States":{"a":{"Type":"Pass","Next":"nowhere"}}}"#, "state a goes to nowhere, which is no state"),
            (#"{"StartAt":"a","States":{"a":{"Type":"Succeed"},"b":{"Type":"Succeed"}}}"#, "state b cannot be reached"),
            (#"{"StartAt":"a","States":{"a":{"Type":"Pass","Next":"b"},"b":{"Type":"Pass","Next":"a"}}}"#, "state a never reaches an end"),
            (#"{"StartAt":"a","States":{"a":{"Type":"Pass"}}}"#, "state a must have exactly one of Next and End"),
            (#"{"StartAt":"a","States":{"a":{"Type":"Choice","Choices":[{"Variable":"$.x","IsNull":true,"Next":"a"}]}}}"#, "choice a has no Default"),
            (#"{"StartAt":"a","States":{"a":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getitem","End":true}}}"#,
             "task a uses arn:aws:states:::dynamodb:getitem, which is no integration infc emits"),
            (#"{"StartAt":"a","States":{"a":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","Parameters":{"TopicArn":"${T}"},"End":true}}}"#,
             "task a (arn:aws:states:::sns:publish) must name a topic in TopicArn"),
            (#"{"StartAt":"a","States":{"a":{"Type":"Task","Resource":"${T}","End":true}}}"#, "task a runs ${T}, which is no function"),
            (#"{"StartAt":"a","States":{"a":{"Type":"Parallel","Branches":[{"StartAt":"a","States":{"a":{"Type":"Succeed"}}}],"End":true}}}"#,
             "state name used twice: a"),
            (#"{"StartAt":"a","States":{"a":{"Type":"Map","ItemProcessor":{"StartAt":"b","States":{"b":{"Type":"Pass","Next":"c"}}},"End":true}}}"#,
             "state b goes to c, which is no state in the items of a"),
            (#"{"StartAt":"a","States":{"a":{"Type":"Sleep","End":true}}}"#, "state a has an unknown Type Sleep"),
            (#"{"StartAt":"a","States":{"a":{"Type":"Pass","Result":"echo ${HOME}","End":true}}}"#,
             "text with `${` that is no placeholder: echo ${HOME}"),
        ]
        for (text, expected) in cases {
            let found = try Self.problems(text)
            #expect(found.contains(expected), "\(text): \(found)")
        }
        let big = String(repeating: "x", count: StateMachineValidator.stateLimit + 1)
        #expect(try Self.problems(#"{"StartAt":"a","States":{"a":{"Type":"Pass","Parameters":{"x":"\#(big)"},"End":true}}}"#)
            .contains("state a passes more than \(StateMachineValidator.stateLimit) bytes"))
    }
}
