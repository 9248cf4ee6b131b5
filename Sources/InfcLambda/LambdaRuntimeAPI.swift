// Lambda: the custom runtime's side of the Lambda Runtime API (`$AWS_LAMBDA_RUNTIME_API`,
// version 2018-06-01) — fetch the next invocation, post its response or its error, report an
// initialisation error — and the loop that serves invocations one after another.
import InfcAWS
import InfcCompiler
import InfcHTTPClient

/// One invocation as the Runtime API hands it over.
public struct LambdaInvocation: Sendable {
    public var requestID: String
    /// Milliseconds since 1970 by which the function must answer.
    public var deadlineMs: Int
    public var functionARN: String
    /// `Lambda-Runtime-Trace-Id`, for `_X_AMZN_TRACE_ID`.
    public var traceID: String?
    public var event: [UInt8]
}

/// An error as the Runtime API takes it: `{"errorMessage", "errorType", "stackTrace"}`.
public struct LambdaFunctionError: Error, Sendable, Equatable {
    public var type: String
    public var message: String
    /// The value a workflow's `catch` binds for this failure (`errorValue`), when the code can
    /// catch it: a thrown value, or a runtime error's `{error, code, …}`.
    public var value: JSON?
    public init(type: String, message: String, value: JSON? = nil) {
        self.type = type
        self.message = message
        self.value = value
    }

    var body: [UInt8] {
        var o = JSONObject([("errorMessage", .string(message)), ("errorType", .string(type)), ("stackTrace", .array([]))])
        if let value { o["errorValue"] = value }
        return Array(JSON.object(o).serialized().utf8)
    }
}

public final class LambdaRuntimeAPI: Sendable {
    let base: HTTPURL
    let client: HTTPClient

    /// `address` is `$AWS_LAMBDA_RUNTIME_API` (`host:port`); nil when it is not one.
    public init?(address: String) {
        guard !address.isEmpty, !address.contains("/"), let url = HTTPURL(string: "http://\(address)") else { return nil }
        base = url
        var configuration = HTTPClient.Configuration()
        configuration.timeout = 86_400   // `next` waits as long as the function sits idle
        client = HTTPClient(configuration: configuration)
    }

    func url(_ path: String) -> HTTPURL {
        var u = base
        u.path = "/2018-06-01/runtime/\(path)"
        return u
    }

    /// Waits for the next invocation.
    public func next() throws(HTTPClientError) -> LambdaInvocation {
        let r = try client.send(HTTPRequest(method: "GET", url: url("invocation/next")))
        guard r.status == 200, let id = r.headers["Lambda-Runtime-Aws-Request-Id"], !id.isEmpty, !id.contains("/") else {
            throw .malformedResponse("the Runtime API answered `next` with HTTP \(r.status): \(r.bodyText.prefix(200))")
        }
        return LambdaInvocation(requestID: id, deadlineMs: Int(r.headers["Lambda-Runtime-Deadline-Ms"] ?? "") ?? 0,
                                functionARN: r.headers["Lambda-Runtime-Invoked-Function-Arn"] ?? "",
                                traceID: r.headers["Lambda-Runtime-Trace-Id"], event: r.body)
    }

    /// Posts the invocation's answer.
    public func respond(_ requestID: String, _ body: [UInt8]) throws(HTTPClientError) {
        try post("invocation/\(PercentEncoding.encode(requestID))/response", body, headers: [])
    }

    /// Posts the invocation's error.
    public func fail(_ requestID: String, _ error: LambdaFunctionError) throws(HTTPClientError) {
        try post("invocation/\(PercentEncoding.encode(requestID))/error", error.body,
                 headers: [("Content-Type", "application/json"), ("Lambda-Runtime-Function-Error-Type", error.type)])
    }

    /// Reports that the runtime could not start (Lambda then ends the process).
    public func initializationFailed(_ error: LambdaFunctionError) throws(HTTPClientError) {
        try post("init/error", error.body, headers: [("Content-Type", "application/json"), ("Lambda-Runtime-Function-Error-Type", error.type)])
    }

    private func post(_ path: String, _ body: [UInt8], headers: [(String, String)]) throws(HTTPClientError) {
        let r = try client.send(HTTPRequest(method: "POST", url: url(path), headers: HTTPHeaders(headers), body: body))
        guard r.status == 202 else { throw .malformedResponse("the Runtime API answered \(path) with HTTP \(r.status): \(r.bodyText.prefix(200))") }
    }

    /// Serves invocations: each event to `handler`, its result posted as the response or the
    /// error. Returns after `limit` invocations (forever when nil), or throws when the Runtime
    /// API cannot be reached (Lambda then restarts the runtime).
    public func serve(limit: Int? = nil, _ handler: (LambdaInvocation) -> Result<[UInt8], LambdaFunctionError>) throws(HTTPClientError) {
        var served = 0
        while limit.map({ served < $0 }) ?? true {
            let invocation = try next()
            switch handler(invocation) {
            case .success(let body): try respond(invocation.requestID, body)
            case .failure(let error): try fail(invocation.requestID, error)
            }
            served += 1
        }
    }
}
