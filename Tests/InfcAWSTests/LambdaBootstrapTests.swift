// The `infc-lambda` bootstrap, the real executable, against a Runtime API served by the tests
// (scripts/lambda_runtime_api.py) with resources in moto (scripts/lambda_fixture.py creates those
// of the app's template and resolves each function's environment as CloudFormation would), and
// the same requests on `infc run`: the same answers and the same stored data (a differential test).
// Events of every shape: HTTP API (JSON, text and binary bodies, base64, cookies, path parameters,
// query), an SQS batch with a failing message (`batchItemFailures`), SNS, a schedule, a Step
// Functions task; and an init error.
import Foundation
import Glibc
import InfcCompiler
import InfcHTTPClient
import class InfcLambda.SharedRateWindow
import struct InfcRuntime.RuntimeError
import class InfcRuntime.Deployment
import InfcTestSupport
import Testing

@Suite(.serialized) struct LambdaBootstrapTests {
    static let fixtureScript = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/lambda_fixture.py").path
    static let runtimeAPIScript = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/lambda_runtime_api.py").path

    /// An executable SwiftPM built beside this test bundle (`infc`, `infc-lambda`).
    static func executable(_ name: String) -> String {
        var dir = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug/\(name)").path
    }

    static let app = """
        app lam

        table orders
        table charges
        bucket files
        bucket journal
        topic events
        secret apikey

        route POST "/orders/:id" (req) {
          let order = { id: req.params.id, qty: req.body.qty, tag: req.query.tag, cookie: req.headers.cookie }
          try {
            orders.insert(order.id, order)
          } catch e {
            return { status: 409, body: { code: e.code, current: e.current } }
          }
          async charge(order)
          return { status: 201, headers: { "Set-Cookie": "seen=1" }, body: order }
        }

        route PUT "/orders/:id" (req) {
          let old = orders.get(req.params.id)
          orders.replace(req.params.id, old, merge(old, { qty: req.body.qty }))
          try {
            orders.replace(req.params.id, old, { stale: true })
          } catch e {
            return { code: e.code, now: orders.get(req.params.id) }
          }
          return { code: null }
        }

        route GET "/orders" (req) {
          return orders.scan()
        }

        route PUT "/files/:name" (req) {
          files.put(req.params.name, req.body)
          return { keys: files.list(), text: files.get("note.txt") }
        }

        route GET "/files/:name" (req) {
          return files.get(req.params.name)
        }

        route DELETE "/files/:name" (req) {
          files.delete(req.params.name)
          return { keys: files.list("n"), missing: files.get(req.params.name) }
        }

        route GET "/secret" (req) {
          return { length: len(apikey.value()) }
        }

        route POST "/ship/:id" (req) {
          async ship(req.params.id)
          return { status: 202 }
        }

        fn charge(order) {
          if order.qty > 100 { throw "too many" }
          charges.put(order.id, { qty: order.qty, status: "charged" })
          events.publish({ id: order.id, kind: "charged" })
        }

        on events (e) {
          journal.put("events/{e.id}.txt", "{e.kind} {e.id}")
        }

        every 1h {
          charges.put("tick", { ticked: true })
        }

        fn ship(id) {
          sleep 1s
          remind(id)
        }

        fn remind(id) {
          if id == "boom" { throw { reason: "boom" } }
          journal.put("reminders/{id}", "remind {id}")
          return { reminded: id }
        }
        """

    struct Request {
        var method: String
        var path: String
        var query = ""
        var contentType: String?
        var cookies: [String] = []
        var body: [UInt8] = []
        /// The route as API Gateway names it (`POST /orders/{id}`) and its path parameters.
        var routeKey: String
        var params: [String: String] = [:]
    }

    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0xFF, 0x00, 0x0D, 0x0A]

    static let requests: [Request] = [
        Request(method: "POST", path: "/orders/o1", query: "tag=a%2Bb", contentType: "application/json", cookies: ["c=1", "d=2"],
                body: Array(#"{"qty":2}"#.utf8), routeKey: "POST /orders/{id}", params: ["id": "o1"]),
        Request(method: "POST", path: "/orders/o1", contentType: "application/json", body: Array(#"{"qty":3}"#.utf8),
                routeKey: "POST /orders/{id}", params: ["id": "o1"]),
        Request(method: "POST", path: "/orders/o2", contentType: "application/json", body: Array(#"{"qty":500}"#.utf8),
                routeKey: "POST /orders/{id}", params: ["id": "o2"]),
        Request(method: "PUT", path: "/orders/o1", contentType: "application/json", body: Array(#"{"qty":5}"#.utf8),
                routeKey: "PUT /orders/{id}", params: ["id": "o1"]),
        Request(method: "PUT", path: "/files/note.txt", contentType: "text/plain; charset=utf-8", body: Array("hello ✓".utf8),
                routeKey: "PUT /files/{name}", params: ["name": "note.txt"]),
        Request(method: "PUT", path: "/files/pic.png", contentType: "image/png", body: png, routeKey: "PUT /files/{name}", params: ["name": "pic.png"]),
        Request(method: "GET", path: "/files/pic.png", routeKey: "GET /files/{name}", params: ["name": "pic.png"]),
        Request(method: "GET", path: "/files/note.txt", routeKey: "GET /files/{name}", params: ["name": "note.txt"]),
        Request(method: "GET", path: "/secret", routeKey: "GET /secret"),
        Request(method: "PUT", path: "/files/gone", contentType: "application/json", body: Array("[1,2]".utf8),
                routeKey: "PUT /files/{name}", params: ["name": "gone"]),
        Request(method: "DELETE", path: "/files/gone", routeKey: "DELETE /files/{name}", params: ["name": "gone"]),
        Request(method: "POST", path: "/ship/o1", routeKey: "POST /ship/{id}", params: ["id": "o1"]),
    ]

    /// The HTTP API event (payload 2.0) API Gateway sends for a request; bodies that are not
    /// UTF-8 go base64, as API Gateway sends them.
    static func event(_ r: Request) -> JSON {
        var headers: JSONObject = ["accept": "*/*", "user-agent": "test"]
        if let t = r.contentType { headers["content-type"] = .string(t) }
        var e: JSONObject = ["version": "2.0", "routeKey": .string(r.routeKey), "rawPath": .string(r.path), "rawQueryString": .string(r.query),
                             "headers": .object(headers),
                             "requestContext": ["http": ["method": .string(r.method), "path": .string(r.path), "protocol": "HTTP/1.1"], "stage": "$default"],
                             "isBase64Encoded": false]
        if !r.cookies.isEmpty { e["cookies"] = .array(r.cookies.map(JSON.string)) }
        if !r.params.isEmpty { e["pathParameters"] = .object(JSONObject(r.params.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })) }
        if !r.body.isEmpty {
            if let text = String(validating: r.body, as: UTF8.self) {
                e["body"] = .string(text)
            } else {
                e["body"] = .string(Base64.encode(r.body))
                e["isBase64Encoded"] = true
            }
        }
        return .object(e)
    }

    /// An answer, comparable across the two: status, content type, cookies, body bytes.
    struct Answer: Equatable, CustomStringConvertible {
        var status: Int
        var contentType: String?
        var cookies: [String]
        var body: [UInt8]
        var description: String { "\(status) \(contentType ?? "-") \(cookies) \(String(validating: body, as: UTF8.self) ?? Base64.encode(body))" }
    }

    static func answer(fromLambda text: String) throws -> Answer {
        let r = try JSON.parse(text)
        let body = r["body"]?.stringValue ?? ""
        let bytes = r["isBase64Encoded"]?.boolValue == true ? (Base64.decode(body) ?? []) : Array(body.utf8)
        return Answer(status: r["statusCode"]?.intValue ?? 0, contentType: r["headers"]?["content-type"]?.stringValue,
                      cookies: (r["cookies"]?.arrayValue ?? []).compactMap(\.stringValue), body: bytes)
    }

    /// One bootstrap process serving `events` for `function` until the Runtime API has no more:
    /// what it posted (`{kind, request, body, errorType}` each) and its standard error.
    static func bootstrap(_ events: [JSON], function: String, environment: [String: String], root: String,
                          executable path: String = executable("infc-lambda")) throws -> (results: [JSON], stderr: String) {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Data(JSON.array(events).serialized().utf8).write(to: URL(fileURLWithPath: dir.path("events.json")))
        let api = try ChildServer(pythonArguments: [runtimeAPIScript, dir.path("events.json")])
        defer { api.stop() }
        var env = environment
        env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:\(api.port)"
        env["LAMBDA_TASK_ROOT"] = root
        env["PATH"] = "/usr/bin:/bin"
        let run = try TestEnvironment.run(path, [], environment: env, timeout: 60)
        let client = HTTPClient()
        let r = try client.send(HTTPRequest(method: "GET", url: HTTPURL(string: "http://127.0.0.1:\(api.port)/_results")!))
        return (try JSON.parse(bytes: r.body).arrayValue ?? [], run.stderr)
    }

    static func lambdaEnvironment(_ functions: JSON, _ name: String, motoPort: Int) -> [String: String] {
        var env: [String: String] = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "session",
                                     "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:\(motoPort)",
                                     "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"]
        for (k, v) in functions[name]?.objectValue ?? JSONObject() { env[k] = v.stringValue }
        return env
    }

    static func fixture(_ port: Int, _ arguments: [String]) throws -> JSON {
        let r = try TestEnvironment.run(TestEnvironment.python3 ?? "python3", [fixtureScript, String(port)] + arguments, timeout: 120)
        guard r.status == 0 else { throw TestFailure("lambda_fixture.py \(arguments): \(r.stderr)") }
        return try JSON.parse(bytes: r.stdout)
    }

    static func infc(_ arguments: [String], in dir: TemporaryDirectory, environment: [String: String] = [:]) throws -> ProcessOutput {
        let r = try TestEnvironment.run(executable("infc"), arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                                        directory: dir.url, timeout: 60)
        guard r.status == 0 else { throw TestFailure("infc \(arguments.joined(separator: " ")): \(r.stderr)") }
        return r
    }

    /// Waits (bounded) until `check` holds.
    static func eventually(_ what: String, timeout: Double = 30, _ check: () throws -> Bool) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if try check() { return }
            usleep(50_000)
        }
        throw TestFailure("gave up waiting: \(what)")
    }

    @Test(.enabled(if: TestEnvironment.hasMoto, "python3 with moto[server] and boto3 is not installed (scripts/install-test-deps.sh)"))
    func theBootstrapAnswersAsInfcRunDoes() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Data(Self.app.utf8).write(to: URL(fileURLWithPath: dir.path("app.inf")))
        _ = try Self.infc(["build", "app.inf", "-o", "build"], in: dir)
        _ = try Self.infc(["build", "app.inf", "--target", "aws", "-o", "aws"], in: dir)
        let manifest = try JSON.parse(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: dir.path("build/manifest.json")))))
        /// The function that runs a handler key.
        func function(_ key: String) -> String {
            for f in manifest["functions"]?.arrayValue ?? [] where (f["handlers"]?.arrayValue ?? []).contains(where: { $0["key"]?.stringValue == key }) {
                return f["name"]?.stringValue ?? ""
            }
            return ""
        }

        // The cloud side: moto with the template's resources; every request through its function's bootstrap.
        let moto = try AWSServiceTests.startMoto()
        defer { moto.stop() }
        let functions = try Self.fixture(moto.port, ["setup", dir.path("aws/template.json"), "lam"])["functions"] ?? .null
        let root = dir.path("build")
        var cloud: [Answer] = []
        for r in Self.requests {
            let key = "route \(r.method) " + r.routeKey.split(separator: " ")[1].replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: "")
            let name = function(key)
            let (results, stderr) = try Self.bootstrap([Self.event(r)], function: name,
                                                       environment: Self.lambdaEnvironment(functions, name, motoPort: moto.port), root: root)
            guard results.count == 1, results[0]["kind"] == "response", let body = results[0]["body"]?.stringValue else {
                Issue.record("\(r.method) \(r.path): \(results) \(stderr)")
                return
            }
            // One JSON log line per invocation on standard output... the test reads stderr only for failures.
            cloud.append(try Self.answer(fromLambda: body))
        }

        // The local side: the same requests on `infc run`.
        let port = freeLoopbackPort()
        let local = Process()
        local.executableURL = URL(fileURLWithPath: Self.executable("infc"))
        local.arguments = ["run", "build", "--port", String(port), "--state", dir.path("state"), "--time-scale", "20"]
        local.currentDirectoryURL = dir.url
        local.environment = ProcessInfo.processInfo.environment.merging(["INFC_SECRET_APIKEY": "sk_test_apikey"]) { $1 }
        local.standardOutput = FileHandle.nullDevice
        local.standardError = FileHandle.nullDevice
        try local.run()
        defer { if local.isRunning { local.terminate() }; local.waitUntilExit() }
        try Self.eventually("infc run listens") { ChildServer.accepts(port) }
        let client = HTTPClient()
        var here: [Answer] = []
        for r in Self.requests {
            var headers = HTTPHeaders([("Accept", "*/*"), ("User-Agent", "test")])
            if let t = r.contentType { headers.add("Content-Type", t) }
            if !r.cookies.isEmpty { headers.add("Cookie", r.cookies.joined(separator: "; ")) }
            let url = HTTPURL(string: "http://127.0.0.1:\(port)\(r.path)" + (r.query.isEmpty ? "" : "?\(r.query)"))!
            let answer = try client.send(HTTPRequest(method: r.method, url: url, headers: headers, body: r.body))
            here.append(Answer(status: answer.status, contentType: answer.headers["Content-Type"],
                               cookies: answer.headers.values("Set-Cookie"), body: answer.body))
        }
        #expect(cloud.count == here.count)
        for (i, (c, h)) in zip(cloud, here).enumerated() { #expect(c == h, "\(Self.requests[i].method) \(Self.requests[i].path): \(c) vs \(h)") }
        #expect(cloud.first?.status == 201 && cloud[1].status == 409 && cloud[6].body == Self.png && cloud[6].contentType == "image/png")

        // The queue's batch through `charge`: o2 (qty 500) fails alone, o1 is charged and published.
        var dump = try Self.fixture(moto.port, ["dump"])
        let batch = dump["queues"]?["ChargeQueue"]?.arrayValue ?? []
        #expect(batch.count == 2)
        let failing = batch.first { ($0["body"]?.stringValue ?? "").contains("\"o2\"") }?["messageId"]?.stringValue
        let charged = try Self.bootstrap([["Records": .array(batch)]], function: "charge",
                                         environment: Self.lambdaEnvironment(functions, "charge", motoPort: moto.port), root: root)
        #expect(charged.results.first?["body"]?.stringValue == #"{"batchItemFailures":[{"itemIdentifier":"\#(failing ?? "?")"}]}"#,
                "\(charged)")
        let execution = dump["executions"]?.arrayValue?.first
        #expect(dump["executions"]?.arrayValue?.count == 1 && execution?["args"] == ["o1"] && execution?["trace"]?.stringValue?.count == 32)

        // What charge published, delivered as SNS records; a schedule's firing; the workflow's task.
        dump = try Self.fixture(moto.port, ["dump"])
        let published = dump["queues"]?["EventsTopicTap"]?.arrayValue ?? []
        #expect(published.count == 1)
        let sns: JSON = ["Records": .array(published.map { m in
            ["EventSource": "aws:sns", "EventVersion": "1.0",
             "Sns": ["Type": "Notification", "MessageId": m["messageId"] ?? .null, "TopicArn": "arn:aws:sns:us-east-1:123456789012:EventsTopic",
                     "Message": m["body"] ?? .null, "Timestamp": "2026-01-01T00:00:00.000Z"]]
        })]
        let delivered = try Self.bootstrap([sns], function: "on_events", environment: Self.lambdaEnvironment(functions, "on_events", motoPort: moto.port), root: root)
        #expect(delivered.results.first?["kind"] == "response", "\(delivered)")
        let schedule: JSON = ["version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
                              "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:123456789012:rule/lam-Every1h"], "detail": [:]]
        let fired = try Self.bootstrap([schedule], function: "every_1h", environment: Self.lambdaEnvironment(functions, "every_1h", motoPort: moto.port), root: root)
        #expect(fired.results.first?["kind"] == "response", "\(fired)")
        let task = try Self.bootstrap([["args": ["o1"]], ["args": ["boom"], "fn": "remind"]], function: "remind",
                                      environment: Self.lambdaEnvironment(functions, "remind", motoPort: moto.port), root: root)
        #expect(task.results.first?["body"] == #"{"reminded":"o1"}"#, "\(task)")
        #expect(task.results.count == 2 && task.results.last?["kind"] == "error" && (task.results.last?["body"]?.stringValue ?? "").contains("boom"), "\(task)")

        // The same on `infc run`: its queue, topic, workflow and a schedule fired by hand.
        _ = try Self.infc(["schedule", "fire", "every_1h-schedule", "--state", dir.path("state"), "--build", "build"], in: dir)
        let state = ["--state", dir.path("state"), "--build", "build"]
        func localObject(_ bucket: String, _ key: String) throws -> [UInt8]? {
            let r = try TestEnvironment.run(Self.executable("infc"), ["bucket", bucket, "get", key] + state, directory: dir.url, timeout: 30)
            return r.status == 0 ? r.stdout : nil
        }
        func localTable(_ table: String) throws -> JSON {
            try JSON.parse(bytes: Self.infc(["table", table, "scan", "--format", "json"] + state, in: dir).stdout)
        }
        try Self.eventually("infc run charges o1, delivers its event, runs the workflow and the schedule") {
            try localObject("journal", "events/o1.txt") != nil && localObject("journal", "reminders/o1") != nil
                && localTable("charges").arrayValue?.contains(where: { $0["key"] == "tick" }) == true
        }

        // The stored data: every document and object, compared with what moto holds.
        dump = try Self.fixture(moto.port, ["dump"])
        for (table, physical) in [("orders", "OrdersTable"), ("charges", "ChargesTable")] {
            var items: [JSON] = []
            for (key, item) in (dump["tables"]?[physical]?.objectValue ?? JSONObject()).sorted(by: { $0.key < $1.key }) {
                items.append(["key": .string(key), "value": item["value"] ?? .null])
            }
            #expect(JSON.array(items) == (try localTable(table)), "\(table)")
            #expect(!items.isEmpty)
        }
        for (bucket, physical) in [("files", "filesbucket"), ("journal", "journalbucket")] {
            let objects = dump["objects"]?[physical]?.objectValue ?? JSONObject()
            let listed = try Self.infc(["bucket", bucket, "list"] + state, in: dir)
            let localKeys = String(decoding: listed.stdout, as: UTF8.self).split(separator: "\n").map { String($0.split(separator: " ").first ?? "") }
            #expect(objects.keys.sorted() == localKeys.sorted() && !localKeys.isEmpty, "\(bucket)")
            for (key, object) in objects {
                #expect(Base64.decode(object["b64"]?.stringValue ?? "") == (try localObject(bucket, key)), "\(bucket) \(key)")
            }
        }
        let files = dump["objects"]?["filesbucket"]
        #expect(files?["pic.png"]?["type"] == "image/png" && files?["note.txt"]?["meta"]?["infc-text"] == "1")
    }

    /// A grouped function that consumes two queues (an `async` fn's and a limited subscriber's,
    /// whose raw topic messages name no queue) tells them apart by each record's source ARN.
    @Test(.enabled(if: TestEnvironment.hasMoto, "python3 with moto[server] and boto3 is not installed (scripts/install-test-deps.sh)"))
    func aConsumerOfTwoQueuesTellsThemApartBySource() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let source = """
            app grp { granularity: "grouped" }
            topic done
            bucket seen
            route POST "/work/:id" (req) {
              async work(req.params.id)
              done.publish({ id: req.params.id })
              return { status: 202 }
            }
            fn work(id) limit 2 { seen.put("work/{id}", id) }
            on done (event) limit 2 { seen.put("done/{event.id}", event.id) }
            """
        try Data(source.utf8).write(to: URL(fileURLWithPath: dir.path("app.inf")))
        _ = try Self.infc(["build", "app.inf", "-o", "build"], in: dir)
        _ = try Self.infc(["build", "app.inf", "--target", "aws", "-o", "aws"], in: dir)
        let moto = try AWSServiceTests.startMoto()
        defer { moto.stop() }
        let functions = try Self.fixture(moto.port, ["setup", dir.path("aws/template.json"), "grp"])["functions"] ?? .null
        let consumer = try #require(functions.objectValue?.first { $0.value["INFC_HANDLERS"]?.stringValue?.contains("on done") == true }?.key)
        #expect(functions[consumer]?["INFC_HANDLERS"] == #"["fn work","on done"]"#)
        let post = Request(method: "POST", path: "/work/w1", routeKey: "POST /work/{id}", params: ["id": "w1"])
        let posted = try Self.bootstrap([Self.event(post)], function: "post_work_id",
                                        environment: Self.lambdaEnvironment(functions, "post_work_id", motoPort: moto.port), root: dir.path("build"))
        #expect(posted.results.first?["kind"] == "response", "\(posted)")
        // The async message from its queue; the topic's message as the limited subscriber's queue
        // delivers it (raw: the message itself), from that queue.
        let dump = try Self.fixture(moto.port, ["dump"])
        let work = try #require(dump["queues"]?["WorkQueue"]?.arrayValue?.first)
        let raw = try #require(dump["queues"]?["DoneTopicTap"]?.arrayValue?.first)
        let onDoneARN = try #require(functions[consumer]?.objectValue?.first { $0.key.hasPrefix("INFC_CONSUMES_on_done") }?.value.stringValue)
        var rawRecord = try #require(raw.objectValue)
        rawRecord["eventSourceARN"] = .string(onDoneARN)
        let batch = try Self.bootstrap([["Records": [work, .object(rawRecord)]]], function: consumer,
                                       environment: Self.lambdaEnvironment(functions, consumer, motoPort: moto.port), root: dir.path("build"))
        #expect(batch.results.first?["body"] == #"{"batchItemFailures":[]}"#, "\(batch)")
        let objects = try Self.fixture(moto.port, ["dump"])["objects"]?["seenbucket"]?.objectValue ?? JSONObject()
        #expect(objects.map(\.key).sorted() == ["done/w1", "work/w1"], "\(objects.map(\.key))")
    }

    /// A service's rate in the cloud: its slots live in the rate table, so a slot one container
    /// holds is held for every other, and it is free again only a window after its call ended.
    @Test(.enabled(if: TestEnvironment.hasMoto, "python3 with moto[server] and boto3 is not installed (scripts/install-test-deps.sh)"))
    func aServicesRateIsSharedByEveryContainer() throws {
        let moto = try AWSServiceTests.startMoto()
        defer { moto.stop() }
        let created = try TestEnvironment.run(TestEnvironment.python3 ?? "python3", ["-c", """
            import boto3, sys
            boto3.client("dynamodb", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t").create_table(
                TableName="rates", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
            """, "http://127.0.0.1:\(moto.port)"], timeout: 60)
        try #require(created.status == 0, "\(created.stderr)")
        // Two containers (two windows, two clients) of a service allowed 2 calls a second.
        let a = SharedRateWindow(service: "pay", ratePerSecond: 2, table: "rates", client: try AWSServiceTests.client(port: moto.port))
        let b = SharedRateWindow(service: "pay", ratePerSecond: 2, table: "rates", client: try AWSServiceTests.client(port: moto.port))
        let first = try #require(try a.take(deadline: Date().timeIntervalSince1970 + 5, cancelled: { false }))
        let second = try #require(try a.take(deadline: Date().timeIntervalSince1970 + 5, cancelled: { false }))
        #expect(Set([first, second]) == [0, 1])
        // Both slots are A's: B finds none before its deadline.
        #expect(try b.take(deadline: Date().timeIntervalSince1970 + 0.3, cancelled: { false }) == nil)
        #expect(try b.take(deadline: nil, cancelled: { true }) == nil)
        // A's first call ends: B gets that slot, and not before a window (1 s) has passed.
        a.release(first)
        let released = Date().timeIntervalSince1970
        let third = try b.take(deadline: released + 10, cancelled: { false })
        #expect(third == first)
        #expect(Date().timeIntervalSince1970 - released >= 0.99)
        // The slots are the table's items, one per slot.
        let items = try TestEnvironment.run(TestEnvironment.python3 ?? "python3", ["-c", """
            import boto3, sys
            c = boto3.client("dynamodb", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
            print(sorted(i["id"]["S"] for i in c.scan(TableName="rates")["Items"]))
            """, "http://127.0.0.1:\(moto.port)"], timeout: 60)
        #expect(items.text == "['pay#0', 'pay#1']\n", "\(items.text) \(items.stderr)")
        // Without the table the function cannot hold the rate: an AWS error, not a silent pass.
        let missing = SharedRateWindow(service: "pay", ratePerSecond: 2, table: "nope", client: try AWSServiceTests.client(port: moto.port))
        #expect(throws: RuntimeError.self) { _ = try missing.take(deadline: Date().timeIntervalSince1970 + 1, cancelled: { false }) }
    }

    @Test(.enabled(if: TestEnvironment.python3 != nil, "python3 is not installed"))
    func aStartThatFailsIsReportedThroughTheInitErrorEndpoint() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Data(Self.app.utf8).write(to: URL(fileURLWithPath: dir.path("app.inf")))
        _ = try Self.infc(["build", "app.inf", "-o", "build"], in: dir)
        let cases: [(environment: [String: String], root: String, type: String, says: String)] = [
            (["INFC_FUNCTION": "charge"], dir.path("nowhere"), "infc.PackageInvalid", "no build directory"),
            (["INFC_FUNCTION": "nobody"], dir.path("build"), "infc.EnvironmentInvalid", "nobody"),
            (["INFC_FUNCTION": "charge", "INFC_HANDLERS": #"["fn remind"]"#], dir.path("build"), "infc.EnvironmentInvalid", "fn remind"),
            (["INFC_FUNCTION": "charge", "INFC_HANDLERS": "[fn"], dir.path("build"), "infc.EnvironmentInvalid", "not a JSON array"),
        ]
        for c in cases {
            let (results, stderr) = try Self.bootstrap([], function: "", environment: c.environment.merging(["AWS_REGION": "us-east-1"]) { $1 }, root: c.root)
            #expect(results.count == 1 && results.first?["kind"] == "init-error" && results.first?["errorType"]?.stringValue == c.type, "\(results)")
            #expect((results.first?["body"]?.stringValue ?? "").contains(c.says) && stderr.contains(c.says), "\(results) \(stderr)")
        }
    }
}
