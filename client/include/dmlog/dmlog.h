/* dmlog.h: libdmlog, the client library of the dmlog cluster dirty log.
 *
 * This header holds what both APIs share (options, requests, results, error conventions) and the
 * blocking API. The non-blocking API, which runs on the caller's libevent loop, is in
 * <dmlog/async.h>; the blocking API is built on it with a private event loop.
 *
 * Errors: every fallible function returns 0 or a negative errno; a human-readable reason, worded
 * "context: cause", is kept in the handle's errmsg (dmlog_errmsg(), dmlog_async_errmsg()).
 * Constructors return NULL and write the reason into a caller buffer of DMLOG_ERRMSG_SIZE bytes.
 * The errnos a request can end with:
 *   -EINVAL        the request or the options are malformed (nothing was sent)
 *   -EAGAIN        max_in_flight requests are already pending (nothing was sent)
 *   -ETIMEDOUT     no reply within request_timeout_ms (the message names the last connection
 *                  error if the handle was not connected, else the last failure while the
 *                  request waited, if any)
 *   -ECANCELED     the handle was freed before the reply came
 *   -EACCES        TLS authentication failed on every configured server, or on the leader: the
 *                  server's certificate was refused here (the message carries OpenSSL's verify
 *                  error) or ours was refused there (the message carries the TLS alert)
 *   -EPROTO        the server broke the protocol, or TLS failed for another reason (as for
 *                  -EACCES, once every configured server failed that way)
 *   -ELOOP         the request was redirected to a new leader more than max_redirects times
 *   -ENOMEM        out of memory
 *   anything else  the server's own answer (Error.errno_neg, -EIO if it is not a negative
 *                  errno) with the server's message: to the request itself, or to Hello once
 *                  every configured server refused it
 * Transient failures (refused or lost connections, timeouts, unknown leader) are retried with
 * the same request id until the deadline; they show in the -ETIMEDOUT message.
 *
 * Threads: a handle is used by one thread at a time. Distinct handles are independent.
 *
 * Signals: neither API raises SIGPIPE, and neither touches signal masks or handlers. Every write
 * to a server goes through send() with MSG_NOSIGNAL, so writing to a connection the server
 * closed fails with EPIPE (handled as a lost connection) instead of killing the process, in any
 * thread, whatever the application does with SIGPIPE.
 *
 * Ownership: the library copies everything it keeps from options and requests, so they may be
 * freed as soon as the call returns. Results handed to async callbacks are borrowed for the
 * duration of the callback; results returned by the blocking API are owned by the caller and
 * released with dmlog_result_free().
 */
#ifndef DMLOG_DMLOG_H
#define DMLOG_DMLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dmlog/export.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DMLOG_VERSION_STRING "0.1.0"

#define DMLOG_ERRMSG_SIZE 256     /* size of every error message buffer, NUL included */
#define DMLOG_MAX_SERVERS 8       /* entries of dmlog_options.servers */
#define DMLOG_MAX_REGIONS 32      /* regions of one FLUSH, MARK_REGION or CLEAR_REGION */
#define DMLOG_UUID_MAX 128        /* bytes of a log UUID, NUL excluded */
#define DMLOG_TIMEOUT_NONE UINT32_MAX /* request_timeout_ms: no deadline at all */

/* Options of a handle. Zero-initialise, fill what you need; every zero field means its default.
 * Strings are copied by the constructor. */
struct dmlog_options {
	/* dmlogd servers, each "host:port" or "[ipv6]:port"; 1 to DMLOG_MAX_SERVERS entries, the
	 * list ends at the first NULL. They are tried in turn until one answers; a server that is
	 * not the leader redirects the handle to the leader. A host that is not a numeric address
	 * is resolved with getaddrinfo(), which may block: use numeric addresses where that
	 * matters. */
	const char *servers[DMLOG_MAX_SERVERS];
	const char *ca_file;    /* required: PEM CA the server certificates must chain to */
	const char *cert_file;  /* required: PEM client certificate (its OU gives the role) */
	const char *key_file;   /* required: PEM private key of cert_file */
	/* Name the server certificate must carry (DNS name or IP address in its subjectAltName).
	 * NULL: the host part of the address being connected to. When set, it is checked for every
	 * server, the redirect targets included. */
	const char *verify_name;
	uint32_t connect_timeout_ms;   /* TCP connect + TLS handshake + Hello; default 5000 */
	/* Deadline of each request, from its submission to its reply, retries included; default
	 * 30000. DMLOG_TIMEOUT_NONE: requests wait forever (until answered, freed or failed). */
	uint32_t request_timeout_ms;
	/* Reconnection backoff: when every server failed in a round, wait min, then twice as long
	 * after each further failed round, up to max. Defaults 100 and 5000. An established
	 * connection that breaks is retried after min. The handle reconnects only while requests
	 * are pending. */
	uint32_t reconnect_min_ms;
	uint32_t reconnect_max_ms;
	uint32_t max_in_flight;        /* pending requests per handle; default 1024, at most 65536 */
	/* Leader redirects followed per request; default 32. During an election redirects to a leader
	 * that does not answer (or to none) are paced by reconnect_min_ms, so the default outlasts
	 * a failover; the request's deadline bounds the whole. */
	uint32_t max_redirects;
	const char *client_name;       /* sent in Hello for the server's logs; default "libdmlog/0.1.0" */
};

/* Request types. The dm_ulog ones carry the kernel's DM_ULOG_* numbers. */
enum dmlog_op {
	DMLOG_OP_CTR = 1,
	DMLOG_OP_DTR = 2,
	DMLOG_OP_PRESUSPEND = 3,
	DMLOG_OP_POSTSUSPEND = 4,
	DMLOG_OP_RESUME = 5,
	DMLOG_OP_GET_REGION_SIZE = 6,
	DMLOG_OP_IS_CLEAN = 7,
	DMLOG_OP_IN_SYNC = 8,
	DMLOG_OP_FLUSH = 9,
	DMLOG_OP_MARK_REGION = 10,
	DMLOG_OP_CLEAR_REGION = 11,
	DMLOG_OP_GET_RESYNC_WORK = 12,
	DMLOG_OP_SET_REGION_SYNC = 13,
	DMLOG_OP_GET_SYNC_COUNT = 14,
	DMLOG_OP_STATUS_INFO = 15,
	DMLOG_OP_STATUS_TABLE = 16,
	DMLOG_OP_IS_REMOTE_RECOVERING = 17,
	DMLOG_OP_PING = 32,
	DMLOG_OP_ADMIN_STATUS = 33,
	DMLOG_OP_ADMIN_LIST_LOGS = 34,
	DMLOG_OP_ADMIN_SHOW_LOG = 35,
	DMLOG_OP_WATCH = 36,       /* the IN_SYNC feed (<dmlog/async.h>, "server pushes") */
	DMLOG_OP_UNWATCH = 37,
	DMLOG_OP_FEED_ACK = 38,
	DMLOG_OP_ADMIN_PEER_ADD = 39,    /* membership changes: the Raft leader answers them */
	DMLOG_OP_ADMIN_PEER_REMOVE = 40,
	DMLOG_OP_ADMIN_DIGEST = 41,      /* the state digest of the server asked */
};

/* "CTR", "IN_SYNC", "ADMIN_STATUS"...; "UNKNOWN" for a value outside the enum. Static string. */
DMLOG_API const char *dmlog_op_name(enum dmlog_op op);

/* The kernel log instance a dm_ulog request is about. */
struct dmlog_log_ref {
	const char *uuid;   /* dm UUID, 1..DMLOG_UUID_MAX bytes */
	uint64_t luid;      /* the kernel's luid of this node's instance */
	uint32_t version;   /* dm_ulog_request.version as the kernel sent it */
};

/* One request, described generically (the typed functions fill one of these). Only the fields
 * of the request's type are read:
 *   every dm_ulog op         log
 *   CTR                      args (NULL means ""), reconnect
 *   IS_CLEAN, IN_SYNC,
 *   IS_REMOTE_RECOVERING     region
 *   SET_REGION_SYNC          region, in_sync
 *   FLUSH                    regions[0..region_count), region_count 0..32 (integrated marks)
 *   MARK_REGION,
 *   CLEAR_REGION             regions[0..region_count), region_count 1..32
 *   ADMIN_SHOW_LOG           log.uuid only
 *   WATCH                    log
 *   UNWATCH                  feed_id, watch_id
 *   FEED_ACK                 feed_id, seq
 *   ADMIN_PEER_ADD           peer_raft_id (not 0), peer_raft_address ("HOST:PORT"), peer_id
 *   ADMIN_PEER_REMOVE        peer_raft_id (not 0)
 *   ADMIN_DIGEST             nothing
 *   PING, ADMIN_STATUS,
 *   ADMIN_LIST_LOGS          nothing */
struct dmlog_request {
	enum dmlog_op op;
	struct dmlog_log_ref log;
	const char *args;
	bool reconnect;
	uint64_t region;
	bool in_sync;
	const uint64_t *regions;
	size_t region_count;
	uint64_t feed_id;          /* UNWATCH, FEED_ACK: the feed (from a WATCH answer or a push) */
	uint64_t watch_id;         /* UNWATCH */
	uint64_t seq;              /* FEED_ACK: the last push applied */
	uint64_t peer_raft_id;     /* ADMIN_PEER_ADD, ADMIN_PEER_REMOVE: the server's Raft id */
	const char *peer_raft_address; /* ADMIN_PEER_ADD: HOST:PORT of its raft_address option */
	const char *peer_id;       /* ADMIN_PEER_ADD: the CN of its dmlog-peer certificate */
};

/* ------------------------------------------------------------------ results */

struct dmlog_resync_work {
	bool has_work;
	uint64_t region;
};

struct dmlog_remote_recovering {
	bool recovering;
	uint64_t in_sync_hint;
};

struct dmlog_peer_info {
	const char *id;
	const char *address;
	const char *role;        /* "leader", "follower", "candidate", "unavailable" */
	bool voter;
	uint64_t raft_id;
	const char *raft_address;   /* where the other peers reach its Raft traffic, or "" */
	const char *client_address; /* where nodes and admins reach it, or "" */
	const char *membership;     /* "voter", "standby", "spare", or "" */
};

/* ADMIN_PEER_ADD, ADMIN_PEER_REMOVE: the Raft configuration once the change is committed. */
struct dmlog_peer_change {
	uint64_t raft_id;        /* the server added or removed */
	const struct dmlog_peer_info *peers;
	size_t peer_count;
};

#define DMLOG_DIGEST_HEX_SIZE 65 /* 64 hex digits and the NUL */

/* ADMIN_DIGEST: the SHA-256 of the server's state machine at applied_index (peers at the same
 * applied_index must report the same digest). */
struct dmlog_state_digest {
	uint64_t applied_index;
	char sha256[DMLOG_DIGEST_HEX_SIZE]; /* lowercase hex */
};

struct dmlog_server_status {
	const char *server_id;
	const char *raft_role;   /* "leader", "follower", "candidate" */
	const char *leader_id;
	uint64_t term;
	uint64_t commit_index;
	uint64_t applied_index;
	const struct dmlog_peer_info *peers;
	size_t peer_count;
	uint32_t log_count;
	uint32_t node_count;
	uint32_t connection_count;
	bool healthy;
	const char *version;
};

struct dmlog_log_summary {
	const char *uuid;
	const char *log_type;    /* "clustered-core", "clustered-disk", "core", "disk" */
	uint64_t region_size;    /* sectors */
	uint64_t region_count;
	uint64_t dirty_count;
	uint64_t sync_count;
	const char *state;
	const char *recoverer;   /* "" when nobody recovers */
	uint64_t recovering_region;
	const char *device;      /* "" unless clustered-disk */
};

struct dmlog_log_list {
	const struct dmlog_log_summary *logs;
	size_t count;
};

struct dmlog_region_range {
	uint64_t first;
	uint64_t last;           /* inclusive */
};

struct dmlog_node_marks {
	const char *node;
	const uint64_t *regions;
	size_t region_count;
};

struct dmlog_instance_info {
	const char *node;
	uint64_t luid;
	const char *state;
	uint64_t in_sync_hint;
};

struct dmlog_log_detail {
	struct dmlog_log_summary summary;
	const struct dmlog_region_range *dirty;
	size_t dirty_count;
	const struct dmlog_region_range *out_of_sync;
	size_t out_of_sync_count;
	const struct dmlog_node_marks *marks;
	size_t mark_count;
	const struct dmlog_instance_info *instances;
	size_t instance_count;
	bool fully_synced;
};

/* WATCH: a copy of what IN_SYNC answers for one instance (see <dmlog/async.h>). */
struct dmlog_watch {
	uint64_t feed_id;        /* the session's feed: pushes and acks name it */
	uint64_t watch_id;       /* names this copy in pushes and UNWATCH */
	uint64_t seq;            /* the feed's last push before the copy was taken */
	bool sticky;             /* IN_SYNC answers 1 for every region */
	uint64_t region_count;
	const struct dmlog_region_range *out_of_sync; /* increasing, disjoint, < region_count */
	size_t out_of_sync_count;
	uint32_t lease_ms;       /* lease granted, counted from when the WATCH was sent; 0: none */
};

/* FEED_ACK: the server's answer to an acknowledgement. */
struct dmlog_feed_grant {
	uint64_t feed_id;        /* the session's feed (0: none); another than the ack's: stale */
	uint32_t lease_ms;       /* lease granted, counted from when the FEED_ACK was sent; 0: none */
	uint64_t acked;          /* the feed's acknowledged seq now */
};

/* The answer to one request. `op` says which member of the union is meaningful; requests that
 * return no data (DTR, PRESUSPEND, POSTSUSPEND, RESUME, FLUSH, MARK_REGION, CLEAR_REGION,
 * SET_REGION_SYNC, PING, UNWATCH) use none. Strings are never NULL ("" when empty). */
struct dmlog_result {
	enum dmlog_op op;
	uint64_t request_id;                   /* the id the request travelled with */
	union {
		const char *device;                    /* CTR: device for dm_get_device(), or "" */
		uint64_t region_size;                  /* GET_REGION_SIZE */
		bool clean;                            /* IS_CLEAN */
		bool in_sync;                          /* IN_SYNC */
		struct dmlog_resync_work resync_work;  /* GET_RESYNC_WORK */
		uint64_t sync_count;                   /* GET_SYNC_COUNT */
		const char *text;                      /* STATUS_INFO, STATUS_TABLE */
		struct dmlog_remote_recovering remote_recovering; /* IS_REMOTE_RECOVERING */
		struct dmlog_server_status status;     /* ADMIN_STATUS */
		struct dmlog_log_list logs;            /* ADMIN_LIST_LOGS */
		struct dmlog_log_detail log;           /* ADMIN_SHOW_LOG */
		struct dmlog_watch watch;              /* WATCH */
		struct dmlog_feed_grant grant;         /* FEED_ACK */
		struct dmlog_peer_change peer_change;  /* ADMIN_PEER_ADD, ADMIN_PEER_REMOVE */
		struct dmlog_state_digest digest;      /* ADMIN_DIGEST */
	};
};

/* Returns an owned deep copy of res (one allocation; every pointer inside points into it), or
 * NULL when out of memory. Release it with dmlog_result_free(). */
DMLOG_API struct dmlog_result *dmlog_result_dup(const struct dmlog_result *res);

/* Releases a result from dmlog_result_dup() or the blocking API. NULL is a no-op. */
DMLOG_API void dmlog_result_free(struct dmlog_result *res);

/* ------------------------------------------------------------------ blocking API */

/* A blocking handle: each call sends one request and runs a private event loop until its reply,
 * its deadline or a permanent failure. Reconnection, redirects and retries with the same request
 * id happen inside the call. */
struct dmlog;

/* Creates a handle from opts. No connection is made yet: the first request connects. Returns
 * NULL with the reason in errmsg (which may be NULL) when the options are invalid, a file cannot
 * be loaded or memory runs out. */
DMLOG_API struct dmlog *dmlog_new(const struct dmlog_options *opts, char *errmsg);

/* Closes the connection and frees the handle. NULL is a no-op. */
DMLOG_API void dmlog_free(struct dmlog *h);

/* The reason of the handle's last failure ("" if none). Valid until the next call on h. */
DMLOG_API const char *dmlog_errmsg(const struct dmlog *h);

/* Sends req and waits for its answer. Returns 0 or a negative errno (see the top of this file).
 * On success, when out is not NULL, *out receives an owned result (free with
 * dmlog_result_free()); on failure *out is set to NULL. */
DMLOG_API int dmlog_call(struct dmlog *h, const struct dmlog_request *req,
			 struct dmlog_result **out);

/* Typed wrappers around dmlog_call(). Out-parameters are written only on success. Text results
 * are copied into the caller's buffer, NUL-terminated; one that does not fit fails with -ERANGE
 * (the request was still performed). */
DMLOG_API int dmlog_ctr(struct dmlog *h, const struct dmlog_log_ref *log, const char *args,
			bool reconnect, char *device, size_t device_size);
DMLOG_API int dmlog_dtr(struct dmlog *h, const struct dmlog_log_ref *log);
DMLOG_API int dmlog_presuspend(struct dmlog *h, const struct dmlog_log_ref *log);
DMLOG_API int dmlog_postsuspend(struct dmlog *h, const struct dmlog_log_ref *log);
DMLOG_API int dmlog_resume(struct dmlog *h, const struct dmlog_log_ref *log);
DMLOG_API int dmlog_get_region_size(struct dmlog *h, const struct dmlog_log_ref *log,
				    uint64_t *region_size);
DMLOG_API int dmlog_is_clean(struct dmlog *h, const struct dmlog_log_ref *log, uint64_t region,
			     bool *clean);
DMLOG_API int dmlog_in_sync(struct dmlog *h, const struct dmlog_log_ref *log, uint64_t region,
			    bool *in_sync);
DMLOG_API int dmlog_flush(struct dmlog *h, const struct dmlog_log_ref *log, const uint64_t *marks,
			  size_t mark_count);
DMLOG_API int dmlog_mark_region(struct dmlog *h, const struct dmlog_log_ref *log,
				const uint64_t *regions, size_t region_count);
DMLOG_API int dmlog_clear_region(struct dmlog *h, const struct dmlog_log_ref *log,
				 const uint64_t *regions, size_t region_count);
DMLOG_API int dmlog_get_resync_work(struct dmlog *h, const struct dmlog_log_ref *log,
				    struct dmlog_resync_work *work);
DMLOG_API int dmlog_set_region_sync(struct dmlog *h, const struct dmlog_log_ref *log,
				    uint64_t region, bool in_sync);
DMLOG_API int dmlog_get_sync_count(struct dmlog *h, const struct dmlog_log_ref *log,
				   uint64_t *count);
DMLOG_API int dmlog_status_info(struct dmlog *h, const struct dmlog_log_ref *log, char *text,
				size_t text_size);
DMLOG_API int dmlog_status_table(struct dmlog *h, const struct dmlog_log_ref *log, char *text,
				 size_t text_size);
DMLOG_API int dmlog_is_remote_recovering(struct dmlog *h, const struct dmlog_log_ref *log,
					 uint64_t region, struct dmlog_remote_recovering *rr);
DMLOG_API int dmlog_ping(struct dmlog *h);

/* Admin queries (the certificate must have the admin role). On success *out is an owned result
 * (free with dmlog_result_free()) whose status, logs or log member holds the answer. */
DMLOG_API int dmlog_admin_status(struct dmlog *h, struct dmlog_result **out);
DMLOG_API int dmlog_admin_list_logs(struct dmlog *h, struct dmlog_result **out);
DMLOG_API int dmlog_admin_show_log(struct dmlog *h, const char *uuid, struct dmlog_result **out);

/* Membership changes (admin role; the leader answers, redirects are followed). peer_add binds
 * raft_id to the certificate CN `id`, adds the server at raft_address ("HOST:PORT") and makes it
 * a voter once it caught up; peer_remove takes it out of the configuration. On success *out's
 * peer_change member holds the configuration afterwards. */
DMLOG_API int dmlog_admin_peer_add(struct dmlog *h, uint64_t raft_id, const char *raft_address,
				   const char *id, struct dmlog_result **out);
DMLOG_API int dmlog_admin_peer_remove(struct dmlog *h, uint64_t raft_id,
				      struct dmlog_result **out);
/* The state digest of the server answering (any peer); *out's digest member holds it. */
DMLOG_API int dmlog_admin_digest(struct dmlog *h, struct dmlog_result **out);

#ifdef __cplusplus
}
#endif

#endif /* DMLOG_DMLOG_H */
