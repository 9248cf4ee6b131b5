// Language server: document synchronisation (didOpen, didChange, didSave, didClose) and the
// publication of diagnostics, debounced on the worker and never staler than the document.
import Foundation
import InfcCompiler

extension LanguageServer {
    func didOpen(_ params: JSON) {
        guard let item = params["textDocument"], let uri = item["uri"]?.stringValue,
              let text = item["text"]?.stringValue else { return }
        lock.withLock {
            nextRevision += 1
            documents[uri] = Document(uri: uri, version: item["version"]?.intValue, revision: nextRevision, bytes: Array(text.utf8))
        }
        worker.scheduleDiagnostics(uri: uri, delay: 0)
    }

    func didChange(_ params: JSON) {
        guard let uri = params["textDocument"]?["uri"]?.stringValue,
              let changes = params["contentChanges"]?.arrayValue else { return }
        let changed: Bool = lock.withLock {
            guard var document = documents[uri] else { return false }
            for change in changes where !document.apply(change: change) {
                Log.write("ignored a malformed content change for \(uri)")
            }
            nextRevision += 1
            document.revision = nextRevision
            document.version = params["textDocument"]?["version"]?.intValue ?? document.version
            documents[uri] = document
            return true
        }
        if changed { worker.scheduleDiagnostics(uri: uri, delay: diagnosticsDelay) }
    }

    func didSave(_ params: JSON) {
        guard let uri = params["textDocument"]?["uri"]?.stringValue else { return }
        let known: Bool = lock.withLock {
            guard var document = documents[uri] else { return false }
            if let text = params["text"]?.stringValue {
                nextRevision += 1
                document.revision = nextRevision
                document.bytes = Array(text.utf8)
                documents[uri] = document
            }
            return true
        }
        if known { worker.scheduleDiagnostics(uri: uri, delay: 0) }
    }

    func didClose(_ params: JSON) {
        guard let uri = params["textDocument"]?["uri"]?.stringValue else { return }
        worker.forget(uri: uri)
        lock.withLock {
            guard documents.removeValue(forKey: uri) != nil else { return }
            // Under the lock: a compilation finishing now sees the document gone and stays quiet.
            sendNotification("textDocument/publishDiagnostics", ["uri": .string(uri), "diagnostics": []])
        }
    }

    /// Compiles the document as it is now and publishes its diagnostics, unless it changed or
    /// closed meanwhile (a newer publication is then on its way). Worker thread.
    func publishDiagnostics(uri: String) {
        guard let snapshot = lock.withLock({ documents[uri] }) else { return }
        let analysed = worker.diagnostics(for: snapshot)
        let diagnostics = DiagnosticConversion.lsp(analysed.diagnostics, uri: uri, in: analysed.file)
        var params: JSON = ["uri": .string(uri), "diagnostics": .array(diagnostics)]
        if let version = snapshot.version { params = params.setting("version", .int(version)) }
        lock.withLock {
            guard documents[uri]?.revision == snapshot.revision else { return }
            sendNotification("textDocument/publishDiagnostics", params)
        }
    }
}

extension JSON {
    /// The object with one more key (or a replaced one); other values are returned unchanged.
    func setting(_ key: String, _ value: JSON) -> JSON {
        guard case .object(var o) = self else { return self }
        o[key] = value
        return .object(o)
    }
}

/// The server's own log: stderr, which editors show in their LSP output panel.
enum Log {
    static func write(_ message: String) {
        FileHandle.standardError.write(Data("infc lsp: \(message)\n".utf8))
    }
}
