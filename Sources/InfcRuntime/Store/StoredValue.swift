// Runtime state: how a program value is written as JSON text in the state database (documents,
// queue messages, workflow inputs, journal entries and results) and read back, bytes included.
import InfcCompiler

/// The stored form of a value. Plain JSON stays as it is (so older state files read the same);
/// bytes are written as `{"$bytes": BASE64, "contentType": T}`, and the rare program object
/// that could be mistaken for that (one with a `$bytes` key, or whose only key is `$object`) is
/// wrapped as `{"$object": {…}}`, so every value reads back exactly as it was written.
enum StoredValue {
    static let wrapper = "$object"

    static func encode(_ value: JSON) -> String {
        needsEscaping(value) ? escaped(value).serialized() : value.serialized()
    }

    /// Parses stored text; a failure means the file was altered outside infc.
    static func decode(_ text: String) throws(StoreError) -> JSON {
        let parsed: JSON
        do {
            parsed = try JSON.parse(text)
        } catch {
            throw .corruptValue("stored JSON does not parse: \(error.description)")
        }
        return mayHoldTags(text) ? revived(parsed) : parsed
    }

    private static func isAmbiguous(_ o: JSONObject) -> Bool {
        o[Bytes.tag] != nil || (o.count == 1 && o[wrapper] != nil)
    }

    private static func needsEscaping(_ v: JSON) -> Bool {
        switch v {
        case .array(let items): return items.contains(where: needsEscaping)
        case .object(let o): return isAmbiguous(o) || o.contains { needsEscaping($0.value) }
        default: return false
        }
    }

    private static func escaped(_ v: JSON) -> JSON {
        switch v {
        case .array(let items): return .array(items.map(escaped))
        case .object(let o):
            var copy = JSONObject()
            for (k, value) in o { copy[k] = escaped(value) }
            return isAmbiguous(o) ? .object(JSONObject([(wrapper, .object(copy))])) : .object(copy)
        default: return v
        }
    }

    /// Whether the text has a key starting with `$` at all (`"$`): the cheap test before a walk.
    private static func mayHoldTags(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for c in text.utf8 {
            if previous == UInt8(ascii: "\"") && c == UInt8(ascii: "$") { return true }
            previous = c
        }
        return false
    }

    private static func revived(_ v: JSON) -> JSON {
        switch v {
        case .array(let items): return .array(items.map(revived))
        case .object(let o):
            if let bytes = Bytes(taggedObject: o) { return .bytes(bytes) }
            if o.count == 1, case .object(let inner)? = o[wrapper] {
                var copy = JSONObject()
                for (k, value) in inner { copy[k] = revived(value) }
                return .object(copy)
            }
            var copy = JSONObject()
            for (k, value) in o { copy[k] = revived(value) }
            return .object(copy)
        default: return v
        }
    }
}
