/* test_localreads.c: IN_SYNC without a round trip, end to end — real dmlogd processes, the
 * dmlog-bridge binary (dgram:PATH transport) and the fake kernel, plus libdmlog clients playing
 * a second node and direct queries.
 *
 * Covered: a synced mirror's 16,384 IN_SYNCs (a buffered 64 MiB read) answered by the bridge
 * itself, counted from its SIGUSR1 dump; a resync by another node while this node reads, every
 * answer checked against what was acknowledged before the read and what was not yet asked
 * after it, and every region compared with dmlogd's direct answer once quiet; SET_REGION_SYNC
 * (r, 0) from another node while this bridge is frozen: its acknowledgement waits for the
 * bridge's lease, and the bridge then answers 0; kill -9 of the leader of three peers during
 * such a resync, with the same checks, and local answers coming back from the new leader.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dmlog/dmlog.h>
#include <linux/dm-log-userspace.h>

#include "fake_kernel.h"
#include "group.h"
#include "harness.h"
#include "testmain.h"

#ifndef DMLOG_BRIDGE_PATH
#error "DMLOG_BRIDGE_PATH must name the dmlog-bridge binary"
#endif

#define UUID "LVM-localreads-0123456789abcdef"
#define LUID1 UINT64_C(0xffff888011110000)
#define LUID2 UINT64_C(0xffff888022220000)
#define REGIONS 256
#define SYNC_ARGS "262144 clustered-core 1024"          /* 256 regions, all out of sync */
#define NOSYNC_ARGS "262144 clustered-core 1024 nosync"
#define MAXP 3

static char dir[256], certs[300], sock[320], ready[320], ini[320], logfile[320];
static char servers[256];
static int npeers;
static struct group_peer P[MAXP];
static pid_t bridge_pid;
static struct fake_kernel *fk;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---------------------------------------------------------------- processes */

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	npeers = 0;
	bridge_pid = 0;
	fk = NULL;
	harness_tmpdir(dir, sizeof(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	snprintf(sock, sizeof(sock), "%s/kernel.sock", dir);
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	snprintf(ini, sizeof(ini), "%s/dmlog-bridge.ini", dir);
	snprintf(logfile, sizeof(logfile), "%s/bridge.log", dir);
	harness_certs(certs);
	ck_assert_int_eq(group_certs(certs, MAXP), 0);
	group_init(P, MAXP, dir);
}

static void teardown(void)
{
	fake_kernel_free(fk);
	fk = NULL;
	if (bridge_pid > 0) {
		kill(bridge_pid, SIGKILL);
		waitpid(bridge_pid, NULL, 0);
	}
	for (int i = 0; i < MAXP; i++)
		if (P[i].d.pid > 0)
			dmlogd_stop(&P[i].d, SIGKILL);
	if (!getenv("DMLOG_TEST_KEEP"))
		harness_rmdir(dir);
}

/* Starts n peers (one: standalone) and sets `servers` to their client addresses. */
static void peers_start(int n)
{
	size_t used = 0;

	npeers = n;
	for (int i = 0; i < n; i++) {
		const char *argv[8];
		int k = 0;

		group_args(P, i, n, certs, NULL);
		for (int m = 0; m < (n > 1 ? 5 : 4); m++) /* standalone: no --peers */
			argv[k++] = P[i].arg[m];
		if (getenv("LR_DEBUG")) /* set it to see the peers' connections in their logs */
			argv[k++] = "--log-level=debug";
		argv[k] = NULL;
		ck_assert_msg(dmlogd_start(&P[i].d, certs, P[i].state, argv) == 0,
			      "dmlogd %d did not start (%s)", i + 1, P[i].d.logfile);
		used += (size_t)snprintf(servers + used, sizeof(servers) - used, "%s127.0.0.1:%d",
					 i ? "," : "", P[i].d.port);
	}
}

static void bridge_start(void)
{
	struct fake_kernel_options o = {0};
	char err[256];

	ck_assert_int_eq(harness_bridge_ini(ini, servers, certs, "node1", sock,
					    "reconnect_min = 50ms\n"
					    "reconnect_max = 250ms\n"
					    "keepalive = 500ms\n"
					    "log_level = info\n"),
			 0);
	bridge_pid = harness_bridge_start(DMLOG_BRIDGE_PATH, ini, ready, logfile);
	ck_assert_msg(harness_wait_ready(bridge_pid, ready), "bridge not ready (%s)", logfile);
	o.path = sock;
	o.resend_ms = 15000;
	o.reconnect_ms = 200;
	o.deadline_ms = 30000;
	fk = fake_kernel_new(&o, err);
	ck_assert_msg(fk != NULL, "%s", err);
}

/* The bridge's counters from a fresh SIGUSR1 dump. */
struct counts {
	unsigned long long local, remote, no_lease, copies_made, grants, flush, clears;
	unsigned copies;
};

static int dump_lines(void)
{
	return harness_log_count(logfile, "state dump: local_reads local=");
}

static struct counts bridge_counts(void)
{
	struct counts c;
	int before = dump_lines();
	char line[4096], last[4096] = "";
	const char *p;
	FILE *f;

	kill(bridge_pid, SIGUSR1);
	for (int i = 0; i < 200 && dump_lines() == before; i++)
		usleep(10 * 1000);
	f = fopen(logfile, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "state dump: local_reads local="))
			snprintf(last, sizeof(last), "%s", line);
	fclose(f);
	p = strstr(last, "local=");
	ck_assert_ptr_nonnull(p);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(sscanf(p, "local=%llu remote=%llu remote_no_lease=%llu copies=%u", &c.local,
				&c.remote, &c.no_lease, &c.copies),
			 4);
	ck_assert_int_eq(sscanf(strstr(p, "copies_made="), "copies_made=%llu", &c.copies_made), 1);
	ck_assert_int_eq(sscanf(strstr(p, "grants="), "grants=%llu", &c.grants), 1);
	ck_assert_int_eq(sscanf(strstr(p, "local_flush="), "local_flush=%llu", &c.flush), 1);
	ck_assert_int_eq(sscanf(strstr(p, "early_clears="), "early_clears=%llu", &c.clears), 1);
	return c;
}

/* ---------------------------------------------------------------- the kernel's side */

static int kcall(uint32_t type, const void *data, size_t size, struct fake_kernel_reply *r)
{
	struct fake_kernel_req req = {type, UUID, LUID1, 3, data, size};

	return fake_kernel_call(fk, &req, r);
}

static void kopen(const char *args)
{
	struct fake_kernel_reply r;

	ck_assert_int_eq(kcall(DM_ULOG_CTR, args, strlen(args), &r), 0);
	ck_assert_int_eq(kcall(DM_ULOG_GET_REGION_SIZE, NULL, 0, &r), 0);
	ck_assert_int_eq(kcall(DM_ULOG_RESUME, NULL, 0, &r), 0);
}

/* IN_SYNC(region) through the bridge: 0 or 1 (asserting the reply is well formed). */
static int kin_sync(uint64_t region)
{
	struct fake_kernel_reply r;

	ck_assert_int_eq(kcall(DM_ULOG_IN_SYNC, &region, 8, &r), 0);
	ck_assert_uint_eq(r.data_size, 8);
	return fake_kernel_data(&r)[0];
}

/* Reads until the bridge answers locally (its copy is complete and leased), at most 10 s. */
static void wait_local(void)
{
	uint64_t end = harness_now_ms() + 10000;
	struct counts c0 = bridge_counts(), c;

	for (;;) {
		kin_sync(0);
		c = bridge_counts();
		if (c.local > c0.local)
			return;
		ck_assert_msg(harness_now_ms() < end, "the bridge never answered locally");
		usleep(50 * 1000);
	}
}

/* ---------------------------------------------------------------- libdmlog clients */

static struct dmlog *client(const char *who)
{
	static char ca[400], cert[400], key[400];
	struct dmlog_options o;
	char err[DMLOG_ERRMSG_SIZE], *save = NULL, list[256];
	struct dmlog *h;
	int n = 0;

	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	snprintf(cert, sizeof(cert), "%s/%s.crt", certs, who);
	snprintf(key, sizeof(key), "%s/%s.key", certs, who);
	memset(&o, 0, sizeof(o));
	snprintf(list, sizeof(list), "%s", servers);
	for (char *s = strtok_r(list, ",", &save); s && n < DMLOG_MAX_SERVERS;
	     s = strtok_r(NULL, ",", &save))
		o.servers[n++] = strdup(s);
	o.ca_file = ca;
	o.cert_file = cert;
	o.key_file = key;
	o.request_timeout_ms = 30000;
	o.reconnect_min_ms = 50;
	o.reconnect_max_ms = 250;
	o.max_redirects = 1000; /* followers name the dead leader until the election is over */
	h = dmlog_new(&o, err);
	for (int i = 0; i < n; i++)
		free((char *)o.servers[i]);
	ck_assert_msg(h != NULL, "%s", err);
	return h;
}

static const struct dmlog_log_ref ref2 = {UUID, LUID2, 3};
static const struct dmlog_log_ref ref1 = {UUID, LUID1, 3};

static void open2(struct dmlog *h, const char *args)
{
	char dev[8];

	ck_assert_msg(dmlog_ctr(h, &ref2, args, false, dev, sizeof(dev)) == 0, "%s",
		      dmlog_errmsg(h));
	ck_assert_msg(dmlog_resume(h, &ref2) == 0, "%s", dmlog_errmsg(h));
}

/* ---------------------------------------------------------------- resync while reading */

/* When node2's SET_REGION_SYNC(r, 1) was asked and acknowledged (us; 0: not yet). */
static _Atomic uint64_t asked_at[REGIONS], acked_at[REGIONS];
static atomic_bool reading;
static atomic_ulong reads, violations;
static char violation[256];

/* The reader (this node's kernel): every answer must lie between what was acknowledged
 * before the read began and what had not even been asked when it ended. */
static void *reader(void *arg)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)arg;
	while (atomic_load(&reading)) {
		uint64_t r, t0, t1, ack, ask;
		int v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		r = x % REGIONS;
		t0 = now_us();
		v = kin_sync(r);
		t1 = now_us();
		ack = atomic_load(&acked_at[r]);
		ask = atomic_load(&asked_at[r]);
		if ((ack && ack < t0 && v != 1) || ((!ask || ask > t1) && v != 0)) {
			if (atomic_fetch_add(&violations, 1) == 0)
				snprintf(violation, sizeof(violation),
					 "region %llu read %d in [%llu, %llu]; asked %llu acked %llu",
					 (unsigned long long)r, v, (unsigned long long)t0,
					 (unsigned long long)t1, (unsigned long long)ask,
					 (unsigned long long)ack);
		}
		atomic_fetch_add(&reads, 1);
		usleep(100); /* a reading kernel, not a busy loop: the daemons need the CPUs too */
	}
	return NULL;
}

/* node2 recovers regions until `upto` of them are in sync (the kernel's resync loop). */
static void resync(struct dmlog *h, unsigned upto, void (*midway)(void), unsigned midway_at)
{
	for (unsigned done = 0; done < upto; done++) {
		struct dmlog_resync_work w;
		uint64_t t;

		if (midway && done == midway_at)
			midway();
		ck_assert_msg(dmlog_get_resync_work(h, &ref2, &w) == 0, "%s", dmlog_errmsg(h));
		ck_assert(w.has_work);
		ck_assert_uint_lt(w.region, REGIONS);
		atomic_store(&asked_at[w.region], now_us());
		ck_assert_msg(dmlog_set_region_sync(h, &ref2, w.region, true) == 0, "%s",
			      dmlog_errmsg(h));
		t = now_us();
		atomic_store(&acked_at[w.region], t);
		usleep(2000);
	}
}

/* Once quiet: every region, through the bridge and straight from dmlogd, agrees. */
static void compare_all(void)
{
	struct dmlog *direct = client("node-node1");

	for (uint64_t r = 0; r < REGIONS; r++) {
		bool v;
		int b;

		ck_assert_msg(dmlog_in_sync(direct, &ref1, r, &v) == 0, "%s", dmlog_errmsg(direct));
		b = kin_sync(r);
		ck_assert_msg(b == (int)v, "region %llu: bridge %d, dmlogd %d",
			      (unsigned long long)r, b, v);
	}
	dmlog_free(direct);
}

static void reading_start(pthread_t *t)
{
	for (int i = 0; i < REGIONS; i++) {
		atomic_store(&asked_at[i], 0);
		atomic_store(&acked_at[i], 0);
	}
	atomic_store(&reads, 0);
	atomic_store(&violations, 0);
	atomic_store(&reading, true);
	ck_assert_int_eq(pthread_create(t, NULL, reader, NULL), 0);
}

static void reading_stop(pthread_t t)
{
	atomic_store(&reading, false);
	pthread_join(t, NULL);
	ck_assert_msg(atomic_load(&violations) == 0, "%lu stale answers, first: %s",
		      atomic_load(&violations), violation);
}

/* ---------------------------------------------------------------- tests */

START_TEST(synced_mirror_buffered_read_is_answered_by_the_bridge)
{
	struct counts c0, c1;
	uint64_t t0, took;

	peers_start(1);
	bridge_start();
	kopen("131072 clustered-core 1024 nosync"); /* 64 MiB: 128 regions of 512 KiB */
	wait_local();
	c0 = bridge_counts();
	t0 = now_us();
	for (uint64_t page = 0; page < 16384; page++) /* one IN_SYNC per 4 KiB page */
		ck_assert_int_eq(kin_sync(page / 128), 1);
	took = now_us() - t0;
	c1 = bridge_counts();
	fprintf(stderr, "localreads: 16384 IN_SYNCs in %.1f ms (%.1f us each), local %llu "
		"remote %llu\n", took / 1000.0, took / 16384.0, c1.local - c0.local,
		c1.remote - c0.remote);
	ck_assert_uint_ge(c1.local - c0.local, 16384 - 64);
	ck_assert_uint_le(c1.remote - c0.remote, 64);
	ck_assert_uint_eq(c1.copies, 1);
}
END_TEST

/* A write's two flushes the way dm-log-userspace sends them (MARK, FLUSH; CLEAR, FLUSH): the
 * marks go to dmlogd, the clears are answered by the bridge and sent on (early_clear_ack), the
 * FLUSHes without marks are answered by the bridge from its leased copy, and dmlogd's state
 * says what the kernel was told (dirty after the first flush, clean after the second). A FLUSH sent while a MARK of the same instance is still out is
 * relayed, never answered before that MARK. */
START_TEST(flushes_without_marks_are_answered_by_the_bridge)
{
	struct fake_kernel_reply r;
	struct fake_kernel_req mark = {DM_ULOG_MARK_REGION, UUID, LUID1, 3, NULL, 8};
	struct fake_kernel_req flush = {DM_ULOG_FLUSH, UUID, LUID1, 3, NULL, 0};
	struct counts c0, c1;
	uint32_t s_mark, s_flush;
	uint64_t region;

	peers_start(1);
	bridge_start();
	kopen("131072 clustered-core 1024 nosync");
	wait_local();
	c0 = bridge_counts();
	for (region = 0; region < 100; region++) {
		ck_assert_int_eq(kcall(DM_ULOG_MARK_REGION, &region, 8, &r), 0);
		ck_assert_int_eq(kcall(DM_ULOG_FLUSH, NULL, 0, &r), 0);
		ck_assert_int_eq(kcall(DM_ULOG_IS_CLEAN, &region, 8, &r), 0);
		ck_assert_msg(fake_kernel_data(&r)[0] == 0, "region %llu clean after its mark",
			      (unsigned long long)region);
		ck_assert_int_eq(kcall(DM_ULOG_CLEAR_REGION, &region, 8, &r), 0);
		ck_assert_int_eq(kcall(DM_ULOG_FLUSH, NULL, 0, &r), 0);
		ck_assert_int_eq(kcall(DM_ULOG_IS_CLEAN, &region, 8, &r), 0);
		ck_assert_msg(fake_kernel_data(&r)[0] == 1, "region %llu dirty after its clear",
			      (unsigned long long)region);
	}
	c1 = bridge_counts();
	fprintf(stderr, "localreads: %llu of 200 FLUSHes and %llu of 100 CLEARs answered by the "
		"bridge\n", c1.flush - c0.flush, c1.clears - c0.clears);
	ck_assert_uint_ge(c1.flush - c0.flush, 190); /* a lease renewal may send a few along */
	ck_assert_uint_ge(c1.clears - c0.clears, 95);
	/* a MARK still out: the FLUSH behind it goes to dmlogd, after it */
	region = 120;
	mark.data = &region;
	ck_assert_int_eq(fake_kernel_send(fk, &mark, &s_mark), 0);
	ck_assert_int_eq(fake_kernel_send(fk, &flush, &s_flush), 0);
	ck_assert_int_eq(fake_kernel_wait(fk, s_mark, 20000, &r), 0);
	ck_assert_int_eq(r.error, 0);
	ck_assert_int_eq(fake_kernel_wait(fk, s_flush, 20000, &r), 0);
	ck_assert_int_eq(r.error, 0);
	c0 = bridge_counts();
	ck_assert_uint_eq(c0.flush, c1.flush);
	ck_assert_int_eq(kcall(DM_ULOG_IS_CLEAN, &region, 8, &r), 0);
	ck_assert_int_eq(fake_kernel_data(&r)[0], 0);
}
END_TEST

START_TEST(resync_by_another_node_while_reading_never_gives_a_stale_answer)
{
	struct dmlog *h;
	pthread_t t;
	struct counts c0, c1;

	peers_start(1);
	bridge_start();
	kopen(SYNC_ARGS);
	h = client("node-node2");
	open2(h, SYNC_ARGS);
	wait_local();
	c0 = bridge_counts();
	reading_start(&t);
	resync(h, 200, NULL, 0); /* not all: no sticky flag, so every bit shows */
	reading_stop(t);
	c1 = bridge_counts();
	fprintf(stderr, "localreads: %lu reads during the resync, local %llu remote %llu\n",
		atomic_load(&reads), c1.local - c0.local, c1.remote - c0.remote);
	ck_assert_uint_ge(atomic_load(&reads), 200);
	ck_assert_uint_gt(c1.local - c0.local, (c1.remote - c0.remote));
	compare_all();
	/* a write failure on node2: out of sync again, before its acknowledgement */
	for (uint64_t r = 0; r < 20; r++) {
		ck_assert_int_eq(dmlog_set_region_sync(h, &ref2, r, false), 0);
		ck_assert_int_eq(kin_sync(r), 0);
	}
	compare_all();
	dmlog_free(h);
}
END_TEST

START_TEST(frozen_bridge_delays_another_nodes_change_until_its_lease_ends)
{
	struct dmlog *h;

	peers_start(1);
	bridge_start();
	kopen(NOSYNC_ARGS);
	h = client("node-node2");
	open2(h, NOSYNC_ARGS);
	for (uint64_t r = 40; r < 44; r++) {
		struct fake_kernel_req req = {DM_ULOG_IN_SYNC, UUID, LUID1, 3, &r, 8};
		struct fake_kernel_reply rep;
		uint64_t t0, took;
		uint32_t seq;

		wait_local();
		ck_assert_int_eq(kill(bridge_pid, SIGSTOP), 0);
		t0 = harness_now_ms();
		ck_assert_int_eq(dmlog_set_region_sync(h, &ref2, r, false), 0);
		took = harness_now_ms() - t0;
		/* the kernel reads the region while the bridge still sleeps */
		ck_assert_int_eq(fake_kernel_send(fk, &req, &seq), 0);
		ck_assert_int_eq(kill(bridge_pid, SIGCONT), 0);
		ck_assert_int_eq(fake_kernel_wait(fk, seq, 20000, &rep), 0);
		ck_assert_int_eq(rep.error, 0);
		ck_assert_msg(fake_kernel_data(&rep)[0] == 0,
			      "region %llu read in sync after its acknowledgement",
			      (unsigned long long)r);
		ck_assert_msg(took <= 1600, "acknowledged after %llu ms", (unsigned long long)took);
		fprintf(stderr, "localreads: frozen bridge held the change %llu ms\n",
			(unsigned long long)took);
	}
	dmlog_free(h);
}
END_TEST

static struct dmlog *admin;

/* Kills the leader of the group (kill -9). */
static void kill_leader(void)
{
	struct dmlog_result *st = NULL;
	int slot;

	ck_assert_msg(dmlog_admin_status(admin, &st) == 0, "%s", dmlog_errmsg(admin));
	ck_assert(strncmp(st->status.leader_id, "dmlogd", 6) == 0);
	slot = atoi(st->status.leader_id + 6) - 1;
	dmlog_result_free(st);
	ck_assert(slot >= 0 && slot < npeers);
	fprintf(stderr, "localreads: killing the leader dmlogd%d\n", slot + 1);
	dmlogd_stop(&P[slot].d, SIGKILL);
}

START_TEST(leader_killed_during_a_resync_copies_come_back_from_the_new_leader)
{
	struct dmlog *h;
	pthread_t t;
	struct counts c0, c1, c2;

	peers_start(3);
	admin = client("admin-admin");
	bridge_start();
	kopen(SYNC_ARGS);
	h = client("node-node2");
	open2(h, SYNC_ARGS);
	wait_local();
	c0 = bridge_counts();
	reading_start(&t);
	resync(h, 150, kill_leader, 60);
	reading_stop(t);
	c1 = bridge_counts();
	fprintf(stderr, "localreads: failover: %lu reads, local %llu remote %llu copies made %llu\n",
		atomic_load(&reads), c1.local - c0.local, c1.remote - c0.remote,
		c1.copies_made - c0.copies_made);
	ck_assert_uint_gt(c1.copies_made, c0.copies_made); /* a new copy, from the new leader */
	compare_all();
	/* local answers are back */
	wait_local();
	c2 = bridge_counts();
	for (uint64_t r = 0; r < 100; r++)
		kin_sync(r);
	c1 = bridge_counts();
	ck_assert_uint_ge(c1.local - c2.local, 90);
	dmlog_free(h);
	dmlog_free(admin);
	admin = NULL;
}
END_TEST

static Suite *localreads_suite(void)
{
	Suite *s = suite_create("localreads");
	TCase *tc = testmain_tcase(s, "localreads", setup, teardown, 300);

	tcase_add_test(tc, synced_mirror_buffered_read_is_answered_by_the_bridge);
	tcase_add_test(tc, flushes_without_marks_are_answered_by_the_bridge);
	tcase_add_test(tc, resync_by_another_node_while_reading_never_gives_a_stale_answer);
	tcase_add_test(tc, frozen_bridge_delays_another_nodes_change_until_its_lease_ends);
	tcase_add_test(tc, leader_killed_during_a_resync_copies_come_back_from_the_new_leader);
	return s;
}

int main(void)
{
	return testmain_run(localreads_suite());
}
