// Emit stage: renders the architecture graph as Graphviz DOT, a Mermaid flowchart or JSON for
// tools (docs/graph.md). Pure and deterministic: the same graph gives byte-identical text.

public enum GraphRenderer {
    public enum Format: String, CaseIterable, Sendable {
        case dot, mermaid, json
    }

    public static let jsonFormat = "infc-graph"
    public static let jsonVersion = 1

    public static func render(_ g: Graph, as format: Format) -> String {
        switch format {
        case .dot: return dot(g)
        case .mermaid: return mermaid(g)
        case .json: return json(g).prettyPrinted()
        }
    }

    // MARK: - Styles

    struct Style {
        var shape: String
        var style: String
        var fill: String
        var stroke: String
    }

    static func style(_ kind: GraphNode.Kind, stateKind: String? = nil) -> Style {
        switch kind {
        case .api: return Style(shape: "hexagon", style: "filled", fill: "#e9ecef", stroke: "#495057")
        case .route: return Style(shape: "cds", style: "filled", fill: "#d0ebff", stroke: "#1c7ed6")
        case .function: return Style(shape: "box", style: "rounded,filled", fill: "#fff3bf", stroke: "#e67700")
        case .queue: return Style(shape: "box3d", style: "filled", fill: "#d3f9d8", stroke: "#2b8a3e")
        case .dlq: return Style(shape: "box3d", style: "filled,dashed", fill: "#ffe3e3", stroke: "#e03131")
        case .topic: return Style(shape: "parallelogram", style: "filled", fill: "#e5dbff", stroke: "#6741d9")
        case .schedule: return Style(shape: "house", style: "filled", fill: "#ffe8cc", stroke: "#d9480f")
        case .workflow: return Style(shape: "doubleoctagon", style: "filled", fill: "#c5f6fa", stroke: "#0c8599")
        case .state:
            switch stateKind {
            case "choice", "loop": return Style(shape: "diamond", style: "filled", fill: "#ffffff", stroke: "#0c8599")
            case "wait": return Style(shape: "ellipse", style: "filled,dashed", fill: "#ffffff", stroke: "#0c8599")
            case "parallel", "map", "try": return Style(shape: "box", style: "filled,bold", fill: "#ffffff", stroke: "#0c8599")
            default: return Style(shape: "box", style: "rounded,filled", fill: "#ffffff", stroke: "#0c8599")
            }
        case .table: return Style(shape: "cylinder", style: "filled", fill: "#dbe4ff", stroke: "#3b5bdb")
        case .bucket: return Style(shape: "folder", style: "filled", fill: "#f1f3f5", stroke: "#495057")
        case .secret: return Style(shape: "note", style: "filled", fill: "#fff0f6", stroke: "#c2255c")
        case .service: return Style(shape: "component", style: "filled", fill: "#f3d9fa", stroke: "#9c36b5")
        }
    }

    /// DOT attributes and Mermaid arrow per edge kind.
    static func edgeStyle(_ kind: GraphEdge.Kind) -> (dot: String, arrow: String) {
        switch kind {
        case .serves: return ("color=\"#868e96\"", "-->")
        case .trigger: return ("color=\"#1c7ed6\", penwidth=2", "==>")
        case .send: return ("color=\"#2b8a3e\", style=dashed", "-.->")
        case .start: return ("color=\"#0c8599\", style=dashed, penwidth=2", "-.->")
        case .data: return ("color=\"#868e96\", style=dotted", "-.->")
        case .invoke: return ("color=\"#0c8599\"", "-->")
        case .step: return ("color=\"#000000\"", "-->")
        case .deadLetter: return ("color=\"#e03131\", style=dashed", "-.->")
        }
    }

    // MARK: - DOT

    public static func dot(_ g: Graph) -> String {
        var out = "digraph \(quote(g.app)) {\n"
        out += "  graph [rankdir=LR, label=\(quote(g.title)), labelloc=t, fontname=\"Helvetica\", fontsize=14, nodesep=0.3, ranksep=0.6];\n"
        out += "  node [fontname=\"Helvetica\", fontsize=10];\n"
        out += "  edge [fontname=\"Helvetica\", fontsize=9];\n"
        out += legend()
        for id in g.topLevelNodes { if let n = g.node(id) { out += "  " + dotNode(n) + "\n" } }
        let present = Set(g.clusters.map(\.id))
        func writeCluster(_ c: GraphCluster, indent: String) {
            out += "\(indent)subgraph \(quote(c.id)) {\n"
            out += "\(indent)  label=\(quote(c.label)); style=\"rounded,dashed\"; color=\"#0c8599\"; fontname=\"Helvetica\"; fontsize=11;\n"
            for id in c.nodes { if let n = g.node(id) { out += "\(indent)  " + dotNode(n) + "\n" } }
            for child in g.clusters where child.parent == c.id { writeCluster(child, indent: indent + "  ") }
            out += "\(indent)}\n"
        }
        for c in g.clusters where c.parent.map({ !present.contains($0) }) ?? true { writeCluster(c, indent: "  ") }
        for e in g.edges {
            var attrs = edgeStyle(e.kind).dot
            if !e.label.isEmpty { attrs = "label=\(quote(e.label)), " + attrs }
            out += "  \(quote(e.from)) -> \(quote(e.to)) [\(attrs)];\n"
        }
        out += "}\n"
        return out
    }

    static func dotNode(_ n: GraphNode) -> String {
        let s = style(n.kind, stateKind: n.attributes["stateKind"])
        return "\(quote(n.id)) [label=\(quote(n.label)), shape=\(s.shape), style=\(quote(s.style)), fillcolor=\(quote(s.fill)), color=\(quote(s.stroke))];"
    }

    /// A legend cluster: one sample node per node kind and one sample edge per edge kind.
    static func legend() -> String {
        var out = "  subgraph \"cluster_legend\" {\n"
        out += "    label=\"legend\"; style=\"dashed\"; color=\"#adb5bd\"; fontname=\"Helvetica\"; fontsize=11;\n"
        for kind in GraphNode.Kind.allCases {
            let s = style(kind)
            out += "    \(quote("legend:" + kind.rawValue)) [label=\(quote(kind.rawValue)), shape=\(s.shape), style=\(quote(s.style)), fillcolor=\(quote(s.fill)), color=\(quote(s.stroke))];\n"
        }
        for kind in GraphEdge.Kind.allCases {
            let a = quote("legend:edge:\(kind.rawValue):from"), b = quote("legend:edge:\(kind.rawValue):to")
            out += "    \(a) [label=\"\", shape=point, width=0.05];\n"
            out += "    \(b) [label=\"\", shape=point, width=0.05];\n"
            out += "    \(a) -> \(b) [label=\(quote(kind.rawValue)), \(edgeStyle(kind).dot)];\n"
        }
        out += "  }\n"
        return out
    }

    /// A DOT double-quoted string: backslashes and quotes escaped, newlines as `\n`.
    static func quote(_ s: String) -> String {
        var out = "\""
        for ch in s {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": break
            default: out.append(ch)
            }
        }
        return out + "\""
    }

    // MARK: - Mermaid

    public static func mermaid(_ g: Graph) -> String {
        let ids = mermaidIDs(g)
        var out = "---\ntitle: \(mermaidText(g.title))\n---\nflowchart LR\n"
        for id in g.topLevelNodes { if let n = g.node(id) { out += "  " + mermaidNode(n, ids) + "\n" } }
        let present = Set(g.clusters.map(\.id))
        func writeCluster(_ c: GraphCluster, indent: String) {
            out += "\(indent)subgraph \(ids[c.id]!) [\(mermaidText(c.label))]\n"
            for id in c.nodes { if let n = g.node(id) { out += "\(indent)  " + mermaidNode(n, ids) + "\n" } }
            for child in g.clusters where child.parent == c.id { writeCluster(child, indent: indent + "  ") }
            out += "\(indent)end\n"
        }
        for c in g.clusters where c.parent.map({ !present.contains($0) }) ?? true { writeCluster(c, indent: "  ") }
        for e in g.edges {
            let arrow = edgeStyle(e.kind).arrow
            let label = e.label.isEmpty ? "" : "|\(mermaidText(e.label))|"
            out += "  \(ids[e.from]!) \(arrow)\(label) \(ids[e.to]!)\n"
        }
        for kind in GraphNode.Kind.allCases {
            let members = g.nodes.filter { $0.kind == kind }.map { ids[$0.id]! }
            guard !members.isEmpty else { continue }
            let s = style(kind)
            let dash = s.style.contains("dashed") ? ",stroke-dasharray:4" : ""
            out += "  classDef \(kind.rawValue) fill:\(s.fill),stroke:\(s.stroke),color:#212529\(dash)\n"
            out += "  class \(members.joined(separator: ",")) \(kind.rawValue)\n"
        }
        return out
    }

    /// Mermaid-safe ids ([A-Za-z0-9_]), unique, for nodes and clusters, assigned in sorted order.
    static func mermaidIDs(_ g: Graph) -> [String: String] {
        var out: [String: String] = [:]
        var used: Set<String> = []
        for id in g.nodes.map(\.id) + g.clusters.map(\.id) {
            var base = ""
            for s in id.unicodeScalars {
                let safe = s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s))
                if safe { base.unicodeScalars.append(s) } else if !base.hasSuffix("_") { base += "_" }
            }
            if base.hasSuffix("_") { base.removeLast() }
            var candidate = base
            var n = 2
            while used.contains(candidate) { candidate = "\(base)_\(n)"; n += 1 }
            used.insert(candidate)
            out[id] = candidate
        }
        return out
    }

    static func mermaidNode(_ n: GraphNode, _ ids: [String: String]) -> String {
        let text = mermaidText(n.label)
        let id = ids[n.id]!
        switch n.kind {
        case .api: return "\(id){{\(text)}}"
        case .route: return "\(id)>\(text)]"
        case .function: return "\(id)(\(text))"
        case .queue, .dlq: return "\(id)[[\(text)]]"
        case .topic: return "\(id)[/\(text)/]"
        case .schedule: return "\(id)([\(text)])"
        case .workflow: return "\(id)[/\(text)\\]"
        case .table: return "\(id)[(\(text))]"
        case .bucket, .secret, .service: return "\(id)[\(text)]"
        case .state:
            switch n.attributes["stateKind"] {
            case "choice", "loop": return "\(id){\(text)}"
            case "wait": return "\(id)([\(text)])"
            default: return "\(id)(\(text))"
            }
        }
    }

    /// A quoted Mermaid label: quotes, `#`, `<` and `>` as entity codes, newlines as `<br/>`.
    static func mermaidText(_ s: String) -> String {
        var out = "\""
        for ch in s {
            switch ch {
            case "\"": out += "#quot;"
            case "#": out += "#35;"
            case "<": out += "#lt;"
            case ">": out += "#gt;"
            case "\n": out += "<br/>"
            case "\r": break
            default: out.append(ch)
            }
        }
        return out + "\""
    }

    // MARK: - JSON

    public static func json(_ g: Graph) -> JSON {
        func location(_ l: SourceLocation) -> JSON { ["line": .int(l.line), "column": .int(l.column)] }
        var root = JSONObject()
        root["format"] = .string(jsonFormat)
        root["version"] = .int(jsonVersion)
        root["app"] = .string(g.app)
        root["title"] = .string(g.title)
        root["budget"] = ["total": .int(g.budgetTotal), "cap": .int(g.budgetCap)]
        root["nodes"] = .array(g.nodes.map { n in
            var o = JSONObject()
            o["id"] = .string(n.id)
            o["kind"] = .string(n.kind.rawValue)
            o["name"] = .string(n.name)
            o["label"] = .string(n.label)
            o["attributes"] = .object(JSONObject(n.attributes.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }))
            o["range"] = n.span.map { ["start": location($0.start), "end": location($0.end)] } ?? .null
            return .object(o)
        })
        root["edges"] = .array(g.edges.map { e in
            ["from": .string(e.from), "to": .string(e.to), "kind": .string(e.kind.rawValue), "label": .string(e.label)]
        })
        root["clusters"] = .array(g.clusters.map { c in
            ["id": .string(c.id), "label": .string(c.label), "parent": c.parent.map { .string($0) } ?? .null,
             "nodes": .array(c.nodes.map { .string($0) })]
        })
        return .object(root)
    }
}
