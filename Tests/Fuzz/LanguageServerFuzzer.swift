// Fuzzing: the language server — framing, JSON-RPC dispatch, document synchronisation and every
// request — on an arbitrary byte stream as stdin. A libFuzzer target (scripts/fuzz.sh): a crash,
// an assertion or a run over the time limit (a hang, a request never answered at the end of
// input) is a finding. The seeds (Tests/Fuzz/seeds/lsp) are whole editing sessions.
import Glibc
import InfcLanguageServer

/// The input goes through a file (a pipe would block past its buffer); the output is discarded.
private let inputPath = "/tmp/infc-lsp-fuzz-\(getpid()).in"
private let devNull = open("/dev/null", O_WRONLY)

@_cdecl("LLVMFuzzerTestOneInput")
public func languageServerFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let fd = open(inputPath, O_RDWR | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var written = 0
    while written < size {
        let n = write(fd, data + written, size - written)
        if n <= 0 { return 0 }
        written += n
    }
    lseek(fd, 0, SEEK_SET)
    // No debounce: diagnostics are due at once, so the end of input publishes them too.
    _ = LanguageServer(serverVersion: "fuzz", diagnosticsDelay: 0).run(input: fd, output: devNull)
    return 0
}
