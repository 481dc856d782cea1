/* test_golden.c: the codec and the engine against datagrams captured from a real kernel.
 *
 * tests/data/golden/ holds what Debian 12's kernel 6.1 sent (*.rx.hex) and the replies it
 * accepted from a prototype daemon (*.tx.hex); see its README. First every rx file is parsed
 * and its decoded fields are pinned, and re-encoding the parsed fields must give the kernel's
 * bytes back. Then the engine is driven through the "protomirror" run in seq order, each result
 * encoded by the codec and compared with the accepted reply byte for byte, the luid (bytes
 * 36..43, a kernel address) masked. The "scenario" captures come from other runs: each gets the
 * engine state it needs, built from requests that also go through the codec.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "hexfile.h"
#include "ulog_codec.h"

#define NODE "node1"
#define PROTO_UUID "LVM-protomirror0123456789abcdefABCDEF"
#define PROTO_LUID UINT64_C(0xff410305dc52f600)
#define SCEN_UUID "LVM-scenario0123456789"
#define LUID_MASK_FROM 36
#define LUID_MASK_TO 44

/* ---------------------------------------------------------------- helpers */

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* A golden file (owned by the caller). */
static uint8_t *golden(const char *name, const char *dir, size_t *len)
{
	char rel[128];
	uint8_t *buf = NULL;
	int err;

	snprintf(rel, sizeof(rel), "golden/%s.%s.hex", name, dir);
	err = hexfile_load(rel, &buf, len);
	ck_assert_msg(err == 0, "load %s: %d", rel, err);
	return buf;
}

/* Byte-for-byte comparison, skipping the luid and [skip_from, skip_to). */
static void assert_masked(const char *what, const uint8_t *got, size_t glen, const uint8_t *want,
			  size_t wlen, size_t skip_from, size_t skip_to)
{
	ck_assert_msg(glen == wlen, "%s: %zu bytes, want %zu", what, glen, wlen);
	for (size_t i = 0; i < wlen; i++) {
		if ((i >= LUID_MASK_FROM && i < LUID_MASK_TO) || (i >= skip_from && i < skip_to))
			continue;
		ck_assert_msg(got[i] == want[i], "%s: byte %zu: got 0x%02x, want 0x%02x", what, i,
			      got[i], want[i]);
	}
}

/* The glue the bridge will need: a parsed kernel request as an engine request. */
static void to_engine(const struct ulog_codec_req *in, struct engine_req *out)
{
	memset(out, 0, sizeof(*out));
	out->op = in->hdr.type;
	out->node = NODE;
	out->uuid = in->hdr.uuid;
	out->luid = in->hdr.luid;
	out->version = in->hdr.version;
	out->args = in->ctr;
	out->args_len = in->ctr_len;
	out->reconnect = in->reconnect;
	out->nregions = in->nregions;
	memcpy(out->regions, in->regions, sizeof(out->regions));
	out->region = in->region;
	out->in_sync = in->in_sync;
}

/* ...and an engine result as a codec result. */
static void from_engine(const struct engine_res *in, struct ulog_codec_res *out)
{
	_Static_assert(sizeof(out->text) == sizeof(in->text), "result text sizes agree");
	memset(out, 0, sizeof(*out));
	out->error = in->error;
	out->flag = in->flag;
	out->value = in->value;
	memcpy(out->text, in->text, sizeof(out->text));
}

/* Parses a datagram, applies it to the engine and encodes the reply with nlmsg pid `pid`. */
static void apply_datagram(struct engine *e, const uint8_t *dg, size_t len, uint32_t pid,
			   struct engine_res *eres, uint8_t *out, size_t *olen)
{
	struct ulog_codec_req req;
	struct engine_req ereq;
	struct ulog_codec_res cres;
	int err = ulog_codec_parse(dg, len, &req);

	ck_assert_msg(err == 0, "parse: %d %s", err, req.errmsg);
	to_engine(&req, &ereq);
	engine_apply(e, &ereq, eres);
	from_engine(eres, &cres);
	err = ulog_codec_encode_reply(&req, &cres, pid, out, ULOG_CODEC_REPLY_MAX, olen);
	ck_assert_msg(err == 0, "encode reply: %d", err);
}

/* Sends a request built from fields (as the kernel would) and returns the engine's result. */
static struct engine_res op(struct engine *e, uint64_t luid, const char *uuid, uint32_t seq,
			    uint32_t type, const void *payload, size_t size)
{
	struct ulog_codec_hdr h;
	struct engine_res res;
	uint8_t dg[1024], out[ULOG_CODEC_REPLY_MAX];
	size_t len = 0, olen = 0;

	memset(&h, 0, sizeof(h));
	h.luid = luid;
	snprintf(h.uuid, sizeof(h.uuid), "%s", uuid);
	h.version = 3;
	h.seq = seq;
	h.type = type;
	ck_assert_int_eq(ulog_codec_encode_request(&h, payload, size, dg, sizeof(dg), &len), 0);
	apply_datagram(e, dg, len, 1, &res, out, &olen);
	return res;
}

static struct engine_res op_ok(struct engine *e, uint64_t luid, const char *uuid, uint32_t seq,
			       uint32_t type, const void *payload, size_t size)
{
	struct engine_res res = op(e, luid, uuid, seq, type, payload, size);

	ck_assert_msg(res.error == 0, "%s: %d %s", ulog_codec_type_name(type), res.error,
		      res.errmsg);
	return res;
}

/* Replays golden/<name>.rx.hex against e and compares the reply with <name>.tx.hex (the pid
 * taken from the tx file), skipping the luid and [skip_from, skip_to). Returns the result. */
static struct engine_res replay(struct engine *e, const char *name, size_t skip_from,
				size_t skip_to)
{
	struct engine_res res;
	uint8_t out[ULOG_CODEC_REPLY_MAX];
	size_t rlen, tlen, olen = 0;
	uint8_t *rx = golden(name, "rx", &rlen);
	uint8_t *tx = golden(name, "tx", &tlen);

	apply_datagram(e, rx, rlen, get32(tx + 12), &res, out, &olen);
	assert_masked(name, out, olen, tx, tlen, skip_from, skip_to);
	free(rx);
	free(tx);
	return res;
}

/* ---------------------------------------------------------------- rx files: parse */

struct rx_expect {
	const char *name;
	uint32_t seq;
	uint32_t type;
	const char *uuid;
	uint64_t luid;
	uint32_t data_size;
	const char *ctr;            /* CTR */
	bool reconnect;             /* CTR */
	uint32_t nregions;          /* MARK, CLEAR, FLUSH */
	uint64_t region;            /* the region of a single-region payload */
	bool in_sync;               /* SET_REGION_SYNC */
};

static const struct rx_expect rx_expected[] = {
	{"clear_region", 8, 11, PROTO_UUID, PROTO_LUID, 8, NULL, false, 1, 0, false},
	{"ctr", 0, 1, PROTO_UUID, PROTO_LUID, 25, "32768 clustered-core 1024", false, 0, 0, false},
	{"ctr_reconnect", 1598, 1, SCEN_UUID, UINT64_C(0xffff88803fe5e600), 34,
	 "262144 clustered-core 1024 nosync", true, 0, 0, false},
	{"ctr_rejected", 1, 1, SCEN_UUID, UINT64_C(0xffff88803fe5ee00), 26,
	 "262144 clustered-core 1000", false, 0, 0, false},
	{"dtr", 222, 2, PROTO_UUID, PROTO_LUID, 0, NULL, false, 0, 0, false},
	{"flush", 9, 9, PROTO_UUID, PROTO_LUID, 0, NULL, false, 0, 0, false},
	{"flush_after_mark", 205, 9, PROTO_UUID, PROTO_LUID, 0, NULL, false, 0, 0, false},
	{"flush_integrated", 1574, 9, SCEN_UUID, UINT64_C(0xffff88803fdbcc00), 8, NULL, false, 1, 1,
	 false},
	{"get_region_size", 1, 6, PROTO_UUID, PROTO_LUID, 0, NULL, false, 0, 0, false},
	{"get_resync_work", 4, 12, PROTO_UUID, PROTO_LUID, 0, NULL, false, 0, 0, false},
	{"get_sync_count", 2, 14, PROTO_UUID, PROTO_LUID, 0, NULL, false, 0, 0, false},
	{"in_sync", 5, 8, PROTO_UUID, PROTO_LUID, 8, NULL, false, 0, 0, false},
	{"is_remote_recovering", 39, 17, SCEN_UUID, UINT64_C(0xffff88803fe5ee00), 8, NULL, false, 0,
	 250, false},
	{"mark_region", 204, 10, PROTO_UUID, PROTO_LUID, 8, NULL, false, 1, 2, false},
	{"postsuspend", 217, 4, PROTO_UUID, PROTO_LUID, 0, NULL, false, 0, 0, false},
	{"presuspend", 216, 3, PROTO_UUID, PROTO_LUID, 0, NULL, false, 0, 0, false},
	{"resume", 3, 5, PROTO_UUID, PROTO_LUID, 0, NULL, false, 0, 0, false},
	{"set_region_sync", 7, 13, PROTO_UUID, PROTO_LUID, 16, NULL, false, 0, 0, true},
	{"status_info", 199, 15, PROTO_UUID, PROTO_LUID, 0, NULL, false, 0, 0, false},
};
#define RX_COUNT (sizeof(rx_expected) / sizeof(rx_expected[0]))

START_TEST(rx_file_decodes_exactly)
{
	const struct rx_expect *x = &rx_expected[_i];
	struct ulog_codec_req req;
	uint8_t again[1024];
	size_t len, alen = 0;
	uint8_t *rx = golden(x->name, "rx", &len);
	int err = ulog_codec_parse(rx, len, &req);

	ck_assert_msg(err == 0, "%s: %d %s", x->name, err, req.errmsg);
	/* the captures hold exactly nlmsg_len bytes (the kernel's length is not rounded) */
	ck_assert_uint_eq(req.nl_len, len);
	ck_assert_uint_eq(req.nl_len, 36 + 160 + x->data_size);
	ck_assert_uint_eq(req.nl_type, 3);
	ck_assert_uint_eq(req.nl_flags, 0);
	ck_assert_uint_eq(req.nl_seq, x->seq);
	ck_assert_uint_eq(req.nl_pid, 0);
	ck_assert_uint_eq(req.cn_idx, 7);
	ck_assert_uint_eq(req.cn_val, 1);
	ck_assert_uint_eq(req.cn_seq, x->seq);
	ck_assert_uint_eq(req.cn_ack, 0);
	ck_assert_uint_eq(req.cn_len, 160 + x->data_size);
	ck_assert_uint_eq(req.cn_flags, 0);
	ck_assert_uint_eq(req.hdr.luid, x->luid);
	ck_assert_str_eq(req.hdr.uuid, x->uuid);
	ck_assert_uint_eq(req.hdr.version, 3);
	ck_assert_int_eq(req.hdr.error, 0);
	ck_assert_uint_eq(req.hdr.seq, x->seq);
	ck_assert_uint_eq(req.hdr.type, x->type);
	ck_assert_uint_eq(req.hdr.data_size, x->data_size);
	ck_assert_uint_eq(req.data_len, x->data_size);
	ck_assert_ptr_eq(req.data, rx + 196);
	if (x->ctr != NULL) {
		ck_assert_str_eq(req.ctr, x->ctr);
		ck_assert_uint_eq(req.ctr_len, strlen(x->ctr));
	} else {
		ck_assert_uint_eq(req.ctr_len, 0);
	}
	ck_assert(req.reconnect == x->reconnect);
	ck_assert_uint_eq(req.nregions, x->nregions);
	if (x->nregions == 1)
		ck_assert_uint_eq(req.regions[0], x->region);
	if (x->type == 7 || x->type == 8 || x->type == 13 || x->type == 17)
		ck_assert_uint_eq(req.region, x->region);
	ck_assert(req.in_sync == x->in_sync);

	/* the fake kernel's encoder rebuilds the real kernel's datagram from the parsed fields */
	ck_assert_int_eq(ulog_codec_encode_request(&req.hdr, req.data, req.data_len, again,
						   sizeof(again), &alen), 0);
	ck_assert_uint_eq(alen, len);
	ck_assert_mem_eq(again, rx, len);
	free(rx);
}
END_TEST

/* Every capture in the directory is pinned above: a new file cannot be skipped silently. */
START_TEST(every_rx_file_is_covered)
{
	DIR *d = opendir(DMLOG_TEST_DATA_DIR "/golden");
	struct dirent *de;
	size_t seen = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		bool known = false;

		if (n < 7 || strcmp(de->d_name + n - 7, ".rx.hex") != 0)
			continue;
		for (size_t i = 0; i < RX_COUNT; i++) {
			if (strlen(rx_expected[i].name) == n - 7 &&
			    strncmp(de->d_name, rx_expected[i].name, n - 7) == 0)
				known = true;
		}
		ck_assert_msg(known, "%s has no expectations", de->d_name);
		seen++;
	}
	closedir(d);
	ck_assert_uint_eq(seen, RX_COUNT);
}
END_TEST

/* ---------------------------------------------------------------- engine: protomirror */

/* The e2e run in seq order: create (CTR, GET_REGION_SIZE, GET_SYNC_COUNT, RESUME), the first
 * resync round of region 0, a status, a write to region 2, then remove. */
static const struct {
	const char *name;
	uint32_t seq;
} protomirror[] = {
	{"ctr", 0},           {"get_region_size", 1}, {"get_sync_count", 2},
	{"resume", 3},        {"get_resync_work", 4}, {"in_sync", 5},
	{"set_region_sync", 7}, {"clear_region", 8},  {"flush", 9},
	{"status_info", 199}, {"mark_region", 204},   {"flush_after_mark", 205},
	{"presuspend", 216},  {"postsuspend", 217},   {"dtr", 222},
};

START_TEST(engine_replays_protomirror_byte_for_byte)
{
	struct engine *e = engine_new();
	struct engine_log_info info;
	struct engine_res res;

	ck_assert_ptr_nonnull(e);
	for (size_t i = 0; i < sizeof(protomirror) / sizeof(protomirror[0]); i++) {
		size_t len;
		uint8_t *rx = golden(protomirror[i].name, "rx", &len);

		ck_assert_uint_eq(get32(rx + 36 + 148), protomirror[i].seq);
		free(rx);
		res = replay(e, protomirror[i].name, 0, 0);
		ck_assert_msg(res.error == 0, "%s: %d %s", protomirror[i].name, res.error,
			      res.errmsg);
		if (strcmp(protomirror[i].name, "flush_after_mark") == 0) {
			/* the write to region 2 left it dirty until its CLEAR */
			ck_assert_int_eq(engine_log_info(e, PROTO_UUID, &info), 0);
			ck_assert_uint_eq(info.region_count, 32);
			ck_assert_uint_eq(info.region_size, 1024);
			ck_assert_uint_eq(info.sync_count, 1);
			ck_assert_uint_eq(info.dirty_count, 31);
		}
	}
	/* the last instance of a core log is gone: so is the log */
	ck_assert_int_eq(engine_log_info(e, PROTO_UUID, &info), -ENOENT);
	engine_free(e);
}
END_TEST

/* ---------------------------------------------------------------- engine: scenarios */

#define REJ_LUID UINT64_C(0xffff88803fe5ee00)
#define RECO_LUID UINT64_C(0xffff88803fe5e600)
#define INTEG_LUID UINT64_C(0xffff88803fdbcc00)
#define IRR_LUID UINT64_C(0xffff88803fe5ee00)

START_TEST(ctr_with_region_size_1000_is_rejected)
{
	struct engine *e = engine_new();
	struct engine_res res;

	ck_assert_ptr_nonnull(e);
	res = replay(e, "ctr_rejected", 0, 0);
	ck_assert_int_eq(res.error, -EINVAL);
	ck_assert_uint_eq(engine_log_count(e), 0);
	engine_free(e);
}
END_TEST

/* The daemon came back with no state: the reconnect CTR rebuilds the log, with no reply data. */
START_TEST(reconnect_ctr_rebuilds_a_lost_log)
{
	struct engine *e = engine_new();
	struct engine_log_info info;
	struct engine_res res;

	ck_assert_ptr_nonnull(e);
	res = replay(e, "ctr_reconnect", 0, 0);
	ck_assert_int_eq(res.error, 0);
	ck_assert_str_eq(res.text, "");
	ck_assert_int_eq(engine_log_info(e, SCEN_UUID, &info), 0);
	ck_assert_uint_eq(info.region_count, 256);
	ck_assert_uint_eq(info.sync_count, 256); /* nosync */
	op_ok(e, RECO_LUID, SCEN_UUID, 1599, 5, NULL, 0);
	engine_free(e);
}
END_TEST

/* The daemon never lost the log (the kernel only missed a reply): the same reconnect CTR for
 * the resumed instance succeeds unchanged, and so does the RESUME that follows it. */
START_TEST(reconnect_ctr_for_a_live_log_is_accepted)
{
	static const char args[] = "262144 clustered-core 1024 nosync";
	struct engine *e = engine_new();
	struct engine_res res;

	ck_assert_ptr_nonnull(e);
	op_ok(e, RECO_LUID, SCEN_UUID, 10, 1, args, strlen(args));
	op_ok(e, RECO_LUID, SCEN_UUID, 11, 6, NULL, 0);
	op_ok(e, RECO_LUID, SCEN_UUID, 12, 5, NULL, 0);
	op_ok(e, RECO_LUID, SCEN_UUID, 13, 10, &(uint64_t){7}, 8);
	res = replay(e, "ctr_reconnect", 0, 0);
	ck_assert_int_eq(res.error, 0);
	op_ok(e, RECO_LUID, SCEN_UUID, 1599, 5, NULL, 0);
	/* unchanged: the mark made before the reconnect still holds region 7 dirty */
	res = op_ok(e, RECO_LUID, SCEN_UUID, 1600, 7, &(uint64_t){7}, 8);
	ck_assert(!res.flag);
	engine_free(e);
}
END_TEST

/* A FLUSH carrying a mark (table with integrated_flush, nosync as in that run): the mark is
 * applied for the requesting node and the reply carries nothing. */
START_TEST(integrated_flush_marks_and_replies_empty)
{
	static const char args[] = "262144 clustered-core 1024 nosync";
	struct engine *e = engine_new();
	struct engine_log_info info;
	struct engine_res res;

	ck_assert_ptr_nonnull(e);
	op_ok(e, INTEG_LUID, SCEN_UUID, 1570, 1, args, strlen(args));
	op_ok(e, INTEG_LUID, SCEN_UUID, 1571, 6, NULL, 0);
	op_ok(e, INTEG_LUID, SCEN_UUID, 1572, 5, NULL, 0);
	res = op_ok(e, INTEG_LUID, SCEN_UUID, 1573, 7, &(uint64_t){1}, 8);
	ck_assert(res.flag); /* clean before the write */
	res = replay(e, "flush_integrated", 0, 0);
	ck_assert_int_eq(res.error, 0);
	res = op_ok(e, INTEG_LUID, SCEN_UUID, 1575, 7, &(uint64_t){1}, 8);
	ck_assert(!res.flag);
	ck_assert_int_eq(engine_log_info(e, SCEN_UUID, &info), 0);
	ck_assert_uint_eq(info.dirty_count, 1);
	engine_free(e);
}
END_TEST

/* 256 regions, default sync mode, resumed, regions 0..4 resynced the way the kernel does it
 * (GET_RESYNC_WORK then SET_REGION_SYNC), region 5 next: the state of the captured run
 * ("write during resync to region 250 of 256"). */
static struct engine *irr_state(void)
{
	static const char args[] = "262144 clustered-core 1024";
	struct engine *e = engine_new();
	struct engine_res res;
	uint32_t seq = 2;

	ck_assert_ptr_nonnull(e);
	op_ok(e, IRR_LUID, SCEN_UUID, seq++, 1, args, strlen(args));
	op_ok(e, IRR_LUID, SCEN_UUID, seq++, 6, NULL, 0);
	op_ok(e, IRR_LUID, SCEN_UUID, seq++, 5, NULL, 0);
	for (uint64_t r = 0; r < 5; r++) {
		uint64_t srs[2] = {r, 1};

		res = op_ok(e, IRR_LUID, SCEN_UUID, seq++, 12, NULL, 0);
		ck_assert(res.flag);
		ck_assert_uint_eq(res.value, r);
		op_ok(e, IRR_LUID, SCEN_UUID, seq++, 13, srs, sizeof(srs));
	}
	return e;
}

/* The prototype daemon that produced the capture answered {0, 5}: "not recovering" for region
 * 250, which was still out of sync. engine.h (after reference §4.7) answers is_recovering =
 * !sync bit = 1 there: another node may resync it at any moment, so the write must wait. The
 * framing and the hint (5: regions 0..4 are in sync) are compared byte for byte, the flag
 * (bytes 196..203) is asserted against the engine's semantics instead. */
START_TEST(is_remote_recovering_during_resync_says_recovering)
{
	struct engine *e = irr_state();
	struct engine_res res;

	res = replay(e, "is_remote_recovering", 196, 204);
	ck_assert_int_eq(res.error, 0);
	ck_assert(res.flag);
	ck_assert_uint_eq(res.value, 5);
	engine_free(e);
}
END_TEST

/* The state in which engine.h's semantics give the captured answer exactly: the same log with
 * region 250 already in sync (e.g. recovered ahead of the cursor). */
START_TEST(is_remote_recovering_on_a_synced_region_matches_capture)
{
	struct engine *e = irr_state();
	struct engine_res res;
	uint64_t srs[2] = {250, 1};
	uint8_t *tx;
	size_t tlen;

	op_ok(e, IRR_LUID, SCEN_UUID, 30, 13, srs, sizeof(srs));
	res = replay(e, "is_remote_recovering", 0, 0);
	ck_assert_int_eq(res.error, 0);
	ck_assert(!res.flag);
	ck_assert_uint_eq(res.value, 5);
	tx = golden("is_remote_recovering", "tx", &tlen);
	ck_assert_uint_eq(get64(tx + 196), 0);
	ck_assert_uint_eq(get64(tx + 204), 5);
	free(tx);
	engine_free(e);
}
END_TEST

static Suite *golden_suite(void)
{
	Suite *s = suite_create("golden");
	TCase *tc = tcase_create("rx");

	tcase_add_loop_test(tc, rx_file_decodes_exactly, 0, (int)RX_COUNT);
	tcase_add_test(tc, every_rx_file_is_covered);
	suite_add_tcase(s, tc);

	tc = tcase_create("engine");
	tcase_add_test(tc, engine_replays_protomirror_byte_for_byte);
	tcase_add_test(tc, ctr_with_region_size_1000_is_rejected);
	tcase_add_test(tc, reconnect_ctr_rebuilds_a_lost_log);
	tcase_add_test(tc, reconnect_ctr_for_a_live_log_is_accepted);
	tcase_add_test(tc, integrated_flush_marks_and_replies_empty);
	tcase_add_test(tc, is_remote_recovering_during_resync_says_recovering);
	tcase_add_test(tc, is_remote_recovering_on_a_synced_region_matches_capture);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(golden_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
