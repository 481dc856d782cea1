/* phash.c: pointer index keyed by content hashes (see phash.h). */
#include "phash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PHASH_MIN_CAP 8

void phash_free(struct phash *h)
{
	free(h->slots);
	memset(h, 0, sizeof(*h));
}

static void place(struct phash *h, uint64_t hash, void *item)
{
	size_t i = (size_t)hash & (h->cap - 1);

	while (h->slots[i].item)
		i = (i + 1) & (h->cap - 1);
	h->slots[i].hash = hash;
	h->slots[i].item = item;
}

int phash_reserve(struct phash *h, size_t extra)
{
	size_t need = h->count + extra;
	size_t cap = PHASH_MIN_CAP;
	struct phash_slot *slots, *old = h->slots;
	size_t old_cap = h->cap;

	if (h->cap && need <= h->cap / 4 * 3)
		return 0;
	while (cap / 4 * 3 < need)
		cap *= 2;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	h->slots = slots;
	h->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].item)
			place(h, old[i].hash, old[i].item);
	free(old);
	return 0;
}

void phash_insert(struct phash *h, uint64_t hash, void *item)
{
	place(h, hash, item);
	h->count++;
}

void *phash_find(const struct phash *h, uint64_t hash, phash_match_fn match, const void *key)
{
	if (!h->cap)
		return NULL;
	for (size_t i = (size_t)hash & (h->cap - 1);; i = (i + 1) & (h->cap - 1)) {
		if (!h->slots[i].item)
			return NULL;
		if (h->slots[i].hash == hash && match(h->slots[i].item, key))
			return h->slots[i].item;
	}
}

void phash_remove(struct phash *h, uint64_t hash, const void *item)
{
	size_t mask = h->cap - 1;
	size_t i, j;

	if (!h->cap)
		return;
	for (i = (size_t)hash & mask;; i = (i + 1) & mask) {
		if (!h->slots[i].item)
			return;
		if (h->slots[i].item == item)
			break;
	}
	for (j = i;;) {
		size_t k;

		j = (j + 1) & mask;
		if (!h->slots[j].item)
			break;
		k = (size_t)h->slots[j].hash & mask;
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		h->slots[i] = h->slots[j];
		i = j;
	}
	h->slots[i].item = NULL;
	h->slots[i].hash = 0;
	h->count--;
}

uint64_t phash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t x = UINT64_C(0xcbf29ce484222325) ^ seed;

	for (size_t i = 0; i < n; i++) {
		x ^= s[i];
		x *= UINT64_C(0x100000001b3);
	}
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	return x;
}
