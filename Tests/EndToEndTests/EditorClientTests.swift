// End-to-end tests with real editors as the language server's client: Neovim (headless) with
// the setup docs/editors.md gives (editors/neovim/infc.lua) opens Editors/cafe.inf, and
// Editors/neovim-session.lua checks diagnostics after non-ASCII text, hover, definition,
// completion after `orders.`, a quick fix applied, and the server's clean exit; Emacs (batch)
// with eglot and editors/emacs/infc.el does the same through Editors/emacs-session.el, where
// hover is plain text (eglot without markdown-mode asks for it) and shutdown and exit carry
// `"params": null`.
import Foundation
import InfcTestSupport
import Testing

@Suite struct EditorClientTests {
    static let editors = CLI.root.appendingPathComponent("Tests/EndToEndTests/Editors")

    static func executable(_ name: String) -> URL? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// Runs `executable` in a copy of the test file's directory with `infc` first on PATH; the
    /// session script writes "ok" or its failures to `result`.
    static func session(_ executable: URL, _ arguments: (URL, URL) -> [String]) throws -> String {
        let dir = try CLI.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("cafe.inf"), result = dir.appendingPathComponent("result")
        try FileManager.default.copyItem(at: editors.appendingPathComponent("cafe.inf"), to: file)
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments(file, result)
        p.currentDirectoryURL = dir
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = Binary.url.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin")
        environment["INFC_RESULT"] = result.path
        environment["HOME"] = dir.path   // no user configuration
        p.environment = environment
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        _ = eventually(timeout: 120) { !p.isRunning }
        if p.isRunning { p.terminate(); return "the editor did not finish within 120 s" }
        return (try? String(contentsOf: result, encoding: .utf8)) ?? "no result (editor exit status \(p.terminationStatus))"
    }

    @Test(.enabled(if: executable("nvim") != nil, "nvim is not installed (scripts/install-test-deps.sh installs it)"))
    func neovim() throws {
        let nvim = try #require(Self.executable("nvim"))
        let out = try Self.session(nvim) { file, _ in
            ["--headless", "--clean", "-u", CLI.root.appendingPathComponent("editors/neovim/infc.lua").path,
             "-c", "luafile " + Self.editors.appendingPathComponent("neovim-session.lua").path, file.path]
        }
        #expect(out == "ok\n", "Neovim session: \(out)")
    }

    @Test(.enabled(if: executable("emacs") != nil, "emacs is not installed (scripts/install-test-deps.sh installs it)"))
    func emacsWithEglot() throws {
        let emacs = try #require(Self.executable("emacs"))
        // `-q`, not `-Q`: no init file, but the site start-up that puts Debian's elpa-eglot on
        // the load path (HOME is a fresh directory, so no user packages either).
        let out = try Self.session(emacs) { _, _ in
            ["--batch", "-q", "-l", CLI.root.appendingPathComponent("editors/emacs/infc.el").path,
             "-l", Self.editors.appendingPathComponent("emacs-session.el").path]
        }
        #expect(out == "ok\n", "Emacs session: \(out)")
    }
}
