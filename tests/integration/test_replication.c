/* test_replication.c: dmlogd peers replicating over mutual TLS, as real processes on 127.0.0.1.
 *
 * Each test makes its own certificates (peers dmlogd1..dmlogd5, nodes, an admin) and state
 * directories, starts three (or more) dmlogd with `peers` naming each other, and talks to them
 * like the client library would: a request that meets NotLeader is sent again, with the same
 * request id, to the address the follower named. Covered: election and redirects, kill -9 of
 * the leader (every acknowledged mark still dirty on the new leader, reads answer it), kill -9
 * of a follower, a restart of every peer at once, a wiped peer refused and then re-admitted by
 * peer remove + peer add with catch-up by snapshot, peer add and remove at runtime (the leader
 * too), the raft port refusing non-peer certificates and wrong identities, five peers losing
 * two, a leader cut off from its majority answering no read from its state, and the replicated
 * state converging (equal SHA-256 digests of the state machine at equal applied indexes).
 *
 * The follower kill -9, the restart of every peer and the follower cut off by a partition run
 * under a write load from two nodes (libdmlog handles knowing every peer), recorded by the
 * operation checker (checker.h) and judged by it afterwards. The follower tests also check the
 * leader's status: a voter it cannot reach is "unavailable" (dmlogctl status: degraded), and
 * is a follower again soon after it is back.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dmlog/dmlog.h>

#include "checker.h"
#include "group.h"
#include "harness.h"
#include "ops.h"
#include "peer_wire.h"
#include "tcp_proxy.h"
#include "testcerts.h"
#include "testmain.h"
#include "workload.h"

#define UUID "LVM-replicationtest0123456789abcdefABCDEF"
#define LUID 0xffff888000001000ull
#define MAXP 5

struct cluster {
	int n;                       /* peers started so far (slots 0..n-1) */
	struct group_peer p[MAXP];
};

static char dir[256], certs[300];
static struct cluster cl;
/* In the partition test: peers reach each other's raft ports through it (route_of()). */
static struct tcp_proxy *proxy;

static void sh(const char *cmd)
{
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	memset(&cl, 0, sizeof(cl));
	harness_tmpdir(dir, sizeof(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	harness_certs(certs);
	ck_assert_int_eq(group_certs(certs, MAXP), 0);
	/* node1 and node2 write under load; node3 is the checker's own. */
	ck_assert_int_eq(testcerts_make(certs, "node node3", NULL), 0);
	group_init(cl.p, MAXP, dir);
	proxy = NULL;
}

static void teardown(void)
{
	for (int i = 0; i < MAXP; i++)
		if (cl.p[i].d.pid > 0)
			dmlogd_stop(&cl.p[i].d, SIGKILL);
	tcp_proxy_free(proxy);
	proxy = NULL;
	harness_rmdir(dir);
}

/* The proxy route from peer i to peer j (i != j) among three. */
static size_t route_of(int i, int j)
{
	return (size_t)(i * 2 + (j > i ? j - 1 : j));
}

/* Starts peer i (raft id i + 1, certificate dmlogd<i+1>) with peers = the raft addresses of
 * slots [0, group) other than itself, plus the NULL-terminated more. */
static void peer_start(int i, int group, const char *const *more)
{
	const char *argv[20];
	int via[MAXP] = {0};
	int n = 0;

	for (int j = 0; proxy && j < group; j++)
		if (j != i)
			via[j] = tcp_proxy_port(proxy, route_of(i, j));
	group_args(cl.p, i, group, certs, proxy ? via : NULL);
	for (int k = 0; k < 5; k++)
		argv[n++] = cl.p[i].arg[k];
	for (int k = 0; more && more[k] && n < 18; k++)
		argv[n++] = more[k];
	argv[n] = NULL;
	ck_assert_msg(dmlogd_start(&cl.p[i].d, certs, cl.p[i].state, argv) == 0,
		      "dmlogd %d did not start (see %s)", i + 1, cl.p[i].d.logfile);
	if (i + 1 > cl.n)
		cl.n = i + 1;
}

static void cluster_start(int group, const char *const *more)
{
	for (int i = 0; i < group; i++)
		peer_start(i, group, more);
}

static int conn_as(struct rawconn *c, int i, const char *who)
{
	return rawconn_open_as(c, cl.p[i].d.port, certs, who);
}

/* The slot whose client port is in "127.0.0.1:PORT", or -1. */
static int slot_of(const char *address)
{
	const char *colon = address ? strrchr(address, ':') : NULL;
	int port = colon ? atoi(colon + 1) : 0;

	for (int i = 0; i < cl.n; i++)
		if (cl.p[i].d.port == port)
			return i;
	return -1;
}

static int next_live(int from)
{
	for (int k = 1; k <= cl.n; k++) {
		int i = (from + k) % cl.n;

		if (cl.p[i].d.pid > 0)
			return i;
	}
	return from;
}

/* A client that follows redirects: one connection at a time to slot `at`. */
struct client {
	struct rawconn c;
	bool open;
	int at;
	const char *who;  /* "node-node1", "admin-admin" */
	uint64_t client_id;
	int redirects;
};

static void client_init(struct client *k, const char *who, uint64_t client_id)
{
	memset(k, 0, sizeof(*k));
	k->who = who;
	k->client_id = client_id;
	k->at = 0;
}

static void client_drop(struct client *k)
{
	if (k->open)
		rawconn_close(&k->c);
	k->open = false;
}

/* Sends m until a reply that is not NotLeader nor a retryable error comes, within timeout_ms.
 * Returns the reply (free it) or NULL. */
static Dmlog__ServerMessage *client_call(struct client *k, Dmlog__ClientMessage *m, int timeout_ms)
{
	uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;

	while (harness_now_ms() < deadline) {
		Dmlog__ServerMessage *r;

		if (!k->open) {
			if (cl.p[k->at].d.pid <= 0)
				k->at = next_live(k->at);
			if (conn_as(&k->c, k->at, k->who) != 0 ||
			    (k->c.fd >= 0 && rawconn_hello(&k->c, k->client_id) != 0)) {
				rawconn_close(&k->c);
				k->at = next_live(k->at);
				usleep(50000);
				continue;
			}
			k->open = true;
		}
		r = rawconn_call(&k->c, m, 3000);
		if (!r) {
			client_drop(k);
			k->at = next_live(k->at);
			continue;
		}
		if (r->body_case == DMLOG__SERVER_MESSAGE__BODY_NOT_LEADER) {
			int to = slot_of(r->not_leader->leader_address);

			dmlog__server_message__free_unpacked(r, NULL);
			client_drop(k);
			k->redirects++;
			if (to >= 0 && to != k->at && cl.p[to].d.pid > 0) {
				k->at = to;
			} else {
				k->at = next_live(k->at);
				usleep(30000);
			}
			continue;
		}
		if (r->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR &&
		    (r->error->errno_neg == -EAGAIN || r->error->errno_neg == -ESHUTDOWN ||
		     r->error->errno_neg == -EIO)) {
			dmlog__server_message__free_unpacked(r, NULL);
			usleep(30000);
			continue;
		}
		return r;
	}
	return NULL;
}

static Dmlog__ServerMessage *client_op(struct client *k, uint64_t id, struct op *o, int want)
{
	struct op_msg msg;
	Dmlog__ServerMessage *r;

	ck_assert_int_eq(op_build(&msg, id, o), 0);
	r = client_call(k, &msg.m, 20000);
	ck_assert_msg(r != NULL, "no answer to request %llu", (unsigned long long)id);
	ck_assert_msg(r->body_case == (Dmlog__ServerMessage__BodyCase)want,
		      "request %llu: reply %d (%s), want %d", (unsigned long long)id, r->body_case,
		      r->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR ? r->error->message : "",
		      want);
	return r;
}

static struct op OPK(int kind)
{
	struct op o;

	memset(&o, 0, sizeof(o));
	o.kind = kind;
	o.uuid = UUID;
	o.luid = LUID;
	return o;
}

static void mark(struct client *k, uint64_t id, uint64_t region)
{
	struct op o = OPK(DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION);

	o.n = 1;
	o.regions[0] = region;
	dmlog__server_message__free_unpacked(client_op(k, id, &o, DMLOG__SERVER_MESSAGE__BODY_DONE),
					     NULL);
}

static bool is_clean(struct client *k, uint64_t id, uint64_t region)
{
	struct op o = OPK(DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN);
	Dmlog__ServerMessage *r;
	bool v;

	o.region = region;
	r = client_op(k, id, &o, DMLOG__SERVER_MESSAGE__BODY_BOOL_RESULT);
	v = r->bool_result->value;
	dmlog__server_message__free_unpacked(r, NULL);
	return v;
}

static void create_log(struct client *k, uint64_t *id)
{
	struct op o = OPK(DMLOG__CLIENT_MESSAGE__BODY_CTR);

	o.args = "1048576 clustered-core 1024 nosync";
	dmlog__server_message__free_unpacked(client_op(k, (*id)++, &o,
						       DMLOG__SERVER_MESSAGE__BODY_CTR), NULL);
	o = OPK(DMLOG__CLIENT_MESSAGE__BODY_RESUME);
	dmlog__server_message__free_unpacked(client_op(k, (*id)++, &o,
						       DMLOG__SERVER_MESSAGE__BODY_DONE), NULL);
}

/* The admin's client id on the direct queries below. */
#define ADMIN_ID 77

static Dmlog__ServerMessage *status_of(int i)
{
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__StatusRequest sr = DMLOG__STATUS_REQUEST__INIT;

	m.id = 5;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_ADMIN_STATUS;
	m.admin_status = &sr;
	return group_admin_call(&cl.p[i].d, certs, ADMIN_ID, &m);
}

/* The slot every live peer names as leader, once they agree (within timeout_ms); -1 if not. */
static int agreed_leader(int timeout_ms)
{
	uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;

	while (harness_now_ms() < deadline) {
		int leader = -1, votes = 0, live = 0;

		for (int i = 0; i < cl.n; i++) {
			Dmlog__ServerMessage *r;

			if (cl.p[i].d.pid <= 0)
				continue;
			live++;
			r = status_of(i);
			if (r && r->body_case == DMLOG__SERVER_MESSAGE__BODY_ADMIN_STATUS &&
			    strcmp(r->admin_status->raft_role, "leader") == 0) {
				leader = leader < 0 ? i : -2;
			}
			if (r && r->body_case == DMLOG__SERVER_MESSAGE__BODY_ADMIN_STATUS &&
			    r->admin_status->leader_id[0])
				votes++;
			if (r)
				dmlog__server_message__free_unpacked(r, NULL);
		}
		if (leader >= 0 && votes == live)
			return leader;
		usleep(100000);
	}
	return -1;
}

/* Waits until every live peer reports the same applied index and the same digest. */
static void assert_converged(int timeout_ms)
{
	group_assert_converged(cl.p, cl.n, ~0u, certs, ADMIN_ID, timeout_ms);
}

/* Starts slots [0, group) with more, waits (at most timeout_ms) for the leader they agree on,
 * and creates the test log through it as node1 with k (left open at the leader). Returns the
 * leader's slot. */
static int start_with_log(int group, const char *const *more, int timeout_ms, struct client *k,
			  uint64_t *id)
{
	int leader;

	cluster_start(group, more);
	leader = agreed_leader(timeout_ms);
	ck_assert_int_ge(leader, 0);
	client_init(k, "node-node1", 1);
	k->at = leader;
	create_log(k, id);
	return leader;
}

static Dmlog__ServerMessage *peer_change(struct client *admin, uint64_t id, bool add,
					 uint64_t raft_id, int raft_port, const char *name)
{
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__PeerAddRequest a = DMLOG__PEER_ADD_REQUEST__INIT;
	Dmlog__PeerRemoveRequest rm = DMLOG__PEER_REMOVE_REQUEST__INIT;
	char address[40];

	m.id = id;
	if (add) {
		snprintf(address, sizeof(address), "127.0.0.1:%d", raft_port);
		a.raft_id = raft_id;
		a.raft_address = address;
		a.id = (char *)name;
		m.body_case = DMLOG__CLIENT_MESSAGE__BODY_ADMIN_PEER_ADD;
		m.admin_peer_add = &a;
	} else {
		rm.raft_id = raft_id;
		m.body_case = DMLOG__CLIENT_MESSAGE__BODY_ADMIN_PEER_REMOVE;
		m.admin_peer_remove = &rm;
	}
	return client_call(admin, &m, 30000);
}

/* Waits until every live peer lists every member with its client address (the leader's
 * announcements are in everyone's peer table). */
static void wait_peer_table(int timeout_ms)
{
	uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
	bool done = false;

	while (!done && harness_now_ms() < deadline) {
		done = true;
		for (int i = 0; i < cl.n && done; i++) {
			Dmlog__ServerMessage *r;

			if (cl.p[i].d.pid <= 0)
				continue;
			r = status_of(i);
			done = r && r->body_case == DMLOG__SERVER_MESSAGE__BODY_ADMIN_STATUS;
			for (size_t j = 0; done && j < r->admin_status->n_peers; j++)
				done = slot_of(r->admin_status->peers[j]->client_address) >= 0;
			if (r)
				dmlog__server_message__free_unpacked(r, NULL);
		}
		if (!done)
			usleep(100000);
	}
	ck_assert_msg(done, "the peer table did not fill");
}

static void expect_members(int i, size_t n)
{
	Dmlog__ServerMessage *r = status_of(i);

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_ADMIN_STATUS);
	ck_assert_uint_eq(r->admin_status->n_peers, n);
	dmlog__server_message__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ status of the voters */

/* The role slot i gives member raft id `raft_id` in its status ("" when it did not answer or
 * does not list it); *healthy gets its healthy flag. */
static void role_in_status(int i, uint64_t raft_id, char *role, size_t len, bool *healthy)
{
	Dmlog__ServerMessage *r = status_of(i);

	role[0] = '\0';
	*healthy = false;
	if (r && r->body_case == DMLOG__SERVER_MESSAGE__BODY_ADMIN_STATUS) {
		*healthy = r->admin_status->healthy;
		for (size_t j = 0; j < r->admin_status->n_peers; j++)
			if (r->admin_status->peers[j]->raft_id == raft_id)
				snprintf(role, len, "%s", r->admin_status->peers[j]->role);
	}
	if (r)
		dmlog__server_message__free_unpacked(r, NULL);
}

/* Waits (at most timeout_ms) until the leader in slot `leader` shows slot `who` with the role
 * `want` ("unavailable", "follower") and itself healthy; returns the ms it took, or fails. */
static uint64_t wait_role(int leader, int who, const char *want, int timeout_ms)
{
	uint64_t t0 = harness_now_ms(), deadline = t0 + (uint64_t)timeout_ms;
	char role[32] = "";
	bool healthy = false;

	while (harness_now_ms() < deadline) {
		role_in_status(leader, (uint64_t)who + 1, role, sizeof(role), &healthy);
		if (healthy && strcmp(role, want) == 0)
			return harness_now_ms() - t0;
		usleep(50 * 1000);
	}
	ck_abort_msg("the leader dmlogd%d shows dmlogd%d as \"%s\" (healthy %d), not \"%s\", "
		     "after %d ms", leader + 1, who + 1, role, healthy, want, timeout_ms);
	return 0;
}

/* Asserts what dmlogctl status reads as degraded from the leader's answer: it serves, `gone`
 * is unavailable, every other voter is not. */
static void assert_degraded(int leader, int gone)
{
	Dmlog__ServerMessage *r = status_of(leader);

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_ADMIN_STATUS);
	ck_assert(r->admin_status->healthy);
	ck_assert_str_eq(r->admin_status->raft_role, "leader");
	ck_assert_uint_eq(r->admin_status->n_peers, 3);
	for (size_t j = 0; j < 3; j++) {
		Dmlog__PeerInfo *p = r->admin_status->peers[j];

		ck_assert_msg(strcmp(p->role, "unavailable") == 0 ||
			      p->raft_id != (uint64_t)gone + 1,
			      "dmlogd%d is %s", gone + 1, p->role);
		ck_assert_msg(strcmp(p->role, "unavailable") != 0 ||
			      p->raft_id == (uint64_t)gone + 1,
			      "dmlogd%llu is unavailable too", (unsigned long long)p->raft_id);
	}
	dmlog__server_message__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ load under the checker */

#define LOAD_UUID "LVM-replicationload0123456789abcdefABCDEF"
#define LOAD_ARGS "1048576 clustered-core 1024 nosync"
#define LOAD_REGIONS 1024
#define LOAD_WORKERS 2
#define LOAD_TIMEOUT_MS 20000
#define CHECKER_LUID UINT64_C(0xffff8880c0ffee00)

static const char *const load_nodes[LOAD_WORKERS] = {"node1", "node2"};
static const char *const load_uuids[1] = {LOAD_UUID};

static struct checker *chk;
static struct workload WL;

/* A round of worker w: marks a region of its own and one of four shared by both nodes, makes
 * the marks durable (FLUSH, every other round carrying a third region), reads one back, then
 * clears the shared one and two of three of its own: what stays marked must stay dirty
 * through every fault (the checker's durability rule), the shared ones are cleared by every
 * node that marked them only sometimes. */
static void load_round(struct dmlog *h, struct workload_worker *w, unsigned c)
{
	uint64_t own = 16 + (uint64_t)w->node * 400 + c % 300, shared = c % 4;
	uint64_t both[2] = {own, shared}, integ = 900 + (uint64_t)w->node * 60 + c % 60;

	workload_op(h, w, 0, CHECKER_MARK, both, 2, false);
	workload_op(h, w, 0, CHECKER_FLUSH, &integ, c % 2, false);
	workload_op(h, w, 0, CHECKER_IS_CLEAN, &own, 1, false);
	workload_op(h, w, 0, CHECKER_IS_CLEAN, &shared, 1, false);
	workload_op(h, w, 0, CHECKER_CLEAR, c % 3 ? both : &shared, c % 3 ? 2 : 1, false);
	workload_op(h, w, 0, CHECKER_FLUSH, NULL, 0, false);
}

/* Waits until both writers have done `rounds` more rounds (within timeout_ms). */
static void load_progress(unsigned rounds, int timeout_ms)
{
	workload_progress(&WL, rounds, timeout_ms);
}

/* The checker and the two writers on slots [0, 3), once both have made progress. */
static void load_start(void)
{
	workload_init(&WL, &(struct workload_spec){
		.peers = cl.p, .certs = certs, .node_names = load_nodes, .n_nodes = LOAD_WORKERS,
		.uuids = load_uuids, .n_logs = 1, .ctr_args = LOAD_ARGS,
		.region_count = LOAD_REGIONS, .timeout_ms = LOAD_TIMEOUT_MS, .cycle = load_round});
	chk = WL.chk;
	workload_start(&WL, LOAD_WORKERS, UINT64_C(0xffff888000200000), 1, 3);
	load_progress(3, 20000);
}

/* Stops the writers, then the checker judges the history against the group's final state:
 * nothing it reports, and no request ended with an error. */
static void load_stop_and_verify(void)
{
	workload_stop(&WL);
	workload_assert_verified(&WL, 3, "node-node3", CHECKER_LUID);
	workload_assert_no_errors(&WL);
	ck_assert_uint_gt(checker_acked(chk), 0);
	checker_free(chk);
	chk = NULL;
}

/* ------------------------------------------------------------------ tests */

START_TEST(three_peers_elect_and_followers_redirect)
{
	struct client k;
	struct rawconn c;
	Dmlog__ServerMessage *r;
	struct op o;
	uint64_t id = 10;
	int leader, follower;
	char want[40];

	cluster_start(3, NULL);
	leader = agreed_leader(15000);
	ck_assert_int_ge(leader, 0);
	follower = (leader + 1) % 3;
	wait_peer_table(10000);

	client_init(&k, "node-node1", 1);
	k.at = leader;
	create_log(&k, &id);
	mark(&k, id++, 7);
	client_drop(&k);

	/* A node talking to a follower learns the leader's client address. */
	ck_assert_int_eq(conn_as(&c, follower, "node-node1"), 0);
	ck_assert_int_eq(rawconn_hello(&c, 1), 0);
	o = OPK(DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN);
	o.region = 7;
	r = op_call(&c, id++, &o);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_NOT_LEADER);
	snprintf(want, sizeof(want), "127.0.0.1:%d", cl.p[leader].d.port);
	ck_assert_str_eq(r->not_leader->leader_address, want);
	ck_assert_str_ne(r->not_leader->leader_id, "");
	dmlog__server_message__free_unpacked(r, NULL);
	rawconn_close(&c);

	/* Every peer lists all three with their client addresses. */
	for (int i = 0; i < 3; i++) {
		r = status_of(i);
		ck_assert_ptr_nonnull(r);
		ck_assert_uint_eq(r->admin_status->n_peers, 3);
		for (size_t j = 0; j < 3; j++) {
			Dmlog__PeerInfo *p = r->admin_status->peers[j];

			ck_assert_int_eq(slot_of(p->client_address), (int)p->raft_id - 1);
			ck_assert(p->voter);
		}
		dmlog__server_message__free_unpacked(r, NULL);
	}
	client_init(&k, "node-node1", 1);
	k.at = follower;
	ck_assert(!is_clean(&k, id++, 7));
	ck_assert_int_ge(k.redirects, 1);
	client_drop(&k);
	assert_converged(10000);
}
END_TEST

START_TEST(leader_kill9_loses_no_acknowledged_mark)
{
	struct client k;
	uint64_t id = 10;
	int leader, next;

	leader = start_with_log(3, NULL, 15000, &k, &id);
	for (uint64_t x = 0; x < 40; x++)
		mark(&k, id++, x);
	dmlogd_stop(&cl.p[leader].d, SIGKILL);
	/* The same client goes on: its next requests find the new leader. */
	for (uint64_t x = 0; x < 40; x++)
		ck_assert_msg(!is_clean(&k, id++, x), "acknowledged mark of region %llu lost",
			      (unsigned long long)x);
	mark(&k, id++, 100);
	ck_assert(is_clean(&k, id++, 101));
	next = agreed_leader(10000);
	ck_assert_int_ge(next, 0);
	ck_assert_int_ne(next, leader);
	client_drop(&k);

	/* The old leader comes back as a follower and catches up. */
	peer_start(leader, 3, NULL);
	assert_converged(20000);
}
END_TEST

START_TEST(follower_kill9_writes_go_on)
{
	struct client k;
	uint64_t id = 10, took;
	int leader, follower;
	size_t acked;

	leader = start_with_log(3, NULL, 15000, &k, &id);
	follower = (leader + 2) % 3;
	wait_role(leader, follower, "follower", 5000);
	load_start();
	dmlogd_stop(&cl.p[follower].d, SIGKILL);
	for (uint64_t x = 0; x < 30; x++)
		mark(&k, id++, x);
	ck_assert_int_eq(k.redirects, 0);
	load_progress(3, 20000);
	ck_assert_int_eq(agreed_leader(5000), leader);

	/* The leader no longer hears from it: status says so (dmlogctl status: degraded). */
	took = wait_role(leader, follower, "unavailable", 3000);
	fprintf(stderr, "follower kill -9: unavailable in the leader's status after %llu ms\n",
		(unsigned long long)took);
	assert_degraded(leader, follower);
	acked = checker_acked(chk);
	load_progress(3, 20000);
	ck_assert_uint_gt(checker_acked(chk), acked);

	/* Back: a follower again within a few election timeouts (quiet start included). */
	peer_start(follower, 3, NULL);
	took = wait_role(leader, follower, "follower", 5000);
	fprintf(stderr, "follower restarted: a follower in the leader's status after %llu ms\n",
		(unsigned long long)took);
	load_progress(3, 20000);
	load_stop_and_verify();
	assert_converged(20000);
	client_drop(&k);
}
END_TEST

START_TEST(all_peers_restart_with_state_intact)
{
	struct client k;
	uint64_t id = 10;
	struct group_digest before, after;

	start_with_log(3, NULL, 15000, &k, &id);
	for (uint64_t x = 0; x < 25; x++)
		mark(&k, id++, x * 3);
	client_drop(&k);
	assert_converged(10000);
	ck_assert(group_digest(&cl.p[0].d, certs, ADMIN_ID, &before));
	/* The writers go on through it: their requests wait for the group and are retried. */
	load_start();
	for (int i = 0; i < 3; i++)
		dmlogd_stop(&cl.p[i].d, SIGKILL);
	cluster_start(3, NULL);
	ck_assert_int_ge(agreed_leader(15000), 0);
	load_progress(5, 30000);
	load_stop_and_verify();
	client_init(&k, "node-node1", 1);
	for (uint64_t x = 0; x < 25; x++) {
		ck_assert(!is_clean(&k, id++, x * 3));
		ck_assert(is_clean(&k, id++, x * 3 + 1));
	}
	client_drop(&k);
	assert_converged(10000);
	/* Only the new leaders' own entries (barrier, announcements, leases) came on top. */
	ck_assert(group_digest(&cl.p[0].d, certs, ADMIN_ID, &after));
	ck_assert_uint_gt(after.applied, before.applied);
}
END_TEST

START_TEST(isolated_follower_catches_up_and_the_majority_goes_on)
{
	struct tcp_proxy_route routes[6];
	struct tcp_proxy_options po;
	char err[256];
	int leader, cut;
	size_t acked;
	uint64_t took;

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			if (i != j)
				routes[route_of(i, j)] =
					(struct tcp_proxy_route){0, cl.p[j].d.raft_port};
	memset(&po, 0, sizeof(po));
	po.routes = routes;
	po.n_routes = 6;
	po.child_process = true;
	proxy = tcp_proxy_new(&po, err);
	ck_assert_msg(proxy != NULL, "%s", err);
	cluster_start(3, NULL);
	leader = agreed_leader(15000);
	ck_assert_int_ge(leader, 0);
	cut = (leader + 1) % 3;
	wait_role(leader, cut, "follower", 5000);
	load_start();

	/* Every byte between the follower and the two others is held (TCP stays up). */
	for (int j = 0; j < 3; j++) {
		if (j == cut)
			continue;
		ck_assert_int_eq(tcp_proxy_set(proxy, route_of(cut, j), TCP_PROXY_BOTH,
					       TCP_PROXY_BLACKHOLE, 0), 0);
		ck_assert_int_eq(tcp_proxy_set(proxy, route_of(j, cut), TCP_PROXY_BOTH,
					       TCP_PROXY_BLACKHOLE, 0), 0);
	}
	took = wait_role(leader, cut, "unavailable", 3000);
	fprintf(stderr, "follower partition: unavailable in the leader's status after %llu ms\n",
		(unsigned long long)took);
	/* The majority keeps its leader (pre-vote: the cut-off follower cannot depose it) and
	 * goes on acknowledging. */
	acked = checker_acked(chk);
	load_progress(5, 20000);
	ck_assert_uint_gt(checker_acked(chk), acked);
	assert_degraded(leader, cut);

	/* Healed: it catches up, and every peer holds one state. */
	ck_assert_int_eq(tcp_proxy_set(proxy, TCP_PROXY_ALL, TCP_PROXY_BOTH, TCP_PROXY_PASS, 0), 0);
	took = wait_role(leader, cut, "follower", 5000);
	fprintf(stderr, "follower partition healed: a follower again after %llu ms\n",
		(unsigned long long)took);
	ck_assert_int_eq(agreed_leader(5000), leader);
	load_progress(3, 20000);
	load_stop_and_verify();
	assert_converged(20000);
}
END_TEST

START_TEST(wiped_peer_is_refused_until_removed_and_added)
{
	static const char *const snap[] = {"--snapshot-threshold=64", "--snapshot-trailing=16", NULL};
	struct client k, admin;
	uint64_t id = 10;
	int leader, victim;
	char cmd[700];
	Dmlog__ServerMessage *r;

	leader = start_with_log(3, snap, 15000, &k, &id);
	victim = (leader + 1) % 3;
	wait_peer_table(10000); /* the victim's incarnation is in everyone's peer table */
	dmlogd_stop(&cl.p[victim].d, SIGKILL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/raft' && rm -f '%s/dmlogd.log'", cl.p[victim].state,
		 cl.p[victim].state);
	sh(cmd);
	/* Enough entries for snapshots: the victim must catch up from one. */
	for (uint64_t x = 0; x < 150; x++)
		mark(&k, id++, x);
	peer_start(victim, 3, snap);
	for (int i = 0; i < 100 && dmlogd_log_count(&cl.p[leader].d, "new data directory") == 0;
	     i++)
		usleep(100000);
	ck_assert_int_ge(dmlogd_log_count(&cl.p[leader].d, "new data directory"), 1);
	mark(&k, id++, 500); /* the two others still commit */

	client_init(&admin, "admin-admin", 9);
	admin.at = leader;
	r = peer_change(&admin, 100, false, (uint64_t)victim + 1, 0, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_ADMIN_PEER_CHANGE);
	ck_assert_uint_eq(r->admin_peer_change->n_peers, 2);
	dmlog__server_message__free_unpacked(r, NULL);
	snprintf(cmd, sizeof(cmd), "dmlogd%d", victim + 1);
	r = peer_change(&admin, 101, true, (uint64_t)victim + 1, cl.p[victim].d.raft_port, cmd);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->body_case == DMLOG__SERVER_MESSAGE__BODY_ADMIN_PEER_CHANGE, "add: %s",
		      r->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR ? r->error->message : "?");
	ck_assert_uint_eq(r->admin_peer_change->n_peers, 3);
	dmlog__server_message__free_unpacked(r, NULL);
	client_drop(&admin);
	mark(&k, id++, 501);
	client_drop(&k);
	assert_converged(20000);
	for (int i = 0; i < 3; i++)
		expect_members(i, 3);
	/* It started empty, so a restore can only be the leader's snapshot. */
	ck_assert_int_ge(dmlogd_log_count(&cl.p[victim].d, "state restored from a snapshot"), 1);
}
END_TEST

START_TEST(peers_added_and_removed_at_runtime)
{
	struct client k, admin;
	uint64_t id = 10, aid = 100;
	int leader, gone;
	Dmlog__ServerMessage *r;

	leader = start_with_log(3, NULL, 15000, &k, &id);
	for (uint64_t x = 0; x < 20; x++)
		mark(&k, id++, x);

	/* A fourth peer starts knowing the group, then the admin adds it. */
	peer_start(3, 3, NULL);
	client_init(&admin, "admin-admin", 9);
	admin.at = (leader + 1) % 3; /* through a redirect */
	r = peer_change(&admin, aid++, true, 4, cl.p[3].d.raft_port, "dmlogd4");
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->body_case == DMLOG__SERVER_MESSAGE__BODY_ADMIN_PEER_CHANGE, "add: %s",
		      r->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR ? r->error->message : "?");
	ck_assert_uint_eq(r->admin_peer_change->n_peers, 4);
	dmlog__server_message__free_unpacked(r, NULL);
	/* Adding it again is refused. */
	r = peer_change(&admin, aid++, true, 4, cl.p[3].d.raft_port, "dmlogd4");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_ERROR);
	ck_assert_int_eq(r->error->errno_neg, -EEXIST);
	dmlog__server_message__free_unpacked(r, NULL);
	mark(&k, id++, 40);
	assert_converged(20000);
	for (int i = 0; i < 4; i++)
		expect_members(i, 4);

	/* Remove a follower, then the leader itself (it hands over, then the new leader does it). */
	gone = (leader + 1) % 3;
	r = peer_change(&admin, aid++, false, (uint64_t)gone + 1, 0, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_ADMIN_PEER_CHANGE);
	ck_assert_uint_eq(r->admin_peer_change->n_peers, 3);
	dmlog__server_message__free_unpacked(r, NULL);
	dmlogd_stop(&cl.p[gone].d, SIGTERM);
	mark(&k, id++, 41);
	r = peer_change(&admin, aid++, false, (uint64_t)leader + 1, 0, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->body_case == DMLOG__SERVER_MESSAGE__BODY_ADMIN_PEER_CHANGE, "remove: %s",
		      r->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR ? r->error->message : "?");
	ck_assert_uint_eq(r->admin_peer_change->n_peers, 2);
	dmlog__server_message__free_unpacked(r, NULL);
	client_drop(&admin);
	dmlogd_stop(&cl.p[leader].d, SIGTERM);
	for (uint64_t x = 0; x < 20; x++)
		ck_assert(!is_clean(&k, id++, x));
	mark(&k, id++, 42);
	client_drop(&k);
	assert_converged(20000);
	for (int i = 0; i < 4; i++)
		if (cl.p[i].d.pid > 0)
			expect_members(i, 2);
}
END_TEST

/* Raw bytes of a HELLO claiming raft id `raft_id`. */
static size_t hello_frame(uint8_t *buf, size_t cap, uint64_t raft_id)
{
	struct peer_hello h;

	memset(&h, 0, sizeof(h));
	h.raft_id = raft_id;
	h.incarnation = 12345;
	snprintf(h.address, sizeof(h.address), "127.0.0.1:1");
	return peer_wire_hello(buf, cap, PEER_FRAME_HELLO, &h);
}

/* Connects to slot i's raft port as `who` of cdir and sends a HELLO for raft_id; true when the
 * peer answered WELCOME with status 0. *tls_ok tells whether the TLS handshake worked. */
static bool raft_hello(int i, const char *cdir, const char *who, uint64_t raft_id, bool *tls_ok)
{
	uint8_t buf[1100], hdr[PEER_WIRE_HEADER], type, st[4];
	uint32_t len;
	size_t n;
	struct rawconn c;
	bool welcome = false;

	*tls_ok = rawconn_open_as(&c, cl.p[i].d.raft_port, cdir, who) == 0;
	n = hello_frame(buf, sizeof(buf), raft_id);
	if (*tls_ok && n && rawconn_write(&c, buf, n) == 0 &&
	    rawconn_read(&c, hdr, sizeof(hdr), 5000) == 0) {
		peer_wire_parse_header(hdr, &type, &len);
		welcome = type == PEER_FRAME_WELCOME && len >= 4 &&
			  rawconn_read(&c, st, 4, 5000) == 0 && (st[0] | st[1] | st[2] | st[3]) == 0;
	}
	rawconn_close(&c);
	return welcome;
}

START_TEST(raft_port_refuses_other_roles_and_identities)
{
	bool tls_ok;
	char other[400];
	int leader;

	/* The quiet start (an election timeout) has passed once the group has a leader. */
	cluster_start(3, NULL);
	leader = agreed_leader(15000);
	ck_assert_int_ge(leader, 0);
	wait_peer_table(10000); /* the peer table binds dmlogd1..3 to raft ids 1..3 */

	/* A node certificate: TLS works (same CA), the role check closes it. */
	ck_assert(!raft_hello(leader, certs, "node-node1", 9, &tls_ok));
	ck_assert(tls_ok);
	ck_assert_int_ge(dmlogd_log_count(&cl.p[leader].d,
					  "raft peer connection refused: certificate role node"), 1);
	/* An admin certificate likewise. */
	ck_assert(!raft_hello(leader, certs, "admin-admin", 9, &tls_ok));
	ck_assert_int_ge(dmlogd_log_count(&cl.p[leader].d, "certificate role admin"), 1);
	/* A peer certificate from another CA: no TLS at all. */
	snprintf(other, sizeof(other), "%s/other", certs);
	ck_assert(!raft_hello(leader, other, "peer-dmlogd1", 1, &tls_ok));
	ck_assert(!tls_ok);
	/* A good peer certificate claiming another peer's raft id, or its own with a different
	 * data directory: refused with the reason. */
	ck_assert(!raft_hello(leader, certs, "peer-dmlogd5", (uint64_t)((leader + 1) % 3) + 1,
			      &tls_ok));
	ck_assert(tls_ok);
	ck_assert_int_ge(dmlogd_log_count(&cl.p[leader].d, "belongs to certificate CN"), 1);
	{
		char who[32];
		int f = (leader + 1) % 3;

		snprintf(who, sizeof(who), "peer-dmlogd%d", f + 1);
		ck_assert(!raft_hello(leader, certs, who, (uint64_t)f + 1, &tls_ok));
		ck_assert_int_ge(dmlogd_log_count(&cl.p[leader].d, "new data directory"), 1);
	}
	/* The group is unaffected. */
	ck_assert_int_eq(agreed_leader(5000), leader);
}
END_TEST

START_TEST(five_peers_survive_two_kills)
{
	struct client k;
	uint64_t id = 10;
	int leader, other;

	leader = start_with_log(5, NULL, 20000, &k, &id);
	for (uint64_t x = 0; x < 20; x++)
		mark(&k, id++, x);
	/* Two of five gone, the leader among them: three still make a majority. */
	other = (leader + 2) % 5;
	dmlogd_stop(&cl.p[other].d, SIGKILL);
	dmlogd_stop(&cl.p[leader].d, SIGKILL);
	for (uint64_t x = 0; x < 20; x++)
		ck_assert(!is_clean(&k, id++, x));
	mark(&k, id++, 99);
	client_drop(&k);
	ck_assert_int_ge(agreed_leader(10000), 0);
	assert_converged(20000);
}
END_TEST

START_TEST(leader_without_majority_answers_no_read)
{
	struct rawconn c;
	struct op o;
	Dmlog__ServerMessage *r;
	struct client k;
	uint64_t id = 10;
	int leader;

	leader = start_with_log(3, NULL, 15000, &k, &id);
	mark(&k, id++, 5);
	client_drop(&k);
	ck_assert_int_eq(conn_as(&c, leader, "node-node1"), 0);
	ck_assert_int_eq(rawconn_hello(&c, 2), 0);
	for (int i = 0; i < 3; i++)
		if (i != leader)
			dmlogd_stop(&cl.p[i].d, SIGKILL);
	usleep(400 * 1000); /* past every promise its followers gave */
	/* It may still believe it leads, but it has no read lease: no answer from its state. */
	for (int n = 0; n < 5; n++) {
		o = OPK(DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN);
		o.region = 5;
		r = op_call(&c, id++, &o);
		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_NOT_LEADER);
		dmlog__server_message__free_unpacked(r, NULL);
	}
	rawconn_close(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("replication");
	TCase *tc = testmain_tcase(s, "peers", setup, teardown, 180);

	tcase_add_test(tc, three_peers_elect_and_followers_redirect);
	tcase_add_test(tc, leader_kill9_loses_no_acknowledged_mark);
	tcase_add_test(tc, follower_kill9_writes_go_on);
	tcase_add_test(tc, all_peers_restart_with_state_intact);
	tcase_add_test(tc, isolated_follower_catches_up_and_the_majority_goes_on);
	tcase_add_test(tc, wiped_peer_is_refused_until_removed_and_added);
	tcase_add_test(tc, peers_added_and_removed_at_runtime);
	tcase_add_test(tc, raft_port_refuses_other_roles_and_identities);
	tcase_add_test(tc, five_peers_survive_two_kills);
	tcase_add_test(tc, leader_without_majority_answers_no_read);
	return testmain_run(s);
}
