/* marks.c: region -> node-mask hash table with linear probing (see marks.h). */
#include "marks.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MARKS_MIN_CAP 16

/* A fixed 64-bit mixer (the splitmix64 finaliser): deterministic, spreads sequential regions. */
static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static inline size_t home(const struct marks *m, uint64_t region)
{
	return (size_t)(mix(region) & (m->cap - 1));
}

void marks_init(struct marks *m, size_t limit)
{
	memset(m, 0, sizeof(*m));
	m->limit = limit;
}

void marks_free(struct marks *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = 0;
	m->count = 0;
}

/* Slot index holding region, or cap when absent. */
static size_t lookup(const struct marks *m, uint64_t region)
{
	size_t i;

	if (!m->cap)
		return 0;
	for (i = home(m, region);; i = (i + 1) & (m->cap - 1)) {
		if (!m->slots[i].mask)
			return m->cap;
		if (m->slots[i].region == region)
			return i;
	}
}

uint64_t marks_get(const struct marks *m, uint64_t region)
{
	size_t i = lookup(m, region);

	return i < m->cap ? m->slots[i].mask : 0;
}

/* Places an entry known to be absent; the table has room. */
static void place(struct marks *m, uint64_t region, uint64_t mask)
{
	size_t i = home(m, region);

	while (m->slots[i].mask)
		i = (i + 1) & (m->cap - 1);
	m->slots[i].region = region;
	m->slots[i].mask = mask;
}

/* Moves everything into a fresh array of cap slots. 0 or -ENOMEM (table unchanged). */
static int rehash(struct marks *m, size_t cap)
{
	struct marks_entry *old = m->slots;
	size_t old_cap = m->cap;
	struct marks_entry *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	m->slots = slots;
	m->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].mask)
			place(m, old[i].region, old[i].mask);
	free(old);
	return 0;
}

/* Smallest capacity keeping n entries at most 3/4 full. */
static size_t cap_for(size_t n)
{
	size_t cap = MARKS_MIN_CAP;

	while (cap / 4 * 3 < n)
		cap *= 2;
	return cap;
}

int marks_reserve(struct marks *m, size_t extra)
{
	size_t need;

	if (extra > m->limit || m->count > m->limit - extra)
		return -ENOSPC;
	need = m->count + extra;
	if (m->cap && need <= m->cap / 4 * 3)
		return 0;
	return rehash(m, cap_for(need));
}

void marks_add(struct marks *m, uint64_t region, uint64_t bits)
{
	size_t i = lookup(m, region);

	if (i < m->cap) {
		m->slots[i].mask |= bits;
		return;
	}
	place(m, region, bits);
	m->count++;
}

/* Empties slot i and shifts the rest of its probe run back so that no lookup breaks. */
static void delete_at(struct marks *m, size_t i)
{
	size_t mask = m->cap - 1;
	size_t j = i;

	for (;;) {
		size_t k;

		j = (j + 1) & mask;
		if (!m->slots[j].mask)
			break;
		k = home(m, m->slots[j].region);
		/* The entry at j may fill the hole at i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		m->slots[i] = m->slots[j];
		i = j;
	}
	m->slots[i].mask = 0;
	m->slots[i].region = 0;
	m->count--;
}

uint64_t marks_remove(struct marks *m, uint64_t region, uint64_t bits)
{
	size_t i = lookup(m, region);
	uint64_t left;

	if (i >= m->cap)
		return 0;
	left = m->slots[i].mask & ~bits;
	if (left)
		m->slots[i].mask = left;
	else
		delete_at(m, i);
	return left;
}

/* Rewrites every mask through edit (which returns the new mask; 0 deletes). An entry may be
 * seen twice when deletions shift it, so edit must be idempotent. */
typedef uint64_t (*edit_fn)(void *ctx, const struct marks_entry *e);

static void sweep(struct marks *m, edit_fn edit, void *ctx)
{
	size_t i = 0;

	while (i < m->cap) {
		struct marks_entry *e = &m->slots[i];
		uint64_t mask;

		if (!e->mask) {
			i++;
			continue;
		}
		mask = edit(ctx, e);
		if (mask) {
			e->mask = mask;
			i++;
		} else {
			delete_at(m, i); /* slot i may now hold a shifted entry: look again */
		}
	}
}

struct drop_node_ctx {
	uint64_t bit;
	marks_region_fn fn;
	void *arg;
};

static uint64_t drop_node_edit(void *ctx, const struct marks_entry *e)
{
	struct drop_node_ctx *c = ctx;

	if (!(e->mask & c->bit))
		return e->mask;
	if (c->fn)
		c->fn(c->arg, e->region);
	return e->mask & ~c->bit;
}

void marks_drop_node(struct marks *m, uint64_t bit, marks_region_fn fn, void *arg)
{
	struct drop_node_ctx c = { .bit = bit, .fn = fn, .arg = arg };

	sweep(m, drop_node_edit, &c);
}

static uint64_t drop_from_edit(void *ctx, const struct marks_entry *e)
{
	const uint64_t *first = ctx;

	return e->region >= *first ? 0 : e->mask;
}

void marks_drop_from(struct marks *m, uint64_t first)
{
	sweep(m, drop_from_edit, &first);
}

void marks_compact(struct marks *m)
{
	if (m->cap > MARKS_MIN_CAP && m->count < m->cap / 8)
		(void)rehash(m, cap_for(m->count * 2)); /* on failure the bigger table stays */
}

static int cmp_region(const void *a, const void *b)
{
	const struct marks_entry *x = a, *y = b;

	return x->region < y->region ? -1 : x->region > y->region;
}

int marks_sorted(const struct marks *m, struct marks_entry **out)
{
	struct marks_entry *v;
	size_t n = 0;

	*out = NULL;
	if (!m->count)
		return 0;
	v = malloc(m->count * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].mask)
			v[n++] = m->slots[i];
	qsort(v, n, sizeof(*v), cmp_region);
	*out = v;
	return 0;
}
