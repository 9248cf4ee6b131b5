// Runtime state tests: temporary state files, removed when the test ends.
import Foundation
@testable import InfcRuntime

/// A fresh directory for one test's state file; `path` is the database inside a subdirectory
/// that does not exist yet, so opening it also exercises directory creation.
final class TemporaryState {
    let directory: URL
    var path: String { directory.appendingPathComponent("nested/.infc/state.sqlite").path }

    init() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("infc-store-\(UUID().uuidString)")
    }

    func open() throws -> StateStore { try StateStore(path: path) }

    deinit { try? FileManager.default.removeItem(at: directory) }
}
