/* feed.h: the IN_SYNC feed — copies of what IN_SYNC answers, pushed to the bridges, their
 * leases, and the hold on the replies that change those answers.
 *
 * A bridge (a node session) watches each instance it has resumed; the leader answers with a
 * copy (the sticky flag and the out-of-sync ranges below the instance's region_count) and
 * pushes every later change of it, in commit order (the engine's output events, queued by the
 * fsm while the entry is applied). The bridge acknowledges what it applied; each
 * acknowledgement renews a lease (FEED_LEASE_MS) during which the bridge may answer IN_SYNC
 * itself. Protocol messages and their meaning: proto/dmlog.proto, "the IN_SYNC feed".
 *
 * The safety rule, applied in the reply path (session_reply_result() asks feed_hold()): a
 * successful SET_REGION_SYNC, the only operation that changes what IN_SYNC answers for an
 * instance whose bridge may hold a copy (feed_hold.c says why the others do not), is
 * acknowledged to its requester only once every other feed that holds a lease has
 * acknowledged every push sent before the reply became ready, or its lease has run out on this
 * server's clock; and, after this server became leader, not before FEED_LEASE_MS (plus a
 * margin) has passed, since a previous leader may have granted leases that only time ends.
 * The argument is in feed_hold.c and in ARCHITECTURE.md.
 *
 * libevent thread only, except feed_notify() (the fsm calls it on the raft thread).
 */
#ifndef DMLOG_FEED_H
#define DMLOG_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dedup.h"
#include "dmlog.pb-c.h"

struct server;
struct session;
struct feed;
struct feed_client;

/* The lease a FeedAck or Watch grants, in ms. Every dmlogd grants the same, so a new leader
 * knows how long the leases of its predecessor can last. */
#define FEED_LEASE_MS 1000u
/* Added to FEED_LEASE_MS before a new leader acknowledges a change (clock rate differences,
 * the time between the old leader's last grant and this one's election is not counted). */
#define FEED_HOLD_MARGIN_MS 50u
/* Out-of-sync ranges in one copy: a more fragmented log is not copied (-E2BIG). */
#define FEED_RANGES_MAX 16384u
/* Changes in one FeedPush (more go in further pushes). */
#define FEED_PUSH_CHANGES_MAX 4096u
/* Watches of one session, and of the whole server. */
#define FEED_WATCHES_MAX 4096u
#define FEED_WATCHES_TOTAL_MAX 65536u
/* Replies held at once; beyond, a change is answered -EAGAIN (the kernel resends it). */
#define FEED_HOLDS_MAX 65536u

struct feed_stats {
	uint32_t clients;            /* feeds (sessions that watched), closed ones still leased */
	uint32_t watches;
	uint32_t holds;              /* replies waiting now */
	uint64_t pushes;             /* FeedPush messages sent */
	uint64_t changes;            /* changes in them */
	uint64_t grants;             /* leases granted (Watch and FeedAck) */
	uint64_t held;               /* replies that had to wait */
	uint64_t held_by_expiry;     /* of those, released by a lease running out */
	uint64_t resets;             /* every copy dropped (overflow, new state, leadership lost) */
};

/* A feed for srv (its event_base, fsm and sessions). NULL on allocation failure. Call before
 * the raft service starts (it sets the fsm's notify function). */
struct feed *feed_new(struct server *srv);

/* Frees the feed; held replies are dropped (their sessions are closed by then). NULL no-op. */
void feed_free(struct feed *f);

/* Raft thread: events were queued (wakes the libevent thread to push them). */
void feed_notify(void *arg);

/* Moves the queued events into pushes and sends them. Cheap when nothing is queued. Called
 * before any reply goes to a node session, so that a bridge always has every change its
 * replies could reflect. */
void feed_drain(struct feed *f);

/* Requests of a node session (role and hello already checked). Each sends its reply. */
void feed_watch(struct feed *f, struct session *s, uint64_t id, const Dmlog__Watch *w);
void feed_unwatch(struct feed *f, struct session *s, uint64_t id, const Dmlog__Unwatch *u);
void feed_ack(struct feed *f, struct session *s, uint64_t id, const Dmlog__FeedAck *a);

/* The session closed: its copies end, its lease lives on until it runs out (the bridge may not
 * know yet that the connection is gone). */
void feed_session_closed(struct feed *f, struct feed_client *fc);

/* The reply of op with result res for request id of session s: true when the feed keeps it
 * (session referenced) and sends it later with session_reply_release(); false when it may go
 * now. */
bool feed_hold(struct feed *f, struct session *s, uint64_t id, uint32_t op,
	       const struct dedup_result *res);

/* This server became (true) or stopped being (false) the leader. */
void feed_leader(struct feed *f, bool leader);

void feed_get_stats(const struct feed *f, struct feed_stats *out);

#endif /* DMLOG_FEED_H */
