// End-to-end runtime tests: crash safety — kill -9 the runtime while 1,000 accepted async
// messages are in flight and a workflow sleeps; restart on the same state: every message is
// processed (none lost) and the workflow completes without redoing its finished step (each
// step's side effect is counted).
import InfcTestSupport
import Foundation
import InfcCompiler
import Testing

extension RuntimeE2E {
    @Suite struct Crash {
        static let source = """
            app crash
            table seen
            table steps

            route POST "/burst" (req) {
              for i in range(req.body.n) { async work(req.body.base + i) }
              return { status: 202, body: { accepted: req.body.n } }
            }

            fn work(i) {
              seen.put(str(i), true)
            }

            route POST "/flow" (req) {
              async flow(req.body.id)
              return { status: 202 }
            }

            fn flow(id) {
              step_a(id)
              sleep 1h
              step_b(id)
              return "done"
            }

            fn step_a(id) { steps.put("a-{uuid()}", { step: "a", id: id }) }
            fn step_b(id) { steps.put("b-{uuid()}", { step: "b", id: id }) }

            route GET "/seen" (req) { return len(seen.scan()) }
            route GET "/steps" (req) { return steps.scan() }
            """

        static func stepCounts(_ runtime: InfcProcess) throws -> (a: Int, b: Int) {
            let steps = try runtime.get("/steps").json?.arrayValue ?? []
            return (steps.filter { $0["step"] == "a" }.count, steps.filter { $0["step"] == "b" }.count)
        }

        @Test(.timeLimit(.minutes(1))) func killNineLosesNoMessageAndRedoesNoStep() throws {
            let app = try TestApp(Self.source, name: "crash")
            try app.build()
            // 1 hour lasts 4 s.
            let first = try InfcProcess.run(app, timeScale: 900)
            defer { first.kill() }

            #expect(try first.post("/flow", json: #"{"id": "w1"}"#).status == 202)
            #expect(try eventually(timeout: 10) {
                try first.get("/_infc/status").json?["workflows"]?["counts"]?["sleeping"] == 1
            }, "the workflow should be sleeping before the crash")
            #expect(try Self.stepCounts(first).a == 1)

            let burst = try first.post("/burst", json: #"{"n": 1000, "base": 0}"#)
            #expect(burst.status == 202)
            first.kill()  // kill -9 while the messages are being delivered
            let before = first.output.components(separatedBy: "work queue work-queue").count - 1
            #expect(before < 1000, "some messages should still be pending at the crash (processed \(before))")

            let second = try InfcProcess.run(app, timeScale: 900)
            defer { second.kill() }
            #expect(try eventually(timeout: 30) { try second.get("/seen").json == 1000 },
                    "every accepted message is processed after the restart")
            #expect(try eventually(timeout: 20) {
                try second.get("/_infc/status").json?["workflows"]?["counts"]?["completed"] == 1
            }, "the sleeping workflow resumes and completes")
            let counts = try Self.stepCounts(second)
            #expect(counts.a == 1, "step_a ran \(counts.a) times: a finished step was redone")
            #expect(counts.b == 1)
        }
    }
}
