// Infer stage: the plan's typed ids — what names a deployed function, a workflow, a declared
// resource or a queue. Each is its own type over the name, so a function's name cannot stand
// where a table's or a queue's is expected: grouping renames functions only, and the compiler
// checks it. Each id prints, compares, hashes and encodes exactly as its name does (plain
// string), so the manifest, explain, the graph and every golden spell it as before.

/// An id of the plan: a name of one kind of thing.
public protocol PlanID: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    /// The name, as the manifest and every output spell it.
    var text: String { get }
    init(_ text: String)
}

extension PlanID {
    public var description: String { text }
    public static func < (a: Self, b: Self) -> Bool { a.text < b.text }

    /// Decodes the plain string.
    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes as the plain string: an id is its name on the wire.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// A deployed function (`post_orders`, `charge`, `group_1`, `start_fulfil`, `fulfil-eval`).
public struct FunctionID: PlanID {
    public var text: String
    public init(_ text: String) { self.text = text }
}

/// A workflow (`fulfil`).
public struct WorkflowID: PlanID {
    public var text: String
    public init(_ text: String) { self.text = text }
}

/// A declared resource or service: a table, bucket, topic, secret or service (`orders`).
public struct ResourceID: PlanID {
    public var text: String
    public init(_ text: String) { self.text = text }
}

/// A queue the plan names: an async target's or a limited subscriber's queue, a dead-letter
/// queue, a delivery queue (`charge-queue`, `charge-dlq`, `audit-deliveries`).
public struct QueueID: PlanID {
    public var text: String
    public init(_ text: String) { self.text = text }
}

/// A schedule (`every_1d-schedule`); the local runtime's firing queue has its name.
public struct ScheduleID: PlanID {
    public var text: String
    public init(_ text: String) { self.text = text }
}

/// A deployed unit: a function or a workflow (what a subscription or schedule triggers, who
/// starts a workflow, who uses a service). Units share one namespace (the naming step gives
/// every handler a distinct name), and order by name.
public enum UnitID: Hashable, Comparable, Sendable, CustomStringConvertible {
    case function(FunctionID)
    case workflow(WorkflowID)

    /// The unit's name.
    public var text: String {
        switch self {
        case .function(let f): return f.text
        case .workflow(let w): return w.text
        }
    }
    public var description: String { text }
    public var isWorkflow: Bool { if case .workflow = self { return true } else { return false } }
    public var function: FunctionID? { if case .function(let f) = self { return f } else { return nil } }
    public var workflow: WorkflowID? { if case .workflow(let w) = self { return w } else { return nil } }

    public static func < (a: UnitID, b: UnitID) -> Bool { a.text < b.text }
}

/// Who starts a workflow: a function, a workflow, or a schedule. Ordered by name.
public enum WorkflowStarter: Hashable, Comparable, Sendable, CustomStringConvertible {
    case function(FunctionID)
    case workflow(WorkflowID)
    case schedule(ScheduleID)

    public var text: String {
        switch self {
        case .function(let f): return f.text
        case .workflow(let w): return w.text
        case .schedule(let s): return s.text
        }
    }
    public var description: String { text }
    public static func < (a: WorkflowStarter, b: WorkflowStarter) -> Bool { a.text < b.text }
}
