/* ctls.c: the client's OpenSSL context and the wording of TLS failures. */
#include "ctls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

void ctls_error_string(unsigned long e, char *buf, size_t len)
{
	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	if (reason)
		snprintf(buf, len, "%s", reason);
	else if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "unknown error");
}

/* Fills errmsg with "what path: cause" from the OpenSSL error queue, which it empties. */
static void load_error(const char *what, const char *path, char *errmsg, size_t errlen)
{
	char cause[160];

	ctls_error_string(ERR_peek_last_error(), cause, sizeof(cause));
	ERR_clear_error();
	snprintf(errmsg, errlen, "tls: %s %s: %s", what, path, cause);
}

/* A readable-file check first, so that a missing file says so in plain words. */
static int check_readable(const char *what, const char *path, char *errmsg, size_t errlen)
{
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(errmsg, errlen, "tls: %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

SSL_CTX *ctls_ctx_new(const char *ca_file, const char *cert_file, const char *key_file,
		     char *errmsg, size_t errlen)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	if (check_readable("ca_file", ca_file, errmsg, errlen) ||
	    check_readable("cert_file", cert_file, errmsg, errlen) ||
	    check_readable("key_file", key_file, errmsg, errlen))
		return NULL;
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		load_error("context", "(new)", errmsg, errlen);
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		load_error("context", "(TLS 1.2 minimum)", errmsg, errlen);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		load_error("ca_file", ca_file, errmsg, errlen);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		load_error("cert_file", cert_file, errmsg, errlen);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		load_error("key_file", key_file, errmsg, errlen);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		load_error("key_file", key_file, errmsg, errlen);
		goto fail;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static bool is_ip_address(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

SSL *ctls_new(SSL_CTX *ctx, const char *verify_name)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl)
		return NULL;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (is_ip_address(verify_name)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), verify_name) != 1)
			goto fail;
	} else {
		if (SSL_set1_host(ssl, verify_name) != 1 ||
		    SSL_set_tlsext_host_name(ssl, verify_name) != 1)
			goto fail;
	}
	return ssl;
fail:
	SSL_free(ssl);
	ERR_clear_error();
	return NULL;
}

/* OpenSSL's socket BIO write, with MSG_NOSIGNAL. */
static int ctls_sock_write(BIO *b, const char *in, int len)
{
	ssize_t n;

	errno = 0;
	n = send((int)BIO_get_fd(b, NULL), in, (size_t)len, MSG_NOSIGNAL);
	BIO_clear_retry_flags(b);
	if (n <= 0 && BIO_sock_should_retry((int)n))
		BIO_set_retry_write(b);
	return (int)n;
}

static BIO_METHOD *ctls_sock_method;

static void ctls_sock_method_init(void)
{
	const BIO_METHOD *s = BIO_s_socket();
	BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOCKET, "dmlog socket");

	if (!m)
		return;
	if (!BIO_meth_set_write(m, ctls_sock_write) ||
	    !BIO_meth_set_read(m, BIO_meth_get_read(s)) ||
	    !BIO_meth_set_puts(m, BIO_meth_get_puts(s)) ||
	    !BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(s)) ||
	    !BIO_meth_set_create(m, BIO_meth_get_create(s)) ||
	    !BIO_meth_set_destroy(m, BIO_meth_get_destroy(s))) {
		BIO_meth_free(m);
		return;
	}
	ctls_sock_method = m; /* lives as long as the process */
}

BIO *ctls_socket_bio(int fd)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	BIO *b;

	pthread_once(&once, ctls_sock_method_init);
	if (!ctls_sock_method)
		return NULL;
	b = BIO_new(ctls_sock_method);
	if (b)
		BIO_set_fd(b, fd, BIO_NOCLOSE);
	return b;
}

/* TLS alerts about certificates: the server refused ours. */
static bool is_certificate_alert(int reason)
{
	switch (reason - SSL_AD_REASON_OFFSET) {
	case SSL_AD_BAD_CERTIFICATE:
	case SSL_AD_UNSUPPORTED_CERTIFICATE:
	case SSL_AD_CERTIFICATE_REVOKED:
	case SSL_AD_CERTIFICATE_EXPIRED:
	case SSL_AD_CERTIFICATE_UNKNOWN:
	case SSL_AD_UNKNOWN_CA:
	case SSL_AD_ACCESS_DENIED:
	case SSL_AD_CERTIFICATE_REQUIRED:
		return true;
	default:
		return false;
	}
}

int ctls_describe(SSL *ssl, unsigned long ssl_err, int sock_err, char *buf, size_t len)
{
	char reason[160];

	if (ssl_err) {
		int r = ERR_GET_REASON(ssl_err);

		ctls_error_string(ssl_err, reason, sizeof(reason));
		if (ERR_GET_LIB(ssl_err) == ERR_LIB_SSL && r == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			/* The server closed the socket mid-handshake: worth another try. */
			snprintf(buf, len, "connection closed by the server");
			return -ECONNRESET;
		}
		if (ERR_GET_LIB(ssl_err) == ERR_LIB_SSL && r == SSL_R_CERTIFICATE_VERIFY_FAILED) {
			long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

			snprintf(buf, len, "%s: %s", reason,
				 v != X509_V_OK ? X509_verify_cert_error_string(v) : "(no detail)");
			return -EACCES;
		}
		if (ERR_GET_LIB(ssl_err) == ERR_LIB_SSL && is_certificate_alert(r)) {
			snprintf(buf, len, "certificate refused by the server: %s", reason);
			return -EACCES;
		}
		snprintf(buf, len, "%s", reason);
		return -EPROTO;
	}
	if (sock_err) {
		snprintf(buf, len, "%s", strerror(sock_err));
		return -sock_err;
	}
	snprintf(buf, len, "connection closed by the server");
	return -ECONNRESET;
}
