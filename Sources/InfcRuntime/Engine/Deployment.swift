// Runtime engine: a deployment — a build directory loaded and verified (format, version, code
// hash), its code compiled once, and every manifest handler key mapped to the declaration whose
// body it runs. Immutable: `infc dev` swaps in a new Deployment rather than editing one.
import Foundation
import InfcCompiler

/// A verified build directory, ready to run.
public final class Deployment: Sendable {
    /// The build directory (absolute).
    public let directory: String
    public let manifest: Manifest
    public let compilation: Compilation
    public let interpreter: Interpreter
    /// Handler key → declaration index, and back.
    public let declarationByKey: [String: Int]
    public let keyByDeclaration: [Int: String]
    /// fn name → its declaration (for `async` targets and task steps).
    public let fnDeclarations: [String: Int]
    /// Declaration → the workflow whose entry it is.
    public let workflowByDeclaration: [Int: String]
    /// Declaration of a fn → the function that runs it as a task step or queue consumer.
    public let functionByDeclaration: [Int: String]
    /// fn name → its queue (`charge` → `charge-queue`).
    public let queueByFn: [String: ManifestQueue]

    /// Loads `directory` (a build directory written by `infc build`). Every refusal is one line
    /// that says what to do.
    public static func load(directory: String) throws(RuntimeStartError) -> Deployment {
        let dir = URL(fileURLWithPath: directory).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RuntimeStartError("no build directory at \(directory); run infc build FILE -o \(directory) first")
        }
        let manifestPath = dir + "/manifest.json"
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw RuntimeStartError("no manifest.json in \(directory); run infc build FILE -o \(directory) first")
        }
        let json: JSON
        do {
            json = try JSON.parse(bytes: Array(data))
        } catch {
            throw RuntimeStartError("\(manifestPath) is not valid JSON (\(error.description)); rebuild with infc build")
        }
        let manifest = try Manifest.decode(json)
        guard !manifest.sourcePath.hasPrefix("/"), !manifest.sourcePath.split(separator: "/").contains("..") else {
            throw RuntimeStartError("manifest.json: source.path must stay inside the build directory; rebuild with infc build")
        }
        let codePath = dir + "/" + manifest.sourcePath
        guard let code = FileManager.default.contents(atPath: codePath) else {
            throw RuntimeStartError("the build directory has no \(manifest.sourcePath); rebuild with infc build")
        }
        let bytes = Array(code)
        guard SHA256.hex(bytes) == manifest.sourceSHA256 else {
            throw RuntimeStartError("\(manifest.sourcePath) does not match the manifest's hash; rebuild with infc build")
        }
        let file = SourceFile(path: codePath, bytes: bytes)
        let compilation = Compilation.compile(file)
        if let error = compilation.diagnostics.first(where: { $0.severity == .error }) {
            let at = file.location(of: error.range.start)
            throw RuntimeStartError(
                "the code in \(manifest.sourcePath) has errors (line \(at.line): \(error.message)); fix it and rebuild with infc build")
        }
        return try Deployment(directory: dir, manifest: manifest, compilation: compilation)
    }

    /// Builds a deployment from an already compiled program and its manifest (used by `load`
    /// and by tests); checks that every handler key the manifest names exists in the code.
    public init(directory: String, manifest: Manifest, compilation: Compilation) throws(RuntimeStartError) {
        self.directory = directory
        self.manifest = manifest
        self.compilation = compilation
        self.interpreter = Interpreter(compilation: compilation)
        let keys = HandlerKey.keys(for: compilation.program, file: compilation.file)
        var byKey: [String: Int] = [:]
        var byDecl: [Int: String] = [:]
        var fns: [String: Int] = [:]
        for (d, key) in keys {
            byKey[key.text] = d
            byDecl[d] = key.text
            if key.text.hasPrefix("fn ") { fns[String(key.text.dropFirst(3))] = d }
        }
        self.declarationByKey = byKey
        self.keyByDeclaration = byDecl
        self.fnDeclarations = fns

        func require(_ key: String, _ owner: String) throws(RuntimeStartError) -> Int {
            guard let d = byKey[key] else {
                throw RuntimeStartError("manifest.json: \(owner) runs handler \"\(key)\", which the code does not have; rebuild with infc build")
            }
            return d
        }
        var functionByDecl: [Int: String] = [:]
        for f in manifest.functions {
            for key in f.handlers { functionByDecl[try require(key, "function \(f.name)")] = f.name }
        }
        var workflowByDecl: [Int: String] = [:]
        for w in manifest.workflows { workflowByDecl[try require(w.entry, "workflow \(w.name)")] = w.name }
        for r in manifest.routes { _ = try require(r.handler, "route \(r.method) \(r.path)") }
        for s in manifest.subscriptions { _ = try require(s.handler, "the subscription of \(s.target) to \(s.topic)") }
        for s in manifest.schedules { _ = try require(s.handler, "schedule \(s.name)") }
        self.functionByDeclaration = functionByDecl
        self.workflowByDeclaration = workflowByDecl
        var queues: [String: ManifestQueue] = [:]
        for q in manifest.queues where q.sourceType == "async" { queues[q.sourceName] = q }
        self.queueByFn = queues
    }

    /// The declaration a handler key names (checked at load).
    public func declaration(_ key: String) -> Int { declarationByKey[key] ?? -1 }

    /// The workflow whose entry is `fn name`, if that fn is a workflow.
    public func workflow(forFn name: String) -> ManifestWorkflow? {
        guard let d = fnDeclarations[name], let w = workflowByDeclaration[d] else { return nil }
        return manifest.workflow(w)
    }

    /// The app directory: where `.env` lives and, by default, `.infc/` (the build dir's parent).
    public var appDirectory: String {
        URL(fileURLWithPath: directory).deletingLastPathComponent().path
    }
}
