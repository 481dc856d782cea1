/* test_ctls.c: the connection's socket BIO (ctls.c): writes that never raise SIGPIPE. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctls.h"
#include "testmain.h"

START_TEST(write_to_a_closed_peer_fails_with_epipe_without_sigpipe)
{
	int sv[2];
	BIO *b;
	char c = 'x';

	/* The default disposition: a SIGPIPE would kill this (forked) test. */
	signal(SIGPIPE, SIG_DFL);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	b = ctls_socket_bio(sv[0]);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(BIO_get_fd(b, NULL), sv[0]);
	ck_assert_int_eq(BIO_write(b, "ab", 2), 2);
	ck_assert_int_eq(read(sv[1], &c, 1), 1);
	ck_assert_int_eq(c, 'a');
	close(sv[1]);
	ck_assert_int_le(BIO_write(b, "cd", 2), 0);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert(!BIO_should_retry(b));
	/* Freeing the BIO leaves the socket open (its owner closes it). */
	BIO_free(b);
	ck_assert_int_ne(fcntl(sv[0], F_GETFD), -1);
	close(sv[0]);
}
END_TEST

START_TEST(read_and_retry_flags_are_the_socket_bios)
{
	int sv[2];
	BIO *b;
	char buf[4];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	b = ctls_socket_bio(sv[0]);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_lt(BIO_read(b, buf, sizeof(buf)), 0);
	ck_assert(BIO_should_retry(b) && BIO_should_read(b));
	ck_assert_int_eq(write(sv[1], "hi", 2), 2);
	ck_assert_int_eq(BIO_read(b, buf, sizeof(buf)), 2);
	close(sv[1]);
	ck_assert_int_eq(BIO_read(b, buf, sizeof(buf)), 0);
	ck_assert(!BIO_should_retry(b));
	BIO_free(b);
	close(sv[0]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client_ctls");
	TCase *t = tcase_create("socket_bio");

	tcase_add_test(t, write_to_a_closed_peer_fails_with_epipe_without_sigpipe);
	tcase_add_test(t, read_and_retry_flags_are_the_socket_bios);
	suite_add_tcase(s, t);
	return testmain_run(s);
}
