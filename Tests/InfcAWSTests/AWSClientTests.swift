// The AWS clients' settings and machinery without a network: credentials, region and endpoints
// from the environment and the shared files; retries with backoff and jitter over a scripted
// transport; error parsing; XML; S3 addressing.
import InfcTestSupport
import InfcCompiler
import InfcHTTPClient
import Synchronization
import Testing
@testable import InfcAWS

/// Answers each request with the next scripted response (or error) and records the requests.
final class ScriptedTransport: AWSTransport {
    let script: Mutex<[Result<HTTPResponse, HTTPClientError>]>
    let seen = Mutex<[HTTPRequest]>([])
    init(_ script: [Result<HTTPResponse, HTTPClientError>]) { self.script = Mutex(script) }
    func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        seen.withLock { $0.append(request) }
        let next = script.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        guard let next else { throw .closed }
        return try next.get()
    }
}

/// The delays a client slept.
final class Sleeps: Sendable {
    let delays = Mutex<[Double]>([])
    func record(_ s: Double) { delays.withLock { $0.append(s) } }
    var all: [Double] { delays.withLock { $0 } }
}

@Suite struct AWSClientTests {
    let keys = ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_REGION": "eu-west-1"]

    @Test func credentialsComeFromTheEnvironmentThenTheSharedFiles() throws {
        let files = [
            "/home/u/.aws/credentials": "[default]\naws_access_key_id = DEFAULTID\naws_secret_access_key=DEFAULTSECRET\n\n# comment\n[work]\naws_access_key_id = WORKID\naws_secret_access_key = WORKSECRET\naws_session_token = WORKTOKEN\n",
            "/home/u/.aws/config": "[default]\nregion = us-west-2\n[profile work]\nregion=ap-south-1\n[profile cfg]\naws_access_key_id = CFGID\naws_secret_access_key = CFGSECRET\nregion = sa-east-1\n",
            "/elsewhere/creds": "[default]\naws_access_key_id = OTHERID\naws_secret_access_key = OTHERSECRET\n",
        ]
        func resolve(_ env: [String: String]) throws(AWSConfigurationError) -> AWSEnvironment {
            try AWSEnvironment.resolve(environment: env, readFile: { files[$0] })
        }
        var e = try resolve(keys.merging(["HOME": "/home/u", "AWS_SESSION_TOKEN": "TOKEN"]) { $1 })
        #expect(e.credentials == AWSCredentials(accessKeyID: "AKID", secretAccessKey: "SECRET", sessionToken: "TOKEN"))
        #expect(e.region == "eu-west-1")
        e = try resolve(["HOME": "/home/u"])
        #expect(e.credentials == AWSCredentials(accessKeyID: "DEFAULTID", secretAccessKey: "DEFAULTSECRET"))
        #expect(e.region == "us-west-2")
        e = try resolve(["HOME": "/home/u", "AWS_PROFILE": "work"])
        #expect(e.credentials == AWSCredentials(accessKeyID: "WORKID", secretAccessKey: "WORKSECRET", sessionToken: "WORKTOKEN"))
        #expect(e.region == "ap-south-1")
        e = try resolve(["HOME": "/home/u", "AWS_PROFILE": "cfg", "AWS_REGION": "eu-north-1"])
        #expect(e.credentials.accessKeyID == "CFGID" && e.region == "eu-north-1")
        e = try resolve(["HOME": "/home/u", "AWS_SHARED_CREDENTIALS_FILE": "/elsewhere/creds", "AWS_DEFAULT_REGION": "us-east-2"])
        #expect(e.credentials.accessKeyID == "OTHERID" && e.region == "us-east-2")
        #expect(try AWSEnvironment.resolve(environment: keys, readFile: { _ in nil }, regionOverride: "me-south-1").region == "me-south-1")

        #expect(throws: AWSConfigurationError("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add profile `nobody` to /home/u/.aws/credentials")) {
            try resolve(["HOME": "/home/u", "AWS_PROFILE": "nobody", "AWS_REGION": "x"])
        }
        #expect(throws: AWSConfigurationError.self) { try resolve(["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"]) }
        #expect(throws: AWSConfigurationError.self) { try resolve(keys.merging(["AWS_REGION": "eu west"]) { $1 }) }
        #expect(throws: AWSConfigurationError.self) { try resolve(keys.merging(["AWS_MAX_ATTEMPTS": "0"]) { $1 }) }
        #expect(throws: AWSConfigurationError.self) { try resolve(keys.merging(["AWS_ENDPOINT_URL": "localhost:4566"]) { $1 }) }
    }

    @Test func endpointsAreRegionalUnlessOverridden() throws {
        var e = try AWSEnvironment.resolve(environment: keys, readFile: { _ in nil })
        #expect(e.endpoint(for: .dynamoDB).url.description == "https://dynamodb.eu-west-1.amazonaws.com/")
        #expect(e.endpoint(for: .stepFunctions).url.description == "https://states.eu-west-1.amazonaws.com/")
        #expect(e.endpoint(for: .dynamoDB).overridden == false)
        e = try AWSEnvironment.resolve(environment: keys.merging(["AWS_REGION": "cn-north-1"]) { $1 }, readFile: { _ in nil })
        #expect(e.endpoint(for: .sqs).url.description == "https://sqs.cn-north-1.amazonaws.com.cn/")
        e = try AWSEnvironment.resolve(environment: keys.merging(["AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
                                                                  "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:5000"]) { $1 }, readFile: { _ in nil })
        #expect(e.endpoint(for: .s3).url.description == "http://127.0.0.1:4566/" && e.endpoint(for: .s3).overridden)
        #expect(e.endpoint(for: .secretsManager).url.description == "http://127.0.0.1:5000/")
        e = try AWSEnvironment.resolve(environment: keys.merging(["AWS_ENDPOINT_URL": "http://127.0.0.1:4566"]) { $1 }, readFile: { _ in nil },
                                       endpointOverride: "http://localhost:9999")
        #expect(e.endpoint(for: .sns).url.description == "http://localhost:9999/")
        e = try AWSEnvironment.resolve(environment: keys.merging(["AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
                                                                  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"]) { $1 }, readFile: { _ in nil })
        #expect(e.endpoint(for: .sns).overridden == false)
    }

    @Test func s3AddressesBucketsByHostOnAWSAndByPathOnAnEmulator() {
        let aws = HTTPURL(scheme: .https, host: "s3.eu-west-1.amazonaws.com")
        #expect(S3.url(aws, overridden: false, bucket: "b", key: "a b/c").description == "https://b.s3.eu-west-1.amazonaws.com/a%20b/c")
        #expect(S3.url(aws, overridden: false, bucket: "my.bucket", key: "k").description == "https://s3.eu-west-1.amazonaws.com/my.bucket/k")
        let local = HTTPURL(string: "http://127.0.0.1:4566")!
        #expect(S3.url(local, overridden: true, bucket: "b", key: nil, query: [("list-type", "2"), ("prefix", "x/y")]).description
                == "http://127.0.0.1:4566/b?list-type=2&prefix=x%2Fy")
    }

    func client(_ transport: AWSTransport, attempts: Int = 3, slept: Sleeps) throws -> AWSClient {
        var env = try AWSEnvironment.resolve(environment: keys, readFile: { _ in nil })
        env.maxAttempts = attempts
        let rng = Mutex(SeededGenerator(seed: 7))
        return AWSClient(environment: env, transport: transport, now: { 1_700_000_000 },
                         sleep: { s in slept.record(s) },
                         random: { rng.withLock { Double.random(in: 0..<1, using: &$0) } })
    }

    static func answer(_ status: Int, _ body: String, _ headers: [(String, String)] = []) -> Result<HTTPResponse, HTTPClientError> {
        .success(HTTPResponse(status: status, headers: HTTPHeaders(headers), body: Array(body.utf8)))
    }

    @Test func throttlingIsRetriedWithJitteredBackoff() throws {
        let transport = ScriptedTransport([
            Self.answer(400, #"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}"#),
            .failure(.closed),
            Self.answer(200, #"{"Item":{"id":{"S":"1"},"n":{"N":"2.5"}}}"#),
        ])
        let slept = Sleeps()
        let item = try DynamoDB(try client(transport, attempts: 5, slept: slept)).getItem(table: "t", key: JSONObject([("id", "1")]))
        #expect(item == JSONObject([("id", "1"), ("n", 2.5)]))
        let delays = slept.all
        #expect(delays.count == 2)
        #expect(delays[0] >= 0 && delays[0] < 0.2 && delays[1] >= 0 && delays[1] < 0.4)
        #expect(Set(delays).count == 2)
        // Every attempt is signed afresh, with the same target.
        let requests = transport.seen.withLock { $0 }
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.headers.values("Authorization").count == 1 && $0.headers["X-Amz-Target"] == "DynamoDB_20120810.GetItem" })
        #expect(requests[0].url.description == "https://dynamodb.eu-west-1.amazonaws.com/")
    }

    @Test func attemptsAreBoundedAndClientErrorsAreNotRetried() throws {
        let slept = Sleeps()
        let throttled = ScriptedTransport(Array(repeating: Self.answer(503, "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"), count: 5))
        do {
            _ = try S3(try client(throttled, attempts: 3, slept: slept)).getObject(bucket: "b", key: "k")
            Issue.record("a throttled call succeeded")
        } catch let error as AWSError {
            #expect(error.code == "SlowDown" && error.status == 503 && error.message == "Reduce your request rate.")
        }
        #expect(throttled.seen.withLock { $0.count } == 3)
        #expect(slept.all.count == 2)

        let denied = ScriptedTransport([Self.answer(403, "<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>no</Message></Error></ErrorResponse>")])
        do {
            _ = try SNS(try client(denied, slept: slept)).publish(topicARN: "arn", message: "m")
            Issue.record("a denied call succeeded")
        } catch let error as AWSError {
            #expect(error.code == "AuthorizationError" && error.status == 403)
        }
        #expect(denied.seen.withLock { $0.count } == 1)
    }

    @Test func backoffGrowsAndIsCapped() throws {
        let slept = Sleeps()
        let c = try AWSClient(environment: AWSEnvironment.resolve(environment: keys, readFile: { _ in nil }), transport: ScriptedTransport([]),
                              sleep: { s in slept.record(s) }, random: { 0.999 })
        #expect(c.backoff(retry: 1) < 0.2 && c.backoff(retry: 1) > 0.19)
        #expect(c.backoff(retry: 4) > 1.59 && c.backoff(retry: 4) < 1.6)
        #expect(c.backoff(retry: 30) < 20 && c.backoff(retry: 30) > 19.9)
    }

    @Test func xmlReadsWhatAWSSends() throws {
        let text = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- a comment -->
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>
              <Contents><Key>a &amp; b &lt;c&gt; &#233;&#x1F600;</Key><Size>3</Size></Contents>
              <Contents><Key><![CDATA[x<y>&z]]></Key><Size>0</Size></Contents>
              <IsTruncated>false</IsTruncated><Empty/></ListBucketResult>
            """
        let xml = try #require(XMLElement.parse(Array(text.utf8)))
        #expect(xml.name == "ListBucketResult")
        #expect(xml.all("Contents").map { $0.first("Key")?.text } == ["a & b <c> é😀", "x<y>&z"])
        #expect(xml.first("Empty")?.text == "")
        #expect(xml.find("Size")?.text == "3")
        for bad in ["", "text", "<a>", "<a><b></a>", "<a>&bogus;</a>", "<a>&#xFFFFFFFF;</a>"] {
            #expect(XMLElement.parse(Array(bad.utf8)) == nil, "\(bad)")
        }
        #expect(XMLText.escape("a<&>\"'") == "a&lt;&amp;&gt;&quot;&apos;")
    }

    @Test func attributeValuesMapToJSONAndBack() throws {
        let value: JSON = try JSON.parse(#"{"a":[1,"x",null,true,{"b":[]}],"n":-0.5,"s":""}"#)
        let attribute = DynamoDBValue.attribute(value)
        #expect(attribute.serialized() == #"{"M":{"a":{"L":[{"N":"1"},{"S":"x"},{"NULL":true},{"BOOL":true},{"M":{"b":{"L":[]}}}]},"n":{"N":"-0.5"},"s":{"S":""}}}"#)
        #expect(DynamoDBValue.json(attribute) == value)
        #expect(DynamoDBValue.attribute(.number(.infinity)) == ["NULL": true])
        #expect(DynamoDBValue.attribute(.number(1e-5)).serialized() == #"{"N":"1e-05"}"#)
        #expect(DynamoDBValue.json(try JSON.parse(#"{"SS":["a","b"]}"#)) == ["a", "b"])
        #expect(DynamoDBValue.json(try JSON.parse(#"{"NS":["1","2.5"]}"#)) == [1, 2.5])
        #expect(DynamoDBValue.json(try JSON.parse(#"{"N":"abc"}"#)) == nil)
        #expect(DynamoDBValue.json(try JSON.parse(#"{"S":"a","N":"1"}"#)) == nil)
        #expect(DynamoDBValue.json(try JSON.parse(#"{"X":"a"}"#)) == nil)
    }

    /// Bytes keep their data and media type through DynamoDB: binary `B` in a tagged map.
    @Test func bytesRoundTripAsBinaryAttributes() {
        let jpeg = JSON.bytes(Bytes([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x80], contentType: "image/jpeg"))
        let attribute = DynamoDBValue.attribute(["photo": jpeg])
        #expect(attribute.serialized() == #"{"M":{"photo":{"M":{"$bytes":{"B":"/9j/4ACA"},"contentType":{"S":"image/jpeg"}}}}}"#)
        #expect(DynamoDBValue.json(attribute) == ["photo": jpeg])
    }
}
