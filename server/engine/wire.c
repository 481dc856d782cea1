/* wire.c: little-endian snapshot encoding and bounds-checked decoding (see wire.h). */
#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum run_kind {
	RUN_ZEROS = 0,
	RUN_ONES = 1,
	RUN_LITERAL = 2,
};

/* ---------------------------------------------------------------- writer */

static bool grow(struct wire_writer *w, size_t n)
{
	size_t cap;
	uint8_t *b;

	if (w->failed)
		return false;
	if (n <= w->cap - w->len)
		return true;
	cap = w->cap ? w->cap : 4096;
	while (cap - w->len < n) {
		if (cap > SIZE_MAX / 2) {
			w->failed = true;
			return false;
		}
		cap *= 2;
	}
	b = realloc(w->buf, cap);
	if (!b) {
		w->failed = true;
		return false;
	}
	w->buf = b;
	w->cap = cap;
	return true;
}

void wire_put_bytes(struct wire_writer *w, const void *p, size_t n)
{
	if (!n || !grow(w, n))
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void wire_put_u8(struct wire_writer *w, uint8_t v)
{
	wire_put_bytes(w, &v, 1);
}

void wire_put_u32(struct wire_writer *w, uint32_t v)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	wire_put_bytes(w, b, sizeof(b));
}

void wire_put_u64(struct wire_writer *w, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	wire_put_bytes(w, b, sizeof(b));
}

static enum run_kind kind_of(uint64_t word)
{
	return word == 0 ? RUN_ZEROS : word == ~UINT64_C(0) ? RUN_ONES : RUN_LITERAL;
}

void wire_put_bitmap(struct wire_writer *w, const struct bitmap *b)
{
	size_t n = bitmap_words(b->nbits);
	size_t i = 0;

	while (i < n) {
		enum run_kind k = kind_of(b->w[i]);
		size_t j = i + 1;

		while (j < n && kind_of(b->w[j]) == k)
			j++;
		wire_put_u8(w, (uint8_t)k);
		wire_put_u64(w, (uint64_t)(j - i));
		if (k == RUN_LITERAL)
			for (size_t x = i; x < j; x++)
				wire_put_u64(w, b->w[x]);
		i = j;
	}
}

/* ---------------------------------------------------------------- reader */

bool wire_bad(struct wire_reader *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->failed)
		return false;
	r->failed = true;
	if (!r->errlen)
		return false;
	n = snprintf(r->errmsg, r->errlen, "offset %zu: ", r->off);
	if (n >= 0 && (size_t)n < r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->errmsg + n, r->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return false;
}

/* The next n bytes, or NULL (recorded) when the input ends early. */
static const uint8_t *take(struct wire_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->failed)
		return NULL;
	if (n > r->len - r->off) {
		wire_bad(r, "truncated (%zu more bytes needed, %zu left)", n, r->len - r->off);
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

bool wire_get_bytes(struct wire_reader *r, size_t n, const uint8_t **p)
{
	const uint8_t *q = take(r, n);

	if (!q)
		return false;
	*p = q;
	return true;
}

bool wire_get_u8(struct wire_reader *r, uint8_t *v)
{
	const uint8_t *p = take(r, 1);

	if (!p)
		return false;
	*v = p[0];
	return true;
}

bool wire_get_u32(struct wire_reader *r, uint32_t *v)
{
	const uint8_t *p = take(r, 4);

	if (!p)
		return false;
	*v = 0;
	for (int i = 3; i >= 0; i--)
		*v = *v << 8 | p[i];
	return true;
}

bool wire_get_u64(struct wire_reader *r, uint64_t *v)
{
	const uint8_t *p = take(r, 8);

	if (!p)
		return false;
	*v = 0;
	for (int i = 7; i >= 0; i--)
		*v = *v << 8 | p[i];
	return true;
}

bool wire_get_bitmap(struct wire_reader *r, struct bitmap *b)
{
	size_t n = bitmap_words(b->nbits);
	size_t i = 0;
	int prev = -1;

	while (i < n) {
		uint8_t kind;
		uint64_t count;

		if (!wire_get_u8(r, &kind) || !wire_get_u64(r, &count))
			return false;
		if (kind > RUN_LITERAL)
			return wire_bad(r, "bitmap: unknown run kind %u", kind);
		if (kind == prev)
			return wire_bad(r, "bitmap: two adjacent runs of one kind");
		if (count == 0 || count > n - i)
			return wire_bad(r, "bitmap: run of %llu words does not fit",
					(unsigned long long)count);
		prev = kind;
		if (kind == RUN_ONES) {
			memset(b->w + i, 0xff, (size_t)count * sizeof(uint64_t));
			i += (size_t)count;
			continue;
		}
		if (kind == RUN_ZEROS) {
			i += (size_t)count; /* already zero */
			continue;
		}
		if (count > (r->len - r->off) / 8)
			return wire_bad(r, "bitmap: truncated literal run");
		for (uint64_t x = 0; x < count; x++, i++) {
			uint64_t word = 0;

			(void)wire_get_u64(r, &word);
			if (kind_of(word) != RUN_LITERAL)
				return wire_bad(r, "bitmap: uniform word in a literal run");
			b->w[i] = word;
		}
	}
	if (b->nbits % 64 && (b->w[n - 1] >> (b->nbits % 64)))
		return wire_bad(r, "bitmap: bits set beyond the region count");
	return true;
}
