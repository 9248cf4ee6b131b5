// Runtime HTTP: the limits and timeouts the server enforces on every connection.
// Defaults suit a laptop; tests shrink the timeouts.

/// Limits the `HTTPServer` enforces so that no single client can disturb the others.
public struct HTTPLimits: Sendable {
    /// Request line plus headers, in bytes; beyond it the answer is 431 and the connection closes.
    public var maxHeaderBytes: Int = 16 * 1024
    /// Number of header fields; beyond it the answer is 431 and the connection closes.
    public var maxHeaderCount: Int = 100
    /// Request body (after chunked decoding); beyond it the answer is 413 and the connection closes.
    public var maxBodyBytes: Int = 1024 * 1024
    /// Time allowed from a request's first byte (or from accept) to the end of its headers.
    /// A client too slow gets 408 (when it sent anything) and is closed.
    public var headerReadTimeout: Duration = .seconds(10)
    /// Longest silence allowed while a request body is being received (then 408 and close).
    public var bodyReadTimeout: Duration = .seconds(30)
    /// How long a keep-alive connection may sit idle between requests before it is closed.
    public var idleTimeout: Duration = .seconds(5)
    /// Longest a single blocked send may wait for the client to read (then the connection closes).
    public var writeTimeout: Duration = .seconds(30)
    /// After an error response, how long unread input is drained before closing, so that the
    /// client sees the response rather than a reset.
    public var lingerTimeout: Duration = .seconds(2)
    /// Open connections; beyond it a new connection gets 503 and is closed at once.
    public var maxConnections: Int = 1024
    /// Stack size of each event-loop thread (handlers run on it).
    public var threadStackBytes: Int = 4 * 1024 * 1024

    public init() {}

    public init(
        maxHeaderBytes: Int = 16 * 1024,
        maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 1024 * 1024,
        headerReadTimeout: Duration = .seconds(10),
        bodyReadTimeout: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(5),
        writeTimeout: Duration = .seconds(30),
        lingerTimeout: Duration = .seconds(2),
        maxConnections: Int = 1024,
        threadStackBytes: Int = 4 * 1024 * 1024
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.headerReadTimeout = headerReadTimeout
        self.bodyReadTimeout = bodyReadTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.lingerTimeout = lingerTimeout
        self.maxConnections = maxConnections
        self.threadStackBytes = threadStackBytes
    }
}
