// Runtime HTTP: the request value handed to handlers, plus percent-decoding and query parsing.
// Pure values: no sockets here, so routing and handlers can be tested without a server.

/// One parsed HTTP request, with its body fully read.
///
/// `path` is the percent-decoded path without the query; `rawTarget` is the request-target
/// exactly as the client sent it. Header names keep the client's spelling; `header(_:)` looks
/// them up case-insensitively.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The percent-decoded path, without the query (`/orders/a b` for `/orders/a%20b?x=1`).
    public var path: String
    /// The request-target as sent (`/orders/a%20b?x=1`).
    public var rawTarget: String
    /// Query parameters in order, percent-decoded, with `+` read as a space.
    public var query: [(name: String, value: String)]
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The HTTP version as sent, `HTTP/1.1` or `HTTP/1.0`.
    public var version: String

    /// Builds a request from its target; `path` and `query` are derived from `rawTarget`.
    /// Malformed percent-escapes are kept literally.
    public init(
        method: String,
        rawTarget: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        version: String = "HTTP/1.1"
    ) {
        self.method = method
        self.rawTarget = rawTarget
        let (rawPath, rawQuery) = HTTPRequest.split(target: rawTarget)
        self.path = PercentDecoding.decode(rawPath, plusAsSpace: false) ?? String(rawPath)
        self.query = rawQuery.map(PercentDecoding.parseQuery) ?? []
        self.headers = headers
        self.body = body
        self.version = version
    }

    /// Builds a request from already-derived parts (the server's path, no re-parsing).
    init(
        method: String, path: String, rawTarget: String, query: [(name: String, value: String)],
        headers: [(name: String, value: String)], body: [UInt8], version: String
    ) {
        self.method = method
        self.path = path
        self.rawTarget = rawTarget
        self.query = query
        self.headers = headers
        self.body = body
        self.version = version
    }

    /// The still-encoded path part of `rawTarget` (what the `Router` matches on, so that an
    /// encoded `/` inside a segment stays inside that segment).
    public var rawPath: Substring { HTTPRequest.split(target: rawTarget).path }

    /// The first value of the header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        for field in headers where ASCII.equalsIgnoringCase(field.name, name) { return field.value }
        return nil
    }

    /// Every value of the header `name`, in order.
    public func headerValues(_ name: String) -> [String] {
        headers.filter { ASCII.equalsIgnoringCase($0.name, name) }.map(\.value)
    }

    /// The first value of the query parameter `name`.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// The body read as UTF-8 (invalid sequences replaced).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Splits a request-target into its path and query. An absolute-form target
    /// (`http://host/p?q`) yields its path; `*` is its own path.
    static func split(target: String) -> (path: Substring, query: Substring?) {
        // On UTF-8 code units: every delimiter is ASCII, and Character-wise scans are far slower.
        let slash = UInt8(ascii: "/"), question = UInt8(ascii: "?")
        var rest = Substring(target)
        if let hash = rest.utf8.firstIndex(of: UInt8(ascii: "#")) { rest = rest[..<hash] }
        if rest.utf8.first != slash, let colon = rest.utf8.firstIndex(of: UInt8(ascii: ":")),
           rest[colon...].utf8.starts(with: "://".utf8) {
            let afterAuthority = rest[rest.utf8.index(colon, offsetBy: 3)...]
            rest = afterAuthority.utf8.firstIndex(where: { $0 == slash || $0 == question })
                .map { afterAuthority[$0...] } ?? "/"
            if rest.utf8.first == question { rest = "/" + rest }
        }
        guard let mark = rest.utf8.firstIndex(of: question) else { return (rest, nil) }
        return (rest[..<mark], rest[rest.utf8.index(after: mark)...])
    }
}

/// Percent-decoding of paths and `application/x-www-form-urlencoded` queries.
public enum PercentDecoding {
    /// Decodes `%XX` escapes (and `+` as space when asked). Returns nil when an escape is
    /// malformed; decoded bytes that are not UTF-8 become U+FFFD.
    public static func decode(_ text: Substring, plusAsSpace: Bool) -> String? {
        let utf8 = text.utf8
        if !utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) {
            return String(text)
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = utf8.startIndex
        while i != utf8.endIndex {
            let byte = utf8[i]
            if byte == UInt8(ascii: "%") {
                let h = utf8.index(after: i)
                guard h != utf8.endIndex, let hi = hexValue(utf8[h]) else { return nil }
                let l = utf8.index(after: h)
                guard l != utf8.endIndex, let lo = hexValue(utf8[l]) else { return nil }
                out.append(hi << 4 | lo)
                i = utf8.index(after: l)
                continue
            }
            out.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            i = utf8.index(after: i)
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String, plusAsSpace: Bool) -> String? {
        decode(Substring(text), plusAsSpace: plusAsSpace)
    }

    /// Parses `a=1&b=x+y&c` into ordered pairs; a name without `=` has an empty value.
    /// Malformed escapes are kept literally.
    public static func parseQuery(_ query: Substring) -> [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring, value: Substring
            if let eq = part.firstIndex(of: "=") {
                name = part[..<eq]
                value = part[part.index(after: eq)...]
            } else {
                name = part
                value = ""
            }
            pairs.append((
                decode(name, plusAsSpace: true) ?? String(name),
                decode(value, plusAsSpace: true) ?? String(value)
            ))
        }
        return pairs
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// ASCII helpers that avoid allocating lowercased copies.
enum ASCII {
    static func lower(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// `text` with A–Z lower-cased (header names are ASCII tokens: no Unicode tables needed).
    static func lowercased(_ text: String) -> String {
        guard text.utf8.contains(where: { lower($0) != $0 }) else { return text }
        return String(decoding: text.utf8.map(lower), as: UTF8.self)
    }

    static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        return zip(x, y).allSatisfy { lower($0) == lower($1) }
    }
}
