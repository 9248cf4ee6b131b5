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
        var seen: Set<String> = []
        for raw in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let s = String(raw)
            if s.isEmpty { return .failure(RoutePathError("a route path cannot contain an empty segment (`//`)")) }
            if s.hasPrefix(":") {
                let name = String(s.dropFirst())
                guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
                      name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }) else {
                    return .failure(RoutePathError("`\(s)` is not a valid path parameter; write `:name` with letters, digits and `_`"))
                }
                guard seen.insert(name).inserted else {
                    return .failure(RoutePathError("path parameter `:\(name)` appears twice"))
                }
                segments.append(.parameter(name))
            } else {
                for ch in s.unicodeScalars {
                    let ok = ch.isASCII && (ch.properties.isAlphabetic || ("0"..."9").contains(ch) || "-._~".unicodeScalars.contains(ch))
                    if !ok {
                        return .failure(RoutePathError("character `\(ch)` is not allowed in a route path; use letters, digits, `-`, `.`, `_` and `~`"))
                    }
                }
                segments.append(.literal(s))
            }
        }
        return .success(RoutePath(segments: segments))
    }
}

public struct RoutePathError: Error, Hashable, Sendable {
    public var message: String
    init(_ message: String) { self.message = message }
}
