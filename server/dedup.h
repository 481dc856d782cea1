/* dedup.h: the exactly-once table — results of applied requests, by (node, client, request id).
 *
 * Part of the replicated state: every peer applies the same commands, so every peer holds the
 * same table, and it is saved in snapshots. A retried request (same node, client_id and request
 * id, after a reconnect, a restart or a failover) finds its stored result instead of being
 * applied again. Each client keeps the results of its last `window` request ids (a slot per
 * id modulo window); clients are evicted least-recently-applied first beyond DEDUP_CLIENTS_MAX.
 * Deterministic: eviction order depends on apply order only. Not thread-safe (the fsm locks).
 */
#ifndef DMLOG_DEDUP_H
#define DMLOG_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEDUP_CLIENTS_MAX 1024
#define DEDUP_TEXT_MAX 256

struct dedup_result {
	int error;                   /* 0 or negative errno */
	bool flag;
	uint64_t value;
	char text[DEDUP_TEXT_MAX];   /* result text, or the error message */
};

struct dedup;

struct dedup *dedup_new(uint32_t window);
void dedup_free(struct dedup *d);

/* Stores the result of (node, client_id, request_id), applied at raft index `index`.
 * 0 or -ENOMEM. */
int dedup_put(struct dedup *d, const char *node, uint64_t client_id, uint64_t request_id,
	      uint64_t index, const struct dedup_result *res);

/* Finds a stored result; false when unknown (never applied, or evicted). */
bool dedup_get(const struct dedup *d, const char *node, uint64_t client_id, uint64_t request_id,
	       struct dedup_result *res);

struct snapbuf;
struct snapread;

/* Appends the table to out: deterministic bytes (equal tables give equal bytes). */
void dedup_save(const struct dedup *d, struct snapbuf *out);

/* Reads a table written by dedup_save. NULL (with r->bad set, or -ENOMEM) on bad input. */
struct dedup *dedup_load(struct snapread *r);

#endif /* DMLOG_DEDUP_H */
