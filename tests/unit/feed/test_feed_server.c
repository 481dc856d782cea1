/* test_feed_server.c: dmlogd's side of the IN_SYNC feed (server/feed.c, server/feed_hold.c).
 *
 * A real dmlogd; the "bridges" are raw TLS connections driven by hand, so that a test decides
 * when a bridge reads, acknowledges or renews. Pinned: a Watch answers with the copy and a
 * lease, and every later change of it is pushed in commit order, ahead of the reply that
 * acknowledges it; a SET_REGION_SYNC of another node waits for a leased bridge's
 * acknowledgement; a bridge that stops reading holds it for no less than its lease and not
 * much longer; a lagging bridge and an unknown feed get no lease; the requester's own feed is
 * not waited for; a just-started dmlogd holds changes for a lease; PRESUSPEND and node loss end
 * copies (DROP) and node loss pushes the lost node's regions out of sync; Watch errors.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dmlog.pb-c.h"
#include "harness.h"
#include "ops.h"

#define UUID "LVM-feed-0123456789abcdef"
#define ARGS "2048 clustered-core 2"           /* 1024 regions, out of sync */
#define NOSYNC "2048 clustered-core 2 nosync"
#define LEASE 1000
#define HOLD 1050                              /* FEED_LEASE_MS + FEED_HOLD_MARGIN_MS */

static char dir[256], certs[300], state[300];
static struct dmlogd d;
static uint64_t started_ms;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Starts dmlogd (again on the same ports and state after a stop). */
static void start(const char *const *extra)
{
	d.pid = 0;
	started_ms = now_ms();
	ck_assert_msg(dmlogd_start(&d, certs, state, extra) == 0, "dmlogd did not start (%s)",
		      d.logfile);
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	memset(&d, 0, sizeof(d));
	harness_tmpdir(dir, sizeof(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	harness_certs(certs);
	mkdir(state, 0700);
}

static void teardown(void)
{
	if (d.pid > 0)
		dmlogd_stop(&d, SIGKILL);
	if (!getenv("DMLOG_TEST_KEEP"))
		harness_rmdir(dir);
}

/* Waits out the hold of a just-started leader, so that timings measure the feed alone. */
static void past_start_hold(void)
{
	uint64_t until = started_ms + HOLD + 100;

	while (now_ms() < until)
		usleep(10 * 1000);
}

/* ---------------------------------------------------------------- a hand-driven bridge */

#define PUSHES_MAX 256

struct bridge {
	struct rawconn c;
	uint64_t next_id;
	Dmlog__ServerMessage *pushes[PUSHES_MAX]; /* received, not yet taken */
	size_t npushes;
};

static void bridge_open(struct bridge *b, const char *who, uint64_t client_id)
{
	char ca[400], cert[400], key[400];

	memset(b, 0, sizeof(*b));
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	snprintf(cert, sizeof(cert), "%s/%s.crt", certs, who);
	snprintf(key, sizeof(key), "%s/%s.key", certs, who);
	ck_assert_msg(rawconn_open(&b->c, d.port, ca, cert, key) == 0, "%s", b->c.err);
	ck_assert_msg(rawconn_hello(&b->c, client_id) == 0, "%s", b->c.err);
	b->next_id = 100;
}

static void bridge_close(struct bridge *b)
{
	for (size_t i = 0; i < b->npushes; i++)
		dmlog__server_message__free_unpacked(b->pushes[i], NULL);
	b->npushes = 0;
	rawconn_close(&b->c);
}

/* Reads until the answer to id comes (pushes are kept aside); NULL after timeout_ms. */
static Dmlog__ServerMessage *bridge_wait(struct bridge *b, uint64_t id, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		uint64_t now = now_ms();
		Dmlog__ServerMessage *m;

		if (now >= end)
			return NULL;
		m = rawconn_recv(&b->c, (int)(end - now));
		if (!m)
			return NULL;
		if (m->id == id)
			return m;
		ck_assert_msg(m->id == 0 && m->body_case == DMLOG__SERVER_MESSAGE__BODY_FEED_PUSH,
			      "unexpected message id %llu body %d", (unsigned long long)m->id,
			      (int)m->body_case);
		ck_assert_uint_lt(b->npushes, PUSHES_MAX);
		b->pushes[b->npushes++] = m;
	}
}

/* The next push (kept aside or read now); NULL after timeout_ms. Free it. */
static Dmlog__ServerMessage *bridge_push(struct bridge *b, int timeout_ms)
{
	Dmlog__ServerMessage *m;

	if (b->npushes) {
		m = b->pushes[0];
		memmove(b->pushes, b->pushes + 1, --b->npushes * sizeof(b->pushes[0]));
		return m;
	}
	m = rawconn_recv(&b->c, timeout_ms);
	if (m)
		ck_assert_int_eq(m->body_case, DMLOG__SERVER_MESSAGE__BODY_FEED_PUSH);
	return m;
}

static struct op OP(int kind, uint64_t luid)
{
	struct op o;

	memset(&o, 0, sizeof(o));
	o.kind = kind;
	o.uuid = UUID;
	o.luid = luid;
	return o;
}

static uint64_t bridge_send(struct bridge *b, const struct op *o)
{
	uint64_t id = b->next_id++;

	ck_assert_int_eq(op_send(&b->c, id, o), 0);
	return id;
}

/* Sends o and waits (10 s) for its answer, asserting success. */
static void bridge_ok(struct bridge *b, const struct op *o)
{
	uint64_t id = bridge_send(b, o);
	Dmlog__ServerMessage *r = bridge_wait(b, id, 10000);

	ck_assert_msg(r != NULL, "no answer to kind %d", o->kind);
	ck_assert_msg(op_errno(r) == 0, "kind %d: error %d", o->kind, op_errno(r));
	dmlog__server_message__free_unpacked(r, NULL);
}

static void bridge_open_log(struct bridge *b, uint64_t luid, const char *args)
{
	struct op o = OP(DMLOG__CLIENT_MESSAGE__BODY_CTR, luid);

	o.args = args;
	bridge_ok(b, &o);
	bridge_ok(b, &(struct op){.kind = DMLOG__CLIENT_MESSAGE__BODY_RESUME, .uuid = UUID,
				   .luid = luid});
}

static uint64_t send_set_sync(struct bridge *b, uint64_t luid, uint64_t region, bool in_sync)
{
	struct op o = OP(DMLOG__CLIENT_MESSAGE__BODY_SET_REGION_SYNC, luid);

	o.region = region;
	o.in_sync = in_sync;
	return bridge_send(b, &o);
}

/* Watch (uuid, luid): the answer (free it). */
static Dmlog__ServerMessage *bridge_watch(struct bridge *b, const char *uuid, uint64_t luid)
{
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__Watch w = DMLOG__WATCH__INIT;
	Dmlog__LogRef ref = DMLOG__LOG_REF__INIT;
	Dmlog__ServerMessage *r;

	ref.uuid = (char *)uuid;
	ref.luid = luid;
	ref.request_version = 3;
	w.log = &ref;
	m.id = b->next_id++;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_WATCH;
	m.watch = &w;
	ck_assert_int_eq(rawconn_send(&b->c, &m), 0);
	r = bridge_wait(b, m.id, 10000);
	ck_assert_ptr_nonnull(r);
	return r;
}

/* A successful Watch: the reply's copy. */
static Dmlog__WatchReply *watch_ok(Dmlog__ServerMessage *r)
{
	ck_assert_msg(r->body_case == DMLOG__SERVER_MESSAGE__BODY_WATCH, "watch: body %d err %d",
		      (int)r->body_case, op_errno(r));
	return r->watch;
}

/* FeedAck: the grant (free the message). */
static Dmlog__ServerMessage *bridge_ack(struct bridge *b, uint64_t feed_id, uint64_t seq)
{
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__FeedAck a = DMLOG__FEED_ACK__INIT;
	Dmlog__ServerMessage *r;

	a.feed_id = feed_id;
	a.seq = seq;
	m.id = b->next_id++;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_FEED_ACK;
	m.feed_ack = &a;
	ck_assert_int_eq(rawconn_send(&b->c, &m), 0);
	r = bridge_wait(b, m.id, 10000);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_FEED_GRANT);
	return r;
}

static void check_change(const Dmlog__FeedChange *c, uint64_t watch_id,
			 Dmlog__FeedChange__Kind kind, uint64_t first, uint64_t last, bool value)
{
	ck_assert_uint_eq(c->watch_id, watch_id);
	ck_assert_int_eq(c->kind, kind);
	if (kind == DMLOG__FEED_CHANGE__KIND__SYNC) {
		ck_assert_uint_eq(c->first, first);
		ck_assert_uint_eq(c->last, last);
	}
	ck_assert_int_eq(c->value, value);
}

/* ---------------------------------------------------------------- tests */

START_TEST(watch_copies_the_instance_and_pushes_changes_ahead_of_their_replies)
{
	struct bridge a;
	Dmlog__ServerMessage *r, *p;
	Dmlog__WatchReply *w;
	uint64_t feed_id, watch_id, id;

	start(NULL);
	bridge_open(&a, "node-node1", 1);
	bridge_open_log(&a, 1, ARGS);
	r = bridge_watch(&a, UUID, 1);
	w = watch_ok(r);
	ck_assert_uint_ne(w->feed_id, 0);
	ck_assert_uint_eq(w->seq, 0);
	ck_assert_uint_eq(w->region_count, 1024);
	ck_assert(!w->sticky);
	ck_assert_uint_eq(w->n_out_of_sync, 1);
	ck_assert_uint_eq(w->out_of_sync[0]->first, 0);
	ck_assert_uint_eq(w->out_of_sync[0]->last, 1023);
	ck_assert_uint_eq(w->lease_ms, LEASE);
	feed_id = w->feed_id;
	watch_id = w->watch_id;
	dmlog__server_message__free_unpacked(r, NULL);

	/* three changes, each push ahead of its reply, seqs 1, 2, 3 */
	for (uint64_t i = 0; i < 3; i++) {
		id = send_set_sync(&a, 1, 3 + i, true);
		p = rawconn_recv(&a.c, 10000);
		ck_assert_ptr_nonnull(p);
		ck_assert_msg(p->id == 0, "reply %llu before its push", (unsigned long long)p->id);
		ck_assert_uint_eq(p->feed_push->feed_id, feed_id);
		ck_assert_uint_eq(p->feed_push->seq, i + 1);
		ck_assert_uint_eq(p->feed_push->n_changes, 1);
		check_change(p->feed_push->changes[0], watch_id, DMLOG__FEED_CHANGE__KIND__SYNC,
			     3 + i, 3 + i, true);
		dmlog__server_message__free_unpacked(p, NULL);
		r = rawconn_recv(&a.c, 10000); /* the requester's own feed is not waited for */
		ck_assert_ptr_nonnull(r);
		ck_assert_uint_eq(r->id, id);
		ck_assert_int_eq(op_errno(r), 0);
		dmlog__server_message__free_unpacked(r, NULL);
	}
	/* the copy's lease is renewed by acknowledgements */
	r = bridge_ack(&a, feed_id, 3);
	ck_assert_uint_eq(r->feed_grant->feed_id, feed_id);
	ck_assert_uint_eq(r->feed_grant->lease_ms, LEASE);
	ck_assert_uint_eq(r->feed_grant->acked, 3);
	dmlog__server_message__free_unpacked(r, NULL);
	/* an acknowledgement beyond what was pushed counts only what was pushed */
	r = bridge_ack(&a, feed_id, 99);
	ck_assert_uint_eq(r->feed_grant->acked, 3);
	dmlog__server_message__free_unpacked(r, NULL);
	/* another feed's acknowledgement: no lease */
	r = bridge_ack(&a, feed_id + 1, 3);
	ck_assert_uint_eq(r->feed_grant->lease_ms, 0);
	dmlog__server_message__free_unpacked(r, NULL);
	/* PRESUSPEND ends the copy: DROP before the reply */
	id = bridge_send(&a, &(struct op){.kind = DMLOG__CLIENT_MESSAGE__BODY_PRESUSPEND,
					   .uuid = UUID, .luid = 1});
	p = rawconn_recv(&a.c, 10000);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->id, 0);
	check_change(p->feed_push->changes[0], watch_id, DMLOG__FEED_CHANGE__KIND__DROP, 0, 0,
		     false);
	dmlog__server_message__free_unpacked(p, NULL);
	r = bridge_wait(&a, id, 10000);
	ck_assert_ptr_nonnull(r);
	dmlog__server_message__free_unpacked(r, NULL);
	bridge_close(&a);
}
END_TEST

START_TEST(another_nodes_change_waits_for_the_watching_bridges_ack)
{
	struct bridge a, b;
	Dmlog__ServerMessage *r, *p;
	uint64_t feed_id, watch_id, id, t0;

	start(NULL);
	bridge_open(&a, "node-node1", 1);
	bridge_open(&b, "node-node2", 2);
	bridge_open_log(&a, 1, NOSYNC);
	bridge_open_log(&b, 2, NOSYNC);
	past_start_hold();
	r = bridge_watch(&a, UUID, 1);
	feed_id = watch_ok(r)->feed_id;
	watch_id = watch_ok(r)->watch_id;
	dmlog__server_message__free_unpacked(r, NULL);

	for (uint64_t region = 10; region < 13; region++) {
		/* renewed: the lease runs for this whole round */
		dmlog__server_message__free_unpacked(bridge_ack(&a, feed_id, region - 10), NULL);
		id = send_set_sync(&b, 2, region, false);
		p = bridge_push(&a, 10000);
		ck_assert_ptr_nonnull(p);
		check_change(p->feed_push->changes[0], watch_id, DMLOG__FEED_CHANGE__KIND__SYNC,
			     region, region, false);
		/* not acknowledged to node2 while node1's copy lacks it */
		r = bridge_wait(&b, id, 300);
		ck_assert_msg(r == NULL, "acknowledged before the watching bridge applied it");
		t0 = now_ms();
		dmlog__server_message__free_unpacked(bridge_ack(&a, feed_id, p->feed_push->seq),
						     NULL);
		dmlog__server_message__free_unpacked(p, NULL);
		r = bridge_wait(&b, id, 5000);
		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(op_errno(r), 0);
		ck_assert_uint_lt(now_ms() - t0, 500);
		dmlog__server_message__free_unpacked(r, NULL);
	}
	/* a change that does not touch IN_SYNC is not held */
	t0 = now_ms();
	bridge_ok(&b, &(struct op){.kind = DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION, .uuid = UUID,
				    .luid = 2, .n = 1, .regions = {40}});
	ck_assert_uint_lt(now_ms() - t0, 500);
	bridge_close(&a);
	bridge_close(&b);
}
END_TEST

START_TEST(a_bridge_that_stops_reading_holds_changes_for_its_lease_and_no_longer)
{
	struct bridge a, b;
	Dmlog__ServerMessage *r;
	uint64_t feed_id, id, t_watch, t_sent, t_acked;

	start(NULL);
	bridge_open(&a, "node-node1", 1);
	bridge_open(&b, "node-node2", 2);
	bridge_open_log(&a, 1, NOSYNC);
	bridge_open_log(&b, 2, NOSYNC);
	past_start_hold();
	t_watch = now_ms();
	r = bridge_watch(&a, UUID, 1);
	feed_id = watch_ok(r)->feed_id;
	ck_assert_uint_eq(watch_ok(r)->lease_ms, LEASE);
	dmlog__server_message__free_unpacked(r, NULL);
	/* node1's bridge reads nothing from now on */
	usleep(100 * 1000);
	t_sent = now_ms();
	id = send_set_sync(&b, 2, 77, false);
	r = bridge_wait(&b, id, 5000);
	t_acked = now_ms();
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(op_errno(r), 0);
	dmlog__server_message__free_unpacked(r, NULL);
	/* the lease counted from the Watch's receipt (after t_watch) must have run out */
	ck_assert_msg(t_acked - t_watch >= LEASE, "acknowledged %llu ms after the watch",
		      (unsigned long long)(t_acked - t_watch));
	ck_assert_msg(t_acked - t_watch <= LEASE + 400, "held %llu ms after the watch",
		      (unsigned long long)(t_acked - t_watch));
	ck_assert_uint_ge(t_acked - t_sent, LEASE - 200);
	/* its lease is gone: the next change is not held for it */
	t_sent = now_ms();
	id = send_set_sync(&b, 2, 78, false);
	r = bridge_wait(&b, id, 5000);
	ck_assert_ptr_nonnull(r);
	dmlog__server_message__free_unpacked(r, NULL);
	ck_assert_uint_lt(now_ms() - t_sent, 500);
	/* lagging (its oldest unapplied push is older than a lease): no lease for a renewal
	 * that does not acknowledge it */
	usleep(300 * 1000);
	r = bridge_ack(&a, feed_id, 0);
	ck_assert_uint_eq(r->feed_grant->lease_ms, 0);
	dmlog__server_message__free_unpacked(r, NULL);
	/* acknowledging everything makes it current again */
	r = bridge_ack(&a, feed_id, 2);
	ck_assert_uint_eq(r->feed_grant->acked, 2);
	ck_assert_uint_eq(r->feed_grant->lease_ms, LEASE);
	dmlog__server_message__free_unpacked(r, NULL);
	kill(d.pid, SIGUSR1);
	usleep(200 * 1000);
	ck_assert_int_ge(dmlogd_log_count(&d, "held_by_expiry=1"), 1);
	bridge_close(&a);
	bridge_close(&b);
}
END_TEST

START_TEST(a_closed_bridges_lease_still_holds_changes_until_it_runs_out)
{
	struct bridge a, b;
	Dmlog__ServerMessage *r;
	uint64_t id, t_watch;

	start(NULL);
	bridge_open(&a, "node-node1", 1);
	bridge_open(&b, "node-node2", 2);
	bridge_open_log(&a, 1, NOSYNC);
	bridge_open_log(&b, 2, NOSYNC);
	past_start_hold();
	t_watch = now_ms();
	r = bridge_watch(&a, UUID, 1);
	watch_ok(r);
	dmlog__server_message__free_unpacked(r, NULL);
	id = send_set_sync(&b, 2, 5, false);
	usleep(50 * 1000);
	/* the connection ends: the bridge may not know yet, so its lease still counts */
	bridge_close(&a);
	r = bridge_wait(&b, id, 5000);
	ck_assert_ptr_nonnull(r);
	dmlog__server_message__free_unpacked(r, NULL);
	ck_assert_uint_ge(now_ms() - t_watch, LEASE);
	bridge_close(&b);
}
END_TEST

START_TEST(a_new_leader_holds_changes_for_a_lease_after_it_starts)
{
	struct bridge b;
	Dmlog__ServerMessage *r;
	uint64_t id, t;

	start(NULL);
	bridge_open(&b, "node-node2", 2);
	bridge_open_log(&b, 2, NOSYNC);
	t = now_ms();
	if (t - started_ms >= HOLD)
		return; /* the machine was too slow to see the hold at all */
	id = send_set_sync(&b, 2, 5, false);
	r = bridge_wait(&b, id, 5000);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(op_errno(r), 0);
	dmlog__server_message__free_unpacked(r, NULL);
	/* the leader started after started_ms: its hold ends after started_ms + HOLD */
	ck_assert_uint_ge(now_ms() - started_ms, HOLD);
	/* RESUME is never held (feed_hold.c says why) */
	bridge_ok(&b, &(struct op){.kind = DMLOG__CLIENT_MESSAGE__BODY_PRESUSPEND, .uuid = UUID,
				    .luid = 2});
	dmlogd_stop(&d, SIGKILL);
	start(NULL);
	bridge_close(&b);
	bridge_open(&b, "node-node2", 3);
	t = now_ms();
	bridge_ok(&b, &(struct op){.kind = DMLOG__CLIENT_MESSAGE__BODY_RESUME, .uuid = UUID,
				    .luid = 2});
	ck_assert_uint_lt(now_ms() - t, HOLD / 2);
	bridge_close(&b);
}
END_TEST

START_TEST(node_loss_pushes_its_regions_and_ends_its_copies)
{
	struct bridge a, b;
	Dmlog__ServerMessage *r, *p;
	uint64_t a_feed, a_watch, end;
	bool seen = false;

	start((const char *const[]){"--node-lease=1s", NULL});
	bridge_open(&a, "node-node1", 1);
	bridge_open(&b, "node-node2", 2);
	bridge_open_log(&a, 1, NOSYNC);
	bridge_open_log(&b, 2, NOSYNC);
	r = bridge_watch(&a, UUID, 1);
	a_feed = watch_ok(r)->feed_id;
	a_watch = watch_ok(r)->watch_id;
	dmlog__server_message__free_unpacked(r, NULL);
	r = bridge_watch(&b, UUID, 2);
	watch_ok(r);
	dmlog__server_message__free_unpacked(r, NULL);
	bridge_ok(&b, &(struct op){.kind = DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION, .uuid = UUID,
				    .luid = 2, .n = 1, .regions = {300}});
	/* node2 goes silent; node1 keeps its session (and lease) alive with acknowledgements */
	end = now_ms() + 6000;
	while (!seen && now_ms() < end) {
		p = bridge_push(&a, 200);
		if (!p) {
			dmlog__server_message__free_unpacked(bridge_ack(&a, a_feed, 0), NULL);
			continue;
		}
		ck_assert_uint_eq(p->feed_push->n_changes, 1);
		check_change(p->feed_push->changes[0], a_watch, DMLOG__FEED_CHANGE__KIND__SYNC, 300,
			     300, false);
		dmlog__server_message__free_unpacked(bridge_ack(&a, a_feed, p->feed_push->seq),
						     NULL);
		dmlog__server_message__free_unpacked(p, NULL);
		seen = true;
	}
	ck_assert_msg(seen, "node2's region never left the sync");
	/* node2's own copy ended with its instance (it may read that push now) */
	p = bridge_push(&b, 2000);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->feed_push->changes[p->feed_push->n_changes - 1]->kind,
			 DMLOG__FEED_CHANGE__KIND__DROP);
	dmlog__server_message__free_unpacked(p, NULL);
	bridge_close(&a);
	bridge_close(&b);
}
END_TEST

START_TEST(watch_refuses_what_it_cannot_copy)
{
	struct bridge a;
	struct rawconn admin;
	Dmlog__ServerMessage *r;
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__Watch w = DMLOG__WATCH__INIT;
	char ca[400], cert[400], key[400];
	struct op ctr = OP(DMLOG__CLIENT_MESSAGE__BODY_CTR, 1);

	start(NULL);
	bridge_open(&a, "node-node1", 1);
	r = bridge_watch(&a, "LVM-nosuchlog", 1);
	ck_assert_int_eq(op_errno(r), -ENOENT);
	dmlog__server_message__free_unpacked(r, NULL);
	ctr.args = ARGS;
	bridge_ok(&a, &ctr);
	r = bridge_watch(&a, UUID, 1); /* pending, not resumed */
	ck_assert_int_eq(op_errno(r), -ENOENT);
	dmlog__server_message__free_unpacked(r, NULL);
	r = bridge_watch(&a, "", 1);
	ck_assert_int_eq(op_errno(r), -EINVAL);
	dmlog__server_message__free_unpacked(r, NULL);
	bridge_close(&a);
	/* only nodes watch */
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	snprintf(cert, sizeof(cert), "%s/admin-admin.crt", certs);
	snprintf(key, sizeof(key), "%s/admin-admin.key", certs);
	ck_assert_int_eq(rawconn_open(&admin, d.port, ca, cert, key), 0);
	ck_assert_int_eq(rawconn_hello(&admin, 9), 0);
	m.id = 5;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_WATCH;
	m.watch = &w;
	r = rawconn_call(&admin, &m, 5000);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(op_errno(r), -EPERM);
	dmlog__server_message__free_unpacked(r, NULL);
	ck_assert(rawconn_closed(&admin, 5000));
	rawconn_close(&admin);
}
END_TEST

static Suite *feed_suite(void)
{
	Suite *s = suite_create("feed_server");
	TCase *tc = tcase_create("feed");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, watch_copies_the_instance_and_pushes_changes_ahead_of_their_replies);
	tcase_add_test(tc, another_nodes_change_waits_for_the_watching_bridges_ack);
	tcase_add_test(tc, a_bridge_that_stops_reading_holds_changes_for_its_lease_and_no_longer);
	tcase_add_test(tc, a_closed_bridges_lease_still_holds_changes_until_it_runs_out);
	tcase_add_test(tc, a_new_leader_holds_changes_for_a_lease_after_it_starts);
	tcase_add_test(tc, node_loss_pushes_its_regions_and_ends_its_copies);
	tcase_add_test(tc, watch_refuses_what_it_cannot_copy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(feed_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
