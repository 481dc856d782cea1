/* test_local_reads.c: the relay answering IN_SYNC from its replica (kernel-bridge/replica.h).
 *
 * A real dmlogd, the relay on its own thread, the fake kernel over a socketpair (fixture.h).
 * Pinned: a resumed mirror's IN_SYNCs are answered without dmlogd once the copy is complete
 * and leased, with dmlogd's answers; a SET_REGION_SYNC from this node or from another one is
 * in the copy before its acknowledgement; without a lease (dmlogd frozen) IN_SYNC waits for
 * dmlogd; PRESUSPEND ends the copy and RESUME makes a new one; a dmlogd restart (the
 * connection ends) rebuilds the copy; a region out of range and a pending instance are asked
 * of dmlogd; and with no_local_reads nothing is answered locally.
 */
#include <check.h>
#include <errno.h>
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

START_TEST(no_local_reads_relays_every_in_sync)
{
	fixture_relay_stop();
	fx.o.no_local_reads = true;
	fixture_relay(15000);
	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	for (uint64_t i = 0; i < 50; i++)
		ck_assert(in_sync(i));
	usleep(300 * 1000);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.local_in_sync, 0);
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
	tcase_add_test(tc, frozen_dmlogd_lease_runs_out_and_in_sync_waits_for_it);
	tcase_add_test(tc, presuspend_ends_the_copy_resume_makes_a_new_one);
	tcase_add_test(tc, dmlogd_restart_rebuilds_the_copy);
	tcase_add_test(tc, out_of_range_and_pending_instances_are_asked_of_dmlogd);
	tcase_add_test(tc, no_local_reads_relays_every_in_sync);
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
