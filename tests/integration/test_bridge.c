/* test_bridge.c: the dmlog-bridge binary between a fake kernel and a real dmlogd.
 *
 * dmlog-bridge runs as a process with --transport dgram:PATH, a settings file and a ready
 * file; the fake kernel (tests/lib/fake_kernel.h) plays the kernel over PATH, with short
 * resend and reconnect periods. Covered: readiness (ready file, sd_notify READY=1), a mirror's
 * life through the bridge, kill -9 of the bridge with a request in flight and a new bridge
 * taking over through the kernel's own reconnect loop (CTR with its NUL counted, RESUME, the
 * request again) with the log's state intact, SIGHUP and SIGUSR1, a clean SIGTERM (which waits
 * for the clears it answered early to reach dmlogd), and the exit statuses of failed starts.
 */
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
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/dm-log-userspace.h>

#include "fake_kernel.h"
#include "harness.h"
#include "tcp_proxy.h"
#include "testmain.h"

#ifndef DMLOG_BRIDGE_PATH
#error "DMLOG_BRIDGE_PATH must name the dmlog-bridge binary"
#endif

#define UUID "LVM-bridgeintegration0123456789abcdef"
#define LUID UINT64_C(0xffff888077665500)
#define ARGS "2097152 clustered-core 1024 nosync"

static char dir[256], certs[300], state[300], sock[320], ready[320], ini[320], logfile[320];
static struct dmlogd d;
static pid_t bridge_pid;

static const uint8_t S64_0[8] = {0};
static const uint8_t S64_1[8] = {1};

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	memset(&d, 0, sizeof(d));
	bridge_pid = 0;
	harness_tmpdir(dir, sizeof(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(sock, sizeof(sock), "%s/kernel.sock", dir);
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	snprintf(ini, sizeof(ini), "%s/dmlog-bridge.ini", dir);
	snprintf(logfile, sizeof(logfile), "%s/bridge.log", dir);
	harness_certs(certs);
	mkdir(state, 0700);
	ck_assert_msg(dmlogd_start(&d, certs, state, NULL) == 0, "dmlogd did not start");
}

static void teardown(void)
{
	if (bridge_pid > 0) {
		kill(bridge_pid, SIGKILL);
		waitpid(bridge_pid, NULL, 0);
	}
	if (d.pid > 0)
		dmlogd_stop(&d, SIGKILL);
	if (getenv("DMLOG_TEST_KEEP") == NULL) /* set it to look at the logs afterwards */
		harness_rmdir(dir);
}

/* Writes the settings file the bridge reads (the command line adds the rest), with dmlogd at
 * port (0: dmlogd's own). */
static void write_ini_to(int port)
{
	char servers[32];

	snprintf(servers, sizeof(servers), "127.0.0.1:%d", port ? port : d.port);
	ck_assert_int_eq(harness_bridge_ini(ini, servers, certs, "node1", sock,
					    "reconnect_min = 50ms\n"
					    "reconnect_max = 250ms\n"
					    "keepalive = 500ms\n"
					    "log_level = info\n"),
			 0);
}

static void write_ini(void)
{
	write_ini_to(0);
}

/* Starts dmlog-bridge with the settings file and extra arguments; returns its pid. */
static pid_t spawn_bridge(const char *const *extra, const char *notify)
{
	return harness_bridge_spawn(DMLOG_BRIDGE_PATH, ini, extra, notify, logfile);
}

static void start_bridge(void)
{
	bridge_pid = harness_bridge_start(DMLOG_BRIDGE_PATH, ini, ready, logfile);
	ck_assert_msg(harness_wait_ready(bridge_pid, ready),
		      "dmlog-bridge did not become ready (see %s)", logfile);
}

/* Sends sig and waits for the exit (at most 10 s); returns the status or 128 + signal. */
static int stop_bridge(int sig)
{
	int rc = harness_reap(bridge_pid, sig, 10000);

	bridge_pid = 0;
	return rc;
}

/* Runs dmlog-bridge to its end (a failed start) and returns its exit status. */
static int run_bridge(const char *const *extra)
{
	return harness_reap(spawn_bridge(extra, NULL), 0, 10000);
}

static int log_count(const char *needle)
{
	return harness_log_count(logfile, needle);
}

static struct fake_kernel *kernel(void)
{
	struct fake_kernel_options o = {0};
	char err[256];
	struct fake_kernel *fk;

	o.path = sock;
	o.resend_ms = 1000;
	o.reconnect_ms = 200;
	o.deadline_ms = 30000;
	fk = fake_kernel_new(&o, err);
	ck_assert_msg(fk != NULL, "%s", err);
	return fk;
}

/* The kernel's view of one request of the test log: its result, the reply in *r. */
static int call(struct fake_kernel *fk, uint32_t type, const void *data, size_t size,
		struct fake_kernel_reply *r)
{
	struct fake_kernel_req req = {type, UUID, LUID, 3, data, size};

	return fake_kernel_call(fk, &req, r);
}

static void expect_flag(struct fake_kernel *fk, uint32_t type, uint64_t region, const uint8_t *v)
{
	struct fake_kernel_reply r;

	ck_assert_int_eq(call(fk, type, &region, 8, &r), 0);
	ck_assert_uint_eq(r.data_size, 8);
	ck_assert_mem_eq(fake_kernel_data(&r), v, 8);
}

/* ---------------------------------------------------------------- tests */

START_TEST(mirror_life_through_the_bridge_binary)
{
	struct fake_kernel *fk;
	struct fake_kernel_reply r;
	uint64_t size;

	write_ini();
	start_bridge();
	fk = kernel();
	ck_assert_int_eq(call(fk, DM_ULOG_CTR, ARGS, strlen(ARGS), &r), 0);
	ck_assert_uint_eq(r.data_size, 0);
	ck_assert_int_eq(call(fk, DM_ULOG_GET_REGION_SIZE, NULL, 0, &r), 0);
	ck_assert_uint_eq(r.data_size, 8);
	memcpy(&size, fake_kernel_data(&r), 8);
	ck_assert_uint_eq(size, 1024);
	ck_assert_int_eq(call(fk, DM_ULOG_RESUME, NULL, 0, &r), 0);
	expect_flag(fk, DM_ULOG_IN_SYNC, 3, S64_1);
	ck_assert_int_eq(call(fk, DM_ULOG_MARK_REGION, &(uint64_t){3}, 8, &r), 0);
	ck_assert_int_eq(call(fk, DM_ULOG_FLUSH, NULL, 0, &r), 0);
	expect_flag(fk, DM_ULOG_IS_CLEAN, 3, S64_0);
	ck_assert_int_eq(call(fk, DM_ULOG_CLEAR_REGION, &(uint64_t){3}, 8, &r), 0);
	ck_assert_int_eq(call(fk, DM_ULOG_FLUSH, NULL, 0, &r), 0);
	expect_flag(fk, DM_ULOG_IS_CLEAN, 3, S64_1);
	ck_assert_int_eq(call(fk, DM_ULOG_STATUS_INFO, NULL, 0, &r), 0);
	ck_assert_uint_eq(r.data_size, sizeof("1 clustered-core"));
	ck_assert_mem_eq(fake_kernel_data(&r), "1 clustered-core", sizeof("1 clustered-core"));

	/* SIGUSR1 dumps the counters, SIGHUP reloads (a new dmlogd connection) */
	kill(bridge_pid, SIGUSR1);
	kill(bridge_pid, SIGHUP);
	usleep(300 * 1000);
	expect_flag(fk, DM_ULOG_IS_CLEAN, 3, S64_1);
	ck_assert_int_ge(log_count("state dump: requests="), 1);
	ck_assert_int_ge(log_count("reload: new dmlogd connection node=node1"), 1);

	ck_assert_int_eq(call(fk, DM_ULOG_PRESUSPEND, NULL, 0, &r), 0);
	ck_assert_int_eq(call(fk, DM_ULOG_POSTSUSPEND, NULL, 0, &r), 0);
	ck_assert_int_eq(call(fk, DM_ULOG_DTR, NULL, 0, &r), 0);
	fake_kernel_free(fk);

	/* SIGTERM: exit 0, the ready file and the socket file are gone */
	ck_assert_int_eq(stop_bridge(SIGTERM), 0);
	ck_assert_int_ne(access(ready, F_OK), 0);
	ck_assert_int_ne(access(sock, F_OK), 0);
	ck_assert_int_eq(log_count("dmlog-bridge stopped"), 1);
}
END_TEST

/* While the fake kernel waits for its MARK: the bridge carrying it (dmlogd is frozen, so the
 * MARK is surely in flight) is killed with SIGKILL, dmlogd thaws, a new bridge starts. */
static void *replace_bridge(void *arg)
{
	(void)arg;
	usleep(300 * 1000);
	kill(bridge_pid, SIGKILL);
	waitpid(bridge_pid, NULL, 0);
	kill(d.pid, SIGCONT);
	unlink(ready);
	usleep(300 * 1000);
	bridge_pid = harness_bridge_start(DMLOG_BRIDGE_PATH, ini, ready, logfile);
	return NULL;
}

START_TEST(killed_bridge_is_replaced_through_the_kernels_reconnect_loop)
{
	struct fake_kernel *fk;
	struct fake_kernel_reply r;
	struct fake_kernel_counts c;
	pthread_t helper;

	write_ini();
	start_bridge();
	fk = kernel();
	ck_assert_int_eq(call(fk, DM_ULOG_CTR, ARGS, strlen(ARGS), &r), 0);
	ck_assert_int_eq(call(fk, DM_ULOG_GET_REGION_SIZE, NULL, 0, &r), 0);
	ck_assert_int_eq(call(fk, DM_ULOG_RESUME, NULL, 0, &r), 0);
	ck_assert_int_eq(call(fk, DM_ULOG_FLUSH, (uint64_t[]){5, 6}, 16, &r), 0);

	ck_assert_int_eq(kill(d.pid, SIGSTOP), 0);
	ck_assert_int_eq(pthread_create(&helper, NULL, replace_bridge, NULL), 0);
	/* The kernel: its MARK is lost with the bridge; the next send finds no bridge, so the
	 * reconnect loop runs: CTR with the NUL counted until a bridge answers, RESUME, then
	 * the MARK again. */
	ck_assert_int_eq(call(fk, DM_ULOG_MARK_REGION, &(uint64_t){7}, 8, &r), 0);
	ck_assert_uint_eq(r.data_size, 0);
	pthread_join(helper, NULL);
	ck_assert(harness_wait_ready(bridge_pid, ready));
	fake_kernel_get_counts(fk, &c);
	ck_assert_uint_eq(c.reconnects, 1);

	/* the log lived through it: old marks and the new one hold their regions dirty */
	expect_flag(fk, DM_ULOG_IS_CLEAN, 5, S64_0);
	expect_flag(fk, DM_ULOG_IS_CLEAN, 6, S64_0);
	expect_flag(fk, DM_ULOG_IS_CLEAN, 7, S64_0);
	expect_flag(fk, DM_ULOG_IS_CLEAN, 8, S64_1);
	ck_assert_int_eq(call(fk, DM_ULOG_CLEAR_REGION, (uint64_t[]){5, 6, 7}, 24, &r), 0);
	ck_assert_int_eq(call(fk, DM_ULOG_FLUSH, NULL, 0, &r), 0);
	expect_flag(fk, DM_ULOG_IS_CLEAN, 7, S64_1);
	fake_kernel_free(fk);
	ck_assert_int_eq(stop_bridge(SIGTERM), 0);
}
END_TEST

/* Waits (at most 5 s) until a SIGUSR1 dump shows the bridge holding a leased copy of the log,
 * which lets it answer a CLEAR before dmlogd does (early_clear_ack). */
static void wait_copy(void)
{
	for (int i = 0; i < 50; i++) {
		int before = log_count(" copies=1 leased=yes ");

		kill(bridge_pid, SIGUSR1);
		usleep(100 * 1000);
		if (log_count(" copies=1 leased=yes ") > before)
			return;
	}
	ck_abort_msg("the bridge holds no leased copy of the log (see %s)", logfile);
}

/* The start of both SIGTERM cases below: a bridge reaching dmlogd through a proxy, region 3
 * marked and flushed, the proxy then holding the bridge's bytes (blackhole), a CLEAR of region 3
 * answered early by the bridge, and SIGTERM. */
static struct tcp_proxy *sigterm_with_a_clear_held(struct fake_kernel **fkp)
{
	static struct tcp_proxy_route route;
	struct tcp_proxy_options po = {&route, 1, false, 0, 0};
	struct tcp_proxy *proxy;
	struct fake_kernel *fk;
	struct fake_kernel_reply r;
	char err[256];

	route = (struct tcp_proxy_route){0, d.port};
	proxy = tcp_proxy_new(&po, err);
	ck_assert_msg(proxy != NULL, "%s", err);
	write_ini_to(tcp_proxy_port(proxy, 0));
	start_bridge();
	*fkp = fk = kernel();
	ck_assert_int_eq(call(fk, DM_ULOG_CTR, ARGS, strlen(ARGS), &r), 0);
	ck_assert_int_eq(call(fk, DM_ULOG_GET_REGION_SIZE, NULL, 0, &r), 0);
	ck_assert_int_eq(call(fk, DM_ULOG_RESUME, NULL, 0, &r), 0);
	ck_assert_int_eq(call(fk, DM_ULOG_MARK_REGION, &(uint64_t){3}, 8, &r), 0);
	ck_assert_int_eq(call(fk, DM_ULOG_FLUSH, NULL, 0, &r), 0);
	expect_flag(fk, DM_ULOG_IS_CLEAN, 3, S64_0);
	wait_copy();
	ck_assert_int_eq(tcp_proxy_set(proxy, 0, TCP_PROXY_UP, TCP_PROXY_BLACKHOLE, 0), 0);
	/* Answered although nothing reaches dmlogd: answered early. */
	ck_assert_int_eq(call(fk, DM_ULOG_CLEAR_REGION, &(uint64_t){3}, 8, &r), 0);
	ck_assert_int_eq(kill(bridge_pid, SIGTERM), 0);
	return proxy;
}

/* After a SIGTERM case: a new bridge, straight to dmlogd; the kernel reconnects through it and
 * reads region 3's IS_CLEAN (want). */
static void region_3_through_a_new_bridge(struct fake_kernel *fk, const uint8_t *want)
{
	unlink(ready);
	write_ini();
	start_bridge();
	expect_flag(fk, DM_ULOG_IS_CLEAN, 3, want);
	fake_kernel_free(fk);
	ck_assert_int_eq(stop_bridge(SIGTERM), 0);
}

/* SIGTERM while a CLEAR the kernel was answered for has not reached dmlogd: the bridge waits
 * for it (at most 2 s) before it exits, so its region does not stay dirty. The proxy passes
 * again 300 ms after the signal; a bridge that exited at once would have the held CLEAR thrown
 * away with its connection, and the region would read dirty afterwards. */
START_TEST(sigterm_waits_for_the_clears_answered_early)
{
	struct fake_kernel *fk;
	struct tcp_proxy *proxy = sigterm_with_a_clear_held(&fk);

	usleep(300 * 1000);
	ck_assert_int_eq(waitpid(bridge_pid, NULL, WNOHANG), 0); /* still waiting for it */
	ck_assert_int_eq(tcp_proxy_set(proxy, 0, TCP_PROXY_UP, TCP_PROXY_PASS, 0), 0);
	ck_assert_int_eq(stop_bridge(0), 0);
	ck_assert_int_eq(log_count("stopping: waiting up to 2000 ms for 1 clear(s)"), 1);
	ck_assert_int_eq(log_count("did not reach dmlogd"), 0);
	region_3_through_a_new_bridge(fk, S64_1);
	tcp_proxy_free(proxy);
}
END_TEST

/* The same, but dmlogd stays out of reach: the bridge gives up after 2 s, says so, exits 0, and
 * the clear is lost the safe way: region 3 reads dirty (a resync), never clean. */
START_TEST(sigterm_gives_up_on_held_clears_after_two_seconds)
{
	struct fake_kernel *fk;
	struct tcp_proxy *proxy = sigterm_with_a_clear_held(&fk);
	struct timespec t0, t1;
	double s;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(stop_bridge(0), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(s > 1.5 && s < 6.0, "the bridge exited %.2f s after SIGTERM", s);
	ck_assert_int_eq(log_count("1 clear(s) answered to the kernel did not reach dmlogd"), 1);
	tcp_proxy_free(proxy); /* its held bytes go with it */
	region_3_through_a_new_bridge(fk, S64_0);
}
END_TEST

START_TEST(readiness_is_reported_to_systemd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char notify[340], buf[1024];
	const char *extra[] = {NULL};
	struct timeval tv = {10, 0};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	snprintf(notify, sizeof(notify), "%s/notify", dir);
	ck_assert_uint_lt(strlen(notify), sizeof(sa.sun_path));
	memcpy(sa.sun_path, notify, strlen(notify) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	write_ini();
	bridge_pid = spawn_bridge(extra, notify);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strstr(buf, "READY=1") != NULL, "%s", buf);
	/* the socket is there by then: a fake kernel connects at once */
	fake_kernel_free(kernel());
	ck_assert_int_eq(stop_bridge(SIGTERM), 0);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strstr(buf, "STOPPING=1") != NULL, "%s", buf);
	close(fd);
}
END_TEST

START_TEST(failed_starts_have_their_exit_status)
{
	char cert[400], sockarg[400];
	const char *help[] = {"--help", NULL};
	const char *bogus[] = {"--bogus=1", NULL};
	const char *check[] = {"--check-config", NULL};
	const char *bad_cert[] = {cert, NULL};
	const char *bad_transport[] = {sockarg, NULL};
	const char *peer_cert[] = {cert, "--check-config", NULL};
	int fd;

	write_ini();
	ck_assert_int_eq(run_bridge(help), 0);
	ck_assert_int_eq(run_bridge(bogus), 2);
	ck_assert_int_eq(run_bridge(check), 0);
	snprintf(cert, sizeof(cert), "--cert-file=%s/missing.crt", certs);
	ck_assert_int_eq(run_bridge(bad_cert), 3);
	snprintf(cert, sizeof(cert), "--cert-file=%s/peer-dmlogd1.crt", certs);
	ck_assert_int_eq(run_bridge(peer_cert), 1);
	snprintf(sockarg, sizeof(sockarg), "--transport=dgram:%s/plain-file", dir);
	fd = open(sockarg + strlen("--transport=dgram:"), O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(run_bridge(bad_transport), 4);
	ck_assert_int_ge(log_count("cannot start: dgram:"), 1);
}
END_TEST

static Suite *bridge_suite(void)
{
	Suite *s = suite_create("dmlog-bridge");
	TCase *tc = testmain_tcase(s, "bridge", setup, teardown, 120);

	tcase_add_test(tc, mirror_life_through_the_bridge_binary);
	tcase_add_test(tc, killed_bridge_is_replaced_through_the_kernels_reconnect_loop);
	tcase_add_test(tc, sigterm_waits_for_the_clears_answered_early);
	tcase_add_test(tc, sigterm_gives_up_on_held_clears_after_two_seconds);
	tcase_add_test(tc, readiness_is_reported_to_systemd);
	tcase_add_test(tc, failed_starts_have_their_exit_status);
	return s;
}

int main(void)
{
	return testmain_run(bridge_suite());
}
