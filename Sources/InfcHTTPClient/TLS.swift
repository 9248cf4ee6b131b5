// HTTP client: TLS through the system OpenSSL (module CTLS) — one client context that trusts a
// CA bundle found where Linux distributions keep it, and one session per connection that
// verifies the server's certificate chain and its name (or IP address).
import CTLS
import Glibc

/// Where the CA bundle is looked for, in order, after `SSL_CERT_FILE`.
public enum CABundle {
    public static let searchPaths = [
        "/etc/pki/tls/certs/ca-bundle.crt",                  // Amazon Linux, Fedora, RHEL
        "/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Alpine
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // newer RHEL
        "/etc/ssl/cert.pem",                                 // Alpine, macOS
        "/etc/ssl/ca-bundle.pem",                            // openSUSE
    ]

    /// The bundle to trust: `SSL_CERT_FILE` when set, else the first search path that exists.
    public static func locate(environment: [String: String], exists: (String) -> Bool) -> String? {
        if let file = environment["SSL_CERT_FILE"], !file.isEmpty { return file }
        return searchPaths.first(where: exists)
    }

    static func fileExists(_ path: String) -> Bool { access(path, R_OK) == 0 }
}

/// An OpenSSL client context: the trusted CAs and the protocol settings, shared by connections.
final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer

    init(caFile: String) throws(HTTPClientError) {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw .tls("cannot create a context: \(TLSContext.lastError())") }
        infc_tls_configure_client(ctx)
        guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else {
            let reason = TLSContext.lastError()
            SSL_CTX_free(ctx)
            throw .tls("cannot load CA certificates from \(caFile): \(reason)")
        }
        context = ctx
    }

    deinit { SSL_CTX_free(context) }

    /// The oldest queued OpenSSL error as text (and the queue cleared).
    static func lastError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        if code == 0 { return "unknown error" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// One TLS session over a connected socket.
final class TLSSession {
    private let ssl: OpaquePointer
    private let context: TLSContext   // kept alive as long as the session

    /// Handshakes over `fd` (blocking, with the socket's timeouts), verifying that the server's
    /// certificate chains to a trusted CA and names `host`.
    init(context: TLSContext, fd: Int32, host: String) throws(HTTPClientError) {
        guard let ssl = SSL_new(context.context) else { throw .tls("cannot create a session: \(TLSContext.lastError())") }
        self.ssl = ssl
        self.context = context
        SSL_set_fd(ssl, fd)
        let param = SSL_get0_param(ssl)
        if TLSSession.isIPAddress(host) {
            guard X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 else { throw .tls("cannot verify the address \(host)") }
        } else {
            guard SSL_set1_host(ssl, host) == 1, infc_tls_set_server_name(ssl, host) == 1 else {
                throw .tls("cannot verify the host name \(host)")
            }
        }
        ERR_clear_error()
        let result = SSL_connect(ssl)
        if result != 1 {
            let verify = SSL_get_verify_result(ssl)
            if verify != Int(X509_V_OK) {
                let reason = String(cString: X509_verify_cert_error_string(verify))
                throw .tls("the certificate of \(host) is not trusted: \(reason)")
            }
            throw TLSSession.error(ssl, result, during: "the handshake with \(host)")
        }
    }

    deinit { SSL_free(ssl) }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(HTTPClientError) {
        var offset = 0
        while offset < bytes.count {
            ERR_clear_error()
            let n = SSL_write(ssl, bytes.baseAddress! + offset, Int32(clamping: bytes.count - offset))
            if n <= 0 { throw TLSSession.error(ssl, n, during: "sending") }
            offset += Int(n)
        }
    }

    /// Reads up to `buffer.count` bytes; 0 at the end of the stream.
    func read(_ buffer: UnsafeMutableRawBufferPointer) throws(HTTPClientError) -> Int {
        ERR_clear_error()
        let n = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        if n > 0 { return Int(n) }
        if SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN { return 0 }
        throw TLSSession.error(ssl, n, during: "receiving")
    }

    /// Sends close_notify (without waiting for the peer's).
    func shutdown() { SSL_shutdown(ssl) }

    private static func error(_ ssl: OpaquePointer, _ result: Int32, during what: String) -> HTTPClientError {
        let code = SSL_get_error(ssl, result)
        let savedErrno = errno
        switch code {
        case SSL_ERROR_SYSCALL:
            if savedErrno == EAGAIN || savedErrno == EWOULDBLOCK { return .timedOut(what) }
            if savedErrno == 0 { return .closed }
            return .io("TLS \(what): \(String(cString: strerror(savedErrno)))")
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .timedOut(what)
        default:
            return .tls("\(what): \(TLSContext.lastError())")
        }
    }
}
