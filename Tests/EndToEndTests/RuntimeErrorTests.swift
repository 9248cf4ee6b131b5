import InfcTestSupport
// End-to-end runtime tests: errors kept and surprises announced — every failed attempt of a
// message is kept with its time and carried into the dead letter, with a failing service's
// status and body (secrets redacted), shown by `infc status` (text with whole queue names, JSON
// listing a queue that holds only dead letters) and `infc trace`; a 4xx answer is not retried; at start, a warning for each
// secret without a value and each service that would be called at its real URL.
import Foundation
import InfcCompiler
import Testing

extension RuntimeE2E {
    @Suite struct Errors {
        static let source = """
            app errs
            secret api_key
            secret webhook_token
            service sms "http://127.0.0.1:9"
            service billing "https://billing.example.invalid"

            route POST "/send" (req) {
              async send_text_message_to_photographer(req.body.path, req.body.to)
              return { status: 202 }
            }

            fn send_text_message_to_photographer(path, to) retry 2 backoff 100ms {
              sms.post(path, { to: to, key: api_key.value() })
            }

            route POST "/later" (req) {
              async notify_later(req.body.to)
              return { status: 202 }
            }

            fn notify_later(to) retry 1 backoff 100ms {
              sleep 1s
              sms.post("/messages", { to: to })
            }

            route POST "/bill" (req) { return billing.post("/invoices", { token: webhook_token.value() }) }
            """

        static let secret = "sk_live_0123456789"

        @Test(.timeLimit(.minutes(1))) func everyAttemptAndTheServiceBodyAreKeptAndSurprisesAnnounced() throws {
            let stub = try StubServer(raw: { r in
                let sent = (try? JSON.parse(bytes: r.body))?["key"]?.stringValue ?? "?"
                if r.path == "/reject" { return (401, "application/json", Array(#"{"error":"invalid token"}"#.utf8)) }
                return (503, "application/json", Array(#"{"error":"upstream down","token":"\#(sent)"}"#.utf8))
            })
            defer { stub.stop() }
            let app = try TestApp(Self.source, name: "errors")
            try app.build()
            let runtime = try InfcProcess.run(app, timeScale: 10, environment: [
                "INFC_SERVICE_SMS_URL": stub.url, "INFC_SECRET_API_KEY": Self.secret,
            ])
            defer { runtime.kill() }

            // Start-up warnings: the secret without a value, the service at its real URL; none for
            // the secret that is set or the service that is overridden.
            let start = runtime.output
            #expect(start.contains("warning: secret webhook_token is not set: set INFC_SECRET_WEBHOOK_TOKEN in the environment or add INFC_SECRET_WEBHOOK_TOKEN=… to \(app.directory)/.env"), "\(start)")
            #expect(start.contains("warning: service billing will be called at its real URL https://billing.example.invalid; set INFC_SERVICE_BILLING_URL to call a local stub instead"), "\(start)")
            #expect(!start.contains("secret api_key is not set"))
            #expect(!start.contains("service sms will be called"))

            #expect(try runtime.post("/send", json: #"{"path": "/messages", "to": "+15550100"}"#).status == 202)
            var statusJSON: JSON?
            #expect(try eventually(timeout: 20) {
                let r = try InfcProcess.once(["status", "--state", app.stateDirectory, "--format", "json"], directory: app.directory)
                statusJSON = try? JSON.parse(r.output)
                return statusJSON?["deadLetters"]?.arrayValue?.isEmpty == false
            })
            let queue = "send_text_message_to_photographer-queue"
            let dead = try #require(statusJSON?["deadLetters"]?.arrayValue?.first)
            #expect(dead["queue"] == .string(queue))
            #expect(dead["receiveCount"] == 3)
            let attempts = dead["attempts"]?.arrayValue ?? []
            #expect(attempts.count == 3, "\(dead)")
            for attempt in attempts {
                let error = attempt["error"]?.stringValue ?? ""
                #expect(error.contains(#"sms answered 503 to POST /messages: {"error":"upstream down","token":"‹secret›"}"#), "\(error)")
                #expect(attempt["at"]?.stringValue?.isEmpty == false)
            }
            #expect(!(statusJSON?.serialized().contains(Self.secret) ?? true))
            // A queue that holds only dead letters is listed.
            let queues = statusJSON?["queues"]?.arrayValue ?? []
            #expect(queues.contains { $0["name"] == .string(queue) && $0["deadLetters"] == 1 }, "\(queues)")

            let text = try InfcProcess.once(["status", "--state", app.stateDirectory], directory: app.directory)
            #expect(text.output.contains("  QUEUE                                    VISIBLE  IN FLIGHT  DELAYED  DEAD LETTERS\n  \(queue)        0          0        0             1"), "\(text.output)")
            #expect(text.output.contains("attempt 3 at "))
            #expect(text.output.contains("upstream down"))
            #expect(!text.output.contains(Self.secret))

            // The trace keeps each attempt's error too.
            let trace = try #require(dead["trace"]?.stringValue)
            var traced: (status: Int32, output: String) = (0, "")
            var failed: [JSON] = []
            // Records reach the trace log within a second.
            #expect(try eventually(timeout: 5) {
                traced = try InfcProcess.once(["trace", trace, "--state", app.stateDirectory, "--format", "json"], directory: app.directory)
                let records = (try? JSON.parse(traced.output))?.arrayValue ?? []
                failed = records.filter { $0["error"]?.stringValue?.contains("upstream down") == true }
                return failed.count == 3
            }, "\(traced.output)")
            #expect(!traced.output.contains(Self.secret))
            #expect(!runtime.output.contains(Self.secret))

            // The retry rule: a 4xx answer (other than 408 and 429) would only repeat, so the
            // message goes to the dead letters at its first failure.
            #expect(try runtime.post("/send", json: #"{"path": "/reject", "to": "+15550100"}"#).status == 202)
            var rejected: JSON?
            #expect(try eventually(timeout: 20) {
                let r = try InfcProcess.once(["status", "--state", app.stateDirectory, "--format", "json"], directory: app.directory)
                rejected = (try? JSON.parse(r.output))?["deadLetters"]?.arrayValue?.first { $0["error"]?.stringValue?.contains("401") == true }
                return rejected != nil
            })
            #expect(rejected?["receiveCount"] == 1)
            #expect(rejected?["attempts"]?.arrayValue?.count == 1)
            #expect(stub.received.filter { $0.path == "/reject" }.count == 1)

            // A workflow's service call: both attempts (retry 1) in the trace, the answer in the
            // failed workflow's error.
            #expect(try runtime.post("/later", json: #"{"to": "+15550101"}"#).status == 202)
            var failedWorkflow: JSON?
            #expect(try eventually(timeout: 20) {
                let r = try InfcProcess.once(["status", "--state", app.stateDirectory, "--format", "json"], directory: app.directory)
                failedWorkflow = (try? JSON.parse(r.output))?["workflows"]?["failed"]?.arrayValue?.first
                return failedWorkflow != nil
            })
            #expect(failedWorkflow?["error"]?.stringValue?.contains(#"sms answered 503 to POST /messages: {"error":"upstream down""#) == true,
                    "\(String(describing: failedWorkflow))")
            let workflowTrace = try #require(failedWorkflow?["trace"]?.stringValue)
            var steps: [JSON] = []
            #expect(try eventually(timeout: 5) {
                let t = try InfcProcess.once(["trace", workflowTrace, "--state", app.stateDirectory, "--format", "json"], directory: app.directory)
                steps = ((try? JSON.parse(t.output))?.arrayValue ?? []).filter { $0["kind"] == "step" }
                return steps.count == 2
            }, "\(steps)")
            #expect(steps.allSatisfy { $0["error"]?.stringValue?.contains("upstream down") == true })
        }
    }
}
