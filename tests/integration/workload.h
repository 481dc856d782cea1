/* workload.h: client nodes writing to a peer group under the checker (checker.h), for the
 * fault and replication tests.
 *
 * A test fills a struct workload (the group, its certificates, the checker, the logs and the
 * cycle of requests each node repeats), then workload_start() runs one thread per node: each
 * opens a blocking libdmlog handle as node-<name> on the peers of slots [0, group), opens every
 * log (CTR + RESUME of its own instance) and repeats the cycle until workload_stop(). Every
 * request goes through workload_op(), which records it in the checker; workload_verify() then
 * judges the history against the group's final state. Check assertions fail the test.
 */
#ifndef DMLOG_TEST_WORKLOAD_H
#define DMLOG_TEST_WORKLOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checker.h"
#include "dmlog/dmlog.h"
#include "group.h"

#define WORKLOAD_MAX 8

struct workload;

struct workload_worker {
	struct workload *wl;
	int node;                /* checker node number; index into wl->node_names */
	uint64_t luid;           /* its instance of every log */
	int group;               /* its handle knows the peers of slots [0, group) */
	pthread_t th;
	atomic_bool stop;
	atomic_uint cycles;      /* cycles done */
	int setup_rc;            /* the handle's CTR/RESUME status (0: running) */
	char setup_err[DMLOG_ERRMSG_SIZE];
};

/* One cycle of w's requests through h (each by workload_op()); c counts from 0. */
typedef void workload_cycle_fn(struct dmlog *h, struct workload_worker *w, unsigned c);

/* What a test says of its workload (workload_init()). */
struct workload_spec {
	const struct group_peer *peers; /* the group's slots (ports read when a handle is made) */
	const char *certs;             /* the certificates directory (harness_certs()) */
	const char *const *node_names; /* "node1", ...: the checker's names too */
	int n_nodes;                   /* nodes the checker knows (the workers and any others) */
	const char *const *uuids;      /* the logs every node opens */
	int n_logs;
	const char *ctr_args;
	uint64_t region_count;         /* of every log, as ctr_args makes it */
	uint32_t timeout_ms;           /* each request's deadline, as the checker is told */
	workload_cycle_fn *cycle;
};

struct workload {
	struct workload_spec spec;
	struct checker *chk;
	int n;                         /* workers started */
	struct workload_worker w[WORKLOAD_MAX];
};

/* Sets wl up from spec, with a new checker (wl->chk) of its nodes and fresh logs (every region
 * clean at first). */
void workload_init(struct workload *wl, const struct workload_spec *spec);

/* A blocking libdmlog handle as `who` ("node-node1", "admin-admin") of certs, on the peer of
 * slot `only`, or on every peer of slots [0, group) when only < 0; quick reconnects. addr holds
 * the server strings while the handle lives. */
struct dmlog *workload_handle(const struct group_peer *p, const char *certs, const char *who,
			      int only, int group, uint32_t timeout_ms, char addr[][32]);

/* One request of w on log, recorded in the checker; its status. */
int workload_op(struct dmlog *h, struct workload_worker *w, int log, enum checker_kind k,
		const uint64_t *r, size_t n, bool in_sync);

/* Starts n workers (nodes 0..n-1), worker i with the instance luid_base + i * luid_step and
 * a handle on the peers of slots [0, group). */
void workload_start(struct workload *wl, int n, uint64_t luid_base, uint64_t luid_step,
		    int group);

/* Waits until every worker has done `cycles` more cycles; fails the test after timeout_ms, or
 * at once when a worker could not open its logs. */
void workload_progress(struct workload *wl, unsigned cycles, int timeout_ms);

/* Stops the workers and joins them. */
void workload_stop(struct workload *wl);

/* Runs the checker against the peers of slots [0, group), reading as node `node_who` (one that
 * takes no part in the workload) with instance luid; its result, the report in report. */
int workload_verify(const struct workload *wl, int group, const char *node_who, uint64_t luid,
		    char *report, size_t len);

/* workload_verify() that must pass: its report goes to stderr, a finding fails the test. */
void workload_assert_verified(const struct workload *wl, int group, const char *node_who,
			      uint64_t luid);

/* Fails the test when a request of the run ended with an error (the first few are named). */
void workload_assert_no_errors(const struct workload *wl);

#endif /* DMLOG_TEST_WORKLOAD_H */
