// Runtime engine: resource operations as the cloud would run them — every one checked against
// the caller's manifest permissions first (access-denied otherwise), then performed on the
// durable store, the secret source or the service gateway; and `async` sends and starts.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler

/// Who is acting: a function or a workflow, with its policy from the manifest.
enum Principal: Sendable {
    case function(ManifestFunction)
    case workflow(ManifestWorkflow)

    var name: String {
        switch self {
        case .function(let f): return f.name.text
        case .workflow(let w): return w.name.text
        }
    }

    var kind: String {
        switch self {
        case .function: return "function"
        case .workflow: return "workflow"
        }
    }

    var permissions: Set<ManifestPermission> {
        switch self {
        case .function(let f): return f.permissions
        case .workflow(let w): return w.permissions
        }
    }
}

/// What an operation needs to know about the invocation performing it.
struct OperationContext: Sendable {
    var deployment: Deployment
    var invocation: String
    var trace: String
    var deadline: Double
    var cancelled: @Sendable () -> Bool
}

extension Runtime {
    /// Refuses an action the principal's policy does not hold, naming function, resource and action.
    /// Checks that `principal` may `action` the function, workflow, queue or resource `resource`.
    func authorize(_ principal: Principal, resource: some PlanID, type: String, action: String) throws(RuntimeError) {
        try authorize(principal, resource: resource.text, type: type, action: action)
    }

    func authorize(_ principal: Principal, resource: String, type: String, action: String) throws(RuntimeError) {
        guard principal.permissions.contains(ManifestPermission(resource: resource, type: type, action: action)) else {
            throw RuntimeError.runtime(
                "access-denied",
                "access denied: \(principal.kind) \(principal.name) may not \(action) \(type) \(resource) (the manifest does not grant it)",
                extra: ["function": .string(principal.name), "resource": .string(resource), "action": .string(action)])
        }
    }

    /// Checks and performs one resource operation.
    func perform(_ operation: ResourceOperation, on resource: String, kind: ResourceKind, arguments: [JSON],
                 principal: Principal, context: OperationContext) throws(RuntimeError) -> JSON {
        let action = operation.action(on: kind).rawValue
        try authorize(principal, resource: resource, type: kind.rawValue, action: action)
        if kind == .service {
            return try services.call(service: resource, operation: operation, arguments: arguments,
                                     deadline: context.deadline, cancelled: context.cancelled)
        }
        switch (kind, operation) {
        case (.table, .get):
            let k = try key(arguments, resource, operation)
            return try storing { () throws(StoreError) in try store.document(table: resource, key: k) ?? .null }
        case (.table, .put):
            let k = try key(arguments, resource, operation)
            let value = argument(arguments, 1)
            return try storing { () throws(StoreError) in
                try store.putDocument(table: resource, key: k, value: value)
                return .null
            }
        case (.table, .insert), (.table, .replace):
            let k = try key(arguments, resource, operation)
            // `null` expected means "nothing stored" (JSON is nil-literal-expressible: spell out .none).
            var expected: JSON? = Optional.none
            if operation == .replace, argument(arguments, 1) != .null { expected = argument(arguments, 1) }
            let value = argument(arguments, operation == .insert ? 1 : 2)
            let found = try storing { () throws(StoreError) in
                try store.putDocument(table: resource, key: k, value: value, ifCurrent: expected)
            }
            guard let found else { return .null }
            let why = operation == .insert || expected == nil
                ? "\(resource) already has a value under \"\(k)\""
                : found == .null ? "\(resource) has no value under \"\(k)\" any more"
                : "the value under \"\(k)\" in \(resource) changed since it was read"
            throw RuntimeError.runtime(
                "condition-failed", "\(resource).\(operation.rawValue)(\"\(k)\", …) did not write: \(why)",
                extra: ["table": .string(resource), "key": .string(k), "current": found])
        case (.table, .delete):
            let k = try key(arguments, resource, operation)
            return try storing { () throws(StoreError) in
                try store.deleteDocument(table: resource, key: k)
                return .null
            }
        case (.table, .scan):
            return try storing { () throws(StoreError) in .array(try store.scanDocuments(table: resource).map(\.value)) }
        case (.bucket, .get):
            let k = try key(arguments, resource, operation)
            return try storing { () throws(StoreError) in
                try store.storedObject(bucket: resource, key: k).map { Runtime.objectValue($0.data, contentType: $0.contentType) } ?? .null
            }
        case (.bucket, .put):
            let k = try key(arguments, resource, operation)
            let (data, contentType) = Runtime.objectData(argument(arguments, 1))
            return try storing { () throws(StoreError) in
                try store.putObject(bucket: resource, key: k, data: data, contentType: contentType)
                return .null
            }
        case (.bucket, .delete):
            let k = try key(arguments, resource, operation)
            return try storing { () throws(StoreError) in
                try store.deleteObject(bucket: resource, key: k)
                return .null
            }
        case (.bucket, .list):
            let prefix = arguments.first.flatMap { $0.isNull ? nil : Interpreter.format($0) }
            return try storing { () throws(StoreError) in
                .array(try store.listObjects(bucket: resource, prefix: prefix).map { .string($0.key) })
            }
        case (.topic, .publish):
            let message = argument(arguments, 0)
            return try storing { () throws(StoreError) in
                try publish(topic: resource, message: message, context: context)
                return .null
            }
        case (.secret, .value):
            guard let secret = context.deployment.manifest.secrets.first(where: { $0.name.text == resource }) else {
                throw RuntimeError.runtime("invalid-program", "secret `\(resource)` is not in the manifest; rebuild with infc build")
            }
            return .string(try secrets.value(name: secret.name.text, env: secret.env))
        default:
            throw RuntimeError.runtime("invalid-program", "\(kind.rawValue) \(resource) has no operation \(operation.rawValue)")
        }
    }

    /// What `bucket.put` stores for a value: bytes as they are with their media type, a string
    /// as its UTF-8 (text: no type), any other value as its JSON text.
    static func objectData(_ value: JSON) -> (data: [UInt8], contentType: String?) {
        switch value {
        case .bytes(let b): return (b.data, b.contentType)
        case .string(let s): return (Array(s.utf8), nil)
        default: return (Array(value.serialized().utf8), nil)
        }
    }

    /// What `bucket.get` answers for a stored object: bytes when it was stored as bytes (or is
    /// not UTF-8), else the text.
    static func objectValue(_ data: [UInt8], contentType: String?) -> JSON {
        if let contentType { return .bytes(Bytes(data, contentType: contentType)) }
        if let text = String(validating: data, as: UTF8.self) { return .string(text) }
        return .bytes(Bytes(data, contentType: nil))
    }

    /// Runs a store call, turning its failure into a runtime error the program can see.
    func storing<T>(_ body: () throws(StoreError) -> T) throws(RuntimeError) -> T {
        do {
            return try body()
        } catch {
            if case .invalidKey = error { throw RuntimeError.runtime("invalid-key", error.description) }
            throw RuntimeError.runtime("store-error", "the state database failed: \(error.description)")
        }
    }

    private func argument(_ arguments: [JSON], _ i: Int) -> JSON { i < arguments.count ? arguments[i] : .null }

    /// Keys are strings; numbers and booleans are accepted in their `str` form.
    private func key(_ arguments: [JSON], _ resource: String, _ operation: ResourceOperation) throws(RuntimeError) -> String {
        switch argument(arguments, 0) {
        case .string(let s): return s
        case .number, .bool: return Interpreter.format(arguments[0])
        default:
            throw RuntimeError.runtime("invalid-argument", "\(resource).\(operation.rawValue) needs a string key")
        }
    }

    /// Fans a message out to every subscriber's queue in one transaction, then wakes the workers.
    func publish(topic: String, message: JSON, context: OperationContext) throws(StoreError) {
        let queues = context.deployment.manifest.subscriptions.filter { $0.topic.text == topic }.map(Runtime.deliveryQueue)
        guard !queues.isEmpty else { return }
        let body: JSON = ["event": message, "parent": .string(context.invocation)]
        try store.publish(topic: topic, to: queues.map(\.text), body: body, trace: context.trace, now: clock.now())
        for q in queues { notify(queue: q) }
    }

    /// `async f(args)`: starts the workflow `f` or sends a message on `f`'s queue, after the
    /// permission check; the message is committed before this returns. Returns its id.
    func sendAsync(fn declaration: Int, name: String, arguments: [JSON], principal: Principal,
                   context: OperationContext) throws(RuntimeError) -> JSON {
        let deployment = context.deployment
        if let workflow = deployment.workflowByDeclaration[declaration] {
            try authorize(principal, resource: workflow, type: "workflow", action: "start")
            return .string(try startExecution(workflow: workflow, arguments: arguments, trace: context.trace,
                                              parent: context.invocation, trigger: "async from \(principal.name)"))
        }
        guard let queue = deployment.queueByFn[name] else {
            throw RuntimeError.runtime("invalid-program", "fn \(name) has no queue in the manifest; rebuild with infc build")
        }
        try authorize(principal, resource: queue.name, type: "queue", action: "send")
        let body: JSON = ["args": .array(arguments), "parent": .string(context.invocation)]
        let id = try storing { () throws(StoreError) in
            try store.enqueue(queue.name.text, body: body, trace: context.trace, now: clock.now())
        }
        notify(queue: queue.name)
        return .string(String(id))
    }
}
