// Runtime HTTP tests: the server over real sockets on 127.0.0.1 — keep-alive, pipelining,
// bodies, limits, malformed input, slow and half-closed clients, draining on stop.

import InfcTestSupport
import Dispatch
import Glibc
import Synchronization
import Testing
@testable import InfcRuntime

@Suite(.serialized) struct HTTPServerTests {
    @Test func simpleGet() throws {
        try withServer { port in
            let client = try TestClient(port: port)
            let response = try client.request("GET", "/orders/a%20b?x=1&name=J+D%21")
            #expect(response.status == 200)
            #expect(response.text == "GET /orders/a b ?x=1&name=J D! ")
            #expect(response.header("Content-Length") == "\(response.body.count)")
            #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
            #expect(response.header("Date")?.hasSuffix(" GMT") == true)
            #expect(response.header("Connection") == nil)
        }
    }

    @Test func keepAliveServesSequentialRequests() throws {
        try withServer { port in
            let client = try TestClient(port: port)
            for i in 1...3 {
                let response = try client.request("GET", "/n/\(i)")
                #expect(response.status == 200)
                #expect(response.text == "GET /n/\(i) ? ")
            }
        }
    }

    @Test func pipelinedRequestsAnswerInOrder() throws {
        try withServer { port in
            let client = try TestClient(port: port)
            try client.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\n\r\n")
            #expect(try client.readResponse().text == "GET /1 ? ")
            #expect(try client.readResponse().text == "POST /2 ? abc")
            #expect(try client.readResponse().text == "GET /3 ? ")
        }
    }

    @Test func contentLengthBody() throws {
        try withServer { port in
            let client = try TestClient(port: port)
            let response = try client.request("POST", "/orders", headers: ["Content-Type: application/json"], body: #"{"qty":2}"#)
            #expect(response.text == #"POST /orders ? {"qty":2}"#)
            // The connection is still usable afterwards.
            #expect(try client.request("GET", "/after").status == 200)
        }
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() throws {
        try withServer { port in
            let client = try TestClient(port: port)
            try client.send("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
            try client.send("5;ext=1\r\nhello\r\n")
            try client.send("6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n")
            #expect(try client.readResponse().text == "POST /c ? hello world")
            #expect(try client.request("GET", "/next").status == 200)
        }
    }

    @Test func tooLargeBodyIs413AndCloses() throws {
        try withServer { port in
            let client = try TestClient(port: port)
            try client.send("POST /big HTTP/1.1\r\nContent-Length: \(2 * 1024 * 1024)\r\n\r\n")
            try client.send([UInt8](repeating: 65, count: 1000))
            let response = try client.readResponse()
            #expect(response.status == 413)
            #expect(response.header("Connection") == "close")
            #expect(response.text.contains("exceeds 1048576 bytes"))
            #expect(client.isClosedByServer())
        }
        var limits = HTTPLimits(lingerTimeout: .milliseconds(300))
        limits.maxBodyBytes = 10
        try withServer(limits: limits) { port in
            let client = try TestClient(port: port)
            try client.send("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n")
            #expect(try client.readResponse().status == 413)
            #expect(client.isClosedByServer())
        }
    }

    @Test func hugeHeadersAre431() throws {
        try withServer { port in
            let client = try TestClient(port: port)
            let big = String(repeating: "a", count: 20 * 1024)
            try client.send("GET / HTTP/1.1\r\nX-Big: \(big)\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 431)
            #expect(response.header("Connection") == "close")
            #expect(client.isClosedByServer())

            // Just over the limit, arriving in one piece.
            let over = try TestClient(port: port)
            try over.send("GET / HTTP/1.1\r\nX-Big: \(String(repeating: "b", count: 16 * 1024))\r\n\r\n")
            #expect(try over.readResponse().status == 431)

            let many = try TestClient(port: port)
            let fields = (0..<101).map { "X-H\($0): v\r\n" }.joined()
            try many.send("GET / HTTP/1.1\r\n\(fields)\r\n")
            #expect(try many.readResponse().status == 431)
            #expect(many.isClosedByServer())
        }
    }

    @Test(arguments: [
        "GARBAGE\r\n\r\n",
        "GET /\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 extra\r\n\r\n",
        "GET / HTTX/1.1\r\n\r\n",
        "GET nopath HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET /a%zz HTTP/1.1\r\n\r\n",
    ])
    func malformedRequestsAre400AndClose(raw: String) throws {
        try withServer { port in
            let client = try TestClient(port: port)
            try client.send(raw)
            let response = try client.readResponse()
            #expect(response.status == 400, "\(raw.debugDescription) → \(response.status)")
            #expect(response.header("Connection") == "close")
            #expect(response.header("Content-Type") == "application/json")
            #expect(client.isClosedByServer())
            // Other clients are unaffected.
            #expect(try TestClient(port: port).request("GET", "/ok").status == 200)
        }
    }

    @Test func unsupportedVersionAndCodingAreRefused() throws {
        try withServer { port in
            let v2 = try TestClient(port: port)
            try v2.send("GET / HTTP/2.0\r\n\r\n")
            #expect(try v2.readResponse().status == 505)
            let gzip = try TestClient(port: port)
            try gzip.send("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
            #expect(try gzip.readResponse().status == 501)
        }
    }

    @Test func slowClientDoesNotBlockOthersAndIsClosed() throws {
        var limits = HTTPLimits(lingerTimeout: .milliseconds(300))
        limits.headerReadTimeout = .seconds(3)
        try withServer(limits: limits) { port in
            let slow = try TestClient(port: port, seconds: 10)
            let normal = try TestClient(port: port)
            let request = Array("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            // The slow client sends the first bytes of its request one at a time; after each, the
            // normal client is served while the slow request is still open (not yet answered or
            // closed), so its connection's loop did not wait for the slow one.
            var sent = 0
            while sent < 8 {
                try slow.send([request[sent]])
                sent += 1
                #expect(try normal.request("GET", "/fast").status == 200)
                #expect(!slow.hasDataOrClosed(), "the slow request was answered before the normal one")
            }
            #expect(sent < request.count)
            let response = try slow.readResponse()
            #expect(response.status == 408)
            #expect(slow.isClosedByServer())
            #expect(try normal.request("GET", "/still").status == 200)
        }
    }

    @Test func blockingHandlersDoNotStallTheirLoops() throws {
        // Handlers of /block wait, holding their loop's thread, until the test opens the gate.
        let gate = DispatchSemaphore(value: 0)
        let entered = Locked(0)
        let server = HTTPServer(port: 0, handler: { request in
            if request.path == "/block" {
                entered.withValue { $0 += 1 }
                gate.wait()
            }
            return .text("ok \(request.path)")
        })
        let port = try server.start()
        defer { server.stop() }
        // More blocked requests than loops, so every loop's thread blocks at least once.
        let blockedCount = HTTPServer.loopCount * 2
        var blocked: [TestClient] = []
        for _ in 0..<blockedCount {
            let client = try TestClient(port: port, seconds: 10)
            try client.send("GET /block HTTP/1.1\r\n\r\n")
            blocked.append(client)
        }
        // Every blocked handler runs at once (side by side, each loop handed to a new thread)…
        #expect(eventually(timeout: 10) { entered.value == blockedCount })
        // …and while all of them still hold their threads, other requests are served.
        for i in 0..<8 {
            #expect(try TestClient(port: port).request("GET", "/fast\(i)").text == "ok /fast\(i)")
        }
        #expect(entered.value == blockedCount)
        for _ in 0..<blockedCount { gate.signal() }
        for client in blocked { #expect(try client.readResponse().text == "ok /block") }
    }

    @Test func clientThatDoesNotReadDoesNotStallOthers() throws {
        let big = [UInt8](repeating: 120, count: 32 * 1024 * 1024)
        let bigServed = Locked(false)
        let server = HTTPServer(port: 0, handler: { request in
            if request.path == "/big" {
                bigServed.value = true
                return HTTPResponse(status: 200, headers: [], body: big)
            }
            return .text("ok")
        })
        let port = try server.start()
        defer { server.stop() }
        // A client asks for more than the socket buffers hold and does not read it yet.
        let lazy = try TestClient(port: port)
        try lazy.send("GET /big HTTP/1.1\r\n\r\n")
        #expect(eventually(timeout: 5) { bigServed.value })
        // Each of these would time out (3 s) if its loop waited for the lazy client to read.
        for _ in 0..<(HTTPServer.loopCount * 4) {
            #expect(try TestClient(port: port).request("GET", "/small").text == "ok")
        }
        #expect(try lazy.readResponse().body.count == big.count)
    }

    @Test func manyConnectionsWithPipelinedRequests() throws {
        try withServer { port in
            let clients = try (0..<100).map { _ in try TestClient(port: port) }
            for (i, client) in clients.enumerated() {
                try client.send("GET /a\(i) HTTP/1.1\r\n\r\nGET /b\(i) HTTP/1.1\r\n\r\n")
            }
            for (i, client) in clients.enumerated() {
                #expect(try client.readResponse().text == "GET /a\(i) ? ")
                #expect(try client.readResponse().text == "GET /b\(i) ? ")
            }
        }
    }

    @Test func silentConnectionIsClosedWithoutResponse() throws {
        var limits = HTTPLimits()
        limits.headerReadTimeout = .milliseconds(200)
        try withServer(limits: limits) { port in
            let client = try TestClient(port: port)
            // The client's read waits up to its 3 s timeout: a server that never closed would fail.
            #expect(client.isClosedByServer())
        }
    }

    @Test func halfClosedClientStillGetsItsResponse() throws {
        try withServer { port in
            let client = try TestClient(port: port)
            try client.send("GET /half HTTP/1.1\r\nHost: x\r\n\r\n")
            client.shutdownWrite()
            #expect(try client.readResponse().text == "GET /half ? ")
            #expect(client.isClosedByServer())
        }
    }

    @Test func headResponseHasLengthButNoBody() throws {
        try withServer { port in
            let client = try TestClient(port: port)
            let head = try client.request("HEAD", "/x")
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "\("HEAD /x ? ".utf8.count)")
            #expect(head.body.isEmpty)
            // The next response on the connection is read correctly, so no body bytes were sent.
            #expect(try client.request("GET", "/y").text == "GET /y ? ")
        }
    }

    @Test func connectionCloseAndHTTP10() throws {
        try withServer { port in
            let closing = try TestClient(port: port)
            let response = try closing.request("GET", "/", headers: ["Connection: close"])
            #expect(response.header("Connection") == "close")
            #expect(closing.isClosedByServer())

            let old = try TestClient(port: port)
            try old.send("GET /old HTTP/1.0\r\n\r\n")
            #expect(try old.readResponse().header("Connection") == "close")
            #expect(old.isClosedByServer())

            let oldKeepAlive = try TestClient(port: port)
            for _ in 0..<2 {
                try oldKeepAlive.send("GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                #expect(try oldKeepAlive.readResponse().header("Connection") == "keep-alive")
            }
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() throws {
        var limits = HTTPLimits()
        limits.idleTimeout = .milliseconds(200)
        try withServer(limits: limits) { port in
            let client = try TestClient(port: port)
            #expect(try client.request("GET", "/").status == 200)
            #expect(client.isClosedByServer())  // within the client's 3 s read timeout
        }
    }

    @Test func connectionsBeyondTheLimitGet503() throws {
        var limits = HTTPLimits()
        limits.maxConnections = 2
        try withServer(limits: limits) { port in
            let a = try TestClient(port: port), b = try TestClient(port: port)
            #expect(try a.request("GET", "/a").status == 200)
            #expect(try b.request("GET", "/b").status == 200)
            let c = try TestClient(port: port)
            let refused = try c.readResponse()
            #expect(refused.status == 503)
            #expect(c.isClosedByServer())
            #expect(try a.request("GET", "/a").status == 200)
        }
    }

    @Test func expectContinueGets100First() throws {
        try withServer { port in
            let client = try TestClient(port: port)
            try client.send("POST /e HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
            let interim = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
            var got: [UInt8] = []
            while got.count < interim.count {
                var byte: UInt8 = 0
                guard recv(client.fd, &byte, 1, 0) == 1 else { break }
                got.append(byte)
            }
            #expect(got == interim)
            try client.send("ok")
            #expect(try client.readResponse().text == "POST /e ? ok")
        }
    }

    @Test func handlerHeadersAreSanitised() throws {
        let handler: @Sendable (HTTPRequest) -> HTTPResponse = { _ in
            HTTPResponse(status: 201, headers: [("X-Id", "1\r\nInjected: yes"), ("Content-Length", "999"), ("Connection", "close")], body: Array("made".utf8))
        }
        try withServer(handler: handler) { port in
            let client = try TestClient(port: port)
            let response = try client.request("POST", "/", body: "")
            #expect(response.status == 201)
            #expect(response.header("Injected") == nil)
            #expect(response.header("Content-Length") == "4")
            #expect(response.header("Connection") == nil)
            #expect(try client.request("GET", "/again").status == 201)
        }
    }

    @Test func portInUseIsAClearError() throws {
        let first = HTTPServer(port: 0, handler: echo)
        let port = try first.start()
        defer { first.stop() }
        let second = HTTPServer(port: port, handler: echo)
        #expect(throws: RuntimeStartError.self) { try second.start() }
        do {
            try second.start()
        } catch let error as RuntimeStartError {
            #expect(error.message == "port \(port) is in use; pass --port N or --port 0")
        }
    }

    @Test func stopDrainsInFlightRequestsAndClosesIdleOnes() throws {
        let slowStarted = Locked(false)
        let server = HTTPServer(port: 0, handler: { request in
            if request.path == "/slow" {
                slowStarted.value = true
                usleep(300_000)  // work in flight when the server is asked to stop
            }
            return .text("done \(request.path)")
        })
        let port = try server.start()
        let idle = try TestClient(port: port)
        #expect(try idle.request("GET", "/warm").status == 200)
        let busy = try TestClient(port: port)
        try busy.send("GET /slow HTTP/1.1\r\n\r\n")
        #expect(eventually(timeout: 5) { slowStarted.value })
        #expect(server.stop(drainTimeout: .seconds(2)))  // drained: true only if /slow finished in time
        let response = try busy.readResponse()
        #expect(response.text == "done /slow")
        #expect(response.header("Connection") == "close")
        #expect(idle.isClosedByServer())
        #expect(server.openConnections == 0)
        #expect((try? TestClient(port: port)) == nil)
    }

    @Test func listensOnLoopbackOnly() throws {
        #expect(HTTPServer.host == "127.0.0.1")
        let server = HTTPServer(port: 0, handler: echo)
        let port = try server.start()
        defer { server.stop() }
        #expect(server.port == port)
        #expect(port > 0)
    }
}
