/* lifecycle.c: CTR, DTR, PRESUSPEND, POSTSUSPEND and RESUME (see engine.h for the rules).
 *
 * CTR is the one complicated operation: it may create, re-create, reopen, join, grow or shrink
 * a log and replace a stale pending instance. It decides everything and allocates everything
 * first, and only then changes state, so that every failure leaves the engine untouched.
 */
#include "engine_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The CTR result text: the device for disk types, unless the kernel cannot take it. */
static void ctr_result(const struct engine_req *req, const struct ctr_args *a,
		       struct engine_res *res)
{
	if (ctr_type_is_disk(a->type) && req->version >= 2 && !req->reconnect)
		snprintf(res->text, sizeof(res->text), "%s", a->dev);
}

enum ctr_action {
	CTR_CREATE,           /* a new log (replacing any existing entry of that uuid) */
	CTR_JOIN,             /* the log has other instances: join it */
	CTR_REOPEN,           /* a closed disk log: reopen it with its bits */
};

/* Decides what a CTR does to an existing log l whose instances other than the one being
 * replaced number `others`. */
static int ctr_decide(const struct log *l, uint32_t others, const struct ctr_args *a,
		      enum ctr_action *action, struct engine_res *res)
{
	bool same_geometry;

	if (!l) {
		*action = CTR_CREATE;
		return 0;
	}
	same_geometry = l->region_size == a->region_size && !strcmp(l->dev, a->dev);
	if (others) {
		if (l->type != a->type || !same_geometry)
			return engine_fail(res, -EINVAL,
					   "CTR: log exists as %s %s%s%llu; arguments differ",
					   ctr_type_name(l->type), l->dev, l->dev[0] ? " " : "",
					   (unsigned long long)l->region_size);
		*action = CTR_JOIN;
		return 0;
	}
	if (!ctr_type_is_disk(l->type)) {
		*action = CTR_CREATE; /* a core log without instances does not survive */
		return 0;
	}
	if (l->type != a->type)
		return engine_fail(res, -EINVAL, "CTR: closed log exists as %s, not %s",
				   ctr_type_name(l->type), ctr_type_name(a->type));
	*action = !same_geometry || a->mode == CTR_MODE_SYNC ? CTR_CREATE : CTR_REOPEN;
	return 0;
}

int lifecycle_ctr(struct engine *e, const struct engine_req *req, struct engine_res *res)
{
	struct ctr_args a;
	char why[96];
	struct log *l, *fresh = NULL;
	struct inst *old = NULL, *in;
	enum ctr_action action = CTR_CREATE;
	uint64_t new_count = 0;
	uint32_t others;
	int node, err;

	err = ctr_parse(req->args, req->args_len, &a, why, sizeof(why));
	if (err)
		return engine_fail(res, err, "CTR: %s", why);
	l = engine_log_find(e, req->uuid);
	node = engine_node_find(e, req->node);
	if (l && node >= 0)
		old = log_inst_find(l, (uint32_t)node, req->luid);
	if (old && old->state != INST_PENDING) {
		/* A repeated CTR (the kernel's reconnect loop) of a live instance. */
		if (old->args_len != req->args_len || memcmp(old->args, req->args, req->args_len))
			return engine_fail(res, -EEXIST,
					   "CTR: instance exists with other arguments '%.64s'",
					   old->args);
		ctr_result(req, &a, res);
		return 0;
	}
	others = l ? l->ninst - (old ? 1 : 0) : 0;
	err = ctr_decide(l, others, &a, &action, res);
	if (err)
		return err;
	if (action == CTR_CREATE && !l && e->nlogs >= ENGINE_LOG_MAX)
		return engine_fail(res, -ENOSPC, "CTR: too many logs (%d)", ENGINE_LOG_MAX);
	if (node < 0 && e->nnodes >= ENGINE_NODE_MAX)
		return engine_fail(res, -EUSERS, "CTR: too many nodes (%d)", ENGINE_NODE_MAX);

	/* Allocate everything before changing anything. */
	in = log_inst_new(0, req->luid, req->args, req->args_len, a.region_count);
	if (!in)
		goto nomem;
	if (action == CTR_CREATE) {
		fresh = log_new(req->uuid, a.type, a.dev, a.region_size, a.mode, a.block_on_error,
				a.region_count);
		if (!fresh || log_inst_reserve(fresh))
			goto nomem;
		if (!l && engine_log_reserve(e))
			goto nomem;
	} else {
		new_count = a.region_count;
		if (action == CTR_JOIN) {
			for (uint32_t i = 0; i < l->ninst; i++)
				if (l->insts[i] != old && l->insts[i]->region_count > new_count)
					new_count = l->insts[i]->region_count;
		}
		if (log_reserve_regions(l, new_count))
			goto nomem;
		if (!old) {
			err = log_inst_reserve(l);
			if (err) {
				log_inst_free(in);
				if (err == -ENOSPC)
					return engine_fail(res, err, "CTR: too many instances of the log (%d)",
							   ENGINE_LOG_INSTANCE_MAX);
				return engine_fail(res, err, "CTR: out of memory");
			}
		}
	}

	/* Commit. */
	in->node = engine_node_intern(e, req->node);
	if (action == CTR_CREATE) {
		if (l) {
			engine_log_replace(e, l, fresh);
			log_free(l); /* with the replaced pending instance, if any */
		} else {
			engine_log_insert(e, fresh);
		}
		log_inst_insert(fresh, in, (const char (*)[ENGINE_NODE_NAME_MAX + 1])e->nodes);
	} else {
		if (old) {
			log_emit_inst(l, old, true);
			log_inst_remove(l, old);
			log_inst_free(old);
		}
		log_inst_insert(l, in, (const char (*)[ENGINE_NODE_NAME_MAX + 1])e->nodes);
		if (action == CTR_REOPEN) {
			l->mode = a.mode;
			l->block_on_error = a.block_on_error;
		}
		if (new_count != l->region_count)
			log_resize(l, new_count, a.mode == CTR_MODE_NOSYNC);
	}
	ctr_result(req, &a, res);
	return 0;

nomem:
	log_inst_free(in);
	log_free(fresh);
	return engine_fail(res, -ENOMEM, "CTR: out of memory");
}

int lifecycle_dtr(struct engine *e, struct log *l, struct inst *in)
{
	uint32_t node = in->node;
	uint64_t largest;

	log_emit_inst(l, in, true);
	log_inst_remove(l, in);
	log_inst_free(in);
	if (!log_node_has_inst(l, node)) {
		marks_drop_node(&l->marks, engine_node_bit(node), NULL, NULL);
		marks_compact(&l->marks);
	}
	if (!l->ninst) {
		if (!ctr_type_is_disk(l->type)) {
			log_emit_gone(l);
			engine_log_remove(e, l);
			log_free(l);
		}
		return 0; /* a disk log stays, closed, with its bits */
	}
	largest = log_max_inst_regions(l);
	if (largest < l->region_count)
		log_resize(l, largest, false);
	return 0;
}

void lifecycle_presuspend(const struct log *l, struct inst *in)
{
	bool was_resumed = in->state == INST_RESUMED;

	in->state = INST_PRESUSPENDED;
	in->assigned = false;
	in->assigned_region = 0;
	if (was_resumed)
		log_emit_inst(l, in, false);
}

void lifecycle_postsuspend(const struct log *l, struct inst *in)
{
	bool was_resumed = in->state == INST_RESUMED;

	in->state = INST_SUSPENDED;
	in->assigned = false;
	in->assigned_region = 0;
	if (was_resumed)
		log_emit_inst(l, in, false);
}

void lifecycle_resume(struct log *l, struct inst *in)
{
	bool master = true;

	if (in->state == INST_RESUMED)
		return;
	for (uint32_t i = 0; i < l->ninst; i++) {
		const struct inst *o = l->insts[i];

		if (o != in && (o->state == INST_RESUMED || o->state == INST_PRESUSPENDED))
			master = false;
	}
	if (master)
		log_sync_and_clean(l);
	l->sync_search = 0;
	in->hint = 0;
	in->sticky = false;
	in->state = INST_RESUMED;
	log_emit_inst(l, in, false);
}
