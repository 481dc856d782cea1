/* fixture.c: the event loop fixture and callback bookkeeping of the asynchronous tests. */
#include "fixture.h"

#include <check.h>
#include <stdio.h>

#include <event2/event.h>

#include "harness.h"
#include "testmain.h"

struct event_base *fixture_base;
int fixture_completed;
const struct dmlog_log_ref fixture_log = { .uuid = "LVM-logb", .luid = 42, .version = 3 };

void fixture_setup(void)
{
	fixture_completed = 0;
	fixture_base = event_base_new();
	ck_assert_ptr_nonnull(fixture_base);
}

void fixture_teardown(void)
{
	/* Let libevent finish releasing what the handles closed (see dmlog_async_free()). */
	event_base_loop(fixture_base, EVLOOP_NONBLOCK);
	event_base_loop(fixture_base, EVLOOP_NONBLOCK);
	event_base_free(fixture_base);
	fixture_base = NULL;
}

TCase *fixture_tcase(Suite *s, const char *name, double timeout_s)
{
	return testmain_tcase(s, name, fixture_setup, fixture_teardown, timeout_s);
}

struct dmlog_async *fixture_client(const struct dmlog_options *o)
{
	char err[DMLOG_ERRMSG_SIZE];
	struct dmlog_async *ac = dmlog_async_new(fixture_base, o, err);

	ck_assert_msg(ac != NULL, "dmlog_async_new: %s", err);
	return ac;
}

void fixture_on_done(struct dmlog_async *ac, int status, const struct dmlog_result *res, void *arg)
{
	struct fixture_outcome *o = arg;

	o->calls++;
	o->status = status;
	o->at_ms = harness_now_ms();
	if (status == 0) {
		ck_assert_ptr_nonnull(res);
		o->res = dmlog_result_dup(res);
		ck_assert_ptr_nonnull(o->res);
	} else {
		ck_assert_ptr_null(res);
		snprintf(o->errmsg, sizeof(o->errmsg), "%s", dmlog_async_errmsg(ac));
	}
	fixture_completed++;
}

void fixture_free_outcomes(struct fixture_outcome *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dmlog_result_free(o[i].res);
}

static bool fixture_reached(void *arg)
{
	return fixture_completed >= *(int *)arg;
}

bool fixture_run_until_completed(int n, unsigned timeout_ms)
{
	return harness_run_until(fixture_base, fixture_reached, &n, timeout_ms);
}

void fixture_wait_completed(int n, unsigned timeout_ms)
{
	ck_assert_msg(fixture_run_until_completed(n, timeout_ms),
		      "only %d of %d callbacks after %u ms", fixture_completed, n, timeout_ms);
}

struct fixture_received {
	struct fake_server *fs;
	size_t n;
};

static bool fixture_received_enough(void *arg)
{
	struct fixture_received *w = arg;

	return fake_server_received(w->fs) >= w->n;
}

void fixture_wait_received(struct fake_server *fs, size_t n, unsigned timeout_ms)
{
	struct fixture_received w = { fs, n };

	ck_assert_msg(harness_run_until(fixture_base, fixture_received_enough, &w, timeout_ms),
		      "server received %zu of %zu messages", fake_server_received(fs), n);
}

uint64_t fixture_first_request_id(struct fake_server *fs, unsigned *seen)
{
	uint64_t id = 0;
	size_t n = fake_server_received(fs);

	*seen = 0;
	for (size_t i = 0; i < n; i++) {
		Dmlog__ClientMessage *cm = fake_server_message(fs, i, NULL);

		if (cm->body_case != DMLOG__CLIENT_MESSAGE__BODY_HELLO) {
			if (!id)
				id = cm->id;
			if (cm->id == id)
				(*seen)++;
		}
		dmlog__client_message__free_unpacked(cm, NULL);
	}
	return id;
}
