/* test_marks.c: the region -> node-mask hash table (server/engine/marks.c). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "marks.h"

START_TEST(add_get_remove)
{
	struct marks m;

	marks_init(&m, 100);
	ck_assert_uint_eq(marks_get(&m, 7), 0);
	ck_assert_uint_eq(marks_remove(&m, 7, 1), 0); /* absent: no-op on an empty table */
	ck_assert_int_eq(marks_reserve(&m, 2), 0);
	marks_add(&m, 7, 1);
	marks_add(&m, 7, 4);
	marks_add(&m, 9, 2);
	ck_assert_uint_eq(m.count, 2);
	ck_assert_uint_eq(marks_get(&m, 7), 5);
	ck_assert_uint_eq(marks_remove(&m, 7, 1), 4);
	ck_assert_uint_eq(marks_remove(&m, 7, 8), 4); /* a bit that is not there */
	ck_assert_uint_eq(marks_remove(&m, 7, 4), 0);
	ck_assert_uint_eq(marks_get(&m, 7), 0);
	ck_assert_uint_eq(m.count, 1);
	ck_assert_uint_eq(marks_get(&m, 9), 2);
	marks_free(&m);
}
END_TEST

START_TEST(reserve_enforces_limit_without_change)
{
	struct marks m;

	marks_init(&m, 3);
	ck_assert_int_eq(marks_reserve(&m, 4), -ENOSPC);
	ck_assert_int_eq(marks_reserve(&m, 3), 0);
	marks_add(&m, 1, 1);
	marks_add(&m, 2, 1);
	ck_assert_int_eq(marks_reserve(&m, 2), -ENOSPC);
	ck_assert_uint_eq(m.count, 2);
	ck_assert_int_eq(marks_reserve(&m, 1), 0);
	ck_assert_int_eq(marks_reserve(&m, (size_t)-1), -ENOSPC);
	marks_free(&m);
}
END_TEST

/* A fixed-seed generator, so the test is reproducible. */
static uint64_t next(uint64_t *s)
{
	*s = *s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return *s >> 33;
}

static size_t calls;

static void count_call(void *arg, uint64_t region)
{
	(void)arg;
	(void)region;
	calls++;
}

START_TEST(random_ops_match_a_plain_array)
{
	enum { N = 3000 };
	static uint64_t ref[N];
	struct marks m;
	uint64_t seed = 42;

	memset(ref, 0, sizeof(ref));
	marks_init(&m, N);
	for (int step = 0; step < 200000; step++) {
		uint64_t r = next(&seed) % N, bit = UINT64_C(1) << (next(&seed) % 4);

		if (next(&seed) % 3) {
			ck_assert_int_eq(marks_reserve(&m, 1), 0);
			marks_add(&m, r, bit);
			ref[r] |= bit;
		} else {
			ck_assert_uint_eq(marks_remove(&m, r, bit), ref[r] & ~bit);
			ref[r] &= ~bit;
		}
		if (step % 5000 == 0)
			marks_compact(&m);
		if (step % 7919 == 0) {
			uint64_t drop = UINT64_C(1) << (next(&seed) % 4);
			size_t want = 0;

			calls = 0;
			for (uint64_t x = 0; x < N; x++) {
				want += (ref[x] & drop) != 0;
				ref[x] &= ~drop;
			}
			marks_drop_node(&m, drop, count_call, NULL);
			ck_assert_uint_eq(calls, want);
		}
	}
	size_t count = 0;

	for (uint64_t r = 0; r < N; r++) {
		ck_assert_uint_eq(marks_get(&m, r), ref[r]);
		count += ref[r] != 0;
	}
	ck_assert_uint_eq(m.count, count);
	marks_free(&m);
}
END_TEST

struct seen {
	uint64_t regions[64];
	int n;
};

static void record(void *arg, uint64_t region)
{
	struct seen *s = arg;

	s->regions[s->n++] = region;
}

START_TEST(drop_node_clears_bit_everywhere)
{
	struct marks m;
	struct marks_entry *v;

	/* 600 sequential regions fill the table enough for long probe runs and wrap-around. */
	marks_init(&m, 1000);
	ck_assert_int_eq(marks_reserve(&m, 600), 0);
	for (uint64_t r = 0; r < 600; r++)
		marks_add(&m, r, r % 3 == 0 ? 2 : r % 3 == 1 ? 3 : 1);
	marks_drop_node(&m, 2, NULL, NULL);
	ck_assert_uint_eq(m.count, 400); /* regions r % 3 == 0 had only bit 2 */
	for (uint64_t r = 0; r < 600; r++)
		ck_assert_uint_eq(marks_get(&m, r), r % 3 == 0 ? 0 : 1);
	ck_assert_int_eq(marks_sorted(&m, &v), 0);
	for (size_t i = 0; i < m.count; i++) {
		ck_assert_uint_eq(v[i].mask, 1);
		if (i)
			ck_assert_uint_lt(v[i - 1].region, v[i].region);
	}
	free(v);
	marks_free(&m);
}
END_TEST

START_TEST(drop_node_callback_sees_exactly_the_marked_regions)
{
	struct marks m;
	struct seen s = { .n = 0 };
	uint64_t want = 0;

	marks_init(&m, 1000);
	ck_assert_int_eq(marks_reserve(&m, 40), 0);
	for (uint64_t r = 0; r < 40; r++)
		marks_add(&m, r * 1000003, r % 2 ? 8 : 8 | 16);
	marks_drop_node(&m, 16, record, &s);
	ck_assert_int_eq(s.n, 20);
	for (int i = 0; i < s.n; i++) {
		ck_assert_uint_eq(s.regions[i] % 1000003, 0);
		ck_assert_uint_eq((s.regions[i] / 1000003) % 2, 0);
		want += s.regions[i] / 1000003;
	}
	ck_assert_uint_eq(want, 2 * (0 + 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11 + 12 + 13 + 14 + 15 +
				     16 + 17 + 18 + 19));
	ck_assert_uint_eq(m.count, 40);
	s.n = 0;
	marks_drop_node(&m, 8, record, &s);
	ck_assert_int_eq(s.n, 40);
	ck_assert_uint_eq(m.count, 0);
	marks_free(&m);
}
END_TEST

START_TEST(drop_from_removes_high_regions)
{
	struct marks m;

	marks_init(&m, 1000);
	ck_assert_int_eq(marks_reserve(&m, 500), 0);
	for (uint64_t r = 0; r < 500; r++)
		marks_add(&m, r, 1);
	marks_drop_from(&m, 123);
	ck_assert_uint_eq(m.count, 123);
	ck_assert_uint_eq(marks_get(&m, 122), 1);
	ck_assert_uint_eq(marks_get(&m, 123), 0);
	marks_compact(&m);
	ck_assert_uint_le(m.cap, 512);
	for (uint64_t r = 0; r < 123; r++)
		ck_assert_uint_eq(marks_get(&m, r), 1);
	marks_free(&m);
}
END_TEST

START_TEST(sorted_copy_orders_by_region)
{
	struct marks m;
	struct marks_entry *v;

	marks_init(&m, 100);
	ck_assert_int_eq(marks_sorted(&m, &v), 0);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(marks_reserve(&m, 3), 0);
	marks_add(&m, 50, 1);
	marks_add(&m, UINT64_C(1) << 40, 2);
	marks_add(&m, 3, 4);
	ck_assert_int_eq(marks_sorted(&m, &v), 0);
	ck_assert_uint_eq(v[0].region, 3);
	ck_assert_uint_eq(v[0].mask, 4);
	ck_assert_uint_eq(v[1].region, 50);
	ck_assert_uint_eq(v[2].region, UINT64_C(1) << 40);
	free(v);
	marks_free(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("marks");
	TCase *tc = tcase_create("marks");

	tcase_add_test(tc, add_get_remove);
	tcase_add_test(tc, reserve_enforces_limit_without_change);
	tcase_add_test(tc, random_ops_match_a_plain_array);
	tcase_add_test(tc, drop_node_clears_bit_everywhere);
	tcase_add_test(tc, drop_node_callback_sees_exactly_the_marked_regions);
	tcase_add_test(tc, drop_from_removes_high_regions);
	tcase_add_test(tc, sorted_copy_orders_by_region);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
