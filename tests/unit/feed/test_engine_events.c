/* test_engine_events.c: the engine's output events (engine.h, "output events").
 *
 * The property the feed relies on: a copy of an instance taken when it is resumed (its sticky
 * flag and out-of-sync ranges, as dmlogd's Watch takes it) and then kept current with nothing
 * but the events answers IN_SYNC exactly as the engine does, after every operation, until an
 * event ends it. Checked on random operation sequences over several logs, nodes and instances,
 * and on each emission point by hand: SET_REGION_SYNC both ways, the sticky flag, master
 * RESUME's runs, node loss, DTR and log deletion, a CTR that grows or replaces a log, a failed
 * operation (no event), and that listening changes nothing in the state.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fixture.h"

#define MAXR 256
#define MAXEV 4096
#define MAXCOPIES 64

struct ev {
	struct engine_event e;
	char uuid[ENGINE_UUID_MAX + 1];
	char node[ENGINE_NODE_NAME_MAX + 1];
};

static struct ev evs[MAXEV];
static size_t nevs;

static void on_event(void *arg, const struct engine_event *e)
{
	struct ev *v;

	(void)arg;
	ck_assert_uint_lt(nevs, MAXEV);
	v = &evs[nevs++];
	v->e = *e;
	snprintf(v->uuid, sizeof(v->uuid), "%s", e->uuid);
	v->e.uuid = v->uuid;
	if (e->node) {
		snprintf(v->node, sizeof(v->node), "%s", e->node);
		v->e.node = v->node;
	}
	if (e->kind == ENGINE_EVENT_SYNC)
		ck_assert_uint_le(e->first, e->last);
}

/* ---------------------------------------------------------------- copies made of events */

struct copy {
	bool used;
	char uuid[64];
	char node[16];
	uint64_t luid;
	uint64_t region_count;
	bool sticky;
	uint8_t in[MAXR];      /* 1: in sync */
};

static struct copy copies[MAXCOPIES];

struct take_ctx {
	struct copy *c;
};

static void take_range(void *arg, uint64_t first, uint64_t last)
{
	struct copy *c = ((struct take_ctx *)arg)->c;

	for (uint64_t r = first; r <= last && r < c->region_count; r++)
		c->in[r] = 0;
}

/* What the feed's Watch does: the view plus the out-of-sync runs. */
static void take_copy(struct engine *e, const char *uuid, const char *node, uint64_t luid)
{
	struct engine_instance_view v;
	struct take_ctx t;
	struct copy *c = NULL;

	ck_assert_int_eq(engine_instance_view(e, uuid, node, luid, &v), 0);
	ck_assert(v.resumed);
	for (int i = 0; i < MAXCOPIES && !c; i++)
		if (copies[i].used && copies[i].luid == luid && !strcmp(copies[i].uuid, uuid) &&
		    !strcmp(copies[i].node, node))
			c = &copies[i];
	for (int i = 0; i < MAXCOPIES && !c; i++)
		if (!copies[i].used)
			c = &copies[i];
	ck_assert_ptr_nonnull(c);
	memset(c, 0, sizeof(*c));
	c->used = true;
	snprintf(c->uuid, sizeof(c->uuid), "%s", uuid);
	snprintf(c->node, sizeof(c->node), "%s", node);
	c->luid = luid;
	c->region_count = v.region_count;
	c->sticky = v.sticky;
	memset(c->in, 1, sizeof(c->in));
	t.c = c;
	ck_assert_int_eq(engine_log_ranges(e, uuid, false, take_range, &t), 0);
}

/* What the feed does with each event. */
static void apply_events(void)
{
	for (size_t i = 0; i < nevs; i++) {
		const struct engine_event *e = &evs[i].e;

		for (int j = 0; j < MAXCOPIES; j++) {
			struct copy *c = &copies[j];

			if (!c->used || strcmp(c->uuid, e->uuid) != 0)
				continue;
			switch (e->kind) {
			case ENGINE_EVENT_SYNC:
				for (uint64_t r = e->first; r <= e->last && r < c->region_count; r++)
					c->in[r] = e->in_sync;
				break;
			case ENGINE_EVENT_INSTANCE:
				if (c->luid != e->luid || strcmp(c->node, e->node) != 0)
					break;
				if (e->gone || !e->resumed)
					c->used = false;
				else
					c->sticky = e->sticky;
				break;
			case ENGINE_EVENT_LOG_GONE:
				c->used = false;
				break;
			}
		}
	}
	nevs = 0;
}

/* Every copy answers every region as the engine does. */
static void check_copies(struct engine *e, const char *when)
{
	for (int j = 0; j < MAXCOPIES; j++) {
		struct copy *c = &copies[j];
		struct engine_instance_view v;

		if (!c->used)
			continue;
		ck_assert_msg(engine_instance_view(e, c->uuid, c->node, c->luid, &v) == 0 &&
				      v.resumed,
			      "%s: copy of %s/%s/%llu outlived its instance", when, c->uuid, c->node,
			      (unsigned long long)c->luid);
		for (uint64_t r = 0; r < c->region_count; r++) {
			struct engine_req q = fx_req(ENGINE_IN_SYNC, c->node, c->uuid, c->luid);
			struct engine_res res;

			q.region = r;
			engine_read(e, &q, &res);
			ck_assert_int_eq(res.error, 0);
			ck_assert_msg(res.flag == (c->sticky || c->in[r]),
				      "%s: %s/%s/%llu region %llu: engine %d, copy %d", when, c->uuid,
				      c->node, (unsigned long long)c->luid, (unsigned long long)r,
				      res.flag, c->sticky || c->in[r]);
		}
	}
}

static struct engine *e;

static void setup(void)
{
	e = engine_new();
	ck_assert_ptr_nonnull(e);
	engine_set_events(e, on_event, NULL);
	nevs = 0;
	memset(copies, 0, sizeof(copies));
}

static void teardown(void)
{
	engine_free(e);
	e = NULL;
}

/* Applies req, delivers its events and, after a RESUME that worked, takes the copy. */
static struct engine_res step(const struct engine_req *req)
{
	struct engine_res res = fx_apply(e, req);

	if (res.error)
		ck_assert_msg(nevs == 0, "op %u failed (%d) but reported %zu events", req->op,
			      res.error, nevs);
	apply_events();
	if (req->op == ENGINE_RESUME && res.error == 0)
		take_copy(e, req->uuid, req->node, req->luid);
	return res;
}

static void step_op(uint32_t op, const char *node, const char *uuid, uint64_t luid)
{
	struct engine_req q = fx_req(op, node, uuid, luid);

	step(&q);
}

static void step_ctr(const char *node, const char *uuid, uint64_t luid, const char *args)
{
	struct engine_req q = fx_req(ENGINE_CTR, node, uuid, luid);

	q.args = args;
	q.args_len = strlen(args);
	q.version = 3;
	ck_assert_int_eq(step(&q).error, 0);
}

static void step_sync(const char *node, const char *uuid, uint64_t luid, uint64_t r, bool in)
{
	struct engine_req q = fx_req(ENGINE_SET_REGION_SYNC, node, uuid, luid);

	q.region = r;
	q.in_sync = in;
	ck_assert_int_eq(step(&q).error, 0);
}

static void step_mark(const char *node, const char *uuid, uint64_t luid, uint64_t r, bool mark)
{
	struct engine_req q = fx_req(mark ? ENGINE_MARK_REGION : ENGINE_CLEAR_REGION, node, uuid,
				     luid);

	q.nregions = 1;
	q.regions[0] = r;
	ck_assert_int_eq(step(&q).error, 0);
}

static size_t count(enum engine_event_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < nevs; i++)
		n += evs[i].e.kind == kind;
	return n;
}

/* ---------------------------------------------------------------- emission points */

START_TEST(set_region_sync_reports_real_changes_both_ways)
{
	fx_open(e, "n1", U, 1, "1024 core 16");  /* 64 regions, out of sync */
	nevs = 0;
	ck_assert_int_eq(fx_set_sync(e, "n1", U, 1, 5, true), 0);
	ck_assert_uint_eq(nevs, 1);
	ck_assert_int_eq(evs[0].e.kind, ENGINE_EVENT_SYNC);
	ck_assert_str_eq(evs[0].e.uuid, U);
	ck_assert_uint_eq(evs[0].e.first, 5);
	ck_assert_uint_eq(evs[0].e.last, 5);
	ck_assert(evs[0].e.in_sync);
	nevs = 0;
	ck_assert_int_eq(fx_set_sync(e, "n1", U, 1, 5, true), 0); /* no change, no event */
	ck_assert_uint_eq(nevs, 0);
	ck_assert_int_eq(fx_set_sync(e, "n1", U, 1, 5, false), 0);
	ck_assert_uint_eq(nevs, 1);
	ck_assert(!evs[0].e.in_sync);
	nevs = 0;
	ck_assert_int_eq(fx_set_sync(e, "n1", U, 1, 6, false), 0); /* already out of sync */
	ck_assert_uint_eq(nevs, 0);
}
END_TEST

START_TEST(full_sync_makes_resumed_instances_sticky_once)
{
	fx_open(e, "n1", U, 1, "8 core 2");      /* 4 regions */
	fx_open(e, "n2", U, 2, "8 core 2");
	ck_assert_int_eq(fx_simple(e, ENGINE_PRESUSPEND, "n2", U, 2), 0);
	for (uint64_t r = 0; r < 3; r++)
		ck_assert_int_eq(fx_set_sync(e, "n1", U, 1, r, true), 0);
	nevs = 0;
	ck_assert_int_eq(fx_set_sync(e, "n1", U, 1, 3, true), 0);
	ck_assert_uint_eq(count(ENGINE_EVENT_SYNC), 1);
	ck_assert_uint_eq(count(ENGINE_EVENT_INSTANCE), 1); /* n2 is presuspended */
	ck_assert_str_eq(evs[1].e.node, "n1");
	ck_assert(evs[1].e.sticky && evs[1].e.resumed && !evs[1].e.gone);
	nevs = 0;
	ck_assert_int_eq(fx_set_sync(e, "n1", U, 1, 2, false), 0);
	ck_assert_int_eq(fx_set_sync(e, "n1", U, 1, 2, true), 0);
	ck_assert_uint_eq(count(ENGINE_EVENT_INSTANCE), 0); /* sticky already */
}
END_TEST

START_TEST(master_resume_reports_the_runs_it_takes_out_of_sync)
{
	static const uint64_t marked[] = {0, 1, 2, 63, 64, 65, 130, 199};

	fx_open(e, "n1", U, 1, "400 core 2 nosync"); /* 200 regions, all in sync and clean */
	for (size_t i = 0; i < sizeof(marked) / sizeof(marked[0]); i++)
		ck_assert_int_eq(fx_mark(e, "n1", U, 1, marked[i]), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_PRESUSPEND, "n1", U, 1), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_POSTSUSPEND, "n1", U, 1), 0);
	nevs = 0;
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "n1", U, 1), 0);
	ck_assert_uint_eq(nevs, 5);
	ck_assert_uint_eq(count(ENGINE_EVENT_SYNC), 4);
	ck_assert_uint_eq(evs[0].e.first, 0);
	ck_assert_uint_eq(evs[0].e.last, 2);
	ck_assert_uint_eq(evs[1].e.first, 63);
	ck_assert_uint_eq(evs[1].e.last, 65);
	ck_assert_uint_eq(evs[2].e.first, 130);
	ck_assert_uint_eq(evs[2].e.last, 130);
	ck_assert_uint_eq(evs[3].e.first, 199);
	ck_assert_uint_eq(evs[3].e.last, 199);
	for (int i = 0; i < 4; i++)
		ck_assert(!evs[i].e.in_sync);
	ck_assert_int_eq(evs[4].e.kind, ENGINE_EVENT_INSTANCE);
	ck_assert(evs[4].e.resumed && !evs[4].e.sticky);
}
END_TEST

START_TEST(node_loss_reports_its_regions_and_instances)
{
	fx_open(e, "n1", U, 1, "400 core 2 nosync");
	fx_open(e, "n2", U, 2, "400 core 2 nosync");
	ck_assert_int_eq(fx_mark(e, "n2", U, 2, 17), 0);
	nevs = 0;
	ck_assert_int_eq(engine_node_lost(e, "n2"), 0);
	ck_assert_uint_eq(count(ENGINE_EVENT_SYNC), 1);
	ck_assert_uint_eq(evs[0].e.first, 17);
	ck_assert(!evs[0].e.in_sync);
	ck_assert_uint_eq(count(ENGINE_EVENT_INSTANCE), 1);
	ck_assert_str_eq(evs[1].e.node, "n2");
	ck_assert(!evs[1].e.resumed && !evs[1].e.gone);
}
END_TEST

START_TEST(dtr_reports_the_instance_and_then_the_log)
{
	fx_open(e, "n1", U, 1, "400 core 2");
	fx_open(e, "n2", U, 2, "800 core 2");    /* grows the log to 400 regions */
	ck_assert_int_eq(fx_simple(e, ENGINE_PRESUSPEND, "n2", U, 2), 0);
	nevs = 0;
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "n2", U, 2), 0);
	ck_assert_uint_eq(nevs, 1); /* the shrink concerns no remaining instance */
	ck_assert(evs[0].e.gone);
	nevs = 0;
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "n1", U, 1), 0);
	ck_assert_uint_eq(nevs, 2);
	ck_assert(evs[0].e.gone);
	ck_assert_int_eq(evs[1].e.kind, ENGINE_EVENT_LOG_GONE);
}
END_TEST

START_TEST(ctr_growth_and_replacement_are_reported)
{
	fx_open(e, "n1", U, 1, "400 core 2");
	nevs = 0;
	ck_assert_int_eq(fx_ctr(e, "n2", U, 2, "600 core 2 nosync"), 0);
	ck_assert_uint_eq(nevs, 1);
	ck_assert_uint_eq(evs[0].e.first, 200);
	ck_assert_uint_eq(evs[0].e.last, 299);
	ck_assert(evs[0].e.in_sync);
	/* a closed disk log reopened in sync mode is re-created: the old one is gone */
	ck_assert_int_eq(fx_ctr(e, "n1", "LVM-disk", 1, "400 disk 253:2 2"), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_DTR, "n1", "LVM-disk", 1), 0);
	nevs = 0;
	ck_assert_int_eq(fx_ctr(e, "n1", "LVM-disk", 1, "400 disk 253:2 2 sync"), 0);
	ck_assert_uint_eq(nevs, 1);
	ck_assert_int_eq(evs[0].e.kind, ENGINE_EVENT_LOG_GONE);
	ck_assert_str_eq(evs[0].e.uuid, "LVM-disk");
}
END_TEST

START_TEST(failed_operations_report_nothing)
{
	struct engine_req q;

	fx_open(e, "n1", U, 1, "400 core 2");
	nevs = 0;
	q = fx_req(ENGINE_SET_REGION_SYNC, "n1", U, 1);
	q.region = 5000;
	q.in_sync = true;
	ck_assert_int_eq(fx_apply(e, &q).error, -22);
	ck_assert_int_eq(fx_ctr(e, "n2", U, 2, "400 core 4"), -22); /* other region size */
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, "n3", U, 3), -22);
	ck_assert_uint_eq(nevs, 0);
}
END_TEST

/* A mirror's life on two nodes, the copies checked after each step. */
START_TEST(scripted_life_of_a_mirror_keeps_copies_exact)
{
	step_ctr("n1", U, 1, "512 core 2");
	step_op(ENGINE_RESUME, "n1", U, 1);
	step_ctr("n2", U, 2, "512 core 2");
	step_op(ENGINE_RESUME, "n2", U, 2);
	check_copies(e, "both resumed");
	for (uint64_t r = 0; r < 256; r++) {
		step_sync("n1", U, 1, r, true);
		check_copies(e, "resync");
	}
	step_mark("n2", U, 2, 10, true);
	step_sync("n1", U, 1, 10, false);       /* a write failure on n1 */
	check_copies(e, "write failure");        /* sticky: still 1 everywhere */
	step_op(ENGINE_PRESUSPEND, "n1", U, 1);
	step_op(ENGINE_POSTSUSPEND, "n1", U, 1);
	step_op(ENGINE_RESUME, "n1", U, 1);      /* not master: n2 is resumed */
	check_copies(e, "n1 resumed again");
	step_mark("n2", U, 2, 10, false);
	step_op(ENGINE_PRESUSPEND, "n2", U, 2);
	step_op(ENGINE_POSTSUSPEND, "n2", U, 2);
	step_mark("n1", U, 1, 20, true);
	step_op(ENGINE_PRESUSPEND, "n1", U, 1);
	step_op(ENGINE_POSTSUSPEND, "n1", U, 1);
	step_op(ENGINE_RESUME, "n1", U, 1);      /* master: region 20 leaves the sync */
	check_copies(e, "master resume");
	step_op(ENGINE_RESUME, "n2", U, 2);
	check_copies(e, "n2 back");
}
END_TEST

/* ---------------------------------------------------------------- random sequences */

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

START_TEST(copies_kept_by_events_answer_like_the_engine)
{
	static const char *const uuids[] = {"LVM-a", "LVM-b"};
	static const char *const nodes[] = {"n1", "n2", "n3"};
	static const char *const args[] = {"256 core 2", "256 core 2 nosync", "512 core 2",
					   "512 core 2 nosync", "128 core 2"};
	struct engine *plain = engine_new(); /* the same operations, nobody listening */
	char when[64];

	for (int i = 0; i < 3000; i++) {
		const char *u = uuids[rnd(2)], *n = nodes[rnd(3)];
		uint64_t luid = 1 + rnd(2), r = rnd(256);
		struct engine_req q;
		struct engine_res res;

		switch (rnd(12)) {
		case 0:
			q = fx_req(ENGINE_CTR, n, u, luid);
			q.args = args[rnd(5)];
			q.args_len = strlen(q.args);
			q.version = 3;
			break;
		case 1:
		case 2:
			q = fx_req(ENGINE_RESUME, n, u, luid);
			break;
		case 3:
			q = fx_req(rnd(2) ? ENGINE_PRESUSPEND : ENGINE_POSTSUSPEND, n, u, luid);
			break;
		case 4:
			q = fx_req(ENGINE_DTR, n, u, luid);
			break;
		case 5:
		case 6:
		case 7:
			q = fx_req(ENGINE_SET_REGION_SYNC, n, u, luid);
			q.region = r;
			q.in_sync = rnd(4) != 0;
			break;
		case 8:
		case 9:
			q = fx_req(rnd(2) ? ENGINE_MARK_REGION : ENGINE_CLEAR_REGION, n, u, luid);
			q.nregions = 1;
			q.regions[0] = r;
			break;
		case 10:
			q = fx_req(ENGINE_GET_RESYNC_WORK, n, u, luid);
			break;
		default:
			if (rnd(8) == 0) {
				ck_assert_int_eq(engine_node_lost(e, n), 0);
				ck_assert_int_eq(engine_node_lost(plain, n), 0);
				apply_events();
				snprintf(when, sizeof(when), "step %d node %s lost", i, n);
				check_copies(e, when);
				continue;
			}
			q = fx_req(ENGINE_IS_REMOTE_RECOVERING, n, u, luid);
			q.region = r;
			break;
		}
		res = step(&q);
		engine_apply(plain, &q, &(struct engine_res){0});
		snprintf(when, sizeof(when), "step %d op %u err %d", i, q.op, res.error);
		check_copies(e, when);
	}
	ck_assert(fx_state_equal(e, plain));
	engine_free(plain);
}
END_TEST

static Suite *events_suite(void)
{
	Suite *s = suite_create("engine_events");
	TCase *tc = tcase_create("events");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, set_region_sync_reports_real_changes_both_ways);
	tcase_add_test(tc, full_sync_makes_resumed_instances_sticky_once);
	tcase_add_test(tc, master_resume_reports_the_runs_it_takes_out_of_sync);
	tcase_add_test(tc, node_loss_reports_its_regions_and_instances);
	tcase_add_test(tc, dtr_reports_the_instance_and_then_the_log);
	tcase_add_test(tc, ctr_growth_and_replacement_are_reported);
	tcase_add_test(tc, failed_operations_report_nothing);
	tcase_add_test(tc, scripted_life_of_a_mirror_keeps_copies_exact);
	tcase_add_test(tc, copies_kept_by_events_answer_like_the_engine);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(events_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
