/* admin.h: answers to the admin role's requests (status, list logs, show one log, state digest,
 * peer add and remove).
 *
 * Queries are built from the applied state (under the fsm lock) and the raft status. The reply
 * messages point into memory held by struct admin_reply until admin_reply_free(). Membership
 * changes are asynchronous (admin_peer_change()). libevent thread only.
 */
#ifndef DMLOG_ADMIN_H
#define DMLOG_ADMIN_H

#include "dmlog.pb-c.h"

struct server;
struct session;

struct admin_reply {
	void **allocs;        /* everything allocated for the reply */
	size_t nallocs, capallocs;
	int error;            /* sticky allocation failure */
	char errmsg[200];
};

/* Fills out's body for an admin request. 0, or a negative errno with ar->errmsg (unknown uuid:
 * -ENOENT; out of memory: -ENOMEM). Call admin_reply_free() after sending, on success. */
int admin_answer(struct server *srv, const Dmlog__ClientMessage *cm, struct admin_reply *ar,
		 Dmlog__ServerMessage *out);

void admin_reply_free(struct admin_reply *ar);

/* Starts PeerAddRequest or PeerRemoveRequest (cm); the session (referenced meanwhile) gets the
 * PeerChangeReply, an Error or NotLeader once it is done. Returns 0 when started, -EAGAIN when
 * this server is not the leader (the caller answers NotLeader), or a negative errno with err
 * (bad fields, out of memory). */
int admin_peer_change(struct server *srv, struct session *s, const Dmlog__ClientMessage *cm,
		      char *err, size_t errlen);

#endif /* DMLOG_ADMIN_H */
