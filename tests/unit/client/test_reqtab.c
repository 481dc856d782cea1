/* test_reqtab.c: the pending-request table: lookup by id and id order (reqtab.c). */
#include <check.h>
#include <stdlib.h>

#include "reqtab.h"
#include "testmain.h"

#define N 5000

START_TEST(finds_by_id_and_keeps_id_order_through_removals)
{
	struct reqtab t;
	struct req *reqs = calloc(N, sizeof(*reqs));
	struct req *r;
	uint64_t expect;

	ck_assert_ptr_nonnull(reqs);
	ck_assert_int_eq(reqtab_init(&t, 1024), 0);
	ck_assert_ptr_null(reqtab_first(&t));
	for (uint64_t i = 0; i < N; i++) {
		reqs[i].id = i + 1;
		reqtab_add(&t, &reqs[i]);
	}
	ck_assert_uint_eq(t.count, N);
	for (uint64_t i = 0; i < N; i++)
		ck_assert_ptr_eq(reqtab_find(&t, i + 1), &reqs[i]);
	ck_assert_ptr_null(reqtab_find(&t, 0));
	ck_assert_ptr_null(reqtab_find(&t, N + 1));
	/* Remove every third one, in a scattered order. */
	for (uint64_t i = N; i-- > 0;)
		if (i % 3 == 0)
			reqtab_remove(&t, &reqs[i]);
	ck_assert_uint_eq(t.count, N - (N + 2) / 3);
	expect = 2;
	TAILQ_FOREACH(r, &t.list, order) {
		ck_assert_uint_eq(r->id, expect);
		ck_assert_ptr_eq(reqtab_find(&t, r->id), r);
		expect += expect % 3 == 2 ? 1 : 2;
	}
	for (uint64_t i = 0; i < N; i++)
		if (i % 3 == 0)
			ck_assert_ptr_null(reqtab_find(&t, i + 1));
	ck_assert_uint_eq(reqtab_first(&t)->id, 2);
	while ((r = reqtab_first(&t)))
		reqtab_remove(&t, r);
	ck_assert_uint_eq(t.count, 0);
	reqtab_free(&t);
	free(reqs);
}
END_TEST

/* A window of max_in_flight sequential ids (what a handle has pending) never shares a bucket,
 * whatever id the window starts at: every lookup is one step. */
START_TEST(a_window_of_sequential_ids_has_no_chains)
{
	struct reqtab t;
	struct req *reqs = calloc(1024, sizeof(*reqs));

	ck_assert_ptr_nonnull(reqs);
	ck_assert_int_eq(reqtab_init(&t, 1024), 0);
	for (uint64_t start = 1; start < 5000; start += 997) {
		for (uint64_t i = 0; i < 1024; i++) {
			reqs[i].id = start + i;
			reqtab_add(&t, &reqs[i]);
		}
		for (size_t b = 0; b <= t.mask; b++)
			ck_assert_msg(t.buckets[b] == NULL || t.buckets[b]->hash_next == NULL,
				      "bucket %zu chains ids %llu and %llu", b,
				      (unsigned long long)t.buckets[b]->id,
				      (unsigned long long)t.buckets[b]->hash_next->id);
		for (uint64_t i = 0; i < 1024; i++)
			reqtab_remove(&t, &reqs[i]);
		ck_assert_uint_eq(t.count, 0);
	}
	reqtab_free(&t);
	free(reqs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client_reqtab");
	TCase *t = tcase_create("reqtab");

	tcase_add_test(t, finds_by_id_and_keeps_id_order_through_removals);
	tcase_add_test(t, a_window_of_sequential_ids_has_no_chains);
	suite_add_tcase(s, t);
	return testmain_run(s);
}
