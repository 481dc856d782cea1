/* engine.h: the dirty-log state machine of dmlogd (no I/O, no clocks, no randomness).
 *
 * The engine holds every named dirty log and applies dm_ulog operations to them. It is
 * deterministic: the same operations in the same order give byte-identical snapshots on every
 * peer, which is what lets Raft replicate it. It never logs, never sleeps and never reads a
 * clock; time-based events (a node's lease running out) arrive as engine_node_lost() calls that
 * the server first commits to the Raft log. Single-threaded: the caller serialises all calls.
 *
 * Every mutating call is atomic: it either applies completely or returns an error and leaves
 * the state exactly as it was (also on allocation failure, which is reported as -ENOMEM; the
 * server must then stop rather than let peers diverge).
 *
 * ---------------------------------------------------------------- the model
 *
 * Log: named by its dm UUID (1..128 bytes). Geometry: type (clustered-core, clustered-disk,
 *   core, disk), region_size (sectors), region_count (the largest of its instances'), the disk
 *   device string for disk types, sync mode and block_on_error as parsed from the CTR that opened
 *   it (created it, re-created it, or reopened it while closed).
 *   State: clean bitmap and sync bitmap (1 bit each per region; a clean bit is only ever set
 *   on an in-sync region, so clean implies in sync), sync_count (= popcount of the sync bitmap
 *   over [0, region_count), never double counted), marks (region -> set of nodes), resync
 *   cursor sync_search, the priority list fed by IS_REMOTE_RECOVERING (at most
 *   ENGINE_PRIORITY_MAX regions, deduplicated, oldest first), recovery assignments
 *   (region -> instance; at most one per instance and exactly one recoverer per region), and
 *   low_unsynced: the first out-of-sync region (region_count if none), so every region below it
 *   is in sync.
 *
 * Instance: (node, luid) of a log; node is the requesting node's name from its certificate,
 *   luid the kernel's. It has its own region_count (from its CTR; a table reload may resize),
 *   a state (pending after CTR, resumed, presuspended, suspended after POSTSUSPEND, lost after
 *   its node was lost), the in_sync_hint last returned to it (0 when dropped), and the sticky
 *   "fully synced since my last resume" flag of reference §5 item 2.
 *
 * Node: names are interned in order of first appearance (in a successful CTR) into a table of
 *   at most ENGINE_NODE_MAX entries, never removed (a further name gets -EUSERS).
 *
 * ---------------------------------------------------------------- the operations
 *
 * Errors common to all: unknown op -> -EINVAL; bad uuid (empty, > 128, has NUL) -> -EINVAL;
 * node name empty or > ENGINE_NODE_NAME_MAX -> -EINVAL. Every op but CTR on an unknown
 * (node, uuid, luid) instance -> -EINVAL ("no such log instance"). Every op but CTR, DTR,
 * PRESUSPEND, POSTSUSPEND and RESUME from a lost instance -> -ESTALE. A region >= the
 * instance's region_count -> -EINVAL (for lists: any one such region rejects the whole request
 * before anything changes). nregions > ENGINE_REGIONS_MAX, or 0 for MARK/CLEAR -> -EINVAL.
 * Checks run in the order listed (so a lost instance with a bad region gets -ESTALE).
 *
 * CTR args "<len> <type> <type args...>" (no NUL; the codec strips it):
 *   clustered-core: "<rs> [sync|nosync|block_on_error]..."  (words after rs in any order)
 *   clustered-disk: "<dev> <rs> [sync|nosync|block_on_error]..."
 *   core:           "<rs> [sync|nosync]"        disk: "<dev> <rs> [sync|nosync]"
 *   Words are separated by single spaces (an empty word -> -EINVAL). len and rs are plain
 *   decimal; len > 0; rs a power of two, 2 <= rs <= len; region_count =
 *   ceil(len / rs) <= ENGINE_REGION_COUNT_MAX. clustered-*: unknown extra words are ignored
 *   (cmirrord), at most 4 args after the type; core/disk: any other word is -EINVAL. Both
 *   sync and nosync -> -EINVAL. dev: 1..127 bytes, no spaces.
 *   Behaviour: an existing instance (node, uuid, luid) that is pending is replaced (stale pending,
 *   §5 item 8): the CTR proceeds as if it did not exist, except that its node's marks stay (unless
 *   the log is re-created); an existing non-pending instance with identical args (byte for
 *   byte) succeeds unchanged (repeated CTR, reconnect loop); with other args -> -EEXIST. A new
 *   log is created when none exists: default and `sync` mode: all regions out of sync and not
 *   clean, sync_count 0; `nosync`: all in sync and clean, sync_count = region_count. An
 *   existing log (with instances, or a closed disk log) must have the same type, region_size
 *   and dev, else -EINVAL; except that a closed disk log (no instances) with another
 *   region_size or dev is re-created as new. A
 *   closed disk log reopened in `sync` mode is re-created as new (forced resync); otherwise its
 *   bits are kept whatever the mode (keeping dirty bits is the safe choice). The log's
 *   region_count becomes the largest of its instances': a larger one grows the log (new regions
 *   are in sync and clean under this CTR's `nosync`, else out of sync and dirty); a smaller one
 *   (a reopened closed log, a replaced pending instance) shrinks it as DTR does.
 *   Further errors, after the above: a new log beyond ENGINE_LOG_MAX -> -ENOSPC; a new node
 *   name beyond ENGINE_NODE_MAX -> -EUSERS; an instance beyond ENGINE_LOG_INSTANCE_MAX ->
 *   -ENOSPC. Result text: the dev string for disk types when version >= 2 and not reconnect,
 *   else empty (also for a repeated CTR).
 * DTR: removes the instance (its assignment released, its hint dropped). The node's marks on
 *   the log are dropped only when the node has no instance of the log left; their regions stay
 *   dirty. Last instance gone: core types -> the log is deleted; disk types -> the log stays,
 *   closed, with its bits (like the on-disk bitmap). The log shrinks to the largest remaining
 *   instance region_count (bits, marks and priority entries beyond are dropped, sync_count
 *   recomputed, sync_search clamped).
 * PRESUSPEND: state presuspended; releases the instance's recovery assignment.
 * POSTSUSPEND: state suspended; releases the assignment; its hint no longer counts.
 * RESUME: already resumed -> success, nothing changes. Otherwise: if no other instance of the
 *   log is resumed or presuspended ("master resume") every dirty region becomes out of sync
 *   (sync &= clean; sync_count recomputed), like the disk log's reload. Then sync_search = 0,
 *   the instance's hint = 0 and its sticky flag = false, state resumed (a lost instance is
 *   revived).
 * GET_REGION_SIZE: value = region_size. Any state but lost.
 * IS_CLEAN(r): flag = clean bit.   IN_SYNC(r): flag = sticky || sync bit.   Any state but lost.
 * FLUSH(marks 0..32): the marks as MARK, then success. No marks: success, no change.
 * MARK(regions): for each: add the node to the region's mark set, clear the clean bit. More
 *   than ENGINE_MARKS_MAX marked regions in the log -> -ENOSPC (also for FLUSH).
 * CLEAR(regions): for each: remove the node from the set; if the set is now empty and the
 *   region is in sync, set the clean bit.
 * GET_RESYNC_WORK: not resumed -> flag 0. If the instance holds an assignment -> that region
 *   again. Else, with floor = max hint of the *other* resumed or presuspended instances (a
 *   presuspended kernel may still write with its hint), a sticky one counting as its
 *   region_count (its kernel saw the full count and stops asking IS_REMOTE_RECOVERING):
 *   first the priority list, oldest first (entries >= the instance's region_count are skipped and kept; entries that are in sync, below
 *   floor or assigned are dropped; the first other one is removed and assigned, flag 1, value r,
 *   sync_search unchanged), else the first out-of-sync, unassigned region at or after
 *   max(sync_search, floor) and below the instance's region_count; found -> assign it,
 *   sync_search = r + 1, flag 1, value r. None -> flag 0, value 0, sync_search = the instance's
 *   region_count if that is larger.
 * SET_REGION_SYNC(r, in_sync): releases any assignment of r and drops r from the priority list.
 *   in_sync: set the sync bit (sync_count++ only if it was clear); then if sync_count ==
 *   region_count every resumed instance becomes sticky. !in_sync: clear the sync and clean bits
 *   (sync_count-- only if it was set).
 * GET_SYNC_COUNT: value = popcount of the sync bitmap over [0, instance region_count).
 * STATUS_INFO: "1 clustered-core" | "3 clustered-disk <dev> A" | "1 core" | "3 disk <dev> A".
 * STATUS_TABLE: "clustered-core <rs> [sync |nosync ][block_on_error ]",
 *   "clustered-disk <dev> <rs> [sync |nosync ][block_on_error ]", "core <1|2> <rs> [sync |nosync ]",
 *   "disk <2|3> <dev> <rs> [sync |nosync ]" (each with a trailing space as shown).
 * IS_REMOTE_RECOVERING(r): flag = !sync bit of r; value (the hint) = low_unsynced, which is
 *   conservative: every region below it is in sync, and no region below a hint handed to an
 *   instance is assigned before that instance resumes again (the floor above). The instance's
 *   hint becomes value. If flag and r is not assigned, r joins the priority list (if not full).
 *
 * engine_node_lost(node): for every log: each region the node had marked loses the mark and
 *   becomes out of sync and not clean (it is resynced); its instances' assignments are released
 *   and the instances become lost (hint dropped). Unknown node: no-op.
 *
 * ---------------------------------------------------------------- output events
 *
 * What IN_SYNC answers for an instance depends on three things only: the instance itself
 * (present, resumed or not, its sticky flag) and the sync bits of the regions below its
 * region_count. With an event function set (engine_set_events()), every change of any of them
 * is reported while the operation that makes it is applied, in the order the changes are made:
 *   ENGINE_EVENT_SYNC      regions [first, last] of the log changed their sync bit to in_sync
 *                          (reported only for bits that really changed: SET_REGION_SYNC either
 *                          way, a master RESUME (sync &= clean), node loss, a CTR that grows
 *                          the log (the new regions, whatever they start as));
 *   ENGINE_EVENT_INSTANCE  instance (node, luid) is now resumed or not, sticky or not
 *                          (RESUME, PRESUSPEND, POSTSUSPEND, node loss, the sticky flag set by
 *                          SET_REGION_SYNC), or gone (DTR, a pending instance replaced by CTR);
 *   ENGINE_EVENT_LOG_GONE  the log was deleted (its last instance left a core log) or replaced
 *                          by a new log of the same uuid (CTR re-creating it): every instance of
 *                          the old one is gone.
 * Shrinking a log drops only regions beyond every remaining instance's region_count, so it
 * reports nothing. A failed operation reports nothing (events are emitted at the point where
 * the operation can no longer fail). Events are output only: they never influence the state,
 * so apply stays deterministic whether or not anyone listens; the callback must not call back
 * into the engine. The strings of an event are borrowed for the callback.
 */
#ifndef DMLOG_ENGINE_H
#define DMLOG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENGINE_UUID_MAX 128           /* bytes, without NUL (DM_UUID_LEN - 1) */
#define ENGINE_NODE_MAX 64            /* distinct node names in one engine */
#define ENGINE_NODE_NAME_MAX 64       /* bytes, without NUL */
#define ENGINE_REGIONS_MAX 32         /* regions in one MARK, CLEAR or FLUSH */
#define ENGINE_ARGS_MAX 512           /* CTR argument string, without NUL */
#define ENGINE_DEV_MAX 127            /* disk log device string, without NUL */
#define ENGINE_TEXT_MAX 256           /* result text buffer, with NUL */
#define ENGINE_PRIORITY_MAX 64        /* priority list entries per log */
#define ENGINE_LOG_MAX 4096           /* logs in one engine (-ENOSPC beyond) */
#define ENGINE_REGION_COUNT_MAX (UINT64_C(1) << 32)
#define ENGINE_MARKS_MAX (1u << 22)   /* marked regions in one log (MARK/FLUSH beyond: -ENOSPC) */
#define ENGINE_LOG_INSTANCE_MAX 1024  /* instances of one log (CTR beyond: -ENOSPC) */

/* Operation codes: the kernel's DM_ULOG_* request types. */
enum engine_op {
	ENGINE_CTR = 1,
	ENGINE_DTR = 2,
	ENGINE_PRESUSPEND = 3,
	ENGINE_POSTSUSPEND = 4,
	ENGINE_RESUME = 5,
	ENGINE_GET_REGION_SIZE = 6,
	ENGINE_IS_CLEAN = 7,
	ENGINE_IN_SYNC = 8,
	ENGINE_FLUSH = 9,
	ENGINE_MARK_REGION = 10,
	ENGINE_CLEAR_REGION = 11,
	ENGINE_GET_RESYNC_WORK = 12,
	ENGINE_SET_REGION_SYNC = 13,
	ENGINE_GET_SYNC_COUNT = 14,
	ENGINE_STATUS_INFO = 15,
	ENGINE_STATUS_TABLE = 16,
	ENGINE_IS_REMOTE_RECOVERING = 17,
};

/* One request. Borrowed by the engine for the duration of the call only. */
struct engine_req {
	uint32_t op;                  /* enum engine_op */
	const char *node;             /* requesting node (NUL-terminated) */
	const char *uuid;             /* log uuid (NUL-terminated) */
	uint64_t luid;
	uint32_t version;             /* kernel request version (CTR device return needs >= 2) */
	const char *args;             /* CTR: argument string, args_len bytes, need not be NUL-terminated */
	size_t args_len;
	bool reconnect;               /* CTR: the kernel's reconnect-loop flavour */
	uint32_t nregions;            /* MARK, CLEAR, FLUSH */
	uint64_t regions[ENGINE_REGIONS_MAX];
	uint64_t region;              /* IS_CLEAN, IN_SYNC, SET_REGION_SYNC, IS_REMOTE_RECOVERING */
	bool in_sync;                 /* SET_REGION_SYNC */
};

/* One result. error is 0 or a negative errno; on error the other fields are zero/empty. */
struct engine_res {
	int error;
	bool flag;                    /* IS_CLEAN, IN_SYNC, GET_RESYNC_WORK (has work), IS_REMOTE_RECOVERING */
	uint64_t value;               /* GET_REGION_SIZE, GET_SYNC_COUNT, GET_RESYNC_WORK region, hint */
	char text[ENGINE_TEXT_MAX];   /* CTR device, STATUS_INFO, STATUS_TABLE (NUL-terminated) */
	char errmsg[128];             /* on error: what was wrong, for logs and clients */
	bool out_of_range;            /* the error is a region at or beyond region_count */
};

struct engine;

/* A new, empty engine (owned; free with engine_free). NULL on allocation failure. */
struct engine *engine_new(void);
void engine_free(struct engine *e); /* NULL is a no-op */

/* True for the ops that never change state (GET_REGION_SIZE, IS_CLEAN, IN_SYNC,
 * GET_SYNC_COUNT, STATUS_INFO, STATUS_TABLE): they may be answered with engine_read(). */
bool engine_op_is_read(uint32_t op);

/* Applies any op (reads included) and fills *res. */
void engine_apply(struct engine *e, const struct engine_req *req, struct engine_res *res);

/* Answers a read op without changing anything; a mutating op gets -EINVAL. */
void engine_read(const struct engine *e, const struct engine_req *req, struct engine_res *res);

/* Every check engine_apply() makes of a FLUSH without marks or of a CLEAR_REGION (the
 * instance, its state, the regions), without applying anything: success with no result, or
 * the error engine_apply() would give now. A FLUSH without marks changes nothing, so dmlogd
 * answers it like a read; a CLEAR_REGION that passes cannot fail when applied later unless its
 * own instance is destroyed or lost first (CLEAR has no other error), which lets dmlogd answer
 * it before its commit. Any other op (a FLUSH carrying marks included) gets -EINVAL. */
void engine_check(const struct engine *e, const struct engine_req *req, struct engine_res *res);

/* Whether req names a region at or beyond the region_count of its instance, whatever the
 * instance's state: true with res->error -EINVAL and the message engine_apply() would give
 * for it. False (res zeroed) for a request without regions, a CTR, a bad uuid or node name, or
 * an unknown instance: those are engine_apply()'s to answer. The kernel never sends such a
 * region, so dmlogd treats one as a broken client and closes its connection. */
bool engine_out_of_range(const struct engine *e, const struct engine_req *req,
			 struct engine_res *res);

/* A node's lease ran out (see the file comment). Returns 0 or -ENOMEM. */
int engine_node_lost(struct engine *e, const char *node);

enum engine_event_kind {
	ENGINE_EVENT_SYNC = 1,
	ENGINE_EVENT_INSTANCE = 2,
	ENGINE_EVENT_LOG_GONE = 3,
};

/* One output event (see "output events" above). */
struct engine_event {
	enum engine_event_kind kind;
	const char *uuid;             /* the log */
	const char *node;             /* INSTANCE */
	uint64_t luid;                /* INSTANCE */
	uint64_t first, last;         /* SYNC: inclusive range */
	bool in_sync;                 /* SYNC: the bits' new value */
	bool resumed;                 /* INSTANCE: state is resumed now */
	bool sticky;                  /* INSTANCE: the sticky flag now */
	bool gone;                    /* INSTANCE: the instance was removed */
};

typedef void (*engine_event_fn)(void *arg, const struct engine_event *ev);

/* Sets (fn non-NULL) or clears the event function. */
void engine_set_events(struct engine *e, engine_event_fn fn, void *arg);

/* What IN_SYNC needs to know about one instance, for building a copy of it elsewhere. */
struct engine_instance_view {
	bool resumed;
	bool sticky;
	uint64_t region_count;
};

/* 0 with *v filled, or -ENOENT when (uuid, node, luid) is no instance. */
int engine_instance_view(const struct engine *e, const char *uuid, const char *node,
			 uint64_t luid, struct engine_instance_view *v);

/* Snapshot: versioned, checksummed (SHA-256), little-endian, any size. *buf is malloc'ed and
 * owned by the caller. Returns 0 or -ENOMEM. Byte-identical for equal states. */
int engine_snapshot(const struct engine *e, uint8_t **buf, size_t *len);

/* Restores a snapshot into a new engine (owned). NULL with a reason in errmsg when the bytes are
 * truncated, corrupt (checksum), of an unknown version or inconsistent, or memory runs out. */
struct engine *engine_restore(const uint8_t *buf, size_t len, char *errmsg, size_t errlen);

/* ---------------------------------------------------------------- inspection (admin, tests) */

struct engine_log_info {
	char uuid[ENGINE_UUID_MAX + 1];
	char type[16];                /* "clustered-core", "clustered-disk", "core", "disk" */
	char device[ENGINE_DEV_MAX + 1];
	uint64_t region_size;
	uint64_t region_count;
	uint64_t dirty_count;         /* regions whose clean bit is clear */
	uint64_t sync_count;
	const char *state;            /* "resumed" if any instance is, else "suspended" if any is
				       * presuspended, suspended or lost, else "pending" if any
				       * instance exists, else "closed" */
	uint32_t instances;
	uint32_t assignments;         /* regions being recovered now */
	char recoverer[ENGINE_NODE_NAME_MAX + 1]; /* node of the lowest assigned region, or "" */
	uint64_t recovering_region;   /* lowest assigned region (valid if recoverer[0]) */
	bool fully_synced;            /* sync_count == region_count */
};

size_t engine_log_count(const struct engine *e);
/* Logs in uuid order (strcmp). 0, or -ENOENT past the end. */
int engine_log_info_at(const struct engine *e, size_t i, struct engine_log_info *info);
/* 0, or -ENOENT for an unknown uuid. */
int engine_log_info(const struct engine *e, const char *uuid, struct engine_log_info *info);

/* Calls fn for each maximal run [first, last] of regions that are dirty (dirty == true) or out
 * of sync (dirty == false), in increasing order. 0, or -ENOENT. */
typedef void (*engine_range_fn)(void *arg, uint64_t first, uint64_t last);
int engine_log_ranges(const struct engine *e, const char *uuid, bool dirty, engine_range_fn fn,
		      void *arg);

/* Calls fn for each (node, region) mark, ordered by region then node name. 0, -ENOENT or
 * -ENOMEM. */
typedef void (*engine_mark_fn)(void *arg, const char *node, uint64_t region);
int engine_log_marks(const struct engine *e, const char *uuid, engine_mark_fn fn, void *arg);

/* Calls fn for each instance, ordered by node name then luid. state as in engine_log_info
 * plus "presuspended" and "lost". 0, or -ENOENT. */
typedef void (*engine_instance_fn)(void *arg, const char *node, uint64_t luid, const char *state,
				   uint64_t region_count, uint64_t hint);
int engine_log_instances(const struct engine *e, const char *uuid, engine_instance_fn fn, void *arg);

#endif /* DMLOG_ENGINE_H */
