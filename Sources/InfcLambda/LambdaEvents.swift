// Lambda: the events AWS delivers, adapted to what the handlers see locally, and their answers
// back — API Gateway HTTP API payload 2.0 (the local runtime's request object and response
// objects, base64 bodies, cookies), SQS batches (`batchItemFailures`), SNS records, EventBridge
// schedule events and Step Functions task input and output.
import InfcCompiler
import InfcRuntime

public enum LambdaEventError: Error, Sendable, Equatable, CustomStringConvertible {
    case notJSON(String)
    case shape(String)
    public var description: String {
        switch self {
        case .notJSON(let s): return "the event is not JSON: \(s)"
        case .shape(let s): return "the event is not \(s)"
        }
    }
}

/// What an HTTP API event asks for: run the handler with this request object, or answer at once.
public enum HTTPEventRequest: Sendable {
    case handle(JSON)
    case answer(InfcRuntime.HTTPResponse)
}

public enum LambdaEvent {
    public static func parse(_ bytes: [UInt8]) throws(LambdaEventError) -> JSON {
        do { return try JSON.parse(bytes: bytes) } catch { throw .notJSON(error.description) }
    }

    // MARK: API Gateway HTTP API, payload format 2.0

    /// The HTTP request an HTTP API event carries, as the local server would have parsed it
    /// (cookies as a `cookie` header; a base64 body decoded first).
    public static func httpMessage(_ event: JSON) throws(LambdaEventError) -> InfcRuntime.HTTPRequest {
        guard case .object(let e) = event, e["version"]?.stringValue == "2.0",
              let method = e["requestContext"]?["http"]?["method"]?.stringValue,
              let rawPath = e["rawPath"]?.stringValue else {
            throw .shape("an API Gateway HTTP API event (payload format 2.0)")
        }
        let rawQuery = e["rawQueryString"]?.stringValue ?? ""
        var headers: [(name: String, value: String)] = []
        for (name, value) in e["headers"]?.objectValue ?? JSONObject() {
            if let v = value.stringValue { headers.append((name, v)) }
        }
        let cookies = (e["cookies"]?.arrayValue ?? []).compactMap(\.stringValue)
        if !cookies.isEmpty { headers.append(("cookie", cookies.joined(separator: "; "))) }
        var body: [UInt8] = []
        if let text = e["body"]?.stringValue {
            if e["isBase64Encoded"]?.boolValue == true {
                guard let bytes = Base64.decode(text) else { throw .shape("an event with a valid base64 body") }
                body = bytes
            } else {
                body = Array(text.utf8)
            }
        }
        return InfcRuntime.HTTPRequest(method: method, rawTarget: rawQuery.isEmpty ? rawPath : "\(rawPath)?\(rawQuery)",
                                       headers: headers, body: body)
    }

    /// The handler's argument for an HTTP API event: `{method, path, params, query, headers,
    /// body}` exactly as `infc run` builds it from the same request. `params` are the route's
    /// (the event's `pathParameters` when nil). A body declared JSON that does not parse is the
    /// same 400 answer as locally (`.answer`).
    public static func httpRequest(_ event: JSON, params: [String: String]? = nil) throws(LambdaEventError) -> HTTPEventRequest {
        let request = try httpMessage(event)
        var fromEvent: [String: String] = [:]
        for (name, value) in event["pathParameters"]?.objectValue ?? JSONObject() { fromEvent[name] = value.stringValue }
        switch Runtime.parseBody(request) {
        case .success(let parsed): return .handle(Runtime.requestObject(request, params: params ?? fromEvent, body: parsed))
        case .failure(let error): return .answer(.error(status: 400, message: error.message))
        }
    }

    /// The HTTP API answer for a handler's value: a response object as locally, else the value
    /// as JSON with 200. Bodies that are not UTF-8 go base64; `Set-Cookie` headers become
    /// `cookies`.
    public static func httpResponse(for value: JSON) -> JSON {
        httpResponse(HostSupport.routeResponse(for: value))
    }

    public static func httpResponse(_ response: InfcRuntime.HTTPResponse) -> JSON {
        var headers = JSONObject()
        var cookies: [JSON] = []
        for (name, value) in response.headers {
            let lower = name.lowercased()
            if lower == "set-cookie" { cookies.append(.string(value)); continue }
            headers[lower] = .string(headers[lower]?.stringValue.map { "\($0),\(value)" } ?? value)
        }
        var out = JSONObject([("statusCode", .int(response.status)), ("headers", .object(headers))])
        if !cookies.isEmpty { out["cookies"] = .array(cookies) }
        if let text = String(validating: response.body, as: UTF8.self) {
            out["body"] = .string(text)
            out["isBase64Encoded"] = .bool(false)
        } else {
            out["body"] = .string(Base64.encode(response.body))
            out["isBase64Encoded"] = .bool(true)
        }
        return .object(out)
    }

    // MARK: SQS, SNS, EventBridge, Step Functions

    public struct QueueMessage: Sendable, Equatable {
        public var messageID: String
        /// The message body: JSON when it parses (how `infc run` hands an async call's
        /// arguments to its handler), else the text.
        public var body: JSON
        /// The queue's ARN (`eventSourceARN`).
        public var sourceARN: String = ""
        /// The body as it arrived (what goes to the dead-letter queue unchanged).
        public var text: String = ""
    }

    /// The messages of an SQS batch.
    public static func sqsMessages(_ event: JSON) throws(LambdaEventError) -> [QueueMessage] {
        guard let records = event["Records"]?.arrayValue else { throw .shape("an SQS event") }
        var out: [QueueMessage] = []
        for r in records {
            guard r["eventSource"]?.stringValue == "aws:sqs", let id = r["messageId"]?.stringValue, let body = r["body"]?.stringValue else {
                throw .shape("an SQS event (a record lacks eventSource aws:sqs, messageId or body)")
            }
            out.append(QueueMessage(messageID: id, body: (try? JSON.parse(body)) ?? .string(body),
                                    sourceARN: r["eventSourceARN"]?.stringValue ?? "", text: body))
        }
        return out
    }

    /// The batch answer: the failed messages are redelivered, the others deleted.
    public static func sqsBatchResponse(failed messageIDs: [String]) -> JSON {
        .object(JSONObject([("batchItemFailures", .array(messageIDs.map { .object(JSONObject([("itemIdentifier", .string($0))])) }))]))
    }

    /// The messages of SNS records (JSON when they parse, else the text).
    public static func snsMessages(_ event: JSON) throws(LambdaEventError) -> [JSON] {
        try snsRecords(event).map(\.message)
    }

    /// The topic ARN and message of each SNS record.
    public static func snsRecords(_ event: JSON) throws(LambdaEventError) -> [(topicARN: String, message: JSON)] {
        guard let records = event["Records"]?.arrayValue else { throw .shape("an SNS event") }
        var out: [(topicARN: String, message: JSON)] = []
        for r in records {
            guard r["EventSource"]?.stringValue == "aws:sns", let message = r["Sns"]?["Message"]?.stringValue else {
                throw .shape("an SNS event (a record lacks EventSource aws:sns or Sns.Message)")
            }
            out.append((r["Sns"]?["TopicArn"]?.stringValue ?? "", (try? JSON.parse(message)) ?? .string(message)))
        }
        return out
    }

    /// What kind of event a function was invoked with.
    public enum Kind: Sendable, Equatable { case http, sqs, sns, schedule, task }

    public static func kind(of event: JSON) -> Kind {
        if event["version"]?.stringValue == "2.0", event["requestContext"]?["http"] != nil { return .http }
        if let first = event["Records"]?.arrayValue?.first {
            if first["eventSource"]?.stringValue == "aws:sqs" { return .sqs }
            if first["EventSource"]?.stringValue == "aws:sns" { return .sns }
        }
        if isScheduleEvent(event) { return .schedule }
        return .task
    }

    /// Whether the event is an EventBridge schedule's firing (rules) or EventBridge Scheduler's
    /// (which sends the target's input; infc's schedules send `{"infc":"schedule"}`).
    public static func isScheduleEvent(_ event: JSON) -> Bool {
        if event["source"]?.stringValue == "aws.events" && event["detail-type"]?.stringValue == "Scheduled Event" { return true }
        if event["source"]?.stringValue == "aws.scheduler" { return true }
        return event["infc"]?.stringValue == "schedule"
    }

    /// A Step Functions task's arguments: the task state's input array (`Payload` of
    /// `{"args": [...]}`, optionally with the `fn` to run and the `trace`), or the whole input
    /// as one argument.
    public static func taskArguments(_ event: JSON) -> [JSON] {
        if let args = event["args"]?.arrayValue, let o = event.objectValue,
           o.keys.allSatisfy({ $0 == "args" || $0 == "fn" || $0 == "trace" }) { return args }
        return [event]
    }
}
