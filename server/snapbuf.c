/* snapbuf.c: little-endian snapshot writer and bounds-checked reader. */
#include "snapbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint8_t *snapbuf_extend(struct snapbuf *b, size_t n)
{
	uint8_t *p;

	if (b->error)
		return NULL;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *d;

		while (cap < b->len + n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			b->error = -ENOMEM;
			return NULL;
		}
		b->data = d;
		b->cap = cap;
	}
	p = b->data + b->len;
	b->len += n;
	return p;
}

void snapbuf_put(struct snapbuf *b, const void *p, size_t n)
{
	uint8_t *dst;

	if (n == 0)
		return;
	dst = snapbuf_extend(b, n);
	if (dst)
		memcpy(dst, p, n);
}

void snapbuf_u8(struct snapbuf *b, uint8_t v)
{
	snapbuf_put(b, &v, 1);
}

void snapbuf_u32(struct snapbuf *b, uint32_t v)
{
	uint8_t x[4];

	for (int i = 0; i < 4; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	snapbuf_put(b, x, 4);
}

void snapbuf_u64(struct snapbuf *b, uint64_t v)
{
	uint8_t x[8];

	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	snapbuf_put(b, x, 8);
}

void snapbuf_str(struct snapbuf *b, const char *s)
{
	size_t n = strlen(s);

	snapbuf_u32(b, (uint32_t)n);
	snapbuf_put(b, s, n);
}

const uint8_t *snapread_bytes(struct snapread *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t snapread_u8(struct snapread *r)
{
	const uint8_t *p = snapread_bytes(r, 1);

	return p ? p[0] : 0;
}

uint32_t snapread_u32(struct snapread *r)
{
	const uint8_t *p = snapread_bytes(r, 4);
	uint32_t v = 0;

	for (int i = 0; p && i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

uint64_t snapread_u64(struct snapread *r)
{
	const uint8_t *p = snapread_bytes(r, 8);
	uint64_t v = 0;

	for (int i = 0; p && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

bool snapread_str(struct snapread *r, char *out, size_t max)
{
	uint32_t n = snapread_u32(r);
	const uint8_t *p;

	if (r->bad || n > max) {
		r->bad = true;
		out[0] = '\0';
		return false;
	}
	p = snapread_bytes(r, n);
	if (!p) {
		out[0] = '\0';
		return false;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}
