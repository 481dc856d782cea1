/* test_inspect.c: the admin/test views of the engine (server/engine/inspect.c). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
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

struct text {
	char buf[512];
};

static void add_range(void *arg, uint64_t first, uint64_t last)
{
	struct text *t = arg;
	size_t n = strlen(t->buf);

	snprintf(t->buf + n, sizeof(t->buf) - n, "%llu-%llu ", (unsigned long long)first,
		 (unsigned long long)last);
}

static void add_mark(void *arg, const char *node, uint64_t region)
{
	struct text *t = arg;
	size_t n = strlen(t->buf);

	snprintf(t->buf + n, sizeof(t->buf) - n, "%s@%llu ", node, (unsigned long long)region);
}

static void add_inst(void *arg, const char *node, uint64_t luid, const char *state,
		     uint64_t region_count, uint64_t hint)
{
	struct text *t = arg;
	size_t n = strlen(t->buf);

	snprintf(t->buf + n, sizeof(t->buf) - n, "%s/%llu:%s:%llu:%llu ", node,
		 (unsigned long long)luid, state, (unsigned long long)region_count,
		 (unsigned long long)hint);
}

START_TEST(log_info_reports_geometry_counts_and_recoverer)
{
	struct engine_log_info li;

	fx_open(e, "b", U, 1, "2097152 clustered-disk 253:2 1024");
	fx_open(e, "a", U, 1, "2097152 clustered-disk 253:2 1024");
	ck_assert_int_eq(fx_work(e, "b", U, 1), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 1);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 5, true), 0);
	ck_assert_int_eq(fx_clear(e, "a", U, 1, 5), 0);
	ck_assert_int_eq(engine_log_info(e, U, &li), 0);
	ck_assert_str_eq(li.uuid, U);
	ck_assert_str_eq(li.type, "clustered-disk");
	ck_assert_str_eq(li.device, "253:2");
	ck_assert_uint_eq(li.region_size, 1024);
	ck_assert_uint_eq(li.region_count, 2048);
	ck_assert_uint_eq(li.dirty_count, 2047);
	ck_assert_uint_eq(li.sync_count, 1);
	ck_assert_str_eq(li.state, "resumed");
	ck_assert_uint_eq(li.instances, 2);
	ck_assert_uint_eq(li.assignments, 2);
	ck_assert_str_eq(li.recoverer, "b");
	ck_assert_uint_eq(li.recovering_region, 0);
	ck_assert(!li.fully_synced);
	ck_assert_int_eq(engine_log_info(e, "nope", &li), -ENOENT);
}
END_TEST

START_TEST(log_state_summary)
{
	struct engine_log_info li;

	ck_assert_int_eq(fx_ctr(e, "a", U, 1, "64 clustered-disk 253:2 4"), 0);
	ck_assert_int_eq(engine_log_info(e, U, &li), 0);
	ck_assert_str_eq(li.state, "pending");
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "a", U, 1), 0);
	ck_assert_int_eq(fx_ctr(e, "b", U, 1, "64 clustered-disk 253:2 4"), 0);
	ck_assert_int_eq(engine_log_info(e, U, &li), 0);
	ck_assert_str_eq(li.state, "resumed");
	ck_assert_int_eq(engine_node_lost(e, "a"), 0);
	ck_assert_int_eq(engine_log_info(e, U, &li), 0);
	ck_assert_str_eq(li.state, "suspended");
	ck_assert_uint_eq(li.recoverer[0], 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, 1), 0);
	ck_assert_int_eq(engine_log_info(e, U, &li), 0);
	ck_assert_str_eq(li.state, "pending");
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "b", U, 1), 0);
	ck_assert_int_eq(engine_log_info(e, U, &li), 0);
	ck_assert_str_eq(li.state, "closed");
}
END_TEST

START_TEST(logs_are_listed_in_uuid_order)
{
	static const char *const order[] = { "A", "B-1", "LVM-a", "LVM-b", "z" };
	struct engine_log_info li;

	fx_open(e, "a", "LVM-b", 1, "64 core 4");
	fx_open(e, "a", "z", 1, "64 core 4");
	fx_open(e, "a", "A", 1, "64 core 4");
	fx_open(e, "a", "LVM-a", 1, "64 core 4");
	fx_open(e, "a", "B-1", 1, "64 core 4");
	ck_assert_uint_eq(engine_log_count(e), 5);
	for (size_t i = 0; i < 5; i++) {
		ck_assert_int_eq(engine_log_info_at(e, i, &li), 0);
		ck_assert_str_eq(li.uuid, order[i]);
	}
	ck_assert_int_eq(engine_log_info_at(e, 5, &li), -ENOENT);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", "LVM-a", 1), 0);
	ck_assert_int_eq(engine_log_info_at(e, 2, &li), 0);
	ck_assert_str_eq(li.uuid, "LVM-b");
}
END_TEST

START_TEST(ranges_of_dirty_and_out_of_sync_regions)
{
	struct text t = { "" };

	fx_open(e, "a", U, 1, "64 clustered-core 4 nosync");
	ck_assert_int_eq(engine_log_ranges(e, U, true, add_range, &t), 0);
	ck_assert_str_eq(t.buf, "");
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 0), 0);
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 1), 0);
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 15), 0);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 7, false), 0);
	ck_assert_int_eq(engine_log_ranges(e, U, true, add_range, &t), 0);
	ck_assert_str_eq(t.buf, "0-1 7-7 15-15 ");
	t.buf[0] = '\0';
	ck_assert_int_eq(engine_log_ranges(e, U, false, add_range, &t), 0);
	ck_assert_str_eq(t.buf, "7-7 ");
	ck_assert_int_eq(engine_log_ranges(e, "nope", false, add_range, &t), -ENOENT);
}
END_TEST

START_TEST(marks_by_region_then_node_name)
{
	struct text t = { "" };

	/* interned in the order c, a, b: the listing still sorts by name */
	fx_open(e, "c", U, 1, "64 clustered-core 4");
	fx_open(e, "a", U, 1, "64 clustered-core 4");
	fx_open(e, "b", U, 1, "64 clustered-core 4");
	ck_assert_int_eq(fx_mark(e, "c", U, 1, 9), 0);
	ck_assert_int_eq(fx_mark(e, "b", U, 1, 9), 0);
	ck_assert_int_eq(fx_mark(e, "a", U, 1, 12), 0);
	ck_assert_int_eq(fx_mark(e, "c", U, 1, 2), 0);
	ck_assert_int_eq(engine_log_marks(e, U, add_mark, &t), 0);
	ck_assert_str_eq(t.buf, "c@2 b@9 c@9 a@12 ");
	ck_assert_int_eq(engine_log_marks(e, "nope", add_mark, &t), -ENOENT);
}
END_TEST

START_TEST(instances_by_node_name_then_luid)
{
	struct text t = { "" };

	fx_open(e, "b", U, 5, "64 clustered-core 4 nosync");
	ck_assert_int_eq(fx_ctr(e, "a", U, 9, "128 clustered-core 4"), 0);
	fx_open(e, "a", U, 2, "64 clustered-core 4");
	ck_assert_int_eq(fx_simple(e, ENGINE_PRESUSPEND, "b", U, 5), 0);
	ck_assert_int_eq(fx_region_op(e, ENGINE_IS_REMOTE_RECOVERING, "a", U, 2, 3).error, 0);
	ck_assert_int_eq(engine_log_instances(e, U, add_inst, &t), 0);
	ck_assert_str_eq(t.buf, "a/2:resumed:16:16 a/9:pending:32:0 b/5:presuspended:16:0 ");
	ck_assert_int_eq(engine_log_instances(e, "nope", add_inst, &t), -ENOENT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("inspect");
	TCase *tc = tcase_create("inspect");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, log_info_reports_geometry_counts_and_recoverer);
	tcase_add_test(tc, log_state_summary);
	tcase_add_test(tc, logs_are_listed_in_uuid_order);
	tcase_add_test(tc, ranges_of_dirty_and_out_of_sync_regions);
	tcase_add_test(tc, marks_by_region_then_node_name);
	tcase_add_test(tc, instances_by_node_name_then_luid);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
