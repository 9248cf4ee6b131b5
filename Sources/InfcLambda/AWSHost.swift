// Lambda: the interpreter's second host — the same `Interpreter` the local runtime runs, with every
// resource operation performed through the service's own API (DynamoDB, S3, SNS, SQS, Step
// Functions, Secrets Manager) on the resources the template names in the function's environment,
// under the same manifest permissions and with the same values and errors as `infc run`.
import Glibc
import InfcAWS
import InfcCompiler
import InfcHTTPClient
import InfcRuntime

/// The AWS clients of one container, and where the function's resources live (the environment
/// the template sets: docs/aws.md).
public final class AWSResources: Sendable {
    let environment: [String: String]
    let dynamoDB: DynamoDB
    let s3: S3
    let sns: SNS
    let sqs: SQS
    let stepFunctions: StepFunctions
    let secretsManager: SecretsManager

    public init(environment: [String: String], client: AWSClient) {
        self.environment = environment
        dynamoDB = DynamoDB(client)
        s3 = S3(client)
        sns = SNS(client)
        sqs = SQS(client)
        stepFunctions = StepFunctions(client)
        secretsManager = SecretsManager(client)
    }

    /// `INFC_TABLE_orders`: the variable that names a resource (letters and digits kept, any
    /// other character `_`), as the template writes it.
    public static func variable(_ type: String, _ name: String) -> String {
        "INFC_\(type.uppercased())_" + String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    /// The physical name, ARN or URL of a resource the function may use.
    func physical(_ type: String, _ name: String) throws(RuntimeError) -> String {
        let variable = Self.variable(type, name)
        guard let value = environment[variable], !value.isEmpty else {
            throw RuntimeError.runtime("invalid-program", "the function's environment has no \(variable) (the \(type) \(name)); redeploy the stack")
        }
        return value
    }
}

/// What every host of one container shares: the deployment, the function, its resources,
/// services, log and secrets.
public final class AWSHostContext: Sendable {
    public let deployment: Deployment
    public let function: ManifestFunction
    let resources: AWSResources
    let services: ServiceGateway
    let logger: RuntimeLogger

    init(deployment: Deployment, function: ManifestFunction, resources: AWSResources, services: ServiceGateway, logger: RuntimeLogger) {
        self.deployment = deployment
        self.function = function
        self.resources = resources
        self.services = services
        self.logger = logger
    }
}

/// The host of one invocation in Lambda.
final class AWSHost: InterpreterHost {
    let context: AWSHostContext
    let trace: String
    /// Seconds since 1970 by which the invocation must end (Lambda's deadline).
    let deadline: Double

    init(context: AWSHostContext, trace: String, deadline: Double) {
        self.context = context
        self.trace = trace
        self.deadline = deadline
    }

    private var function: ManifestFunction { context.function }
    private var resources: AWSResources { context.resources }

    /// Refuses an action the function's policy does not hold, exactly as the local runtime does.
    func authorize(resource: String, type: String, action: String) throws(RuntimeError) {
        guard function.permissions.contains(ManifestPermission(resource: resource, type: type, action: action)) else {
            throw RuntimeError.runtime(
                "access-denied",
                "access denied: function \(function.name) may not \(action) \(type) \(resource) (the manifest does not grant it)",
                extra: ["function": .string(function.name.text), "resource": .string(resource), "action": .string(action)])
        }
    }

    func perform(_ operation: ResourceOperation, on resource: String, kind: ResourceKind, arguments: [JSON],
                 at range: SourceRange) throws(RuntimeError) -> JSON {
        try authorize(resource: resource, type: kind.rawValue, action: operation.action(on: kind).rawValue)
        if kind == .service {
            return try context.services.call(service: resource, operation: operation, arguments: arguments,
                                             deadline: deadline, cancelled: { [self] in isCancelled })
        }
        switch kind {
        case .table: return try table(operation, resource, arguments)
        case .bucket: return try bucket(operation, resource, arguments)
        case .topic where operation == .publish:
            let arn = try resources.physical("topic", resource)
            let message = Self.argument(arguments, 0).serialized()
            _ = try aws { () throws(AWSError) in try resources.sns.publish(topicARN: arn, message: message) }
            return .null
        case .secret where operation == .value:
            guard context.deployment.manifest.secrets.contains(where: { $0.name.text == resource }) else {
                throw RuntimeError.runtime("invalid-program", "secret `\(resource)` is not in the manifest; rebuild with infc build")
            }
            let id = try resources.physical("secret", resource)
            do {
                let value = try resources.secretsManager.secretString(id)
                context.logger.redactor.hide(value)
                return .string(value)
            } catch where error.code == "ResourceNotFoundException" || error.code == "NoSecretString" {
                throw RuntimeError.runtime("missing-secret", "secret `\(resource)` has no value: set the secret \(id) in Secrets Manager (docs/aws.md)")
            } catch {
                throw Self.failure(error)
            }
        default:
            throw RuntimeError.runtime("invalid-program", "\(kind.rawValue) \(resource) has no operation \(operation.rawValue)")
        }
    }

    // MARK: Tables: one DynamoDB item per key, `{id: key, value: the stored value}`

    private func table(_ operation: ResourceOperation, _ resource: String, _ arguments: [JSON]) throws(RuntimeError) -> JSON {
        let name = try resources.physical("table", resource)
        let ddb = resources.dynamoDB
        if operation == .scan {
            let items = try aws { () throws(AWSError) in try ddb.scan(table: name, consistentRead: true) }
            // In key order, as locally (DynamoDB scans in hash order).
            let sorted = items.compactMap { item -> (key: String, value: JSON)? in
                guard let key = item["id"]?.stringValue else { return nil }
                return (key, item["value"] ?? .null)
            }.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
            return .array(sorted.map(\.value))
        }
        let k = try Self.key(arguments, resource, operation)
        let key: JSONObject = ["id": .string(k)]
        switch operation {
        case .get:
            let item = try aws { () throws(AWSError) in try ddb.getItem(table: name, key: key, consistentRead: true) }
            return item?["value"] ?? .null
        case .put:
            let item: JSONObject = ["id": .string(k), "value": Self.argument(arguments, 1)]
            try aws { () throws(AWSError) in try ddb.putItem(table: name, item: item) }
            return .null
        case .delete:
            try aws { () throws(AWSError) in try ddb.deleteItem(table: name, key: key) }
            return .null
        case .insert, .replace:
            let expected = operation == .replace ? Self.argument(arguments, 1) : .null
            let value = Self.argument(arguments, operation == .insert ? 1 : 2)
            let item: JSONObject = ["id": .string(k), "value": value]
            // `null` expected: nothing may be stored; else the stored value must equal it.
            let found: JSON? = try aws { () throws(AWSError) in
                expected == .null
                    ? try ddb.putItem(table: name, item: item, key: key, condition: "attribute_not_exists(#id)", names: ["#id": "id"])
                    : try ddb.putItem(table: name, item: item, key: key, condition: "#v = :expected",
                                      names: ["#v": "value"], values: [":expected": expected])
            }
            guard let found else { return .null }
            let current = found["value"] ?? .null
            let why = operation == .insert || expected == .null
                ? "\(resource) already has a value under \"\(k)\""
                : found == .null ? "\(resource) has no value under \"\(k)\" any more"
                : "the value under \"\(k)\" in \(resource) changed since it was read"
            throw RuntimeError.runtime(
                "condition-failed", "\(resource).\(operation.rawValue)(\"\(k)\", …) did not write: \(why)",
                extra: ["table": .string(resource), "key": .string(k), "current": current])
        default:
            throw RuntimeError.runtime("invalid-program", "table \(resource) has no operation \(operation.rawValue)")
        }
    }

    // MARK: Buckets: S3 objects; text marked by `x-amz-meta-infc-text` so it reads back as text

    private func bucket(_ operation: ResourceOperation, _ resource: String, _ arguments: [JSON]) throws(RuntimeError) -> JSON {
        let name = try resources.physical("bucket", resource)
        let s3 = resources.s3
        if operation == .list {
            let prefix = arguments.first.flatMap { $0.isNull ? nil : Interpreter.format($0) } ?? ""
            let objects = try aws { () throws(AWSError) in try s3.listObjects(bucket: name, prefix: prefix) }
            return .array(objects.map { .string($0.key) })
        }
        let k = try Self.key(arguments, resource, operation)
        do { try StateStore.validateObjectKey(k) } catch { throw RuntimeError.runtime("invalid-key", error.description) }
        switch operation {
        case .get:
            guard let object = try aws({ () throws(AWSError) in try s3.getObjectWithMetadata(bucket: name, key: k) }) else { return .null }
            if object.metadata["infc-text"] != nil { return HostSupport.objectValue(object.body, contentType: nil) }
            return HostSupport.objectValue(object.body, contentType: object.contentType ?? "application/octet-stream")
        case .put:
            let (data, contentType) = HostSupport.objectData(Self.argument(arguments, 1))
            try aws { () throws(AWSError) in
                try s3.putObject(bucket: name, key: k, body: data, contentType: contentType ?? "text/plain; charset=utf-8",
                                 metadata: contentType == nil ? [("infc-text", "1")] : [])
            }
            return .null
        case .delete:
            try aws { () throws(AWSError) in try s3.deleteObject(bucket: name, key: k) }
            return .null
        default:
            throw RuntimeError.runtime("invalid-program", "bucket \(resource) has no operation \(operation.rawValue)")
        }
    }

    // MARK: async: the fn's SQS queue, or the workflow's state machine

    func startAsync(fn declaration: Int, name: String, arguments: [JSON], at range: SourceRange) throws(RuntimeError) -> JSON {
        let deployment = context.deployment
        var message: JSONObject = ["args": .array(arguments), "trace": .string(trace)]
        if let workflow = deployment.workflowByDeclaration[declaration] {
            try authorize(resource: workflow.text, type: "workflow", action: "start")
            let arn = try resources.physical("workflow", workflow.text)
            let input = JSON.object(message).serialized()
            return .string(try aws { () throws(AWSError) in try resources.stepFunctions.startExecution(stateMachineARN: arn, input: input) })
        }
        guard let queue = deployment.queueByFn[name] else {
            throw RuntimeError.runtime("invalid-program", "fn \(name) has no queue in the manifest; rebuild with infc build")
        }
        try authorize(resource: queue.name.text, type: "queue", action: "send")
        let url = try resources.physical("queue", queue.name.text)
        // The queue's name lets a consumer of several queues tell them apart.
        message["queue"] = .string(queue.name.text)
        let input = JSON.object(message).serialized()
        return .string(try aws { () throws(AWSError) in try resources.sqs.sendMessage(queueURL: url, body: input) })
    }

    func sleep(milliseconds: Double, at range: SourceRange) throws(RuntimeError) {
        try HostSupport.wait(until: LambdaClock.now() + milliseconds / 1000, cancelled: { [self] in isCancelled })
    }

    func runParallel(_ branches: [@Sendable () throws(RuntimeError) -> Void]) throws(RuntimeError) {
        try HostSupport.runConcurrently(count: branches.count) { i throws(RuntimeError) in try branches[i]() }
    }

    func uuid() -> String { HostSupport.uuid() }

    func now() -> Double { (LambdaClock.now() * 1000).rounded() }

    func log(_ text: String) { context.logger.program(function: function.name.text, trace: trace, text: text) }

    var isCancelled: Bool { LambdaClock.now() >= deadline }

    // MARK: Helpers

    static func argument(_ arguments: [JSON], _ i: Int) -> JSON { i < arguments.count ? arguments[i] : .null }

    /// Keys are strings; numbers and booleans are accepted in their `str` form (as locally).
    static func key(_ arguments: [JSON], _ resource: String, _ operation: ResourceOperation) throws(RuntimeError) -> String {
        switch argument(arguments, 0) {
        case .string(let s):
            if s.isEmpty { throw RuntimeError.runtime("invalid-key", "\(resource).\(operation.rawValue): a key must not be empty") }
            return s
        case .number, .bool: return Interpreter.format(arguments[0])
        default: throw RuntimeError.runtime("invalid-argument", "\(resource).\(operation.rawValue) needs a string key")
        }
    }

    /// Runs an AWS call, turning its failure into a runtime error the program can see.
    func aws<T>(_ body: () throws(AWSError) -> T) throws(RuntimeError) -> T {
        do { return try body() } catch { throw Self.failure(error) }
    }

    /// `access-denied` for AWS's refusals, `aws-error` (with the service's code and status)
    /// for the rest; both say which call failed.
    static func failure(_ error: AWSError) -> RuntimeError {
        let denied = error.code == "AccessDenied" || error.code == "AccessDeniedException" || error.code == "AuthorizationError"
        return RuntimeError.runtime(denied ? "access-denied" : "aws-error", error.description,
                                    extra: ["service": .string(error.service), "awsCode": .string(error.code), "status": .int(error.status)])
    }
}

/// The wall clock in seconds since 1970.
public enum LambdaClock {
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
