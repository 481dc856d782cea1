/* bridge_rtt.c: round-trip latency through dmlog-bridge, as the kernel sees it.
 *
 * Starts a standalone dmlogd and a dmlog-bridge (--transport dgram:PATH) in a temporary
 * directory, then plays the kernel with the fake kernel (tests/lib/fake_kernel.h) and times,
 * interleaved in rounds so that drift hits every series alike:
 *   in_sync      IN_SYNC, one kernel round trip (a read: no commit)
 *   mark+flush   MARK_REGION then FLUSH, two kernel round trips (a fresh region each time)
 *   iflush       FLUSH carrying the mark (integrated flush), one kernel round trip
 * and, for comparison, the same IN_SYNC and integrated FLUSH straight from libdmlog's blocking
 * API (another node, no bridge, no kernel datagrams):
 *   direct in_sync, direct iflush
 * Prints median and p99 of each, in microseconds.
 *
 * Usage: bridge_rtt [-n ROUNDS] [-r PER_ROUND]   (default 10 rounds of 200: 2,000 samples)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dmlog/dmlog.h>
#include <linux/dm-log-userspace.h>

#include "fake_kernel.h"
#include "harness.h"
#include "stats.h"

#ifndef DMLOG_BRIDGE_PATH
#error "DMLOG_BRIDGE_PATH must name the dmlog-bridge binary"
#endif

#define UUID "LVM-bench-bridge-rtt-0123456789abcdef"
#define LUID UINT64_C(0xffff888000abc000)
#define ARGS "16777216 clustered-core 1024 nosync" /* 16384 regions */

enum { IN_SYNC, MARK_FLUSH, IFLUSH, DIRECT_IN_SYNC, DIRECT_IFLUSH, SERIES };

static const char *const names[SERIES] = {"in_sync", "mark+flush", "iflush", "direct in_sync",
					  "direct iflush"};

static void die(const char *what, int rc)
{
	fprintf(stderr, "bridge_rtt: %s failed: %d (%s)\n", what, rc, strerror(rc < 0 ? -rc : rc));
	exit(1);
}

/* One kernel request, with its result checked. */
static void kcall(struct fake_kernel *fk, uint32_t type, const void *data, size_t size)
{
	struct fake_kernel_req req = {type, UUID, LUID, 3, data, size};
	uint32_t seq;
	struct fake_kernel_reply r;
	int rc = fake_kernel_send(fk, &req, &seq);

	if (rc == 0)
		rc = fake_kernel_wait(fk, seq, 20000, &r);
	if (rc == 0)
		rc = fake_kernel_result(&r, fake_kernel_capacity(type, false));
	if (rc != 0)
		die("kernel request", rc);
}

static pid_t spawn_bridge(const char *dir, const char *certs, int port, const char *sock,
			  const char *ready)
{
	char a[6][512], log[600];
	const char *extra[7];
	pid_t pid;

	snprintf(a[0], sizeof(a[0]), "--servers=127.0.0.1:%d", port);
	snprintf(a[1], sizeof(a[1]), "--ca-file=%s/ca.crt", certs);
	snprintf(a[2], sizeof(a[2]), "--cert-file=%s/node-node1.crt", certs);
	snprintf(a[3], sizeof(a[3]), "--key-file=%s/node-node1.key", certs);
	snprintf(a[4], sizeof(a[4]), "--transport=dgram:%s", sock);
	snprintf(a[5], sizeof(a[5]), "--ready-file=%s", ready);
	for (int i = 0; i < 6; i++)
		extra[i] = a[i];
	extra[6] = NULL;
	snprintf(log, sizeof(log), "%s/bridge.log", dir);
	/* the settings file /dev/null: the defaults and the above */
	pid = harness_bridge_spawn(DMLOG_BRIDGE_PATH, "/dev/null", extra, NULL, log);
	if (!harness_wait_ready(pid, ready))
		die("dmlog-bridge start", -ETIMEDOUT);
	return pid;
}

int main(int argc, char **argv)
{
	int rounds = 10, per = 200, opt, rc;
	char dir[256], certs[300], state[300], sock[320], ready[320], ca[400], cert[400], key[400];
	char server[64];
	struct dmlogd d = {0};
	struct fake_kernel_options ko = {0};
	struct fake_kernel *fk;
	struct dmlog_options dopt = {0};
	struct dmlog_log_ref ref = {UUID, LUID + 1, 3};
	struct dmlog *h;
	char err[DMLOG_ERRMSG_SIZE];
	double *v[SERIES];
	size_t n[SERIES] = {0};
	uint64_t region = 1;
	pid_t bridge;

	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		if (opt == 'n')
			rounds = atoi(optarg);
		else if (opt == 'r')
			per = atoi(optarg);
		else {
			fprintf(stderr, "usage: bridge_rtt [-n ROUNDS] [-r PER_ROUND]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	for (int s = 0; s < SERIES; s++) {
		v[s] = calloc((size_t)rounds * (size_t)per, sizeof(double));
		if (v[s] == NULL)
			die("calloc", -ENOMEM);
	}
	harness_tmpdir(dir, sizeof(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(sock, sizeof(sock), "%s/kernel.sock", dir);
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	harness_certs(certs);
	mkdir(state, 0700);
	if (dmlogd_start(&d, certs, state, (const char *const[]){"--log-level=notice", NULL}) != 0)
		die("dmlogd start", -EIO);
	bridge = spawn_bridge(dir, certs, d.port, sock, ready);

	ko.path = sock;
	ko.deadline_ms = 60000;
	fk = fake_kernel_new(&ko, err);
	if (fk == NULL) {
		fprintf(stderr, "bridge_rtt: %s\n", err);
		return 1;
	}
	kcall(fk, DM_ULOG_CTR, ARGS, strlen(ARGS));
	kcall(fk, DM_ULOG_GET_REGION_SIZE, NULL, 0);
	kcall(fk, DM_ULOG_RESUME, NULL, 0);

	snprintf(server, sizeof(server), "127.0.0.1:%d", d.port);
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	snprintf(cert, sizeof(cert), "%s/node-node2.crt", certs);
	snprintf(key, sizeof(key), "%s/node-node2.key", certs);
	dopt.servers[0] = server;
	dopt.ca_file = ca;
	dopt.cert_file = cert;
	dopt.key_file = key;
	h = dmlog_new(&dopt, err);
	if (h == NULL) {
		fprintf(stderr, "bridge_rtt: %s\n", err);
		return 1;
	}
	if ((rc = dmlog_ctr(h, &ref, ARGS, false, err, sizeof(err))) != 0 ||
	    (rc = dmlog_resume(h, &ref)) != 0)
		die("direct CTR/RESUME", rc);

	/* warm-up: connections, caches, the first commits */
	for (int i = 0; i < 50; i++) {
		kcall(fk, DM_ULOG_IN_SYNC, &region, 8);
		kcall(fk, DM_ULOG_FLUSH, &region, 8);
	}
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < per; i++) {
			double t = stats_now_us();
			bool in_sync;

			region++;
			kcall(fk, DM_ULOG_IN_SYNC, &region, 8);
			v[IN_SYNC][n[IN_SYNC]++] = stats_now_us() - t;

			t = stats_now_us();
			kcall(fk, DM_ULOG_MARK_REGION, &region, 8);
			kcall(fk, DM_ULOG_FLUSH, NULL, 0);
			v[MARK_FLUSH][n[MARK_FLUSH]++] = stats_now_us() - t;

			region++;
			t = stats_now_us();
			kcall(fk, DM_ULOG_FLUSH, &region, 8);
			v[IFLUSH][n[IFLUSH]++] = stats_now_us() - t;

			t = stats_now_us();
			if ((rc = dmlog_in_sync(h, &ref, region, &in_sync)) != 0)
				die("direct IN_SYNC", rc);
			v[DIRECT_IN_SYNC][n[DIRECT_IN_SYNC]++] = stats_now_us() - t;

			region++;
			t = stats_now_us();
			if ((rc = dmlog_flush(h, &ref, &region, 1)) != 0)
				die("direct FLUSH", rc);
			v[DIRECT_IFLUSH][n[DIRECT_IFLUSH]++] = stats_now_us() - t;
		}
	}
	printf("%-16s %8s %10s %10s\n", "series", "samples", "median_us", "p99_us");
	for (int s = 0; s < SERIES; s++) {
		qsort(v[s], n[s], sizeof(double), stats_cmp);
		printf("%-16s %8zu %10.1f %10.1f\n", names[s], n[s], v[s][n[s] / 2],
		       v[s][(size_t)(0.99 * (double)(n[s] - 1) + 0.5)]);
		free(v[s]);
	}
	dmlog_free(h);
	fake_kernel_free(fk);
	kill(bridge, SIGTERM);
	waitpid(bridge, NULL, 0);
	dmlogd_stop(&d, SIGTERM);
	harness_rmdir(dir);
	return 0;
}
