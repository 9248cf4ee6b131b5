// AWS: a small XML reader for the answers of S3 (REST-XML) and the query protocol (SNS): elements,
// attributes skipped, text with the five entities and character references, comments, CDATA and
// declarations. Enough for what AWS sends; not a validating parser.

public struct XMLElement: Sendable, Equatable {
    public var name: String
    public var children: [XMLElement]
    /// The element's own text, entities decoded (the text of children excluded).
    public var text: String

    /// The first child named `name`.
    public func first(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    /// Every child named `name`.
    public func all(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }
    /// The first descendant named `name`, depth first.
    public func find(_ name: String) -> XMLElement? {
        for c in children {
            if c.name == name { return c }
            if let d = c.find(name) { return d }
        }
        return nil
    }

    /// The root element of `bytes`; nil when they are not well-formed enough to read.
    public static func parse(_ bytes: [UInt8]) -> XMLElement? {
        var reader = Reader(bytes: bytes)
        return reader.document()
    }

    private struct Reader {
        let bytes: [UInt8]
        var i = 0

        mutating func document() -> XMLElement? {
            skipMisc()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "<") else { return nil }
            return element(depth: 0)
        }

        mutating func skipMisc() {
            while i < bytes.count {
                if isSpace(bytes[i]) { i += 1; continue }
                if starts("<?") { skip(past: "?>"); continue }
                if starts("<!--") { skip(past: "-->"); continue }
                if starts("<!") { skip(past: ">"); continue }
                return
            }
        }

        func starts(_ s: String) -> Bool {
            let u = Array(s.utf8)
            return i + u.count <= bytes.count && Array(bytes[i..<(i + u.count)]) == u
        }

        mutating func skip(past s: String) {
            let u = Array(s.utf8)
            while i < bytes.count {
                if starts(s) { i += u.count; return }
                i += 1
            }
        }

        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

        mutating func name() -> String {
            let s = i
            while i < bytes.count, !isSpace(bytes[i]), bytes[i] != UInt8(ascii: ">"), bytes[i] != UInt8(ascii: "/") { i += 1 }
            let full = String(decoding: bytes[s..<i], as: UTF8.self)
            // A namespace prefix (`ns:Name`) is dropped.
            return full.split(separator: ":").last.map(String.init) ?? full
        }

        mutating func element(depth: Int) -> XMLElement? {
            guard depth < 128 else { return nil }
            i += 1  // <
            let tag = name()
            guard !tag.isEmpty else { return nil }
            // Attributes: skipped, quotes respected.
            var quote: UInt8?
            while i < bytes.count {
                let b = bytes[i]
                if let q = quote { if b == q { quote = nil } }
                else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") { quote = b }
                else if b == UInt8(ascii: ">") || b == UInt8(ascii: "/") { break }
                i += 1
            }
            guard i < bytes.count else { return nil }
            if bytes[i] == UInt8(ascii: "/") {
                guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: ">") else { return nil }
                i += 2
                return XMLElement(name: tag, children: [], text: "")
            }
            i += 1  // >
            var children: [XMLElement] = []
            var text: [UInt8] = []
            while i < bytes.count {
                if starts("</") {
                    i += 2
                    _ = name()
                    skip(past: ">")
                    guard let decoded = Self.decode(text) else { return nil }
                    return XMLElement(name: tag, children: children, text: decoded)
                }
                if starts("<!--") { skip(past: "-->"); continue }
                if starts("<![CDATA[") {
                    i += 9
                    let s = i
                    skip(past: "]]>")
                    let end = max(s, i - 3)
                    // Kept escaped-free: CDATA text is literal, so escape `&` for the decoder.
                    for b in bytes[s..<end] { if b == UInt8(ascii: "&") { text += Array("&amp;".utf8) } else { text.append(b) } }
                    continue
                }
                if starts("<?") { skip(past: "?>"); continue }
                if bytes[i] == UInt8(ascii: "<") {
                    guard let child = element(depth: depth + 1) else { return nil }
                    children.append(child)
                    continue
                }
                text.append(bytes[i])
                i += 1
            }
            return nil
        }

        static func decode(_ raw: [UInt8]) -> String? {
            guard let amp = raw.firstIndex(of: UInt8(ascii: "&")) else { return String(validating: raw, as: UTF8.self) }
            var out = Array(raw[..<amp])
            var j = amp
            while j < raw.count {
                if raw[j] != UInt8(ascii: "&") { out.append(raw[j]); j += 1; continue }
                guard let semi = raw[j...].firstIndex(of: UInt8(ascii: ";")), semi - j <= 12 else { return nil }
                let entity = String(decoding: raw[(j + 1)..<semi], as: UTF8.self)
                switch entity {
                case "amp": out.append(UInt8(ascii: "&"))
                case "lt": out.append(UInt8(ascii: "<"))
                case "gt": out.append(UInt8(ascii: ">"))
                case "quot": out.append(UInt8(ascii: "\""))
                case "apos": out.append(UInt8(ascii: "'"))
                default:
                    var value: UInt32?
                    if entity.hasPrefix("#x") || entity.hasPrefix("#X") { value = UInt32(entity.dropFirst(2), radix: 16) }
                    else if entity.hasPrefix("#") { value = UInt32(entity.dropFirst()) }
                    guard let v = value, let scalar = Unicode.Scalar(v) else { return nil }
                    out += Array(String(Character(scalar)).utf8)
                }
                j = semi + 1
            }
            return String(validating: out, as: UTF8.self)
        }
    }
}

enum XMLText {
    /// `text` with `&`, `<`, `>`, `"` and `'` escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
