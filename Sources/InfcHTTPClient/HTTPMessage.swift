// HTTP client: the values of one exchange — the URL as it goes on the wire, headers in order,
// the request and the response — and the client's errors.

/// An absolute `http` or `https` URL, split the way the client sends it. `path` and `query` are
/// kept exactly as given (already percent-encoded), because a signature covers their bytes.
public struct HTTPURL: Sendable, Equatable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case http, https }

    public var scheme: Scheme
    /// Lowercase host name or address; an IPv6 address without its brackets.
    public var host: String
    public var port: Int
    /// Starts with `/`.
    public var path: String
    /// Without the `?`; empty when there is none.
    public var query: String

    public init(scheme: Scheme, host: String, port: Int? = nil, path: String = "/", query: String = "") {
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port ?? (scheme == .https ? 443 : 80)
        self.path = path.isEmpty ? "/" : path
        self.query = query
    }

    /// Parses `scheme://host[:port][/path][?query]`; nil for anything else (user info and
    /// fragments included: nothing this client sends has them).
    public init?(string: String) {
        let s = Substring(string)
        let scheme: Scheme
        var rest: Substring
        if s.lowercased().hasPrefix("https://") { scheme = .https; rest = s.dropFirst(8) }
        else if s.lowercased().hasPrefix("http://") { scheme = .http; rest = s.dropFirst(7) }
        else { return nil }
        if rest.contains("#") { return nil }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        if authority.isEmpty || authority.contains("@") { return nil }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        if host.isEmpty { return nil }
        var port: Int?
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let p = Int(portText), p > 0, p < 65536 else { return nil }
            port = p
        }
        var path = rest
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            path = rest[..<q]
            query = rest[rest.index(after: q)...]
        }
        if path.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value >= 0x7F })
            || query.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value >= 0x7F }) { return nil }
        self.init(scheme: scheme, host: String(host), port: port, path: String(path), query: String(query))
    }

    public var isDefaultPort: Bool { port == (scheme == .https ? 443 : 80) }

    /// The `Host` header: the host, with the port when it is not the scheme's default.
    public var authority: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return isDefaultPort ? h : "\(h):\(port)"
    }

    /// The request target: the path and, when there is one, `?` and the query.
    public var target: String { query.isEmpty ? path : "\(path)?\(query)" }

    public var description: String { "\(scheme.rawValue)://\(authority)\(target)" }
}

/// Header fields in the order they were added; names compare without case.
public struct HTTPHeaders: Sendable, Equatable, Sequence {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}
    public init(_ fields: [(String, String)]) { for (n, v) in fields { add(n, v) } }

    public static func == (a: HTTPHeaders, b: HTTPHeaders) -> Bool {
        a.fields.count == b.fields.count && zip(a.fields, b.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public var count: Int { fields.count }
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    /// The first value of `name`.
    public subscript(name: String) -> String? {
        fields.first(where: { Self.same($0.name, name) })?.value
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { Self.same($0.name, name) }.map(\.value)
    }

    public func contains(_ name: String) -> Bool { fields.contains(where: { Self.same($0.name, name) }) }

    /// Appends a field, keeping any of the same name.
    public mutating func add(_ name: String, _ value: String) { fields.append((name, value)) }

    /// Removes every field of `name`.
    public mutating func remove(_ name: String) { fields.removeAll(where: { Self.same($0.name, name) }) }

    /// Removes every field of `name`, then appends one.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.lowercased() == b.lowercased()
    }
}

public struct HTTPRequest: Sendable {
    public var method: String
    public var url: HTTPURL
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(method: String, url: HTTPURL, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var reason: String
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, reason: String = "", headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Why an exchange failed before a complete response arrived.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case resolve(host: String, reason: String)
    case connect(host: String, port: Int, reason: String)
    case tls(String)
    case noCertificates(searched: [String])
    case timedOut(String)
    case closed
    case io(String)
    case malformedResponse(String)
    case tooLarge(String)
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .resolve(let host, let reason): return "cannot resolve \(host): \(reason)"
        case .connect(let host, let port, let reason): return "cannot connect to \(host):\(port): \(reason)"
        case .tls(let reason): return "TLS: \(reason)"
        case .noCertificates(let searched):
            return "no CA certificates for HTTPS: set SSL_CERT_FILE, or install them at one of \(searched.joined(separator: ", "))"
        case .timedOut(let what): return "timed out \(what)"
        case .closed: return "the server closed the connection before answering"
        case .io(let reason): return reason
        case .malformedResponse(let reason): return "malformed response: \(reason)"
        case .tooLarge(let what): return "\(what) is too large"
        case .invalidRequest(let reason): return "invalid request: \(reason)"
        }
    }
}
