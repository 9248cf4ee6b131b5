// infc driver: values kept until the process exits. Freeing a large syntax tree node by node
// costs about a tenth of a whole `infc check`; exit gives the memory back at once.

enum ProcessLifetime {
    private final class Box<T> {
        let value: T
        init(_ value: T) { self.value = value }
    }

    /// Keeps `value` alive (never released) for the rest of the process.
    static func keep<T>(_ value: T) {
        _ = Unmanaged.passRetained(Box(value))
    }
}
