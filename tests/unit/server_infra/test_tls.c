/* test_tls.c: TLS contexts, certificate roles, real handshakes and the reload holder.
 *
 * Certificates come from deploy/dmlog-certs.sh (two independent CAs, "a" and "b"); the odd ones
 * (no OU, a foreign OU, a bad CN) are made with the openssl command against CA a. Handshakes run
 * over a socketpair with the server side in a second thread, both blocking.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "testcerts.h"
#include "testdir.h"
#include "testmain.h"
#include "tls.h"

static char dir[64];
static char pa[128], pb[128]; /* the two CA directories */

/* dir/name into a static ring of buffers, so a few can be used in one expression. */
static const char *at(const char *base, const char *name)
{
	static char ring[8][256];
	static int next;
	char *p = ring[next++ % 8];

	snprintf(p, 256, "%s/%s", base, name);
	return p;
}

static void run(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0) {
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
		abort();
	}
}

/* A certificate with the given subject signed by CA a, no extensions: dir/a/NAME.{crt,key}. */
static void make_odd_cert(const char *name, const char *subject)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout %s.key -subj '%s' -out %s.csr 2>/dev/null && "
		 "openssl x509 -req -in %s.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
		 "-out %s.crt 2>/dev/null",
		 pa, name, subject, name, name, name);
	run(cmd);
}

static void make_certs(void)
{
	char cmd[1024];
	FILE *f;

	if (testdir_make(dir, sizeof(dir), "tls") != 0)
		abort();
	snprintf(pa, sizeof(pa), "%s/a", dir);
	snprintf(pb, sizeof(pb), "%s/b", dir);
	if (testcerts_make(pa, "dev", "peer dmlogd2", NULL) != 0 ||
	    testcerts_make(pb, "dev", NULL) != 0)
		abort();
	snprintf(cmd, sizeof(cmd), "cat %s/ca.crt %s/ca.crt > %s/both-ca.crt", pa, pb, dir);
	run(cmd);
	make_odd_cert("noou", "/O=dmlog/CN=noou");
	make_odd_cert("ops", "/O=dmlog/OU=ops/CN=opsname");
	make_odd_cert("badcn", "/O=dmlog/OU=dmlog-node/CN=bad name");
	make_odd_cert("twoou", "/O=dmlog/OU=dmlog-node/OU=dmlog-admin/CN=x");
	f = fopen(at(dir, "garbage.pem"), "w");
	if (f == NULL)
		abort();
	fputs("-----BEGIN CERTIFICATE-----\nthis is not base64 !!\n-----END CERTIFICATE-----\n", f);
	fclose(f);
}

static void remove_certs(void)
{
	testdir_remove(dir);
}

/* The files of one certificate: base/ca, base/stem.crt, base/stem.key. */
static struct tls_files files(const char *base, const char *ca, const char *stem)
{
	static char crt[8][256], key[8][256];
	static int next;
	int i = next++ % 8;

	snprintf(crt[i], sizeof(crt[i]), "%s/%s.crt", base, stem);
	snprintf(key[i], sizeof(key[i]), "%s/%s.key", base, stem);
	return (struct tls_files){at(base, ca), crt[i], key[i]};
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	ck_assert_ptr_nonnull(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(x);
	return x;
}

/* ---- handshakes ---- */

struct side {
	SSL *ssl;
	int fd;
	bool server;
	int ok;
	long verify;
	char err[256];
};

static void *side_run(void *arg)
{
	struct side *s = arg;
	int r;

	SSL_set_fd(s->ssl, s->fd);
	r = s->server ? SSL_accept(s->ssl) : SSL_connect(s->ssl);
	s->ok = r == 1;
	s->verify = SSL_get_verify_result(s->ssl);
	if (!s->ok) {
		tls_drain_errors(s->err, sizeof(s->err));
		shutdown(s->fd, SHUT_RDWR); /* unblock the other side */
	}
	return NULL;
}

/* Runs a handshake between two SSL objects (owned by the caller). */
static void handshake(struct side *srv, struct side *cli)
{
	int sv[2];
	pthread_t t;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	srv->fd = sv[0];
	srv->server = true;
	cli->fd = sv[1];
	cli->server = false;
	ck_assert_int_eq(pthread_create(&t, NULL, side_run, srv), 0);
	side_run(cli);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	close(sv[0]);
	close(sv[1]);
}

/* Client for host with the given files against a server context; fills both sides. */
/* The server context of certificate stem in base (trusting base/ca.crt); fails the test if it
 * does not load. */
static SSL_CTX *server_ctx(const char *base, const char *stem)
{
	struct tls_files f = files(base, "ca.crt", stem);
	char err[512];
	SSL_CTX *ctx = tls_server_ctx_new(&f, err, sizeof(err));

	ck_assert_msg(ctx != NULL, "%s", err);
	return ctx;
}

/* Two fresh sides of a handshake over server_ctx and client_ctx. */
static void sides_new(struct side *srv, struct side *cli, SSL_CTX *server_ctx,
		      SSL_CTX *client_ctx)
{
	memset(srv, 0, sizeof(*srv));
	memset(cli, 0, sizeof(*cli));
	srv->ssl = SSL_new(server_ctx);
	cli->ssl = SSL_new(client_ctx);
}

static void connect_with(SSL_CTX *server_ctx, const struct tls_files *client_files,
			 const char *host, struct side *srv, struct side *cli)
{
	char err[512];
	SSL_CTX *cctx = tls_client_ctx_new(client_files, err, sizeof(err));

	ck_assert_msg(cctx != NULL, "%s", err);
	sides_new(srv, cli, server_ctx, cctx);
	SSL_CTX_free(cctx); /* the SSL keeps its own reference */
	if (host != NULL)
		ck_assert_int_eq(tls_client_set_host(cli->ssl, host, err, sizeof(err)), 0);
	handshake(srv, cli);
}

static void sides_free(struct side *srv, struct side *cli)
{
	SSL_free(srv->ssl);
	SSL_free(cli->ssl);
}

/* ---- loading ---- */

START_TEST(test_server_ctx_loads)
{
	struct tls_files f = files(pa, "ca.crt", "peer-dmlogd1");
	char err[512] = "";
	SSL_CTX *ctx = tls_server_ctx_new(&f, err, sizeof(err));

	ck_assert_msg(ctx != NULL, "%s", err);
	ck_assert_int_eq(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	ck_assert_int_eq(SSL_CTX_get_verify_mode(ctx),
			 SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	ck_assert_int_eq(tls_ctx_check_role(ctx, TLS_ROLE_PEER, err, sizeof(err)), 0);
	ck_assert_int_eq(ERR_peek_error(), 0);
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(test_missing_files_name_the_file)
{
	struct tls_files f = files(pa, "ca.crt", "peer-dmlogd1");
	char err[512], want[512];

	f.cert_file = at(pa, "missing.crt");
	ck_assert_ptr_null(tls_server_ctx_new(&f, err, sizeof(err)));
	snprintf(want, sizeof(want), "load cert %s: No such file or directory", f.cert_file);
	ck_assert_str_eq(err, want);

	f = files(pa, "missing-ca.crt", "peer-dmlogd1");
	ck_assert_ptr_null(tls_server_ctx_new(&f, err, sizeof(err)));
	snprintf(want, sizeof(want), "load CA %s: No such file or directory", f.ca_file);
	ck_assert_str_eq(err, want);

	f = files(pa, "ca.crt", "peer-dmlogd1");
	f.key_file = at(pa, "missing.key");
	ck_assert_ptr_null(tls_server_ctx_new(&f, err, sizeof(err)));
	snprintf(want, sizeof(want), "load key %s: No such file or directory", f.key_file);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(ERR_peek_error(), 0);
}
END_TEST

START_TEST(test_mismatched_key_refused)
{
	struct tls_files f = files(pa, "ca.crt", "peer-dmlogd1");
	struct tls_files node = files(pa, "ca.crt", "node-node1");
	char err[512], want[512];

	f.key_file = node.key_file;
	ck_assert_ptr_null(tls_server_ctx_new(&f, err, sizeof(err)));
	snprintf(want, sizeof(want), "key %s does not match cert %s", f.key_file, f.cert_file);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(tls_client_ctx_new(&f, err, sizeof(err)));
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_garbage_pem_refused)
{
	struct tls_files f = files(pa, "ca.crt", "peer-dmlogd1");
	const char *garbage = at(dir, "garbage.pem");
	char err[512], want[512];

	f.cert_file = garbage;
	ck_assert_ptr_null(tls_server_ctx_new(&f, err, sizeof(err)));
	snprintf(want, sizeof(want), "load cert %s: ", garbage);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0 && strlen(err) > strlen(want), "%s",
		      err);
	ck_assert_msg(strstr(err, "bad base64 decode") != NULL, "%s", err);

	f = files(pa, "ca.crt", "peer-dmlogd1");
	f.key_file = garbage;
	ck_assert_ptr_null(tls_server_ctx_new(&f, err, sizeof(err)));
	snprintf(want, sizeof(want), "load key %s: ", garbage);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0 && strlen(err) > strlen(want), "%s",
		      err);

	f = files(pa, "ca.crt", "peer-dmlogd1");
	f.ca_file = garbage;
	ck_assert_ptr_null(tls_server_ctx_new(&f, err, sizeof(err)));
	snprintf(want, sizeof(want), "load CA %s: ", garbage);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0 && strlen(err) > strlen(want), "%s",
		      err);
	ck_assert_int_eq(ERR_peek_error(), 0);
}
END_TEST

START_TEST(test_cert_from_another_ca_refused_at_load)
{
	struct tls_files f = files(pb, "ca.crt", "peer-dmlogd1");
	char err[512];

	f.ca_file = at(pa, "ca.crt");
	ck_assert_ptr_null(tls_server_ctx_new(&f, err, sizeof(err)));
	ck_assert_msg(strstr(err, "does not verify against CA") != NULL, "%s", err);
}
END_TEST

START_TEST(test_drain_errors_empty_and_system)
{
	char buf[128];

	ERR_clear_error();
	ck_assert_int_eq(tls_drain_errors(buf, sizeof(buf)), -EPROTO);
	ck_assert_str_eq(buf, "unknown TLS error");
	ERR_raise(ERR_LIB_SYS, ENOENT);
	ck_assert_int_eq(tls_drain_errors(buf, sizeof(buf)), -ENOENT);
	ck_assert_str_eq(buf, "No such file or directory");
	ck_assert_int_eq(ERR_peek_error(), 0);
	tls_error_string(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_CERTIFICATE_VERIFY_FAILED), buf,
			 sizeof(buf));
	ck_assert_str_eq(buf, "certificate verify failed");
}
END_TEST

/* ---- identities ---- */

static void expect_identity(const char *path, int rc, enum tls_role role, const char *name,
			    const char *errpart)
{
	X509 *x = read_cert(path);
	struct tls_identity id;
	char err[256] = "";

	ck_assert_int_eq(tls_identity_from_cert(x, &id, err, sizeof(err)), rc);
	ck_assert_int_eq(id.role, role);
	ck_assert_str_eq(id.name, name);
	if (errpart != NULL)
		ck_assert_msg(strstr(err, errpart) != NULL, "%s", err);
	X509_free(x);
}

START_TEST(test_identity_of_each_role)
{
	expect_identity(at(pa, "node-node1.crt"), 0, TLS_ROLE_NODE, "node1", NULL);
	expect_identity(at(pa, "peer-dmlogd1.crt"), 0, TLS_ROLE_PEER, "dmlogd1", NULL);
	expect_identity(at(pa, "admin-admin.crt"), 0, TLS_ROLE_ADMIN, "admin", NULL);
	ck_assert_str_eq(tls_role_name(TLS_ROLE_ADMIN), "admin");
	ck_assert_str_eq(tls_role_name(TLS_ROLE_UNKNOWN), "unknown");
}
END_TEST

START_TEST(test_identity_without_ou_is_unknown)
{
	expect_identity(at(pa, "noou.crt"), -EACCES, TLS_ROLE_UNKNOWN, "",
			"certificate has no OU (want dmlog-node, dmlog-peer or dmlog-admin)");
}
END_TEST

START_TEST(test_identity_foreign_or_repeated_ou_is_unknown)
{
	expect_identity(at(pa, "ops.crt"), -EACCES, TLS_ROLE_UNKNOWN, "",
			"certificate OU 'ops' is not a dmlog role");
	expect_identity(at(pa, "twoou.crt"), -EACCES, TLS_ROLE_UNKNOWN, "",
			"certificate has more than one OU");
}
END_TEST

START_TEST(test_identity_bad_cn_refused)
{
	expect_identity(at(pa, "badcn.crt"), -EACCES, TLS_ROLE_NODE, "",
			"certificate CN 'bad name' is not a valid identity");
}
END_TEST

START_TEST(test_identity_name_rules)
{
	char longest[64], too_long[65];

	memset(longest, 'a', 63);
	longest[63] = '\0';
	memset(too_long, 'a', 64);
	too_long[64] = '\0';
	ck_assert(tls_identity_valid("node1"));
	ck_assert(tls_identity_valid("a.b_c-d"));
	ck_assert(tls_identity_valid("7"));
	ck_assert(tls_identity_valid(longest));
	ck_assert(!tls_identity_valid(too_long));
	ck_assert(!tls_identity_valid(""));
	ck_assert(!tls_identity_valid(NULL));
	ck_assert(!tls_identity_valid("-node"));
	ck_assert(!tls_identity_valid(".."));
	ck_assert(!tls_identity_valid("a b"));
	ck_assert(!tls_identity_valid("a/b"));
}
END_TEST

/* ---- handshakes ---- */

START_TEST(test_handshake_accepted_with_roles)
{
	struct tls_files cf = files(pa, "ca.crt", "node-node1");
	struct tls_identity id;
	struct side srv, cli;
	char err[512];
	SSL_CTX *sctx = server_ctx(pa, "peer-dmlogd1");

	connect_with(sctx, &cf, "127.0.0.1", &srv, &cli);
	ck_assert_msg(srv.ok && cli.ok, "server: %s / client: %s", srv.err, cli.err);
	ck_assert_int_eq(SSL_version(srv.ssl), TLS1_3_VERSION);
	ck_assert_int_eq(tls_peer_identity(srv.ssl, &id, err, sizeof(err)), 0);
	ck_assert_int_eq(id.role, TLS_ROLE_NODE);
	ck_assert_str_eq(id.name, "node1");
	ck_assert_int_eq(tls_peer_identity(cli.ssl, &id, err, sizeof(err)), 0);
	ck_assert_int_eq(id.role, TLS_ROLE_PEER);
	ck_assert_str_eq(id.name, "dmlogd1");
	sides_free(&srv, &cli);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_handshake_tls12_still_works)
{
	struct tls_files cf = files(pa, "ca.crt", "admin-admin");
	struct tls_identity id;
	struct side srv, cli;
	char err[512];
	SSL_CTX *sctx = server_ctx(pa, "peer-dmlogd1");
	SSL_CTX *cctx = tls_client_ctx_new(&cf, err, sizeof(err));

	ck_assert_ptr_nonnull(cctx);
	ck_assert_int_eq(SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION), 1);
	sides_new(&srv, &cli, sctx, cctx);
	ck_assert_int_eq(tls_client_set_host(cli.ssl, "localhost", err, sizeof(err)), 0);
	handshake(&srv, &cli);
	ck_assert_msg(srv.ok && cli.ok, "server: %s / client: %s", srv.err, cli.err);
	ck_assert_int_eq(SSL_version(srv.ssl), TLS1_2_VERSION);
	ck_assert_int_eq(tls_peer_identity(srv.ssl, &id, err, sizeof(err)), 0);
	ck_assert_int_eq(id.role, TLS_ROLE_ADMIN);
	sides_free(&srv, &cli);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_handshake_refused_for_another_ca)
{
	/* The client trusts both CAs (so it accepts the server) but holds a cert from CA b. */
	struct tls_files cf = files(pb, "ca.crt", "node-node1");
	struct side srv, cli;
	SSL_CTX *sctx = server_ctx(pa, "peer-dmlogd1");

	cf.ca_file = at(dir, "both-ca.crt");
	connect_with(sctx, &cf, "127.0.0.1", &srv, &cli);
	ck_assert(!srv.ok);
	ck_assert_int_ne(srv.verify, X509_V_OK);
	ck_assert_msg(strstr(srv.err, "certificate verify failed") != NULL, "%s", srv.err);
	sides_free(&srv, &cli);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_handshake_refused_without_client_cert)
{
	struct side srv, cli;
	SSL_CTX *sctx = server_ctx(pa, "peer-dmlogd1");
	SSL_CTX *bare = SSL_CTX_new(TLS_client_method());

	ck_assert_int_eq(SSL_CTX_load_verify_locations(bare, at(pa, "ca.crt"), NULL), 1);
	sides_new(&srv, &cli, sctx, bare);
	handshake(&srv, &cli);
	ck_assert(!srv.ok);
	ck_assert_msg(strstr(srv.err, "peer did not return a certificate") != NULL, "%s",
		      srv.err);
	sides_free(&srv, &cli);
	SSL_CTX_free(bare);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_handshake_cert_without_ou_gives_unknown_role)
{
	struct tls_files cf = files(pa, "ca.crt", "noou");
	struct tls_identity id;
	struct side srv, cli;
	char err[512];
	SSL_CTX *sctx = server_ctx(pa, "peer-dmlogd1");

	connect_with(sctx, &cf, "127.0.0.1", &srv, &cli);
	ck_assert_msg(srv.ok && cli.ok, "server: %s / client: %s", srv.err, cli.err);
	ck_assert_int_eq(tls_peer_identity(srv.ssl, &id, err, sizeof(err)), -EACCES);
	ck_assert_int_eq(id.role, TLS_ROLE_UNKNOWN);
	ck_assert_msg(strstr(err, "no OU") != NULL, "%s", err);
	sides_free(&srv, &cli);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_client_verifies_server_name)
{
	struct tls_files cf = files(pa, "ca.crt", "peer-dmlogd2");
	struct side srv, cli;
	char err[512];
	SSL_CTX *sctx = server_ctx(pa, "peer-dmlogd1");

	connect_with(sctx, &cf, "localhost", &srv, &cli);
	ck_assert_msg(cli.ok && srv.ok, "%s", cli.err);
	sides_free(&srv, &cli);

	connect_with(sctx, &cf, "10.9.9.9", &srv, &cli);
	ck_assert(!cli.ok);
	ck_assert_int_eq(cli.verify, X509_V_ERR_IP_ADDRESS_MISMATCH);
	ck_assert(!srv.ok);
	sides_free(&srv, &cli);

	connect_with(sctx, &cf, "dmlogd9.example", &srv, &cli);
	ck_assert(!cli.ok);
	ck_assert_int_eq(cli.verify, X509_V_ERR_HOSTNAME_MISMATCH);
	sides_free(&srv, &cli);

	/* No tls_client_set_host(): refused rather than accepting any name. */
	connect_with(sctx, &cf, NULL, &srv, &cli);
	ck_assert(!cli.ok);
	ck_assert_int_eq(cli.verify, X509_V_ERR_APPLICATION_VERIFICATION);
	sides_free(&srv, &cli);

	ck_assert_int_eq(tls_client_set_host(cli.ssl = SSL_new(sctx), "", err, sizeof(err)),
			 -EINVAL);
	SSL_free(cli.ssl);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_client_refuses_server_from_another_ca)
{
	struct tls_files cf = files(pa, "ca.crt", "node-node1");
	struct side srv, cli;
	SSL_CTX *sctx = server_ctx(pb, "peer-dmlogd1");

	connect_with(sctx, &cf, "127.0.0.1", &srv, &cli);
	ck_assert(!cli.ok);
	ck_assert_int_ne(cli.verify, X509_V_OK);
	ck_assert(!srv.ok);
	sides_free(&srv, &cli);
	SSL_CTX_free(sctx);
}
END_TEST

/* ---- reload ---- */

START_TEST(test_holder_refuses_non_peer_cert)
{
	struct tls_files f = files(pa, "ca.crt", "node-node1");
	char err[512];

	ck_assert_ptr_null(tls_holder_new(&f, NULL, err, sizeof(err)));
	ck_assert_str_eq(err, "own certificate has OU dmlog-node, dmlogd needs dmlog-peer");
	f = files(pa, "ca.crt", "noou");
	ck_assert_ptr_null(tls_holder_new(&f, NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, "no OU") != NULL, "%s", err);
}
END_TEST

START_TEST(test_holder_keeps_old_ctx_when_new_files_are_bad)
{
	struct tls_files good = files(pa, "ca.crt", "peer-dmlogd1");
	struct tls_files bad = good;
	char err[512];
	struct tls_holder *h = tls_holder_new(&good, NULL, err, sizeof(err));
	SSL_CTX *server, *client;

	ck_assert_msg(h != NULL, "%s", err);
	server = tls_holder_server(h);
	client = tls_holder_client(h);
	ck_assert_ptr_nonnull(server);
	ck_assert_ptr_nonnull(client);
	ck_assert_uint_eq(tls_holder_generation(h), 0);

	bad.key_file = at(pa, "missing.key");
	ck_assert_int_eq(tls_holder_reload(h, &bad, NULL, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "missing.key") != NULL, "%s", err);
	bad = files(pa, "ca.crt", "admin-admin");
	ck_assert_int_eq(tls_holder_reload(h, &bad, NULL, err, sizeof(err)), -EINVAL);
	bad = files(pa, "ca.crt", "peer-dmlogd1");
	bad.cert_file = at(dir, "garbage.pem");
	ck_assert_int_lt(tls_holder_reload(h, &bad, NULL, err, sizeof(err)), 0);
	/* A good peer certificate, but for another id than the one asked for. */
	bad = files(pa, "ca.crt", "peer-dmlogd2");
	ck_assert_int_eq(tls_holder_reload(h, &bad, "dmlogd1", err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "'dmlogd1'") && strstr(err, "'dmlogd2'"), "%s", err);
	{
		struct tls_files one = files(pa, "ca.crt", "peer-dmlogd1");
		struct tls_holder *other = tls_holder_new(&one, "dmlogd2", err, sizeof(err));

		ck_assert_ptr_null(other);
		ck_assert_msg(strstr(err, "'dmlogd2'") && strstr(err, "'dmlogd1'"), "%s", err);
		other = tls_holder_new(&one, "dmlogd1", err, sizeof(err));
		ck_assert_msg(other != NULL, "%s", err);
		tls_holder_free(other);
	}

	ck_assert_ptr_eq(tls_holder_server(h), server);
	ck_assert_ptr_eq(tls_holder_client(h), client);
	ck_assert_uint_eq(tls_holder_generation(h), 0);

	/* NULL files: the same files again, which load (and are for dmlogd1). */
	ck_assert_int_eq(tls_holder_reload(h, NULL, "dmlogd1", err, sizeof(err)), 0);
	ck_assert_uint_eq(tls_holder_generation(h), 1);
	tls_holder_free(h);
	tls_holder_free(NULL);
}
END_TEST

START_TEST(test_holder_swaps_and_existing_connections_keep_theirs)
{
	struct tls_files fa = files(pa, "ca.crt", "peer-dmlogd1");
	struct tls_files fb = files(pb, "ca.crt", "peer-dmlogd1");
	struct tls_files node_a = files(pa, "ca.crt", "node-node1");
	struct tls_files node_b = files(pb, "ca.crt", "node-node1");
	struct side srv, cli;
	char err[512];
	struct tls_holder *h = tls_holder_new(&fa, NULL, err, sizeof(err));
	SSL *before;
	SSL_CTX *cctx;

	ck_assert_msg(h != NULL, "%s", err);
	/* A connection accepted before the reload (its SSL made from the old context). */
	before = SSL_new(tls_holder_server(h));
	ck_assert_ptr_nonnull(before);

	ck_assert_int_eq(tls_holder_reload(h, &fb, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(tls_holder_generation(h), 1);

	/* New connections: CA b now, CA a refused. */
	connect_with(tls_holder_server(h), &node_b, "127.0.0.1", &srv, &cli);
	ck_assert_msg(srv.ok && cli.ok, "server: %s / client: %s", srv.err, cli.err);
	sides_free(&srv, &cli);
	node_a.ca_file = at(dir, "both-ca.crt");
	connect_with(tls_holder_server(h), &node_a, "127.0.0.1", &srv, &cli);
	ck_assert(!srv.ok);
	sides_free(&srv, &cli);

	/* The old SSL still runs on the old context (CA a) although the holder dropped it. */
	cctx = tls_client_ctx_new(&node_a, err, sizeof(err));
	ck_assert_ptr_nonnull(cctx);
	memset(&srv, 0, sizeof(srv));
	memset(&cli, 0, sizeof(cli));
	srv.ssl = before;
	cli.ssl = SSL_new(cctx);
	ck_assert_int_eq(tls_client_set_host(cli.ssl, "127.0.0.1", err, sizeof(err)), 0);
	handshake(&srv, &cli);
	ck_assert_msg(srv.ok && cli.ok, "server: %s / client: %s", srv.err, cli.err);
	sides_free(&srv, &cli);
	SSL_CTX_free(cctx);

	/* The client context was swapped too: it now presents the cert of CA b. */
	{
		X509 *mine = SSL_CTX_get0_certificate(tls_holder_client(h));
		X509 *b = read_cert(fb.cert_file);
		ck_assert_int_eq(X509_cmp(mine, b), 0);
		X509_free(b);
	}
	tls_holder_free(h);
}
END_TEST

static Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *load = tcase_create("load");
	TCase *ident = tcase_create("identity");
	TCase *hs = tcase_create("handshake");
	TCase *reload = tcase_create("reload");

	tcase_add_test(load, test_server_ctx_loads);
	tcase_add_test(load, test_missing_files_name_the_file);
	tcase_add_test(load, test_mismatched_key_refused);
	tcase_add_test(load, test_garbage_pem_refused);
	tcase_add_test(load, test_cert_from_another_ca_refused_at_load);
	tcase_add_test(load, test_drain_errors_empty_and_system);
	tcase_add_test(ident, test_identity_of_each_role);
	tcase_add_test(ident, test_identity_without_ou_is_unknown);
	tcase_add_test(ident, test_identity_foreign_or_repeated_ou_is_unknown);
	tcase_add_test(ident, test_identity_bad_cn_refused);
	tcase_add_test(ident, test_identity_name_rules);
	tcase_add_test(hs, test_handshake_accepted_with_roles);
	tcase_add_test(hs, test_handshake_tls12_still_works);
	tcase_add_test(hs, test_handshake_refused_for_another_ca);
	tcase_add_test(hs, test_handshake_refused_without_client_cert);
	tcase_add_test(hs, test_handshake_cert_without_ou_gives_unknown_role);
	tcase_add_test(hs, test_client_verifies_server_name);
	tcase_add_test(hs, test_client_refuses_server_from_another_ca);
	tcase_add_test(reload, test_holder_refuses_non_peer_cert);
	tcase_add_test(reload, test_holder_keeps_old_ctx_when_new_files_are_bad);
	tcase_add_test(reload, test_holder_swaps_and_existing_connections_keep_theirs);
	tcase_set_timeout(hs, 60);
	suite_add_tcase(s, load);
	suite_add_tcase(s, ident);
	suite_add_tcase(s, hs);
	suite_add_tcase(s, reload);
	return s;
}

int main(void)
{
	int rc;

	signal(SIGPIPE, SIG_IGN);
	make_certs();
	rc = testmain_run(tls_suite());
	remove_certs();
	return rc;
}
