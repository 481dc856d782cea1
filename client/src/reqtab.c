/* reqtab.c: a handle's pending requests, by id and in id order. */
#include "reqtab.h"

#include <errno.h>
#include <stdlib.h>

static size_t reqtab_slot(const struct reqtab *t, uint64_t id)
{
	/* Ids are sequential: a multiplicative mix spreads neighbours evenly anyway. */
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 20) & t->mask;
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
