/* reqtab.c: a handle's pending requests, by id and in id order. */
#include "reqtab.h"

#include <errno.h>
#include <stdlib.h>

static size_t reqtab_slot(const struct reqtab *t, uint64_t id)
{
	/* Ids are handed out in sequence and the pending ones span at most max_in_flight, the
	 * table's size: the low bits alone put each in a bucket of its own, and neighbours in
	 * neighbouring buckets (cache lines shared). A multiplicative mix spread them over the
	 * whole table instead: every add and lookup a cache miss, 8 % of bench_tput's profile
	 * with 65,536 slots. */
	return (size_t)id & t->mask;
}

int reqtab_init(struct reqtab *t, size_t expected)
{
	size_t n = 16;

	while (n < expected)
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->mask = n - 1;
	t->count = 0;
	TAILQ_INIT(&t->list);
	return 0;
}

void reqtab_free(struct reqtab *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->count = 0;
}

void reqtab_add(struct reqtab *t, struct req *r)
{
	size_t s = reqtab_slot(t, r->id);

	r->hash_next = t->buckets[s];
	t->buckets[s] = r;
	TAILQ_INSERT_TAIL(&t->list, r, order);
	t->count++;
}

struct req *reqtab_find(const struct reqtab *t, uint64_t id)
{
	struct req *r = t->buckets[reqtab_slot(t, id)];

	while (r && r->id != id)
		r = r->hash_next;
	return r;
}

void reqtab_remove(struct reqtab *t, struct req *r)
{
	struct req **p = &t->buckets[reqtab_slot(t, r->id)];

	while (*p != r)
		p = &(*p)->hash_next;
	*p = r->hash_next;
	TAILQ_REMOVE(&t->list, r, order);
	t->count--;
}

struct req *reqtab_first(const struct reqtab *t)
{
	return TAILQ_FIRST(&t->list);
}
