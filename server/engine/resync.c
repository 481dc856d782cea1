/* resync.c: recovery coordination (GET_RESYNC_WORK, SET_REGION_SYNC, IS_REMOTE_RECOVERING).
 *
 * Exactly one instance recovers a region at a time and each holds at most one assignment. The
 * in_sync_hint handed to an instance promises that no region below it will be recovered until
 * that instance resumes again; the floor (the largest hint of the other instances whose kernels
 * may still write with it: resumed or presuspended ones) keeps that promise when regions fall out
 * of sync below a hint later.
 */
#include "engine_impl.h"

/* Largest hint of the other instances whose hint still counts. A sticky instance counts as
 * its region_count: its kernel saw the full sync count, which sets the kernel's own hint to
 * region_count (it then writes without asking IS_REMOTE_RECOVERING) until its next resume;
 * recovering any region meanwhile could race one of its writes. */
static uint64_t resync_floor(const struct log *l, const struct inst *self)
{
	uint64_t floor = 0, h;

	for (uint32_t i = 0; i < l->ninst; i++) {
		const struct inst *o = l->insts[i];

		if (o == self || (o->state != INST_RESUMED && o->state != INST_PRESUSPENDED))
			continue;
		h = o->sticky && o->region_count > o->hint ? o->region_count : o->hint;
		if (h > floor)
			floor = h;
	}
	return floor;
}

static void assign(struct inst *in, uint64_t r, struct engine_res *res)
{
	in->assigned = true;
	in->assigned_region = r;
	res->flag = true;
	res->value = r;
}

void resync_get_work(struct log *l, struct inst *in, struct engine_res *res)
{
	uint64_t floor, r, end = in->region_count;

	if (in->state != INST_RESUMED)
		return;
	if (in->assigned) {
		res->flag = true;
		res->value = in->assigned_region;
		return;
	}
	floor = resync_floor(l, in);
	/* Regions a writer is waiting for come first; the cursor stays where it is. */
	for (uint32_t i = 0; i < l->nprio;) {
		r = l->prio[i];
		if (r >= end) {
			i++; /* beyond this instance's view: left for a larger one */
			continue;
		}
		log_prio_remove_at(l, i);
		if (bitmap_get(&l->sync, r) || r < floor || log_assignee(l, r))
			continue;
		assign(in, r, res);
		return;
	}
	r = l->sync_search > floor ? l->sync_search : floor;
	for (;; r++) {
		r = bitmap_find(&l->sync, r, end, false);
		if (r >= end)
			break;
		if (!log_assignee(l, r)) {
			assign(in, r, res);
			l->sync_search = r + 1;
			return;
		}
	}
	if (l->sync_search < end)
		l->sync_search = end;
}

void resync_set_region_sync(struct log *l, uint64_t r, bool in_sync)
{
	log_release_region(l, r);
	log_prio_drop(l, r);
	if (!in_sync) {
		log_sync_clear(l, r);
		return;
	}
	log_sync_set(l, r);
	if (l->sync_count == l->region_count)
		for (uint32_t i = 0; i < l->ninst; i++) {
			struct inst *in = l->insts[i];

			if (in->state != INST_RESUMED || in->sticky)
				continue;
			in->sticky = true;
			log_emit_inst(l, in, false);
		}
}

void resync_is_remote_recovering(struct log *l, struct inst *in, uint64_t r,
				 struct engine_res *res)
{
	res->flag = !bitmap_get(&l->sync, r);
	res->value = log_low_unsynced(l);
	in->hint = res->value;
	if (res->flag && !log_assignee(l, r))
		log_prio_push(l, r);
}
