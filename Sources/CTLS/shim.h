// The system OpenSSL (libssl-dev), exposed to Swift as the CTLS module, with the few calls that
// OpenSSL spells as macros (which Swift cannot import) wrapped as inline functions.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/// A client context's settings: TLS 1.2 at least, peers verified, reads retried across
/// renegotiation, and a peer that closes without close_notify read as the end of the stream.
static inline void infc_tls_configure_client(SSL_CTX *ctx) {
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
}

/// Server Name Indication: the host name the client asks for.
static inline int infc_tls_set_server_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}
