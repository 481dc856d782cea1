/* test_dmlogctl.c: dmlogctl and dmlog-demo as real processes against a real dmlogd.
 *
 * Each test starts dmlogd (tests/integration/harness.c) with fresh certificates; the tests that
 * read state first build a known one through libdmlog with the node certificates of node1 and
 * node2: a 16-region log that node1 resynced up to region 9 and is recovering region 10, with
 * marks from both nodes, and a fully resynced 8-region log. dmlogctl runs as a child process
 * (fork, exec, its stdout and stderr read through pipes, every wait bounded), and its exact
 * output, its JSON (checked well-formed by a small validator) and its exit codes are pinned.
 * dmlogctl's formatting helpers are checked on their own in tests/unit/client/test_ctl_fmt.c.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dmlog/dmlog.h>

#include "group.h"
#include "harness.h"
#include "testmain.h"

#ifndef DMLOGCTL_PATH
#error "DMLOGCTL_PATH must name the dmlogctl binary"
#endif
#ifndef DMLOG_DEMO_PATH
#error "DMLOG_DEMO_PATH must name the dmlog-demo binary"
#endif

#define LOG_A "LVM-ctltest-a"
#define LOG_B "LVM-ctltest-b"
#define LUID_1 0x1000u
#define LUID_2 0x2000u
#define OUT_MAX 65536
#define RUN_TIMEOUT_S 60

static char dir[256], certs[300], state[300];
static struct dmlogd d;

/* The output of one child process. */
struct run {
	int status;          /* exit status, or 128 + signal */
	char out[OUT_MAX];
	char err[OUT_MAX];
};

static struct run R; /* the last run (large: not on the stack) */

/* The tests' directories live under one made by the parent process, which removes it at the
 * end: a failed check ends the test's process at once, before its teardown (Check kills the
 * test's process group, dmlogd included). */
static char base[64];

static void base_setup(void)
{
	harness_tmpdir(base, sizeof(base));
}

static void base_teardown(void)
{
	harness_rmdir(base);
}

static void setup(void)
{
	/* A long lease: a slow run (sanitizers) must not see the nodes' marks expire. */
	static const char *const extra[] = {"--node_lease=10m", NULL};

	signal(SIGPIPE, SIG_IGN);
	memset(&d, 0, sizeof(d));
	snprintf(dir, sizeof(dir), "%s/t-XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	harness_certs(certs);
	mkdir(state, 0700);
	ck_assert_msg(dmlogd_start(&d, certs, state, extra) == 0, "dmlogd did not start (see %s)",
		      d.logfile);
}

static void teardown(void)
{
	if (d.pid > 0)
		dmlogd_stop(&d, SIGKILL);
	harness_rmdir(dir);
}

/* Appends what is readable on fd to buf (bounded, NUL-terminated); false at EOF. */
static bool drain(int fd, char *buf, size_t *used)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	if (*used + (size_t)n >= OUT_MAX - 1)
		n = (ssize_t)(OUT_MAX - 1 - *used);
	memcpy(buf + *used, tmp, (size_t)n);
	*used += (size_t)n;
	buf[*used] = '\0';
	return true;
}

/* Runs argv (argv[0] a path) with stdout and stderr captured into R; at most RUN_TIMEOUT_S. */
static void run_argv(char *const *argv)
{
	int out[2], err[2], st = 0;
	size_t nout = 0, nerr = 0;
	bool out_open = true, err_open = true;
	time_t deadline = time(NULL) + RUN_TIMEOUT_S;
	pid_t pid;

	memset(&R, 0, sizeof(R));
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe(err), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	while ((out_open || err_open) && time(NULL) < deadline) {
		struct pollfd p[2] = {{.fd = out_open ? out[0] : -1, .events = POLLIN},
				      {.fd = err_open ? err[0] : -1, .events = POLLIN}};

		if (poll(p, 2, 1000) <= 0)
			continue;
		if (p[0].revents && !drain(out[0], R.out, &nout))
			out_open = false;
		if (p[1].revents && !drain(err[0], R.err, &nerr))
			err_open = false;
	}
	close(out[0]);
	close(err[0]);
	if (out_open || err_open)
		kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	R.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	ck_assert_msg(!out_open && !err_open, "%s ran longer than %d s", argv[0], RUN_TIMEOUT_S);
}

/* Runs dmlogctl with the admin certificate against our dmlogd, then the given arguments
 * (NULL-terminated). */
static void ctl(const char *arg, ...)
{
	char server[64], ca[400], cert[400], key[400];
	char *argv[40];
	int n = 0;
	va_list ap;

	snprintf(server, sizeof(server), "127.0.0.1:%d", d.port);
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	snprintf(cert, sizeof(cert), "%s/admin-admin.crt", certs);
	snprintf(key, sizeof(key), "%s/admin-admin.key", certs);
	argv[n++] = (char *)DMLOGCTL_PATH;
	argv[n++] = (char *)"--server";
	argv[n++] = server;
	argv[n++] = (char *)"--ca";
	argv[n++] = ca;
	argv[n++] = (char *)"--cert";
	argv[n++] = cert;
	argv[n++] = (char *)"--key";
	argv[n++] = key;
	va_start(ap, arg);
	for (const char *a = arg; a && n < 39; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	run_argv(argv);
}

/* Runs dmlog-demo as node1 against our dmlogd, with one extra argument (or NULL). */
static void demo(const char *extra)
{
	char server[64], ca[400], cert[400], key[400];
	char *argv[] = {(char *)DMLOG_DEMO_PATH, (char *)"--server", server, (char *)"--ca", ca,
			(char *)"--cert", cert, (char *)"--key", key, (char *)extra, NULL};

	snprintf(server, sizeof(server), "127.0.0.1:%d", d.port);
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	snprintf(cert, sizeof(cert), "%s/node-node1.crt", certs);
	snprintf(key, sizeof(key), "%s/node-node1.key", certs);
	run_argv(argv);
}

#define ck_run(want_status)                                                                  \
	ck_assert_msg(R.status == (want_status), "exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", \
		      R.status, (want_status), R.out, R.err)

#define ck_prefix(got, want)                                                                 \
	ck_assert_msg(strncmp((got), (want), strlen(want)) == 0, "got:\n%s\nwant a start of:\n%s", \
		      (got), (want))

#define ck_text(got, want)                                                                   \
	ck_assert_msg(strcmp((got), (want)) == 0, "got:\n%s\nwant:\n%s", (got), (want))

/* Waits until dmlogd has elected itself leader: `status` exits 0 (at most 20 s). */
static void wait_healthy(void)
{
	for (int i = 0; i < 100; i++) {
		ctl("status", NULL);
		if (R.status == 0)
			return;
		usleep(200 * 1000);
	}
	ck_abort_msg("dmlogd never became healthy: %s%s", R.out, R.err);
}

/* ------------------------------------------------------------------ a JSON validator */

static const char *json_value(const char *p, int depth);

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return NULL;
				p += 4;
			} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
		p++;
	}
	return p + 1;
}

static const char *json_number(const char *p)
{
	const char *s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		s = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == s)
			return NULL;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		s = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == s)
			return NULL;
	}
	return p;
}

static const char *json_list(const char *p, char close, bool object, int depth)
{
	p = json_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (object) {
			p = json_string(p);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		p = json_value(p, depth + 1);
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
		p = json_ws(p);
	}
}

static const char *json_value(const char *p, int depth)
{
	if (depth > 64)
		return NULL;
	p = json_ws(p);
	switch (*p) {
	case '{':
		return json_list(p, '}', true, depth);
	case '[':
		return json_list(p, ']', false, depth);
	case '"':
		return json_string(p);
	case 't':
		return strncmp(p, "true", 4) ? NULL : p + 4;
	case 'f':
		return strncmp(p, "false", 5) ? NULL : p + 5;
	case 'n':
		return strncmp(p, "null", 4) ? NULL : p + 4;
	default:
		return json_number(p);
	}
}

/* True when s is exactly one JSON value (surrounding whitespace allowed). */
static bool json_valid(const char *s)
{
	const char *end = json_value(s, 0);

	return end && *json_ws(end) == '\0';
}

/* ------------------------------------------------------------------ building known state */

static struct dmlog *node(const char *who)
{
	struct dmlog_options o;
	char server[64], ca[400], cert[400], key[400], errmsg[DMLOG_ERRMSG_SIZE];
	struct dmlog *h;

	snprintf(server, sizeof(server), "127.0.0.1:%d", d.port);
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	snprintf(cert, sizeof(cert), "%s/node-%s.crt", certs, who);
	snprintf(key, sizeof(key), "%s/node-%s.key", certs, who);
	memset(&o, 0, sizeof(o));
	o.servers[0] = server;
	o.ca_file = ca;
	o.cert_file = cert;
	o.key_file = key;
	o.request_timeout_ms = 20000;
	h = dmlog_new(&o, errmsg);
	ck_assert_msg(h != NULL, "dmlog_new %s: %s", who, errmsg);
	return h;
}

#define MUST(h, call) \
	do { \
		int rc_ = (call); \
		ck_assert_msg(rc_ == 0, "%s: %d %s", #call, rc_, dmlog_errmsg(h)); \
	} while (0)

/* Recovers regions in the order the server hands them out, checking that it is region i. */
static void resync(struct dmlog *h, const struct dmlog_log_ref *log, uint64_t from, uint64_t to)
{
	struct dmlog_resync_work w;

	for (uint64_t r = from; r < to; r++) {
		MUST(h, dmlog_get_resync_work(h, log, &w));
		ck_assert(w.has_work);
		ck_assert_uint_eq(w.region, r);
		MUST(h, dmlog_set_region_sync(h, log, r, true));
	}
}

/* LOG_A: 16 regions, node1 and node2 resumed; node1 resynced 0-9 and cleared them, and is
 * recovering region 10; marks: node1 0,1,2,7 and node2 2,3,9. LOG_B: 8 regions, node1 only,
 * fully resynced and clean. */
static void populate(void)
{
	const struct dmlog_log_ref a1 = {.uuid = LOG_A, .luid = LUID_1, .version = 3};
	const struct dmlog_log_ref a2 = {.uuid = LOG_A, .luid = LUID_2, .version = 3};
	const struct dmlog_log_ref b1 = {.uuid = LOG_B, .luid = LUID_1, .version = 3};
	const uint64_t cleared[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	const uint64_t all_b[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	const uint64_t marks1[4] = {7, 0, 2, 1};
	const uint64_t marks2[3] = {9, 3, 2};
	struct dmlog *n1, *n2;
	struct dmlog_resync_work w;
	char dev[64];

	wait_healthy();
	n1 = node("node1");
	n2 = node("node2");
	MUST(n1, dmlog_ctr(n1, &a1, "16384 clustered-core 1024", false, dev, sizeof(dev)));
	MUST(n1, dmlog_resume(n1, &a1));
	MUST(n2, dmlog_ctr(n2, &a2, "16384 clustered-core 1024", false, dev, sizeof(dev)));
	MUST(n2, dmlog_resume(n2, &a2));
	resync(n1, &a1, 0, 10);
	MUST(n1, dmlog_clear_region(n1, &a1, cleared, 10));
	MUST(n1, dmlog_flush(n1, &a1, NULL, 0));
	MUST(n1, dmlog_get_resync_work(n1, &a1, &w)); /* node1 now recovers region 10 */
	ck_assert(w.has_work);
	ck_assert_uint_eq(w.region, 10);
	MUST(n1, dmlog_mark_region(n1, &a1, marks1, 4));
	MUST(n1, dmlog_flush(n1, &a1, NULL, 0));
	MUST(n2, dmlog_flush(n2, &a2, marks2, 3)); /* marks carried by the flush */

	MUST(n1, dmlog_ctr(n1, &b1, "8192 clustered-core 1024", false, dev, sizeof(dev)));
	MUST(n1, dmlog_resume(n1, &b1));
	resync(n1, &b1, 0, 8);
	MUST(n1, dmlog_get_resync_work(n1, &b1, &w));
	ck_assert(!w.has_work);
	MUST(n1, dmlog_clear_region(n1, &b1, all_b, 8));
	MUST(n1, dmlog_flush(n1, &b1, NULL, 0));
	dmlog_free(n1);
	dmlog_free(n2);
}

/* ------------------------------------------------------------------ tests */

START_TEST(status_reports_a_healthy_leader_and_exits_0)
{
	char want[256], addr[32];
	char *p, *q;
	int port;

	populate();
	ctl("status", NULL);
	ck_run(0);
	ck_assert_str_eq(R.err, "");
	/* Indexes and counts of connections move: pin the lines around them. */
	ck_prefix(R.out,
		  "server:          dmlogd1\n"
		  "version:         0.1.0\n"
		  "raft role:       leader\n"
		  "leader:          dmlogd1\n"
		  "term:            ");
	ck_assert_ptr_nonnull(strstr(R.out, "\ncommit index:    "));
	ck_assert_ptr_nonnull(strstr(R.out, "\napplied index:   "));
	ck_assert_ptr_nonnull(strstr(R.out, "\nlogs:            2\nnodes:           2\n"
					    "connections:     "));
	p = strstr(R.out, "\nhealth:");
	ck_assert_ptr_nonnull(p);
	/* The peer's address is one of its two ports (which one is the server's business); the
	 * address column is as wide as the address. */
	q = strstr(p, "  dmlogd1  127.0.0.1:");
	ck_assert_ptr_nonnull(q);
	port = atoi(q + 21);
	ck_assert_msg(port == d.port || port == d.raft_port, "%s", R.out);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	snprintf(want, sizeof(want),
		 "\nhealth:          healthy\n"
		 "peers:           1\n"
		 "  ID       %-*s  ROLE    VOTER\n"
		 "  dmlogd1  %s  leader  yes\n",
		 (int)strlen(addr), "ADDRESS", addr);
	ck_text(p, want);

	ctl("status", "--json", NULL);
	ck_run(0);
	ck_assert_msg(json_valid(R.out), "not JSON: %s", R.out);
	ck_prefix(R.out, "{\"server_id\":\"dmlogd1\",\"version\":\"0.1.0\","
			 "\"raft_role\":\"leader\",\"leader_id\":\"dmlogd1\",\"term\":");
	ck_assert_ptr_nonnull(strstr(R.out, ",\"log_count\":2,\"node_count\":2,"));
	snprintf(want, sizeof(want),
		 ",\"health\":\"healthy\",\"healthy\":true,\"peers\":[{\"id\":\"dmlogd1\","
		 "\"address\":\"%s\",\"role\":\"leader\",\"voter\":true}]}\n", addr);
	p = strstr(R.out, ",\"health\":");
	ck_assert_ptr_nonnull(p);
	ck_text(p, want);

	/* Global options also go before the verb. */
	ctl("--json", "peers", NULL);
	ck_run(0);
	snprintf(want, sizeof(want),
		 "[{\"id\":\"dmlogd1\",\"address\":\"%s\",\"role\":\"leader\","
		 "\"voter\":true}]\n", addr);
	ck_text(R.out, want);
	ck_assert(json_valid(R.out));
}
END_TEST

/* Runs `dmlogctl [--json] status` against slot i of g until it exits with want (at most
 * timeout_ms); fails with the last output otherwise. */
static void group_status_until(const struct group_peer *g, int i, bool json, int want,
			       int timeout_ms)
{
	uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;

	d.port = g[i].d.port; /* ctl() asks d.port */
	do {
		if (json)
			ctl("--json", "status", NULL);
		else
			ctl("status", NULL);
		if (R.status == want)
			return;
		usleep(100 * 1000);
	} while (harness_now_ms() < deadline);
	ck_run(want);
}

/* A three-peer group: healthy (0), one follower killed (degraded, 1, that peer unavailable in
 * the leader's table), both followers killed (unavailable, 2), both back (healthy again). */
START_TEST(status_exit_code_follows_the_group_health)
{
	struct group_peer g[3];
	char gdir[320], row[64];
	const char *p, *q;
	int leader = -1, f1, f2;
	uint64_t deadline;

	dmlogd_stop(&d, SIGKILL); /* the fixture's standalone server is not needed */
	ck_assert_int_eq(group_certs(certs, 3), 0);
	snprintf(gdir, sizeof(gdir), "%s/group", dir);
	mkdir(gdir, 0700);
	group_init(g, 3, gdir);
	for (int i = 0; i < 3; i++) {
		const char *argv[] = {g[i].arg[0], g[i].arg[1], g[i].arg[2], g[i].arg[3],
				      g[i].arg[4], NULL};

		group_args(g, i, 3, certs, NULL);
		ck_assert_msg(dmlogd_start(&g[i].d, certs, g[i].state, argv) == 0,
			      "dmlogd%d did not start (see %s)", i + 1, g[i].d.logfile);
	}
	deadline = harness_now_ms() + 20000;
	while (leader < 0 && harness_now_ms() < deadline) {
		for (int i = 0; i < 3 && leader < 0; i++) {
			d.port = g[i].d.port;
			ctl("status", NULL);
			if (R.status == 0 && strstr(R.out, "\nraft role:       leader\n"))
				leader = i;
		}
		if (leader < 0)
			usleep(100 * 1000);
	}
	ck_assert_msg(leader >= 0, "no leader: %s%s", R.out, R.err);
	group_status_until(g, leader, false, 0, 5000);
	ck_assert_ptr_nonnull(strstr(R.out, "\nhealth:          healthy\n"));

	f1 = (leader + 1) % 3;
	f2 = (leader + 2) % 3;
	dmlogd_stop(&g[f1].d, SIGKILL);
	group_status_until(g, leader, false, 1, 5000);
	ck_assert_msg(strstr(R.out, "\nhealth:          degraded\n") != NULL, "%s", R.out);
	/* One row says unavailable, and it is the killed follower's. */
	snprintf(row, sizeof(row), "  dmlogd%d ", f1 + 1);
	p = strstr(R.out, row);
	q = strstr(R.out, "unavailable");
	ck_assert_msg(p && q && q > p && !memchr(p + 1, '\n', (size_t)(q - p - 1)) &&
		      !strstr(q + 1, "unavailable"), "%s", R.out);
	group_status_until(g, leader, true, 1, 5000);
	ck_assert_msg(json_valid(R.out), "not JSON: %s", R.out);
	ck_assert_ptr_nonnull(strstr(R.out, ",\"health\":\"degraded\",\"healthy\":true,"));

	/* No majority: the leader steps down within an election timeout or so. */
	dmlogd_stop(&g[f2].d, SIGKILL);
	group_status_until(g, leader, false, 2, 5000);
	ck_assert_msg(strstr(R.out, "\nhealth:          unavailable\n") != NULL, "%s", R.out);

	/* Both back: healthy again, whoever leads. */
	for (int i = 0; i < 3; i++) {
		const char *argv[] = {g[i].arg[0], g[i].arg[1], g[i].arg[2], g[i].arg[3],
				      g[i].arg[4], NULL};

		if (i != leader)
			ck_assert_msg(dmlogd_start(&g[i].d, certs, g[i].state, argv) == 0,
				      "dmlogd%d did not restart", i + 1);
	}
	deadline = harness_now_ms() + 15000;
	R.status = -1;
	while (R.status != 0 && harness_now_ms() < deadline)
		for (int i = 0; i < 3 && R.status != 0; i++) {
			d.port = g[i].d.port;
			ctl("status", NULL);
			if (R.status == 0 && !strstr(R.out, "\nraft role:       leader\n"))
				R.status = -1; /* only the leader sees every voter */
		}
	ck_run(0);
	ck_assert_ptr_nonnull(strstr(R.out, "\nhealth:          healthy\n"));
	ck_assert_ptr_null(strstr(R.out, "unavailable"));
	for (int i = 0; i < 3; i++)
		dmlogd_stop(&g[i].d, SIGKILL);
}
END_TEST

START_TEST(logs_lists_every_log_with_its_sync_state)
{
	populate();
	ctl("logs", NULL);
	ck_run(0);
	ck_text(R.out,
		"UUID           REGION_SIZE  REGIONS  DIRTY  IN_SYNC  STATE    RECOVERER\n"
		"LVM-ctltest-a       512KiB       16     12    62.5%  resumed  node1\n"
		"LVM-ctltest-b       512KiB        8      0   100.0%  resumed  -\n");
	ck_assert_str_eq(R.err, "");

	ctl("logs", "--json", NULL);
	ck_run(0);
	ck_text(R.out,
		"[{\"uuid\":\"LVM-ctltest-a\",\"type\":\"clustered-core\",\"device\":null,"
		"\"region_size\":1024,\"region_count\":16,\"dirty_count\":12,\"sync_count\":10,"
		"\"in_sync_percent\":62.5,\"state\":\"resumed\",\"recoverer\":\"node1\","
		"\"recovering_region\":10},"
		"{\"uuid\":\"LVM-ctltest-b\",\"type\":\"clustered-core\",\"device\":null,"
		"\"region_size\":1024,\"region_count\":8,\"dirty_count\":0,\"sync_count\":8,"
		"\"in_sync_percent\":100.0,\"state\":\"resumed\",\"recoverer\":null,"
		"\"recovering_region\":null}]\n");
	ck_assert(json_valid(R.out));
}
END_TEST

START_TEST(log_show_compresses_ranges_and_groups_marks_by_node)
{
	populate();
	ctl("log", "show", LOG_A, NULL);
	ck_run(0);
	ck_text(R.out,
		"uuid:            LVM-ctltest-a\n"
		"type:            clustered-core\n"
		"device:          -\n"
		"region size:     1024 sectors (512KiB)\n"
		"regions:         16\n"
		"dirty:           12\n"
		"in sync:         10 of 16 (62.5%)\n"
		"state:           resumed\n"
		"recoverer:       node1 (region 10)\n"
		"fully synced:    no\n"
		"dirty regions:   0-3,7,9-15\n"
		"out of sync:     10-15\n"
		"marks:\n"
		"  node1: 0-2,7\n"
		"  node2: 2-3,9\n"
		"instances:\n"
		"  NODE   LUID    STATE    IN_SYNC_HINT\n"
		"  node1  0x1000  resumed  0\n"
		"  node2  0x2000  resumed  0\n");
	ck_assert_str_eq(R.err, "");

	ctl("log", "show", LOG_B, NULL);
	ck_run(0);
	ck_text(R.out,
		"uuid:            LVM-ctltest-b\n"
		"type:            clustered-core\n"
		"device:          -\n"
		"region size:     1024 sectors (512KiB)\n"
		"regions:         8\n"
		"dirty:           0\n"
		"in sync:         8 of 8 (100.0%)\n"
		"state:           resumed\n"
		"recoverer:       none\n"
		"fully synced:    yes\n"
		"dirty regions:   none\n"
		"out of sync:     none\n"
		"marks:           none\n"
		"instances:\n"
		"  NODE   LUID    STATE    IN_SYNC_HINT\n"
		"  node1  0x1000  resumed  0\n");
}
END_TEST

START_TEST(log_show_json_carries_ranges_as_pairs)
{
	populate();
	ctl("log", "show", "--json", LOG_A, NULL);
	ck_run(0);
	ck_text(R.out,
		"{\"uuid\":\"LVM-ctltest-a\",\"type\":\"clustered-core\",\"device\":null,"
		"\"region_size\":1024,\"region_count\":16,\"dirty_count\":12,\"sync_count\":10,"
		"\"in_sync_percent\":62.5,\"state\":\"resumed\",\"recoverer\":\"node1\","
		"\"recovering_region\":10,\"fully_synced\":false,"
		"\"dirty_ranges\":[[0,3],[7,7],[9,15]],\"out_of_sync_ranges\":[[10,15]],"
		"\"marks\":[{\"node\":\"node1\",\"ranges\":[[0,2],[7,7]]},"
		"{\"node\":\"node2\",\"ranges\":[[2,3],[9,9]]}],"
		"\"instances\":[{\"node\":\"node1\",\"luid\":4096,\"luid_hex\":\"0x1000\","
		"\"state\":\"resumed\",\"in_sync_hint\":0},"
		"{\"node\":\"node2\",\"luid\":8192,\"luid_hex\":\"0x2000\","
		"\"state\":\"resumed\",\"in_sync_hint\":0}]}\n");
	ck_assert(json_valid(R.out));
}
END_TEST

START_TEST(json_escapes_strings_that_need_it)
{
	/* A quote, a backslash, a tab and a byte that is not UTF-8. */
	const struct dmlog_log_ref odd = {.uuid = "LVM-\"q\\\t\xff", .luid = LUID_1, .version = 3};
	const char *want = "[{\"uuid\":\"LVM-\\\"q\\\\\\t\\ufffd\",";
	struct dmlog *n1;
	char dev[64];

	wait_healthy();
	n1 = node("node1");
	MUST(n1, dmlog_ctr(n1, &odd, "4096 clustered-core 1024", false, dev, sizeof(dev)));
	dmlog_free(n1);
	ctl("logs", "--json", NULL);
	ck_run(0);
	ck_assert_msg(json_valid(R.out), "not JSON: %s", R.out);
	ck_prefix(R.out, want);
	ctl("log", "show", "--json", odd.uuid, NULL);
	ck_run(0);
	ck_assert_msg(json_valid(R.out), "not JSON: %s", R.out);
}
END_TEST

START_TEST(unknown_uuid_fails_naming_it)
{
	wait_healthy();
	ctl("log", "show", "LVM-nope", NULL);
	ck_run(1);
	ck_assert_str_eq(R.out, "");
	ck_assert_str_eq(R.err, "dmlogctl: no log with uuid LVM-nope\n");
	/* --json changes nothing on failure: the message goes to stderr, stdout stays empty. */
	ctl("log", "show", "--json", "LVM-nope", NULL);
	ck_run(1);
	ck_assert_str_eq(R.out, "");
	ck_assert_str_eq(R.err, "dmlogctl: no log with uuid LVM-nope\n");
}
END_TEST

START_TEST(usage_errors_exit_3_and_help_exits_0)
{
	static const char *const bad[][4] = {
		{NULL},                                 /* no verb */
		{"frobnicate", NULL},                   /* unknown verb */
		{"--frob", "status", NULL},             /* unknown global option */
		{"status", "--frob", NULL},             /* unknown verb option */
		{"status", "extra", NULL},              /* unexpected argument */
		{"log", NULL},                          /* missing sub-verb */
		{"log", "drop", "x", NULL},             /* unknown sub-verb */
		{"log", "show", NULL},                  /* missing UUID */
		{"log", "show", "a", "b"},              /* too many */
	};
	static const char *const verbs[][3] = {
		{"status", "--help", NULL},
		{"peers", "--help", NULL},
		{"logs", "-h", NULL},
		{"log", "show", "--help"},
		{"help", "logs", NULL},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctl(bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL);
		ck_assert_msg(R.status == 3, "case %zu: exit %d: %s", i, R.status, R.err);
		ck_prefix(R.err, "dmlogctl: ");
		ck_assert_msg(strstr(R.err, "--help'.\n") != NULL, "case %zu: %s", i, R.err);
		ck_assert_str_eq(R.out, "");
	}
	ctl("--timeout", "soon", "status", NULL);
	ck_run(3);
	ck_assert_str_eq(R.err, "dmlogctl: --timeout: 'soon' is not a number of milliseconds "
				"(1 to 86400000)\nTry 'dmlogctl --help'.\n");
	ctl("log", "show", NULL);
	ck_assert_str_eq(R.err, "dmlogctl: log show: missing argument\n"
				"Try 'dmlogctl log show --help'.\n");

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		ctl(verbs[i][0], verbs[i][1], verbs[i][2], NULL);
		ck_assert_msg(R.status == 0, "help %zu: exit %d: %s", i, R.status, R.err);
		ck_prefix(R.out, "Usage: dmlogctl [OPTIONS] ");
	}
	ctl("--help", NULL);
	ck_run(0);
	ck_assert_ptr_nonnull(strstr(R.out, "Exit status:\n  0  success"));
	ck_assert_ptr_nonnull(strstr(R.out, "  3  usage error\n"));
	ctl("--version", NULL);
	ck_run(0);
	ck_assert_str_eq(R.out, "dmlogctl 0.1.0 (libdmlog " DMLOG_VERSION_STRING ")\n");
}
END_TEST

START_TEST(stopped_server_exits_2_cannot_reach)
{
	char want[256];

	wait_healthy();
	dmlogd_stop(&d, SIGTERM);
	ctl("--timeout", "1000", "status", NULL);
	ck_run(2);
	ck_assert_str_eq(R.out, "");
	snprintf(want, sizeof(want),
		 "dmlogctl: cannot reach 127.0.0.1:%d: connect 127.0.0.1:%d: Connection refused\n",
		 d.port, d.port);
	ck_text(R.err, want);
	ctl("--timeout", "1000", "logs", "--json", NULL);
	ck_run(2);
	ck_text(R.err, want);
}
END_TEST

START_TEST(wrong_ca_exits_2_with_the_certificate_reason)
{
	char ca[400], cert[400], key[400];

	wait_healthy();
	/* Our CA refuses the server's certificate. */
	snprintf(ca, sizeof(ca), "%s/other/ca.crt", certs);
	ctl("--ca", ca, "status", NULL);
	ck_run(2);
	ck_assert_msg(strstr(R.err, "dmlogctl: TLS authentication with 127.0.0.1:") == R.err &&
		      strstr(R.err, "certificate verify failed") != NULL, "%s", R.err);
	/* The server refuses ours (signed by another CA). */
	snprintf(cert, sizeof(cert), "%s/other/node-node1.crt", certs);
	snprintf(key, sizeof(key), "%s/other/node-node1.key", certs);
	ctl("--cert", cert, "--key", key, "status", NULL);
	ck_run(2);
	ck_assert_msg(strstr(R.err, "dmlogctl: TLS authentication with 127.0.0.1:") == R.err &&
		      strstr(R.err, "certificate") != NULL, "%s", R.err);
	/* Unreadable TLS files. */
	ctl("--ca", "/nonexistent/ca.crt", "status", NULL);
	ck_run(2);
	ck_assert_msg(strstr(R.err, "/nonexistent/ca.crt") != NULL, "%s", R.err);
}
END_TEST

START_TEST(node_certificate_may_not_ask_admin_queries)
{
	char cert[400], key[400];

	wait_healthy();
	snprintf(cert, sizeof(cert), "%s/node-node1.crt", certs);
	snprintf(key, sizeof(key), "%s/node-node1.key", certs);
	ctl("--cert", cert, "--key", key, "logs", NULL);
	ck_run(1);
	ck_prefix(R.err, "dmlogctl: permission denied: ");
}
END_TEST

START_TEST(demo_runs_twice_against_one_server)
{
	wait_healthy();
	demo(NULL);
	ck_run(0);
	ck_assert_ptr_nonnull(strstr(R.out, "\nCTR 16384 clustered-core 1024 -> ok\n"
					    "GET_SYNC_COUNT -> 0 of 16 regions in sync\n"
					    "GET_REGION_SIZE -> 1024 sectors\n"
					    "RESUME -> ok\n"
					    "GET_RESYNC_WORK -> region 0\n"));
	ck_assert_ptr_nonnull(strstr(R.out, "\nGET_RESYNC_WORK -> no work\n"
					    "GET_SYNC_COUNT -> 16 of 16 regions in sync\n"
					    "IN_SYNC region 3 -> in sync\n"
					    "MARK_REGION 3 -> ok\n"
					    "FLUSH -> ok\n"
					    "IS_CLEAN region 3 -> dirty\n"
					    "CLEAR_REGION 3 -> ok\n"
					    "FLUSH -> ok\n"
					    "IS_CLEAN region 3 -> clean\n"
					    "FLUSH marks 5,6 -> ok\n"));
	ck_assert_ptr_nonnull(strstr(R.out, "\ndmlog-demo: done: 16 regions of 1024 sectors, "
					    "16 recovered"));
	ck_assert_str_eq(R.err, "");

	/* The log stays, fully in sync, for dmlogctl to show. */
	ctl("logs", NULL);
	ck_run(0);
	ck_text(R.out,
		"UUID                       REGION_SIZE  REGIONS  DIRTY  IN_SYNC  STATE    RECOVERER\n"
		"LVM-dmlog-demo-quickstart       512KiB       16      0   100.0%  resumed  -\n");

	/* Again: the leftover is noticed and re-created, and everything is as the first time. */
	demo(NULL);
	ck_run(0);
	ck_assert_ptr_nonnull(strstr(R.out, "\nCTR 16384 clustered-core 1024 -> ok\n"
					    "GET_SYNC_COUNT -> 16 of 16 regions in sync\n"
					    "(the log is left from an earlier run: destroying and "
					    "re-creating it)\nDTR -> ok\n"
					    "CTR 16384 clustered-core 1024 -> ok\n"
					    "GET_SYNC_COUNT -> 0 of 16 regions in sync\n"
					    "GET_REGION_SIZE -> 1024 sectors\n"));
	ck_assert_ptr_nonnull(strstr(R.out, "\ndmlog-demo: done: 16 regions of 1024 sectors, "
					    "16 recovered"));

	/* And a third time, removing the log at the end. */
	demo("--remove");
	ck_run(0);
	ck_assert_ptr_nonnull(strstr(R.out, "\nPRESUSPEND -> ok\nPOSTSUSPEND -> ok\nDTR -> ok\n"
					    "dmlog-demo: done:"));
	ctl("logs", NULL);
	ck_run(0);
	ck_text(R.out, "UUID  REGION_SIZE  REGIONS  DIRTY  IN_SYNC  STATE  RECOVERER\n");
}
END_TEST

START_TEST(demo_recreates_a_log_whose_node_lease_expired)
{
	static const char *const short_lease[] = {"--node_lease=1s", NULL};

	/* Restart with a short lease: the demo's instance is lost soon after it disconnects. */
	dmlogd_stop(&d, SIGTERM);
	ck_assert_msg(dmlogd_start(&d, certs, state, short_lease) == 0, "restart (see %s)",
		      d.logfile);
	wait_healthy();
	demo(NULL);
	ck_run(0);
	for (int i = 0; i < 100; i++) {
		ctl("log", "show", "LVM-dmlog-demo-quickstart", NULL);
		ck_run(0);
		if (strstr(R.out, "  node1  0x10  lost "))
			break;
		usleep(200 * 1000);
	}
	ck_assert_msg(strstr(R.out, "  node1  0x10  lost ") != NULL, "never lost:\n%s", R.out);
	demo(NULL);
	ck_run(0);
	ck_assert_ptr_nonnull(strstr(R.out, "\nCTR 16384 clustered-core 1024 -> ok\n"
					    "GET_SYNC_COUNT -> stale (the instance was lost with its "
					    "node)\n(the log is left from an earlier run: destroying "
					    "and re-creating it)\nDTR -> ok\n"));
	ck_assert_ptr_nonnull(strstr(R.out, "\ndmlog-demo: done: "));
}
END_TEST

START_TEST(demo_reports_an_unreachable_server)
{
	wait_healthy();
	dmlogd_stop(&d, SIGTERM);
	{
		char server[64], ca[400], cert[400], key[400];
		char *argv[] = {(char *)DMLOG_DEMO_PATH, (char *)"--server", server, (char *)"--ca",
				ca, (char *)"--cert", cert, (char *)"--key", key,
				(char *)"--timeout", (char *)"1000", NULL};

		snprintf(server, sizeof(server), "127.0.0.1:%d", d.port);
		snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
		snprintf(cert, sizeof(cert), "%s/node-node1.crt", certs);
		snprintf(key, sizeof(key), "%s/node-node1.key", certs);
		run_argv(argv);
	}
	ck_run(1);
	ck_assert_ptr_nonnull(strstr(R.out, "CTR 16384 clustered-core 1024 -> failed\n"));
	ck_assert_msg(strstr(R.err, "dmlog-demo: CTR 16384 clustered-core 1024 failed: ") == R.err &&
		      strstr(R.err, "Connection refused") != NULL, "%s", R.err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dmlogctl");
	TCase *tc = tcase_create("process");

	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, status_reports_a_healthy_leader_and_exits_0);
	tcase_add_test(tc, status_exit_code_follows_the_group_health);
	tcase_add_test(tc, logs_lists_every_log_with_its_sync_state);
	tcase_add_test(tc, log_show_compresses_ranges_and_groups_marks_by_node);
	tcase_add_test(tc, log_show_json_carries_ranges_as_pairs);
	tcase_add_test(tc, json_escapes_strings_that_need_it);
	tcase_add_test(tc, unknown_uuid_fails_naming_it);
	tcase_add_test(tc, usage_errors_exit_3_and_help_exits_0);
	tcase_add_test(tc, stopped_server_exits_2_cannot_reach);
	tcase_add_test(tc, wrong_ca_exits_2_with_the_certificate_reason);
	tcase_add_test(tc, node_certificate_may_not_ask_admin_queries);
	tcase_add_test(tc, demo_runs_twice_against_one_server);
	tcase_add_test(tc, demo_recreates_a_log_whose_node_lease_expired);
	tcase_add_test(tc, demo_reports_an_unreachable_server);
	suite_add_tcase(s, tc);
	return testmain_run(s);
}
