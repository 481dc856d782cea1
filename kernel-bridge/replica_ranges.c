/* replica_ranges.c: sets of out-of-sync regions as sorted, disjoint, non-adjacent inclusive
 * ranges (see replica_impl.h). A synced mirror's set is empty; a resync in progress is one
 * range that shrinks from its front, plus whatever holes the kernel reported. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replica_impl.h"

void replica_ranges_free(struct replica_ranges *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* The first index whose range ends at or after r (n when none). */
static size_t first_ending_from(const struct replica_ranges *s, uint64_t r)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].last < r)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first index whose range starts after r (n when none). */
static size_t first_starting_after(const struct replica_ranges *s, uint64_t r)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].first <= r)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool replica_ranges_has(const struct replica_ranges *s, uint64_t r)
{
	size_t i = first_ending_from(s, r);

	return i < s->n && s->v[i].first <= r;
}

/* Regions in [v->first, v->last]. */
static uint64_t range_size(const struct replica_range *v)
{
	return v->last - v->first + 1;
}

/* Replaces v[i..j) by the k ranges of with (k <= 2), keeping count: each range it takes out
 * was put in by an earlier call, so counting them costs amortised O(1) per call beside the
 * binary searches (and never more than the memmove). */
static int splice(struct replica_ranges *s, size_t i, size_t j, const struct replica_range *with,
		  size_t k)
{
	size_t n = s->n - (j - i) + k;
	uint64_t count = s->count;

	for (size_t x = i; x < j; x++)
		count -= range_size(&s->v[x]);
	for (size_t x = 0; x < k; x++)
		count += range_size(&with[x]);
	if (n > REPLICA_RANGES_MAX)
		return -E2BIG;
	if (n > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct replica_range *v;

		while (cap < n)
			cap *= 2;
		v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	memmove(s->v + i + k, s->v + j, (s->n - j) * sizeof(*s->v));
	memcpy(s->v + i, with, k * sizeof(*with));
	s->n = n;
	s->count = count;
	return 0;
}

int replica_ranges_add(struct replica_ranges *s, uint64_t first, uint64_t last)
{
	/* Every range touching [first - 1, last + 1] merges with the new one. */
	size_t i = first_ending_from(s, first ? first - 1 : 0);
	size_t j = first_starting_after(s, last == UINT64_MAX ? last : last + 1);
	struct replica_range m = {first, last};

	if (i < j) {
		if (s->v[i].first < m.first)
			m.first = s->v[i].first;
		if (s->v[j - 1].last > m.last)
			m.last = s->v[j - 1].last;
	}
	return splice(s, i, j, &m, 1);
}

int replica_ranges_remove(struct replica_ranges *s, uint64_t first, uint64_t last)
{
	size_t i = first_ending_from(s, first);
	size_t j = first_starting_after(s, last);
	struct replica_range keep[2];
	size_t k = 0;

	if (i >= j)
		return 0;
	if (s->v[i].first < first)
		keep[k++] = (struct replica_range){s->v[i].first, first - 1};
	if (s->v[j - 1].last > last)
		keep[k++] = (struct replica_range){last + 1, s->v[j - 1].last};
	return splice(s, i, j, keep, k);
}
