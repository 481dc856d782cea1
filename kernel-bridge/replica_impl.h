/* replica_impl.h: the inside of the replica, shared by replica.c (copies, the kernel's hooks,
 * the local answer) and replica_feed.c (Watch, pushes, acknowledgements, the lease), and the
 * range sets of replica_ranges.c.
 *
 * A copy's entry lives from the first time the bridge needs it (a RESUME, a missed IN_SYNC)
 * until the kernel's DTR; its state says whether it holds a usable copy. Requests to dmlogd
 * carry the replica's generation, bumped whenever every copy ends (link down, reload, reset):
 * an answer of an older generation is ignored. Single-threaded.
 */
#ifndef DMLOG_BRIDGE_REPLICA_IMPL_H
#define DMLOG_BRIDGE_REPLICA_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replica.h"

struct event;

/* ---- sets of disjoint, non-adjacent inclusive ranges in increasing order */

struct replica_range {
	uint64_t first, last;
};

struct replica_ranges {
	struct replica_range *v;
	size_t n, cap;
	/* Regions in the set (GET_SYNC_COUNT's answer is region_count minus this), kept by add
	 * and remove at no extra search: O(1) per range they put in or take out. Modulo 2^64:
	 * only the full range [0, UINT64_MAX] wraps (a copy's regions stay below its
	 * region_count <= 2^32). */
	uint64_t count;
};

void replica_ranges_free(struct replica_ranges *s);
/* Whether r is in the set: a binary search. */
bool replica_ranges_has(const struct replica_ranges *s, uint64_t r);
/* Adds [first, last] (merging). 0, -E2BIG (more than REPLICA_RANGES_MAX) or -ENOMEM; the set
 * (count included) is unchanged on failure. */
int replica_ranges_add(struct replica_ranges *s, uint64_t first, uint64_t last);
/* Removes [first, last] (splitting). 0, -E2BIG or -ENOMEM as above. */
int replica_ranges_remove(struct replica_ranges *s, uint64_t first, uint64_t last);

/* ---- copies */

#define REPLICA_HASH 1024
/* FeedAcks in flight at once. */
#define REPLICA_ACKS_MAX 4
/* The longest wait before asking again for a copy that failed. */
#define REPLICA_RETRY_MAX_MS 30000u

enum replica_state {
	REPLICA_IDLE,      /* no copy */
	REPLICA_WATCHING,  /* a Watch is on its way */
	REPLICA_READY,     /* a complete copy, kept current by the pushes */
};

struct replica_copy {
	struct replica_copy *hnext;    /* in its luid bucket */
	uint64_t serial;               /* names the entry in request contexts */
	char uuid[129];
	uint64_t luid;
	enum replica_state state;
	bool wanted;                   /* the kernel resumed it: copy it again after a link down */
	bool suspended;                /* the kernel suspended it: no Watch on a miss */
	uint64_t watch_serial;         /* the Watch this entry waits for */
	uint64_t watch_id;             /* READY: dmlogd's name of the copy */
	bool sticky;
	uint64_t region_count;
	struct replica_ranges oos;     /* out-of-sync regions */
	uint64_t retry_at_us;          /* IDLE: no Watch on a miss before */
	unsigned failures;             /* Watches failed in a row (backoff) */
};

struct replica {
	struct event_base *base;
	struct dmlog_async *ac;
	struct event *renew;           /* FeedAck every quarter lease while copies exist */
	struct replica_copy *hash[REPLICA_HASH];
	uint32_t ncopies;              /* entries */
	uint64_t gen;
	uint64_t next_serial;
	uint64_t feed_id;              /* of the current connection; 0 until a copy came */
	uint64_t applied;              /* seq of the last push applied */
	uint64_t lease_until_us;       /* CLOCK_MONOTONIC */
	uint32_t lease_ms;             /* the last lease granted (paces the renewals) */
	uint32_t margin_ms;            /* 0: the default */
	uint32_t retry_ms;
	void (*done)(void *arg, struct dmlog_async *ac);
	void *done_arg;
	unsigned requests;             /* in flight */
	unsigned acks;                 /* FeedAcks in flight */
	bool ack_wanted;               /* a push was applied while acks were at their limit */
	unsigned refs;                 /* 1 + requests in flight (their contexts point here) */
	bool dead;                     /* replica_free() was called */
	struct replica_stats st;
};

uint64_t replica_now_us(void);

/* The entry of (uuid, luid), or NULL. */
struct replica_copy *replica_find(const struct replica *rp, const char *uuid, uint64_t luid);
/* The entry of (uuid, luid), made (IDLE) when missing; NULL at REPLICA_COPIES_MAX. */
struct replica_copy *replica_get(struct replica *rp, const char *uuid, uint64_t luid);

/* Ends c's copy (READY or WATCHING -> IDLE), telling dmlogd when it held one; retry after
 * retry_ms unless now. */
void replica_copy_end(struct replica *rp, struct replica_copy *c, bool retry_now);

/* Ends every copy (a new generation) and asks again for the wanted ones. keep_watching: the
 * handle stays, so Watches still on their way stay (their answers will come from the next
 * connection); otherwise they are forgotten too. */
void replica_reset(struct replica *rp, bool keep_watching);

/* replica_feed.c */
void replica_watch(struct replica *rp, struct replica_copy *c);
void replica_unwatch(struct replica *rp, uint64_t watch_id);
void replica_send_ack(struct replica *rp);
void replica_feed_attach(struct replica *rp);
void replica_renew_start(struct replica *rp);
void replica_unref(struct replica *rp);

#endif /* DMLOG_BRIDGE_REPLICA_IMPL_H */
