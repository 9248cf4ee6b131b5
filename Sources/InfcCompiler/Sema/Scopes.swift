// Sema stage: the lexical scopes of one body, for the Resolver. All open scopes share one table
// (name → the bindings that carry it, innermost last), so a lookup hashes the name once however
// deep the nesting; leaving a scope pops the names it declared.

struct Scopes {
    private struct Visible {
        var binding: Int
        /// Depth of the scope that declared it (1 for the body's outermost scope).
        var depth: Int
    }

    /// What a name means when no local binding carries it.
    private struct Entry {
        var locals: [Visible] = []
        var global: Symbol?
    }

    private var table: [String: Entry] = [:]
    /// Names declared in the open scopes, in order; `marks` holds where each scope's names start.
    private var log: [String] = []
    private var marks: [Int] = []

    /// Seeds the names every body sees: declarations first, then built-ins they do not shadow.
    init(globals: [String: Int]) {
        table.reserveCapacity(globals.count + Builtin.allCases.count)
        for (name, index) in globals { table[name] = Entry(global: .declaration(index)) }
        for b in Builtin.allCases where table[b.rawValue] == nil { table[b.rawValue] = Entry(global: .builtin(b)) }
    }

    /// Closes every scope and opens one, the body's outermost.
    mutating func reset() {
        closeAll()
        push()
    }

    /// Closes every scope: only declarations and built-ins stay visible.
    mutating func closeAll() {
        while !marks.isEmpty { pop() }
    }

    mutating func push() { marks.append(log.count) }

    mutating func pop() {
        guard let mark = marks.popLast() else { return }
        while log.count > mark {
            let name = log.removeLast()
            table[name]?.locals.removeLast()
        }
    }

    /// Binds `name` to `binding` in the innermost scope (a later binding of the same name wins).
    mutating func declare(_ name: String, binding: Int) {
        log.append(name)
        table[name, default: Entry()].locals.append(Visible(binding: binding, depth: marks.count))
    }

    /// What `name` refers to: the innermost local binding, else the declaration or built-in.
    func lookup(_ name: String) -> Symbol? {
        guard let entry = table[name] else { return nil }
        if let local = entry.locals.last { return .local(local.binding) }
        return entry.global
    }

    /// The binding of `name` declared in the innermost scope itself, if any.
    func inInnermostScope(_ name: String) -> Int? {
        guard let local = table[name]?.locals.last, local.depth == marks.count else { return nil }
        return local.binding
    }

    /// The latest binding of `name` in the outermost scope (parameters and top-level bindings).
    func inOutermostScope(_ name: String) -> Int? {
        table[name]?.locals.last { $0.depth == 1 }?.binding
    }

    /// Every name in scope, for suggestions (order does not matter: suggestions sort them).
    var visibleNames: [String] {
        table.compactMap { $0.value.locals.isEmpty && $0.value.global == nil ? nil : $0.key }
    }
}
