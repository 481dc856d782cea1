/* test_bitmap.c: plain bit arrays (server/engine/bitmap.c). */
#include <check.h>
#include <stdlib.h>

#include "bitmap.h"
#include "fixture.h"

START_TEST(init_zero_and_ones_respect_size)
{
	struct bitmap b;

	ck_assert_int_eq(bitmap_init(&b, 130, true), 0);
	ck_assert_uint_eq(bitmap_popcount(&b, 130), 130);
	ck_assert(bitmap_get(&b, 129));
	/* bits beyond nbits stay zero */
	ck_assert_uint_eq(b.w[2], 3);
	bitmap_free(&b);
	ck_assert_int_eq(bitmap_init(&b, 130, false), 0);
	ck_assert_uint_eq(bitmap_popcount(&b, 130), 0);
	bitmap_free(&b);
	ck_assert_int_eq(bitmap_init(&b, 0, true), 0);
	ck_assert_ptr_null(b.w);
	ck_assert_uint_eq(bitmap_find(&b, 0, 0, false), 0);
	bitmap_free(&b);
}
END_TEST

START_TEST(set_clear_get_single_bits)
{
	struct bitmap b;

	ck_assert_int_eq(bitmap_init(&b, 200, false), 0);
	bitmap_set(&b, 0);
	bitmap_set(&b, 63);
	bitmap_set(&b, 64);
	bitmap_set(&b, 199);
	ck_assert(bitmap_get(&b, 63) && bitmap_get(&b, 64) && bitmap_get(&b, 199));
	ck_assert(!bitmap_get(&b, 1));
	ck_assert_uint_eq(bitmap_popcount(&b, 200), 4);
	ck_assert_uint_eq(bitmap_popcount(&b, 64), 2);
	ck_assert_uint_eq(bitmap_popcount(&b, 65), 3);
	bitmap_clear(&b, 63);
	ck_assert(!bitmap_get(&b, 63));
	ck_assert_uint_eq(bitmap_popcount(&b, 200), 3);
	bitmap_free(&b);
}
END_TEST

START_TEST(fill_ranges_within_and_across_words)
{
	struct bitmap b;

	ck_assert_int_eq(bitmap_init(&b, 300, false), 0);
	bitmap_fill(&b, 3, 5, true);
	ck_assert_uint_eq(b.w[0], 0x18);
	bitmap_fill(&b, 60, 260, true);
	ck_assert_uint_eq(bitmap_popcount(&b, 300), 202);
	ck_assert(!bitmap_get(&b, 59) && bitmap_get(&b, 60) && bitmap_get(&b, 259) &&
		  !bitmap_get(&b, 260));
	bitmap_fill(&b, 64, 256, false);
	ck_assert_uint_eq(bitmap_popcount(&b, 300), 2 + 4 + 4);
	bitmap_fill(&b, 10, 10, true); /* empty range */
	ck_assert(!bitmap_get(&b, 10));
	bitmap_free(&b);
}
END_TEST

START_TEST(find_next_zero_and_one)
{
	struct bitmap b;

	ck_assert_int_eq(bitmap_init(&b, 1000, true), 0);
	ck_assert_uint_eq(bitmap_find(&b, 0, 1000, false), 1000);
	bitmap_clear(&b, 700);
	ck_assert_uint_eq(bitmap_find(&b, 0, 1000, false), 700);
	ck_assert_uint_eq(bitmap_find(&b, 700, 1000, false), 700);
	ck_assert_uint_eq(bitmap_find(&b, 701, 1000, false), 1000);
	ck_assert_uint_eq(bitmap_find(&b, 0, 700, false), 700); /* end bound is exclusive */
	ck_assert_uint_eq(bitmap_find(&b, 0, 650, false), 650);
	bitmap_fill(&b, 0, 1000, false);
	bitmap_set(&b, 999);
	ck_assert_uint_eq(bitmap_find(&b, 5, 1000, true), 999);
	ck_assert_uint_eq(bitmap_find(&b, 5, 999, true), 999);
	ck_assert_uint_eq(bitmap_find(&b, 1000, 1000, true), 1000);
	bitmap_free(&b);
}
END_TEST

START_TEST(reserve_then_resize_grow_and_shrink)
{
	struct bitmap b;

	ck_assert_int_eq(bitmap_init(&b, 70, true), 0);
	ck_assert_int_eq(bitmap_reserve(&b, 300), 0);
	ck_assert_uint_eq(b.nbits, 70); /* reserve changes nothing visible */
	ck_assert_uint_eq(bitmap_popcount(&b, 70), 70);
	bitmap_resize(&b, 300, false);
	ck_assert_uint_eq(bitmap_popcount(&b, 300), 70);
	ck_assert_uint_eq(bitmap_find(&b, 0, 300, false), 70);
	ck_assert_int_eq(bitmap_reserve(&b, 400), 0);
	bitmap_resize(&b, 400, true);
	ck_assert_uint_eq(bitmap_popcount(&b, 400), 170);
	ck_assert(bitmap_get(&b, 399) && !bitmap_get(&b, 299));
	bitmap_resize(&b, 65, true);
	ck_assert_uint_eq(b.nbits, 65);
	ck_assert_uint_eq(bitmap_popcount(&b, 65), 65);
	ck_assert_uint_eq(b.w[1], 1); /* bits beyond the new size were dropped */
	ck_assert_int_eq(bitmap_reserve(&b, 200), 0);
	bitmap_resize(&b, 200, false);
	ck_assert_uint_eq(bitmap_popcount(&b, 200), 65);
	bitmap_resize(&b, 0, false);
	ck_assert_ptr_null(b.w);
	bitmap_free(&b);
}
END_TEST

START_TEST(and_and_subset)
{
	struct bitmap a, b;

	ck_assert_int_eq(bitmap_init(&a, 150, true), 0);
	ck_assert_int_eq(bitmap_init(&b, 150, false), 0);
	bitmap_set(&b, 3);
	bitmap_set(&b, 149);
	ck_assert(bitmap_is_subset(&b, &a));
	ck_assert(!bitmap_is_subset(&a, &b));
	bitmap_and(&a, &b);
	ck_assert_uint_eq(bitmap_popcount(&a, 150), 2);
	ck_assert(bitmap_get(&a, 3) && bitmap_get(&a, 149));
	ck_assert(bitmap_is_subset(&a, &b) && bitmap_is_subset(&b, &a));
	bitmap_free(&a);
	bitmap_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bitmap");
	TCase *tc = tcase_create("bitmap");

	tcase_add_test(tc, init_zero_and_ones_respect_size);
	tcase_add_test(tc, set_clear_get_single_bits);
	tcase_add_test(tc, fill_ranges_within_and_across_words);
	tcase_add_test(tc, find_next_zero_and_one);
	tcase_add_test(tc, reserve_then_resize_grow_and_shrink);
	tcase_add_test(tc, and_and_subset);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
