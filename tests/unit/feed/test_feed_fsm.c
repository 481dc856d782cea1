/* test_feed_fsm.c: the fsm's queue of feed events (server/fsm.h).
 *
 * Pinned: nothing is queued while recording is off; while on, the engine's events arrive in
 * apply order with their strings copied, a run of adjacent regions becomes one event, and the
 * notify function is called once per entry that queued something (outside the lock); stopping
 * drops the queue; beyond FSM_FEED_EVENTS_MAX, or when a snapshot replaces the state, the
 * queue is one reset; the replicated state is the same whether or not events are recorded.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmlog.pb-c.h"
#include "fsm.h"

#define UUID "LVM-feed-fsm"

static int notified;
static struct fsm_event got[64];
static size_t ngot;

static void on_notify(void *arg)
{
	struct fsm *f = arg;

	/* called outside the lock: taking it must not deadlock */
	fsm_lock(f);
	fsm_unlock(f);
	notified++;
}

static void on_event(void *arg, const struct fsm_event *ev)
{
	(void)arg;
	if (ngot < 64)
		got[ngot] = *ev;
	ngot++;
}

static void take(struct fsm *f)
{
	ngot = 0;
	fsm_lock(f);
	fsm_feed_take(f, on_event, NULL);
	fsm_unlock(f);
}

/* One entry of n NodeOps of node n1 (request ids from *rid). */
struct builder {
	Dmlog__PeerEntry pe;
	Dmlog__Command *cp[40];
	Dmlog__Command c[40];
	Dmlog__NodeOp op[40];
	Dmlog__LogRef ref[40];
	Dmlog__Ctr ctr[40];
	Dmlog__Resume resume[40];
	Dmlog__SetRegionSync srs[40];
	Dmlog__MarkRegion mark[40];
	uint64_t regions[40][1];
	Dmlog__NodeLost lost;
};

static uint64_t rid;

static void b_init(struct builder *b)
{
	memset(b, 0, sizeof(*b));
	dmlog__peer_entry__init(&b->pe);
	b->pe.commands = b->cp;
}

static Dmlog__NodeOp *b_op(struct builder *b, const char *node, uint64_t luid)
{
	size_t i = b->pe.n_commands++;

	dmlog__command__init(&b->c[i]);
	dmlog__node_op__init(&b->op[i]);
	dmlog__log_ref__init(&b->ref[i]);
	b->ref[i].uuid = (char *)UUID;
	b->ref[i].luid = luid;
	b->ref[i].request_version = 3;
	b->op[i].node = (char *)node;
	b->op[i].client_id = 1;
	b->op[i].request_id = ++rid;
	b->c[i].body_case = DMLOG__COMMAND__BODY_OP;
	b->c[i].op = &b->op[i];
	b->cp[i] = &b->c[i];
	return &b->op[i];
}

static void b_ctr(struct builder *b, const char *node, uint64_t luid, const char *args)
{
	size_t i = b->pe.n_commands;
	Dmlog__NodeOp *op = b_op(b, node, luid);

	dmlog__ctr__init(&b->ctr[i]);
	b->ctr[i].log = &b->ref[i];
	b->ctr[i].args = (char *)args;
	op->op_case = DMLOG__NODE_OP__OP_CTR;
	op->ctr = &b->ctr[i];
}

static void b_resume(struct builder *b, const char *node, uint64_t luid)
{
	size_t i = b->pe.n_commands;
	Dmlog__NodeOp *op = b_op(b, node, luid);

	dmlog__resume__init(&b->resume[i]);
	b->resume[i].log = &b->ref[i];
	op->op_case = DMLOG__NODE_OP__OP_RESUME;
	op->resume = &b->resume[i];
}

static void b_sync(struct builder *b, uint64_t region, bool in_sync)
{
	size_t i = b->pe.n_commands;
	Dmlog__NodeOp *op = b_op(b, "n1", 1);

	dmlog__set_region_sync__init(&b->srs[i]);
	b->srs[i].log = &b->ref[i];
	b->srs[i].region = region;
	b->srs[i].in_sync = in_sync;
	op->op_case = DMLOG__NODE_OP__OP_SET_REGION_SYNC;
	op->set_region_sync = &b->srs[i];
}

static void b_mark(struct builder *b, const char *node, uint64_t luid, uint64_t region)
{
	size_t i = b->pe.n_commands;
	Dmlog__NodeOp *op = b_op(b, node, luid);

	dmlog__mark_region__init(&b->mark[i]);
	b->mark[i].log = &b->ref[i];
	b->regions[i][0] = region;
	b->mark[i].n_regions = 1;
	b->mark[i].regions = b->regions[i];
	op->op_case = DMLOG__NODE_OP__OP_MARK_REGION;
	op->mark_region = &b->mark[i];
}

static void b_lost(struct builder *b, const char *node)
{
	size_t i = b->pe.n_commands++;

	dmlog__command__init(&b->c[i]);
	dmlog__node_lost__init(&b->lost);
	b->lost.node = (char *)node;
	b->c[i].body_case = DMLOG__COMMAND__BODY_LOST;
	b->c[i].lost = &b->lost;
	b->cp[i] = &b->c[i];
}

static uint64_t idx;

static void b_apply(struct fsm *f, struct builder *b)
{
	size_t len = dmlog__peer_entry__get_packed_size(&b->pe);
	uint8_t *buf = malloc(len);

	dmlog__peer_entry__pack(&b->pe, buf);
	ck_assert_int_eq(fsm_apply(f, ++idx, buf, len), 0);
	free(buf);
}

/* A log of 64 regions out of sync, resumed by n1 (luid 1) and n2 (luid 2). */
static struct fsm *fsm_with_log(void)
{
	struct fsm *f = fsm_new(64);
	struct builder b;

	fsm_feed_init(f, on_notify, f);
	b_init(&b);
	b_ctr(&b, "n1", 1, "128 clustered-core 2");
	b_resume(&b, "n1", 1);
	b_ctr(&b, "n2", 2, "128 clustered-core 2");
	b_resume(&b, "n2", 2);
	b_apply(f, &b);
	return f;
}

START_TEST(nothing_is_queued_while_recording_is_off)
{
	struct fsm *f = fsm_with_log();
	struct builder b;

	notified = 0;
	b_init(&b);
	b_sync(&b, 3, true);
	b_apply(f, &b);
	ck_assert(!fsm_feed_pending(f));
	ck_assert_int_eq(notified, 0);
	take(f);
	ck_assert_uint_eq(ngot, 0);
	fsm_free(f);
}
END_TEST

START_TEST(events_are_queued_in_order_and_runs_coalesce)
{
	struct fsm *f = fsm_with_log();
	struct builder b;

	fsm_lock(f);
	fsm_feed_record(f, true);
	fsm_unlock(f);
	notified = 0;
	b_init(&b);
	for (uint64_t r = 10; r < 20; r++) /* resync of ten adjacent regions in one entry */
		b_sync(&b, r, true);
	b_sync(&b, 9, true);                /* the run grows at its front too */
	b_sync(&b, 30, true);
	b_sync(&b, 12, false);
	b_apply(f, &b);
	ck_assert(fsm_feed_pending(f));
	ck_assert_int_eq(notified, 1);
	take(f);
	ck_assert_uint_eq(ngot, 3);
	ck_assert_int_eq(got[0].kind, 1); /* ENGINE_EVENT_SYNC */
	ck_assert_str_eq(got[0].uuid, UUID);
	ck_assert_uint_eq(got[0].first, 9);
	ck_assert_uint_eq(got[0].last, 19);
	ck_assert(got[0].in_sync);
	ck_assert_uint_eq(got[1].first, 30);
	ck_assert_uint_eq(got[2].first, 12);
	ck_assert(!got[2].in_sync);
	ck_assert(!fsm_feed_pending(f));
	/* node loss: the lost node's instance, by name */
	b_init(&b);
	b_mark(&b, "n2", 2, 40);
	b_lost(&b, "n2");
	b_apply(f, &b);
	take(f);
	ck_assert_uint_eq(ngot, 1);
	ck_assert_int_eq(got[0].kind, 2); /* ENGINE_EVENT_INSTANCE */
	ck_assert_str_eq(got[0].node, "n2");
	ck_assert_uint_eq(got[0].luid, 2);
	ck_assert(!got[0].resumed);
	/* stopping drops what is queued */
	b_init(&b);
	b_sync(&b, 50, true);
	b_apply(f, &b);
	fsm_lock(f);
	fsm_feed_record(f, false);
	fsm_unlock(f);
	ck_assert(!fsm_feed_pending(f));
	take(f);
	ck_assert_uint_eq(ngot, 0);
	fsm_free(f);
}
END_TEST

START_TEST(overflow_and_restore_collapse_into_a_reset)
{
	struct fsm *f = fsm_new(64), *g = fsm_new(64);
	struct builder b;
	uint8_t *snap;
	size_t len;
	char args[64];
	int entries = 0;

	fsm_feed_init(f, on_notify, f);
	b_init(&b);
	snprintf(args, sizeof(args), "%d clustered-core 2", 2 * 3 * FSM_FEED_EVENTS_MAX);
	b_ctr(&b, "n1", 1, args);
	b_resume(&b, "n1", 1);
	b_apply(f, &b);
	fsm_lock(f);
	fsm_feed_record(f, true);
	fsm_unlock(f);
	/* every other region: events that cannot coalesce, more than the queue holds */
	for (uint64_t r = 0; r < 2 * (uint64_t)FSM_FEED_EVENTS_MAX + 80; r += 2 * 32) {
		b_init(&b);
		for (uint64_t k = 0; k < 32; k++)
			b_sync(&b, r + 2 * k, true);
		b_apply(f, &b);
		entries++;
	}
	take(f);
	ck_assert_uint_eq(ngot, 1);
	ck_assert_int_eq(got[0].kind, FSM_EVENT_RESET);
	/* after a take the queue works again */
	b_init(&b);
	b_sync(&b, 1, true);
	b_apply(f, &b);
	take(f);
	ck_assert_uint_eq(ngot, 1);
	ck_assert_int_eq(got[0].kind, 1);
	/* a snapshot installed while recording: reset */
	ck_assert_int_eq(fsm_snapshot(f, &snap, &len), 0);
	ck_assert_int_eq(fsm_restore(f, snap, len), 0);
	take(f);
	ck_assert_uint_eq(ngot, 1);
	ck_assert_int_eq(got[0].kind, FSM_EVENT_RESET);
	free(snap);
	ck_assert_int_gt(entries, 0);
	fsm_free(f);
	fsm_free(g);
}
END_TEST

/* The same entries, applied with and without recording, give the same state. */
static struct fsm *replay(bool record)
{
	struct fsm *f;
	struct builder b;

	rid = 0;
	idx = 0;
	f = fsm_with_log();
	fsm_lock(f);
	fsm_feed_record(f, record);
	fsm_unlock(f);
	b_init(&b);
	for (uint64_t r = 0; r < 30; r++)
		b_sync(&b, (r * 7) % 64, r % 3 != 0);
	b_mark(&b, "n2", 2, 5);
	b_lost(&b, "n2");
	b_apply(f, &b);
	return f;
}

START_TEST(recording_does_not_change_the_replicated_state)
{
	struct fsm *f = replay(true), *g = replay(false);
	uint8_t df[32], dg[32];
	uint64_t af, ag;

	ck_assert(fsm_feed_pending(f));
	ck_assert(!fsm_feed_pending(g));
	ck_assert_int_eq(fsm_digest(f, df, &af), 0);
	ck_assert_int_eq(fsm_digest(g, dg, &ag), 0);
	ck_assert_uint_eq(af, ag);
	ck_assert_mem_eq(df, dg, 32);
	fsm_free(f);
	fsm_free(g);
}
END_TEST

static Suite *feed_fsm_suite(void)
{
	Suite *s = suite_create("feed_fsm");
	TCase *tc = tcase_create("queue");

	tcase_add_test(tc, nothing_is_queued_while_recording_is_off);
	tcase_add_test(tc, events_are_queued_in_order_and_runs_coalesce);
	tcase_add_test(tc, overflow_and_restore_collapse_into_a_reset);
	tcase_add_test(tc, recording_does_not_change_the_replicated_state);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(feed_fsm_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
