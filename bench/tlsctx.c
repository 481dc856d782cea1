/* tlsctx.c: TLS contexts of the bare echo (see tlsctx.h). */
#include "tlsctx.h"

#include <stdio.h>

#include <openssl/err.h>

#define TLSCTX_SUITES_13 "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
#define TLSCTX_CIPHERS_12 "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:" \
			  "ECDHE-ECDSA-AES128-GCM-SHA256"
#define TLSCTX_GROUPS "X25519:P-256:P-384"

static SSL_CTX *tlsctx_fail(SSL_CTX *ctx, const char *what)
{
	char buf[256];

	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	fprintf(stderr, "tlsctx: %s: %s\n", what, buf);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

static SSL_CTX *tlsctx_load(SSL_CTX *ctx, const char *certs, const char *role, const char *name)
{
	char ca[4096], cert[4096], key[4096];

	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	snprintf(cert, sizeof(cert), "%s/%s-%s.crt", certs, role, name);
	snprintf(key, sizeof(key), "%s/%s-%s.key", certs, role, name);
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		return tlsctx_fail(ctx, "minimum version");
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		return tlsctx_fail(ctx, ca);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return tlsctx_fail(ctx, cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		return tlsctx_fail(ctx, key);
	return ctx;
}

SSL_CTX *tlsctx_server(const char *certs)
{
	static const unsigned char sid[] = "bench";
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char ca[4096];

	if (!ctx)
		return tlsctx_fail(NULL, "server context");
	if (SSL_CTX_set_cipher_list(ctx, TLSCTX_CIPHERS_12) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLSCTX_SUITES_13) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLSCTX_GROUPS) != 1)
		return tlsctx_fail(ctx, "suites");
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET |
					 SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_verify_depth(ctx, 4);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	if (SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1) != 1)
		return tlsctx_fail(ctx, "session id context");
	if (!tlsctx_load(ctx, certs, "peer", "dmlogd1"))
		return NULL;
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(ca));
	return ctx;
}

SSL_CTX *tlsctx_client(const char *certs, const char *node)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return tlsctx_fail(NULL, "client context");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return tlsctx_load(ctx, certs, "node", node);
}
