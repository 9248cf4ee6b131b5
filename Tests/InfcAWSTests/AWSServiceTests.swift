// The service clients against the AWS emulator (moto 5.2.6 in server mode on 127.0.0.1, MOTO_PORT
// set to its port), each result checked through boto3 (scripts/aws_fixture.py): DynamoDB, S3, SNS,
// SQS, Step Functions and Secrets Manager, errors and endpoint overrides.
import InfcTestSupport
import Foundation
import InfcCompiler
import InfcHTTPClient
import Synchronization
import Testing
@testable import InfcAWS

/// Counts the requests that pass through to the real client.
final class CountingTransport: AWSTransport {
    let inner: HTTPClient
    let count = Atomic<Int>(0)
    init(_ inner: HTTPClient) { self.inner = inner }
    func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        count.add(1, ordering: .relaxed)
        return try inner.send(request)
    }
}

@Suite(.serialized) struct AWSServiceTests {
    static let fixture = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/aws_fixture.py").path

    /// moto on a free loopback port (InfcTestSupport's one launcher).
    static func startMoto() throws -> ChildServer { try ChildServer.moto() }

    static func fixture(_ port: Int, _ arguments: String...) throws -> JSON {
        let r = try TestEnvironment.run(TestEnvironment.python3 ?? "python3", [fixture, String(port)] + arguments, timeout: 120)
        guard r.status == 0 else { throw TestFailure("aws_fixture.py \(arguments): \(r.stderr)") }
        return r.stdout.isEmpty ? .null : try JSON.parse(bytes: r.stdout)
    }

    static func client(port: Int, transport: AWSTransport? = nil, extra: [String: String] = [:]) throws -> AWSClient {
        let environment = try AWSEnvironment.resolve(
            environment: ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "session",
                          "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:\(port)"].merging(extra) { $1 },
            readFile: { _ in nil })
        return AWSClient(environment: environment, transport: transport ?? HTTPClient())
    }

    @Test(.enabled(if: TestEnvironment.hasMoto, "python3 with moto[server] is not installed (scripts/install-test-deps.sh)"))
    func everyClientAgainstTheEmulator() throws {
        let moto = try Self.startMoto()
        defer { moto.stop() }
        let names = try Self.fixture(moto.port, "setup")
        _ = try Self.fixture(moto.port, "seed", "23")
        let counting = CountingTransport(HTTPClient())
        let aws = try Self.client(port: moto.port, transport: counting)

        // DynamoDB: every JSON shape round-trips through attribute values.
        let ddb = DynamoDB(aws)
        let order: JSONObject = try #require(JSON.parse(#"""
            {"id":"o-1","total":42.5,"count":3,"negative":-7,"big":12345678901,"tiny":0.00001,"huge":1e21,"paid":true,"refunded":false,"note":null,
             "name":"Zoë 🍕","empty":"","items":[{"sku":"a","qty":1},[1,"two",null],[]],"address":{"city":"Oslo","zip":{"code":"0150"}},"none":{}}
            """#).objectValue)
        try ddb.putItem(table: "orders", item: order)
        try ddb.putItem(table: "orders", item: JSONObject([("id", "o-2"), ("total", 1)]))
        #expect(try ddb.getItem(table: "orders", key: JSONObject([("id", "o-1")])) == order)
        #expect(try ddb.getItem(table: "orders", key: JSONObject([("id", "o-1")]), consistentRead: true) == order)
        #expect(try ddb.getItem(table: "orders", key: JSONObject([("id", "missing")])) == nil)
        try ddb.deleteItem(table: "orders", key: JSONObject([("id", "o-2")]))
        #expect(try ddb.getItem(table: "orders", key: JSONObject([("id", "o-2")])) == nil)
        let firstPage = try ddb.scanPage(table: "orders", limit: 7)
        #expect(firstPage.items.count == 7 && firstPage.next != nil)
        let scanned = try ddb.scan(table: "orders", pageSize: 7)
        #expect(scanned.count == 24)
        #expect(Set(scanned.compactMap { $0["id"]?.stringValue }).count == 24)
        #expect(scanned.contains(order))
        do {
            _ = try ddb.getItem(table: "no-such-table", key: JSONObject([("id", "x")]))
            Issue.record("a missing table answered")
        } catch {
            #expect(error.code == "ResourceNotFoundException" && error.status == 400, "\(error)")
        }

        // S3: bytes exactly, keys with reserved and unicode characters, pages of a listing.
        let s3 = S3(aws)
        let binary = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let awkwardKey = "receipts/2024 été/a+b&c=d?e#f%g~h.bin"
        try s3.putObject(bucket: "receipts", key: awkwardKey, body: binary)
        try s3.putObject(bucket: "receipts", key: "empty", body: [])
        try s3.putObject(bucket: "receipts", key: "gone", body: Array("bye".utf8), contentType: "text/plain")
        #expect(try s3.getObject(bucket: "receipts", key: awkwardKey) == binary)
        #expect(try s3.getObject(bucket: "receipts", key: "empty") == [])
        try s3.deleteObject(bucket: "receipts", key: "gone")
        #expect(try s3.getObject(bucket: "receipts", key: "gone") == nil)
        let page = try s3.listObjectsPage(bucket: "receipts", prefix: "seed/", maxKeys: 4)
        #expect(page.objects.map(\.key) == ["seed/0000", "seed/0001", "seed/0002", "seed/0003"] && page.next != nil)
        let seeded = try s3.listObjects(bucket: "receipts", prefix: "seed/", pageSize: 4)
        #expect(seeded.map(\.key) == (0..<23).map { "seed/" + String(format: "%04d", $0) })
        let everything = try s3.listObjects(bucket: "receipts", pageSize: 5)
        #expect(everything.count == 25 && everything.contains { $0.key == awkwardKey && $0.size == binary.count })

        // SNS, SQS, Step Functions.
        let topicARN = try #require(names["topicArn"]?.stringValue)
        #expect(!(try SNS(aws).publish(topicARN: topicARN, message: "order o-1 placed & paid ✓", subject: "placed")).isEmpty)
        let queueURL = try #require(names["queueUrl"]?.stringValue)
        #expect(!(try SQS(aws).sendMessage(queueURL: queueURL, body: #"{"to":"zoë@example.com"}"#)).isEmpty)
        #expect(!(try SQS(aws).sendMessage(queueURL: queueURL, body: "later", delaySeconds: 0)).isEmpty)
        let machine = try #require(names["stateMachineArn"]?.stringValue)
        let execution = try StepFunctions(aws).startExecution(stateMachineARN: machine, input: #"{"order":"o-1"}"#, name: "o-1")
        #expect(execution.contains("o-1"))
        do {
            _ = try SQS(aws).sendMessage(queueURL: queueURL + "-missing", body: "x")
            Issue.record("a missing queue took a message")
        } catch {
            #expect(error.status == 400, "\(error)")
        }

        // Secrets Manager: fetched once, then from the cache.
        let secrets = SecretsManager(aws)
        let before = counting.count.load(ordering: .relaxed)
        #expect(try secrets.secretString("stripe-key") == "sk_test_ünïcode")
        #expect(try secrets.secretString("stripe-key") == "sk_test_ünïcode")
        #expect(counting.count.load(ordering: .relaxed) == before + 1)
        #expect(throws: AWSError.self) { try secrets.secretString("no-such-secret") }

        // What boto3 reads back.
        let dump = try Self.fixture(moto.port, "dump")
        let items = dump["items"]?.arrayValue ?? []
        #expect(items.count == 24)
        #expect(items.contains(.object(order)))
        #expect(dump["objects"]?[awkwardKey]?.stringValue == Data(binary).base64EncodedString())
        #expect(dump["objects"]?["empty"] == "")
        #expect(dump["objects"]?["gone"] == nil)
        #expect(dump["queue"] == ["later", #"{"to":"zoë@example.com"}"#])   // sorted
        #expect(dump["topicQueue"] == ["order o-1 placed & paid ✓"])
        #expect(dump["executionInputs"] == [#"{"order":"o-1"}"#])
    }

    @Test(.enabled(if: TestEnvironment.hasMoto, "python3 with moto[server] is not installed (scripts/install-test-deps.sh)"))
    func aServiceEndpointOverridesTheGlobalOne() throws {
        let moto = try Self.startMoto()
        defer { moto.stop() }
        _ = try Self.fixture(moto.port, "setup")
        let dead = freeLoopbackPort()
        let aws = try Self.client(port: dead, extra: ["AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:\(moto.port)", "AWS_MAX_ATTEMPTS": "1"])
        try DynamoDB(aws).putItem(table: "orders", item: JSONObject([("id", "via-override")]))
        #expect(try DynamoDB(aws).getItem(table: "orders", key: JSONObject([("id", "via-override")]))?["id"] == "via-override")
        do {
            _ = try S3(aws).getObject(bucket: "receipts", key: "x")
            Issue.record("S3 should have gone to the global endpoint, where nothing listens")
        } catch {
            #expect(error.code == "NetworkError" && error.status == 0, "\(error)")
        }
    }
}
