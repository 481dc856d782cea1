/* test_resync.c: recovery coordination and node loss (server/engine/resync.c, engine.c). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"

#define CC16 "64 clustered-core 4"
#define NOSYNC16 "64 clustered-core 4 nosync"

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

static struct engine_res irr(const char *node, uint64_t r)
{
	struct engine_res res = fx_region_op(e, ENGINE_IS_REMOTE_RECOVERING, node, U, 1, r);

	ck_assert_int_eq(res.error, 0);
	return res;
}

static struct engine_log_info info(void)
{
	struct engine_log_info li;

	ck_assert_int_eq(engine_log_info(e, U, &li), 0);
	return li;
}

START_TEST(work_walks_the_out_of_sync_regions_once)
{
	fx_open(e, "a", U, 1, CC16);
	for (int64_t r = 0; r < 16; r++) {
		ck_assert_int_eq(fx_work(e, "a", U, 1), r);
		ck_assert_int_eq(fx_set_sync(e, "a", U, 1, (uint64_t)r, true), 0);
		ck_assert_int_eq(fx_clear(e, "a", U, 1, (uint64_t)r), 0); /* as the kernel does */
	}
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1);
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), 16);
	ck_assert(info().fully_synced);
	/* one pass per resume: a region falling out of sync behind the cursor waits for a writer
	 * to ask about it, or for the next resume */
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 10, false), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1);
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "a", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "a", U, 1), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 10);
}
END_TEST

START_TEST(no_work_moves_the_cursor_to_the_end)
{
	fx_open(e, "a", U, 1, NOSYNC16);
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 10, false), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1);
	ck_assert(irr("a", 10).flag);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 10);
}
END_TEST

START_TEST(region_being_recovered_is_not_queued)
{
	fx_open(e, "a", U, 1, CC16);
	fx_open(e, "b", U, 1, CC16);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 0);
	ck_assert(irr("b", 0).flag); /* being recovered: the write waits, nothing is queued */
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "a", U, 1), 0);
	/* released behind the cursor: b goes on with the next region */
	ck_assert_int_eq(fx_work(e, "b", U, 1), 1);
}
END_TEST

START_TEST(work_is_idempotent_for_the_same_instance)
{
	fx_open(e, "a", U, 1, CC16);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 0);
	ck_assert_uint_eq(info().assignments, 1);
	ck_assert_str_eq(info().recoverer, "a");
	ck_assert_uint_eq(info().recovering_region, 0);
}
END_TEST

START_TEST(exactly_one_recoverer_per_region)
{
	fx_open(e, "a", U, 1, CC16);
	fx_open(e, "b", U, 1, CC16);
	fx_open(e, "c", U, 1, CC16);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 0);
	ck_assert_int_eq(fx_work(e, "b", U, 1), 1);
	ck_assert_int_eq(fx_work(e, "c", U, 1), 2);
	ck_assert_uint_eq(info().assignments, 3);
	/* b's recovery fails: the region is free again, but behind the cursor */
	ck_assert_int_eq(fx_set_sync(e, "b", U, 1, 1, false), 0);
	ck_assert_int_eq(fx_work(e, "b", U, 1), 3);
	/* a writer asking about region 1 puts it first */
	ck_assert(irr("c", 1).flag);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 0, true), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 1);
	/* a region being recovered is not pushed again nor handed out twice */
	ck_assert(irr("c", 3).flag);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 1, true), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 4);
}
END_TEST

START_TEST(scan_skips_a_region_assigned_from_the_priority_list)
{
	fx_open(e, "a", U, 1, NOSYNC16);
	fx_open(e, "b", U, 1, NOSYNC16);
	fx_open(e, "c", U, 1, NOSYNC16);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 3, false), 0);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 5, false), 0);
	ck_assert(irr("b", 5).flag);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 5); /* from the list; the cursor stays at 0 */
	ck_assert_int_eq(fx_work(e, "c", U, 1), 3);
	ck_assert_int_eq(fx_work(e, "b", U, 1), -1); /* 5 is a's */
	ck_assert_uint_eq(info().assignments, 2);
}
END_TEST

START_TEST(set_region_sync_releases_any_holder_and_counts_once)
{
	fx_open(e, "a", U, 1, CC16);
	fx_open(e, "b", U, 1, CC16);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 0);
	/* the SET_REGION_SYNC may arrive through another node */
	ck_assert_int_eq(fx_set_sync(e, "b", U, 1, 0, true), 0);
	ck_assert_uint_eq(info().assignments, 0);
	ck_assert_int_eq(fx_set_sync(e, "b", U, 1, 0, true), 0);
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), 1);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 0, false), 0);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 0, false), 0);
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 1);
}
END_TEST

START_TEST(priority_list_is_honoured_and_keeps_the_cursor)
{
	fx_open(e, "a", U, 1, CC16);
	fx_open(e, "b", U, 1, CC16);
	ck_assert(irr("b", 9).flag);
	ck_assert(irr("b", 5).flag);
	ck_assert(irr("b", 9).flag); /* deduplicated */
	ck_assert_int_eq(fx_work(e, "a", U, 1), 9);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 9, true), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 5);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 5, true), 0);
	/* the list is empty; the cursor did not move */
	ck_assert_int_eq(fx_work(e, "a", U, 1), 0);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 0, true), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 1);
}
END_TEST

START_TEST(priority_entries_in_sync_are_dropped)
{
	fx_open(e, "a", U, 1, CC16);
	fx_open(e, "b", U, 1, CC16);
	ck_assert(irr("b", 7).flag);
	ck_assert_int_eq(fx_set_sync(e, "b", U, 1, 7, true), 0); /* drops it from the list too */
	ck_assert(irr("b", 8).flag);
	ck_assert_int_eq(fx_set_sync(e, "b", U, 1, 8, true), 0);
	ck_assert(irr("b", 10).flag);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 10);
}
END_TEST

START_TEST(priority_list_is_bounded)
{
	fx_open(e, "a", U, 1, "1024 clustered-core 4");
	fx_open(e, "b", U, 1, "1024 clustered-core 4");
	for (uint64_t r = 0; r < ENGINE_PRIORITY_MAX + 10; r++)
		ck_assert(irr("b", 255 - r).flag);
	/* the first ENGINE_PRIORITY_MAX are kept, oldest first */
	for (uint64_t r = 0; r < ENGINE_PRIORITY_MAX; r++) {
		ck_assert_int_eq(fx_work(e, "a", U, 1), (int64_t)(255 - r));
		ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 255 - r, true), 0);
	}
	ck_assert_int_eq(fx_work(e, "a", U, 1), 0);
}
END_TEST

START_TEST(hint_is_the_first_out_of_sync_region)
{
	struct engine_res res;

	fx_open(e, "a", U, 1, NOSYNC16);
	res = irr("a", 4);
	ck_assert(!res.flag);
	ck_assert_uint_eq(res.value, 16);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 11, false), 0);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 6, false), 0);
	res = irr("a", 11);
	ck_assert(res.flag);
	ck_assert_uint_eq(res.value, 6);
	ck_assert_uint_eq(fx_inst_hint(e, U, "a", 1), 6);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 6, true), 0);
	ck_assert_uint_eq(irr("a", 0).value, 11);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 11, true), 0);
	ck_assert_uint_eq(irr("a", 0).value, 16);
}
END_TEST

START_TEST(floor_keeps_regions_below_a_live_hint_unassigned)
{
	fx_open(e, "a", U, 1, NOSYNC16);
	fx_open(e, "b", U, 1, NOSYNC16);
	/* b learns that everything below 16 is in sync and will write there without asking */
	ck_assert_uint_eq(irr("b", 3).value, 16);
	/* then a's write to region 2 fails on a leg */
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 2, false), 0);
	ck_assert(irr("a", 2).flag);
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1);
	/* a presuspended b may still write with its hint */
	ck_assert_int_eq(fx_simple(e, ENGINE_PRESUSPEND, "b", U, 1), 0);
	ck_assert(irr("a", 2).flag);
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1);
	/* once b resumes again (hint 0) the region is handed out */
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "b", U, 1), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 2);
}
END_TEST

START_TEST(floor_is_lifted_when_the_hint_holder_suspends_or_is_lost)
{
	fx_open(e, "a", U, 1, NOSYNC16);
	fx_open(e, "b", U, 1, NOSYNC16);
	ck_assert_uint_eq(irr("b", 3).value, 16);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 2, false), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "b", U, 1), 0);
	ck_assert(irr("a", 2).flag); /* queued now that the floor is gone */
	ck_assert_int_eq(fx_work(e, "a", U, 1), 2);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 2, true), 0);
	/* the same with a lost node */
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "b", U, 1), 0);
	ck_assert_uint_eq(irr("b", 3).value, 16);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 4, false), 0);
	ck_assert(irr("a", 4).flag);
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1);
	ck_assert_int_eq(engine_node_lost(e, "b"), 0);
	ck_assert(irr("a", 4).flag);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 4);
}
END_TEST

/* A sticky instance's kernel saw the full count: its own hint is the region count and it
 * writes without asking IS_REMOTE_RECOVERING, so it floors every other instance's work until
 * it resumes again (or leaves, or is lost); a non-sticky instance floors only by its hint. */
START_TEST(a_sticky_instance_floors_work_at_its_region_count)
{
	fx_open(e, "a", U, 1, CC16);
	fx_open(e, "b", U, 1, CC16);
	for (uint64_t r = 0; r < 16; r++)
		ck_assert_int_eq(fx_set_sync(e, "a", U, 1, r, true), 0);
	/* both sticky now; a region goes out of sync (a leg write failed on a) */
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 9, false), 0);
	ck_assert(irr("a", 9).flag);
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1); /* b is sticky */
	ck_assert_int_eq(fx_work(e, "b", U, 1), -1); /* a is sticky */
	/* a resumes again: still floored by b; b then resumes: a gets the region */
	ck_assert_int_eq(fx_simple(e, ENGINE_PRESUSPEND, "a", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "a", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "a", U, 1), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1);
	ck_assert_int_eq(fx_simple(e, ENGINE_PRESUSPEND, "b", U, 1), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1); /* presuspended b may still write */
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "b", U, 1), 0);
	/* "no work" moved the cursor to the end: a's next write to region 9 queues it */
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1);
	ck_assert(irr("a", 9).flag);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 9);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 9, true), 0);
	/* the same floor lifted by a lost node */
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "b", U, 1), 0);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 3, true), 0); /* a no-op: already in sync */
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 4, false), 0);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 4, true), 0); /* full again: both sticky */
	ck_assert_int_eq(fx_set_sync(e, "b", U, 1, 6, false), 0);
	ck_assert_int_eq(fx_work(e, "b", U, 1), -1);
	ck_assert_int_eq(engine_node_lost(e, "a"), 0);
	ck_assert(fx_region_op(e, ENGINE_IS_REMOTE_RECOVERING, "b", U, 1, 6).flag);
	ck_assert_int_eq(fx_work(e, "b", U, 1), 6);
}
END_TEST

START_TEST(sticky_in_sync_after_full_sync_only_for_instances_resumed_then)
{
	fx_open(e, "a", U, 1, CC16);
	for (uint64_t r = 0; r < 16; r++)
		ck_assert_int_eq(fx_set_sync(e, "a", U, 1, r, true), 0);
	fx_open(e, "b", U, 1, CC16);
	ck_assert_int_eq(fx_set_sync(e, "b", U, 1, 5, false), 0);
	ck_assert(fx_in_sync(e, "a", U, 1, 5));
	ck_assert(!fx_in_sync(e, "b", U, 1, 5));
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), 15); /* the count is the truth */
	ck_assert(!fx_clean(e, "a", U, 1, 5));
}
END_TEST

START_TEST(sticky_only_for_instances_resumed_at_full_sync)
{
	fx_open(e, "a", U, 1, CC16);
	fx_open(e, "b", U, 1, CC16);
	ck_assert_int_eq(fx_ctr(e, "c", U, 1, CC16), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_PRESUSPEND, "b", U, 1), 0);
	for (uint64_t r = 0; r < 16; r++)
		ck_assert_int_eq(fx_set_sync(e, "a", U, 1, r, true), 0);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 5, false), 0);
	ck_assert(fx_in_sync(e, "a", U, 1, 5));
	ck_assert(!fx_in_sync(e, "b", U, 1, 5)); /* presuspended then */
	ck_assert(!fx_in_sync(e, "c", U, 1, 5)); /* pending then */
}
END_TEST

START_TEST(work_only_for_resumed_instances)
{
	ck_assert_int_eq(fx_ctr(e, "a", U, 1, CC16), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1);
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "a", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "a", U, 1), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1);
}
END_TEST

START_TEST(work_stays_within_the_instances_regions)
{
	fx_open(e, "a", U, 1, NOSYNC16);
	fx_open(e, "b", U, 1, "128 clustered-core 4");
	ck_assert(irr("b", 20).flag);
	/* a cannot take region 20; the entry stays for b */
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1);
	ck_assert_int_eq(fx_work(e, "b", U, 1), 20);
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1);
	ck_assert_int_eq(fx_set_sync(e, "b", U, 1, 20, true), 0);
	ck_assert_int_eq(fx_work(e, "b", U, 1), 16);
}
END_TEST

START_TEST(node_loss_drops_marks_resyncs_regions_and_frees_assignment)
{
	struct engine_res res;

	fx_open(e, "a", U, 1, NOSYNC16);
	fx_open(e, "b", U, 1, NOSYNC16);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 12, false), 0);
	ck_assert(irr("b", 12).flag);
	ck_assert_int_eq(fx_work(e, "b", U, 1), 12);
	ck_assert_int_eq(fx_mark(e, "b", U, 1, 3), 0);
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 4), 0);
	ck_assert_int_eq(fx_mark(e, "b", U, 1, 4), 0);
	ck_assert_uint_eq(info().sync_count, 15);

	ck_assert_int_eq(engine_node_lost(e, "b"), 0);
	ck_assert_str_eq(fx_inst_state(e, U, "b", 1), "lost");
	ck_assert(!fx_has_mark(e, U, "b", 3));
	ck_assert(!fx_has_mark(e, U, "b", 4));
	ck_assert(fx_has_mark(e, U, "a", 4));
	ck_assert(!fx_clean(e, "a", U, 1, 3));
	ck_assert(!fx_in_sync(e, "a", U, 1, 3));
	ck_assert(!fx_in_sync(e, "a", U, 1, 4));
	ck_assert_uint_eq(info().sync_count, 13);
	ck_assert_uint_eq(info().assignments, 0);
	res = fx_op(e, ENGINE_GET_RESYNC_WORK, "b", U, 1);
	ck_assert_int_eq(res.error, -ESTALE);
	/* another node takes over the lost node's work */
	ck_assert_int_eq(fx_work(e, "a", U, 1), 3);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 3, true), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 4);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 4, true), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 12);
	/* the lost node's requests are refused until it resumes */
	ck_assert_int_eq(fx_mark(e, "b", U, 1, 5), -ESTALE);
	ck_assert_int_eq(fx_clear(e, "b", U, 1, 5), -ESTALE);
	ck_assert_int_eq(fx_region_op(e, ENGINE_IN_SYNC, "b", U, 1, 5).error, -ESTALE);
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "b", U, 1), 0);
	ck_assert_int_eq(fx_mark(e, "b", U, 1, 5), 0);
}
END_TEST

START_TEST(node_loss_of_unknown_node_is_a_no_op)
{
	struct engine *before;

	fx_open(e, "a", U, 1, CC16);
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 3), 0);
	before = fx_clone(e);
	ck_assert_int_eq(engine_node_lost(e, "nobody"), 0);
	ck_assert_int_eq(engine_node_lost(e, NULL), 0);
	ck_assert(fx_state_equal(e, before));
	engine_free(before);
}
END_TEST

START_TEST(node_loss_covers_every_log)
{
	fx_open(e, "a", "log1", 1, NOSYNC16);
	fx_open(e, "a", "log2", 1, NOSYNC16);
	fx_open(e, "b", "log2", 1, NOSYNC16);
	ck_assert_int_eq(fx_mark(e, "a", "log1", 1, 1), 0);
	ck_assert_int_eq(fx_mark(e, "a", "log2", 1, 2), 0);
	ck_assert_int_eq(engine_node_lost(e, "a"), 0);
	ck_assert_uint_eq(fx_mark_count(e, "log1"), 0);
	ck_assert_uint_eq(fx_mark_count(e, "log2"), 0);
	ck_assert_str_eq(fx_inst_state(e, "log1", "a", 1), "lost");
	ck_assert_str_eq(fx_inst_state(e, "log2", "a", 1), "lost");
	ck_assert_str_eq(fx_inst_state(e, "log2", "b", 1), "resumed");
	ck_assert(!fx_in_sync(e, "b", "log2", 1, 2));
	ck_assert(fx_in_sync(e, "b", "log2", 1, 1));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("resync");
	TCase *tc = tcase_create("resync");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, work_walks_the_out_of_sync_regions_once);
	tcase_add_test(tc, work_is_idempotent_for_the_same_instance);
	tcase_add_test(tc, exactly_one_recoverer_per_region);
	tcase_add_test(tc, scan_skips_a_region_assigned_from_the_priority_list);
	tcase_add_test(tc, set_region_sync_releases_any_holder_and_counts_once);
	tcase_add_test(tc, priority_list_is_honoured_and_keeps_the_cursor);
	tcase_add_test(tc, priority_entries_in_sync_are_dropped);
	tcase_add_test(tc, priority_list_is_bounded);
	tcase_add_test(tc, hint_is_the_first_out_of_sync_region);
	tcase_add_test(tc, floor_keeps_regions_below_a_live_hint_unassigned);
	tcase_add_test(tc, floor_is_lifted_when_the_hint_holder_suspends_or_is_lost);
	tcase_add_test(tc, a_sticky_instance_floors_work_at_its_region_count);
	tcase_add_test(tc, sticky_in_sync_after_full_sync_only_for_instances_resumed_then);
	tcase_add_test(tc, sticky_only_for_instances_resumed_at_full_sync);
	tcase_add_test(tc, no_work_moves_the_cursor_to_the_end);
	tcase_add_test(tc, region_being_recovered_is_not_queued);
	tcase_add_test(tc, work_only_for_resumed_instances);
	tcase_add_test(tc, work_stays_within_the_instances_regions);
	tcase_add_test(tc, node_loss_drops_marks_resyncs_regions_and_frees_assignment);
	tcase_add_test(tc, node_loss_of_unknown_node_is_a_no_op);
	tcase_add_test(tc, node_loss_covers_every_log);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
