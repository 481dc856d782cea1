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

int main(void)
{
	Suite *s = suite_create("client_reqtab");
	TCase *t = tcase_create("reqtab");

	tcase_add_test(t, finds_by_id_and_keeps_id_order_through_removals);
	suite_add_tcase(s, t);
	return testmain_run(s);
}
