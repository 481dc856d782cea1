/* tls.c: server and client SSL_CTX construction, certificate roles, and the reload holder.
 *
 * Everything that can fail drains OpenSSL's error queue into the caller's err buffer before
 * returning, so nothing stale is left for the next caller on this thread. The contexts are
 * built from exactly three files and trust nothing but the given CA. See tls.h for the policy.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* For TLS 1.2: forward secrecy and AEAD only. For TLS 1.3: the three suites OpenSSL offers by
 * default, named so that a different build default cannot widen them. */
#define TLS_CIPHERS_12                                                                          \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                            \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                            \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
#define TLS_CIPHERS_13 "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
#define TLS_GROUPS "X25519:P-256:P-384"
/* Leaf, at most a few intermediates, the CA. */
#define TLS_VERIFY_DEPTH 4

static const char *const tls_role_ous[] = {
	[TLS_ROLE_NODE] = "dmlog-node",
	[TLS_ROLE_PEER] = "dmlog-peer",
	[TLS_ROLE_ADMIN] = "dmlog-admin",
};

const char *tls_role_name(enum tls_role role)
{
	switch (role) {
	case TLS_ROLE_NODE:
		return "node";
	case TLS_ROLE_PEER:
		return "peer";
	case TLS_ROLE_ADMIN:
		return "admin";
	case TLS_ROLE_UNKNOWN:
		break;
	}
	return "unknown";
}

static bool tls_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool tls_identity_valid(const char *name)
{
	size_t n = 0;

	if (name == NULL || !tls_alnum(name[0]))
		return false;
	for (; name[n] != '\0'; n++) {
		if (!tls_alnum(name[n]) && name[n] != '.' && name[n] != '_' && name[n] != '-')
			return false;
	}
	return n < TLS_IDENTITY_MAX;
}

/* Appends text to buf (length *used) as a new ": "-separated part unless already present. */
static void tls_append_part(char *buf, size_t len, size_t *used, const char *text)
{
	int n;

	if (text == NULL || text[0] == '\0' || strcasestr(buf, text) != NULL || *used + 1 >= len)
		return;
	n = snprintf(buf + *used, len - *used, "%s%s", *used > 0 ? ": " : "", text);
	if (n > 0)
		*used = *used + (size_t)n < len ? *used + (size_t)n : len - 1;
}

/* Reason text for one error code: strerror() for system errors, OpenSSL's reason otherwise. */
static const char *tls_reason(unsigned long e, char *tmp, size_t len)
{
	const char *r;

	/* Reason strings are loaded by the first SSL_CTX_new(); make sure they are here anyway. */
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
	if (ERR_SYSTEM_ERROR(e))
		return strerror(ERR_GET_REASON(e));
	r = ERR_reason_error_string(e);
	if (r != NULL)
		return r;
	snprintf(tmp, len, "error 0x%lx", e);
	return tmp;
}

/* Wrappers that only say "the layer below failed". */
static bool tls_generic_reason(unsigned long e)
{
	int r = ERR_GET_REASON(e);
	return !ERR_SYSTEM_ERROR(e) && (r == ERR_R_SYS_LIB || r == ERR_R_PEM_LIB ||
					r == ERR_R_X509_LIB || r == ERR_R_EVP_LIB);
}

int tls_drain_errors(char *buf, size_t len)
{
	unsigned long e;
	const char *data;
	int flags, rc = -EPROTO;
	size_t used = 0;
	char generic[128] = "";

	if (len > 0)
		buf[0] = '\0';
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		char tmp[32], part[320];
		const char *reason = tls_reason(e, tmp, sizeof(tmp));

		if (ERR_SYSTEM_ERROR(e)) {
			if (rc == -EPROTO && ERR_GET_REASON(e) > 0)
				rc = -ERR_GET_REASON(e);
			/* data is "calling fopen(PATH, r)": the caller names the path already. */
			tls_append_part(buf, len, &used, reason);
			continue;
		}
		if (tls_generic_reason(e)) {
			if (generic[0] == '\0')
				snprintf(generic, sizeof(generic), "%s", reason);
			continue;
		}
		if ((flags & ERR_TXT_STRING) && data != NULL && data[0] != '\0')
			snprintf(part, sizeof(part), "%s (%s)", reason, data);
		else
			snprintf(part, sizeof(part), "%s", reason);
		tls_append_part(buf, len, &used, part);
	}
	if (used == 0 && len > 0)
		snprintf(buf, len, "%s", generic[0] != '\0' ? generic : "unknown TLS error");
	return rc;
}

void tls_error_string(unsigned long code, char *buf, size_t len)
{
	char tmp[32];

	snprintf(buf, len, "%s", tls_reason(code, tmp, sizeof(tmp)));
}

/* Formats "CONTEXT: CAUSE" into err with CAUSE drained from the error queue; returns its errno. */
__attribute__((format(printf, 3, 4))) static int tls_fail(char *err, size_t errlen,
							   const char *fmt, ...)
{
	char what[512], cause[256];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	rc = tls_drain_errors(cause, sizeof(cause));
	snprintf(err, errlen, "%s: %s", what, cause);
	return rc;
}

/* Never prompt for a passphrase on a terminal: an encrypted key is refused. */
static int tls_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* Loads the private key and checks it against the certificate already in ctx. */
static int tls_load_key(SSL_CTX *ctx, const struct tls_files *f, char *err, size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio;
	int rc = 0;

	bio = BIO_new_file(f->key_file, "r");
	if (bio == NULL)
		return tls_fail(err, errlen, "load key %s", f->key_file);
	pkey = PEM_read_bio_PrivateKey(bio, NULL, tls_no_passphrase, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		rc = tls_fail(err, errlen, "load key %s", f->key_file);
		return rc == -EPROTO ? -EINVAL : rc;
	}
	if (X509_check_private_key(SSL_CTX_get0_certificate(ctx), pkey) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "key %s does not match cert %s", f->key_file, f->cert_file);
		rc = -EINVAL;
	} else if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		rc = tls_fail(err, errlen, "load key %s", f->key_file);
		rc = rc == -EPROTO ? -EINVAL : rc;
	}
	EVP_PKEY_free(pkey);
	return rc;
}

/* Checks that our own certificate verifies against the CA now (catches a certificate from
 * another CA or an expired one at load time rather than at every peer's handshake). */
static int tls_verify_own(SSL_CTX *ctx, const struct tls_files *f, char *err, size_t errlen)
{
	STACK_OF(X509) *chain = NULL;
	X509_STORE_CTX *st;
	int rc = 0;

	st = X509_STORE_CTX_new();
	if (st == NULL)
		return tls_fail(err, errlen, "verify cert %s", f->cert_file);
	SSL_CTX_get0_chain_certs(ctx, &chain);
	if (X509_STORE_CTX_init(st, SSL_CTX_get_cert_store(ctx), SSL_CTX_get0_certificate(ctx),
				chain) != 1) {
		rc = tls_fail(err, errlen, "verify cert %s", f->cert_file);
	} else if (X509_verify_cert(st) != 1) {
		snprintf(err, errlen, "cert %s does not verify against CA %s: %s", f->cert_file,
			 f->ca_file, X509_verify_cert_error_string(X509_STORE_CTX_get_error(st)));
		ERR_clear_error();
		rc = -EINVAL;
	}
	X509_STORE_CTX_free(st);
	return rc;
}

/* What both kinds of context share: protocol floor, suites, the CA as the only trust anchor,
 * own certificate and key. 0 with *out owned, or a negative errno with err. */
static int tls_ctx_build(const SSL_METHOD *method, const struct tls_files *f, SSL_CTX **out,
			 char *err, size_t errlen)
{
	SSL_CTX *ctx;
	int rc;

	*out = NULL;
	ERR_clear_error();
	if (f == NULL || f->ca_file == NULL || f->cert_file == NULL || f->key_file == NULL) {
		snprintf(err, errlen, "TLS needs ca_file, cert_file and key_file");
		return -EINVAL;
	}
	ctx = SSL_CTX_new(method);
	if (ctx == NULL)
		return tls_fail(err, errlen, "create TLS context");
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS_CIPHERS_13) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1) {
		rc = tls_fail(err, errlen, "configure TLS context");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
					 SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);
	SSL_CTX_set_default_passwd_cb(ctx, tls_no_passphrase);

	/* Only the dmlog CA: no default paths, no system store. */
	if (SSL_CTX_load_verify_locations(ctx, f->ca_file, NULL) != 1) {
		rc = tls_fail(err, errlen, "load CA %s", f->ca_file);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, f->cert_file) != 1) {
		rc = tls_fail(err, errlen, "load cert %s", f->cert_file);
		goto fail;
	}
	rc = tls_load_key(ctx, f, err, errlen);
	if (rc == 0)
		rc = tls_verify_own(ctx, f, err, errlen);
	if (rc != 0)
		goto fail;
	*out = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc == -EPROTO ? -EINVAL : rc;
}

static int tls_server_build(const struct tls_files *files, SSL_CTX **out, char *err,
			    size_t errlen)
{
	static const unsigned char sid_ctx[] = "dmlogd";
	STACK_OF(X509_NAME) *cas;
	SSL_CTX *ctx;
	int rc;

	rc = tls_ctx_build(TLS_server_method(), files, &ctx, err, errlen);
	if (rc != 0)
		return rc;
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* Client certificates are always checked; the id context keeps OpenSSL from refusing
	 * the handshake for a missing one. */
	if (SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) != 1) {
		rc = tls_fail(err, errlen, "configure TLS context");
		SSL_CTX_free(ctx);
		return rc;
	}
	/* Tell clients which CA to pick a certificate for. */
	cas = SSL_load_client_CA_file(files->ca_file);
	if (cas == NULL) {
		rc = tls_fail(err, errlen, "load CA %s", files->ca_file);
		SSL_CTX_free(ctx);
		return rc == -EPROTO ? -EINVAL : rc;
	}
	SSL_CTX_set_client_CA_list(ctx, cas);
	*out = ctx;
	return 0;
}

SSL_CTX *tls_server_ctx_new(const struct tls_files *files, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	return tls_server_build(files, &ctx, err, errlen) == 0 ? ctx : NULL;
}

/* A client connection must have been told which name to verify (tls_client_set_host()): a
 * forgotten call would otherwise accept any certificate the CA signed. */
static int tls_client_verify(int ok, X509_STORE_CTX *st)
{
	X509_VERIFY_PARAM *param;
	char *ip;

	if (!ok || X509_STORE_CTX_get_error_depth(st) != 0)
		return ok;
	param = X509_STORE_CTX_get0_param(st);
	if (X509_VERIFY_PARAM_get0_host(param, 0) != NULL)
		return 1;
	ip = X509_VERIFY_PARAM_get1_ip_asc(param);
	if (ip != NULL) {
		OPENSSL_free(ip);
		return 1;
	}
	X509_STORE_CTX_set_error(st, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

static int tls_client_build(const struct tls_files *files, SSL_CTX **out, char *err,
			    size_t errlen)
{
	int rc = tls_ctx_build(TLS_client_method(), files, out, err, errlen);

	if (rc == 0)
		SSL_CTX_set_verify(*out, SSL_VERIFY_PEER, tls_client_verify);
	return rc;
}

SSL_CTX *tls_client_ctx_new(const struct tls_files *files, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	return tls_client_build(files, &ctx, err, errlen) == 0 ? ctx : NULL;
}

int tls_client_set_host(SSL *ssl, const char *host, char *err, size_t errlen)
{
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
	unsigned char addr[16];
	char sni[256];

	ERR_clear_error();
	if (host == NULL || host[0] == '\0') {
		snprintf(err, errlen, "TLS: no server name to verify");
		return -EINVAL;
	}
	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1) {
			tls_fail(err, errlen, "TLS: verify address %s", host);
			return -EINVAL;
		}
		return 0;
	}
	/* SSL_set_tlsext_host_name() is a macro that casts const away: hand it a copy. */
	if (strlen(host) >= sizeof(sni)) {
		snprintf(err, errlen, "TLS: server name too long");
		return -EINVAL;
	}
	memcpy(sni, host, strlen(host) + 1);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(ssl, host) != 1 || SSL_set_tlsext_host_name(ssl, sni) != 1) {
		tls_fail(err, errlen, "TLS: verify name %s", host);
		return -EINVAL;
	}
	return 0;
}

/* Copies a certificate string for an error message: printable ASCII only, cut at 63 bytes. */
static void tls_printable(const unsigned char *s, int n, char *out, size_t len)
{
	size_t o = 0;

	for (int i = 0; i < n && o + 1 < len && o < 63; i++)
		out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	out[o] = '\0';
}

/* The single entry of nid in name, as UTF-8 (*out, OPENSSL_free it) and its length.
 * Returns 1 if found, 0 if absent, -1 if repeated, -2 if undecodable. */
static int tls_subject_entry(X509_NAME *name, int nid, unsigned char **out, int *len)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	X509_NAME_ENTRY *e;

	*out = NULL;
	if (i < 0)
		return 0;
	if (X509_NAME_get_index_by_NID(name, nid, i) >= 0)
		return -1;
	e = X509_NAME_get_entry(name, i);
	*len = ASN1_STRING_to_UTF8(out, X509_NAME_ENTRY_get_data(e));
	if (*len < 0) {
		*out = NULL;
		return -2;
	}
	return 1;
}

int tls_identity_from_cert(X509 *cert, struct tls_identity *id, char *err, size_t errlen)
{
	X509_NAME *subject;
	unsigned char *ou = NULL, *cn = NULL;
	int r, n = 0, rc = -EACCES;
	char shown[64];

	id->role = TLS_ROLE_UNKNOWN;
	id->name[0] = '\0';
	subject = cert != NULL ? X509_get_subject_name(cert) : NULL;
	if (subject == NULL) {
		snprintf(err, errlen, "no certificate");
		return -EACCES;
	}

	r = tls_subject_entry(subject, NID_organizationalUnitName, &ou, &n);
	if (r == 0) {
		snprintf(err, errlen,
			 "certificate has no OU (want dmlog-node, dmlog-peer or dmlog-admin)");
		goto out;
	}
	if (r < 0) {
		snprintf(err, errlen, "certificate has %s OU",
			 r == -1 ? "more than one" : "an undecodable");
		goto out;
	}
	for (int role = TLS_ROLE_NODE; role <= TLS_ROLE_ADMIN; role++) {
		const char *want = tls_role_ous[role];

		if ((size_t)n == strlen(want) && memcmp(ou, want, (size_t)n) == 0)
			id->role = (enum tls_role)role;
	}
	if (id->role == TLS_ROLE_UNKNOWN) {
		tls_printable(ou, n, shown, sizeof(shown));
		snprintf(err, errlen, "certificate OU '%s' is not a dmlog role", shown);
		goto out;
	}

	r = tls_subject_entry(subject, NID_commonName, &cn, &n);
	if (r <= 0) {
		snprintf(err, errlen, "certificate has %s CN",
			 r == 0 ? "no" : r == -1 ? "more than one" : "an undecodable");
		goto out;
	}
	if (n <= 0 || n >= TLS_IDENTITY_MAX || memchr(cn, '\0', (size_t)n) != NULL) {
		tls_printable(cn, n, shown, sizeof(shown));
		snprintf(err, errlen, "certificate CN '%s' is not a valid identity", shown);
		goto out;
	}
	memcpy(id->name, cn, (size_t)n);
	id->name[n] = '\0';
	if (!tls_identity_valid(id->name)) {
		tls_printable(cn, n, shown, sizeof(shown));
		snprintf(err, errlen, "certificate CN '%s' is not a valid identity", shown);
		id->name[0] = '\0';
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(ou);
	OPENSSL_free(cn);
	ERR_clear_error();
	return rc;
}

int tls_peer_identity(SSL *ssl, struct tls_identity *id, char *err, size_t errlen)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	long v;

	id->role = TLS_ROLE_UNKNOWN;
	id->name[0] = '\0';
	if (cert == NULL) {
		snprintf(err, errlen, "peer sent no certificate");
		return -EACCES;
	}
	v = SSL_get_verify_result(ssl);
	if (v != X509_V_OK) {
		snprintf(err, errlen, "peer certificate not verified: %s",
			 X509_verify_cert_error_string(v));
		return -EACCES;
	}
	return tls_identity_from_cert(cert, id, err, errlen);
}

int tls_ctx_check_role(SSL_CTX *ctx, enum tls_role want, char *err, size_t errlen)
{
	struct tls_identity id;
	char why[256];

	if (tls_identity_from_cert(SSL_CTX_get0_certificate(ctx), &id, why, sizeof(why)) != 0 &&
	    id.role == TLS_ROLE_UNKNOWN) {
		snprintf(err, errlen, "own %s", why);
		return -EINVAL;
	}
	if (id.role != want) {
		snprintf(err, errlen, "own certificate has OU %s, dmlogd needs %s",
			 tls_role_ous[id.role], tls_role_ous[want]);
		return -EINVAL;
	}
	if (id.name[0] == '\0') {
		snprintf(err, errlen, "own %s", why);
		return -EINVAL;
	}
	return 0;
}

struct tls_holder {
	SSL_CTX *server;
	SSL_CTX *client;
	char *ca_file, *cert_file, *key_file;
	unsigned generation;
};

/* Builds the pair of contexts from f; both or neither. */
/* Whether server's certificate is for id (its CN): 0, or -EINVAL with err naming both. */
static int ctx_check_id(SSL_CTX *server, const char *id, const char *cert_file, char *err,
			size_t errlen)
{
	struct tls_identity who;
	char why[256];

	tls_identity_from_cert(SSL_CTX_get0_certificate(server), &who, why, sizeof(why));
	if (strcmp(who.name, id) == 0)
		return 0;
	snprintf(err, errlen, "id is '%s' but cert %s is for '%s'", id, cert_file, who.name);
	return -EINVAL;
}

/* Both contexts from f, the certificate a dmlog-peer one and, with id non-NULL, for id. */
static int tls_holder_build(const struct tls_files *f, const char *id, SSL_CTX **server,
			    SSL_CTX **client, char *err, size_t errlen)
{
	int rc = tls_server_build(f, server, err, errlen);

	if (rc != 0)
		return rc;
	rc = tls_ctx_check_role(*server, TLS_ROLE_PEER, err, errlen);
	if (rc == 0 && id)
		rc = ctx_check_id(*server, id, f->cert_file, err, errlen);
	if (rc == 0)
		rc = tls_client_build(f, client, err, errlen);
	if (rc != 0) {
		SSL_CTX_free(*server);
		*server = NULL;
	}
	return rc;
}

/* Replaces the holder's copies of the file names; -ENOMEM leaves them as they were. */
static int tls_holder_set_files(struct tls_holder *h, const struct tls_files *f)
{
	char *ca = strdup(f->ca_file), *cert = strdup(f->cert_file), *key = strdup(f->key_file);

	if (ca == NULL || cert == NULL || key == NULL) {
		free(ca);
		free(cert);
		free(key);
		return -ENOMEM;
	}
	free(h->ca_file);
	free(h->cert_file);
	free(h->key_file);
	h->ca_file = ca;
	h->cert_file = cert;
	h->key_file = key;
	return 0;
}

struct tls_holder *tls_holder_new(const struct tls_files *files, const char *id, char *err,
				  size_t errlen)
{
	struct tls_holder *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		snprintf(err, errlen, "TLS: out of memory");
		return NULL;
	}
	if (tls_holder_build(files, id, &h->server, &h->client, err, errlen) != 0) {
		free(h);
		return NULL;
	}
	if (tls_holder_set_files(h, files) != 0) {
		snprintf(err, errlen, "TLS: out of memory");
		tls_holder_free(h);
		return NULL;
	}
	return h;
}

void tls_holder_free(struct tls_holder *h)
{
	if (h == NULL)
		return;
	SSL_CTX_free(h->server);
	SSL_CTX_free(h->client);
	free(h->ca_file);
	free(h->cert_file);
	free(h->key_file);
	free(h);
}

int tls_holder_reload(struct tls_holder *h, const struct tls_files *files, const char *id,
		      char *err, size_t errlen)
{
	struct tls_files cur = {h->ca_file, h->cert_file, h->key_file};
	SSL_CTX *server, *client;
	int rc;

	if (files == NULL)
		files = &cur;
	/* The id is checked on the very contexts that are swapped in: a file replaced meanwhile
	 * cannot slip through. */
	rc = tls_holder_build(files, id, &server, &client, err, errlen);
	if (rc != 0)
		return rc;
	if (files != &cur && tls_holder_set_files(h, files) != 0) {
		SSL_CTX_free(server);
		SSL_CTX_free(client);
		snprintf(err, errlen, "TLS: out of memory");
		return -ENOMEM;
	}
	SSL_CTX_free(h->server);
	SSL_CTX_free(h->client);
	h->server = server;
	h->client = client;
	h->generation++;
	return 0;
}

SSL_CTX *tls_holder_server(const struct tls_holder *h)
{
	return h->server;
}

SSL_CTX *tls_holder_client(const struct tls_holder *h)
{
	return h->client;
}

unsigned tls_holder_generation(const struct tls_holder *h)
{
	return h->generation;
}
