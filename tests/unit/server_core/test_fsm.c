/* test_fsm.c: the replicated state machine: batches, exactly-once, leases, snapshots. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "dmlog.pb-c.h"
#include "fsm.h"
#include "snapbuf.h"
#include "testmain.h"

#define UUID "LVM-fsm-test"

/* Builds a PeerEntry of up to 8 commands. */
struct entry {
	Dmlog__PeerEntry pe;
	Dmlog__Command *cp[8];
	Dmlog__Command c[8];
	Dmlog__NodeOp op[8];
	Dmlog__NodeLease lease[8];
	Dmlog__NodeLost lost[8];
	Dmlog__LogRef ref[8];
	Dmlog__Ctr ctr[8];
	Dmlog__MarkRegion mark[8];
	Dmlog__ClearRegion clear[8];
	Dmlog__Resume resume[8];
	uint64_t regions[8][1];
};

static void entry_init(struct entry *e)
{
	memset(e, 0, sizeof(*e));
	dmlog__peer_entry__init(&e->pe);
	e->pe.commands = e->cp;
}

static Dmlog__NodeOp *add_op(struct entry *e, const char *node, uint64_t client, uint64_t rid,
			     uint64_t luid)
{
	size_t i = e->pe.n_commands++;

	dmlog__command__init(&e->c[i]);
	dmlog__node_op__init(&e->op[i]);
	dmlog__log_ref__init(&e->ref[i]);
	e->ref[i].uuid = (char *)UUID;
	e->ref[i].luid = luid;
	e->ref[i].request_version = 3;
	e->op[i].node = (char *)node;
	e->op[i].client_id = client;
	e->op[i].request_id = rid;
	e->c[i].body_case = DMLOG__COMMAND__BODY_OP;
	e->c[i].op = &e->op[i];
	e->cp[i] = &e->c[i];
	return &e->op[i];
}

static void add_ctr(struct entry *e, const char *node, uint64_t rid, uint64_t luid, const char *args)
{
	size_t i = e->pe.n_commands;
	Dmlog__NodeOp *op = add_op(e, node, 1, rid, luid);

	dmlog__ctr__init(&e->ctr[i]);
	e->ctr[i].log = &e->ref[i];
	e->ctr[i].args = (char *)args;
	op->op_case = DMLOG__NODE_OP__OP_CTR;
	op->ctr = &e->ctr[i];
}

static void add_resume(struct entry *e, const char *node, uint64_t rid, uint64_t luid)
{
	size_t i = e->pe.n_commands;
	Dmlog__NodeOp *op = add_op(e, node, 1, rid, luid);

	dmlog__resume__init(&e->resume[i]);
	e->resume[i].log = &e->ref[i];
	op->op_case = DMLOG__NODE_OP__OP_RESUME;
	op->resume = &e->resume[i];
}

static void add_mark(struct entry *e, const char *node, uint64_t rid, uint64_t luid, uint64_t r,
		     bool clear)
{
	size_t i = e->pe.n_commands;
	Dmlog__NodeOp *op = add_op(e, node, 1, rid, luid);

	e->regions[i][0] = r;
	if (clear) {
		dmlog__clear_region__init(&e->clear[i]);
		e->clear[i].log = &e->ref[i];
		e->clear[i].n_regions = 1;
		e->clear[i].regions = e->regions[i];
		op->op_case = DMLOG__NODE_OP__OP_CLEAR_REGION;
		op->clear_region = &e->clear[i];
	} else {
		dmlog__mark_region__init(&e->mark[i]);
		e->mark[i].log = &e->ref[i];
		e->mark[i].n_regions = 1;
		e->mark[i].regions = e->regions[i];
		op->op_case = DMLOG__NODE_OP__OP_MARK_REGION;
		op->mark_region = &e->mark[i];
	}
}

static void add_lease(struct entry *e, const char *node, bool lost)
{
	size_t i = e->pe.n_commands++;

	dmlog__command__init(&e->c[i]);
	if (lost) {
		dmlog__node_lost__init(&e->lost[i]);
		e->lost[i].node = (char *)node;
		e->c[i].body_case = DMLOG__COMMAND__BODY_LOST;
		e->c[i].lost = &e->lost[i];
	} else {
		dmlog__node_lease__init(&e->lease[i]);
		e->lease[i].node = (char *)node;
		e->lease[i].lease_ms = 10000;
		e->c[i].body_case = DMLOG__COMMAND__BODY_LEASE;
		e->c[i].lease = &e->lease[i];
	}
	e->cp[i] = &e->c[i];
}

static int apply(struct fsm *f, uint64_t index, struct entry *e)
{
	size_t len = dmlog__peer_entry__get_packed_size(&e->pe);
	uint8_t *buf = malloc(len ? len : 1);
	int rc;

	dmlog__peer_entry__pack(&e->pe, buf);
	rc = fsm_apply(f, index, buf, len);
	free(buf);
	return rc;
}

static bool is_clean(struct fsm *f, const char *node, uint64_t luid, uint64_t r)
{
	struct engine_req q;
	struct engine_res res;

	memset(&q, 0, sizeof(q));
	q.op = ENGINE_IS_CLEAN;
	q.node = node;
	q.uuid = UUID;
	q.luid = luid;
	q.region = r;
	fsm_lock(f);
	engine_read(fsm_engine(f), &q, &res);
	fsm_unlock(f);
	ck_assert_int_eq(res.error, 0);
	return res.flag;
}

/* A batch of several commands applies in order and each result is stored for its submitter. */
START_TEST(batch_applies_in_order_and_stores_results)
{
	struct fsm *f = fsm_new(64);
	struct entry e;
	struct dedup_result r;

	entry_init(&e);
	add_ctr(&e, "n1", 1, 10, "8192 clustered-disk 253:2 1024");
	add_resume(&e, "n1", 2, 10);
	add_mark(&e, "n1", 3, 10, 5, false);
	add_mark(&e, "n1", 4, 10, 99, false); /* out of range: an error result, nothing else */
	ck_assert_int_eq(apply(f, 7, &e), 0);
	fsm_lock(f);
	ck_assert(fsm_result(f, "n1", 1, 1, &r));
	ck_assert_int_eq(r.error, 0);
	ck_assert_str_eq(r.text, "253:2");
	ck_assert(fsm_result(f, "n1", 1, 3, &r));
	ck_assert_int_eq(r.error, 0);
	ck_assert(fsm_result(f, "n1", 1, 4, &r));
	ck_assert_int_eq(r.error, -EINVAL);
	ck_assert(r.text[0] != '\0');
	ck_assert(!fsm_result(f, "n1", 1, 5, &r));
	ck_assert(!fsm_result(f, "n2", 1, 1, &r));
	ck_assert(!fsm_result(f, "n1", 2, 1, &r));
	ck_assert_uint_eq(fsm_applied_index(f), 7);
	fsm_unlock(f);
	ck_assert(!is_clean(f, "n1", 10, 5));
	fsm_free(f);
}
END_TEST

/* A command whose (node, client, request id) was applied already is skipped: here a retried
 * CLEAR would otherwise clean a region that a later MARK dirtied. */
START_TEST(retry_is_not_applied_twice)
{
	struct fsm *f = fsm_new(64);
	struct entry e;

	entry_init(&e);
	add_ctr(&e, "n1", 1, 10, "8192 clustered-core 1024 nosync");
	add_resume(&e, "n1", 2, 10);
	add_mark(&e, "n1", 3, 10, 1, false);
	add_mark(&e, "n1", 4, 10, 1, true);  /* clear: clean again */
	add_mark(&e, "n1", 5, 10, 1, false); /* mark: dirty */
	ck_assert_int_eq(apply(f, 1, &e), 0);
	ck_assert(!is_clean(f, "n1", 10, 1));
	entry_init(&e);
	add_mark(&e, "n1", 4, 10, 1, true); /* the retried clear */
	ck_assert_int_eq(apply(f, 2, &e), 0);
	ck_assert(!is_clean(f, "n1", 10, 1));
	fsm_free(f);
}
END_TEST

static void count_lease(void *arg, const char *node, uint32_t ms)
{
	char *out = arg;

	(void)ms;
	strcat(out, node);
	strcat(out, ",");
}

START_TEST(leases_and_node_lost)
{
	struct fsm *f = fsm_new(64);
	struct entry e;
	char names[128] = "";

	entry_init(&e);
	add_lease(&e, "n2", false);
	add_lease(&e, "n1", false);
	add_ctr(&e, "n1", 1, 10, "8192 clustered-core 1024 nosync");
	add_resume(&e, "n1", 2, 10);
	add_mark(&e, "n1", 3, 10, 4, false);
	add_ctr(&e, "n2", 4, 20, "8192 clustered-core 1024 nosync");
	ck_assert_int_eq(apply(f, 1, &e), 0);
	fsm_lock(f);
	fsm_leases(f, count_lease, names);
	fsm_unlock(f);
	ck_assert_str_eq(names, "n1,n2,");
	entry_init(&e);
	add_lease(&e, "n1", true);
	ck_assert_int_eq(apply(f, 2, &e), 0);
	names[0] = '\0';
	fsm_lock(f);
	fsm_leases(f, count_lease, names);
	fsm_unlock(f);
	ck_assert_str_eq(names, "n2,");
	/* n1's mark is gone but the region stays dirty (and out of sync). */
	ck_assert(!is_clean(f, "n2", 20, 4));
	ck_assert(is_clean(f, "n2", 20, 5));
	fsm_free(f);
}
END_TEST

START_TEST(undecodable_entry_is_fatal)
{
	struct fsm *f = fsm_new(64);
	static const uint8_t junk[] = {0x0a, 0x7f, 0x01};

	ck_assert_int_eq(fsm_apply(f, 1, junk, sizeof(junk)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(fsm_last_error(f), "undecodable"));
	fsm_free(f);
}
END_TEST

static struct fsm *populated(void)
{
	struct fsm *f = fsm_new(32);
	struct entry e;

	entry_init(&e);
	add_lease(&e, "n1", false);
	add_ctr(&e, "n1", 1, 10, "65536 clustered-disk 253:7 1024");
	add_resume(&e, "n1", 2, 10);
	add_mark(&e, "n1", 3, 10, 9, false);
	add_mark(&e, "n1", 4, 10, 10, false);
	ck_assert_int_eq(apply(f, 3, &e), 0);
	for (uint64_t i = 0; i < 40; i++) {
		entry_init(&e);
		add_mark(&e, "n2", 100 + i, 20, i % 64, i % 2);
		ck_assert_int_eq(apply(f, 4 + i, &e), 0);
	}
	return f;
}

START_TEST(snapshot_roundtrip_is_identical)
{
	struct fsm *f = populated(), *g = fsm_new(32);
	uint8_t *a, *b;
	size_t alen, blen;
	struct dedup_result r;

	ck_assert_int_eq(fsm_snapshot(f, &a, &alen), 0);
	ck_assert_int_eq(fsm_restore(g, a, alen), 0);
	ck_assert_int_eq(fsm_snapshot(g, &b, &blen), 0);
	ck_assert_uint_eq(alen, blen);
	ck_assert_mem_eq(a, b, alen);
	fsm_lock(g);
	ck_assert_uint_eq(fsm_applied_index(g), 43);
	ck_assert(fsm_result(g, "n1", 1, 1, &r));
	ck_assert_str_eq(r.text, "253:7");
	fsm_unlock(g);
	ck_assert(!is_clean(g, "n1", 10, 9));
	free(a);
	free(b);
	fsm_free(f);
	fsm_free(g);
}
END_TEST

/* Corruption anywhere and truncation at any length are refused, and the state is kept. */
START_TEST(corrupt_snapshot_refused)
{
	struct fsm *f = populated(), *g = populated();
	uint8_t *a, *b;
	size_t alen, blen;

	ck_assert_int_eq(fsm_snapshot(f, &a, &alen), 0);
	for (size_t i = 0; i < alen; i += 7) {
		a[i] ^= 0x40;
		ck_assert_int_eq(fsm_restore(g, a, alen), -EINVAL);
		a[i] ^= 0x40;
	}
	for (size_t n = 0; n < alen; n += 5)
		ck_assert_int_eq(fsm_restore(g, a, n), -EINVAL);
	ck_assert_int_eq(fsm_snapshot(g, &b, &blen), 0);
	ck_assert_uint_eq(alen, blen);
	ck_assert_mem_eq(a, b, alen);
	free(a);
	free(b);
	fsm_free(f);
	fsm_free(g);
}
END_TEST

/* The exactly-once window: ids modulo the window share a slot, the newer wins. */
START_TEST(dedup_window_and_eviction)
{
	struct dedup *d = dedup_new(8);
	struct dedup_result r = {0}, out;
	char node[16];

	r.value = 1;
	ck_assert_int_eq(dedup_put(d, "n", 1, 3, 1, &r), 0);
	r.value = 2;
	ck_assert_int_eq(dedup_put(d, "n", 1, 11, 2, &r), 0);
	ck_assert(!dedup_get(d, "n", 1, 3, &out));
	ck_assert(dedup_get(d, "n", 1, 11, &out));
	ck_assert_uint_eq(out.value, 2);
	ck_assert_int_eq(dedup_put(d, "n", 1, 0, 3, &r), -EINVAL);
	/* Beyond DEDUP_CLIENTS_MAX clients the least recently applied goes first. */
	for (int i = 0; i < DEDUP_CLIENTS_MAX; i++) {
		snprintf(node, sizeof(node), "x%d", i);
		ck_assert_int_eq(dedup_put(d, node, 9, 1, 100 + (uint64_t)i, &r), 0);
	}
	ck_assert(!dedup_get(d, "n", 1, 11, &out));
	ck_assert(dedup_get(d, "x0", 9, 1, &out));
	dedup_free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fsm");
	TCase *tc = tcase_create("fsm");

	tcase_add_test(tc, batch_applies_in_order_and_stores_results);
	tcase_add_test(tc, retry_is_not_applied_twice);
	tcase_add_test(tc, leases_and_node_lost);
	tcase_add_test(tc, undecodable_entry_is_fatal);
	tcase_add_test(tc, snapshot_roundtrip_is_identical);
	tcase_add_test(tc, corrupt_snapshot_refused);
	tcase_add_test(tc, dedup_window_and_eviction);
	suite_add_tcase(s, tc);
	return testmain_run(s);
}
