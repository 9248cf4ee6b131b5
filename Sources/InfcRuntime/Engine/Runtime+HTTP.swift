// Runtime engine: the HTTP API — routes to their functions (request object in, SPEC §2
// response mapping out), 404/405 from the router, 429 with Retry-After over a function's limit,
// and the reserved status endpoint under /_infc/.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler

extension Runtime {
    /// The reserved path prefix; app routes never start with it.
    static let reservedPrefix = "/_infc/"

    /// Answers one request (on the connection's thread).
    func handle(_ request: HTTPRequest) -> HTTPResponse {
        let trace = Identifiers.acceptTrace(request.header("X-Trace-Id")) ?? Identifiers.trace()
        var response = route(request, trace: trace)
        response.headers.append(("X-Trace-Id", trace))
        return response
    }

    private func route(_ request: HTTPRequest, trace: String) -> HTTPResponse {
        if request.path.hasPrefix(Self.reservedPrefix) || request.path == "/_infc" {
            return reserved(request)
        }
        let active = activeDeployment
        switch active.router.match(request) {
        case .notFound:
            return .error(status: 404, message: "no route for \(request.method) \(request.path)")
        case .methodNotAllowed(let allowed):
            var r = HTTPResponse.error(status: 405, message: "\(request.method) is not allowed on \(request.path); allowed: \(allowed.joined(separator: ", "))")
            r.headers.append(("Allow", allowed.joined(separator: ", ")))
            return r
        case .found(let route, let params):
            return invoke(route, params: params, request: request, deployment: active.deployment, trace: trace)
        }
    }

    private func invoke(_ route: ManifestRoute, params: [String: String], request: HTTPRequest, deployment: Deployment,
                        trace: String) -> HTTPResponse {
        guard let function = deployment.manifest.function(route.function) else {
            if deployment.manifest.workflow(WorkflowID(route.function.text)) != nil {
                return .error(status: 500, message: "route \(route.method) \(route.path) is a workflow, which a route cannot run; rebuild with infc build")
            }
            return .error(status: 500, message: "route \(route.method) \(route.path) has no function in the manifest; rebuild with infc build")
        }
        let body: JSON
        switch Self.parseBody(request) {
        case .success(let b): body = b
        case .failure(let e): return .error(status: 400, message: e.message)
        }
        let semaphore = limits.semaphore(for: function.name)
        if let semaphore, !semaphore.tryAcquire() {
            logger.invocation(function: function.name.text, trigger: "route \(route.method) \(route.path)", durationMs: 0,
                              outcome: .throttled, trace: trace, detail: "over its limit of \(semaphore.limit)")
            var r = HTTPResponse.error(status: 429, message: "\(function.name) is at its concurrency limit of \(semaphore.limit); retry shortly")
            r.headers.append(("Retry-After", "1"))
            return r
        }
        defer { semaphore?.release() }
        let requestObject = Self.requestObject(request, params: params, body: body)
        let result = self.invoke(InvocationRequest(
            deployment: deployment, function: function, declaration: deployment.declaration(route.handler),
            arguments: [requestObject], trigger: "route \(route.method) \(route.path)", trace: trace, parent: nil,
            cancelled: nil))
        switch result.value {
        case .success(let value):
            return Self.response(for: value) ?? Self.plainResponse(value)
        case .failure(let error):
            if case .thrown(let value) = error.kind, let r = Self.response(for: value) { return r }
            switch result.outcome {
            case .timeout:
                return .error(status: 504, message: "\(function.name) timed out after \(RuntimeLogger.duration(Double(function.timeoutMs)))")
            case .interrupted:
                return .error(status: 503, message: "the runtime is shutting down; retry shortly")
            default:
                return .error(status: 500, message: redactor.redact(error.description))
            }
        }
    }

    /// `{method, path, params, query, headers, body}`; header names in lower case (repeated
    /// headers joined with ", "), repeated query parameters: the last wins.
    public static func requestObject(_ request: HTTPRequest, params: [String: String], body: JSON) -> JSON {
        var query = JSONObject()
        for (name, value) in request.query { query[name] = .string(value) }
        var headers = JSONObject()
        for (name, value) in request.headers {
            let key = ASCII.lowercased(name)
            if let existing = headers[key]?.stringValue {
                headers[key] = .string(existing + ", " + value)
            } else {
                headers[key] = .string(value)
            }
        }
        var paramsObject = JSONObject()
        for key in params.keys.sorted() { paramsObject[key] = .string(params[key]!) }
        return ["method": .string(request.method), "path": .string(request.path), "params": .object(paramsObject),
                "query": .object(query), "headers": .object(headers), "body": body]
    }

    /// The body: bytes (with their type) when declared non-text, or when not UTF-8; JSON when
    /// declared JSON (invalid → 400) or when it parses; else the text; null when empty.
    public static func parseBody(_ request: HTTPRequest) -> Result<JSON, BodyError> {
        if request.body.isEmpty { return .success(.null) }
        let declared = request.header("Content-Type")
        if !Bytes.isTextual(declared) { return .success(.bytes(Bytes(request.body, contentType: declared))) }
        let declaredJSON = declared?.lowercased().contains("json") ?? false
        do {
            return .success(try JSON.parse(bytes: request.body))
        } catch {
            if declaredJSON { return .failure(BodyError("the request body is not valid JSON: \(error.description)")) }
            guard let text = String(validating: request.body, as: UTF8.self) else {
                return .success(.bytes(Bytes(request.body, contentType: declared)))
            }
            return .success(.string(text))
        }
    }

    /// A route's plain result: bytes are served as they are with their type; any other value
    /// is a 200 JSON body.
    static func plainResponse(_ value: JSON) -> HTTPResponse {
        if case .bytes(let b) = value {
            return HTTPResponse(status: 200, headers: [("Content-Type", b.contentType)], body: b.data)
        }
        return .json(value)
    }

    public struct BodyError: Error {
        public var message: String
        init(_ message: String) { self.message = message }
    }

    /// A value that is a response object (numeric `status`, only status/headers/body keys).
    public static func response(for value: JSON) -> HTTPResponse? {
        guard case .object(let o) = value, let statusValue = o["status"], case .number(let n) = statusValue,
              o.keys.allSatisfy({ $0 == "status" || $0 == "headers" || $0 == "body" })
        else { return nil }
        let status = (100...599).contains(Int(n)) && n.rounded() == n ? Int(n) : 500
        var headers: [(name: String, value: String)] = []
        if case .object(let h)? = o["headers"] {
            for (k, v) in h {
                let text = v.stringValue ?? Interpreter.format(v)
                // Header names and values must not smuggle line breaks into the response.
                guard !k.isEmpty, !k.contains(where: { $0 == "\r" || $0 == "\n" || $0 == ":" || $0 == " " }),
                      !text.contains(where: { $0 == "\r" || $0 == "\n" })
                else { continue }
                headers.append((k, text))
            }
        }
        let hasType = headers.contains { ASCII.equalsIgnoringCase($0.name, "content-type") }
        var body: [UInt8] = []
        switch o["body"] {
        case nil, .null?: break
        case .string(let s)?:
            body = Array(s.utf8)
            if !hasType { headers.append(("Content-Type", "text/plain; charset=utf-8")) }
        case .bytes(let b)?:
            body = b.data
            if !hasType { headers.append(("Content-Type", b.contentType)) }
        case let v?:
            body = Array(v.serialized().utf8)
            if !hasType { headers.append(("Content-Type", "application/json")) }
        }
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    /// `/_infc/status` (JSON) and the control endpoints (`Runtime+Control`); anything else
    /// under the prefix is 404.
    private func reserved(_ request: HTTPRequest) -> HTTPResponse {
        for action in ["invoke", "publish", "fire"] where request.path == "/_infc/" + action {
            return control(request, action: action)
        }
        guard request.path == "/_infc/status" || request.path == "/_infc/status/" else {
            return .error(status: 404, message: "no such runtime endpoint; try GET /_infc/status")
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            var r = HTTPResponse.error(status: 405, message: "/_infc/status answers GET only")
            r.headers.append(("Allow", "GET, HEAD"))
            return r
        }
        do {
            var report = try StatusReport.build(store: store, now: clock.now(), manifest: deployment.manifest)
            report.inFlightInvocations = recorder.inFlight
            let unflushed = recorder.unflushedCounts
            for (f, c) in unflushed {
                var existing = report.invocations[f] ?? InvocationCount(invocations: 0, failures: 0)
                existing.invocations += c.invocations
                existing.failures += c.failures
                report.invocations[f] = existing
            }
            return .json(report.json(), status: 200)
        } catch {
            return .error(status: 500, message: "cannot read the state: \(error)")
        }
    }
}

extension Runtime.BodyError: CustomStringConvertible {
    public var description: String { message }
}
