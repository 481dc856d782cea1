/* test_log.c: a log's invariant-keeping primitives (server/engine/log.c): its bits and their
 * events, resizing, the instance table and the priority list, used directly, below the engine.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "log.h"

/* Node names whose index order is not their name order (the table must sort by name). */
static const char names[4][ENGINE_NODE_NAME_MAX + 1] = { "n2", "n10", "n1", "a" };

/* ---------------------------------------------------------------- event capture */

#define MAX_EV 16

struct evlog {
	unsigned n;
	struct engine_event ev[MAX_EV];
};

static void record(void *arg, const struct engine_event *ev)
{
	struct evlog *el = arg;

	ck_assert_uint_lt(el->n, MAX_EV);
	el->ev[el->n++] = *ev;
}

static void assert_sync_ev(const struct evlog *el, unsigned i, uint64_t first, uint64_t last,
			   bool in_sync)
{
	ck_assert_uint_lt(i, el->n);
	ck_assert_int_eq(el->ev[i].kind, ENGINE_EVENT_SYNC);
	ck_assert_uint_eq(el->ev[i].first, first);
	ck_assert_uint_eq(el->ev[i].last, last);
	ck_assert(el->ev[i].in_sync == in_sync);
}

static struct log *new_log(uint64_t regions, enum ctr_mode mode)
{
	struct log *l = log_new(U, CTR_CLUSTERED_CORE, "", 1024, mode, false, regions);

	ck_assert_ptr_nonnull(l);
	return l;
}

/* sync_count and the clean-implies-in-sync invariant against the bitmaps themselves. */
static void assert_consistent(const struct log *l)
{
	uint64_t k = 0;

	for (uint64_t r = 0; r < l->region_count; r++) {
		k += bitmap_get(&l->sync, r);
		if (bitmap_get(&l->clean, r))
			ck_assert_msg(bitmap_get(&l->sync, r), "region %llu clean, not in sync",
				      (unsigned long long)r);
	}
	ck_assert_uint_eq(l->sync_count, k);
}

/* ---------------------------------------------------------------- bits */

START_TEST(new_log_starts_by_mode)
{
	struct log *a = new_log(100, CTR_MODE_NOSYNC), *b = new_log(100, CTR_MODE_DEFAULT);

	ck_assert_uint_eq(a->sync_count, 100);
	ck_assert(bitmap_get(&a->clean, 99) && bitmap_get(&a->sync, 99));
	ck_assert_uint_eq(log_low_unsynced(a), 100);
	ck_assert_uint_eq(b->sync_count, 0);
	ck_assert(!bitmap_get(&b->clean, 0) && !bitmap_get(&b->sync, 0));
	ck_assert_uint_eq(log_low_unsynced(b), 0);
	ck_assert_str_eq(a->uuid, U);
	ck_assert_uint_eq(a->uuid_hash, log_uuid_hash(U, strlen(U)));
	ck_assert_uint_eq(a->ninst, 0);
	ck_assert_uint_eq(a->nprio, 0);
	log_free(a);
	log_free(b);
	log_free(NULL);
}
END_TEST

/* sync_count is never double counted and only real changes are reported. */
START_TEST(sync_bits_count_once_and_report_changes)
{
	struct log *l = new_log(100, CTR_MODE_DEFAULT);
	struct evlog el = { 0 };
	struct log_sink sink = { record, &el, names };

	l->sink = &sink;
	log_sync_set(l, 7);
	log_sync_set(l, 7);
	ck_assert_uint_eq(l->sync_count, 1);
	log_sync_set(l, 0);
	ck_assert_uint_eq(log_low_unsynced(l), 1);
	ck_assert_uint_eq(el.n, 2);
	assert_sync_ev(&el, 0, 7, 7, true);
	assert_sync_ev(&el, 1, 0, 0, true);

	bitmap_set(&l->clean, 7); /* what a CLEAR does to an in-sync region */
	log_sync_clear(l, 7);
	log_sync_clear(l, 7);
	ck_assert_uint_eq(l->sync_count, 1);
	ck_assert(!bitmap_get(&l->clean, 7)); /* clean implies in sync */
	ck_assert_uint_eq(el.n, 3);
	assert_sync_ev(&el, 2, 7, 7, false);
	assert_consistent(l);

	/* `low` only moves down on a clear, so the first out-of-sync region is found again */
	l->sink = NULL;
	for (uint64_t r = 1; r < 100; r++)
		log_sync_set(l, r);
	ck_assert_uint_eq(log_low_unsynced(l), 100);
	log_sync_clear(l, 42);
	ck_assert_uint_eq(log_low_unsynced(l), 42);
	assert_consistent(l);
	log_free(l);
}
END_TEST

/* Master resume: every dirty region leaves sync; the changed regions are reported as runs,
 * across word boundaries and up to the last region. */
START_TEST(sync_and_clean_reports_runs)
{
	struct log *l = new_log(200, CTR_MODE_NOSYNC);
	struct evlog el = { 0 };
	struct log_sink sink = { record, &el, names };

	for (uint64_t r = 60; r <= 70; r++)
		bitmap_clear(&l->clean, r);
	bitmap_clear(&l->clean, 128);
	bitmap_clear(&l->clean, 198);
	bitmap_clear(&l->clean, 199);
	log_sync_clear(l, 5); /* already out of sync: not reported again */
	l->sink = &sink;
	log_sync_and_clean(l);
	ck_assert_uint_eq(el.n, 3);
	assert_sync_ev(&el, 0, 60, 70, false);
	assert_sync_ev(&el, 1, 128, 128, false);
	assert_sync_ev(&el, 2, 198, 199, false);
	ck_assert_uint_eq(l->sync_count, 200 - 11 - 1 - 2 - 1);
	ck_assert_uint_eq(log_low_unsynced(l), 5);
	ck_assert(!bitmap_get(&l->sync, 65) && bitmap_get(&l->sync, 71));
	assert_consistent(l);
	log_free(l);
}
END_TEST

/* ---------------------------------------------------------------- resize */

START_TEST(grow_adds_regions_by_mode)
{
	struct log *l = new_log(10, CTR_MODE_NOSYNC);
	struct evlog el = { 0 };
	struct log_sink sink = { record, &el, names };

	l->sink = &sink;
	ck_assert_int_eq(log_reserve_regions(l, 100), 0);
	log_resize(l, 100, false); /* grown under a CTR without nosync */
	ck_assert_uint_eq(l->region_count, 100);
	ck_assert_uint_eq(l->sync_count, 10);
	ck_assert(!bitmap_get(&l->sync, 10) && !bitmap_get(&l->clean, 99));
	ck_assert_uint_eq(log_low_unsynced(l), 10);
	ck_assert_int_eq(log_reserve_regions(l, 300), 0);
	log_resize(l, 300, true);
	ck_assert_uint_eq(l->sync_count, 10 + 200);
	ck_assert(bitmap_get(&l->sync, 100) && bitmap_get(&l->clean, 299));
	log_resize(l, 300, true); /* same size: nothing */
	ck_assert_uint_eq(el.n, 2);
	assert_sync_ev(&el, 0, 10, 99, false);
	assert_sync_ev(&el, 1, 100, 299, true);
	assert_consistent(l);
	log_free(l);
}
END_TEST

/* Shrinking drops everything beyond the new end: bits, marks, priority entries; it clamps the
 * cursors and reports nothing. */
START_TEST(shrink_drops_what_lies_beyond)
{
	struct log *l = new_log(300, CTR_MODE_NOSYNC);
	struct evlog el = { 0 };
	struct log_sink sink = { record, &el, names };

	log_sync_clear(l, 20);
	log_sync_clear(l, 250);
	ck_assert_int_eq(marks_reserve(&l->marks, 3), 0);
	marks_add(&l->marks, 3, 1);
	marks_add(&l->marks, 150, 1);
	marks_add(&l->marks, 299, 2);
	log_prio_push(l, 250);
	log_prio_push(l, 20);
	log_prio_push(l, 120);
	l->sync_search = 260;
	ck_assert_uint_eq(log_low_unsynced(l), 20);
	log_sync_set(l, 20);
	ck_assert_uint_eq(log_low_unsynced(l), 250);
	l->sink = &sink;

	log_resize(l, 120, false);
	ck_assert_uint_eq(el.n, 0);
	ck_assert_uint_eq(l->region_count, 120);
	ck_assert_uint_eq(l->sync_count, 120);
	ck_assert_uint_eq(l->sync_search, 120);
	ck_assert_uint_eq(log_low_unsynced(l), 120);
	ck_assert_uint_eq(l->marks.count, 1);
	ck_assert_uint_eq(marks_get(&l->marks, 3), 1);
	ck_assert_uint_eq(marks_get(&l->marks, 150), 0);
	ck_assert_uint_eq(l->nprio, 1); /* 250 and 120 are gone, 20 stays */
	ck_assert_uint_eq(l->prio[0], 20);
	assert_consistent(l);

	/* grown back, the dropped regions come back as new ones, not with their old bits */
	ck_assert_int_eq(log_reserve_regions(l, 300), 0);
	log_resize(l, 300, false);
	ck_assert(!bitmap_get(&l->sync, 200) && !bitmap_get(&l->clean, 200));
	ck_assert_uint_eq(marks_get(&l->marks, 299), 0);
	ck_assert_uint_eq(l->sync_count, 120);
	assert_consistent(l);
	log_free(l);
}
END_TEST

/* ---------------------------------------------------------------- instances */

static struct inst *add_inst(struct log *l, uint32_t node, uint64_t luid, uint64_t regions)
{
	struct inst *in = log_inst_new(node, luid, "64 clustered-core 2", 19, regions);

	ck_assert_ptr_nonnull(in);
	ck_assert_int_eq(log_inst_reserve(l), 0);
	log_inst_insert(l, in, names);
	return in;
}

/* Sorted by (node name, luid), whatever the insertion order; found through the index. */
START_TEST(instances_sorted_by_name_then_luid)
{
	struct log *l = new_log(64, CTR_MODE_NOSYNC);
	static const struct {
		uint32_t node;
		uint64_t luid;
	} order[] = { { 1, 5 }, { 0, 9 }, { 3, 1 }, { 2, 7 }, { 0, 2 }, { 1, 1 }, { 2, UINT64_MAX } };
	static const char *const want[] = { "a/1", "n1/7", "n1/18446744073709551615", "n10/1",
					    "n10/5", "n2/2", "n2/9" };
	char got[96]; /* a node name (up to 64) and a luid */

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		add_inst(l, order[i].node, order[i].luid, 32 + i);
	ck_assert_uint_eq(l->ninst, 7);
	for (uint32_t i = 0; i < l->ninst; i++) {
		snprintf(got, sizeof(got), "%s/%llu", names[l->insts[i]->node],
			 (unsigned long long)l->insts[i]->luid);
		ck_assert_str_eq(got, want[i]);
	}
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		struct inst *in = log_inst_find(l, order[i].node, order[i].luid);

		ck_assert_ptr_nonnull(in);
		ck_assert_uint_eq(in->region_count, 32 + i);
		ck_assert_str_eq(in->args, "64 clustered-core 2");
		ck_assert_int_eq(in->state, INST_PENDING);
	}
	ck_assert_ptr_null(log_inst_find(l, 0, 5));
	ck_assert_ptr_null(log_inst_find(l, 3, 2));
	ck_assert_uint_eq(log_max_inst_regions(l), 38);
	ck_assert(log_node_has_inst(l, 3));
	log_free(l);
}
END_TEST

/* The table grows by doubling up to ENGINE_LOG_INSTANCE_MAX, refuses one more, and after
 * removals finds exactly the instances that are left, in order; a removed slot is reused. */
START_TEST(instance_table_grows_to_its_limit_and_shrinks)
{
	struct log *l = new_log(64, CTR_MODE_NOSYNC);
	uint32_t caps = 0, last_cap = 0;

	for (uint64_t luid = 0; luid < ENGINE_LOG_INSTANCE_MAX; luid++) {
		add_inst(l, (uint32_t)(luid % 4), luid, 1 + luid % 64);
		if (l->inst_cap != last_cap) {
			ck_assert_uint_ge(l->inst_cap, l->ninst);
			last_cap = l->inst_cap;
			caps++;
		}
	}
	ck_assert_uint_eq(l->ninst, ENGINE_LOG_INSTANCE_MAX);
	ck_assert_uint_le(caps, 10); /* doubling: 4, 8, ..., 1024 */
	ck_assert_int_eq(log_inst_reserve(l), -ENOSPC);
	ck_assert_uint_eq(log_max_inst_regions(l), 64);

	/* remove every node-1 instance and all but one of node 3 */
	for (uint64_t luid = 0; luid < ENGINE_LOG_INSTANCE_MAX; luid++) {
		struct inst *in = log_inst_find(l, (uint32_t)(luid % 4), luid);

		ck_assert_ptr_nonnull(in);
		if (luid % 4 == 1 || (luid % 4 == 3 && luid != 3)) {
			log_inst_remove(l, in);
			log_inst_free(in);
		}
	}
	ck_assert_uint_eq(l->ninst, ENGINE_LOG_INSTANCE_MAX / 2 + 1);
	ck_assert(!log_node_has_inst(l, 1));
	ck_assert(log_node_has_inst(l, 3));
	ck_assert_ptr_null(log_inst_find(l, 1, 1));
	ck_assert_ptr_null(log_inst_find(l, 3, 7));
	ck_assert_ptr_nonnull(log_inst_find(l, 3, 3));
	ck_assert_ptr_nonnull(log_inst_find(l, 2, 1022));
	for (uint32_t i = 1; i < l->ninst; i++) {
		const struct inst *a = l->insts[i - 1], *b = l->insts[i];
		int c = strcmp(names[a->node], names[b->node]);

		ck_assert(c < 0 || (c == 0 && a->luid < b->luid));
	}
	/* room again, and the index keeps working after the reuse */
	add_inst(l, 1, 1, 3);
	ck_assert_ptr_nonnull(log_inst_find(l, 1, 1));
	ck_assert_uint_eq(log_inst_find(l, 1, 1)->region_count, 3);
	log_free(l);
}
END_TEST

/* ---------------------------------------------------------------- resync bookkeeping */

START_TEST(priority_list_is_ordered_distinct_and_bounded)
{
	struct log *l = new_log(1000, CTR_MODE_DEFAULT);

	log_prio_push(l, 30);
	log_prio_push(l, 10);
	log_prio_push(l, 30);
	log_prio_push(l, 20);
	ck_assert_uint_eq(l->nprio, 3);
	ck_assert_uint_eq(l->prio[0], 30);
	ck_assert_uint_eq(l->prio[1], 10);
	ck_assert_uint_eq(l->prio[2], 20);
	log_prio_drop(l, 10);
	log_prio_drop(l, 999); /* absent: no-op */
	ck_assert_uint_eq(l->nprio, 2);
	ck_assert_uint_eq(l->prio[0], 30);
	ck_assert_uint_eq(l->prio[1], 20);
	log_prio_remove_at(l, 0);
	ck_assert_uint_eq(l->nprio, 1);
	ck_assert_uint_eq(l->prio[0], 20);

	for (uint64_t r = 100; l->nprio < ENGINE_PRIORITY_MAX; r++)
		log_prio_push(l, r);
	log_prio_push(l, 999); /* full: dropped, the oldest stay */
	ck_assert_uint_eq(l->nprio, ENGINE_PRIORITY_MAX);
	ck_assert_uint_eq(l->prio[0], 20);
	ck_assert_uint_ne(l->prio[ENGINE_PRIORITY_MAX - 1], 999);
	log_prio_drop(l, 20);
	log_prio_push(l, 999);
	ck_assert_uint_eq(l->prio[ENGINE_PRIORITY_MAX - 1], 999);
	log_free(l);
}
END_TEST

START_TEST(release_frees_the_one_assignment)
{
	struct log *l = new_log(64, CTR_MODE_DEFAULT);
	struct inst *a = add_inst(l, 0, 1, 64), *b = add_inst(l, 1, 1, 64);

	a->assigned = true;
	a->assigned_region = 5;
	b->assigned = true;
	b->assigned_region = 0;
	ck_assert_ptr_eq(log_assignee(l, 5), a);
	ck_assert_ptr_eq(log_assignee(l, 0), b);
	ck_assert_ptr_null(log_assignee(l, 6));
	log_release_region(l, 0);
	ck_assert(!b->assigned);
	ck_assert_ptr_null(log_assignee(l, 0)); /* region 0 is not "assigned" by default */
	ck_assert(a->assigned);
	log_release_region(l, 9); /* nobody: no-op */
	ck_assert_ptr_eq(log_assignee(l, 5), a);
	log_free(l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, new_log_starts_by_mode);
	tcase_add_test(tc, sync_bits_count_once_and_report_changes);
	tcase_add_test(tc, sync_and_clean_reports_runs);
	tcase_add_test(tc, grow_adds_regions_by_mode);
	tcase_add_test(tc, shrink_drops_what_lies_beyond);
	tcase_add_test(tc, instances_sorted_by_name_then_luid);
	tcase_add_test(tc, instance_table_grows_to_its_limit_and_shrinks);
	tcase_add_test(tc, priority_list_is_ordered_distinct_and_bounded);
	tcase_add_test(tc, release_frees_the_one_assignment);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
