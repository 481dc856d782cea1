/* inspect.c: read-only views of the engine for the admin interface and tests.
 *
 * Everything is reported in a defined order (logs by uuid, runs by region, marks by region then
 * node name, instances by node name then luid), never in hash-table order. Nothing changes
 * state; the callbacks must not call back into the engine.
 */
#include "engine_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[INST_STATE_COUNT] = {
	[INST_PENDING] = "pending",
	[INST_RESUMED] = "resumed",
	[INST_PRESUSPENDED] = "presuspended",
	[INST_SUSPENDED] = "suspended",
	[INST_LOST] = "lost",
};

size_t engine_log_count(const struct engine *e)
{
	return e->nlogs;
}

/* "resumed" if any instance is; else "suspended" if any is presuspended, suspended or lost;
 * else "pending" if there are instances; else "closed". */
static const char *log_state(const struct log *l)
{
	bool any_resumed = false, any_down = false;

	for (uint32_t i = 0; i < l->ninst; i++) {
		enum inst_state s = l->insts[i]->state;

		any_resumed |= s == INST_RESUMED;
		any_down |= s == INST_PRESUSPENDED || s == INST_SUSPENDED || s == INST_LOST;
	}
	if (any_resumed)
		return "resumed";
	if (any_down)
		return "suspended";
	return l->ninst ? "pending" : "closed";
}

static void fill_info(const struct engine *e, const struct log *l, struct engine_log_info *info)
{
	const struct inst *lowest = NULL;

	memset(info, 0, sizeof(*info));
	snprintf(info->uuid, sizeof(info->uuid), "%s", l->uuid);
	snprintf(info->type, sizeof(info->type), "%s", ctr_type_name(l->type));
	snprintf(info->device, sizeof(info->device), "%s", l->dev);
	info->region_size = l->region_size;
	info->region_count = l->region_count;
	info->dirty_count = l->region_count - bitmap_popcount(&l->clean, l->region_count);
	info->sync_count = l->sync_count;
	info->state = log_state(l);
	info->instances = l->ninst;
	for (uint32_t i = 0; i < l->ninst; i++) {
		const struct inst *in = l->insts[i];

		if (!in->assigned)
			continue;
		info->assignments++;
		if (!lowest || in->assigned_region < lowest->assigned_region)
			lowest = in;
	}
	if (lowest) {
		snprintf(info->recoverer, sizeof(info->recoverer), "%s", e->nodes[lowest->node]);
		info->recovering_region = lowest->assigned_region;
	}
	info->fully_synced = l->sync_count == l->region_count;
}

int engine_log_info_at(const struct engine *e, size_t i, struct engine_log_info *info)
{
	if (i >= e->nlogs)
		return -ENOENT;
	fill_info(e, e->logs[i], info);
	return 0;
}

int engine_log_info(const struct engine *e, const char *uuid, struct engine_log_info *info)
{
	const struct log *l = uuid ? engine_log_find(e, uuid) : NULL;

	if (!l)
		return -ENOENT;
	fill_info(e, l, info);
	return 0;
}

int engine_log_ranges(const struct engine *e, const char *uuid, bool dirty, engine_range_fn fn,
		      void *arg)
{
	const struct log *l = uuid ? engine_log_find(e, uuid) : NULL;
	const struct bitmap *b;
	uint64_t n, r;

	if (!l)
		return -ENOENT;
	b = dirty ? &l->clean : &l->sync;
	n = l->region_count;
	for (r = bitmap_find(b, 0, n, false); r < n; r = bitmap_find(b, r, n, false)) {
		uint64_t end = bitmap_find(b, r, n, true);

		fn(arg, r, end - 1);
		r = end;
	}
	return 0;
}

/* Node indexes ordered by name (insertion sort: at most ENGINE_NODE_MAX entries). */
static void nodes_by_name(const struct engine *e, uint32_t *order)
{
	for (uint32_t i = 0; i < e->nnodes; i++) {
		uint32_t j = i;

		while (j > 0 && strcmp(e->nodes[order[j - 1]], e->nodes[i]) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
}

int engine_log_marks(const struct engine *e, const char *uuid, engine_mark_fn fn, void *arg)
{
	const struct log *l = uuid ? engine_log_find(e, uuid) : NULL;
	struct marks_entry *v;
	uint32_t order[ENGINE_NODE_MAX];
	int err;

	if (!l)
		return -ENOENT;
	err = marks_sorted(&l->marks, &v);
	if (err)
		return err;
	nodes_by_name(e, order);
	for (size_t i = 0; i < l->marks.count; i++)
		for (uint32_t j = 0; j < e->nnodes; j++)
			if (v[i].mask & engine_node_bit(order[j]))
				fn(arg, e->nodes[order[j]], v[i].region);
	free(v);
	return 0;
}

int engine_log_instances(const struct engine *e, const char *uuid, engine_instance_fn fn, void *arg)
{
	const struct log *l = uuid ? engine_log_find(e, uuid) : NULL;

	if (!l)
		return -ENOENT;
	for (uint32_t i = 0; i < l->ninst; i++) {
		const struct inst *in = l->insts[i];

		fn(arg, e->nodes[in->node], in->luid, state_names[in->state], in->region_count,
		   in->hint);
	}
	return 0;
}

int engine_instance_view(const struct engine *e, const char *uuid, const char *node,
			 uint64_t luid, struct engine_instance_view *v)
{
	const struct log *l = uuid ? engine_log_find(e, uuid) : NULL;
	int n = node ? engine_node_find(e, node) : -1;
	const struct inst *in = l && n >= 0 ? log_inst_find(l, (uint32_t)n, luid) : NULL;

	if (!in)
		return -ENOENT;
	v->resumed = in->state == INST_RESUMED;
	v->sticky = in->sticky;
	v->region_count = in->region_count;
	return 0;
}
