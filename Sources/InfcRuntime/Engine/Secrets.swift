// Runtime engine: secret values — from the environment (`INFC_SECRET_<NAME>`) or a `.env` file
// beside the app. Values live only in memory: never logged, never in errors, status or the
// database (the redactor hides them from every line the runtime writes).
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler

/// Where secret values come from. A missing secret is announced at start (a warning) and is an
/// error at its first use.
public final class SecretSource: Sendable {
    private let environment: [String: String]
    private let dotEnv: [String: String]
    /// The `.env` path, for messages.
    public let dotEnvPath: String
    private let redactor: Redactor

    /// Reads `<appDirectory>/.env` once; the environment wins over the file.
    public init(appDirectory: String, environment: [String: String], redactor: Redactor) {
        self.environment = environment
        self.dotEnvPath = appDirectory + "/.env"
        self.dotEnv = Self.parseDotEnv(atPath: dotEnvPath)
        self.redactor = redactor
        // Hide every value we could hand out, even before it is used.
        for (k, v) in environment where k.hasPrefix("INFC_SECRET_") { redactor.hide(v) }
        for v in dotEnv.values { redactor.hide(v) }
    }

    /// The value of the secret `name` (env name `env`), or a catchable "missing-secret" error.
    public func value(name: String, env: String) throws(RuntimeError) -> String {
        if let v = environment[env] ?? dotEnv[env] ?? dotEnv[name] {
            redactor.hide(v)
            return v
        }
        throw RuntimeError.runtime(
            "missing-secret",
            "secret `\(name)` has no value: set \(env) in the environment or add \(env)=… to \(dotEnvPath)")
    }

    /// Whether the secret `name` (env name `env`) has a value.
    public func isSet(name: String, env: String) -> Bool {
        environment[env] != nil || dotEnv[env] != nil || dotEnv[name] != nil
    }

    /// `KEY=VALUE` lines; `#` comments, blank lines and an optional `export ` are allowed, and a
    /// value may be wrapped in single or double quotes.
    public static func parseDotEnv(atPath path: String) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        var out: [String: String] = [:]
        for raw in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            var line = Self.trimmed(raw)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = Self.trimmed(line.dropFirst(7)) }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = Self.trimmed(line[..<eq])
            var value = Self.trimmed(line[line.index(after: eq)...])
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            if !key.isEmpty { out[key] = value }
        }
        return out
    }

    /// The text without the blanks (spaces, tabs: white space that is not a line break) around it.
    static func trimmed<S: StringProtocol>(_ text: S) -> String {
        let blank: (Character) -> Bool = { $0.isWhitespace && !$0.isNewline }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) }) else { return "" }
        return String(text[first...last])
    }
}
