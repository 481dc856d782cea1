/* test_notify.c: the sd_notify datagrams, against a socket the test binds itself.
 *
 * Both a filesystem path and an abstract ('@') NOTIFY_SOCKET are exercised; each test reads
 * back the exact datagram dmlogd would have sent to systemd.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"
#include "testdir.h"
#include "testmain.h"

static int sock = -1;
static char dir[64];
static char path[128];

/* Binds a datagram socket at name ('@...' for abstract) and points NOTIFY_SOCKET at it. */
static void bind_notify(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	struct timeval tv = {.tv_sec = 5};

	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(sock, 0);
	memcpy(sa.sun_path, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	ck_assert_int_eq(bind(sock, (struct sockaddr *)&sa, len), 0);
	ck_assert_int_eq(setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	setenv("NOTIFY_SOCKET", name, 1);
}

static void setup(void)
{
	ck_assert_int_eq(testdir_make(dir, sizeof(dir), "notify"), 0);
	snprintf(path, sizeof(path), "%s/notify", dir);
}

static void teardown(void)
{
	if (sock >= 0)
		close(sock);
	sock = -1;
	testdir_remove(dir);
	unsetenv("NOTIFY_SOCKET");
}

/* The next datagram (static buffer). */
static const char *received(void)
{
	static char buf[2048];
	ssize_t n = recv(sock, buf, sizeof(buf) - 1, 0);

	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return buf;
}

START_TEST(test_unset_socket_is_a_no_op)
{
	char err[256] = "";

	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(notify_ready("serving", err, sizeof(err)), 0);
	ck_assert_int_eq(notify_stopping(NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(test_ready_with_status_on_a_path)
{
	char err[256];

	bind_notify(path);
	ck_assert_int_eq(notify_ready("serving 127.0.0.1:7788", err, sizeof(err)), 0);
	ck_assert_str_eq(received(), "READY=1\nSTATUS=serving 127.0.0.1:7788");
	ck_assert_int_eq(notify_ready(NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(received(), "READY=1");
}
END_TEST

START_TEST(test_abstract_socket)
{
	char name[64], err[256];

	snprintf(name, sizeof(name), "@dmlog-notify-test-%d", (int)getpid());
	bind_notify(name);
	ck_assert_int_eq(notify_stopping("shutting down", err, sizeof(err)), 0);
	ck_assert_str_eq(received(), "STOPPING=1\nSTATUS=shutting down");
}
END_TEST

START_TEST(test_status_and_reloading)
{
	char err[256];
	const char *msg;
	unsigned long long usec;

	bind_notify(path);
	ck_assert_int_eq(notify_status("leader, 3 nodes", err, sizeof(err)), 0);
	ck_assert_str_eq(received(), "STATUS=leader, 3 nodes");
	ck_assert_int_eq(notify_reloading("reloading", err, sizeof(err)), 0);
	msg = received();
	ck_assert_int_eq(strncmp(msg, "RELOADING=1\nMONOTONIC_USEC=", 27), 0);
	ck_assert_int_eq(sscanf(msg + 27, "%llu", &usec), 1);
	ck_assert(usec > 0);
	ck_assert_ptr_nonnull(strstr(msg, "\nSTATUS=reloading"));
}
END_TEST

START_TEST(test_status_newlines_cannot_inject)
{
	char err[256];

	bind_notify(path);
	ck_assert_int_eq(notify_ready("ok\nSTOPPING=1", err, sizeof(err)), 0);
	ck_assert_str_eq(received(), "READY=1\nSTATUS=ok STOPPING=1");
}
END_TEST

START_TEST(test_bad_socket_values)
{
	char err[256];

	setenv("NOTIFY_SOCKET", "relative/path", 1);
	ck_assert_int_eq(notify_ready(NULL, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "NOTIFY_SOCKET"));

	setenv("NOTIFY_SOCKET", "/nonexistent-dmlog-dir/notify", 1);
	ck_assert_int_eq(notify_ready(NULL, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "notify /nonexistent-dmlog-dir/notify: No such file or directory");

	char longname[200];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	ck_assert_int_eq(notify_ready(NULL, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(test_oversized_message_refused)
{
	char big[NOTIFY_MAX + 10], err[256];

	bind_notify(path);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(notify_send(big, err, sizeof(err)), -EMSGSIZE);
}
END_TEST

static Suite *notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = testmain_tcase(s, "notify", setup, teardown, 0);

	tcase_add_test(tc, test_unset_socket_is_a_no_op);
	tcase_add_test(tc, test_ready_with_status_on_a_path);
	tcase_add_test(tc, test_abstract_socket);
	tcase_add_test(tc, test_status_and_reloading);
	tcase_add_test(tc, test_status_newlines_cannot_inject);
	tcase_add_test(tc, test_bad_socket_values);
	tcase_add_test(tc, test_oversized_message_refused);
	return s;
}

int main(void)
{
	return testmain_run(notify_suite());
}
