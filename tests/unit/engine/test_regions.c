/* test_regions.c: MARK_REGION, CLEAR_REGION and FLUSH (server/engine/regions.c), and which
 * instance states may send them and the other mutations a kernel sends outside RESUME. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define NOSYNC16 "64 clustered-core 4 nosync"

static struct engine *e;

static void setup(void)
{
	e = engine_new();
	ck_assert_ptr_nonnull(e);
	fx_open(e, "a", U, 1, NOSYNC16);
	fx_open(e, "b", U, 1, NOSYNC16);
}

static void teardown(void)
{
	engine_free(e);
	e = NULL;
}

START_TEST(mark_makes_dirty_clear_makes_clean)
{
	ck_assert(fx_clean(e, "a", U, 1, 4));
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 4), 0);
	ck_assert(!fx_clean(e, "a", U, 1, 4));
	ck_assert(!fx_clean(e, "b", U, 1, 4)); /* cluster-wide */
	ck_assert(fx_in_sync(e, "a", U, 1, 4));  /* marking does not touch sync */
	ck_assert_int_eq(fx_clear(e, "a", U, 1, 4), 0);
	ck_assert(fx_clean(e, "a", U, 1, 4));
	ck_assert_uint_eq(fx_mark_count(e, U), 0);
}
END_TEST

START_TEST(clean_only_after_every_marking_node_cleared)
{
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 7), 0);
	ck_assert_int_eq(fx_mark(e, "b", U, 1, 7), 0);
	ck_assert_int_eq(fx_clear(e, "a", U, 1, 7), 0);
	ck_assert(!fx_clean(e, "a", U, 1, 7));
	ck_assert(fx_has_mark(e, U, "b", 7));
	ck_assert(!fx_has_mark(e, U, "a", 7));
	ck_assert_int_eq(fx_clear(e, "b", U, 1, 7), 0);
	ck_assert(fx_clean(e, "a", U, 1, 7));
}
END_TEST

START_TEST(marks_are_per_node_sets_and_idempotent)
{
	uint64_t twice[3] = { 2, 2, 2 };

	ck_assert_int_eq(fx_regions(e, ENGINE_MARK_REGION, "a", U, 1, 3, twice), 0);
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 2), 0);
	ck_assert_uint_eq(fx_mark_count(e, U), 1);
	/* one clear undoes any number of marks from that node */
	ck_assert_int_eq(fx_clear(e, "a", U, 1, 2), 0);
	ck_assert(fx_clean(e, "a", U, 1, 2));
	/* a repeated clear is harmless */
	ck_assert_int_eq(fx_clear(e, "a", U, 1, 2), 0);
	ck_assert(fx_clean(e, "a", U, 1, 2));
}
END_TEST

START_TEST(marks_are_per_node_not_per_instance)
{
	ck_assert_int_eq(fx_ctr(e, "a", U, 2, NOSYNC16), 0);
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 3), 0);
	ck_assert_int_eq(fx_clear(e, "a", U, 2, 3), 0);
	ck_assert(fx_clean(e, "a", U, 1, 3));
}
END_TEST

START_TEST(clear_of_out_of_sync_region_stays_dirty)
{
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 9, false), 0);
	ck_assert(!fx_clean(e, "a", U, 1, 9)); /* out of sync implies dirty */
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 9), 0);
	ck_assert_int_eq(fx_clear(e, "a", U, 1, 9), 0);
	ck_assert(!fx_clean(e, "a", U, 1, 9));
	/* recovered, then the kernel's clear makes it clean */
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 9, true), 0);
	ck_assert(!fx_clean(e, "a", U, 1, 9));
	ck_assert_int_eq(fx_clear(e, "a", U, 1, 9), 0);
	ck_assert(fx_clean(e, "a", U, 1, 9));
}
END_TEST

START_TEST(list_with_one_bad_region_changes_nothing)
{
	uint64_t list[4] = { 1, 2, 16, 3 };
	struct engine *before;

	ck_assert_int_eq(fx_mark(e, "a", U, 1, 5), 0);
	before = fx_clone(e);
	ck_assert_int_eq(fx_regions(e, ENGINE_MARK_REGION, "a", U, 1, 4, list), -EINVAL);
	ck_assert_int_eq(fx_regions(e, ENGINE_FLUSH, "a", U, 1, 4, list), -EINVAL);
	list[2] = 5;
	list[3] = UINT64_MAX;
	ck_assert_int_eq(fx_regions(e, ENGINE_CLEAR_REGION, "a", U, 1, 4, list), -EINVAL);
	ck_assert(fx_state_equal(e, before));
	ck_assert(fx_clean(e, "a", U, 1, 1));
	ck_assert(fx_has_mark(e, U, "a", 5));
	engine_free(before);
}
END_TEST

START_TEST(region_counts_zero_and_too_many)
{
	uint64_t list[ENGINE_REGIONS_MAX + 1] = { 0 };
	struct engine *before = fx_clone(e);

	ck_assert_int_eq(fx_regions(e, ENGINE_MARK_REGION, "a", U, 1, 0, list), -EINVAL);
	ck_assert_int_eq(fx_regions(e, ENGINE_CLEAR_REGION, "a", U, 1, 0, list), -EINVAL);
	ck_assert_int_eq(fx_regions(e, ENGINE_MARK_REGION, "a", U, 1, ENGINE_REGIONS_MAX + 1, list),
			 -EINVAL);
	ck_assert_int_eq(fx_regions(e, ENGINE_FLUSH, "a", U, 1, ENGINE_REGIONS_MAX + 1, list),
			 -EINVAL);
	/* a FLUSH without marks is a plain commit point */
	ck_assert_int_eq(fx_regions(e, ENGINE_FLUSH, "a", U, 1, 0, list), 0);
	ck_assert(fx_state_equal(e, before));
	engine_free(before);
}
END_TEST

START_TEST(flush_with_marks_marks_for_the_sender)
{
	uint64_t list[ENGINE_REGIONS_MAX];

	for (uint32_t i = 0; i < ENGINE_REGIONS_MAX; i++)
		list[i] = i % 16;
	ck_assert_int_eq(fx_regions(e, ENGINE_FLUSH, "b", U, 1, ENGINE_REGIONS_MAX, list), 0);
	ck_assert_uint_eq(fx_mark_count(e, U), 16);
	ck_assert(fx_has_mark(e, U, "b", 15));
	ck_assert(!fx_clean(e, "a", U, 1, 0));
	ck_assert_int_eq(fx_regions(e, ENGINE_CLEAR_REGION, "b", U, 1, 16, list), 0);
	ck_assert_uint_eq(fx_mark_count(e, U), 0);
	ck_assert(fx_clean(e, "a", U, 1, 0));
}
END_TEST

START_TEST(regions_checked_against_the_instance_not_the_log)
{
	ck_assert_int_eq(fx_ctr(e, "c", U, 1, "128 clustered-core 4 nosync"), 0);
	ck_assert_int_eq(fx_mark(e, "c", U, 1, 20), 0);
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 20), -EINVAL);
	ck_assert_int_eq(fx_clear(e, "a", U, 1, 20), -EINVAL);
}
END_TEST

/* Puts instance ("c", 1) of U into the state named (as fx_inst_state() names it). */
static void c_into(const char *state)
{
	if (strcmp(state, "pending") == 0) {
		ck_assert_int_eq(fx_ctr(e, "c", U, 1, NOSYNC16), 0);
	} else {
		fx_open(e, "c", U, 1, NOSYNC16);
		if (strcmp(state, "lost") == 0) {
			ck_assert_int_eq(engine_node_lost(e, "c"), 0);
		} else {
			ck_assert_int_eq(fx_simple(e, ENGINE_PRESUSPEND, "c", U, 1), 0);
			if (strcmp(state, "suspended") == 0)
				ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "c", U, 1), 0);
		}
	}
	ck_assert_str_eq(fx_inst_state(e, U, "c", 1), state);
}

/* The kernel sends MARK, CLEAR, FLUSH, SET_REGION_SYNC and IS_REMOTE_RECOVERING while its
 * instance is not resumed (in-flight writes and recovery during a suspend, the first I/O right
 * after CTR); where cmirrord answers -ENOENT the engine applies them, with their usual effect.
 * _i = 0, 1, 2: pending (CTR only), presuspended, suspended (POSTSUSPEND). */
static const char *const idle_state[] = { "pending", "presuspended", "suspended" };

START_TEST(mutations_accepted_while_not_resumed)
{
	const char *state = idle_state[_i];
	uint64_t flush[2] = { 4, 5 }, all[3] = { 3, 4, 5 };
	struct engine_res res;

	c_into(state);
	ck_assert_int_eq(fx_mark(e, "c", U, 1, 3), 0);
	ck_assert(fx_has_mark(e, U, "c", 3));
	ck_assert(!fx_clean(e, "a", U, 1, 3));
	ck_assert_int_eq(fx_regions(e, ENGINE_FLUSH, "c", U, 1, 2, flush), 0);
	ck_assert(fx_has_mark(e, U, "c", 4) && fx_has_mark(e, U, "c", 5));
	ck_assert_int_eq(fx_regions(e, ENGINE_CLEAR_REGION, "c", U, 1, 3, all), 0);
	ck_assert_uint_eq(fx_mark_count(e, U), 0);
	ck_assert(fx_clean(e, "a", U, 1, 3) && fx_clean(e, "a", U, 1, 5));

	/* recovery reported by c counts cluster-wide */
	ck_assert_int_eq(fx_set_sync(e, "c", U, 1, 2, false), 0);
	ck_assert_int_eq(fx_set_sync(e, "c", U, 1, 9, false), 0);
	ck_assert(!fx_in_sync(e, "a", U, 1, 9));
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), 14);
	ck_assert_int_eq(fx_set_sync(e, "c", U, 1, 2, true), 0);
	ck_assert(fx_in_sync(e, "a", U, 1, 2));
	ck_assert_int_eq(fx_set_sync(e, "c", U, 1, 2, false), 0);

	/* c's question puts 9 on the priority list: a is handed 9 before the lower 2 */
	res = fx_region_op(e, ENGINE_IS_REMOTE_RECOVERING, "c", U, 1, 9);
	ck_assert_int_eq(res.error, 0);
	ck_assert(res.flag);
	ck_assert_uint_eq(res.value, 2);
	ck_assert_uint_eq(fx_inst_hint(e, U, "c", 1), 2);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 9);
	ck_assert_str_eq(fx_inst_state(e, U, "c", 1), state); /* none of it resumed c */
}
END_TEST

/* The same five from a lost instance: -ESTALE, nothing changes (its kernel must resume first). */
START_TEST(mutations_refused_when_lost)
{
	uint64_t list[2] = { 4, 5 };
	struct engine *before;
	struct engine_res res;

	c_into("lost");
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 9, false), 0);
	before = fx_clone(e);
	ck_assert_int_eq(fx_mark(e, "c", U, 1, 3), -ESTALE);
	ck_assert_int_eq(fx_regions(e, ENGINE_FLUSH, "c", U, 1, 2, list), -ESTALE);
	ck_assert_int_eq(fx_regions(e, ENGINE_CLEAR_REGION, "c", U, 1, 2, list), -ESTALE);
	ck_assert_int_eq(fx_set_sync(e, "c", U, 1, 9, true), -ESTALE);
	ck_assert_int_eq(fx_set_sync(e, "c", U, 1, 2, false), -ESTALE);
	res = fx_region_op(e, ENGINE_IS_REMOTE_RECOVERING, "c", U, 1, 9);
	ck_assert_int_eq(res.error, -ESTALE);
	ck_assert(!res.flag);
	ck_assert(fx_state_equal(e, before));
	engine_free(before);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("regions");
	TCase *tc = tcase_create("regions");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, mark_makes_dirty_clear_makes_clean);
	tcase_add_test(tc, clean_only_after_every_marking_node_cleared);
	tcase_add_test(tc, marks_are_per_node_sets_and_idempotent);
	tcase_add_test(tc, marks_are_per_node_not_per_instance);
	tcase_add_test(tc, clear_of_out_of_sync_region_stays_dirty);
	tcase_add_test(tc, list_with_one_bad_region_changes_nothing);
	tcase_add_test(tc, region_counts_zero_and_too_many);
	tcase_add_test(tc, flush_with_marks_marks_for_the_sender);
	tcase_add_test(tc, regions_checked_against_the_instance_not_the_log);
	tcase_add_loop_test(tc, mutations_accepted_while_not_resumed, 0,
			    (int)(sizeof(idle_state) / sizeof(idle_state[0])));
	tcase_add_test(tc, mutations_refused_when_lost);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
