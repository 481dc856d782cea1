/* test_peer_transport.c: the peer transport (server/peer.h) as libraft drives it around its
 * close, on a libuv loop of the test's own, with real TLS contexts.
 *
 * libraft 0.22 may ask for a connection while the transport closes and, from a client's retry
 * timer, after its close callback, when the owner has freed it: both are refused without opening
 * anything, so nothing outlives the transport and the loop can end.
 */
#include "peer.h"
#include "testcerts.h"
#include "testdir.h"
#include "testmain.h"
#include "tls.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

static char dir[64];
static uv_loop_t loop;
static struct raft_uv_transport t;
static SSL_CTX *client;
static int connect_cbs, connect_status, close_cbs;

static int h_authorize(void *arg, const struct peer_info *who, char *why, size_t whylen)
{
	(void)arg;
	(void)who;
	(void)why;
	(void)whylen;
	return 0;
}

static int32_t h_promise(void *arg, uint64_t from, uint64_t term)
{
	(void)arg;
	(void)from;
	(void)term;
	return -1;
}

static void h_pong(void *arg, uint64_t from, uint64_t term, uint64_t stamp, int32_t promise_ms)
{
	(void)arg;
	(void)from;
	(void)term;
	(void)stamp;
	(void)promise_ms;
}

static void on_connect(struct raft_uv_connect *req, struct uv_stream_s *stream, int status)
{
	(void)req;
	ck_assert_ptr_null(stream);
	connect_cbs++;
	connect_status = status;
}

static void on_close(struct raft_uv_transport *tr)
{
	ck_assert_ptr_eq(tr, &t);
	close_cbs++;
}

static void setup(void)
{
	struct peer_config cfg;
	struct tls_files files;
	char tls[96], ca[128], cert[128], key[128], err[256];

	ck_assert_int_eq(testdir_make(dir, sizeof(dir), "peer-transport"), 0);
	snprintf(tls, sizeof(tls), "%s/tls", dir);
	ck_assert_int_eq(testcerts_make(tls, "ca", "peer dmlogd1", NULL), 0);
	snprintf(ca, sizeof(ca), "%s/ca.crt", tls);
	snprintf(cert, sizeof(cert), "%s/peer-dmlogd1.crt", tls);
	snprintf(key, sizeof(key), "%s/peer-dmlogd1.key", tls);
	files.ca_file = ca;
	files.cert_file = cert;
	files.key_file = key;
	client = tls_client_ctx_new(&files, err, sizeof(err));
	ck_assert_msg(client != NULL, "TLS: %s", err);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.client_ctx = client;
	cfg.hooks.authorize = h_authorize;
	cfg.hooks.promise = h_promise;
	cfg.hooks.pong = h_pong;
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(peer_transport_init(&t, &loop, &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(t.init(&t, 1, "127.0.0.1:1"), 0);
	connect_cbs = close_cbs = 0;
	connect_status = 0;
}

static void teardown(void)
{
	SSL_CTX_free(client);
	testdir_remove(dir);
}

static void run_until(int *counter, int want)
{
	for (int i = 0; i < 1000 && *counter < want; i++)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(*counter, want);
}

START_TEST(test_no_connection_is_made_once_closing)
{
	struct raft_uv_connect before, during, after;
	struct peer_stats st;

	/* Open: an attempt starts (to a port nobody listens on). */
	ck_assert_int_eq(t.connect(&t, &before, 2, "127.0.0.1:1", on_connect), 0);
	peer_transport_stats(&t, &st);
	ck_assert_uint_eq(st.open, 1);

	t.close(&t, on_close);
	ck_assert_int_eq(t.connect(&t, &during, 3, "127.0.0.1:1", on_connect), RAFT_CANCELED);
	peer_transport_stats(&t, &st);
	ck_assert_uint_eq(st.open, 1);
	run_until(&close_cbs, 1);
	ck_assert_int_eq(connect_cbs, 1); /* the attempt from before, ended by the close */
	ck_assert_int_eq(connect_status, RAFT_CANCELED);
	peer_transport_stats(&t, &st);
	ck_assert_uint_eq(st.open, 0);

	/* After the close callback, and after the owner freed the transport. */
	ck_assert_int_eq(t.connect(&t, &after, 4, "127.0.0.1:1", on_connect), RAFT_CANCELED);
	peer_transport_free(&t);
	ck_assert_int_eq(t.connect(&t, &after, 4, "127.0.0.1:1", on_connect), RAFT_CANCELED);
	uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(connect_cbs, 1);
	/* Nothing left open on the loop. */
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("peer_transport");
	TCase *tc = testmain_tcase(s, "close", setup, teardown, 0);

	tcase_add_test(tc, test_no_connection_is_made_once_closing);
	return testmain_run(s);
}
