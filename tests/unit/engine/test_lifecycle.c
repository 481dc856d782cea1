/* test_lifecycle.c: CTR, DTR, PRESUSPEND, POSTSUSPEND and RESUME (server/engine/lifecycle.c). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define CC16 "64 clustered-core 4"           /* 16 regions */
#define CD16 "64 clustered-disk 253:2 4"
#define CD32 "128 clustered-disk 253:2 4"    /* 32 regions */

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

static struct engine_log_info info(const char *uuid)
{
	struct engine_log_info li;

	ck_assert_int_eq(engine_log_info(e, uuid, &li), 0);
	return li;
}

START_TEST(ctr_creates_pending_log_out_of_sync)
{
	struct engine_log_info li;

	ck_assert_int_eq(fx_ctr(e, "a", U, 1, CC16), 0);
	li = info(U);
	ck_assert_str_eq(li.type, "clustered-core");
	ck_assert_uint_eq(li.region_count, 16);
	ck_assert_uint_eq(li.region_size, 4);
	ck_assert_uint_eq(li.sync_count, 0);
	ck_assert_uint_eq(li.dirty_count, 16);
	ck_assert_str_eq(li.state, "pending");
	ck_assert_str_eq(fx_inst_state(e, U, "a", 1), "pending");
	/* answered before RESUME, as the kernel needs */
	ck_assert_uint_eq(fx_op(e, ENGINE_GET_REGION_SIZE, "a", U, 1).value, 4);
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), 0);
}
END_TEST

START_TEST(ctr_nosync_is_all_clean_and_in_sync_sync_is_not)
{
	ck_assert_int_eq(fx_ctr(e, "a", "n", 1, "64 clustered-core 4 nosync"), 0);
	ck_assert_uint_eq(info("n").sync_count, 16);
	ck_assert_uint_eq(info("n").dirty_count, 0);
	ck_assert(fx_clean(e, "a", "n", 1, 15));
	ck_assert(fx_in_sync(e, "a", "n", 1, 0));
	ck_assert_int_eq(fx_ctr(e, "a", "s", 1, "64 clustered-core 4 sync"), 0);
	ck_assert_uint_eq(info("s").sync_count, 0);
	ck_assert(!fx_clean(e, "a", "s", 1, 0));
	ck_assert(!fx_in_sync(e, "a", "s", 1, 0));
}
END_TEST

START_TEST(ctr_returns_device_only_for_disk_v2_plus_not_reconnect)
{
	ck_assert_str_eq(fx_ctr_res(e, "a", "d3", 1, CD16, 3, false).text, "253:2");
	ck_assert_str_eq(fx_ctr_res(e, "a", "d2", 1, CD16, 2, false).text, "253:2");
	ck_assert_str_eq(fx_ctr_res(e, "a", "d1", 1, CD16, 1, false).text, "");
	ck_assert_str_eq(fx_ctr_res(e, "a", "dr", 1, CD16, 3, true).text, "");
	ck_assert_str_eq(fx_ctr_res(e, "a", "c3", 1, CC16, 3, false).text, "");
	ck_assert_str_eq(fx_ctr_res(e, "a", "k3", 1, "64 disk 8:1 4", 3, false).text, "8:1");
	ck_assert_str_eq(fx_ctr_res(e, "a", "o3", 1, "64 core 4", 3, false).text, "");
}
END_TEST

START_TEST(repeated_ctr_with_same_args_changes_nothing)
{
	struct engine *before;
	struct engine_res res;

	fx_open(e, "a", U, 1, CD16);
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 3), 0);
	before = fx_clone(e);
	res = fx_ctr_res(e, "a", U, 1, CD16, 3, false);
	ck_assert_int_eq(res.error, 0);
	ck_assert_str_eq(res.text, "253:2");
	/* the reconnect flavour: same, without the device */
	res = fx_ctr_res(e, "a", U, 1, CD16, 3, true);
	ck_assert_int_eq(res.error, 0);
	ck_assert_str_eq(res.text, "");
	ck_assert(fx_state_equal(e, before));
	ck_assert_str_eq(fx_inst_state(e, U, "a", 1), "resumed");
	engine_free(before);
}
END_TEST

START_TEST(ctr_with_other_args_on_live_instance_is_eexist)
{
	struct engine *before;

	fx_open(e, "a", U, 1, CD16);
	before = fx_clone(e);
	ck_assert_int_eq(fx_ctr(e, "a", U, 1, CD32), -EEXIST);
	ck_assert_int_eq(fx_ctr(e, "a", U, 1, "64 clustered-disk 253:2 4 nosync"), -EEXIST);
	ck_assert(fx_state_equal(e, before));
	/* also for a suspended instance */
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "a", U, 1), 0);
	ck_assert_int_eq(fx_ctr(e, "a", U, 1, CD32), -EEXIST);
	engine_free(before);
}
END_TEST

START_TEST(stale_pending_instance_is_replaced)
{
	ck_assert_int_eq(fx_ctr(e, "a", U, 7, "64 clustered-core 4"), 0);
	/* the kernel's constructor failed after CTR; the freed luid comes back with other args */
	ck_assert_int_eq(fx_ctr(e, "a", U, 7, "128 clustered-core 8"), 0);
	ck_assert_uint_eq(fx_inst_count(e, U), 1);
	ck_assert_uint_eq(fx_op(e, ENGINE_GET_REGION_SIZE, "a", U, 7).value, 8);
	ck_assert_uint_eq(info(U).region_count, 16);
	ck_assert_str_eq(fx_inst_state(e, U, "a", 7), "pending");
}
END_TEST

START_TEST(stale_pending_replacement_keeps_the_nodes_marks)
{
	fx_open(e, "a", U, 1, CD16);
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 5), 0);
	ck_assert_int_eq(fx_ctr(e, "a", U, 2, CD16), 0);
	ck_assert_int_eq(fx_ctr(e, "a", U, 2, CD32), 0);
	ck_assert(fx_has_mark(e, U, "a", 5));
	ck_assert_uint_eq(info(U).region_count, 32);
	/* a replacement that no longer fits the log fails and leaves the pending one */
	ck_assert_int_eq(fx_ctr(e, "a", U, 2, "128 clustered-disk 253:3 4"), -EINVAL);
	ck_assert_uint_eq(fx_inst_count(e, U), 2);
	ck_assert_uint_eq(info(U).region_count, 32);
}
END_TEST

START_TEST(joining_with_other_geometry_is_einval)
{
	struct engine *before;

	fx_open(e, "a", U, 1, CD16);
	before = fx_clone(e);
	ck_assert_int_eq(fx_ctr(e, "b", U, 1, "64 clustered-disk 253:2 8"), -EINVAL);
	ck_assert_int_eq(fx_ctr(e, "b", U, 1, "64 clustered-disk 253:9 4"), -EINVAL);
	ck_assert_int_eq(fx_ctr(e, "b", U, 1, "64 clustered-core 4"), -EINVAL);
	ck_assert_int_eq(fx_ctr(e, "b", U, 1, "64 disk 253:2 4"), -EINVAL);
	ck_assert(fx_state_equal(e, before)); /* node b was not even interned */
	ck_assert_int_eq(fx_ctr(e, "b", U, 1, "64 clustered-disk 253:2 4 nosync"), 0);
	engine_free(before);
}
END_TEST

START_TEST(ctr_parse_errors_change_nothing)
{
	struct engine *before = fx_clone(e);
	struct engine_res res = fx_ctr_res(e, "a", U, 1, "2097152 clustered-core 1000", 3, false);

	ck_assert_int_eq(res.error, -EINVAL);
	ck_assert(strstr(res.errmsg, "power of two") != NULL);
	ck_assert_int_eq(fx_ctr(e, "a", U, 1, "4 core 8"), -EINVAL);
	ck_assert_int_eq(fx_ctr(e, "a", U, 1, "64 clustered-core 4 sync nosync"), -EINVAL);
	ck_assert_int_eq(fx_ctr(e, "a", U, 1, "64 core 4 frob"), -EINVAL);
	ck_assert_int_eq(fx_ctr(e, "a", U, 1, "64 disk 8:1 4 frob"), -EINVAL);
	ck_assert_int_eq(fx_ctr(e, "a", U, 1, "64 clustered-core 4 a b c d"), -EINVAL);
	ck_assert_int_eq(fx_ctr(e, "a", U, 1, "64 clustered-disk 8:1"), -EINVAL);
	ck_assert_int_eq(fx_ctr(e, "a", U, 1, "0 core 2"), -EINVAL);
	ck_assert_int_eq(fx_ctr(e, "a", U, 1, "0x40 core 2"), -EINVAL);
	ck_assert_int_eq(fx_ctr(e, "a", U, 1, NULL), -EINVAL);
	ck_assert(fx_state_equal(e, before));
	ck_assert_uint_eq(engine_log_count(e), 0);
	engine_free(before);
}
END_TEST

START_TEST(core_log_is_deleted_after_last_dtr)
{
	fx_open(e, "a", U, 1, CC16);
	fx_open(e, "b", U, 1, CC16);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, 1), 0);
	ck_assert_uint_eq(engine_log_count(e), 1);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "b", U, 1), 0);
	ck_assert_uint_eq(engine_log_count(e), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "b", U, 1), -EINVAL);
	ck_assert_int_eq(fx_simple(e, ENGINE_GET_SYNC_COUNT, "b", U, 1), -EINVAL);
	/* a new CTR starts from scratch */
	fx_open(e, "a", U, 1, CC16);
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), 0);
}
END_TEST

/* Brings a 16-region disk log to: regions 0-3 in sync and clean, 4 in sync but dirty. */
static void disk_log_with_bits(const char *args)
{
	fx_open(e, "a", U, 1, args);
	for (uint64_t r = 0; r < 5; r++) {
		ck_assert_int_eq(fx_set_sync(e, "a", U, 1, r, true), 0);
		ck_assert_int_eq(fx_clear(e, "a", U, 1, r), 0);
	}
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 4), 0);
}

START_TEST(disk_log_stays_closed_after_last_dtr_and_reopens_with_bits)
{
	struct engine_log_info li;

	disk_log_with_bits(CD16);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, 1), 0);
	ck_assert_uint_eq(engine_log_count(e), 1);
	li = info(U);
	ck_assert_str_eq(li.state, "closed");
	ck_assert_uint_eq(li.instances, 0);
	ck_assert_uint_eq(li.sync_count, 5);
	ck_assert_uint_eq(li.dirty_count, 12);
	ck_assert_uint_eq(fx_mark_count(e, U), 0); /* the node's marks went, the region stays dirty */
	/* reopened by another node in the default mode: bits kept */
	ck_assert_int_eq(fx_ctr(e, "b", U, 9, CD16), 0);
	ck_assert_uint_eq(fx_sync_count(e, "b", U, 9), 5);
	ck_assert(fx_clean(e, "b", U, 9, 3));
	ck_assert(!fx_clean(e, "b", U, 9, 4));
	/* its master resume turns the dirty region out of sync */
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "b", U, 9), 0);
	ck_assert_uint_eq(fx_sync_count(e, "b", U, 9), 4);
	ck_assert(!fx_in_sync(e, "b", U, 9, 4));
	ck_assert(fx_in_sync(e, "b", U, 9, 3));
}
END_TEST

START_TEST(closed_disk_log_reopened_nosync_keeps_dirty_bits)
{
	disk_log_with_bits(CD16);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, 1), 0);
	ck_assert_int_eq(fx_ctr(e, "a", U, 2, "64 clustered-disk 253:2 4 nosync"), 0);
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 2), 5);
	ck_assert(!fx_clean(e, "a", U, 2, 7));
	ck_assert_str_eq(fx_op(e, ENGINE_STATUS_TABLE, "a", U, 2).text,
			 "clustered-disk 253:2 4 nosync ");
}
END_TEST

START_TEST(closed_disk_log_reopened_with_sync_is_recreated)
{
	disk_log_with_bits(CD16);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, 1), 0);
	ck_assert_int_eq(fx_ctr(e, "a", U, 2, "64 clustered-disk 253:2 4 sync"), 0);
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 2), 0);
	ck_assert(!fx_clean(e, "a", U, 2, 0));
}
END_TEST

START_TEST(closed_disk_log_with_other_geometry_is_recreated_other_type_rejected)
{
	disk_log_with_bits(CD16);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, 1), 0);
	ck_assert_int_eq(fx_ctr(e, "a", U, 2, "64 clustered-core 4"), -EINVAL);
	ck_assert_int_eq(fx_ctr(e, "a", U, 2, "64 disk 253:2 4"), -EINVAL);
	ck_assert_uint_eq(info(U).sync_count, 5);
	ck_assert_int_eq(fx_ctr(e, "a", U, 2, "64 clustered-disk 253:2 8"), 0);
	ck_assert_uint_eq(info(U).region_count, 8);
	ck_assert_uint_eq(info(U).sync_count, 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, 2), 0);
	ck_assert_int_eq(fx_ctr(e, "a", U, 3, "64 clustered-disk 253:7 8 nosync"), 0);
	ck_assert_str_eq(info(U).device, "253:7");
	ck_assert_uint_eq(info(U).sync_count, 8);
}
END_TEST

START_TEST(closed_disk_log_reopened_smaller_shrinks)
{
	disk_log_with_bits(CD16);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, 1), 0);
	ck_assert_int_eq(fx_ctr(e, "a", U, 2, "16 clustered-disk 253:2 4"), 0);
	ck_assert_uint_eq(info(U).region_count, 4);
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 2), 4);
}
END_TEST

START_TEST(grow_on_ctr_with_larger_len)
{
	fx_open(e, "a", U, 1, CD16);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 0, true), 0);
	ck_assert_int_eq(fx_ctr(e, "b", U, 1, CD32), 0);
	ck_assert_uint_eq(info(U).region_count, 32);
	ck_assert_uint_eq(fx_sync_count(e, "b", U, 1), 1);
	ck_assert(!fx_in_sync(e, "b", U, 1, 31));
	ck_assert(!fx_clean(e, "b", U, 1, 31));
	/* the smaller instance still sees its own 16 regions */
	ck_assert_int_eq(fx_region_op(e, ENGINE_IN_SYNC, "a", U, 1, 16).error, -EINVAL);
	/* growing under nosync: the new regions are in sync and clean */
	ck_assert_int_eq(fx_ctr(e, "c", U, 1, "192 clustered-disk 253:2 4 nosync"), 0);
	ck_assert_uint_eq(info(U).region_count, 48);
	ck_assert_uint_eq(fx_sync_count(e, "c", U, 1), 17);
	ck_assert(fx_clean(e, "c", U, 1, 47));
	ck_assert(!fx_clean(e, "c", U, 1, 31));
}
END_TEST

START_TEST(shrink_on_dtr_drops_bits_and_marks_beyond)
{
	fx_open(e, "a", U, 1, "128 clustered-disk 253:2 4 nosync");
	fx_open(e, "b", U, 1, "64 clustered-disk 253:2 4 nosync");
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 20), 0);
	ck_assert_int_eq(fx_mark(e, "b", U, 1, 3), 0);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 30, false), 0);
	ck_assert_uint_eq(info(U).sync_count, 31);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, 1), 0);
	ck_assert_uint_eq(info(U).region_count, 16);
	ck_assert_uint_eq(info(U).sync_count, 16);
	ck_assert_uint_eq(info(U).dirty_count, 1);
	ck_assert_uint_eq(fx_mark_count(e, U), 1);
	ck_assert(fx_has_mark(e, U, "b", 3));
}
END_TEST

START_TEST(shrink_drops_marks_beyond_of_a_node_that_stays)
{
	fx_open(e, "a", U, 1, "128 clustered-disk 253:2 4 nosync");
	ck_assert_int_eq(fx_ctr(e, "a", U, 2, "64 clustered-disk 253:2 4 nosync"), 0);
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 20), 0);
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 2), 0);
	ck_assert_int_eq(fx_region_op(e, ENGINE_IS_REMOTE_RECOVERING, "a", U, 1, 25).error, 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, 1), 0);
	ck_assert_uint_eq(info(U).region_count, 16);
	ck_assert_uint_eq(fx_mark_count(e, U), 1);
	ck_assert(fx_has_mark(e, U, "a", 2));
	/* growing again brings region 20 back dirty (default mode), with no stale mark */
	ck_assert_int_eq(fx_ctr(e, "a", U, 3, "128 clustered-disk 253:2 4"), 0);
	ck_assert(!fx_clean(e, "a", U, 3, 20));
	ck_assert(!fx_in_sync(e, "a", U, 3, 20));
	ck_assert_uint_eq(fx_mark_count(e, U), 1);
}
END_TEST

START_TEST(dtr_drops_marks_only_when_node_has_no_instance_left)
{
	fx_open(e, "a", U, 1, "64 clustered-disk 253:2 4 nosync");
	ck_assert_int_eq(fx_ctr(e, "a", U, 2, "64 clustered-disk 253:2 4 nosync"), 0);
	fx_open(e, "b", U, 1, "64 clustered-disk 253:2 4 nosync");
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 6), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, 1), 0);
	ck_assert(fx_has_mark(e, U, "a", 6));
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, 2), 0);
	ck_assert(!fx_has_mark(e, U, "a", 6));
	ck_assert(!fx_clean(e, "b", U, 1, 6)); /* dropped marks leave the region dirty */
	/* a later clear by anyone makes it clean again (it is in sync, nobody marks it) */
	ck_assert_int_eq(fx_clear(e, "b", U, 1, 6), 0);
	ck_assert(fx_clean(e, "b", U, 1, 6));
}
END_TEST

START_TEST(suspend_states_and_assignment_release)
{
	fx_open(e, "a", U, 1, CC16);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 0);
	ck_assert_uint_eq(info(U).assignments, 1);
	ck_assert_int_eq(fx_simple(e, ENGINE_PRESUSPEND, "a", U, 1), 0);
	ck_assert_str_eq(fx_inst_state(e, U, "a", 1), "presuspended");
	ck_assert_uint_eq(info(U).assignments, 0);
	ck_assert_str_eq(info(U).state, "suspended");
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1); /* not resumed: no work */
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "a", U, 1), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 0);  /* the cursor restarted */
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "a", U, 1), 0);
	ck_assert_str_eq(fx_inst_state(e, U, "a", 1), "suspended");
	ck_assert_uint_eq(info(U).assignments, 0);
	/* reads still work while suspended */
	ck_assert_str_eq(fx_op(e, ENGINE_STATUS_INFO, "a", U, 1).text, "1 clustered-core");
}
END_TEST

START_TEST(resume_of_resumed_instance_changes_nothing)
{
	struct engine *before;

	fx_open(e, "a", U, 1, CC16);
	fx_open(e, "b", U, 1, CC16);
	ck_assert_int_eq(fx_region_op(e, ENGINE_IS_REMOTE_RECOVERING, "a", U, 1, 3).error, 0);
	ck_assert_int_eq(fx_work(e, "b", U, 1), 3); /* from the priority list */
	ck_assert_int_eq(fx_work(e, "a", U, 1), 0);
	before = fx_clone(e);
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "a", U, 1), 0);
	ck_assert(fx_state_equal(e, before));
	engine_free(before);
}
END_TEST

START_TEST(master_resume_makes_dirty_regions_out_of_sync)
{
	fx_open(e, "a", U, 1, "64 clustered-core 4 nosync");
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 2), 0);
	ck_assert_int_eq(fx_ctr(e, "b", U, 1, "64 clustered-core 4 nosync"), 0);
	/* b's resume is not a master resume: a is resumed */
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "b", U, 1), 0);
	ck_assert(fx_in_sync(e, "b", U, 1, 2));
	ck_assert_uint_eq(fx_sync_count(e, "b", U, 1), 16);
	/* a presuspended instance still counts as live */
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "b", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_PRESUSPEND, "a", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "b", U, 1), 0);
	ck_assert_uint_eq(fx_sync_count(e, "b", U, 1), 16);
	/* with nobody else live, the next resume is a master resume */
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "a", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "b", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "b", U, 1), 0);
	ck_assert(!fx_in_sync(e, "b", U, 1, 2));
	ck_assert_uint_eq(fx_sync_count(e, "b", U, 1), 15);
	ck_assert(fx_in_sync(e, "b", U, 1, 3));
}
END_TEST

START_TEST(resume_resets_hint_and_sticky)
{
	fx_open(e, "a", U, 1, "64 clustered-core 4 nosync");
	ck_assert_uint_eq(fx_region_op(e, ENGINE_IS_REMOTE_RECOVERING, "a", U, 1, 3).value, 16);
	ck_assert_uint_eq(fx_inst_hint(e, U, "a", 1), 16);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 0, true), 0); /* full: a becomes sticky */
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 0, false), 0);
	ck_assert(fx_in_sync(e, "a", U, 1, 0));
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "a", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "a", U, 1), 0);
	ck_assert_uint_eq(fx_inst_hint(e, U, "a", 1), 0);
	ck_assert(!fx_in_sync(e, "a", U, 1, 0));
}
END_TEST

START_TEST(too_many_nodes_is_eusers)
{
	struct engine *before;
	char name[16];

	for (int i = 0; i < ENGINE_NODE_MAX; i++) {
		snprintf(name, sizeof(name), "n%02d", i);
		ck_assert_int_eq(fx_ctr(e, name, U, 1, CC16), 0);
	}
	before = fx_clone(e);
	ck_assert_int_eq(fx_ctr(e, "one-too-many", U, 1, CC16), -EUSERS);
	ck_assert_int_eq(fx_ctr(e, "one-too-many", "other", 1, CC16), -EUSERS);
	ck_assert(fx_state_equal(e, before));
	/* known nodes may still open more instances and logs */
	ck_assert_int_eq(fx_ctr(e, "n05", "other", 1, CC16), 0);
	engine_free(before);
}
END_TEST

START_TEST(too_many_logs_is_enospc)
{
	char uuid[32];

	for (int i = 0; i < ENGINE_LOG_MAX; i++) {
		snprintf(uuid, sizeof(uuid), "log-%05d", i);
		ck_assert_int_eq(fx_ctr(e, "a", uuid, 1, "2 core 2"), 0);
	}
	ck_assert_int_eq(fx_ctr(e, "a", "log-x", 1, "2 core 2"), -ENOSPC);
	ck_assert_uint_eq(engine_log_count(e), ENGINE_LOG_MAX);
	/* joining an existing log is still fine */
	ck_assert_int_eq(fx_ctr(e, "b", "log-00007", 1, "2 core 2"), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", "log-00000", 1), 0);
	ck_assert_int_eq(fx_ctr(e, "a", "log-x", 1, "2 core 2"), 0);
}
END_TEST

START_TEST(too_many_instances_is_enospc)
{
	for (uint64_t l = 0; l < ENGINE_LOG_INSTANCE_MAX; l++)
		ck_assert_int_eq(fx_ctr(e, "a", U, l, CC16), 0);
	ck_assert_int_eq(fx_ctr(e, "a", U, ENGINE_LOG_INSTANCE_MAX, CC16), -ENOSPC);
	ck_assert_uint_eq(fx_inst_count(e, U), ENGINE_LOG_INSTANCE_MAX);
	/* replacing a pending instance does not need room */
	ck_assert_int_eq(fx_ctr(e, "a", U, 5, CC16 " nosync"), 0);
}
END_TEST

START_TEST(lost_instance_allows_only_lifecycle_ops)
{
	fx_open(e, "a", U, 1, CC16);
	fx_open(e, "b", U, 1, CC16);
	ck_assert_int_eq(engine_node_lost(e, "b"), 0);
	ck_assert_str_eq(fx_inst_state(e, U, "b", 1), "lost");
	/* a repeated CTR with the same args is fine; RESUME revives */
	ck_assert_int_eq(fx_ctr(e, "b", U, 1, CC16), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_GET_SYNC_COUNT, "b", U, 1), -ESTALE);
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "b", U, 1), 0);
	ck_assert_str_eq(fx_inst_state(e, U, "b", 1), "resumed");
	ck_assert_int_eq(fx_simple(e, ENGINE_GET_SYNC_COUNT, "b", U, 1), 0);
	/* DTR of a lost instance works */
	ck_assert_int_eq(engine_node_lost(e, "b"), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "b", U, 1), 0);
	ck_assert_uint_eq(fx_inst_count(e, U), 1);
}
END_TEST

START_TEST(table_reload_sequence_keeps_marks)
{
	/* CTR(new) -> PRESUSPEND(old) -> POSTSUSPEND(old) -> RESUME(new) -> DTR(old) */
	fx_open(e, "a", U, 1, CD16);
	fx_open(e, "b", U, 1, CD16);
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 9), 0);
	ck_assert_int_eq(fx_ctr(e, "a", U, 2, CD32), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_PRESUSPEND, "a", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "a", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "a", U, 2), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, 1), 0);
	ck_assert(fx_has_mark(e, U, "a", 9));
	ck_assert_uint_eq(info(U).region_count, 32);
	ck_assert_int_eq(fx_clear(e, "a", U, 2, 9), 0);
	ck_assert_uint_eq(fx_mark_count(e, U), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc = tcase_create("lifecycle");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ctr_creates_pending_log_out_of_sync);
	tcase_add_test(tc, ctr_nosync_is_all_clean_and_in_sync_sync_is_not);
	tcase_add_test(tc, ctr_returns_device_only_for_disk_v2_plus_not_reconnect);
	tcase_add_test(tc, repeated_ctr_with_same_args_changes_nothing);
	tcase_add_test(tc, ctr_with_other_args_on_live_instance_is_eexist);
	tcase_add_test(tc, stale_pending_instance_is_replaced);
	tcase_add_test(tc, stale_pending_replacement_keeps_the_nodes_marks);
	tcase_add_test(tc, joining_with_other_geometry_is_einval);
	tcase_add_test(tc, ctr_parse_errors_change_nothing);
	tcase_add_test(tc, core_log_is_deleted_after_last_dtr);
	tcase_add_test(tc, disk_log_stays_closed_after_last_dtr_and_reopens_with_bits);
	tcase_add_test(tc, closed_disk_log_reopened_nosync_keeps_dirty_bits);
	tcase_add_test(tc, closed_disk_log_reopened_with_sync_is_recreated);
	tcase_add_test(tc, closed_disk_log_with_other_geometry_is_recreated_other_type_rejected);
	tcase_add_test(tc, closed_disk_log_reopened_smaller_shrinks);
	tcase_add_test(tc, grow_on_ctr_with_larger_len);
	tcase_add_test(tc, shrink_on_dtr_drops_bits_and_marks_beyond);
	tcase_add_test(tc, shrink_drops_marks_beyond_of_a_node_that_stays);
	tcase_add_test(tc, dtr_drops_marks_only_when_node_has_no_instance_left);
	tcase_add_test(tc, suspend_states_and_assignment_release);
	tcase_add_test(tc, resume_of_resumed_instance_changes_nothing);
	tcase_add_test(tc, master_resume_makes_dirty_regions_out_of_sync);
	tcase_add_test(tc, resume_resets_hint_and_sticky);
	tcase_add_test(tc, too_many_nodes_is_eusers);
	tcase_add_test(tc, too_many_logs_is_enospc);
	tcase_add_test(tc, too_many_instances_is_enospc);
	tcase_add_test(tc, lost_instance_allows_only_lifecycle_ops);
	tcase_add_test(tc, table_reload_sequence_keeps_marks);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
