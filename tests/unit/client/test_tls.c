/* test_tls.c: connecting: certificates refused on either side, server names, unreachable and
 * silent servers, and the errors of dmlog_async_new(). Every failure must say clearly why. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include <dmlog/async.h>

#include "fixture.h"
#include "harness.h"

struct one {
	bool done;
	int status;
	char errmsg[DMLOG_ERRMSG_SIZE];
};

static void on_one(struct dmlog_async *ac, int status, const struct dmlog_result *res, void *arg)
{
	struct one *o = arg;

	ck_assert(!o->done);
	o->done = true;
	o->status = status;
	snprintf(o->errmsg, sizeof(o->errmsg), "%s", status ? dmlog_async_errmsg(ac) : "");
}

static bool one_done(void *arg)
{
	return ((struct one *)arg)->done;
}

/* Pings through a handle made from o; returns the status, the message in errmsg, and how long
 * it took in *ms. */
static int ping_with(const struct dmlog_options *o, char *errmsg, long long *ms)
{
	char err[DMLOG_ERRMSG_SIZE];
	struct dmlog_async *ac = dmlog_async_new(fixture_base, o, err);
	struct one one = { 0 };
	long long start = harness_now_ms();

	ck_assert_msg(ac != NULL, "dmlog_async_new: %s", err);
	ck_assert_int_eq(dmlog_async_ping(ac, on_one, &one), 0);
	ck_assert(harness_run_until(fixture_base, one_done, &one, 15000));
	if (ms)
		*ms = harness_now_ms() - start;
	snprintf(errmsg, DMLOG_ERRMSG_SIZE, "%s", one.errmsg);
	dmlog_async_free(ac);
	return one.status;
}

START_TEST(good_certificates_connect)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	char msg[DMLOG_ERRMSG_SIZE];

	harness_server_config(&cfg);
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	ck_assert_int_eq(ping_with(&o, msg, NULL), 0);
	fake_server_stop(fs);
}
END_TEST

START_TEST(localhost_name_is_resolved_and_verified)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	char addr[64], msg[DMLOG_ERRMSG_SIZE];

	harness_server_config(&cfg);
	fs = harness_server_start(&cfg);
	snprintf(addr, sizeof(addr), "localhost:%u", fake_server_port(fs));
	harness_options(&o, addr);
	ck_assert_msg(ping_with(&o, msg, NULL) == 0, "%s", msg);
	fake_server_stop(fs);
}
END_TEST

START_TEST(server_certificate_from_another_ca_is_refused)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	char msg[DMLOG_ERRMSG_SIZE], expect[96];
	long long ms;

	harness_server_config(&cfg);
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	o.ca_file = harness_certs.other.ca;
	ck_assert_int_eq(ping_with(&o, msg, &ms), -EACCES);
	snprintf(expect, sizeof(expect), "PING request 1: connect %s: TLS handshake: "
		 "certificate verify failed: ", fake_server_address(fs));
	ck_assert_msg(strstr(msg, expect) == msg, "%s", msg);
	/* OpenSSL's verify error follows. */
	ck_assert_uint_gt(strlen(msg), strlen(expect) + 5);
	ck_assert_msg(strstr(msg, "certificate"), "%s", msg);
	/* A refused certificate is not retried until the deadline. */
	ck_assert_int_lt(ms, 3000);
	ck_assert_uint_eq(fake_server_connections(fs), 0);
	fake_server_stop(fs);
}
END_TEST

static void client_certificate_refused(bool tls12)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	char msg[DMLOG_ERRMSG_SIZE], expect[96];
	long long ms;

	harness_server_config(&cfg);
	cfg.tls12_only = tls12;
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	o.cert_file = harness_certs.other.node_cert;
	o.key_file = harness_certs.other.node_key;
	ck_assert_int_eq(ping_with(&o, msg, &ms), -EACCES);
	snprintf(expect, sizeof(expect), "PING request 1: connect %s: ", fake_server_address(fs));
	ck_assert_msg(strstr(msg, expect) == msg, "%s", msg);
	ck_assert_msg(strstr(msg, "certificate refused by the server: "), "%s", msg);
	ck_assert_msg(strstr(msg, "unknown ca"), "%s", msg);
	ck_assert_int_lt(ms, 3000);
	ck_assert_uint_eq(fake_server_requests(fs), 0);
	fake_server_stop(fs);
}

START_TEST(client_certificate_from_another_ca_is_refused_tls13)
{
	client_certificate_refused(false);
}
END_TEST

START_TEST(client_certificate_from_another_ca_is_refused_tls12)
{
	client_certificate_refused(true);
}
END_TEST

START_TEST(server_name_mismatch_is_refused)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	char msg[DMLOG_ERRMSG_SIZE];

	harness_server_config(&cfg);
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	o.verify_name = "dmlogd9.example.org";
	ck_assert_int_eq(ping_with(&o, msg, NULL), -EACCES);
	ck_assert_msg(strstr(msg, "certificate verify failed: hostname mismatch"), "%s", msg);

	o.verify_name = "10.9.8.7";
	ck_assert_int_eq(ping_with(&o, msg, NULL), -EACCES);
	ck_assert_msg(strstr(msg, "certificate verify failed: IP address mismatch"), "%s", msg);

	/* The right name, given explicitly, is accepted. */
	o.verify_name = "localhost";
	ck_assert_msg(ping_with(&o, msg, NULL) == 0, "%s", msg);
	fake_server_stop(fs);
}
END_TEST

START_TEST(server_with_a_client_only_certificate_is_refused)
{
	struct fake_server_config cfg;
	struct fake_server *fs;
	struct dmlog_options o;
	char msg[DMLOG_ERRMSG_SIZE];

	/* A node certificate lacks serverAuth: it cannot pose as a dmlogd. */
	harness_server_config(&cfg);
	cfg.cert_file = harness_certs.good.node_cert;
	cfg.key_file = harness_certs.good.node_key;
	fs = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(fs));
	o.verify_name = "node1";
	ck_assert_int_eq(ping_with(&o, msg, NULL), -EACCES);
	ck_assert_msg(strstr(msg, "certificate verify failed: "), "%s", msg);
	fake_server_stop(fs);
}
END_TEST

START_TEST(one_refusing_server_does_not_fail_the_others)
{
	struct fake_server_config cfg;
	struct fake_server *bad, *good;
	struct dmlog_options o;
	char msg[DMLOG_ERRMSG_SIZE];

	harness_server_config(&cfg);
	cfg.cert_file = harness_certs.other.server_cert;
	cfg.key_file = harness_certs.other.server_key;
	bad = harness_server_start(&cfg);
	harness_server_config(&cfg);
	good = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(bad));
	o.servers[1] = fake_server_address(good);
	ck_assert_msg(ping_with(&o, msg, NULL) == 0, "%s", msg);
	ck_assert_uint_eq(fake_server_requests(good), 1);
	fake_server_stop(bad);
	fake_server_stop(good);
}
END_TEST

START_TEST(every_server_refusing_fails_after_trying_each)
{
	struct fake_server_config cfg;
	struct fake_server *a, *b;
	struct dmlog_options o;
	char msg[DMLOG_ERRMSG_SIZE];
	long long ms;

	harness_server_config(&cfg);
	cfg.cert_file = harness_certs.other.server_cert;
	cfg.key_file = harness_certs.other.server_key;
	a = harness_server_start(&cfg);
	b = harness_server_start(&cfg);
	harness_options(&o, fake_server_address(a));
	o.servers[1] = fake_server_address(b);
	ck_assert_int_eq(ping_with(&o, msg, &ms), -EACCES);
	ck_assert_int_lt(ms, 3000);
	/* The message is the last server's. */
	ck_assert_msg(strstr(msg, fake_server_address(b)), "%s", msg);
	ck_assert_msg(strstr(msg, "certificate verify failed"), "%s", msg);
	fake_server_stop(a);
	fake_server_stop(b);
}
END_TEST

START_TEST(connection_refused_names_the_address)
{
	struct dmlog_options o;
	const char *addr = harness_closed_address();
	char msg[DMLOG_ERRMSG_SIZE], expect[96];

	harness_options(&o, addr);
	o.request_timeout_ms = 250;
	ck_assert_int_eq(ping_with(&o, msg, NULL), -ETIMEDOUT);
	snprintf(expect, sizeof(expect), "(not connected: connect %s: Connection refused)", addr);
	ck_assert_msg(strstr(msg, expect), "%s", msg);
	ck_assert_msg(strstr(msg, "PING request 1: no reply within 250 ms"), "%s", msg);
}
END_TEST

START_TEST(silent_server_hits_the_connect_timeout)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct dmlog_options o;
	char addr[32], msg[DMLOG_ERRMSG_SIZE], expect[96];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* Listening, so TCP connects, but nobody ever answers the TLS handshake. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	harness_options(&o, addr);
	o.connect_timeout_ms = 150;
	o.request_timeout_ms = 600;
	ck_assert_int_eq(ping_with(&o, msg, NULL), -ETIMEDOUT);
	snprintf(expect, sizeof(expect), "connect %s: timed out after 150 ms", addr);
	ck_assert_msg(strstr(msg, expect), "%s", msg);
	close(fd);
}
END_TEST

START_TEST(creation_errors_say_what_is_wrong)
{
	struct dmlog_options o;
	char err[DMLOG_ERRMSG_SIZE];

	harness_options(&o, "127.0.0.1:7788");
	o.ca_file = "/nonexistent/ca.crt";
	ck_assert_ptr_null(dmlog_async_new(fixture_base, &o, err));
	ck_assert_str_eq(err, "tls: ca_file /nonexistent/ca.crt: No such file or directory");

	harness_options(&o, "127.0.0.1:7788");
	o.key_file = harness_certs.good.admin_key;
	ck_assert_ptr_null(dmlog_async_new(fixture_base, &o, err));
	ck_assert_msg(strstr(err, "tls: key_file ") == err, "%s", err);
	ck_assert_msg(strstr(err, "mismatch"), "%s", err);

	harness_options(&o, "127.0.0.1:7788");
	o.cert_file = harness_certs.good.ca;
	o.ca_file = harness_certs.good.node_key;
	ck_assert_ptr_null(dmlog_async_new(fixture_base, &o, err));
	ck_assert_msg(strstr(err, "tls: ca_file "), "%s", err);

	harness_options(&o, NULL);
	ck_assert_ptr_null(dmlog_async_new(fixture_base, &o, err));
	ck_assert_str_eq(err, "options: no server given");

	harness_options(&o, "dmlogd1");
	ck_assert_ptr_null(dmlog_async_new(fixture_base, &o, err));
	ck_assert_str_eq(err, "options: server 'dmlogd1': expected host:port or [ipv6]:port");

	harness_options(&o, "127.0.0.1:7788");
	o.ca_file = NULL;
	ck_assert_ptr_null(dmlog_async_new(fixture_base, &o, err));
	ck_assert_str_eq(err, "options: ca_file is required");

	harness_options(&o, "127.0.0.1:7788");
	ck_assert_ptr_null(dmlog_async_new(NULL, &o, err));
	ck_assert_str_eq(err, "dmlog_async_new: no event_base");
	ck_assert_ptr_null(dmlog_async_new(fixture_base, NULL, NULL));
}
END_TEST

static Suite *tls_suite(void)
{
	Suite *s = suite_create("client_tls");
	TCase *t;

	t = fixture_tcase(s, "certificates", 60);
	tcase_add_test(t, good_certificates_connect);
	tcase_add_test(t, localhost_name_is_resolved_and_verified);
	tcase_add_test(t, server_certificate_from_another_ca_is_refused);
	tcase_add_test(t, client_certificate_from_another_ca_is_refused_tls13);
	tcase_add_test(t, client_certificate_from_another_ca_is_refused_tls12);
	tcase_add_test(t, server_name_mismatch_is_refused);
	tcase_add_test(t, server_with_a_client_only_certificate_is_refused);
	tcase_add_test(t, one_refusing_server_does_not_fail_the_others);
	tcase_add_test(t, every_server_refusing_fails_after_trying_each);

	t = fixture_tcase(s, "connecting", 60);
	tcase_add_test(t, connection_refused_names_the_address);
	tcase_add_test(t, silent_server_hits_the_connect_timeout);
	tcase_add_test(t, creation_errors_say_what_is_wrong);
	return s;
}

int main(void)
{
	/* As <dmlog/async.h> asks of applications. */
	signal(SIGPIPE, SIG_IGN);
	return harness_run(tls_suite());
}
