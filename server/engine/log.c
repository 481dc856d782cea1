/* log.c: a dirty log's state and the invariant-keeping primitives on it (see log.h). */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct log *log_new(const char *uuid, enum ctr_type type, const char *dev, uint64_t region_size,
		    enum ctr_mode mode, bool block_on_error, uint64_t region_count)
{
	struct log *l = calloc(1, sizeof(*l));
	bool ones = mode == CTR_MODE_NOSYNC;

	if (!l)
		return NULL;
	if (bitmap_init(&l->clean, region_count, ones) || bitmap_init(&l->sync, region_count, ones)) {
		bitmap_free(&l->clean);
		free(l);
		return NULL;
	}
	l->uuid_len = strlen(uuid);
	memcpy(l->uuid, uuid, l->uuid_len + 1);
	l->uuid_hash = log_uuid_hash(uuid, l->uuid_len);
	l->type = type;
	snprintf(l->dev, sizeof(l->dev), "%s", dev);
	l->region_size = region_size;
	l->mode = mode;
	l->block_on_error = block_on_error;
	l->region_count = region_count;
	l->sync_count = ones ? region_count : 0;
	marks_init(&l->marks, LOG_MARKS_MAX);
	return l;
}

void log_free(struct log *l)
{
	if (!l)
		return;
	for (uint32_t i = 0; i < l->ninst; i++)
		log_inst_free(l->insts[i]);
	free(l->insts);
	phash_free(&l->inst_index);
	marks_free(&l->marks);
	bitmap_free(&l->clean);
	bitmap_free(&l->sync);
	free(l);
}

uint64_t log_uuid_hash(const char *uuid, size_t len)
{
	return phash_bytes(uuid, len, 0);
}

/* ---------------------------------------------------------------- output events */

static bool log_listened(const struct log *l)
{
	return l->sink && l->sink->fn;
}

void log_emit_sync(const struct log *l, uint64_t first, uint64_t last, bool in_sync)
{
	struct engine_event ev = {.kind = ENGINE_EVENT_SYNC, .uuid = l->uuid, .first = first,
				  .last = last, .in_sync = in_sync};

	if (log_listened(l))
		l->sink->fn(l->sink->arg, &ev);
}

void log_emit_inst(const struct log *l, const struct inst *in, bool gone)
{
	struct engine_event ev = {.kind = ENGINE_EVENT_INSTANCE, .uuid = l->uuid, .luid = in->luid,
				  .resumed = !gone && in->state == INST_RESUMED,
				  .sticky = !gone && in->sticky, .gone = gone};

	if (!log_listened(l))
		return;
	ev.node = l->sink->names[in->node];
	l->sink->fn(l->sink->arg, &ev);
}

void log_emit_gone(const struct log *l)
{
	struct engine_event ev = {.kind = ENGINE_EVENT_LOG_GONE, .uuid = l->uuid};

	if (log_listened(l))
		l->sink->fn(l->sink->arg, &ev);
}

/* ---------------------------------------------------------------- bits */

void log_sync_set(struct log *l, uint64_t r)
{
	if (!bitmap_get(&l->sync, r)) {
		bitmap_set(&l->sync, r);
		l->sync_count++;
		log_emit_sync(l, r, r, true);
	}
}

void log_sync_clear(struct log *l, uint64_t r)
{
	if (bitmap_get(&l->sync, r)) {
		bitmap_clear(&l->sync, r);
		l->sync_count--;
		log_emit_sync(l, r, r, false);
	}
	bitmap_clear(&l->clean, r);
	if (r < l->low)
		l->low = r;
}

uint64_t log_low_unsynced(struct log *l)
{
	l->low = bitmap_find(&l->sync, l->low, l->region_count, false);
	return l->low;
}

/* Reports each run of regions that are in sync but dirty: those the AND below takes out of
 * sync. A word-wise scan, done only when someone listens. */
static void log_emit_dirty_synced(const struct log *l)
{
	size_t nw = bitmap_words(l->region_count);
	uint64_t start = 0;
	bool open = false;

	for (size_t i = 0; i < nw; i++) {
		uint64_t w = l->sync.w[i] & ~l->clean.w[i];

		if (!open && !w)
			continue;
		for (unsigned b = 0; b < 64; b++) {
			uint64_t r = (uint64_t)i * 64 + b;
			bool set = (w >> b) & 1;

			if (r >= l->region_count)
				break;
			if (set && !open) {
				start = r;
				open = true;
			} else if (!set && open) {
				log_emit_sync(l, start, r - 1, false);
				open = false;
			}
			if (!open && !(w >> b))
				break; /* nothing more in this word */
		}
	}
	if (open)
		log_emit_sync(l, start, l->region_count - 1, false);
}

void log_sync_and_clean(struct log *l)
{
	if (log_listened(l))
		log_emit_dirty_synced(l);
	bitmap_and(&l->sync, &l->clean);
	l->sync_count = bitmap_popcount(&l->sync, l->region_count);
	l->low = 0;
}

int log_reserve_regions(struct log *l, uint64_t new_count)
{
	if (bitmap_reserve(&l->clean, new_count) || bitmap_reserve(&l->sync, new_count))
		return -ENOMEM; /* a reserved but unused tail is harmless */
	return 0;
}

void log_resize(struct log *l, uint64_t new_count, bool ones)
{
	uint64_t old = l->region_count;

	if (new_count >= old) {
		bitmap_resize(&l->clean, new_count, ones);
		bitmap_resize(&l->sync, new_count, ones);
		if (ones)
			l->sync_count += new_count - old;
		l->region_count = new_count;
		if (new_count > old)
			log_emit_sync(l, old, new_count - 1, ones);
		return;
	}
	bitmap_resize(&l->clean, new_count, false);
	bitmap_resize(&l->sync, new_count, false);
	l->region_count = new_count;
	l->sync_count = bitmap_popcount(&l->sync, new_count);
	if (l->low > new_count)
		l->low = new_count;
	if (l->sync_search > new_count)
		l->sync_search = new_count;
	marks_drop_from(&l->marks, new_count);
	marks_compact(&l->marks);
	for (uint32_t i = 0; i < l->nprio;) {
		if (l->prio[i] >= new_count)
			log_prio_remove_at(l, i);
		else
			i++;
	}
}

/* ---------------------------------------------------------------- instances */

struct inst_key {
	uint32_t node;
	uint64_t luid;
};

static uint64_t inst_hash(uint32_t node, uint64_t luid)
{
	uint8_t b[12];

	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(node >> (8 * i));
	for (int i = 0; i < 8; i++)
		b[4 + i] = (uint8_t)(luid >> (8 * i));
	return phash_bytes(b, sizeof(b), 1);
}

static bool inst_match(const void *item, const void *key)
{
	const struct inst *in = item;
	const struct inst_key *k = key;

	return in->node == k->node && in->luid == k->luid;
}

struct inst *log_inst_find(const struct log *l, uint32_t node, uint64_t luid)
{
	struct inst_key k = { node, luid };

	return phash_find(&l->inst_index, inst_hash(node, luid), inst_match, &k);
}

int log_inst_reserve(struct log *l)
{
	if (l->ninst >= ENGINE_LOG_INSTANCE_MAX)
		return -ENOSPC;
	if (l->ninst == l->inst_cap) {
		uint32_t cap = l->inst_cap ? l->inst_cap * 2 : 4;
		struct inst **v = realloc(l->insts, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->insts = v;
		l->inst_cap = cap;
	}
	return phash_reserve(&l->inst_index, 1);
}

void log_inst_insert(struct log *l, struct inst *in, const char (*names)[ENGINE_NODE_NAME_MAX + 1])
{
	uint32_t i = 0;

	while (i < l->ninst) {
		const struct inst *o = l->insts[i];
		int c = strcmp(names[o->node], names[in->node]);

		if (c > 0 || (c == 0 && o->luid > in->luid))
			break;
		i++;
	}
	memmove(l->insts + i + 1, l->insts + i, (l->ninst - i) * sizeof(*l->insts));
	l->insts[i] = in;
	l->ninst++;
	phash_insert(&l->inst_index, inst_hash(in->node, in->luid), in);
}

void log_inst_remove(struct log *l, struct inst *in)
{
	for (uint32_t i = 0; i < l->ninst; i++) {
		if (l->insts[i] != in)
			continue;
		memmove(l->insts + i, l->insts + i + 1, (l->ninst - i - 1) * sizeof(*l->insts));
		l->ninst--;
		phash_remove(&l->inst_index, inst_hash(in->node, in->luid), in);
		return;
	}
}

bool log_node_has_inst(const struct log *l, uint32_t node)
{
	for (uint32_t i = 0; i < l->ninst; i++)
		if (l->insts[i]->node == node)
			return true;
	return false;
}

uint64_t log_max_inst_regions(const struct log *l)
{
	uint64_t m = 0;

	for (uint32_t i = 0; i < l->ninst; i++)
		if (l->insts[i]->region_count > m)
			m = l->insts[i]->region_count;
	return m;
}

struct inst *log_inst_new(uint32_t node, uint64_t luid, const char *args, size_t args_len,
			  uint64_t region_count)
{
	struct inst *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->args = malloc(args_len + 1);
	if (!in->args) {
		free(in);
		return NULL;
	}
	memcpy(in->args, args, args_len);
	in->args[args_len] = '\0';
	in->args_len = args_len;
	in->node = node;
	in->luid = luid;
	in->region_count = region_count;
	in->state = INST_PENDING;
	return in;
}

void log_inst_free(struct inst *in)
{
	if (!in)
		return;
	free(in->args);
	free(in);
}

/* ---------------------------------------------------------------- resync bookkeeping */

struct inst *log_assignee(const struct log *l, uint64_t r)
{
	for (uint32_t i = 0; i < l->ninst; i++)
		if (l->insts[i]->assigned && l->insts[i]->assigned_region == r)
			return l->insts[i];
	return NULL;
}

void log_release_region(struct log *l, uint64_t r)
{
	struct inst *in = log_assignee(l, r);

	if (in) {
		in->assigned = false;
		in->assigned_region = 0;
	}
}

void log_prio_remove_at(struct log *l, uint32_t i)
{
	memmove(l->prio + i, l->prio + i + 1, (l->nprio - i - 1) * sizeof(l->prio[0]));
	l->nprio--;
}

void log_prio_drop(struct log *l, uint64_t r)
{
	for (uint32_t i = 0; i < l->nprio; i++) {
		if (l->prio[i] == r) {
			log_prio_remove_at(l, i);
			return;
		}
	}
}

void log_prio_push(struct log *l, uint64_t r)
{
	if (l->nprio >= ENGINE_PRIORITY_MAX)
		return;
	for (uint32_t i = 0; i < l->nprio; i++)
		if (l->prio[i] == r)
			return;
	l->prio[l->nprio++] = r;
}
