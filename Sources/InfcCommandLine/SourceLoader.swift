// infc driver: reading `.inf` files — missing, unreadable, directory or non-UTF-8 input is a
// one-line error (exit 2), never a crash.
import Foundation
import InfcCompiler

enum SourceLoader {
    static let maxBytes = 64 << 20

    static func load(_ path: String) throws -> SourceFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CLIError("no such file '\(path)'; check the path, or create an app with 'infc new NAME'")
        }
        if isDirectory.boolValue {
            throw CLIError("'\(path)' is a directory; pass a .inf file such as '\(path)/app.inf'")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read '\(path)'; check its permissions")
        }
        guard data.count <= maxBytes else {
            throw CLIError("'\(path)' is \(data.count >> 20) MiB; infc reads source files up to \(maxBytes >> 20) MiB")
        }
        let bytes = [UInt8](data)
        if String(validating: bytes, as: UTF8.self) == nil {
            let file = SourceFile(path: path, bytes: bytes)
            let offset = firstInvalidUTF8(bytes)
            let loc = file.location(of: offset)
            throw CLIError("'\(path)' is not UTF-8 text (invalid byte at line \(loc.line), column \(loc.column)); save it as UTF-8")
        }
        return SourceFile(path: path, bytes: bytes)
    }

    /// The offset of the first byte that does not start a valid UTF-8 sequence.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int {
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let n = b < 0x80 ? 1 : b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0
            if n == 0 || i + n > bytes.count { return i }
            if String(validating: bytes[i..<i + n], as: UTF8.self) == nil { return i }
            i += n
        }
        return bytes.count
    }
}
