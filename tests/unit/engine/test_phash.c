/* test_phash.c: the pointer index keyed by content hashes (server/engine/phash.c). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "phash.h"

struct item {
	char key[16];
	uint64_t hash;
};

static bool match(const void *item, const void *key)
{
	return !strcmp(((const struct item *)item)->key, key);
}

START_TEST(insert_find_remove_many)
{
	enum { N = 2000 };
	static struct item items[N];
	struct phash h = { 0 };

	ck_assert_ptr_null(phash_find(&h, 1, match, "x")); /* empty index */
	phash_remove(&h, 1, &items[0]);                    /* no-op */
	for (int i = 0; i < N; i++) {
		snprintf(items[i].key, sizeof(items[i].key), "k%d", i);
		items[i].hash = phash_bytes(items[i].key, strlen(items[i].key), 0);
		ck_assert_int_eq(phash_reserve(&h, 1), 0);
		phash_insert(&h, items[i].hash, &items[i]);
	}
	ck_assert_uint_eq(h.count, N);
	for (int i = 0; i < N; i++)
		ck_assert_ptr_eq(phash_find(&h, items[i].hash, match, items[i].key), &items[i]);
	ck_assert_ptr_null(phash_find(&h, phash_bytes("nope", 4, 0), match, "nope"));
	for (int i = 0; i < N; i += 2)
		phash_remove(&h, items[i].hash, &items[i]);
	ck_assert_uint_eq(h.count, N / 2);
	for (int i = 0; i < N; i++)
		ck_assert_ptr_eq(phash_find(&h, items[i].hash, match, items[i].key),
				 i % 2 ? &items[i] : NULL);
	phash_free(&h);
}
END_TEST

START_TEST(equal_hashes_are_told_apart_by_match)
{
	struct item a = { "alpha", 7 }, b = { "beta", 7 };
	struct phash h = { 0 };

	ck_assert_int_eq(phash_reserve(&h, 2), 0);
	phash_insert(&h, 7, &a);
	phash_insert(&h, 7, &b);
	ck_assert_ptr_eq(phash_find(&h, 7, match, "alpha"), &a);
	ck_assert_ptr_eq(phash_find(&h, 7, match, "beta"), &b);
	phash_remove(&h, 7, &a);
	ck_assert_ptr_null(phash_find(&h, 7, match, "alpha"));
	ck_assert_ptr_eq(phash_find(&h, 7, match, "beta"), &b);
	phash_free(&h);
}
END_TEST

START_TEST(hash_depends_on_content_and_seed_only)
{
	char a[] = "LVM-abc", b[] = "LVM-abc";

	ck_assert_uint_eq(phash_bytes(a, 7, 0), phash_bytes(b, 7, 0));
	ck_assert_uint_ne(phash_bytes(a, 7, 0), phash_bytes(a, 7, 1));
	ck_assert_uint_ne(phash_bytes(a, 7, 0), phash_bytes(a, 6, 0));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("phash");
	TCase *tc = tcase_create("phash");

	tcase_add_test(tc, insert_find_remove_many);
	tcase_add_test(tc, equal_hashes_are_told_apart_by_match);
	tcase_add_test(tc, hash_depends_on_content_and_seed_only);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
