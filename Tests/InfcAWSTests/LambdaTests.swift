// Lambda: the Runtime API client against a Runtime API served by the tests
// (scripts/lambda_runtime_api.py), with events of every shape the functions receive, and the
// event adapters against the local runtime's request and response objects.
import InfcTestSupport
import Foundation
import InfcCompiler
import InfcHTTPClient
import InfcRuntime
import Testing
@testable import InfcLambda

@Suite(.serialized) struct LambdaTests {
    static let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/lambda_runtime_api.py").path

    static let apiEvent: JSON = try! JSON.parse(#"""
        {"version":"2.0","routeKey":"POST /orders/{id}","rawPath":"/orders/o%201","rawQueryString":"expand=items&tag=a&tag=b%2Bc",
         "cookies":["session=abc","theme=dark"],
         "headers":{"content-type":"application/json","x-forwarded-for":"203.0.113.9","accept":"*/*"},
         "queryStringParameters":{"expand":"items","tag":"a,b+c"},
         "requestContext":{"http":{"method":"POST","path":"/orders/o 1","protocol":"HTTP/1.1","sourceIp":"203.0.113.9"},"requestId":"r1","stage":"$default"},
         "pathParameters":{"id":"o 1"},"body":"eyJxdHkiOjJ9","isBase64Encoded":true}
        """#)

    @Test func httpAPIEventsBecomeTheLocalRequestObject() throws {
        guard case .handle(let request) = try LambdaEvent.httpRequest(Self.apiEvent) else { Issue.record("not handled"); return }
        // The same request through the local runtime's own builder.
        let local = InfcRuntime.HTTPRequest(method: "POST", rawTarget: "/orders/o%201?expand=items&tag=a&tag=b%2Bc",
                                            headers: [("content-type", "application/json"), ("x-forwarded-for", "203.0.113.9"),
                                                      ("accept", "*/*"), ("cookie", "session=abc; theme=dark")],
                                            body: Array(#"{"qty":2}"#.utf8))
        #expect(request == Runtime.requestObject(local, params: ["id": "o 1"], body: ["qty": 2]))
        #expect(request["path"] == "/orders/o 1" && request["query"]?["tag"] == "b+c" && request["body"]?["qty"] == 2)
        #expect(request["headers"]?["cookie"] == "session=abc; theme=dark")

        var bad = Self.apiEvent.objectValue ?? JSONObject()
        bad["body"] = "{not json"
        bad["isBase64Encoded"] = false
        guard case .answer(let answer) = try LambdaEvent.httpRequest(.object(bad)) else { Issue.record("a bad JSON body was handled"); return }
        #expect(answer.status == 400)
        bad["body"] = "%%%"
        bad["isBase64Encoded"] = true
        #expect(throws: LambdaEventError.self) { try LambdaEvent.httpRequest(.object(bad)) }
        #expect(throws: LambdaEventError.self) { try LambdaEvent.httpRequest(["version": "1.0"]) }
    }

    @Test func handlerValuesBecomeHTTPAPIAnswers() throws {
        #expect(LambdaEvent.httpResponse(for: ["ok": true]).serialized()
                == #"{"statusCode":200,"headers":{"content-type":"application/json"},"body":"{\"ok\":true}","isBase64Encoded":false}"#)
        let created: JSON = ["status": 201, "headers": ["Location": "/orders/1", "Set-Cookie": "a=1"], "body": "made"]
        #expect(LambdaEvent.httpResponse(for: created).serialized()
                == #"{"statusCode":201,"headers":{"location":"/orders/1","content-type":"text/plain; charset=utf-8"},"cookies":["a=1"],"body":"made","isBase64Encoded":false}"#)
        let binary = InfcRuntime.HTTPResponse(status: 200, headers: [("Content-Type", "image/png")], body: [0x89, 0x50, 0xFF, 0x00])
        #expect(LambdaEvent.httpResponse(binary)["body"] == "iVD/AA==" && LambdaEvent.httpResponse(binary)["isBase64Encoded"] == true)
    }

    @Test func base64RoundTrips() {
        var rng = SeededGenerator(seed: 3)
        for n in 0..<64 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = Base64.encode(bytes)
            #expect(text == Data(bytes).base64EncodedString())
            #expect(Base64.decode(text) == bytes)
        }
        for bad in ["a", "ab=c", "a===", "ab\ncd", "ab!d"] { #expect(Base64.decode(bad) == nil, "\(bad)") }
    }

    @Test func queueTopicScheduleAndTaskEvents() throws {
        let sqs = try JSON.parse(#"{"Records":[{"messageId":"m1","eventSource":"aws:sqs","body":"{\"args\":[1]}"},{"messageId":"m2","eventSource":"aws:sqs","body":"plain"}]}"#)
        #expect(try LambdaEvent.sqsMessages(sqs) == [.init(messageID: "m1", body: ["args": [1]], text: #"{"args":[1]}"#), .init(messageID: "m2", body: "plain", text: "plain")])
        #expect(LambdaEvent.sqsBatchResponse(failed: ["m2"]).serialized() == #"{"batchItemFailures":[{"itemIdentifier":"m2"}]}"#)
        #expect(throws: LambdaEventError.self) { try LambdaEvent.sqsMessages(["Records": [["eventSource": "aws:sns"]]]) }
        let sns = try JSON.parse(#"{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"{\"order\":\"o-1\"}","TopicArn":"arn"}}]}"#)
        #expect(try LambdaEvent.snsMessages(sns) == [["order": "o-1"]])
        #expect(LambdaEvent.isScheduleEvent(try JSON.parse(#"{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}"#)))
        #expect(!LambdaEvent.isScheduleEvent(sqs))
        #expect(LambdaEvent.taskArguments(["args": [1, "x"]]) == [1, "x"])
        #expect(LambdaEvent.taskArguments(["order": "o-1"]) == [["order": "o-1"]])
    }

    @Test(.enabled(if: TestEnvironment.python3 != nil, "python3 is not installed"))
    func theRuntimeAPIClientServesEveryEventShape() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let events: [JSON] = [
            Self.apiEvent,
            try JSON.parse(#"{"Records":[{"messageId":"m1","eventSource":"aws:sqs","body":"{\"n\":1}"},{"messageId":"m2","eventSource":"aws:sqs","body":"{\"n\":-1}"},{"messageId":"m3","eventSource":"aws:sqs","body":"{\"n\":3}"}]}"#),
            try JSON.parse(#"{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"hello"}}]}"#),
            try JSON.parse(#"{"version":"0","source":"aws.events","detail-type":"Scheduled Event","time":"2026-12-05T00:00:00Z","detail":{}}"#),
            ["args": ["o-1", 2]],
            ["unknown": true],
        ]
        try JSON.array(events).serialized().write(toFile: dir.path("events.json"), atomically: true, encoding: .utf8)
        let server = try ChildServer(pythonArguments: [Self.script, dir.path("events.json")])
        defer { server.stop() }
        let api = try #require(LambdaRuntimeAPI(address: "127.0.0.1:\(server.port)"))
        #expect(LambdaRuntimeAPI(address: "") == nil && LambdaRuntimeAPI(address: "a/b") == nil)

        var seen: [LambdaInvocation] = []
        try api.serve(limit: events.count) { invocation in
            seen.append(invocation)
            do throws(LambdaEventError) {
                let event = try LambdaEvent.parse(invocation.event)
                if event["version"] == "2.0" {
                    guard case .handle(let request) = try LambdaEvent.httpRequest(event) else { return .failure(.init(type: "Unexpected", message: "answer")) }
                    return .success(Array(LambdaEvent.httpResponse(for: ["echo": request]).serialized().utf8))
                }
                if event["Records"]?.arrayValue?.first?["eventSource"] == "aws:sqs" {
                    let failed = try LambdaEvent.sqsMessages(event).filter { ($0.body["n"]?.doubleValue ?? 0) < 0 }.map(\.messageID)
                    return .success(Array(LambdaEvent.sqsBatchResponse(failed: failed).serialized().utf8))
                }
                if event["Records"] != nil { return .success(Array(JSON.array(try LambdaEvent.snsMessages(event)).serialized().utf8)) }
                if LambdaEvent.isScheduleEvent(event) { return .success(Array("null".utf8)) }
                if event["args"] != nil { return .success(Array(JSON.array(LambdaEvent.taskArguments(event)).serialized().utf8)) }
                return .failure(LambdaFunctionError(type: "infc.UnknownEvent", message: "no handler takes this event"))
            } catch {
                return .failure(LambdaFunctionError(type: "infc.BadEvent", message: error.description))
            }
        }
        try api.initializationFailed(LambdaFunctionError(type: "infc.ManifestError", message: "manifest.json is missing"))
        #expect(seen.map(\.requestID) == (0..<events.count).map { "req-\($0)" })
        #expect(seen.first?.functionARN == "arn:aws:lambda:us-east-1:123456789012:function:shop-api")
        #expect(seen.first?.deadlineMs == 1_893_456_000_000 && seen.first?.traceID?.hasPrefix("Root=1-") == true)

        let r = try TestEnvironment.run("/usr/bin/env", ["python3", "-c", "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:\(server.port)/_results').read().decode())"], timeout: 30)
        let results = try JSON.parse(bytes: r.stdout).arrayValue ?? []
        try #require(results.count == events.count + 1)
        let api0 = try JSON.parse(results[0]["body"]?.stringValue ?? "")
        #expect(results[0]["kind"] == "response" && results[0]["request"] == "req-0")
        #expect(try JSON.parse(api0["body"]?.stringValue ?? "")["echo"]?["params"]?["id"] == "o 1")
        #expect(results[1]["body"] == #"{"batchItemFailures":[{"itemIdentifier":"m2"}]}"#)
        #expect(results[2]["body"] == #"["hello"]"#)
        #expect(results[3]["body"] == "null")
        #expect(results[4]["body"] == #"["o-1",2]"#)
        #expect(results[5]["kind"] == "error" && results[5]["errorType"] == "infc.UnknownEvent")
        #expect(try JSON.parse(results[5]["body"]?.stringValue ?? "") == ["errorMessage": "no handler takes this event", "errorType": "infc.UnknownEvent", "stackTrace": []])
        #expect(results[6]["kind"] == "init-error" && results[6]["errorType"] == "infc.ManifestError")

        // No more events: `next` fails clearly instead of hanging.
        #expect(throws: HTTPClientError.self) { try api.next() }
    }
}
