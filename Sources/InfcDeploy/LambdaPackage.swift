// Deploy: the code package a stack's functions run — a deterministic zip of the Lambda `bootstrap`
// (mode 755), the manifest and the hashed code, exactly the build directory `infc run` reads.
import InfcCompiler

public enum LambdaPackage {
    /// The name Lambda's `provided.al2023` runtime starts.
    public static let bootstrapPath = "bootstrap"

    /// A built package: the zip, its SHA-256 (hex) and its file paths in archive order.
    public struct Built: Sendable {
        public var zip: [UInt8]
        public var sha256: String
        public var paths: [String]
    }

    /// The package of `c` around the bootstrap executable's bytes.
    public static func build(_ c: Compilation, bootstrap: [UInt8]) throws(ZipError) -> Built {
        var entries = [ZipEntry(path: bootstrapPath, bytes: bootstrap, mode: 0o755)]
        for (path, bytes) in ManifestEmitter.files(for: c) {
            entries.append(ZipEntry(path: path, bytes: bytes, mode: 0o644))
        }
        let zip = try ZipWriter.archive(entries)
        let paths = entries.map(\.path).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return Built(zip: zip, sha256: SHA256.hex(zip), paths: paths)
    }

    /// The artifact bucket's key of a package: the app, then the package's hash, so a key names
    /// exactly one content and an unchanged package is never uploaded twice.
    public static func key(app: String, sha256: String) -> String { "\(app)/\(sha256).zip" }
}
