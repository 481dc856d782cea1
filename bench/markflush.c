/* markflush.c: MARK+FLUSH round trips against a standalone dmlogd, next to an fdatasync loop.
 *
 * Starts its own dmlogd (real TLS on 127.0.0.1, state in a temporary directory) and measures, in
 * one run and on the same disk, interleaved in rounds so that drift hits both alike:
 *   fsync     one 4 KiB write + fdatasync in dmlogd's state directory (the floor of a durable
 *             acknowledgement)
 *   mark+flush   MARK_REGION then FLUSH, two round trips (kernels without integrated flush)
 *   iflush    FLUSH carrying the mark (integrated flush), one round trip
 *   in_sync   IN_SYNC, a read answered from applied state (no commit)
 * and prints median and p99 of each with the ratio to the fsync loop.
 *
 * Usage: markflush [-n ROUNDS] [-r PER_ROUND]   (default 10 rounds of 200)
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "ops.h"

#define UUID "LVM-bench-markflush-0123456789abcdef"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

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
	if (!r || r->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR) {
		fprintf(stderr, "markflush: %s failed%s%s\n", what, r ? ": " : "",
			r ? r->error->message : "");
		exit(1);
	}
	dmlog__server_message__free_unpacked(r, NULL);
}

int main(int argc, char **argv)
{
	int rounds = 10, per = 200, opt;
	char dir[256], certs[300], state[300], path[400], ca[400], cert[400], key[400];
	struct dmlogd d = {0};
	struct rawconn c;
	uint64_t id = 10;
	struct op o;
	static char block[4096];
	struct series s[4] = {{"fsync (write 4 KiB + fdatasync)", 0, 0}, {"MARK + FLUSH (2 round trips)", 0, 0},
			      {"FLUSH with mark (integrated)", 0, 0}, {"IN_SYNC (read)", 0, 0}};
	int fd;

	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		if (opt == 'n')
			rounds = atoi(optarg);
		else if (opt == 'r')
			per = atoi(optarg);
		else {
			fprintf(stderr, "usage: %s [-n ROUNDS] [-r PER_ROUND]\n", argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || per < 1 || per > 4000)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 4; i++)
		s[i].v = calloc((size_t)(rounds * per), sizeof(double));
	harness_tmpdir(dir, sizeof(dir));
	snprintf(certs, sizeof(certs), "%s/tls", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	mkdir(state, 0700);
	harness_certs(certs);
	if (dmlogd_start(&d, certs, state, (const char *const[]){"--log-level=notice", NULL}) != 0) {
		fprintf(stderr, "markflush: dmlogd did not start\n");
		return 1;
	}
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	snprintf(cert, sizeof(cert), "%s/node-node1.crt", certs);
	snprintf(key, sizeof(key), "%s/node-node1.key", certs);
	if (rawconn_open(&c, d.port, ca, cert, key) != 0 || rawconn_hello(&c, 1) != 0) {
		fprintf(stderr, "markflush: connect: %s\n", c.err);
		return 1;
	}
	memset(&o, 0, sizeof(o));
	o.uuid = UUID;
	o.luid = 1;
	o.kind = DMLOG__CLIENT_MESSAGE__BODY_CTR;
	o.args = "1048576 clustered-core 256 nosync";
	must(op_call(&c, id++, &o), "CTR");
	o.kind = DMLOG__CLIENT_MESSAGE__BODY_RESUME;
	must(op_call(&c, id++, &o), "RESUME");

	snprintf(path, sizeof(path), "%s/fsync-probe", state);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	for (int round = 0; round < rounds; round++) {
		for (int i = 0; i < per; i++) {
			double t = now_us();

			if (pwrite(fd, block, sizeof(block), (off_t)(i % 64) * 4096) != (ssize_t)sizeof(block) ||
			    fdatasync(fd) != 0) {
				perror("fsync loop");
				return 1;
			}
			s[0].v[s[0].n++] = now_us() - t;
		}
		for (int i = 0; i < per; i++) {
			uint64_t region = (uint64_t)i;
			double t = now_us();

			o.kind = DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION;
			o.n = 1;
			o.regions[0] = region;
			must(op_call(&c, id++, &o), "MARK");
			o.kind = DMLOG__CLIENT_MESSAGE__BODY_FLUSH;
			o.n = 0;
			must(op_call(&c, id++, &o), "FLUSH");
			s[1].v[s[1].n++] = now_us() - t;
			o.kind = DMLOG__CLIENT_MESSAGE__BODY_CLEAR_REGION;
			o.n = 1;
			must(op_call(&c, id++, &o), "CLEAR");
		}
		for (int i = 0; i < per; i++) {
			double t = now_us();

			o.kind = DMLOG__CLIENT_MESSAGE__BODY_FLUSH;
			o.n = 1;
			o.regions[0] = (uint64_t)i;
			must(op_call(&c, id++, &o), "FLUSH(mark)");
			s[2].v[s[2].n++] = now_us() - t;
			o.kind = DMLOG__CLIENT_MESSAGE__BODY_CLEAR_REGION;
			must(op_call(&c, id++, &o), "CLEAR");
		}
		for (int i = 0; i < per; i++) {
			double t = now_us();

			o.kind = DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC;
			o.region = (uint64_t)i;
			must(op_call(&c, id++, &o), "IN_SYNC");
			s[3].v[s[3].n++] = now_us() - t;
		}
	}
	close(fd);
	rawconn_close(&c);
	dmlogd_stop(&d, SIGTERM);
	harness_rmdir(dir);

	for (int i = 0; i < 4; i++)
		qsort(s[i].v, s[i].n, sizeof(double), cmp);
	printf("markflush: %d rounds x %d, standalone dmlogd (1-voter raft), 127.0.0.1, TLS 1.3\n", rounds, per);
	printf("%-34s %10s %10s %10s %10s\n", "operation", "p50 us", "p99 us", "p50/fsync", "p99/fsync");
	for (int i = 0; i < 4; i++)
		printf("%-34s %10.1f %10.1f %10.2f %10.2f\n", s[i].name, pct(&s[i], 0.5), pct(&s[i], 0.99),
		       pct(&s[i], 0.5) / pct(&s[0], 0.5), pct(&s[i], 0.99) / pct(&s[0], 0.99));
	for (int i = 0; i < 4; i++)
		free(s[i].v);
	return 0;
}
