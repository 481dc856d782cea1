/* feed_impl.h: the inside of the IN_SYNC feed, shared by feed.c (clients, copies, pushes, the
 * requests) and feed_hold.c (leases, held replies, leadership).
 *
 * One feed_client per node session that watched something; it outlives its session until its
 * lease has run out. Watches hang off their client and, by uuid, off a small hash table so
 * that an event finds the copies of its log. libevent thread only.
 */
#ifndef DMLOG_FEED_IMPL_H
#define DMLOG_FEED_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "dmlog.pb-c.h"
#include "engine.h"
#include "feed.h"

struct event;

#define FEED_BUCKETS 256
/* Push send times kept per client, to know how old its oldest unacknowledged push is. */
#define FEED_RING 256

struct feed_watch {
	struct feed_watch *next;       /* in its client */
	struct feed_watch *bucket_next; /* in its uuid bucket */
	struct feed_client *fc;
	uint64_t id;
	uint64_t luid;
	uint64_t region_count;
	uint32_t bucket;
	char uuid[ENGINE_UUID_MAX + 1];
};

struct feed_client {
	LIST_ENTRY(feed_client) link;
	struct session *s;             /* NULL once the session closed */
	uint64_t uid;                  /* names it in held replies (never reused) */
	uint64_t feed_id;              /* random: acks from another session never match */
	char node[ENGINE_NODE_NAME_MAX + 1];
	uint64_t pushed;               /* seq of the last push sent */
	uint64_t acked;                /* seq of the last push the bridge applied */
	uint64_t lease_until_ms;       /* CLOCK_MONOTONIC; the bridge's lease ends before */
	uint64_t push_ms[FEED_RING];   /* send time of push seq, at [seq % FEED_RING] */
	struct feed_watch *watches;
	uint32_t nwatches;
	Dmlog__FeedChange *pending;    /* changes for the next push */
	size_t npending, cappending;
	bool pending_failed;           /* a change could not be queued: reset this client */
};

struct feed_held;

struct feed {
	struct server *srv;
	struct event *drain_ev;        /* activated by feed_notify() */
	struct event *timer;           /* held replies: the next lease expiry or hold end */
	LIST_HEAD(, feed_client) clients;
	struct feed_watch *buckets[FEED_BUCKETS];
	uint32_t nwatches;
	uint64_t next_uid;
	uint64_t next_watch;
	uint64_t hold_until_ms;        /* a new leader holds changes until then */
	TAILQ_HEAD(, feed_held) held;
	struct feed_stats st;
};

uint64_t feed_now_ms(void);

/* The bucket of a log uuid in the watch table. */
uint32_t feed_bucket(const char *uuid);

/* Takes w out of its client and bucket and frees it. */
void feed_watch_remove(struct feed *f, struct feed_watch *w);

/* Starts or stops the fsm's recording as copies exist or not (fsm lock held). */
void feed_record_update(struct feed *f);

/* Dispatches the queued events to the copies (fsm lock held); sent by feed_flush(). */
void feed_take_locked(struct feed *f);

/* Sends every client's queued changes as pushes. */
void feed_flush(struct feed *f);

/* The client of uid, or NULL (freed: its lease had run out). */
struct feed_client *feed_client_by_uid(struct feed *f, uint64_t uid);

/* Frees clients whose session is closed and whose lease has run out. */
void feed_gc(struct feed *f);

/* Whether fc may be given a lease now: this server serves reads, and fc is not lagging
 * (its oldest unacknowledged push is younger than a lease). */
bool feed_may_grant(struct feed *f, const struct feed_client *fc, uint64_t now);

/* Extends fc's lease from now (the receipt of the message it answers). */
void feed_grant(struct feed *f, struct feed_client *fc, uint64_t now);

/* Drops every copy of every client with a RESET push (leadership lost, events lost). */
void feed_reset_all(struct feed *f);

/* Re-examines the held replies (an ack came, a lease or the leader's hold ran out). */
void feed_hold_check(struct feed *f);

/* Releases every held reply without sending (shutdown). */
void feed_hold_free(struct feed *f);

#endif /* DMLOG_FEED_IMPL_H */
