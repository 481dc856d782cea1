/* session.h: one client connection of dmlogd — TLS, framing, hello, dispatch, replies.
 *
 * A session is created per accepted TCP connection. The TLS handshake (mutual, mandatory) gives
 * the caller's role and identity from its certificate; then the first frame must be a Hello.
 * Reads (IN_SYNC, IS_CLEAN, ...) are answered from the applied state while this server holds the
 * leader's read lease, and otherwise wait for it (in arrival order, at most lim.read_wait_ms,
 * then NotLeader); mutations go to the group-commit batch and are answered once applied. A
 * follower answers every log request with NotLeader naming the leader's client address. Any bad input (a frame over the limit,
 * zero length, undecodable protobuf, unknown message, a request before hello, a request the role
 * may not make, invalid fields, a region beyond its instance's region_count) gets an Error reply
 * when one can still be sent, a log line saying why, and the connection is closed once the reply
 * is flushed; nothing else is affected. A session whose replies pass write_high_watermark is not
 * read until they drain; one whose replies do not move for idle_timeout, or pile up past twice
 * the watermark plus max_frame, is closed with a log line. No frame over max_frame is sent: such
 * a reply becomes an Error (-EMSGSIZE).
 *
 * Lifetime: a session is referenced by the batch while it has requests waiting for a commit; a
 * closed session stays allocated (dead) until the last reference goes. libevent thread only.
 */
#ifndef DMLOG_SESSION_H
#define DMLOG_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dedup.h"
#include "dmlog.pb-c.h"

struct server;
struct session;

/* Takes over an accepted socket (closed on failure). */
void session_accept(struct server *srv, int fd, const struct sockaddr *sa, int salen);

void session_ref(struct session *s);
void session_unref(struct session *s);

/* True until the session is closed. */
bool session_alive(const struct session *s);

/* The node name (certificate identity) and client id of a session. */
const char *session_identity(const struct session *s);
uint64_t session_client_id(const struct session *s);

/* Sends the reply of `op` for request `id` (typed result or error), then lets the session read
 * again if it had stopped for too many requests in flight. No-op on a dead session. A reply
 * that acknowledges a change of what IN_SYNC answers may be held by the feed first (feed.h);
 * the feed's pushes always go out before it. */
void session_reply_result(struct session *s, uint64_t id, uint32_t op,
			  const struct dedup_result *res);

/* The second half of session_reply_result(): sends now (the feed releasing a held reply). */
void session_reply_release(struct session *s, uint64_t id, uint32_t op,
			   const struct dedup_result *res);

/* Like session_reply_release() with an Error reply instead of the result. */
void session_reply_release_error(struct session *s, uint64_t id, int err, const char *msg);

/* Releases a request that was not applied because leadership was lost or the server is
 * stopping: the client is told "not leader" and retries where the leader is. */
void session_reply_release_not_leader(struct session *s, uint64_t id);

/* A write answered at its commit (batch_add() with this slot) was applied or dropped: a FLUSH
 * without marks of its instance need no longer be committed for it. Called before its reply. */
void session_write_ended(struct session *s, uint8_t slot);

/* Ends a request that was answered at submission (batch_add_acked()) once its entry is applied
 * or dropped: counts it out of the session's in-flight requests. */
void session_release_acked(struct session *s);

/* Lets the parked reads whose early-answered clears are now applied go at once. */
void session_parked_kick(struct server *srv);

struct feed_client;

/* The session's feed client (feed.c), NULL before it watched anything. */
struct feed_client *session_feed(const struct session *s);
void session_set_feed(struct session *s, struct feed_client *fc);

/* Sends an Error reply for request id. */
void session_reply_error(struct session *s, uint64_t id, int err, const char *msg);

/* Sends one reply message; no-op on a closed session. */
void session_reply(struct session *s, const Dmlog__ServerMessage *m);

/* Sends NotLeader for request id, naming the leader as far as this server knows it. */
void session_reply_not_leader(struct session *s, uint64_t id);

/* The queue of reads waiting for the read lease: set up (0 or -ENOMEM) and emptied at shutdown
 * (no reply is sent). */
int session_reads_init(struct server *srv);
void session_reads_free(struct server *srv);

/* Closes every session (at shutdown). */
void session_close_all(struct server *srv);

#endif /* DMLOG_SESSION_H */
