/* insync_local.c: IN_SYNC answered by dmlog-bridge from its dmlogd-fed copy, next to the same
 * IN_SYNC answered by dmlogd (a round trip), as the kernel sees them.
 *
 * Starts a standalone dmlogd and a dmlog-bridge (--transport dgram:PATH) in a temporary
 * directory and plays the kernel with the fake kernel over the bridge's datagram socket. Two
 * mirrors: one resumed (the bridge holds a copy: local answers) and one only constructed (no
 * copy: every IN_SYNC goes to dmlogd, the path a bridge without local reads takes). Rounds
 * alternate between them so that drift hits both alike. Prints, in microseconds, median and
 * p99 of the kernel-side round trip of each, their ratio, and the bridge's own time for a
 * local answer (datagram in to reply sent, from its SIGUSR1 dump), plus how many were local.
 *
 * Usage: insync_local [-n ROUNDS] [-r PER_ROUND]   (default 20 rounds of 1000 each)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/dm-log-userspace.h>

#include "fake_kernel.h"
#include "harness.h"
#include "stats.h"

#ifndef DMLOG_BRIDGE_PATH
#error "DMLOG_BRIDGE_PATH must name the dmlog-bridge binary"
#endif

#define UUID_LOCAL "LVM-bench-insync-local-0123456789"
#define UUID_REMOTE "LVM-bench-insync-remote-0123456789"
#define LUID UINT64_C(0xffff888000def000)
#define ARGS "131072 clustered-core 1024 nosync" /* 64 MiB, 128 regions */

static char dir[256], certs[300], state[300], sock[320], ready[320], ini[320], logfile[320];
static struct dmlogd d;
static pid_t bridge;

static void die(const char *what)
{
	fprintf(stderr, "insync_local: %s\n", what);
	if (bridge > 0)
		kill(bridge, SIGKILL);
	if (d.pid > 0)
		dmlogd_stop(&d, SIGKILL);
	exit(1);
}

static pid_t start_bridge(void)
{
	char servers[32];
	pid_t pid;

	snprintf(servers, sizeof(servers), "127.0.0.1:%d", d.port);
	if (harness_bridge_ini(ini, servers, certs, "node1", sock, "log_level = notice\n") != 0)
		die("cannot write the bridge settings");
	pid = harness_bridge_start(DMLOG_BRIDGE_PATH, ini, ready, logfile);
	if (!harness_wait_ready(pid, ready))
		die("the bridge did not become ready");
	return pid;
}

/* One kernel request; the reply's first data byte (or -1). */
static int request(struct fake_kernel *fk, uint32_t type, const char *uuid, const void *data,
		   size_t size)
{
	struct fake_kernel_req req = {type, uuid, LUID, 3, data, size};
	struct fake_kernel_reply r;
	uint32_t seq;

	if (fake_kernel_send(fk, &req, &seq) != 0 || fake_kernel_wait(fk, seq, 20000, &r) != 0 ||
	    r.error != 0)
		return -1;
	return r.data_size ? fake_kernel_data(&r)[0] : 0;
}

/* The last "state dump: local_reads" line of the bridge after a SIGUSR1. */
static void bridge_dump(char *out, size_t len)
{
	char line[4096];
	FILE *f;

	kill(bridge, SIGUSR1);
	usleep(300 * 1000);
	out[0] = '\0';
	f = fopen(logfile, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "state dump: local_reads"))
			snprintf(out, len, "%s", line);
	fclose(f);
}

static unsigned long long field(const char *line, const char *name)
{
	const char *p = strstr(line, name);

	return p ? strtoull(p + strlen(name), NULL, 10) : 0;
}

int main(int argc, char **argv)
{
	int rounds = 20, per = 1000, opt;
	struct fake_kernel_options ko = {0};
	struct fake_kernel *fk;
	struct stats local = {0}, remote = {0};
	char err[256], dump[4096];
	double l50, l99, r50, r99;

	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		if (opt == 'n')
			rounds = atoi(optarg);
		else if (opt == 'r')
			per = atoi(optarg);
		else
			die("usage: insync_local [-n ROUNDS] [-r PER_ROUND]");
	}
	signal(SIGPIPE, SIG_IGN);
	harness_tmpdir(dir, sizeof(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(sock, sizeof(sock), "%s/kernel.sock", dir);
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	snprintf(ini, sizeof(ini), "%s/bridge.ini", dir);
	snprintf(logfile, sizeof(logfile), "%s/bridge.log", dir);
	harness_certs(certs);
	mkdir(state, 0700);
	if (dmlogd_start(&d, certs, state, (const char *const[]){"--log-level=notice", NULL}) != 0)
		die("dmlogd did not start");
	bridge = start_bridge();
	ko.path = sock;
	ko.resend_ms = 15000;
	fk = fake_kernel_new(&ko, err);
	if (!fk)
		die(err);
	if (request(fk, DM_ULOG_CTR, UUID_LOCAL, ARGS, strlen(ARGS)) < 0 ||
	    request(fk, DM_ULOG_RESUME, UUID_LOCAL, NULL, 0) < 0 ||
	    request(fk, DM_ULOG_CTR, UUID_REMOTE, ARGS, strlen(ARGS)) < 0)
		die("cannot open the mirrors");
	usleep(300 * 1000); /* the copy of the resumed one arrives */
	for (int round = 0; round < rounds; round++) {
		for (int which = 0; which < 2; which++) {
			const char *uuid = which ? UUID_REMOTE : UUID_LOCAL;

			for (int i = 0; i < per; i++) {
				uint64_t region = (uint64_t)(i % 128);
				double t0 = stats_now_us();

				if (request(fk, DM_ULOG_IN_SYNC, uuid, &region, 8) != 1)
					die("IN_SYNC failed");
				stats_add(which ? &remote : &local, stats_now_us() - t0);
			}
		}
	}
	bridge_dump(dump, sizeof(dump));
	l50 = stats_pct(&local, 0.5);
	l99 = stats_pct(&local, 0.99);
	r50 = stats_pct(&remote, 0.5);
	r99 = stats_pct(&remote, 0.99);
	printf("IN_SYNC through dmlog-bridge, kernel side (fake kernel over dgram), %d x %d each\n",
	       rounds, per);
	printf("  local  (bridge's copy)   median %7.1f us   p99 %7.1f us\n", l50, l99);
	printf("  remote (dmlogd answers)  median %7.1f us   p99 %7.1f us\n", r50, r99);
	printf("  ratio remote/local       median %7.1fx    p99 %7.1fx\n", r50 / l50, r99 / l99);
	printf("inside the bridge, datagram in to reply sent (local answers): median %.1f us, "
	       "p99 %.1f us (100 ns buckets)\n",
	       field(dump, "local_p50_ns=") / 1000.0, field(dump, "local_p99_ns=") / 1000.0);
	printf("answered locally %llu, by dmlogd %llu (the remote mirror's and the warm-up)\n",
	       field(dump, "local="), field(dump, "remote="));
	fake_kernel_free(fk);
	kill(bridge, SIGTERM);
	waitpid(bridge, NULL, 0);
	dmlogd_stop(&d, SIGTERM);
	harness_rmdir(dir);
	stats_free(&local);
	stats_free(&remote);
	return 0;
}
