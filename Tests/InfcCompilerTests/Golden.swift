// Golden-file support: compare output with a checked-in expected file. A missing expected file
// is written and the test fails; INFC_UPDATE_GOLDEN=1 rewrites every expected file.
import Foundation
import Testing
@testable import InfcCompiler

enum Golden {
    /// The package root, found from this file's path.
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var updating: Bool { ProcessInfo.processInfo.environment["INFC_UPDATE_GOLDEN"] == "1" }

    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// `.inf` files in a directory under the root, sorted.
    static func sources(in directory: String) -> [String] {
        let dir = url(directory)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".inf") }.sorted().map { "\(directory)/\($0)" }
    }

    /// Loads a source file with a path relative to the root, so rendered paths are stable.
    static func source(_ relative: String) throws -> SourceFile {
        let data = try Data(contentsOf: url(relative))
        return SourceFile(path: relative, bytes: [UInt8](data))
    }

    /// Compares `actual` with the file at `relative`, writing it when missing or updating.
    static func check(_ actual: String, against relative: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let expectedURL = url(relative)
        let existing = try? String(contentsOf: expectedURL, encoding: .utf8)
        if updating || existing == nil {
            try? FileManager.default.createDirectory(at: expectedURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? actual.write(to: expectedURL, atomically: true, encoding: .utf8)
            if existing == nil && !updating {
                Issue.record("wrote missing golden file \(relative); review it and run again", sourceLocation: sourceLocation)
            }
            return
        }
        if existing != actual {
            let diff = firstDifference(existing ?? "", actual)
            Issue.record("\(relative) differs from the output (INFC_UPDATE_GOLDEN=1 rewrites it):\n\(diff)", sourceLocation: sourceLocation)
        }
    }

    static func firstDifference(_ a: String, _ b: String) -> String {
        let la = a.split(separator: "\n", omittingEmptySubsequences: false)
        let lb = b.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(la.count, lb.count) {
            let x = i < la.count ? String(la[i]) : "<end>"
            let y = i < lb.count ? String(lb[i]) : "<end>"
            if x != y { return "line \(i + 1):\n  expected: \(x)\n  actual:   \(y)" }
        }
        return "(same lines, different line endings)"
    }
}

/// Runs `body` on a thread with a 64 MiB stack, as the CLI's main thread and the language
/// server's worker have. Test tasks run on pool threads with small stacks, where a debug build
/// compiling deeply nested input could overrun the guard page.
func onBigStack<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
    let box = BigStackBox<T>()
    let thread = Thread {
        box.value = body()
        box.done.signal()
    }
    thread.stackSize = 64 << 20
    thread.start()
    box.done.wait()
    return box.value!
}

/// `Compilation.compile` on a big stack.
func compile(_ file: SourceFile, options: CompileOptions = CompileOptions()) -> Compilation {
    onBigStack { Compilation.compile(file, options: options) }
}

private final class BigStackBox<T>: @unchecked Sendable {
    var value: T?
    let done = DispatchSemaphore(value: 0)
}
