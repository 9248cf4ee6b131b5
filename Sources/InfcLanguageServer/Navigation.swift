// Language server: go to definition and find references, from the semantic model's name
// occurrences (fns, resources, services, topics of `on` handlers, variables).
import InfcCompiler

enum Navigation {
    /// The definition of the name under the cursor; null for built-ins and empty space.
    static func definition(_ a: Analysis, at offset: Int) -> JSON {
        let symbol: Symbol
        if let op = a.operation(at: offset) {
            symbol = .declaration(op.declaration)   // `orders.ge|t` leads to `orders`
        } else if let o = a.occurrence(at: offset) {
            symbol = o.symbol
        } else {
            return .null
        }
        guard let range = a.definitionRange(of: symbol) else { return .null }
        return Positions.location(range, uri: a.uri, in: a.file)
    }

    /// Every occurrence of the name under the cursor, in source order; the definition only when
    /// `includeDeclaration` is set.
    static func references(_ a: Analysis, at offset: Int, includeDeclaration: Bool) -> JSON {
        guard let symbol = a.occurrence(at: offset)?.symbol else { return [] }
        var ranges = Set<SourceRange>()
        for o in a.model.occurrences where o.symbol == symbol && (includeDeclaration || !o.isDefinition) {
            ranges.insert(o.range)
        }
        if includeDeclaration, let definition = a.definitionRange(of: symbol) { ranges.insert(definition) }
        return .array(ranges.sorted().map { Positions.location($0, uri: a.uri, in: a.file) })
    }
}
