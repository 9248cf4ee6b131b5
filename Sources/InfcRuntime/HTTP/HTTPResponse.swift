// Runtime HTTP: the response value a handler returns, JSON/text helpers and reason phrases.
// The server adds Content-Length, Connection and Date itself; handlers never set them.

import InfcCompiler

/// A complete HTTP response. The server always frames it with `Content-Length` (except for
/// 1xx/204/304, which carry no body) and drops any `Content-Length`, `Transfer-Encoding`,
/// `Connection` or `Date` the handler put in `headers`.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int = 200, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response whose body is the given JSON text, typed `application/json`.
    public static func json(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(text.utf8))
    }

    /// A response whose body is the serialised JSON value.
    public static func json(_ value: JSON, status: Int = 200) -> HTTPResponse {
        json(value.serialized(), status: status)
    }

    /// A plain-text UTF-8 response.
    public static func text(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }

    /// The runtime's error shape: `{"error":"<message>"}` with the given status.
    public static func error(status: Int, message: String) -> HTTPResponse {
        json(JSON.object(JSONObject([("error", .string(message))])), status: status)
    }

    /// The first value of the header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        for field in headers where ASCII.equalsIgnoringCase(field.name, name) { return field.value }
        return nil
    }

    /// The body read as UTF-8 (invalid sequences replaced).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// True when the status forbids a body (1xx, 204, 304).
    public var statusForbidsBody: Bool { status < 200 || status == 204 || status == 304 }

    /// The standard reason phrase for `status`, or a generic one by class.
    public static func reasonPhrase(for status: Int) -> String {
        if let phrase = reasonPhrases[status] { return phrase }
        switch status {
        case 100..<200: return "Informational"
        case 200..<300: return "Success"
        case 300..<400: return "Redirection"
        case 400..<500: return "Client Error"
        default: return "Server Error"
        }
    }

    static let reasonPhrases: [Int: String] = [
        100: "Continue", 101: "Switching Protocols",
        200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
        204: "No Content", 205: "Reset Content", 206: "Partial Content",
        300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
        304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
        400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
        404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
        407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict",
        410: "Gone", 411: "Length Required", 412: "Precondition Failed",
        413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
        416: "Range Not Satisfiable", 417: "Expectation Failed", 421: "Misdirected Request",
        422: "Unprocessable Content", 425: "Too Early", 426: "Upgrade Required",
        428: "Precondition Required", 429: "Too Many Requests",
        431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
        500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
        503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
    ]
}
