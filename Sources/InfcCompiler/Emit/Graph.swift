// Emit stage: the architecture graph (SPEC §7) — a pure model of what the plan became: nodes,
// edges and workflow clusters, built from the same plan `build` emits. `GraphRenderer` turns it
// into DOT, Mermaid or JSON (docs/graph.md). Deterministic: nodes and edges are sorted.

/// Where a node came from, as 1-based line and column positions.
public struct GraphSpan: Hashable, Sendable {
    public var start: SourceLocation
    public var end: SourceLocation
}

public struct GraphNode: Hashable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case api, route, function, queue, dlq, topic, schedule, workflow, state, table, bucket, secret, service
    }
    /// Stable id: `route:POST /orders`, `fn:charge`, `queue:charge-queue`, `state:follow_up/wait_1d`…
    public var id: String
    public var kind: Kind
    /// The bare name a user would type for `--focus`: `charge`, `orders`, `POST /orders`.
    public var name: String
    /// One or more lines: the name, then limits, retries and timeouts.
    public var label: String
    /// Facts as text, rendered in key order.
    public var attributes: [String: String]
    public var span: GraphSpan?
}

public struct GraphEdge: Hashable, Sendable, Comparable {
    public enum Kind: String, Sendable, CaseIterable {
        /// The HTTP API serves a route.
        case serves
        /// Route → function, queue → function, topic → subscriber, schedule → target.
        case trigger
        /// `async` on a fn: a message to its queue.
        case send
        /// A workflow start.
        case start
        /// Data access on a table, bucket, topic, secret or service, labelled with the actions.
        case data
        /// A workflow invokes its task function.
        case invoke
        /// Step order inside a workflow.
        case step
        /// A queue moves failed messages to its dead-letter queue.
        case deadLetter = "dead-letter"
    }
    public var from: String
    public var to: String
    public var kind: Kind
    public var label: String

    public static func < (a: GraphEdge, b: GraphEdge) -> Bool {
        (a.from, a.to, a.kind.rawValue, a.label) < (b.from, b.to, b.kind.rawValue, b.label)
    }
}

/// A workflow and its states in order; a nested choice, parallel, map, loop or try is a
/// sub-cluster whose parent is the enclosing cluster.
public struct GraphCluster: Hashable, Sendable {
    public var id: String
    public var label: String
    public var nodes: [String]
    public var parent: String?
}

public struct Graph: Sendable {
    public var app: String
    public var budgetTotal: Int
    public var budgetCap: Int
    /// Sorted by id.
    public var nodes: [GraphNode]
    /// Sorted by (from, to, kind, label).
    public var edges: [GraphEdge]
    /// Workflows sorted by name, each followed by its sub-clusters in state order; each
    /// cluster's nodes in state order.
    public var clusters: [GraphCluster]

    public var title: String { "\(app): resources \(budgetTotal) / \(budgetCap)" }

    public func node(_ id: String) -> GraphNode? { nodes.first { $0.id == id } }

    /// Node ids in no cluster, sorted.
    public var topLevelNodes: [String] {
        let clustered = Set(clusters.flatMap(\.nodes))
        return nodes.map(\.id).filter { !clustered.contains($0) }
    }

    /// Names accepted by `--focus`: node names and ids.
    public var focusNames: [String] {
        Array(Set(nodes.filter { $0.kind != .state && $0.kind != .api }.flatMap { [$0.name, $0.id] })).sorted()
    }

    /// Up to three accepted focus names close to `name`, for an error message.
    public func closeFocusNames(to name: String) -> [String] {
        let w = Array(name.lowercased().utf8)
        let names = Set(nodes.filter { $0.kind != .state && $0.kind != .api }.map(\.name))
        let scored = names.map { n -> (String, Int) in
            let c = Array(n.lowercased().utf8)
            let d = n.lowercased().contains(name.lowercased()) ? 0 : Spelling.distance(w, c)
            return (n, d)
        }
        let close = scored.filter { $0.1 <= max(2, w.count / 2) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        return close.prefix(3).map(\.0)
    }

    /// What one handler, fn or resource touches: the nodes named `name`, every node one edge
    /// away, the dead-letter queue of each kept queue and, when the focus is a workflow or one
    /// of its states, the workflow's whole cluster. Nil when no node has that name.
    public func focused(on name: String) -> Graph? {
        let roots = Set(nodes.filter { $0.id == name || ($0.kind != .api && $0.kind != .state && $0.name == name) }.map(\.id))
        guard !roots.isEmpty else { return nil }
        var keep = roots
        for e in edges {
            if roots.contains(e.from) { keep.insert(e.to) }
            if roots.contains(e.to) { keep.insert(e.from) }
        }
        for e in edges where e.kind == .deadLetter && keep.contains(e.from) { keep.insert(e.to) }
        // The focus node's workflow cluster, with its sub-clusters.
        let byId = Dictionary(uniqueKeysWithValues: clusters.map { ($0.id, $0) })
        func top(_ c: GraphCluster) -> GraphCluster { c.parent.flatMap { byId[$0] }.map(top) ?? c }
        for c in clusters where !roots.isDisjoint(with: c.nodes) {
            let root = top(c)
            for d in clusters where top(d).id == root.id { keep.formUnion(d.nodes) }
        }
        var g = self
        g.nodes = nodes.filter { keep.contains($0.id) }
        g.edges = edges.filter { keep.contains($0.from) && keep.contains($0.to) }
        g.clusters = clusters.map { c in
            var c = c
            c.nodes = c.nodes.filter { keep.contains($0) }
            return c
        }.filter { !$0.nodes.isEmpty }
        return g
    }
}
