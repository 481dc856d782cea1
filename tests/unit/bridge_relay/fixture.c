/* fixture.c: a relay under test between a fake kernel and a real dmlogd (see fixture.h).
 *
 * The relay runs on a thread of its own with its own event_base (libevent's pthread locking is
 * on, so the test thread can stop it and run small jobs on it with event_base_once()); the fake
 * kernel is used from the test's thread with blocking, bounded calls.
 */
#include "fixture.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "log.h"
#include "transport.h"

struct fixture fx;

static char dir[256], certs[300], logpath[400];
static int log_fd = -1;

/* The relay's thread and what it shares with the test's thread. */
static struct {
	pthread_t thread;
	bool running;
	struct event_base *base;
	struct event *stop;           /* activated by the test's thread: ends the loop */
	struct relay *relay;          /* on the relay's thread only */
	int kernel_end;               /* handed to the transport */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int state;                    /* 0 starting, 1 running, -1 failed */
	char err[512];
} rt = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

void fixture_global_setup(void)
{
	harness_tmpdir(dir, sizeof(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	harness_certs(certs);
}

void fixture_global_teardown(void)
{
	harness_rmdir(dir);
}

/* A test that fails exits the process: the dmlogd it started must not outlive it. */
static void fixture_at_exit(void)
{
	if (fx.d.pid > 0)
		kill(fx.d.pid, SIGKILL);
}

void fixture_setup(void)
{
	static unsigned n;
	static bool registered;

	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	if (!registered) {
		atexit(fixture_at_exit);
		registered = true;
	}
	memset(&fx, 0, sizeof(fx));
	snprintf(fx.state, sizeof(fx.state), "%s/state-%d-%u", dir, (int)getpid(), n);
	snprintf(logpath, sizeof(logpath), "%s/relay-%d-%u.log", dir, (int)getpid(), n++);
	ck_assert_int_eq(mkdir(fx.state, 0700), 0);
	log_fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	ck_assert_int_ge(log_fd, 0);
	log_init("dmlog-bridge");
	log_set_fd(log_fd);
	log_set_level(LOG_LEVEL_INFO);

	fx.d.port = harness_free_port();
	fx.d.raft_port = harness_free_port();
	snprintf(fx.server, sizeof(fx.server), "127.0.0.1:%d", fx.d.port);
	snprintf(fx.ca, sizeof(fx.ca), "%s/ca.crt", certs);
	snprintf(fx.cert, sizeof(fx.cert), "%s/node-node1.crt", certs);
	snprintf(fx.key, sizeof(fx.key), "%s/node-node1.key", certs);
	fx.o.client.servers[0] = fx.server;
	fx.o.client.ca_file = fx.ca;
	fx.o.client.cert_file = fx.cert;
	fx.o.client.key_file = fx.key;
	fx.o.client.reconnect_min_ms = 50;
	fx.o.client.reconnect_max_ms = 250;
	fx.o.policy = RELAY_POLICY_WAIT;
	fx.o.max_outstanding = 1024;
	fx.o.keepalive_ms = 1000;
}

void fixture_teardown(void)
{
	fixture_relay_stop();
	if (fx.d.pid > 0)
		dmlogd_stop(&fx.d, SIGKILL);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	log_set_fd(2);
}

void fixture_dmlogd_start_with(const char *const *extra)
{
	ck_assert_msg(dmlogd_start(&fx.d, certs, fx.state, extra) == 0,
		      "dmlogd did not start (see %s)", fx.d.logfile);
}

void fixture_dmlogd_start(void)
{
	fixture_dmlogd_start_with(NULL);
}

void fixture_dmlogd_stop(int sig)
{
	dmlogd_stop(&fx.d, sig);
}

static void rt_set_state(int state, const char *err)
{
	pthread_mutex_lock(&rt.lock);
	rt.state = state;
	if (err != NULL)
		snprintf(rt.err, sizeof(rt.err), "%s", err);
	pthread_cond_broadcast(&rt.cond);
	pthread_mutex_unlock(&rt.lock);
}

static void *rt_main(void *arg)
{
	char err[512];
	struct transport *t;
	struct relay *r;

	(void)arg;
	t = transport_dgram_from_fd(rt.base, rt.kernel_end, err, sizeof(err));
	if (t == NULL) {
		rt_set_state(-1, err);
		return NULL;
	}
	r = relay_new(rt.base, t, &fx.o, err, sizeof(err));
	if (r == NULL) {
		transport_free(t);
		rt_set_state(-1, err);
		return NULL;
	}
	rt.relay = r; /* where the jobs of fixture_on_loop() find it */
	rt_set_state(1, NULL);
	event_base_dispatch(rt.base);
	rt.relay = NULL;
	relay_free(r);
	transport_free(t);
	/* libdmlog releases its connection from callbacks it queued: let them run */
	event_base_loop(rt.base, EVLOOP_NONBLOCK);
	event_base_loop(rt.base, EVLOOP_NONBLOCK);
	return NULL;
}

/* Ends the loop from inside it: an activation made before the loop runs is not lost, as an
 * event_base_loopbreak() made then would be. */
static void rt_on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(rt.base);
}

void fixture_relay(unsigned resend_ms)
{
	struct fake_kernel_options ko = {0};
	int sv[2];
	char err[256];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	rt.base = event_base_new();
	ck_assert_ptr_nonnull(rt.base);
	rt.stop = event_new(rt.base, -1, 0, rt_on_stop, NULL);
	ck_assert_ptr_nonnull(rt.stop);
	rt.kernel_end = sv[0];
	rt.state = 0;
	ck_assert_int_eq(pthread_create(&rt.thread, NULL, rt_main, NULL), 0);
	rt.running = true;
	pthread_mutex_lock(&rt.lock);
	while (rt.state == 0)
		pthread_cond_wait(&rt.cond, &rt.lock);
	pthread_mutex_unlock(&rt.lock);
	ck_assert_msg(rt.state == 1, "relay did not start: %s", rt.err);
	ko.fd = sv[1];
	ko.first_seq = 100;
	ko.resend_ms = resend_ms;
	ko.deadline_ms = 60000;
	fx.fk = fake_kernel_new(&ko, err);
	ck_assert_msg(fx.fk != NULL, "%s", err);
}

void fixture_relay_stop(void)
{
	if (rt.running) {
		event_active(rt.stop, EV_TIMEOUT, 0);
		pthread_join(rt.thread, NULL);
		event_free(rt.stop);
		event_base_free(rt.base);
		rt.base = NULL;
		rt.running = false;
	}
	fake_kernel_free(fx.fk);
	fx.fk = NULL;
}

/* A job for the relay's thread, and its completion. */
struct fixture_job {
	void (*fn)(void *arg);
	void *arg;
	bool done;
};

static void fixture_job_run(evutil_socket_t fd, short what, void *arg)
{
	struct fixture_job *j = arg;

	(void)fd;
	(void)what;
	j->fn(j->arg);
	pthread_mutex_lock(&rt.lock);
	j->done = true;
	pthread_cond_broadcast(&rt.cond);
	pthread_mutex_unlock(&rt.lock);
}

/* Runs fn(arg) on the relay's thread and waits for it. */
static void fixture_on_loop(void (*fn)(void *arg), void *arg)
{
	struct fixture_job j = {fn, arg, false};

	ck_assert(rt.running);
	ck_assert_int_eq(event_base_once(rt.base, -1, EV_TIMEOUT, fixture_job_run, &j, NULL), 0);
	pthread_mutex_lock(&rt.lock);
	while (!j.done)
		pthread_cond_wait(&rt.cond, &rt.lock);
	pthread_mutex_unlock(&rt.lock);
}

static void job_stats(void *arg)
{
	(void)arg;
	relay_get_stats(rt.relay, &fx.stats);
}

void fixture_stats(void)
{
	fixture_on_loop(job_stats, NULL);
}

static void job_reconfigure(void *arg)
{
	char err[512];

	*(int *)arg = relay_reconfigure(rt.relay, &fx.o, err, sizeof(err));
}

int fixture_reconfigure(void)
{
	int rc = 1;

	fixture_on_loop(job_reconfigure, &rc);
	return rc;
}

int fixture_log_count(const char *needle)
{
	FILE *f = fopen(logpath, "r");
	char line[4096];
	int n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, needle) != NULL)
			n++;
	}
	fclose(f);
	return n;
}

struct fake_kernel_req fixture_req(uint32_t type, const void *data, size_t size)
{
	struct fake_kernel_req r = {type, FX_UUID, FX_LUID, 3, data, size};

	return r;
}

void fixture_roundtrip(const struct fake_kernel_req *req, unsigned timeout_ms,
		       struct fake_kernel_reply *out)
{
	uint32_t seq;
	int rc;

	ck_assert_int_eq(fake_kernel_send(fx.fk, req, &seq), 0);
	rc = fake_kernel_wait(fx.fk, seq, timeout_ms, out);
	ck_assert_msg(rc == 0, "no reply to type %u seq %u: %d", req->type, seq, rc);
}

void fixture_ok(const struct fake_kernel_req *req, uint32_t data_size,
		struct fake_kernel_reply *out)
{
	struct fake_kernel_reply local;
	struct fake_kernel_reply *r = out != NULL ? out : &local;

	fixture_roundtrip(req, 20000, r);
	ck_assert_msg(!r->bare && !r->incomplete, "type %u: not a full reply", req->type);
	ck_assert_msg(r->error == 0, "type %u seq %u: error %d", req->type, r->seq, r->error);
	ck_assert_msg(r->data_size == data_size, "type %u: data_size %u, want %u", req->type,
		      r->data_size, data_size);
}

void fixture_open_log(const char *uuid, uint64_t luid, const char *args)
{
	struct fake_kernel_req ctr = {1, uuid, luid, 3, args, strlen(args)};
	struct fake_kernel_req grs = {6, uuid, luid, 3, NULL, 0};
	struct fake_kernel_req res = {5, uuid, luid, 3, NULL, 0};

	fixture_ok(&ctr, 0, NULL);
	fixture_ok(&grs, 8, NULL);
	fixture_ok(&res, 0, NULL);
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

size_t fixture_expected_reply(uint8_t *out, uint64_t luid, const char *uuid, uint32_t version,
			      uint32_t seq, uint32_t type, int error, const void *data, size_t n,
			      uint32_t pid)
{
	size_t cn_len = 160 + n;

	memset(out, 0, 36 + cn_len);
	/* nlmsghdr: NLMSG_LENGTH(20 + cn_len) = 16 + 20 + cn_len (NLMSG_LENGTH does not round) */
	put32(out, (uint32_t)(36 + cn_len));
	put16(out + 4, 3);
	put32(out + 12, pid);
	/* cn_msg */
	put32(out + 16, 7);
	put32(out + 20, 1);
	put32(out + 24, seq);
	put16(out + 32, (uint16_t)cn_len);
	/* dm_ulog_request */
	memcpy(out + 36, &luid, 8);
	memcpy(out + 44, uuid, strlen(uuid));
	put32(out + 36 + 140, version);
	put32(out + 36 + 144, (uint32_t)error);
	put32(out + 36 + 148, seq);
	put32(out + 36 + 152, type);
	put32(out + 36 + 156, (uint32_t)n);
	if (n > 0)
		memcpy(out + 196, data, n);
	return 36 + cn_len;
}

void fixture_assert_reply(const struct fake_kernel_reply *r, uint64_t luid, const char *uuid,
			  uint32_t version, uint32_t seq, uint32_t type, int error,
			  const void *data, size_t n)
{
	static const uint8_t zeros[16];
	uint8_t want[FAKE_KERNEL_RAW_MAX];
	size_t len;

	/* an error reply carries its type's fixed-size result, zeroed (ulog_codec.h) */
	if (error != 0 && n == 0) {
		n = ulog_codec_result_size(type);
		data = zeros;
	}
	len = fixture_expected_reply(want, luid, uuid, version, seq, type, error, data, n, 0);

	ck_assert_msg(r->raw_len == len, "type %u seq %u: reply of %zu bytes, want %zu", type,
		      seq, r->raw_len, len);
	for (size_t i = 0; i < len; i++)
		ck_assert_msg(r->raw[i] == want[i],
			      "type %u seq %u: byte %zu is 0x%02x, want 0x%02x", type, seq, i,
			      r->raw[i], want[i]);
}
