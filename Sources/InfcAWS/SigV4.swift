// AWS: Signature Version 4 — the canonical request, the string to sign, the derived key and the
// `Authorization` header, byte for byte as botocore's `SigV4Auth` (and `S3SigV4Auth` for S3)
// writes them. The clock is an argument, so a signature is a pure function of its inputs.
import InfcCompiler
import InfcHTTPClient

public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// The session token of temporary credentials (a Lambda function's role has one).
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    /// The signing name: `dynamodb`, `s3`, `sns`, `sqs`, `states`, `secretsmanager`, ...
    public var service: String
    /// S3's rules: the path is signed as sent (no normalisation, no second encoding) and the
    /// payload hash travels in `X-Amz-Content-SHA256`.
    public var s3Rules: Bool

    public init(credentials: AWSCredentials, region: String, service: String, s3Rules: Bool? = nil) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.s3Rules = s3Rules ?? (service == "s3")
    }

    /// Headers never signed (hop-by-hop, or rewritten on the way), as botocore leaves them out.
    static let unsignedHeaders: Set<String> = [
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    public static let emptyPayloadHash = SHA256.hex([])

    /// Signs `request` at `time` (seconds since 1970, UTC): sets `X-Amz-Date`, the session
    /// token, for S3 `X-Amz-Content-SHA256`, and `Authorization`.
    public func sign(_ request: inout HTTPRequest, time: Int) {
        let timestamp = Self.timestamp(time)
        request.headers.remove("Authorization")
        request.headers.set("X-Amz-Date", timestamp)
        if let token = credentials.sessionToken, !token.isEmpty {
            request.headers.set("X-Amz-Security-Token", token)
        }
        if s3Rules {
            request.headers.set("X-Amz-Content-SHA256", SHA256.hex(request.body))
        }
        let (canonical, signedHeaders) = canonicalRequest(request)
        let scope = "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(timestamp)\n\(scope)\n\(SHA256.hex(Array(canonical.utf8)))"
        var key = HMACSHA256.authenticate(key: Array("AWS4\(credentials.secretAccessKey)".utf8), message: String(timestamp.prefix(8)))
        key = HMACSHA256.authenticate(key: key, message: region)
        key = HMACSHA256.authenticate(key: key, message: service)
        key = HMACSHA256.authenticate(key: key, message: "aws4_request")
        let signature = Hex.string(HMACSHA256.authenticate(key: key, message: stringToSign))
        request.headers.add("Authorization",
                            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)")
    }

    /// The canonical request and the signed header list.
    public func canonicalRequest(_ request: HTTPRequest) -> (String, String) {
        // Headers: lowercase names, sorted; values trimmed with inner whitespace runs collapsed;
        // repeated names joined with commas; Host from the URL when the request has none.
        var byName: [String: [String]] = [:]
        var order: [String] = []
        for (name, value) in request.headers {
            let lower = name.lowercased()
            if Self.unsignedHeaders.contains(lower) { continue }
            if byName[lower] == nil { order.append(lower) }
            byName[lower, default: []].append(value)
        }
        if byName["host"] == nil {
            order.append("host")
            byName["host"] = [request.url.authority]
        }
        let names = order.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var canonicalHeaders = ""
        for name in names {
            let values = byName[name] ?? []
            canonicalHeaders += "\(name):\(values.map(Self.trimAll).joined(separator: ","))\n"
        }
        let signedHeaders = names.map { $0.trimmingCharacters(in: Self.isPythonWhitespace) }.joined(separator: ";")
        let path = s3Rules ? request.url.path : PercentEncoding.encode(Self.removeDotSegments(request.url.path), safe: "/~")
        let payload = request.headers["X-Amz-Content-SHA256"] ?? SHA256.hex(request.body)
        let canonical = [request.method.uppercased(), path, Self.canonicalQuery(request.url.query),
                         canonicalHeaders, signedHeaders, payload].joined(separator: "\n")
        return (canonical, signedHeaders)
    }

    /// The query's `key=value` pairs (as encoded on the wire) sorted by key, then value.
    static func canonicalQuery(_ query: String) -> String {
        if query.isEmpty { return "" }
        let pairs: [(String, String)] = query.split(separator: "&", omittingEmptySubsequences: false).map { pair in
            if let eq = pair.firstIndex(of: "=") { return (String(pair[..<eq]), String(pair[pair.index(after: eq)...])) }
            return (String(pair), "")
        }
        let sorted = pairs.sorted { a, b in
            let ka = Array(a.0.unicodeScalars.map(\.value)), kb = Array(b.0.unicodeScalars.map(\.value))
            if ka != kb { return ka.lexicographicallyPrecedes(kb) }
            return Array(a.1.unicodeScalars.map(\.value)).lexicographicallyPrecedes(Array(b.1.unicodeScalars.map(\.value)))
        }
        return sorted.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// RFC 3986 §5.2.4's dot-segment removal, with empty segments dropped too (as AWS wants).
    static func removeDotSegments(_ path: String) -> String {
        if path.isEmpty { return "/" }
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." { if !output.isEmpty { output.removeLast() } } else { output.append(segment) }
        }
        let first = path.hasPrefix("/") ? "/" : ""
        let last = path.hasSuffix("/") && !output.isEmpty ? "/" : ""
        return first + output.joined(separator: "/") + last
    }

    /// Python's `' '.join(value.split())`: runs of whitespace become one space, ends trimmed.
    static func trimAll(_ value: String) -> String {
        value.unicodeScalars.split(whereSeparator: isPythonWhitespace).map { String(String.UnicodeScalarView($0)) }.joined(separator: " ")
    }

    /// The characters Python's `str.split()` splits on.
    static func isPythonWhitespace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// `YYYYMMDDTHHMMSSZ` of `time` seconds since 1970 (UTC).
    public static func timestamp(_ time: Int) -> String {
        let days = time >= 0 ? time / 86400 : (time - 86399) / 86400
        let seconds = time - days * 86400
        // Howard Hinnant's civil-from-days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))\(pad(month, 2))\(pad(day, 2))T\(pad(seconds / 3600, 2))\(pad(seconds / 60 % 60, 2))\(pad(seconds % 60, 2))Z"
    }
}

extension String {
    func trimmingCharacters(in isMember: (Unicode.Scalar) -> Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isMember($0) }),
              let last = scalars.lastIndex(where: { !isMember($0) }) else { return "" }
        return String(scalars[first...last])
    }
}
