/* test_huge.c: the engine at its size limits (2^31-region logs and the memory they keep
 * resident, a full marks table). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fixture.h"

#define R31 (UINT64_C(1) << 31)

/* Resident memory a log may add per region, in tenths of a bit: the two bitmaps (2 bits) plus
 * 10% for everything else. (Measured: 512 MiB for 2^31 regions, also under AddressSanitizer,
 * whose shadow of a fresh calloc'ed block is not made resident by the fill.) */
#define DECIBITS_PER_REGION 22

/* This process's resident set size in bytes, from /proc/self/statm (its second field, in
 * pages). Read before and after an allocation, unlike getrusage()'s peak, it shows what the
 * allocation itself keeps resident. */
static uint64_t rss_bytes(void)
{
	unsigned long long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%llu %llu", &size, &resident), 2);
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

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

START_TEST(log_of_2_pow_31_regions_nosync)
{
	struct engine_res res;
	struct engine *c;
	uint64_t rss0, rss1;

	/* nosync sets every bit of both bitmaps to one, so every page of them is resident: the
	 * worst case for the memory promise of about 2 bits per region */
	rss0 = rss_bytes();
	fx_open(e, "a", U, 1, "4294967296 clustered-core 2 nosync");
	rss1 = rss_bytes();
	ck_assert_msg(rss1 - rss0 <= R31 * DECIBITS_PER_REGION / 80,
		      "a nosync log of 2^31 regions made %llu MiB resident, more than %u/10 bits "
		      "per region (%llu MiB)", (unsigned long long)((rss1 - rss0) >> 20),
		      DECIBITS_PER_REGION,
		      (unsigned long long)((R31 * DECIBITS_PER_REGION / 80) >> 20));
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), R31);
	ck_assert(fx_in_sync(e, "a", U, 1, R31 - 1));
	ck_assert(fx_clean(e, "a", U, 1, R31 - 1));
	ck_assert_int_eq(fx_region_op(e, ENGINE_IN_SYNC, "a", U, 1, R31).error, -EINVAL);
	ck_assert_int_eq(fx_mark(e, "a", U, 1, R31 - 1), 0);
	ck_assert(!fx_clean(e, "a", U, 1, R31 - 1));
	ck_assert_int_eq(fx_clear(e, "a", U, 1, R31 - 1), 0);
	ck_assert(fx_clean(e, "a", U, 1, R31 - 1));
	ck_assert_int_eq(fx_work(e, "a", U, 1), -1);
	res = fx_region_op(e, ENGINE_IS_REMOTE_RECOVERING, "a", U, 1, 5);
	ck_assert(!res.flag);
	ck_assert_uint_eq(res.value, R31);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, R31 / 2 + 3, false), 0);
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), R31 - 1);
	res = fx_region_op(e, ENGINE_IS_REMOTE_RECOVERING, "a", U, 1, 5);
	ck_assert_uint_eq(res.value, R31 / 2 + 3);
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "a", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "a", U, 1), 0);
	ck_assert_int_eq(fx_work(e, "a", U, 1), (int64_t)(R31 / 2 + 3));
	/* the snapshot of a mostly uniform huge log is small, and restores */
	{
		size_t len;
		uint8_t *s = fx_snapshot(e, &len);

		ck_assert_uint_lt(len, 1024);
		free(s);
	}
	c = fx_clone(e);
	ck_assert(fx_state_equal(e, c));
	engine_free(c);
}
END_TEST

START_TEST(log_of_2_pow_31_regions_default)
{
	struct engine_res res;
	struct engine_log_info li;

	fx_open(e, "a", U, 1, "4294967296 clustered-disk 253:2 2");
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), 0);
	ck_assert(!fx_in_sync(e, "a", U, 1, R31 - 1));
	ck_assert_int_eq(fx_work(e, "a", U, 1), 0);
	res = fx_region_op(e, ENGINE_IS_REMOTE_RECOVERING, "a", U, 1, R31 - 1);
	ck_assert(res.flag);
	ck_assert_uint_eq(res.value, 0);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, 0, true), 0);
	ck_assert_int_eq(fx_set_sync(e, "a", U, 1, R31 - 1, true), 0);
	ck_assert_uint_eq(fx_sync_count(e, "a", U, 1), 2);
	ck_assert_int_eq(fx_work(e, "a", U, 1), 1);
	ck_assert_int_eq(engine_log_info(e, U, &li), 0);
	ck_assert_uint_eq(li.region_count, R31);
	ck_assert_uint_eq(li.dirty_count, R31);
	ck_assert_uint_eq(li.sync_count, 2);
	/* the last instance goes: the disk log stays with its bits */
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "a", U, 1), 0);
	ck_assert_int_eq(engine_log_info(e, U, &li), 0);
	ck_assert_uint_eq(li.sync_count, 2);
}
END_TEST

START_TEST(marks_table_is_bounded_per_log)
{
	uint64_t list[ENGINE_REGIONS_MAX];
	uint64_t next = 0;

	fx_open(e, "a", U, 1, "16777216 clustered-core 2 nosync"); /* 2^23 regions */
	fx_open(e, "b", U, 1, "16777216 clustered-core 2 nosync");
	while (next < ENGINE_MARKS_MAX) {
		for (uint32_t i = 0; i < ENGINE_REGIONS_MAX; i++)
			list[i] = next++;
		ck_assert_int_eq(fx_regions(e, ENGINE_MARK_REGION, "a", U, 1, ENGINE_REGIONS_MAX, list), 0);
	}
	/* a batch with one region too many fails whole (the state is checked region by region,
	 * a snapshot comparison of 4M marks would dominate the run time) */
	list[0] = 0;
	list[1] = ENGINE_MARKS_MAX;
	ck_assert_int_eq(fx_regions(e, ENGINE_MARK_REGION, "a", U, 1, 2, list), -ENOSPC);
	ck_assert_int_eq(fx_regions(e, ENGINE_FLUSH, "b", U, 1, 2, list), -ENOSPC);
	ck_assert(fx_clean(e, "a", U, 1, ENGINE_MARKS_MAX));
	ck_assert_int_eq(fx_clear(e, "b", U, 1, 0), 0);
	ck_assert(!fx_clean(e, "a", U, 1, 0)); /* b's failed FLUSH left no mark on 0: a's stays */
	/* marking regions already in the table still works, by any node */
	ck_assert_int_eq(fx_mark(e, "b", U, 1, 7), 0);
	ck_assert_int_eq(fx_clear(e, "a", U, 1, 7), 0);
	ck_assert(!fx_clean(e, "a", U, 1, 7));
	/* freeing one entry makes room for exactly one new region */
	ck_assert_int_eq(fx_clear(e, "a", U, 1, 8), 0);
	ck_assert(fx_clean(e, "a", U, 1, 8));
	ck_assert_int_eq(fx_mark(e, "b", U, 1, ENGINE_MARKS_MAX), 0);
	ck_assert_int_eq(fx_mark(e, "b", U, 1, ENGINE_MARKS_MAX + 1), -ENOSPC);
	ck_assert(fx_clean(e, "a", U, 1, ENGINE_MARKS_MAX + 1));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("huge");
	TCase *tc = tcase_create("huge");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, log_of_2_pow_31_regions_nosync);
	tcase_add_test(tc, log_of_2_pow_31_regions_default);
	tcase_add_test(tc, marks_table_is_bounded_per_log);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
