// Language server: the JSON-RPC loop and the LSP lifecycle (initialize, initialized, shutdown,
// exit, $/cancelRequest). The reader runs on the calling thread; compilation and every request
// that needs it run on one AnalysisWorker thread, so the loop keeps reading while it works.
import Foundation
import InfcCompiler

/// `infc lsp`: a Language Server Protocol 3.17 server for `.inf` files.
///
/// Threads: `run` reads and dispatches messages on the calling thread; the `AnalysisWorker`
/// thread compiles documents, answers analysis requests and publishes diagnostics. Shared state
/// (open documents, pending request ids) is guarded by `lock`; the writer has its own lock and is
/// only taken inside `lock`, never the other way round.
public final class LanguageServer: @unchecked Sendable {
    enum State { case uninitialized, running, shutDown }

    let serverVersion: String
    /// How long a change waits for the next one before its diagnostics are computed.
    let diagnosticsDelay: Double
    /// How long a request may wait for the worker before it is answered from the document's
    /// last finished compilation (or refused): a slow analysis never leaves an editor waiting.
    let requestDeadline: Double

    // Reader thread only.
    private var state = State.uninitialized
    private var shutdownReceived = false
    private var client = ClientOptions()

    // Set once in `run`, before the worker starts.
    var writer = MessageWriter(fd: -1)
    let worker = AnalysisWorker()

    // Guarded by `lock`.
    let lock = Lock()
    var documents: [String: Document] = [:]
    var nextRevision = 0
    private var pending: Set<JSON> = []

    public init(serverVersion: String = "0", diagnosticsDelay: Double = 0.005, requestDeadline: Double = 1) {
        self.serverVersion = serverVersion
        self.diagnosticsDelay = diagnosticsDelay
        self.requestDeadline = requestDeadline
    }

    /// Serves one client until `exit` or the end of input. Returns the process exit code: 0 when
    /// `shutdown` came before the end, 1 otherwise (LSP 3.17, `exit`).
    public func run(input: Int32 = 0, output: Int32 = 1) -> Int32 {
        signal(SIGPIPE, SIG_IGN)   // a vanished client must end the loop, not the process
        writer = MessageWriter(fd: output)
        // Weak: the server owns the worker (a server per process, but the fuzzer runs many).
        worker.onDiagnosticsDue = { [weak self] uri in self?.publishDiagnostics(uri: uri) }
        worker.start()
        let reader = MessageReader(fd: input)
        while let frame = reader.next() {
            guard case .body(let bytes) = frame else { continue }   // a header without a length: skipped
            let message: JSON
            do {
                message = try JSON.parse(bytes: bytes, maxDepth: 128)
            } catch {
                sendError(id: nil, .parseError, "invalid JSON: \(error)")
                continue
            }
            if let exitCode = handle(message) {
                worker.stop()
                return exitCode
            }
        }
        // The end of input: what was asked is still answered (and what fell due published).
        worker.stop(drain: true)
        return shutdownReceived ? 0 : 1
    }

    public func run(input: FileHandle, output: FileHandle) -> Int32 {
        run(input: input.fileDescriptor, output: output.fileDescriptor)
    }

    // MARK: Dispatch

    /// Handles one parsed message; returns an exit code when the server must stop.
    private func handle(_ message: JSON) -> Int32? {
        guard case .object(let object) = message else {
            sendError(id: nil, .invalidRequest, "a JSON-RPC message must be an object")
            return nil
        }
        var id: JSON?
        if let raw = object["id"] {
            switch raw {
            case .string: id = raw
            case .number where raw.intValue != nil: id = raw
            default:
                sendError(id: nil, .invalidRequest, "a request id must be an integer or a string")
                return nil
            }
        }
        guard let method = object["method"]?.stringValue else {
            // A response to a request of ours (we send none) is ignored; anything else is invalid.
            if id != nil && (object["result"] != nil || object["error"] != nil) { return nil }
            sendError(id: id, .invalidRequest, "a JSON-RPC message needs a string `method`")
            return nil
        }
        guard object["jsonrpc"]?.stringValue == "2.0" else {
            sendError(id: id, .invalidRequest, "`jsonrpc` must be \"2.0\"")
            return nil
        }
        // `"params": null` is no params (eglot sends it with `shutdown`, lsp-mode with `exit`).
        var params = object["params"]
        if params == .null { params = Optional<JSON>.none }
        if let params, params.objectValue == nil, params.arrayValue == nil {
            if let id { sendError(id: id, .invalidParams, "`params` must be an object or an array") }
            return nil
        }
        if let id {
            request(id: id, method: method, params: params)
            return nil
        }
        return notification(method: method, params: params)
    }

    private func request(id: JSON, method: String, params: JSON?) {
        switch state {
        case .uninitialized:
            guard method == "initialize" else {
                sendError(id: id, .serverNotInitialized, "the server has not been initialized; send `initialize` first")
                return
            }
            state = .running
            client = ClientOptions(initializeParams: params ?? [:])
            send(result: initializeResult(), id: id)
        case .shutDown:
            sendError(id: id, .invalidRequest, "the server has been shut down; only `exit` is accepted")
        case .running:
            switch method {
            case "initialize":
                sendError(id: id, .invalidRequest, "the server is already initialized")
            case "shutdown":
                state = .shutDown
                shutdownReceived = true
                // Through the worker: every request received before is answered first; after
                // the deadline without a worker (a slow analysis), at once.
                lock.withLock { _ = pending.insert(id) }
                worker.enqueue { [self] in answer(id, with: .null) }
                DispatchQueue.global().asyncAfter(deadline: .now() + requestDeadline) { [weak self] in self?.answer(id, with: .null) }
            case "workspace/executeCommand":
                guard let uri = params?["arguments"]?.arrayValue?.first?.stringValue else {
                    sendError(id: id, .invalidParams, "`params.arguments` must start with the document's URI")
                    return
                }
                analyze(.executeCommand, id: id, uri: uri, params: params ?? [:])
            default:
                guard let feature = Feature(rawValue: method) else {
                    sendError(id: id, .methodNotFound, "unknown method `\(method)`")
                    return
                }
                guard let uri = params?["textDocument"]?["uri"]?.stringValue else {
                    sendError(id: id, .invalidParams, "`params.textDocument.uri` is required")
                    return
                }
                analyze(feature, id: id, uri: uri, params: params ?? [:])
            }
        }
    }

    private func notification(method: String, params: JSON?) -> Int32? {
        if method == "exit" { return shutdownReceived ? 0 : 1 }
        guard state == .running, let params else { return nil }   // before initialize or after shutdown: dropped
        switch method {
        case "textDocument/didOpen": didOpen(params)
        case "textDocument/didChange": didChange(params)
        case "textDocument/didSave": didSave(params)
        case "textDocument/didClose": didClose(params)
        case "$/cancelRequest": if let id = params["id"] { cancel(id) }
        default: break   // `initialized`, `$/setTrace` and every notification we do not implement
        }
        return nil
    }

    private func initializeResult() -> JSON {
        let capabilities: JSON = [
            "positionEncoding": "utf-16",
            "textDocumentSync": ["openClose": true, "change": 2, "save": ["includeText": false]],
            "hoverProvider": true,
            "definitionProvider": true,
            "referencesProvider": true,
            "documentSymbolProvider": true,
            "completionProvider": ["triggerCharacters": ["."], "resolveProvider": false],
            "codeActionProvider": ["codeActionKinds": ["quickfix"]],
            "codeLensProvider": ["resolveProvider": false],
            "executeCommandProvider": ["commands": .array(CodeLensProvider.commands.map { .string($0) })],
        ]
        return ["capabilities": capabilities, "serverInfo": ["name": .string(ServerInfo.name), "version": .string(serverVersion)]]
    }

    // MARK: Requests that need a compilation

    /// Queues a feature request on the worker; the answer is sent unless it was cancelled first.
    /// A request the worker has not answered within `requestDeadline` (an analysis is slow) is
    /// answered from the document's last finished compilation, or refused when there is none.
    private func analyze(_ feature: Feature, id: JSON, uri: String, params: JSON) {
        let snapshot: Document? = lock.withLock {
            if documents[uri] != nil { pending.insert(id) }
            return documents[uri]
        }
        guard let snapshot else {
            send(result: feature.emptyResult, id: id)   // not open: nothing to say about it
            return
        }
        let client = self.client
        worker.enqueue { [self] in
            guard lock.withLock({ pending.contains(id) }) else { return }
            let analysis = Analysis(uri: uri, compilation: worker.compilation(for: snapshot), client: client)
            respond(id, feature, analysis, params)
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + requestDeadline) { [weak self] in
            guard let self else { return }
            guard let last = lock.withLock({ self.pending.contains(id) ? self.worker.lastCompilation(of: uri) : nil }) else {
                answerLate(id)
                return
            }
            // On a thread of its own with the worker's stack: features walk the tree recursively.
            let thread = Thread {
                self.respond(id, feature, Analysis(uri: uri, compilation: last, client: client), params)
            }
            thread.stackSize = AnalysisWorker.stackSize
            thread.start()
        }
    }

    /// Answers a feature request from `analysis`, unless it was answered or cancelled already.
    private func respond(_ id: JSON, _ feature: Feature, _ analysis: Analysis, _ params: JSON) {
        var response: JSON
        var messages: [JSON] = []
        do throws(RequestError) {
            let answer = try feature.answer(analysis, params)
            response = ["jsonrpc": "2.0", "id": id, "result": answer.result]
            messages = answer.notifications
        } catch {
            response = errorMessage(id: id, .invalidParams, error.message)
        }
        lock.withLock {
            guard pending.remove(id) != nil else { return }
            for m in messages { writer.send(m) }
            writer.send(response)
        }
    }

    /// Answers `id` with `result` unless it was answered already.
    private func answer(_ id: JSON, with result: JSON) {
        lock.withLock {
            if pending.remove(id) != nil { send(result: result, id: id) }
        }
    }

    /// Refuses a request still waiting at its deadline with no compilation to answer from.
    private func answerLate(_ id: JSON) {
        lock.withLock {
            if pending.remove(id) != nil {
                writer.send(errorMessage(id: id, .requestFailed, "the document is still being analysed; ask again"))
            }
        }
    }

    private func cancel(_ id: JSON) {
        lock.withLock {
            if pending.remove(id) != nil {
                writer.send(errorMessage(id: id, .requestCancelled, "the request was cancelled"))
            }
        }
    }

    // MARK: Sending

    func send(result: JSON, id: JSON) {
        writer.send(["jsonrpc": "2.0", "id": id, "result": result])
    }

    func sendError(id: JSON?, _ code: RPCErrorCode, _ message: String) {
        writer.send(errorMessage(id: id, code, message))
    }

    func sendNotification(_ method: String, _ params: JSON) {
        writer.send(["jsonrpc": "2.0", "method": .string(method), "params": params])
    }

    private func errorMessage(id: JSON?, _ code: RPCErrorCode, _ message: String) -> JSON {
        ["jsonrpc": "2.0", "id": id ?? .null, "error": ["code": .int(code.rawValue), "message": .string(message)]]
    }
}

/// What the client said it supports, where the answer's shape depends on it.
struct ClientOptions: Sendable {
    /// `DocumentSymbol[]` (a tree) rather than `SymbolInformation[]` (a flat list).
    var hierarchicalSymbols = false
    /// Hover contents and completion documentation in Markdown, or else plain text: what
    /// `hover.contentFormat` and `completionItem.documentationFormat` prefer (Markdown when the
    /// client does not say).
    var markdownHover = true
    var markdownDocumentation = true

    init() {}

    init(initializeParams params: JSON) {
        let textDocument = params["capabilities"]?["textDocument"]
        hierarchicalSymbols = textDocument?["documentSymbol"]?["hierarchicalDocumentSymbolSupport"]?.boolValue ?? false
        markdownHover = Self.prefersMarkdown(textDocument?["hover"]?["contentFormat"])
        markdownDocumentation = Self.prefersMarkdown(textDocument?["completion"]?["completionItem"]?["documentationFormat"])
    }

    /// True unless the client lists formats and `plaintext` comes before `markdown` (or
    /// `markdown` is missing): the list is in the client's order of preference.
    static func prefersMarkdown(_ formats: JSON?) -> Bool {
        guard let list = formats?.arrayValue?.compactMap(\.stringValue), !list.isEmpty else { return true }
        return list.first { $0 == "markdown" || $0 == "plaintext" } != "plaintext"
    }
}

/// A request that cannot be answered as asked: answered with InvalidParams.
struct RequestError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
