/* regions.c: MARK_REGION, CLEAR_REGION and the marks carried by FLUSH.
 *
 * A region is clean only when no node holds a mark on it and it is in sync: MARK adds the node
 * to the region's mark set and clears the clean bit; CLEAR removes the node and sets the clean
 * bit only when the set became (or was) empty and the region is in sync. Both are idempotent
 * per node, so the kernel's resends are harmless.
 */
#include "engine_impl.h"

#include <errno.h>

int regions_mark(struct log *l, const struct inst *in, const uint64_t *regions, uint32_t n,
		 struct engine_res *res)
{
	uint64_t bit = engine_node_bit(in->node);
	size_t fresh = 0;
	int err;

	/* Count the distinct regions not in the table yet, so that the batch fits or fails whole. */
	for (uint32_t i = 0; i < n; i++) {
		bool seen = marks_get(&l->marks, regions[i]) != 0;

		for (uint32_t j = 0; j < i && !seen; j++)
			seen = regions[j] == regions[i];
		fresh += !seen;
	}
	err = marks_reserve(&l->marks, fresh);
	if (err == -ENOSPC)
		return engine_fail(res, err, "MARK: the log has %zu marked regions, the limit",
				   l->marks.count);
	if (err)
		return engine_fail(res, err, "MARK: out of memory");
	for (uint32_t i = 0; i < n; i++) {
		marks_add(&l->marks, regions[i], bit);
		bitmap_clear(&l->clean, regions[i]);
	}
	return 0;
}

void regions_clear(struct log *l, const struct inst *in, const uint64_t *regions, uint32_t n)
{
	uint64_t bit = engine_node_bit(in->node);

	for (uint32_t i = 0; i < n; i++) {
		uint64_t r = regions[i];

		if (!marks_remove(&l->marks, r, bit) && bitmap_get(&l->sync, r))
			bitmap_set(&l->clean, r);
	}
	marks_compact(&l->marks);
}
