/* test_sync.c: the blocking API against fake dmlogd servers: every typed call and dmlog_call(),
 * owned admin results, buffers too small, deadlines, redirects and reconnects inside a call. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dmlog/dmlog.h>

#include "cases.h"
#include "harness.h"

static struct dmlog *new_sync(const struct dmlog_options *o)
{
	char err[DMLOG_ERRMSG_SIZE];
	struct dmlog *h = dmlog_new(o, err);

	ck_assert_msg(h != NULL, "dmlog_new: %s", err);
	return h;
}

/* Runs the i-th case through its typed blocking function and checks what came back. */
static void run_typed(struct dmlog *h, const struct dmlog_request *r)
{
	const struct dmlog_log_ref *log = &r->log;
	struct dmlog_result *res = NULL;
	struct dmlog_resync_work work;
	struct dmlog_remote_recovering rr;
	char text[128];
	uint64_t u = 0;
	bool b = false;
	int rc;

	switch (r->op) {
	case DMLOG_OP_CTR:
		rc = dmlog_ctr(h, log, r->args, r->reconnect, text, sizeof(text));
		ck_assert_msg(rc == 0, "%s", dmlog_errmsg(h));
		ck_assert_str_eq(text, FAKE_DEVICE);
		return;
	case DMLOG_OP_DTR: rc = dmlog_dtr(h, log); break;
	case DMLOG_OP_PRESUSPEND: rc = dmlog_presuspend(h, log); break;
	case DMLOG_OP_POSTSUSPEND: rc = dmlog_postsuspend(h, log); break;
	case DMLOG_OP_RESUME: rc = dmlog_resume(h, log); break;
	case DMLOG_OP_GET_REGION_SIZE:
		rc = dmlog_get_region_size(h, log, &u);
		ck_assert_uint_eq(u, FAKE_REGION_SIZE);
		break;
	case DMLOG_OP_IS_CLEAN:
		rc = dmlog_is_clean(h, log, r->region, &b);
		ck_assert_int_eq(b, fake_clean(r->region));
		break;
	case DMLOG_OP_IN_SYNC:
		rc = dmlog_in_sync(h, log, r->region, &b);
		ck_assert_int_eq(b, fake_in_sync(r->region));
		break;
	case DMLOG_OP_FLUSH: rc = dmlog_flush(h, log, r->regions, r->region_count); break;
	case DMLOG_OP_MARK_REGION:
		rc = dmlog_mark_region(h, log, r->regions, r->region_count);
		break;
	case DMLOG_OP_CLEAR_REGION:
		rc = dmlog_clear_region(h, log, r->regions, r->region_count);
		break;
	case DMLOG_OP_GET_RESYNC_WORK:
		rc = dmlog_get_resync_work(h, log, &work);
		ck_assert(work.has_work);
		ck_assert_uint_eq(work.region, fake_resync_region(log->luid));
		break;
	case DMLOG_OP_SET_REGION_SYNC:
		rc = dmlog_set_region_sync(h, log, r->region, r->in_sync);
		break;
	case DMLOG_OP_GET_SYNC_COUNT:
		rc = dmlog_get_sync_count(h, log, &u);
		ck_assert_uint_eq(u, fake_sync_count(log->luid));
		break;
	case DMLOG_OP_STATUS_INFO:
	case DMLOG_OP_STATUS_TABLE:
		rc = r->op == DMLOG_OP_STATUS_INFO ? dmlog_status_info(h, log, text, sizeof(text)) :
			dmlog_status_table(h, log, text, sizeof(text));
		ck_assert_int_eq(strncmp(text, r->op == DMLOG_OP_STATUS_INFO ? "info " : "table ",
					 5), 0);
		ck_assert_ptr_nonnull(strstr(text, log->uuid));
		break;
	case DMLOG_OP_IS_REMOTE_RECOVERING:
		rc = dmlog_is_remote_recovering(h, log, r->region, &rr);
		ck_assert_int_eq(rr.recovering, fake_recovering(r->region));
		ck_assert_uint_eq(rr.in_sync_hint, fake_hint(r->region));
		break;
	case DMLOG_OP_PING: rc = dmlog_ping(h); break;
	case DMLOG_OP_ADMIN_STATUS:
		rc = dmlog_admin_status(h, &res);
		break;
	case DMLOG_OP_ADMIN_LIST_LOGS:
		rc = dmlog_admin_list_logs(h, &res);
		break;
	case DMLOG_OP_ADMIN_SHOW_LOG:
		rc = dmlog_admin_show_log(h, r->log.uuid, &res);
		break;
	case DMLOG_OP_ADMIN_PEER_ADD:
		rc = dmlog_admin_peer_add(h, r->peer_raft_id, r->peer_raft_address, r->peer_id,
					  &res);
		break;
	case DMLOG_OP_ADMIN_PEER_REMOVE:
		rc = dmlog_admin_peer_remove(h, r->peer_raft_id, &res);
		break;
	case DMLOG_OP_ADMIN_DIGEST:
		rc = dmlog_admin_digest(h, &res);
		break;
	default:
		rc = -EINVAL;
		break;
	}
	ck_assert_msg(rc == 0, "%s: %s", dmlog_op_name(r->op), dmlog_errmsg(h));
	if (res) {
		cases_check_result(r, res);
		dmlog_result_free(res);
	}
}

START_TEST(every_typed_call_round_trips)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog *h;
	unsigned conn;

	harness_server_config(&cfg);
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	h = new_sync(&o);
	for (size_t i = 0; i < CASES_COUNT; i++)
		run_typed(h, cases_request(i));

	/* One Hello, then each request with the next id, all on one connection. The first
	 * request was submitted before the connection existed, so it has id 1 and the Hello the
	 * next one. */
	ck_assert_uint_eq(fake_server_received(fs), CASES_COUNT + 1);
	Dmlog__ClientMessage *hello = fake_server_message(fs, 0, NULL);
	ck_assert_int_eq(hello->body_case, DMLOG__CLIENT_MESSAGE__BODY_HELLO);
	ck_assert_uint_eq(hello->hello->protocol_version, 1);
	ck_assert_str_eq(hello->hello->client_name, "test_client");
	ck_assert_uint_ne(hello->hello->client_id, 0);
	uint64_t id = 1;
	for (size_t i = 0; i < CASES_COUNT; i++, id++) {
		Dmlog__ClientMessage *cm = fake_server_message(fs, i + 1, &conn);

		if (id == hello->id)
			id++;
		cases_check_wire(cases_request(i), cm, id);
		ck_assert_uint_eq(conn, 1);
		dmlog__client_message__free_unpacked(cm, NULL);
	}
	dmlog__client_message__free_unpacked(hello, NULL);
	ck_assert_uint_eq(fake_server_connections(fs), 1);
	dmlog_free(h);
	fake_server_stop(fs);
}
END_TEST

START_TEST(generic_call_returns_owned_results)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog *h;

	harness_server_config(&cfg);
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	h = new_sync(&o);
	for (size_t i = 0; i < CASES_COUNT; i++) {
		struct dmlog_result *res = NULL;
		int rc = dmlog_call(h, cases_request(i), &res);

		ck_assert_msg(rc == 0, "%s", dmlog_errmsg(h));
		cases_check_result(cases_request(i), res);
		dmlog_result_free(res);
		ck_assert_int_eq(dmlog_call(h, cases_request(i), NULL), 0);
	}
	ck_assert_str_eq(dmlog_errmsg(h), "");
	dmlog_free(h);
	fake_server_stop(fs);
}
END_TEST

START_TEST(results_outlive_the_handle)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog *h;
	struct dmlog_result *detail, *copy, *change, *digest;
	const struct dmlog_request *add = cases_request(CASES_PEER_ADD);

	harness_server_config(&cfg);
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	o.cert_file = harness_certs.good.admin_cert;
	o.key_file = harness_certs.good.admin_key;
	h = new_sync(&o);
	ck_assert_int_eq(dmlog_admin_show_log(h, "log-x", &detail), 0);
	ck_assert_int_eq(dmlog_admin_peer_add(h, add->peer_raft_id, add->peer_raft_address,
					      add->peer_id, &change), 0);
	ck_assert_int_eq(dmlog_admin_digest(h, &digest), 0);
	dmlog_free(h);
	fake_server_stop(fs);
	cases_check_result(cases_request(CASES_SHOW_LOG), detail);
	copy = dmlog_result_dup(detail);
	dmlog_result_free(detail);
	cases_check_result(cases_request(CASES_SHOW_LOG), copy);
	dmlog_result_free(copy);
	copy = dmlog_result_dup(change);
	dmlog_result_free(change);
	cases_check_result(add, copy);
	dmlog_result_free(copy);
	copy = dmlog_result_dup(digest);
	dmlog_result_free(digest);
	cases_check_result(cases_request(CASES_DIGEST), copy);
	dmlog_result_free(copy);
	dmlog_result_free(NULL);
}
END_TEST

START_TEST(text_that_does_not_fit_is_erange)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog *h;
	struct dmlog_log_ref log = { .uuid = "LVM-long-enough", .luid = 1 };
	char small[8];

	harness_server_config(&cfg);
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	h = new_sync(&o);
	ck_assert_int_eq(dmlog_status_info(h, &log, small, sizeof(small)), -ERANGE);
	ck_assert_str_eq(dmlog_errmsg(h), "STATUS_INFO request 1: the answer (21 bytes) does not "
			 "fit in 8 bytes");
	ck_assert_int_eq(dmlog_ctr(h, &log, "8 core 1", false, small, 3), -ERANGE);
	ck_assert_int_eq(dmlog_ctr(h, &log, "8 core 1", false, small, 6), 0);
	ck_assert_str_eq(small, FAKE_DEVICE);
	dmlog_free(h);
	fake_server_stop(fs);
}
END_TEST

START_TEST(blocking_call_times_out_with_a_message)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog *h;
	struct dmlog_log_ref log = { .uuid = "LVM-x", .luid = 1 };
	long long start;
	bool in_sync = true;

	harness_server_config(&cfg);
	cfg.black_hole = true;
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	o.request_timeout_ms = 250;
	h = new_sync(&o);
	start = harness_now_ms();
	ck_assert_int_eq(dmlog_in_sync(h, &log, 3, &in_sync), -ETIMEDOUT);
	ck_assert_int_ge(harness_now_ms() - start, 240);
	ck_assert_str_eq(dmlog_errmsg(h), "IN_SYNC request 1: no reply within 250 ms");
	ck_assert(in_sync); /* untouched on failure */
	/* The handle is still usable; the next request gets the next id (the Hello took 2). */
	ck_assert_int_eq(dmlog_ping(h), -ETIMEDOUT);
	ck_assert_str_eq(dmlog_errmsg(h), "PING request 3: no reply within 250 ms");
	dmlog_free(h);
	fake_server_stop(fs);
}
END_TEST

START_TEST(blocking_call_follows_a_redirect_and_survives_a_drop)
{
	struct fake_server_config cfg;
	struct fake_server *leader, *follower;
	struct dmlog_options o;
	struct dmlog *h;
	struct dmlog_log_ref log = { .uuid = "LVM-y", .luid = 9 };
	uint64_t marks[2] = { 100, 200 };
	size_t n;

	harness_server_config(&cfg);
	cfg.drop_at = 1;
	leader = harness_server_start(&cfg);
	harness_server_config(&cfg);
	cfg.not_leader_address = fake_server_address(leader);
	follower = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(follower));
	h = new_sync(&o);
	ck_assert_msg(dmlog_flush(h, &log, marks, 2) == 0, "%s", dmlog_errmsg(h));

	/* follower: Hello, FLUSH; leader: Hello, FLUSH (dropped), Hello, FLUSH (answered). */
	ck_assert_uint_eq(fake_server_requests(follower), 1);
	n = fake_server_received(leader);
	ck_assert_uint_eq(n, 4);
	for (size_t i = 1; i < n; i += 2) {
		Dmlog__ClientMessage *cm = fake_server_message(leader, i, NULL);

		ck_assert_uint_eq(cm->id, 1);
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_FLUSH);
		ck_assert_uint_eq(cm->flush->n_marks, 2);
		ck_assert_uint_eq(cm->flush->marks[1], 200);
		dmlog__client_message__free_unpacked(cm, NULL);
	}
	ck_assert_uint_eq(fake_server_answers(leader, 1), 1);
	dmlog_free(h);
	fake_server_stop(follower);
	fake_server_stop(leader);
}
END_TEST

START_TEST(connection_closed_while_idle_is_replaced)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog *h;

	harness_server_config(&cfg);
	cfg.close_after = 1;
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	h = new_sync(&o);
	for (int i = 0; i < 5; i++)
		ck_assert_msg(dmlog_ping(h) == 0, "%s", dmlog_errmsg(h));
	ck_assert_uint_eq(fake_server_connections(fs), 5);
	for (uint64_t id = 1; id < 12; id++)
		ck_assert_uint_le(fake_server_answers(fs, id), 1);
	dmlog_free(h);
	fake_server_stop(fs);
}
END_TEST

START_TEST(server_error_is_returned_with_its_message)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	struct dmlog *h;
	struct dmlog_log_ref log = { .uuid = "LVM-z", .luid = 2 };
	uint64_t region = 77;

	harness_server_config(&cfg);
	cfg.error_errno = -EINVAL;
	cfg.error_message = "region 77 is past the end of the log";
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	h = new_sync(&o);
	ck_assert_int_eq(dmlog_mark_region(h, &log, &region, 1), -EINVAL);
	ck_assert_str_eq(dmlog_errmsg(h), "MARK_REGION request 1: region 77 is past the end of "
			 "the log");
	dmlog_free(h);
	fake_server_stop(fs);
}
END_TEST

START_TEST(creation_and_argument_errors)
{
	struct dmlog_options o;
	char err[DMLOG_ERRMSG_SIZE];
	struct dmlog *h;
	struct dmlog_log_ref log = { .uuid = "LVM-z", .luid = 2 };

	harness_options(&o, "[::1]:7788");
	o.reconnect_min_ms = 500;
	o.reconnect_max_ms = 100;
	ck_assert_ptr_null(dmlog_new(&o, err));
	ck_assert_str_eq(err, "options: reconnect_max_ms (100) is below reconnect_min_ms (500)");
	ck_assert_ptr_null(dmlog_new(NULL, NULL));

	harness_options(&o, "[::1]:7788");
	h = new_sync(&o);
	ck_assert_int_eq(dmlog_mark_region(h, &log, NULL, 0), -EINVAL);
	ck_assert_str_eq(dmlog_errmsg(h), "MARK_REGION: 0 regions (1 to 32 allowed)");
	ck_assert_int_eq(dmlog_call(h, NULL, NULL), -EINVAL);
	ck_assert_int_eq(dmlog_call(NULL, NULL, NULL), -EINVAL);
	dmlog_free(h);
	dmlog_free(NULL);
}
END_TEST

static Suite *sync_suite(void)
{
	Suite *s = suite_create("client_sync");
	TCase *t = tcase_create("blocking");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, every_typed_call_round_trips);
	tcase_add_test(t, generic_call_returns_owned_results);
	tcase_add_test(t, results_outlive_the_handle);
	tcase_add_test(t, text_that_does_not_fit_is_erange);
	tcase_add_test(t, blocking_call_times_out_with_a_message);
	tcase_add_test(t, blocking_call_follows_a_redirect_and_survives_a_drop);
	tcase_add_test(t, connection_closed_while_idle_is_replaced);
	tcase_add_test(t, server_error_is_returned_with_its_message);
	tcase_add_test(t, creation_and_argument_errors);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return harness_run(sync_suite());
}
