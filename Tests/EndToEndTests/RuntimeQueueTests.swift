// End-to-end runtime tests: queues and limits on the real `infc run` — a failing consumer is
// retried with growing delays and then dead-lettered with its error (visible in `infc status`);
// 50 concurrent requests to a `limit 5` route never run more than 5 at once (over the limit: 429
// with Retry-After); a `limit 3` queue consumer never runs more than 3 deliveries at once.
// Concurrency is measured inside the handlers: each records the span it ran in a table.
import InfcTestSupport
import Foundation
import InfcCompiler
import Testing

extension RuntimeE2E {
    @Suite struct Queues {
        static let source = """
            app jobs
            table attempts
            table spans
            service slow "http://127.0.0.1:9"

            route POST "/fail" (req) {
              async flaky(req.body.n)
              return { status: 202 }
            }

            fn flaky(n) retry 3 backoff 400ms {
              attempts.put(uuid(), now())
              throw "boom {n}"
            }

            route GET "/attempts" (req) { return attempts.scan() }

            route POST "/slow" (req) limit 5 {
              let start = now()
              slow.get("/wait")
              spans.put(uuid(), { start: start, end: now(), kind: "route" })
              return { ok: true }
            }

            route POST "/work" (req) {
              for i in range(req.body.n) { async work(i) }
              return { status: 202 }
            }

            fn work(i) limit 3 {
              let start = now()
              slow.get("/wait")
              spans.put(uuid(), { start: start, end: now(), kind: "queue" })
            }

            route GET "/spans" (req) { return spans.scan() }

            route GET "/code/:code" (req) {
              try {
                return slow.get("/code/{req.params.code}")
              } catch e {
                return { caught: e.status, body: e.body, code: e.code }
              }
            }

            service rated "http://127.0.0.1:9" rate 10/s

            route POST "/rated" (req) {
              for i in range(req.body.n) { async ping(i) }
              return { status: 202 }
            }

            fn ping(i) { rated.post("/ping", { i: i }) }
            """

        static func start(stubDelayMs: UInt32) throws -> (TestApp, StubServer, InfcProcess) {
            let stub = try StubServer { _, path, _ in
                if path.hasPrefix("/code/"), let code = Int(path.dropFirst(6)) {
                    return (code, "{\"reason\":\"because\"}")
                }
                usleep(stubDelayMs * 1000)
                return (200, "{\"ok\":true}")
            }
            let app = try TestApp(source, name: "jobs")
            try app.build()
            let runtime = try InfcProcess.run(app, environment: ["INFC_SERVICE_SLOW_URL": stub.url, "INFC_SERVICE_RATED_URL": stub.url])
            return (app, stub, runtime)
        }

        static func spans(_ runtime: InfcProcess, kind: String) throws -> [(start: Double, end: Double)] {
            let all = try runtime.get("/spans").json?.arrayValue ?? []
            return all.filter { $0["kind"]?.stringValue == kind }.compactMap { s in
                guard let a = s["start"]?.doubleValue, let b = s["end"]?.doubleValue else { return nil }
                return (a, b)
            }
        }

        @Test(.timeLimit(.minutes(1))) func failingConsumerBacksOffThenDeadLetters() throws {
            let (app, stub, runtime) = try Self.start(stubDelayMs: 0)
            defer { runtime.kill(); stub.stop() }
            #expect(try runtime.post("/fail", json: #"{"n": 7}"#).status == 202)

            // retry 3 → 4 receives; then the dead letter, with its error, in `infc status`.
            var statusJSON: JSON?
            #expect(try eventually(timeout: 15) {
                let r = try InfcProcess.once(["status", "--state", app.stateDirectory, "--format", "json"], directory: app.directory)
                statusJSON = try? JSON.parse(r.output)
                return statusJSON?["deadLetters"]?.arrayValue?.isEmpty == false
            })
            let dead = try #require(statusJSON?["deadLetters"]?.arrayValue?.first)
            #expect(dead["queue"] == "flaky-queue")
            #expect(dead["receiveCount"] == 4)
            #expect(dead["error"]?.stringValue?.contains("boom 7") == true)
            #expect(dead["body"] == [7])
            let text = try InfcProcess.once(["status", "--state", app.stateDirectory], directory: app.directory)
            #expect(text.status == 0)
            #expect(text.output.contains("flaky-queue"))
            #expect(text.output.contains("boom 7"))
            #expect(text.output.contains("dead letters (1)"))

            // Delays grow: 400 ms, 800 ms, 1600 ms (each ±20 %).
            let times = (try runtime.get("/attempts").json?.arrayValue ?? []).compactMap(\.doubleValue).sorted()
            #expect(times.count == 4)
            if times.count == 4 {
                let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
                #expect(gaps[0] >= 300 && gaps[0] < 800, "first retry after \(gaps[0]) ms")
                #expect(gaps[1] > gaps[0] && gaps[2] > gaps[1], "delays \(gaps) must grow")
            }
            let status = try runtime.get("/_infc/status")
            #expect(status.json?["deadLetterCounts"]?["flaky-queue"] == 1)
        }

        @Test(.timeLimit(.minutes(1))) func routeLimitHoldsUnderFiftyConcurrentRequests() throws {
            let (_, stub, runtime) = try Self.start(stubDelayMs: 150)
            defer { runtime.kill(); stub.stop() }
            let results = ResultBox()
            let gun = DispatchSemaphore(value: 0)
            let group = DispatchGroup()
            for _ in 0..<50 {
                group.enter()
                Thread.detachNewThread {
                    gun.wait()
                    let r = try? runtime.post("/slow", json: "{}")
                    results.add(r)
                    group.leave()
                }
            }
            for _ in 0..<50 { gun.signal() }
            #expect(group.wait(timeout: .now() + 30) == .success)
            let responses = results.all
            #expect(responses.count == 50)
            let ok = responses.filter { $0?.status == 200 }.count
            let throttled = responses.filter { $0?.status == 429 }
            #expect(ok + throttled.count == 50, "every request is answered 200 or 429")
            #expect(ok >= 5)
            #expect(throttled.allSatisfy { $0?.header("Retry-After") != nil })
            let spans = try Self.spans(runtime, kind: "route")
            #expect(spans.count == ok)
            let overlap = maxOverlap(spans)
            #expect(overlap <= 5, "saw \(overlap) running at once")
            #expect(overlap >= 3, "the limit should be reached (saw \(overlap))")
            #expect(stub.peakConcurrency <= 5)
        }

        @Test(.timeLimit(.minutes(1))) func queueConsumerLimitHolds() throws {
            let (_, stub, runtime) = try Self.start(stubDelayMs: 100)
            defer { runtime.kill(); stub.stop() }
            #expect(try runtime.post("/work", json: #"{"n": 24}"#).status == 202)
            #expect(try eventually(timeout: 20) { try Self.spans(runtime, kind: "queue").count == 24 })
            let overlap = maxOverlap(try Self.spans(runtime, kind: "queue"))
            #expect(overlap <= 3, "saw \(overlap) deliveries at once")
            #expect(overlap >= 2, "deliveries should run in parallel (saw \(overlap))")
            #expect(stub.peakConcurrency <= 3)
        }
    }
}

extension RuntimeE2E.Queues {
    @Test(.timeLimit(.minutes(1))) func serviceErrorsAreCatchableAndRatesHold() throws {
        let (_, stub, runtime) = try Self.start(stubDelayMs: 0)
        defer { runtime.kill(); stub.stop() }
        let caught = try runtime.get("/code/503").json
        #expect(caught?["caught"] == 503)
        #expect(caught?["body"] == ["reason": "because"])
        #expect(caught?["code"] == "service-error")
        #expect(try runtime.get("/code/200").json == ["reason": "because"])

        // rate 10/s: at most 10 calls reach the service in any one-second window (a token
        // bucket let 20 through in the first second), measured where they arrive.
        #expect(try runtime.post("/rated", json: #"{"n": 25}"#).status == 202)
        #expect(eventually(timeout: 15) { stub.received.filter { $0.path == "/ping" }.count == 25 })
        let arrivals = stub.receivedRaw.filter { $0.path == "/ping" }.map(\.time).sorted()
        let busiest = maxInWindow(arrivals, seconds: 1)
        #expect(busiest <= 10, "\(busiest) calls arrived within one second")
        #expect(busiest >= 8, "the rate should be used, not starved (\(busiest) in the busiest second)")
        #expect(arrivals.count == 25 && arrivals[24] - arrivals[0] >= 2, "25 calls at 10/s need over 2 s")
    }
}

/// The largest number of `times` (sorted) that fall within any window of `seconds`.
func maxInWindow(_ times: [Double], seconds: Double) -> Int {
    var best = 0
    var start = 0
    for end in times.indices {
        while times[end] - times[start] >= seconds { start += 1 }
        best = max(best, end - start + 1)
    }
    return best
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [TestResponse?] = []
    func add(_ r: TestResponse?) {
        lock.lock()
        items.append(r)
        lock.unlock()
    }
    var all: [TestResponse?] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}
