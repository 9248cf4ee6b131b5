// End-to-end runtime tests: support — a temporary app (source + build directory written with
// the ManifestEmitter), the real `infc run`/`infc dev` as a child process with its output in a
// file, a tiny blocking HTTP/1.1 client on loopback, and a stub HTTP service. Every wait has a
// deadline; every child process is killed when its owner goes away.
import InfcTestSupport
import Foundation
import Glibc
import InfcCompiler
import Testing

/// All runtime end-to-end tests, one at a time: they start processes and measure time.
@Suite(.serialized) struct RuntimeE2E {}

/// A temporary app directory: `app.inf`, `build/` and `.infc/` state.
final class TestApp: @unchecked Sendable {
    let directory: String
    var sourcePath: String { directory + "/app.inf" }
    var buildDirectory: String { directory + "/build" }
    var stateDirectory: String { directory + "/.infc" }

    init(_ source: String, name: String = "app") throws {
        directory = NSTemporaryDirectory() + "infc-e2e-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try write(source)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func write(_ source: String) throws {
        try Data(source.utf8).write(to: URL(fileURLWithPath: sourcePath), options: .atomic)
    }

    /// Compiles the source (it must have no errors) and writes the build directory.
    @discardableResult
    func build() throws -> Compilation {
        let data = try Data(contentsOf: URL(fileURLWithPath: sourcePath))
        let c = Compilation.compile(SourceFile(path: sourcePath, bytes: Array(data)))
        let errors = c.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else { throw TestFailure("test program has errors: \(errors.map(\.message))") }
        for (path, bytes) in ManifestEmitter.files(for: c) {
            let url = URL(fileURLWithPath: buildDirectory + "/" + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        return c
    }

    /// Reads, edits and rewrites `build/manifest.json`.
    func editManifest(_ edit: (inout JSON) throws -> Void) throws {
        let path = buildDirectory + "/manifest.json"
        var json = try JSON.parse(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        try edit(&json)
        try Data(json.prettyPrinted().utf8).write(to: URL(fileURLWithPath: path))
    }
}

/// The `infc` binary as a child process, its stdout and stderr going to a file.
final class InfcProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String
    private(set) var port = 0

    init(_ arguments: [String], environment: [String: String] = [:], directory: String) throws {
        logPath = directory + "/infc-\(UUID().uuidString.prefix(6)).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        process.executableURL = Binary.url
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// `infc run BUILD --port 0 --state STATE …` for an app, started and listening.
    static func run(_ app: TestApp, timeScale: Double? = nil, environment: [String: String] = [:],
                    extra: [String] = []) throws -> InfcProcess {
        var args = ["run", app.buildDirectory, "--port", "0", "--state", app.stateDirectory]
        if let timeScale { args += ["--time-scale", String(timeScale)] }
        let p = try InfcProcess(args + extra, environment: environment, directory: app.directory)
        try p.waitUntilListening()
        return p
    }

    deinit { kill() }

    var output: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Waits for "listening on http://127.0.0.1:PORT" and remembers the port.
    func waitUntilListening(timeout: Double = 15) throws {
        var exited = false
        let ready = eventually(timeout: timeout) {
            let text = output
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let p = Int(digits), p > 0 {
                    port = p
                    return true
                }
            }
            exited = !process.isRunning
            return exited
        }
        if ready && !exited { return }
        if exited { throw TestFailure("infc exited (\(process.terminationStatus)) before listening:\n\(output)") }
        throw TestFailure("infc did not start listening within \(timeout)s:\n\(output)")
    }

    /// SIGKILL (kill -9) and reap.
    func kill() {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            _ = waitForExit(timeout: 5)
        }
    }

    func signal(_ sig: Int32) { Glibc.kill(process.processIdentifier, sig) }

    /// The exit status, or nil when it still runs after `timeout`.
    func waitForExit(timeout: Double) -> Int32? {
        _ = eventually(timeout: timeout) { !process.isRunning }
        if process.isRunning { return nil }
        return process.terminationStatus
    }

    func get(_ path: String, headers: [(String, String)] = []) throws -> TestResponse {
        try HTTP.request("GET", port: port, path: path, headers: headers)
    }

    func post(_ path: String, json: String, headers: [(String, String)] = []) throws -> TestResponse {
        try HTTP.request("POST", port: port, path: path, headers: [("Content-Type", "application/json")] + headers,
                         body: Array(json.utf8))
    }

    /// Runs `infc ARGS` to completion (at most `timeout` seconds): exit status and output.
    static func once(_ arguments: [String], directory: String, environment: [String: String] = [:],
                     timeout: Double = 20) throws -> (status: Int32, output: String) {
        let p = try InfcProcess(arguments, environment: environment, directory: directory)
        guard let status = p.waitForExit(timeout: timeout) else {
            p.kill()
            throw TestFailure("infc \(arguments.joined(separator: " ")) did not finish within \(timeout)s")
        }
        return (status, p.output)
    }
}

/// A stub HTTP service on 127.0.0.1 (a thread per connection, `Connection: close`). The
/// handler gets method, path and body; it may sleep to simulate a slow service. It counts the
/// requests it is serving at once.
final class StubServer: @unchecked Sendable {
    typealias Handler = @Sendable (_ method: String, _ path: String, _ body: [UInt8]) -> (Int, String)
    /// A handler that chooses the answer's content type and bytes.
    typealias RawHandler = @Sendable (_ request: StubRequest) -> (status: Int, contentType: String, body: [UInt8])

    let port: Int
    private let fd: Int32
    private let handler: RawHandler
    private let lock = NSLock()
    private var active = 0
    private(set) var maxActive = 0
    private(set) var requests: [(method: String, path: String, body: String)] = []
    private(set) var rawRequests: [StubRequest] = []
    private var stopped = false

    convenience init(_ handler: @escaping Handler) throws {
        try self.init(raw: { r in
            let (status, text) = handler(r.method, r.path, r.body)
            return (status, "application/json", Array(text.utf8))
        })
    }

    init(raw handler: @escaping RawHandler) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else { throw TestFailure("stub cannot listen") }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: actual.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    var url: String { "http://127.0.0.1:\(port)" }

    var received: [(method: String, path: String, body: String)] {
        lock.lock()
        defer { lock.unlock() }
        return requests
    }

    /// Every request with its headers and raw body.
    var receivedRaw: [StubRequest] {
        lock.lock()
        defer { lock.unlock() }
        return rawRequests
    }

    var peakConcurrency: Int {
        lock.lock()
        defer { lock.unlock() }
        return maxActive
    }

    func stop() {
        lock.lock()
        let already = stopped
        stopped = true
        lock.unlock()
        if !already {
            Glibc.shutdown(fd, Int32(SHUT_RDWR))
            Glibc.close(fd)
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                lock.lock()
                let done = stopped
                lock.unlock()
                if done { return }
                continue
            }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ client: Int32) {
        defer { Glibc.close(client) }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        var headEnd: Int?
        var contentLength = 0
        while true {
            if headEnd == nil, let e = HTTP.find([13, 10, 13, 10], in: data) {
                headEnd = e
                let head = String(decoding: data[..<e], as: UTF8.self).lowercased()
                for line in head.components(separatedBy: "\r\n") where line.hasPrefix("content-length:") {
                    contentLength = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let e = headEnd, data.count >= e + 4 + contentLength { break }
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            data += buffer[0..<n]
        }
        guard let e = headEnd else { return }
        let headLines = String(decoding: data[..<e], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = headLines[0].split(separator: " ")
        guard requestLine.count >= 2 else { return }
        var requestHeaders: [String: String] = [:]
        for line in headLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            requestHeaders[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let request = StubRequest(method: String(requestLine[0]), path: String(requestLine[1]), headers: requestHeaders,
                                  body: Array(data[(e + 4)..<(e + 4 + contentLength)]), time: Date().timeIntervalSince1970)
        lock.lock()
        active += 1
        maxActive = max(maxActive, active)
        requests.append((request.method, request.path, String(decoding: request.body, as: UTF8.self)))
        rawRequests.append(request)
        lock.unlock()
        let (status, contentType, bytes) = handler(request)
        lock.lock()
        active -= 1
        lock.unlock()
        let response = "HTTP/1.1 \(status) X\r\nContent-Type: \(contentType)\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
        let all = Array(response.utf8) + bytes
        var offset = 0
        while offset < all.count {
            let n = all[offset...].withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// One request a stub received: header names lower-cased, the body as sent, when it arrived.
struct StubRequest: Sendable {
    var method: String
    var path: String
    var headers: [String: String]
    var body: [UInt8]
    var time: Double
}

/// The largest number of half-open intervals [start, end) that overlap at one instant.
func maxOverlap(_ spans: [(start: Double, end: Double)]) -> Int {
    var events: [(Double, Int)] = []
    for s in spans {
        events.append((s.start, 1))
        events.append((s.end, -1))
    }
    events.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }  // ends before starts at the same time
    var current = 0
    var best = 0
    for (_, delta) in events {
        current += delta
        best = max(best, current)
    }
    return best
}
