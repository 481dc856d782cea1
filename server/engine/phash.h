/* phash.h: an index of borrowed pointers by a caller-computed 64-bit key hash.
 *
 * Used for logs by uuid and instances by (node, luid). Open addressing with linear probing and
 * backward-shift deletion; each slot keeps the item's hash so that growing and deleting need no
 * callback. The caller supplies hashes computed from key contents (never from addresses) and a
 * match function for lookups. Never iterated, so its internal order cannot leak. Not thread-safe.
 */
#ifndef DMLOG_PHASH_H
#define DMLOG_PHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct phash_slot {
	uint64_t hash;
	void *item;           /* borrowed; NULL = empty */
};

struct phash {
	struct phash_slot *slots; /* owned */
	size_t cap;           /* 0 or a power of two */
	size_t count;
};

typedef bool (*phash_match_fn)(const void *item, const void *key);

void phash_free(struct phash *h); /* the items are not touched */

/* Makes room for `extra` more items. 0 or -ENOMEM (unchanged). */
int phash_reserve(struct phash *h, size_t extra);

/* Adds an item (needs reserved room). */
void phash_insert(struct phash *h, uint64_t hash, void *item);

/* The item with this hash that match() accepts for key, or NULL. */
void *phash_find(const struct phash *h, uint64_t hash, phash_match_fn match, const void *key);

/* Removes this exact item (no-op when absent). */
void phash_remove(struct phash *h, uint64_t hash, const void *item);

/* FNV-1a over bytes, then mixed: the hash the engine uses for strings and composite keys. */
uint64_t phash_bytes(const void *p, size_t n, uint64_t seed);

#endif /* DMLOG_PHASH_H */
