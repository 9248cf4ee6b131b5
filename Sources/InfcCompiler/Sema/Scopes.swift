// Sema stage: the lexical scopes of one body, for the Resolver. All open scopes share one table
// (name → the bindings that carry it, innermost last), so a lookup hashes the name once however
// deep the nesting; leaving a scope pops the names it declared.

struct Scopes {
    private struct Visible {
        var binding: Int
        /// Depth of the scope that declared it (1 for the body's outermost scope).
        var depth: Int
    }

    /// What a name means: its local bindings, innermost last, else the declaration or built-in.
    private struct Entry {
        var locals: [Visible] = []
        var global: Symbol?
    }

    /// Name → slot of `entries`.
    private var slots = NameTable()
    private var entries: [Entry] = []
    /// Slots of the names declared in the open scopes, in order; `marks` holds where each
    /// scope's names start.
    private var log: [Int] = []
    private var marks: [Int] = []

    /// Seeds the names every body sees: declarations first, then built-ins they do not shadow.
    init(globals: [String: Int]) {
        slots.reserve(globals.count + Builtin.allCases.count)
        for (name, index) in globals { entries[slot(name)].global = .declaration(index) }
        for b in Builtin.allCases where slots.find(b.rawValue) == nil { entries[slot(b.rawValue)].global = .builtin(b) }
    }

    /// The slot of `name`, with an empty entry when the name is new.
    private mutating func slot(_ name: String) -> Int {
        let (slot, inserted) = slots.insert(name)
        if inserted { entries.append(Entry()) }
        return slot
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
            entries[log.removeLast()].locals.removeLast()
        }
    }

    /// Binds `name` to `binding` in the innermost scope (a later binding of the same name wins).
    mutating func declare(_ name: String, binding: Int) {
        let slot = slot(name)
        log.append(slot)
        entries[slot].locals.append(Visible(binding: binding, depth: marks.count))
    }

    /// What `name` refers to: the innermost local binding, else the declaration or built-in.
    func lookup(_ name: String) -> Symbol? {
        guard let slot = slots.find(name) else { return nil }
        if let local = entries[slot].locals.last { return .local(local.binding) }
        return entries[slot].global
    }

    /// The binding of `name` declared in the innermost scope itself, if any.
    func inInnermostScope(_ name: String) -> Int? {
        guard let slot = slots.find(name), let local = entries[slot].locals.last, local.depth == marks.count else { return nil }
        return local.binding
    }

    /// The latest binding of `name` in the outermost scope (parameters and top-level bindings).
    func inOutermostScope(_ name: String) -> Int? {
        guard let slot = slots.find(name) else { return nil }
        return entries[slot].locals.last { $0.depth == 1 }?.binding
    }

    /// Every name in scope, for suggestions (order does not matter: suggestions sort them).
    var visibleNames: [String] {
        entries.indices.compactMap { entries[$0].locals.isEmpty && entries[$0].global == nil ? nil : slots.names[$0] }
    }
}

/// Names → dense slots (0, 1, 2… in insertion order), in an open-addressing table hashed with
/// FNV-1a over the UTF-8 bytes. The resolver looks up every name it reads; the standard
/// Dictionary's seeded SipHash of a String costs several times as much.
struct NameTable {
    /// Slot → name.
    private(set) var names: [String] = []
    private var hashes: [UInt64] = []
    /// Slot + 1 per bucket, 0 when empty. The count is a power of two, at most half full.
    private var buckets: [Int32] = Array(repeating: 0, count: 16)

    static func hash(_ name: String) -> UInt64 {
        let h = FNV1a.hash(name.utf8)
        return h ^ (h >> 29)
    }

    mutating func reserve(_ count: Int) {
        names.reserveCapacity(count)
        hashes.reserveCapacity(count)
        var size = buckets.count
        while size < 2 * count { size *= 2 }
        if size > buckets.count { rehash(size) }
    }

    /// The slot of `name`, if it was inserted.
    func find(_ name: String) -> Int? {
        let h = NameTable.hash(name)
        let mask = buckets.count - 1
        var b = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = Int(buckets[b]) - 1
            if s < 0 { return nil }
            if hashes[s] == h && names[s] == name { return s }
            b = (b + 1) & mask
        }
    }

    /// The slot of `name`, added at the end when new.
    mutating func insert(_ name: String) -> (slot: Int, inserted: Bool) {
        let h = NameTable.hash(name)
        let mask = buckets.count - 1
        var b = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = Int(buckets[b]) - 1
            if s < 0 { break }
            if hashes[s] == h && names[s] == name { return (s, false) }
            b = (b + 1) & mask
        }
        let slot = names.count
        names.append(name)
        hashes.append(h)
        buckets[b] = Int32(slot + 1)
        if 2 * names.count > buckets.count { rehash(2 * buckets.count) }
        return (slot, true)
    }

    private mutating func rehash(_ size: Int) {
        buckets = Array(repeating: 0, count: size)
        let mask = size - 1
        for (slot, h) in hashes.enumerated() {
            var b = Int(truncatingIfNeeded: h) & mask
            while buckets[b] != 0 { b = (b + 1) & mask }
            buckets[b] = Int32(slot + 1)
        }
    }
}
