/* test_frame.c: the stream framing: byte order, limits, and every split of a byte stream. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "testmain.h"

START_TEST(header_is_big_endian)
{
	uint8_t h[4];

	frame_put_header(h, 0x01020304u);
	ck_assert_uint_eq(h[0], 0x01);
	ck_assert_uint_eq(h[1], 0x02);
	ck_assert_uint_eq(h[2], 0x03);
	ck_assert_uint_eq(h[3], 0x04);
	ck_assert_uint_eq(frame_get_header(h), 0x01020304u);
	frame_put_header(h, 300);
	ck_assert_mem_eq(h, "\x00\x00\x01\x2c", 4);
}
END_TEST

START_TEST(length_limits)
{
	ck_assert_int_eq(frame_check_length(0, 100), -EBADMSG);
	ck_assert_int_eq(frame_check_length(1, 100), 0);
	ck_assert_int_eq(frame_check_length(100, 100), 0);
	ck_assert_int_eq(frame_check_length(101, 100), -EMSGSIZE);
	ck_assert_int_eq(frame_check_length(FRAME_DEFAULT_MAX, FRAME_DEFAULT_MAX), 0);
	ck_assert_int_eq(frame_check_length(FRAME_DEFAULT_MAX + 1, FRAME_DEFAULT_MAX), -EMSGSIZE);
}
END_TEST

/* An announced length over the maximum is refused from the header alone, before any payload
 * byte arrives (nothing is allocated for it), and the decoder stays failed. */
START_TEST(oversized_refused_before_payload)
{
	struct frame_decoder d;
	const uint8_t *f;
	uint32_t flen;
	uint8_t h[4];

	frame_decoder_init(&d, 16);
	frame_put_header(h, 17);
	ck_assert_int_eq(frame_decoder_feed(&d, h, 3, &f, &flen), 3);
	ck_assert_ptr_null(f);
	ck_assert_int_eq(frame_decoder_feed(&d, h + 3, 1, &f, &flen), -EMSGSIZE);
	ck_assert_ptr_null(d.buf);
	ck_assert_int_eq(frame_decoder_feed(&d, (const uint8_t *)"x", 1, &f, &flen), -EMSGSIZE);
	frame_decoder_free(&d);

	frame_decoder_init(&d, 0);
	ck_assert_uint_eq(d.max, FRAME_DEFAULT_MAX);
	frame_put_header(h, 0xffffffffu);
	ck_assert_int_eq(frame_decoder_feed(&d, h, 4, &f, &flen), -EMSGSIZE);
	frame_decoder_free(&d);
}
END_TEST

START_TEST(zero_length_refused)
{
	struct frame_decoder d;
	const uint8_t *f;
	uint32_t flen;

	frame_decoder_init(&d, 0);
	ck_assert_int_eq(frame_decoder_feed(&d, (const uint8_t *)"\0\0\0\0", 4, &f, &flen), -EBADMSG);
	frame_decoder_free(&d);
}
END_TEST

/* Three frames in one stream. */
static size_t make_stream(uint8_t *out)
{
	static const char *payloads[] = {"a", "hello frame", "the third frame, a little longer"};
	size_t n = 0;

	for (size_t i = 0; i < 3; i++) {
		uint32_t len = (uint32_t)strlen(payloads[i]);

		frame_put_header(out + n, len);
		memcpy(out + n + 4, payloads[i], len);
		n += 4 + len;
	}
	return n;
}

/* Feeds stream[0..n) in chunks cut at the given points; collects frames as "p1|p2|p3|". */
static void feed_split(const uint8_t *stream, size_t n, const size_t *cuts, size_t ncuts, char *got)
{
	struct frame_decoder d;
	size_t start = 0;

	got[0] = '\0';
	frame_decoder_init(&d, 64);
	for (size_t c = 0; c <= ncuts; c++) {
		size_t end = c < ncuts ? cuts[c] : n;
		const uint8_t *p = stream + start;
		size_t left = end - start;

		while (left > 0) {
			const uint8_t *f;
			uint32_t flen;
			ssize_t used = frame_decoder_feed(&d, p, left, &f, &flen);

			ck_assert_int_gt(used, 0);
			p += used;
			left -= (size_t)used;
			if (f) {
				strncat(got, (const char *)f, flen);
				strcat(got, "|");
			}
		}
		start = end;
	}
	frame_decoder_free(&d);
}

static const char *expect = "a|hello frame|the third frame, a little longer|";

START_TEST(every_single_split_point)
{
	uint8_t stream[128];
	size_t n = make_stream(stream);
	char got[256];

	for (size_t cut = 0; cut <= n; cut++) {
		feed_split(stream, n, &cut, 1, got);
		ck_assert_str_eq(got, expect);
	}
}
END_TEST

START_TEST(every_pair_of_split_points)
{
	uint8_t stream[128];
	size_t n = make_stream(stream);
	char got[256];

	for (size_t a = 0; a <= n; a++)
		for (size_t b = a; b <= n; b++) {
			size_t cuts[2] = {a, b};

			feed_split(stream, n, cuts, 2, got);
			ck_assert_str_eq(got, expect);
		}
}
END_TEST

START_TEST(byte_by_byte)
{
	uint8_t stream[128];
	size_t n = make_stream(stream);
	size_t cuts[128];
	char got[256];

	for (size_t i = 0; i < n - 1; i++)
		cuts[i] = i + 1;
	feed_split(stream, n, cuts, n - 1, got);
	ck_assert_str_eq(got, expect);
}
END_TEST

/* One call hands out at most one frame and reports exactly the bytes it used. */
START_TEST(one_frame_per_call)
{
	uint8_t stream[128];
	size_t n = make_stream(stream);
	struct frame_decoder d;
	const uint8_t *f;
	uint32_t flen;

	frame_decoder_init(&d, 0);
	ck_assert_int_eq(frame_decoder_feed(&d, stream, n, &f, &flen), 5);
	ck_assert_uint_eq(flen, 1);
	ck_assert_mem_eq(f, "a", 1);
	ck_assert_int_eq(frame_decoder_feed(&d, stream + 5, n - 5, &f, &flen), 15);
	ck_assert_uint_eq(flen, 11);
	ck_assert_int_eq(frame_decoder_feed(&d, stream + 20, 0, &f, &flen), 0);
	ck_assert_ptr_null(f);
	frame_decoder_free(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("frame");
	TCase *tc = tcase_create("frame");

	tcase_add_test(tc, header_is_big_endian);
	tcase_add_test(tc, length_limits);
	tcase_add_test(tc, oversized_refused_before_payload);
	tcase_add_test(tc, zero_length_refused);
	tcase_add_test(tc, every_single_split_point);
	tcase_add_test(tc, every_pair_of_split_points);
	tcase_add_test(tc, byte_by_byte);
	tcase_add_test(tc, one_frame_per_call);
	suite_add_tcase(s, tc);
	return testmain_run(s);
}
