// Language server: the compilation thread. One thread with a large stack (deeply nested input
// recurses deeply) runs queued requests first and debounced diagnostics when they fall due, and
// caches the latest compilation of each document.
import Foundation
import InfcCompiler

/// A serial worker on a dedicated thread. `enqueue` and `scheduleDiagnostics` may be called
/// from any thread; the jobs, `compilation(for:)` and `onDiagnosticsDue` run on the worker.
final class AnalysisWorker: @unchecked Sendable {
    static let stackSize = 64 << 20

    /// Called on the worker thread when a document's debounce delay has passed.
    var onDiagnosticsDue: @Sendable (String) -> Void = { _ in }

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var dueDiagnostics: [String: UInt64] = [:]
    private var stopped = false
    /// Set with `stopped` when the worker should first finish its queued jobs and the
    /// diagnostics already due.
    private var draining = false
    private let finished = DispatchSemaphore(value: 0)

    /// The latest finished compilation of each document, for requests answered off the worker
    /// when it is slow. Guarded by `lastLock` (taken last, held briefly).
    private let lastLock = Lock()
    private var last: [String: Compilation] = [:]

    // Worker thread only.
    private var cache: [String: (revision: Int, compilation: Compilation)] = [:]
    /// The latest diagnostics of each document, patched in place when an edit stays inside one
    /// handler's body (`IncrementalDiagnostics`); a full compilation resets them.
    private var patched: [String: (revision: Int, diagnostics: IncrementalDiagnostics)] = [:]
    /// Compilations replaced in the cache, freed by this thread once it has been idle for
    /// `idleBeforeFreeing` (freeing a syntax tree costs about a tenth of compiling it, and the
    /// next change should not wait for that), or at once when `maxRetired` have piled up in a
    /// burst of changes. Freed here rather than on another thread: the memory goes back to this
    /// thread's allocator caches, where the next compilation finds it.
    private var retired: [Compilation] = []
    static let idleBeforeFreeing = 0.03
    static let maxRetired = 4
    static let drainLimit = 10.0

    func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "infc-lsp-analysis"
        thread.stackSize = AnalysisWorker.stackSize
        thread.start()
    }

    /// Stops the worker: at once (after the job it is running, if any), or (`drain`) after the
    /// queued jobs and the diagnostics already due; waits for that up to `drainLimit` seconds.
    /// The worker frees its compilations before it says it has stopped, so nothing of them is
    /// still being freed once this returns (the language server fuzzer checks for leaks right
    /// after each session).
    func stop(drain: Bool = false) {
        condition.lock()
        stopped = true
        draining = drain
        condition.signal()
        condition.unlock()
        _ = finished.wait(timeout: .now() + AnalysisWorker.drainLimit)
    }

    func enqueue(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Publishes `uri`'s diagnostics after `delay` seconds, unless rescheduled before then: a
    /// burst of keystrokes compiles once.
    func scheduleDiagnostics(uri: String, delay: Double) {
        condition.lock()
        dueDiagnostics[uri] = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, delay) * 1e9)
        condition.signal()
        condition.unlock()
    }

    /// Drops a closed document's pending diagnostics and cached compilation.
    func forget(uri: String) {
        condition.lock()
        dueDiagnostics[uri] = nil
        jobs.append { [self] in
            cache[uri] = nil
            patched[uri] = nil
            lastLock.withLock { last[uri] = nil }
        }
        condition.signal()
        condition.unlock()
    }

    /// The compilation of a document snapshot, from the cache when its revision was compiled
    /// last. Worker thread only.
    func compilation(for document: Document) -> Compilation {
        if let cached = cache[document.uri], cached.revision == document.revision { return cached.compilation }
        let compilation = Compilation.compile(document.sourceFile)
        if (cache[document.uri]?.revision ?? -1) < document.revision {
            if let old = cache.updateValue((document.revision, compilation), forKey: document.uri) {
                retired.append(old.compilation)
            }
            lastLock.withLock { last[document.uri] = compilation }
        }
        if (patched[document.uri]?.revision ?? -1) < document.revision {
            patched[document.uri] = (document.revision, IncrementalDiagnostics(compilation))
        }
        return compilation
    }

    /// The diagnostics of a document snapshot: patched from the previous ones when the edits
    /// since stayed inside one handler's body and left its facts alone, else from a full
    /// compilation (which requests then reuse). Worker thread only.
    func diagnostics(for document: Document) -> (file: SourceFile, diagnostics: [Diagnostic]) {
        if let cached = cache[document.uri], cached.revision == document.revision {
            return (cached.compilation.file, cached.compilation.diagnostics)
        }
        if let previous = patched[document.uri], previous.revision < document.revision,
           let next = previous.diagnostics.updated(to: document.sourceFile) {
            patched[document.uri] = (document.revision, next)
            return (next.file, next.diagnostics)
        }
        let compilation = compilation(for: document)
        return (compilation.file, compilation.diagnostics)
    }

    /// The latest compilation of `uri` the worker finished, if any. Any thread.
    func lastCompilation(of uri: String) -> Compilation? {
        lastLock.withLock { last[uri] }
    }

    private func loop() {
        while true {
            condition.lock()
            var job: (@Sendable () -> Void)?
            var dueURI: String?
            while job == nil && dueURI == nil {
                let now = DispatchTime.now().uptimeNanoseconds
                if stopped && (!draining || jobs.isEmpty && !dueDiagnostics.values.contains { $0 <= now }) {
                    // Jobs left (a stop without draining) hold the server: dropped with the thread.
                    jobs.removeAll()
                    condition.unlock()
                    cache = [:]
                    patched = [:]
                    retired = []
                    lastLock.withLock { last = [:] }
                    finished.signal()
                    return
                }
                if !jobs.isEmpty {
                    job = jobs.removeFirst()
                    break
                }
                let due = dueDiagnostics.min(by: { $0.value < $1.value })
                if let (uri, deadline) = due, deadline <= now {
                    dueDiagnostics[uri] = nil
                    dueURI = uri
                    break
                }
                // Sleep until diagnostics fall due, or, with replaced compilations to free, until
                // the thread has been idle long enough to free them.
                let freeAt = retired.isEmpty ? nil : now + UInt64(AnalysisWorker.idleBeforeFreeing * 1e9)
                guard let wakeAt = [due?.value, freeAt].compactMap({ $0 }).min() else {
                    condition.wait()
                    continue
                }
                let signalled = condition.wait(until: Date(timeIntervalSinceNow: Double(wakeAt - now) / 1e9))
                if !signalled, wakeAt == freeAt, jobs.isEmpty, !stopped {
                    condition.unlock()
                    retired = []
                    condition.lock()
                }
            }
            condition.unlock()
            if let job { job() }
            if let dueURI { onDiagnosticsDue(dueURI) }
            if retired.count >= AnalysisWorker.maxRetired { retired = [] }
        }
    }
}
