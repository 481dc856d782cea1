/* log.h: one dirty log and its instances, and the primitives every operation is built from.
 *
 * A log owns its bitmaps, marks table, priority list and instances. The primitives here keep the
 * log's invariants so that the operations cannot forget one: clean implies in sync; sync_count
 * is the popcount of the sync bitmap over [0, region_count); every region below `low` is in sync;
 * an assignment belongs to a resumed instance, is below its region_count and out of sync, and no
 * two instances hold the same region; the instance array is sorted by (node name, luid). Nothing
 * here allocates except the explicit reserve functions, so an operation can reserve first and
 * then apply without a failure path. Not thread-safe.
 */
#ifndef DMLOG_LOG_H
#define DMLOG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bitmap.h"
#include "ctr.h"
#include "engine.h"
#include "marks.h"
#include "phash.h"

enum inst_state {
	INST_PENDING = 0,
	INST_RESUMED = 1,
	INST_PRESUSPENDED = 2,
	INST_SUSPENDED = 3,
	INST_LOST = 4,
};
#define INST_STATE_COUNT 5

struct inst {
	uint32_t node;        /* index into the engine's node table */
	uint64_t luid;
	enum inst_state state;
	bool sticky;          /* fully synced since the last resume (reference §5 item 2) */
	bool assigned;        /* holds a recovery assignment */
	uint64_t assigned_region;
	uint64_t hint;        /* the in_sync_hint last returned to it */
	uint64_t region_count;
	char *args;           /* CTR argument string as received (owned, NUL-terminated) */
	size_t args_len;
};

/* Where a log reports its output events (engine.h): the engine's event function and its node
 * table (for instance events). Owned by the engine; fn NULL: nobody listens. */
struct log_sink {
	engine_event_fn fn;
	void *arg;
	const char (*names)[ENGINE_NODE_NAME_MAX + 1];
};

struct log {
	const struct log_sink *sink; /* the engine's (set when registered); NULL: none */
	char uuid[ENGINE_UUID_MAX + 1];
	size_t uuid_len;
	uint64_t uuid_hash;
	enum ctr_type type;
	char dev[ENGINE_DEV_MAX + 1];
	uint64_t region_size;
	enum ctr_mode mode;   /* of the CTR that opened the log */
	bool block_on_error;
	uint64_t region_count;
	struct bitmap clean;  /* 1 = clean */
	struct bitmap sync;   /* 1 = in sync */
	uint64_t sync_count;
	uint64_t sync_search; /* resync cursor, <= region_count */
	uint64_t low;         /* lower bound of the first out-of-sync region (not snapshotted) */
	struct marks marks;
	uint64_t prio[ENGINE_PRIORITY_MAX]; /* oldest first, distinct, each < region_count */
	uint32_t nprio;
	struct inst **insts;  /* owned, sorted by (node name, luid) */
	uint32_t ninst;
	uint32_t inst_cap;
	struct phash inst_index; /* (node, luid) -> inst */
};

/* The most regions one log's marks table may hold (MARK beyond -> -ENOSPC). */
#define LOG_MARKS_MAX ENGINE_MARKS_MAX

/* A new log of region_count regions (all in sync and clean when ones, else neither), no
 * instances. NULL on allocation failure. */
struct log *log_new(const char *uuid, enum ctr_type type, const char *dev, uint64_t region_size,
		    enum ctr_mode mode, bool block_on_error, uint64_t region_count);
/* Frees the log and its instances. NULL is a no-op. */
void log_free(struct log *l);

uint64_t log_uuid_hash(const char *uuid, size_t len);

/* ---- bits */

/* Sets the sync bit (sync_count follows; a change is reported). */
void log_sync_set(struct log *l, uint64_t r);
/* Clears the sync and clean bits (sync_count and low follow; a sync change is reported). */
void log_sync_clear(struct log *l, uint64_t r);
/* The first out-of-sync region, or region_count when all are in sync (advances `low`). */
uint64_t log_low_unsynced(struct log *l);
/* Master resume: every dirty region becomes out of sync (the regions that change are
 * reported as runs). */
void log_sync_and_clean(struct log *l);

/* ---- output events (no-ops without a listener) */

/* Regions [first, last] changed their sync bit to in_sync. */
void log_emit_sync(const struct log *l, uint64_t first, uint64_t last, bool in_sync);
/* Instance in changed (state, sticky) or is being removed (gone). */
void log_emit_inst(const struct log *l, const struct inst *in, bool gone);
/* The log is being deleted or replaced. */
void log_emit_gone(const struct log *l);

/* Makes room for new_count regions. 0 or -ENOMEM (unchanged). */
int log_reserve_regions(struct log *l, uint64_t new_count);
/* Resizes to new_count (reserved first when growing). New regions are in sync and clean when
 * ones, else neither (reported as one run). Shrinking drops bits, marks and priority entries
 * beyond and clamps sync_search (reported as nothing: no instance sees those regions). */
void log_resize(struct log *l, uint64_t new_count, bool ones);

/* ---- instances */

struct inst *log_inst_find(const struct log *l, uint32_t node, uint64_t luid);
/* Room for one more instance. 0, -ENOSPC (ENGINE_LOG_INSTANCE_MAX) or -ENOMEM. */
int log_inst_reserve(struct log *l);
/* Inserts in order; names is the engine's node table for the ordering. */
void log_inst_insert(struct log *l, struct inst *in, const char (*names)[ENGINE_NODE_NAME_MAX + 1]);
/* Removes (does not free) the instance. */
void log_inst_remove(struct log *l, struct inst *in);
/* True if any instance of node is present. */
bool log_node_has_inst(const struct log *l, uint32_t node);
/* Largest instance region_count (0 without instances). */
uint64_t log_max_inst_regions(const struct log *l);

struct inst *log_inst_new(uint32_t node, uint64_t luid, const char *args, size_t args_len,
			  uint64_t region_count);
void log_inst_free(struct inst *in);

/* ---- resync bookkeeping */

/* The instance holding r, or NULL. */
struct inst *log_assignee(const struct log *l, uint64_t r);
/* Releases r's assignment, whoever holds it. */
void log_release_region(struct log *l, uint64_t r);
/* Drops r from the priority list if present. */
void log_prio_drop(struct log *l, uint64_t r);
/* Appends r unless present or the list is full. */
void log_prio_push(struct log *l, uint64_t r);
/* Removes entry i. */
void log_prio_remove_at(struct log *l, uint32_t i);

#endif /* DMLOG_LOG_H */
