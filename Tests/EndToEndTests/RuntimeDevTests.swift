// End-to-end runtime tests: `infc dev` — a saved change is rebuilt and swapped in without losing
// a queued message (v1 keeps failing it; v2 processes it), and a change with errors prints its
// diagnostics while the old version keeps serving.
import InfcTestSupport
import Foundation
import InfcCompiler
import Testing

extension RuntimeE2E {
    @Suite struct Dev {
        static func source(version: String, job: String) -> String {
            """
            app devapp
            table done
            route GET "/version" (req) { return "\(version)" }
            route POST "/jobs" (req) {
              async job(req.body.id)
              return { status: 202 }
            }
            fn job(id) retry 20 backoff 400ms { \(job) }
            route GET "/done/:id" (req) { return done.get(req.params.id) }
            """
        }

        @Test(.timeLimit(.minutes(1))) func savedChangeIsSwappedInWithoutLosingAQueuedMessage() throws {
            let app = try TestApp(Self.source(version: "v1", job: "throw \"not ready in v1\""), name: "dev")
            let dev = try InfcProcess(["dev", app.sourcePath, "--port", "0", "--time-scale", "4"], directory: app.directory)
            defer { dev.kill() }
            try dev.waitUntilListening()
            #expect(try dev.get("/version").json == "v1")

            #expect(try dev.post("/jobs", json: #"{"id": "j1"}"#).status == 202)
            #expect(eventually(timeout: 10) { dev.output.contains("not ready in v1") }, "v1 fails the message")

            // A broken save: diagnostics, and v1 keeps serving.
            try app.write(Self.source(version: "v1", job: "throw \"not ready in v1\"") + "\nroute GET \"/broken\" (req) { return ")
            #expect(eventually(timeout: 10) { dev.output.contains("keeping the previous version") })
            #expect(dev.output.contains("error"))
            #expect(try dev.get("/version").json == "v1")

            // A good save: v2 is swapped in and processes the message v1 could not.
            try app.write(Self.source(version: "v2", job: "done.put(id, \"v2\")"))
            #expect(try eventually(timeout: 10) { try dev.get("/version").json == "v2" })
            #expect(try eventually(timeout: 20) { try dev.get("/done/j1").json == "v2" },
                    "the queued message survives the swap and v2 processes it")
            let status = try dev.get("/_infc/status").json
            #expect(status?["deadLetterCounts"] == [:])
        }
    }
}
