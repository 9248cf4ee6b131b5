// Support: route path syntax ("/orders/:id"), shared by the checker and the runtime's router.

public struct RoutePath: Hashable, Sendable {
    public enum Segment: Hashable, Sendable {
        case literal(String)
        case parameter(String)
    }

    public var segments: [Segment]

    public var parameterNames: [String] {
        segments.compactMap { if case .parameter(let p) = $0 { return p } else { return nil } }
    }

    /// The path with parameters normalised to `:`: two routes with the same shape conflict.
    public var shape: String {
        "/" + segments.map { if case .literal(let l) = $0 { return l } else { return ":" } }.joined(separator: "/")
    }

    /// Parses a route path, or says what is wrong with it.
    public static func parse(_ path: String) -> Result<RoutePath, RoutePathError> {
        guard path.hasPrefix("/") else { return .failure(RoutePathError("a route path must start with `/`")) }
        if path == "/" { return .success(RoutePath(segments: [])) }
        if path.hasSuffix("/") { return .failure(RoutePathError("a route path must not end with `/`")) }
        var segments: [Segment] = []
        // Checked byte by byte: every allowed character is ASCII (the checker parses every
        // route's path on every compile, and Unicode property lookups were 4 % of it).
        for raw in path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if raw.isEmpty { return .failure(RoutePathError("a route path cannot contain an empty segment (`//`)")) }
            if raw.first == UInt8(ascii: ":") {
                let name = raw.dropFirst()
                guard let first = name.first, first == UInt8(ascii: "_") || isLetter(first),
                      name.allSatisfy({ $0 == UInt8(ascii: "_") || isLetter($0) || isDigit($0) }) else {
                    return .failure(RoutePathError("`\(String(decoding: raw, as: UTF8.self))` is not a valid path parameter; write `:name` with letters, digits and `_`"))
                }
                let parameter = String(decoding: name, as: UTF8.self)
                guard !segments.contains(.parameter(parameter)) else {
                    return .failure(RoutePathError("path parameter `:\(parameter)` appears twice"))
                }
                segments.append(.parameter(parameter))
            } else {
                let literal = String(decoding: raw, as: UTF8.self)
                if !raw.allSatisfy({ isLetter($0) || isDigit($0) || "-._~".utf8.contains($0) }) {
                    let ch = literal.unicodeScalars.first { !($0.isASCII && (isLetter(UInt8($0.value)) || isDigit(UInt8($0.value)) || "-._~".unicodeScalars.contains($0))) }
                    return .failure(RoutePathError("character `\(ch.map(String.init) ?? "")` is not allowed in a route path; use letters, digits, `-`, `.`, `_` and `~`"))
                }
                segments.append(.literal(literal))
            }
        }
        return .success(RoutePath(segments: segments))
    }

    private static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }
    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
}

public struct RoutePathError: Error, Hashable, Sendable {
    public var message: String
    init(_ message: String) { self.message = message }
}
