/* memsnap.c: bench_memsnap, the engine's memory per region and its snapshot and restore times
 * on one big log, measured on the engine API directly (no server, no Raft, no disk).
 *
 * Builds one clustered-core log of 2^bits regions (default 2^28: a 128 TiB mirror of 512 KiB
 * regions) opened `nosync`, so that both bitmaps are written through and every page of them is
 * resident; then makes half of the regions out of sync in runs of `run` regions (alternating
 * runs, SET_REGION_SYNC(r, 0) region by region as the kernel reports them) and puts `marks`
 * marks of two nodes on scattered regions. Measured:
 *   - the engine's resident memory: VmRSS of this process after the CTR and after the pattern,
 *     minus VmRSS before the CTR, in bits per region;
 *   - engine_snapshot() and engine_restore() of that state, `reps` times each (median and
 *     max), the snapshot's size, and a check that the restored state snapshots to the very same
 *     bytes.
 * Prints one line of key=value pairs.
 *
 * Usage: bench_memsnap [bits=28] [run=4096] [marks=10000] [reps=3] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "engine.h"
#include "stats.h"

#define MEMSNAP_UUID "LVM-bench-memsnap-0123456789abcdef"

/* A field of /proc/self/status in bytes ("VmRSS", "VmHWM"), 0 if missing. */
static unsigned long long memsnap_status(const char *field)
{
	char line[256];
	unsigned long long kb = 0;
	size_t n = strlen(field);
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			kb = strtoull(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return kb * 1024;
}

static int memsnap_apply(struct engine *e, struct engine_req *req, const char *what)
{
	struct engine_res res;

	engine_apply(e, req, &res);
	if (res.error != 0) {
		fprintf(stderr, "bench_memsnap: %s: %d %s\n", what, res.error, res.errmsg);
		return -1;
	}
	return 0;
}

static int memsnap_open(struct engine *e, const char *node, uint64_t regions)
{
	struct engine_req req;
	char args[128];

	memset(&req, 0, sizeof(req));
	req.node = node;
	req.uuid = MEMSNAP_UUID;
	req.luid = 1;
	req.version = 3;
	snprintf(args, sizeof(args), "%llu clustered-core 1024 nosync",
		 (unsigned long long)(regions * 1024));
	req.args = args;
	req.args_len = strlen(args);
	req.op = ENGINE_CTR;
	if (memsnap_apply(e, &req, "CTR") != 0)
		return -1;
	req.op = ENGINE_RESUME;
	return memsnap_apply(e, &req, "RESUME");
}

int main(int argc, char **argv)
{
	int bits = atoi(agent_arg(argc - 1, argv + 1, "bits", "28"));
	uint64_t run = strtoull(agent_arg(argc - 1, argv + 1, "run", "4096"), NULL, 0);
	uint64_t nmarks = strtoull(agent_arg(argc - 1, argv + 1, "marks", "10000"), NULL, 0);
	int reps = atoi(agent_arg(argc - 1, argv + 1, "reps", "3"));
	uint64_t regions, out_of_sync = 0;
	unsigned long long rss0, rss_ctr, rss_pattern, hwm;
	struct stats snap = {0}, rest = {0};
	struct engine_req req;
	struct engine *e;
	uint8_t *buf = NULL;
	size_t len = 0;
	double t, ctr_ms, pattern_s;
	int same = 1;

	if (bits < 10 || bits > 31 || run < 1 || reps < 1 || reps > 20) {
		fprintf(stderr, "usage: bench_memsnap [bits=28] [run=4096] [marks=10000] [reps=3]\n");
		return 2;
	}
	regions = UINT64_C(1) << bits;
	e = engine_new();
	if (!e)
		return 1;
	rss0 = memsnap_status("VmRSS");
	t = stats_now_us();
	if (memsnap_open(e, "node1", regions) != 0 || memsnap_open(e, "node2", regions) != 0)
		return 1;
	ctr_ms = (stats_now_us() - t) / 1e3;
	rss_ctr = memsnap_status("VmRSS");

	memset(&req, 0, sizeof(req));
	req.node = "node1";
	req.uuid = MEMSNAP_UUID;
	req.luid = 1;
	req.version = 3;
	t = stats_now_us();
	req.op = ENGINE_SET_REGION_SYNC;
	req.in_sync = false;
	for (uint64_t r = 0; r < regions; r++) {
		struct engine_res res;

		if ((r / run) % 2 == 0)
			continue;
		req.region = r;
		engine_apply(e, &req, &res);
		if (res.error != 0) {
			fprintf(stderr, "bench_memsnap: SET_REGION_SYNC %llu: %s\n",
				(unsigned long long)r, res.errmsg);
			return 1;
		}
		out_of_sync++;
	}
	req.op = ENGINE_MARK_REGION;
	req.nregions = 1;
	for (uint64_t i = 0; i < nmarks; i++) {
		req.node = i % 2 ? "node2" : "node1";
		req.regions[0] = (i * UINT64_C(2654435761)) % regions;
		if (memsnap_apply(e, &req, "MARK_REGION") != 0)
			return 1;
	}
	pattern_s = (stats_now_us() - t) / 1e6;
	rss_pattern = memsnap_status("VmRSS");

	for (int i = 0; i < reps; i++) {
		uint8_t *b2 = NULL;
		size_t len2 = 0;
		char err[256];
		struct engine *r;

		free(buf);
		t = stats_now_us();
		if (engine_snapshot(e, &buf, &len) != 0) {
			fprintf(stderr, "bench_memsnap: engine_snapshot failed\n");
			return 1;
		}
		stats_add(&snap, (stats_now_us() - t) / 1e3);
		t = stats_now_us();
		r = engine_restore(buf, len, err, sizeof(err));
		stats_add(&rest, (stats_now_us() - t) / 1e3);
		if (!r) {
			fprintf(stderr, "bench_memsnap: engine_restore: %s\n", err);
			return 1;
		}
		if (i == 0) {
			if (engine_snapshot(r, &b2, &len2) != 0 || len2 != len || memcmp(b2, buf, len) != 0)
				same = 0;
			free(b2);
		}
		engine_free(r);
	}
	hwm = memsnap_status("VmHWM");
	printf("memsnap regions=%llu out_of_sync=%llu marks=%llu run=%llu ctr_ms=%.1f "
	       "rss_ctr_bytes=%llu rss_pattern_bytes=%llu bits_per_region=%.3f pattern_s=%.1f "
	       "snapshot_bytes=%zu snapshot_ms_p50=%.1f snapshot_ms_max=%.1f restore_ms_p50=%.1f "
	       "restore_ms_max=%.1f restored_identical=%s hwm_bytes=%llu\n",
	       (unsigned long long)regions, (unsigned long long)out_of_sync,
	       (unsigned long long)nmarks, (unsigned long long)run, ctr_ms, rss_ctr - rss0,
	       rss_pattern - rss0, (double)(rss_pattern - rss0) * 8 / (double)regions, pattern_s,
	       len, stats_pct(&snap, 0.5), stats_pct(&snap, 1.0), stats_pct(&rest, 0.5),
	       stats_pct(&rest, 1.0), same ? "yes" : "NO", hwm);
	free(buf);
	engine_free(e);
	stats_free(&snap);
	stats_free(&rest);
	return same ? 0 : 1;
}
