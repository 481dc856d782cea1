/* lat_dmlog.c: MARK+FLUSH, integrated FLUSH and IN_SYNC round trips through libdmlog.
 *
 * One blocking handle (dmlog.h) as one node, on one log opened with CTR + RESUME before the
 * first sample. Every sample uses a region not used by the previous few thousand, and each
 * mark is cleared again (untimed) so that the log's mark set stays small, as under a kernel
 * that clears after the data write. The servers given may be a standalone dmlogd or the peers
 * of a group: the handle follows the leader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmlog/dmlog.h>

#include "agent.h"
#include "lat.h"

#define LAT_DMLOG_ARGS_DEFAULT "1073741824 clustered-core 1024 nosync" /* 2^20 regions */

struct dmlog_ctx {
	struct dmlog *h;
	struct dmlog_log_ref log;
	uint64_t regions;
	uint64_t next;
};

/* Opens a handle from servers=, certs= and node=; NULL after reporting the failure. */
static struct dmlog *dmlog_ctx_handle(int argc, char **argv)
{
	static char servers[512], ca[4096], cert[4096], key[4096];
	const char *list = agent_arg(argc, argv, "servers", NULL);
	const char *certs = agent_arg(argc, argv, "certs", NULL);
	const char *node = agent_arg(argc, argv, "node", "node1");
	struct dmlog_options o;
	char errmsg[DMLOG_ERRMSG_SIZE];
	struct dmlog *h;
	int n = 0;

	if (!list || !certs) {
		agent_fail("servers= and certs= are required");
		return NULL;
	}
	memset(&o, 0, sizeof(o));
	snprintf(servers, sizeof(servers), "%s", list);
	for (char *save = NULL, *p = strtok_r(servers, ",", &save); p && n < DMLOG_MAX_SERVERS;
	     p = strtok_r(NULL, ",", &save))
		o.servers[n++] = p;
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	snprintf(cert, sizeof(cert), "%s/node-%s.crt", certs, node);
	snprintf(key, sizeof(key), "%s/node-%s.key", certs, node);
	o.ca_file = ca;
	o.cert_file = cert;
	o.key_file = key;
	o.connect_timeout_ms = 5000;
	o.request_timeout_ms = 30000;
	o.client_name = "bench_lat";
	h = dmlog_new(&o, errmsg);
	if (!h)
		agent_fail("dmlog_new: %s", errmsg);
	return h;
}

static int dmlog_ctx_open(struct dmlog_ctx *c, const char *args)
{
	char dev[128];
	int rc = dmlog_ctr(c->h, &c->log, args, false, dev, sizeof(dev));

	if (rc == 0)
		rc = dmlog_resume(c->h, &c->log);
	if (rc != 0)
		return agent_fail("open log %s: %s", c->log.uuid, dmlog_errmsg(c->h));
	return 0;
}

static int dmlog_run(void *arg, int n, struct stats *s, char *err)
{
	struct dmlog_ctx *c = arg;
	const char *what = "";
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		uint64_t r = c->next++ % c->regions;
		double t0 = stats_now_us();

		what = "MARK_REGION";
		rc = dmlog_mark_region(c->h, &c->log, &r, 1);
		if (rc == 0) {
			what = "FLUSH";
			rc = dmlog_flush(c->h, &c->log, NULL, 0);
		}
		if (rc == 0) {
			stats_add(&s[0], stats_now_us() - t0);
			what = "CLEAR_REGION";
			rc = dmlog_clear_region(c->h, &c->log, &r, 1);
		}
	}
	for (int i = 0; i < n && rc == 0; i++) {
		uint64_t r = c->next++ % c->regions;
		double t0 = stats_now_us();

		what = "FLUSH(mark)";
		rc = dmlog_flush(c->h, &c->log, &r, 1);
		if (rc == 0) {
			stats_add(&s[1], stats_now_us() - t0);
			what = "CLEAR_REGION";
			rc = dmlog_clear_region(c->h, &c->log, &r, 1);
		}
	}
	for (int i = 0; i < n && rc == 0; i++) {
		uint64_t r = c->next++ % c->regions;
		double t0 = stats_now_us();
		bool in_sync;

		what = "IN_SYNC";
		rc = dmlog_in_sync(c->h, &c->log, r, &in_sync);
		if (rc == 0)
			stats_add(&s[2], stats_now_us() - t0);
	}
	if (rc != 0) {
		snprintf(err, AGENT_ERR_MAX, "%s: %s", what, dmlog_errmsg(c->h));
		return -1;
	}
	return 0;
}

int lat_dmlog_main(int argc, char **argv)
{
	static struct dmlog_ctx c;
	struct agent a = {3, {"markflush", "iflush", "insync"}, dmlog_run, &c};
	int rc;

	c.log.uuid = agent_arg(argc, argv, "uuid", "LVM-bench-lat-0123456789abcdef");
	c.log.luid = strtoull(agent_arg(argc, argv, "luid", "1"), NULL, 0);
	c.log.version = 3;
	c.regions = strtoull(agent_arg(argc, argv, "regions", "1048576"), NULL, 0);
	if (c.regions == 0)
		return agent_fail("regions= must be > 0");
	c.h = dmlog_ctx_handle(argc, argv);
	if (!c.h)
		return 1;
	if (dmlog_ctx_open(&c, agent_arg(argc, argv, "args", LAT_DMLOG_ARGS_DEFAULT)) != 0) {
		dmlog_free(c.h);
		return 1;
	}
	rc = agent_serve(&a);
	dmlog_free(c.h);
	return rc;
}

int lat_ctr_main(int argc, char **argv)
{
	struct dmlog_ctx c;
	const char *args = agent_arg(argc, argv, "args", NULL);
	int rc;

	memset(&c, 0, sizeof(c));
	c.log.uuid = agent_arg(argc, argv, "uuid", NULL);
	c.log.luid = strtoull(agent_arg(argc, argv, "luid", "1"), NULL, 0);
	c.log.version = 3;
	if (!args || !c.log.uuid)
		return agent_fail("ctr: uuid= and args= are required");
	c.h = dmlog_ctx_handle(argc, argv);
	if (!c.h)
		return 1;
	rc = dmlog_ctx_open(&c, args);
	if (rc == 0) {
		printf("ok\n");
		fflush(stdout);
	}
	dmlog_free(c.h);
	return rc;
}
