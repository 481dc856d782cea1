/* replica.h: dmlog-bridge's copies of what IN_SYNC answers, fed by dmlogd (local reads).
 *
 * The kernel sends one IN_SYNC per read bio. For every instance this bridge has resumed, the
 * replica watches it on dmlogd (the IN_SYNC feed, proto/dmlog.proto): it holds a copy of the
 * instance's sticky flag and out-of-sync ranges, applies the changes dmlogd pushes in commit
 * order, acknowledges them, and holds a lease. While the lease runs and the copy is complete,
 * IN_SYNC is answered from the copy without leaving the host; otherwise the relay asks dmlogd
 * as before. dmlogd acknowledges no change of IN_SYNC's answer before every leased bridge has
 * applied it or its lease ran out (server/feed_hold.c), so a local answer is never older than
 * an acknowledged change. The same copy answers the two requests the kernel sends with each
 * batch of reads while it is not known in sync: GET_SYNC_COUNT, and GET_RESYNC_WORK when the
 * copy has no region out of sync ("no work"); why that is dmlogd's answer is argued at
 * replica_resync_work() and replica_sync_count() (replica.c). And the FLUSH without marks that
 * follows each batch of marks or clears (replica_flush()).
 *
 * The lease is counted from when the bridge SENT the message the grant answers (a Watch or a
 * FeedAck), less a margin, on CLOCK_MONOTONIC: dmlogd counts from when it received it, so the
 * bridge's lease always ends first. FeedAcks go out after each push applied and every quarter
 * lease while copies exist.
 *
 * What ends a copy (the kernel is then answered by dmlogd until a new copy is complete): the
 * kernel's PRESUSPEND, POSTSUSPEND or DTR of the instance (dropped before the request is
 * relayed: a suspending kernel is never answered from a copy), dmlogd ending it (DROP: the
 * instance left the resumed state, its log is gone; RESET: dmlogd lost leadership or events),
 * the connection to dmlogd ending (every copy: pushes belong to their connection), a reload
 * (a new library handle). A copy is (re)made after the kernel's RESUME succeeded, after the
 * connection came back for instances that had one (a failed attempt is retried after
 * retry_ms), and, for an instance without one (a bridge restarted under a running mirror),
 * when an IN_SYNC for it misses, at most once per retry_ms.
 *
 * Bounds: at most REPLICA_COPIES_MAX copies of REPLICA_RANGES_MAX ranges each (a copy that
 * would grow beyond is dropped: its reads go to dmlogd). Single-threaded: the relay's loop.
 */
#ifndef DMLOG_BRIDGE_REPLICA_H
#define DMLOG_BRIDGE_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dmlog_async;
struct event_base;
struct replica;

#define REPLICA_COPIES_MAX 4096
#define REPLICA_RANGES_MAX 65536
/* Requests of the replica in flight at once (Watch, Unwatch, FeedAck): the library handle
 * needs room for them beside the kernel's. */
#define REPLICA_REQUESTS_MAX 64

struct replica_options {
	uint32_t margin_ms;   /* taken off each lease; default 50 + lease/20 */
	uint32_t retry_ms;    /* a failed or ended copy is retried after; default 1000 */
	/* Called (if set) after each request of the replica completed on handle ac, so that the
	 * owner can release a handle it retired once nothing is pending on it any more. */
	void (*done)(void *arg, struct dmlog_async *ac);
	void *done_arg;
};

struct replica_stats {
	uint64_t local;           /* IN_SYNC answered from a copy */
	uint64_t remote;          /* IN_SYNC left to dmlogd */
	uint64_t remote_no_lease; /* of those: the copy was there, the lease was not */
	uint64_t local_resync_work; /* GET_RESYNC_WORK answered "no work" from a copy */
	uint64_t local_sync_count;  /* GET_SYNC_COUNT answered from a copy */
	uint64_t local_flush;       /* FLUSH without marks answered from a copy */
	uint64_t watches;         /* Watch requests sent */
	uint64_t watch_failures;  /* answered with an error or not at all */
	uint64_t copies_made;     /* complete copies received */
	uint64_t drops;           /* copies ended (any reason) */
	uint64_t resets;          /* all copies ended at once (RESET, link down, reload) */
	uint64_t pushes;          /* FeedPush messages applied */
	uint64_t changes;
	uint64_t acks;            /* FeedAck requests sent */
	uint64_t grants;          /* leases granted */
	uint32_t copies;          /* complete copies now */
	bool leased;              /* the lease runs now */
	uint32_t lease_left_ms;
};

/* An empty replica (no handle yet). NULL on allocation failure. */
struct replica *replica_new(struct event_base *base, const struct replica_options *o);

/* Detaches from its handle and frees. Free the handle first or after: either way the
 * callbacks of requests still pending do not touch the freed replica. NULL is a no-op. */
void replica_free(struct replica *rp);

/* Uses ac (NULL: none) from now on: every copy made on the previous handle ends, and copies
 * that were wanted are made again on ac. Sets ac's push callback (and clears the old one's). */
void replica_attach(struct replica *rp, struct dmlog_async *ac);

/* IN_SYNC(region) of (uuid, luid): 0 with *in_sync set when answered from a complete, leased
 * copy; -EAGAIN when dmlogd must answer (a Watch may have been sent for next time). The hot
 * path: no allocation, one clock read. */
int replica_in_sync(struct replica *rp, const char *uuid, uint64_t luid, uint64_t region,
		    bool *in_sync);

/* GET_RESYNC_WORK of (uuid, luid): 0 when a complete, leased copy has no region out of sync,
 * so that dmlogd's answer is "no work" (the kernel gets {0, 0}); -EAGAIN when dmlogd must
 * answer (a copy with regions out of sync: dmlogd assigns them). No Watch on a miss (IN_SYNC
 * asks for copies). The hot path: no allocation, one clock read. */
int replica_resync_work(struct replica *rp, const char *uuid, uint64_t luid);

/* GET_SYNC_COUNT of (uuid, luid): 0 with *count (region_count minus the regions out of sync)
 * when answered from a complete, leased copy; -EAGAIN when dmlogd must answer. Never above
 * what dmlogd would answer for the acknowledged changes. No Watch on a miss. O(1). */
int replica_sync_count(struct replica *rp, const char *uuid, uint64_t luid, uint64_t *count);

/* FLUSH without marks of (uuid, luid): 0 when a complete, leased copy proves dmlogd would
 * answer success (replica.c says why); -EAGAIN when dmlogd must answer. O(1). */
int replica_flush(struct replica *rp, const char *uuid, uint64_t luid);

/* CLEAR_REGION of (uuid, luid) with n regions: 0 when a complete, leased copy proves dmlogd
 * will accept it (resumed, every region in range), so that the bridge may answer it before
 * dmlogd has it; -EAGAIN otherwise. O(n). */
int replica_clear(struct replica *rp, const char *uuid, uint64_t luid, const uint64_t *regions,
		  uint32_t n);

/* A kernel request of type (DM_ULOG_*) about (uuid, luid) is about to be relayed: PRESUSPEND,
 * POSTSUSPEND and DTR end the copy first. */
void replica_before(struct replica *rp, uint32_t type, const char *uuid, uint64_t luid);

/* dmlogd answered a relayed request with status (0 or -errno): a successful RESUME makes a
 * copy. */
void replica_after(struct replica *rp, uint32_t type, const char *uuid, uint64_t luid,
		   int status);

void replica_get_stats(const struct replica *rp, struct replica_stats *out);

#endif /* DMLOG_BRIDGE_REPLICA_H */
