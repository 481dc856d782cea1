/* harness.c: certificates, fake servers, options and loop running for the client tests. */
#include "harness.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "testcerts.h"
#include "testdir.h"
#include "testmain.h"

struct harness_certs harness_certs;

static void harness_fill(struct harness_identity *id, const char *dir)
{
	snprintf(id->ca, sizeof(id->ca), "%.3000s/ca.crt", dir);
	snprintf(id->server_cert, sizeof(id->server_cert), "%.3000s/peer-dmlogd1.crt", dir);
	snprintf(id->server_key, sizeof(id->server_key), "%.3000s/peer-dmlogd1.key", dir);
	snprintf(id->node_cert, sizeof(id->node_cert), "%.3000s/node-node1.crt", dir);
	snprintf(id->node_key, sizeof(id->node_key), "%.3000s/node-node1.key", dir);
	snprintf(id->admin_cert, sizeof(id->admin_cert), "%.3000s/admin-admin.crt", dir);
	snprintf(id->admin_key, sizeof(id->admin_key), "%.3000s/admin-admin.key", dir);
}

static void harness_make(const char *sub, struct harness_identity *id)
{
	char dir[PATH_MAX + 16];

	snprintf(dir, sizeof(dir), "%s/%s", harness_certs.dir, sub);
	if (testcerts_make(dir, "dev", NULL) != 0)
		exit(1);
	harness_fill(id, dir);
}

void harness_certs_create(void)
{
	int rc = testdir_make(harness_certs.dir, sizeof(harness_certs.dir), "client-test");

	if (rc != 0) {
		fprintf(stderr, "harness: mkdtemp: %s\n", strerror(-rc));
		exit(1);
	}
	harness_make("good", &harness_certs.good);
	harness_make("other", &harness_certs.other);
}

void harness_certs_remove(void)
{
	if (harness_certs.dir[0])
		testdir_remove(harness_certs.dir);
}

int harness_run(Suite *s)
{
	int rc;

	harness_certs_create();
	rc = testmain_run(s);
	harness_certs_remove();
	return rc;
}

void harness_server_config(struct fake_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cert_file = harness_certs.good.server_cert;
	cfg->key_file = harness_certs.good.server_key;
	cfg->ca_file = harness_certs.good.ca;
}

struct fake_server *harness_server_start(const struct fake_server_config *cfg)
{
	char err[256];
	struct fake_server *fs = fake_server_start(cfg, err);

	ck_assert_msg(fs != NULL, "fake server: %s", err);
	return fs;
}

void harness_options(struct dmlog_options *o, const char *server)
{
	memset(o, 0, sizeof(*o));
	o->servers[0] = server;
	o->ca_file = harness_certs.good.ca;
	o->cert_file = harness_certs.good.node_cert;
	o->key_file = harness_certs.good.node_key;
	o->client_name = "test_client";
	o->reconnect_min_ms = 10;
	o->reconnect_max_ms = 50;
	o->connect_timeout_ms = 3000;
	o->request_timeout_ms = 10000;
}

struct harness_wait {
	struct event_base *base;
	bool (*done)(void *arg);
	void *arg;
	long long deadline;
};

static void harness_tick(evutil_socket_t fd, short what, void *arg)
{
	struct harness_wait *w = arg;

	if (w->done(w->arg) || harness_now_ms() >= w->deadline)
		event_base_loopbreak(w->base);
}

bool harness_run_until(struct event_base *base, bool (*done)(void *arg), void *arg,
		       unsigned timeout_ms)
{
	struct harness_wait w = { base, done, arg, harness_now_ms() + timeout_ms };
	struct timeval tv = { 0, 2000 };
	struct event *tick = event_new(base, -1, EV_PERSIST, harness_tick, &w);

	ck_assert_ptr_nonnull(tick);
	event_add(tick, &tv);
	while (!done(arg) && harness_now_ms() < w.deadline)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(tick);
	return done(arg);
}

const char *harness_closed_address(void)
{
	static char addr[32];
	uint16_t port;

	harness_reserve_port(addr, &port);
	return addr;
}

int harness_reserve_port(char *addr, uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	/* Bound but never listening: connects are refused, and the port stays ours. */
	*port = ntohs(sin.sin_port);
	snprintf(addr, 32, "127.0.0.1:%u", *port);
	return fd;
}

long long harness_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
