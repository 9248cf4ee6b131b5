// End-to-end runtime tests: what the runtime refuses — a permission removed from the manifest
// (access-denied naming function, resource and action; the code hash covers the code only, so
// an edited policy is honoured), a missing secret (a clear error at first use), a secret value
// that never reaches the output, a runaway loop stopped by its timeout, and build directories
// it will not run (code changed after the build, a newer manifest version).
import InfcTestSupport
import Foundation
import InfcCompiler
import Testing

extension RuntimeE2E {
    @Suite struct Policy {
        static let source = """
            app policy
            table items
            secret api_token
            secret shown

            route POST "/items" (req) {
              items.put(req.body.id, req.body)
              return { status: 201, body: req.body }
            }

            route GET "/items/:id" (req) {
              return items.get(req.params.id) ?? { status: 404, body: { error: "no such item" } }
            }

            route GET "/token" (req) { return { length: len(api_token.value()) } }

            route GET "/shown" (req) {
              log("the value is {shown.value()}")
              return { length: len(shown.value()) }
            }

            route GET "/caught" (req) {
              try { return api_token.value() } catch e { return { caught: e.code } }
            }

            route GET "/spin" (req) timeout 1s {
              var n = 0
              while true { n = n + 1 }
            }

            route GET "/teapot" (req) { throw { status: 418, body: "short and stout" } }
            """

        @Test(.timeLimit(.minutes(1))) func removedPermissionMissingSecretAndRunaways() throws {
            let app = try TestApp(Self.source, name: "policy")
            try app.build()
            // Drop `write` on `items` from POST /items's policy (the code stays as built).
            try app.editManifest { manifest in
                guard case .object(var root) = manifest, case .array(var functions)? = root["functions"] else { return }
                for i in functions.indices {
                    guard case .object(var f) = functions[i], f["name"] == "post_items",
                          case .array(let permissions)? = f["permissions"] else { continue }
                    f["permissions"] = .array(permissions.filter { $0["action"] != "write" })
                    functions[i] = .object(f)
                }
                root["functions"] = .array(functions)
                manifest = .object(root)
            }
            let shown = "visible-only-to-the-program-77"
            let runtime = try InfcProcess.run(app, environment: ["INFC_SECRET_SHOWN": shown], extra: ["--log-format", "json"])
            defer { runtime.kill() }

            // One runtime per state directory.
            let second = try InfcProcess.once(["run", app.buildDirectory, "--port", "0", "--state", app.stateDirectory],
                                              directory: app.directory)
            #expect(second.status == 2)
            #expect(second.output.contains("another infc runtime is using the state"))

            let denied = try runtime.post("/items", json: #"{"id": "x1"}"#)
            #expect(denied.status == 500)
            let message = denied.json?["error"]?.stringValue ?? ""
            #expect(message.contains("access denied") && message.contains("post_items") && message.contains("write")
                    && message.contains("items"), "got: \(message)")
            #expect(try runtime.get("/items/x1").status == 404)

            let missing = try runtime.get("/token")
            #expect(missing.status == 500)
            #expect(missing.json?["error"]?.stringValue?.contains("INFC_SECRET_API_TOKEN") == true)
            #expect(try runtime.get("/caught").json?["caught"] == "missing-secret")

            let ok = try runtime.get("/shown", headers: [("X-Trace-Id", "client-trace-42")])
            #expect(ok.json?["length"] == .int(shown.count))
            #expect(ok.header("X-Trace-Id") == "client-trace-42")

            // 504 is the runtime's answer when a handler's timeout stops it: the runaway loop
            // was stopped (the client's read timeout bounds the wait, it is not the assertion).
            let spin = try runtime.get("/spin")
            #expect(spin.status == 504)
            #expect(try runtime.get("/ping").status == 404)  // still serving

            let teapot = try runtime.get("/teapot")
            #expect(teapot.status == 418)
            #expect(teapot.text == "short and stout")

            // Ready when the last request's log line is out (lines are written in order).
            #expect(eventually(timeout: 10) {
                runtime.output.split(separator: "\n").contains { (try? JSON.parse(String($0)))?["function"] == "get_teapot" }
            })
            #expect(!runtime.output.contains(shown), "a secret value reached the output")
            // --log-format json: one object per line, one line per invocation.
            let lines = runtime.output.split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
            let spinLine = lines.first { $0["function"] == "get_spin" }
            #expect(spinLine?["outcome"] == "timeout")
            #expect(spinLine?["trigger"] == "route GET /spin")
            #expect(spinLine?["durationMs"]?.doubleValue ?? 0 >= 900)
            #expect(lines.contains { $0["function"] == "get_shown" && $0["trace"] == "client-trace-42" && $0["outcome"] == "ok" })
            #expect(lines.contains { $0["log"]?.stringValue?.contains("‹secret›") == true && $0["trace"] == "client-trace-42" })
            #expect(lines.first { $0["function"] == "post_items" }?["outcome"] == "error")
        }

        @Test(.timeLimit(.minutes(1))) func refusesBuildsItCannotTrust() throws {
            let app = try TestApp(Self.source, name: "refuse")
            try app.build()
            // The code changed after the build: the hash no longer matches.
            let code = app.buildDirectory + "/code/app.inf"
            try (try String(contentsOfFile: code, encoding: .utf8) + "\n// edited\n")
                .write(toFile: code, atomically: true, encoding: .utf8)
            let tampered = try InfcProcess.once(["run", app.buildDirectory, "--port", "0", "--state", app.stateDirectory],
                                                directory: app.directory)
            #expect(tampered.status == 2)
            #expect(tampered.output.contains("does not match the manifest's hash; rebuild with infc build"))

            try app.build()
            try app.editManifest { manifest in
                guard case .object(var root) = manifest else { return }
                root["version"] = 3
                manifest = .object(root)
            }
            let newer = try InfcProcess.once(["run", app.buildDirectory, "--port", "0", "--state", app.stateDirectory],
                                             directory: app.directory)
            #expect(newer.status == 2)
            #expect(newer.output.contains("built by a newer infc; rebuild with this version"))

            let none = try InfcProcess.once(["run", app.directory + "/nothing", "--port", "0"], directory: app.directory)
            #expect(none.status == 2)
            #expect(none.output.contains("infc build"))
            #expect(!none.output.contains("Fatal error"))
        }
    }
}
