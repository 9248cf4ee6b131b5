import InfcTestSupport
// End-to-end runtime tests: the commands beside a running runtime, in the app's directory with
// their default --state and --build — `infc table` and `infc bucket` seed and read state the
// routes then serve (bytes unchanged), `infc invoke` runs a fn and starts a workflow, `infc
// publish` reaches a subscriber, `infc schedule list|fire` shows a cron's next firing and runs it
// now, and `infc status` (text, JSON, /_infc/status) lists schedules and the failed workflow with
// its id and error. The control endpoints refuse a caller without the runtime's token.
import Foundation
import InfcCompiler
import Testing

extension RuntimeE2E {
    @Suite struct Commands {
        static let source = """
            app cafe
            table menu
            bucket photos
            topic orders

            route GET "/menu/:id" (req) { return menu.get(req.params.id) }
            route GET "/photo/:key" (req) { return photos.get(req.params.key) }

            fn price(item, qty) {
              let m = menu.get(item)
              return m.price * qty
            }

            route POST "/later" (req) {
              async price(req.body.item, 1)
              return { status: 202 }
            }

            on orders (o) { menu.put("order-{o.id}", o) }

            every "0 3 * * *" { menu.put("nightly", { ran: true }) }

            fn roast(x) {
              sleep 1s
              throw "burnt {x}"
            }

            route POST "/roast" (req) {
              async roast(req.body)
              return { status: 202 }
            }
            """

        static func infc(_ app: TestApp, _ arguments: String...) throws -> (status: Int32, output: String) {
            try InfcProcess.once(arguments, directory: app.directory)
        }

        @Test(.timeLimit(.minutes(1))) func tableBucketInvokePublishScheduleAndStatus() throws {
            let app = try TestApp(Self.source, name: "cafe")
            try app.build()
            let runtime = try InfcProcess.run(app, timeScale: 100)
            defer { runtime.kill() }

            // Tables: seed, read back through a route and the command, scan, delete.
            let put = try Self.infc(app, "table", "menu", "put", "latte", #"{"price": 3.5}"#)
            #expect(put.status == 0, "\(put.output)")
            #expect(try runtime.get("/menu/latte").json == ["price": 3.5])
            #expect(try Self.infc(app, "table", "menu", "get", "latte").output == "{\n  \"price\": 3.5\n}\n")
            #expect(try Self.infc(app, "table", "menu", "put", "tea", #"{"price": 2}"#).status == 0)
            #expect(try Self.infc(app, "table", "menu", "scan").output == "latte  {\"price\":3.5}\ntea  {\"price\":2}\n")
            #expect(try Self.infc(app, "table", "menu", "delete", "tea").status == 0)
            let gone = try Self.infc(app, "table", "menu", "get", "tea")
            #expect(gone.status == 1 && gone.output.contains("table menu has no key 'tea'"))
            let typo = try Self.infc(app, "table", "mneu", "scan")
            #expect(typo.status == 2 && typo.output.contains("cafe has no table 'mneu'; did you mean 'menu'?"), "\(typo.output)")
            #expect(try Self.infc(app, "table", "menu", "put", "x", "not json").output.contains("is not valid JSON"))

            // Buckets: a file of every byte value, served by a route and read back unchanged.
            let photo: [UInt8] = [0xFF, 0xD8] + (0...255).map { UInt8($0) } + [0xFF, 0xD9]
            let file = app.directory + "/photo.jpg"
            try Data(photo).write(to: URL(fileURLWithPath: file))
            #expect(try Self.infc(app, "bucket", "photos", "put", "p.jpg", file).status == 0)
            let served = try runtime.get("/photo/p.jpg")
            #expect(served.body == photo)
            #expect(served.header("Content-Type") == "image/jpeg")
            let copy = app.directory + "/copy.jpg"
            #expect(try Self.infc(app, "bucket", "photos", "get", "p.jpg", "-o", copy).status == 0)
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: copy))) == photo)
            #expect(try Self.infc(app, "bucket", "photos", "list").output == "p.jpg  260 bytes\n")

            // Invoke: a fn's result; a workflow started; a fn that does not exist.
            let priced = try Self.infc(app, "invoke", "price", #""latte""#, "2")
            #expect(priced.status == 0 && priced.output == "7\n", "\(priced.output)")
            let unknown = try Self.infc(app, "invoke", "prise")
            #expect(unknown.status == 2 && unknown.output.contains("no function or workflow prise in cafe; did you mean price?"), "\(unknown.output)")
            let failing = try Self.infc(app, "invoke", "price", #""mocha""#, "1")
            #expect(failing.status == 1 && failing.output.contains("type-error"), "\(failing.output)")
            let started = try Self.infc(app, "invoke", "roast", #""beans""#)
            #expect(started.status == 0 && started.output.contains("started workflow roast: execution wf-"), "\(started.output)")

            // Publish reaches the subscriber.
            let published = try Self.infc(app, "publish", "orders", #"{"id": "o1", "item": "latte"}"#)
            #expect(published.status == 0 && published.output.contains("published to orders (1 subscriber(s))"), "\(published.output)")
            #expect(try eventually(timeout: 10) { try runtime.get("/menu/order-o1").json?["item"] == "latte" })

            // Schedules: the cron's next firing; fired by hand.
            #expect(try eventually(timeout: 5) { try Self.infc(app, "schedule", "list").output.contains("03:00:00") })
            let list = try Self.infc(app, "schedule", "list")
            #expect(list.output.hasPrefix("  SCHEDULE         EVERY        RUNS    LAST FIRED"), "\(list.output)")
            #expect(list.output.contains("cron_1-schedule  \"0 3 * * *\"  cron_1"), "\(list.output)")
            #expect(try runtime.get("/menu/nightly").json == .null)
            let fired = try Self.infc(app, "schedule", "fire", "cron_1-schedule")
            #expect(fired.status == 0, "\(fired.output)")
            #expect(try eventually(timeout: 10) { try runtime.get("/menu/nightly").json == ["ran": true] })

            // Status: schedules with the next firing and the failed workflow with id and error.
            let execution = String(started.output.split(separator: " ").last { $0.hasPrefix("wf-") } ?? "")
            var statusJSON: JSON?
            #expect(try eventually(timeout: 10) {
                statusJSON = try? JSON.parse(Self.infc(app, "status", "--format", "json").output)
                return statusJSON?["workflows"]?["failed"]?.arrayValue?.isEmpty == false
            })
            let failure = try #require(statusJSON?["workflows"]?["failed"]?.arrayValue?.first)
            #expect(failure["id"] == .string(execution), "\(failure)")
            #expect(failure["error"]?.stringValue?.contains("burnt beans") == true, "\(failure)")
            let schedule = try #require(statusJSON?["schedules"]?.arrayValue?.first)
            #expect(schedule["name"] == "cron_1-schedule")
            #expect(schedule["nextFire"]?.stringValue?.contains("03:00:00") == true, "\(schedule)")
            let text = try Self.infc(app, "status").output
            #expect(text.contains("roast \(execution) failed at "), "\(text)")
            #expect(text.contains("burnt beans"))
            #expect(text.contains("cron_1-schedule"))
            let endpoint = try runtime.get("/_infc/status").json
            #expect(endpoint?["workflows"]?["failed"]?.arrayValue?.first?["id"] == .string(execution))

            // The control endpoints need the runtime's token.
            let refused = try runtime.post("/_infc/invoke", json: #"{"function": "price", "args": ["latte", 1]}"#)
            #expect(refused.status == 403)

            // After the runtime stops, the commands that need it say so.
            runtime.signal(SIGTERM)
            #expect(runtime.waitForExit(timeout: 10) == 0)
            let down = try Self.infc(app, "invoke", "price", #""latte""#, "1")
            #expect(down.status == 2 && down.output.contains("no runtime is running"), "\(down.output)")
            #expect(try Self.infc(app, "table", "menu", "get", "latte").status == 0)

            // A runtime killed with -9 leaves runtime.json behind; the commands see it is gone.
            let killed = try InfcProcess.run(app)
            killed.kill()
            #expect(FileManager.default.fileExists(atPath: app.stateDirectory + "/runtime.json"))
            let stale = try Self.infc(app, "publish", "orders", "{}")
            #expect(stale.status == 2 && stale.output.contains("no runtime is running"), "\(stale.output)")
        }
    }
}
