/* test_feed_client.c: libdmlog's server pushes (<dmlog/async.h>, "server pushes") against a
 * real dmlogd.
 *
 * Pinned: the server announces the feed; WATCH answers with the copy (kept by
 * dmlog_result_dup()); pushes reach the push callback in the order the server wrote them,
 * before the answer that followed them; FEED_ACK answers with a lease; when the connection
 * ends the callback hears DMLOG_PUSH_LINK_DOWN before anything of the next connection; without
 * a push callback pushes are dropped quietly.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dmlog/async.h>
#include <event2/event.h>

#include "harness.h"

#define UUID "LVM-feed-client-0123456789"

static char dir[256], certs[300], state[300], server[64], ca[400], cert[400], key[400];
static struct dmlogd d;
static struct event_base *base;
static struct dmlog_async *ac;

/* What happened, in order: 'P' push, 'D' link down, 'A' an answer. */
static char trail[256];
static size_t ntrail;
static struct dmlog_result *last;
static int last_status;
static bool answered;
static uint64_t last_seq, last_feed;

static void mark(char c)
{
	if (ntrail < sizeof(trail) - 1)
		trail[ntrail++] = c;
	trail[ntrail] = '\0';
}

static void on_push(struct dmlog_async *a, const struct dmlog_push *p, void *arg)
{
	(void)a;
	(void)arg;
	if (p->type == DMLOG_PUSH_LINK_DOWN) {
		mark('D');
		return;
	}
	ck_assert_uint_eq(p->seq, last_seq + 1);
	last_seq = p->seq;
	last_feed = p->feed_id;
	ck_assert_uint_ge(p->change_count, 1);
	mark('P');
}

static void on_answer(struct dmlog_async *a, int status, const struct dmlog_result *res,
		      void *arg)
{
	(void)a;
	(void)arg;
	mark('A');
	last_status = status;
	dmlog_result_free(last);
	last = res ? dmlog_result_dup(res) : NULL;
	answered = true;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the loop until the pending request is answered (at most 15 s); its status. */
static int wait_answer(void)
{
	uint64_t end = now_ms() + 15000;

	while (!answered && now_ms() < end) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	ck_assert_msg(answered, "no answer");
	answered = false;
	return last_status;
}

static int call(struct dmlog_request *req)
{
	req->log.uuid = req->log.uuid ? req->log.uuid : UUID;
	req->log.luid = req->log.luid ? req->log.luid : 1;
	req->log.version = 3;
	ck_assert_int_eq(dmlog_async_submit(ac, req, on_answer, NULL), 0);
	return wait_answer();
}

static void setup(void)
{
	struct dmlog_options o;
	char err[DMLOG_ERRMSG_SIZE];

	signal(SIGPIPE, SIG_IGN);
	harness_tmpdir(dir, sizeof(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	harness_certs(certs);
	mkdir(state, 0700);
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(dmlogd_start(&d, certs, state, NULL), 0);
	snprintf(server, sizeof(server), "127.0.0.1:%d", d.port);
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	snprintf(cert, sizeof(cert), "%s/node-node1.crt", certs);
	snprintf(key, sizeof(key), "%s/node-node1.key", certs);
	memset(&o, 0, sizeof(o));
	o.servers[0] = server;
	o.ca_file = ca;
	o.cert_file = cert;
	o.key_file = key;
	o.reconnect_min_ms = 50;
	o.reconnect_max_ms = 200;
	base = event_base_new();
	ac = dmlog_async_new(base, &o, err);
	ck_assert_msg(ac != NULL, "%s", err);
	ntrail = 0;
	trail[0] = '\0';
	last_seq = 0;
	answered = false;
}

static void teardown(void)
{
	dmlog_async_free(ac);
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_free(base);
	dmlog_result_free(last);
	last = NULL;
	if (d.pid > 0)
		dmlogd_stop(&d, SIGKILL);
	harness_rmdir(dir);
}

START_TEST(pushes_come_in_order_ahead_of_the_answers_that_follow_them)
{
	struct dmlog_request req;
	uint64_t feed_id, watch_id;

	dmlog_async_set_push_cb(ac, on_push, NULL);
	memset(&req, 0, sizeof(req));
	req.op = DMLOG_OP_CTR;
	req.args = "2048 clustered-core 2";
	ck_assert_int_eq(call(&req), 0);
	ck_assert(dmlog_async_features(ac) & DMLOG_FEATURE_FEED);
	memset(&req, 0, sizeof(req));
	req.op = DMLOG_OP_RESUME;
	ck_assert_int_eq(call(&req), 0);
	memset(&req, 0, sizeof(req));
	req.op = DMLOG_OP_WATCH;
	ck_assert_int_eq(call(&req), 0);
	ck_assert_int_eq(last->op, DMLOG_OP_WATCH);
	ck_assert_uint_eq(last->watch.region_count, 1024);
	ck_assert_uint_eq(last->watch.out_of_sync_count, 1);
	ck_assert_uint_eq(last->watch.out_of_sync[0].first, 0);
	ck_assert_uint_eq(last->watch.out_of_sync[0].last, 1023);
	ck_assert_uint_gt(last->watch.lease_ms, 0);
	feed_id = last->watch.feed_id;
	watch_id = last->watch.watch_id;
	ck_assert_uint_ne(watch_id, 0);
	ntrail = 0;
	for (uint64_t r = 0; r < 5; r++) {
		memset(&req, 0, sizeof(req));
		req.op = DMLOG_OP_SET_REGION_SYNC;
		req.region = r;
		req.in_sync = true;
		ck_assert_int_eq(call(&req), 0);
	}
	ck_assert_str_eq(trail, "PAPAPAPAPA");
	ck_assert_uint_eq(last_feed, feed_id);
	memset(&req, 0, sizeof(req));
	req.op = DMLOG_OP_FEED_ACK;
	req.feed_id = feed_id;
	req.seq = last_seq;
	ck_assert_int_eq(call(&req), 0);
	ck_assert_uint_eq(last->grant.feed_id, feed_id);
	ck_assert_uint_eq(last->grant.acked, 5);
	ck_assert_uint_gt(last->grant.lease_ms, 0);
	memset(&req, 0, sizeof(req));
	req.op = DMLOG_OP_UNWATCH;
	req.feed_id = feed_id;
	req.watch_id = watch_id;
	ck_assert_int_eq(call(&req), 0);
	ntrail = 0;
	memset(&req, 0, sizeof(req));
	req.op = DMLOG_OP_SET_REGION_SYNC;
	req.region = 9;
	req.in_sync = true;
	ck_assert_int_eq(call(&req), 0);
	ck_assert_str_eq(trail, "A"); /* no copy: nothing pushed */
}
END_TEST

START_TEST(link_down_comes_before_anything_of_the_next_connection)
{
	struct dmlog_request req;

	dmlog_async_set_push_cb(ac, on_push, NULL);
	memset(&req, 0, sizeof(req));
	req.op = DMLOG_OP_PING;
	ck_assert_int_eq(call(&req), 0);
	ntrail = 0;
	dmlogd_stop(&d, SIGKILL);
	ck_assert_int_eq(dmlogd_start(&d, certs, state, NULL), 0);
	memset(&req, 0, sizeof(req));
	req.op = DMLOG_OP_PING;
	ck_assert_int_eq(call(&req), 0);
	ck_assert_str_eq(trail, "DA");
	/* a handle without a push callback hears nothing, and works */
	dmlog_async_set_push_cb(ac, NULL, NULL);
	ntrail = 0;
	dmlogd_stop(&d, SIGKILL);
	ck_assert_int_eq(dmlogd_start(&d, certs, state, NULL), 0);
	ck_assert_int_eq(call(&req), 0);
	ck_assert_str_eq(trail, "A");
}
END_TEST

static Suite *client_suite(void)
{
	Suite *s = suite_create("feed_client");
	TCase *tc = tcase_create("push");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, pushes_come_in_order_ahead_of_the_answers_that_follow_them);
	tcase_add_test(tc, link_down_comes_before_anything_of_the_next_connection);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(client_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
