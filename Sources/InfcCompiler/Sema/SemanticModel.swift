// Sema stage: the facts resolution establishes, in side tables keyed by node id and
// declaration index. Inference, the language server and the runtime read them.

/// What a name refers to.
public enum Symbol: Hashable, Sendable {
    /// A parameter, `let`, `var`, loop or catch variable: an index into `SemanticModel.bindings`.
    case local(Int)
    /// A resource, service or fn: an index into `Program.declarations`.
    case declaration(Int)
    case builtin(Builtin)
}

/// What a call expression calls.
public enum CallTarget: Hashable, Sendable {
    case fn(declaration: Int)
    case builtin(Builtin)
    case operation(declaration: Int, ResourceKind, ResourceOperation)
}

public struct LocalBinding: Hashable, Sendable {
    public enum Kind: String, Sendable { case parameter, `let`, `var`, loop, `catch` }
    public var name: Identifier
    public var kind: Kind
    /// The declaration (handler) whose body holds it.
    public var declaration: Int
    public var reads: Int = 0
}

/// One occurrence of a name in the source, for go-to-definition, references and hover.
public struct Occurrence: Hashable, Sendable {
    public var range: SourceRange
    public var symbol: Symbol
    public var isDefinition: Bool
}

/// Settings from `app NAME { … }`, with defaults.
public struct AppSettings: Sendable {
    public var name: String
    public var nameRange: SourceRange?
    public var maxResources = 200
    public var maxResourcesRange: SourceRange?
    public var grouped = false
    public var accountConcurrency = PlatformLimits.defaultAccountConcurrency
    public var unreservedConcurrency = PlatformLimits.defaultUnreservedConcurrency
}

/// A handler's attributes after validation.
public struct HandlerAttributes: Sendable {
    public var limit: (value: Int, range: SourceRange)?
    public var timeoutMs: (value: Int64, range: SourceRange)?
    public var retry: (value: Int, range: SourceRange)?
    public var backoffMs: (value: Int64, range: SourceRange)?
}

public struct SemanticModel: Sendable {
    /// Global names (resources, services, fns) to declaration indices.
    public var globals: [String: Int] = [:]
    /// Name expressions to what they refer to.
    public var references = NodeMap<Symbol>()
    /// Call expressions to what they call.
    public var calls = NodeMap<CallTarget>()
    public var bindings: [LocalBinding] = []
    public var occurrences: [Occurrence] = []
    public var app: AppSettings
    public var attributes: [Int: HandlerAttributes] = [:]
    /// Parsed route paths by declaration index.
    public var routePaths: [Int: RoutePath] = [:]
    /// Cron schedules by declaration index.
    public var cronSchedules: [Int: CronExpression] = [:]
    /// For each `on` handler, the topic declaration it subscribes to.
    public var subscriptions: [Int: Int] = [:]

    public init(appName: String, nodeCount: Int = 0) {
        app = AppSettings(name: appName)
        references = NodeMap(capacity: nodeCount)
        calls = NodeMap(capacity: nodeCount)
        // About one name occurrence per three nodes: reserved, so the list is not copied as it grows.
        occurrences.reserveCapacity(nodeCount / 3 + 16)
    }

    /// The resource kind of a declaration, if it is a resource or service.
    public func resourceKind(of declaration: Int, in program: Program) -> ResourceKind? {
        switch program.declarations[declaration].kind {
        case .resource(let r): return r.kind
        case .service: return .service
        default: return nil
        }
    }
}
