// End-to-end runtime tests: hostile HTTP against the real `infc run` — malformed request lines,
// oversize headers and bodies, invalid JSON, a client sending one byte per second, half-closed
// connections — while another client keeps getting correct answers; then a clean SIGTERM.
import InfcTestSupport
import Foundation
import Glibc
import InfcCompiler
import Testing

extension RuntimeE2E {
    @Suite struct HostileHTTP {
        static let source = """
            app ping
            route GET "/ping" (req) { return { pong: true, q: req.query.q ?? null } }
            route POST "/echo" (req) { return { body: req.body, type: req.headers["content-type"] ?? null } }
            route GET "/items/:id" (req) { return { id: req.params.id } }
            """

        /// Sends raw bytes, optionally half-closes, and reads the whole answer.
        static func raw(_ port: Int, _ bytes: [UInt8], halfClose: Bool = false, timeout: Double = 10) throws -> [UInt8] {
            let s = try TestClient(port: port, seconds: timeout)
            defer { s.close() }
            try s.send(bytes)
            if halfClose { s.shutdownWrite() }
            return try s.readToEnd()
        }

        static func status(_ bytes: [UInt8]) -> Int? { try? HTTP.parse(bytes).status }

        @Test(.timeLimit(.minutes(1))) func hostileClientsDoNotDisturbOthers() throws {
            let app = try TestApp(Self.source, name: "ping")
            try app.build()
            let runtime = try InfcProcess.run(app)
            defer { runtime.kill() }
            let port = runtime.port

            // A client that sends its request a byte at a time, in the background, and a
            // well-behaved one that meanwhile makes 30 requests. The slow client sends its next
            // byte only once the good one has been answered a few more times, so the good
            // requests are served while the slow request is open, whatever the machine's speed.
            let good = Locked<[TestResponse?]>([])
            let slowDone = DispatchSemaphore(value: 0)
            let slow = try TestClient(port: port, seconds: 10)
            Thread.detachNewThread {
                for (k, byte) in Array("GET /ping HTTP/1.1\r\nHost: x\r\n".utf8).prefix(4).enumerated() {
                    if (try? slow.send([byte])) == nil { break }
                    _ = eventually(timeout: 30) { good.value.count >= (k + 1) * 7 }
                }
                slowDone.signal()
            }
            let goodDone = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                for i in 0..<30 {
                    let r = try? HTTP.request("GET", port: port, path: "/ping?q=\(i)")
                    good.withValue { $0.append(r) }
                }
                goodDone.signal()
            }

            // Malformed request line → 400.
            #expect(Self.status(try Self.raw(port, Array("GARBAGE\r\n\r\n".utf8))) == 400)
            #expect(Self.status(try Self.raw(port, Array("GET\r\n\r\n".utf8))) == 400)
            // Oversize headers → 431.
            let bigHeader = "GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 40_000) + "\r\n\r\n"
            #expect(Self.status(try Self.raw(port, Array(bigHeader.utf8))) == 431)
            // Oversize body (declared) → 413.
            let bigBody = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5000000\r\n\r\n" + String(repeating: "b", count: 1000)
            #expect(Self.status(try Self.raw(port, Array(bigBody.utf8))) == 413)
            // Invalid JSON declared as JSON → 400; text stays text; chunked bodies are read.
            let invalid = try runtime.post("/echo", json: "{not json")
            #expect(invalid.status == 400)
            #expect(invalid.json?["error"]?.stringValue?.contains("JSON") == true)
            let text = try HTTP.request("POST", port: port, path: "/echo", headers: [("Content-Type", "text/plain")],
                                        body: Array("hello".utf8))
            #expect(text.json?["body"] == "hello")
            let chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n"
            let chunkedAnswer = try HTTP.parse(try Self.raw(port, Array(chunked.utf8)))
            #expect(chunkedAnswer.status == 200)
            #expect(chunkedAnswer.json?["body"] == ["a": 1])
            // A complete request, then a half-close: the answer still arrives.
            let half = try Self.raw(port, Array("GET /items/a%20b HTTP/1.1\r\nHost: x\r\n\r\n".utf8), halfClose: true)
            #expect(try HTTP.parse(half).json?["id"] == "a b")
            // A partial request, then a half-close: the server closes (maybe with 400), no hang.
            let partial = try Self.raw(port, Array("GET /pi".utf8), halfClose: true)
            #expect(partial.isEmpty || Self.status(partial) == 400)
            // Keep-alive: two pipelined requests on one connection.
            let pipelined = "GET /ping?q=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /ping?q=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let both = String(decoding: try Self.raw(port, Array(pipelined.utf8)), as: UTF8.self)
            #expect(both.components(separatedBy: "HTTP/1.1 200").count == 3)

            #expect(goodDone.wait(timeout: .now() + 30) == .success)
            let answers = good.value
            #expect(answers.count == 30)
            #expect(answers.allSatisfy { $0?.status == 200 && $0?.json?["pong"] == true },
                    "a well-behaved client got every answer while the others misbehaved")
            #expect(slowDone.wait(timeout: .now() + 10) == .success)
            slow.close()

            runtime.signal(SIGTERM)
            #expect(runtime.waitForExit(timeout: 15) == 0)
        }
    }
}
