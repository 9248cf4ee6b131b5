// End-to-end runtime tests: workflows and schedules on the real `infc run` — `parallel` branches
// run their task steps concurrently, a failing task step is retried per its fn's own retry and
// then caught by try/catch, a
// flaky step succeeds on retry, a sleep resumes; `every` schedules fire on time, never twice
// across a kill -9 and restart, and a firing missed while down happens once on start.
import InfcTestSupport
import Foundation
import Glibc
import InfcCompiler
import Testing

extension RuntimeE2E {
    @Suite struct Workflows {
        static let source = """
            app flows
            table results
            table counters
            service svc "http://127.0.0.1:9"

            route POST "/start" (req) {
              async pipeline(req.body.id)
              return { status: 202 }
            }

            fn pipeline(id) retry 2 backoff 100ms {
              parallel {
                let a = fetch("a")
                let b = fetch("b")
              }
              var caught = null
              try {
                failing(id)
              } catch e {
                caught = e
              }
              let tries = flaky(id)
              sleep 3s
              results.put(id, { a: a, b: b, caught: caught, tries: tries })
            }

            fn fetch(name) {
              let r = svc.get("/wait/{name}")
              return name
            }

            fn failing(id) retry 4 backoff 50ms {
              counters.put("failing-{uuid()}", 1)
              throw "nope {id}"
            }

            fn flaky(id) {
              let n = (counters.get("flaky") ?? 0) + 1
              counters.put("flaky", n)
              if n < 2 { throw "flaky {n}" }
              return n
            }

            route GET "/results/:id" (req) { return results.get(req.params.id) }
            route GET "/counters" (req) { return counters.scan() }
            """

        @Test(.timeLimit(.minutes(1))) func parallelRetriesAndCatchAcrossSteps() throws {
            let stub = try StubServer { _, _, _ in
                usleep(400_000)
                return (200, "{\"ok\":true}")
            }
            defer { stub.stop() }
            let app = try TestApp(Self.source, name: "flows")
            try app.build()
            let runtime = try InfcProcess.run(app, timeScale: 2, environment: ["INFC_SERVICE_SVC_URL": stub.url])
            defer { runtime.kill() }

            #expect(try runtime.post("/start", json: #"{"id": "w1"}"#).status == 202)
            var result: JSON?
            #expect(try eventually(timeout: 20) {
                result = try runtime.get("/results/w1").json
                return result != nil && result != .null
            })
            #expect(result?["a"] == "a")
            #expect(result?["b"] == "b")
            #expect(result?["caught"] == "nope w1", "the step's thrown value reaches catch after its retries")
            #expect(result?["tries"] == 2, "the flaky step succeeded on its retry")
            #expect(stub.peakConcurrency == 2, "the parallel branches ran at the same time")
            let counters = try runtime.get("/counters").json?.arrayValue ?? []
            #expect(counters.filter { $0 == 1 }.count == 5,
                    "a task step retries per its own fn: failing ran once plus its 4 retries (not the workflow's 2)")
        }

        static let scheduleSource = """
            app ticks
            table fires
            every 1h { fires.put(uuid(), now()) }
            route GET "/fires" (req) { return fires.scan() }
            """

        static func fires(_ runtime: InfcProcess) throws -> [Double] {
            (try runtime.get("/fires").json?.arrayValue ?? []).compactMap(\.doubleValue).sorted()
        }

        @Test(.timeLimit(.minutes(1))) func schedulesFireOnTimeAndNeverTwice() throws {
            let app = try TestApp(Self.scheduleSource, name: "ticks")
            try app.build()
            // 1 hour lasts 1.5 s.
            let first = try InfcProcess.run(app, timeScale: 2400)
            defer { first.kill() }
            #expect(try eventually(timeout: 10) { try Self.fires(first).count == 1 })
            first.kill()

            // A restart right after a firing does not fire again at once.
            let second = try InfcProcess.run(app, timeScale: 2400)
            defer { second.kill() }
            let firstFire = try #require(try Self.fires(second).first)
            usleep(600_000)
            #expect(try Self.fires(second).count == 1, "a restart must not fire the schedule again")
            #expect(try eventually(timeout: 10) { try Self.fires(second).count == 2 })
            let gap = (try Self.fires(second))[1] - firstFire
            #expect(gap > 1_200 && gap < 3_500, "the next firing comes one interval later (\(gap) ms)")
            second.kill()

            // Down for more than two intervals: one firing on start, not two.
            usleep(3_500_000)
            let third = try InfcProcess.run(app, timeScale: 2400)
            defer { third.kill() }
            #expect(try eventually(timeout: 5) { try Self.fires(third).count == 3 })
            usleep(500_000)
            #expect(try Self.fires(third).count == 3, "missed firings fire once, not once per interval missed")
        }
    }
}
