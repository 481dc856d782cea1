/* test_transport.c: the transports without a relay — delivery, pausing, the reply queue, the
 * dgram:PATH listener (the newest peer wins, the socket file is ours) and the netlink socket
 * (opened when the privileges allow, otherwise refused with a reason).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "testdir.h"
#include "testmain.h"
#include "transport.h"

static char dir[64], path[96];
static struct event_base *base;

/* What the callback saw. */
static struct {
	unsigned count;
	size_t last_len;
	uint8_t last[64];
} got;

static void on_datagram(struct transport *t, const uint8_t *buf, size_t len, void *arg)
{
	(void)t;
	(void)arg;
	got.count++;
	got.last_len = len;
	memcpy(got.last, buf, len < sizeof(got.last) ? len : sizeof(got.last));
}

static void setup(void)
{
	ck_assert_int_eq(testdir_make(dir, sizeof(dir), "transport"), 0);
	snprintf(path, sizeof(path), "%s/k.sock", dir);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	memset(&got, 0, sizeof(got));
}

static void teardown(void)
{
	event_base_free(base);
	ck_assert_int_eq(testdir_remove(dir), 0);
}

/* Runs the loop until the callback saw want datagrams (at most 2 s). */
static void loop_until(unsigned want)
{
	for (int i = 0; i < 200 && got.count < want; i++) {
		struct timeval tv = {0, 10000};

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	ck_assert_uint_eq(got.count, want);
}

static void loop_for_ms(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static int connect_path(void)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

START_TEST(dgram_listener_delivers_and_the_newest_peer_wins)
{
	char err[256];
	struct transport *t = transport_dgram_listen(base, path, 65536, err, sizeof(err));
	struct transport_stats st;
	uint8_t buf[64];
	int a, b;

	ck_assert_msg(t != NULL, "%s", err);
	ck_assert_int_eq(strncmp(transport_name(t), "dgram:", 6), 0);
	ck_assert_str_eq(transport_name(t) + 6, path);
	ck_assert_uint_eq(transport_pid(t), 0);
	ck_assert_int_eq(transport_start(t, on_datagram, NULL), 0);
	/* no peer yet: a reply has nowhere to go */
	ck_assert_int_eq(transport_send(t, "x", 1), -ENOTCONN);

	a = connect_path();
	loop_for_ms(50); /* accept */
	ck_assert_int_eq(send(a, "hello", 5, 0), 5);
	loop_until(1);
	ck_assert_uint_eq(got.last_len, 5);
	ck_assert_mem_eq(got.last, "hello", 5);
	ck_assert_int_eq(transport_send(t, "reply-a", 7), 0);
	ck_assert_int_eq(recv(a, buf, sizeof(buf), 0), 7);

	/* a second peer replaces the first, whose connection is closed */
	b = connect_path();
	loop_for_ms(50);
	ck_assert_int_eq(recv(a, buf, sizeof(buf), MSG_DONTWAIT), 0);
	ck_assert_int_eq(transport_send(t, "reply-b", 7), 0);
	ck_assert_int_eq(recv(b, buf, sizeof(buf), 0), 7);
	ck_assert_mem_eq(buf, "reply-b", 7);

	/* the peer leaves: the transport notices, replies have nowhere to go */
	close(b);
	loop_for_ms(50);
	ck_assert_int_eq(transport_send(t, "late", 4), -ENOTCONN);
	transport_get_stats(t, &st);
	ck_assert_uint_eq(st.peers, 2);
	ck_assert_uint_eq(st.received, 1);
	ck_assert_uint_eq(st.sent, 2);
	ck_assert_uint_eq(st.dropped_out, 2);
	close(a);
	transport_free(t);
	/* the socket file was ours: gone */
	ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

START_TEST(dgram_listener_replaces_a_stale_socket_but_not_a_file)
{
	char err[256];
	struct transport *t1, *t2;
	int fd;

	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_ptr_null(transport_dgram_listen(base, path, 0, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "exists and is not a socket"));
	unlink(path);

	/* a bridge killed with -9 leaves its socket file behind: the next one takes the path */
	t1 = transport_dgram_listen(base, path, 0, err, sizeof(err));
	ck_assert_msg(t1 != NULL, "%s", err);
	t2 = transport_dgram_listen(base, path, 0, err, sizeof(err));
	ck_assert_msg(t2 != NULL, "%s", err);
	/* the old one going away leaves the new one's file alone */
	transport_free(t1);
	ck_assert_int_eq(access(path, F_OK), 0);
	transport_free(t2);
	ck_assert_int_ne(access(path, F_OK), 0);

	memset(err, 0, sizeof(err));
	ck_assert_ptr_null(transport_open(base, "tcp:1", 0, err, sizeof(err)));
	ck_assert_str_eq(err, "transport 'tcp:1': expected netlink or dgram:PATH");
	ck_assert_ptr_null(transport_open(base, "dgram:", 0, err, sizeof(err)));
}
END_TEST

START_TEST(pause_stops_delivery_until_resumed)
{
	char err[256];
	int sv[2];
	struct transport *t;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	t = transport_dgram_from_fd(base, sv[0], err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	ck_assert_str_eq(transport_name(t), "dgram:fd");
	ck_assert_int_eq(transport_start(t, on_datagram, NULL), 0);
	transport_pause(t, true);
	ck_assert_int_eq(send(sv[1], "a", 1, 0), 1);
	ck_assert_int_eq(send(sv[1], "b", 1, 0), 1);
	loop_for_ms(100);
	ck_assert_uint_eq(got.count, 0);
	transport_pause(t, false);
	loop_until(2);
	ck_assert_mem_eq(got.last, "b", 1);
	close(sv[1]);
	transport_free(t);

	/* a stream socket is no datagram transport */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_ptr_null(transport_dgram_from_fd(base, sv[0], err, sizeof(err)));
	close(sv[1]);
}
END_TEST

/* The peer does not read: replies queue in order, go out once it does, nothing is lost. */
START_TEST(replies_queue_behind_a_full_peer_in_order)
{
	char err[256];
	int sv[2], small = 4096;
	struct transport *t;
	struct transport_stats st;
	uint8_t msg[400], buf[512];
	unsigned n = 0, seen = 0;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	t = transport_dgram_from_fd(base, sv[0], err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	ck_assert_int_eq(transport_start(t, on_datagram, NULL), 0);
	memset(msg, 0xab, sizeof(msg));
	for (n = 0; n < 2000; n++) {
		memcpy(msg, &n, sizeof(n));
		ck_assert_int_eq(transport_send(t, msg, sizeof(msg)), 0);
		transport_get_stats(t, &st);
		if (st.queued > 50)
			break;
	}
	ck_assert_uint_gt(st.queued, 50);
	n++;
	/* the peer reads, the loop writes the rest */
	while (seen < n) {
		struct pollfd pfd = {sv[1], POLLIN, 0};

		loop_for_ms(5);
		while (poll(&pfd, 1, 0) == 1) {
			unsigned v;

			ck_assert_int_eq(recv(sv[1], buf, sizeof(buf), 0), (int)sizeof(msg));
			memcpy(&v, buf, sizeof(v));
			ck_assert_uint_eq(v, seen);
			seen++;
		}
	}
	transport_get_stats(t, &st);
	ck_assert_uint_eq(st.sent, n);
	ck_assert_uint_eq(st.dropped_out, 0);
	close(sv[1]);
	transport_free(t);
}
END_TEST

/* Root with CAP_NET_ADMIN in the initial network namespace joins group 7; anything else is
 * refused with a reason that names what is missing. */
START_TEST(netlink_opens_or_says_why_not)
{
	char err[256] = "";
	struct transport *t = transport_netlink_new(base, 1 << 20, err, sizeof(err));

	if (t != NULL) {
		ck_assert_str_eq(transport_name(t), "netlink");
		ck_assert_uint_ne(transport_pid(t), 0);
		transport_free(t);
	} else {
		ck_assert_msg(strncmp(err, "netlink: ", 9) == 0, "%s", err);
	}
}
END_TEST

static Suite *transport_suite(void)
{
	Suite *s = suite_create("bridge_transport");
	TCase *tc = testmain_tcase(s, "transport", setup, teardown, 0);

	tcase_add_test(tc, dgram_listener_delivers_and_the_newest_peer_wins);
	tcase_add_test(tc, dgram_listener_replaces_a_stale_socket_but_not_a_file);
	tcase_add_test(tc, pause_stops_delivery_until_resumed);
	tcase_add_test(tc, replies_queue_behind_a_full_peer_in_order);
	tcase_add_test(tc, netlink_opens_or_says_why_not);
	return s;
}

int main(void)
{
	return testmain_run(transport_suite());
}
