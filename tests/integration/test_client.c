/* test_client.c: libdmlog, through its public API only, against real dmlogd processes.
 *
 * What the fake server of tests/unit/client cannot show, with real TLS on 127.0.0.1:
 *   - a handle that knows only a follower of a three-peer group gets its requests answered (the
 *     follower's NotLeader redirect is followed to the leader, which holds the marks after);
 *   - a request applied by dmlogd whose answer never reached the handle (a fault-injecting
 *     proxy drops the answer), then dmlogd killed with SIGKILL and restarted on its state: the
 *     handle resends the request with its id and gets the stored answer. The request is a DTR,
 *     which applied a second time would fail (no such log instance), so its success proves that
 *     the retry was answered from the exactly-once table and not applied again;
 *   - a request to a SIGSTOPped dmlogd ends with -ETIMEDOUT and a message at its deadline, and
 *     the handle works again once dmlogd is continued;
 *   - 1,000 requests pipelined on one handle are all answered, their callbacks called in the
 *     order of their request ids;
 *   - each TLS failure ends the request with -EACCES and says which: the server's certificate
 *     from another CA, ours refused by the server, the server not carrying the name asked.
 * Each test makes its own certificates and state under one directory, removed by the teardown
 * (Check kills the test's process group, dmlogd included, if a check fails first).
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include <dmlog/async.h>
#include <dmlog/dmlog.h>

#include "group.h"
#include "harness.h"
#include "tcp_proxy.h"
#include "testmain.h"
#include "testport.h"

#define UUID "LVM-clienttest0123456789abcdefABCDEF"
#define LUID UINT64_C(0xffff888000002000)
#define ARGS "1048576 clustered-core 1024"   /* 1024 regions, all out of sync */
#define PIPELINE 1000
#define NPEERS 3

static const struct dmlog_log_ref log_ref = {.uuid = UUID, .luid = LUID, .version = 3};

static char dir[256], certs[300], state[300];
static struct dmlogd solo, stranger;   /* a lone dmlogd, and one of the other CA */
static struct group_peer peers[NPEERS];

/* The files a handle is made from; the options point into it. */
struct ident {
	char server[64], ca[400], cert[400], key[400];
};

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN); /* for the harness's own raw connections */
	memset(&solo, 0, sizeof(solo));
	memset(&stranger, 0, sizeof(stranger));
	memset(peers, 0, sizeof(peers));
	harness_tmpdir(dir, sizeof(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	harness_certs(certs);
	ck_assert_int_eq(mkdir(state, 0700), 0);
}

static void teardown(void)
{
	if (solo.pid > 0)
		dmlogd_stop(&solo, SIGKILL);
	if (stranger.pid > 0)
		dmlogd_stop(&stranger, SIGKILL);
	for (int i = 0; i < NPEERS; i++)
		if (peers[i].d.pid > 0)
			dmlogd_stop(&peers[i].d, SIGKILL);
	harness_rmdir(dir);
}

/* Starts the lone dmlogd. A long node lease: a slow run (sanitizers, a restart) must not see
 * the node's session expire. */
static void solo_start(void)
{
	static const char *const extra[] = {"--node_lease=10m", NULL};

	ck_assert_msg(dmlogd_start(&solo, certs, state, extra) == 0,
		      "dmlogd did not start (see %s)", solo.logfile);
}

/* Options for a handle to 127.0.0.1:port as `who` of the certificate directory cdir (CA of
 * ca_dir), with short backoffs. */
static void options(struct dmlog_options *o, struct ident *id, int port, const char *ca_dir,
		    const char *cdir, const char *who)
{
	memset(o, 0, sizeof(*o));
	snprintf(id->server, sizeof(id->server), "127.0.0.1:%d", port);
	snprintf(id->ca, sizeof(id->ca), "%s/ca.crt", ca_dir);
	snprintf(id->cert, sizeof(id->cert), "%s/%s.crt", cdir, who);
	snprintf(id->key, sizeof(id->key), "%s/%s.key", cdir, who);
	o->servers[0] = id->server;
	o->ca_file = id->ca;
	o->cert_file = id->cert;
	o->key_file = id->key;
	o->client_name = "test_client";
	o->reconnect_min_ms = 50;
	o->reconnect_max_ms = 400;
	o->connect_timeout_ms = 5000;
	o->request_timeout_ms = 30000;
}

static struct dmlog *handle(const struct dmlog_options *o)
{
	char err[DMLOG_ERRMSG_SIZE];
	struct dmlog *h = dmlog_new(o, err);

	ck_assert_msg(h != NULL, "dmlog_new: %s", err);
	return h;
}

/* A blocking handle to 127.0.0.1:port with certs' CA and certificate `who`. */
static struct dmlog *handle_to(int port, const char *who, struct ident *id)
{
	struct dmlog_options o;

	options(&o, id, port, certs, certs, who);
	return handle(&o);
}

/* The logs port's dmlogd holds, as admin (straight to it: admin views are not redirected). */
static size_t logs_at(int port)
{
	struct ident id;
	struct dmlog *h = handle_to(port, "admin-admin", &id);
	struct dmlog_result *r = NULL;
	size_t n;
	int rc = dmlog_admin_list_logs(h, &r);

	ck_assert_msg(rc == 0, "list logs: %s", dmlog_errmsg(h));
	n = r->logs.count;
	dmlog_result_free(r);
	dmlog_free(h);
	return n;
}

/* ---------------------------------------------------------------- a. redirects */

/* The slot of the leader all three peers agree on (asked through libdmlog as admin), or -1
 * after timeout_ms. */
static int agreed_leader(int timeout_ms)
{
	uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;

	while (harness_now_ms() < deadline) {
		int leader = -1, agree = 0;

		for (int i = 0; i < NPEERS; i++) {
			struct ident id;
			struct dmlog_options o;
			struct dmlog *h;
			struct dmlog_result *r = NULL;

			options(&o, &id, peers[i].d.port, certs, certs, "admin-admin");
			o.request_timeout_ms = 2000;
			h = handle(&o);
			if (dmlog_admin_status(h, &r) == 0) {
				if (strcmp(r->status.raft_role, "leader") == 0)
					leader = leader < 0 ? i : -2;
				if (r->status.leader_id[0])
					agree++;
			}
			dmlog_result_free(r);
			dmlog_free(h);
		}
		if (leader >= 0 && agree == NPEERS)
			return leader;
		usleep(100 * 1000);
	}
	return -1;
}

/* The regions node1 has marked in the log, as the peer at port shows them (as admin). */
static void marks_at(int port, uint64_t *regions, size_t *n, size_t max)
{
	struct ident id;
	struct dmlog *h = handle_to(port, "admin-admin", &id);
	struct dmlog_result *r = NULL;
	int rc = dmlog_admin_show_log(h, UUID, &r);

	ck_assert_msg(rc == 0, "show log: %s", dmlog_errmsg(h));
	*n = 0;
	for (size_t i = 0; i < r->log.mark_count; i++) {
		const struct dmlog_node_marks *m = &r->log.marks[i];

		if (strcmp(m->node, "node1") != 0)
			continue;
		for (size_t k = 0; k < m->region_count && *n < max; k++)
			regions[(*n)++] = m->regions[k];
	}
	dmlog_result_free(r);
	dmlog_free(h);
}

static bool has_region(const uint64_t *regions, size_t n, uint64_t r)
{
	for (size_t i = 0; i < n; i++)
		if (regions[i] == r)
			return true;
	return false;
}

START_TEST(follower_only_handle_is_answered_by_the_leader)
{
	const uint64_t marked[2] = {5, 6}, flushed[1] = {9};
	uint64_t seen[64];
	size_t nseen;
	struct ident id;
	struct dmlog *h;
	char dev[64];
	int leader, follower;

	ck_assert_int_eq(group_certs(certs, NPEERS), 0);
	group_init(peers, NPEERS, dir);
	for (int i = 0; i < NPEERS; i++) {
		const char *argv[8];

		group_args(peers, i, NPEERS, certs, NULL);
		for (int k = 0; k < 5; k++)
			argv[k] = peers[i].arg[k];
		argv[5] = "--node_lease=10m";
		argv[6] = NULL;
		ck_assert_msg(dmlogd_start(&peers[i].d, certs, peers[i].state, argv) == 0,
			      "dmlogd %d did not start (see %s)", i + 1, peers[i].d.logfile);
	}
	leader = agreed_leader(20000);
	ck_assert_int_ge(leader, 0);
	follower = (leader + 1) % NPEERS;

	/* The handle knows the follower only; a follower answers every dm_ulog request with
	 * NotLeader, so each answer below came from the leader it named. */
	h = handle_to(peers[follower].d.port, "node-node1", &id);
	ck_assert_msg(dmlog_ctr(h, &log_ref, ARGS, false, dev, sizeof(dev)) == 0, "CTR: %s",
		      dmlog_errmsg(h));
	ck_assert_msg(dmlog_resume(h, &log_ref) == 0, "RESUME: %s", dmlog_errmsg(h));
	ck_assert_msg(dmlog_mark_region(h, &log_ref, marked, 2) == 0, "MARK: %s",
		      dmlog_errmsg(h));
	ck_assert_msg(dmlog_flush(h, &log_ref, flushed, 1) == 0, "FLUSH: %s", dmlog_errmsg(h));
	dmlog_free(h);

	/* The follower was a follower all along, and the leader holds what was asked. */
	ck_assert_int_eq(agreed_leader(5000), leader);
	marks_at(peers[leader].d.port, seen, &nseen, 64);
	ck_assert_uint_eq(nseen, 3);
	ck_assert(has_region(seen, nseen, 5));
	ck_assert(has_region(seen, nseen, 6));
	ck_assert(has_region(seen, nseen, 9));
}
END_TEST

/* ---------------------------------------------------------------- async helpers */

/* What one async request's callback saw. */
struct outcome {
	int calls;
	int status;
	uint64_t request_id;
	char errmsg[DMLOG_ERRMSG_SIZE];
};

static void on_done(struct dmlog_async *ac, int status, const struct dmlog_result *res, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->status = status;
	o->request_id = res ? res->request_id : 0;
	if (status < 0)
		snprintf(o->errmsg, sizeof(o->errmsg), "%s", dmlog_async_errmsg(ac));
}

/* Runs base for about ms milliseconds. */
static void run_for(struct event_base *base, unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Runs base until o's callback ran, at most timeout_ms; fails the test if it did not. */
static void wait_outcome(struct event_base *base, struct outcome *o, const char *what,
			 unsigned timeout_ms)
{
	uint64_t deadline = harness_now_ms() + timeout_ms;

	while (o->calls == 0 && harness_now_ms() < deadline)
		run_for(base, 20);
	ck_assert_msg(o->calls == 1, "%s: no answer within %u ms", what, timeout_ms);
}

static struct dmlog_async *async_handle(struct event_base *base, const struct dmlog_options *o)
{
	char err[DMLOG_ERRMSG_SIZE];
	struct dmlog_async *ac = dmlog_async_new(base, o, err);

	ck_assert_msg(ac != NULL, "dmlog_async_new: %s", err);
	return ac;
}

/* Frees ac and then base, letting libevent release what the handle closed. */
static void async_done(struct event_base *base, struct dmlog_async *ac)
{
	dmlog_async_free(ac);
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_free(base);
}

/* ---------------------------------------------------------------- b. kill -9 mid-request */

START_TEST(request_applied_then_server_killed_is_answered_from_the_exactly_once_table)
{
	struct tcp_proxy_route route = {.listen_port = testport_free()};
	struct tcp_proxy_options po = {.routes = &route, .n_routes = 1};
	struct tcp_proxy *proxy;
	struct event_base *base;
	struct dmlog_async *ac;
	struct dmlog_options o;
	struct ident id;
	struct outcome ctr = {0}, dtr = {0}, again = {0};
	char err[256];
	uint64_t deadline;

	solo_start();
	/* The handle reaches dmlogd through a proxy, which can lose the answers. */
	ck_assert_int_gt(route.listen_port, 0);
	route.target_port = solo.port;
	proxy = tcp_proxy_new(&po, err);
	ck_assert_msg(proxy != NULL, "proxy: %s", err);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	options(&o, &id, tcp_proxy_port(proxy, 0), certs, certs, "node-node1");
	ac = async_handle(base, &o);

	ck_assert_int_eq(dmlog_async_ctr(ac, &log_ref, ARGS, false, on_done, &ctr), 0);
	wait_outcome(base, &ctr, "CTR", 20000);
	ck_assert_msg(ctr.status == 0, "CTR: %s", ctr.errmsg);
	ck_assert_uint_eq(logs_at(solo.port), 1);

	/* The DTR reaches dmlogd and is applied (the log, whose only instance it was, is gone);
	 * its answer is thrown away on the way back. */
	ck_assert_int_eq(tcp_proxy_set(proxy, 0, TCP_PROXY_DOWN, TCP_PROXY_DROP, 0), 0);
	ck_assert_int_eq(dmlog_async_dtr(ac, &log_ref, on_done, &dtr), 0);
	deadline = harness_now_ms() + 20000;
	do
		run_for(base, 50);
	while (logs_at(solo.port) != 0 && harness_now_ms() < deadline);
	ck_assert_msg(logs_at(solo.port) == 0, "the DTR was not applied within 20 s");
	run_for(base, 200);
	ck_assert_int_eq(dtr.calls, 0);
	ck_assert_uint_eq(dmlog_async_pending(ac), 1);

	/* dmlogd dies with the answer unsent as far as the handle knows, and comes back on the
	 * same state and ports; the handle reconnects and resends. */
	dmlogd_stop(&solo, SIGKILL);
	ck_assert_int_eq(tcp_proxy_cut(proxy, 0), 0);
	ck_assert_int_eq(tcp_proxy_set(proxy, 0, TCP_PROXY_DOWN, TCP_PROXY_PASS, 0), 0);
	solo_start();
	wait_outcome(base, &dtr, "DTR after the restart", 25000);
	/* Applied again, the DTR would have failed: its instance is gone. */
	ck_assert_msg(dtr.status == 0, "the retried DTR was applied again: %d %s", dtr.status,
		      dtr.errmsg);
	ck_assert_uint_eq(logs_at(solo.port), 0);

	/* The same DTR under a new id is applied, and fails: the answer above was the stored
	 * one. */
	ck_assert_int_eq(dmlog_async_dtr(ac, &log_ref, on_done, &again), 0);
	wait_outcome(base, &again, "second DTR", 20000);
	ck_assert_int_eq(again.status, -EINVAL);
	ck_assert_msg(strstr(again.errmsg, "no such log instance"), "%s", again.errmsg);

	async_done(base, ac);
	tcp_proxy_free(proxy);
}
END_TEST

/* ---------------------------------------------------------------- c. deadlines */

START_TEST(deadline_expires_on_a_stopped_server_and_the_handle_recovers)
{
	struct dmlog_options o;
	struct ident id;
	struct dmlog *h;
	uint64_t t0, took;
	char dev[64];
	int rc;

	solo_start();
	options(&o, &id, solo.port, certs, certs, "node-node1");
	o.request_timeout_ms = 500;
	h = handle(&o);
	ck_assert_msg(dmlog_ping(h) == 0, "first ping: %s", dmlog_errmsg(h));

	ck_assert_int_eq(kill(solo.pid, SIGSTOP), 0);
	t0 = harness_now_ms();
	rc = dmlog_ping(h);
	took = harness_now_ms() - t0;
	ck_assert_int_eq(kill(solo.pid, SIGCONT), 0);
	ck_assert_int_eq(rc, -ETIMEDOUT);
	ck_assert_msg(took >= 490 && took < 3000, "timed out after %llu ms",
		      (unsigned long long)took);
	ck_assert_msg(strstr(dmlog_errmsg(h), "PING request") &&
		      strstr(dmlog_errmsg(h), "no reply within 500 ms"), "%s", dmlog_errmsg(h));

	/* Continued, dmlogd answers the same handle again (the late answer to the expired
	 * request is ignored). */
	ck_assert_msg(dmlog_ping(h) == 0, "ping after SIGCONT: %s", dmlog_errmsg(h));
	ck_assert_msg(dmlog_ctr(h, &log_ref, ARGS, false, dev, sizeof(dev)) == 0, "CTR: %s",
		      dmlog_errmsg(h));
	dmlog_free(h);
}
END_TEST

/* ---------------------------------------------------------------- d. pipelining */

static uint64_t called_ids[PIPELINE];   /* request ids, in the order the callbacks ran */
static size_t called_slot[PIPELINE];    /* submission index, same order */
static int called_status[PIPELINE];
static size_t ncalled;

static void on_pipelined(struct dmlog_async *ac, int status, const struct dmlog_result *res,
			 void *arg)
{
	(void)ac;
	ck_assert_uint_lt(ncalled, PIPELINE);
	called_slot[ncalled] = (size_t)(uintptr_t)arg;
	called_status[ncalled] = status;
	called_ids[ncalled] = res ? res->request_id : 0;
	ncalled++;
}

START_TEST(thousand_pipelined_requests_answered_in_the_order_of_their_ids)
{
	struct event_base *base;
	struct dmlog_async *ac;
	struct dmlog_options o;
	struct ident id;
	struct outcome ctr = {0}, resume = {0};
	uint64_t regions[PIPELINE], seen[PIPELINE];
	size_t nseen;
	uint64_t deadline;

	solo_start();
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	options(&o, &id, solo.port, certs, certs, "node-node1");
	ac = async_handle(base, &o);
	ck_assert_int_eq(dmlog_async_ctr(ac, &log_ref, ARGS, false, on_done, &ctr), 0);
	ck_assert_int_eq(dmlog_async_resume(ac, &log_ref, on_done, &resume), 0);
	wait_outcome(base, &resume, "RESUME", 20000);
	ck_assert_msg(ctr.status == 0 && resume.status == 0, "%s %s", ctr.errmsg, resume.errmsg);

	/* Every request is submitted before the loop runs again: all are in flight together. */
	ncalled = 0;
	for (size_t i = 0; i < PIPELINE; i++) {
		regions[i] = i;
		ck_assert_int_eq(dmlog_async_mark_region(ac, &log_ref, &regions[i], 1, on_pipelined,
							 (void *)(uintptr_t)i), 0);
	}
	ck_assert_uint_eq(dmlog_async_pending(ac), PIPELINE);
	deadline = harness_now_ms() + 60000;
	while (ncalled < PIPELINE && harness_now_ms() < deadline)
		run_for(base, 50);
	ck_assert_msg(ncalled == PIPELINE, "%zu of %d answered", ncalled, PIPELINE);
	for (size_t k = 0; k < PIPELINE; k++) {
		ck_assert_msg(called_status[k] == 0, "request %zu: %d", called_slot[k],
			      called_status[k]);
		ck_assert_msg(called_slot[k] == k, "callback %zu was for request %zu", k,
			      called_slot[k]);
		if (k > 0)
			ck_assert_uint_eq(called_ids[k], called_ids[k - 1] + 1);
	}
	ck_assert_uint_gt(called_ids[0], resume.request_id);
	ck_assert_uint_eq(dmlog_async_pending(ac), 0);
	async_done(base, ac);

	/* Each was applied. */
	marks_at(solo.port, seen, &nseen, PIPELINE);
	ck_assert_uint_eq(nseen, PIPELINE);
	for (uint64_t r = 0; r < PIPELINE; r += 37)
		ck_assert(has_region(seen, nseen, r));
}
END_TEST

/* ---------------------------------------------------------------- e. TLS failures */

/* Pings with o and expects -EACCES, quickly, with each of the NULL-terminated words in the
 * message. */
static void expect_refused(const struct dmlog_options *o, const char *case_name, ...)
{
	struct dmlog *h = handle(o);
	uint64_t t0 = harness_now_ms();
	int rc = dmlog_ping(h);
	uint64_t took = harness_now_ms() - t0;
	const char *msg = dmlog_errmsg(h);
	va_list ap;

	ck_assert_msg(rc == -EACCES, "%s: %d (%s)", case_name, rc, msg);
	/* A permanent failure: reported at once, not at the request's deadline. */
	ck_assert_msg(took < 10000, "%s: reported after %llu ms", case_name,
		      (unsigned long long)took);
	va_start(ap, case_name);
	for (const char *w = va_arg(ap, const char *); w; w = va_arg(ap, const char *))
		ck_assert_msg(strstr(msg, w), "%s: '%s' lacks '%s'", case_name, msg, w);
	va_end(ap);
	dmlog_free(h);
}

START_TEST(tls_failures_are_reported_with_their_reason)
{
	char other[320], other_state[320], where[64];
	struct dmlog_options o;
	struct ident id;

	solo_start();
	snprintf(other, sizeof(other), "%s/other", certs);
	snprintf(other_state, sizeof(other_state), "%s/other-state", dir);
	ck_assert_int_eq(mkdir(other_state, 0700), 0);
	ck_assert_msg(dmlogd_start(&stranger, other, other_state, NULL) == 0,
		      "dmlogd of the other CA did not start (see %s)", stranger.logfile);

	/* The server's certificate comes from a CA we do not trust. */
	options(&o, &id, stranger.port, certs, certs, "node-node1");
	snprintf(where, sizeof(where), "connect 127.0.0.1:%d", stranger.port);
	expect_refused(&o, "server of another CA", where, "TLS handshake: certificate verify failed",
		       (const char *)NULL);

	/* Ours comes from a CA the server does not trust. */
	options(&o, &id, solo.port, certs, other, "node-node1");
	snprintf(where, sizeof(where), "connect 127.0.0.1:%d", solo.port);
	expect_refused(&o, "client of another CA", where, "certificate refused by the server",
		       "unknown ca", (const char *)NULL);

	/* The server's certificate is good but not for the name asked. */
	options(&o, &id, solo.port, certs, certs, "node-node1");
	o.verify_name = "elsewhere.invalid";
	expect_refused(&o, "wrong name", where, "certificate verify failed", "hostname mismatch",
		       (const char *)NULL);

	/* And with everything right, the same server answers. */
	o.verify_name = NULL;
	{
		struct dmlog *h = handle(&o);

		ck_assert_msg(dmlog_ping(h) == 0, "good ping: %s", dmlog_errmsg(h));
		dmlog_free(h);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client");
	TCase *tc = testmain_tcase(s, "client", setup, teardown, 180);

	tcase_add_test(tc, follower_only_handle_is_answered_by_the_leader);
	tcase_add_test(tc, request_applied_then_server_killed_is_answered_from_the_exactly_once_table);
	tcase_add_test(tc, deadline_expires_on_a_stopped_server_and_the_handle_recovers);
	tcase_add_test(tc, thousand_pipelined_requests_answered_in_the_order_of_their_ids);
	tcase_add_test(tc, tls_failures_are_reported_with_their_reason);
	return testmain_run(s);
}
