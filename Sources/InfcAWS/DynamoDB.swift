// AWS: DynamoDB over its JSON 1.0 protocol — GetItem, PutItem, DeleteItem and Scan (every page) —
// and the mapping between DynamoDB attribute values and the interpreter's JSON values.
import InfcCompiler

/// Attribute values ↔ JSON. JSON → DynamoDB: null `NULL`, booleans `BOOL`, numbers `N` (a
/// non-finite one, which JSON cannot hold either, `NULL`, as the JSON printer writes `null`), strings
/// `S`, arrays `L`, objects `M`. DynamoDB → JSON also reads the set types (`SS`, `NS` as arrays,
/// `B`/`BS` as base64 strings, as DynamoDB's JSON carries them). Bytes are a map
/// `{"$bytes": B, "contentType": S}` — the local store's tagged object with the data as DynamoDB
/// binary — and such a map reads back as the same bytes.
public enum DynamoDBValue {
    public static func attribute(_ value: JSON) -> JSON {
        switch value {
        case .null: return ["NULL": true]
        case .bool(let b): return ["BOOL": .bool(b)]
        case .number(let n): return n.isFinite ? ["N": .string(JSON.format(number: n))] : ["NULL": true]
        case .string(let s): return ["S": .string(s)]
        case .array(let items): return ["L": .array(items.map(attribute))]
        case .object(let o): return ["M": .object(item(o))]
        case .bytes(let b):
            return ["M": [Bytes.tag: ["B": .string(Base64.encode(b.data))], "contentType": ["S": .string(b.contentType)]]]
        }
    }

    /// An item: each field an attribute value.
    public static func item(_ object: JSONObject) -> JSONObject {
        JSONObject(object.map { ($0.key, attribute($0.value)) })
    }

    /// The JSON value of one attribute value; nil when it is not one.
    public static func json(_ attribute: JSON) -> JSON? {
        guard case .object(let o) = attribute, o.count == 1, let (type, v) = o.first(where: { _ in true }).map({ ($0.key, $0.value) }) else { return nil }
        switch (type, v) {
        case ("NULL", _): return .null
        case ("BOOL", .bool(let b)): return .bool(b)
        case ("N", .string(let s)): return Double(s).map(JSON.number)
        case ("S", .string(let s)): return .string(s)
        case ("B", .string(let s)): return .string(s)
        case ("L", .array(let items)):
            var out: [JSON] = []
            for i in items { guard let j = json(i) else { return nil }; out.append(j) }
            return .array(out)
        case ("M", .object(let m)):
            guard let o = object(m) else { return nil }
            return Bytes(taggedObject: o).map(JSON.bytes) ?? .object(o)
        case ("SS", .array(let items)), ("BS", .array(let items)):
            return items.allSatisfy({ $0.stringValue != nil }) ? .array(items) : nil
        case ("NS", .array(let items)):
            let numbers = items.compactMap { $0.stringValue.flatMap(Double.init) }
            return numbers.count == items.count ? .array(numbers.map(JSON.number)) : nil
        default: return nil
        }
    }

    /// The JSON object of an item; nil when a field is not an attribute value.
    public static func object(_ item: JSONObject) -> JSONObject? {
        var out = JSONObject()
        for (k, v) in item {
            guard let j = json(v) else { return nil }
            out[k] = j
        }
        return out
    }
}

public struct DynamoDB: Sendable {
    let client: AWSClient
    public init(_ client: AWSClient) { self.client = client }

    func call(_ operation: String, _ body: JSONObject) throws(AWSError) -> JSON {
        try client.json(.dynamoDB, target: "DynamoDB_20120810.\(operation)", version: "1.0", .object(body))
    }

    func malformed(_ operation: String, _ what: String) -> AWSError {
        AWSError(service: "dynamodb", operation: operation, code: "MalformedResponse", message: what, status: 200)
    }

    /// The item whose key attributes are `key`, as JSON; nil when there is none.
    public func getItem(table: String, key: JSONObject, consistentRead: Bool = false) throws(AWSError) -> JSONObject? {
        var body = JSONObject([("TableName", .string(table)), ("Key", .object(DynamoDBValue.item(key)))])
        if consistentRead { body["ConsistentRead"] = .bool(true) }
        let answer = try call("GetItem", body)
        guard case .object(let item)? = answer["Item"] else { return nil }
        guard let object = DynamoDBValue.object(item) else { throw malformed("GetItem", "an item field is not an attribute value") }
        return object
    }

    public func putItem(table: String, item: JSONObject) throws(AWSError) {
        _ = try call("PutItem", JSONObject([("TableName", .string(table)), ("Item", .object(DynamoDBValue.item(item)))]))
    }

    /// A conditional PutItem: writes `item` only when `condition` (a condition expression over
    /// `names` and `values`) holds. Returns nil when it wrote, else the item under `key` as it is
    /// now (`.null` when there is none), from `ReturnValuesOnConditionCheckFailure` or, when the
    /// answer has no item, a consistent read.
    public func putItem(table: String, item: JSONObject, key: JSONObject, condition: String, names: JSONObject = JSONObject(),
                        values: JSONObject = JSONObject()) throws(AWSError) -> JSON? {
        var body = JSONObject([("TableName", .string(table)), ("Item", .object(DynamoDBValue.item(item))),
                               ("ConditionExpression", .string(condition)), ("ReturnValuesOnConditionCheckFailure", "ALL_OLD")])
        if !names.isEmpty { body["ExpressionAttributeNames"] = .object(names) }
        if !values.isEmpty { body["ExpressionAttributeValues"] = .object(DynamoDBValue.item(values)) }
        do {
            _ = try call("PutItem", body)
            return nil
        } catch where error.code == "ConditionalCheckFailedException" {
            if case .object(let old)? = error.item, !old.isEmpty {
                guard let object = DynamoDBValue.object(old) else { throw malformed("PutItem", "the current item is not a map of attribute values") }
                return .object(object)
            }
            // No item in the answer (none stored, or a service that does not return it): read it.
            return try getItem(table: table, key: key, consistentRead: true).map(JSON.object) ?? .null
        }
    }

    public func deleteItem(table: String, key: JSONObject) throws(AWSError) {
        _ = try call("DeleteItem", JSONObject([("TableName", .string(table)), ("Key", .object(DynamoDBValue.item(key)))]))
    }

    /// One page of a scan: its items and the key to start the next page from (nil on the last).
    public func scanPage(table: String, limit: Int? = nil, startKey: JSON? = nil,
                         consistentRead: Bool = false) throws(AWSError) -> (items: [JSONObject], next: JSON?) {
        var body = JSONObject([("TableName", .string(table))])
        if consistentRead { body["ConsistentRead"] = .bool(true) }
        if let limit { body["Limit"] = .int(limit) }
        if let startKey { body["ExclusiveStartKey"] = startKey }
        let answer = try call("Scan", body)
        var items: [JSONObject] = []
        for raw in answer["Items"]?.arrayValue ?? [] {
            guard case .object(let o) = raw, let object = DynamoDBValue.object(o) else { throw malformed("Scan", "an item is not a map of attribute values") }
            items.append(object)
        }
        let next = answer["LastEvaluatedKey"].flatMap { $0.objectValue?.isEmpty == false ? $0 : nil }
        return (items, next)
    }

    /// Every item of the table, page after page (`pageSize` items a page when set).
    public func scan(table: String, pageSize: Int? = nil, consistentRead: Bool = false) throws(AWSError) -> [JSONObject] {
        var all: [JSONObject] = []
        var start: JSON?
        repeat {
            let page = try scanPage(table: table, limit: pageSize, startKey: start, consistentRead: consistentRead)
            all += page.items
            start = page.next
        } while start != nil
        return all
    }
}
