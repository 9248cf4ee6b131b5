// Runtime HTTP: serialises responses into a connection's output bytes, adding framing headers
// (Content-Length, Connection, Date). No Foundation formatting on this per-request path.

import Glibc

/// Appends responses to an output buffer. One per connection; it caches the Date header for
/// the current second.
struct ResponseWriter {
    private var cachedSecond = -1
    private var dateLine: [UInt8] = []

    /// How the connection continues after this response.
    enum ConnectionHeader { case none, close, keepAlive }

    /// Appends `response`. `headOnly` (HEAD requests) keeps Content-Length but omits the body.
    mutating func append(
        _ response: HTTPResponse, headOnly: Bool, connection: ConnectionHeader, to out: inout [UInt8]
    ) {
        let status = (200...599).contains(response.status) ? response.status : 500
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        Self.appendDecimal(status, to: &out)
        out.append(HTTPParser.sp)
        out.append(contentsOf: HTTPResponse.reasonPhrase(for: status).utf8)
        out.append(contentsOf: "\r\n".utf8)
        for field in response.headers where Self.isHandlerHeaderAllowed(field.name) {
            out.append(contentsOf: field.name.utf8)
            out.append(contentsOf: ": ".utf8)
            for byte in field.value.utf8 {
                out.append(byte == HTTPParser.cr || byte == HTTPParser.lf || byte == 0 ? HTTPParser.sp : byte)
            }
            out.append(contentsOf: "\r\n".utf8)
        }
        let forbidsBody = status == 204 || status == 304
        if !forbidsBody {
            out.append(contentsOf: "Content-Length: ".utf8)
            Self.appendDecimal(response.body.count, to: &out)
            out.append(contentsOf: "\r\n".utf8)
        }
        switch connection {
        case .none: break
        case .close: out.append(contentsOf: "Connection: close\r\n".utf8)
        case .keepAlive: out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        appendDate(to: &out)
        out.append(contentsOf: "\r\n".utf8)
        if !headOnly && !forbidsBody { out.append(contentsOf: response.body) }
    }

    /// Handler headers that the server owns, or with names that are not tokens, are dropped.
    static func isHandlerHeaderAllowed(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.allSatisfy(HTTPParser.isTokenChar) else { return false }
        return !(ASCII.equalsIgnoringCase(name, "Content-Length")
            || ASCII.equalsIgnoringCase(name, "Transfer-Encoding")
            || ASCII.equalsIgnoringCase(name, "Connection")
            || ASCII.equalsIgnoringCase(name, "Date"))
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &out) }
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Date: Sun, 06 Nov 1994 08:49:37 GMT`, recomputed at most once a second.
    private mutating func appendDate(to out: inout [UInt8]) {
        var now = time(nil)
        if Int(now) != cachedSecond {
            cachedSecond = Int(now)
            var t = tm()
            gmtime_r(&now, &t)
            var line: [UInt8] = Array("Date: ".utf8)
            func two(_ v: Int32) { line.append(UInt8(ascii: "0") + UInt8(v / 10)); line.append(UInt8(ascii: "0") + UInt8(v % 10)) }
            line += Self.days[Int(t.tm_wday)].utf8
            line += ", ".utf8
            two(t.tm_mday)
            line.append(HTTPParser.sp)
            line += Self.months[Int(t.tm_mon)].utf8
            line.append(HTTPParser.sp)
            Self.appendDecimal(Int(t.tm_year) + 1900, to: &line)
            line.append(HTTPParser.sp)
            two(t.tm_hour)
            line.append(UInt8(ascii: ":"))
            two(t.tm_min)
            line.append(UInt8(ascii: ":"))
            two(t.tm_sec)
            line += " GMT\r\n".utf8
            dateLine = line
        }
        out.append(contentsOf: dateLine)
    }
}
