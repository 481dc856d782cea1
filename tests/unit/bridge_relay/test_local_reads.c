/* test_local_reads.c: the relay answering IN_SYNC from its replica (kernel-bridge/replica.h).
 *
 * A real dmlogd, the relay on its own thread, the fake kernel over a socketpair (fixture.h).
 * Pinned: a resumed mirror's IN_SYNCs are answered without dmlogd once the copy is complete
 * and leased, with dmlogd's answers; a SET_REGION_SYNC from this node or from another one is
 * in the copy before its acknowledgement; without a lease (dmlogd frozen) IN_SYNC waits for
 * dmlogd; PRESUSPEND ends the copy and RESUME makes a new one; a dmlogd restart (the
 * connection ends) rebuilds the copy; a region out of range and a pending instance are asked
 * of dmlogd; and with no_local_reads nothing is answered locally.
 * The recovery requests: GET_SYNC_COUNT is answered from a leased copy with dmlogd's count,
 * never above it while another node resyncs; GET_RESYNC_WORK is answered "no work" locally
 * only when the copy has no region out of sync (a sticky copy with one is not enough), and
 * goes to dmlogd, which hands out the work, during a resync; without a lease or a copy both
 * wait for dmlogd. A CLEAR_REGION the copy proves valid is answered before dmlogd has it
 * (early_clear_ack) and the FLUSH after it locally.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dmlog/dmlog.h>
#include <linux/dm-log-userspace.h>

#include "fixture.h"

#define SYNC_ARGS "2097152 clustered-core 1024"       /* 2048 regions, all out of sync */
#define NOSYNC_ARGS "2097152 clustered-core 1024 nosync"
#define SMALL_ARGS "16384 clustered-core 1024"          /* 16 regions, all out of sync */

static const uint8_t S64_0[8] = {0};
static const uint8_t S64_1[8] = {1};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void setup(void)
{
	fixture_setup();
	fixture_dmlogd_start();
	fixture_relay(15000);
}

static void teardown(void)
{
	fixture_teardown();
}

/* Waits (at most 5 s) until the relay holds `copies` complete, leased copies. */
static void wait_copies(uint32_t copies)
{
	uint64_t end = now_ms() + 5000;

	for (;;) {
		fixture_stats();
		if (fx.stats.copies == copies && (copies == 0 || fx.stats.leased))
			return;
		ck_assert_msg(now_ms() < end, "copies %u leased %d, want %u", fx.stats.copies,
			      fx.stats.leased, copies);
		usleep(10 * 1000);
	}
}

/* IN_SYNC(region) of (uuid, luid): the reply's flag; asserts error 0. */
static bool in_sync_of(const char *uuid, uint64_t luid, uint64_t region)
{
	struct fake_kernel_req req = {DM_ULOG_IN_SYNC, uuid, luid, 3, &region, 8};
	struct fake_kernel_reply r;

	fixture_ok(&req, 8, &r);
	ck_assert(memcmp(fake_kernel_data(&r), S64_0, 8) == 0 ||
		  memcmp(fake_kernel_data(&r), S64_1, 8) == 0);
	return fake_kernel_data(&r)[0] == 1;
}

static bool in_sync(uint64_t region)
{
	return in_sync_of(FX_UUID, FX_LUID, region);
}

static void ok(uint32_t type, const void *data, size_t size, uint32_t reply_size,
	       struct fake_kernel_reply *out)
{
	struct fake_kernel_req req = fixture_req(type, data, size);

	fixture_ok(&req, reply_size, out);
}

/* A blocking libdmlog handle of node2, on the fixture's dmlogd. */
static struct dmlog *node2(void)
{
	static char cert[400], key[400];
	struct dmlog_options o;
	char err[DMLOG_ERRMSG_SIZE];
	struct dmlog *h;

	snprintf(cert, sizeof(cert), "%s", fx.cert);
	snprintf(key, sizeof(key), "%s", fx.key);
	memcpy(strstr(cert, "node-node1") + 9, "2", 1);
	memcpy(strstr(key, "node-node1") + 9, "2", 1);
	memset(&o, 0, sizeof(o));
	o.servers[0] = fx.server;
	o.ca_file = fx.ca;
	o.cert_file = cert;
	o.key_file = key;
	o.request_timeout_ms = 20000;
	h = dmlog_new(&o, err);
	ck_assert_msg(h != NULL, "%s", err);
	return h;
}

/* GET_RESYNC_WORK of the default log through the relay: v = {flag, region}. */
static void resync_work(uint64_t v[2])
{
	struct fake_kernel_reply r;

	ok(DM_ULOG_GET_RESYNC_WORK, NULL, 0, 16, &r);
	memcpy(v, fake_kernel_data(&r), 16);
}

/* GET_SYNC_COUNT of the default log through the relay. */
static uint64_t sync_count(void)
{
	struct fake_kernel_reply r;
	uint64_t v;

	ok(DM_ULOG_GET_SYNC_COUNT, NULL, 0, 8, &r);
	memcpy(&v, fake_kernel_data(&r), 8);
	return v;
}

/* dmlogd's GET_SYNC_COUNT for node2's instance of the log (same region_count as ours). */
static uint64_t dmlogd_sync_count(struct dmlog *h, const struct dmlog_log_ref *log)
{
	uint64_t v;

	ck_assert_int_eq(dmlog_get_sync_count(h, log, &v), 0);
	return v;
}

/* Sends a request the relay must not answer while dmlogd is stopped: its seq. */
static uint32_t send_unanswered(uint32_t type)
{
	struct fake_kernel_req req = fixture_req(type, NULL, 0);
	struct fake_kernel_reply r;
	uint32_t seq;

	ck_assert_int_eq(fake_kernel_send(fx.fk, &req, &seq), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, seq, 500, &r), -ETIMEDOUT);
	return seq;
}

/* ---------------------------------------------------------------- the fast path */

START_TEST(synced_mirror_in_sync_is_answered_locally)
{
	uint64_t local0;

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	wait_copies(1);
	local0 = fx.stats.local_in_sync;
	for (uint64_t i = 0; i < 500; i++)
		ck_assert(in_sync(i * 4 % 2048));
	fixture_stats();
	/* all of them, unless a renewal came late on this loaded machine */
	ck_assert_uint_ge(fx.stats.local_in_sync - local0, 490);
	ck_assert_uint_eq(fx.stats.outstanding, 0);
	ck_assert_int_ge(fx.stats.requests, 500);
}
END_TEST

/* The kernel's resync, region by region, with reads between: each answer is dmlogd's state. */
START_TEST(resync_progress_reaches_the_copy_before_its_acknowledgement)
{
	struct fake_kernel_reply r;
	uint64_t local0, v[2];

	fixture_open_log(FX_UUID, FX_LUID, SYNC_ARGS);
	wait_copies(1);
	local0 = fx.stats.local_in_sync;
	ck_assert(!in_sync(0));
	ck_assert(!in_sync(2047));
	for (uint64_t region = 0; region < 40; region++) {
		ok(DM_ULOG_GET_RESYNC_WORK, NULL, 0, 16, &r);
		memcpy(v, fake_kernel_data(&r), 16);
		ck_assert_uint_eq(v[0], 1);
		ck_assert_uint_eq(v[1], region);
		ck_assert(!in_sync(region));
		v[0] = region;
		v[1] = 1;
		ok(DM_ULOG_SET_REGION_SYNC, v, 16, 0, NULL);
		/* the push came on the connection ahead of the acknowledgement */
		ck_assert(in_sync(region));
		ck_assert(!in_sync(region + 1));
	}
	fixture_stats();
	ck_assert_uint_ge(fx.stats.local_in_sync - local0, 100);
	/* a write failure: SET_REGION_SYNC(r, 0) from this node */
	v[0] = 7;
	v[1] = 0;
	ok(DM_ULOG_SET_REGION_SYNC, v, 16, 0, NULL);
	ck_assert(!in_sync(7));
	ck_assert(in_sync(6));
}
END_TEST

/* Another node takes a region out of sync: once its SET_REGION_SYNC is acknowledged, this
 * bridge answers 0 for it, from its copy. */
START_TEST(another_nodes_set_region_sync_is_in_the_copy_before_its_ack)
{
	struct dmlog_log_ref log = {FX_UUID, UINT64_C(0x2222), 3};
	struct dmlog *h;
	uint64_t local0;
	char dev[8];

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	wait_copies(1);
	h = node2();
	ck_assert_int_eq(dmlog_ctr(h, &log, NOSYNC_ARGS, false, dev, sizeof(dev)), 0);
	ck_assert_int_eq(dmlog_resume(h, &log), 0);
	for (uint64_t region = 100; region < 130; region++) {
		fixture_stats();
		local0 = fx.stats.local_in_sync;
		ck_assert(in_sync(region));
		ck_assert_int_eq(dmlog_set_region_sync(h, &log, region, false), 0);
		ck_assert_msg(!in_sync(region), "region %llu in sync after its acknowledgement",
			      (unsigned long long)region);
		fixture_stats();
		/* both answered locally while the lease ran (a late renewal may miss one) */
		ck_assert_uint_ge(fx.stats.local_in_sync - local0, 1);
	}
	for (uint64_t region = 100; region < 130; region++) {
		ck_assert_int_eq(dmlog_set_region_sync(h, &log, region, true), 0);
		ck_assert(in_sync(region));
	}
	dmlog_free(h);
}
END_TEST

/* ---------------------------------------------------------------- recovery requests */

/* A synced mirror after its resume: the kernel asks for resync work and the count with each
 * batch of reads; both are answered without dmlogd, with dmlogd's answers. */
START_TEST(synced_mirror_recovery_requests_are_answered_locally)
{
	uint64_t work0, count0, v[2];

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	wait_copies(1);
	work0 = fx.stats.local_resync_work;
	count0 = fx.stats.local_sync_count;
	for (int i = 0; i < 100; i++) {
		resync_work(v);
		ck_assert_uint_eq(v[0], 0);
		ck_assert_uint_eq(v[1], 0);
		ck_assert_uint_eq(sync_count(), 2048);
	}
	fixture_stats();
	/* all of them, unless a renewal came late on this loaded machine */
	ck_assert_uint_ge(fx.stats.local_resync_work - work0, 95);
	ck_assert_uint_ge(fx.stats.local_sync_count - count0, 95);
	ck_assert_uint_eq(fx.stats.outstanding, 0);
	ck_assert_uint_ge(fx.stats.by_type[DM_ULOG_GET_RESYNC_WORK], 100);
	ck_assert_uint_ge(fx.stats.by_type[DM_ULOG_GET_SYNC_COUNT], 100);
}
END_TEST

/* Sticky (fully synced since the resume) makes IN_SYNC say 1 everywhere, but a region out of
 * sync sends GET_RESYNC_WORK to dmlogd, and the count drops at once (the change is in the
 * copy before its acknowledgement). dmlogd hands the region out only once the other sticky
 * instance resumed again: until then its kernel writes without asking IS_REMOTE_RECOVERING
 * (engine.h, the floor). */
START_TEST(sticky_copy_with_a_region_out_of_sync_asks_dmlogd_for_work)
{
	struct dmlog_log_ref log = {FX_UUID, UINT64_C(0x2222), 3};
	struct dmlog *h;
	uint64_t work0, v[2] = {5, 1};
	char dev[8];

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	h = node2();
	ck_assert_int_eq(dmlog_ctr(h, &log, NOSYNC_ARGS, false, dev, sizeof(dev)), 0);
	ck_assert_int_eq(dmlog_resume(h, &log), 0);
	ok(DM_ULOG_SET_REGION_SYNC, v, 16, 0, NULL); /* all in sync: this instance is sticky */
	wait_copies(1);
	ck_assert_int_eq(dmlog_set_region_sync(h, &log, 100, false), 0);
	ck_assert(in_sync(100)); /* sticky */
	ck_assert_uint_eq(sync_count(), 2047);
	ck_assert_uint_eq(dmlogd_sync_count(h, &log), 2047);
	fixture_stats();
	work0 = fx.stats.local_resync_work;
	resync_work(v);
	ck_assert_uint_eq(v[0], 0); /* node2 is sticky */
	ck_assert_int_eq(dmlog_presuspend(h, &log), 0);
	ck_assert_int_eq(dmlog_postsuspend(h, &log), 0);
	ck_assert_int_eq(dmlog_resume(h, &log), 0);
	resync_work(v);
	ck_assert_uint_eq(v[0], 1);
	ck_assert_uint_eq(v[1], 100);
	resync_work(v); /* the same assignment again */
	ck_assert_uint_eq(v[0], 1);
	ck_assert_uint_eq(v[1], 100);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.local_resync_work, work0);
	v[0] = 100;
	v[1] = 1;
	ok(DM_ULOG_SET_REGION_SYNC, v, 16, 0, NULL);
	ck_assert_uint_eq(sync_count(), 2048);
	resync_work(v);
	ck_assert_uint_eq(v[0], 0);
	ck_assert_uint_eq(v[1], 0);
	fixture_stats();
	ck_assert_uint_ge(fx.stats.local_resync_work - work0, 1);
	dmlog_free(h);
}
END_TEST

/* The kernel's resync of a 16-region mirror: every GET_RESYNC_WORK goes to dmlogd and gets the
 * next region; the local count follows each SET_REGION_SYNC and equals dmlogd's; at the end
 * "no work" and the full count come from the copy; a region out of sync again sends
 * GET_RESYNC_WORK back to dmlogd. */
START_TEST(resync_in_progress_work_from_dmlogd_count_from_the_copy)
{
	struct dmlog_log_ref log = {FX_UUID, UINT64_C(0x2222), 3};
	struct fake_kernel_reply r;
	struct dmlog *h;
	uint64_t work0, count0, v[2];
	char dev[8];

	fixture_open_log(FX_UUID, FX_LUID, SMALL_ARGS);
	h = node2();
	ck_assert_int_eq(dmlog_ctr(h, &log, SMALL_ARGS, false, dev, sizeof(dev)), 0);
	ck_assert_int_eq(dmlog_resume(h, &log), 0);
	wait_copies(1);
	work0 = fx.stats.local_resync_work;
	count0 = fx.stats.local_sync_count;
	for (uint64_t region = 0; region < 16; region++) {
		ck_assert_uint_eq(sync_count(), region);
		ck_assert_uint_eq(dmlogd_sync_count(h, &log), region);
		resync_work(v);
		ck_assert_uint_eq(v[0], 1);
		ck_assert_uint_eq(v[1], region);
		v[0] = region;
		v[1] = 1;
		ok(DM_ULOG_SET_REGION_SYNC, v, 16, 0, NULL);
		ck_assert_uint_eq(sync_count(), region + 1);
		ck_assert_uint_eq(dmlogd_sync_count(h, &log), region + 1);
	}
	fixture_stats();
	ck_assert_uint_eq(fx.stats.local_resync_work, work0);
	/* all 32 counts came from the copy, unless a renewal came late on this loaded machine */
	ck_assert_uint_ge(fx.stats.local_sync_count - count0, 24);
	resync_work(v);
	ck_assert_uint_eq(v[0], 0);
	ck_assert_uint_eq(v[1], 0);
	ck_assert_uint_eq(sync_count(), 16);
	/* A write failure on another node: out of sync again, counted at once. dmlogd answers
	 * GET_RESYNC_WORK now: "no work" still (its cursor passed region 9, and node2 is sticky),
	 * until a write to region 9 asks IS_REMOTE_RECOVERING, which puts it first, and node2
	 * resumed again (a sticky kernel writes without asking). */
	ck_assert_int_eq(dmlog_set_region_sync(h, &log, 9, false), 0);
	ck_assert_uint_eq(sync_count(), 15);
	fixture_stats();
	work0 = fx.stats.local_resync_work;
	resync_work(v);
	ck_assert_uint_eq(v[0], 0);
	v[0] = 9;
	ok(DM_ULOG_IS_REMOTE_RECOVERING, v, 8, 16, &r);
	memcpy(v, fake_kernel_data(&r), 16);
	ck_assert_uint_eq(v[0], 1);
	resync_work(v);
	ck_assert_uint_eq(v[0], 0);
	ck_assert_int_eq(dmlog_presuspend(h, &log), 0);
	ck_assert_int_eq(dmlog_postsuspend(h, &log), 0);
	ck_assert_int_eq(dmlog_resume(h, &log), 0);
	v[0] = 9;
	ok(DM_ULOG_IS_REMOTE_RECOVERING, v, 8, 16, &r);
	resync_work(v);
	ck_assert_uint_eq(v[0], 1);
	ck_assert_uint_eq(v[1], 9);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.local_resync_work, work0);
	dmlog_free(h);
}
END_TEST

struct resyncer {
	struct dmlog *h;
	const struct dmlog_log_ref *log;
	uint64_t regions;
	volatile int done;
	int rc;
};

static void *resyncer_run(void *arg)
{
	struct resyncer *rs = arg;

	for (uint64_t r = 0; r < rs->regions && rs->rc == 0; r++)
		rs->rc = dmlog_set_region_sync(rs->h, rs->log, r, true);
	__atomic_store_n(&rs->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Another node resyncs while this one reads the count: a local count is never above what
 * dmlogd answers after it (the count only grows here), and once every SET_REGION_SYNC was
 * acknowledged both agree. */
START_TEST(local_sync_count_is_never_above_dmlogds_during_a_resync)
{
	struct dmlog_log_ref log = {FX_UUID, UINT64_C(0x2222), 3};
	struct resyncer rs;
	struct dmlog *h;
	pthread_t th;
	uint64_t count0, local, remote, reads = 0;
	char dev[8];

	fixture_open_log(FX_UUID, FX_LUID, SYNC_ARGS);
	h = node2();
	ck_assert_int_eq(dmlog_ctr(h, &log, SYNC_ARGS, false, dev, sizeof(dev)), 0);
	ck_assert_int_eq(dmlog_resume(h, &log), 0);
	memset(&rs, 0, sizeof(rs));
	rs.h = node2();
	rs.log = &log;
	rs.regions = 300;
	wait_copies(1);
	count0 = fx.stats.local_sync_count;
	ck_assert_int_eq(pthread_create(&th, NULL, resyncer_run, &rs), 0);
	while (!__atomic_load_n(&rs.done, __ATOMIC_SEQ_CST)) {
		local = sync_count();
		remote = dmlogd_sync_count(h, &log);
		ck_assert_msg(local <= remote, "local count %llu above dmlogd's %llu",
			      (unsigned long long)local, (unsigned long long)remote);
		reads++;
	}
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(rs.rc, 0);
	ck_assert_uint_eq(sync_count(), 300);
	ck_assert_uint_eq(dmlogd_sync_count(h, &log), 300);
	fixture_stats();
	ck_assert_uint_ge(fx.stats.local_sync_count - count0, reads / 2);
	dmlog_free(rs.h);
	dmlog_free(h);
}
END_TEST

/* Without a lease (dmlogd frozen) neither recovery request is answered from the copy: both
 * wait for dmlogd. */
START_TEST(frozen_dmlogd_recovery_requests_wait_for_it)
{
	struct fake_kernel_reply r;
	uint64_t work0, count0, v[2];
	uint32_t seq_work, seq_count;

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	wait_copies(1);
	ck_assert_int_eq(kill(fx.d.pid, SIGSTOP), 0);
	usleep(1200 * 1000);
	fixture_stats();
	ck_assert(!fx.stats.leased);
	work0 = fx.stats.local_resync_work;
	count0 = fx.stats.local_sync_count;
	seq_work = send_unanswered(DM_ULOG_GET_RESYNC_WORK);
	seq_count = send_unanswered(DM_ULOG_GET_SYNC_COUNT);
	ck_assert_int_eq(kill(fx.d.pid, SIGCONT), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, seq_work, 20000, &r), 0);
	ck_assert_int_eq(r.error, 0);
	ck_assert_uint_eq(r.data_size, 16);
	memcpy(v, fake_kernel_data(&r), 16);
	ck_assert_uint_eq(v[0], 0);
	ck_assert_uint_eq(v[1], 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, seq_count, 20000, &r), 0);
	ck_assert_int_eq(r.error, 0);
	ck_assert_uint_eq(r.data_size, 8);
	memcpy(v, fake_kernel_data(&r), 8);
	ck_assert_uint_eq(v[0], 2048);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.local_resync_work, work0);
	ck_assert_uint_eq(fx.stats.local_sync_count, count0);
	wait_copies(1);
}
END_TEST

/* No copy: a pending instance (the kernel asks for the count before RESUME) and a
 * presuspended one are answered by dmlogd. */
START_TEST(recovery_requests_without_a_copy_go_to_dmlogd)
{
	uint64_t v[2];

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	wait_copies(1);
	ok(DM_ULOG_PRESUSPEND, NULL, 0, 0, NULL);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.copies, 0);
	resync_work(v); /* dmlogd: not resumed, no work */
	ck_assert_uint_eq(v[0], 0);
	ck_assert_uint_eq(sync_count(), 2048);
	ok(DM_ULOG_POSTSUSPEND, NULL, 0, 0, NULL);
	ok(DM_ULOG_DTR, NULL, 0, 0, NULL);
	/* a new log, constructed, not resumed yet */
	fixture_ok(&(struct fake_kernel_req){DM_ULOG_CTR, FX_UUID, FX_LUID, 3, SYNC_ARGS,
					     strlen(SYNC_ARGS)},
		   0, NULL);
	ck_assert_uint_eq(sync_count(), 0);
	resync_work(v);
	ck_assert_uint_eq(v[0], 0);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.local_resync_work, 0);
	ck_assert_uint_eq(fx.stats.local_sync_count, 0);
}
END_TEST

/* ---------------------------------------------------------------- without a lease */

START_TEST(frozen_dmlogd_lease_runs_out_and_in_sync_waits_for_it)
{
	struct fake_kernel_req req;
	struct fake_kernel_reply r;
	uint64_t region = 3, t0;
	uint32_t seq;

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	wait_copies(1);
	ck_assert_int_eq(kill(fx.d.pid, SIGSTOP), 0);
	/* while the lease lasts the copy answers; after it, nothing does */
	t0 = now_ms();
	ck_assert(in_sync(region));
	usleep(1200 * 1000);
	fixture_stats();
	ck_assert(!fx.stats.leased);
	req = fixture_req(DM_ULOG_IN_SYNC, &region, 8);
	ck_assert_int_eq(fake_kernel_send(fx.fk, &req, &seq), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, seq, 500, &r), -ETIMEDOUT);
	ck_assert_int_eq(kill(fx.d.pid, SIGCONT), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, seq, 20000, &r), 0);
	ck_assert_int_eq(r.error, 0);
	ck_assert_mem_eq(fake_kernel_data(&r), S64_1, 8);
	ck_assert_uint_ge(now_ms() - t0, 1700);
	/* the lease comes back with the next renewal */
	wait_copies(1);
}
END_TEST

/* ---------------------------------------------------------------- ends and rebuilds */

START_TEST(presuspend_ends_the_copy_resume_makes_a_new_one)
{
	uint64_t remote0;

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	wait_copies(1);
	ok(DM_ULOG_PRESUSPEND, NULL, 0, 0, NULL);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.copies, 0);
	remote0 = fx.stats.remote_in_sync;
	ck_assert(in_sync(1));
	ok(DM_ULOG_POSTSUSPEND, NULL, 0, 0, NULL);
	ck_assert(in_sync(1));
	fixture_stats();
	ck_assert_uint_eq(fx.stats.remote_in_sync - remote0, 2);
	ok(DM_ULOG_RESUME, NULL, 0, 0, NULL);
	wait_copies(1);
	remote0 = fx.stats.remote_in_sync;
	ck_assert(in_sync(1));
	fixture_stats();
	ck_assert_uint_eq(fx.stats.remote_in_sync, remote0);
	ok(DM_ULOG_PRESUSPEND, NULL, 0, 0, NULL);
	ok(DM_ULOG_POSTSUSPEND, NULL, 0, 0, NULL);
	ok(DM_ULOG_DTR, NULL, 0, 0, NULL);
	wait_copies(0);
}
END_TEST

START_TEST(dmlogd_restart_rebuilds_the_copy)
{
	uint64_t local0, v[2] = {9, 0};

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	wait_copies(1);
	fixture_dmlogd_stop(SIGKILL);
	fixture_dmlogd_start();
	/* the connection ended: the copy with it; a new one comes once the link is back */
	ok(DM_ULOG_GET_SYNC_COUNT, NULL, 0, 8, NULL);
	wait_copies(1);
	fixture_stats();
	local0 = fx.stats.local_in_sync;
	ck_assert(in_sync(9));
	ok(DM_ULOG_SET_REGION_SYNC, v, 16, 0, NULL);
	ck_assert(!in_sync(9));
	fixture_stats();
	ck_assert_uint_ge(fx.stats.local_in_sync - local0, 1);
}
END_TEST

START_TEST(out_of_range_and_pending_instances_are_asked_of_dmlogd)
{
	struct fake_kernel_req ctr = {DM_ULOG_CTR, "LVM-pending-0123456789", 77, 3, NOSYNC_ARGS,
				      strlen(NOSYNC_ARGS)};
	struct fake_kernel_req req;
	struct fake_kernel_reply r;
	uint64_t region = 2048, remote0;

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	wait_copies(1);
	remote0 = fx.stats.remote_in_sync;
	req = fixture_req(DM_ULOG_IN_SYNC, &region, 8);
	fixture_roundtrip(&req, 20000, &r);
	ck_assert_int_eq(r.error, -EINVAL);
	fixture_ok(&ctr, 0, NULL);
	ck_assert(in_sync_of("LVM-pending-0123456789", 77, 5));
	ck_assert(in_sync_of("LVM-pending-0123456789", 77, 6));
	fixture_stats();
	ck_assert_uint_eq(fx.stats.remote_in_sync - remote0, 3);
	ck_assert_uint_eq(fx.stats.copies, 1);
}
END_TEST

/* A CLEAR_REGION the leased copy proves valid is answered before dmlogd has it
 * (early_clear_ack): with dmlogd frozen, the kernel still gets its answer at once, and the
 * IS_CLEAN it sends next, which goes to dmlogd behind the clear, sees it once dmlogd runs
 * again. Without a lease the clear waits for dmlogd, as does one naming a region out of range
 * (dmlogd refuses it); and a FLUSH after an early clear is answered locally. */
START_TEST(valid_clears_are_answered_before_dmlogd_has_them)
{
	uint64_t region = 5, out = 2048;
	struct fake_kernel_req clr = fixture_req(DM_ULOG_CLEAR_REGION, &region, 8);
	struct fake_kernel_req isc = fixture_req(DM_ULOG_IS_CLEAN, &region, 8);
	struct fake_kernel_reply r;
	uint64_t flushes;
	uint32_t seq;

	fixture_relay_stop();
	fx.o.early_clear_ack = true;
	fixture_relay(15000);
	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	wait_copies(1);
	ok(DM_ULOG_MARK_REGION, &region, 8, 0, NULL);
	ok(DM_ULOG_FLUSH, NULL, 0, 0, NULL);
	ck_assert_int_eq(kill(fx.d.pid, SIGSTOP), 0);
	fixture_stats();
	flushes = fx.stats.local_flush;
	fixture_roundtrip(&clr, 500, &r); /* answered while dmlogd is frozen */
	ck_assert_int_eq(r.error, 0);
	ck_assert_uint_eq(r.data_size, 0);
	ok(DM_ULOG_FLUSH, NULL, 0, 0, NULL);
	ck_assert_int_eq(fake_kernel_send(fx.fk, &isc, &seq), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, seq, 300, &r), -ETIMEDOUT);
	ck_assert_int_eq(kill(fx.d.pid, SIGCONT), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, seq, 20000, &r), 0);
	ck_assert_int_eq(r.error, 0);
	ck_assert_int_eq(fake_kernel_data(&r)[0], 1);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.early_clears, 1);
	ck_assert_uint_eq(fx.stats.early_clear_errors, 0);
	ck_assert_uint_eq(fx.stats.local_flush, flushes + 1);
	/* no lease: the clear waits for dmlogd */
	wait_copies(1);
	ok(DM_ULOG_MARK_REGION, &region, 8, 0, NULL);
	ck_assert_int_eq(kill(fx.d.pid, SIGSTOP), 0);
	usleep(1200 * 1000);
	fixture_stats();
	ck_assert(!fx.stats.leased);
	ck_assert_int_eq(fake_kernel_send(fx.fk, &clr, &seq), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, seq, 300, &r), -ETIMEDOUT);
	ck_assert_int_eq(kill(fx.d.pid, SIGCONT), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, seq, 20000, &r), 0);
	ck_assert_int_eq(r.error, 0);
	/* a region out of range: dmlogd's answer */
	wait_copies(1);
	clr.data = &out;
	fixture_roundtrip(&clr, 20000, &r);
	ck_assert_int_eq(r.error, -EINVAL);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.early_clears, 1);
}
END_TEST

START_TEST(no_local_reads_relays_every_in_sync)
{
	fixture_relay_stop();
	fx.o.no_local_reads = true;
	fixture_relay(15000);
	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	for (uint64_t i = 0; i < 50; i++)
		ck_assert(in_sync(i));
	usleep(300 * 1000);
	ck_assert_uint_eq(sync_count(), 2048);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.local_in_sync, 0);
	ck_assert_uint_eq(fx.stats.local_sync_count, 0);
	ck_assert_uint_eq(fx.stats.local_resync_work, 0);
	ck_assert_uint_eq(fx.stats.copies, 0);
}
END_TEST

static Suite *local_reads_suite(void)
{
	Suite *s = suite_create("bridge_local_reads");
	TCase *tc = tcase_create("local_reads");

	tcase_add_unchecked_fixture(tc, fixture_global_setup, fixture_global_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, synced_mirror_in_sync_is_answered_locally);
	tcase_add_test(tc, resync_progress_reaches_the_copy_before_its_acknowledgement);
	tcase_add_test(tc, another_nodes_set_region_sync_is_in_the_copy_before_its_ack);
	tcase_add_test(tc, synced_mirror_recovery_requests_are_answered_locally);
	tcase_add_test(tc, sticky_copy_with_a_region_out_of_sync_asks_dmlogd_for_work);
	tcase_add_test(tc, resync_in_progress_work_from_dmlogd_count_from_the_copy);
	tcase_add_test(tc, local_sync_count_is_never_above_dmlogds_during_a_resync);
	tcase_add_test(tc, frozen_dmlogd_recovery_requests_wait_for_it);
	tcase_add_test(tc, recovery_requests_without_a_copy_go_to_dmlogd);
	tcase_add_test(tc, frozen_dmlogd_lease_runs_out_and_in_sync_waits_for_it);
	tcase_add_test(tc, presuspend_ends_the_copy_resume_makes_a_new_one);
	tcase_add_test(tc, dmlogd_restart_rebuilds_the_copy);
	tcase_add_test(tc, out_of_range_and_pending_instances_are_asked_of_dmlogd);
	tcase_add_test(tc, no_local_reads_relays_every_in_sync);
	tcase_add_test(tc, valid_clears_are_answered_before_dmlogd_has_them);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(local_reads_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
