/* fixture.h: the event loop fixture and callback bookkeeping of the asynchronous tests.
 *
 * Each test gets a fresh event_base (fixture_base) through fixture_setup/fixture_teardown; the
 * callback fixture_on_done records what one request saw in a struct fixture_outcome and counts
 * completions in fixture_completed, which the wait helpers run the loop against.
 */
#ifndef DMLOG_TESTS_CLIENT_FIXTURE_H
#define DMLOG_TESTS_CLIENT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <check.h>

#include <dmlog/async.h>

#include "fake_server.h"

extern struct event_base *fixture_base;
extern int fixture_completed;     /* callbacks run in the current test */
extern const struct dmlog_log_ref fixture_log;

void fixture_setup(void);
void fixture_teardown(void);

/* A test case named name in s, run with fixture_setup/fixture_teardown around each test and
 * timeout_s seconds for each. */
TCase *fixture_tcase(Suite *s, const char *name, double timeout_s);

/* A handle on fixture_base (failing the test if it cannot be made). */
struct dmlog_async *fixture_client(const struct dmlog_options *o);

/* What one request's callback saw. */
struct fixture_outcome {
	int calls;
	int status;
	struct dmlog_result *res;        /* owned copy when status is 0 */
	char errmsg[DMLOG_ERRMSG_SIZE];
	long long at_ms;
};

/* A dmlog_async_cb whose arg is a struct fixture_outcome. */
void fixture_on_done(struct dmlog_async *ac, int status, const struct dmlog_result *res, void *arg);

void fixture_free_outcomes(struct fixture_outcome *o, size_t n);

/* Runs the loop until n callbacks ran in all, or timeout_ms passed; returns whether they did. */
bool fixture_run_until_completed(int n, unsigned timeout_ms);

/* Same, failing the test on timeout. */
void fixture_wait_completed(int n, unsigned timeout_ms);

/* Runs the loop until fs received n messages, failing the test on timeout. */
void fixture_wait_received(struct fake_server *fs, size_t n, unsigned timeout_ms);

/* The id of the first request (not Hello) fs received, and in *seen how many times it came. */
uint64_t fixture_first_request_id(struct fake_server *fs, unsigned *seen);

#endif /* DMLOG_TESTS_CLIENT_FIXTURE_H */
