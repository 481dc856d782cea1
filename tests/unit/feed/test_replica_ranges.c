/* test_replica_ranges.c: the bridge's out-of-sync range sets (kernel-bridge/replica_ranges.c)
 * against a plain bit array, on random adds and removes, plus the edges by hand: merging with
 * neighbours on both sides, splitting one range in two, region 0, the bound of
 * REPLICA_RANGES_MAX (a failing change leaves the set as it was); and the count of regions in
 * the set (GET_SYNC_COUNT's local answer) through all of them. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replica_impl.h"

#define N 2000

static void check_against(const struct replica_ranges *s, const uint8_t *bits)
{
	uint64_t count = 0;

	for (size_t i = 0; i < s->n; i++) {
		ck_assert_uint_le(s->v[i].first, s->v[i].last);
		if (i > 0) /* disjoint and not adjacent */
			ck_assert_uint_gt(s->v[i].first, s->v[i - 1].last + 1);
	}
	for (uint64_t r = 0; r < N; r++) {
		ck_assert_msg(replica_ranges_has(s, r) == (bits[r] != 0), "region %llu",
			      (unsigned long long)r);
		count += bits[r] != 0;
	}
	ck_assert_uint_eq(s->count, count);
}

START_TEST(edges_by_hand)
{
	struct replica_ranges s = {0};

	ck_assert(!replica_ranges_has(&s, 0));
	ck_assert_uint_eq(s.count, 0);
	ck_assert_int_eq(replica_ranges_add(&s, 10, 19), 0);
	ck_assert_int_eq(replica_ranges_add(&s, 30, 39), 0);
	ck_assert_uint_eq(s.count, 20);
	ck_assert_int_eq(replica_ranges_add(&s, 20, 29), 0); /* bridges both: one range */
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.v[0].first, 10);
	ck_assert_uint_eq(s.v[0].last, 39);
	ck_assert_uint_eq(s.count, 30);
	ck_assert_int_eq(replica_ranges_add(&s, 5, 44), 0);  /* covers it: merges */
	ck_assert_uint_eq(s.count, 40);
	ck_assert_int_eq(replica_ranges_remove(&s, 5, 9), 0);
	ck_assert_int_eq(replica_ranges_remove(&s, 40, 44), 0);
	ck_assert_uint_eq(s.count, 30);
	ck_assert_int_eq(replica_ranges_add(&s, 12, 12), 0); /* already in: no change */
	ck_assert_uint_eq(s.count, 30);
	ck_assert_int_eq(replica_ranges_remove(&s, 15, 15), 0); /* splits */
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(s.count, 29);
	ck_assert(!replica_ranges_has(&s, 15));
	ck_assert(replica_ranges_has(&s, 14) && replica_ranges_has(&s, 16));
	ck_assert_int_eq(replica_ranges_remove(&s, 15, 15), 0); /* not in: no change */
	ck_assert_uint_eq(s.count, 29);
	ck_assert_int_eq(replica_ranges_remove(&s, 0, 12), 0);  /* trims the front */
	ck_assert_uint_eq(s.v[0].first, 13);
	ck_assert_uint_eq(s.count, 26);
	ck_assert_int_eq(replica_ranges_add(&s, 0, 0), 0);
	ck_assert(replica_ranges_has(&s, 0) && !replica_ranges_has(&s, 1));
	ck_assert_uint_eq(s.count, 27);
	ck_assert_int_eq(replica_ranges_remove(&s, 0, 1000), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_uint_eq(s.count, 0);
	replica_ranges_free(&s);
	ck_assert_uint_eq(s.count, 0);
}
END_TEST

START_TEST(count_at_the_top_of_the_region_space)
{
	struct replica_ranges s = {0};

	ck_assert_int_eq(replica_ranges_add(&s, UINT64_MAX - 9, UINT64_MAX), 0);
	ck_assert_uint_eq(s.count, 10);
	ck_assert_int_eq(replica_ranges_remove(&s, UINT64_MAX, UINT64_MAX), 0);
	ck_assert_uint_eq(s.count, 9);
	ck_assert_int_eq(replica_ranges_add(&s, 0, 4), 0);
	ck_assert_uint_eq(s.count, 14);
	ck_assert_int_eq(replica_ranges_remove(&s, 0, UINT64_MAX), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_uint_eq(s.count, 0);
	replica_ranges_free(&s);
}
END_TEST

START_TEST(the_bound_refuses_without_changing_anything)
{
	struct replica_ranges s = {0};

	for (uint64_t i = 0; i < REPLICA_RANGES_MAX; i++)
		ck_assert_int_eq(replica_ranges_add(&s, 2 * i, 2 * i), 0);
	ck_assert_uint_eq(s.n, REPLICA_RANGES_MAX);
	ck_assert_uint_eq(s.count, REPLICA_RANGES_MAX);
	ck_assert_int_eq(replica_ranges_add(&s, 2 * REPLICA_RANGES_MAX, 2 * REPLICA_RANGES_MAX),
			 -E2BIG);
	ck_assert_uint_eq(s.count, REPLICA_RANGES_MAX); /* unchanged on failure */
	/* the last range grows to three regions (merging: no new range), then splitting it
	 * would make one range too many: refused, count unchanged */
	ck_assert_int_eq(replica_ranges_add(&s, 2 * REPLICA_RANGES_MAX - 1,
					    2 * REPLICA_RANGES_MAX), 0);
	ck_assert_uint_eq(s.n, REPLICA_RANGES_MAX);
	ck_assert_uint_eq(s.count, REPLICA_RANGES_MAX + 2);
	ck_assert_int_eq(replica_ranges_remove(&s, 2 * REPLICA_RANGES_MAX - 1,
					       2 * REPLICA_RANGES_MAX - 1), -E2BIG);
	ck_assert_uint_eq(s.count, REPLICA_RANGES_MAX + 2);
	ck_assert_int_eq(replica_ranges_add(&s, 2, 2), 0); /* already in: no growth */
	ck_assert_int_eq(replica_ranges_remove(&s, 0, 0), 0);
	ck_assert_int_eq(replica_ranges_add(&s, 0, 2), 0);  /* merges 0..2 back */
	ck_assert_uint_eq(s.n, REPLICA_RANGES_MAX - 1);
	ck_assert_uint_eq(s.count, REPLICA_RANGES_MAX + 3);
	ck_assert(replica_ranges_has(&s, 1));
	replica_ranges_free(&s);
}
END_TEST

START_TEST(random_changes_match_a_bit_array)
{
	static uint8_t bits[N];
	struct replica_ranges s = {0};
	uint64_t x = 12345;

	memset(bits, 0, sizeof(bits));
	for (int i = 0; i < 20000; i++) {
		uint64_t a, b, t;
		bool add;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		a = x % N;
		b = (x >> 20) % (i % 7 == 0 ? N : 8) + a;
		if (b >= N)
			b = N - 1;
		add = (x >> 40) & 1;
		if (a > b) {
			t = a;
			a = b;
			b = t;
		}
		ck_assert_int_eq(add ? replica_ranges_add(&s, a, b) : replica_ranges_remove(&s, a, b),
				 0);
		memset(bits + a, add, b - a + 1);
		if (i % 97 == 0)
			check_against(&s, bits);
	}
	check_against(&s, bits);
	replica_ranges_free(&s);
}
END_TEST

static Suite *ranges_suite(void)
{
	Suite *s = suite_create("replica_ranges");
	TCase *tc = tcase_create("ranges");

	tcase_add_test(tc, edges_by_hand);
	tcase_add_test(tc, count_at_the_top_of_the_region_space);
	tcase_add_test(tc, the_bound_refuses_without_changing_anything);
	tcase_add_test(tc, random_changes_match_a_bit_array);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ranges_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
