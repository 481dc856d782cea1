/* bitmap.c: plain bit arrays with word-wise scans (see bitmap.h). */
#include "bitmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Mask of the bits [lo, 64) of one word, lo < 64. */
static inline uint64_t mask_from(unsigned lo)
{
	return ~UINT64_C(0) << lo;
}

/* Mask of the bits [0, hi) of one word, 0 < hi <= 64. */
static inline uint64_t mask_below(unsigned hi)
{
	return hi == 64 ? ~UINT64_C(0) : (UINT64_C(1) << hi) - 1;
}

int bitmap_init(struct bitmap *b, uint64_t nbits, bool ones)
{
	size_t n = bitmap_words(nbits);

	memset(b, 0, sizeof(*b));
	if (n) {
		b->w = calloc(n, sizeof(uint64_t));
		if (!b->w)
			return -ENOMEM;
	}
	b->nwords = n;
	b->nbits = nbits;
	if (ones)
		bitmap_fill(b, 0, nbits, true);
	return 0;
}

void bitmap_free(struct bitmap *b)
{
	free(b->w);
	memset(b, 0, sizeof(*b));
}

int bitmap_reserve(struct bitmap *b, uint64_t nbits)
{
	size_t n = bitmap_words(nbits);
	uint64_t *w;

	if (n <= b->nwords)
		return 0;
	if (n > SIZE_MAX / sizeof(uint64_t))
		return -ENOMEM;
	if (!b->w) {
		w = calloc(n, sizeof(uint64_t));
		if (!w)
			return -ENOMEM;
	} else {
		w = realloc(b->w, n * sizeof(uint64_t));
		if (!w)
			return -ENOMEM;
		memset(w + b->nwords, 0, (n - b->nwords) * sizeof(uint64_t));
	}
	b->w = w;
	b->nwords = n;
	return 0;
}

void bitmap_resize(struct bitmap *b, uint64_t nbits, bool ones)
{
	uint64_t old = b->nbits;
	size_t n = bitmap_words(nbits);

	if (nbits >= old) {
		b->nbits = nbits;
		if (ones)
			bitmap_fill(b, old, nbits, true);
		return;
	}
	/* Shrink: clear what lies beyond, then try to hand the tail back. */
	bitmap_fill(b, nbits, old, false);
	b->nbits = nbits;
	if (n == 0) {
		free(b->w);
		b->w = NULL;
		b->nwords = 0;
	} else if (n < b->nwords) {
		uint64_t *w = realloc(b->w, n * sizeof(uint64_t));

		if (w) {
			b->w = w;
			b->nwords = n;
		}
	}
}

void bitmap_fill(struct bitmap *b, uint64_t first, uint64_t last, bool ones)
{
	size_t fw, lw;
	uint64_t m;

	if (first >= last)
		return;
	fw = (size_t)(first / 64);
	lw = (size_t)((last - 1) / 64);
	if (fw == lw) {
		m = mask_from((unsigned)(first % 64)) & mask_below((unsigned)((last - 1) % 64) + 1);
		b->w[fw] = ones ? b->w[fw] | m : b->w[fw] & ~m;
		return;
	}
	m = mask_from((unsigned)(first % 64));
	b->w[fw] = ones ? b->w[fw] | m : b->w[fw] & ~m;
	if (lw > fw + 1)
		memset(b->w + fw + 1, ones ? 0xff : 0, (lw - fw - 1) * sizeof(uint64_t));
	m = mask_below((unsigned)((last - 1) % 64) + 1);
	b->w[lw] = ones ? b->w[lw] | m : b->w[lw] & ~m;
}

uint64_t bitmap_popcount(const struct bitmap *b, uint64_t n)
{
	size_t full = (size_t)(n / 64);
	uint64_t count = 0;

	for (size_t i = 0; i < full; i++)
		count += (uint64_t)__builtin_popcountll(b->w[i]);
	if (n % 64)
		count += (uint64_t)__builtin_popcountll(b->w[full] & mask_below((unsigned)(n % 64)));
	return count;
}

uint64_t bitmap_find(const struct bitmap *b, uint64_t from, uint64_t end, bool want)
{
	size_t i, last;
	uint64_t word;

	if (from >= end)
		return end;
	i = (size_t)(from / 64);
	last = (size_t)((end - 1) / 64);
	word = want ? b->w[i] : ~b->w[i];
	word &= mask_from((unsigned)(from % 64));
	for (;;) {
		if (word) {
			uint64_t r = (uint64_t)i * 64 + (uint64_t)__builtin_ctzll(word);

			return r < end ? r : end;
		}
		if (++i > last)
			return end;
		word = want ? b->w[i] : ~b->w[i];
	}
}

void bitmap_and(struct bitmap *b, const struct bitmap *other)
{
	size_t n = bitmap_words(b->nbits);

	for (size_t i = 0; i < n; i++)
		b->w[i] &= other->w[i];
}

bool bitmap_is_subset(const struct bitmap *sub, const struct bitmap *b)
{
	size_t n = bitmap_words(sub->nbits);

	for (size_t i = 0; i < n; i++)
		if (sub->w[i] & ~b->w[i])
			return false;
	return true;
}
