// Emit stage (AWS target): each construct instance → its resources, in the order of the
// budget's table. Small functions of the plan and the logical ids; docs/aws.md describes them.

struct TemplateContext {
    let plan: Plan
    let ids: LogicalIds
    var warnings: [String] = []
    var errors: [String] = []
    /// Each workflow's definition as compiled, in the plan's order (DIR/workflows/NAME.asl.json).
    var definitions: [(workflow: WorkflowID, definition: JSON)] = []
    /// The queues each function consumes, by function.
    let consumed: [FunctionID: [QueueID]]
    let limits: [FunctionID: Int]

    init(plan: Plan, ids: LogicalIds) {
        self.plan = plan
        self.ids = ids
        var consumed: [FunctionID: [QueueID]] = [:]
        for q in plan.queues { consumed[q.consumer, default: []].append(q.name) }
        self.consumed = consumed
        var limits: [FunctionID: Int] = [:]
        for f in plan.functions { if let l = f.limit { limits[f.name] = l } }
        self.limits = limits
    }

    typealias I = Intrinsic

    mutating func expand(_ instance: Budget.Instance) -> [TemplateResource] {
        switch instance {
        case .httpAPI: return httpAPI()
        case .route(let r): return route(r)
        case .function(let f): return function(f)
        case .queue(let q): return queue(q)
        case .topic(let t): return [TemplateResource(id: ids.id(.topic, t), type: "AWS::SNS::Topic", properties: [:])]
        case .subscription(let s): return subscription(s)
        case .schedule(let s): return schedule(s)
        case .workflow(let w): return workflow(w)
        case .evaluator(let f): return function(f)
        case .table(let t): return [table(t)]
        case .bucket(let b): return [bucket(b)]
        case .secret(let s): return [secret(s)]
        case .serviceRates: return [serviceRates()]
        }
    }

    // MARK: HTTP API

    func httpAPI() -> [TemplateResource] {
        let api = ids.id(.httpAPI, "")
        return [
            TemplateResource(id: api, type: "AWS::ApiGatewayV2::Api", properties: [
                "Name": I.sub("${AWS::StackName}-http"), "ProtocolType": "HTTP"]),
            TemplateResource(id: ids.id(.httpAPIStage, ""), type: "AWS::ApiGatewayV2::Stage", properties: [
                "ApiId": I.ref(api), "StageName": "$default", "AutoDeploy": true]),
        ]
    }

    /// `POST /orders/:id` → `POST /orders/{id}`, API Gateway's route key.
    static func routeKey(_ r: PlanRoute) -> String {
        let segments = r.path.split(separator: "/", omittingEmptySubsequences: false).map { s -> String in
            s.hasPrefix(":") ? "{\(s.dropFirst())}" : String(s)
        }
        return r.method + " " + segments.joined(separator: "/")
    }

    /// The invoke permission's source: this route's method and path, parameters as `*`.
    static func routeSourcePath(_ r: PlanRoute) -> String {
        let segments = r.path.split(separator: "/", omittingEmptySubsequences: false).map { s -> String in
            s.hasPrefix(":") ? "*" : String(s)
        }
        return "*/" + r.method + segments.joined(separator: "/")
    }

    func route(_ r: PlanRoute) -> [TemplateResource] {
        let name = ResourceNames.routeName(r)
        let api = ids.id(.httpAPI, "")
        let function = ids.id(.function, r.function)
        let integration = ids.id(.integration, name)
        return [
            TemplateResource(id: ids.id(.route, name), type: "AWS::ApiGatewayV2::Route", properties: [
                "ApiId": I.ref(api), "RouteKey": .string(TemplateContext.routeKey(r)),
                "Target": I.join(["integrations/", I.ref(integration)])]),
            TemplateResource(id: integration, type: "AWS::ApiGatewayV2::Integration", properties: [
                "ApiId": I.ref(api), "IntegrationType": "AWS_PROXY", "IntegrationUri": I.getAtt(function, "Arn"),
                "PayloadFormatVersion": "2.0"]),
            TemplateResource(id: ids.id(.routePermission, name), type: "AWS::Lambda::Permission", properties: [
                "Action": "lambda:InvokeFunction", "FunctionName": I.getAtt(function, "Arn"),
                "Principal": "apigateway.amazonaws.com",
                "SourceArn": I.sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${\(api)}/\(TemplateContext.routeSourcePath(r))")]),
        ]
    }

    // MARK: Functions

    static func seconds(_ ms: Int64, in range: ClosedRange<Int>) -> Int {
        let s = Int((ms + 999) / 1000)
        return min(max(s, range.lowerBound), range.upperBound)
    }

    func function(_ f: PlanFunction) -> [TemplateResource] {
        let role = ids.id(.role, f.name)
        let logGroup = ids.id(.logGroup, f.name)
        var properties: JSONObject = [
            "Runtime": "provided.al2023",
            "Architectures": ["x86_64"],
            "Handler": "infc",
            "Code": ["S3Bucket": I.ref("CodeBucket"), "S3Key": I.ref("CodeKey")],
            "Role": I.getAtt(role, "Arn"),
            "Timeout": .int(TemplateContext.seconds(f.timeoutMs, in: 1...900)),
            "MemorySize": .int(CloudFormationEmitter.functionMemoryMB),
        ]
        if let limit = f.limit { properties["ReservedConcurrentExecutions"] = .int(limit) }
        properties["TracingConfig"] = ["Mode": "Active"]
        properties["LoggingConfig"] = ["LogGroup": I.ref(logGroup), "LogFormat": "Text"]
        properties["Environment"] = ["Variables": .object(environment(f))]
        return [
            TemplateResource(id: ids.id(.function, f.name), type: "AWS::Lambda::Function", properties: properties),
            TemplateResource(id: role, type: "AWS::IAM::Role", properties: [
                "AssumeRolePolicyDocument": assumeRole("lambda.amazonaws.com"),
                "Policies": [["PolicyName": "infc-least-privilege",
                              "PolicyDocument": policy(IAMMapping.functionStatements(f, consumes: consumed[f.name] ?? [],
                                                                                 callsRatedService: callsRatedService(f)))]]]),
            TemplateResource(id: logGroup, type: "AWS::Logs::LogGroup", properties: [
                "LogGroupName": I.sub("/infc/${AWS::StackName}/\(f.name)"),
                "RetentionInDays": .int(CloudFormationEmitter.logRetentionDays)]),
        ]
    }

    /// Whether `f` calls a service that has a `rate` (it then shares the rate table).
    func callsRatedService(_ f: PlanFunction) -> Bool {
        f.permissions.contains { p in p.type == .service && plan.services.contains { $0.name.text == p.resource && $0.ratePerSecond != nil } }
    }

    /// The environment variable that names a resource a function may use (docs/aws.md).
    static func environmentName(_ type: Permission.ResourceType, _ name: String) -> String {
        let safe = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        return "INFC_\(type.rawValue.uppercased())_\(safe)"
    }

    /// What the bootstrap needs to know: the app, its function, its handlers by key, and where
    /// each resource it may use lives (only those: least privilege holds for names too).
    func environment(_ f: PlanFunction) -> JSONObject {
        var env = JSONObject()
        env["INFC_APP"] = .string(plan.app)
        env["INFC_FUNCTION"] = .string(f.name.text)
        if let w = f.evaluates { env["INFC_EVALUATES"] = .string(w.text) }
        env["INFC_HANDLERS"] = .string(JSON.array(f.handlers.sorted().compactMap { plan.handler($0).map { .string($0.key.text) } }).serialized())
        var seen: Set<String> = []
        for p in f.permissions {
            if p.type == .service {
                // The service's URL, under the name the local runtime reads it from.
                guard let service = p.declared, let s = plan.services.first(where: { $0.name == service }) else { continue }
                env["INFC_SERVICE_\(s.name.text.uppercased())_URL"] = .string(s.url)
                if s.ratePerSecond != nil { env["INFC_SERVICE_RATES"] = I.ref(ids.id(.serviceRates, "")) }
                continue
            }
            let key = TemplateContext.environmentName(p.type, p.resource)
            guard seen.insert(key).inserted else { continue }
            if let q = p.queue { env[key] = I.ref(ids.id(.queue, q)) }
            else if let w = p.workflow { env[key] = stateMachineArn(w) }
            else if let f = p.function { env[key] = I.ref(ids.id(.function, f)) }
            else if let r = p.declared {
                switch p.type {
                case .table: env[key] = I.ref(ids.id(.table, r))
                case .bucket: env[key] = I.ref(ids.id(.bucket, r))
                case .topic: env[key] = I.ref(ids.id(.topic, r))
                case .secret: env[key] = secretName(r)
                case .service, .queue, .workflow, .function: break
                }
            }
        }
        // A consumer's queues, by ARN (which queue a record came from), and their dead-letter
        // queues (a failure no retry mends goes there at once).
        for q in consumed[f.name] ?? [] {
            let safe = String(q.text.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
            env["INFC_CONSUMES_" + safe] = I.getAtt(ids.id(.queue, q), "Arn")
            env["INFC_DEADLETTER_" + safe] = I.ref(ids.id(.deadLetterQueue, q))
        }
        return env
    }

    func assumeRole(_ service: String) -> JSON {
        ["Version": "2012-10-17",
         "Statement": [["Effect": "Allow", "Principal": ["Service": .string(service)], "Action": "sts:AssumeRole"]]]
    }

    func policy(_ statements: [IAMStatement]) -> JSON {
        ["Version": "2012-10-17",
         "Statement": .array(statements.map { s in
             ["Effect": "Allow", "Action": .array(s.actions.map { .string($0) }), "Resource": arn(s.resource)]
         })]
    }

    func arn(_ r: IAMResource) -> JSON {
        switch r {
        case .table(let t): return I.getAtt(ids.id(.table, t), "Arn")
        case .bucket(let b): return I.getAtt(ids.id(.bucket, b), "Arn")
        case .bucketObjects(let b): return I.sub("${\(ids.id(.bucket, b)).Arn}/*")
        case .topic(let t): return I.ref(ids.id(.topic, t))
        case .queue(let q): return I.getAtt(ids.id(.queue, q), "Arn")
        case .deadLetterQueue(let q): return I.getAtt(ids.id(.deadLetterQueue, q), "Arn")
        case .stateMachine(let w): return stateMachineArn(w)
        case .secret(let s): return I.sub("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AWS::StackName}/\(s)-??????")
        case .function(let f): return I.getAtt(ids.id(.function, f), "Arn")
        case .functionLogGroup(let f): return I.getAtt(ids.id(.logGroup, f), "Arn")
        case .executions(let w):
            return I.sub("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:\(TemplateContext.stateMachineName(w)):*")
        case .serviceRates: return I.getAtt(ids.id(.serviceRates, ""), "Arn")
        case .syncRule:
            return I.sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule")
        case .any: return "*"
        }
    }

    // MARK: Queues, topics, subscriptions

    func queue(_ q: PlanQueue) -> [TemplateResource] {
        let queue = ids.id(.queue, q.name)
        let dlq = ids.id(.deadLetterQueue, q.name)
        var mapping: JSONObject = [
            "EventSourceArn": I.getAtt(queue, "Arn"),
            "FunctionName": I.ref(ids.id(.function, q.consumer)),
            "BatchSize": 1,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        ]
        if let limit = limits[q.consumer] {
            // AWS's lower bound is 2; reserved concurrency still holds the function to its limit.
            mapping["ScalingConfig"] = ["MaximumConcurrency": .int(min(max(limit, 2), 1000))]
        }
        return [
            TemplateResource(id: queue, type: "AWS::SQS::Queue", properties: [
                "VisibilityTimeout": .int(TemplateContext.seconds(q.visibilityTimeoutMs, in: 0...43_200)),
                "RedrivePolicy": ["deadLetterTargetArn": I.getAtt(dlq, "Arn"), "maxReceiveCount": .int(q.maxReceiveCount)]],
                             retain: true),
            TemplateResource(id: dlq, type: "AWS::SQS::Queue", properties: ["MessageRetentionPeriod": 1_209_600], retain: true),
            TemplateResource(id: ids.id(.eventSourceMapping, q.name), type: "AWS::Lambda::EventSourceMapping", properties: mapping),
        ]
    }

    func subscription(_ s: PlanSubscription) -> [TemplateResource] {
        let name = ResourceNames.subscriptionName(s)
        let topic = ids.id(.topic, s.topic)
        if let q = s.queue {
            let queue = ids.id(.queue, q)
            return [
                TemplateResource(id: ids.id(.subscription, name), type: "AWS::SNS::Subscription", properties: [
                    "TopicArn": I.ref(topic), "Protocol": "sqs", "Endpoint": I.getAtt(queue, "Arn"), "RawMessageDelivery": true]),
                TemplateResource(id: ids.id(.queuePolicy, name), type: "AWS::SQS::QueuePolicy", properties: [
                    "Queues": [I.ref(queue)],
                    "PolicyDocument": ["Version": "2012-10-17", "Statement": [[
                        "Effect": "Allow", "Principal": ["Service": "sns.amazonaws.com"], "Action": "sqs:SendMessage",
                        "Resource": I.getAtt(queue, "Arn"), "Condition": ["ArnEquals": ["aws:SourceArn": I.ref(topic)]]]]]]),
            ]
        }
        let function = ids.id(.function, s.target)
        return [
            TemplateResource(id: ids.id(.subscription, name), type: "AWS::SNS::Subscription", properties: [
                "TopicArn": I.ref(topic), "Protocol": "lambda", "Endpoint": I.getAtt(function, "Arn")]),
            TemplateResource(id: ids.id(.subscriptionPermission, name), type: "AWS::Lambda::Permission", properties: [
                "Action": "lambda:InvokeFunction", "FunctionName": I.getAtt(function, "Arn"),
                "Principal": "sns.amazonaws.com", "SourceArn": I.ref(topic)]),
        ]
    }

    // MARK: Schedules

    mutating func schedule(_ s: PlanSchedule) -> [TemplateResource] {
        let expression: String
        switch ScheduleExpressions.expression(s.expression) {
        case .success(let e): expression = e
        case .failure(let e):
            errors.append("schedule \(s.name) cannot be deployed: \(e.message)")
            expression = "rate(1 day)"
        }
        let rule = ids.id(.rule, s.name)
        if case .workflow(let workflow) = s.target {
            let role = ids.id(.ruleRole, s.name)
            return [
                TemplateResource(id: rule, type: "AWS::Events::Rule", properties: [
                    "ScheduleExpression": .string(expression), "State": "ENABLED",
                    "Targets": [["Id": "workflow", "Arn": I.ref(ids.id(.stateMachine, workflow)), "RoleArn": I.getAtt(role, "Arn")]]]),
                TemplateResource(id: role, type: "AWS::IAM::Role", properties: [
                    "AssumeRolePolicyDocument": assumeRole("events.amazonaws.com"),
                    "Policies": [["PolicyName": "infc-least-privilege", "PolicyDocument": policy(IAMMapping.scheduleStatements(workflow: workflow))]]]),
            ]
        }
        let function = ids.id(.function, s.target)
        return [
            TemplateResource(id: rule, type: "AWS::Events::Rule", properties: [
                "ScheduleExpression": .string(expression), "State": "ENABLED",
                "Targets": [["Id": "function", "Arn": I.getAtt(function, "Arn")]]]),
            TemplateResource(id: ids.id(.rulePermission, s.name), type: "AWS::Lambda::Permission", properties: [
                "Action": "lambda:InvokeFunction", "FunctionName": I.getAtt(function, "Arn"),
                "Principal": "events.amazonaws.com", "SourceArn": I.getAtt(rule, "Arn")]),
        ]
    }

    // MARK: Workflows

    /// The placeholder of a resource a definition names (`DefinitionSubstitutions`' key).
    func placeholder(_ r: StateMachineReference) -> String {
        switch r {
        case .function(let f): return ids.id(.function, f) + "Arn"
        case .table(let t): return ids.id(.table, t) + "Name"
        case .topic(let t): return ids.id(.topic, t) + "Arn"
        case .queue(let q): return ids.id(.queue, q) + "Url"
        case .stateMachine(let w): return ids.id(.stateMachine, w) + "Arn"
        }
    }

    func substitution(_ r: StateMachineReference) -> JSON {
        switch r {
        case .function(let f): return I.getAtt(ids.id(.function, f), "Arn")
        case .table(let t): return I.ref(ids.id(.table, t))
        case .topic(let t): return I.ref(ids.id(.topic, t))
        case .queue(let q): return I.ref(ids.id(.queue, q))
        case .stateMachine(let w): return stateMachineArn(w)
        }
    }

    static func referenceKind(_ r: StateMachineReference) -> String {
        switch r {
        case .function: return "function"
        case .table: return "table"
        case .topic: return "topic"
        case .queue: return "queue"
        case .stateMachine: return "stateMachine"
        }
    }

    /// The workflow's state machine definition, checked (a problem is a compiler bug: the build
    /// fails with it).
    mutating func definition(_ w: PlanWorkflow) -> StateMachineDefinition {
        var compiler = StateMachineCompiler(plan: plan, workflow: w, placeholder: { [self] in placeholder($0) })
        let d = compiler.compile()
        errors += d.problems
        var kinds: [String: String] = [:]
        for r in d.references { kinds[placeholder(r)] = TemplateContext.referenceKind(r) }
        for problem in StateMachineValidator.validate(d.definition, references: kinds) {
            errors.append("compiler bug: the state machine of workflow \(w.name) is invalid: \(problem)")
        }
        definitions.append((w.name, d.definition))
        return d
    }

    /// A state machine's name: the stack's name, `-`, the workflow's. Named, so that its ARN is
    /// written out where a role or an environment names it: a task function that may start its
    /// own workflow would otherwise make a dependency cycle (state machine → role → function →
    /// state machine).
    static func stateMachineName(_ w: WorkflowID) -> String { "${AWS::StackName}-\(w)" }

    func stateMachineArn(_ w: WorkflowID) -> JSON {
        I.sub("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:\(TemplateContext.stateMachineName(w))")
    }

    mutating func workflow(_ w: PlanWorkflow) -> [TemplateResource] {
        let role = ids.id(.stateMachineRole, w.name)
        let logGroup = ids.id(.stateMachineLogGroup, w.name)
        let d = definition(w)
        var substitutions = JSONObject()
        for r in d.references { substitutions[placeholder(r)] = substitution(r) }
        var machine: JSONObject = [
            "StateMachineName": I.sub(TemplateContext.stateMachineName(w.name)),
            "StateMachineType": "STANDARD",
            "RoleArn": I.getAtt(role, "Arn"),
            "DefinitionString": .string(d.definition.serialized()),
        ]
        if !substitutions.isEmpty { machine["DefinitionSubstitutions"] = .object(substitutions) }
        machine["LoggingConfiguration"] = ["Level": "ERROR", "IncludeExecutionData": false,
                                           "Destinations": [["CloudWatchLogsLogGroup": ["LogGroupArn": I.getAtt(logGroup, "Arn")]]]]
        machine["TracingConfiguration"] = ["Enabled": true]
        return [
            TemplateResource(id: ids.id(.stateMachine, w.name), type: "AWS::StepFunctions::StateMachine", properties: machine),
            TemplateResource(id: role, type: "AWS::IAM::Role", properties: [
                "AssumeRolePolicyDocument": assumeRole("states.amazonaws.com"),
                "Policies": [["PolicyName": "infc-least-privilege", "PolicyDocument": policy(IAMMapping.workflowStatements(w))]]]),
            TemplateResource(id: logGroup, type: "AWS::Logs::LogGroup", properties: [
                "LogGroupName": I.sub("/aws/vendedlogs/states/${AWS::StackName}-\(w.name)"),
                "RetentionInDays": .int(CloudFormationEmitter.logRetentionDays)]),
        ]
    }

    // MARK: Stateful resources

    func table(_ t: ResourceID) -> TemplateResource {
        TemplateResource(id: ids.id(.table, t), type: "AWS::DynamoDB::Table", properties: [
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [["AttributeName": "id", "AttributeType": "S"]],
            "KeySchema": [["AttributeName": "id", "KeyType": "HASH"]]], retain: true)
    }

    func bucket(_ b: ResourceID) -> TemplateResource {
        TemplateResource(id: ids.id(.bucket, b), type: "AWS::S3::Bucket", properties: [
            "PublicAccessBlockConfiguration": ["BlockPublicAcls": true, "BlockPublicPolicy": true,
                                               "IgnorePublicAcls": true, "RestrictPublicBuckets": true]], retain: true)
    }

    /// The services' rates, shared by every function that calls a rated service: one item per
    /// slot of each rate (`SERVICE#k`). Not retained: it holds no data, only the last second.
    func serviceRates() -> TemplateResource {
        TemplateResource(id: ids.id(.serviceRates, ""), type: "AWS::DynamoDB::Table", properties: [
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [["AttributeName": "id", "AttributeType": "S"]],
            "KeySchema": [["AttributeName": "id", "KeyType": "HASH"]]])
    }

    /// A secret's name in Secrets Manager: the stack's name, `/`, the secret's.
    func secretName(_ s: ResourceID) -> JSON { I.sub("${AWS::StackName}/\(s)") }

    func secret(_ s: ResourceID) -> TemplateResource {
        TemplateResource(id: ids.id(.secret, s), type: "AWS::SecretsManager::Secret", properties: [
            "Name": secretName(s),
            "Description": .string("infc secret \(s) of app \(plan.app); set its value with the AWS CLI (docs/aws.md)")], retain: true)
    }

    // MARK: Outputs

    /// The API's URL and the name (or ARN, or URL) of every resource a person looks up, at most
    /// CloudFormation's 200 outputs (functions are left out first).
    func outputs() -> JSONObject {
        var out: [(String, JSON, String)] = []
        if !plan.routes.isEmpty {
            // The endpoint written out, not `GetAtt ApiEndpoint`: the same URL on AWS, and the
            // emulator the tests deploy to cannot resolve attributes of API Gateway v2 resources.
            out.append(("ApiUrl", I.sub("https://${\(ids.id(.httpAPI, ""))}.execute-api.${AWS::Region}.${AWS::URLSuffix}"), "The HTTP API's URL"))
        }
        for t in plan.tables { out.append((ids.id(.table, t) + "Name", I.ref(ids.id(.table, t)), "table \(t)")) }
        for b in plan.buckets { out.append((ids.id(.bucket, b) + "Name", I.ref(ids.id(.bucket, b)), "bucket \(b)")) }
        for t in plan.topics { out.append((ids.id(.topic, t) + "Arn", I.ref(ids.id(.topic, t)), "topic \(t)")) }
        for q in plan.queues {
            out.append((ids.id(.queue, q.name) + "Url", I.ref(ids.id(.queue, q.name)), "queue \(q.name)"))
            out.append((ids.id(.deadLetterQueue, q.name) + "Url", I.ref(ids.id(.deadLetterQueue, q.name)), "dead-letter queue \(q.deadLetterQueue)"))
        }
        for w in plan.workflows { out.append((ids.id(.stateMachine, w.name) + "Arn", I.ref(ids.id(.stateMachine, w.name)), "workflow \(w.name)")) }
        for s in plan.secrets { out.append((ids.id(.secret, s) + "Name", secretName(s), "secret \(s)")) }
        for f in plan.functions { out.append((ids.id(.function, f.name) + "Name", I.ref(ids.id(.function, f.name)), "function \(f.name)")) }
        var o = JSONObject()
        for (key, value, description) in out.prefix(200) {
            o[key] = ["Description": .string(description), "Value": value]
        }
        return o
    }
}
