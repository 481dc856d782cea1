/* snapbuf.h: little-endian byte writer and bounds-checked reader for dmlogd's snapshots. */
#ifndef DMLOG_SNAPBUF_H
#define DMLOG_SNAPBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growing output buffer. A failed allocation makes it sticky-failed (error = -ENOMEM); callers
 * write everything and check once at the end. */
struct snapbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int error;
};

void snapbuf_put(struct snapbuf *b, const void *p, size_t n);
/* Grows the buffer by n bytes and returns where they start (for the caller to fill), or NULL
 * (buffer failed). */
uint8_t *snapbuf_extend(struct snapbuf *b, size_t n);
void snapbuf_u8(struct snapbuf *b, uint8_t v);
void snapbuf_u32(struct snapbuf *b, uint32_t v);
void snapbuf_u64(struct snapbuf *b, uint64_t v);
/* A string as u32 length + bytes. */
void snapbuf_str(struct snapbuf *b, const char *s);

/* A bounds-checked reader: any read past the end sets `bad` and yields zeros. */
struct snapread {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
};

uint8_t snapread_u8(struct snapread *r);
uint32_t snapread_u32(struct snapread *r);
uint64_t snapread_u64(struct snapread *r);
const uint8_t *snapread_bytes(struct snapread *r, size_t n);
/* Copies a length-prefixed string of at most max bytes into out[max + 1]; false if too long. */
bool snapread_str(struct snapread *r, char *out, size_t max);

#endif /* DMLOG_SNAPBUF_H */
