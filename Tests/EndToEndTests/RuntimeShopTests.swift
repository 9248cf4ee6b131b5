// End-to-end runtime tests: the SPEC §2 shop program on the real `infc run` — an order is
// accepted (202), charged through its queue against a local stub of `payments`, the paid event
// lands a receipt in the bucket, and the follow-up workflow (a `sleep 1d` under the test clock)
// writes its reminder. The trace follows the work; the secret never reaches the output.
import InfcTestSupport
import Foundation
import InfcCompiler
import Testing

extension RuntimeE2E {
    @Suite struct Shop {
        /// examples/shop.inf (the SPEC §2 program), plus one route to read the bucket.
        static func source() throws -> String {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            let shop = try String(contentsOf: root.appendingPathComponent("examples/shop.inf"), encoding: .utf8)
            return shop + "\nroute GET \"/receipt\" (req) { return receipts.get(req.query.key) }\n"
        }

        @Test(.timeLimit(.minutes(1))) func orderIsChargedReceiptedAndFollowedUp() throws {
            let charges = CountingBox()
            let stub = try StubServer { method, path, _ in
                guard method == "POST", path == "/charges" else { return (404, "{\"error\":\"no\"}") }
                return (200, "{\"id\":\"ch_\(charges.next())\"}")
            }
            defer { stub.stop() }
            let app = try TestApp(try Self.source(), name: "shop")
            try app.build()
            let secret = "sk_test_4242_do_not_print"
            // 1 day lasts 2 s: the workflow really suspends and is resumed by the scheduler.
            let runtime = try InfcProcess.run(app, timeScale: 43_200, environment: [
                "INFC_SECRET_PAYMENTS_KEY": secret, "INFC_SERVICE_PAYMENTS_URL": stub.url,
            ])
            defer { runtime.kill() }

            let created = try runtime.post("/orders", json: #"{"item": "book", "qty": 2}"#)
            #expect(created.status == 202)
            let id = try #require(created.json?["id"]?.stringValue)
            #expect(created.json?["status"] == "new")
            let trace = try #require(created.header("X-Trace-Id"))

            // Charged through the queue, against the stub.
            #expect(try eventually(timeout: 10) { try runtime.get("/orders/\(id)").json?["status"] == "paid" })
            let order = try runtime.get("/orders/\(id)")
            #expect(order.status == 200)
            #expect(order.json?["payment"]?.stringValue?.hasPrefix("ch_") == true)
            let charge = try #require(stub.received.first { $0.path == "/charges" })
            let chargeBody = try JSON.parse(charge.body)
            #expect(chargeBody["amount"] == 20)
            #expect(chargeBody["key"]?.stringValue == secret)

            // The paid event lands a receipt in the bucket.
            #expect(try eventually(timeout: 10) {
                try runtime.get("/receipt?key=\(id).txt").json?.stringValue == "order \(id): paid"
            })
            // The follow-up workflow sleeps "1d" (2 s here), then writes its reminder.
            #expect(try eventually(timeout: 20) {
                try runtime.get("/receipt?key=reminders/\(id).txt").json?.stringValue == "order \(id) is still on its way"
            })
            let missing = try runtime.get("/orders/nope")
            #expect(missing.status == 404)
            let missingTrace = try #require(missing.header("X-Trace-Id"))
            #expect(try runtime.get("/orders").status == 405)  // POST /orders exists
            let wrongMethod = try HTTP.request("DELETE", port: runtime.port, path: "/orders/\(id)")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.header("Allow")?.contains("GET") == true)

            // The trace follows the request through the queue, the topic and the workflow.
            #expect(try eventually(timeout: 5) {
                let r = try InfcProcess.once(["trace", trace, "--state", app.stateDirectory], directory: app.directory)
                return r.status == 0 && ["post_orders", "charge", "on_order_events", "follow_up", "remind"]
                    .allSatisfy { r.output.contains($0) }
            })
            // The 20 most recent traces, newest first, with their root functions: the 404 above
            // is among them (only a few schedule firings can have come since).
            #expect(try eventually(timeout: 5) {
                let recent = try InfcProcess.once(["trace", "--state", app.stateDirectory], directory: app.directory)
                let lines = recent.output.split(separator: "\n")
                return recent.status == 0 && lines.count == 20 && lines.contains("\(missingTrace)  get_orders_id")
            })
            // As JSON, every record of the order's trace.
            let json = try InfcProcess.once(["trace", trace, "--state", app.stateDirectory, "--format", "json"], directory: app.directory)
            let records = try JSON.parse(json.output).arrayValue ?? []
            #expect(records.count >= 5 && records.allSatisfy { $0["trace"]?.stringValue == trace }, "\(json.output)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: app.stateDirectory + "/traces").contains { $0.hasSuffix(".trace") })
            let status = try runtime.get("/_infc/status")
            #expect(status.status == 200)
            #expect(status.json?["workflows"]?["counts"]?["completed"] == 1)

            #expect(!runtime.output.contains(secret))
            runtime.signal(SIGTERM)
            #expect(runtime.waitForExit(timeout: 15) == 0)
            #expect(!runtime.output.contains(secret))
        }
    }
}

final class CountingBox: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        n += 1
        return n
    }
}
