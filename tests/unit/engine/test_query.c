/* test_query.c: the read operations and engine_read() (server/engine/query.c). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static struct engine *e;

static void setup(void)
{
	e = engine_new();
	ck_assert_ptr_nonnull(e);
}

static void teardown(void)
{
	engine_free(e);
	e = NULL;
}

static void expect_status(const char *args, const char *info, const char *table)
{
	static uint64_t luid;
	struct engine_res res;

	luid++;
	ck_assert_int_eq(fx_ctr(e, "a", args, luid, args), 0); /* the args double as uuid */
	res = fx_op(e, ENGINE_STATUS_INFO, "a", args, luid);
	ck_assert_int_eq(res.error, 0);
	ck_assert_str_eq(res.text, info);
	res = fx_op(e, ENGINE_STATUS_TABLE, "a", args, luid);
	ck_assert_int_eq(res.error, 0);
	ck_assert_str_eq(res.text, table);
}

START_TEST(status_texts_for_every_type_and_mode)
{
	expect_status("2097152 clustered-core 1024", "1 clustered-core", "clustered-core 1024 ");
	expect_status("2097152 clustered-core 1024 sync", "1 clustered-core",
		      "clustered-core 1024 sync ");
	expect_status("2097152 clustered-core 1024 nosync block_on_error", "1 clustered-core",
		      "clustered-core 1024 nosync block_on_error ");
	expect_status("2097152 clustered-core 1024 block_on_error", "1 clustered-core",
		      "clustered-core 1024 block_on_error ");
	expect_status("2097152 clustered-disk 253:2 1024", "3 clustered-disk 253:2 A",
		      "clustered-disk 253:2 1024 ");
	expect_status("2097152 clustered-disk 253:2 1024 nosync", "3 clustered-disk 253:2 A",
		      "clustered-disk 253:2 1024 nosync ");
	expect_status("2097152 clustered-disk 253:2 1024 block_on_error sync",
		      "3 clustered-disk 253:2 A", "clustered-disk 253:2 1024 sync block_on_error ");
	expect_status("2097152 core 1024", "1 core", "core 1 1024 ");
	expect_status("2097152 core 1024 sync", "1 core", "core 2 1024 sync ");
	expect_status("2097152 core 1024 nosync", "1 core", "core 2 1024 nosync ");
	expect_status("2097152 disk 253:2 1024", "3 disk 253:2 A", "disk 2 253:2 1024 ");
	expect_status("2097152 disk 253:2 1024 sync", "3 disk 253:2 A", "disk 3 253:2 1024 sync ");
	expect_status("2097152 disk 253:2 1024 nosync", "3 disk 253:2 A",
		      "disk 3 253:2 1024 nosync ");
}
END_TEST

START_TEST(region_size_and_sync_count_in_any_live_state)
{
	ck_assert_int_eq(fx_ctr(e, "a", U, 1, "2097152 clustered-disk 253:2 1024 nosync"), 0);
	ck_assert_uint_eq(fx_op(e, ENGINE_GET_REGION_SIZE, "a", U, 1).value, 1024);
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), 2048);
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "a", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_PRESUSPEND, "a", U, 1), 0);
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), 2048);
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "a", U, 1), 0);
	ck_assert_uint_eq(fx_op(e, ENGINE_GET_REGION_SIZE, "a", U, 1).value, 1024);
	ck_assert_str_eq(fx_op(e, ENGINE_STATUS_INFO, "a", U, 1).text, "3 clustered-disk 253:2 A");
}
END_TEST

START_TEST(sync_count_is_over_the_instances_own_regions)
{
	fx_open(e, "a", U, 1, "64 clustered-core 4 nosync");
	fx_open(e, "b", U, 1, "128 clustered-core 4");
	ck_assert_uint_eq(fx_sync_count(e, "b", U, 1), 16);
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), 16);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 3, false), 0);
	ck_assert_int_eq(fx_set_sync(e, "b", U, 1, 20, true), 0);
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), 15);
	ck_assert_uint_eq(fx_sync_count(e, "b", U, 1), 16);
}
END_TEST

START_TEST(is_clean_and_in_sync_answer_zero_or_one)
{
	fx_open(e, "a", U, 1, "64 clustered-core 4");
	ck_assert(!fx_clean(e, "a", U, 1, 0));
	ck_assert(!fx_in_sync(e, "a", U, 1, 0));
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 13, true), 0);
	ck_assert(fx_in_sync(e, "a", U, 1, 13));
	ck_assert(!fx_clean(e, "a", U, 1, 13));
	ck_assert_int_eq(fx_clear(e, "a", U, 1, 13), 0);
	ck_assert(fx_clean(e, "a", U, 1, 13));
	ck_assert_int_eq(fx_region_op(e, ENGINE_IS_CLEAN, "a", U, 1, 16).error, -EINVAL);
	ck_assert_int_eq(fx_region_op(e, ENGINE_IN_SYNC, "a", U, 1, 16).error, -EINVAL);
}
END_TEST

START_TEST(engine_read_matches_apply_and_refuses_mutations)
{
	static const uint32_t reads[] = { ENGINE_GET_REGION_SIZE, ENGINE_IS_CLEAN, ENGINE_IN_SYNC,
					  ENGINE_GET_SYNC_COUNT, ENGINE_STATUS_INFO,
					  ENGINE_STATUS_TABLE };
	struct engine_req req;
	struct engine_res r1, r2;
	struct engine *before;

	fx_open(e, "a", U, 1, "2097152 clustered-disk 253:2 1024 nosync");
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 5), 0);
	before = fx_clone(e);
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		ck_assert(engine_op_is_read(reads[i]));
		req = fx_req(reads[i], "a", U, 1);
		req.region = 5;
		engine_read(e, &req, &r1);
		engine_apply(e, &req, &r2);
		ck_assert_int_eq(r1.error, 0);
		ck_assert_int_eq(r1.error, r2.error);
		ck_assert_int_eq(r1.flag, r2.flag);
		ck_assert_uint_eq(r1.value, r2.value);
		ck_assert_str_eq(r1.text, r2.text);
	}
	for (uint32_t op = ENGINE_CTR; op <= ENGINE_IS_REMOTE_RECOVERING; op++) {
		if (engine_op_is_read(op))
			continue;
		req = fx_req(op, "a", U, 1);
		req.region = 5;
		req.nregions = 1;
		req.regions[0] = 6;
		engine_read(e, &req, &r1);
		ck_assert_int_eq(r1.error, -EINVAL);
	}
	ck_assert(fx_state_equal(e, before));
	/* engine_read also refuses an unknown instance and a region out of range */
	req = fx_req(ENGINE_IN_SYNC, "a", U, 2);
	engine_read(e, &req, &r1);
	ck_assert_int_eq(r1.error, -EINVAL);
	req = fx_req(ENGINE_IN_SYNC, "a", U, 1);
	req.region = 2048;
	engine_read(e, &req, &r1);
	ck_assert_int_eq(r1.error, -EINVAL);
	ck_assert(!r1.flag);
	engine_free(before);
}
END_TEST

/* engine_check: the answer engine_apply() gives a FLUSH without marks (dmlogd answers it like
 * a read), with nothing changed; every other op but CLEAR_REGION, a FLUSH carrying marks
 * included, refused. */
START_TEST(engine_check_answers_an_empty_flush_as_apply_would)
{
	struct engine_req req;
	struct engine_res r1, r2;
	struct engine *before;

	fx_open(e, "a", U, 1, "2097152 clustered-core 1024 nosync");
	fx_open(e, "b", U, 7, "2097152 clustered-core 1024 nosync");
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 5), 0);
	before = fx_clone(e);
	req = fx_req(ENGINE_FLUSH, "a", U, 1);
	engine_check(e, &req, &r1);
	engine_apply(before, &req, &r2);
	ck_assert_int_eq(r1.error, 0);
	ck_assert_int_eq(r2.error, 0);
	ck_assert(fx_state_equal(e, before));
	ck_assert(fx_has_mark(e, U, "a", 5));
	/* the same error as apply for an unknown instance */
	req = fx_req(ENGINE_FLUSH, "a", U, 2);
	engine_check(e, &req, &r1);
	engine_apply(before, &req, &r2);
	ck_assert_int_eq(r1.error, -EINVAL);
	ck_assert_int_eq(r2.error, -EINVAL);
	/* a FLUSH carrying marks, and every other op, must be committed */
	req = fx_req(ENGINE_FLUSH, "a", U, 1);
	req.nregions = 1;
	req.regions[0] = 6;
	engine_check(e, &req, &r1);
	ck_assert_int_eq(r1.error, -EINVAL);
	for (uint32_t op = ENGINE_CTR; op <= ENGINE_IS_REMOTE_RECOVERING; op++) {
		if (op == ENGINE_FLUSH || op == ENGINE_CLEAR_REGION)
			continue;
		req = fx_req(op, "a", U, 1);
		req.region = 5;
		req.nregions = 1;
		req.regions[0] = 6;
		engine_check(e, &req, &r1);
		ck_assert_int_eq(r1.error, -EINVAL);
	}
	ck_assert(fx_state_equal(e, before));
	/* a lost instance: -ESTALE, as apply answers (its kernel must reconnect) */
	ck_assert_int_eq(engine_node_lost(e, "a"), 0);
	req = fx_req(ENGINE_FLUSH, "a", U, 1);
	engine_check(e, &req, &r1);
	ck_assert_int_eq(r1.error, -ESTALE);
	req = fx_req(ENGINE_FLUSH, "b", U, 7);
	engine_check(e, &req, &r1);
	ck_assert_int_eq(r1.error, 0);
	engine_free(before);
}
END_TEST

/* engine_check of a CLEAR_REGION (dmlogd answers a passing one before its commit): nothing
 * changes, and its answer is engine_apply()'s, for success and for every error a clear has. */
START_TEST(engine_check_answers_a_clear_as_apply_would)
{
	struct engine_req req;
	struct engine_res r1, r2;
	struct engine *before;
	struct {
		const char *node;
		uint64_t luid;
		uint64_t regions[2];
		uint32_t nregions;
		int error;
	} cases[] = {
		{"a", 1, {5, 9}, 2, 0},           /* a held mark and one not held */
		{"a", 1, {2047}, 1, 0},           /* the last region */
		{"a", 1, {5, 2048}, 2, -EINVAL},  /* one region out of range: nothing cleared */
		{"a", 1, {0}, 0, -EINVAL},        /* no region */
		{"a", 2, {5}, 1, -EINVAL},        /* no such instance */
		{"c", 1, {5}, 1, -EINVAL},        /* no such node */
	};

	fx_open(e, "a", U, 1, "2097152 clustered-core 1024 nosync");
	fx_open(e, "b", U, 7, "2097152 clustered-core 1024 nosync");
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 5), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		before = fx_clone(e);
		req = fx_req(ENGINE_CLEAR_REGION, cases[i].node, U, cases[i].luid);
		req.nregions = cases[i].nregions;
		memcpy(req.regions, cases[i].regions, sizeof(cases[i].regions));
		engine_check(e, &req, &r1);
		ck_assert_msg(fx_state_equal(e, before), "case %zu changed the state", i);
		engine_apply(before, &req, &r2);
		ck_assert_msg(r1.error == cases[i].error && r2.error == cases[i].error,
			      "case %zu: check %d, apply %d, want %d", i, r1.error, r2.error,
			      cases[i].error);
		engine_free(before);
	}
	ck_assert(fx_has_mark(e, U, "a", 5));
	/* a lost instance: -ESTALE from both */
	ck_assert_int_eq(engine_node_lost(e, "a"), 0);
	req = fx_req(ENGINE_CLEAR_REGION, "a", U, 1);
	req.nregions = 1;
	req.regions[0] = 5;
	engine_check(e, &req, &r1);
	ck_assert_int_eq(r1.error, -ESTALE);
	ck_assert_int_eq(fx_apply(e, &req).error, -ESTALE);
}
END_TEST

START_TEST(reads_from_a_lost_instance_are_estale)
{
	struct engine_req req;
	struct engine_res res;

	fx_open(e, "a", U, 1, "64 clustered-core 4");
	ck_assert_int_eq(engine_node_lost(e, "a"), 0);
	for (uint32_t op = ENGINE_GET_REGION_SIZE; op <= ENGINE_STATUS_TABLE; op++) {
		if (!engine_op_is_read(op))
			continue;
		req = fx_req(op, "a", U, 1);
		engine_read(e, &req, &res);
		ck_assert_int_eq(res.error, -ESTALE);
		ck_assert_int_eq(fx_apply(e, &req).error, -ESTALE);
	}
}
END_TEST

/* engine_out_of_range (dmlogd closes the connection of a node asking it): every op with
 * regions is checked against its own instance's region_count, whatever the instance's state,
 * with engine_apply()'s message; nothing else is its business and nothing changes. */
START_TEST(out_of_range_regions_are_found_per_instance)
{
	static const uint32_t single[] = {ENGINE_IS_CLEAN, ENGINE_IN_SYNC, ENGINE_SET_REGION_SYNC,
					  ENGINE_IS_REMOTE_RECOVERING};
	static const uint32_t lists[] = {ENGINE_MARK_REGION, ENGINE_CLEAR_REGION, ENGINE_FLUSH};
	struct engine_req req;
	struct engine_res res, applied;
	struct engine *before;

	fx_open(e, "a", U, 1, "2097152 clustered-core 1024 nosync"); /* 2048 regions */
	fx_open(e, "b", U, 2, "1048576 clustered-core 1024 nosync"); /* 1024 of them */
	before = fx_clone(e);
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
		req = fx_req(single[i], "a", U, 1);
		req.region = 2047;
		ck_assert_msg(!engine_out_of_range(e, &req, &res), "op %u: last region", single[i]);
		ck_assert_int_eq(res.error, 0);
		req.region = 2048;
		ck_assert_msg(engine_out_of_range(e, &req, &res), "op %u: past the end", single[i]);
		ck_assert_int_eq(res.error, -EINVAL);
		ck_assert_str_eq(res.errmsg, "region 2048 out of range (2048 regions)");
		/* b's instance is smaller than the log: its own count is the limit */
		req = fx_req(single[i], "b", U, 2);
		req.region = 1024;
		ck_assert_msg(engine_out_of_range(e, &req, &res), "op %u: b's count", single[i]);
		ck_assert_str_eq(res.errmsg, "region 1024 out of range (1024 regions)");
	}
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		req = fx_req(lists[i], "b", U, 2);
		req.nregions = 3;
		req.regions[0] = 0;
		req.regions[1] = 1023;
		req.regions[2] = 7;
		ck_assert_msg(!engine_out_of_range(e, &req, &res), "op %u: in range", lists[i]);
		req.regions[2] = 5000;
		ck_assert_msg(engine_out_of_range(e, &req, &res), "op %u: third region", lists[i]);
		ck_assert_str_eq(res.errmsg, "region 5000 out of range (1024 regions)");
		/* the same words as engine_apply()'s answer, which says what kind of error it is */
		engine_apply(before, &req, &applied);
		ck_assert_int_eq(applied.error, res.error);
		ck_assert_str_eq(applied.errmsg, res.errmsg);
		ck_assert(applied.out_of_range);
	}
	/* engine_read() and engine_check() mark a range error the same way (dmlogd's read and
	 * early-clear paths rely on it instead of a second look), and no other error */
	req = fx_req(ENGINE_IN_SYNC, "a", U, 1);
	req.region = 2048;
	engine_read(e, &req, &res);
	ck_assert_int_eq(res.error, -EINVAL);
	ck_assert(res.out_of_range);
	req.region = 2047;
	engine_read(e, &req, &res);
	ck_assert(!res.out_of_range);
	req = fx_req(ENGINE_IN_SYNC, "a", U, 3); /* no such instance: -EINVAL, not a range */
	req.region = 2048;
	engine_read(e, &req, &res);
	ck_assert_int_eq(res.error, -EINVAL);
	ck_assert(!res.out_of_range);
	req = fx_req(ENGINE_CLEAR_REGION, "b", U, 2);
	req.nregions = 1;
	req.regions[0] = 1024;
	engine_check(e, &req, &res);
	ck_assert(res.out_of_range);
	req.regions[0] = 1023;
	engine_check(e, &req, &res);
	ck_assert_int_eq(res.error, 0);
	ck_assert(!res.out_of_range);
	ck_assert_msg(fx_state_equal(e, before), "engine_out_of_range changed the state");
	/* Not its business: ops without regions, a CTR, an unknown instance, node or log. */
	req = fx_req(ENGINE_GET_SYNC_COUNT, "a", U, 1);
	req.region = 99999;
	ck_assert(!engine_out_of_range(e, &req, &res));
	req = fx_req(ENGINE_FLUSH, "a", U, 1);
	ck_assert(!engine_out_of_range(e, &req, &res));
	req = fx_req(ENGINE_CTR, "a", U, 1);
	req.region = 99999;
	ck_assert(!engine_out_of_range(e, &req, &res));
	req = fx_req(ENGINE_IN_SYNC, "a", U, 3);
	req.region = 99999;
	ck_assert(!engine_out_of_range(e, &req, &res));
	req = fx_req(ENGINE_IN_SYNC, "c", U, 1);
	req.region = 99999;
	ck_assert(!engine_out_of_range(e, &req, &res));
	req = fx_req(ENGINE_IN_SYNC, "a", "LVM-other", 1);
	req.region = 99999;
	ck_assert(!engine_out_of_range(e, &req, &res));
	ck_assert_int_eq(res.error, 0);
	/* A lost instance keeps its region_count: still out of range (apply says -ESTALE). */
	ck_assert_int_eq(engine_node_lost(e, "a"), 0);
	req = fx_req(ENGINE_IN_SYNC, "a", U, 1);
	req.region = 2048;
	ck_assert(engine_out_of_range(e, &req, &res));
	req.region = 3;
	ck_assert(!engine_out_of_range(e, &req, &res));
	engine_free(before);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("query");
	TCase *tc = tcase_create("query");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, status_texts_for_every_type_and_mode);
	tcase_add_test(tc, region_size_and_sync_count_in_any_live_state);
	tcase_add_test(tc, sync_count_is_over_the_instances_own_regions);
	tcase_add_test(tc, is_clean_and_in_sync_answer_zero_or_one);
	tcase_add_test(tc, engine_read_matches_apply_and_refuses_mutations);
	tcase_add_test(tc, engine_check_answers_an_empty_flush_as_apply_would);
	tcase_add_test(tc, engine_check_answers_a_clear_as_apply_would);
	tcase_add_test(tc, reads_from_a_lost_instance_are_estale);
	tcase_add_test(tc, out_of_range_regions_are_found_per_instance);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
