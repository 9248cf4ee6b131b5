// AWS: the one-call clients — SNS Publish (query protocol), SQS SendMessage (JSON 1.0), Step
// Functions StartExecution (JSON 1.0) and Secrets Manager GetSecretValue (JSON 1.1, cached), with
// PutSecretValue and CreateSecret for a deployment's secret values.
import InfcCompiler
import Synchronization

public struct SNS: Sendable {
    let client: AWSClient
    public init(_ client: AWSClient) { self.client = client }

    /// Publishes `message` to the topic; the message id.
    public func publish(topicARN: String, message: String, subject: String? = nil) throws(AWSError) -> String {
        var parameters = [("TopicArn", topicARN), ("Message", message)]
        if let subject { parameters.append(("Subject", subject)) }
        let xml = try client.query(.sns, action: "Publish", version: "2010-03-31", parameters)
        guard let id = xml.find("MessageId")?.text, !id.isEmpty else {
            throw AWSError(service: "sns", operation: "Publish", code: "MalformedResponse", message: "the answer has no MessageId", status: 200)
        }
        return id
    }
}

public struct SQS: Sendable {
    let client: AWSClient
    public init(_ client: AWSClient) { self.client = client }

    /// Sends `body` to the queue at `queueURL` (with string message attributes); the message id.
    public func sendMessage(queueURL: String, body: String, delaySeconds: Int? = nil, attributes: [(String, String)] = []) throws(AWSError) -> String {
        var request = JSONObject([("QueueUrl", .string(queueURL)), ("MessageBody", .string(body))])
        if let delaySeconds { request["DelaySeconds"] = .int(delaySeconds) }
        if !attributes.isEmpty {
            request["MessageAttributes"] = .object(JSONObject(attributes.map { ($0.0, JSON.object(JSONObject([("DataType", "String"), ("StringValue", .string($0.1))]))) }))
        }
        let answer = try client.json(.sqs, target: "AmazonSQS.SendMessage", version: "1.0", .object(request))
        guard let id = answer["MessageId"]?.stringValue else {
            throw AWSError(service: "sqs", operation: "SendMessage", code: "MalformedResponse", message: "the answer has no MessageId", status: 200)
        }
        return id
    }
}

public struct StepFunctions: Sendable {
    let client: AWSClient
    public init(_ client: AWSClient) { self.client = client }

    /// Starts an execution of the state machine with `input` (JSON text); its ARN.
    public func startExecution(stateMachineARN: String, input: String, name: String? = nil) throws(AWSError) -> String {
        var request = JSONObject([("stateMachineArn", .string(stateMachineARN)), ("input", .string(input))])
        if let name { request["name"] = .string(name) }
        let answer = try client.json(.stepFunctions, target: "AWSStepFunctions.StartExecution", version: "1.0", .object(request))
        guard let arn = answer["executionArn"]?.stringValue else {
            throw AWSError(service: "states", operation: "StartExecution", code: "MalformedResponse", message: "the answer has no executionArn", status: 200)
        }
        return arn
    }
}

/// Secrets Manager's GetSecretValue, each secret fetched once per client (a Lambda container
/// keeps its client, so once per container).
public final class SecretsManager: Sendable {
    let client: AWSClient
    private let cache = Mutex<[String: String]>([:])
    public init(_ client: AWSClient) { self.client = client }

    /// The secret's string value.
    public func secretString(_ secretID: String) throws(AWSError) -> String {
        if let cached = cache.withLock({ $0[secretID] }) { return cached }
        let answer = try client.json(.secretsManager, target: "secretsmanager.GetSecretValue", version: "1.1",
                                     .object(JSONObject([("SecretId", .string(secretID))])))
        guard let value = answer["SecretString"]?.stringValue else {
            throw AWSError(service: "secretsmanager", operation: "GetSecretValue", code: "NoSecretString",
                           message: "secret \(secretID) has no string value", status: 200)
        }
        cache.withLock { $0[secretID] = value }
        return value
    }

    /// Sets the secret's value (a new version); `ResourceNotFoundException` when there is no such secret.
    public func putSecretValue(_ secretID: String, value: String) throws(AWSError) {
        _ = try client.json(.secretsManager, target: "secretsmanager.PutSecretValue", version: "1.1",
                            .object(JSONObject([("SecretId", .string(secretID)), ("SecretString", .string(value)),
                                                ("ClientRequestToken", .string(Self.requestToken()))])))
        cache.withLock { $0[secretID] = nil }
    }

    /// Creates the secret `name` with its first value.
    public func createSecret(_ name: String, value: String, description: String) throws(AWSError) {
        _ = try client.json(.secretsManager, target: "secretsmanager.CreateSecret", version: "1.1",
                            .object(JSONObject([("Name", .string(name)), ("Description", .string(description)),
                                                ("SecretString", .string(value)), ("ClientRequestToken", .string(Self.requestToken()))])))
    }

    /// The idempotency token a raw request must send (the SDKs fill it in): a random UUID.
    static func requestToken() -> String {
        var g = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        let h = Array(hex)
        return [h[0..<8], h[8..<12], h[12..<16], h[16..<20], h[20..<32]].map { String($0) }.joined(separator: "-")
    }
}
