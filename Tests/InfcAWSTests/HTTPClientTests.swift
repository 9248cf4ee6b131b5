// The socket HTTP client against a local server (scripts/http_test_server.py) on 127.0.0.1:
// plain HTTP/1.1 (lengths, chunks, HEAD, keep-alive and a closed kept-alive connection) and
// HTTPS with a test CA made at test time by the openssl command.
import InfcTestSupport
import Foundation
import InfcCompiler
import Testing
@testable import InfcHTTPClient

@Suite(.serialized) struct HTTPClientTests {
    static let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/http_test_server.py").path

    func echo(_ response: HTTPResponse) throws -> JSON {
        try #require(response.status == 200, "status \(response.status): \(response.bodyText)")
        return try JSON.parse(bytes: response.body)
    }

    @Test func urlsParseAndPrint() {
        let u = HTTPURL(string: "HTTPS://Example.COM:8443/a%20b?x=1&y")
        #expect(u?.host == "example.com" && u?.port == 8443 && u?.path == "/a%20b" && u?.query == "x=1&y")
        #expect(u?.authority == "example.com:8443")
        #expect(HTTPURL(string: "http://127.0.0.1")?.target == "/")
        #expect(HTTPURL(string: "https://s3.amazonaws.com:443/b")?.authority == "s3.amazonaws.com")
        #expect(HTTPURL(string: "http://[::1]:9000/x")?.host == "::1")
        #expect(HTTPURL(string: "http://[::1]:9000/x")?.authority == "[::1]:9000")
        for bad in ["ftp://x", "http://", "http://u@h/", "http://h:99999/", "http://h:/", "http://h/a b", "http://h/#f", "http://h/é"] {
            #expect(HTTPURL(string: bad) == nil, "\(bad)")
        }
    }

    @Test func caBundleIsFoundWhereDistributionsKeepIt() {
        #expect(CABundle.locate(environment: [:], exists: { $0 == "/etc/pki/tls/certs/ca-bundle.crt" }) == "/etc/pki/tls/certs/ca-bundle.crt")
        #expect(CABundle.locate(environment: [:], exists: { $0 == "/etc/ssl/certs/ca-certificates.crt" }) == "/etc/ssl/certs/ca-certificates.crt")
        #expect(CABundle.locate(environment: [:], exists: { _ in true }) == "/etc/pki/tls/certs/ca-bundle.crt")
        #expect(CABundle.locate(environment: ["SSL_CERT_FILE": "/x.pem"], exists: { _ in true }) == "/x.pem")
        #expect(CABundle.locate(environment: [:], exists: { _ in false }) == nil)
    }

    @Test func requestHeadsAreWellFormed() throws {
        let url = HTTPURL(scheme: .http, host: "h", port: 81, path: "/p", query: "q=1")
        let head = try HTTPClient.head(of: HTTPRequest(method: "PUT", url: url, headers: HTTPHeaders([("X-A", "1")]), body: [1, 2]))
        #expect(String(decoding: head, as: UTF8.self) == "PUT /p?q=1 HTTP/1.1\r\nHost: h:81\r\nX-A: 1\r\nContent-Length: 2\r\n\r\n")
        #expect(throws: HTTPClientError.self) { try HTTPClient.head(of: HTTPRequest(method: "GET", url: url, headers: HTTPHeaders([("X-A", "1\r\nX-B: 2")]))) }
        #expect(throws: HTTPClientError.self) { try HTTPClient.head(of: HTTPRequest(method: "G T", url: url)) }
    }

    @Test(.enabled(if: TestEnvironment.python3 != nil, "python3 is not installed"))
    func plainHTTPExchanges() throws {
        let server = try ChildServer(pythonArguments: [Self.script])
        defer { server.stop() }
        let client = HTTPClient()
        let base = "http://127.0.0.1:\(server.port)"
        let body = Array((0..<70_000).map { UInt8($0 % 251) })
        let first = try echo(try client.send(HTTPRequest(method: "POST", url: HTTPURL(string: "\(base)/echo?a=%2F")!,
                                                         headers: HTTPHeaders([("X-Test", "yes")]), body: body)))
        #expect(first["method"] == "POST")
        #expect(first["target"] == "/echo?a=%2F")
        #expect(first["body"]?.stringValue == Data(body).base64EncodedString())
        let headers = first["headers"]?.arrayValue?.compactMap { $0.arrayValue?.compactMap(\.stringValue) } ?? []
        #expect(headers.contains(["Host", "127.0.0.1:\(server.port)"]))
        #expect(headers.contains(["X-Test", "yes"]))
        // The second exchange reuses the kept-alive connection: the same client port.
        let second = try echo(try client.send(HTTPRequest(method: "GET", url: HTTPURL(string: "\(base)/echo")!)))
        #expect(second["clientPort"] == first["clientPort"])

        let chunked = try client.send(HTTPRequest(method: "GET", url: HTTPURL(string: "\(base)/chunked")!))
        #expect(chunked.bodyText == "hello, chunked world")
        let big = try client.send(HTTPRequest(method: "GET", url: HTTPURL(string: "\(base)/bytes?n=1000000")!))
        #expect(big.body == (0..<1_000_000).map { UInt8($0 % 256) })
        let head = try client.send(HTTPRequest(method: "HEAD", url: HTTPURL(string: "\(base)/bytes?n=10")!))
        #expect(head.status == 200 && head.body.isEmpty && head.headers["Content-Length"] == "10")
        // A connection the server closed is not reused.
        let closing = try client.send(HTTPRequest(method: "GET", url: HTTPURL(string: "\(base)/close")!))
        #expect(closing.bodyText == "bye")
        let after = try echo(try client.send(HTTPRequest(method: "GET", url: HTTPURL(string: "\(base)/echo")!)))
        #expect(after["method"] == "GET")
        #expect(try client.send(HTTPRequest(method: "GET", url: HTTPURL(string: "\(base)/missing")!)).status == 404)
    }

    @Test(.enabled(if: TestEnvironment.python3 != nil, "python3 is not installed"))
    func aKeptAliveConnectionTheServerDroppedIsReplaced() throws {
        let server = try ChildServer(pythonArguments: [Self.script])
        defer { server.stop() }
        let client = HTTPClient()
        let base = "http://127.0.0.1:\(server.port)"
        let first = try client.send(HTTPRequest(method: "GET", url: HTTPURL(string: "\(base)/silent-close")!))
        #expect(first.bodyText == "kept?")
        usleep(100_000)   // let the server's close arrive; the request below must not depend on it either way
        let next = try echo(try client.send(HTTPRequest(method: "POST", url: HTTPURL(string: "\(base)/echo")!, body: [1, 2, 3])))
        #expect(next["body"] == "AQID")
    }

    @Test func unreachableServersAndNamesAreErrors() throws {
        let client = HTTPClient(configuration: { var c = HTTPClient.Configuration(); c.timeout = 5; return c }())
        let port = freeLoopbackPort()
        #expect(throws: HTTPClientError.self) { try client.send(HTTPRequest(method: "GET", url: HTTPURL(string: "http://127.0.0.1:\(port)/")!)) }
        #expect(throws: HTTPClientError.self) { try client.send(HTTPRequest(method: "GET", url: HTTPURL(string: "http://no-such-host.invalid/")!)) }
    }

    /// A test CA, and a server certificate it signed for `localhost` only.
    static func makeCertificates(in dir: TemporaryDirectory) throws {
        func openssl(_ args: [String]) throws {
            let r = try TestEnvironment.run("/usr/bin/openssl", args, directory: dir.url, timeout: 60)
            guard r.status == 0 else { throw TestFailure("openssl \(args.first ?? ""): \(r.stderr)") }
        }
        for ca in ["ca", "other-ca"] {
            try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(ca).key", "-out", "\(ca).crt", "-days", "2",
                         "-subj", "/CN=infc test \(ca)", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"])
        }
        try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n".write(toFile: dir.path("ext.cnf"), atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt",
                     "-days", "2", "-extfile", "ext.cnf"])
    }

    @Test(.enabled(if: TestEnvironment.python3 != nil && TestEnvironment.hasOpenSSL, "python3 or the openssl command is not installed"))
    func httpsVerifiesTheChainAndTheName() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.makeCertificates(in: dir)
        let server = try ChildServer(pythonArguments: [Self.script, "--cert", dir.path("server.crt"), "--key", dir.path("server.key")])
        defer { server.stop() }
        func client(_ ca: String) -> HTTPClient {
            var c = HTTPClient.Configuration()
            c.caFile = dir.path(ca)
            c.timeout = 10
            return HTTPClient(configuration: c)
        }
        let trusted = client("ca.crt")
        let url = HTTPURL(string: "https://localhost:\(server.port)/echo?x=1")!
        let body = Array("over TLS".utf8)
        let first = try echo(try trusted.send(HTTPRequest(method: "PUT", url: url, body: body)))
        #expect(first["method"] == "PUT" && first["target"] == "/echo?x=1")
        #expect(first["body"]?.stringValue == Data(body).base64EncodedString())
        let second = try echo(try trusted.send(HTTPRequest(method: "GET", url: url)))
        #expect(second["clientPort"] == first["clientPort"])
        let chunked = try trusted.send(HTTPRequest(method: "GET", url: HTTPURL(string: "https://localhost:\(server.port)/chunked")!))
        #expect(chunked.bodyText == "hello, chunked world")
        let big = try trusted.send(HTTPRequest(method: "GET", url: HTTPURL(string: "https://localhost:\(server.port)/bytes?n=300000")!))
        #expect(big.body == (0..<300_000).map { UInt8($0 % 256) })

        // Another CA: the chain does not verify.
        do {
            _ = try client("other-ca.crt").send(HTTPRequest(method: "GET", url: url))
            Issue.record("a certificate from an untrusted CA was accepted")
        } catch {
            #expect(error.description.contains("not trusted"), "\(error)")
        }
        // The right CA, the wrong name: the certificate is for localhost, not 127.0.0.1.
        do {
            _ = try trusted.send(HTTPRequest(method: "GET", url: HTTPURL(string: "https://127.0.0.1:\(server.port)/echo")!))
            Issue.record("a certificate for another name was accepted")
        } catch {
            #expect(error.description.contains("not trusted"), "\(error)")
        }
        // A CA file that does not exist.
        #expect(throws: HTTPClientError.self) { try client("missing.crt").send(HTTPRequest(method: "GET", url: url)) }
    }
}
