// Runtime HTTP tests: the byte-level parser, chunked decoding, percent-decoding and query
// parsing, and the request/response values — no sockets.

import Testing
import InfcCompiler
@testable import InfcRuntime

@Suite struct HTTPParserTests {
    func parse(_ text: String, limits: HTTPLimits = HTTPLimits()) throws(HTTPParseError) -> HTTPRequestHead {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { (b) throws(HTTPParseError) in try HTTPParser.parseHead(b, limits: limits) }
    }

    @Test func headFieldsAndFraming() throws {
        let head = try parse("POST /a?b=c HTTP/1.1\r\nHost: x\r\ncontent-LENGTH:  12 \r\nConnection: keep-alive, Close\r\n\r\n")
        #expect(head.method == "POST")
        #expect(head.target == "/a?b=c")
        #expect(head.contentLength == 12)
        #expect(head.headers.map(\.value) == ["x", "12", "keep-alive, Close"])
        #expect(head.connectionClose)
        #expect(!head.wantsKeepAlive)
    }

    @Test func bareLineFeedsAreAccepted() throws {
        let text = "GET / HTTP/1.0\nX: 1\n\n"
        let end = Array(text.utf8).withUnsafeBufferPointer { HTTPParser.findHeadEnd($0, from: 0, to: $0.count) }
        #expect(end == text.utf8.count)
        let head = try parse(text)
        #expect(head.minorVersion == 0)
        #expect(!head.wantsKeepAlive)
    }

    @Test func tooManyHeadersIs431() {
        var limits = HTTPLimits()
        limits.maxHeaderCount = 2
        #expect(throws: HTTPParseError(status: 431, message: "more than 2 header fields")) {
            try parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits: limits)
        }
    }

    @Test func chunkedDecoderAcceptsAnySplit() throws {
        let wire = Array("4\r\nWiki\r\n5;name=v\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nT: x\r\n\r\n".utf8)
        for split in 0...wire.count {
            var decoder = ChunkedDecoder(maxBodyBytes: 100, maxTrailerBytes: 100)
            var body: [UInt8] = []
            var pending = Array(wire[0..<split])
            var rest = Array(wire[split...])
            while !decoder.isDone {
                let used = try pending.withUnsafeBufferPointer { (b) throws(HTTPParseError) in try decoder.feed(b, into: &body) }
                pending.removeFirst(used)
                guard !decoder.isDone else { break }
                #expect(!rest.isEmpty)
                if rest.isEmpty { break }
                pending += rest
                rest = []
            }
            #expect(String(decoding: body, as: UTF8.self) == "Wikipedia in\r\n\r\nchunks.")
        }
    }

    @Test func chunkedDecoderEnforcesTheBodyLimit() {
        var decoder = ChunkedDecoder(maxBodyBytes: 4, maxTrailerBytes: 100)
        var body: [UInt8] = []
        #expect(throws: HTTPParseError.self) {
            try Array("5\r\nhello\r\n0\r\n\r\n".utf8).withUnsafeBufferPointer { (b) throws(HTTPParseError) in
                _ = try decoder.feed(b, into: &body)
            }
        }
    }

    @Test func requestDerivesPathAndQuery() {
        let r = HTTPRequest(method: "GET", rawTarget: "/a%2Fb/c%20d?q=x+y%26z&flag&e=%zz", headers: [("X-Token", "t")])
        #expect(r.path == "/a/b/c d")
        #expect(r.rawPath == "/a%2Fb/c%20d")
        #expect(r.query.map(\.name) == ["q", "flag", "e"])
        #expect(r.query.map(\.value) == ["x y&z", "", "%zz"])
        #expect(r.queryValue("q") == "x y&z")
        #expect(r.header("x-token") == "t")
        #expect(r.header("missing") == nil)
        #expect(HTTPRequest(method: "GET", rawTarget: "http://h:1/p?x=1").path == "/p")
        #expect(HTTPRequest(method: "GET", rawTarget: "http://h:1?x=1").path == "/")
    }

    @Test func responseHelpers() {
        let r = HTTPResponse.error(status: 404, message: "no \"order\" 7")
        #expect(r.status == 404)
        #expect(r.bodyText == #"{"error":"no \"order\" 7"}"#)
        #expect(r.header("content-type") == "application/json")
        #expect(HTTPResponse.json(JSON.object(JSONObject([("ok", .bool(true))]))).bodyText == #"{"ok":true}"#)
        #expect(HTTPResponse.reasonPhrase(for: 413) == "Content Too Large")
        #expect(HTTPResponse.reasonPhrase(for: 299) == "Success")
    }

    @Test func writerFramesResponses() {
        var writer = ResponseWriter()
        var out: [UInt8] = []
        writer.append(.text("hi", status: 404), headOnly: false, connection: .close, to: &out)
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\nConnection: close\r\nDate: "))
        #expect(text.hasSuffix(" GMT\r\n\r\nhi"))
        out = []
        writer.append(HTTPResponse(status: 204), headOnly: false, connection: .none, to: &out)
        #expect(!String(decoding: out, as: UTF8.self).contains("Content-Length"))
    }
}
