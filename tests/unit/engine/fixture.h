/* fixture.h: helpers shared by the engine's unit tests (request builders, checked shortcuts).
 *
 * Shortcuts named fx_<op> apply one operation and return its error (or its result); the ones
 * ending in _ok also assert success. fx_state_equal() compares two engines by their snapshots,
 * which is how the tests check that a failed operation left the state exactly as it was.
 */
#ifndef DMLOG_TEST_ENGINE_FIXTURE_H
#define DMLOG_TEST_ENGINE_FIXTURE_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define U "LVM-test-uuid-0001"

struct engine_req fx_req(uint32_t op, const char *node, const char *uuid, uint64_t luid);
struct engine_res fx_apply(struct engine *e, const struct engine_req *req);

/* CTR with request version 3, not a reconnect. */
int fx_ctr(struct engine *e, const char *node, const char *uuid, uint64_t luid, const char *args);
struct engine_res fx_ctr_res(struct engine *e, const char *node, const char *uuid, uint64_t luid,
			     const char *args, uint32_t version, bool reconnect);
/* CTR then RESUME, both must succeed. */
void fx_open(struct engine *e, const char *node, const char *uuid, uint64_t luid, const char *args);

/* An op without payload (DTR, PRESUSPEND, POSTSUSPEND, RESUME, GET_*, STATUS_*). */
struct engine_res fx_op(struct engine *e, uint32_t op, const char *node, const char *uuid,
			uint64_t luid);
int fx_simple(struct engine *e, uint32_t op, const char *node, const char *uuid, uint64_t luid);

/* MARK, CLEAR or FLUSH with a region list. */
int fx_regions(struct engine *e, uint32_t op, const char *node, const char *uuid, uint64_t luid,
	       uint32_t n, const uint64_t *regions);
int fx_mark(struct engine *e, const char *node, const char *uuid, uint64_t luid, uint64_t r);
int fx_clear(struct engine *e, const char *node, const char *uuid, uint64_t luid, uint64_t r);

/* IS_CLEAN, IN_SYNC or IS_REMOTE_RECOVERING of one region. */
struct engine_res fx_region_op(struct engine *e, uint32_t op, const char *node, const char *uuid,
			       uint64_t luid, uint64_t r);
int fx_set_sync(struct engine *e, const char *node, const char *uuid, uint64_t luid, uint64_t r,
		bool in_sync);

/* Asserting shortcuts. */
bool fx_clean(struct engine *e, const char *node, const char *uuid, uint64_t luid, uint64_t r);
bool fx_in_sync(struct engine *e, const char *node, const char *uuid, uint64_t luid, uint64_t r);
uint64_t fx_sync_count(struct engine *e, const char *node, const char *uuid, uint64_t luid);
/* GET_RESYNC_WORK: the region, or -1 for no work. */
int64_t fx_work(struct engine *e, const char *node, const char *uuid, uint64_t luid);

/* Snapshot (asserted to succeed); free() the result. */
uint8_t *fx_snapshot(const struct engine *e, size_t *len);
bool fx_state_equal(const struct engine *a, const struct engine *b);
/* A copy of e through snapshot and restore. */
struct engine *fx_clone(const struct engine *e);

/* Number of marks on a log, and whether node has region marked. */
size_t fx_mark_count(const struct engine *e, const char *uuid);
bool fx_has_mark(const struct engine *e, const char *uuid, const char *node, uint64_t region);

/* The instance's state name ("" when absent) and hint. */
const char *fx_inst_state(const struct engine *e, const char *uuid, const char *node,
			  uint64_t luid);
uint64_t fx_inst_hint(const struct engine *e, const char *uuid, const char *node, uint64_t luid);
size_t fx_inst_count(const struct engine *e, const char *uuid);

/* Runs a suite with the usual runner; returns the process exit status. */
int fx_run(Suite *s);

#endif /* DMLOG_TEST_ENGINE_FIXTURE_H */
