/* lat_fsync.c: the floor of a durable acknowledgement, a 4 KiB write + fdatasync loop.
 *
 * Writes 4 KiB blocks over the first 256 KiB of one file (allocated and synced before the
 * first sample, so every sample is an overwrite, like a log that reuses its blocks) in the
 * directory given, which the caller puts on the same filesystem as dmlogd's state dir.
 *
 * With peers=3 it is the floor of a 3-peer group on one machine instead: three files, three
 * threads, all three writes + fdatasyncs started together per sample (the leader's and both
 * followers' log appends of one commit, on the one disk they share here); series fsync3_2nd
 * ends when two of them are done (a majority: the commit point) and fsync3_all when all are.
 * The thread wake-ups are in the samples, as they are in a server's commit path. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "lat.h"

#define FSYNC_BLOCK 4096
#define FSYNC_BLOCKS 64
#define FSYNC_FILES 3

struct fsync_ctx;

struct fsync_file {
	struct fsync_ctx *c;
	int fd;
	char path[4096];
	double done;           /* completion time of the current sample */
	int failed;
	pthread_t thread;
};

struct fsync_ctx {
	int nfiles;
	unsigned next;
	struct fsync_file f[FSYNC_FILES];
	pthread_barrier_t start, end;
	int quit;
	char block[FSYNC_BLOCK];
};

static int fsync_one(struct fsync_file *f, unsigned i)
{
	off_t at = (off_t)(i % FSYNC_BLOCKS) * FSYNC_BLOCK;

	return pwrite(f->fd, f->c->block, FSYNC_BLOCK, at) == FSYNC_BLOCK && fdatasync(f->fd) == 0 ? 0
													  : -1;
}

static void *fsync_worker(void *arg)
{
	struct fsync_file *f = arg;

	for (;;) {
		pthread_barrier_wait(&f->c->start);
		if (f->c->quit)
			return NULL;
		f->failed = fsync_one(f, f->c->next) != 0;
		f->done = stats_now_us();
		pthread_barrier_wait(&f->c->end);
	}
}

static int fsync_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int fsync_run(void *arg, int n, struct stats *s, char *err)
{
	struct fsync_ctx *c = arg;

	for (int i = 0; i < n; i++) {
		double t0 = stats_now_us(), done[FSYNC_FILES];

		c->next++;
		c->block[0] = (char)c->next;
		if (c->nfiles == 1) {
			if (fsync_one(&c->f[0], c->next) != 0)
				goto fail;
			stats_add(&s[0], stats_now_us() - t0);
			continue;
		}
		pthread_barrier_wait(&c->start);
		pthread_barrier_wait(&c->end);
		for (int k = 0; k < c->nfiles; k++) {
			if (c->f[k].failed)
				goto fail;
			done[k] = c->f[k].done;
		}
		qsort(done, (size_t)c->nfiles, sizeof(double), fsync_cmp);
		stats_add(&s[0], done[1] - t0);
		stats_add(&s[1], done[c->nfiles - 1] - t0);
	}
	return 0;
fail:
	snprintf(err, AGENT_ERR_MAX, "write + fdatasync: %m");
	return -1;
}

int lat_fsync_main(int argc, char **argv)
{
	static struct fsync_ctx c;
	const char *dir = agent_arg(argc, argv, "dir", NULL);
	struct agent one = {1, {"fsync"}, fsync_run, &c};
	struct agent three = {2, {"fsync3_2nd", "fsync3_all"}, fsync_run, &c};
	int rc;

	if (!dir)
		return agent_fail("fsync: dir= is required");
	c.nfiles = atoi(agent_arg(argc, argv, "peers", "1")) == FSYNC_FILES ? FSYNC_FILES : 1;
	memset(c.block, 0x5a, sizeof(c.block));
	for (int k = 0; k < c.nfiles; k++) {
		struct fsync_file *f = &c.f[k];

		f->c = &c;
		snprintf(f->path, sizeof(f->path), "%s/bench-fsync-probe-%d-%d", dir, (int)getpid(), k);
		f->fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (f->fd < 0)
			return agent_fail("open %s: %m", f->path);
		for (unsigned i = 0; i < FSYNC_BLOCKS; i++)
			if (pwrite(f->fd, c.block, FSYNC_BLOCK, (off_t)i * FSYNC_BLOCK) != FSYNC_BLOCK)
				return agent_fail("fill %s: %m", f->path);
		if (fsync(f->fd) != 0)
			return agent_fail("fsync %s: %m", f->path);
	}
	if (c.nfiles > 1) {
		pthread_barrier_init(&c.start, NULL, (unsigned)c.nfiles + 1);
		pthread_barrier_init(&c.end, NULL, (unsigned)c.nfiles + 1);
		for (int k = 0; k < c.nfiles; k++)
			if (pthread_create(&c.f[k].thread, NULL, fsync_worker, &c.f[k]) != 0)
				return agent_fail("pthread_create failed");
	}
	rc = agent_serve(c.nfiles > 1 ? &three : &one);
	if (c.nfiles > 1) {
		c.quit = 1;
		pthread_barrier_wait(&c.start);
		for (int k = 0; k < c.nfiles; k++)
			pthread_join(c.f[k].thread, NULL);
	}
	for (int k = 0; k < c.nfiles; k++) {
		close(c.f[k].fd);
		unlink(c.f[k].path);
	}
	return rc;
}
