/* group.h: dmlogd peers of one Raft group, for the integration tests and the benchmarks.
 *
 * Slot i of a group is the peer with raft id i + 1, id dmlogd<i+1> and certificate
 * peer-dmlogd<i+1> (harness_certs() makes dmlogd1, group_certs() the others). A test keeps an
 * array of struct group_peer, prepares it once with group_init(), and starts each slot with
 * dmlogd_start() and the arguments group_args() writes. Admin queries go to one peer straight,
 * as admin-admin, without following redirects.
 */
#ifndef DMLOG_TEST_GROUP_H
#define DMLOG_TEST_GROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "dmlog.pb-c.h"
#include "harness.h"

struct group_peer {
	struct dmlogd d;
	char state[320];     /* its state directory: DIR/s<i+1> */
	char arg[8][600];    /* its arguments: group_args() fills the first five */
};

/* Makes the certificates of peers dmlogd2..dmlogd<n> in certs. 0, or -1. */
int group_certs(const char *certs, int n);

/* Zeroes slots [0, n) and gives each free client and raft ports and its state directory
 * dir/s<i+1> (made here). */
void group_init(struct group_peer *p, int n, const char *dir);

/* Writes slot i's identity and group into p[i].arg[0..4]: --cert-file and --key-file of
 * peer-dmlogd<i+1> in certs, --id, --raft-id, and --peers naming, for every other slot j of
 * [0, group), the raft port raft_port[j] (raft_port NULL: p[j].d.raft_port). */
void group_args(struct group_peer *p, int i, int group, const char *certs, const int *raft_port);

/* Sends m to d as admin-admin of certs (Hello with client_id) and returns the reply (free it);
 * NULL when d is not running or did not answer within 20 s. */
Dmlog__ServerMessage *group_admin_call(const struct dmlogd *d, const char *certs,
				       uint64_t client_id, Dmlog__ClientMessage *m);

/* A peer's state digest: the SHA-256 of its state machine at an applied index. */
struct group_digest {
	uint64_t applied;
	uint8_t sha[32];
};

/* d's state digest (an admin query, see group_admin_call()); false when it gave none. */
bool group_digest(const struct dmlogd *d, const char *certs, uint64_t client_id,
		  struct group_digest *dg);

/* Waits (at most timeout_ms) until the running peers of slots [0, n) whose bit is set in mask
 * report one applied index and one digest, and fails the test if they do not or if nothing
 * was applied. */
void group_assert_converged(const struct group_peer *p, int n, unsigned mask, const char *certs,
			    uint64_t client_id, int timeout_ms);

#endif /* DMLOG_TEST_GROUP_H */
