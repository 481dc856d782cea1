/* test_async.c: the non-blocking API against a fake dmlogd: every request type on the wire and
 * back, pipelining in and out of order, deadlines, server errors, refused submissions,
 * cancellation and freeing from callbacks. Connection handling is in test_link.c. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <dmlog/async.h>

#include "cases.h"
#include "fixture.h"
#include "harness.h"

/* Submits req through the typed function of its type, with fixture_on_done. */
static int submit_typed(struct dmlog_async *ac, const struct dmlog_request *r, void *arg)
{
	const struct dmlog_log_ref *log = &r->log;
	dmlog_async_cb *cb = fixture_on_done;

	switch (r->op) {
	case DMLOG_OP_CTR: return dmlog_async_ctr(ac, log, r->args, r->reconnect, cb, arg);
	case DMLOG_OP_DTR: return dmlog_async_dtr(ac, log, cb, arg);
	case DMLOG_OP_PRESUSPEND: return dmlog_async_presuspend(ac, log, cb, arg);
	case DMLOG_OP_POSTSUSPEND: return dmlog_async_postsuspend(ac, log, cb, arg);
	case DMLOG_OP_RESUME: return dmlog_async_resume(ac, log, cb, arg);
	case DMLOG_OP_GET_REGION_SIZE: return dmlog_async_get_region_size(ac, log, cb, arg);
	case DMLOG_OP_IS_CLEAN: return dmlog_async_is_clean(ac, log, r->region, cb, arg);
	case DMLOG_OP_IN_SYNC: return dmlog_async_in_sync(ac, log, r->region, cb, arg);
	case DMLOG_OP_FLUSH:
		return dmlog_async_flush(ac, log, r->regions, r->region_count, cb, arg);
	case DMLOG_OP_MARK_REGION:
		return dmlog_async_mark_region(ac, log, r->regions, r->region_count, cb, arg);
	case DMLOG_OP_CLEAR_REGION:
		return dmlog_async_clear_region(ac, log, r->regions, r->region_count, cb, arg);
	case DMLOG_OP_GET_RESYNC_WORK: return dmlog_async_get_resync_work(ac, log, cb, arg);
	case DMLOG_OP_SET_REGION_SYNC:
		return dmlog_async_set_region_sync(ac, log, r->region, r->in_sync, cb, arg);
	case DMLOG_OP_GET_SYNC_COUNT: return dmlog_async_get_sync_count(ac, log, cb, arg);
	case DMLOG_OP_STATUS_INFO: return dmlog_async_status_info(ac, log, cb, arg);
	case DMLOG_OP_STATUS_TABLE: return dmlog_async_status_table(ac, log, cb, arg);
	case DMLOG_OP_IS_REMOTE_RECOVERING:
		return dmlog_async_is_remote_recovering(ac, log, r->region, cb, arg);
	case DMLOG_OP_PING: return dmlog_async_ping(ac, cb, arg);
	case DMLOG_OP_ADMIN_STATUS: return dmlog_async_admin_status(ac, cb, arg);
	case DMLOG_OP_ADMIN_LIST_LOGS: return dmlog_async_admin_list_logs(ac, cb, arg);
	case DMLOG_OP_ADMIN_SHOW_LOG: return dmlog_async_admin_show_log(ac, r->log.uuid, cb, arg);
	case DMLOG_OP_WATCH: return dmlog_async_watch(ac, log, cb, arg);
	case DMLOG_OP_UNWATCH: return dmlog_async_unwatch(ac, r->feed_id, r->watch_id, cb, arg);
	case DMLOG_OP_FEED_ACK: return dmlog_async_feed_ack(ac, r->feed_id, r->seq, cb, arg);
	case DMLOG_OP_ADMIN_PEER_ADD:
		return dmlog_async_admin_peer_add(ac, r->peer_raft_id, r->peer_raft_address,
						  r->peer_id, cb, arg);
	case DMLOG_OP_ADMIN_PEER_REMOVE:
		return dmlog_async_admin_peer_remove(ac, r->peer_raft_id, cb, arg);
	case DMLOG_OP_ADMIN_DIGEST: return dmlog_async_admin_digest(ac, cb, arg);
	}
	return -EINVAL;
}

/* ---------------------------------------------------------------- every request type */

START_TEST(every_request_type_round_trips_field_by_field)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog_async *ac;
	struct fixture_outcome out[CASES_COUNT];
	unsigned conn;

	harness_server_config(&cfg);
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	ac = fixture_client(&o);
	memset(out, 0, sizeof(out));
	for (size_t i = 0; i < CASES_COUNT; i++)
		ck_assert_int_eq(submit_typed(ac, cases_request(i), &out[i]), 0);
	ck_assert_uint_eq(dmlog_async_pending(ac), CASES_COUNT);
	/* Nothing is called back from inside a submitting call. */
	ck_assert_int_eq(fixture_completed, 0);
	ck_assert_uint_eq(dmlog_async_lease_ms(ac), 0);
	fixture_wait_completed(CASES_COUNT, 5000);
	ck_assert(dmlog_async_connected(ac));
	ck_assert_uint_eq(dmlog_async_lease_ms(ac), FAKE_LEASE_MS);
	ck_assert_uint_eq(dmlog_async_pending(ac), 0);

	for (size_t i = 0; i < CASES_COUNT; i++) {
		ck_assert_int_eq(out[i].calls, 1);
		ck_assert_msg(out[i].status == 0, "%s: %s", dmlog_op_name(cases_request(i)->op),
			      out[i].errmsg);
		cases_check_result(cases_request(i), out[i].res);
	}

	/* The server saw the Hello first, then each request in order, with its id. */
	ck_assert_uint_eq(fake_server_received(fs), CASES_COUNT + 1);
	Dmlog__ClientMessage *hello = fake_server_message(fs, 0, &conn);
	cases_check_hello(hello, "test_client", dmlog_async_client_id(ac));
	ck_assert_uint_eq(conn, 1);
	for (size_t i = 0; i < CASES_COUNT; i++) {
		Dmlog__ClientMessage *cm = fake_server_message(fs, i + 1, &conn);

		cases_check_wire(cases_request(i), cm, out[i].res->request_id);
		ck_assert_uint_eq(conn, 1);
		if (i > 0)
			ck_assert_uint_eq(out[i].res->request_id, out[i - 1].res->request_id + 1);
		dmlog__client_message__free_unpacked(cm, NULL);
	}
	dmlog__client_message__free_unpacked(hello, NULL);
	ck_assert_uint_ne(dmlog_async_client_id(ac), 0);

	dmlog_async_free(ac);
	fixture_free_outcomes(out, CASES_COUNT);
	fake_server_stop(fs);
}
END_TEST

START_TEST(client_ids_differ_between_handles)
{
	struct dmlog_options o;
	struct dmlog_async *a, *b;

	harness_options(&o, "127.0.0.1:1");
	a = fixture_client(&o);
	b = fixture_client(&o);
	ck_assert_uint_ne(dmlog_async_client_id(a), dmlog_async_client_id(b));
	dmlog_async_free(a);
	dmlog_async_free(b);
}
END_TEST

/* ---------------------------------------------------------------- pipelining */

#define PIPELINE 1000

/* The outcomes of pipeline()'s requests, and the request ids in the order their callbacks
 * ran. */
static struct fixture_outcome *pipe_out;
static uint64_t pipe_called[PIPELINE];
static size_t pipe_ncalled;

/* fixture_on_done, then the id the callback was for, taken from the submission slot (not from
 * the result, so that a callback run for the wrong request shows). */
static void on_pipelined(struct dmlog_async *ac, int status, const struct dmlog_result *res,
			 void *arg)
{
	struct fixture_outcome *o = arg;

	fixture_on_done(ac, status, res, arg);
	ck_assert_uint_lt(pipe_ncalled, PIPELINE);
	pipe_called[pipe_ncalled++] = (uint64_t)(o - pipe_out);
}

/* Submits PIPELINE IN_SYNC requests at once and checks each is answered once, correctly, on one
 * connection. Returns with pipe_called holding the submission index of each callback, in the
 * order the callbacks ran. */
static void pipeline(unsigned reorder_batch)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog_async *ac;
	struct fixture_outcome *out = calloc(PIPELINE, sizeof(*out));

	ck_assert_ptr_nonnull(out);
	pipe_out = out;
	pipe_ncalled = 0;
	harness_server_config(&cfg);
	cfg.reorder_batch = reorder_batch;
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	ac = fixture_client(&o);
	for (uint64_t i = 0; i < PIPELINE; i++)
		ck_assert_int_eq(dmlog_async_in_sync(ac, &fixture_log, i, on_pipelined, &out[i]), 0);
	fixture_wait_completed(PIPELINE, 20000);
	ck_assert_uint_eq(pipe_ncalled, PIPELINE);
	for (uint64_t i = 0; i < PIPELINE; i++) {
		ck_assert_int_eq(out[i].calls, 1);
		ck_assert_int_eq(out[i].status, 0);
		ck_assert_int_eq(out[i].res->in_sync, fake_in_sync(i));
		if (i > 0)
			ck_assert_uint_eq(out[i].res->request_id, out[i - 1].res->request_id + 1);
		ck_assert_uint_eq(fake_server_answers(fs, out[i].res->request_id), 1);
	}
	/* One connection carried everything. With reordering, the server held a whole batch of
	 * requests before answering any of them: they were in flight together. */
	ck_assert_uint_eq(fake_server_connections(fs), 1);
	ck_assert_uint_eq(fake_server_requests(fs), PIPELINE);
	dmlog_async_free(ac);
	fixture_free_outcomes(out, PIPELINE);
	free(out);
	pipe_out = NULL;
	fake_server_stop(fs);
}

START_TEST(pipelined_requests_answered_in_order)
{
	/* The server answers in arrival order: the callbacks must run in the order of the
	 * request ids, the k-th callback for the k-th request submitted. */
	pipeline(0);
	for (size_t k = 0; k < PIPELINE; k++)
		ck_assert_msg(pipe_called[k] == k, "callback %zu was for request %llu", k,
			      (unsigned long long)pipe_called[k]);
}
END_TEST

/* Callbacks run in the order the answers arrive; check that order through a counter. */
static unsigned order_seen[PIPELINE];
static unsigned order_next;

static void on_order(struct dmlog_async *ac, int status, const struct dmlog_result *res, void *arg)
{
	uint64_t region = (uint64_t)(uintptr_t)arg;

	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(res->in_sync, fake_in_sync(region));
	order_seen[order_next++] = (unsigned)region;
	fixture_completed++;
}

START_TEST(pipelined_requests_answered_out_of_order)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog_async *ac;

	pipeline(100);

	/* And the exact order: newest first within each batch of 100. */
	fixture_completed = 0;
	order_next = 0;
	harness_server_config(&cfg);
	cfg.reorder_batch = 100;
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	ac = fixture_client(&o);
	for (uint64_t i = 0; i < PIPELINE; i++)
		ck_assert_int_eq(dmlog_async_in_sync(ac, &fixture_log, i, on_order, (void *)(uintptr_t)i), 0);
	fixture_wait_completed(PIPELINE, 20000);
	for (unsigned i = 0; i < PIPELINE; i++)
		ck_assert_uint_eq(order_seen[i], (i / 100) * 100 + 99 - i % 100);
	dmlog_async_free(ac);
	fake_server_stop(fs);
}
END_TEST









/* ---------------------------------------------------------------- deadlines and errors */

START_TEST(deadline_expiry_reports_etimedout_with_a_message)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog_async *ac;
	struct fixture_outcome out = { 0 };
	long long start;

	harness_server_config(&cfg);
	cfg.black_hole = true;
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	o.request_timeout_ms = 300;
	ac = fixture_client(&o);
	start = harness_now_ms();
	ck_assert_int_eq(dmlog_async_in_sync(ac, &fixture_log, 5, fixture_on_done, &out), 0);
	fixture_wait_completed(1, 5000);
	ck_assert_int_eq(out.calls, 1);
	ck_assert_int_eq(out.status, -ETIMEDOUT);
	ck_assert_int_ge(out.at_ms - start, 290);
	ck_assert_int_lt(out.at_ms - start, 3000);
	ck_assert_msg(strstr(out.errmsg, "IN_SYNC request 1: no reply within 300 ms"), "%s",
		      out.errmsg);
	ck_assert_uint_eq(dmlog_async_pending(ac), 0);
	dmlog_async_free(ac);
	fake_server_stop(fs);
}
END_TEST


START_TEST(requests_without_deadline_wait_until_freed)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog_async *ac;
	struct fixture_outcome out = { 0 };

	harness_server_config(&cfg);
	cfg.black_hole = true;
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	o.request_timeout_ms = DMLOG_TIMEOUT_NONE;
	ac = fixture_client(&o);
	ck_assert_int_eq(dmlog_async_get_resync_work(ac, &fixture_log, fixture_on_done, &out), 0);
	ck_assert(!fixture_run_until_completed(1, 400));
	ck_assert_uint_eq(fake_server_requests(fs), 1);
	ck_assert_uint_eq(dmlog_async_pending(ac), 1);
	dmlog_async_free(ac);
	ck_assert_int_eq(out.calls, 1);
	ck_assert_int_eq(out.status, -ECANCELED);
	fake_server_stop(fs);
}
END_TEST

START_TEST(server_error_carries_its_errno_and_message)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog_async *ac;
	struct fixture_outcome out = { 0 };

	harness_server_config(&cfg);
	cfg.error_errno = -ENOSPC;
	cfg.error_message = "log LVM-logb: no room for another instance";
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	ac = fixture_client(&o);
	ck_assert_int_eq(dmlog_async_ctr(ac, &fixture_log, "1024 clustered-core 8", false,
					 fixture_on_done, &out), 0);
	fixture_wait_completed(1, 5000);
	ck_assert_int_eq(out.status, -ENOSPC);
	ck_assert_str_eq(out.errmsg, "CTR request 1: log LVM-logb: no room for another instance");
	dmlog_async_free(ac);
	fake_server_stop(fs);
}
END_TEST


START_TEST(invalid_requests_are_refused_without_a_callback)
{
	struct dmlog_options o;
	struct dmlog_async *ac;
	struct fixture_outcome out = { 0 };
	uint64_t many[DMLOG_MAX_REGIONS + 1] = { 0 };
	char long_uuid[DMLOG_UUID_MAX + 2];
	struct dmlog_log_ref bad = fixture_log;
	const struct dmlog_log_ref *log = &fixture_log;
	dmlog_async_cb *cb = fixture_on_done;

	harness_options(&o, "127.0.0.1:1");
	ac = fixture_client(&o);
	ck_assert_int_eq(dmlog_async_mark_region(ac, log, many, 0, cb, &out), -EINVAL);
	ck_assert_str_eq(dmlog_async_errmsg(ac), "MARK_REGION: 0 regions (1 to 32 allowed)");
	ck_assert_int_eq(dmlog_async_flush(ac, &fixture_log, many, 33, fixture_on_done, &out), -EINVAL);
	ck_assert_int_eq(dmlog_async_clear_region(ac, log, NULL, 2, cb, &out), -EINVAL);
	bad.uuid = NULL;
	ck_assert_int_eq(dmlog_async_dtr(ac, &bad, fixture_on_done, &out), -EINVAL);
	ck_assert_str_eq(dmlog_async_errmsg(ac), "DTR: log uuid missing");
	memset(long_uuid, 'u', sizeof(long_uuid) - 1);
	long_uuid[sizeof(long_uuid) - 1] = '\0';
	bad.uuid = long_uuid;
	ck_assert_int_eq(dmlog_async_dtr(ac, &bad, fixture_on_done, &out), -EINVAL);
	ck_assert_int_eq(dmlog_async_admin_show_log(ac, "", fixture_on_done, &out), -EINVAL);
	struct dmlog_request weird = { .op = (enum dmlog_op)99 };
	ck_assert_int_eq(dmlog_async_submit(ac, &weird, fixture_on_done, &out), -EINVAL);
	ck_assert_int_eq(dmlog_async_submit(ac, &weird, NULL, &out), -EINVAL);
	ck_assert_uint_eq(dmlog_async_pending(ac), 0);
	/* 32 regions are fine, and a FLUSH may carry none. */
	ck_assert_int_eq(dmlog_async_mark_region(ac, &fixture_log, many, 32, fixture_on_done, &out), 0);
	ck_assert_int_eq(dmlog_async_flush(ac, &fixture_log, NULL, 0, fixture_on_done, &out), 0);
	dmlog_async_free(ac);
	ck_assert_int_eq(out.calls, 2);
	ck_assert_int_eq(out.status, -ECANCELED);
}
END_TEST

START_TEST(max_in_flight_bounds_pending_requests)
{
	struct dmlog_options o;
	struct dmlog_async *ac;
	struct fixture_outcome out[5];

	memset(out, 0, sizeof(out));
	harness_options(&o, "127.0.0.1:1");
	o.max_in_flight = 4;
	ac = fixture_client(&o);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(dmlog_async_ping(ac, fixture_on_done, &out[i]), 0);
	ck_assert_int_eq(dmlog_async_ping(ac, fixture_on_done, &out[4]), -EAGAIN);
	ck_assert_msg(strstr(dmlog_async_errmsg(ac), "4 requests already pending"), "%s",
		      dmlog_async_errmsg(ac));
	dmlog_async_free(ac);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(out[i].calls, 1);
	ck_assert_int_eq(out[4].calls, 0);
}
END_TEST

/* ---------------------------------------------------------------- teardown */

START_TEST(free_with_pending_requests_cancels_each_once)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog_async *ac;
	struct fixture_outcome out[10];

	memset(out, 0, sizeof(out));
	harness_server_config(&cfg);
	cfg.black_hole = true;
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	ac = fixture_client(&o);
	for (uint64_t i = 0; i < 10; i++)
		ck_assert_int_eq(dmlog_async_is_remote_recovering(ac, &fixture_log, i,
								  fixture_on_done, &out[i]), 0);
	fixture_wait_received(fs, 11, 5000);
	ck_assert_int_eq(fixture_completed, 0);
	dmlog_async_free(ac);
	ck_assert_int_eq(fixture_completed, 10);
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(out[i].calls, 1);
		ck_assert_int_eq(out[i].status, -ECANCELED);
		ck_assert_msg(strstr(out[i].errmsg, "cancelled: the handle was freed"), "%s",
			      out[i].errmsg);
	}
	/* Once libevent has finalized the connection, nothing of the handle is left on the loop:
	 * no deadline, no reconnection timer. */
	event_base_loop(fixture_base, EVLOOP_NONBLOCK);
	event_base_loop(fixture_base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(event_base_loop(fixture_base, EVLOOP_NONBLOCK), 1);
	fake_server_stop(fs);
}
END_TEST

struct freeing {
	int calls[8];
	int status[8];
	int resubmit_rc;
};

static struct freeing freeing;

static void on_free_inside(struct dmlog_async *ac, int status, const struct dmlog_result *res,
			   void *arg)
{
	int i = (int)(intptr_t)arg;

	freeing.calls[i]++;
	freeing.status[i] = status;
	fixture_completed++;
	if (status == 0) {
		dmlog_async_free(ac);
		/* A second free from the same callback is harmless. */
		dmlog_async_free(ac);
	} else if (status == -ECANCELED && i == 7) {
		/* The handle is being freed: no new request may start. */
		freeing.resubmit_rc = dmlog_async_ping(ac, on_free_inside, (void *)(intptr_t)0);
	}
}

START_TEST(free_from_inside_a_callback_is_safe)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog_async *ac;

	memset(&freeing, 0, sizeof(freeing));
	harness_server_config(&cfg);
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	ac = fixture_client(&o);
	for (intptr_t i = 0; i < 8; i++)
		ck_assert_int_eq(dmlog_async_in_sync(ac, &fixture_log, (uint64_t)i, on_free_inside,
						     (void *)i), 0);
	fixture_wait_completed(8, 5000);
	ck_assert_int_eq(freeing.calls[0], 1);
	ck_assert_int_eq(freeing.status[0], 0);
	for (int i = 1; i < 8; i++) {
		ck_assert_int_eq(freeing.calls[i], 1);
		ck_assert_int_eq(freeing.status[i], -ECANCELED);
	}
	ck_assert_int_eq(freeing.resubmit_rc, -ECANCELED);
	/* Let anything left on the loop run: it must not touch the freed handle. */
	event_base_loop(fixture_base, EVLOOP_NONBLOCK);
	fake_server_stop(fs);
}
END_TEST

static struct dmlog_async *chain_ac;
static int chain_left;

static void on_chain(struct dmlog_async *ac, int status, const struct dmlog_result *res, void *arg)
{
	ck_assert_int_eq(status, 0);
	fixture_completed++;
	if (--chain_left > 0)
		ck_assert_int_eq(dmlog_async_ping(ac, on_chain, NULL), 0);
}

START_TEST(callbacks_may_submit_new_requests)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;

	harness_server_config(&cfg);
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	chain_ac = fixture_client(&o);
	chain_left = 50;
	ck_assert_int_eq(dmlog_async_ping(chain_ac, on_chain, NULL), 0);
	fixture_wait_completed(50, 5000);
	ck_assert_uint_eq(fake_server_requests(fs), 50);
	ck_assert_uint_eq(fake_server_connections(fs), 1);
	dmlog_async_free(chain_ac);
	fake_server_stop(fs);
}
END_TEST

START_TEST(delayed_answers_still_arrive)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog_async *ac;
	struct fixture_outcome out[3];
	long long start;

	memset(out, 0, sizeof(out));
	harness_server_config(&cfg);
	cfg.delay_ms = 150;
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	ac = fixture_client(&o);
	start = harness_now_ms();
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(dmlog_async_status_table(ac, &fixture_log, fixture_on_done, &out[i]), 0);
	fixture_wait_completed(3, 5000);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(out[i].status, 0);
		ck_assert_str_eq(out[i].res->text, "table LVM-logb");
		ck_assert_int_ge(out[i].at_ms - start, 145);
	}
	dmlog_async_free(ac);
	fixture_free_outcomes(out, 3);
	fake_server_stop(fs);
}
END_TEST

static Suite *async_suite(void)
{
	Suite *s = suite_create("client_async");
	TCase *t;

	t = fixture_tcase(s, "requests", 60);
	tcase_add_test(t, every_request_type_round_trips_field_by_field);
	tcase_add_test(t, client_ids_differ_between_handles);
	tcase_add_test(t, invalid_requests_are_refused_without_a_callback);
	tcase_add_test(t, max_in_flight_bounds_pending_requests);
	tcase_add_test(t, callbacks_may_submit_new_requests);
	tcase_add_test(t, delayed_answers_still_arrive);

	t = fixture_tcase(s, "pipelining", 90);
	tcase_add_test(t, pipelined_requests_answered_in_order);
	tcase_add_test(t, pipelined_requests_answered_out_of_order);

	t = fixture_tcase(s, "failures", 60);
	tcase_add_test(t, deadline_expiry_reports_etimedout_with_a_message);
	tcase_add_test(t, requests_without_deadline_wait_until_freed);
	tcase_add_test(t, server_error_carries_its_errno_and_message);

	t = fixture_tcase(s, "teardown", 60);
	tcase_add_test(t, free_with_pending_requests_cancels_each_once);
	tcase_add_test(t, free_from_inside_a_callback_is_safe);
	return s;
}

int main(void)
{
	/* As <dmlog/async.h> asks of applications. */
	signal(SIGPIPE, SIG_IGN);
	return harness_run(async_suite());
}
