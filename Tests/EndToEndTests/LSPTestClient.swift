// End-to-end tests: a minimal LSP client that runs `infc lsp` as a subprocess and speaks framed
// JSON-RPC over its pipes. Every wait has a deadline, so a broken server fails a test instead
// of hanging it.
import InfcTestSupport
import Foundation
import InfcCompiler

struct LSPTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

final class LSPTestClient: @unchecked Sendable {
    static let timeout: TimeInterval = 20

    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private let condition = NSCondition()
    private var buffer: [UInt8] = []
    private var inbox: [JSON] = []
    private var endOfOutput = false
    private var stderrText = ""
    private var nextID = 100

    init(arguments: [String] = []) throws {
        process.executableURL = Binary.url
        process.arguments = ["lsp"] + arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        Thread.detachNewThread { [self] in readLoop() }
        Thread.detachNewThread { [self] in
            while true {
                let data = errors.fileHandleForReading.availableData
                if data.isEmpty { return }
                condition.lock()
                stderrText += String(decoding: data, as: UTF8.self)
                condition.unlock()
            }
        }
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    /// What the server wrote to stderr so far (for failure messages).
    var serverLog: String { condition.lock(); defer { condition.unlock() }; return stderrText }

    // MARK: Sending

    func sendRaw(_ bytes: [UInt8]) {
        // A server that has exited closes the pipe; writing then must not kill the test.
        try? input.fileHandleForWriting.write(contentsOf: Data(bytes))
    }

    func send(_ message: JSON) {
        let body = Array(message.serialized().utf8)
        sendRaw(Array("Content-Length: \(body.count)\r\n\r\n".utf8) + body)
    }

    func notify(_ method: String, _ params: JSON = [:]) {
        send(["jsonrpc": "2.0", "method": .string(method), "params": params])
    }

    /// Sends a request and waits for its response (notifications that arrive meanwhile stay in
    /// the inbox for later waits).
    @discardableResult
    func request(_ method: String, _ params: JSON = [:]) throws -> JSON {
        let id = sendRequest(method, params)
        return try response(to: id)
    }

    func sendRequest(_ method: String, _ params: JSON = [:]) -> JSON {
        condition.lock()
        nextID += 1
        let id = JSON.int(nextID)
        condition.unlock()
        send(["jsonrpc": "2.0", "id": id, "method": .string(method), "params": params])
        return id
    }

    func response(to id: JSON) throws -> JSON {
        try waitFor("the response to request \(id.serialized())") { $0["id"] == id && $0["method"] == nil }
    }

    func closeInput() {
        try? input.fileHandleForWriting.close()
    }

    // MARK: Receiving

    /// Removes and returns the first message (in arrival order) that matches.
    func waitFor(_ what: String, timeout: TimeInterval = LSPTestClient.timeout, _ matches: (JSON) -> Bool) throws -> JSON {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let i = inbox.firstIndex(where: matches) { return inbox.remove(at: i) }
            if endOfOutput { throw LSPTestError("the server closed its output while waiting for \(what); stderr: \(stderrText)") }
            if !condition.wait(until: deadline) {
                throw LSPTestError("timed out waiting for \(what); unmatched messages: \(inbox.map { $0.serialized() })")
            }
        }
    }

    /// The next `publishDiagnostics` for `uri` that satisfies `matches`; earlier ones are dropped.
    func diagnostics(for uri: String, _ what: String, _ matches: ([JSON]) -> Bool = { _ in true }) throws -> [JSON] {
        while true {
            let message = try waitFor("diagnostics (\(what))") {
                $0["method"] == "textDocument/publishDiagnostics" && $0["params"]?["uri"]?.stringValue == uri
            }
            let list = message["params"]?["diagnostics"]?.arrayValue ?? []
            if matches(list) { return list }
        }
    }

    /// Messages received and not yet taken.
    func drain() -> [JSON] {
        condition.lock()
        defer { condition.unlock() }
        let all = inbox
        inbox.removeAll()
        return all
    }

    /// Waits for the process to end; nil on timeout (the process is then killed).
    func waitForExit(timeout: TimeInterval = LSPTestClient.timeout) -> Int32? {
        _ = eventually(timeout: timeout) { !process.isRunning }
        if process.isRunning {
            process.terminate()
            return nil
        }
        return process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
    }

    private func readLoop() {
        let handle = output.fileHandleForReading
        while true {
            let data = handle.availableData
            condition.lock()
            if data.isEmpty {
                endOfOutput = true
                condition.broadcast()
                condition.unlock()
                return
            }
            buffer.append(contentsOf: data)
            while let message = takeMessage() { inbox.append(message) }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// One framed message off the front of the buffer, when it is complete.
    private func takeMessage() -> JSON? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard buffer.count >= 4, let end = (0...(buffer.count - 4)).first(where: { Array(buffer[$0..<$0 + 4]) == separator }) else { return nil }
        let header = String(decoding: buffer[0..<end], as: UTF8.self)
        guard let line = header.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
              let length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) else {
            buffer.removeAll()
            inbox.append(["invalid-frame": .string(header)])
            return nil
        }
        guard buffer.count >= end + 4 + length else { return nil }
        let body = Array(buffer[(end + 4)..<(end + 4 + length)])
        buffer.removeSubrange(0..<(end + 4 + length))
        return (try? JSON.parse(bytes: body)) ?? ["invalid-json": .string(String(decoding: body, as: UTF8.self))]
    }
}

/// LSP positions for tests: 0-based line and UTF-16 character.
func lspPosition(_ line: Int, _ character: Int) -> JSON {
    ["line": .int(line), "character": .int(character)]
}

func lspRange(_ startLine: Int, _ startCharacter: Int, _ endLine: Int, _ endCharacter: Int) -> JSON {
    ["start": lspPosition(startLine, startCharacter), "end": lspPosition(endLine, endCharacter)]
}
