/* cpg_rtt.c: bench_cpg, corosync CPG agreed-order round trips (the cmirrord anchor).
 *
 * cmirrord hands every log request to the cluster with cpg_mcast_joined(CPG_TYPE_AGREED) and
 * acts on it when corosync delivers it back in total order: that send -> own delivery time is
 * the least a cmirrord request costs on top of its own work. This agent joins a process group
 * on the local corosync (a one-node ring the caller started on 127.0.0.1), waits until its own
 * join is confirmed, and times each message from cpg_mcast_joined() to the delivery of that same
 * message (matched by sender node, pid and a sequence number) to itself. Messages are as big as
 * a cmirrord request with one region (size=, default 200 bytes). One message in flight.
 *
 * Usage: bench_cpg [group=NAME] [size=BYTES]   (driver protocol: agent.h) */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <corosync/cpg.h>

#include "agent.h"

#define CPG_WAIT_MS 10000
#define CPG_MSG_MAX 4096

struct cpg_ctx {
	cpg_handle_t h;
	int fd;
	uint32_t nodeid;
	uint32_t pid;
	int joined;
	uint64_t sent;       /* sequence number of the last message sent */
	uint64_t delivered;  /* sequence number of our last message delivered back */
	size_t size;
	unsigned char msg[CPG_MSG_MAX];
};

static struct cpg_ctx *cpg_ctx_of(cpg_handle_t h)
{
	void *p = NULL;

	cpg_context_get(h, &p);
	return p;
}

static void cpg_on_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
			   uint32_t pid, void *msg, size_t len)
{
	struct cpg_ctx *c = cpg_ctx_of(h);
	uint64_t seq;

	if (!c || nodeid != c->nodeid || pid != c->pid || len < sizeof(seq))
		return;
	memcpy(&seq, msg, sizeof(seq));
	c->delivered = seq;
}

static void cpg_on_confchg(cpg_handle_t h, const struct cpg_name *group,
			   const struct cpg_address *members, size_t nmembers,
			   const struct cpg_address *left, size_t nleft,
			   const struct cpg_address *joined, size_t njoined)
{
	struct cpg_ctx *c = cpg_ctx_of(h);

	for (size_t i = 0; c && i < njoined; i++)
		if (joined[i].nodeid == c->nodeid && joined[i].pid == c->pid)
			c->joined = 1;
}

/* Dispatches until done(c) or CPG_WAIT_MS. 0 or -1. */
static int cpg_wait(struct cpg_ctx *c, int (*done)(const struct cpg_ctx *))
{
	double deadline = stats_now_us() + CPG_WAIT_MS * 1e3;

	while (!done(c)) {
		struct pollfd p = {c->fd, POLLIN, 0};
		int left = (int)((deadline - stats_now_us()) / 1e3);

		if (left <= 0 || poll(&p, 1, left) < 0)
			return -1;
		if (p.revents && cpg_dispatch(c->h, CS_DISPATCH_ALL) != CS_OK)
			return -1;
	}
	return 0;
}

static int cpg_is_joined(const struct cpg_ctx *c)
{
	return c->joined;
}

static int cpg_is_delivered(const struct cpg_ctx *c)
{
	return c->delivered == c->sent;
}

static int cpg_run(void *arg, int n, struct stats *s, char *err)
{
	struct cpg_ctx *c = arg;

	for (int i = 0; i < n; i++) {
		struct iovec iov = {c->msg, c->size};
		double t0 = stats_now_us();
		cs_error_t e;

		c->sent++;
		memcpy(c->msg, &c->sent, sizeof(c->sent));
		while ((e = cpg_mcast_joined(c->h, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN)
			if (stats_now_us() - t0 > CPG_WAIT_MS * 1e3)
				break;
		if (e != CS_OK) {
			snprintf(err, AGENT_ERR_MAX, "cpg_mcast_joined: error %d", (int)e);
			return -1;
		}
		if (cpg_wait(c, cpg_is_delivered) != 0) {
			snprintf(err, AGENT_ERR_MAX, "own message %llu not delivered within %d ms",
				 (unsigned long long)c->sent, CPG_WAIT_MS);
			return -1;
		}
		stats_add(&s[0], stats_now_us() - t0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct cpg_ctx c;
	cpg_callbacks_t cb = {.cpg_deliver_fn = cpg_on_deliver, .cpg_confchg_fn = cpg_on_confchg};
	struct agent a = {1, {"cpg_agreed"}, cpg_run, &c};
	const char *group = agent_arg(argc - 1, argv + 1, "group", "dmlog-bench");
	struct cpg_name name;
	unsigned int nodeid;
	cs_error_t e;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	c.size = strtoul(agent_arg(argc - 1, argv + 1, "size", "200"), NULL, 10);
	if (c.size < sizeof(uint64_t) || c.size > CPG_MSG_MAX)
		return agent_fail("size= out of range");
	memset(c.msg, 0x2b, sizeof(c.msg));
	c.pid = (uint32_t)getpid();
	e = cpg_initialize(&c.h, &cb);
	if (e != CS_OK)
		return agent_fail("cpg_initialize: error %d (is corosync running?)", (int)e);
	cpg_context_set(c.h, &c);
	if (cpg_local_get(c.h, &nodeid) != CS_OK || cpg_fd_get(c.h, &c.fd) != CS_OK)
		return agent_fail("cpg_local_get/cpg_fd_get failed");
	c.nodeid = nodeid;
	memset(&name, 0, sizeof(name));
	name.length = (uint32_t)snprintf(name.value, sizeof(name.value), "%s", group);
	e = cpg_join(c.h, &name);
	if (e != CS_OK)
		return agent_fail("cpg_join %s: error %d", group, (int)e);
	if (cpg_wait(&c, cpg_is_joined) != 0)
		return agent_fail("own join to %s not confirmed within %d ms", group, CPG_WAIT_MS);
	rc = agent_serve(&a);
	cpg_leave(c.h, &name);
	cpg_finalize(c.h);
	return rc;
}
