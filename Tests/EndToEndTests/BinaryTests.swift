// End-to-end tests: locate the built `infc` binary beside the test bundle.
import Foundation
import Testing

enum Binary {
    /// The `infc` executable SwiftPM built next to this test bundle.
    static var url: URL {
        var dir = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("infc")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("infc")
    }
}

@Test func binaryExists() {
    #expect(FileManager.default.isExecutableFile(atPath: Binary.url.path))
}
