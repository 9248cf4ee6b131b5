// Runtime HTTP tests: a helper that runs a server for the length of one test (the client is
// InfcTestSupport's `TestClient`, shared with the end-to-end tests).

import InfcTestSupport
import Glibc
@testable import InfcRuntime

/// Runs `body` against a started server on an ephemeral port, then stops it.
func withServer(
    limits: HTTPLimits = HTTPLimits(lingerTimeout: .milliseconds(500)),
    handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse = echo,
    _ body: (Int) throws -> Void
) throws {
    let server = HTTPServer(port: 0, limits: limits, handler: handler)
    let port = try server.start()
    defer { server.stop(drainTimeout: .seconds(1)) }
    try body(port)
}

/// Answers with what it received, as `METHOD path ?query body`.
@Sendable func echo(_ request: HTTPRequest) -> HTTPResponse {
    let query = request.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    return .text("\(request.method) \(request.path) ?\(query) \(request.bodyText)")
}

