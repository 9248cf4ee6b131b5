// Runtime: errors the local runtime reports to its user (one line each, with what to do next).

public struct RuntimeStartError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
