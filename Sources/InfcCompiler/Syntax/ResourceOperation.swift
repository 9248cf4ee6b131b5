// Syntax stage: the resource operations of each resource kind, their arities and the
// permission action each grants. These, and only these, grant permissions (SPEC §2, §3.5).

public enum ResourceOperation: String, Sendable, CaseIterable {
    case get, put, delete, scan, list, publish, value, post
    /// Conditional writes on tables: `insert(key, value)` only where `key` is absent,
    /// `replace(key, expected, value)` only where the stored value still equals `expected`.
    case insert, replace

    /// Accepted argument counts for this operation on a resource of `kind`.
    public func arity(on kind: ResourceKind) -> ClosedRange<Int> {
        switch (kind, self) {
        case (.table, .get), (.table, .delete), (.bucket, .get), (.bucket, .delete): return 1...1
        case (.table, .put), (.bucket, .put), (.table, .insert): return 2...2
        case (.table, .replace): return 3...3
        case (.table, .scan): return 0...0
        case (.bucket, .list): return 0...1
        case (.topic, .publish): return 1...1
        case (.secret, .value): return 0...0
        case (.service, .get), (.service, .delete): return 1...1
        case (.service, .post), (.service, .put): return 1...2
        default: return 0...0
        }
    }

    /// The permission action this operation needs.
    public func action(on kind: ResourceKind) -> Action {
        switch (kind, self) {
        case (.table, .get), (.bucket, .get), (.secret, .value): return .read
        case (.table, .scan), (.bucket, .list): return .list
        case (.topic, .publish): return .publish
        case (.service, _): return .call
        default: return .write
        }
    }

    /// How the operation's arguments read, for arity messages: `put(key, value)`.
    public func signature(on kind: ResourceKind) -> String {
        switch (kind, self) {
        case (.table, .get), (.table, .delete), (.bucket, .get), (.bucket, .delete): return "\(rawValue)(key)"
        case (.table, .put), (.bucket, .put), (.table, .insert): return "\(rawValue)(key, value)"
        case (.table, .replace): return "replace(key, expected, value)"
        case (.bucket, .list): return "list(prefix?)"
        case (.topic, .publish): return "publish(message)"
        case (.service, .get), (.service, .delete): return "\(rawValue)(path)"
        case (.service, .post), (.service, .put): return "\(rawValue)(path, body?)"
        default: return "\(rawValue)()"
        }
    }
}

/// A permission action: what one (resource, action) pair of a function's policy allows.
public enum Action: String, Sendable, CaseIterable, Comparable {
    case read, write, list, publish, call
    /// `send` on a queue, `start` on a workflow, `invoke` on a function.
    case send, start, invoke

    /// Declaration order (`allCases` order), without building `allCases`: plans sort thousands.
    private var rank: Int {
        switch self {
        case .read: return 0
        case .write: return 1
        case .list: return 2
        case .publish: return 3
        case .call: return 4
        case .send: return 5
        case .start: return 6
        case .invoke: return 7
        }
    }

    public static func < (a: Action, b: Action) -> Bool { a.rank < b.rank }
}
