// Runtime state: whole-buffer writes on plain blocking descriptors, retrying interrupted calls —
// for the trace log's segments and the runtime's standard output; and a file error in words.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

enum FileIO {
    /// Writes every byte to a blocking descriptor. Returns nil, or the errno of the write that
    /// failed (a write of 0 bytes counts as EIO: the descriptor takes no more).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return nil }
            var at = 0
            while at < buffer.count {
                let n = write(fd, base + at, buffer.count - at)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { return errno }
                if n == 0 { return EIO }
                at += n
            }
            return nil
        }
    }

    /// What a file operation's error says, in the system's words ("Not a directory") when it
    /// carries an errno, else its description.
    static func message(_ error: any Error) -> String {
        if let e = error as? CocoaError, let posix = e.underlying as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        return "\(error)"
    }
}
