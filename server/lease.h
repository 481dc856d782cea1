/* lease.h: node sessions with leases — a node that goes silent for too long is declared lost.
 *
 * Every node (bridge) that says Hello holds a lease of node_lease_ms, renewed by any traffic it
 * sends (requests or pings) on any of its connections. The leader checks the leases on a timer;
 * when one runs out it commits a NodeLost command through Raft (so every peer drops the node's
 * marks at the same point of the log). The set of leased nodes is replicated (NodeLease
 * commands), so a new leader knows whom to watch and gives each a full lease from its start.
 * libevent thread only; clocks live here, never in the state machine.
 */
#ifndef DMLOG_LEASE_H
#define DMLOG_LEASE_H

#include <stdbool.h>
#include <stdint.h>

struct server;
struct lease;

struct lease *lease_new(struct server *srv);
void lease_free(struct lease *l);

/* A node opened a session: track it, and commit a NodeLease if it holds none yet. */
void lease_hello(struct lease *l, const char *node);

/* Traffic from a node renews its lease. */
void lease_touch(struct lease *l, const char *node);

/* This server became leader (load the replicated lease set, each with a fresh lease) or stopped
 * being leader (stop judging). */
void lease_set_leader(struct lease *l, bool leader);

/* Nodes currently holding a lease (for status). */
uint32_t lease_count(const struct lease *l);

#endif /* DMLOG_LEASE_H */
