// The AWS target's template: golden for every example and plan golden; resources by type equal
// the budget's count (examples, plan goldens, generated apps up to the cap); IAM exactness against
// a table written out here independently of the emitter; no `*` beyond the listed basics.
import Foundation
import Testing
@testable import InfcCompiler

@Suite struct CloudFormationTests {
    static let programs = PlanGoldenTests.examples + PlanGoldenTests.focused

    static func template(_ c: Compilation) -> (JSON, CloudFormationEmitter.Output) {
        let out = CloudFormationEmitter.emit(c)
        return (out.template, out)
    }

    static func resources(_ t: JSON) -> [(id: String, body: JSON)] {
        guard let r = t["Resources"]?.objectValue else { return [] }
        return r.map { ($0.key, $0.value) }
    }

    static func typeCounts(_ t: JSON) -> [String: Int] {
        var out: [String: Int] = [:]
        for (_, body) in resources(t) { out[body["Type"]?.stringValue ?? "?", default: 0] += 1 }
        return out
    }

    static func budgetCounts(_ b: Budget) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: b.byType.map { ($0.type, $0.count) })
    }

    @Test(arguments: programs)
    func goldenTemplate(_ path: String) throws {
        let c = compile(try Golden.source(path))
        guard !c.hasErrors else { return }
        let (t, out) = Self.template(c)
        #expect(out.errors.isEmpty, "\(path): \(out.errors)")
        Golden.check(t.prettyPrinted(), against: PlanGoldenTests.goldenBase(path) + ".template.json")
        // Byte-identical across builds.
        #expect(CloudFormationEmitter.emit(compile(try Golden.source(path))).template.prettyPrinted() == t.prettyPrinted())
    }

    @Test(arguments: programs)
    func resourcesAreTheBudget(_ path: String) throws {
        let c = compile(try Golden.source(path))
        guard !c.hasErrors else { return }
        let (t, _) = Self.template(c)
        #expect(Self.typeCounts(t) == Self.budgetCounts(c.plan.budget), "\(path)")
        #expect(Self.resources(t).count == c.plan.budget.total, "\(path)")
    }

    /// One unit of a generated app: every construct the budget counts.
    static func generatedUnit(_ k: Int) -> String {
        """
        table items_\(k)
        bucket files_\(k)
        topic events_\(k)
        secret key_\(k)
        service api_\(k) "https://api\(k).example.com" limit 4 rate 5/s
        route GET "/items_\(k)/:id" (req) { return items_\(k).get(req.params.id) }
        route POST "/items_\(k)" (req) {
          items_\(k).put(req.body.id, req.body)
          async work_\(k)(req.body.id)
          return { status: 202 }
        }
        fn work_\(k)(id) retry 3 timeout 1m {
          let r = api_\(k).post("/x", { id: id, key: key_\(k).value() })
          events_\(k).publish({ id: id, r: r })
        }
        on events_\(k) (e) { files_\(k).put("{e.id}.txt", "done") }
        on events_\(k) (e) limit 2 { items_\(k).delete(e.id) }
        every 5m { for i in items_\(k).scan() { log(i.id) } }
        every "0 9 * * 1-5" { log(files_\(k).list()) }
        every 1h {
          sleep 10m
          items_\(k).put("tick", { id: "tick" })
        }
        fn flow_\(k)(id) {
          sleep 1d
          let i = items_\(k).get(id)
          if i != null { step_\(k)(i) }
        }
        fn step_\(k)(i) { files_\(k).put("{i.id}", "late") }
        on events_\(k) (e) { async flow_\(k)(e.id) }

        """
    }

    /// Apps of 1, 2, … units until the next would pass the default cap of 200.
    static var generatedApps: [String] {
        var out: [String] = []
        for n in 1...20 {
            let text = "app gen\(n)\n" + (1...n).map(generatedUnit).joined()
            let c = compile(SourceFile(path: "gen\(n).inf", bytes: Array(text.utf8)))
            if c.plan.budget.total > c.plan.budget.cap { break }
            out.append(text)
        }
        return out
    }

    @Test func generatedAppsUpToTheCap() throws {
        let apps = Self.generatedApps
        #expect(apps.count >= 2)
        for (i, text) in apps.enumerated() {
            let c = compile(SourceFile(path: "gen\(i + 1).inf", bytes: Array(text.utf8)))
            #expect(c.diagnostics.filter { $0.severity == .error }.isEmpty, "gen\(i + 1): \(c.diagnostics.map(\.message))")
            let (t, out) = Self.template(c)
            #expect(out.errors.isEmpty)
            #expect(Self.typeCounts(t) == Self.budgetCounts(c.plan.budget), "gen\(i + 1)")
            #expect(Self.resources(t).count == c.plan.budget.total)
            // Every construct of the table appears.
            #expect(Set(c.plan.budget.byConstruct.map(\.construct)) == Set(Budget.Construct.allCases), "gen\(i + 1)")
        }
    }

    // MARK: IAM exactness

    /// The issue's table, written out here: permission → IAM actions, and which ARN.
    static func expected(_ p: Permission) -> (actions: Set<String>, resource: String)? {
        switch (p.type, p.action) {
        case (.table, .read): return (["dynamodb:GetItem"], "table:\(p.resource)")
        case (.table, .list): return (["dynamodb:Scan"], "table:\(p.resource)")
        case (.table, .write): return (["dynamodb:PutItem", "dynamodb:DeleteItem"], "table:\(p.resource)")
        case (.bucket, .read): return (["s3:GetObject"], "objects:\(p.resource)")
        case (.bucket, .write): return (["s3:PutObject", "s3:DeleteObject"], "objects:\(p.resource)")
        case (.bucket, .list): return (["s3:ListBucket"], "bucket:\(p.resource)")
        case (.topic, .publish): return (["sns:Publish"], "topic:\(p.resource)")
        case (.queue, .send): return (["sqs:SendMessage"], "queue:\(p.resource)")
        case (.workflow, .start): return (["states:StartExecution"], "workflow:\(p.resource)")
        case (.secret, .read): return (["secretsmanager:GetSecretValue"], "secret:\(p.resource)")
        case (.function, .invoke): return (["lambda:InvokeFunction"], "function:\(p.resource)")
        default: return nil
        }
    }

    /// A statement's resource as `kind:name`, read back from the template's intrinsic functions.
    static func describe(_ resource: JSON, ids: [String: (type: String, name: String)]) -> String {
        if resource == "*" { return "*" }
        if let att = resource["Fn::GetAtt"]?.arrayValue, let id = att.first?.stringValue, let r = ids[id] {
            switch r.type {
            case "AWS::DynamoDB::Table": return "table:\(r.name)"
            case "AWS::S3::Bucket": return "bucket:\(r.name)"
            case "AWS::SQS::Queue": return "queue:\(r.name)"
            case "AWS::Lambda::Function": return "function:\(r.name)"
            case "AWS::Logs::LogGroup": return "logs:\(r.name)"
            default: return "?"
            }
        }
        if let ref = resource["Ref"]?.stringValue, let r = ids[ref] {
            switch r.type {
            case "AWS::SNS::Topic": return "topic:\(r.name)"
            case "AWS::StepFunctions::StateMachine": return "workflow:\(r.name)"
            default: return "?"
            }
        }
        if let sub = resource["Fn::Sub"]?.stringValue {
            if sub.hasSuffix(".Arn}/*"), let id = sub.dropFirst(2).split(separator: ".").first, let r = ids[String(id)] {
                return "objects:\(r.name)"
            }
            let machinePrefix = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-"
            if sub.hasPrefix(machinePrefix) { return "workflow:\(sub.dropFirst(machinePrefix.count))" }
            let executionPrefix = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-"
            if sub.hasPrefix(executionPrefix), sub.hasSuffix(":*") { return "executions:\(sub.dropFirst(executionPrefix.count).dropLast(2))" }
            if sub == "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule" {
                return "sync-rule"
            }
            let secretPrefix = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AWS::StackName}/"
            if sub.hasPrefix(secretPrefix), sub.hasSuffix("-??????") {
                return "secret:\(sub.dropFirst(secretPrefix.count).dropLast(7))"
            }
        }
        return "?"
    }

    /// Logical id → (type, plan name), from the names the template's ids are made of.
    static func identities(_ plan: Plan, _ t: JSON) -> [String: (type: String, name: String)] {
        var out: [String: (type: String, name: String)] = [:]
        var byType: [String: [String]] = [:]
        for (id, body) in resources(t) { byType[body["Type"]?.stringValue ?? "", default: []].append(id) }
        func find(_ type: String, _ shown: String, suffix: String, name: String? = nil) {
            let base = LogicalIds.pascal(shown) + suffix
            for id in byType[type] ?? [] where id.hasPrefix(base) && out[id] == nil { out[id] = (type, name ?? shown); return }
        }
        for n in plan.tables { find("AWS::DynamoDB::Table", n.text, suffix: "Table") }
        for n in plan.buckets { find("AWS::S3::Bucket", n.text, suffix: "Bucket") }
        for n in plan.topics { find("AWS::SNS::Topic", n.text, suffix: "Topic") }
        for q in plan.queues { find("AWS::SQS::Queue", ResourceNames.stripped(q.name.text, "-queue"), suffix: "Queue", name: q.name.text) }
        for q in plan.queues { find("AWS::SQS::Queue", ResourceNames.stripped(q.name.text, "-queue"), suffix: "DeadLetterQueue", name: "dead letters of " + q.name.text) }
        for f in plan.functions + plan.workflows.compactMap(\.evaluator) {
            find("AWS::Lambda::Function", f.name.text, suffix: "Function")
            find("AWS::Logs::LogGroup", f.name.text, suffix: "LogGroup")
        }
        for w in plan.workflows { find("AWS::StepFunctions::StateMachine", w.name.text, suffix: "StateMachine") }
        if byType["AWS::DynamoDB::Table"]?.contains("InfcServiceRates") == true { out["InfcServiceRates"] = ("AWS::DynamoDB::Table", "<service-rates>") }
        return out
    }

    /// A role's statements as (actions, resource) pairs.
    static func statements(_ role: JSON, ids: [String: (type: String, name: String)]) -> [(Set<String>, String)] {
        let policies = role["Properties"]?["Policies"]?.arrayValue ?? []
        return policies.flatMap { ($0["PolicyDocument"]?["Statement"]?.arrayValue ?? []) }.map { s in
            #expect(s["Effect"] == "Allow")
            let actions = Set((s["Action"]?.arrayValue ?? []).compactMap(\.stringValue))
            return (actions, describe(s["Resource"] ?? .null, ids: ids))
        }
    }

    static let wildcardBasics: Set<Set<String>> = [
        ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        ["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
         "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"],
        ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
    ]

    /// Checks one role: every statement is one permission's or one listed basic's; none missing.
    static func checkRole(_ label: String, _ actual: [(Set<String>, String)], permissions: [Permission], basics: [(Set<String>, String)]) {
        var expected = permissions.compactMap(Self.expected) .map { ($0.actions, $0.resource) } + basics
        for s in actual {
            guard let i = expected.firstIndex(where: { $0.0 == s.0 && $0.1 == s.1 }) else {
                Issue.record("\(label): statement \(s.0.sorted()) on \(s.1) maps to no permission or execution basic")
                continue
            }
            expected.remove(at: i)
        }
        for e in expected { Issue.record("\(label): missing \(e.0.sorted()) on \(e.1)") }
        for s in actual where s.1 == "*" {
            #expect(wildcardBasics.contains(s.0), "\(label): `*` for \(s.0.sorted())")
        }
        for s in actual { #expect(!s.0.contains { $0.contains("*") }, "\(label): wildcard action") }
    }

    @Test(arguments: programs)
    func iamIsExact(_ path: String) throws {
        let c = compile(try Golden.source(path))
        guard !c.hasErrors else { return }
        let (t, _) = Self.template(c)
        let ids = Self.identities(c.plan, t)
        let all = Dictionary(uniqueKeysWithValues: Self.resources(t).map { ($0.id, $0.body) })
        func roleOf(_ id: String, attribute: String) -> JSON? {
            guard let ref = all[id]?["Properties"]?[attribute]?["Fn::GetAtt"]?.arrayValue?.first?.stringValue else { return nil }
            return all[ref]
        }
        var roles = 0
        for (id, body) in Self.resources(t) {
            switch body["Type"]?.stringValue {
            case "AWS::Lambda::Function":
                guard let name = ids[id]?.name,
                      let f = c.plan.function(named: FunctionID(name)) ?? c.plan.workflows.compactMap(\.evaluator).first(where: { $0.name.text == name }),
                      let role = roleOf(id, attribute: "Role") else {
                    Issue.record("\(path): \(id) has no plan function or role"); continue
                }
                var basics: [(Set<String>, String)] = [(["logs:CreateLogStream", "logs:PutLogEvents"], "logs:\(f.name)"),
                                                       (["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*")]
                for q in c.plan.queues where q.consumer == f.name {
                    basics.append((["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], "queue:\(q.name)"))
                    basics.append((["sqs:SendMessage"], "queue:dead letters of \(q.name.text)"))
                }
                // A caller of a service with a rate takes its slots in the shared rate table.
                if f.permissions.contains(where: { p in p.type == .service && c.plan.services.contains { $0.name.text == p.resource && $0.ratePerSecond != nil } }) {
                    basics.append((["dynamodb:PutItem"], "table:<service-rates>"))
                }
                Self.checkRole("\(path) \(f.name)", Self.statements(role, ids: ids), permissions: f.permissions, basics: basics)
                roles += 1
            case "AWS::StepFunctions::StateMachine":
                guard let name = ids[id].map({ WorkflowID($0.name) }), let w = c.plan.workflow(named: name), let role = roleOf(id, attribute: "RoleArn") else {
                    Issue.record("\(path): \(id) has no plan workflow or role"); continue
                }
                var basics: [(Set<String>, String)] = [
                    (["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                      "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"], "*"),
                    (["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"], "*")]
                // A child workflow run and awaited (.sync:2): its executions, and the managed rule.
                let definition = (try? JSON.parse(body["Properties"]?["DefinitionString"]?.stringValue ?? "")) ?? .null
                let placeholders: [String] = definition.serialized().components(separatedBy: "StateMachineArn\":\"${").dropFirst()
                    .compactMap { $0.split(separator: "}").first.map(String.init) }
                let children: Set<WorkflowID> = Set(placeholders.compactMap { (p: String) -> WorkflowID? in
                    let shown = ids[String(p.dropLast(3))]?.name
                    return c.plan.workflows.first { $0.name.text == shown }?.name
                })
                let synced = definition.serialized().contains("startExecution.sync:2")
                for w in c.plan.workflows where children.contains(w.name) && synced
                    && IAMMapping.childWorkflows(c.plan.workflow(named: name)?.states ?? []).contains(w.name) {
                    basics.append((["states:DescribeExecution", "states:StopExecution"], "executions:\(w.name)"))
                }
                if synced { basics.append((["events:DescribeRule", "events:PutRule", "events:PutTargets"], "sync-rule")) }
                Self.checkRole("\(path) \(w.name)", Self.statements(role, ids: ids), permissions: w.permissions, basics: basics)
                roles += 1
            case "AWS::Events::Rule":
                guard let target = body["Properties"]?["Targets"]?.arrayValue?.first, let roleRef = target["RoleArn"]?["Fn::GetAtt"]?.arrayValue?.first?.stringValue else { continue }
                let workflow = Self.describe(target["Arn"] ?? .null, ids: ids)
                Self.checkRole("\(path) \(id)", Self.statements(all[roleRef] ?? .null, ids: ids), permissions: [],
                               basics: [(["states:StartExecution"], workflow)])
                roles += 1
            default: break
            }
        }
        // Every role of the template was checked.
        #expect(roles == Self.typeCounts(t)["AWS::IAM::Role", default: 0], "\(path)")
    }

    @Test func docsListEveryWildcard() throws {
        let doc = try String(contentsOf: Golden.url("docs/aws.md"), encoding: .utf8)
        for basic in ExecutionBasic.allCases where basic.needsWildcard {
            for a in basic.actions { #expect(doc.contains("`\(a)`"), "docs/aws.md does not list \(a) under `*`") }
        }
        for basic in ExecutionBasic.allCases { #expect(doc.contains("`\(basic.rawValue)`")) }
    }

    // MARK: Pieces

    @Test func scheduleExpressions() throws {
        #expect(try ScheduleExpressions.rate(milliseconds: 86_400_000).get() == "rate(1 day)")
        #expect(try ScheduleExpressions.rate(milliseconds: 5 * 60_000).get() == "rate(5 minutes)")
        #expect(try ScheduleExpressions.rate(milliseconds: 2 * 3_600_000).get() == "rate(2 hours)")
        #expect(try ScheduleExpressions.rate(milliseconds: 90 * 60_000).get() == "rate(90 minutes)")
        #expect((try? ScheduleExpressions.rate(milliseconds: 90_000).get()) == nil)
        #expect(try ScheduleExpressions.cron("0 9 * * 1-5").get() == "cron(0 9 ? * MON,TUE,WED,THU,FRI *)")
        #expect(try ScheduleExpressions.cron("*/15 * * * *").get() == "cron(0,15,30,45 * * * ? *)")
        #expect((try? ScheduleExpressions.cron("0 0 1 jan,jul 7").get()) == nil)
        #expect((try? ScheduleExpressions.cron("0 0 1 * 1").get()) == nil)
        #expect(try ScheduleExpressions.cron("30 2 1 * *").get() == "cron(30 2 1 * ? *)")
        #expect(try ScheduleExpressions.cron("0 12 * * sun").get() == "cron(0 12 ? * SUN *)")
    }

    @Test func unexpressibleScheduleIsABuildError() throws {
        let text = "app s\nevery 90s { log(\"x\") }\n"
        let c = compile(SourceFile(path: "s.inf", bytes: Array(text.utf8)))
        let out = CloudFormationEmitter.emit(c)
        #expect(out.errors.contains { $0.contains("whole minutes") })
    }

    @Test func moreResourcesThanAStackHoldsIsABuildError() throws {
        let c = compile(try Golden.source("Tests/Golden/plan/budget_over.inf"), options: CompileOptions(maxResources: 1000))
        #expect(!c.hasErrors)
        #expect(CloudFormationEmitter.emit(c).errors.isEmpty)
        let big = "app big { max_resources: 2000 }\ntable t\n" + (1...170).map { "route GET \"/r\($0)\" (req) { return t.get(\"\($0)\") }\n" }.joined()
        let b = compile(SourceFile(path: "big.inf", bytes: Array(big.utf8)))
        #expect(!b.hasErrors, "\(b.diagnostics.map(\.message))")
        #expect(b.plan.budget.total > 500)
        #expect(CloudFormationEmitter.emit(b).errors.contains { $0.contains("at most 500") })
    }

    @Test func logicalIdsAreUniqueAndReadable() {
        #expect(LogicalIds.pascal("get_orders_id") == "GetOrdersId")
        #expect(LogicalIds.pascal("charge-queue") == "ChargeQueue")
        #expect(LogicalIds.pascal("post /orders/:id") == "PostOrdersId")
        let ids = LogicalIds([(.function, "get_orders", "get_orders"), (.function, "getOrders", "getOrders"), (.function, "charge", "charge")])
        #expect(ids.id(.function, "charge") == "ChargeFunction")
        #expect(ids.id(.function, "get_orders") != ids.id(.function, "getOrders"))
        #expect(ids.id(.function, "get_orders").hasPrefix("GetOrdersFunction"))
    }

    @Test func shopFacts() throws {
        let c = compile(try Golden.source("examples/shop.inf"))
        let (t, out) = Self.template(c)
        #expect(out.warnings.isEmpty, "\(out.warnings)")
        let r = Dictionary(uniqueKeysWithValues: Self.resources(t).map { ($0.id, $0.body) })
        let charge = try #require(r["ChargeFunction"]?["Properties"])
        #expect(charge["ReservedConcurrentExecutions"] == 10)
        #expect(charge["Runtime"] == "provided.al2023")
        #expect(charge["Architectures"] == ["x86_64"])
        #expect(charge["TracingConfig"]?["Mode"] == "Active")
        #expect(charge["Environment"]?["Variables"]?["INFC_HANDLERS"] == "[\"fn charge\"]")
        #expect(charge["Environment"]?["Variables"]?["INFC_FUNCTION"] == "charge")
        #expect(!t.serialized().contains("payments_key\":\"") )
        let queue = try #require(r["ChargeQueue"])
        #expect(queue["DeletionPolicy"] == "Retain" && queue["UpdateReplacePolicy"] == "Retain")
        #expect(queue["Properties"]?["RedrivePolicy"]?["maxReceiveCount"] == 4)
        #expect(r["ChargeEventSourceMapping"]?["Properties"]?["ScalingConfig"]?["MaximumConcurrency"] == 10)
        #expect(r["OrdersTable"]?["DeletionPolicy"] == "Retain")
        #expect(r["Every1dRule"]?["Properties"]?["ScheduleExpression"] == "rate(1 day)")
        let machine = try #require(r["FollowUpStateMachine"]?["Properties"])
        let definition = try JSON.parse(try #require(machine["DefinitionString"]?.stringValue))
        #expect(definition["States"]?["wait_1d"]?["Seconds"] == 86400)
        #expect(definition["States"]?["read_orders"]?["Resource"] == "arn:aws:states:::dynamodb:getItem")
        // Every placeholder of the definition is substituted, and only those.
        let placeholders = Set(definition.serialized().split(separator: "$").compactMap { s -> String? in
            guard s.hasPrefix("{"), let end = s.firstIndex(of: "}") else { return nil }
            return String(s[s.index(after: s.startIndex)..<end])
        })
        #expect(placeholders == Set(machine["DefinitionSubstitutions"]?.objectValue?.keys.map { $0 } ?? []))
        #expect(t["Outputs"]?["ApiUrl"] != nil)
    }
}
