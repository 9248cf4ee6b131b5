// Lambda: one function of the app in its container — the package (manifest and code) loaded and
// verified as `infc run` loads a build directory, the function and handlers the environment names,
// and each invocation dispatched by its event's shape to the handler that answers it: an HTTP API
// request to its route, an SQS batch message by message (`batchItemFailures`), SNS records, a
// schedule's firing, a Step Functions task. One interpreter, two hosts: this one is `AWSHost`.
import Glibc
import InfcAWS
import InfcCompiler
import InfcHTTPClient
import InfcRuntime

/// Why the container cannot serve (reported through the Runtime API's init error).
public struct LambdaInitError: Error, Sendable, CustomStringConvertible {
    public var type: String
    public var message: String
    public init(_ type: String, _ message: String) {
        self.type = type
        self.message = message
    }
    public var description: String { message }
}

public final class LambdaFunction: Sendable {
    public let context: AWSHostContext
    /// The handlers this function runs, by key (`INFC_HANDLERS`).
    public let handlers: [String]
    let router: Router<ManifestRoute>
    let logger: RuntimeLogger
    /// For a workflow's evaluator (`INFC_EVALUATES`): the workflow whose expressions it evaluates.
    let evaluates: ManifestWorkflow?

    var deployment: Deployment { context.deployment }
    var function: ManifestFunction { context.function }

    /// Loads the package in `root` and the function `INFC_FUNCTION` with its handlers
    /// `INFC_HANDLERS`; AWS credentials, region and endpoints as the SDKs find them.
    public static func load(root: String, environment: [String: String], transport: AWSTransport = HTTPClient(),
                            sink: (@Sendable (String) -> Void)? = nil) throws(LambdaInitError) -> LambdaFunction {
        let deployment: Deployment
        do { deployment = try Deployment.load(directory: root) } catch {
            throw LambdaInitError("infc.PackageInvalid", "the package in \(root): \(error.message)")
        }
        guard let name = environment["INFC_FUNCTION"], !name.isEmpty else {
            throw LambdaInitError("infc.EnvironmentInvalid", "INFC_FUNCTION is not set: the template sets it for every function")
        }
        var evaluates: ManifestWorkflow?
        let function: ManifestFunction
        if let workflow = environment["INFC_EVALUATES"], !workflow.isEmpty {
            guard let w = deployment.manifest.workflow(WorkflowID(workflow)), w.evaluator?.name == FunctionID(name),
                  let f = w.evaluatorFunction(timeoutMs: deployment.manifest.limits.defaultTimeoutMs) else {
                throw LambdaInitError("infc.EnvironmentInvalid", "INFC_EVALUATES names \(workflow), which has no evaluator \(name) in the package's manifest; redeploy")
            }
            evaluates = w
            function = f
        } else {
            guard let f = deployment.manifest.function(FunctionID(name)) else {
                throw LambdaInitError("infc.EnvironmentInvalid", "INFC_FUNCTION names \(name), which the package's manifest does not have; redeploy")
            }
            function = f
        }
        var handlers = function.handlers.map(\.key)
        if let text = environment["INFC_HANDLERS"] {
            guard let keys = (try? JSON.parse(text))?.arrayValue?.compactMap(\.stringValue) else {
                throw LambdaInitError("infc.EnvironmentInvalid", "INFC_HANDLERS is not a JSON array of handler keys: \(text.prefix(200))")
            }
            for key in keys where !handlers.contains(key) {
                throw LambdaInitError("infc.EnvironmentInvalid", "INFC_HANDLERS names \"\(key)\", which is not a handler of \(name) in the manifest; redeploy")
            }
            handlers = keys
        }
        let aws: AWSEnvironment
        do {
            aws = try AWSEnvironment.resolve(environment: environment, readFile: { path in
                readTextFile(path)
            })
        } catch {
            throw LambdaInitError("infc.AWSConfigurationInvalid", error.description)
        }
        let redactor = Redactor()
        let logger = RuntimeLogger(format: environment["INFC_LOG_FORMAT"] == "text" ? .text : .json, redactor: redactor, sink: sink)
        let client = AWSClient(environment: aws, transport: transport)
        let rates = environment["INFC_SERVICE_RATES"].flatMap { $0.isEmpty ? nil : $0 }
        if rates == nil, deployment.manifest.services.contains(where: { s in
            s.ratePerSecond != nil && function.permissions.contains { $0.type == "service" && $0.resource == s.name.text }
        }) {
            throw LambdaInitError("infc.EnvironmentInvalid", "INFC_SERVICE_RATES is not set, and \(function.name) calls a service with a rate: the template names the rate table")
        }
        let services = ServiceGateway(environment: environment, logger: logger, transport: HTTPServiceTransport(), warnsAboutRealURLs: false,
                                      makeRate: { service, rate in
                                          rates.map { SharedRateWindow(service: service, ratePerSecond: rate, table: $0, client: client) as any ServiceRate }
                                              ?? RateWindow(ratePerSecond: rate)
                                      })
        services.configure(deployment.manifest.services)
        var router = Router<ManifestRoute>()
        for r in deployment.manifest.routes where handlers.contains(r.handler.key) { router.add(r.method, r.path, r) }
        let context = AWSHostContext(deployment: deployment, function: function,
                                     resources: AWSResources(environment: environment, client: client),
                                     services: services, logger: logger)
        return LambdaFunction(context: context, handlers: handlers, router: router, logger: logger, evaluates: evaluates)
    }

    init(context: AWSHostContext, handlers: [String], router: Router<ManifestRoute>, logger: RuntimeLogger,
         evaluates: ManifestWorkflow? = nil) {
        self.context = context
        self.handlers = handlers
        self.router = router
        self.logger = logger
        self.evaluates = evaluates
    }

    /// Serves the Runtime API until it goes away (`limit` invocations when set).
    public func serve(_ api: LambdaRuntimeAPI, limit: Int? = nil) throws(HTTPClientError) {
        try api.serve(limit: limit) { invocation in
            let result = handle(invocation)
            logger.flush()
            return result
        }
    }

    /// Answers one invocation: the response body, or the function error Lambda records.
    public func handle(_ invocation: LambdaInvocation) -> Result<[UInt8], LambdaFunctionError> {
        let event: JSON
        do { event = try LambdaEvent.parse(invocation.event) } catch {
            return .failure(LambdaFunctionError(type: "infc.EventInvalid", message: error.description))
        }
        let deadline = invocation.deadlineMs > 0 ? Double(invocation.deadlineMs) / 1000
            : LambdaClock.now() + Double(function.timeoutMs) / 1000
        let trace = HostSupport.trace()
        do throws(LambdaFunctionError) {
            // A workflow's evaluator and a limited service's function answer their states only.
            if let workflow = evaluates { return .success(Array(try evaluate(event, workflow: workflow, deadline: deadline).serialized().utf8)) }
            if let service = function.serviceCall { return .success(Array(try serviceCall(event, service: service.text, deadline: deadline).serialized().utf8)) }
            switch LambdaEvent.kind(of: event) {
            case .http: return .success(Array(http(event, trace: trace, deadline: deadline).serialized().utf8))
            case .sqs: return .success(Array(try sqs(event, deadline: deadline).serialized().utf8))
            case .sns: return .success(Array(try sns(event, trace: trace, deadline: deadline).serialized().utf8))
            case .schedule: return .success(Array(try schedule(trace: trace, deadline: deadline).serialized().utf8))
            case .task: return .success(Array(try task(event, deadline: deadline).serialized().utf8))
            }
        } catch {
            return .failure(error)
        }
    }

    // MARK: Running a handler

    /// Runs the declaration with `arguments` as one invocation: its log line, its outcome.
    func run(declaration: Int, arguments: [JSON], trigger: String, trace: String, deadline: Double) -> Result<JSON, RuntimeError> {
        let started = LambdaClock.now()
        let host = AWSHost(context: context, trace: trace, deadline: deadline)
        let value: Result<JSON, RuntimeError>
        do throws(RuntimeError) {
            value = .success(try deployment.interpreter.run(declaration: declaration, arguments: arguments, host: host))
        } catch {
            value = .failure(error)
        }
        var outcome = Outcome.ok
        var errorText: String?
        if case .failure(let e) = value {
            outcome = e.kind.isTimeout ? .timeout : .error
            errorText = logger.redactor.redact(e.description)
        }
        logger.invocation(function: function.name.text, trigger: trigger, durationMs: (LambdaClock.now() - started) * 1000,
                          outcome: outcome, trace: trace, error: errorText)
        return value
    }

    func declaration(_ key: String) -> Int { deployment.declarationByKey[key] ?? -1 }

    func unhandled(_ what: String) -> LambdaFunctionError {
        LambdaFunctionError(type: "infc.NoHandler", message: "function \(function.name) has no handler for \(what) (its handlers: \(handlers.joined(separator: ", ")))")
    }

    // MARK: HTTP API

    func http(_ event: JSON, trace incoming: String, deadline: Double) -> JSON {
        let request: InfcRuntime.HTTPRequest
        do { request = try LambdaEvent.httpMessage(event) } catch {
            return LambdaEvent.httpResponse(.error(status: 400, message: error.description))
        }
        let trace = HostSupport.acceptTrace(request.header("X-Trace-Id")) ?? incoming
        var answer: InfcRuntime.HTTPResponse
        switch router.match(request) {
        case .notFound:
            answer = .error(status: 404, message: "no route for \(request.method) \(request.path)")
        case .methodNotAllowed(let allowed):
            answer = .error(status: 405, message: "\(request.method) is not allowed on \(request.path); allowed: \(allowed.joined(separator: ", "))")
            answer.headers.append(("Allow", allowed.joined(separator: ", ")))
        case .found(let route, let params):
            answer = self.route(route, params: params, event: event, trace: trace, deadline: deadline)
        }
        answer.headers.append(("X-Trace-Id", trace))
        return LambdaEvent.httpResponse(answer)
    }

    func route(_ route: ManifestRoute, params: [String: String], event: JSON, trace: String, deadline: Double) -> InfcRuntime.HTTPResponse {
        let requestObject: JSON
        do {
            switch try LambdaEvent.httpRequest(event, params: params) {
            case .answer(let r): return r
            case .handle(let o): requestObject = o
            }
        } catch {
            return .error(status: 400, message: error.description)
        }
        // A route answers within the route timeout, as locally (API Gateway's 29 s).
        let routeDeadline = min(deadline, LambdaClock.now() + Double(function.timeoutMs) / 1000)
        let result = run(declaration: declaration(route.handler.key), arguments: [requestObject],
                         trigger: "route \(route.method) \(route.path)", trace: trace, deadline: routeDeadline)
        switch result {
        case .success(let value): return HostSupport.routeResponse(for: value)
        case .failure(let error):
            if case .thrown(let value) = error.kind, let r = Runtime.response(for: value) { return r }
            if error.kind.isTimeout {
                return .error(status: 504, message: "\(function.name) timed out after \(RuntimeLogger.duration(Double(function.timeoutMs)))")
            }
            return .error(status: 500, message: logger.redactor.redact(error.description))
        }
    }

    // MARK: SQS: each message on its own; the failed ones reported, the others deleted

    func sqs(_ event: JSON, deadline: Double) throws(LambdaFunctionError) -> JSON {
        let messages: [LambdaEvent.QueueMessage]
        do { messages = try LambdaEvent.sqsMessages(event) } catch {
            throw LambdaFunctionError(type: "infc.EventInvalid", message: error.description)
        }
        let manifest = deployment.manifest
        let mine = manifest.queues.filter { $0.consumer == function.name }
        var failed: [String] = []
        for message in messages {
            // Which queue: the one whose ARN (`INFC_CONSUMES_<queue>`) the record came from, else
            // the one the body names (`queue`, sent by `async`), else the only one.
            let source = message.sourceARN.isEmpty ? nil : mine.first { q in
                context.resources.environment[AWSResources.variable("consumes", q.name.text)] == message.sourceARN
            }
            let named = message.body["queue"]?.stringValue.flatMap { q in mine.first { $0.name.text == q } }
            guard let queue = source ?? named ?? (mine.count == 1 ? mine.first : nil) else {
                failed.append(message.messageID)
                logger.warning("function \(function.name): message \(message.messageID) from \(message.sourceARN) names no queue it consumes")
                continue
            }
            let trace = HostSupport.acceptTrace(message.body["trace"]?.stringValue) ?? HostSupport.trace()
            let declaration: Int
            let arguments: [JSON]
            if queue.sourceType == "async" {
                declaration = deployment.fnDeclarations[queue.sourceName] ?? -1
                arguments = message.body["args"]?.arrayValue ?? []
            } else {
                guard let s = manifest.subscriptions.first(where: { $0.queue == queue.name }) else { failed.append(message.messageID); continue }
                if function.startsWorkflow != nil {
                    if startWorkflow(message: message.body, trace: trace) == nil { failed.append(message.messageID) }
                    continue
                }
                declaration = self.declaration(s.handler.key)
                arguments = [message.body]
            }
            if case .failure(let error) = run(declaration: declaration, arguments: arguments, trigger: "queue \(queue.name)", trace: trace, deadline: deadline) {
                // A failure no retry can mend (the one retry rule) goes to the dead letters at
                // once, as locally, instead of being received again until maxReceiveCount.
                if !HostSupport.isRetryable(error), deadLetter(message, queue: queue.name.text, error: error) { continue }
                failed.append(message.messageID)
            }
        }
        return LambdaEvent.sqsBatchResponse(failed: failed)
    }

    /// Sends a message to its queue's dead-letter queue (`INFC_DEADLETTER_<queue>`) as it came,
    /// with the error as message attributes; whether it was sent (else SQS redelivers it).
    func deadLetter(_ message: LambdaEvent.QueueMessage, queue: String, error: RuntimeError) -> Bool {
        let variable = AWSResources.variable("deadletter", queue)
        guard let url = context.resources.environment[variable], !url.isEmpty else {
            logger.warning("function \(function.name): no \(variable) in the environment; message \(message.messageID) is left to the queue's redrive")
            return false
        }
        do {
            _ = try context.resources.sqs.sendMessage(queueURL: url, body: message.text, attributes: [
                ("infc-error-code", error.code), ("infc-error", String(logger.redactor.redact(error.description).prefix(1024)))])
            logger.notice("function \(function.name): message \(message.messageID) of queue \(queue) failed with \(error.code), which no retry mends: sent to its dead-letter queue")
            return true
        } catch {
            logger.warning("function \(function.name): could not send message \(message.messageID) to the dead-letter queue (\(error.code)); it is left to the queue's redrive")
            return false
        }
    }

    // MARK: SNS, schedules, workflow starters and tasks

    func sns(_ event: JSON, trace: String, deadline: Double) throws(LambdaFunctionError) -> JSON {
        let records: [(topicARN: String, message: JSON)]
        do { records = try LambdaEvent.snsRecords(event) } catch {
            throw LambdaFunctionError(type: "infc.EventInvalid", message: error.description)
        }
        let subscriptions = deployment.manifest.subscriptions.filter { $0.target == function.name && $0.queue == nil && handlers.contains($0.handler.key) }
        for record in records {
            guard let s = subscriptions.count == 1 ? subscriptions.first : subscriptions.first(where: { Self.arn(record.topicARN, names: $0.topic.text) }) else {
                throw unhandled("messages of \(record.topicARN)")
            }
            if function.startsWorkflow != nil {
                if let error = startWorkflow(message: record.message, trace: trace) { throw error }
                continue
            }
            if case .failure(let e) = run(declaration: declaration(s.handler.key), arguments: [record.message],
                                          trigger: "topic \(s.topic)", trace: trace, deadline: deadline) {
                throw LambdaFunctionError(type: e.code, message: logger.redactor.redact(e.description))
            }
        }
        return .null
    }

    func schedule(trace: String, deadline: Double) throws(LambdaFunctionError) -> JSON {
        let schedules = deployment.manifest.schedules.filter { $0.target == .function(function.name) && handlers.contains($0.handler.key) }
        guard let s = schedules.first else { throw unhandled("schedule events") }
        if case .failure(let e) = run(declaration: declaration(s.handler.key), arguments: [], trigger: "schedule \(s.name)",
                                      trace: trace, deadline: deadline) {
            throw LambdaFunctionError(type: e.code, message: logger.redactor.redact(e.description))
        }
        return .null
    }

    /// A Step Functions task: the input's arguments to the fn the function runs as a task
    /// (the one named by `fn` when it runs several); its value is the task's output, its error
    /// the task's error (type: the error's code, for the state machine's retry and catch).
    func task(_ event: JSON, deadline: Double) throws(LambdaFunctionError) -> JSON {
        let fns = handlers.filter { $0.hasPrefix("fn ") }
        let wanted = event["fn"]?.stringValue.map { "fn " + $0 }
        guard let key = wanted.flatMap({ w in fns.first { $0 == w } }) ?? (fns.count == 1 ? fns.first : nil) else {
            throw unhandled("this event (not an HTTP API, SQS, SNS or schedule event, nor a task input naming one of its fns)")
        }
        let trace = HostSupport.acceptTrace(event["trace"]?.stringValue) ?? HostSupport.trace()
        switch run(declaration: declaration(key), arguments: LambdaEvent.taskArguments(event), trigger: "task \(key)", trace: trace, deadline: deadline) {
        case .success(let value): return value
        case .failure(let e): throw taskError(e)
        }
    }

    /// A workflow-starter's message: starts the workflow with `[message]`; the error when it could not.
    func startWorkflow(message: JSON, trace: String) -> LambdaFunctionError? {
        guard let workflow = function.startsWorkflow else { return unhandled("starting a workflow") }
        let host = AWSHost(context: context, trace: trace, deadline: LambdaClock.now() + 30)
        do throws(RuntimeError) {
            guard let entry = deployment.manifest.workflow(workflow) else { throw RuntimeError.runtime("invalid-program", "workflow \(workflow) is not in the manifest") }
            _ = try host.startAsync(fn: deployment.declaration(entry.entry), name: workflow.text, arguments: [message], at: SourceRange(0, 0))
            logger.invocation(function: function.name.text, trigger: "start \(workflow)", durationMs: 0, outcome: .ok, trace: trace)
            return nil
        } catch {
            logger.invocation(function: function.name.text, trigger: "start \(workflow)", durationMs: 0, outcome: .error, trace: trace, error: error.description)
            return LambdaFunctionError(type: error.code, message: error.description)
        }
    }

    /// Whether `arn` is the ARN of a resource named (in part) `name`: CloudFormation names
    /// resources `STACK-LogicalId-SUFFIX`.
    static func arn(_ arn: String, names name: String) -> Bool {
        let last = arn.split(separator: ":").last.map(String.init) ?? arn
        let compact = name.filter { $0.isLetter || $0.isNumber }.lowercased()
        return last == name || last.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "-" }.contains(compact)
    }
}

/// Reads a whole text file (the shared credentials and config files); nil when it cannot.
func readTextFile(_ path: String) -> String? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buffer, 1, buffer.count, file)
        if n <= 0 { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

extension RuntimeError.Kind {
    var isTimeout: Bool { if case .timeout = self { return true } else { return false } }
}
