// infc driver: a small argument parser for `COMMAND [flags] [positionals]`.
import InfcCompiler

/// Parsed flags and positionals; unknown flags are errors that name the command's help.
package struct Arguments {
    package var positionals: [String] = []
    package var values: [String: String] = [:]
    package var flags: Set<String> = []

    /// `valueFlags` take a value (`--format json` or `--format=json`); `boolFlags` do not.
    package init(_ args: [String], command: String, valueFlags: [String: [String]] = [:], boolFlags: [String] = []) throws {
        var aliases: [String: String] = [:]
        for (name, alts) in valueFlags { for a in alts { aliases[a] = name } }
        var i = 0
        var onlyPositionals = false
        while i < args.count {
            let a = args[i]
            i += 1
            if onlyPositionals || !a.hasPrefix("-") || a == "-" {
                positionals.append(a)
                continue
            }
            if a == "--" { onlyPositionals = true; continue }
            var name = a
            var inline: String?
            if let eq = a.firstIndex(of: "=") {
                name = String(a[..<eq])
                inline = String(a[a.index(after: eq)...])
            }
            if let canonical = aliases[name] ?? (valueFlags[name] != nil ? name : nil) {
                if let inline {
                    values[canonical] = inline
                } else {
                    guard i < args.count else { throw CLIError("\(name) needs a value; see 'infc help \(command)'") }
                    values[canonical] = args[i]
                    i += 1
                }
            } else if boolFlags.contains(name), inline == nil {
                flags.insert(name)
            } else {
                let known = Array(valueFlags.keys) + boolFlags
                let hint = Spelling.closest(to: name, in: known).map { "did you mean \($0)? " } ?? ""
                throw CLIError("unknown option '\(name)' for 'infc \(command)'; \(hint)see 'infc help \(command)'")
            }
        }
    }

    /// A value that must be one of `choices`.
    package func choice(_ name: String, _ choices: [String], default d: String) throws -> String {
        guard let v = values[name] else { return d }
        guard choices.contains(v) else {
            throw CLIError("\(name) must be one of \(choices.joined(separator: ", ")), not '\(v)'")
        }
        return v
    }

    package func positiveInt(_ name: String) throws -> Int? {
        guard let v = values[name] else { return nil }
        guard let n = Int(v), n >= 1 else { throw CLIError("\(name) takes a whole number of at least 1, not '\(v)'") }
        return n
    }
}
