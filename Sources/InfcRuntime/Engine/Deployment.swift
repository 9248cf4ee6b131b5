// Runtime engine: a deployment — a build directory loaded and verified (format, version, code
// hash), its code parsed and resolved once (never inferred: the plan is the manifest's), and
// every handler the manifest names mapped, by its range, to the declaration whose body it runs.
// Immutable: `infc dev` swaps in a new Deployment rather than editing one.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler

/// A verified build directory, ready to run.
public final class Deployment: Sendable {
    /// The build directory (absolute).
    public let directory: String
    public let manifest: Manifest
    /// The code, parsed and resolved (never inferred or checked against a budget: the plan is
    /// the manifest's).
    public let source: ResolvedProgram
    public let interpreter: Interpreter
    /// Handler key → declaration index, and back (for the handlers the manifest names).
    public let declarationByKey: [String: Int]
    public let keyByDeclaration: [Int: String]
    /// fn name → its declaration, from the resolved code (for `async` targets and task steps).
    public let fnDeclarations: [String: Int]
    /// Declaration → the workflow whose entry it is.
    public let workflowByDeclaration: [Int: WorkflowID]
    /// Declaration of a fn → the function that runs it as a task step or queue consumer.
    public let functionByDeclaration: [Int: FunctionID]
    /// fn name → its queue (`charge` → `charge-queue`).
    public let queueByFn: [String: ManifestQueue]

    /// Loads `directory` (a build directory written by `infc build`). Every refusal is one line
    /// that says what to do.
    public static func load(directory: String) throws(RuntimeStartError) -> Deployment {
        let dir = URL(fileURLWithPath: directory).standardizedFileURL.path
        var info = stat()
        guard stat(dir, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
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
        // Parse and resolve only: the plan, its limits and its budget are the manifest's.
        let source = ResolvedProgram.resolve(file)
        if let error = source.diagnostics.first(where: { $0.severity == .error }) {
            let at = file.location(of: error.range.start)
            throw RuntimeStartError(
                "the code in \(manifest.sourcePath) has errors (line \(at.line): \(error.message)); fix it and rebuild with infc build")
        }
        return try Deployment(directory: dir, manifest: manifest, source: source)
    }

    /// Builds a deployment from a resolved program and its manifest (used by `load` and by
    /// tests): finds the declaration of every handler the manifest names by its range in the
    /// code, refusing a range that is not a handler's declaration.
    public init(directory: String, manifest: Manifest, source: ResolvedProgram) throws(RuntimeStartError) {
        self.directory = directory
        self.manifest = manifest
        self.source = source
        self.interpreter = Interpreter(resolved: source)
        var byStart: [Int: Int] = [:]
        var fns: [String: Int] = [:]
        for (d, decl) in source.program.declarations.enumerated() {
            guard let h = decl.handler else { continue }
            byStart[decl.range.start] = d
            if let name = h.fnName { fns[name] = d }
        }
        self.fnDeclarations = fns

        var byKey: [String: Int] = [:]
        var byDecl: [Int: String] = [:]
        func require(_ handler: ManifestHandler, _ owner: String) throws(RuntimeStartError) -> Int {
            guard let d = byStart[handler.start], source.program.declarations[d].range.end == handler.end else {
                throw RuntimeStartError("manifest.json: \(owner) runs handler \"\(handler.key)\" at bytes \(handler.start)-\(handler.end), which is not a handler in the code; rebuild with infc build")
            }
            if let known = byKey[handler.key], known != d {
                throw RuntimeStartError("manifest.json: handler \"\(handler.key)\" names two declarations; rebuild with infc build")
            }
            byKey[handler.key] = d
            byDecl[d] = handler.key
            return d
        }
        var functionByDecl: [Int: FunctionID] = [:]
        for f in manifest.functions {
            for h in f.handlers { functionByDecl[try require(h, "function \(f.name)")] = f.name }
        }
        var workflowByDecl: [Int: WorkflowID] = [:]
        for w in manifest.workflows { workflowByDecl[try require(w.entry, "workflow \(w.name)")] = w.name }
        for r in manifest.routes { _ = try require(r.handler, "route \(r.method) \(r.path)") }
        for s in manifest.subscriptions { _ = try require(s.handler, "the subscription of \(s.target) to \(s.topic)") }
        for s in manifest.schedules { _ = try require(s.handler, "schedule \(s.name)") }
        self.declarationByKey = byKey
        self.keyByDeclaration = byDecl
        self.functionByDeclaration = functionByDecl
        self.workflowByDeclaration = workflowByDecl
        var queues: [String: ManifestQueue] = [:]
        for q in manifest.queues where q.sourceType == "async" { queues[q.sourceName] = q }
        self.queueByFn = queues
    }

    /// The declaration a handler names (checked at load).
    public func declaration(_ handler: ManifestHandler) -> Int { declarationByKey[handler.key] ?? -1 }

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
