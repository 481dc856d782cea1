/* bitmap.h: growable plain bit arrays with word-wise scans, for the clean and sync bitmaps.
 *
 * One bit per region, 64 regions per little-endian-ordered uint64_t word (region i is bit i % 64
 * of word i / 64). Invariant: every bit at or beyond nbits inside the allocated words is zero, so
 * popcounts and scans never see garbage. Zero-filled bitmaps come from calloc (the kernel hands out
 * zero pages lazily, so a 2^31-bit bitmap is cheap until touched); only bits that must be ones are
 * written. Not thread-safe.
 */
#ifndef DMLOG_BITMAP_H
#define DMLOG_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bitmap {
	uint64_t *w;          /* owned; NULL while nothing is allocated */
	uint64_t nbits;
	size_t nwords;        /* allocated words (>= bitmap_words(nbits)) */
};

/* Words needed for nbits bits. */
static inline size_t bitmap_words(uint64_t nbits)
{
	return (size_t)((nbits + 63) / 64);
}

static inline bool bitmap_get(const struct bitmap *b, uint64_t i)
{
	return (b->w[i / 64] >> (i % 64)) & 1;
}

static inline void bitmap_set(struct bitmap *b, uint64_t i)
{
	b->w[i / 64] |= UINT64_C(1) << (i % 64);
}

static inline void bitmap_clear(struct bitmap *b, uint64_t i)
{
	b->w[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

/* Makes b a bitmap of nbits bits, all ones or all zeros. b must be empty (zeroed or freed).
 * 0 or -ENOMEM (b stays empty). */
int bitmap_init(struct bitmap *b, uint64_t nbits, bool ones);

void bitmap_free(struct bitmap *b);

/* Ensures room for nbits bits without changing the contents or nbits; the new words are zero.
 * 0 or -ENOMEM (b unchanged). */
int bitmap_reserve(struct bitmap *b, uint64_t nbits);

/* Changes the size to nbits. Growing needs a prior bitmap_reserve(); the new bits are ones or
 * zeros as asked. Shrinking drops the bits beyond nbits and gives memory back when it can.
 * Never fails. */
void bitmap_resize(struct bitmap *b, uint64_t nbits, bool ones);

/* Sets or clears the bits [first, last). */
void bitmap_fill(struct bitmap *b, uint64_t first, uint64_t last, bool ones);

/* Number of set bits in [0, n), n <= nbits. */
uint64_t bitmap_popcount(const struct bitmap *b, uint64_t n);

/* First bit at or after from and below end (end <= nbits) that is one (want true) or zero
 * (want false); end when there is none. */
uint64_t bitmap_find(const struct bitmap *b, uint64_t from, uint64_t end, bool want);

/* b &= other over b's bits (other must have at least as many bits). */
void bitmap_and(struct bitmap *b, const struct bitmap *other);

/* True if every set bit of sub is also set in b (both of the same size). */
bool bitmap_is_subset(const struct bitmap *sub, const struct bitmap *b);

#endif /* DMLOG_BITMAP_H */
