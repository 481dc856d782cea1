/* tls.h: dmlogd's TLS contexts, certificate roles and certificate reload.
 *
 * Mutual TLS everywhere: dmlogd verifies every client against the dmlog CA only (never the
 * system store) and tells roles apart by the verified certificate's subject: OU=dmlog-node,
 * dmlog-peer or dmlog-admin, with the identity in the CN (see deploy/dmlog-certs.sh). Client
 * contexts (a peer connecting to another peer) verify the server's certificate against the same
 * CA and its name (DNS) or address (IP) from subjectAltName.
 *
 * Protocol: TLS 1.2 at least; TLS 1.3 is negotiated whenever both ends have it. TLS 1.2 is
 * limited to ECDHE with AES-GCM or ChaCha20-Poly1305. Session resumption is off, so every
 * connection is verified against the CA that is loaded when it connects (a reload with a new CA
 * takes effect for every new connection).
 *
 * Errors: OpenSSL's thread-local error queue is drained into the message ("load cert PATH: No
 * such file or directory") and left empty, so a later failure never reports a stale cause.
 * Never prints key material.
 *
 * Reload: a tls_holder keeps the current server and client SSL_CTX. tls_holder_reload() builds
 * new ones from the files and swaps them in only if both load; SSL objects made before keep
 * their own reference to the old context (SSL_new() takes one), so existing connections run on
 * unchanged. A holder belongs to one thread (dmlogd's libevent thread).
 */
#ifndef DMLOG_SERVER_TLS_H
#define DMLOG_SERVER_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

/* Longest identity (CN) plus the NUL. */
#define TLS_IDENTITY_MAX 64

enum tls_role {
	TLS_ROLE_UNKNOWN = 0,
	TLS_ROLE_NODE,  /* OU=dmlog-node: a cluster node running dmlog-bridge */
	TLS_ROLE_PEER,  /* OU=dmlog-peer: a dmlogd */
	TLS_ROLE_ADMIN, /* OU=dmlog-admin: dmlogctl */
};

/* Who is at the other end, from a verified certificate. */
struct tls_identity {
	enum tls_role role;
	char name[TLS_IDENTITY_MAX]; /* the CN; empty unless valid */
};

/* The three files of one TLS setup. */
struct tls_files {
	const char *ca_file;   /* the dmlog CA (PEM); the only trust anchor */
	const char *cert_file; /* own certificate (PEM; intermediates may follow it) */
	const char *key_file;  /* its private key (PEM, unencrypted) */
};

/* "node", "peer", "admin" or "unknown". */
const char *tls_role_name(enum tls_role role);

/* True for a valid identity: 1-63 of [A-Za-z0-9._-], starting with a letter or a digit (the
 * rule deploy/dmlog-certs.sh applies). */
bool tls_identity_valid(const char *name);

/* Empties the calling thread's OpenSSL error queue into buf as "cause: cause" (most specific
 * first, repeats and generic wrappers left out), or "unknown TLS error" when it was empty.
 * Returns the negative errno that fits best: the errno of a system call OpenSSL reported
 * (-ENOENT for a missing file), else -EPROTO. */
int tls_drain_errors(char *buf, size_t len);

/* Describes one error code (as libevent's bufferevent_get_openssl_error() hands them out). */
void tls_error_string(unsigned long code, char *buf, size_t len);

/* Makes a server context: requires and verifies a client certificate from the CA, checks that
 * the key matches the certificate. Returns an owned context, or NULL with err ("load cert PATH:
 * cause", "load key PATH: cause", "key PATH does not match cert PATH", "load CA PATH: cause"). */
SSL_CTX *tls_server_ctx_new(const struct tls_files *files, char *err, size_t errlen);

/* Makes a client context with the same files: presents the certificate and verifies the server
 * against the CA. The server's name is checked per connection: see tls_client_set_host(). NULL
 * with err on failure. */
SSL_CTX *tls_client_ctx_new(const struct tls_files *files, char *err, size_t errlen);

/* Makes a client connection verify that the server's certificate names host: an IP literal
 * (IPv4 or IPv6, without brackets) must be in its IP subjectAltNames, anything else is a DNS
 * name (also sent as SNI). 0 or -EINVAL/-ENOMEM with err. */
int tls_client_set_host(SSL *ssl, const char *host, char *err, size_t errlen);

/* Checks that the context's own certificate has role want (dmlogd runs with a dmlog-peer
 * certificate). 0, or -EINVAL with err ("cert has OU dmlog-node, dmlogd needs dmlog-peer"). */
int tls_ctx_check_role(SSL_CTX *ctx, enum tls_role want, char *err, size_t errlen);

/* Reads role and identity from a certificate's subject: exactly one OU, which must be one of the
 * three role names, and exactly one valid CN. Fills *id as far as it got: role stays
 * TLS_ROLE_UNKNOWN for a missing or foreign OU, name stays empty for a bad CN. 0 when both are
 * good, -EACCES otherwise with err ("certificate has no OU (want dmlog-node, dmlog-peer or
 * dmlog-admin)", "certificate OU 'ops' is not a dmlog role", "certificate CN 'a b' is not a
 * valid identity"). The certificate is borrowed. */
int tls_identity_from_cert(X509 *cert, struct tls_identity *id, char *err, size_t errlen);

/* The identity of a connection's peer after a completed handshake: requires a certificate that
 * verified (X509_V_OK), then tls_identity_from_cert(). 0 or -EACCES with err. */
int tls_peer_identity(SSL *ssl, struct tls_identity *id, char *err, size_t errlen);

struct tls_holder;

/* Loads the server and the client context from files (copied) and checks that the certificate
 * is a dmlog-peer one and, with id non-NULL, that its CN is id. Owned; NULL with err. */
struct tls_holder *tls_holder_new(const struct tls_files *files, const char *id, char *err,
				  size_t errlen);

/* Frees the holder and drops its references to the contexts (connections keep theirs).
 * NULL is a no-op. */
void tls_holder_free(struct tls_holder *h);

/* Builds both contexts anew from files (NULL: the files of the last successful load) and swaps
 * them in only if both pass what tls_holder_new() checks (id: NULL or the CN required);
 * otherwise the current ones stay and err says why. 0 or a negative errno. */
int tls_holder_reload(struct tls_holder *h, const struct tls_files *files, const char *id,
		      char *err, size_t errlen);

/* The current contexts, borrowed: valid until the next reload or free. Use SSL_new() right
 * away (the SSL then keeps the context alive) or SSL_CTX_up_ref() to keep one. */
SSL_CTX *tls_holder_server(const struct tls_holder *h);
SSL_CTX *tls_holder_client(const struct tls_holder *h);

/* How many reloads have swapped contexts in (0 after tls_holder_new). */
unsigned tls_holder_generation(const struct tls_holder *h);

#endif
