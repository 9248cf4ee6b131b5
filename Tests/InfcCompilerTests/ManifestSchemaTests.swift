// The manifest of every example and focused program validates against the published JSON
// Schema (templates/manifest.schema.json), with a small validator of the keywords it uses.
import Foundation
import Testing
@testable import InfcCompiler

/// Validates the JSON Schema keywords the manifest schema uses: type, const, enum, properties,
/// required, additionalProperties, items, minimum, pattern (anchored prefix/suffix only) and $ref.
struct SchemaValidator {
    let root: JSON

    func validate(_ value: JSON, _ schema: JSON, at path: String = "$") -> [String] {
        guard case .object(let s) = schema else { return [] }
        if let ref = s["$ref"]?.stringValue {
            let name = String(ref.dropFirst("#/$defs/".count))
            guard let target = root["$defs"]?[name] else { return ["\(path): unknown $ref \(ref)"] }
            return validate(value, target, at: path)
        }
        var errors: [String] = []
        if let t = s["type"] {
            let types = t.arrayValue?.compactMap(\.stringValue) ?? [t.stringValue ?? ""]
            if !types.contains(where: { matches(value, type: $0) }) { return ["\(path): expected \(types.joined(separator: "|")), got \(value.serialized().prefix(60))"] }
        }
        if let c = s["const"], c != value { errors.append("\(path): expected \(c.serialized())") }
        if let e = s["enum"]?.arrayValue, !e.contains(value) { errors.append("\(path): \(value.serialized()) is not one of \(JSON.array(e).serialized())") }
        if let m = s["minimum"]?.doubleValue, let v = value.doubleValue, v < m { errors.append("\(path): \(v) < \(m)") }
        if let p = s["pattern"]?.stringValue, let v = value.stringValue, p == "^[0-9a-f]{64}$",
           v.count != 64 || !v.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) { errors.append("\(path): does not match \(p)") }
        if case .object(let o) = value {
            let props = s["properties"]?.objectValue
            for r in s["required"]?.arrayValue ?? [] {
                if let k = r.stringValue, o[k] == nil { errors.append("\(path): missing \(k)") }
            }
            for (k, v) in o {
                if let ps = props?[k] {
                    errors += validate(v, ps, at: "\(path).\(k)")
                } else if s["additionalProperties"] == .bool(false) {
                    errors.append("\(path): unexpected key \(k)")
                } else if let extra = s["additionalProperties"], extra.objectValue != nil {
                    errors += validate(v, extra, at: "\(path).\(k)")
                }
            }
        }
        if case .array(let items) = value, let itemSchema = s["items"] {
            for (i, item) in items.enumerated() { errors += validate(item, itemSchema, at: "\(path)[\(i)]") }
        }
        return errors
    }

    func matches(_ v: JSON, type: String) -> Bool {
        switch (type, v) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null), ("number", .number): return true
        case ("integer", .number): return v.intValue != nil
        default: return false
        }
    }
}

@Suite struct ManifestSchemaTests {
    static let schema: JSON = {
        let data = (try? Data(contentsOf: Golden.url("templates/manifest.schema.json"))) ?? Data()
        return (try? JSON.parse(bytes: [UInt8](data))) ?? .null
    }()

    @Test(arguments: Golden.sources(in: "examples") + Golden.sources(in: "Tests/Golden/plan"))
    func manifestValidates(_ path: String) throws {
        let c = compile(try Golden.source(path))
        guard !c.hasErrors else { return }
        let errors = SchemaValidator(root: Self.schema).validate(ManifestEmitter.emit(c), Self.schema)
        #expect(errors.isEmpty, "\(path): \(errors.prefix(5))")
    }

    @Test func validatorRejectsBrokenManifests() throws {
        let c = compile(try Golden.source("examples/shop.inf"))
        guard case .object(var m) = ManifestEmitter.emit(c) else { Issue.record("not an object"); return }
        m["version"] = 1
        m["surprise"] = true
        m["functions"] = [["name": "x"]]
        let errors = SchemaValidator(root: Self.schema).validate(.object(m), Self.schema)
        #expect(errors.contains { $0.contains("version") })
        #expect(errors.contains { $0.contains("unexpected key surprise") })
        #expect(errors.contains { $0.contains("missing handlers") })
    }
}
