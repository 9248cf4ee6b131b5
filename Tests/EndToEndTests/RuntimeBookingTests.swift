import InfcTestSupport
// End-to-end runtime tests: conditional writes make races winnable — examples/booking.inf on the
// real runtime: 50 concurrent bookings of one slot give exactly one 201 and 49 409s that all
// name the winner, the stored booking is the winner's, and each of 50 distinct slots booked
// at once is won once; `replace` with a stale value is refused with the value now stored.
import Foundation
import InfcCompiler
import Testing

extension RuntimeE2E {
    @Suite struct Booking {
        static let source: String = {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            return (try? String(contentsOf: root.appendingPathComponent("examples/booking.inf"), encoding: .utf8)) ?? ""
        }()

        /// Sends all `bodies` at once (one thread each, released together); the responses in order.
        static func concurrently(_ runtime: InfcProcess, _ requests: [(method: String, path: String, body: String)]) -> [TestResponse?] {
            let results = ResultBox()
            let gun = DispatchSemaphore(value: 0)
            let group = DispatchGroup()
            for r in requests {
                group.enter()
                Thread.detachNewThread {
                    gun.wait()
                    let response = try? HTTP.request(r.method, port: runtime.port, path: r.path,
                                                     headers: [("Content-Type", "application/json")], body: Array(r.body.utf8))
                    results.add(response)
                    group.leave()
                }
            }
            for _ in requests { gun.signal() }
            _ = group.wait(timeout: .now() + 30)
            return results.all
        }

        @Test(.timeLimit(.minutes(1))) func fiftyConcurrentBookingsOfOneSlotHaveExactlyOneWinner() throws {
            #expect(!Self.source.isEmpty)
            let app = try TestApp(Self.source, name: "booking")
            try app.build()
            let runtime = try InfcProcess.run(app)
            defer { runtime.kill() }

            let responses = Self.concurrently(runtime, (0..<50).map { ("POST", "/slots/sat-10am", #"{"by": "p\#($0)"}"#) })
            #expect(responses.count == 50)
            let won = responses.compactMap { $0 }.filter { $0.status == 201 }
            let lost = responses.compactMap { $0 }.filter { $0.status == 409 }
            #expect(won.count == 1, "winners: \(won.map(\.text))")
            #expect(lost.count == 49)
            let winner = try #require(won.first?.json?["by"]?.stringValue)
            #expect(lost.allSatisfy { $0.json?["by"] == .string(winner) }, "every loser is told who won")
            #expect(try runtime.get("/slots/sat-10am").json?["by"] == .string(winner))

            // Fifty different slots at once: every one is won, by its only asker.
            let distinct = Self.concurrently(runtime, (0..<50).map { ("POST", "/slots/s\($0)", #"{"by": "q\#($0)"}"#) })
            #expect(distinct.filter { $0?.status == 201 }.count == 50)
            #expect(try runtime.get("/slots").json?.arrayValue?.count == 51)

            // replace: the winner's edit goes through; an edit based on what was read before is refused.
            let edit = try HTTP.request("PATCH", port: runtime.port, path: "/slots/sat-10am", headers: [("Content-Type", "application/json")],
                                        body: Array(#"{"by": "\#(winner)", "note": "two people"}"#.utf8))
            #expect(edit.status == 200 && edit.json?["note"] == "two people", "\(edit.text)")
            let other = try HTTP.request("PATCH", port: runtime.port, path: "/slots/sat-10am", headers: [("Content-Type", "application/json")],
                                         body: Array(#"{"by": "someone", "note": "mine"}"#.utf8))
            #expect(other.status == 403)
        }
    }
}
