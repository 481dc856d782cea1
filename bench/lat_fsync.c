/* lat_fsync.c: the floor of a durable acknowledgement, a 4 KiB write + fdatasync loop.
 *
 * Writes 4 KiB blocks over the first 256 KiB of one file (allocated and synced before the
 * first sample, so every sample is an overwrite, like a log that reuses its blocks) in the
 * directory given, which the caller puts on the same filesystem as dmlogd's state dir. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "lat.h"

#define FSYNC_BLOCK 4096
#define FSYNC_BLOCKS 64

struct fsync_ctx {
	int fd;
	unsigned next;
	char block[FSYNC_BLOCK];
};

static int fsync_run(void *arg, int n, struct stats *s, char *err)
{
	struct fsync_ctx *c = arg;

	for (int i = 0; i < n; i++) {
		off_t at = (off_t)(c->next++ % FSYNC_BLOCKS) * FSYNC_BLOCK;
		double t0 = stats_now_us();

		c->block[0] = (char)c->next;
		if (pwrite(c->fd, c->block, FSYNC_BLOCK, at) != FSYNC_BLOCK || fdatasync(c->fd) != 0) {
			snprintf(err, AGENT_ERR_MAX, "write + fdatasync: %m");
			return -1;
		}
		stats_add(&s[0], stats_now_us() - t0);
	}
	return 0;
}

int lat_fsync_main(int argc, char **argv)
{
	static struct fsync_ctx c;
	const char *dir = agent_arg(argc, argv, "dir", NULL);
	char path[4096];
	struct agent a = {1, {"fsync"}, fsync_run, &c};
	int rc;

	if (!dir)
		return agent_fail("fsync: dir= is required");
	snprintf(path, sizeof(path), "%s/bench-fsync-probe", dir);
	c.fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (c.fd < 0)
		return agent_fail("open %s: %m", path);
	memset(c.block, 0x5a, sizeof(c.block));
	for (unsigned i = 0; i < FSYNC_BLOCKS; i++)
		if (pwrite(c.fd, c.block, FSYNC_BLOCK, (off_t)i * FSYNC_BLOCK) != FSYNC_BLOCK)
			return agent_fail("fill %s: %m", path);
	if (fsync(c.fd) != 0)
		return agent_fail("fsync %s: %m", path);
	rc = agent_serve(&a);
	close(c.fd);
	unlink(path);
	return rc;
}
