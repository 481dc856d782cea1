/* test_relay_faults.c: the relay when things go wrong.
 *
 * Bad input: one datagram of each kind reference §5 item 10 warns about (and each check the
 * codec makes) is either answered -EINVAL (the header could be trusted: its seq is answered) or
 * dropped (it could not), each with a warning naming the fault, and the relay goes on. No
 * server: under the default policy nothing is answered until a dmlogd comes up (it does 2 s
 * later); under policy fail with fail_after = 1s the kernel gets -EIO after about a second.
 * dmlogd frozen under load (so that requests are surely in flight), killed with SIGKILL and
 * restarted: every request is answered exactly once, successfully, and the marks acknowledged
 * before the crash are still there.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/dm-log-userspace.h>

#include "fixture.h"
#include "ulog_codec.h"

#define NOSYNC_ARGS "2097152 clustered-core 1024 nosync"

static const uint8_t S64_0[8] = {0};
static const uint8_t S64_1[8] = {1};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A well-formed request datagram of the default log, as the kernel builds it. */
static size_t datagram(uint8_t *buf, uint32_t seq, uint32_t type, const void *data, size_t n)
{
	struct ulog_codec_hdr h;
	size_t len = 0;

	memset(&h, 0, sizeof(h));
	h.luid = FX_LUID;
	snprintf(h.uuid, sizeof(h.uuid), "%s", FX_UUID);
	h.version = 3;
	h.seq = seq;
	h.type = type;
	ck_assert_int_eq(ulog_codec_encode_request(&h, data, n, buf, 4096, &len), 0);
	return len;
}

/* ---------------------------------------------------------------- bad input */

static void with_server_setup(void)
{
	fixture_setup();
	fixture_dmlogd_start();
	fixture_relay(15000);
}

/* A replyable fault: the reply is -EINVAL with no data, for the request's own seq and type. */
static void expect_refused(const uint8_t *dg, size_t len, uint32_t seq, uint32_t type,
			   const char *uuid, const char *fault)
{
	struct fake_kernel_reply r;
	char needle[64];

	ck_assert_int_eq(fake_kernel_send_raw(fx.fk, dg, len), 0);
	ck_assert_msg(fake_kernel_wait(fx.fk, seq, 5000, &r) == 0, "%s: no reply", fault);
	fixture_assert_reply(&r, FX_LUID, uuid, 3, seq, type, -EINVAL, NULL, 0);
	snprintf(needle, sizeof(needle), "fault=%s ", fault);
	ck_assert_msg(fixture_log_count(needle) == 1, "%s: no warning", fault);
	ck_assert_int_eq(fixture_log_count("refused with -EINVAL"), fixture_log_count("fault="));
}

START_TEST(replyable_faults_are_answered_einval_with_a_warning)
{
	uint8_t dg[4096];
	uint64_t regions[33] = {0};
	uint64_t srs[2] = {1, 2};
	char long_ctr[ULOG_CODEC_CTR_MAX + 2];
	char long_uuid[ULOG_CODEC_UUID_LEN];
	struct fake_kernel_reply r;
	size_t len;

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);

	/* data_size larger than what cn_msg.len leaves for it */
	len = datagram(dg, 500, DM_ULOG_IN_SYNC, regions, 8);
	put32(dg + 36 + 156, 16);
	expect_refused(dg, len, 500, DM_ULOG_IN_SYNC, FX_UUID, "data_size");

	/* a uuid with no NUL in its 129 bytes: the reply echoes the first 128 */
	len = datagram(dg, 501, DM_ULOG_GET_SYNC_COUNT, NULL, 0);
	memset(long_uuid, 'U', sizeof(long_uuid) - 1);
	long_uuid[sizeof(long_uuid) - 1] = '\0';
	memset(dg + 36 + 8, 'U', ULOG_CODEC_UUID_LEN);
	expect_refused(dg, len, 501, DM_ULOG_GET_SYNC_COUNT, long_uuid, "uuid");

	/* request types 0 and 18 do not exist */
	len = datagram(dg, 502, 0, NULL, 0);
	expect_refused(dg, len, 502, 0, FX_UUID, "type");
	len = datagram(dg, 503, 18, NULL, 0);
	ck_assert_int_eq(fake_kernel_send_raw(fx.fk, dg, len), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, 503, 5000, &r), 0);
	fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, 503, 18, -EINVAL, NULL, 0);

	/* payload sizes: IN_SYNC with 4 bytes, MARK of 12 bytes, MARK of none, CLEAR of 33 */
	len = datagram(dg, 504, DM_ULOG_IN_SYNC, regions, 4);
	expect_refused(dg, len, 504, DM_ULOG_IN_SYNC, FX_UUID, "payload_size");
	len = datagram(dg, 505, DM_ULOG_MARK_REGION, regions, 12);
	expect_refused(dg, len, 505, DM_ULOG_MARK_REGION, FX_UUID, "regions_align");
	len = datagram(dg, 506, DM_ULOG_MARK_REGION, NULL, 0);
	expect_refused(dg, len, 506, DM_ULOG_MARK_REGION, FX_UUID, "regions_count");
	len = datagram(dg, 507, DM_ULOG_CLEAR_REGION, regions, sizeof(regions));
	ck_assert_int_eq(fake_kernel_send_raw(fx.fk, dg, len), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, 507, 5000, &r), 0);
	fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, 507, DM_ULOG_CLEAR_REGION, -EINVAL, NULL, 0);

	/* CTR strings: empty (also a lone NUL), too long, a NUL inside */
	len = datagram(dg, 508, DM_ULOG_CTR, NULL, 0);
	expect_refused(dg, len, 508, DM_ULOG_CTR, FX_UUID, "ctr_empty");
	memset(long_ctr, '7', sizeof(long_ctr));
	len = datagram(dg, 509, DM_ULOG_CTR, long_ctr, sizeof(long_ctr));
	expect_refused(dg, len, 509, DM_ULOG_CTR, FX_UUID, "ctr_long");
	len = datagram(dg, 510, DM_ULOG_CTR, "2097152\0clustered-core 1024", 27);
	expect_refused(dg, len, 510, DM_ULOG_CTR, FX_UUID, "ctr_nul");

	/* SET_REGION_SYNC with in_sync neither 0 nor 1 */
	len = datagram(dg, 511, DM_ULOG_SET_REGION_SYNC, srs, sizeof(srs));
	expect_refused(dg, len, 511, DM_ULOG_SET_REGION_SYNC, FX_UUID, "in_sync_value");

	/* region >= region_count is dmlogd's to refuse (it knows the count) */
	fixture_roundtrip(&(struct fake_kernel_req){DM_ULOG_IS_CLEAN, FX_UUID, FX_LUID, 3,
						   &(uint64_t){2048}, 8},
			  5000, &r);
	fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, r.seq, DM_ULOG_IS_CLEAN, -EINVAL, NULL, 0);

	/* nothing of it reached the log */
	fixture_roundtrip(&(struct fake_kernel_req){DM_ULOG_IS_CLEAN, FX_UUID, FX_LUID, 3,
						   &(uint64_t){1}, 8},
			  5000, &r);
	fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, r.seq, DM_ULOG_IS_CLEAN, 0, S64_1, 8);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.rejected, 12);
	ck_assert_uint_eq(fx.stats.dropped, 0);
}
END_TEST

/* An unreplyable fault: nothing comes back (the next reply is the valid request's), one
 * warning names the fault. */
static void send_dropped(const uint8_t *dg, size_t len)
{
	ck_assert_int_eq(fake_kernel_send_raw(fx.fk, dg, len), 0);
}

START_TEST(broken_frames_are_dropped_with_a_warning)
{
	static const char *const faults[] = {"short", "nl_type", "cn_len_short", "truncated",
					     "nl_len"};
	uint8_t dg[4096];
	uint64_t region = 3;
	struct fake_kernel_reply r;
	uint32_t seq;
	size_t len;

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	/* shorter than nlmsghdr + cn_msg */
	len = datagram(dg, 600, DM_ULOG_IN_SYNC, &region, 8);
	send_dropped(dg, 20);
	/* not NLMSG_DONE */
	put16(dg + 4, 2);
	send_dropped(dg, len);
	/* a bare ACK coming the wrong way: cn_msg.len 0 */
	len = datagram(dg, 601, DM_ULOG_IN_SYNC, &region, 8);
	put16(dg + 32, 0);
	send_dropped(dg, len);
	/* cn_msg.len beyond the bytes received */
	len = datagram(dg, 602, DM_ULOG_IN_SYNC, &region, 8);
	send_dropped(dg, len - 8);
	/* nlmsg_len shorter than the connector message */
	len = datagram(dg, 603, DM_ULOG_IN_SYNC, &region, 8);
	put32(dg, 40);
	send_dropped(dg, len);
	/* connector traffic of another id (the proc connector, say): ignored without a word */
	len = datagram(dg, 604, DM_ULOG_IN_SYNC, &region, 8);
	put32(dg + 16, 1);
	send_dropped(dg, len);

	ck_assert_int_eq(fake_kernel_send(fx.fk, &(struct fake_kernel_req){DM_ULOG_IN_SYNC, FX_UUID,
									 FX_LUID, 3, &region, 8},
					  &seq),
			 0);
	ck_assert_int_eq(fake_kernel_recv(fx.fk, 5000, &r), 0);
	ck_assert_uint_eq(r.seq, seq);
	fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, seq, DM_ULOG_IN_SYNC, 0, S64_1, 8);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		char needle[64];

		snprintf(needle, sizeof(needle), "fault=%s ", faults[i]);
		ck_assert_msg(fixture_log_count(needle) == 1, "no warning for %s", faults[i]);
	}
	ck_assert_int_eq(fixture_log_count("kernel datagram dropped"), 5);
	ck_assert_int_eq(fixture_log_count("foreign"), 0);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.dropped, 5);
	ck_assert_uint_eq(fx.stats.foreign, 1);
	ck_assert_uint_eq(fx.stats.rejected, 0);
}
END_TEST

/* ---------------------------------------------------------------- no server */

static void no_server_setup(void)
{
	fixture_setup();
}

/* Policy wait: nothing is answered while no dmlogd is up, everything once one is. */
START_TEST(policy_wait_answers_once_dmlogd_starts)
{
	struct fake_kernel_req ctr = {DM_ULOG_CTR, FX_UUID, FX_LUID, 3, NOSYNC_ARGS,
				      strlen(NOSYNC_ARGS)};
	struct fake_kernel_reply r;
	uint64_t t0;
	uint32_t seq;

	fixture_relay(15000);
	t0 = now_ms();
	ck_assert_int_eq(fake_kernel_send(fx.fk, &ctr, &seq), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, seq, 1900, &r), -ETIMEDOUT);
	fixture_dmlogd_start();
	ck_assert_uint_ge(now_ms() - t0, 1900);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, seq, 15000, &r), 0);
	fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, seq, DM_ULOG_CTR, 0, NULL, 0);
	fixture_ok(&(struct fake_kernel_req){DM_ULOG_RESUME, FX_UUID, FX_LUID, 3, NULL, 0}, 0,
		   NULL);
	ck_assert_int_ge(fixture_log_count("dmlogd unreachable"), 1);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.failed + fx.stats.expired, 0);
}
END_TEST

/* Policy fail: -EIO after fail_after, with no data; later requests work once dmlogd is up. */
/* Policy fail: -EIO once fail_after passed with no dmlogd, for every type but IN_SYNC, which
 * gets no reply (the kernel resends it): the mirror reads an IN_SYNC error as "not in sync"
 * and would write to the default leg only. */
START_TEST(policy_fail_answers_eio_after_fail_after)
{
	struct fake_kernel_req in_sync = {DM_ULOG_IN_SYNC, FX_UUID, FX_LUID, 3, &(uint64_t){9}, 8};
	struct fake_kernel_req count = {DM_ULOG_GET_SYNC_COUNT, FX_UUID, FX_LUID, 3, NULL, 0};
	struct fake_kernel_reply r;
	uint64_t t0, took;
	uint32_t seq, iseq;

	fx.o.policy = RELAY_POLICY_FAIL;
	fx.o.fail_after_ms = 1000;
	fixture_relay(15000);
	t0 = now_ms();
	ck_assert_int_eq(fake_kernel_send(fx.fk, &in_sync, &iseq), 0);
	ck_assert_int_eq(fake_kernel_send(fx.fk, &count, &seq), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, seq, 5000, &r), 0);
	took = now_ms() - t0;
	fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, seq, DM_ULOG_GET_SYNC_COUNT, -EIO, NULL, 0);
	ck_assert_msg(took >= 900 && took <= 2000, "-EIO after %llu ms",
		      (unsigned long long)took);
	ck_assert_int_ne(fake_kernel_wait(fx.fk, iseq, 1500, &r), 0);
	ck_assert_int_eq(fixture_log_count("answering -EIO (policy fail)"), 1);
	ck_assert_int_eq(fixture_log_count("given up without a reply"), 1);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.failed, 1);
	ck_assert_uint_eq(fx.stats.expired, 1);

	fixture_dmlogd_start();
	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	fixture_ok(&in_sync, 8, &r);
	ck_assert_mem_eq(fake_kernel_data(&r), S64_1, 8);
}
END_TEST

/* ---------------------------------------------------------------- node lost while alive */

/* Lines with needle in the relay's log once there are at least n (2 s at most): the relay logs
 * after it replied. */
static int log_count_reaching(const char *needle, int n)
{
	int c = fixture_log_count(needle);

	for (int i = 0; i < 200 && c < n; i++) {
		usleep(10000);
		c = fixture_log_count(needle);
	}
	return c;
}

/* dmlogd drops a node silent past its lease. The node's next request gets -ESRCH (so that the
 * kernel reconnects), carrying the request's full result size, zeroed: the kernel keeps an error
 * reply's data_size as the capacity of the request it retries after the reconnect, and a retried
 * IN_SYNC without room fails "not in sync" (a write to one leg). The reconnect CTR and RESUME
 * revive the instance; with the dgram transport no mirror is refreshed, which is logged once. */
START_TEST(a_lost_instance_gets_esrch_keeps_its_capacity_and_is_revived)
{
	static const char *const lease[] = {"--node-lease=1s", NULL};
	struct fake_kernel_req in_sync = {DM_ULOG_IN_SYNC, FX_UUID, FX_LUID, 3, &(uint64_t){9}, 8};
	char args[64];
	struct fake_kernel_req ctr = {DM_ULOG_CTR, FX_UUID, FX_LUID, 3, args, 0};
	struct fake_kernel_req resume = {DM_ULOG_RESUME, FX_UUID, FX_LUID, 3, NULL, 0};
	struct fake_kernel_reply r;
	uint32_t seq;

	fixture_dmlogd_start_with(lease);
	fx.o.keepalive_ms = UINT32_MAX; /* no pings: the node falls silent */
	fx.o.no_local_reads = true;     /* every IN_SYNC goes to dmlogd */
	fixture_relay(15000);
	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	fixture_ok(&in_sync, 8, &r);
	ck_assert_mem_eq(fake_kernel_data(&r), S64_1, 8);
	sleep(3); /* past the lease and the leader's next check */
	ck_assert_int_eq(fake_kernel_send(fx.fk, &in_sync, &seq), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, seq, 5000, &r), 0);
	fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, seq, DM_ULOG_IN_SYNC, -ESRCH, NULL, 0);
	ck_assert_uint_eq(r.data_size, 8);
	ck_assert_int_eq(log_count_reaching("dmlogd lost this node's instance", 1), 1);
	/* the kernel's reconnect loop: CTR with its NUL counted, RESUME, the request again */
	snprintf(args, sizeof(args), "%s", NOSYNC_ARGS);
	ctr.size = strlen(args) + 1;
	fixture_ok(&ctr, 0, NULL);
	fixture_ok(&resume, 0, NULL);
	ck_assert_int_eq(log_count_reaching("refresh_after_loss is off", 1), 1);
	fixture_ok(&in_sync, 8, &r);
	ck_assert_mem_eq(fake_kernel_data(&r), S64_1, 8);
	/* a later RESUME of the same instance is no revival: nothing more is logged */
	fixture_ok(&resume, 0, NULL);
	ck_assert_int_eq(log_count_reaching("refresh_after_loss is off", 2), 1);
	fixture_stats();
	ck_assert_uint_eq(fx.stats.refreshes, 0);
}
END_TEST

/* ---------------------------------------------------------------- server crash */

#define LOAD 360
#define WINDOW 24
#define KILL_AT 120

static struct {
	uint32_t seq, type;
	unsigned replies;
} sent[LOAD];

/* Request i of the load: MARK region i/3, then a FLUSH, then IN_SYNC of the region. */
static void send_load(int i)
{
	static const uint32_t types[3] = {DM_ULOG_MARK_REGION, DM_ULOG_FLUSH, DM_ULOG_IN_SYNC};
	uint64_t region = (uint64_t)(i / 3);
	uint32_t type = types[i % 3];
	struct fake_kernel_req req = {type, FX_UUID, FX_LUID, 3, &region,
				      type == DM_ULOG_FLUSH ? 0 : 8};

	sent[i].type = type;
	sent[i].replies = 0;
	ck_assert_int_eq(fake_kernel_send(fx.fk, &req, &sent[i].seq), 0);
}

START_TEST(dmlogd_killed_and_restarted_mid_load_every_request_answered_once)
{
	struct fake_kernel_reply r;
	unsigned outstanding = 0, done = 0;
	uint64_t local0 = 0;
	int next = 0;
	bool restarted = false;

	fixture_dmlogd_start();
	fixture_relay(15000);
	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	while (done < LOAD) {
		while (next < LOAD && (outstanding < WINDOW || (next >= KILL_AT && !restarted))) {
			if (next == KILL_AT) { /* frozen: what is sent from here on is in flight */
				fixture_stats();
				local0 = fx.stats.local_in_sync;
				ck_assert_int_eq(kill(fx.d.pid, SIGSTOP), 0);
			}
			send_load(next++);
			outstanding++;
			if (next == KILL_AT + 4 && !restarted) {
				usleep(200 * 1000);
				fixture_stats();
				/* in flight, or an IN_SYNC answered from the bridge's leased copy */
				ck_assert_uint_ge(fx.stats.outstanding +
							  (fx.stats.local_in_sync - local0), 4);
				fixture_dmlogd_stop(SIGKILL);
				fixture_dmlogd_start();
				restarted = true;
			}
		}
		ck_assert_int_eq(fake_kernel_recv(fx.fk, 20000, &r), 0);
		for (int i = 0; i < next; i++) {
			if (sent[i].seq != r.seq)
				continue;
			ck_assert_msg(sent[i].replies == 0, "seq %u answered twice", r.seq);
			sent[i].replies++;
			fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, r.seq, sent[i].type, 0,
					     sent[i].type == DM_ULOG_IN_SYNC ? S64_1 : NULL,
					     sent[i].type == DM_ULOG_IN_SYNC ? 8 : 0);
			break;
		}
		outstanding--;
		done++;
	}
	ck_assert(restarted);
	for (int i = 0; i < LOAD; i++)
		ck_assert_msg(sent[i].replies == 1, "seq %u: %u replies", sent[i].seq,
			      sent[i].replies);
	/* nothing more comes */
	ck_assert_int_eq(fake_kernel_recv(fx.fk, 1000, &r), -ETIMEDOUT);
	/* every mark survived the crash: each region is dirty */
	for (uint64_t region = 0; region < LOAD / 3; region += 7) {
		fixture_ok(&(struct fake_kernel_req){DM_ULOG_IS_CLEAN, FX_UUID, FX_LUID, 3, &region,
						     8},
			   8, &r);
		ck_assert_msg(memcmp(fake_kernel_data(&r), S64_0, 8) == 0,
			      "region %llu clean after the restart", (unsigned long long)region);
	}
	fixture_stats();
	ck_assert_uint_eq(fx.stats.failed + fx.stats.expired + fx.stats.unsent, 0);
}
END_TEST

static Suite *faults_suite(void)
{
	Suite *s = suite_create("bridge_relay_faults");
	TCase *tc = tcase_create("input");

	tcase_add_unchecked_fixture(tc, fixture_global_setup, fixture_global_teardown);
	tcase_add_checked_fixture(tc, with_server_setup, fixture_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, replyable_faults_are_answered_einval_with_a_warning);
	tcase_add_test(tc, broken_frames_are_dropped_with_a_warning);
	suite_add_tcase(s, tc);

	tc = tcase_create("server");
	tcase_add_unchecked_fixture(tc, fixture_global_setup, fixture_global_teardown);
	tcase_add_checked_fixture(tc, no_server_setup, fixture_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, policy_wait_answers_once_dmlogd_starts);
	tcase_add_test(tc, policy_fail_answers_eio_after_fail_after);
	tcase_add_test(tc, a_lost_instance_gets_esrch_keeps_its_capacity_and_is_revived);
	tcase_add_test(tc, dmlogd_killed_and_restarted_mid_load_every_request_answered_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(faults_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
