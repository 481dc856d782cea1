/* test_relay.c: the relay between a fake kernel and a real dmlogd, reply bytes pinned.
 *
 * Every request type goes through the relay to dmlogd and back, and the reply is compared byte
 * for byte with one built here from the kernel's layout (not by the codec): seq, error,
 * data_size and payload. The real kernel's captures (tests/data/golden) are replayed in order
 * through the real server and must give the replies the kernel accepted. Then the protocol's
 * corner cases: 200 requests outstanding across 4 logs, the reconnect-loop CTR, repeated CTR
 * and RESUME, a resent MARK, an integrated FLUSH of 32 marks, request versions 0-3, the
 * max_outstanding back-pressure and a reload under traffic.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/dm-log-userspace.h>

#include "fixture.h"
#include "hexfile.h"

#define CORE_ARGS "2097152 clustered-core 1024"        /* 2048 regions, default sync */
#define NOSYNC_ARGS "2097152 clustered-core 1024 nosync"
#define DISK_ARGS "2097152 clustered-disk 253:2 1024"

/* A request of the default log, as an lvalue. */
#define REQ(type, data, size)                                                                   \
	(&(struct fake_kernel_req){(type), FX_UUID, FX_LUID, 3, (data), (size)})

static const uint8_t S64_0[8] = {0};
static const uint8_t S64_1[8] = {1};

static void setup(void)
{
	fixture_setup();
	fixture_dmlogd_start();
	fixture_relay(15000);
}

/* Sends (type, payload) for the default log and checks the reply byte for byte. */
static void expect(uint32_t type, const void *payload, size_t size, int error, const void *data,
		   size_t n)
{
	struct fake_kernel_req req = fixture_req(type, payload, size);
	struct fake_kernel_reply r;

	fixture_roundtrip(&req, 20000, &r);
	fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, r.seq, type, error, data, n);
	ck_assert_uint_eq(r.seq, fake_kernel_next_seq(fx.fk) - 1);
}

static uint64_t u64s[2];

static const void *u64(uint64_t a)
{
	u64s[0] = a;
	return u64s;
}

static const void *u64x2(uint64_t a, uint64_t b)
{
	u64s[0] = a;
	u64s[1] = b;
	return u64s;
}

/* ---------------------------------------------------------------- every type */

START_TEST(every_request_type_is_relayed_byte_for_byte)
{
	static const char info[] = "1 clustered-core";
	static const char table[] = "clustered-core 1024 ";
	uint8_t v[16];

	expect(DM_ULOG_CTR, CORE_ARGS, strlen(CORE_ARGS), 0, NULL, 0);
	expect(DM_ULOG_GET_REGION_SIZE, NULL, 0, 0, u64(1024), 8);
	expect(DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0, u64(0), 8);
	expect(DM_ULOG_RESUME, NULL, 0, 0, NULL, 0);
	expect(DM_ULOG_IS_CLEAN, u64(7), 8, 0, S64_0, 8); /* out of sync: not clean */
	expect(DM_ULOG_IN_SYNC, u64(7), 8, 0, S64_0, 8);
	expect(DM_ULOG_MARK_REGION, u64x2(7, 9), 16, 0, NULL, 0);
	expect(DM_ULOG_IS_CLEAN, u64(7), 8, 0, S64_0, 8);
	expect(DM_ULOG_FLUSH, NULL, 0, 0, NULL, 0);
	expect(DM_ULOG_CLEAR_REGION, u64(9), 8, 0, NULL, 0);
	memcpy(v, u64x2(1, 0), 16); /* {s64 i = 1, u64 r = 0}: recover region 0 */
	expect(DM_ULOG_GET_RESYNC_WORK, NULL, 0, 0, v, 16);
	expect(DM_ULOG_SET_REGION_SYNC, u64x2(0, 1), 16, 0, NULL, 0);
	expect(DM_ULOG_GET_SYNC_COUNT, NULL, 0, 0, u64(1), 8);
	expect(DM_ULOG_IN_SYNC, u64(0), 8, 0, S64_1, 8);
	expect(DM_ULOG_CLEAR_REGION, u64(0), 8, 0, NULL, 0); /* as the kernel does after resync */
	expect(DM_ULOG_IS_CLEAN, u64(0), 8, 0, S64_1, 8);    /* in sync, cleared: clean */
	memcpy(v, u64x2(1, 1), 16); /* region 100 is out of sync: recovering; hint 1 */
	expect(DM_ULOG_IS_REMOTE_RECOVERING, u64(100), 8, 0, v, 16);
	memcpy(v, u64x2(0, 1), 16); /* region 0 is in sync now */
	expect(DM_ULOG_IS_REMOTE_RECOVERING, u64(0), 8, 0, v, 16);
	expect(DM_ULOG_STATUS_INFO, NULL, 0, 0, info, sizeof(info));
	expect(DM_ULOG_STATUS_TABLE, NULL, 0, 0, table, sizeof(table));
	/* dmlogd's own errors reach the kernel as they are, with no data */
	expect(DM_ULOG_IN_SYNC, u64(2048), 8, -EINVAL, NULL, 0);
	expect(DM_ULOG_PRESUSPEND, NULL, 0, 0, NULL, 0);
	expect(DM_ULOG_POSTSUSPEND, NULL, 0, 0, NULL, 0);
	expect(DM_ULOG_DTR, NULL, 0, 0, NULL, 0);

	fixture_stats();
	ck_assert_uint_eq(fx.stats.requests, 24);
	ck_assert_uint_eq(fx.stats.answered, 24);
	ck_assert_uint_eq(fx.stats.server_errors, 1);
	ck_assert_uint_eq(fx.stats.by_type[DM_ULOG_IS_REMOTE_RECOVERING], 2);
	ck_assert_uint_eq(fx.stats.outstanding, 0);
	ck_assert_uint_eq(fx.stats.rejected + fx.stats.dropped + fx.stats.unsent, 0);
}
END_TEST

/* The log device comes back only to a CTR that can take it: request version >= 2 and not
 * the reconnect loop's CTR, whose reply buffer is empty (reference §1.6, §2.1). */
START_TEST(ctr_device_depends_on_version_and_reconnect)
{
	static const char dev[] = "253:2";
	struct fake_kernel_req req;
	struct fake_kernel_reply r;
	char reconnect_args[sizeof(DISK_ARGS)];

	for (uint32_t version = 0; version <= 3; version++) {
		char uuid[64];
		uint64_t luid = FX_LUID + version;

		snprintf(uuid, sizeof(uuid), "LVM-disk-version-%u", version);
		req = (struct fake_kernel_req){DM_ULOG_CTR, uuid, luid, version, DISK_ARGS,
					       strlen(DISK_ARGS)};
		fixture_roundtrip(&req, 20000, &r);
		fixture_assert_reply(&r, luid, uuid, version, r.seq, DM_ULOG_CTR, 0,
				     version >= 2 ? dev : NULL, version >= 2 ? sizeof(dev) : 0);
		ck_assert_int_eq(fake_kernel_result(&r, fake_kernel_capacity(DM_ULOG_CTR, false)),
				 0);
		/* the other types carry the version through unchanged */
		req = (struct fake_kernel_req){DM_ULOG_GET_REGION_SIZE, uuid, luid, version, NULL,
					       0};
		fixture_roundtrip(&req, 20000, &r);
		fixture_assert_reply(&r, luid, uuid, version, r.seq, DM_ULOG_GET_REGION_SIZE, 0,
				     u64(1024), 8);
	}
	/* the reconnect loop's CTR: NUL counted in data_size, data_size 0 in the reply */
	memcpy(reconnect_args, DISK_ARGS, sizeof(DISK_ARGS));
	req = (struct fake_kernel_req){DM_ULOG_CTR, "LVM-disk-version-3", FX_LUID + 3, 3,
				       reconnect_args, sizeof(reconnect_args)};
	fixture_roundtrip(&req, 20000, &r);
	fixture_assert_reply(&r, FX_LUID + 3, "LVM-disk-version-3", 3, r.seq, DM_ULOG_CTR, 0,
			     NULL, 0);
	ck_assert_int_eq(fake_kernel_result(&r, fake_kernel_capacity(DM_ULOG_CTR, true)), 0);
}
END_TEST

/* ---------------------------------------------------------------- golden captures */

struct golden_step {
	const char *name;
	uint32_t seq;
};

/* The real kernel's e2e run in seq order (see tests/unit/bridge/test_golden.c). */
static const struct golden_step protomirror[] = {
	{"ctr", 0},	      {"get_region_size", 1},	{"get_sync_count", 2},
	{"resume", 3},	      {"get_resync_work", 4},	{"in_sync", 5},
	{"set_region_sync", 7}, {"clear_region", 8},	{"flush", 9},
	{"status_info", 199}, {"mark_region", 204},	{"flush_after_mark", 205},
	{"presuspend", 216},  {"postsuspend", 217},	{"dtr", 222},
};

static uint8_t *golden(const char *name, const char *dir, size_t *len)
{
	char rel[128];
	uint8_t *buf = NULL;

	snprintf(rel, sizeof(rel), "golden/%s.%s.hex", name, dir);
	ck_assert_msg(hexfile_load(rel, &buf, len) == 0, "load %s", rel);
	return buf;
}

START_TEST(golden_captures_replayed_through_dmlogd_give_the_accepted_replies)
{
	for (size_t i = 0; i < sizeof(protomirror) / sizeof(protomirror[0]); i++) {
		size_t rlen, tlen;
		uint8_t *rx = golden(protomirror[i].name, "rx", &rlen);
		uint8_t *tx = golden(protomirror[i].name, "tx", &tlen);
		struct fake_kernel_reply r;

		/* the capture's bytes as the kernel sent them, padded to 4 as recv() sees them */
		uint8_t padded[1024] = {0};

		ck_assert_uint_le(rlen + 3, sizeof(padded));
		memcpy(padded, rx, rlen);
		ck_assert_int_eq(fake_kernel_send_raw(fx.fk, padded, (rlen + 3) & ~(size_t)3), 0);
		ck_assert_int_eq(fake_kernel_wait(fx.fk, protomirror[i].seq, 20000, &r), 0);
		ck_assert_msg(r.raw_len == tlen, "%s: %zu bytes, want %zu", protomirror[i].name,
			      r.raw_len, tlen);
		for (size_t b = 0; b < tlen; b++) {
			if ((b >= 12 && b < 16) || (b >= 36 && b < 44))
				continue; /* nlmsg_pid (the prototype's pid) and the luid */
			ck_assert_msg(r.raw[b] == tx[b], "%s: byte %zu is 0x%02x, want 0x%02x",
				      protomirror[i].name, b, r.raw[b], tx[b]);
		}
		free(rx);
		free(tx);
	}
}
END_TEST

/* The reference's own vectors (§6, tests/data/synthetic): the CTR of V1 and the
 * GET_REGION_SIZE datagram D1 through dmlogd give V2 and D2, except for what D2 leaves to the
 * daemon: cn_msg.seq (cmirrord sends 0, dmlog echoes the request seq; the kernel reads the seq
 * of the request header when cn_msg.len >= 160) and nlmsg_pid. */
START_TEST(reference_vectors_through_dmlogd)
{
	uint8_t *v1, *v2, *d1, *d2, dg[512];
	size_t v1len, v2len, d1len, d2len;
	struct fake_kernel_reply r;
	uint32_t seq = 0x100;

	ck_assert_int_eq(hexfile_load("synthetic/v01_ctr.hex", &v1, &v1len), 0);
	ck_assert_int_eq(hexfile_load("synthetic/v02_ctr_reply.hex", &v2, &v2len), 0);
	ck_assert_int_eq(hexfile_load("synthetic/d1_get_region_size_datagram.hex", &d1, &d1len), 0);
	ck_assert_int_eq(hexfile_load("synthetic/d2_get_region_size_reply_datagram.hex", &d2,
				      &d2len),
			 0);
	/* V1 in the kernel's framing: nlmsghdr {len, NLMSG_DONE, 0, seq, 0}, cn_msg {7, 1,
	 * seq, 0, len, 0} */
	memset(dg, 0, sizeof(dg));
	memcpy(dg, &(uint32_t){(uint32_t)(36 + v1len)}, 4);
	memcpy(dg + 4, &(uint16_t){3}, 2);
	memcpy(dg + 8, &seq, 4);
	memcpy(dg + 16, &(uint32_t){7}, 4);
	memcpy(dg + 20, &(uint32_t){1}, 4);
	memcpy(dg + 24, &seq, 4);
	memcpy(dg + 32, &(uint16_t){(uint16_t)v1len}, 2);
	memcpy(dg + 36, v1, v1len);
	ck_assert_int_eq(fake_kernel_send_raw(fx.fk, dg, (36 + v1len + 3) & ~(size_t)3), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, seq, 20000, &r), 0);
	ck_assert_uint_eq(r.raw_len, 36 + v2len);
	ck_assert_mem_eq(r.raw + 36, v2, v2len);
	ck_assert_uint_eq(r.cn_len, v2len);
	ck_assert_uint_eq(r.cn_seq, seq);

	ck_assert_int_eq(fake_kernel_send_raw(fx.fk, d1, d1len), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, 0x101, 20000, &r), 0);
	ck_assert_uint_eq(r.raw_len, d2len);
	for (size_t b = 0; b < d2len; b++) {
		if ((b >= 12 && b < 16) || (b >= 24 && b < 28))
			continue;
		ck_assert_msg(r.raw[b] == d2[b], "D2 byte %zu is 0x%02x, want 0x%02x", b, r.raw[b],
			      d2[b]);
	}
	ck_assert_uint_eq(r.cn_seq, 0x101);
	free(v1);
	free(v2);
	free(d1);
	free(d2);
}
END_TEST

/* The fake kernel reads the reference's reply datagrams as the kernel does (§1.5): a full reply
 * by the request's seq, a bare ACK by cn_msg.seq with -ack as the result. */
START_TEST(fake_kernel_reads_replies_as_the_kernel_does)
{
	static const char *const files[] = {"synthetic/d2_get_region_size_reply_datagram.hex",
					    "synthetic/d3_ack.hex", "synthetic/d4_nack_eagain.hex"};
	struct fake_kernel_reply r[3];

	for (int i = 0; i < 3; i++) {
		uint8_t *buf;
		size_t len;

		ck_assert_int_eq(hexfile_load(files[i], &buf, &len), 0);
		fake_kernel_parse_reply(buf, len, &r[i]);
		free(buf);
	}
	ck_assert(!r[0].bare && !r[0].incomplete);
	ck_assert_uint_eq(r[0].seq, 0x101);
	ck_assert_uint_eq(r[0].cn_seq, 0);
	ck_assert_uint_eq(r[0].data_size, 8);
	ck_assert_mem_eq(fake_kernel_data(&r[0]), u64(1024), 8);
	ck_assert_int_eq(fake_kernel_result(&r[0], 8), 0);
	ck_assert_int_eq(fake_kernel_result(&r[0], 0), -ENOSPC);
	ck_assert(r[1].bare);
	ck_assert_uint_eq(r[1].seq, 0x130);
	ck_assert_int_eq(fake_kernel_result(&r[1], 0), 0);
	ck_assert(r[2].bare);
	ck_assert_uint_eq(r[2].seq, 0x131);
	ck_assert_int_eq(fake_kernel_result(&r[2], 0), -EAGAIN);
}
END_TEST

/* ---------------------------------------------------------------- many at once */

#define MANY 200
#define LOGS 4

START_TEST(two_hundred_outstanding_across_four_logs_get_their_own_replies)
{
	char uuids[LOGS][64];
	struct {
		uint32_t seq, type;
		int log;
		uint64_t region;
		bool answered;
	} sent[MANY];
	uint64_t regions[2];

	for (int l = 0; l < LOGS; l++) {
		snprintf(uuids[l], sizeof(uuids[l]), "LVM-many-%d-0123456789abcdef", l);
		fixture_open_log(uuids[l], FX_LUID + (uint64_t)l * 0x100, NOSYNC_ARGS);
	}
	/* Send everything first: nothing waits for an answer before the last request is out. */
	for (int i = 0; i < MANY; i++) {
		static const uint32_t types[] = {DM_ULOG_IN_SYNC, DM_ULOG_MARK_REGION,
						 DM_ULOG_FLUSH, DM_ULOG_GET_SYNC_COUNT,
						 DM_ULOG_IS_CLEAN};
		int l = i % LOGS;
		struct fake_kernel_req req = {types[i % 5], uuids[l],
					      FX_LUID + (uint64_t)l * 0x100, 3, NULL, 0};

		sent[i].type = req.type;
		sent[i].log = l;
		sent[i].region = (uint64_t)i;
		sent[i].answered = false;
		regions[0] = (uint64_t)i;
		if (req.type != DM_ULOG_FLUSH && req.type != DM_ULOG_GET_SYNC_COUNT) {
			req.data = regions;
			req.size = 8;
		}
		ck_assert_int_eq(fake_kernel_send(fx.fk, &req, &sent[i].seq), 0);
	}
	for (int n = 0; n < MANY; n++) {
		struct fake_kernel_reply r;
		uint64_t luid;
		int i;

		ck_assert_int_eq(fake_kernel_recv(fx.fk, 30000, &r), 0);
		for (i = 0; i < MANY && sent[i].seq != r.seq; i++)
			;
		ck_assert_msg(i < MANY, "reply to unknown seq %u", r.seq);
		ck_assert_msg(!sent[i].answered, "seq %u answered twice", r.seq);
		sent[i].answered = true;
		ck_assert_msg(r.error == 0, "seq %u: error %d", r.seq, r.error);
		ck_assert_str_eq(r.uuid, uuids[sent[i].log]);
		luid = FX_LUID + (uint64_t)sent[i].log * 0x100;
		switch (sent[i].type) {
		case DM_ULOG_IN_SYNC: /* nosync: every region in sync */
			fixture_assert_reply(&r, luid, uuids[sent[i].log], 3, r.seq,
					     sent[i].type, 0, S64_1, 8);
			break;
		case DM_ULOG_GET_SYNC_COUNT:
			fixture_assert_reply(&r, luid, uuids[sent[i].log], 3, r.seq,
					     sent[i].type, 0, u64(2048), 8);
			break;
		case DM_ULOG_IS_CLEAN:
			ck_assert_uint_eq(r.data_size, 8);
			break;
		default:
			fixture_assert_reply(&r, luid, uuids[sent[i].log], 3, r.seq,
					     sent[i].type, 0, NULL, 0);
		}
	}
	fixture_stats();
	ck_assert_uint_eq(fx.stats.outstanding, 0);
	ck_assert_uint_gt(fx.stats.outstanding_peak, 1);
	ck_assert_uint_eq(fx.stats.answered, MANY + 3 * LOGS);
}
END_TEST

/* ---------------------------------------------------------------- the kernel's habits */

/* The kernel resends CTR after a 15 s timeout and replays CTR + RESUME in its reconnect loop:
 * both must succeed for a log that exists (reference §1.6, §5 item 7). */
START_TEST(repeated_ctr_and_resume_succeed)
{
	struct fake_kernel_req ctr = fixture_req(DM_ULOG_CTR, NOSYNC_ARGS, strlen(NOSYNC_ARGS));
	struct fake_kernel_req resume = fixture_req(DM_ULOG_RESUME, NULL, 0);
	char with_nul[sizeof(NOSYNC_ARGS)];
	struct fake_kernel_req reconnect;
	struct fake_kernel_reply r;

	memcpy(with_nul, NOSYNC_ARGS, sizeof(with_nul));
	reconnect = fixture_req(DM_ULOG_CTR, with_nul, sizeof(with_nul));
	fixture_ok(&ctr, 0, NULL);
	fixture_ok(&ctr, 0, NULL);
	fixture_ok(&resume, 0, NULL);
	fixture_ok(&resume, 0, NULL);
	fixture_ok(REQ(DM_ULOG_MARK_REGION, u64(3), 8), 0, NULL);
	fixture_ok(&reconnect, 0, &r);
	fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, r.seq, DM_ULOG_CTR, 0, NULL, 0);
	fixture_ok(&resume, 0, NULL);
	/* nothing was reset: region 3 is still marked */
	fixture_ok(REQ(DM_ULOG_IS_CLEAN, u64(3), 8), 8, &r);
	ck_assert_mem_eq(fake_kernel_data(&r), S64_0, 8);
}
END_TEST

/* A MARK resent under a new seq (the kernel's timeout) is one mark: one CLEAR cleans it. */
START_TEST(resent_mark_with_a_new_seq_is_harmless)
{
	struct fake_kernel_req mark = fixture_req(DM_ULOG_MARK_REGION, u64(5), 8);
	struct fake_kernel_reply r1, r2, r;
	uint32_t s1, s2;

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	ck_assert_int_eq(fake_kernel_send(fx.fk, &mark, &s1), 0);
	ck_assert_int_eq(fake_kernel_send(fx.fk, &mark, &s2), 0);
	ck_assert_uint_ne(s1, s2);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, s2, 20000, &r2), 0);
	ck_assert_int_eq(fake_kernel_wait(fx.fk, s1, 20000, &r1), 0);
	fixture_assert_reply(&r1, FX_LUID, FX_UUID, 3, s1, DM_ULOG_MARK_REGION, 0, NULL, 0);
	fixture_assert_reply(&r2, FX_LUID, FX_UUID, 3, s2, DM_ULOG_MARK_REGION, 0, NULL, 0);
	fixture_ok(REQ(DM_ULOG_FLUSH, NULL, 0), 0, NULL);
	fixture_ok(REQ(DM_ULOG_IS_CLEAN, u64(5), 8), 8, &r);
	ck_assert_mem_eq(fake_kernel_data(&r), S64_0, 8);
	fixture_ok(REQ(DM_ULOG_CLEAR_REGION, u64(5), 8), 0, NULL);
	fixture_ok(REQ(DM_ULOG_FLUSH, NULL, 0), 0, NULL);
	fixture_ok(REQ(DM_ULOG_IS_CLEAN, u64(5), 8), 8, &r);
	ck_assert_mem_eq(fake_kernel_data(&r), S64_1, 8);
}
END_TEST

/* integrated_flush: the marks ride in the FLUSH (up to 32), the reply has no data. */
START_TEST(integrated_flush_with_32_marks)
{
	uint64_t marks[33];
	struct fake_kernel_reply r;

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	for (int i = 0; i < 33; i++)
		marks[i] = (uint64_t)(1000 + 31 * i);
	fixture_ok(REQ(DM_ULOG_FLUSH, marks, 32 * 8), 0, &r);
	fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, r.seq, DM_ULOG_FLUSH, 0, NULL, 0);
	for (int i = 0; i < 32; i++) {
		fixture_ok(REQ(DM_ULOG_IS_CLEAN, &marks[i], 8), 8, &r);
		ck_assert_msg(memcmp(fake_kernel_data(&r), S64_0, 8) == 0, "region %llu clean",
			      (unsigned long long)marks[i]);
	}
	fixture_ok(REQ(DM_ULOG_IS_CLEAN, &marks[32], 8), 8, &r);
	ck_assert_mem_eq(fake_kernel_data(&r), S64_1, 8);
	/* 33 marks do not fit one FLUSH: refused by the bridge, never sent to dmlogd */
	fixture_roundtrip(REQ(DM_ULOG_FLUSH, marks, 33 * 8), 5000, &r);
	fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, r.seq, DM_ULOG_FLUSH, -EINVAL, NULL, 0);
	fixture_ok(REQ(DM_ULOG_IS_CLEAN, &marks[32], 8), 8, &r);
	ck_assert_mem_eq(fake_kernel_data(&r), S64_1, 8);
}
END_TEST

/* The upper 24 bits of request_type are not part of the type (reference §1.3). */
START_TEST(request_type_high_bits_are_masked)
{
	struct fake_kernel_reply r;

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	fixture_ok(REQ(0xabcd0000u | DM_ULOG_IN_SYNC, u64(4), 8), 8, &r);
	/* the reply echoes the type the bridge understood */
	fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, r.seq, DM_ULOG_IN_SYNC, 0, S64_1, 8);
}
END_TEST

/* ---------------------------------------------------------------- bounds and reload */

static void small_limit_setup(void)
{
	fixture_setup();
	fx.o.max_outstanding = 4;
	fixture_dmlogd_start();
	fixture_relay(15000);
}

START_TEST(max_outstanding_pauses_reading_and_loses_nothing)
{
	uint32_t seqs[60];
	bool seen[60] = {false};

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	for (int i = 0; i < 60; i++) {
		struct fake_kernel_req req = fixture_req(DM_ULOG_MARK_REGION, u64((uint64_t)i), 8);

		ck_assert_int_eq(fake_kernel_send(fx.fk, &req, &seqs[i]), 0);
	}
	for (int n = 0; n < 60; n++) {
		struct fake_kernel_reply r;
		int i;

		ck_assert_int_eq(fake_kernel_recv(fx.fk, 30000, &r), 0);
		for (i = 0; i < 60 && seqs[i] != r.seq; i++)
			;
		ck_assert(i < 60 && !seen[i]);
		seen[i] = true;
		fixture_assert_reply(&r, FX_LUID, FX_UUID, 3, r.seq, DM_ULOG_MARK_REGION, 0, NULL,
				     0);
	}
	fixture_stats();
	ck_assert_uint_le(fx.stats.outstanding_peak, 4);
	ck_assert_uint_gt(fx.stats.pauses, 0);
	ck_assert_uint_eq(fx.stats.outstanding, 0);
	ck_assert_int_gt(fixture_log_count("(max_outstanding)"), 0);
}
END_TEST

START_TEST(reload_switches_connection_without_losing_requests)
{
	uint32_t seqs[40];
	struct fake_kernel_reply r;

	fixture_open_log(FX_UUID, FX_LUID, NOSYNC_ARGS);
	for (int i = 0; i < 20; i++) {
		struct fake_kernel_req req = fixture_req(DM_ULOG_MARK_REGION, u64((uint64_t)i), 8);

		ck_assert_int_eq(fake_kernel_send(fx.fk, &req, &seqs[i]), 0);
	}
	ck_assert_int_eq(fixture_reconfigure(), 0);
	for (int i = 20; i < 40; i++) {
		struct fake_kernel_req req = fixture_req(DM_ULOG_MARK_REGION, u64((uint64_t)i), 8);

		ck_assert_int_eq(fake_kernel_send(fx.fk, &req, &seqs[i]), 0);
	}
	for (int i = 0; i < 40; i++) {
		ck_assert_int_eq(fake_kernel_wait(fx.fk, seqs[i], 20000, &r), 0);
		ck_assert_int_eq(r.error, 0);
	}
	/* a reload whose certificate cannot be loaded keeps the current connection */
	fx.o.client.key_file = "/nonexistent/node.key";
	ck_assert_int_lt(fixture_reconfigure(), 0);
	fixture_ok(REQ(DM_ULOG_IS_CLEAN, u64(39), 8), 8, &r);
	ck_assert_mem_eq(fake_kernel_data(&r), S64_0, 8);
	ck_assert_int_ge(fixture_log_count("previous dmlogd connection released"), 1);
}
END_TEST

static Suite *relay_suite(void)
{
	Suite *s = suite_create("bridge_relay");
	TCase *tc = tcase_create("relay");

	tcase_add_unchecked_fixture(tc, fixture_global_setup, fixture_global_teardown);
	tcase_add_checked_fixture(tc, setup, fixture_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_request_type_is_relayed_byte_for_byte);
	tcase_add_test(tc, ctr_device_depends_on_version_and_reconnect);
	tcase_add_test(tc, golden_captures_replayed_through_dmlogd_give_the_accepted_replies);
	tcase_add_test(tc, reference_vectors_through_dmlogd);
	tcase_add_test(tc, fake_kernel_reads_replies_as_the_kernel_does);
	tcase_add_test(tc, two_hundred_outstanding_across_four_logs_get_their_own_replies);
	tcase_add_test(tc, repeated_ctr_and_resume_succeed);
	tcase_add_test(tc, resent_mark_with_a_new_seq_is_harmless);
	tcase_add_test(tc, integrated_flush_with_32_marks);
	tcase_add_test(tc, request_type_high_bits_are_masked);
	tcase_add_test(tc, reload_switches_connection_without_losing_requests);
	suite_add_tcase(s, tc);

	tc = tcase_create("bounds");
	tcase_add_unchecked_fixture(tc, fixture_global_setup, fixture_global_teardown);
	tcase_add_checked_fixture(tc, small_limit_setup, fixture_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, max_outstanding_pauses_reading_and_loses_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(relay_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
