// Support: binary values — bytes with their media type — and the base64 they are written in
// wherever a value must be JSON text (nested in a JSON answer, in the state database).

/// Bytes that are not text (an image, a PDF, a zip) with the media type they came with.
public struct Bytes: Hashable, Sendable {
    public var data: [UInt8]
    /// A media type such as `image/jpeg`; `application/octet-stream` when none was given.
    public var contentType: String

    public init(_ data: [UInt8], contentType: String?) {
        self.data = data
        let type = contentType?.trimmingASCIISpaces ?? ""
        self.contentType = type.isEmpty ? Bytes.defaultContentType : type
    }

    public static let defaultContentType = "application/octet-stream"

    /// The key that marks an object as bytes in JSON text.
    public static let tag = "$bytes"

    /// `{"$bytes": BASE64, "contentType": T}`.
    public var taggedObject: JSONObject {
        JSONObject([(Bytes.tag, .string(Base64.encode(data))), ("contentType", .string(contentType))])
    }

    /// The bytes an object made by `taggedObject` stands for, or nil when it is not one.
    public init?(taggedObject o: JSONObject) {
        guard o.count == 2, let encoded = o[Bytes.tag]?.stringValue, let type = o["contentType"]?.stringValue,
              let data = Base64.decode(encoded)
        else { return nil }
        self.init(data, contentType: type)
    }

    /// Whether a body of media type `contentType` is text (JSON, `text/*`, XML, forms, scripts):
    /// such a body becomes a string or a parsed JSON value; any other becomes bytes. A missing
    /// type counts as text (the body is then kept as bytes only when it is not UTF-8).
    public static func isTextual(_ contentType: String?) -> Bool {
        guard let contentType else { return true }
        let essence = contentType.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingASCIISpaces.lowercased() } ?? ""
        if essence.isEmpty { return true }
        if essence.hasPrefix("text/") { return true }
        if essence.hasSuffix("+json") || essence.hasSuffix("+xml") { return true }
        switch essence {
        case "application/json", "application/xml", "application/javascript", "application/x-www-form-urlencoded",
             "application/graphql", "application/x-ndjson":
            return true
        default:
            return false
        }
    }
}

/// RFC 4648 base64 with padding.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ data: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((data.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < data.count {
            let n = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = data.count - i
        if rest == 1 {
            let n = UInt32(data[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of padded base64 text, or nil when it is not base64.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 4 * 3)
        var i = 0
        while i < chars.count {
            var n: UInt32 = 0
            var padding = 0
            for j in 0..<4 {
                let c = chars[i + j]
                let v: UInt32
                switch c {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
                case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
                case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
                case UInt8(ascii: "+"): v = 62
                case UInt8(ascii: "/"): v = 63
                case UInt8(ascii: "="):
                    guard i + 4 == chars.count, j >= 2 else { return nil }
                    padding += 1
                    v = 0
                default: return nil
                }
                if padding > 0 && c != UInt8(ascii: "=") { return nil }
                n = n << 6 | v
            }
            out.append(UInt8(n >> 16 & 0xFF))
            if padding < 2 { out.append(UInt8(n >> 8 & 0xFF)) }
            if padding < 1 { out.append(UInt8(n & 0xFF)) }
            i += 4
        }
        return out
    }
}

extension String {
    var trimmingASCIISpaces: String {
        let u = Array(utf8)
        var start = 0, end = u.count
        while start < end, u[start] == 0x20 || u[start] == 0x09 { start += 1 }
        while end > start, u[end - 1] == 0x20 || u[end - 1] == 0x09 { end -= 1 }
        return String(decoding: u[start..<end], as: UTF8.self)
    }
}
