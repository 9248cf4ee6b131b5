// AWS: the call every service client makes — build the request for the service's endpoint, sign
// it with SigV4 at the current time, send it through a transport, and retry throttling and
// transient failures with capped exponential backoff and full jitter (the SDKs' standard mode).
import Glibc
import InfcCompiler
import InfcHTTPClient

/// Sends one HTTP request; `HTTPClient` is the real one.
public protocol AWSTransport: Sendable {
    func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse
}

extension HTTPClient: AWSTransport {}

/// A failed AWS call: the service's error code and message, or why no answer came.
public struct AWSError: Error, Sendable, Equatable, CustomStringConvertible {
    public var service: String
    public var operation: String
    /// The service's code (`ResourceNotFoundException`, `NoSuchKey`), or `NetworkError`.
    public var code: String
    public var message: String
    /// The HTTP status; 0 when no response arrived.
    public var status: Int
    /// DynamoDB's `Item` of a failed condition (`ReturnValuesOnConditionCheckFailure`), when the answer has one.
    public var item: JSON? = nil

    public init(service: String, operation: String, code: String, message: String, status: Int, item: JSON? = nil) {
        self.service = service
        self.operation = operation
        self.code = code
        self.message = message
        self.status = status
        self.item = item
    }

    public var description: String {
        status == 0 ? "\(service) \(operation): \(message)" : "\(service) \(operation): \(code) (HTTP \(status)): \(message)"
    }

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "EC2ThrottledException",
    ]
    static let transientCodes: Set<String> = ["RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "InternalError", "ServiceUnavailable"]

    /// Whether another attempt may succeed: throttling, a 5xx, or no response at all.
    public var isRetryable: Bool {
        Self.throttlingCodes.contains(code) || Self.transientCodes.contains(code) || status == 429 || status >= 500 || status == 0
    }
}

/// The shared machinery of the service clients.
public final class AWSClient: Sendable {
    public let environment: AWSEnvironment
    let transport: AWSTransport
    let now: @Sendable () -> Int
    let sleep: @Sendable (Double) -> Void
    let random: @Sendable () -> Double

    /// `now` gives seconds since 1970 for signatures; `sleep` and `random` (in [0, 1)) drive the
    /// backoff. The defaults are the real clock, `nanosleep` and the system generator.
    public init(environment: AWSEnvironment, transport: AWSTransport,
                now: @escaping @Sendable () -> Int = { Int(time(nil)) },
                sleep: @escaping @Sendable (Double) -> Void = { seconds in
                    var ts = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
                    var left = timespec()
                    while nanosleep(&ts, &left) != 0 && errno == EINTR { ts = left }
                },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.environment = environment
        self.transport = transport
        self.now = now
        self.sleep = sleep
        self.random = random
    }

    /// The delay before retry number `retry` (1-based): uniform in [0, min(20, 2^retry / 10)) seconds.
    func backoff(retry: Int) -> Double {
        random() * min(20, Double(1 << min(retry, 16)) / 10)
    }

    /// Signs and sends `build(endpoint)`, retrying what `AWSError.isRetryable` allows; returns
    /// the 2xx response, or throws the last error.
    func call(_ service: AWSService, _ operation: String, build: (HTTPURL, Bool) -> HTTPRequest) throws(AWSError) -> HTTPResponse {
        let (endpoint, overridden) = environment.endpoint(for: service)
        let signer = SigV4Signer(credentials: environment.credentials, region: environment.region, service: service.signingName)
        var attempt = 0
        while true {
            attempt += 1
            var request = build(endpoint, overridden)
            request.headers.set("User-Agent", "infc")
            signer.sign(&request, time: now())
            let failure: AWSError
            do {
                let response = try transport.send(request)
                if response.status >= 200 && response.status < 300 { return response }
                failure = AWSErrorParser.parse(response, service: service.endpointPrefix, operation: operation)
            } catch {
                failure = AWSError(service: service.endpointPrefix, operation: operation, code: "NetworkError", message: error.description, status: 0)
            }
            guard failure.isRetryable, attempt < environment.maxAttempts else { throw failure }
            sleep(backoff(retry: attempt))
        }
    }

    /// A JSON-protocol call (`X-Amz-Target`, `application/x-amz-json-1.0` or `1.1`): the answer's
    /// JSON object.
    func json(_ service: AWSService, target: String, version: String, _ body: JSON) throws(AWSError) -> JSON {
        let operation = String(target.split(separator: ".").last ?? Substring(target))
        let response = try call(service, operation) { endpoint, _ in
            HTTPRequest(method: "POST", url: endpoint,
                        headers: HTTPHeaders([("Content-Type", "application/x-amz-json-\(version)"), ("X-Amz-Target", target)]),
                        body: Array(body.serialized().utf8))
        }
        if response.body.isEmpty { return .object(JSONObject()) }
        do { return try JSON.parse(bytes: response.body) } catch {
            throw AWSError(service: service.endpointPrefix, operation: operation, code: "MalformedResponse", message: "the answer is not JSON: \(error)", status: response.status)
        }
    }

    /// A query-protocol call (form-encoded `Action` and `Version`): the answer's XML.
    func query(_ service: AWSService, action: String, version: String, _ parameters: [(String, String)]) throws(AWSError) -> XMLElement {
        let response = try call(service, action) { endpoint, _ in
            HTTPRequest(method: "POST", url: endpoint,
                        headers: HTTPHeaders([("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]),
                        body: Array(PercentEncoding.query([("Action", action), ("Version", version)] + parameters).utf8))
        }
        guard let xml = XMLElement.parse(response.body) else {
            throw AWSError(service: service.endpointPrefix, operation: action, code: "MalformedResponse", message: "the answer is not XML", status: response.status)
        }
        return xml
    }
}

/// Reads the error out of a non-2xx answer: JSON `__type`/`code` and `message`, or XML `Code`
/// and `Message` (S3's bare `<Error>`, the query protocol's `<ErrorResponse><Error>`).
enum AWSErrorParser {
    static func parse(_ response: HTTPResponse, service: String, operation: String) -> AWSError {
        var code = response.headers["x-amzn-ErrorType"].map { String($0.split(separator: ":").first ?? "") } ?? ""
        var message = ""
        var item: JSON?
        if let json = try? JSON.parse(bytes: response.body), case .object(let o) = json {
            item = o["Item"]
            if code.isEmpty { code = (o["__type"] ?? o["code"] ?? o["Code"])?.stringValue ?? "" }
            message = (o["message"] ?? o["Message"])?.stringValue ?? ""
        } else if let xml = XMLElement.parse(response.body) {
            let error = xml.name == "Error" ? xml : xml.first("Error") ?? xml
            if code.isEmpty { code = error.first("Code")?.text ?? "" }
            message = error.first("Message")?.text ?? ""
        }
        // `com.amazonaws.dynamodb.v20120810#ResourceNotFoundException` → the part after `#`.
        if let hash = code.lastIndex(of: "#") { code = String(code[code.index(after: hash)...]) }
        if code.isEmpty { code = response.status == 404 ? "NotFound" : "HTTP\(response.status)" }
        if message.isEmpty { message = response.reason.isEmpty ? "HTTP \(response.status)" : response.reason }
        return AWSError(service: service, operation: operation, code: code, message: message, status: response.status, item: item)
    }
}
