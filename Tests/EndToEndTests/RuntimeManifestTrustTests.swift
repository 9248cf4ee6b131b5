// End-to-end runtime tests: the runtime trusts the manifest. A build made with
// `--max-resources 1000` (over the default budget of 200) runs under `infc run` and `infc dev`,
// because the runtime parses and resolves the code but never re-checks the budget; and a build
// directory whose manifest lowers a queue's max receive count and gives a route a concurrency
// limit its code does not state runs with the manifest's values, and a schedule fired by hand
// goes through the delivery queue the manifest names.
import InfcTestSupport
import Foundation
import InfcCompiler
import Testing

extension RuntimeE2E {
    @Suite struct ManifestTrust {
        /// 40 routes: 6 resources each (function, role, log group, route, integration,
        /// permission), well over the default budget of 200.
        static let bigSource: String = {
            var s = "app big\n"
            for i in 0..<40 { s += "route GET \"/r\(i)\" (req) { return { n: \(i) } }\n" }
            return s
        }()

        @Test(.timeLimit(.minutes(1))) func buildWithARaisedCapRuns() throws {
            let app = try TestApp(Self.bigSource, name: "big")
            // Over the default cap the build fails: the app really is over 200.
            let refused = try InfcProcess.once(["build", "app.inf", "-o", "b"], directory: app.directory)
            #expect(refused.status == 1)
            #expect(refused.output.contains("over the budget of 200"))

            let built = try InfcProcess.once(["build", "app.inf", "--max-resources", "1000", "-o", "b"], directory: app.directory)
            #expect(built.status == 0, "\(built.output)")
            let manifest = try JSON.parse(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: app.directory + "/b/manifest.json"))))
            #expect(manifest["budget"]?["cap"] == 1000)
            #expect((manifest["budget"]?["total"]?.intValue ?? 0) > 200)

            let run = try InfcProcess(["run", "b", "--port", "0", "--state", app.stateDirectory], directory: app.directory)
            defer { run.kill() }
            try run.waitUntilListening()
            let r = try run.get("/r39")
            #expect(r.status == 200)
            #expect(r.json?["n"] == 39)
            run.kill()

            let dev = try InfcProcess(["dev", "app.inf", "--max-resources", "1000", "--port", "0", "--state", app.stateDirectory],
                                      directory: app.directory)
            defer { dev.kill() }
            try dev.waitUntilListening()
            #expect(try dev.get("/r7").json?["n"] == 7)
        }

        static let source = """
            app trust
            table attempts
            service gate "http://127.0.0.1:9"

            route POST "/fail" (req) {
              async flaky(req.body.n)
              return { status: 202 }
            }

            fn flaky(n) retry 3 backoff 100ms {
              attempts.put(uuid(), now())
              throw "boom {n}"
            }

            route GET "/attempts" (req) { return attempts.scan() }

            route GET "/held" (req) { return gate.get("/hold") }
            """

        /// Sets `key` to `value` on the element of `root[list]` whose `name` is `name`.
        static func set(_ key: String, _ value: JSON, on name: String, in list: String, of manifest: inout JSON) throws {
            guard case .object(var root) = manifest, case .array(var items)? = root[list] else {
                throw TestFailure("manifest has no \(list)")
            }
            guard let i = items.firstIndex(where: { $0["name"]?.stringValue == name }), case .object(var item) = items[i] else {
                throw TestFailure("manifest has no \(list) entry \(name)")
            }
            item[key] = value
            items[i] = .object(item)
            root[list] = .array(items)
            manifest = .object(root)
        }

        @Test(.timeLimit(.minutes(1))) func editedManifestValuesAreTheOnesThatRun() throws {
            let release = DispatchSemaphore(value: 0)
            let stub = try StubServer { _, path, _ in
                if path == "/hold" { release.wait() }
                return (200, "{\"held\":true}")
            }
            defer { stub.stop() }
            defer { release.signal() }  // never leave the stub's thread waiting
            let app = try TestApp(Self.source, name: "trust")
            let c = try app.build()
            #expect(c.plan.queue(named: QueueID("flaky-queue"))?.maxReceiveCount == 4)
            #expect(c.plan.function(named: FunctionID("get_held"))?.limit == nil)
            try app.editManifest { manifest in
                try Self.set("maxReceiveCount", 1, on: "flaky-queue", in: "queues", of: &manifest)
                try Self.set("limit", 1, on: "get_held", in: "functions", of: &manifest)
            }
            let runtime = try InfcProcess.run(app, environment: ["INFC_SERVICE_GATE_URL": stub.url])
            defer { runtime.kill() }

            // The queue's max receive count is the manifest's 1, not the code's retry 3 + 1.
            #expect(try runtime.post("/fail", json: #"{"n": 1}"#).status == 202)
            var dead: JSON?
            #expect(try eventually(timeout: 15) {
                let r = try InfcProcess.once(["status", "--state", app.stateDirectory, "--format", "json"], directory: app.directory)
                dead = (try? JSON.parse(r.output))?["deadLetters"]?.arrayValue?.first
                return dead != nil
            })
            #expect(dead?["queue"] == "flaky-queue")
            #expect(dead?["receiveCount"] == 1)
            #expect((try runtime.get("/attempts").json?.arrayValue ?? []).count == 1)

            // The route's limit is the manifest's 1: while one request is held at the service,
            // a second is refused with 429.
            let first = ResponseBox()
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                first.set(try? runtime.get("/held"))
                done.signal()
            }
            #expect(eventually(timeout: 10) { stub.received.count == 1 }, "the first request reaches the service")
            let second = try runtime.get("/held")
            #expect(second.status == 429)
            release.signal()
            #expect(done.wait(timeout: .now() + 15) == .success)
            #expect(first.get()?.status == 200)
        }

        static let tickSource = """
            app ticks
            table ticks

            every 1d {
              ticks.put(uuid(), now())
            }

            route GET "/ticks" (req) { return ticks.scan() }
            """

        /// A schedule's firings go through the queue the manifest names for them, a firing by
        /// hand (`infc schedule fire`) too: a manifest that renames that queue is honoured.
        @Test(.timeLimit(.minutes(1))) func aFiringByHandGoesThroughTheManifestsDeliveryQueue() throws {
            let app = try TestApp(Self.tickSource, name: "ticks")
            try app.build()
            try app.editManifest { manifest in
                guard case .object(var root) = manifest, case .array(var schedules)? = root["schedules"],
                      case .object(var schedule)? = schedules.first, case .object(var delivery)? = schedule["delivery"] else { return }
                delivery["queue"] = "renamed-firings"
                schedule["delivery"] = .object(delivery)
                schedules[0] = .object(schedule)
                root["schedules"] = .array(schedules)
                manifest = .object(root)
            }
            let runtime = try InfcProcess.run(app)
            defer { runtime.kill() }
            #expect(try runtime.get("/ticks").json?.arrayValue?.isEmpty == true)
            let fired = try InfcProcess.once(["schedule", "fire", "every_1d-schedule"], directory: app.directory)
            #expect(fired.status == 0, "\(fired.output)")
            #expect(try eventually(timeout: 10) { (try runtime.get("/ticks").json?.arrayValue ?? []).count == 1 })
        }

        static let limitedSource = """
            app limited
            service gate "http://127.0.0.1:9" limit 2
            table results

            route POST "/start" (req) {
              async fetch_later(req.body.n)
              return { status: 202 }
            }

            fn fetch_later(n) {
              sleep 1s
              let item = gate.get("/item")
              results.put("r", item)
            }

            route GET "/result" (req) { return results.get("r") }
            """

        /// A workflow calls a limited service through the function the manifest gives it (the one
        /// that calls the service and that the workflow may invoke), whatever its name: here the
        /// manifest renames it.
        @Test(.timeLimit(.minutes(1))) func aWorkflowCallsALimitedServiceThroughTheFunctionTheManifestGivesIt() throws {
            let stub = try StubServer { _, _, _ in (200, "{\"item\":7}") }
            defer { stub.stop() }
            let app = try TestApp(Self.limitedSource, name: "limited")
            let c = try app.build()
            #expect(c.plan.function(named: FunctionID("fetch_later_gate"))?.serviceCall == ResourceID("gate"))
            try app.editManifest { manifest in
                guard case .object(var root) = manifest, case .array(var functions)? = root["functions"],
                      case .array(var workflows)? = root["workflows"], case .object(var workflow)? = workflows.first,
                      case .array(var permissions)? = workflow["permissions"],
                      let f = functions.firstIndex(where: { $0["name"] == "fetch_later_gate" }), case .object(var function) = functions[f],
                      let p = permissions.firstIndex(where: { $0["resource"] == "fetch_later_gate" }), case .object(var permission) = permissions[p]
                else { return }
                function["name"] = "gate_caller"
                functions[f] = .object(function)
                permission["resource"] = "gate_caller"
                permissions[p] = .object(permission)
                workflow["permissions"] = .array(permissions)
                workflows[0] = .object(workflow)
                root["functions"] = .array(functions)
                root["workflows"] = .array(workflows)
                manifest = .object(root)
            }
            let runtime = try InfcProcess.run(app, timeScale: 20, environment: ["INFC_SERVICE_GATE_URL": stub.url])
            defer { runtime.kill() }
            #expect(try runtime.post("/start", json: #"{"n": 1}"#).status == 202)
            #expect(try eventually(timeout: 15) { try runtime.get("/result").json == ["item": 7] }, "\(runtime.output)")
            #expect(stub.requests.count == 1)
            #expect(runtime.output.contains("gate_caller"), "the call runs as the renamed function: \(runtime.output)")
        }

        /// The runtime finds code by the ranges the manifest gives; a range that is not a
        /// handler's declaration is refused with one line, never run.
        @Test(.timeLimit(.minutes(1))) func aHandlerRangeThatIsNoHandlerIsRefused() throws {
            let app = try TestApp(Self.source, name: "ranges")
            try app.build()
            try app.editManifest { manifest in
                guard case .object(var root) = manifest, case .array(var routes)? = root["routes"],
                      case .object(var route)? = routes.first, case .object(var handler)? = route["handler"] else { return }
                handler["range"] = ["start": 0, "end": 3]  // `app trust`: not a handler
                route["handler"] = .object(handler)
                routes[0] = .object(route)
                root["routes"] = .array(routes)
                manifest = .object(root)
            }
            let refused = try InfcProcess.once(["run", app.buildDirectory, "--port", "0", "--state", app.stateDirectory],
                                               directory: app.directory)
            #expect(refused.status == 2)
            #expect(refused.output.contains("which is not a handler in the code; rebuild with infc build"), "\(refused.output)")
            #expect(!refused.output.contains("Fatal error"))
        }
    }
}

/// One response handed from a client thread to the test.
final class ResponseBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: TestResponse?
    func set(_ r: TestResponse?) { lock.lock(); value = r; lock.unlock() }
    func get() -> TestResponse? { lock.lock(); defer { lock.unlock() }; return value }
}
