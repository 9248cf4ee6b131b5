// Sema stage: a side table keyed by node id. Node ids are dense (0..<Program.nodeCount), so the
// table is an array indexed by id: the dictionary's subscript and iteration without hashing.

/// A map from node ids to values, stored as one optional slot per node id.
public struct NodeMap<Value: Sendable>: Sendable, Sequence {
    private var slots: [Value?]
    /// Number of ids that have a value.
    public private(set) var count = 0

    /// An empty map; `capacity` is the number of node ids it expects (it grows past it if needed).
    public init(capacity: Int = 0) {
        slots = Array(repeating: nil, count: Swift.max(0, capacity))
    }

    public var isEmpty: Bool { count == 0 }

    public subscript(id: NodeID) -> Value? {
        get {
            let i = Int(id.raw)
            return i >= 0 && i < slots.count ? slots[i] : nil
        }
        set {
            let i = Int(id.raw)
            guard i >= 0 else { return }
            if i >= slots.count {
                guard newValue != nil else { return }
                slots.append(contentsOf: repeatElement(nil, count: i - slots.count + 1))
            }
            switch (slots[i] == nil, newValue == nil) {
            case (true, false): count += 1
            case (false, true): count -= 1
            default: break
            }
            slots[i] = newValue
        }
    }

    /// The entries in node-id order, as `(key, value)` pairs like a dictionary's.
    public func makeIterator() -> Iterator { Iterator(slots: slots, position: 0) }

    public struct Iterator: IteratorProtocol {
        fileprivate let slots: [Value?]
        fileprivate var position: Int

        public mutating func next() -> (key: NodeID, value: Value)? {
            while position < slots.count {
                let i = position
                position += 1
                if let v = slots[i] { return (NodeID(Int32(i)), v) }
            }
            return nil
        }
    }
}
