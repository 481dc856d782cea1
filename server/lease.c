/* lease.c: node leases and node-lost detection on the leader (see lease.h). */
#include "lease.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "clock.h"
#include "dmlog.pb-c.h"
#include "engine.h"
#include "fsm.h"
#include "log.h"
#include "server.h"

#define LEASE_MAX FSM_LEASES_MAX

struct lease_node {
	char name[ENGINE_NODE_NAME_MAX + 1];
	uint64_t last_ms;   /* monotonic time of its last traffic */
	bool committed;     /* a NodeLease for it is in the replicated set (or on its way) */
};

struct lease {
	struct server *srv;
	struct event *timer;
	uint64_t last_check_ms; /* when lease_check last ran */
	uint32_t every_ms;      /* its period */
	bool leader;
	uint32_t n;
	struct lease_node nodes[LEASE_MAX];
};

static struct lease_node *lease_find(struct lease *l, const char *node)
{
	for (uint32_t i = 0; i < l->n; i++)
		if (strcmp(l->nodes[i].name, node) == 0)
			return &l->nodes[i];
	return NULL;
}

static struct lease_node *lease_add(struct lease *l, const char *node)
{
	struct lease_node *n;

	if (l->n == LEASE_MAX) {
		log_warning("lease table full: node not tracked node=%s", node);
		return NULL;
	}
	n = &l->nodes[l->n++];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", node);
	n->last_ms = clock_mono_ms();
	return n;
}

static void lease_remove(struct lease *l, struct lease_node *n)
{
	*n = l->nodes[--l->n];
}

static void lease_commit(struct lease *l, const char *node, bool lost)
{
	Dmlog__Command cmd = DMLOG__COMMAND__INIT;
	Dmlog__NodeLease nl = DMLOG__NODE_LEASE__INIT;
	Dmlog__NodeLost lo = DMLOG__NODE_LOST__INIT;
	int rc;

	if (lost) {
		lo.node = (char *)node;
		cmd.body_case = DMLOG__COMMAND__BODY_LOST;
		cmd.lost = &lo;
	} else {
		nl.node = (char *)node;
		nl.lease_ms = l->srv->lim.node_lease_ms;
		cmd.body_case = DMLOG__COMMAND__BODY_LEASE;
		cmd.lease = &nl;
	}
	rc = batch_add(l->srv->batch, &cmd, NULL, 0, 0, 0);
	if (rc)
		log_err("cannot commit node %s: %s node=%s", lost ? "loss" : "lease", strerror(-rc), node);
}

static void lease_check(evutil_socket_t fd, short what, void *arg)
{
	struct lease *l = arg;
	uint64_t now = clock_mono_ms();

	(void)fd;
	(void)what;
	if (now - l->last_check_ms > 2 * (uint64_t)l->every_ms + 100 && l->last_check_ms) {
		/* This server itself was not running (stopped, swapped out, a long stall): the
		 * silence is ours, and the nodes' traffic may still wait unread in the sockets.
		 * Start every lease afresh rather than declare nodes lost for our own absence. */
		log_warning("lease check ran %llu ms late: every node gets a fresh lease",
			    (unsigned long long)(now - l->last_check_ms));
		for (uint32_t i = 0; i < l->n; i++)
			l->nodes[i].last_ms = now;
	}
	l->last_check_ms = now;
	if (!l->leader)
		return;
	for (uint32_t i = 0; i < l->n;) {
		struct lease_node *n = &l->nodes[i];

		if (now - n->last_ms <= l->srv->lim.node_lease_ms) {
			i++;
			continue;
		}
		log_warning("node lease expired: dropping its marks, its regions will be resynced node=%s silent_ms=%llu",
			    n->name, (unsigned long long)(now - n->last_ms));
		lease_commit(l, n->name, true);
		lease_remove(l, n);
	}
}

struct lease *lease_new(struct server *srv)
{
	struct lease *l = calloc(1, sizeof(*l));
	struct timeval tv;
	uint32_t every;

	if (!l)
		return NULL;
	l->srv = srv;
	l->timer = event_new(srv->base, -1, EV_PERSIST, lease_check, l);
	if (!l->timer) {
		free(l);
		return NULL;
	}
	every = srv->lim.node_lease_ms / 4;
	if (every < 50)
		every = 50;
	l->every_ms = every;
	l->last_check_ms = clock_mono_ms();
	tv.tv_sec = every / 1000;
	tv.tv_usec = (every % 1000) * 1000;
	event_add(l->timer, &tv);
	return l;
}

void lease_free(struct lease *l)
{
	if (!l)
		return;
	event_free(l->timer);
	free(l);
}

void lease_hello(struct lease *l, const char *node)
{
	struct lease_node *n = lease_find(l, node);

	if (!n)
		n = lease_add(l, node);
	if (!n)
		return;
	n->last_ms = clock_mono_ms();
	if (!n->committed && l->leader) {
		n->committed = true;
		lease_commit(l, node, false);
	}
}

void lease_touch(struct lease *l, const char *node)
{
	struct lease_node *n = lease_find(l, node);

	if (n)
		n->last_ms = clock_mono_ms();
	else
		lease_hello(l, node);
}

static void lease_load(void *arg, const char *node, uint32_t lease_ms)
{
	struct lease *l = arg;
	struct lease_node *n = lease_find(l, node);

	(void)lease_ms;
	if (!n)
		n = lease_add(l, node);
	if (n) {
		n->last_ms = clock_mono_ms();
		n->committed = true;
	}
}

void lease_set_leader(struct lease *l, bool leader)
{
	l->leader = leader;
	if (!leader)
		return;
	fsm_lock(l->srv->fsm);
	fsm_leases(l->srv->fsm, lease_load, l);
	fsm_unlock(l->srv->fsm);
	/* Sessions that said Hello before we led have no NodeLease yet. */
	for (uint32_t i = 0; i < l->n; i++)
		if (!l->nodes[i].committed) {
			l->nodes[i].committed = true;
			lease_commit(l, l->nodes[i].name, false);
		}
}

uint32_t lease_count(const struct lease *l)
{
	return l->n;
}
