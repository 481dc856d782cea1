/* engine_impl.h: the engine's private layout and registry helpers, shared by its .c files.
 *
 * The engine owns its logs (sorted by uuid with strcmp for ordered iteration, indexed by uuid
 * hash for O(1) lookup) and the node table (names in order of first successful CTR; a node's
 * index is its bit in mark masks). Operation handlers live in lifecycle.c, regions.c, query.c
 * and resync.c; each returns 0 or a negative errno and, on error, has filled res->errmsg and
 * changed nothing. Not thread-safe.
 */
#ifndef DMLOG_ENGINE_IMPL_H
#define DMLOG_ENGINE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "log.h"
#include "phash.h"

struct engine {
	char nodes[ENGINE_NODE_MAX][ENGINE_NODE_NAME_MAX + 1];
	uint32_t nnodes;
	struct log **logs;    /* owned, sorted by uuid */
	size_t nlogs;
	size_t logs_cap;
	struct phash log_index; /* uuid -> log */
	struct log_sink sink;   /* output events; every registered log points here */
};

/* Writes "fmt..." into res->errmsg and returns err (a negative errno). */
int engine_fail(struct engine_res *res, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct log *engine_log_find(const struct engine *e, const char *uuid);
/* Node index of name, or -1. */
int engine_node_find(const struct engine *e, const char *name);
/* Index of name, interning it (the caller checked there is room or it exists). */
uint32_t engine_node_intern(struct engine *e, const char *name);

/* Room for one more log. 0, -ENOSPC (ENGINE_LOG_MAX) or -ENOMEM. */
int engine_log_reserve(struct engine *e);
/* Adds a log with a new uuid (room reserved); it reports its events to the engine's sink. */
void engine_log_insert(struct engine *e, struct log *l);
/* Takes a log out of the registry (does not free it). */
void engine_log_remove(struct engine *e, struct log *l);
/* Puts fresh in old's place (same uuid); old is taken out, not freed. */
void engine_log_replace(struct engine *e, struct log *old, struct log *fresh);

/* The mark-mask bit of node index n. */
static inline uint64_t engine_node_bit(uint32_t n)
{
	return UINT64_C(1) << n;
}

/* ---- handlers (the log and instance are resolved and checked by the dispatcher) */

int lifecycle_ctr(struct engine *e, const struct engine_req *req, struct engine_res *res);
int lifecycle_dtr(struct engine *e, struct log *l, struct inst *in);
void lifecycle_presuspend(const struct log *l, struct inst *in);
void lifecycle_postsuspend(const struct log *l, struct inst *in);
void lifecycle_resume(struct log *l, struct inst *in);

int regions_mark(struct log *l, const struct inst *in, const uint64_t *regions, uint32_t n,
		 struct engine_res *res);
void regions_clear(struct log *l, const struct inst *in, const uint64_t *regions, uint32_t n);

void query_apply(const struct log *l, const struct inst *in, const struct engine_req *req,
		 struct engine_res *res);

void resync_get_work(struct log *l, struct inst *in, struct engine_res *res);
void resync_set_region_sync(struct log *l, uint64_t r, bool in_sync);
void resync_is_remote_recovering(struct log *l, struct inst *in, uint64_t r,
				 struct engine_res *res);

#endif /* DMLOG_ENGINE_IMPL_H */
