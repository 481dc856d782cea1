/* async.h: libdmlog's non-blocking API, on the caller's libevent event_base.
 *
 * A dmlog_async handle keeps at most one TLS connection to a dmlogd, opened on demand: the first
 * request connects, and while requests are pending the handle reconnects after failures (trying
 * each configured server in turn, with capped exponential backoff between rounds) and follows
 * "not leader" redirects. Requests are pipelined; replies may come in any order. A request keeps
 * its id across reconnects and redirects, so the server applies it once (exactly-once). Nothing
 * here blocks the loop, except resolving a server name that is not a numeric address.
 *
 * Callbacks (the contract):
 *   - dmlog_async_submit() and the typed functions return 0 when the request was accepted; its
 *     callback is then called exactly once, from the event loop (never from inside the submitting
 *     call): with status 0 and the result, or with a negative errno and a NULL result (its
 *     deadline passed, the handle was freed, a permanent failure, or the server's error).
 *     When they return a negative errno, the callback is never called.
 *   - The result is borrowed: it and everything it points to is valid only until the callback
 *     returns. Keep it with dmlog_result_dup().
 *   - While a callback with a negative status runs, dmlog_async_errmsg() describes that failure.
 *   - A callback may submit new requests and may free the handle. Freeing the handle (from a
 *     callback or not) calls the callback of every pending request with -ECANCELED before
 *     dmlog_async_free() returns; requests submitted from those callbacks are refused with
 *     -ECANCELED.
 *
 * Threads: the handle belongs to the thread running its event_base.
 *
 * Signals: the handle's writes use send() with MSG_NOSIGNAL: writing to a connection the server
 * closed fails with EPIPE and counts as a lost connection, without raising SIGPIPE, so the
 * application need not ignore or block it for the handle's sake (see <dmlog/dmlog.h>).
 */
#ifndef DMLOG_ASYNC_H
#define DMLOG_ASYNC_H

#include <dmlog/dmlog.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
struct dmlog_async;

/* Called once per accepted request. status is 0 or a negative errno; res is the result when
 * status is 0 (borrowed, see above), NULL otherwise. */
typedef void dmlog_async_cb(struct dmlog_async *ac, int status, const struct dmlog_result *res,
			    void *arg);

/* Creates a handle whose events run on base (which must outlive it). Loads the certificates,
 * draws the handle's random client id, and opens no connection yet. Returns NULL with the reason
 * in errmsg (DMLOG_ERRMSG_SIZE bytes, may be NULL) on invalid options, unreadable certificates
 * or out of memory. */
DMLOG_API struct dmlog_async *dmlog_async_new(struct event_base *base,
					      const struct dmlog_options *opts, char *errmsg);

/* Fails every pending request with -ECANCELED (calling their callbacks), closes the connection
 * and releases the handle. Safe inside a callback of this handle: the memory is then released
 * when the outermost callback returns, and the handle must not be used after this call either
 * way. The connection's last resources are released by the event loop (libevent finalizes a
 * bufferevent from callbacks it had queued): run the loop once more, even with
 * EVLOOP_NONBLOCK, before freeing the event_base. NULL is a no-op. */
DMLOG_API void dmlog_async_free(struct dmlog_async *ac);

/* The reason of the handle's last failure ("" if none). Valid until the handle does anything
 * else. */
DMLOG_API const char *dmlog_async_errmsg(const struct dmlog_async *ac);

/* Requests accepted and not completed yet. */
DMLOG_API size_t dmlog_async_pending(const struct dmlog_async *ac);

/* True when the handle holds a connection that has completed its Hello. */
DMLOG_API bool dmlog_async_connected(const struct dmlog_async *ac);

/* The session lease the server announced in its last Hello answer (0 before any). The handle
 * sends nothing on its own: a node keeps its session (and its marks) alive by sending requests
 * or pings more often than this. */
DMLOG_API uint32_t dmlog_async_lease_ms(const struct dmlog_async *ac);

/* The handle's client id, sent in every Hello. */
DMLOG_API uint64_t dmlog_async_client_id(const struct dmlog_async *ac);

/* ------------------------------------------------------------------ server pushes
 *
 * A node may keep a copy of what IN_SYNC answers for an instance it resumed (the IN_SYNC feed,
 * proto/dmlog.proto): WATCH returns the copy (struct dmlog_watch), and the server then pushes
 * every change of it, in commit order, as unsolicited messages delivered to the push callback;
 * FEED_ACK tells the server which pushes were applied and is answered with a lease (struct
 * dmlog_feed_grant). Pushes belong to the connection they came on: when that connection ends
 * the callback gets DMLOG_PUSH_LINK_DOWN first, before anything from a later connection, and
 * every copy made on it must be considered gone (watch again; the server has forgotten them).
 * Use these only when dmlog_async_features() has DMLOG_FEATURE_FEED.
 */

#define DMLOG_FEATURE_FEED 1u      /* the server offers the IN_SYNC feed */

enum dmlog_feed_kind {
	DMLOG_FEED_SYNC = 0,       /* regions [first, last] are now in sync (value) or not */
	DMLOG_FEED_STICKY = 1,     /* the copy's sticky flag is now value */
	DMLOG_FEED_DROP = 2,       /* the copy ended (the instance is no longer resumed) */
	DMLOG_FEED_RESET = 3,      /* every copy of the feed ended (watch_id 0) */
};

struct dmlog_feed_change {
	enum dmlog_feed_kind kind;
	uint64_t watch_id;
	uint64_t first, last;      /* SYNC: inclusive */
	bool value;
};

enum dmlog_push_type {
	DMLOG_PUSH_FEED = 1,       /* a FeedPush: feed_id, seq, changes */
	DMLOG_PUSH_LINK_DOWN = 2,  /* the connection the pushes came on ended */
};

struct dmlog_push {
	enum dmlog_push_type type;
	uint64_t feed_id;
	uint64_t seq;              /* one more than the previous push of the feed */
	const struct dmlog_feed_change *changes;
	size_t change_count;
};

/* Called for each push, from the event loop, in the order the server sent them and in order
 * with request callbacks (a reply that came after a push is delivered after it). The push is
 * borrowed for the call. The callback may submit requests and may free the handle. */
typedef void dmlog_async_push_cb(struct dmlog_async *ac, const struct dmlog_push *push,
				 void *arg);

/* Sets (or, with NULL, clears) the push callback. Pushes arriving without one are dropped. */
DMLOG_API void dmlog_async_set_push_cb(struct dmlog_async *ac, dmlog_async_push_cb *cb,
				       void *arg);

/* DMLOG_FEATURE_* bits the server announced in its last Hello answer (0 before any). */
DMLOG_API uint32_t dmlog_async_features(const struct dmlog_async *ac);

/* Queues req (copied; see struct dmlog_request for the fields each type reads) and sends it as
 * soon as a connection is ready. Returns 0, or -EINVAL (malformed request), -EAGAIN
 * (max_in_flight pending), -ECANCELED (the handle is being freed), -ENOMEM; the reason is in
 * dmlog_async_errmsg(). cb must not be NULL. */
DMLOG_API int dmlog_async_submit(struct dmlog_async *ac, const struct dmlog_request *req,
				 dmlog_async_cb *cb, void *arg);

/* Typed wrappers around dmlog_async_submit(); same return values and callback contract. */
DMLOG_API int dmlog_async_ctr(struct dmlog_async *ac, const struct dmlog_log_ref *log,
			      const char *args, bool reconnect, dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_dtr(struct dmlog_async *ac, const struct dmlog_log_ref *log,
			      dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_presuspend(struct dmlog_async *ac, const struct dmlog_log_ref *log,
				     dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_postsuspend(struct dmlog_async *ac, const struct dmlog_log_ref *log,
				      dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_resume(struct dmlog_async *ac, const struct dmlog_log_ref *log,
				 dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_get_region_size(struct dmlog_async *ac, const struct dmlog_log_ref *log,
					  dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_is_clean(struct dmlog_async *ac, const struct dmlog_log_ref *log,
				   uint64_t region, dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_in_sync(struct dmlog_async *ac, const struct dmlog_log_ref *log,
				  uint64_t region, dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_flush(struct dmlog_async *ac, const struct dmlog_log_ref *log,
				const uint64_t *marks, size_t mark_count, dmlog_async_cb *cb,
				void *arg);
DMLOG_API int dmlog_async_mark_region(struct dmlog_async *ac, const struct dmlog_log_ref *log,
				      const uint64_t *regions, size_t region_count,
				      dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_clear_region(struct dmlog_async *ac, const struct dmlog_log_ref *log,
				       const uint64_t *regions, size_t region_count,
				       dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_get_resync_work(struct dmlog_async *ac, const struct dmlog_log_ref *log,
					  dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_set_region_sync(struct dmlog_async *ac, const struct dmlog_log_ref *log,
					  uint64_t region, bool in_sync, dmlog_async_cb *cb,
					  void *arg);
DMLOG_API int dmlog_async_get_sync_count(struct dmlog_async *ac, const struct dmlog_log_ref *log,
					 dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_status_info(struct dmlog_async *ac, const struct dmlog_log_ref *log,
				      dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_status_table(struct dmlog_async *ac, const struct dmlog_log_ref *log,
				       dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_is_remote_recovering(struct dmlog_async *ac,
					       const struct dmlog_log_ref *log, uint64_t region,
					       dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_ping(struct dmlog_async *ac, dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_watch(struct dmlog_async *ac, const struct dmlog_log_ref *log,
				dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_unwatch(struct dmlog_async *ac, uint64_t feed_id, uint64_t watch_id,
				  dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_feed_ack(struct dmlog_async *ac, uint64_t feed_id, uint64_t seq,
				   dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_admin_status(struct dmlog_async *ac, dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_admin_list_logs(struct dmlog_async *ac, dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_admin_show_log(struct dmlog_async *ac, const char *uuid,
					 dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_admin_peer_add(struct dmlog_async *ac, uint64_t raft_id,
					 const char *raft_address, const char *id,
					 dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_admin_peer_remove(struct dmlog_async *ac, uint64_t raft_id,
					    dmlog_async_cb *cb, void *arg);
DMLOG_API int dmlog_async_admin_digest(struct dmlog_async *ac, dmlog_async_cb *cb, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* DMLOG_ASYNC_H */
