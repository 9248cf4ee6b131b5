// The socket HTTP client against servers that answer badly (cut-off bodies, garbage status lines,
// bad chunk sizes, endless headers, silence): every case is a clear error, never a crash or hang.
import InfcTestSupport
import Foundation
import Glibc
import Testing
@testable import InfcHTTPClient

/// Serves one canned answer per connection on 127.0.0.1, after reading the request's head.
final class CannedServer: @unchecked Sendable {
    let fd: Int32
    let port: Int
    private let answer: [UInt8]
    private let closeAfter: Bool

    init(_ answer: [UInt8], closeAfter: Bool = true) throws {
        self.answer = answer
        self.closeAfter = closeAfter
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 8) == 0 else { close(fd); throw TestFailure("cannot listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { return }
            var head: [UInt8] = []
            var byte: UInt8 = 0
            while recv(client, &byte, 1, 0) == 1 {
                head.append(byte)
                if head.count >= 4 && head.suffix(4) == [13, 10, 13, 10] { break }
            }
            _ = answer.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if closeAfter { close(client) } else { usleep(3_000_000); close(client) }
        }
    }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}

@Suite struct HTTPClientHostileTests {
    func exchange(_ answer: String, closeAfter: Bool = true, maximumBody: Int = 1 << 20) throws -> Result<HTTPResponse, HTTPClientError> {
        let server = try CannedServer(Array(answer.utf8), closeAfter: closeAfter)
        defer { server.stop() }
        var configuration = HTTPClient.Configuration()
        configuration.timeout = 1
        configuration.maximumBodyBytes = maximumBody
        let client = HTTPClient(configuration: configuration)
        do throws(HTTPClientError) {
            return .success(try client.send(HTTPRequest(method: "GET", url: HTTPURL(scheme: .http, host: "127.0.0.1", port: server.port))))
        } catch {
            return .failure(error)
        }
    }

    func failure(_ answer: String, closeAfter: Bool = true, maximumBody: Int = 1 << 20) throws -> HTTPClientError? {
        if case .failure(let e) = try exchange(answer, closeAfter: closeAfter, maximumBody: maximumBody) { return e }
        return nil
    }

    @Test func malformedAnswersAreErrors() throws {
        func isMalformed(_ e: HTTPClientError?) -> Bool { if case .malformedResponse? = e { return true }; return false }
        func isTooLarge(_ e: HTTPClientError?) -> Bool { if case .tooLarge? = e { return true }; return false }
        #expect(isMalformed(try failure("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel")))
        #expect(isMalformed(try failure("garbage\r\n\r\n")))
        #expect(isMalformed(try failure("HTTP/1.1 2000 OK\r\n\r\n")))
        #expect(isMalformed(try failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")))
        #expect(isMalformed(try failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n")))
        #expect(isMalformed(try failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")))
        #expect(isMalformed(try failure("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")))
        #expect(isMalformed(try failure("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n")))
        #expect(isMalformed(try failure("HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n")))
        #expect(isMalformed(try failure("HTTP/1.1 200 OK\r\nX-A: 1\r\n")))
        #expect(isTooLarge(try failure("HTTP/1.1 200 OK\r\nX-Long: " + String(repeating: "a", count: 70_000))))
        #expect(isTooLarge(try failure("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", maximumBody: 10)))
        #expect(isTooLarge(try failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n", maximumBody: 10)))
        #expect(isTooLarge(try failure("HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "b", count: 11), maximumBody: 10)))
        #expect(try failure("") == .closed)
    }

    @Test func unusualButValidAnswersAreRead() throws {
        let continued = try exchange("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        #expect((try? continued.get())?.bodyText == "ok")
        let closeDelimited = try exchange("HTTP/1.0 200 OK\r\n\r\nuntil the end")
        #expect((try? closeDelimited.get())?.bodyText == "until the end")
        let bareLF = try exchange("HTTP/1.1 204 No Content\nX-A:  spaced  \n\n")
        #expect((try? bareLF.get())?.status == 204 && (try? bareLF.get())?.headers["x-a"] == "spaced")
    }

    @Test func aSilentServerTimesOut() throws {
        let e = try failure("", closeAfter: false)
        guard case .timedOut? = e else { Issue.record("expected a timeout, got \(String(describing: e))"); return }
    }
}
