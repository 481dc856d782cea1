/* wire.h: the little-endian encoding primitives of engine snapshots.
 *
 * A writer appends to a growable buffer and remembers an allocation failure instead of
 * reporting it at every call; a reader checks every read against the remaining length and
 * records the first problem as a message. Bitmaps are written as canonical runs of whole words
 * (all-zero run, all-ones run, literal words), which keeps a huge, mostly uniform bitmap small
 * and gives one encoding per content, as byte-identical snapshots need.
 */
#ifndef DMLOG_WIRE_H
#define DMLOG_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bitmap.h"

struct wire_writer {
	uint8_t *buf;         /* owned until taken */
	size_t len;
	size_t cap;
	bool failed;          /* an allocation failed; the content is incomplete */
};

void wire_put_u8(struct wire_writer *w, uint8_t v);
void wire_put_u32(struct wire_writer *w, uint32_t v);
void wire_put_u64(struct wire_writer *w, uint64_t v);
void wire_put_bytes(struct wire_writer *w, const void *p, size_t n);
/* Writes the bitmap's bitmap_words(nbits) words as runs. */
void wire_put_bitmap(struct wire_writer *w, const struct bitmap *b);

struct wire_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	char *errmsg;         /* first problem, "offset N: what" */
	size_t errlen;
	bool failed;
};

/* Records a problem (only the first one is kept). Always returns false. */
bool wire_bad(struct wire_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Each returns false (and records why) when the input ends early. */
bool wire_get_u8(struct wire_reader *r, uint8_t *v);
bool wire_get_u32(struct wire_reader *r, uint32_t *v);
bool wire_get_u64(struct wire_reader *r, uint64_t *v);
/* Points *p at the next n bytes (borrowed from the input). */
bool wire_get_bytes(struct wire_reader *r, size_t n, const uint8_t **p);
/* Reads runs into b, which already has its size and zero bits; rejects a non-canonical
 * encoding, a wrong total and set bits beyond b->nbits. */
bool wire_get_bitmap(struct wire_reader *r, struct bitmap *b);

#endif /* DMLOG_WIRE_H */
