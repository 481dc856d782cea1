/* engine.c: the engine object, its log and node registries, and request dispatch.
 *
 * engine_apply() checks what every operation has in common (op, uuid, node, instance, lost
 * state, region bounds) before a handler runs, so handlers see only valid requests. Results are
 * zeroed on error whatever a handler wrote. See engine.h for the contract and engine_impl.h for
 * the layout.
 */
#include "engine_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct engine *engine_new(void)
{
	struct engine *e = calloc(1, sizeof(struct engine));

	if (e)
		e->sink.names = (const char (*)[ENGINE_NODE_NAME_MAX + 1])e->nodes;
	return e;
}

void engine_set_events(struct engine *e, engine_event_fn fn, void *arg)
{
	e->sink.fn = fn;
	e->sink.arg = fn ? arg : NULL;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nlogs; i++)
		log_free(e->logs[i]);
	free(e->logs);
	phash_free(&e->log_index);
	free(e);
}

int engine_fail(struct engine_res *res, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->errmsg, sizeof(res->errmsg), fmt, ap);
	va_end(ap);
	return err;
}

/* ---------------------------------------------------------------- registries */

static bool log_match(const void *item, const void *key)
{
	return !strcmp(((const struct log *)item)->uuid, key);
}

struct log *engine_log_find(const struct engine *e, const char *uuid)
{
	return phash_find(&e->log_index, log_uuid_hash(uuid, strlen(uuid)), log_match, uuid);
}

int engine_node_find(const struct engine *e, const char *name)
{
	for (uint32_t i = 0; i < e->nnodes; i++)
		if (!strcmp(e->nodes[i], name))
			return (int)i;
	return -1;
}

uint32_t engine_node_intern(struct engine *e, const char *name)
{
	int n = engine_node_find(e, name);

	if (n >= 0)
		return (uint32_t)n;
	snprintf(e->nodes[e->nnodes], sizeof(e->nodes[0]), "%s", name);
	return e->nnodes++;
}

int engine_log_reserve(struct engine *e)
{
	if (e->nlogs >= ENGINE_LOG_MAX)
		return -ENOSPC;
	if (e->nlogs == e->logs_cap) {
		size_t cap = e->logs_cap ? e->logs_cap * 2 : 8;
		struct log **v = realloc(e->logs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		e->logs = v;
		e->logs_cap = cap;
	}
	return phash_reserve(&e->log_index, 1);
}

/* Position of uuid in the sorted array (where it is or would go). */
static size_t log_pos(const struct engine *e, const char *uuid)
{
	size_t lo = 0, hi = e->nlogs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(e->logs[mid]->uuid, uuid) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void engine_log_insert(struct engine *e, struct log *l)
{
	size_t i = log_pos(e, l->uuid);

	memmove(e->logs + i + 1, e->logs + i, (e->nlogs - i) * sizeof(*e->logs));
	e->logs[i] = l;
	e->nlogs++;
	phash_insert(&e->log_index, l->uuid_hash, l);
	l->sink = &e->sink;
}

void engine_log_remove(struct engine *e, struct log *l)
{
	size_t i = log_pos(e, l->uuid);

	memmove(e->logs + i, e->logs + i + 1, (e->nlogs - i - 1) * sizeof(*e->logs));
	e->nlogs--;
	phash_remove(&e->log_index, l->uuid_hash, l);
}

void engine_log_replace(struct engine *e, struct log *old, struct log *fresh)
{
	log_emit_gone(old);
	e->logs[log_pos(e, old->uuid)] = fresh;
	phash_remove(&e->log_index, old->uuid_hash, old);
	phash_insert(&e->log_index, fresh->uuid_hash, fresh);
	fresh->sink = &e->sink;
}

/* ---------------------------------------------------------------- dispatch */

bool engine_op_is_read(uint32_t op)
{
	switch (op) {
	case ENGINE_GET_REGION_SIZE:
	case ENGINE_IS_CLEAN:
	case ENGINE_IN_SYNC:
	case ENGINE_GET_SYNC_COUNT:
	case ENGINE_STATUS_INFO:
	case ENGINE_STATUS_TABLE:
		return true;
	default:
		return false;
	}
}

/* Checks of the request alone (no state). */
static int check_request(const struct engine_req *req, struct engine_res *res)
{
	size_t n;

	if (req->op < ENGINE_CTR || req->op > ENGINE_IS_REMOTE_RECOVERING)
		return engine_fail(res, -EINVAL, "unknown operation %u", req->op);
	n = req->uuid ? strnlen(req->uuid, ENGINE_UUID_MAX + 1) : 0;
	if (n == 0 || n > ENGINE_UUID_MAX)
		return engine_fail(res, -EINVAL, "bad uuid: must be 1..%d bytes", ENGINE_UUID_MAX);
	n = req->node ? strnlen(req->node, ENGINE_NODE_NAME_MAX + 1) : 0;
	if (n == 0 || n > ENGINE_NODE_NAME_MAX)
		return engine_fail(res, -EINVAL, "bad node name: must be 1..%d bytes",
				   ENGINE_NODE_NAME_MAX);
	return 0;
}

static bool op_allowed_when_lost(uint32_t op)
{
	return op == ENGINE_DTR || op == ENGINE_PRESUSPEND || op == ENGINE_POSTSUSPEND ||
	       op == ENGINE_RESUME;
}

static int check_region(const struct inst *in, uint64_t r, struct engine_res *res)
{
	if (r >= in->region_count) {
		res->out_of_range = true;
		return engine_fail(res, -EINVAL, "region %llu out of range (%llu regions)",
				   (unsigned long long)r, (unsigned long long)in->region_count);
	}
	return 0;
}

/* Finds the instance of a non-CTR request and checks its state and regions. */
static int resolve(const struct engine *e, const struct engine_req *req, struct log **lp,
		   struct inst **inp, struct engine_res *res)
{
	struct log *l = engine_log_find(e, req->uuid);
	int node = engine_node_find(e, req->node);
	struct inst *in = l && node >= 0 ? log_inst_find(l, (uint32_t)node, req->luid) : NULL;
	int err;

	if (!in)
		return engine_fail(res, -EINVAL, "no such log instance");
	if (in->state == INST_LOST && !op_allowed_when_lost(req->op))
		return engine_fail(res, -ESTALE, "log instance was lost with its node; resume it");
	switch (req->op) {
	case ENGINE_MARK_REGION:
	case ENGINE_CLEAR_REGION:
	case ENGINE_FLUSH:
		if (req->nregions > ENGINE_REGIONS_MAX ||
		    (req->nregions == 0 && req->op != ENGINE_FLUSH))
			return engine_fail(res, -EINVAL, "bad region count %u", req->nregions);
		for (uint32_t i = 0; i < req->nregions; i++) {
			err = check_region(in, req->regions[i], res);
			if (err)
				return err;
		}
		break;
	case ENGINE_IS_CLEAN:
	case ENGINE_IN_SYNC:
	case ENGINE_SET_REGION_SYNC:
	case ENGINE_IS_REMOTE_RECOVERING:
		err = check_region(in, req->region, res);
		if (err)
			return err;
		break;
	default:
		break;
	}
	*lp = l;
	*inp = in;
	return 0;
}

static int apply_mutation(struct engine *e, struct log *l, struct inst *in,
			  const struct engine_req *req, struct engine_res *res)
{
	switch (req->op) {
	case ENGINE_DTR:
		return lifecycle_dtr(e, l, in);
	case ENGINE_PRESUSPEND:
		lifecycle_presuspend(l, in);
		return 0;
	case ENGINE_POSTSUSPEND:
		lifecycle_postsuspend(l, in);
		return 0;
	case ENGINE_RESUME:
		lifecycle_resume(l, in);
		return 0;
	case ENGINE_FLUSH:
		if (!req->nregions)
			return 0;
		return regions_mark(l, in, req->regions, req->nregions, res);
	case ENGINE_MARK_REGION:
		return regions_mark(l, in, req->regions, req->nregions, res);
	case ENGINE_CLEAR_REGION:
		regions_clear(l, in, req->regions, req->nregions);
		return 0;
	case ENGINE_GET_RESYNC_WORK:
		resync_get_work(l, in, res);
		return 0;
	case ENGINE_SET_REGION_SYNC:
		resync_set_region_sync(l, req->region, req->in_sync);
		return 0;
	case ENGINE_IS_REMOTE_RECOVERING:
		resync_is_remote_recovering(l, in, req->region, res);
		return 0;
	default:
		query_apply(l, in, req, res);
		return 0;
	}
}

/* Zeroes every result field but the error and its message. */
static void finish(struct engine_res *res, int err)
{
	if (err) {
		res->flag = false;
		res->value = 0;
		memset(res->text, 0, sizeof(res->text));
		res->error = err;
	} else {
		res->error = 0;
		res->errmsg[0] = '\0';
		res->out_of_range = false;
	}
}

void engine_apply(struct engine *e, const struct engine_req *req, struct engine_res *res)
{
	struct log *l = NULL;
	struct inst *in = NULL;
	int err;

	memset(res, 0, sizeof(*res));
	err = check_request(req, res);
	if (!err && req->op == ENGINE_CTR)
		err = lifecycle_ctr(e, req, res);
	else if (!err) {
		err = resolve(e, req, &l, &in, res);
		if (!err)
			err = apply_mutation(e, l, in, req, res);
	}
	finish(res, err);
}

void engine_read(const struct engine *e, const struct engine_req *req, struct engine_res *res)
{
	struct log *l = NULL;
	struct inst *in = NULL;
	int err;

	memset(res, 0, sizeof(*res));
	err = check_request(req, res);
	if (!err && !engine_op_is_read(req->op))
		err = engine_fail(res, -EINVAL, "operation %u changes state; not a read", req->op);
	if (!err)
		err = resolve(e, req, &l, &in, res);
	if (!err)
		query_apply(l, in, req, res);
	finish(res, err);
}

void engine_check(const struct engine *e, const struct engine_req *req, struct engine_res *res)
{
	struct log *l = NULL;
	struct inst *in = NULL;
	int err;

	memset(res, 0, sizeof(*res));
	err = check_request(req, res);
	if (!err && !(req->op == ENGINE_FLUSH && !req->nregions) && req->op != ENGINE_CLEAR_REGION)
		err = engine_fail(res, -EINVAL, "operation %u may not be answered before its commit",
				  req->op);
	if (!err)
		err = resolve(e, req, &l, &in, res);
	finish(res, err);
}

bool engine_out_of_range(const struct engine *e, const struct engine_req *req,
			 struct engine_res *res)
{
	struct log *l;
	struct inst *in;
	int node;
	uint32_t n;

	memset(res, 0, sizeof(*res));
	if (check_request(req, res) || req->op == ENGINE_CTR) {
		memset(res, 0, sizeof(*res));
		return false;
	}
	l = engine_log_find(e, req->uuid);
	node = engine_node_find(e, req->node);
	in = l && node >= 0 ? log_inst_find(l, (uint32_t)node, req->luid) : NULL;
	if (!in)
		return false;
	switch (req->op) {
	case ENGINE_MARK_REGION:
	case ENGINE_CLEAR_REGION:
	case ENGINE_FLUSH:
		n = req->nregions < ENGINE_REGIONS_MAX ? req->nregions : ENGINE_REGIONS_MAX;
		for (uint32_t i = 0; i < n; i++)
			if (check_region(in, req->regions[i], res))
				break;
		break;
	case ENGINE_IS_CLEAN:
	case ENGINE_IN_SYNC:
	case ENGINE_SET_REGION_SYNC:
	case ENGINE_IS_REMOTE_RECOVERING:
		check_region(in, req->region, res);
		break;
	default:
		break;
	}
	if (!res->out_of_range)
		return false;
	res->error = -EINVAL;
	return true;
}

/* ---------------------------------------------------------------- node loss */

static void lost_region(void *arg, uint64_t region)
{
	log_sync_clear(arg, region);
}

int engine_node_lost(struct engine *e, const char *node)
{
	int n = node ? engine_node_find(e, node) : -1;

	if (n < 0)
		return 0;
	for (size_t i = 0; i < e->nlogs; i++) {
		struct log *l = e->logs[i];

		marks_drop_node(&l->marks, engine_node_bit((uint32_t)n), lost_region, l);
		marks_compact(&l->marks);
		for (uint32_t j = 0; j < l->ninst; j++) {
			struct inst *in = l->insts[j];

			if (in->node != (uint32_t)n)
				continue;
			in->state = INST_LOST;
			in->assigned = false;
			in->assigned_region = 0;
			in->hint = 0;
			log_emit_inst(l, in, false);
		}
	}
	return 0;
}
