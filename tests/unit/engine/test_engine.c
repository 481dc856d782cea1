/* test_engine.c: request checks common to every operation and dispatch (server/engine/engine.c). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define CC16 "64 clustered-core 4"

static struct engine *e;

static void setup(void)
{
	e = engine_new();
	ck_assert_ptr_nonnull(e);
	fx_open(e, "a", U, 1, CC16);
}

static void teardown(void)
{
	engine_free(e);
	e = NULL;
}

/* A request for op that would be valid apart from what the test changes. */
static struct engine_req valid_req(uint32_t op, const char *node, const char *uuid, uint64_t luid)
{
	struct engine_req req = fx_req(op, node, uuid, luid);

	req.args = CC16;
	req.args_len = strlen(CC16);
	req.nregions = 1;
	req.regions[0] = 2;
	req.region = 2;
	req.in_sync = true;
	return req;
}

START_TEST(unknown_ops_are_einval)
{
	static const uint32_t bad[] = { 0, 18, 255, 0x1001, UINT32_MAX };
	struct engine *before = fx_clone(e);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct engine_req req = valid_req(bad[i], "a", U, 1);
		struct engine_res res = fx_apply(e, &req);

		ck_assert_int_eq(res.error, -EINVAL);
		ck_assert(strstr(res.errmsg, "unknown operation") != NULL);
		ck_assert(!engine_op_is_read(bad[i]));
	}
	ck_assert(fx_state_equal(e, before));
	engine_free(before);
}
END_TEST

START_TEST(bad_uuids_and_node_names_are_einval_for_every_op)
{
	char long_uuid[ENGINE_UUID_MAX + 2], long_node[ENGINE_NODE_NAME_MAX + 2];
	struct engine *before = fx_clone(e);

	memset(long_uuid, 'u', sizeof(long_uuid));
	long_uuid[ENGINE_UUID_MAX + 1] = '\0';
	memset(long_node, 'n', sizeof(long_node));
	long_node[ENGINE_NODE_NAME_MAX + 1] = '\0';
	for (uint32_t op = ENGINE_CTR; op <= ENGINE_IS_REMOTE_RECOVERING; op++) {
		struct engine_req req;

		req = valid_req(op, "a", NULL, 1);
		ck_assert_int_eq(fx_apply(e, &req).error, -EINVAL);
		req = valid_req(op, "a", "", 1);
		ck_assert_int_eq(fx_apply(e, &req).error, -EINVAL);
		req = valid_req(op, "a", long_uuid, 1);
		ck_assert_int_eq(fx_apply(e, &req).error, -EINVAL);
		req = valid_req(op, NULL, U, 1);
		ck_assert_int_eq(fx_apply(e, &req).error, -EINVAL);
		req = valid_req(op, "", U, 1);
		ck_assert_int_eq(fx_apply(e, &req).error, -EINVAL);
		req = valid_req(op, long_node, U, 1);
		ck_assert_int_eq(fx_apply(e, &req).error, -EINVAL);
	}
	ck_assert(fx_state_equal(e, before));
	engine_free(before);
}
END_TEST

START_TEST(longest_uuid_and_node_name_are_accepted)
{
	char uuid[ENGINE_UUID_MAX + 1], node[ENGINE_NODE_NAME_MAX + 1];

	memset(uuid, 'u', ENGINE_UUID_MAX);
	uuid[ENGINE_UUID_MAX] = '\0';
	memset(node, 'n', ENGINE_NODE_NAME_MAX);
	node[ENGINE_NODE_NAME_MAX] = '\0';
	fx_open(e, node, uuid, 1, CC16);
	ck_assert_int_eq(fx_mark(e, node, uuid, 1, 3), 0);
	ck_assert(fx_has_mark(e, uuid, node, 3));
}
END_TEST

START_TEST(unknown_instance_is_einval_for_every_op_but_ctr)
{
	struct engine *before = fx_clone(e);

	for (uint32_t op = ENGINE_DTR; op <= ENGINE_IS_REMOTE_RECOVERING; op++) {
		struct engine_req req;
		struct engine_res res;

		req = valid_req(op, "a", "other-uuid", 1);
		res = fx_apply(e, &req);
		ck_assert_int_eq(res.error, -EINVAL);
		ck_assert_str_eq(res.errmsg, "no such log instance");
		req = valid_req(op, "a", U, 2);
		ck_assert_int_eq(fx_apply(e, &req).error, -EINVAL);
		req = valid_req(op, "b", U, 1);
		ck_assert_int_eq(fx_apply(e, &req).error, -EINVAL);
	}
	ck_assert(fx_state_equal(e, before));
	engine_free(before);
}
END_TEST

START_TEST(lost_instance_is_estale_except_for_lifecycle_ops)
{
	struct engine *before;

	fx_open(e, "b", U, 1, CC16);
	ck_assert_int_eq(engine_node_lost(e, "b"), 0);
	before = fx_clone(e);
	for (uint32_t op = ENGINE_GET_REGION_SIZE; op <= ENGINE_IS_REMOTE_RECOVERING; op++) {
		struct engine_req req = valid_req(op, "b", U, 1);

		ck_assert_int_eq(fx_apply(e, &req).error, -ESTALE);
		/* -ESTALE wins over a bad region */
		req.region = 99;
		req.regions[0] = 99;
		ck_assert_int_eq(fx_apply(e, &req).error, -ESTALE);
	}
	ck_assert(fx_state_equal(e, before));
	ck_assert_int_eq(fx_simple(e, ENGINE_PRESUSPEND, "b", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "b", U, 1), 0);
	ck_assert_int_eq(engine_node_lost(e, "b"), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "b", U, 1), 0);
	ck_assert_int_eq(engine_node_lost(e, "b"), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "b", U, 1), 0);
	ck_assert_int_eq(engine_node_lost(e, "b"), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "b", U, 1), 0);
	engine_free(before);
}
END_TEST

START_TEST(region_out_of_range_is_einval_and_changes_nothing)
{
	static const uint32_t ops[] = { ENGINE_IS_CLEAN, ENGINE_IN_SYNC, ENGINE_SET_REGION_SYNC,
					ENGINE_IS_REMOTE_RECOVERING };
	struct engine *before;

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct engine_req req = valid_req(ops[i], "a", U, 1);

		before = fx_clone(e);
		req.region = 16;
		ck_assert_int_eq(fx_apply(e, &req).error, -EINVAL);
		req.region = UINT64_MAX;
		ck_assert_int_eq(fx_apply(e, &req).error, -EINVAL);
		ck_assert(fx_state_equal(e, before));
		engine_free(before);
		req.region = 15; /* the last region is fine */
		ck_assert_int_eq(fx_apply(e, &req).error, 0);
	}
	before = fx_clone(e);
	for (uint32_t op = ENGINE_FLUSH; op <= ENGINE_CLEAR_REGION; op++) {
		struct engine_req req = valid_req(op, "a", U, 1);

		req.regions[0] = 16;
		ck_assert_int_eq(fx_apply(e, &req).error, -EINVAL);
	}
	ck_assert(fx_state_equal(e, before));
	engine_free(before);
}
END_TEST

START_TEST(read_op_classification)
{
	for (uint32_t op = ENGINE_CTR; op <= ENGINE_IS_REMOTE_RECOVERING; op++) {
		bool want = op == ENGINE_GET_REGION_SIZE || op == ENGINE_IS_CLEAN ||
			    op == ENGINE_IN_SYNC || op == ENGINE_GET_SYNC_COUNT ||
			    op == ENGINE_STATUS_INFO || op == ENGINE_STATUS_TABLE;

		ck_assert_int_eq(engine_op_is_read(op), want);
	}
}
END_TEST

START_TEST(free_null_is_a_no_op)
{
	engine_free(NULL);
}
END_TEST

START_TEST(luids_tell_instances_of_one_node_apart)
{
	ck_assert_int_eq(fx_ctr(e, "a", U, UINT64_MAX, CC16), 0);
	ck_assert_uint_eq(fx_inst_count(e, U), 2);
	ck_assert_str_eq(fx_inst_state(e, U, "a", UINT64_MAX), "pending");
	ck_assert_str_eq(fx_inst_state(e, U, "a", 1), "resumed");
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, UINT64_MAX), 0);
	ck_assert_str_eq(fx_inst_state(e, U, "a", 1), "resumed");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unknown_ops_are_einval);
	tcase_add_test(tc, bad_uuids_and_node_names_are_einval_for_every_op);
	tcase_add_test(tc, longest_uuid_and_node_name_are_accepted);
	tcase_add_test(tc, unknown_instance_is_einval_for_every_op_but_ctr);
	tcase_add_test(tc, lost_instance_is_estale_except_for_lifecycle_ops);
	tcase_add_test(tc, region_out_of_range_is_einval_and_changes_nothing);
	tcase_add_test(tc, read_op_classification);
	tcase_add_test(tc, free_null_is_a_no_op);
	tcase_add_test(tc, luids_tell_instances_of_one_node_apart);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
