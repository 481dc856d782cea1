/* lat_bridge.c: the kernel's round trips through dmlog-bridge, timed where the kernel waits.
 *
 * Plays the kernel with the fake kernel (tests/lib/fake_kernel.h) over a running bridge's
 * dgram:PATH test transport: the same datagrams, byte for byte, as dm-log-userspace sends on
 * the connector, so the bridge does all its real work (decode, map, libdmlog call, reply
 * encoding). Series as in lat_dmlog.c: markflush (MARK_REGION then FLUSH, two kernel round
 * trips), iflush (FLUSH carrying the mark: integrated_flush) and insync. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/dm-log-userspace.h>

#include "agent.h"
#include "fake_kernel.h"
#include "lat.h"

#define LAT_BRIDGE_LUID UINT64_C(0xffff888000b3c000)
#define LAT_BRIDGE_WAIT_MS 30000

struct bridge_ctx {
	struct fake_kernel *fk;
	const char *uuid;
	uint64_t regions;
	uint64_t next;
};

/* One kernel request and the kernel's reading of its reply. 0 or a negative errno. */
static int bridge_call(struct bridge_ctx *c, uint32_t type, const void *data, size_t size,
		       int64_t *flag)
{
	struct fake_kernel_req req = {type, c->uuid, LAT_BRIDGE_LUID, 3, data, size};
	struct fake_kernel_reply r;
	uint32_t seq;
	int rc = fake_kernel_send(c->fk, &req, &seq);

	if (rc == 0)
		rc = fake_kernel_wait(c->fk, seq, LAT_BRIDGE_WAIT_MS, &r);
	if (rc == 0)
		rc = fake_kernel_result(&r, fake_kernel_capacity(type, false));
	if (rc == 0 && flag && r.data_size >= 8)
		memcpy(flag, fake_kernel_data(&r), 8);
	return rc;
}

static int bridge_run(void *arg, int n, struct stats *s, char *err)
{
	struct bridge_ctx *c = arg;
	const char *what = "";
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		uint64_t r = c->next++ % c->regions;
		double t0 = stats_now_us();

		what = "MARK_REGION";
		rc = bridge_call(c, DM_ULOG_MARK_REGION, &r, sizeof(r), NULL);
		if (rc == 0) {
			what = "FLUSH";
			rc = bridge_call(c, DM_ULOG_FLUSH, NULL, 0, NULL);
		}
		if (rc == 0) {
			stats_add(&s[0], stats_now_us() - t0);
			what = "CLEAR_REGION";
			rc = bridge_call(c, DM_ULOG_CLEAR_REGION, &r, sizeof(r), NULL);
		}
	}
	for (int i = 0; i < n && rc == 0; i++) {
		uint64_t r = c->next++ % c->regions;
		double t0 = stats_now_us();

		what = "FLUSH(mark)";
		rc = bridge_call(c, DM_ULOG_FLUSH, &r, sizeof(r), NULL);
		if (rc == 0) {
			stats_add(&s[1], stats_now_us() - t0);
			what = "CLEAR_REGION";
			rc = bridge_call(c, DM_ULOG_CLEAR_REGION, &r, sizeof(r), NULL);
		}
	}
	for (int i = 0; i < n && rc == 0; i++) {
		uint64_t r = c->next++ % c->regions;
		double t0 = stats_now_us();
		int64_t flag;

		what = "IN_SYNC";
		rc = bridge_call(c, DM_ULOG_IN_SYNC, &r, sizeof(r), &flag);
		if (rc == 0)
			stats_add(&s[2], stats_now_us() - t0);
	}
	if (rc != 0) {
		snprintf(err, AGENT_ERR_MAX, "%s through the bridge: %s", what, strerror(-rc));
		return -1;
	}
	return 0;
}

int lat_bridge_main(int argc, char **argv)
{
	static struct bridge_ctx c;
	struct agent a = {3, {"markflush", "iflush", "insync"}, bridge_run, &c};
	const char *path = agent_arg(argc, argv, "path", NULL);
	const char *args = agent_arg(argc, argv, "args", "1073741824 clustered-core 1024 nosync");
	struct fake_kernel_options o;
	char err[256];
	int rc;

	if (!path)
		return agent_fail("bridge: path= is required");
	c.uuid = agent_arg(argc, argv, "uuid", "LVM-bench-bridge-0123456789abcdef");
	c.regions = strtoull(agent_arg(argc, argv, "regions", "1048576"), NULL, 0);
	if (c.regions == 0)
		return agent_fail("regions= must be > 0");
	memset(&o, 0, sizeof(o));
	o.path = path;
	o.resend_ms = 15000;
	o.deadline_ms = 60000;
	c.fk = fake_kernel_new(&o, err);
	if (!c.fk)
		return agent_fail("fake kernel on %s: %s", path, err);
	/* the kernel's dmsetup create: CTR (no NUL), GET_REGION_SIZE, RESUME */
	rc = bridge_call(&c, DM_ULOG_CTR, args, strlen(args), NULL);
	if (rc == 0)
		rc = bridge_call(&c, DM_ULOG_GET_REGION_SIZE, NULL, 0, NULL);
	if (rc == 0)
		rc = bridge_call(&c, DM_ULOG_RESUME, NULL, 0, NULL);
	if (rc != 0) {
		fake_kernel_free(c.fk);
		return agent_fail("open log through the bridge: %s", strerror(-rc));
	}
	rc = agent_serve(&a);
	fake_kernel_free(c.fk);
	return rc;
}
