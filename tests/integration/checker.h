/* checker.h: records what clients asked of a dmlogd group and judges the answers and the
 * servers' final state against that history.
 *
 * Clients (threads or processes that report back) call checker_begin() before each request and
 * checker_end() when it ends, with the time taken from one monotonic clock. Afterwards
 * checker_verify() asks the servers, through libdmlog, for their final state (ADMIN_SHOW_LOG on
 * the leader, IS_CLEAN and IN_SYNC through a node of its own) and checks, per log and region:
 *   - durability: a region some node marked (MARK or FLUSH carrying it acknowledged) is still
 *     dirty, and not clean, unless that node has since cleared it (a CLEAR that was
 *     acknowledged, or whose outcome is unknown, issued after the mark);
 *   - sync: a region set out of sync (SET_REGION_SYNC 0 acknowledged) and not set in sync
 *     again since is neither in sync nor clean;
 *   - answers given during the run: an IS_CLEAN or IN_SYNC that said true while one of the two
 *     rules above already held for that region (the mark or the out-of-sync acknowledged before
 *     the read was sent, and nothing issued before the read's answer could have undone it);
 *   - no phantoms (checker_options.fresh_clean): a region nobody ever marked nor set out of
 *     sync is clean and in sync, and the dirty and out-of-sync ranges of the leader hold no
 *     region outside the history;
 *   - the leader's ranges and the node's IS_CLEAN / IN_SYNC answers agree;
 *   - liveness: every request ended, none later than its own deadline (plus a grace).
 * Requests that ended with an error are counted apart (checker_errors()): whether the workload
 * may see errors is the test's call.
 *
 * Threads: begin/end may be called from any thread (a mutex guards the history); verify and
 * the queries run in the caller's thread when no client is running any more.
 * Ownership: checker_new() returns an owned object; checker_free(NULL) is a no-op.
 */
#ifndef DMLOG_TEST_CHECKER_H
#define DMLOG_TEST_CHECKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum checker_kind {
	CHECKER_MARK = 1,       /* MARK_REGION: regions */
	CHECKER_FLUSH,          /* FLUSH: regions are integrated marks (may be none) */
	CHECKER_CLEAR,          /* CLEAR_REGION: regions */
	CHECKER_SET_SYNC,       /* SET_REGION_SYNC: regions[0], in_sync */
	CHECKER_IS_CLEAN,       /* IS_CLEAN: regions[0]; the answer in value */
	CHECKER_IN_SYNC,        /* IN_SYNC: regions[0]; the answer in value */
};

#define CHECKER_REGIONS_MAX 32
#define CHECKER_LOGS_MAX 8

struct checker_options {
	size_t n_nodes;                 /* nodes are numbered 0..n_nodes-1 */
	const char *const *node_names;  /* for reports (copied) */
	size_t n_logs;                  /* 1..CHECKER_LOGS_MAX */
	const char *const *log_uuids;   /* copied */
	const char *ctr_args;           /* how the checker's own node constructs each log */
	uint64_t region_count;          /* regions of each log */
	/* The logs were made in nosync mode and nothing but the recorded clients touched them
	 * (no node lost, no resync): check for phantoms (see the top). */
	bool fresh_clean;
	/* Grace after a request's deadline before it counts as hung (default 2000 ms). */
	uint32_t grace_ms;
};

/* How checker_verify() reaches the servers. */
struct checker_servers {
	const char *servers[8];         /* client addresses "127.0.0.1:PORT" of every peer */
	const char *ca_file;
	const char *node_cert, *node_key;   /* a node that takes no part in the workload */
	const char *admin_cert, *admin_key;
	uint64_t luid;                  /* that node's instance of each log */
	uint32_t timeout_ms;            /* per query; default 20000 */
};

struct checker;

struct checker *checker_new(const struct checker_options *o);
void checker_free(struct checker *c);

/* Microseconds on the checker's clock (CLOCK_MONOTONIC). */
uint64_t checker_now_us(void);

/* Records a request node is about to send: log index, kind, regions (n <= 32; SET_SYNC and
 * the reads take regions[0]), in_sync for SET_SYNC, and the client's deadline for it. Returns
 * the handle to end it with. */
size_t checker_begin(struct checker *c, int node, int log, enum checker_kind kind,
		     const uint64_t *regions, size_t n, bool in_sync, uint32_t deadline_ms);

/* Records the end of request h: status 0 (acknowledged; value is a read's answer) or a
 * negative errno (outcome unknown) with the client's reason in why (may be NULL; the first
 * 160 bytes are kept). */
void checker_end(struct checker *c, size_t h, int status, bool value, const char *why);

/* Requests recorded / acknowledged / ended with an error. */
size_t checker_count(struct checker *c);
size_t checker_acked(struct checker *c);
size_t checker_errors(struct checker *c);

/* Writes into buf how many requests ended with each errno, then up to max lines
 * "node kind log [regions]: error (after N ms): reason" about the first of them. */
void checker_error_report(struct checker *c, char *buf, size_t len, size_t max);

/* The acknowledgement time of the first write (MARK, FLUSH, CLEAR, SET_SYNC) that was issued at
 * or after t_us; 0 when there is none yet. */
uint64_t checker_first_write_ack(struct checker *c, uint64_t t_us);

/* Queries the servers and checks everything listed at the top. Returns the number of
 * violations (0: all good) with a report in report (the first ones, then a summary line), or a
 * negative errno when the servers could not be queried (the reason in report). */
int checker_verify(struct checker *c, const struct checker_servers *s, char *report,
		   size_t len);

#endif /* DMLOG_TEST_CHECKER_H */
