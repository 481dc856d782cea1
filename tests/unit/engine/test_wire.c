/* test_wire.c: snapshot encoding primitives (server/engine/wire.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "wire.h"

START_TEST(integers_are_little_endian)
{
	struct wire_writer w = { 0 };
	static const uint8_t want[] = { 0xab, 0x04, 0x03, 0x02, 0x01, 0x08, 0x07, 0x06, 0x05,
					0x04, 0x03, 0x02, 0x01, 'h', 'i' };
	struct wire_reader r;
	uint8_t u8;
	uint32_t u32;
	uint64_t u64;
	const uint8_t *p;

	wire_put_u8(&w, 0xab);
	wire_put_u32(&w, 0x01020304);
	wire_put_u64(&w, UINT64_C(0x0102030405060708));
	wire_put_bytes(&w, "hi", 2);
	wire_put_bytes(&w, NULL, 0);
	ck_assert(!w.failed);
	ck_assert_uint_eq(w.len, sizeof(want));
	ck_assert(!memcmp(w.buf, want, sizeof(want)));
	r = (struct wire_reader){ .p = w.buf, .len = w.len };
	ck_assert(wire_get_u8(&r, &u8) && u8 == 0xab);
	ck_assert(wire_get_u32(&r, &u32) && u32 == 0x01020304);
	ck_assert(wire_get_u64(&r, &u64) && u64 == UINT64_C(0x0102030405060708));
	ck_assert(wire_get_bytes(&r, 2, &p) && !memcmp(p, "hi", 2));
	ck_assert_uint_eq(r.off, r.len);
	free(w.buf);
}
END_TEST

START_TEST(reader_stops_at_the_end_and_keeps_first_error)
{
	static const uint8_t in[] = { 1, 2, 3 };
	char why[128] = "";
	struct wire_reader r = { .p = in, .len = sizeof(in), .errmsg = why, .errlen = sizeof(why) };
	uint32_t v;
	uint8_t b;

	ck_assert(!wire_get_u32(&r, &v));
	ck_assert(r.failed);
	ck_assert(strstr(why, "offset 0: truncated") != NULL);
	ck_assert(!wire_get_u8(&r, &b)); /* once failed, stays failed */
	ck_assert(!wire_bad(&r, "second"));
	ck_assert(strstr(why, "second") == NULL);
}
END_TEST

static struct wire_writer encode(const struct bitmap *b)
{
	struct wire_writer w = { 0 };

	wire_put_bitmap(&w, b);
	ck_assert(!w.failed);
	return w;
}

START_TEST(bitmaps_encode_as_canonical_runs)
{
	struct bitmap b;
	struct wire_writer w;
	static const uint8_t want[] = {
		1, 2, 0, 0, 0, 0, 0, 0, 0,            /* two all-ones words */
		2, 1, 0, 0, 0, 0, 0, 0, 0,            /* one literal word: */
		0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0, 3, 0, 0, 0, 0, 0, 0, 0,            /* three zero words */
		2, 1, 0, 0, 0, 0, 0, 0, 0,            /* the partial last word, all valid bits set */
		0x0f, 0, 0, 0, 0, 0, 0, 0,
	};

	ck_assert_int_eq(bitmap_init(&b, 6 * 64 + 4, true), 0);
	bitmap_clear(&b, 128);
	bitmap_fill(&b, 192, 384, false);
	w = encode(&b);
	ck_assert_uint_eq(w.len, sizeof(want));
	ck_assert(!memcmp(w.buf, want, sizeof(want)));
	free(w.buf);
	bitmap_free(&b);
	/* a huge uniform bitmap stays tiny */
	ck_assert_int_eq(bitmap_init(&b, UINT64_C(1) << 26, false), 0);
	w = encode(&b);
	ck_assert_uint_eq(w.len, 9);
	free(w.buf);
	bitmap_free(&b);
	/* an empty bitmap has no runs at all */
	ck_assert_int_eq(bitmap_init(&b, 0, false), 0);
	w = encode(&b);
	ck_assert_uint_eq(w.len, 0);
	free(w.buf);
}
END_TEST

START_TEST(bitmaps_round_trip)
{
	struct bitmap b, c;
	struct wire_writer w;
	struct wire_reader r;

	ck_assert_int_eq(bitmap_init(&b, 1000, false), 0);
	for (uint64_t i = 0; i < 1000; i += 7)
		bitmap_set(&b, i);
	bitmap_fill(&b, 300, 700, true);
	w = encode(&b);
	ck_assert_int_eq(bitmap_init(&c, 1000, false), 0);
	r = (struct wire_reader){ .p = w.buf, .len = w.len };
	ck_assert(wire_get_bitmap(&r, &c));
	ck_assert_uint_eq(r.off, w.len);
	ck_assert(!memcmp(b.w, c.w, bitmap_words(1000) * 8));
	free(w.buf);
	bitmap_free(&b);
	bitmap_free(&c);
}
END_TEST

/* Decodes raw run bytes into a bitmap of nbits; returns success and the reason. */
static bool decode(const uint8_t *in, size_t len, uint64_t nbits, char *why, size_t whylen)
{
	struct bitmap b;
	struct wire_reader r = { .p = in, .len = len, .errmsg = why, .errlen = whylen };
	bool ok;

	ck_assert_int_eq(bitmap_init(&b, nbits, false), 0);
	ok = wire_get_bitmap(&r, &b);
	bitmap_free(&b);
	return ok;
}

START_TEST(bad_runs_are_rejected)
{
	char why[128];
	static const uint8_t unknown_kind[] = { 3, 1, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t zero_count[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t too_long[] = { 1, 3, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t huge[] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t same_kind[] = { 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t uniform_literal[] = { 2, 1, 0, 0, 0, 0, 0, 0, 0,
						   0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t short_literal[] = { 2, 2, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t beyond[] = { 1, 1, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t fine[] = { 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0 };

	ck_assert(!decode(unknown_kind, sizeof(unknown_kind), 128, why, sizeof(why)));
	ck_assert(strstr(why, "unknown run kind") != NULL);
	ck_assert(!decode(zero_count, sizeof(zero_count), 128, why, sizeof(why)));
	ck_assert(strstr(why, "does not fit") != NULL);
	ck_assert(!decode(too_long, sizeof(too_long), 128, why, sizeof(why)));
	ck_assert(!decode(huge, sizeof(huge), 128, why, sizeof(why)));
	ck_assert(!decode(same_kind, sizeof(same_kind), 128, why, sizeof(why)));
	ck_assert(strstr(why, "adjacent") != NULL);
	ck_assert(!decode(uniform_literal, sizeof(uniform_literal), 128, why, sizeof(why)));
	ck_assert(strstr(why, "uniform") != NULL);
	ck_assert(!decode(short_literal, sizeof(short_literal), 128, why, sizeof(why)));
	ck_assert(strstr(why, "truncated") != NULL);
	ck_assert(!decode(beyond, sizeof(beyond), 60, why, sizeof(why)));
	ck_assert(strstr(why, "beyond") != NULL);
	ck_assert(!decode(fine, 9, 128, why, sizeof(why))); /* the input ends early */
	ck_assert(decode(fine, sizeof(fine), 128, why, sizeof(why)));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("wire");

	tcase_add_test(tc, integers_are_little_endian);
	tcase_add_test(tc, reader_stops_at_the_end_and_keeps_first_error);
	tcase_add_test(tc, bitmaps_encode_as_canonical_runs);
	tcase_add_test(tc, bitmaps_round_trip);
	tcase_add_test(tc, bad_runs_are_rejected);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
