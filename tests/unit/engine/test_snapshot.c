/* test_snapshot.c: snapshot, restore and determinism (server/engine/snapshot.c, restore.c). */
#include <check.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "wire.h"

/* ---------------------------------------------------------------- a random op stream */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r, uint64_t n)
{
	r->s = r->s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return (r->s >> 33) % n;
}

static const char *const nodes[] = { "n3", "n1", "n4", "n2" };
static const char *const uuids[] = { "LVM-u2", "LVM-u1", "LVM-u3" };
/* Per uuid a family of compatible argument strings, plus some that fit no log. */
static const char *const families[3][4] = {
	{ "64 clustered-core 4", "128 clustered-core 4 nosync", "64 clustered-core 4 nosync",
	  "128 clustered-core 4" },
	{ "64 clustered-disk 253:2 4", "160 clustered-disk 253:2 4 nosync",
	  "96 clustered-disk 253:2 4 sync", "64 clustered-disk 253:2 4 block_on_error" },
	{ "64 disk 8:1 4", "96 disk 8:1 4 nosync", "64 disk 8:1 4 sync", "128 disk 8:1 4" },
};
static const char *const misfits[] = {
	"64 clustered-disk 253:3 4", "64 core 4", "64 clustered-core 8", "64 clustered-core 1000",
};

/* Mostly regions every instance has, some only larger ones have, a few none has. */
static uint64_t random_region(struct rng *r)
{
	uint64_t p = rnd(r, 100);

	return p < 80 ? rnd(r, 16) : p < 98 ? rnd(r, 40) : 40 + rnd(r, 10);
}

/* One random request; the stream hits every op, error paths included. */
static struct engine_req random_req(struct rng *r)
{
	static const uint32_t weights[][2] = {
		{ ENGINE_CTR, 8 },          { ENGINE_DTR, 3 },        { ENGINE_PRESUSPEND, 2 },
		{ ENGINE_POSTSUSPEND, 3 },  { ENGINE_RESUME, 8 },     { ENGINE_GET_REGION_SIZE, 1 },
		{ ENGINE_IS_CLEAN, 2 },     { ENGINE_IN_SYNC, 4 },    { ENGINE_FLUSH, 4 },
		{ ENGINE_MARK_REGION, 10 }, { ENGINE_CLEAR_REGION, 10 },
		{ ENGINE_GET_RESYNC_WORK, 8 }, { ENGINE_SET_REGION_SYNC, 8 },
		{ ENGINE_GET_SYNC_COUNT, 2 }, { ENGINE_STATUS_INFO, 1 }, { ENGINE_STATUS_TABLE, 1 },
		{ ENGINE_IS_REMOTE_RECOVERING, 6 },
	};
	uint32_t total = 0, pick, op = ENGINE_CTR;
	struct engine_req req;

	for (size_t i = 0; i < sizeof(weights) / sizeof(weights[0]); i++)
		total += weights[i][1];
	pick = (uint32_t)rnd(r, total);
	for (size_t i = 0; i < sizeof(weights) / sizeof(weights[0]); i++) {
		if (pick < weights[i][1]) {
			op = weights[i][0];
			break;
		}
		pick -= weights[i][1];
	}
	size_t u = rnd(r, 3);

	req = fx_req(op, nodes[rnd(r, 4)], uuids[u], 1 + rnd(r, 2));
	req.args = rnd(r, 20) ? families[u][rnd(r, 4)] : misfits[rnd(r, 4)];
	req.args_len = strlen(req.args);
	req.version = (uint32_t)rnd(r, 4);
	req.reconnect = rnd(r, 4) == 0;
	req.nregions = (uint32_t)rnd(r, op == ENGINE_FLUSH ? 6 : 5) + (op == ENGINE_FLUSH ? 0 : 1);
	for (uint32_t i = 0; i < req.nregions; i++)
		req.regions[i] = random_region(r);
	req.region = random_region(r);
	req.in_sync = rnd(r, 5) != 0;
	return req;
}

static void same_result(const struct engine_res *a, const struct engine_res *b)
{
	ck_assert_int_eq(a->error, b->error);
	ck_assert_int_eq(a->flag, b->flag);
	ck_assert_uint_eq(a->value, b->value);
	ck_assert_str_eq(a->text, b->text);
	ck_assert_str_eq(a->errmsg, b->errmsg);
}

/* Applies one step (a request or, rarely, a node loss) to both engines and compares. */
static void step_both(struct rng *r, struct engine *a, struct engine *b, int *errors)
{
	if (rnd(r, 400) == 0) {
		const char *node = nodes[rnd(r, 4)];

		ck_assert_int_eq(engine_node_lost(a, node), 0);
		ck_assert_int_eq(engine_node_lost(b, node), 0);
		return;
	}
	struct engine_req req = random_req(r);
	struct engine_res ra, rb;

	engine_apply(a, &req, &ra);
	engine_apply(b, &req, &rb);
	same_result(&ra, &rb);
	*errors += ra.error != 0;
}

START_TEST(same_op_stream_gives_identical_snapshots)
{
	struct rng r = { 20240601 };
	struct engine *a = engine_new(), *b = engine_new();
	void *noise[64] = { 0 };
	int errors = 0;

	for (int i = 0; i < 4000; i++) {
		/* allocation noise, so that b's objects sit at other addresses than a's */
		free(noise[i % 64]);
		noise[i % 64] = malloc(16 + (size_t)(i % 97) * 8);
		step_both(&r, a, b, &errors);
		if (i % 500 == 499) {
			/* b continues from a restored copy: other table sizes, other pointers */
			struct engine *c = fx_clone(b);

			ck_assert(fx_state_equal(a, c));
			engine_free(b);
			b = c;
		}
	}
	ck_assert(fx_state_equal(a, b));
	ck_assert_int_gt(errors, 100);       /* the stream exercised error paths */
	ck_assert_int_lt(errors, 3600);      /* and mostly valid ones */
	ck_assert_uint_gt(engine_log_count(a), 0);
	for (int i = 0; i < 64; i++)
		free(noise[i]);
	engine_free(a);
	engine_free(b);
}
END_TEST

START_TEST(snapshot_restore_snapshot_is_identical)
{
	struct rng r = { 7 };
	struct engine *a = engine_new(), *b = engine_new();
	int errors = 0;

	for (int i = 0; i < 3000; i++) {
		step_both(&r, a, b, &errors);
		if (i % 250 == 0) {
			size_t l1, l2;
			uint8_t *s1 = fx_snapshot(a, &l1);
			char why[256];
			struct engine *c = engine_restore(s1, l1, why, sizeof(why));
			uint8_t *s2;

			ck_assert_msg(c != NULL, "%s", why);
			s2 = fx_snapshot(c, &l2);
			ck_assert_uint_eq(l1, l2);
			ck_assert(!memcmp(s1, s2, l1));
			free(s1);
			free(s2);
			engine_free(c);
		}
	}
	engine_free(a);
	engine_free(b);
}
END_TEST

START_TEST(empty_engine_round_trips)
{
	struct engine *a = engine_new(), *c;
	size_t len;
	uint8_t *s = fx_snapshot(a, &len);

	ck_assert_uint_eq(len, 8 + 4 + 4 + 4 + 32);
	ck_assert(!memcmp(s, "DMLOGSNP\x01\0\0\0", 12));
	c = fx_clone(a);
	ck_assert_uint_eq(engine_log_count(c), 0);
	ck_assert(fx_state_equal(a, c));
	free(s);
	engine_free(a);
	engine_free(c);
}
END_TEST

/* A small state touching every part of the format. */
static struct engine *rich_engine(void)
{
	struct engine *e = engine_new();

	fx_open(e, "b", "u1", 1, "64 clustered-disk 253:2 4");
	fx_open(e, "a", "u1", 1, "64 clustered-disk 253:2 4");
	ck_assert_int_eq(fx_ctr(e, "a", "u1", 9, "128 clustered-disk 253:2 4 nosync"), 0);
	fx_open(e, "c", "u0", 3, "256 core 2 nosync");
	ck_assert_int_eq(fx_mark(e, "a", "u1", 1, 5), 0);
	ck_assert_int_eq(fx_mark(e, "b", "u1", 1, 5), 0);
	ck_assert_int_eq(fx_mark(e, "b", "u1", 1, 2), 0);
	ck_assert_int_eq(fx_work(e, "a", "u1", 1), 0);
	ck_assert_int_eq(fx_region_op(e, ENGINE_IS_REMOTE_RECOVERING, "b", "u1", 1, 7).error, 0);
	ck_assert_int_eq(fx_set_sync(e, "c", "u0", 3, 100, false), 0);
	ck_assert_int_eq(fx_region_op(e, ENGINE_IS_REMOTE_RECOVERING, "c", "u0", 3, 100).value, 100);
	ck_assert_int_eq(fx_ctr(e, "c", "u2", 1, "64 disk 8:1 4"), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "c", "u2", 1), 0); /* a closed log */
	ck_assert_int_eq(engine_node_lost(e, "c"), 0);
	return e;
}

START_TEST(rich_state_round_trips_and_behaves_the_same)
{
	struct engine *a = rich_engine(), *b = fx_clone(a);
	struct rng r = { 99 };
	int errors = 0;

	ck_assert(fx_state_equal(a, b));
	ck_assert_uint_eq(engine_log_count(b), 3);
	ck_assert(fx_has_mark(b, "u1", "a", 5));
	ck_assert_str_eq(fx_inst_state(b, "u0", "c", 3), "lost");
	for (int i = 0; i < 500; i++)
		step_both(&r, a, b, &errors);
	ck_assert(fx_state_equal(a, b));
	engine_free(a);
	engine_free(b);
}
END_TEST

static void expect_reject(const uint8_t *buf, size_t len, const char *why_part)
{
	char why[256] = "";
	struct engine *c = engine_restore(buf, len, why, sizeof(why));

	ck_assert_msg(c == NULL, "accepted a bad snapshot of %zu bytes", len);
	ck_assert(why[0] != '\0');
	if (why_part)
		ck_assert_msg(strstr(why, why_part) != NULL, "'%s' lacks '%s'", why, why_part);
}

START_TEST(every_truncation_is_rejected)
{
	struct engine *a = rich_engine();
	size_t len;
	uint8_t *s = fx_snapshot(a, &len);

	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, s, n);
		expect_reject(copy, n, NULL);
		free(copy);
	}
	expect_reject(NULL, 0, "truncated");
	free(s);
	engine_free(a);
}
END_TEST

START_TEST(every_flipped_byte_is_rejected)
{
	struct engine *a = rich_engine();
	size_t len;
	uint8_t *s = fx_snapshot(a, &len);

	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			s[i] ^= (uint8_t)(1u << bit);
			expect_reject(s, len, NULL);
			s[i] ^= (uint8_t)(1u << bit);
		}
	}
	free(s);
	engine_free(a);
}
END_TEST

/* Recomputes the trailer so that only the content checks stand between input and engine. */
static void resign(uint8_t *buf, size_t len)
{
	unsigned int dlen;

	ck_assert(EVP_Digest(buf, len - 32, buf + len - 32, &dlen, EVP_sha256(), NULL));
}

START_TEST(resigned_corruption_is_rejected_or_canonical)
{
	struct engine *a = rich_engine();
	size_t len, accepted = 0;
	uint8_t *s = fx_snapshot(a, &len);

	/* With a valid checksum, a changed byte is either refused or gives a state that snapshots
	 * back to exactly the changed bytes. Either way nothing crashes or leaks. */
	for (size_t i = 12; i < len - 32; i++) {
		static const uint8_t deltas[] = { 0x01, 0x80, 0xff };

		for (size_t d = 0; d < sizeof(deltas); d++) {
			char why[256] = "";
			struct engine *c;

			s[i] ^= deltas[d];
			resign(s, len);
			c = engine_restore(s, len, why, sizeof(why));
			if (c) {
				size_t l2;
				uint8_t *s2 = fx_snapshot(c, &l2);

				ck_assert_uint_eq(l2, len);
				ck_assert(!memcmp(s2, s, len));
				free(s2);
				engine_free(c);
				accepted++;
			} else {
				ck_assert(why[0] != '\0');
			}
			s[i] ^= deltas[d];
		}
	}
	ck_assert_uint_lt(accepted * 2, (len - 44) * 3); /* most changes are caught */
	free(s);
	engine_free(a);
}
END_TEST

START_TEST(unknown_version_and_bad_magic_are_named)
{
	struct engine *a = rich_engine();
	size_t len;
	uint8_t *s = fx_snapshot(a, &len), *longer;

	s[8] = 2;
	resign(s, len);
	expect_reject(s, len, "unknown snapshot format version 2");
	s[8] = 1;
	s[0] = 'X';
	resign(s, len);
	expect_reject(s, len, "bad magic");
	s[0] = 'D';
	resign(s, len);
	s[len - 1] ^= 1;
	expect_reject(s, len, "checksum");
	s[len - 1] ^= 1;
	/* trailing garbage with a valid checksum */
	longer = malloc(len + 1);
	memcpy(longer, s, len - 32);
	longer[len - 32] = 0;
	resign(longer, len + 1);
	expect_reject(longer, len + 1, "trailing");
	free(longer);
	free(s);
	engine_free(a);
}
END_TEST

/* ---------------------------------------------------------------- hand-built snapshots */

struct knobs {
	uint8_t type;
	uint32_t ninst;
	uint64_t inst_count;  /* instance region_count */
	const char *args;
	uint8_t state;
	uint8_t assigned;
	uint64_t assigned_region;
	uint64_t log_count;   /* log region_count */
	uint64_t search;
	uint32_t nprio;
	uint64_t prio[2];
	uint64_t nmarks;
	uint64_t marks[2][2];
	uint64_t clean, sync; /* the single bitmap word of each */
	bool literal_runs;    /* write the bitmaps as literal runs even when uniform */
	bool two_nodes_same;
	bool two_logs_reversed;
};

static struct knobs base(void)
{
	struct knobs k = {
		.type = 0, .ninst = 1, .inst_count = 16, .args = "64 clustered-core 4",
		.state = 1, .log_count = 16, .clean = 0x3, .sync = 0x7,
	};
	return k;
}

static void put_word_bitmap(struct wire_writer *w, uint64_t word, bool literal)
{
	uint8_t kind = word == 0 ? 0 : word == ~UINT64_C(0) ? 1 : 2;

	if (literal)
		kind = 2;
	wire_put_u8(w, kind);
	wire_put_u64(w, 1);
	if (kind == 2)
		wire_put_u64(w, word);
}

static void put_log(struct wire_writer *w, const struct knobs *k, const char *uuid)
{
	wire_put_u8(w, (uint8_t)strlen(uuid));
	wire_put_bytes(w, uuid, strlen(uuid));
	wire_put_u8(w, k->type);
	wire_put_u8(w, 0);
	wire_put_u8(w, 0);
	wire_put_u8(w, 0); /* no device */
	wire_put_u64(w, 4);
	wire_put_u64(w, k->log_count);
	wire_put_u64(w, k->search);
	wire_put_u32(w, k->nprio);
	for (uint32_t i = 0; i < k->nprio; i++)
		wire_put_u64(w, k->prio[i]);
	wire_put_u32(w, k->ninst);
	for (uint32_t i = 0; i < k->ninst; i++) {
		wire_put_u32(w, 0);
		wire_put_u64(w, 1 + i);
		wire_put_u8(w, k->state);
		wire_put_u8(w, 0);
		wire_put_u8(w, k->assigned);
		wire_put_u64(w, k->assigned_region);
		wire_put_u64(w, 0);
		wire_put_u64(w, k->inst_count);
		wire_put_u32(w, (uint32_t)strlen(k->args));
		wire_put_bytes(w, k->args, strlen(k->args));
	}
	wire_put_u64(w, k->nmarks);
	for (uint64_t i = 0; i < k->nmarks; i++) {
		wire_put_u64(w, k->marks[i][0]);
		wire_put_u64(w, k->marks[i][1]);
	}
	put_word_bitmap(w, k->clean, k->literal_runs);
	put_word_bitmap(w, k->sync, k->literal_runs);
}

/* Restores the snapshot the knobs describe; returns the engine or NULL with why filled. */
static struct engine *build(const struct knobs *k, char *why, size_t whylen)
{
	struct wire_writer w = { 0 };
	struct engine *e;

	wire_put_bytes(&w, "DMLOGSNP", 8);
	wire_put_u32(&w, 1);
	wire_put_u32(&w, k->two_nodes_same ? 2 : 1);
	wire_put_u8(&w, 1);
	wire_put_bytes(&w, "a", 1);
	if (k->two_nodes_same) {
		wire_put_u8(&w, 1);
		wire_put_bytes(&w, "a", 1);
	}
	wire_put_u32(&w, k->two_logs_reversed ? 2 : 1);
	put_log(&w, k, k->two_logs_reversed ? "u2" : "u1");
	if (k->two_logs_reversed)
		put_log(&w, k, "u1");
	wire_put_bytes(&w, (const uint8_t[32]){ 0 }, 32);
	ck_assert(!w.failed);
	resign(w.buf, w.len);
	e = engine_restore(w.buf, w.len, why, whylen);
	free(w.buf);
	return e;
}

static void expect_built_reject(const struct knobs *k, const char *why_part)
{
	char why[256] = "";
	struct engine *e = build(k, why, sizeof(why));

	ck_assert_msg(e == NULL, "accepted (expected '%s')", why_part);
	ck_assert_msg(strstr(why, why_part) != NULL, "'%s' lacks '%s'", why, why_part);
}

START_TEST(hand_built_valid_snapshot_restores)
{
	struct knobs k = base();
	char why[256] = "";
	struct engine *e = build(&k, why, sizeof(why));

	ck_assert_msg(e != NULL, "%s", why);
	ck_assert_uint_eq(fx_sync_count(e, "a", "u1", 1), 3);
	ck_assert(fx_clean(e, "a", "u1", 1, 1));
	ck_assert(!fx_clean(e, "a", "u1", 1, 2));
	engine_free(e);
}
END_TEST

START_TEST(hand_built_inconsistent_snapshots_are_rejected)
{
	struct knobs k;

	k = base(); k.clean = 0x9;
	expect_built_reject(&k, "clean region is out of sync");
	k = base(); k.nmarks = 1; k.marks[0][0] = 0; k.marks[0][1] = 1;
	expect_built_reject(&k, "marked region is clean");
	k = base(); k.nmarks = 1; k.marks[0][0] = 5; k.marks[0][1] = 2;
	expect_built_reject(&k, "bad node mask");
	k = base(); k.nmarks = 2; k.marks[0][0] = 9; k.marks[0][1] = 1; k.marks[1][0] = 8;
	k.marks[1][1] = 1;
	expect_built_reject(&k, "out of order");
	k = base(); k.nmarks = 1; k.marks[0][0] = 16; k.marks[0][1] = 1;
	expect_built_reject(&k, "out of order or range");
	k = base(); k.assigned = 1; k.assigned_region = 1;
	expect_built_reject(&k, "assigned region is in sync");
	k = base(); k.assigned = 1; k.assigned_region = 9; k.state = 3;
	expect_built_reject(&k, "bad recovery assignment");
	k = base(); k.assigned = 0; k.assigned_region = 9;
	expect_built_reject(&k, "assignment region without assignment");
	k = base(); k.state = 5;
	expect_built_reject(&k, "unknown instance state");
	k = base(); k.inst_count = 15;
	expect_built_reject(&k, "disagree");
	k = base(); k.args = "64 clustered-core 1000";
	expect_built_reject(&k, "power of two");
	k = base(); k.args = "64 clustered-disk 253:2 4";
	expect_built_reject(&k, "disagree");
	k = base(); k.log_count = 20;
	expect_built_reject(&k, "largest instance");
	k = base(); k.search = 17;
	expect_built_reject(&k, "cursor");
	k = base(); k.nprio = 2; k.prio[0] = 3; k.prio[1] = 3;
	expect_built_reject(&k, "listed twice");
	k = base(); k.nprio = 1; k.prio[0] = 16;
	expect_built_reject(&k, "priority region 16 out of range");
	k = base(); k.ninst = 0;
	expect_built_reject(&k, "0 instances of a clustered-core log");
	k = base(); k.sync = 0x10007;
	expect_built_reject(&k, "beyond the region count");
	k = base(); k.literal_runs = true; k.clean = 0;
	expect_built_reject(&k, "uniform word in a literal run");
	k = base(); k.two_nodes_same = true;
	expect_built_reject(&k, "listed twice");
	k = base(); k.two_logs_reversed = true;
	expect_built_reject(&k, "logs out of order");
	k = base(); k.type = 9;
	expect_built_reject(&k, "unknown log type");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("snapshot");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, same_op_stream_gives_identical_snapshots);
	tcase_add_test(tc, snapshot_restore_snapshot_is_identical);
	tcase_add_test(tc, empty_engine_round_trips);
	tcase_add_test(tc, rich_state_round_trips_and_behaves_the_same);
	tcase_add_test(tc, every_truncation_is_rejected);
	tcase_add_test(tc, every_flipped_byte_is_rejected);
	tcase_add_test(tc, resigned_corruption_is_rejected_or_canonical);
	tcase_add_test(tc, unknown_version_and_bad_magic_are_named);
	tcase_add_test(tc, hand_built_valid_snapshot_restores);
	tcase_add_test(tc, hand_built_inconsistent_snapshots_are_rejected);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
