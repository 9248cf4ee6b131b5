// SigV4: HMAC-SHA256 against RFC 4231, and the signer against botocore's SigV4Auth and
// S3SigV4Auth at a fixed clock over a generated corpus of request shapes (scripts/sigv4_reference.py).
import InfcTestSupport
import Foundation
import InfcCompiler
import InfcHTTPClient
import Testing
@testable import InfcAWS

@Suite struct SigV4Tests {
    @Test func hmacMatchesRFC4231() {
        // Test cases 1, 2 and 6 (a key longer than the block).
        #expect(Hex.string(HMACSHA256.authenticate(key: [UInt8](repeating: 0x0b, count: 20), message: "Hi There"))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(Hex.string(HMACSHA256.authenticate(key: Array("Jefe".utf8), message: "what do ya want for nothing?"))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(Hex.string(HMACSHA256.authenticate(key: [UInt8](repeating: 0xaa, count: 131),
                                                   message: "Test Using Larger Than Block-Size Key - Hash Key First"))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test func timestampsAreUTCCalendarTimes() {
        #expect(SigV4Signer.timestamp(0) == "19700101T000000Z")
        #expect(SigV4Signer.timestamp(951_782_400) == "20000229T000000Z")
        #expect(SigV4Signer.timestamp(1_440_938_160) == "20150830T123600Z")
        #expect(SigV4Signer.timestamp(4_102_444_799) == "20991231T235959Z")
    }

    @Test func dotSegmentsAndQueriesAreCanonicalised() {
        #expect(SigV4Signer.removeDotSegments("/a/./b/../c//d/") == "/a/c/d/")
        #expect(SigV4Signer.removeDotSegments("/../..") == "/")
        #expect(SigV4Signer.removeDotSegments("") == "/")
        #expect(SigV4Signer.canonicalQuery("b=2&a=3&a=1&c") == "a=1&a=3&b=2&c=")
        #expect(SigV4Signer.trimAll("  a \t b\u{A0}c  ") == "a b c")
    }

    /// One request shape, in the form scripts/sigv4_reference.py reads.
    struct Shape {
        var method: String, scheme: String, host: String, port: Int?
        var path: String, query: [(String, String)], headers: [(String, String)], body: [UInt8]
        var service: String, region: String, s3: Bool
        var accessKey: String, secretKey: String, token: String?
        var time: Int

        var json: JSON {
            var o = JSONObject()
            o["method"] = .string(method); o["scheme"] = .string(scheme); o["host"] = .string(host)
            if let port { o["port"] = .int(port) }
            o["path"] = .string(path)
            o["query"] = .array(query.map { .array([.string($0.0), .string($0.1)]) })
            o["headers"] = .array(headers.map { .array([.string($0.0), .string($0.1)]) })
            o["body"] = .string(Data(body).base64EncodedString())
            o["service"] = .string(service); o["region"] = .string(region); o["s3"] = .bool(s3)
            o["accessKey"] = .string(accessKey); o["secretKey"] = .string(secretKey)
            if let token { o["token"] = .string(token) }
            o["time"] = .int(time)
            return .object(o)
        }

        func signed() -> HTTPRequest {
            let url = HTTPURL(scheme: scheme == "https" ? .https : .http, host: host, port: port,
                              path: PercentEncoding.encode(path, safe: "/~"), query: PercentEncoding.query(query))
            var request = HTTPRequest(method: method, url: url, headers: HTTPHeaders(headers), body: body)
            let signer = SigV4Signer(credentials: AWSCredentials(accessKeyID: accessKey, secretAccessKey: secretKey, sessionToken: token),
                                     region: region, service: service, s3Rules: s3)
            signer.sign(&request, time: time)
            return request
        }
    }

    /// Hand-picked shapes first, then seeded random ones.
    static func corpus() -> [Shape] {
        let base = Shape(method: "POST", scheme: "https", host: "dynamodb.us-east-1.amazonaws.com", port: nil, path: "/", query: [],
                         headers: [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.GetItem")],
                         body: Array(#"{"TableName":"orders","Key":{"id":{"S":"1"}}}"#.utf8), service: "dynamodb", region: "us-east-1",
                         s3: false, accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token: nil,
                         time: 1_440_938_160)
        var shapes = [base]
        var s = base; s.token = "FwoGZXIvYXdzEJr//////////wEaDM+token/with=padding=="; shapes.append(s)
        s = base; s.body = []; s.method = "GET"; s.headers = []; shapes.append(s)
        s = base; s.service = "s3"; s.s3 = true; s.host = "bucket.s3.eu-west-1.amazonaws.com"; s.region = "eu-west-1"
        s.method = "PUT"; s.path = "/photos/2024/été/a b+c&d=e?f#g%h.jpg"; s.headers = [("Content-Type", "image/jpeg")]
        s.body = Array(0...255); shapes.append(s)
        s.method = "GET"; s.path = "/"; s.body = []
        s.query = [("list-type", "2"), ("prefix", "photos/é"), ("continuation-token", "1/abc+def=="), ("max-keys", "1000")]
        shapes.append(s)
        s.query = [("delete", "")]; s.method = "POST"; s.body = Array("<Delete/>".utf8); shapes.append(s)
        s = base; s.path = "/a/./b/../c//d"; s.method = "GET"; shapes.append(s)
        s.service = "s3"; s.s3 = true; shapes.append(s)
        s = base; s.scheme = "http"; s.host = "127.0.0.1"; s.port = 5000; shapes.append(s)
        s = base; s.headers = [("X-Amz-Meta-Note", "  spaced\t\tout   value "), ("x-amz-meta-note", "second"),
                               ("User-Agent", "infc/1"), ("Expect", "100-continue"), ("Connection", "keep-alive")]; shapes.append(s)
        s = base; s.service = "sns"; s.host = "sns.ap-southeast-2.amazonaws.com"; s.region = "ap-southeast-2"
        s.headers = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]
        s.body = Array(PercentEncoding.query([("Action", "Publish"), ("Message", "héllo & bye"), ("Version", "2010-03-31")]).utf8)
        shapes.append(s)
        s = base; s.query = [("ключ", "значение"), ("🔑", "🗝"), ("a b", "c+d"), ("x", "!*'();:@&=+$,/?#[]"), ("x", "!")]; shapes.append(s)
        s = base; s.time = 951_782_400; s.region = "cn-north-1"; s.host = "dynamodb.cn-north-1.amazonaws.com.cn"; shapes.append(s)
        s = base; s.secretKey = String(repeating: "k", count: 200); shapes.append(s)
        s = base; s.body = [UInt8](repeating: 0x61, count: 300_000); shapes.append(s)

        var rng = SeededGenerator(seed: 0x5167_5634)
        let services: [(String, Bool, String)] = [("dynamodb", false, "dynamodb"), ("s3", true, "s3"), ("sns", false, "sns"),
                                                  ("sqs", false, "sqs"), ("states", false, "states"), ("secretsmanager", false, "secretsmanager")]
        let regions = ["us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1", "sa-east-1"]
        let pieces = ["a", "Z", "0", "-", "_", ".", "~", " ", "+", "&", "=", "?", "#", "%", "/", "!", "*", "'", "(", ")", ";", ":",
                      "@", "$", ",", "[", "]", "é", "日本", "😀", "\u{A0}", "..", "\t"]
        func word(_ max: Int) -> String {
            (0..<Int.random(in: 0...max, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
        }
        for i in 0..<400 {
            let (service, s3, prefix) = services.randomElement(using: &rng)!
            let region = regions.randomElement(using: &rng)!
            var shape = base
            shape.service = service; shape.s3 = s3; shape.region = region
            shape.method = ["GET", "PUT", "POST", "DELETE", "HEAD"].randomElement(using: &rng)!
            shape.scheme = Bool.random(using: &rng) ? "https" : "http"
            shape.host = i % 7 == 0 ? "localhost" : "\(prefix).\(region).amazonaws.com"
            shape.port = i % 5 == 0 ? Int.random(in: 1024...65535, using: &rng) : nil
            shape.path = "/" + (0..<Int.random(in: 0...4, using: &rng)).map { _ in word(4) }.joined(separator: "/")
            shape.query = (0..<Int.random(in: 0...4, using: &rng)).map { _ in (word(3), word(3)) }
            if Bool.random(using: &rng), let first = shape.query.first { shape.query.append((first.0, word(2))) }
            shape.headers = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                let names = ["Content-Type", "X-Amz-Target", "x-amz-meta-\(Int.random(in: 0...3, using: &rng))", "X-Custom", "Range", "Content-MD5"]
                let value = (0..<Int.random(in: 1...4, using: &rng)).map { _ in ["v", "a/b", "1", " ", "  ", "\t", "x;y=z"].randomElement(using: &rng)! }.joined()
                return (names.randomElement(using: &rng)!, value)
            }
            shape.body = Bool.random(using: &rng) ? [] : (0..<Int.random(in: 1...2000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            shape.token = Bool.random(using: &rng) ? "token\(i)/+=" + String(repeating: "Q", count: i % 50) : nil
            shape.time = Int.random(in: 946_684_800...4_102_444_799, using: &rng)
            shapes.append(shape)
        }
        return shapes
    }

    @Test(.enabled(if: TestEnvironment.hasBotocore, "python3 with botocore is not installed (scripts/install-test-deps.sh)"))
    func signaturesMatchBotocore() throws {
        let shapes = Self.corpus()
        let input = Array(JSON.array(shapes.map(\.json)).serialized().utf8)
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/sigv4_reference.py").path
        let result = try TestEnvironment.run(TestEnvironment.python3 ?? "python3", [script], input: input, timeout: 120)
        try #require(result.status == 0, "sigv4_reference.py failed: \(result.stderr)")
        guard case .array(let expected) = try JSON.parse(bytes: result.stdout) else { Issue.record("not a list"); return }
        try #require(expected.count == shapes.count)
        var mismatches = 0
        for (shape, reference) in zip(shapes, expected) {
            let request = shape.signed()
            let url = request.url
            let sent = "\(url.scheme.rawValue)://\(url.host)\(shape.port.map { ":\($0)" } ?? "")\(url.target)"
            #expect(sent == reference["url"]?.stringValue, "URL of \(shape.json.serialized())")
            for name in ["Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256"] {
                let ours = request.headers[name], theirs = reference[name]?.stringValue
                if ours != theirs {
                    mismatches += 1
                    Issue.record("\(name): \(ours ?? "nil") != botocore's \(theirs ?? "nil")\n  for \(shape.json.serialized().prefix(600))\n  canonical: \(SigV4Signer(credentials: AWSCredentials(accessKeyID: shape.accessKey, secretAccessKey: shape.secretKey, sessionToken: shape.token), region: shape.region, service: shape.service, s3Rules: shape.s3).canonicalRequest(request).0)")
                }
            }
            if mismatches > 5 { break }
        }
        #expect(shapes.count > 400)
    }
}
