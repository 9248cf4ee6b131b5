// Syntax stage: the syntax tree. Every node has an id and a source range; semantic facts live
// in side tables keyed by node id (see Sema), never in the tree. Missing pieces are `.invalid`
// placeholder nodes, so a tree always exists, whatever the input.

/// Identifies a node within one parse. Ids are dense, starting at 0.
public struct NodeID: Hashable, Sendable, Comparable {
    public let raw: Int32
    public init(_ raw: Int32) { self.raw = raw }
    public static func < (a: NodeID, b: NodeID) -> Bool { a.raw < b.raw }
}

/// A name as written, with its range.
public struct Identifier: Hashable, Sendable {
    public var name: String
    public var range: SourceRange
    public init(_ name: String, _ range: SourceRange) {
        self.name = name
        self.range = range
    }
}

public struct Program: Sendable {
    public var declarations: [Declaration]
    /// Number of node ids handed out; side tables can be arrays of this size.
    public var nodeCount: Int

    public init(declarations: [Declaration], nodeCount: Int) {
        self.declarations = declarations
        self.nodeCount = nodeCount
    }
}

// MARK: - Declarations

public struct Declaration: Sendable {
    public var id: NodeID
    public var range: SourceRange
    public var kind: Kind

    public enum Kind: Sendable {
        case app(AppDecl)
        case resource(ResourceDecl)
        case service(ServiceDecl)
        case handler(HandlerDecl)
        case invalid
    }

    public init(id: NodeID, range: SourceRange, kind: Kind) {
        self.id = id
        self.range = range
        self.kind = kind
    }
}

public struct AppDecl: Sendable {
    public var name: Identifier
    public var settings: [Setting]
}

/// `key: value` inside `app NAME { … }`.
public struct Setting: Sendable {
    public var key: Identifier
    public var value: Expr
}

public enum ResourceKind: String, Sendable, CaseIterable {
    case table, bucket, topic, secret, service

    /// The operations each kind supports, with their arities: the only ones that grant permissions.
    public var operations: [ResourceOperation] {
        switch self {
        case .table: return [.get, .put, .delete, .scan, .insert, .replace]
        case .bucket: return [.get, .put, .delete, .list]
        case .topic: return [.publish]
        case .secret: return [.value]
        case .service: return [.get, .post, .put, .delete]
        }
    }
}

/// `table NAME`, `bucket NAME`, `topic NAME`, `secret NAME`.
public struct ResourceDecl: Sendable {
    public var kind: ResourceKind
    public var kindRange: SourceRange
    public var name: Identifier
}

/// `service NAME "URL" [limit N] [rate N/s]`.
public struct ServiceDecl: Sendable {
    public var name: Identifier
    public var url: String
    public var urlRange: SourceRange
    public var limit: IntegerClause?
    public var rate: RateClause?
}

public struct IntegerClause: Sendable {
    public var value: Int
    public var range: SourceRange
}

/// `rate N/s` (also `/m`, `/h`): requests per period.
public struct RateClause: Sendable {
    public var count: Int
    public var perSeconds: Int
    public var range: SourceRange
    public var perSecond: Double { Double(count) / Double(perSeconds) }
}

/// Anything with a body: `fn`, `route`, `on` and `every`.
public struct HandlerDecl: Sendable {
    public var trigger: Trigger
    public var params: [Identifier]
    public var paramsRange: SourceRange
    public var attributes: [Attribute]
    public var body: Block
    /// From the keyword to the end of the attributes: what hover and diagnostics point at.
    public var headerRange: SourceRange

    public enum Trigger: Sendable {
        case fn(name: Identifier)
        case route(method: Identifier, path: String, pathRange: SourceRange)
        case on(topic: Identifier)
        case every(Schedule)
    }

    public var fnName: String? {
        if case .fn(let name) = trigger { return name.name }
        return nil
    }
}

public enum Schedule: Sendable {
    /// `every 5m`: milliseconds.
    case interval(milliseconds: Int64, range: SourceRange)
    /// `every "0 9 * * 1"`.
    case cron(String, range: SourceRange)

    public var range: SourceRange {
        switch self {
        case .interval(_, let r), .cron(_, let r): return r
        }
    }
}

/// `limit N`, `timeout D`, `retry N`, `backoff D`.
public struct Attribute: Sendable {
    public var name: Identifier
    public var value: Expr
    public var range: SourceRange
}

// MARK: - Statements

public struct Block: Sendable {
    public var statements: [Stmt]
    public var range: SourceRange
    public init(statements: [Stmt], range: SourceRange) {
        self.statements = statements
        self.range = range
    }
}

public struct Stmt: Sendable {
    public var id: NodeID
    public var range: SourceRange
    public var kind: Kind

    public indirect enum Kind: Sendable {
        /// `let NAME = e` (mutable false) and `var NAME = e` (mutable true).
        case binding(mutable: Bool, name: Identifier, value: Expr)
        case assign(target: Expr, value: Expr)
        case ifElse(condition: Expr, then: Block, otherwise: Stmt?)
        case forIn(variable: Identifier, sequence: Expr, body: Block)
        case whileLoop(condition: Expr, body: Block)
        case returnStmt(Expr?)
        case throwStmt(Expr)
        case tryCatch(body: Block, variable: Identifier?, handler: Block)
        case sleep(Expr)
        case parallel(Block)
        case block(Block)
        case expression(Expr)
        case invalid
    }

    public init(id: NodeID, range: SourceRange, kind: Kind) {
        self.id = id
        self.range = range
        self.kind = kind
    }
}

// MARK: - Expressions

public struct Expr: Sendable {
    public var id: NodeID
    public var range: SourceRange
    public var kind: Kind

    public indirect enum Kind: Sendable {
        case null
        case bool(Bool)
        case number(Double)
        /// A duration literal in milliseconds (`250ms`, `2s`, `1d`).
        case duration(Int64)
        case string([StringPart])
        case name(String)
        case list([Expr])
        case object([ObjectEntry])
        case unary(UnaryOperator, Expr)
        case binary(BinaryOperator, Expr, Expr)
        case member(Expr, Identifier)
        case index(Expr, Expr)
        case call(callee: Expr, arguments: [Expr])
        /// `async f(args)`: the operand is always a `.call`.
        case async(Expr)
        case invalid
    }

    public init(id: NodeID, range: SourceRange, kind: Kind) {
        self.id = id
        self.range = range
        self.kind = kind
    }
}

public enum StringPart: Sendable {
    case text(String)
    case interpolation(Expr)
}

public struct ObjectEntry: Sendable {
    public var key: String
    public var keyRange: SourceRange
    public var value: Expr
}

public enum UnaryOperator: String, Sendable {
    case negate = "-"
    case not = "!"
}

public enum BinaryOperator: String, Sendable, CaseIterable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case and = "&&", or = "||", coalesce = "??"

    /// Binding power: higher binds tighter.
    public var precedence: Int {
        switch self {
        case .coalesce: return 1
        case .or: return 2
        case .and: return 3
        case .equal, .notEqual: return 4
        case .less, .lessEqual, .greater, .greaterEqual: return 5
        case .add, .subtract: return 6
        case .multiply, .divide, .remainder: return 7
        }
    }
}

// MARK: - Conveniences

extension Expr {
    /// `a.b.c` as ["a", "b", "c"] when the expression is a plain member chain on a name.
    public var memberPath: [String]? {
        switch kind {
        case .name(let n): return [n]
        case .member(let base, let field):
            guard let path = base.memberPath else { return nil }
            return path + [field.name]
        default: return nil
        }
    }
}

extension Declaration {
    public var handler: HandlerDecl? {
        if case .handler(let h) = kind { return h }
        return nil
    }

    /// The name this declaration introduces into the global namespace, if any.
    public var declaredName: Identifier? {
        switch kind {
        case .resource(let r): return r.name
        case .service(let s): return s.name
        case .handler(let h):
            if case .fn(let name) = h.trigger { return name }
            return nil
        case .app, .invalid: return nil
        }
    }
}
