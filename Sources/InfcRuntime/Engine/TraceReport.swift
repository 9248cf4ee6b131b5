// Runtime engine: `infc trace` — the invocation records of one trace as a tree (who started
// what, across routes, queues, topics and workflow steps), in text or JSON.
import InfcCompiler

/// The tree of one trace's work: who started what, across queues, topics and workflow steps.
public enum TraceReport {
    public static func text(_ records: [InvocationRecord]) -> String {
        guard let first = records.first else { return "" }
        var children: [String: [InvocationRecord]] = [:]
        let ids = Set(records.map(\.id))
        var roots: [InvocationRecord] = []
        for r in records {
            if let p = r.parent, ids.contains(p) { children[p, default: []].append(r) } else { roots.append(r) }
        }
        var lines = ["trace \(first.trace) (\(records.count) invocation\(records.count == 1 ? "" : "s"))"]
        func walk(_ r: InvocationRecord, _ prefix: String, _ last: Bool) {
            var line = prefix + (last ? "└─ " : "├─ ") + "\(r.function)  [\(r.trigger)]  \(r.outcome)"
            if let d = r.durationMs { line += "  \(RuntimeLogger.duration(d))" }
            line += "  at \(RuntimeLogger.timestamp(r.startedAt))"
            if let e = r.error { line += "  error: \(oneLine(e, limit: 160))" }
            lines.append(line)
            let kids = children[r.id] ?? []
            for (i, k) in kids.enumerated() { walk(k, prefix + (last ? "   " : "│  "), i == kids.count - 1) }
        }
        for (i, r) in roots.enumerated() { walk(r, "", i == roots.count - 1) }
        return lines.joined(separator: "\n")
    }

    public static func json(_ records: [InvocationRecord]) -> JSON {
        .array(records.map { r in
            var o = JSONObject()
            o["id"] = .string(r.id)
            o["trace"] = .string(r.trace)
            o["parent"] = r.parent.map { .string($0) } ?? .null
            o["function"] = .string(r.function)
            o["kind"] = .string(r.kind)
            o["trigger"] = .string(r.trigger)
            o["startedAt"] = .string(RuntimeLogger.timestamp(r.startedAt))
            o["durationMs"] = r.durationMs.map { .number($0) } ?? .null
            o["outcome"] = .string(r.outcome)
            o["error"] = r.error.map { .string($0) } ?? .null
            return .object(o)
        })
    }
}
