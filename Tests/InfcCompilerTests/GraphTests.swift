// Tests of `infc graph`: golden DOT, Mermaid and JSON for every example; Graphviz renders every
// DOT without a warning; a syntax check of the Mermaid; the SPEC §2 program's graph; data
// edges equal to the permissions; focus; determinism.
import Foundation
import Testing
@testable import InfcCompiler

@Suite struct GraphTests {
    static let examples = Golden.sources(in: "examples")

    static func base(_ path: String) -> String {
        "Tests/Golden/emit/" + String(path.dropFirst("examples/".count).dropLast(4))
    }

    static func compile(_ path: String) throws -> Compilation {
        let c = Compilation.compile(try Golden.source(path))
        #expect(!c.hasErrors, "\(path) has errors")
        return c
    }

    @Test(arguments: examples)
    func golden(_ path: String) throws {
        let g = GraphBuilder.build(try Self.compile(path))
        Golden.check(GraphRenderer.dot(g), against: Self.base(path) + ".dot")
        Golden.check(GraphRenderer.mermaid(g), against: Self.base(path) + ".mmd")
        Golden.check(GraphRenderer.json(g).prettyPrinted(), against: Self.base(path) + ".graph.json")
    }

    @Test(arguments: examples)
    func deterministic(_ path: String) throws {
        for format in GraphRenderer.Format.allCases {
            let a = GraphRenderer.render(GraphBuilder.build(try Self.compile(path)), as: format)
            let b = GraphRenderer.render(GraphBuilder.build(try Self.compile(path)), as: format)
            #expect(a == b, "\(path) \(format) differs between two runs")
        }
    }

    @Test(arguments: examples)
    func edgesConnectNodes(_ path: String) throws {
        let g = GraphBuilder.build(try Self.compile(path))
        let ids = Set(g.nodes.map(\.id))
        #expect(ids.count == g.nodes.count, "duplicate node ids")
        for e in g.edges {
            #expect(ids.contains(e.from) && ids.contains(e.to), "\(path): edge \(e.from) → \(e.to) has no node")
        }
        for c in g.clusters { for n in c.nodes { #expect(ids.contains(n), "\(path): cluster \(c.id) holds unknown \(n)") } }
        #expect(Set(g.clusters.flatMap(\.nodes)).count == g.clusters.flatMap(\.nodes).count, "a node in two clusters")
    }

    /// The data edges are exactly the permissions on tables, buckets, topics, secrets and
    /// services: one edge per (unit, resource), labelled with every action, and nothing else.
    @Test(arguments: examples)
    func dataEdgesArePermissions(_ path: String) throws {
        let c = try Self.compile(path)
        let g = GraphBuilder.build(c)
        var expected: [String: Set<String>] = [:]
        let units = c.plan.functions.map { ("fn:" + $0.name.text, $0.permissions) } + c.plan.workflows.map { ("wf:" + $0.name.text, $0.permissions) }
        for (unit, permissions) in units {
            for p in permissions where GraphBuilder.dataTypes.contains(p.type) {
                expected["\(unit) → \(p.type.rawValue):\(p.resource)", default: []].insert(p.action.rawValue)
            }
        }
        let data = g.edges.filter { $0.kind == .data }
        var actual: [String: Set<String>] = [:]
        for e in data {
            let key = "\(e.from) → \(e.to)"
            #expect(actual[key] == nil, "\(path): two data edges for \(key)")
            actual[key] = Set(e.label.components(separatedBy: ", "))
        }
        #expect(Set(actual.keys) == Set(expected.keys), "\(path): data edges differ from permissions")
        #expect(actual == expected, "\(path): data edge labels differ from the permissions' actions")
    }

    @Test func shopGraphShowsTheSpecPlan() throws {
        let g = GraphBuilder.build(try Self.compile("examples/shop.inf"))
        let edges = Set(g.edges.map { "\($0.from) -\($0.kind.rawValue)-> \($0.to)" })
        // The queue and its dead-letter queue in front of charge; limit 10 on charge.
        #expect(edges.contains("queue:charge-queue -trigger-> fn:charge"))
        #expect(edges.contains("queue:charge-queue -dead-letter-> dlq:charge-dlq"))
        #expect(edges.contains("fn:post_orders -send-> queue:charge-queue"))
        #expect(edges.contains("fn:every_1d -send-> queue:charge-queue"))
        #expect(!edges.contains { $0.hasSuffix("-> fn:charge") && !$0.hasPrefix("queue:charge-queue") })
        let charge = try #require(g.node("fn:charge"))
        #expect(charge.label.contains("limit 10"))
        #expect(charge.label.contains("retry 3"))
        #expect(charge.attributes["limit"] == "10")
        // The follow_up workflow: wait, read, choice and the remind task, in order.
        let cluster = try #require(g.clusters.first { $0.id == "cluster:follow_up" })
        #expect(cluster.nodes == ["wf:follow_up", "state:follow_up/wait_1d", "state:follow_up/read_orders", "state:follow_up/choice"])
        let choice = try #require(g.clusters.first { $0.parent == "cluster:follow_up" })
        #expect(choice.nodes == ["state:follow_up/remind"])
        #expect(g.node("state:follow_up/wait_1d")?.label == "wait 1d")
        #expect(g.node("state:follow_up/read_orders")?.label == "read orders")
        #expect(g.node("state:follow_up/choice")?.label == "choice")
        #expect(g.node("state:follow_up/remind")?.label == "task remind")
        #expect(edges.contains("wf:follow_up -step-> state:follow_up/wait_1d"))
        #expect(edges.contains("state:follow_up/wait_1d -step-> state:follow_up/read_orders"))
        #expect(edges.contains("state:follow_up/read_orders -step-> state:follow_up/choice"))
        #expect(edges.contains("state:follow_up/choice -step-> state:follow_up/remind"))
        #expect(edges.contains("wf:follow_up -invoke-> fn:remind"))
        #expect(edges.contains("fn:on_order_events -start-> wf:follow_up"))
        #expect(edges.contains("route:POST /orders -trigger-> fn:post_orders"))
        #expect(edges.contains("topic:order_events -trigger-> fn:on_order_events"))
        #expect(edges.contains("schedule:every_1d-schedule -trigger-> fn:every_1d"))
        // Exactly the permissions' data edges.
        let data = Set(g.edges.filter { $0.kind == .data }.map { "\($0.from) \($0.label) \($0.to)" })
        #expect(data == [
            "fn:post_orders write table:orders", "fn:get_orders_id read table:orders",
            "fn:charge read secret:payments_key", "fn:charge call service:payments",
            "fn:charge write table:orders", "fn:charge publish topic:order_events",
            "fn:on_order_events write bucket:receipts", "wf:follow_up read table:orders",
            "fn:remind write bucket:receipts", "fn:every_1d list table:orders",
        ])
        #expect(GraphRenderer.dot(g).contains("label=\"shop: resources 44 / 200\""))
        #expect(GraphRenderer.dot(g).contains("rankdir=LR"))
    }

    @Test func focusKeepsOneHop() throws {
        let g = GraphBuilder.build(try Self.compile("examples/shop.inf"))
        let charge = try #require(g.focused(on: "charge"))
        #expect(Set(charge.nodes.map(\.id)) == [
            "fn:charge", "queue:charge-queue", "dlq:charge-dlq", "secret:payments_key",
            "service:payments", "table:orders", "topic:order_events",
        ])
        #expect(charge.clusters.isEmpty)
        #expect(charge.edges.allSatisfy { e in charge.nodes.contains { $0.id == e.from } && charge.nodes.contains { $0.id == e.to } })
        // A workflow brings its whole cluster.
        let followUp = try #require(g.focused(on: "follow_up"))
        let ids = Set(followUp.nodes.map(\.id))
        #expect(ids.isSuperset(of: ["wf:follow_up", "state:follow_up/wait_1d", "state:follow_up/remind", "fn:remind", "fn:on_order_events", "table:orders"]))
        #expect(!ids.contains("fn:charge"))
        #expect(followUp.clusters.map(\.id) == ["cluster:follow_up", "cluster:follow_up/choice"])
        // A route by its method and path; a resource by name.
        #expect(Set(try #require(g.focused(on: "POST /orders")).nodes.map(\.id)) == ["route:POST /orders", "api:http", "fn:post_orders"])
        let orders = try #require(g.focused(on: "orders"))
        #expect(orders.edges.allSatisfy { $0.kind == .data })
        #expect(orders.nodes.count == 6)
        // Unknown names: nil, with close suggestions.
        #expect(g.focused(on: "chrage") == nil)
        #expect(g.closeFocusNames(to: "chrage").first == "charge")
        #expect(g.closeFocusNames(to: "GET /order/:id").first == "GET /orders/:id")
        #expect(GraphRenderer.mermaid(charge).hasPrefix("---\ntitle:"))
        try MermaidSyntax.check(GraphRenderer.mermaid(followUp))
    }

    @Test(arguments: examples)
    func mermaidIsWellFormed(_ path: String) throws {
        let g = GraphBuilder.build(try Self.compile(path))
        try MermaidSyntax.check(GraphRenderer.mermaid(g))
    }

    @Test func mermaidCheckerRejectsBadText() {
        #expect(throws: MermaidSyntax.Failure.self) { try MermaidSyntax.check("flowchart LR\n  subgraph a [\"x\"]\n  b[\"y\"]\n") }
        #expect(throws: MermaidSyntax.Failure.self) { try MermaidSyntax.check("flowchart LR\n  a-b[\"y\"]\n") }
        #expect(throws: MermaidSyntax.Failure.self) { try MermaidSyntax.check("flowchart LR\n  a[\"y\"]\n  a --> c\n") }
        #expect(throws: MermaidSyntax.Failure.self) { try MermaidSyntax.check("flowchart LR\n  a[\"say \"hi\"\"]\n") }
    }

    /// `--target aws`: each workflow drawn as its emitted state machine, every state and
    /// transition of the definition and nothing of the plan's state graph; well-formed Mermaid,
    /// DOT Graphviz renders (below), and the shop's as a golden.
    @Test(arguments: examples + ["Tests/Golden/workflows/control.inf"])
    func awsGraphDrawsTheStateMachines(_ path: String) throws {
        let c = try Self.compile(path)
        let g = GraphBuilder.buildAWS(c)
        let ids = Set(g.nodes.map(\.id))
        for e in g.edges { #expect(ids.contains(e.from) && ids.contains(e.to), "\(path): edge \(e.from) → \(e.to) has no node") }
        for (workflow, definition) in CloudFormationEmitter.emit(c.plan).stateMachines {
            var names: [String] = []
            func collect(_ m: JSON) {
                for (name, s) in m["States"]?.objectValue ?? JSONObject() {
                    names.append(name)
                    for b in s["Branches"]?.arrayValue ?? [] { collect(b) }
                    if let p = s["ItemProcessor"] { collect(p) }
                }
            }
            collect(definition)
            let drawn = g.nodes.filter { $0.id.hasPrefix("state:\(workflow)/") }.map(\.name)
            #expect(Set(drawn) == Set(names) && drawn.count == names.count, "\(path) \(workflow)")
            #expect(g.nodes.filter { $0.id.hasPrefix("state:\(workflow)/") }.allSatisfy { $0.attributes["stateKind"]?.hasPrefix("asl-") == true })
        }
        try MermaidSyntax.check(GraphRenderer.mermaid(g))
        if path == "examples/shop.inf" { Golden.check(GraphRenderer.mermaid(g), against: "Tests/Golden/emit/shop.aws.mmd") }
        try Self.graphviz(GraphRenderer.dot(g), path)
    }

    /// Every example's DOT goes through Graphviz; any warning or error fails the test.
    @Test(arguments: examples)
    func graphvizRendersTheDot(_ path: String) throws {
        try Self.graphviz(GraphRenderer.dot(GraphBuilder.build(try Self.compile(path))), path)
    }

    static func graphviz(_ dotText: String, _ path: String) throws {
        let which = Process()
        which.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        which.arguments = ["sh", "-c", "command -v dot"]
        which.standardOutput = FileHandle.nullDevice
        try which.run()
        which.waitUntilExit()
        guard which.terminationStatus == 0 else {
            Issue.record("Graphviz `dot` is not installed: run scripts/install-test-deps.sh (CI installs it)")
            return
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["dot", "-Tsvg"]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = errors
        try p.run()
        // Read both pipes while writing, so a large SVG cannot block dot.
        nonisolated(unsafe) var svg = Data()
        nonisolated(unsafe) var stderr = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { svg = output.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { stderr = errors.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        input.fileHandleForWriting.write(Data(dotText.utf8))
        try input.fileHandleForWriting.close()
        group.wait()
        p.waitUntilExit()
        let message = String(decoding: stderr, as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(path): dot exited \(p.terminationStatus): \(message)")
        #expect(message.isEmpty, "\(path): dot wrote to stderr: \(message)")
        #expect(String(decoding: svg, as: UTF8.self).contains("<svg"))
    }
}

/// A line-level checker of the Mermaid flowchart infc writes: front matter, `flowchart LR`,
/// node, edge, subgraph/end, classDef and class lines only; ids `[A-Za-z0-9_]+`; quoted labels
/// without inner quotes; balanced subgraphs; every edge and class names a declared node.
enum MermaidSyntax {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let id = "[A-Za-z0-9_]+"
    static let label = "\"[^\"]*\""
    static let shapes = [
        "\\{\\{L\\}\\}", ">L\\]", "\\(L\\)", "\\[\\[L\\]\\]", "\\[/L/\\]", "\\(\\[L\\]\\)", "\\[/L\\\\\\]",
        "\\[\\(L\\)\\]", "\\[L\\]", "\\{L\\}",
    ].map { $0.replacingOccurrences(of: "L", with: label) }

    static func check(_ text: String) throws {
        func fail(_ n: Int, _ line: String, _ why: String) -> Failure { Failure(description: "line \(n + 1): \(why): \(line)") }
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        var i = 0
        if lines.first == "---" {
            guard let close = lines.dropFirst().firstIndex(of: "---") else { throw fail(0, "---", "unclosed front matter") }
            for k in 1..<close where lines[k].wholeMatch(of: try Regex("title: \(label)")) == nil {
                throw fail(k, lines[k], "front matter holds only a quoted title")
            }
            i = close + 1
        }
        guard i < lines.count, lines[i] == "flowchart LR" else { throw fail(i, lines.first ?? "", "expected 'flowchart LR'") }
        let node = try Regex("(\(id))(?:\(shapes.joined(separator: "|")))")
        let edge = try Regex("(\(id)) (?:-->|==>|-\\.->)(?:\\|\(label)\\|)? (\(id))")
        let subgraph = try Regex("subgraph (\(id)) \\[\(label)\\]")
        let classDef = try Regex("classDef \(id) [a-z-]+:[^ ,]+(?:,[a-z-]+:[^ ,]+)*")
        let classLine = try Regex("class (\(id)(?:,\(id))*) \(id)")
        var depth = 0
        var nodes: Set<String> = []
        var references: [(Int, String, String)] = []
        for n in (i + 1)..<lines.count {
            let raw = lines[n]
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("%%") { continue }
            if let m = try node.wholeMatch(in: line) {
                let name = String(m.output[1].substring!)
                guard nodes.insert(name).inserted else { throw fail(n, raw, "node \(name) declared twice") }
            } else if let m = try edge.wholeMatch(in: line) {
                references.append((n, raw, String(m.output[1].substring!)))
                references.append((n, raw, String(m.output[2].substring!)))
            } else if let m = try subgraph.wholeMatch(in: line) {
                guard nodes.insert(String(m.output[1].substring!)).inserted else { throw fail(n, raw, "subgraph id reused") }
                depth += 1
            } else if line == "end" {
                depth -= 1
                guard depth >= 0 else { throw fail(n, raw, "'end' without a subgraph") }
            } else if line.wholeMatch(of: classDef) != nil {
                continue
            } else if let m = try classLine.wholeMatch(in: line) {
                for name in m.output[1].substring!.split(separator: ",") { references.append((n, raw, String(name))) }
            } else {
                throw fail(n, raw, "not a node, edge, subgraph, end, classDef or class line")
            }
        }
        guard depth == 0 else { throw Failure(description: "\(depth) subgraph(s) without 'end'") }
        for (n, raw, name) in references where !nodes.contains(name) {
            throw fail(n, raw, "\(name) is not a declared node")
        }
    }
}

@Suite struct GraphDocsTests {
    /// docs/graph.md shows the shop example's Mermaid as `infc graph` writes it.
    @Test func docsShowTheShopMermaid() throws {
        let docs = try String(contentsOf: Golden.url("docs/graph.md"), encoding: .utf8)
        let g = GraphBuilder.build(Compilation.compile(try Golden.source("examples/shop.inf")))
        let mermaid = GraphRenderer.mermaid(g)
        let body = mermaid[mermaid.range(of: "flowchart LR")!.lowerBound...]
        #expect(docs.contains("```mermaid\n" + body + "```\n"), "docs/graph.md: update the shop Mermaid")
    }
}
