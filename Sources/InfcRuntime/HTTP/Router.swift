// Runtime HTTP: the route table — maps (method, path) to a value, with `:name` parameters,
// 404 and 405 (with the allowed methods) as results rather than responses.

/// A method-and-path route table.
///
/// Patterns are `/`-separated segments; a segment `:name` captures one path segment. Static
/// segments are tried before parameter segments (backtracking when the static branch has no
/// route for the method), empty segments are ignored (so `/orders/` matches `/orders`), and
/// `HEAD` falls back to `GET`. Paths are matched still percent-encoded and each segment is
/// decoded afterwards, so `%2F` stays inside its segment.
public struct Router<Value> {
    /// The outcome of a lookup.
    public enum Match {
        case found(Value, params: [String: String])
        /// The path exists, but not for this method; `allowed` is sorted (and has HEAD when GET is there).
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    fileprivate struct Route {
        var value: Value
        var paramNames: [String]
    }

    fileprivate struct Node {
        var statics: [String: Node] = [:]
        var param: [Node] = []  // Zero or one child; an array keeps the struct recursive.
        var routes: [String: Route] = [:]
    }

    private var root = Node()

    public init() {}

    /// Registers `value` for `method` (upper-cased) and `pattern`; a second registration of the
    /// same method and shape replaces the first.
    public mutating func add(_ method: String, _ pattern: String, _ value: Value) {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: true)
        let names = segments.filter { $0.hasPrefix(":") }.map { String($0.dropFirst()) }
        Self.insert(into: &root, segments[...], Route(value: value, paramNames: names), method: method.uppercased())
    }

    private static func insert(into node: inout Node, _ segments: ArraySlice<Substring>, _ route: Route, method: String) {
        guard let segment = segments.first else {
            node.routes[method] = route
            return
        }
        if segment.hasPrefix(":") {
            if node.param.isEmpty { node.param.append(Node()) }
            insert(into: &node.param[0], segments.dropFirst(), route, method: method)
        } else {
            insert(into: &node.statics[String(segment), default: Node()], segments.dropFirst(), route, method: method)
        }
    }

    public func match(_ method: String, _ path: String) -> Match { match(method, Substring(path)) }

    /// Looks up `method` and a percent-encoded `path` (no query), e.g. `HTTPRequest.rawPath`.
    public func match(_ method: String, _ path: Substring) -> Match {
        let segments = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map {
            let segment = Substring($0)
            return PercentDecoding.decode(segment, plusAsSpace: false) ?? String(segment)
        }
        var captured: [String] = []
        if let route = Self.find(root, segments[...], &captured, accept: { $0.routes[method] ?? (method == "HEAD" ? $0.routes["GET"] : nil) }) {
            var params: [String: String] = [:]
            for (name, value) in zip(route.paramNames, captured) { params[name] = value }
            return .found(route.value, params: params)
        }
        var allowed = Set<String>()
        Self.collect(root, segments[...]) { node in
            allowed.formUnion(node.routes.keys)
            if node.routes["GET"] != nil { allowed.insert("HEAD") }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed.sorted())
    }

    /// Looks up a request by its method and still-encoded path.
    public func match(_ request: HTTPRequest) -> Match {
        match(request.method, request.rawPath)
    }

    /// Depth-first, static before parameter: the first node whose `accept` yields a route.
    private static func find(
        _ node: Node, _ segments: ArraySlice<String>, _ captured: inout [String], accept: (Node) -> Route?
    ) -> Route? {
        guard let segment = segments.first else { return accept(node) }
        if let child = node.statics[segment], let route = find(child, segments.dropFirst(), &captured, accept: accept) {
            return route
        }
        if let child = node.param.first {
            captured.append(segment)
            if let route = find(child, segments.dropFirst(), &captured, accept: accept) { return route }
            captured.removeLast()
        }
        return nil
    }

    /// Visits every node the path reaches, by any branch.
    private static func collect(_ node: Node, _ segments: ArraySlice<String>, _ visit: (Node) -> Void) {
        guard let segment = segments.first else { return visit(node) }
        if let child = node.statics[segment] { collect(child, segments.dropFirst(), visit) }
        if let child = node.param.first { collect(child, segments.dropFirst(), visit) }
    }
}

extension Router: Sendable where Value: Sendable {}
extension Router.Match: Sendable where Value: Sendable {}
extension Router.Match: Equatable where Value: Equatable {}
extension Router.Node: Sendable where Value: Sendable {}
extension Router.Route: Sendable where Value: Sendable {}
