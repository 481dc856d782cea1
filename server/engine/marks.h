/* marks.h: the per-log set of marks, region -> mask of the nodes that have it marked.
 *
 * An open-addressing hash table with linear probing and backward-shift deletion (no tombstones),
 * keyed by region through a fixed mixing function, so its behaviour depends only on the
 * operations applied, never on addresses. A slot whose mask is 0 is empty. Lookups, additions
 * and removals are O(1) expected. Iteration order is the table's and must not leak into results:
 * use marks_sorted() for anything ordered. The table holds at most `limit` regions; callers
 * reserve room before a batch of additions, so a batch either fits or changes nothing.
 * Not thread-safe.
 */
#ifndef DMLOG_MARKS_H
#define DMLOG_MARKS_H

#include <stddef.h>
#include <stdint.h>

struct marks_entry {
	uint64_t region;
	uint64_t mask;        /* bit i = node i of the engine's node table; 0 = empty slot */
};

struct marks {
	struct marks_entry *slots; /* owned; NULL while empty */
	size_t cap;           /* slots, 0 or a power of two */
	size_t count;         /* regions present */
	size_t limit;         /* most regions allowed (set by the owner) */
};

/* An empty table of at most limit regions (allocates nothing). */
void marks_init(struct marks *m, size_t limit);
void marks_free(struct marks *m);

/* The mask of region (0 when absent). */
uint64_t marks_get(const struct marks *m, uint64_t region);

/* Makes room for `extra` more regions. 0, -ENOSPC (count + extra > limit) or -ENOMEM; the
 * table is unchanged on error. */
int marks_reserve(struct marks *m, size_t extra);

/* ORs bits into region's mask (bits != 0). A region not yet present needs reserved room. */
void marks_add(struct marks *m, uint64_t region, uint64_t bits);

/* Clears bits from region's mask, deleting the region when its mask becomes 0. Returns the mask
 * left (0 also when the region was absent). */
uint64_t marks_remove(struct marks *m, uint64_t region, uint64_t bits);

/* Called once for each region that lost a bit in marks_drop_node(). */
typedef void (*marks_region_fn)(void *arg, uint64_t region);

/* Clears bit from every mask, deleting emptied regions, and calls fn (may be NULL) for each
 * region that had it. fn must not touch the table. */
void marks_drop_node(struct marks *m, uint64_t bit, marks_region_fn fn, void *arg);

/* Deletes every region >= first. */
void marks_drop_from(struct marks *m, uint64_t first);

/* Gives memory back after deletions, when the table is mostly empty (best effort). */
void marks_compact(struct marks *m);

/* A malloc'ed copy of the entries, sorted by region, in *out (NULL when empty); the count is
 * m->count. 0 or -ENOMEM. */
int marks_sorted(const struct marks *m, struct marks_entry **out);

#endif /* DMLOG_MARKS_H */
