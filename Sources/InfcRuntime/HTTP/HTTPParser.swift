// Runtime HTTP: parsing of HTTP/1.x request heads and chunked bodies from raw bytes.
// No IO: the connection feeds bytes in; every malformed input becomes an `HTTPParseError`.

/// A request the server must refuse, with the status and the one-line reason it sends back.
struct HTTPParseError: Error, Equatable, Sendable {
    var status: Int
    var message: String
}

/// The request line and headers, plus the framing facts the connection needs.
struct HTTPRequestHead: Sendable {
    var method: String = ""
    var target: String = ""
    /// 0 for HTTP/1.0, 1 for HTTP/1.1 (and any later 1.x).
    var minorVersion: Int = 1
    var headers: [(name: String, value: String)] = []
    var contentLength: Int?
    var chunked = false
    var connectionClose = false
    var connectionKeepAlive = false
    var expectContinue = false

    var version: String { minorVersion == 0 ? "HTTP/1.0" : "HTTP/1.1" }

    /// Whether the client asked to keep the connection open after this exchange.
    var wantsKeepAlive: Bool {
        if connectionClose { return false }
        return minorVersion >= 1 || connectionKeepAlive
    }
}

enum HTTPParser {
    static let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
    static let sp = UInt8(ascii: " "), tab = UInt8(ascii: "\t")

    /// Finds the end of a request head in `bytes[from..<to]`: the index just past the empty
    /// line (CRLF CRLF, or bare LF LF). Returns nil when the head is not complete yet.
    static func findHeadEnd(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        var i = from
        while i < to {
            if bytes[i] == lf {
                if i + 1 < to, bytes[i + 1] == lf { return i + 2 }
                if i + 2 < to, bytes[i + 1] == cr, bytes[i + 2] == lf { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// Parses a complete head (request line, header lines, empty line).
    static func parseHead(_ bytes: UnsafeBufferPointer<UInt8>, limits: HTTPLimits) throws(HTTPParseError) -> HTTPRequestHead {
        var head = HTTPRequestHead()
        var lineStart = 0
        var isRequestLine = true
        var transferCodings: [String] = []
        var sawTransferEncoding = false
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != lf { lineEnd += 1 }
            let next = lineEnd + 1
            if lineEnd > lineStart, bytes[lineEnd - 1] == cr { lineEnd -= 1 }
            let line = UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd])
            lineStart = next
            if line.isEmpty {
                if isRequestLine { throw HTTPParseError(status: 400, message: "empty request line") }
                break
            }
            if isRequestLine {
                try parseRequestLine(line, into: &head)
                isRequestLine = false
                continue
            }
            if head.headers.count >= limits.maxHeaderCount {
                throw HTTPParseError(status: 431, message: "more than \(limits.maxHeaderCount) header fields")
            }
            let (name, value) = try parseHeaderLine(line)
            head.headers.append((name, value))
            switch lowercaseKey(line) {
            case .contentLength:
                let length = try parseContentLength(value)
                if let previous = head.contentLength, previous != length {
                    throw HTTPParseError(status: 400, message: "conflicting Content-Length headers")
                }
                head.contentLength = length
            case .transferEncoding:
                sawTransferEncoding = true
                transferCodings += value.split(separator: ",").map { trimmed(Substring($0)).lowercased() }
            case .connection:
                for token in value.split(separator: ",") {
                    let t = trimmed(Substring(token))
                    if ASCII.equalsIgnoringCase(t, "close") { head.connectionClose = true }
                    if ASCII.equalsIgnoringCase(t, "keep-alive") { head.connectionKeepAlive = true }
                }
            case .expect:
                if ASCII.equalsIgnoringCase(value, "100-continue") { head.expectContinue = true }
            case .other:
                break
            }
        }
        if isRequestLine { throw HTTPParseError(status: 400, message: "empty request") }
        if sawTransferEncoding {
            if head.contentLength != nil {
                throw HTTPParseError(status: 400, message: "both Content-Length and Transfer-Encoding")
            }
            guard transferCodings == ["chunked"] else {
                throw HTTPParseError(status: 501, message: "unsupported Transfer-Encoding; only chunked is supported")
            }
            head.chunked = true
        }
        return head
    }

    static func parseRequestLine(_ line: UnsafeBufferPointer<UInt8>, into head: inout HTTPRequestHead) throws(HTTPParseError) {
        let malformed = HTTPParseError(status: 400, message: "malformed request line")
        guard let firstSpace = line.firstIndex(of: sp), firstSpace > 0 else { throw malformed }
        guard let secondSpace = line[(firstSpace + 1)...].firstIndex(of: sp), secondSpace > firstSpace + 1 else {
            throw malformed
        }
        let method = line[..<firstSpace]
        let target = line[(firstSpace + 1)..<secondSpace]
        let version = line[(secondSpace + 1)...]
        guard method.allSatisfy(isTokenChar) else { throw malformed }
        guard target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw malformed }
        // "HTTP/" DIGIT "." DIGIT
        let v = version.startIndex
        guard version.count == 8, version[v] == UInt8(ascii: "H"), version[v + 1] == UInt8(ascii: "T"),
              version[v + 2] == UInt8(ascii: "T"), version[v + 3] == UInt8(ascii: "P"),
              version[v + 4] == UInt8(ascii: "/") else {
            throw HTTPParseError(status: 400, message: "malformed HTTP version")
        }
        let major = version[v + 5], dot = version[v + 6], minor = version[v + 7]
        guard isDigit(major), dot == UInt8(ascii: "."), isDigit(minor) else {
            throw HTTPParseError(status: 400, message: "malformed HTTP version")
        }
        guard major == UInt8(ascii: "1") else {
            throw HTTPParseError(status: 505, message: "only HTTP/1.0 and HTTP/1.1 are supported")
        }
        head.minorVersion = minor == UInt8(ascii: "0") ? 0 : 1
        head.method = String(decoding: method, as: UTF8.self)
        head.target = String(decoding: target, as: UTF8.self)
        let first = target[target.startIndex]
        let isOrigin = first == UInt8(ascii: "/")
        let isAsterisk = target.count == 1 && first == UInt8(ascii: "*") && head.method == "OPTIONS"
        let isAbsolute = head.target.hasPrefix("http://") || head.target.hasPrefix("https://")
        guard isOrigin || isAsterisk || isAbsolute else {
            throw HTTPParseError(status: 400, message: "malformed request target")
        }
    }

    static func parseHeaderLine(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> (String, String) {
        if line[0] == sp || line[0] == tab {
            throw HTTPParseError(status: 400, message: "obsolete header line folding")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0,
              line[..<colon].allSatisfy(isTokenChar) else {
            throw HTTPParseError(status: 400, message: "malformed header field")
        }
        var valueStart = colon + 1, valueEnd = line.count
        while valueStart < valueEnd, line[valueStart] == sp || line[valueStart] == tab { valueStart += 1 }
        while valueEnd > valueStart, line[valueEnd - 1] == sp || line[valueEnd - 1] == tab { valueEnd -= 1 }
        let value = line[valueStart..<valueEnd]
        guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == tab }) else {
            throw HTTPParseError(status: 400, message: "control character in a header value")
        }
        return (String(decoding: line[..<colon], as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    static func parseContentLength(_ value: String) throws(HTTPParseError) -> Int {
        let digits = value.utf8
        guard !digits.isEmpty, digits.allSatisfy(isDigit) else {
            throw HTTPParseError(status: 400, message: "invalid Content-Length")
        }
        if digits.count > 18 { return Int.max }  // Larger than any body limit; refused as 413.
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    enum FramingHeader { case contentLength, transferEncoding, connection, expect, other }

    /// Classifies a header line by its name without allocating.
    static func lowercaseKey(_ line: UnsafeBufferPointer<UInt8>) -> FramingHeader {
        func named(_ name: StaticString) -> Bool {
            let n = name.utf8CodeUnitCount
            guard line.count > n, line[n] == UInt8(ascii: ":") else { return false }
            return name.withUTF8Buffer { name in
                for i in 0..<n where ASCII.lower(line[i]) != name[i] { return false }
                return true
            }
        }
        switch line.count > 0 ? ASCII.lower(line[0]) : 0 {
        case UInt8(ascii: "c"):
            if named("content-length") { return .contentLength }
            if named("connection") { return .connection }
        case UInt8(ascii: "t"):
            if named("transfer-encoding") { return .transferEncoding }
        case UInt8(ascii: "e"):
            if named("expect") { return .expect }
        default: break
        }
        return .other
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    /// RFC 9110 `tchar`.
    static func isTokenChar(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    static func trimmed(_ s: Substring) -> String {
        String(s.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}

/// Incremental decoder of a `Transfer-Encoding: chunked` body; trailers are read and dropped.
struct ChunkedDecoder {
    enum State: Equatable { case size, data(remaining: Int), dataEnd, trailer, done }

    private(set) var state: State = .size
    private var trailerBytes = 0
    let maxBodyBytes: Int
    let maxTrailerBytes: Int
    static let maxSizeLine = 4096

    init(maxBodyBytes: Int, maxTrailerBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        self.maxTrailerBytes = maxTrailerBytes
    }

    var isDone: Bool { state == .done }

    /// Consumes as much of `input` as it can, appending decoded data to `body`. Returns the
    /// number of bytes consumed; fewer than `input.count` only when done or when a line is
    /// incomplete (the caller then reads more and calls again with the rest).
    mutating func feed(_ input: UnsafeBufferPointer<UInt8>, into body: inout [UInt8]) throws(HTTPParseError) -> Int {
        var i = 0
        while i < input.count {
            switch state {
            case .done:
                return i
            case .data(let remaining):
                let n = min(remaining, input.count - i)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: input[i..<(i + n)]))
                i += n
                state = remaining == n ? .dataEnd : .data(remaining: remaining - n)
            case .dataEnd:
                guard let lineEnd = try findLine(input, from: i, limit: 2) else { return i }
                guard lineEnd.contentLength == 0 else {
                    throw HTTPParseError(status: 400, message: "malformed chunk: missing CRLF after data")
                }
                i = lineEnd.next
                state = .size
            case .size:
                guard let lineEnd = try findLine(input, from: i, limit: Self.maxSizeLine) else { return i }
                let size = try parseSize(UnsafeBufferPointer(rebasing: input[i..<(i + lineEnd.contentLength)]))
                if size > maxBodyBytes - body.count {
                    throw HTTPParseError(status: 413, message: "request body exceeds \(maxBodyBytes) bytes")
                }
                i = lineEnd.next
                state = size == 0 ? .trailer : .data(remaining: size)
            case .trailer:
                guard let lineEnd = try findLine(input, from: i, limit: maxTrailerBytes - trailerBytes) else { return i }
                trailerBytes += lineEnd.next - i
                i = lineEnd.next
                if lineEnd.contentLength == 0 { state = .done }
            }
        }
        return i
    }

    /// Finds the next line in `input[from...]`; nil when incomplete. Throws when the line
    /// already exceeds `limit` bytes.
    private func findLine(_ input: UnsafeBufferPointer<UInt8>, from: Int, limit: Int) throws(HTTPParseError) -> (contentLength: Int, next: Int)? {
        var j = from
        while j < input.count, input[j] != HTTPParser.lf {
            j += 1
            if j - from > limit {
                throw state == .trailer
                    ? HTTPParseError(status: 431, message: "chunked trailers exceed \(maxTrailerBytes) bytes")
                    : HTTPParseError(status: 400, message: "malformed chunked body")
            }
        }
        guard j < input.count else { return nil }
        var contentEnd = j
        if contentEnd > from, input[contentEnd - 1] == HTTPParser.cr { contentEnd -= 1 }
        return (contentEnd - from, j + 1)
    }

    private func parseSize(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Int {
        var size = 0, digits = 0
        for byte in line {
            if byte == UInt8(ascii: ";") || byte == HTTPParser.sp || byte == HTTPParser.tab { break }
            guard let v = PercentDecoding.hexValue(byte) else {
                throw HTTPParseError(status: 400, message: "malformed chunk size")
            }
            digits += 1
            guard digits <= 15 else { throw HTTPParseError(status: 413, message: "request body exceeds \(maxBodyBytes) bytes") }
            size = size << 4 | Int(v)
        }
        guard digits > 0 else { throw HTTPParseError(status: 400, message: "malformed chunk size") }
        return size
    }
}
