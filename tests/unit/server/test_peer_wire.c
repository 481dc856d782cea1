/* test_peer_wire.c: unit tests of the peer connection framing (server/peer_wire.h). */
#include "peer_wire.h"
#include "testmain.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct peer_hello sample(void)
{
	struct peer_hello h;

	memset(&h, 0, sizeof(h));
	h.raft_id = 0x0102030405060708ull;
	h.incarnation = 0xfedcba9876543210ull;
	strcpy(h.address, "[::1]:7790");
	strcpy(h.client_address, "peer-a.example:7788");
	return h;
}

START_TEST(test_hello_and_welcome_round_trip)
{
	uint8_t buf[2048], type;
	uint32_t len;
	struct peer_hello h = sample(), out;
	size_t n;

	n = peer_wire_hello(buf, sizeof(buf), PEER_FRAME_HELLO, &h);
	ck_assert_uint_gt(n, PEER_WIRE_HEADER);
	peer_wire_parse_header(buf, &type, &len);
	ck_assert_uint_eq(type, PEER_FRAME_HELLO);
	ck_assert_uint_eq(len, n - PEER_WIRE_HEADER);
	ck_assert_int_eq(peer_wire_parse_hello(buf + 4, len, PEER_FRAME_HELLO, &out), 0);
	ck_assert_uint_eq(out.raft_id, h.raft_id);
	ck_assert_uint_eq(out.incarnation, h.incarnation);
	ck_assert_str_eq(out.address, h.address);
	ck_assert_str_eq(out.client_address, h.client_address);

	h.status = 13;
	strcpy(h.reason, "raft id 2 belongs to certificate CN dmlogd2, not dmlogd5");
	n = peer_wire_hello(buf, sizeof(buf), PEER_FRAME_WELCOME, &h);
	peer_wire_parse_header(buf, &type, &len);
	ck_assert_uint_eq(type, PEER_FRAME_WELCOME);
	ck_assert_int_eq(peer_wire_parse_hello(buf + 4, len, PEER_FRAME_WELCOME, &out), 0);
	ck_assert_uint_eq(out.status, 13);
	ck_assert_str_eq(out.reason, h.reason);
	/* A WELCOME is not a HELLO: the status word shifts everything. */
	ck_assert_int_ne(peer_wire_parse_hello(buf + 4, len, PEER_FRAME_HELLO, &out), 0);
}
END_TEST

START_TEST(test_every_truncation_and_trailing_byte_is_refused)
{
	uint8_t buf[2048];
	struct peer_hello h = sample(), out;
	size_t n = peer_wire_hello(buf, sizeof(buf), PEER_FRAME_HELLO, &h) - PEER_WIRE_HEADER;

	for (size_t cut = 0; cut < n; cut++)
		ck_assert_int_eq(peer_wire_parse_hello(buf + 4, cut, PEER_FRAME_HELLO, &out),
				 -EBADMSG);
	buf[4 + n] = 0;
	ck_assert_int_eq(peer_wire_parse_hello(buf + 4, n + 1, PEER_FRAME_HELLO, &out), -EBADMSG);
}
END_TEST

START_TEST(test_foreign_magic_or_version_is_refused)
{
	uint8_t buf[2048];
	struct peer_hello h = sample(), out;
	size_t n = peer_wire_hello(buf, sizeof(buf), PEER_FRAME_HELLO, &h) - PEER_WIRE_HEADER;

	buf[4] ^= 0xff;
	ck_assert_int_eq(peer_wire_parse_hello(buf + 4, n, PEER_FRAME_HELLO, &out),
			 -EPROTONOSUPPORT);
	buf[4] ^= 0xff;
	buf[4 + 7] = 2; /* version 2 */
	ck_assert_int_eq(peer_wire_parse_hello(buf + 4, n, PEER_FRAME_HELLO, &out),
			 -EPROTONOSUPPORT);
}
END_TEST

START_TEST(test_strings_with_nul_or_too_long_are_refused)
{
	uint8_t buf[4096];
	struct peer_hello h = sample(), out;
	size_t n, at;

	n = peer_wire_hello(buf, sizeof(buf), PEER_FRAME_HELLO, &h) - PEER_WIRE_HEADER;
	at = 4 + 4 + 4 + 8 + 8 + 2; /* first byte of the raft address */
	buf[at + 1] = '\0';
	ck_assert_int_eq(peer_wire_parse_hello(buf + 4, n, PEER_FRAME_HELLO, &out), -EBADMSG);
	/* The longest address round trips; a buffer too small is refused. */
	h = sample();
	memset(h.address, 'a', sizeof(h.address) - 1);
	h.address[sizeof(h.address) - 1] = '\0';
	n = peer_wire_hello(buf, sizeof(buf), PEER_FRAME_HELLO, &h);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(peer_wire_parse_hello(buf + 4, n - 4, PEER_FRAME_HELLO, &out), 0);
	ck_assert_str_eq(out.address, h.address);
	h = sample();
	ck_assert_uint_eq(peer_wire_hello(buf, 20, PEER_FRAME_HELLO, &h), 0);
}
END_TEST

START_TEST(test_ping_and_pong_round_trip)
{
	uint8_t buf[64], type;
	uint32_t len;
	struct peer_ping pg = {.term = 42, .stamp = 123456789, .promise_ms = -1}, out;
	size_t n;

	n = peer_wire_ping(buf, PEER_FRAME_PING, &pg);
	ck_assert_uint_eq(n, peer_wire_ping_size(PEER_FRAME_PING));
	peer_wire_parse_header(buf, &type, &len);
	ck_assert_uint_eq(type, PEER_FRAME_PING);
	ck_assert_int_eq(peer_wire_parse_ping(buf + 4, len, PEER_FRAME_PING, &out), 0);
	ck_assert_uint_eq(out.term, 42);
	ck_assert_uint_eq(out.stamp, 123456789);
	ck_assert_int_eq(out.promise_ms, -1);
	pg.promise_ms = 287;
	n = peer_wire_ping(buf, PEER_FRAME_PONG, &pg);
	peer_wire_parse_header(buf, &type, &len);
	ck_assert_uint_eq(len, n - PEER_WIRE_HEADER);
	ck_assert_int_eq(peer_wire_parse_ping(buf + 4, len, PEER_FRAME_PONG, &out), 0);
	ck_assert_int_eq(out.promise_ms, 287);
	pg.promise_ms = -1;
	peer_wire_ping(buf, PEER_FRAME_PONG, &pg);
	ck_assert_int_eq(peer_wire_parse_ping(buf + 4, len, PEER_FRAME_PONG, &out), 0);
	ck_assert_int_eq(out.promise_ms, -1);
	ck_assert_int_eq(peer_wire_parse_ping(buf + 4, len - 1, PEER_FRAME_PONG, &out), -EBADMSG);
	ck_assert_int_eq(peer_wire_parse_ping(buf + 4, len, PEER_FRAME_PING, &out), -EBADMSG);
}
END_TEST

START_TEST(test_header_carries_24_bit_lengths)
{
	uint8_t h[4], type;
	uint32_t len;

	peer_wire_header(h, PEER_FRAME_DATA, PEER_WIRE_PAYLOAD_MAX);
	peer_wire_parse_header(h, &type, &len);
	ck_assert_uint_eq(type, PEER_FRAME_DATA);
	ck_assert_uint_eq(len, PEER_WIRE_PAYLOAD_MAX);
	peer_wire_header(h, PEER_FRAME_DATA, 0x010203);
	ck_assert_uint_eq(h[1], 1);
	ck_assert_uint_eq(h[2], 2);
	ck_assert_uint_eq(h[3], 3);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("peer_wire");
	TCase *tc = tcase_create("frames");

	tcase_add_test(tc, test_hello_and_welcome_round_trip);
	tcase_add_test(tc, test_every_truncation_and_trailing_byte_is_refused);
	tcase_add_test(tc, test_foreign_magic_or_version_is_refused);
	tcase_add_test(tc, test_strings_with_nul_or_too_long_are_refused);
	tcase_add_test(tc, test_ping_and_pong_round_trip);
	tcase_add_test(tc, test_header_carries_24_bit_lengths);
	suite_add_tcase(s, tc);
	return testmain_run(s);
}
