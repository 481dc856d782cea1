/* markflush.c: MARK+FLUSH round trips against dmlogd, next to an fdatasync loop.
 *
 * Starts its own dmlogd (real TLS on 127.0.0.1, state in a temporary directory) and measures, in
 * one run and on the same disk, interleaved in rounds so that drift hits every series alike:
 *   fsync     one 4 KiB write + fdatasync in dmlogd's state directory (the floor of a durable
 *             acknowledgement)
 *   mark+flush   MARK_REGION then FLUSH, two round trips (kernels without integrated flush)
 *   iflush    FLUSH carrying the mark (integrated flush), one round trip
 *   in_sync   IN_SYNC, a read answered from applied state (no commit)
 * and prints median and p99 of each with the ratio to the fsync loop.
 *
 * With -p 3 (or -p 5) it also starts a replicated group of that many peers (each its own state
 * directory on the same disk, peer traffic over mutual TLS) next to the standalone dmlogd, runs
 * the same three operations against the group's leader in the same rounds, and adds the ratio
 * of each group figure to the standalone one.
 *
 * Usage: markflush [-n ROUNDS] [-r PER_ROUND] [-p PEERS]   (default 10 rounds of 200, -p 1)
 */
#include <fcntl.h>
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

#define UUID "LVM-bench-markflush-0123456789abcdef"
#define MAXPEERS 5

struct series {
	const char *name;
	double *v;
	size_t n;
};

static double pct(struct series *s, double p)
{
	size_t i = (size_t)(p * (double)(s->n - 1) + 0.5);

	return s->v[i];
}

static void must(Dmlog__ServerMessage *r, const char *what)
{
	if (!r || r->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR ||
	    r->body_case == DMLOG__SERVER_MESSAGE__BODY_NOT_LEADER) {
		fprintf(stderr, "markflush: %s failed%s%s\n", what, r ? ": " : "",
			r && r->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR ? r->error->message
			: r ? "not leader" : "");
		exit(1);
	}
	dmlog__server_message__free_unpacked(r, NULL);
}

/* A connection to one dmlogd (the leader of a group) with its own request ids. */
struct target {
	struct rawconn c;
	uint64_t id;
	struct op o;
};

static char certs[300];

static int open_as_node(struct target *t, int port)
{
	if (rawconn_open_as(&t->c, port, certs, "node-node1") != 0 ||
	    rawconn_hello(&t->c, 1) != 0) {
		rawconn_close(&t->c);
		return -1;
	}
	return 0;
}

/* Opens the log on the dmlogd at one of ports (following NotLeader) within 30 s. */
static void target_open(struct target *t, const int *ports, int n, uint64_t luid)
{
	int at = 0;

	memset(t, 0, sizeof(*t));
	t->id = 10;
	t->o.uuid = UUID;
	t->o.luid = luid;
	for (int tries = 0; tries < 300; tries++) {
		Dmlog__ServerMessage *r;

		if (open_as_node(t, ports[at]) != 0) {
			at = (at + 1) % n;
			usleep(100000);
			continue;
		}
		t->o.kind = DMLOG__CLIENT_MESSAGE__BODY_CTR;
		t->o.args = "1048576 clustered-core 256 nosync";
		r = op_call(&t->c, t->id, &t->o);
		if (r && r->body_case == DMLOG__SERVER_MESSAGE__BODY_NOT_LEADER) {
			const char *colon = strrchr(r->not_leader->leader_address, ':');
			int port = colon ? atoi(colon + 1) : 0;

			for (int i = 0; i < n; i++)
				if (ports[i] == port)
					at = i;
			if (!port)
				usleep(100000);
			dmlog__server_message__free_unpacked(r, NULL);
			rawconn_close(&t->c);
			continue;
		}
		t->id++;
		must(r, "CTR");
		t->o.kind = DMLOG__CLIENT_MESSAGE__BODY_RESUME;
		must(op_call(&t->c, t->id++, &t->o), "RESUME");
		return;
	}
	fprintf(stderr, "markflush: no leader answered\n");
	exit(1);
}

/* One round of the three operations, per times each, into s[0..2]. */
static void target_round(struct target *t, int per, struct series *s)
{
	struct op *o = &t->o;

	for (int i = 0; i < per; i++) {
		double t0 = stats_now_us();

		o->kind = DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION;
		o->n = 1;
		o->regions[0] = (uint64_t)i;
		must(op_call(&t->c, t->id++, o), "MARK");
		o->kind = DMLOG__CLIENT_MESSAGE__BODY_FLUSH;
		o->n = 0;
		must(op_call(&t->c, t->id++, o), "FLUSH");
		s[0].v[s[0].n++] = stats_now_us() - t0;
		o->kind = DMLOG__CLIENT_MESSAGE__BODY_CLEAR_REGION;
		o->n = 1;
		must(op_call(&t->c, t->id++, o), "CLEAR");
	}
	for (int i = 0; i < per; i++) {
		double t0 = stats_now_us();

		o->kind = DMLOG__CLIENT_MESSAGE__BODY_FLUSH;
		o->n = 1;
		o->regions[0] = (uint64_t)i;
		must(op_call(&t->c, t->id++, o), "FLUSH(mark)");
		s[1].v[s[1].n++] = stats_now_us() - t0;
		o->kind = DMLOG__CLIENT_MESSAGE__BODY_CLEAR_REGION;
		must(op_call(&t->c, t->id++, o), "CLEAR");
	}
	for (int i = 0; i < per; i++) {
		double t0 = stats_now_us();

		o->kind = DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC;
		o->region = (uint64_t)i;
		must(op_call(&t->c, t->id++, o), "IN_SYNC");
		s[2].v[s[2].n++] = stats_now_us() - t0;
	}
}

/* Starts peers dmlogd1..n as one group (state dirs under dir). */
static void group_start(struct group_peer *g, int n, const char *dir)
{
	const char *argv[8];

	group_init(g, n, dir);
	for (int i = 0; i < n; i++) {
		group_args(g, i, n, certs, NULL);
		snprintf(g[i].arg[5], sizeof(g[i].arg[5]), "--log-level=notice");
		for (int k = 0; k < 6; k++)
			argv[k] = g[i].arg[k];
		argv[6] = NULL;
		if (dmlogd_start(&g[i].d, certs, g[i].state, argv) != 0) {
			fprintf(stderr, "markflush: peer %d did not start\n", i + 1);
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	int rounds = 10, per = 200, npeers = 1, opt, ports[MAXPEERS];
	char dir[256], state[300], path[400];
	struct dmlogd d = {0};
	struct group_peer g[MAXPEERS];
	struct target solo, group;
	static char block[4096];
	struct series s[7] = {{"fsync (write 4 KiB + fdatasync)", 0, 0},
			      {"MARK + FLUSH (2 round trips)", 0, 0},
			      {"FLUSH with mark (integrated)", 0, 0},
			      {"IN_SYNC (read)", 0, 0},
			      {"group: MARK + FLUSH", 0, 0},
			      {"group: FLUSH with mark", 0, 0},
			      {"group: IN_SYNC (read)", 0, 0}};
	int fd, nseries;

	while ((opt = getopt(argc, argv, "n:r:p:")) != -1) {
		if (opt == 'n')
			rounds = atoi(optarg);
		else if (opt == 'r')
			per = atoi(optarg);
		else if (opt == 'p')
			npeers = atoi(optarg);
		else {
			fprintf(stderr, "usage: %s [-n ROUNDS] [-r PER_ROUND] [-p 1|3|5]\n", argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || per < 1 || per > 4000 || (npeers != 1 && npeers != 3 && npeers != 5))
		return 2;
	nseries = npeers > 1 ? 7 : 4;
	signal(SIGPIPE, SIG_IGN);
	memset(g, 0, sizeof(g));
	for (int i = 0; i < nseries; i++)
		s[i].v = calloc((size_t)(rounds * per), sizeof(double));
	harness_tmpdir(dir, sizeof(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	mkdir(state, 0700);
	harness_certs(certs);
	if (npeers > 1 && group_certs(certs, MAXPEERS) != 0) {
		fprintf(stderr, "markflush: peer certificates failed\n");
		return 1;
	}
	if (dmlogd_start(&d, certs, state, (const char *const[]){"--log-level=notice", NULL}) != 0) {
		fprintf(stderr, "markflush: dmlogd did not start\n");
		return 1;
	}
	ports[0] = d.port;
	target_open(&solo, ports, 1, 1);
	if (npeers > 1) {
		group_start(g, npeers, dir);
		for (int i = 0; i < npeers; i++)
			ports[i] = g[i].d.port;
		target_open(&group, ports, npeers, 2);
	}

	snprintf(path, sizeof(path), "%s/fsync-probe", state);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	for (int round = 0; round < rounds; round++) {
		for (int i = 0; i < per; i++) {
			double t = stats_now_us();

			if (pwrite(fd, block, sizeof(block), (off_t)(i % 64) * 4096) != (ssize_t)sizeof(block) ||
			    fdatasync(fd) != 0) {
				perror("fsync loop");
				return 1;
			}
			s[0].v[s[0].n++] = stats_now_us() - t;
		}
		target_round(&solo, per, &s[1]);
		if (npeers > 1)
			target_round(&group, per, &s[4]);
	}
	close(fd);
	rawconn_close(&solo.c);
	dmlogd_stop(&d, SIGTERM);
	if (npeers > 1) {
		rawconn_close(&group.c);
		for (int i = 0; i < npeers; i++)
			dmlogd_stop(&g[i].d, SIGTERM);
	}
	harness_rmdir(dir);

	for (int i = 0; i < nseries; i++)
		qsort(s[i].v, s[i].n, sizeof(double), stats_cmp);
	printf("markflush: %d rounds x %d, standalone dmlogd (1-voter raft)%s, 127.0.0.1, TLS 1.3\n",
	       rounds, per, npeers > 1 ? (npeers == 3 ? " and a 3-peer group" : " and a 5-peer group")
				       : "");
	printf("%-34s %10s %10s %10s %10s", "operation", "p50 us", "p99 us", "p50/fsync", "p99/fsync");
	if (npeers > 1)
		printf(" %10s %10s", "p50/solo", "p99/solo");
	printf("\n");
	for (int i = 0; i < nseries; i++) {
		printf("%-34s %10.1f %10.1f %10.2f %10.2f", s[i].name, pct(&s[i], 0.5), pct(&s[i], 0.99),
		       pct(&s[i], 0.5) / pct(&s[0], 0.5), pct(&s[i], 0.99) / pct(&s[0], 0.99));
		if (npeers > 1 && i >= 4)
			printf(" %10.2f %10.2f", pct(&s[i], 0.5) / pct(&s[i - 3], 0.5),
			       pct(&s[i], 0.99) / pct(&s[i - 3], 0.99));
		printf("\n");
	}
	for (int i = 0; i < nseries; i++)
		free(s[i].v);
	return 0;
}
