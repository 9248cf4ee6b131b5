// Infer stage: the plan — what the program becomes. Every inferred fact keeps the source
// range that caused it (`Reason`), so explain, hover and diagnostics can point at the line.

/// Why something was inferred: a sentence and the range that caused it.
///
/// The sentence is kept in pieces (words, source locations, source text) and written out only
/// when asked for, with `text(in:)`: a plan holds a reason for every fact, thousands in a large
/// app, and `check` and the language server's diagnostics show none of them.
public struct Reason: Hashable, Sendable {
    public var message: ReasonMessage
    public var range: SourceRange
    public init(_ message: ReasonMessage, _ range: SourceRange) {
        self.message = message
        self.range = range
    }

    /// The sentence, with its locations as `file:line:col` and its source text quoted from `file`.
    public func text(in file: SourceFile) -> String { message.text(in: file) }
}

/// A reason's sentence in pieces, written as a string interpolation:
/// `"uses \(name) at \(at: range)"`, `"waits with `\(source: range, firstLine: true)`"`.
public struct ReasonMessage: Hashable, Sendable, ExpressibleByStringInterpolation {
    enum Piece: Hashable, Sendable {
        case words(String)
        /// `file:line:col` of the range's start.
        case location(SourceRange)
        /// The range's source text: its first line only, at most `limit` characters.
        case source(SourceRange, firstLine: Bool, limit: Int?)
        /// Names joined with ", ", without `excluding`, shortened to a few and "and N others".
        case names([String], excluding: String)
    }
    var pieces: [Piece]

    public init(stringLiteral value: String) { pieces = [.words(value)] }
    public init(stringInterpolation: StringInterpolation) { pieces = stringInterpolation.pieces }

    public struct StringInterpolation: StringInterpolationProtocol {
        var pieces: [Piece] = []
        public init(literalCapacity: Int, interpolationCount: Int) {
            pieces.reserveCapacity(2 * interpolationCount + 1)
        }
        public mutating func appendLiteral(_ literal: String) {
            if !literal.isEmpty { pieces.append(.words(literal)) }
        }
        public mutating func appendInterpolation<T: CustomStringConvertible>(_ value: T) {
            pieces.append(.words(value.description))
        }
        /// `file:line:col` of `range`'s start.
        public mutating func appendInterpolation(at range: SourceRange) { pieces.append(.location(range)) }
        /// The source text of `range`, optionally its first line only and at most `prefix` characters.
        public mutating func appendInterpolation(source range: SourceRange, firstLine: Bool = false, prefix: Int? = nil) {
            pieces.append(.source(range, firstLine: firstLine, limit: prefix))
        }
        /// `names` without `excluding`: all of them when there are a few, else the first few and
        /// how many more (a list of hundreds helps nobody). `names` holds `excluding` once.
        public mutating func appendInterpolation(names: [String], excluding: String) {
            pieces.append(.names(names, excluding: excluding))
        }
    }

    /// How many names a `names` piece lists before it says "and N others".
    static let listedNames = 4

    public func text(in file: SourceFile) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .words(let w): out += w
            case .location(let r): out += file.describe(r)
            case .source(let r, let firstLine, let limit):
                var text = Substring(file.text(r))
                if firstLine { text = text.split(separator: "\n").first ?? "" }
                if let limit { text = text.prefix(limit) }
                out += text
            case .names(let names, let excluded):
                out += ReasonMessage.join(names, excluding: excluded)
            }
        }
        return out
    }

    static func join(_ names: [String], excluding excluded: String) -> String {
        let listed = listedNames
        var shown: [String] = []
        for n in names where n != excluded {
            shown.append(n)
            if shown.count > listed { break }
        }
        if shown.count <= listed { return shown.joined(separator: ", ") }
        return shown.prefix(listed - 1).joined(separator: ", ") + " and \(names.count - listed) others"
    }
}

/// A (resource, action) pair a function or workflow may perform.
public struct Permission: Hashable, Sendable, Comparable {
    public enum ResourceType: String, Sendable, Comparable, CaseIterable {
        case table, bucket, topic, secret, service, queue, workflow, function
        /// Alphabetical by name, without comparing strings.
        private var rank: Int {
            switch self {
            case .bucket: return 0
            case .function: return 1
            case .queue: return 2
            case .secret: return 3
            case .service: return 4
            case .table: return 5
            case .topic: return 6
            case .workflow: return 7
            }
        }
        public static func < (a: ResourceType, b: ResourceType) -> Bool { a.rank < b.rank }
    }
    /// The name of what it is granted on; its kind is `type`. Read it typed through
    /// `declared`, `queue`, `workflow` or `function`.
    public private(set) var resource: String
    public private(set) var type: ResourceType
    public var action: Action

    /// An operation on a declared resource or service (`type` is table, bucket, topic, secret
    /// or service).
    public init(_ action: Action, on resource: ResourceID, _ type: ResourceType) {
        assert(type.isDeclared, "a declared resource's permission on a \(type)")
        self.resource = resource.text
        self.type = type
        self.action = action
    }
    /// `send` on a queue.
    public static func send(to queue: QueueID) -> Permission { Permission(queue.text, .queue, .send) }
    /// `start` on a workflow.
    public static func start(_ workflow: WorkflowID) -> Permission { Permission(workflow.text, .workflow, .start) }
    /// `invoke` on a function.
    public static func invoke(_ function: FunctionID) -> Permission { Permission(function.text, .function, .invoke) }

    private init(_ resource: String, _ type: ResourceType, _ action: Action) {
        self.resource = resource
        self.type = type
        self.action = action
    }

    /// The declared resource or service it is granted on, if it is one.
    public var declared: ResourceID? { type.isDeclared ? ResourceID(resource) : nil }
    /// The queue it is granted on, if it is one.
    public var queue: QueueID? { type == .queue ? QueueID(resource) : nil }
    /// The workflow it is granted on, if it is one.
    public var workflow: WorkflowID? { type == .workflow ? WorkflowID(resource) : nil }
    /// The function it is granted on, if it is one.
    public var function: FunctionID? { type == .function ? FunctionID(resource) : nil }

    /// The same permission on the function `renamed` gives for its own (grouping).
    func renamingFunction(_ renamed: (FunctionID) -> FunctionID) -> Permission {
        guard let f = function else { return self }
        return Permission(renamed(f).text, type, action)
    }

    public static func < (a: Permission, b: Permission) -> Bool {
        (a.type, a.resource, a.action) < (b.type, b.resource, b.action)
    }
}

extension Permission.ResourceType {
    /// A type of declared resource or service (not a queue, workflow or function).
    public var isDeclared: Bool {
        switch self {
        case .table, .bucket, .topic, .secret, .service: return true
        case .queue, .workflow, .function: return false
        }
    }
}

/// A permission with the lines that need it.
public struct Grant: Sendable {
    public var permission: Permission
    public var reasons: [Reason]
}

/// Grants being collected: reasons gathered per permission, then sorted by permission. A
/// function needs a few permissions, so a linear scan finds them until there are many.
struct GrantList {
    private var grants: [Grant] = []
    private var index: [Permission: Int] = [:]
    private static let scanned = 8

    mutating func add(_ permission: Permission, _ reason: Reason) {
        if let k = position(of: permission) {
            grants[k].reasons.append(reason)
            return
        }
        grants.append(Grant(permission: permission, reasons: [reason]))
        if grants.count > GrantList.scanned {
            if index.isEmpty { for (k, g) in grants.enumerated() { index[g.permission] = k } }
            index[permission] = grants.count - 1
        }
    }

    private func position(of permission: Permission) -> Int? {
        if grants.count > GrantList.scanned { return index[permission] }
        return grants.firstIndex { $0.permission == permission }
    }

    var sorted: [Grant] { grants.sorted { $0.permission < $1.permission } }
}

/// How a function is triggered.
public enum FunctionTrigger: Hashable, Sendable {
    case route(method: String, path: String)
    case queue(QueueID)
    case topic(ResourceID)
    case schedule(ScheduleID)
    /// A task step of the named workflow(s).
    case workflowTask
    /// Starts a workflow when its topic delivers (a topic cannot start a workflow directly).
    case workflowStarter(WorkflowID)
}

/// The stable key of a handler: how the manifest names the code a function runs.
public struct HandlerKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var text: String
    public var description: String { text }
    public static func < (a: HandlerKey, b: HandlerKey) -> Bool { a.text < b.text }
}

/// A handler or fn declaration as the plan knows it: its key, where it is, what it became.
public struct PlanHandler: Sendable {
    /// Its index in the program's declarations.
    public var declaration: Int
    /// The stable key the manifest names it by (`fn charge`, `route POST /orders`).
    public var key: HandlerKey
    /// The whole declaration, in UTF-8 byte offsets of the source (the runtime finds the code
    /// to run by it).
    public var range: SourceRange
    /// The header (`route POST "/orders" (req)`, `fn charge(order)`): where messages point.
    public var headerRange: SourceRange
    public var role: HandlerRole
    /// Its own attributes (`limit`, `timeout`, `retry`, `backoff`) as written, with their ranges.
    public var attributes: HandlerAttributes
}

/// A declared resource (table, bucket, topic, secret) or service, and where it is declared.
public struct PlanResource: Sendable {
    public var name: ResourceID
    public var type: Permission.ResourceType
    public var declaration: Int
    public var range: SourceRange
}

/// A queue the local runtime delivers through where the cloud invokes directly: a topic's
/// subscriber without a queue of its own, a schedule's firings. Named in the plan like every
/// other queue, with the retries and visibility of the unit it delivers to.
public struct PlanDelivery: Hashable, Sendable {
    public var queue: QueueID
    public var maxReceiveCount: Int
    public var backoffMs: Int64
    public var visibilityTimeoutMs: Int64
}

public struct PlanFunction: Sendable {
    public var name: FunctionID
    /// Handler declarations whose code this function runs (several when grouped).
    public var handlers: [Int]
    public var triggers: [FunctionTrigger]
    public var limit: Int?
    public var limitReasons: [Reason]
    public var timeoutMs: Int64
    public var retries: Int
    public var backoffMs: Int64
    public var grants: [Grant]
    public var range: SourceRange
    /// For a limited-service call inside a workflow: the service it calls.
    public var serviceCall: ResourceID?
    /// For a workflow's evaluator (`PlanWorkflow.evaluator`): the workflow whose expressions
    /// without an Amazon States Language form it evaluates on the AWS target.
    public var evaluates: WorkflowID? = nil

    public var permissions: [Permission] { grants.map(\.permission) }
}

public struct PlanQueue: Sendable {
    public var name: QueueID
    public var deadLetterQueue: QueueID
    /// The function that consumes it.
    public var consumer: FunctionID
    /// `fn` for an async target, `topic` for a limited topic subscriber.
    public var source: Source
    public var maxReceiveCount: Int
    public var backoffMs: Int64
    public var visibilityTimeoutMs: Int64
    public var reasons: [Reason]

    public enum Source: Hashable, Sendable {
        case async(fn: FunctionID)
        case topic(ResourceID)
    }
}

public struct PlanSubscription: Sendable {
    public var topic: ResourceID
    /// The function that receives the messages (a workflow's starter function, for a workflow).
    public var target: UnitID
    public var targetIsWorkflow: Bool { target.isWorkflow }
    /// The queue between topic and function, when the subscriber has a limit.
    public var queue: QueueID?
    public var handler: Int
    /// Without a `queue`: how the local runtime delivers to the target.
    public var delivery: PlanDelivery?
}

public struct PlanSchedule: Sendable {
    public var name: ScheduleID
    public var expression: ScheduleExpression
    public var target: UnitID
    public var targetIsWorkflow: Bool { target.isWorkflow }
    public var handler: Int
    /// How the local runtime delivers each firing (its queue is named like the schedule).
    public var delivery: PlanDelivery?

    public enum ScheduleExpression: Hashable, Sendable {
        case rate(milliseconds: Int64)
        case cron(String)
    }
}

public struct PlanRoute: Sendable {
    public var method: String
    public var path: String
    public var function: FunctionID
    public var handler: Int
}

public struct PlanService: Sendable {
    public var name: ResourceID
    public var url: String
    public var limit: Int?
    public var ratePerSecond: Double?
    public var rateText: String?
    /// Functions (and workflows) that call it.
    public var users: [UnitID]
}

public struct PlanWorkflow: Sendable {
    public var name: WorkflowID
    public var handler: Int
    public var states: [WorkflowState]
    public var grants: [Grant]
    /// Why it is a workflow (sleep, parallel, long timeout).
    public var reasons: [Reason]
    public var retries: Int
    public var backoffMs: Int64
    public var timeoutMs: Int64?
    /// Who starts it: functions, workflows, schedules, topics.
    public var startedBy: [WorkflowStarter]
    public var range: SourceRange
    /// Its parameters, in order: an execution's input `{"args": [...]}` binds them.
    public var parameters: [String] = []
    /// On the AWS target: the function that evaluates what the state machine cannot (docs/aws.md,
    /// "Expressions without a States form"); nil when every expression has a States form. A
    /// supporting resource of the workflow, counted in the budget; the local runtime needs none.
    public var evaluator: PlanFunction? = nil
    public var permissions: [Permission] { grants.map(\.permission) }
}

/// A state of a workflow's state graph.
public struct WorkflowState: Sendable {
    public var name: String
    public var kind: Kind
    public var range: SourceRange
    /// The expression the state evaluates, kept whole for emitters that translate a state
    /// machine: a choice's or loop's condition, a wait's duration, a map's list, a succeed's
    /// result, a fail's error.
    public var expression: Expr? = nil
    /// The arguments of a task, child workflow, integration, service call, send or start.
    public var arguments: [Expr] = []
    /// Variables the state binds: its result's (`let order = orders.get(id)` binds `order`), a
    /// map's item, a catch's error.
    public var binds: [String] = []
    /// Local variables (parameters and earlier bindings) its expression and arguments read.
    public var reads: [String] = []

    public indirect enum Kind: Sendable {
        /// Runs a fn as its own function.
        case task(fn: String, function: FunctionID)
        /// Runs another workflow and waits for its result.
        case childWorkflow(WorkflowID)
        /// A resource operation the workflow service performs itself.
        case integration(resource: ResourceID, type: ResourceKind, operation: ResourceOperation)
        /// A call to a limited service, through a small function held to its limit.
        case serviceCall(service: ResourceID, function: FunctionID)
        /// A wait that holds no compute.
        case wait(milliseconds: Int64?)
        case choice(then: [WorkflowState], otherwise: [WorkflowState])
        case parallel(branches: [[WorkflowState]])
        /// Runs the body once per item of a list.
        case map(body: [WorkflowState])
        /// A `while` loop over steps: a choice with a back edge.
        case loop(body: [WorkflowState])
        case tryCatch(body: [WorkflowState], handler: [WorkflowState])
        /// `async` inside a workflow: a message to a queue or a workflow start.
        case send(queue: QueueID)
        case start(workflow: WorkflowID)
        case succeed
        case fail
        /// Plain computation between steps: `let x = …` or `x = …` whose value is no step of its
        /// own; `binds` names the variable and `expression` is the value.
        case compute
    }
}

extension WorkflowState {
    /// Whether the state is, or holds, a step: plain computation (`compute`, and a choice, loop,
    /// map or catch around nothing else) is no step, so explain and the graph leave it out; the
    /// state machine compiles it all.
    public var isStep: Bool {
        switch kind {
        case .compute: return false
        case .choice, .loop, .map, .tryCatch, .parallel: return nested.contains { $0.contains(where: \.isStep) }
        default: return true
        }
    }

    /// The state lists nested directly in this state, in order: a choice's then and otherwise, a
    /// parallel's branches, a map's or loop's body, a try's body and its catch.
    public var nested: [[WorkflowState]] {
        switch kind {
        case .choice(let t, let o): return [t, o]
        case .parallel(let bs): return bs
        case .map(let b), .loop(let b): return [b]
        case .tryCatch(let b, let h): return [b, h]
        case .task, .childWorkflow, .integration, .serviceCall, .wait, .send, .start, .succeed, .fail, .compute: return []
        }
    }
}

/// The plan of a whole program.
public struct Plan: Sendable {
    public var app: String
    public var functions: [PlanFunction] = []
    public var queues: [PlanQueue] = []
    public var workflows: [PlanWorkflow] = []
    public var topics: [ResourceID] = []
    public var subscriptions: [PlanSubscription] = []
    public var schedules: [PlanSchedule] = []
    public var routes: [PlanRoute] = []
    public var tables: [ResourceID] = []
    public var buckets: [ResourceID] = []
    public var secrets: [ResourceID] = []
    public var services: [PlanService] = []
    /// What each handler declaration became.
    public var roles: [Int: HandlerRole] = [:]
    /// Every declared resource and service, in source order.
    public var resources: [PlanResource] = []
    /// Every handler and fn declaration, in source order: key, ranges, role.
    public var handlers: [PlanHandler] = []
    /// Handler position in `handlers` by declaration index (-1: not a handler).
    var handlerPositions: [Int] = []
    /// The platform's limits and the account's concurrency this plan was made for.
    public var limits = PlatformLimits()
    public var budget = Budget()
    public var grouped = false

    /// Function names, rebuilt whenever the list changes order (`reindex()`), and the position
    /// of each name's first function. A `NameTable`: hashing names with the standard
    /// Dictionary's SipHash made the three rebuilds 3.6 % of a compile.
    var functionNames = NameTable()
    var functionPositions: [Int] = []

    public func function(named name: FunctionID) -> PlanFunction? {
        position(ofFunction: name).map { functions[$0] }
    }

    /// Where the function `name` is in `functions`.
    func position(ofFunction name: FunctionID) -> Int? {
        if let slot = functionNames.find(name.text), slot < functionPositions.count {
            let i = functionPositions[slot]
            if i < functions.count, functions[i].name == name { return i }
        }
        // A fresh index that does not know the name is a definite miss.
        if functionNames.names.count == functions.count { return nil }
        return functions.firstIndex { $0.name == name }
    }

    mutating func reindex() {
        var names = NameTable()
        names.reserve(functions.count)
        var positions: [Int] = []
        positions.reserveCapacity(functions.count)
        for (i, f) in functions.enumerated() where names.insert(f.name.text).inserted { positions.append(i) }
        functionNames = names
        functionPositions = positions
    }
    public func workflow(named name: WorkflowID) -> PlanWorkflow? { workflows.first { $0.name == name } }

    /// The declared resource or service `name` (the first, should a program repeat one).
    public func resource(named name: ResourceID) -> PlanResource? { resources.first { $0.name == name } }

    /// The handler or fn declaration `declaration`, if it is one.
    public func handler(_ declaration: Int) -> PlanHandler? {
        guard declaration >= 0, declaration < handlerPositions.count else { return nil }
        let k = handlerPositions[declaration]
        return k >= 0 ? handlers[k] : nil
    }
    public func queue(named name: QueueID) -> PlanQueue? { queues.first { $0.name == name } }
}

/// What one handler or fn declaration became.
public enum HandlerRole: Hashable, Sendable {
    /// Deployed as (part of) this function.
    case function(FunctionID)
    /// A workflow of this name.
    case workflow(WorkflowID)
    /// Only called synchronously: its code runs inside each caller.
    case inlined
    /// Never called.
    case unused
}

extension Array where Element == WorkflowState {
    /// Visits every state of the list and of the lists nested in it, depth first, each state
    /// before the states it holds: the one walk over a state graph.
    public func forEachState(_ body: (WorkflowState) throws -> Void) rethrows {
        for state in self {
            try body(state)
            for list in state.nested { try list.forEachState(body) }
        }
    }

    /// Whether some state of the list, or nested in it, satisfies `predicate`.
    public func containsState(where predicate: (WorkflowState) -> Bool) -> Bool {
        contains { predicate($0) || $0.nested.contains { $0.containsState(where: predicate) } }
    }
}
