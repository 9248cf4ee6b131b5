// Runtime engine: the control endpoints behind `infc invoke`, `infc publish` and `infc schedule
// fire` — POST /_infc/invoke, /_infc/publish and /_infc/fire, answered only with the token the
// runtime wrote to `runtime.json` in its state directory (mode 0600), so that another local
// process or a web page cannot drive the app; and that file itself.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler

/// What a running runtime tells the commands beside it: `STATE/runtime.json`.
public struct RuntimeEndpoint: Sendable {
    public var pid: Int
    public var port: Int
    public var token: String
    public var app: String
    public var build: String

    public static let fileName = "runtime.json"
    public static let tokenHeader = "X-Infc-Token"

    public var json: JSON {
        ["pid": .int(pid), "port": .int(port), "token": .string(token), "app": .string(app), "build": .string(build)]
    }

    public init(pid: Int, port: Int, token: String, app: String, build: String) {
        self.pid = pid
        self.port = port
        self.token = token
        self.app = app
        self.build = build
    }

    /// Reads the file of a state directory; nil when there is none or it does not parse.
    public static func read(stateDirectory: String) -> RuntimeEndpoint? {
        guard let data = FileManager.default.contents(atPath: stateDirectory + "/" + fileName),
              let json = try? JSON.parse(bytes: Array(data)),
              let pid = json["pid"]?.intValue, let port = json["port"]?.intValue, let token = json["token"]?.stringValue,
              let app = json["app"]?.stringValue, let build = json["build"]?.stringValue
        else { return nil }
        return RuntimeEndpoint(pid: pid, port: port, token: token, app: app, build: build)
    }
}

extension Runtime {
    /// Writes `runtime.json` (readable by the owner only) for the commands beside the runtime.
    func writeEndpointFile(port: Int) {
        let endpoint = RuntimeEndpoint(pid: Int(getpid()), port: port, token: controlToken, app: deployment.manifest.app,
                                       build: deployment.directory)
        let path = options.stateDirectory + "/" + RuntimeEndpoint.fileName
        let temp = path + ".tmp"
        let bytes = Array(endpoint.json.prettyPrinted().utf8)
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            logger.warning("cannot write \(path): infc invoke, publish and schedule fire will not find this runtime")
            return
        }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if written != bytes.count || rename(temp, path) != 0 {
            unlink(temp)
            logger.warning("cannot write \(path): infc invoke, publish and schedule fire will not find this runtime")
        }
    }

    /// Compares tokens in time independent of where they differ.
    static func sameToken(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    func removeEndpointFile() {
        unlink(options.stateDirectory + "/" + RuntimeEndpoint.fileName)
    }

    /// POST /_infc/invoke, /_infc/publish, /_infc/fire.
    func control(_ request: HTTPRequest, action: String) -> HTTPResponse {
        guard request.method == "POST" else {
            var r = HTTPResponse.error(status: 405, message: "/_infc/\(action) answers POST only")
            r.headers.append(("Allow", "POST"))
            return r
        }
        guard let token = request.header(RuntimeEndpoint.tokenHeader), Self.sameToken(token, controlToken) else {
            return .error(status: 403, message: "/_infc/\(action) needs the token of \(RuntimeEndpoint.fileName) in the state directory; use infc \(action == "fire" ? "schedule fire" : action)")
        }
        guard let body = try? JSON.parse(bytes: request.body), case .object(let o) = body else {
            return .error(status: 400, message: "the body must be a JSON object")
        }
        let trace = Identifiers.acceptTrace(request.header("X-Trace-Id")) ?? Identifiers.trace()
        let deployment = self.deployment
        switch action {
        case "invoke": return invokeByName(o, deployment: deployment, trace: trace)
        case "publish": return publishFromOutside(o, deployment: deployment, trace: trace)
        default: return fireFromOutside(o, deployment: deployment, trace: trace)
        }
    }

    private func invokeByName(_ o: JSONObject, deployment: Deployment, trace: String) -> HTTPResponse {
        guard let name = o["function"]?.stringValue else { return .error(status: 400, message: "missing \"function\"") }
        let arguments = o["args"]?.arrayValue ?? []
        let m = deployment.manifest
        let trigger = "infc invoke"
        if let workflow = m.workflow(WorkflowID(name)) ?? deployment.workflow(forFn: name) {
            do {
                let id = try startExecution(workflow: workflow.name, arguments: arguments, trace: trace, parent: nil, trigger: trigger)
                return .json(["workflow": .string(workflow.name.text), "execution": .string(id), "trace": .string(trace)], status: 202)
            } catch {
                return .error(status: 500, message: redactor.redact(error.description))
            }
        }
        let key = "fn \(name)"
        let function = m.functions.first { $0.handlers.contains { $0.key == key } } ?? m.function(FunctionID(name))
        guard let function else {
            let fns = m.functions.flatMap(\.handlers).map(\.key).filter { $0.hasPrefix("fn ") }.map { String($0.dropFirst(3)) }
            if deployment.fnDeclarations[name] != nil {
                return .error(status: 404, message: "fn \(name) is not deployed on its own: it runs inside the functions that call it; invoke one of: \(fns.sorted().joined(separator: ", "))")
            }
            let hint = Spelling.closest(to: name, in: fns + m.functions.map(\.name.text) + m.workflows.map(\.name.text))
            return .error(status: 404, message: "no function or workflow \(name) in \(m.app)" + (hint.map { "; did you mean \($0)?" } ?? ""))
        }
        guard let handler = function.handlers.first(where: { $0.key == key }) ?? function.handlers.first else {
            return .error(status: 500, message: "function \(function.name) has no handler; rebuild with infc build")
        }
        let declaration = deployment.declaration(handler)
        guard declaration >= 0 else { return .error(status: 500, message: "function \(function.name) has no code; rebuild with infc build") }
        let result = invokeHeld(InvocationRequest(
            deployment: deployment, function: function, declaration: declaration, arguments: arguments,
            trigger: trigger, trace: trace, parent: nil, cancelled: nil))
        switch result.value {
        case .success(let value):
            return .json(["result": value, "trace": .string(trace)], status: 200)
        case .failure(let error):
            var body = JSONObject()
            body["error"] = .string(redactor.redact(error.description))
            body["code"] = .string(error.code)
            body["trace"] = .string(trace)
            return .json(.object(body), status: result.outcome == .timeout ? 504 : 500)
        }
    }

    private func publishFromOutside(_ o: JSONObject, deployment: Deployment, trace: String) -> HTTPResponse {
        guard let topic = o["topic"]?.stringValue else { return .error(status: 400, message: "missing \"topic\"") }
        guard deployment.manifest.topics.contains(ResourceID(topic)) else {
            let hint = Spelling.closest(to: topic, in: deployment.manifest.topics.map(\.text))
            return .error(status: 404, message: "no topic \(topic) in \(deployment.manifest.app)" + (hint.map { "; did you mean \($0)?" } ?? ""))
        }
        let context = OperationContext(deployment: deployment, invocation: "infc-publish", trace: trace,
                                       deadline: clock.now() + 30, cancelled: { false })
        do {
            try publish(topic: topic, message: o["message"] ?? .null, context: context)
        } catch {
            return .error(status: 500, message: "\(error)")
        }
        let subscribers = deployment.manifest.subscriptions.filter { $0.topic.text == topic }.count
        return .json(["topic": .string(topic), "subscribers": .int(subscribers), "trace": .string(trace)], status: 202)
    }

    private func fireFromOutside(_ o: JSONObject, deployment: Deployment, trace: String) -> HTTPResponse {
        guard let name = o["schedule"]?.stringValue else { return .error(status: 400, message: "missing \"schedule\"") }
        let schedules = deployment.manifest.schedules
        guard let schedule = schedules.first(where: { $0.name.text == name }) else {
            let hint = Spelling.closest(to: name, in: schedules.map(\.name.text))
            return .error(status: 404, message: "no schedule \(name) in \(deployment.manifest.app)"
                + (hint.map { "; did you mean \($0)?" } ?? "; run infc schedule list"))
        }
        let now = clock.now()
        do {
            // A firing by hand: the invocation is queued like any firing; the schedule's own
            // timing (its last firing) is left as it was. It goes through the queue the manifest
            // names for the schedule's firings, as a timed firing does.
            try store.enqueue(schedule.delivery.queue.text, body: ["schedule": .string(schedule.name.text), "firedAt": .number(now), "manual": true],
                              trace: trace, now: now)
        } catch {
            return .error(status: 500, message: "\(error)")
        }
        notify(queue: schedule.delivery.queue)
        return .json(["schedule": .string(schedule.name.text), "trace": .string(trace)], status: 202)
    }
}
