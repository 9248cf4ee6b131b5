// End to end on the emulator: `infc deploy examples/shop.inf` with the real static `infc-lambda`
// as the package's bootstrap, then every function driven as AWS would drive it, each running from
// the deployed package itself (scripts/lambda_service.py: the package downloaded from the artifact
// bucket and unzipped, `bootstrap` started with LAMBDA_TASK_ROOT there and the environment moto's
// Lambda reports, warm containers behind a Runtime API): HTTP API payload 2.0 events, the queue's
// event source polling moto's SQS with redrive to the dead-letter queue after maxReceiveCount, SNS
// deliveries, a schedule's firing, and the follow-up workflow each paid order started, run to its
// end by Step Functions on moto (an executable copy of the deployed state machine, its Lambda
// tasks answered by the package's bootstrap through a shim on moto's `MOTO_PORT`). Differential:
// the same requests on `infc run` give the same answers, documents, objects, dead letters and
// workflow starts, and the same workflow inputs the same results and objects. The payment service
// is one local stub for both.
import Foundation
import Glibc
import InfcCompiler
import InfcTestSupport
import Testing

@Suite(.serialized) struct ShopInTheCloudTests {
    /// The static bootstrap scripts/build-lambda.sh builds (`make test` builds it first).
    static let bootstrap = ProcessInfo.processInfo.environment["INFC_LAMBDA"]
        ?? CLI.root.appendingPathComponent(".build/release/infc-lambda").path
    static let secret = "sk_test_cloud_4242_not_printed"

    /// What a request's answer is, comparable across the two: status, content type, body.
    struct Answer: Equatable, CustomStringConvertible {
        var status: Int
        var contentType: String?
        var body: JSON
        var description: String { "\(status) \(contentType ?? "-") \(body.serialized())" }
    }

    /// The payment service: POST /charges {amount, key}; an amount of 130 fails (HTTP 500, which
    /// the retry rule retries), 140 is refused (HTTP 402, which no retry mends), any other is
    /// charged as `ch_<amount>`.
    static func payments() throws -> StubServer {
        try StubServer { method, path, body in
            guard method == "POST", path == "/charges", let request = try? JSON.parse(bytes: body) else { return (404, #"{"error":"no"}"#) }
            let amount = request["amount"]?.intValue ?? -1
            switch amount {
            case 130: return (500, #"{"error":"card network down"}"#)
            case 140: return (402, #"{"error":"card declined"}"#)
            default: return (200, #"{"id":"ch_\#(amount)"}"#)
            }
        }
    }

    /// One emulator, one deploy, one run of the same requests on each side.
    /// (scripts/lambda_service.py runs the workflow through conftest.py's shim, so pytest too.)
    @Test(.enabled(if: Python.has("moto.server", "boto3", "pytest"),
                   "python3 with moto[server], boto3 and pytest is not installed (scripts/install-test-deps.sh)"))
    func theDeployedShopRunsAsInfcRunDoes() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.bootstrap),
                     "no static bootstrap at \(Self.bootstrap): `make test` builds it first (scripts/build-lambda.sh)")
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // moto's Lambda calls (a state machine's tasks) go to the shim lambda_service.py serves.
        let shimPort = freeLoopbackPort()
        let moto = try Moto(lambdaShim: shimPort)
        defer { moto.stop() }
        let cloudStub = try Self.payments(), localStub = try Self.payments()
        defer { cloudStub.stop(); localStub.stop() }

        // Deploy with the real bootstrap.
        let home = dir.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let env = ["PATH": "/usr/bin:/bin", "HOME": home.path, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"]
        let secrets = dir.appendingPathComponent(".env")
        try "INFC_SECRET_PAYMENTS_KEY=\(Self.secret)\n".write(to: secrets, atomically: true, encoding: .utf8)
        let deploy = try AWSCLI.run(["deploy", "examples/shop.inf", "--stack", "shop", "--endpoint", moto.url, "--bootstrap", Self.bootstrap,
                                     "--secrets", secrets.path], environment: env, timeout: 300)
        try #require(deploy.status == 0, "\(deploy.stdout)\(deploy.stderr)")
        #expect(!(deploy.stdout + deploy.stderr).contains(Self.secret))

        // The cloud: every function from the package in the artifact bucket.
        let work = dir.appendingPathComponent("cloud")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let cloud = try ChildServer(pythonArguments: [CLI.root.appendingPathComponent("scripts/lambda_service.py").path, String(moto.port), "shop",
                                                      work.path, "--env", "INFC_SERVICE_PAYMENTS_URL=\(cloudStub.url)",
                                                      "--shim", String(shimPort)], timeout: 120)
        defer { cloud.stop() }
        func call(_ method: String, _ path: String, _ body: JSON? = nil) throws -> JSON {
            let r = try HTTP.request(method, port: cloud.port, path: path, headers: [("Content-Type", "application/json")],
                                     body: Array((body ?? .null).serialized().utf8), timeout: 180)
            let answer = try JSON.parse(bytes: r.body)
            if r.status != 200 { throw TestFailure("lambda_service \(path): \(answer["error"]?.stringValue ?? r.text)") }
            return answer
        }
        func cloudRequest(_ method: String, _ path: String, json: String? = nil) throws -> Answer {
            var request: JSONObject = ["method": .string(method), "path": .string(path),
                                       "headers": ["accept": "*/*", "user-agent": "infc-test"]]
            if let json {
                request["headers"] = ["accept": "*/*", "user-agent": "infc-test", "content-type": "application/json"]
                request["body64"] = .string(Base64.encode(Array(json.utf8)))
            }
            let r = try call("POST", "/http", .object(request))
            let text = r["body"]?.stringValue ?? ""
            let bytes = r["isBase64Encoded"]?.boolValue == true ? (Base64.decode(text) ?? []) : Array(text.utf8)
            return Answer(status: r["statusCode"]?.intValue ?? 0, contentType: r["headers"]?["content-type"]?.stringValue,
                          body: (try? JSON.parse(bytes: bytes)) ?? .string(String(decoding: bytes, as: UTF8.self)))
        }

        // The local runtime: the same build, the other stub; a day is 864 s, so neither the
        // schedule nor the workflow's `sleep 1d` comes due by itself during the test.
        let build = dir.appendingPathComponent("build")
        #expect(try CLI.run(["build", "examples/shop.inf", "-o", build.path, "-q"]).status == 0)
        let state = dir.appendingPathComponent("state")
        let port = freeLoopbackPort()
        let local = Process()
        local.executableURL = Binary.url
        local.arguments = ["run", build.path, "--port", String(port), "--state", state.path, "--time-scale", "100"]
        local.environment = ProcessInfo.processInfo.environment.merging(["INFC_SECRET_PAYMENTS_KEY": Self.secret,
                                                                         "INFC_SERVICE_PAYMENTS_URL": localStub.url]) { $1 }
        local.standardOutput = FileHandle.nullDevice
        local.standardError = FileHandle.nullDevice
        try local.run()
        defer { if local.isRunning { local.terminate() }; local.waitUntilExit() }
        let listening = eventually(timeout: 30) { ChildServer.accepts(port) }
        try #require(listening, "infc run did not listen")
        func localRequest(_ method: String, _ path: String, json: String? = nil) throws -> Answer {
            var headers = [("Accept", "*/*"), ("User-Agent", "infc-test")]
            if json != nil { headers.append(("Content-Type", "application/json")) }
            let r = try HTTP.request(method, port: port, path: path, headers: headers, body: Array((json ?? "").utf8))
            return Answer(status: r.status, contentType: r.header("Content-Type"),
                          body: (try? JSON.parse(bytes: r.body)) ?? .string(r.text))
        }
        func localStatus() throws -> JSON {
            let r = try CLI.run(["status", "--state", state.path, "--format", "json"])
            return try JSON.parse(r.stdout)
        }
        func deadLetters(_ status: JSON) -> [JSON] { status["deadLetters"]?.arrayValue ?? [] }

        // 1. Orders: one charged; one the payment service fails with a 500 (retried: the queue's
        // redrive dead-letters it after its 4 receives); one with text beyond ASCII; one it
        // refuses with a 402 (no retry mends it: dead-lettered after one receive, as locally).
        let orders = [#"{"item":"book","qty":2}"#, #"{"item":"lamp","qty":13}"#, #"{"item":"café ✓","qty":1}"#, #"{"item":"vase","qty":14}"#]
        var cloudAnswers: [Answer] = [], localAnswers: [Answer] = []
        for o in orders {
            cloudAnswers.append(try cloudRequest("POST", "/orders", json: o))
            localAnswers.append(try localRequest("POST", "/orders", json: o))
        }
        let cloudIDs = cloudAnswers.compactMap { $0.body["id"]?.stringValue }, localIDs = localAnswers.compactMap { $0.body["id"]?.stringValue }
        try #require(cloudIDs.count == 4 && localIDs.count == 4, "\(cloudAnswers) \(localAnswers)")
        /// The ids differ (uuid()): written as <order N> on both sides before comparing.
        func normal(_ text: String, _ ids: [String]) -> String {
            var t = text
            for (i, id) in ids.enumerated() { t = t.replacingOccurrences(of: id, with: "<order \(i)>") }
            return t
        }
        func normal(_ value: JSON, _ ids: [String]) -> JSON { (try? JSON.parse(normal(value.serialized(), ids))) ?? value }
        func normal(_ a: Answer, _ ids: [String]) -> Answer { Answer(status: a.status, contentType: a.contentType, body: normal(a.body, ids)) }

        // The event sources: the charge queue (with redrive), then the paid events to on_order_events.
        let settled = try call("POST", "/settle")
        let invocations = settled["invocations"]?.arrayValue ?? []
        let charges = invocations.filter { $0["function"] == "charge" }
        // 2 charged at once, the 500 one received 4 times (maxReceiveCount) and reported failed
        // each time, the 402 one received once and reported handled (sent to the dead letters).
        #expect(charges.count == 7, "\(invocations)")
        #expect(charges.filter { ($0["failed"]?.arrayValue ?? []).count == 1 }.count == 4, "\(charges)")
        #expect(invocations.filter { $0["function"] == "on_order_events" && $0["ok"] == .bool(true) }.count == 2, "\(invocations)")
        var last = JSON.null
        let worked = try eventually(timeout: 30) {
            last = try localStatus()
            return deadLetters(last).count == 2 && (last["workflows"]?["open"]?.arrayValue ?? []).count == 2
        }
        try #require(worked, "infc run did not charge, receipt and dead-letter the orders: \(last)")

        // 2. Reads after the work.
        for (i, _) in orders.enumerated() {
            cloudAnswers.append(try cloudRequest("GET", "/orders/\(cloudIDs[i])"))
            localAnswers.append(try localRequest("GET", "/orders/\(localIDs[i])"))
        }
        cloudAnswers.append(try cloudRequest("GET", "/orders/nope"))
        localAnswers.append(try localRequest("GET", "/orders/nope"))

        // 3. The schedule fires: the unpaid orders are charged again (and fail again).
        let fired = try call("POST", "/fire", ["rule": "Every1dRule"])
        #expect(fired["ok"] == .bool(true), "\(fired)")
        let again = try call("POST", "/settle")["invocations"]?.arrayValue ?? []
        #expect(again.filter { $0["function"] == "charge" && ($0["failed"]?.arrayValue ?? []).count == 1 }.count == 4, "\(again)")
        #expect(again.filter { $0["function"] == "charge" }.count == 5, "\(again)")
        let schedules = try JSON.parse(try CLI.run(["schedule", "list", "--state", state.path, "--build", build.path, "--format", "json"]).stdout)
        let schedule = try #require(schedules.arrayValue?.first?["name"]?.stringValue, "\(schedules)")
        let fire = try CLI.run(["schedule", "fire", schedule, "--state", state.path, "--build", build.path])
        #expect(fire.status == 0, "\(fire.stderr)")
        let redone = try eventually(timeout: 30) {
            last = try localStatus()
            return deadLetters(last).count == 4
        }
        try #require(redone, "infc run: \(last)")

        // The answers, the same on both sides.
        #expect(cloudAnswers.count == localAnswers.count)
        for (c, l) in zip(cloudAnswers, localAnswers) { #expect(normal(c, cloudIDs) == normal(l, localIDs)) }
        #expect(cloudAnswers.prefix(4).allSatisfy { $0.status == 202 })
        #expect(cloudAnswers[4].body["status"] == "paid" && cloudAnswers[4].body["payment"] == "ch_20")
        #expect(cloudAnswers[5].body["status"] == "new" && cloudAnswers[7].body["status"] == "new" && cloudAnswers[8].status == 404, "\(cloudAnswers)")

        // The stored data: every order and every receipt.
        let dump = try call("GET", "/dump")
        #expect(dump["package"] == ["bootstrap", "code/shop.inf", "manifest.json"], "\(dump["package"] ?? .null)")
        let cloudOrders = JSON.array((dump["tables"]?["OrdersTable"]?.objectValue ?? JSONObject()).map { ["key": .string($0.key), "value": $0.value["value"] ?? .null] })
        let localOrders = try JSON.parse(CLI.run(["table", "orders", "scan", "--format", "json", "--state", state.path, "--build", build.path]).stdout)
        func sortedByKey(_ v: JSON) -> [JSON] { (v.arrayValue ?? []).sorted { ($0["key"]?.stringValue ?? "") < ($1["key"]?.stringValue ?? "") } }
        #expect(Set(sortedByKey(normal(cloudOrders, cloudIDs)).map { $0.serialized() }) == Set(sortedByKey(normal(localOrders, localIDs)).map { $0.serialized() }))
        #expect((cloudOrders.arrayValue ?? []).count == 4)
        let receipts = dump["objects"]?["ReceiptsBucket"]?.objectValue ?? JSONObject()
        #expect(receipts.keys.map { normal($0, cloudIDs) }.sorted() == ["<order 0>.txt", "<order 2>.txt"], "\(receipts.keys)")
        for (key, object) in receipts {
            let localKey = normal(key, cloudIDs).replacingOccurrences(of: "<order 0>", with: localIDs[0]).replacingOccurrences(of: "<order 2>", with: localIDs[2])
            let here = try CLI.run(["bucket", "receipts", "get", localKey, "--state", state.path, "--build", build.path])
            let there = String(decoding: Base64.decode(object["b64"]?.stringValue ?? "") ?? [], as: UTF8.self)
            #expect(normal(there, cloudIDs) == normal(here.stdout, localIDs), "\(key)")
        }

        // The dead letters: each unpaid order's message twice (its first charge and the
        // schedule's); the 500 one after 4 receives, the 402 one after 1 on both sides.
        let cloudLetters = dump["deadLetters"]?["ChargeDeadLetterQueue"]?.arrayValue ?? []
        let cloudDead = cloudLetters.compactMap { try? JSON.parse($0["body"]?.stringValue ?? "") }
        let localDead = deadLetters(try localStatus())
        #expect(cloudDead.count == 4 && localDead.count == 4, "\(cloudDead) \(localDead)")
        #expect(cloudDead.map { normal($0["args"] ?? .null, cloudIDs).serialized() }.sorted()
                == localDead.map { normal($0["body"]?["args"] ?? $0["body"] ?? .null, localIDs).serialized() }.sorted(), "\(cloudDead) \(localDead)")
        func argsID(_ v: JSON?) -> String? { v?["args"]?.arrayValue?.first?["id"]?.stringValue }
        /// The order a local dead letter holds (its body is the call's arguments).
        func localID(_ d: JSON) -> String? { (d["body"]?["args"] ?? d["body"])?.arrayValue?.first?["id"]?.stringValue }
        #expect(localDead.filter { localID($0) == localIDs[1] }.count == 2 && localDead.filter { localID($0) == localIDs[3] }.count == 2)
        #expect(localDead.filter { localID($0) == localIDs[1] }.allSatisfy { $0["receiveCount"] == 4 })
        #expect(localDead.filter { localID($0) == localIDs[3] }.allSatisfy { $0["receiveCount"] == 1 })
        // In the cloud the 402 ones were sent by charge itself, with the error; the 500 ones by the redrive.
        for letter in cloudLetters {
            let id = argsID(try? JSON.parse(letter["body"]?.stringValue ?? ""))
            let code = letter["attributes"]?["infc-error-code"]?.stringValue
            if id == cloudIDs[3] {
                #expect(code == "service-error" && (letter["attributes"]?["infc-error"]?.stringValue ?? "").contains("402"), "\(letter)")
            } else {
                #expect(id == cloudIDs[1] && code == nil, "\(letter)")
            }
        }

        // The follow-up workflow, started for each paid order on both sides (run below).
        let executions = dump["executions"]?.arrayValue ?? []
        #expect(executions.map { normal($0["input"]?["args"] ?? .null, cloudIDs).serialized() }.sorted() == [#"["<order 0>"]"#, #"["<order 2>"]"#], "\(executions)")
        #expect((try localStatus())["workflows"]?["open"]?.arrayValue?.filter { $0["workflow"] == "follow_up" }.count == 2)

        // The payment service saw the same calls from both, with the secret's value.
        func calls(_ stub: StubServer) -> [String] { stub.requests.map(\.body).sorted() }
        #expect(calls(cloudStub) == calls(localStub), "\(calls(cloudStub)) vs \(calls(localStub))")
        #expect(cloudStub.requests.count == 2 + 8 + 2 && cloudStub.requests.allSatisfy { $0.body.contains(Self.secret) })
        // `charge` held the service's rate 50/s in the shared rates table: the slots it took are
        // items there, given back (free a second after their call's end).
        let slots = dump["tables"]?["InfcServiceRates"]?.objectValue ?? JSONObject()
        #expect(!slots.isEmpty && slots.count <= 50 && slots.keys.allSatisfy { $0.hasPrefix("payments#") }, "\(slots.keys)")
        #expect(slots.allSatisfy { ($0.value["holder"]?.stringValue ?? "").count > 0 && $0.value["freeAt"]?.doubleValue != nil })
        // The functions' logs name no secret.
        for (name, log) in dump["logs"]?.objectValue ?? JSONObject() { #expect(!(log.stringValue ?? "").contains(Self.secret), "\(name)") }

        // 4. The follow-up workflow run to its end, as deployed: each execution the functions
        // started on moto, with its input, by an executable copy of the deployed state machine
        // (moto cannot execute the ones its CloudFormation makes), its evaluator and `remind`
        // invocations answered by the package's bootstrap, its DynamoDB read moto's; a day's wait
        // takes a second (time scale 86400 on both sides).
        let inputs = executions.compactMap { $0["input"] }
        let ran = try call("POST", "/workflow", ["workflow": "follow_up", "inputs": .array(inputs), "timeScale": 86400])
        let runs = ran["executions"]?.arrayValue ?? []
        #expect(runs.count == 2 && runs.allSatisfy { $0["status"] == "SUCCEEDED" }, "\(ran)")
        let tasks = ran["invocations"]?.arrayValue ?? []
        // Per execution: the evaluator unwraps the order read and evaluates the condition, then `remind`.
        #expect(tasks.allSatisfy { $0["ok"] == .bool(true) } && tasks.filter { $0["function"] == "follow_up-eval" }.count == 4
                && tasks.filter { $0["function"] == "remind" }.count == 2 && tasks.count == 6, "\(tasks)")
        let after = try call("GET", "/dump")
        let reminders = (after["objects"]?["ReceiptsBucket"]?.objectValue ?? JSONObject()).filter { $0.key.hasPrefix("reminders/") }

        // The same inputs on `infc run` (the executions it started, read from its state), on a
        // second runtime at the same scale with the orders they read, so its own `sleep 1d`
        // ends in a second too.
        let python = try #require(Python.python3)
        let query = "import json, sqlite3, sys; print(json.dumps([json.loads(r[0]) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]))"
        func rows(_ state: URL, _ sql: String) throws -> [JSON] {
            let r = try runProcess(python, ["-c", query, state.appendingPathComponent("state.db").path, sql], timeout: 30)
            try #require(r.status == 0, "\(r.stderr)")
            return try JSON.parse(r.text).arrayValue ?? []
        }
        let localInputs = try rows(state, "SELECT input FROM workflow_executions WHERE workflow = 'follow_up' ORDER BY id")
        #expect(localInputs.map { normal($0, localIDs).serialized() }.sorted() == inputs.map { normal($0["args"] ?? .null, cloudIDs).serialized() }.sorted(),
                "\(localInputs) \(inputs)")
        let followUpState = dir.appendingPathComponent("state-follow-up")
        let followUpPort = freeLoopbackPort()
        let followUp = Process()
        followUp.executableURL = Binary.url
        followUp.arguments = ["run", build.path, "--port", String(followUpPort), "--state", followUpState.path, "--time-scale", "86400"]
        followUp.environment = local.environment
        followUp.standardOutput = FileHandle.nullDevice
        followUp.standardError = FileHandle.nullDevice
        try followUp.run()
        defer { if followUp.isRunning { followUp.terminate() }; followUp.waitUntilExit() }
        try #require(eventually(timeout: 30) { ChildServer.accepts(followUpPort) }, "the second infc run did not listen")
        let there = ["--state", followUpState.path, "--build", build.path]
        for input in localInputs {
            let id = try #require(input.arrayValue?.first?.stringValue, "\(input)")
            let order = try CLI.run(["table", "orders", "get", id, "--state", state.path, "--build", build.path])
            #expect(try CLI.run(["table", "orders", "put", id, order.stdout] + there).status == 0)
        }
        for input in localInputs {
            let started = try CLI.run(["invoke", "follow_up"] + (input.arrayValue ?? []).map { $0.serialized() } + ["--state", followUpState.path])
            #expect(started.status == 0, "\(started.stderr)")
        }
        var finished: [JSON] = []
        let ended = try eventually(timeout: 60) {
            finished = try rows(followUpState, "SELECT json_array(status, json(result)) FROM workflow_executions WHERE workflow = 'follow_up' AND status IN ('completed', 'failed')")
            return finished.count == localInputs.count
        }
        try #require(ended, "infc run did not finish follow_up: \(finished)")
        // The same results (a workflow without `return` gives null) and the same reminders.
        #expect(finished.map { $0.serialized() }.sorted() == runs.map { JSON.array([$0["status"] == "SUCCEEDED" ? "completed" : "failed", $0["output"] ?? .null]).serialized() }.sorted(),
                "\(finished) \(runs)")
        #expect(reminders.map(\.key).map { normal($0, cloudIDs) }.sorted() == ["reminders/<order 0>.txt", "reminders/<order 2>.txt"], "\(reminders.map(\.key))")
        let listed = try CLI.run(["bucket", "receipts", "list"] + there).stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(listed.map { normal($0, localIDs) }.sorted() == reminders.map(\.key).map { normal($0, cloudIDs) }.sorted(), "\(listed)")
        for (key, object) in reminders {
            let localKey = normal(key, cloudIDs).replacingOccurrences(of: "<order 0>", with: localIDs[0]).replacingOccurrences(of: "<order 2>", with: localIDs[2])
            let here = try CLI.run(["bucket", "receipts", "get", localKey] + there)
            let text = String(decoding: Base64.decode(object["b64"]?.stringValue ?? "") ?? [], as: UTF8.self)
            #expect(normal(text, cloudIDs) == normal(here.stdout, localIDs) && !text.isEmpty, "\(key): \(text) vs \(here.stdout)")
        }
    }
}
