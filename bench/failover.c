/* failover.c: how long a 3-peer dmlogd group takes to acknowledge a write after its leader dies.
 *
 * Starts three peers (real TLS on 127.0.0.1, each its own state directory), creates a log, and
 * then, REPEAT times: writes a few marks through the leader, kills the leader with SIGKILL and
 * measures the time from the kill to the next acknowledged MARK. The client behaves like the
 * client library: it tries the surviving peers in turn (every 2 ms), follows NotLeader to the
 * address it names, and retries with the same request id. The killed peer is restarted and
 * rejoins before the next repetition. Prints every time, then median and max.
 *
 * Usage: failover [-n REPEAT] [-e ELECTION_TIMEOUT_MS]   (default 10, 300)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "group.h"
#include "harness.h"
#include "ops.h"
#include "stats.h"

#define UUID "LVM-bench-failover-0123456789abcdef"
#define N 3

static struct group_peer g[N];
static char certs[300];

static double now_ms(void)
{
	return stats_now_us() / 1e3;
}

static void start_peer(int i)
{
	const char *argv[8];

	for (int k = 0; k < 7; k++)
		argv[k] = g[i].arg[k];
	argv[7] = NULL;
	if (dmlogd_start(&g[i].d, certs, g[i].state, argv) != 0) {
		fprintf(stderr, "failover: peer %d did not start (see %s)\n", i + 1,
			g[i].d.logfile);
		exit(1);
	}
}

struct client {
	struct rawconn c;
	bool open;
	int at;
	struct op o;
};

/* Sends the client's op with request id until it is acknowledged (any reply but NotLeader or a
 * retryable error), within 30 s; returns the reply case. */
static int call(struct client *k, uint64_t id)
{
	double deadline = now_ms() + 30000;

	while (now_ms() < deadline) {
		Dmlog__ServerMessage *r;
		int kind;

		if (!k->open) {
			if (g[k->at].d.pid <= 0 ||
			    rawconn_open_as(&k->c, g[k->at].d.port, certs, "node-node1") != 0 ||
			    rawconn_hello(&k->c, 7) != 0) {
				rawconn_close(&k->c);
				k->at = (k->at + 1) % N;
				usleep(2000);
				continue;
			}
			k->open = true;
		}
		r = op_call(&k->c, id, &k->o);
		if (!r) {
			rawconn_close(&k->c);
			k->open = false;
			k->at = (k->at + 1) % N;
			continue;
		}
		kind = r->body_case;
		if (kind == DMLOG__SERVER_MESSAGE__BODY_NOT_LEADER) {
			const char *colon = strrchr(r->not_leader->leader_address, ':');
			int port = colon ? atoi(colon + 1) : 0, to = -1;

			for (int i = 0; i < N; i++)
				if (port && g[i].d.port == port && g[i].d.pid > 0)
					to = i;
			rawconn_close(&k->c);
			k->open = false;
			k->at = to >= 0 && to != k->at ? to : (k->at + 1) % N;
			if (to < 0)
				usleep(2000);
		} else if (kind == DMLOG__SERVER_MESSAGE__BODY_ERROR &&
			   (r->error->errno_neg == -EAGAIN || r->error->errno_neg == -ESHUTDOWN ||
			    r->error->errno_neg == -EIO)) {
			usleep(2000);
		} else {
			dmlog__server_message__free_unpacked(r, NULL);
			return kind;
		}
		dmlog__server_message__free_unpacked(r, NULL);
	}
	fprintf(stderr, "failover: no acknowledgement within 30 s\n");
	exit(1);
}

int main(int argc, char **argv)
{
	int repeat = 10, election = 300, opt;
	char dir[256];
	double *t;
	struct client k;
	uint64_t id = 10;

	while ((opt = getopt(argc, argv, "n:e:")) != -1) {
		if (opt == 'n')
			repeat = atoi(optarg);
		else if (opt == 'e')
			election = atoi(optarg);
		else {
			fprintf(stderr, "usage: %s [-n REPEAT] [-e ELECTION_TIMEOUT_MS]\n", argv[0]);
			return 2;
		}
	}
	if (repeat < 1 || repeat > 1000 || election < 50)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	t = calloc((size_t)repeat, sizeof(*t));
	harness_tmpdir(dir, sizeof(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	harness_certs(certs);
	if (!t || group_certs(certs, N) != 0)
		return 1;
	group_init(g, N, dir);
	for (int i = 0; i < N; i++) {
		group_args(g, i, N, certs, NULL);
		snprintf(g[i].arg[5], sizeof(g[i].arg[5]), "--election-timeout=%dms", election);
		snprintf(g[i].arg[6], sizeof(g[i].arg[6]), "--log-level=notice");
		start_peer(i);
	}
	memset(&k, 0, sizeof(k));
	k.o.uuid = UUID;
	k.o.luid = 1;
	k.o.kind = DMLOG__CLIENT_MESSAGE__BODY_CTR;
	k.o.args = "1048576 clustered-core 256 nosync";
	call(&k, id++);
	k.o.kind = DMLOG__CLIENT_MESSAGE__BODY_RESUME;
	call(&k, id++);
	k.o.kind = DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION;
	k.o.n = 1;
	for (int r = 0; r < repeat; r++) {
		int leader;
		double t0;

		for (int i = 0; i < 20; i++) {
			k.o.regions[0] = id % 4096;
			call(&k, id++);
		}
		leader = k.at; /* the last acknowledgement came from the leader */
		t0 = now_ms();
		kill(g[leader].d.pid, SIGKILL);
		dmlogd_stop(&g[leader].d, SIGKILL); /* reaps it */
		k.o.regions[0] = id % 4096;
		call(&k, id++);
		t[r] = now_ms() - t0;
		printf("failover %2d: peer %d killed, next write acknowledged by peer %d after %.1f ms\n",
		       r + 1, leader + 1, k.at + 1, t[r]);
		fflush(stdout);
		start_peer(leader);
		usleep(1500 * 1000); /* it rejoins and catches up */
	}
	for (int i = 0; i < N; i++)
		dmlogd_stop(&g[i].d, SIGTERM);
	harness_rmdir(dir);
	qsort(t, (size_t)repeat, sizeof(*t), stats_cmp);
	printf("failover: %d kills of the leader, election timeout %d ms: median %.1f ms, max %.1f ms\n",
	       repeat, election, t[repeat / 2], t[repeat - 1]);
	free(t);
	return 0;
}
