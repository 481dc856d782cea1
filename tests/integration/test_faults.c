/* test_faults.c: dmlogd peers under faults, with a client workload judged by the checker.
 *
 * Three (or four) dmlogd run as real processes with real TLS on 127.0.0.1. Client nodes are
 * threads, each with its own node certificate and a blocking libdmlog handle that knows every
 * peer; they run MARK / FLUSH / IS_CLEAN / CLEAR / SET_REGION_SYNC / IN_SYNC cycles on regions
 * of their own and on regions they share, over two logs, and report every request to the
 * checker (checker.h), which judges the answers and the final state of the group. Covered:
 *   - the proxy itself (tests/lib/tcp_proxy.h), in a thread and in a child process, and the
 *     checker itself (a made-up history it must find five faults in);
 *   - kill -9 of the leader under load, 20 times, the killed peer restarted each time: no
 *     acknowledged mark lost, no wrong answer, no request hung; failover times printed;
 *   - a partition: the leader cut off from both followers (its raft traffic goes through
 *     proxies that turn into black holes) acknowledges nothing and answers no read, the
 *     majority elects a leader and goes on, and after the heal every peer holds the same state;
 *   - dmlog-bridge (with the fake kernel, policy wait) attached to the peer that falls into the
 *     minority: its requests complete through the new leader, without the kernel seeing an
 *     error or having to resend; and an idle bridge whose connection falls back to a follower
 *     after a failover keeps its node (lease, instance, marks);
 *   - join = yes: a new peer with an empty state does not elect itself, `peer add` brings it in
 *     and it catches up.
 *
 * Peers and proxies. Each peer's `peers` list names, for every other peer, a proxy port that
 * forwards to that peer's raft port (route i->j). dmlogd binds a raft id to the certificate CN
 * and the data-directory incarnation, not to the dialled address, so this is accepted. libraft
 * sends its requests (AppendEntries, RequestVote) to the configured address but its replies to
 * the address the requester announced in its handshake, i.e. straight to the real raft port:
 * replies bypass the proxies. Cutting both routes between the leader and each follower still
 * isolates the leader completely, since a reply only follows a request that got through.
 *
 * Each test is its own Check case: CK_RUN_CASE=proxy|checker|kill9|partition|bridge|idle|join
 * runs one. A failed test leaves its directory (logs of every process) in /tmp and says where;
 * DMLOG_TEST_KEEP=1 keeps it after a passing test too.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <linux/dm-log-userspace.h>

#include <dmlog/dmlog.h>

#include "checker.h"
#include "fake_kernel.h"
#include "group.h"
#include "harness.h"
#include "ops.h"
#include "tcp_proxy.h"
#include "testcerts.h"
#include "testmain.h"
#include "workload.h"

#ifndef DMLOG_BRIDGE_PATH
#error "DMLOG_BRIDGE_PATH must name the dmlog-bridge binary"
#endif

#define MAXP 4
#define NLOGS 2
#define NWORKERS 3
#define ARGS "1048576 clustered-core 1024 nosync"
#define REGIONS 1024
#define REQ_TIMEOUT_MS 20000
#define KILLS 20
#define CHECKER_LUID UINT64_C(0xffff8880c0ffee00)
#define PROBE_LUID UINT64_C(0xffff8880feed0000)

static const char *const uuids[NLOGS] = {
	"LVM-faultsA0123456789abcdef0123456789abcdef",
	"LVM-faultsB0123456789abcdef0123456789abcdef",
};
/* Node certificates: workers are node1..node3, the checker node4, the probe node5. */
static const char *const node_names[] = {"node1", "node2", "node3"};

static char dir[256], certs[300];
static struct group_peer P[MAXP];
static struct tcp_proxy *proxy;
static struct checker *chk;
/* dmlog-bridge, in the tests that run one */
static char sock_path[320], ready_path[320], ini_path[320], bridge_log[320];
static pid_t bridge_pid;

static uint64_t now_ms(void)
{
	return checker_now_us() / 1000u;
}

static void bridge_stop(void);
static bool tore_down;

/* A failed check ends the test's process without teardown: stop what it started and say
 * where the logs are. */
static void on_exit_without_teardown(void)
{
	if (tore_down)
		return;
	bridge_stop();
	for (int i = 0; i < MAXP; i++)
		if (P[i].d.pid > 0)
			kill(P[i].d.pid, SIGKILL);
	fprintf(stderr, "test_faults: the logs of the failed test are in %s\n", dir);
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	tore_down = false;
	atexit(on_exit_without_teardown);
	bridge_log[0] = '\0';
	bridge_pid = 0;
	proxy = NULL;
	chk = NULL;
	harness_tmpdir(dir, sizeof(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	harness_certs(certs);
	ck_assert_int_eq(group_certs(certs, MAXP), 0);
	ck_assert_int_eq(testcerts_make(certs, "node node3", "node node4", "node node5", NULL), 0);
	group_init(P, MAXP, dir);
}

static void teardown(void)
{
	tore_down = true;
	bridge_stop();
	for (int i = 0; i < MAXP; i++)
		if (P[i].d.pid > 0)
			dmlogd_stop(&P[i].d, SIGKILL);
	tcp_proxy_free(proxy);
	proxy = NULL;
	checker_free(chk);
	chk = NULL;
	if (getenv("DMLOG_TEST_KEEP") == NULL)
		harness_rmdir(dir);
	else
		fprintf(stderr, "kept %s\n", dir);
}

/* ------------------------------------------------------------------ peers */

/* The proxy route from peer i to peer j (i != j) among three. */
static size_t route_of(int i, int j)
{
	return (size_t)(i * 2 + (j > i ? j - 1 : j));
}

/* Starts the proxy with routes i->j forwarding to peer j's raft port, for three peers. */
static void proxy_start(bool child)
{
	struct tcp_proxy_route r[6];
	struct tcp_proxy_options o;
	char err[256];

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			if (i != j)
				r[route_of(i, j)] = (struct tcp_proxy_route){0, P[j].d.raft_port};
	memset(&o, 0, sizeof(o));
	o.routes = r;
	o.n_routes = 6;
	o.child_process = child;
	proxy = tcp_proxy_new(&o, err);
	ck_assert_msg(proxy != NULL, "%s", err);
}

/* Starts peer i (raft id i + 1, certificate dmlogd<i+1>); its peers are slots [0, group) but
 * itself, reached through the proxy when there is one; more: extra arguments. */
static void peer_start(int i, int group, const char *const *more)
{
	const char *argv[12];
	int via[MAXP] = {0};
	int n = 0;

	for (int j = 0; j < group; j++)
		if (j != i)
			via[j] = proxy ? tcp_proxy_port(proxy, route_of(i, j)) : P[j].d.raft_port;
	group_args(P, i, group, certs, via);
	for (int k = 0; k < 5; k++)
		argv[n++] = P[i].arg[k];
	for (int k = 0; more && more[k] && n < 11; k++)
		argv[n++] = more[k];
	argv[n] = NULL;
	ck_assert_msg(dmlogd_start(&P[i].d, certs, P[i].state, argv) == 0,
		      "dmlogd%d did not start (see %s)", i + 1, P[i].d.logfile);
}

/* A blocking libdmlog handle as `who` ("node-node1", "admin-admin") on peer `only`, or on
 * every peer in slots [0, group) when only < 0. */
static struct dmlog *handle_as(const char *who, int only, int group, uint32_t timeout_ms,
			       char addr[][32])
{
	return workload_handle(P, certs, who, only, group, timeout_ms, addr);
}

struct status {
	bool ok;
	char role[32];
	char id[64];
	char leader_id[64];
	bool healthy;
	size_t members;
};

static struct status status_of(int i)
{
	struct status st;
	char addr[8][32];
	struct dmlog *h;
	struct dmlog_result *res = NULL;

	memset(&st, 0, sizeof(st));
	if (P[i].d.pid <= 0)
		return st;
	h = handle_as("admin-admin", i, MAXP, 2000, addr);
	if (dmlog_admin_status(h, &res) == 0) {
		st.ok = true;
		snprintf(st.role, sizeof(st.role), "%s", res->status.raft_role);
		snprintf(st.id, sizeof(st.id), "%s", res->status.server_id);
		snprintf(st.leader_id, sizeof(st.leader_id), "%s", res->status.leader_id);
		st.healthy = res->status.healthy;
		st.members = res->status.peer_count;
	}
	dmlog_result_free(res);
	dmlog_free(h);
	return st;
}

/* The slot that leads the live peers of mask (bit i: slot i) once they all name it, within
 * timeout_ms; -1 if not. */
static int agreed_leader(unsigned mask, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	while (now_ms() < deadline) {
		struct status st[MAXP];
		int leader = -1, leaders = 0;
		bool agree = true;

		for (int i = 0; i < MAXP; i++) {
			if (!(mask & (1u << i)) || P[i].d.pid <= 0)
				continue;
			st[i] = status_of(i);
			if (st[i].ok && strcmp(st[i].role, "leader") == 0 && st[i].healthy) {
				leader = i;
				leaders++;
			}
		}
		for (int i = 0; leaders == 1 && i < MAXP; i++) {
			if (!(mask & (1u << i)) || P[i].d.pid <= 0)
				continue;
			agree = agree && st[i].ok && strcmp(st[i].leader_id, st[leader].id) == 0;
		}
		if (leaders == 1 && agree)
			return leader;
		usleep(50 * 1000);
	}
	return -1;
}

/* The admin's client id on the direct queries below. */
#define ADMIN_ID 4242

/* One admin request straight to slot i over the harness's raw connection. */
static Dmlog__ServerMessage *admin_raw(int i, Dmlog__ClientMessage *m)
{
	return group_admin_call(&P[i].d, certs, ADMIN_ID, m);
}

/* Waits until the live peers of mask report one applied index and one digest. */
static void assert_converged(unsigned mask, int timeout_ms)
{
	group_assert_converged(P, MAXP, mask, certs, ADMIN_ID, timeout_ms);
}

/* ------------------------------------------------------------------ workload */

/* The workers (workload.h): node1..node3 on slots [0, group), cycle() below. */
static struct workload WL;

/* One cycle of worker w on log (see the file comment). Region plan per node and log:
 *   0..7            shared by every node, marked and cleared each cycle;
 *   100 + 64n + k   own, k < 24; k < 4 is marked and never cleared again;
 *   300 + 64n + k   own, integrated marks (FLUSH carrying them), k < 3 never cleared;
 *   600 + 64n + k   own, set out of sync; k < 4 never set in sync again. */
static void cycle(struct dmlog *h, struct workload_worker *w, unsigned c)
{
	int log = (int)(c % NLOGS);
	uint64_t base = (uint64_t)w->node * 64, k = (c / NLOGS) % 24;
	uint64_t own = 100 + base + k, shared = (c / NLOGS) % 8;
	uint64_t both[2] = {own, shared};

	workload_op(h, w, log, CHECKER_MARK, both, 2, false);
	workload_op(h, w, log, CHECKER_FLUSH, NULL, 0, false);
	workload_op(h, w, log, CHECKER_IS_CLEAN, &shared, 1, false);
	workload_op(h, w, log, CHECKER_IS_CLEAN, &own, 1, false);
	if (c % 4 == 3) {
		uint64_t j = (c / 4) % 16, integ = 300 + base + j;

		workload_op(h, w, log, CHECKER_FLUSH, &integ, 1, false);
		workload_op(h, w, log, CHECKER_IS_CLEAN, &integ, 1, false);
		if (j >= 3)
			workload_op(h, w, log, CHECKER_CLEAR, &integ, 1, false);
	}
	if (c % 5 == 2) {
		uint64_t j = (c / 5) % 12, unsync = 600 + base + j;

		workload_op(h, w, log, CHECKER_SET_SYNC, &unsync, 1, false);
		workload_op(h, w, log, CHECKER_IN_SYNC, &unsync, 1, false);
		if (j >= 4) {
			workload_op(h, w, log, CHECKER_SET_SYNC, &unsync, 1, true);
			workload_op(h, w, log, CHECKER_IN_SYNC, &unsync, 1, false);
		}
	}
	workload_op(h, w, log, CHECKER_CLEAR, k < 4 ? &shared : both, k < 4 ? 1 : 2, false);
	workload_op(h, w, log, CHECKER_FLUSH, NULL, 0, false);
}

static void checker_start(void)
{
	workload_init(&WL, &(struct workload_spec){
		.peers = P, .certs = certs, .node_names = node_names, .n_nodes = NWORKERS,
		.uuids = uuids, .n_logs = NLOGS, .ctr_args = ARGS, .region_count = REGIONS,
		.timeout_ms = REQ_TIMEOUT_MS, .cycle = cycle});
	chk = WL.chk;
}

static void workers_start(int group)
{
	workload_start(&WL, NWORKERS, UINT64_C(0xffff888000100000), 0x1000, group);
}

/* No peer (nor the bridge) reported a sanitizer error in its log (ASan builds). */
static void assert_logs_clean(void)
{
	static const char *const bad[] = {"AddressSanitizer", "LeakSanitizer", "runtime error:"};
	struct dmlogd b;

	memset(&b, 0, sizeof(b));
	snprintf(b.logfile, sizeof(b.logfile), "%s", bridge_log);
	for (size_t k = 0; k < 3; k++) {
		for (int i = 0; i < MAXP; i++)
			ck_assert_msg(!P[i].d.logfile[0] || dmlogd_log_count(&P[i].d, bad[k]) == 0,
				      "%s in %s", bad[k], P[i].d.logfile);
		ck_assert_msg(!b.logfile[0] || dmlogd_log_count(&b, bad[k]) == 0, "%s in %s",
			      bad[k], b.logfile);
	}
}

/* Runs the checker against peers [0, group) as node4; its result, the report in report. */
static int run_checker(int group, char *report, size_t len)
{
	return workload_verify(&WL, group, "node-node4", CHECKER_LUID, report, len);
}

/* Runs the checker against peers [0, group) and asserts it passes. */
static void verify(int group)
{
	assert_logs_clean();
	workload_assert_verified(&WL, group, "node-node4", CHECKER_LUID);
}

static void assert_no_client_errors(void)
{
	workload_assert_no_errors(&WL);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------------ the proxy itself */

struct echo {
	int lfd, port;
	pthread_t th;
	atomic_bool stop;
};

/* Echoes every connection (at most 16 at once) until stopped. */
static void *echo_main(void *arg)
{
	struct echo *e = arg;
	struct pollfd pfd[17];
	int n = 1;

	pfd[0] = (struct pollfd){.fd = e->lfd, .events = POLLIN};
	while (!atomic_load(&e->stop)) {
		if (poll(pfd, (nfds_t)n, 50) <= 0)
			continue;
		if ((pfd[0].revents & POLLIN) && n < 17) {
			int fd = accept(e->lfd, NULL, NULL);

			if (fd >= 0)
				pfd[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
		}
		for (int i = 1; i < n; i++) {
			char buf[4096];
			ssize_t r;

			if (!pfd[i].revents)
				continue;
			r = recv(pfd[i].fd, buf, sizeof(buf), 0);
			if (r > 0 && send(pfd[i].fd, buf, (size_t)r, MSG_NOSIGNAL) == r)
				continue;
			close(pfd[i].fd);
			pfd[i--] = pfd[--n];
		}
	}
	for (int i = 1; i < n; i++)
		close(pfd[i].fd);
	return NULL;
}

static void echo_start(struct echo *e)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);

	e->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(e->lfd, 0);
	ck_assert_int_eq(bind(e->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(e->lfd, 16), 0);
	ck_assert_int_eq(getsockname(e->lfd, (struct sockaddr *)&sa, &len), 0);
	e->port = ntohs(sa.sin_port);
	atomic_store(&e->stop, false);
	ck_assert_int_eq(pthread_create(&e->th, NULL, echo_main, e), 0);
}

static void echo_stop(struct echo *e)
{
	atomic_store(&e->stop, true);
	pthread_join(e->th, NULL);
	close(e->lfd);
}

static int tcp_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Reads what arrives within timeout_ms (until `want` bytes); returns the count, -1 on a reset
 * or end of stream before anything came. */
static int recv_within(int fd, char *buf, size_t want, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	size_t got = 0;

	while (got < want && now_ms() < deadline) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, (int)(deadline - now_ms())) <= 0)
			break;
		r = recv(fd, buf + got, want - got, 0);
		if (r <= 0)
			return got ? (int)got : -1;
		got += (size_t)r;
	}
	return (int)got;
}

static void proxy_self_test(bool child)
{
	struct echo e;
	struct tcp_proxy_route r = {0, 0};
	struct tcp_proxy_options o;
	struct tcp_proxy_stats st;
	char err[256], buf[64];
	uint64_t t;
	int fd, port;

	echo_start(&e);
	r.target_port = e.port;
	memset(&o, 0, sizeof(o));
	o.routes = &r;
	o.n_routes = 1;
	o.child_process = child;
	proxy = tcp_proxy_new(&o, err);
	ck_assert_msg(proxy != NULL, "%s", err);
	ck_assert_int_eq(tcp_proxy_pid(proxy) > 0, child);
	port = tcp_proxy_port(proxy, 0);
	ck_assert_int_gt(port, 0);
	ck_assert_int_eq(tcp_proxy_set(proxy, 1, TCP_PROXY_UP, TCP_PROXY_PASS, 0), -EINVAL);

	/* pass */
	fd = tcp_connect(port);
	ck_assert_int_eq(send(fd, "hello", 5, 0), 5);
	ck_assert_int_eq(recv_within(fd, buf, 5, 2000), 5);
	ck_assert_mem_eq(buf, "hello", 5);

	/* delay: a round trip takes at least the delay */
	ck_assert_int_eq(tcp_proxy_set(proxy, 0, TCP_PROXY_UP, TCP_PROXY_DELAY, 250), 0);
	t = now_ms();
	ck_assert_int_eq(send(fd, "d", 1, 0), 1);
	ck_assert_int_eq(recv_within(fd, buf, 1, 3000), 1);
	ck_assert_uint_ge(now_ms() - t, 240);

	/* drop: the byte is gone for good */
	ck_assert_int_eq(tcp_proxy_set(proxy, 0, TCP_PROXY_UP, TCP_PROXY_DROP, 0), 0);
	ck_assert_int_eq(send(fd, "x", 1, 0), 1);
	ck_assert_int_eq(recv_within(fd, buf, 1, 300), 0);
	ck_assert_int_eq(tcp_proxy_set(proxy, 0, TCP_PROXY_UP, TCP_PROXY_PASS, 0), 0);
	ck_assert_int_eq(send(fd, "y", 1, 0), 1);
	ck_assert_int_eq(recv_within(fd, buf, 1, 2000), 1);
	ck_assert_int_eq(buf[0], 'y');

	/* blackhole on the way back: held, then delivered when it passes again */
	ck_assert_int_eq(tcp_proxy_set(proxy, 0, TCP_PROXY_DOWN, TCP_PROXY_BLACKHOLE, 0), 0);
	ck_assert_int_eq(send(fd, "z", 1, 0), 1);
	ck_assert_int_eq(recv_within(fd, buf, 1, 300), 0);
	ck_assert_int_eq(tcp_proxy_set(proxy, TCP_PROXY_ALL, TCP_PROXY_BOTH, TCP_PROXY_PASS, 0), 0);
	ck_assert_int_eq(recv_within(fd, buf, 1, 2000), 1);
	ck_assert_int_eq(buf[0], 'z');

	/* cut: the open connection is reset */
	ck_assert_int_eq(tcp_proxy_cut(proxy, 0), 0);
	ck_assert_int_eq(recv_within(fd, buf, 1, 2000), -1);
	close(fd);

	/* refuse: a new connection is reset at once; off again, it works */
	ck_assert_int_eq(tcp_proxy_refuse(proxy, 0, true), 0);
	fd = tcp_connect(port);
	ck_assert_int_eq(recv_within(fd, buf, 1, 2000), -1);
	close(fd);
	ck_assert_int_eq(tcp_proxy_refuse(proxy, 0, false), 0);
	fd = tcp_connect(port);
	ck_assert_int_eq(send(fd, "again", 5, 0), 5);
	ck_assert_int_eq(recv_within(fd, buf, 5, 2000), 5);
	close(fd);

	ck_assert_int_eq(tcp_proxy_stats(proxy, 0, &st), 0);
	ck_assert_uint_eq(st.accepted, 3);
	ck_assert_uint_ge(st.reset, 2);
	ck_assert_uint_eq(st.dropped[0], 1);
	ck_assert_uint_eq(st.bytes[0], 5 + 1 + 1 + 1 + 5);
	tcp_proxy_free(proxy);
	proxy = NULL;
	echo_stop(&e);
}

START_TEST(proxy_delays_drops_holds_cuts_and_refuses)
{
	proxy_self_test(false);
	proxy_self_test(true);
}
END_TEST

/* ------------------------------------------------------------------ the checker itself */

/* A history that disagrees with a standalone dmlogd in five ways: the checker names each. */
START_TEST(checker_catches_lost_marks_wrong_answers_phantoms_and_hangs)
{
	struct workload_worker w = {.node = 0, .luid = UINT64_C(0xffff888000cc0000)};
	struct dmlog_log_ref ref = {.uuid = uuids[0], .luid = w.luid, .version = 3};
	uint64_t r10 = 10, r11 = 11, r12 = 12, r13 = 13;
	char addr[8][32], dev[128], report[8192];
	struct dmlog *h;
	size_t t;

	peer_start(0, 1, NULL);
	checker_start();
	w.wl = &WL;
	h = handle_as("node-node1", 0, 1, 5000, addr);
	ck_assert_int_eq(dmlog_ctr(h, &ref, ARGS, false, dev, sizeof(dev)), 0);
	ck_assert_int_eq(dmlog_resume(h, &ref), 0);
	/* agreed: a real mark on 10 */
	ck_assert_int_eq(workload_op(h, &w, 0, CHECKER_MARK, &r10, 1, false), 0);
	/* 1: a read said clean after that mark */
	t = checker_begin(chk, 0, 0, CHECKER_IS_CLEAN, &r10, 1, false, 5000);
	checker_end(chk, t, 0, true, NULL);
	/* 2: a mark acknowledged that the server does not hold */
	t = checker_begin(chk, 0, 0, CHECKER_MARK, &r11, 1, false, 5000);
	checker_end(chk, t, 0, false, NULL);
	/* 3: out of sync acknowledged, yet in sync */
	t = checker_begin(chk, 0, 0, CHECKER_SET_SYNC, &r12, 1, false, 5000);
	checker_end(chk, t, 0, false, NULL);
	/* 4: a dirty region no request recorded */
	ck_assert_int_eq(dmlog_mark_region(h, &ref, &r13, 1), 0);
	/* 5: a request that never ended */
	checker_begin(chk, 0, 0, CHECKER_FLUSH, NULL, 0, false, 5000);
	dmlog_free(h);
	ck_assert_int_eq(run_checker(1, report, sizeof(report)), 5);
	ck_assert_msg(strstr(report, "answered true during the run: node1 IS_CLEAN log0 [10]") &&
		      strstr(report, "lost mark: log0 region 11") &&
		      strstr(report, "lost out-of-sync: log0 region 12") &&
		      strstr(report, "phantom: the leader holds 1 dirty regions of log0") &&
		      strstr(report, "never finished: node1 FLUSH log0 []"), "%s", report);
}
END_TEST

/* Starts peers [0, 3) with more and returns the leader they agree on (within 15 s). */
static int three_peers_start(const char *const *more)
{
	int leader;

	for (int i = 0; i < 3; i++)
		peer_start(i, 3, more);
	leader = agreed_leader(7, 15000);
	ck_assert_int_ge(leader, 0);
	return leader;
}

/* The checker and three workers on peers [0, 3), once each has made progress. */
static void load_start(void)
{
	checker_start();
	workers_start(3);
	workload_progress(&WL, 3, 20000);
}

/* ------------------------------------------------------------------ kill -9 under load */

START_TEST(leader_kill9_under_load_twenty_times)
{
	double fo[KILLS], sorted[KILLS];
	int leader;

	leader = three_peers_start(NULL);
	load_start();
	for (int k = 0; k < KILLS; k++) {
		uint64_t t_kill, ack = 0, deadline;

		leader = agreed_leader(7, 15000);
		ck_assert_msg(leader >= 0, "round %d: no leader all three agree on", k);
		workload_progress(&WL, 1, 20000); /* load on the leader about to die */
		t_kill = checker_now_us();
		dmlogd_stop(&P[leader].d, SIGKILL);
		deadline = now_ms() + 15000;
		while (!(ack = checker_first_write_ack(chk, t_kill)) && now_ms() < deadline)
			usleep(2000);
		ck_assert_msg(ack != 0, "round %d: no write acknowledged within 15 s of the kill", k);
		fo[k] = (double)(ack - t_kill) / 1000.0;
		peer_start(leader, 3, NULL);
	}
	ck_assert_int_ge(agreed_leader(7, 15000), 0);
	workload_progress(&WL, 2, 20000);
	workload_stop(&WL);
	memcpy(sorted, fo, sizeof(fo));
	qsort(sorted, KILLS, sizeof(double), cmp_double);
	fprintf(stderr, "leader kill -9 x%d under load: failover (kill -> next acknowledged write "
		"sent after the kill) median %.0f ms, max %.0f ms; every round:", KILLS,
		(sorted[KILLS / 2 - 1] + sorted[KILLS / 2]) / 2, sorted[KILLS - 1]);
	for (int k = 0; k < KILLS; k++)
		fprintf(stderr, " %.0f", fo[k]);
	fprintf(stderr, "\nrequests: %zu, acknowledged %zu, errors %zu\n", checker_count(chk),
		checker_acked(chk), checker_errors(chk));
	verify(3);
	assert_no_client_errors();
	assert_converged(7, 20000);
}
END_TEST

/* ------------------------------------------------------------------ partitions */

/* Cuts peer `who` off from the two others (both routes each way), or heals everything. */
static void isolate(int who, bool on)
{
	if (!on) {
		ck_assert_int_eq(tcp_proxy_set(proxy, TCP_PROXY_ALL, TCP_PROXY_BOTH, TCP_PROXY_PASS, 0),
				 0);
		return;
	}
	for (int j = 0; j < 3; j++) {
		if (j == who)
			continue;
		ck_assert_int_eq(tcp_proxy_set(proxy, route_of(who, j), TCP_PROXY_BOTH,
					       TCP_PROXY_BLACKHOLE, 0), 0);
		ck_assert_int_eq(tcp_proxy_set(proxy, route_of(j, who), TCP_PROXY_BOTH,
					       TCP_PROXY_BLACKHOLE, 0), 0);
	}
}

/* A node connection straight to one peer, with an instance of log 0 made while it led. */
struct probe {
	struct rawconn c;
	uint64_t id;
	uint64_t mark_id;        /* a MARK sent to the cut-off peer, which must never be done */
};

static void probe_open(struct probe *p, int slot)
{
	struct op o;
	Dmlog__ServerMessage *r;

	ck_assert_int_eq(rawconn_open_as(&p->c, P[slot].d.port, certs, "node-node5"), 0);
	ck_assert_int_eq(rawconn_hello(&p->c, 5555), 0);
	p->id = 100;
	p->mark_id = 0;
	memset(&o, 0, sizeof(o));
	o.kind = DMLOG__CLIENT_MESSAGE__BODY_CTR;
	o.uuid = uuids[0];
	o.luid = PROBE_LUID;
	o.args = ARGS;
	r = op_call(&p->c, p->id++, &o);
	ck_assert_msg(r && r->body_case == DMLOG__SERVER_MESSAGE__BODY_CTR, "probe CTR");
	dmlog__server_message__free_unpacked(r, NULL);
	o.kind = DMLOG__CLIENT_MESSAGE__BODY_RESUME;
	r = op_call(&p->c, p->id++, &o);
	ck_assert_msg(r && r->body_case == DMLOG__SERVER_MESSAGE__BODY_DONE, "probe RESUME");
	dmlog__server_message__free_unpacked(r, NULL);
}

/* Sends op and collects what comes back within wait_ms: the reply's body case, or 0 when
 * nothing came. Asserts the reply is none of the `never` cases. */
static int probe_expect_no(struct probe *p, struct op *o, int wait_ms, int never)
{
	uint64_t id = p->id++, deadline = now_ms() + (uint64_t)wait_ms;
	int got = 0;

	ck_assert_int_eq(op_send(&p->c, id, o), 0);
	while (!got && now_ms() < deadline) {
		Dmlog__ServerMessage *r = rawconn_recv(&p->c, (int)(deadline - now_ms()));

		if (!r)
			break;
		ck_assert_msg(!(p->mark_id && r->id == p->mark_id &&
				r->body_case == DMLOG__SERVER_MESSAGE__BODY_DONE),
			      "the cut-off peer acknowledged MARK %llu",
			      (unsigned long long)p->mark_id);
		if (r->id == id) {
			got = (int)r->body_case;
			ck_assert_msg(got != never, "the cut-off peer answered request %llu with %d "
				      "(%s)", (unsigned long long)id, got,
				      got == DMLOG__SERVER_MESSAGE__BODY_BOOL_RESULT
					      ? (r->bool_result->value ? "true" : "false") : "done");
		}
		dmlog__server_message__free_unpacked(r, NULL);
	}
	return got;
}

START_TEST(isolated_leader_stops_and_the_majority_goes_on)
{
	struct probe p;
	struct op o;
	struct status st;
	int leader, next, rc;
	unsigned others;
	uint64_t t_elect, ack = 0, deadline, t_part;
	size_t during;

	proxy_start(true);
	leader = three_peers_start(NULL);
	others = 7u & ~(1u << leader);
	load_start();
	probe_open(&p, leader);

	isolate(leader, true);
	t_part = checker_now_us();
	next = agreed_leader(others, 15000);
	ck_assert_msg(next >= 0 && next != leader, "the majority elected no leader");
	t_elect = checker_now_us();
	fprintf(stderr, "partition: the majority has leader dmlogd%d %.0f ms after the cut\n",
		next + 1, (double)(t_elect - t_part) / 1000.0);
	deadline = now_ms() + 15000;
	while (!(ack = checker_first_write_ack(chk, t_elect)) && now_ms() < deadline)
		usleep(5000);
	ck_assert_msg(ack != 0, "the majority acknowledged no write within 15 s of its election");
	during = checker_acked(chk);

	/* The cut-off peer: a write gets no acknowledgement, a read no answer from its state. */
	memset(&o, 0, sizeof(o));
	o.kind = DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION;
	o.uuid = uuids[0];
	o.luid = PROBE_LUID;
	o.n = 1;
	o.regions[0] = 1000;
	p.mark_id = p.id;
	rc = probe_expect_no(&p, &o, 2500, DMLOG__SERVER_MESSAGE__BODY_DONE);
	fprintf(stderr, "partition: a MARK sent to the cut-off peer got %s\n",
		rc == 0 ? "no answer" : rc == DMLOG__SERVER_MESSAGE__BODY_NOT_LEADER ? "NotLeader"
									     : "an error");
	o.kind = DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN;
	o.region = 1000;
	probe_expect_no(&p, &o, 2500, DMLOG__SERVER_MESSAGE__BODY_BOOL_RESULT);
	o.kind = DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC;
	probe_expect_no(&p, &o, 1000, DMLOG__SERVER_MESSAGE__BODY_BOOL_RESULT);
	st = status_of(leader);
	ck_assert_msg(st.ok && !(strcmp(st.role, "leader") == 0 && st.healthy),
		      "the cut-off peer still says it leads (%s)", st.role);

	/* The majority goes on meanwhile. */
	workload_progress(&WL, 3, 20000);
	ck_assert_uint_gt(checker_acked(chk), during);

	/* Heal: the old leader follows, catches up, and every peer holds one state. */
	isolate(leader, false);
	ck_assert_int_ge(agreed_leader(7, 15000), 0);
	workload_progress(&WL, 3, 20000);
	/* Its connection stayed up: whatever comes now, the MARK is not acknowledged. */
	o.kind = DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN;
	probe_expect_no(&p, &o, 1000, DMLOG__SERVER_MESSAGE__BODY_DONE);
	rawconn_close(&p.c);
	workload_stop(&WL);
	assert_converged(7, 20000);
	fprintf(stderr, "requests: %zu, acknowledged %zu, errors %zu\n", checker_count(chk),
		checker_acked(chk), checker_errors(chk));
	verify(3);
	assert_no_client_errors();
}
END_TEST

/* ------------------------------------------------------------------ bridge on the minority */

static void bridge_start(int first)
{
	char servers[100];
	int order[3] = {first, (first + 1) % 3, (first + 2) % 3};

	snprintf(sock_path, sizeof(sock_path), "%s/kernel.sock", dir);
	snprintf(ready_path, sizeof(ready_path), "%s/bridge.ready", dir);
	snprintf(ini_path, sizeof(ini_path), "%s/dmlog-bridge.ini", dir);
	snprintf(bridge_log, sizeof(bridge_log), "%s/bridge.log", dir);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d",
		 P[order[0]].d.port, P[order[1]].d.port, P[order[2]].d.port);
	ck_assert_int_eq(harness_bridge_ini(ini_path, servers, certs, "node1", sock_path,
					    "no_server_policy = wait\n"
					    "connect_timeout = 1s\n"
					    "reconnect_min = 50ms\n"
					    "reconnect_max = 250ms\n"
					    "keepalive = 500ms\n"
					    "log_level = info\n"),
			 0);
	bridge_pid = harness_bridge_start(DMLOG_BRIDGE_PATH, ini_path, ready_path, bridge_log);
	ck_assert_int_ge(bridge_pid, 0);
	ck_assert_msg(harness_wait_ready(bridge_pid, ready_path),
		      "dmlog-bridge exited or not ready (see %s)", bridge_log);
}

static void bridge_stop(void)
{
	if (bridge_pid <= 0)
		return;
	kill(bridge_pid, SIGKILL);
	waitpid(bridge_pid, NULL, 0);
	bridge_pid = 0;
}

struct kop {
	enum checker_kind kind;
	uint32_t type;
	uint64_t regions[2];
	size_t n;
};

/* One request through the fake kernel, recorded for node1 on log 0. Asserts the kernel saw no
 * error; returns how long it took, in ms. */
static double kcall(struct fake_kernel *fk, const struct kop *k)
{
	struct fake_kernel_req req = {k->type, uuids[0], WL.w[0].luid, 3, k->regions,
				      k->n * sizeof(uint64_t)};
	struct fake_kernel_reply r;
	uint64_t t0 = checker_now_us();
	size_t h = checker_begin(chk, 0, 0, k->kind, k->regions, k->n, false, 60000);
	int64_t v = 0;
	int rc = fake_kernel_call(fk, &req, &r);

	if (rc == 0 && (k->kind == CHECKER_IS_CLEAN || k->kind == CHECKER_IN_SYNC) &&
	    r.data_size == 8)
		memcpy(&v, fake_kernel_data(&r), 8);
	checker_end(chk, h, rc, v != 0, rc ? "the fake kernel's result" : NULL);
	ck_assert_msg(rc == 0, "the kernel saw %d (%s) for request type %u (see %s)", rc,
		      strerror(-rc), k->type, bridge_log);
	return (double)(checker_now_us() - t0) / 1000.0;
}

struct cutter {
	int who;
	unsigned delay_ms;
	_Atomic uint64_t t_part;
};

static void *cutter_main(void *arg)
{
	struct cutter *c = arg;

	usleep(c->delay_ms * 1000u);
	atomic_store(&c->t_part, checker_now_us());
	for (int j = 0; j < 3; j++) {
		if (j == c->who)
			continue;
		tcp_proxy_set(proxy, route_of(c->who, j), TCP_PROXY_BOTH, TCP_PROXY_BLACKHOLE, 0);
		tcp_proxy_set(proxy, route_of(j, c->who), TCP_PROXY_BOTH, TCP_PROXY_BLACKHOLE, 0);
	}
	return NULL;
}

START_TEST(bridge_on_the_minority_peer_is_redirected)
{
	struct fake_kernel_options fo = {0};
	struct fake_kernel *fk;
	struct fake_kernel_counts fc;
	struct cutter cut;
	pthread_t th;
	char err[256];
	int leader, next;
	unsigned n_after = 0;
	double worst = 0;
	uint64_t t_end, hard_end;

	proxy_start(false);
	leader = three_peers_start(NULL);
	checker_start();
	WL.w[0].luid = UINT64_C(0xffff888000abc000);
	bridge_start(leader);
	fo.path = sock_path;
	fo.resend_ms = 15000;    /* the kernel's own */
	fo.reconnect_ms = 2000;
	fo.deadline_ms = 60000;
	fk = fake_kernel_new(&fo, err);
	ck_assert_msg(fk != NULL, "%s", err);
	{
		struct fake_kernel_req ctr = {DM_ULOG_CTR, uuids[0], WL.w[0].luid, 3, ARGS, strlen(ARGS)};
		struct fake_kernel_req res = {DM_ULOG_RESUME, uuids[0], WL.w[0].luid, 3, NULL, 0};
		struct fake_kernel_reply r;

		ck_assert_int_eq(fake_kernel_call(fk, &ctr, &r), 0);
		ck_assert_int_eq(fake_kernel_call(fk, &res, &r), 0);
	}

	/* The kernel writes and reads without pause; the leader it talks to is cut off 1 s in. */
	memset(&cut, 0, sizeof(cut));
	cut.who = leader;
	cut.delay_ms = 1000;
	ck_assert_int_eq(pthread_create(&th, NULL, cutter_main, &cut), 0);
	/* 5 s past the cut and 10 requests sent after it, within 45 s */
	t_end = now_ms() + 6000;
	hard_end = now_ms() + 45000;
	for (uint64_t i = 0; now_ms() < hard_end && (now_ms() < t_end || n_after < 10); i++) {
		uint64_t reg = 10 + i % 40, keep = i % 10 == 0;
		struct kop ops[] = {
			{CHECKER_IN_SYNC, DM_ULOG_IN_SYNC, {reg, 0}, 1},
			{CHECKER_MARK, DM_ULOG_MARK_REGION, {reg, 0}, 1},
			{CHECKER_FLUSH, DM_ULOG_FLUSH, {0, 0}, 0},
			{CHECKER_IS_CLEAN, DM_ULOG_IS_CLEAN, {reg, 0}, 1},
			{CHECKER_CLEAR, DM_ULOG_CLEAR_REGION, {reg, 0}, 1},
			{CHECKER_FLUSH, DM_ULOG_FLUSH, {0, 0}, 0},
		};
		size_t nops = keep ? 4 : 6;

		for (size_t k = 0; k < nops; k++) {
			uint64_t t0 = checker_now_us(), tp = atomic_load(&cut.t_part);
			double ms = kcall(fk, &ops[k]);

			if (ms > worst)
				worst = ms;
			n_after += tp && t0 > tp;
		}
	}
	pthread_join(th, NULL);
	next = agreed_leader(7u & ~(1u << leader), 10000);
	ck_assert_msg(next >= 0 && next != leader, "the majority has no leader of its own");
	fake_kernel_get_counts(fk, &fc);
	fprintf(stderr, "bridge on the cut-off leader: %u kernel requests after the cut, all "
		"answered without error; slowest %.0f ms; kernel resends %llu\n", n_after, worst,
		(unsigned long long)fc.resends);
	ck_assert_msg(n_after >= 10, "only %u kernel requests were sent after the cut", n_after);
	/* A failover costs about a second; the kernel's 15 s resend means the bridge dropped a
	 * request it should have carried to the new leader. */
	ck_assert_msg(fc.resends == 0 && worst < 10000, "a kernel request waited %.0f ms (%llu "
		      "resends): the bridge let it go unanswered (see %s)", worst,
		      (unsigned long long)fc.resends, bridge_log);

	/* Heal, and the log's state holds what the kernel was told. */
	isolate(leader, false);
	ck_assert_int_ge(agreed_leader(7, 15000), 0);
	{
		struct kop tail = {CHECKER_IS_CLEAN, DM_ULOG_IS_CLEAN, {10, 0}, 1};

		kcall(fk, &tail);
	}
	assert_converged(7, 20000);
	verify(3);
	fake_kernel_free(fk);
	bridge_stop();
	assert_no_client_errors();
}
END_TEST

/* An idle node across a failover. The bridge lists the leader first, then F, then G. The
 * leader is killed while F cannot reach G (its route is a black hole), so G wins the election
 * and F stays a follower. The bridge's connection falls back to F, the next server of its list,
 * and only its keepalive pings flow for more than a node lease. The node must still hold its
 * instance and its marks: the kernel's next requests get no error. */
START_TEST(idle_bridge_keeps_its_node_across_a_failover)
{
	static const char *const lease[] = {"--node-lease=3s", NULL};
	struct fake_kernel_options fo = {0};
	struct fake_kernel *fk;
	char err[256];
	int leader, f, g;
	uint64_t t_kill;

	proxy_start(false);
	leader = three_peers_start(lease);
	f = (leader + 1) % 3;
	g = (leader + 2) % 3;
	checker_start();
	WL.w[0].luid = UINT64_C(0xffff888000abd000);
	bridge_start(leader);
	fo.path = sock_path;
	fo.resend_ms = 15000;
	fo.reconnect_ms = 2000;
	fo.deadline_ms = 60000;
	fk = fake_kernel_new(&fo, err);
	ck_assert_msg(fk != NULL, "%s", err);
	{
		struct fake_kernel_req ctr = {DM_ULOG_CTR, uuids[0], WL.w[0].luid, 3, ARGS, strlen(ARGS)};
		struct fake_kernel_req res = {DM_ULOG_RESUME, uuids[0], WL.w[0].luid, 3, NULL, 0};
		struct kop mark = {CHECKER_MARK, DM_ULOG_MARK_REGION, {5, 0}, 1};
		struct kop flush = {CHECKER_FLUSH, DM_ULOG_FLUSH, {0, 0}, 0};
		struct fake_kernel_reply r;

		ck_assert_int_eq(fake_kernel_call(fk, &ctr, &r), 0);
		ck_assert_int_eq(fake_kernel_call(fk, &res, &r), 0);
		kcall(fk, &mark);
		kcall(fk, &flush);
	}
	ck_assert_int_eq(tcp_proxy_set(proxy, route_of(f, g), TCP_PROXY_BOTH, TCP_PROXY_BLACKHOLE,
				       0), 0);
	dmlogd_stop(&P[leader].d, SIGKILL);
	/* G wins only through F's answers, which libraft sends to the address G announced in its
	 * handshake (not through the proxy) while F's own requests to G go to the proxied one; a
	 * libraft client follows the last address used, so each switch drops the other connection
	 * and an answer can be lost to F's next campaign. G led 0.46-1.08 s after the kill in 25
	 * runs here with both CPUs busy (median 0.64 s); one CI run (a VM test running beside it)
	 * saw no leader within 15 s, cause not pinned down: the bound is wide. */
	t_kill = checker_now_us();
	ck_assert_int_eq(agreed_leader((1u << f) | (1u << g), 40000), g);
	fprintf(stderr, "idle: dmlogd%d leads %.0f ms after the kill\n", g + 1,
		(checker_now_us() - t_kill) / 1000.0);
	ck_assert_int_eq(tcp_proxy_set(proxy, route_of(f, g), TCP_PROXY_BOTH, TCP_PROXY_PASS, 0),
			 0);
	usleep(5000 * 1000); /* the node lease and then some: only keepalives flow */
	{
		struct kop clean = {CHECKER_IS_CLEAN, DM_ULOG_IS_CLEAN, {5, 0}, 1};
		struct kop mark = {CHECKER_MARK, DM_ULOG_MARK_REGION, {6, 0}, 1};
		struct kop flush = {CHECKER_FLUSH, DM_ULOG_FLUSH, {0, 0}, 0};

		kcall(fk, &clean);
		kcall(fk, &mark);
		kcall(fk, &flush);
	}
	ck_assert_msg(dmlogd_log_count(&P[g].d, "node lease expired") == 0,
		      "the new leader expired the lease of a node that kept pinging (see %s)",
		      P[g].d.logfile);
	verify(3);
	fake_kernel_free(fk);
	bridge_stop();
}
END_TEST

/* ------------------------------------------------------------------ join */

/* Admin PeerAdd through the leader (following NotLeader). */
static Dmlog__ServerMessage *peer_add(uint64_t raft_id, int raft_port, const char *name)
{
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__PeerAddRequest a = DMLOG__PEER_ADD_REQUEST__INIT;
	char address[40];
	uint64_t deadline = now_ms() + 30000;

	snprintf(address, sizeof(address), "127.0.0.1:%d", raft_port);
	a.raft_id = raft_id;
	a.raft_address = address;
	a.id = (char *)name;
	m.id = 900;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_ADMIN_PEER_ADD;
	m.admin_peer_add = &a;
	while (now_ms() < deadline) {
		int leader = agreed_leader(7, 10000);
		Dmlog__ServerMessage *r = leader >= 0 ? admin_raw(leader, &m) : NULL;

		if (r && r->body_case != DMLOG__SERVER_MESSAGE__BODY_NOT_LEADER)
			return r;
		if (r)
			dmlog__server_message__free_unpacked(r, NULL);
		usleep(100 * 1000);
	}
	return NULL;
}

START_TEST(joining_peer_waits_for_peer_add_then_catches_up)
{
	static const char *const join[] = {"--join=yes", NULL};
	struct probe p;
	struct op o;
	struct status st;
	Dmlog__ServerMessage *r;
	int leader;
	uint64_t until;

	leader = three_peers_start(NULL);
	load_start();

	/* dmlogd4, empty state, join = yes: it knows the group but is in no configuration. */
	peer_start(3, 4, join);
	until = now_ms() + 2000; /* several election timeouts */
	while (now_ms() < until) {
		st = status_of(3);
		ck_assert_msg(st.ok, "dmlogd4 does not answer");
		ck_assert_msg(strcmp(st.role, "leader") != 0, "dmlogd4 elected itself");
		ck_assert_str_eq(st.leader_id, "");
		usleep(100 * 1000);
	}
	ck_assert_int_eq(agreed_leader(7, 5000), leader);
	/* A node talking to it hears that it knows no leader. */
	ck_assert_int_eq(rawconn_open_as(&p.c, P[3].d.port, certs, "node-node5"), 0);
	ck_assert_int_eq(rawconn_hello(&p.c, 5556), 0);
	memset(&o, 0, sizeof(o));
	o.kind = DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN;
	o.uuid = uuids[0];
	o.luid = PROBE_LUID;
	r = op_call(&p.c, 7, &o);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->body_case, DMLOG__SERVER_MESSAGE__BODY_NOT_LEADER);
	dmlog__server_message__free_unpacked(r, NULL);
	rawconn_close(&p.c);

	r = peer_add(4, P[3].d.raft_port, "dmlogd4");
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->body_case == DMLOG__SERVER_MESSAGE__BODY_ADMIN_PEER_CHANGE, "peer add: %s",
		      r->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR ? r->error->message : "?");
	ck_assert_uint_eq(r->admin_peer_change->n_peers, 4);
	dmlog__server_message__free_unpacked(r, NULL);
	workload_progress(&WL, 3, 20000);
	workload_stop(&WL);
	assert_converged(15, 20000);
	st = status_of(3);
	ck_assert(st.ok);
	ck_assert_str_eq(st.role, "follower");
	ck_assert_str_ne(st.leader_id, "");
	ck_assert_uint_eq(st.members, 4);
	verify(4);
	assert_no_client_errors();
}
END_TEST

/* One case per test, so that CK_RUN_CASE can pick one (proxy, checker, kill9, partition,
 * bridge, idle, join). */
static void add_case(Suite *s, const char *name, const TTest *t)
{
	tcase_add_test(testmain_tcase(s, name, setup, teardown, 240), t);
}

int main(void)
{
	Suite *s = suite_create("faults");

	add_case(s, "proxy", proxy_delays_drops_holds_cuts_and_refuses);
	add_case(s, "checker", checker_catches_lost_marks_wrong_answers_phantoms_and_hangs);
	add_case(s, "kill9", leader_kill9_under_load_twenty_times);
	add_case(s, "partition", isolated_leader_stops_and_the_majority_goes_on);
	add_case(s, "bridge", bridge_on_the_minority_peer_is_redirected);
	add_case(s, "idle", idle_bridge_keeps_its_node_across_a_failover);
	add_case(s, "join", joining_peer_waits_for_peer_add_then_catches_up);
	return testmain_run(s);
}
