/* raftsvc.h: dmlogd's Raft service — libraft 0.22 on its own libuv thread.
 *
 * The service owns one raft instance (libraft with its libuv I/O backend, a data directory of its
 * own) running on a dedicated thread with its own uv loop. The rest of dmlogd runs on one libevent
 * thread. Work crosses over through a queue plus uv_async_send (libevent -> raft thread) and comes
 * back through a queue plus event_active() on the caller's event_base (raft thread -> libevent).
 *
 * The state machine is the caller's, given as a struct raftsvc_fsm; its callbacks run on the raft
 * thread and must do their own locking against readers on the libevent thread. Every entry that
 * raftsvc_submit() hands in is applied (fsm->apply) after it is committed, in log order, exactly
 * once per process lifetime (replayed from the log or a snapshot after a restart), and only then
 * is the submitter's done callback called, on the libevent thread.
 *
 * Groups: on first start (an empty data directory) the service bootstraps the initial
 * configuration, this server plus cfg->peers, all voters; every peer of a new group must be given
 * the same list (each names the others), so that all of them write the same first entry. Without
 * peers that is a one-voter group (standalone dmlogd). With cfg->join nothing is bootstrapped:
 * the server waits, with no configuration, until a leader adds it (raftsvc_change()). Later
 * starts load the configuration from the data directory and ignore cfg->peers.
 *
 * Peer traffic goes through the TLS transport of peer.h (mutual TLS, dmlog-peer certificates,
 * cfg->authorize decides which certificate CN and data-directory incarnation a raft id may
 * have). The incarnation is a random number written next to the raft files when the data
 * directory is first used; a wiped directory gets a new one, which the server's authorize
 * callback can refuse until the peer is removed and added again.
 *
 * Threading requirements on the caller:
 *  - libevent must be thread-enabled before cfg->base is created: call evthread_use_pthreads()
 *    (libevent_pthreads) first, so that the raft thread may event_active() an event on the base.
 *  - raftsvc_submit(), raftsvc_stop() and every callback below (done, on_leader_change,
 *    on_fatal) belong to the base's thread. raftsvc_is_leader() and raftsvc_status() may be
 *    called from any thread.
 *  - Callbacks are never called from inside raftsvc_submit(); they may call raftsvc_submit(), and
 *    may even call raftsvc_stop() (the service is then freed once the callback returns).
 *  - While the service runs it keeps one event pending on the base (a persistent event with a
 *    long timeout), so that event_base_dispatch() does not return for lack of events while
 *    results are still to come; raftsvc_stop() removes it.
 *
 * Leadership: this server reports itself leader only once it has won an election AND a barrier
 * entry of its term has been applied, so the fsm then reflects every entry committed before
 * (ARCHITECTURE.md: "run a barrier after winning an election before serving").
 *
 * Reads (raftsvc_read_ok()): a serving leader may answer reads from its applied state only while
 * it holds a read lease, i.e. while a majority of the voters (itself included) have promised not
 * to vote for anyone else. See raftsvc_lease.c for how that promise is obtained and why it holds.
 */
#ifndef DMLOG_RAFTSVC_H
#define DMLOG_RAFTSVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "peer_wire.h"

struct event_base;

/* Largest entry raftsvc_submit() accepts: a group-committed batch of frames (libraft's segments
 * grow past their default 8 MiB for it). */
#define RAFTSVC_ENTRY_MAX (16u * 1024u * 1024u)

/* The replicated state machine. All callbacks run on the raft thread. */
struct raftsvc_fsm {
	void *arg;
	/* Apply one committed entry (bytes exactly as submitted). index is its raft index. Must be
	 * deterministic. Returns 0, or a negative errno that is fatal for the service (the entry
	 * could not be applied: the service stops and reports it). */
	int (*apply)(void *arg, uint64_t index, const uint8_t *buf, size_t len);
	/* Serialise the whole state as of the last applied entry into one malloc'ed buffer that the
	 * service owns afterwards (it frees it with free()). Returns 0 or a negative errno; an error
	 * is fatal for the service too (its log could no longer be compacted). */
	int (*snapshot)(void *arg, uint8_t **buf, size_t *len);
	/* Replace the whole state with a snapshot's bytes (borrowed for the call). 0 or -errno.
	 * An error while raftsvc_start() loads the data directory makes the start fail; later (a
	 * snapshot installed by a leader) it is fatal. */
	int (*restore)(void *arg, const uint8_t *buf, size_t len);
};

/* One other voter of the initial configuration. */
struct raftsvc_peer {
	uint64_t id;
	const char *address;
};

/* Most servers the service reports in its status (configuration members, peers seen). */
#define RAFTSVC_MEMBERS_MAX 16

struct raftsvc_config {
	const char *data_dir;         /* created if missing (mode 0700; its parent must exist) */
	uint64_t id;                  /* this server's raft id, > 0 */
	const char *address;          /* this server's raft address ("127.0.0.1:7790") */
	struct event_base *base;      /* where done callbacks and state events are delivered */
	struct raftsvc_fsm fsm;       /* apply, snapshot and restore are all required */
	unsigned snapshot_threshold;  /* entries between snapshots (0: 16384) */
	unsigned snapshot_trailing;   /* entries kept after a snapshot (0: 4096) */
	unsigned election_timeout_ms; /* 0: 300 */
	unsigned heartbeat_ms;        /* 0: 30; must be below the election timeout */
	unsigned start_timeout_ms;    /* how long raftsvc_start() waits to be leader (0: 10000) */
	unsigned max_pending;         /* submitted entries not yet done, at most (0: 65536) */
	/* The other voters of the initial configuration (copied; ids distinct, not cfg->id). */
	const struct raftsvc_peer *peers;
	size_t n_peers;
	bool join;                    /* do not bootstrap an empty data directory */
	/* Peer transport. Both NULL: no peer connection is made or accepted (a one-voter group
	 * only). Referenced while in use; raftsvc_set_tls() replaces them. */
	SSL_CTX *tls_server;
	SSL_CTX *tls_client;
	const char *client_address;   /* told to the peers (copied; NULL: "") */
	/* Raft thread: may this peer (raft id, certificate CN, incarnation) connect? 0, or a
	 * negative errno with a reason in why. Required with TLS contexts. */
	int (*authorize)(void *arg, const struct peer_info *who, char *why, size_t whylen);
	void *authorize_arg;
	/* Called on the libevent thread when this server becomes or stops being the leader
	 * (may be NULL). Reports changes after raftsvc_start() returned (which it does as
	 * leader when alone in its configuration, else usually as a follower). Transitions
	 * are never hidden: a loss followed by a regain is reported as false then true, even if
	 * both happened between two deliveries. */
	void (*on_leader_change)(void *arg, bool leader);
	void *on_leader_change_arg;
	/* Called once, on the libevent thread, when the service fails and stops (fsm apply or
	 * snapshot error, raft becoming unavailable). err is a negative errno, msg a
	 * "context: cause" text borrowed for the call. May be NULL. The service stays allocated
	 * (entries then get -EIO) until raftsvc_stop(). */
	void (*on_fatal)(void *arg, int err, const char *msg);
	void *on_fatal_arg;
};

struct raftsvc;

/* Done callback of a submitted entry, called exactly once on the libevent thread. status 0: the
 * entry was committed and applied, and index is its raft index. Otherwise a negative errno and
 * index 0:
 *   -EAGAIN: this server is not the leader, or lost leadership before the entry's outcome was
 *            known;
 *   -ESHUTDOWN: the service is stopping;
 *   -EIO: the service failed (see on_fatal);
 *   other: raft refused the entry (-ENOMEM...), which also makes the service fail.
 * An error does NOT prove the entry was not committed: after -EAGAIN or -ESHUTDOWN it may still
 * be committed and applied (now, by a later leader or at the next start), so whatever is
 * submitted must be safe to retry (request ids, ARCHITECTURE.md invariant 4). */
typedef void (*raftsvc_done_fn)(void *arg, int status, uint64_t index);

/* Starts the service: opens (or creates and bootstraps) the data directory, restores the last
 * snapshot and replays the log through fsm->restore/fsm->apply, starts the raft thread. Blocks
 * until the local state is loaded; when this server is the only voter of its configuration,
 * also until it has been elected and its barrier applied (immediate), or cfg->start_timeout_ms
 * passed. In a larger group it returns as a follower: leadership comes later through
 * on_leader_change. NULL with a reason in errmsg on failure. cfg is copied (strings included). */
struct raftsvc *raftsvc_start(const struct raftsvc_config *cfg, char *errmsg, size_t errlen);

/* Hands one entry (buf copied) to the raft thread to append. done is called exactly once, later,
 * never from inside this call. Never blocks. Returns 0, or a negative errno if the entry could not
 * even be queued (then done is not called): -EINVAL (len 0, NULL buf or done), -EMSGSIZE (len >
 * RAFTSVC_ENTRY_MAX), -ENOBUFS (max_pending entries already pending), -ESHUTDOWN (called while
 * raftsvc_stop() runs), -ENOMEM. */
int raftsvc_submit(struct raftsvc *s, const uint8_t *buf, size_t len, raftsvc_done_fn done,
		   void *arg);

/* True while this server is the leader (as last reported by the raft thread). */
bool raftsvc_is_leader(const struct raftsvc *s);

/* True while this server is the serving leader AND holds its read lease: a read answered from
 * the applied state now reflects every entry any leader has committed (ARCHITECTURE.md
 * invariant 5). Any thread. */
bool raftsvc_read_ok(const struct raftsvc *s);

enum raftsvc_change_op {
	RAFTSVC_ADD_VOTER, /* add (id, address) as a spare, catch it up, make it a voter */
	RAFTSVC_REMOVE,    /* remove id from the configuration */
	RAFTSVC_TRANSFER,  /* hand leadership to id (0: the most up-to-date voter) */
};

/* Asks the raft thread for a membership change (leader only). done is called exactly once on
 * the libevent thread: 0 once the new configuration is committed (for TRANSFER: once another
 * server leads), or -EAGAIN (not leader), -EBUSY (another change is in progress), -EEXIST (id or
 * address already in the configuration), -ENOENT (no such id), -ENOTCONN (the new server did
 * not catch up), -ESHUTDOWN. Returns 0, or -EINVAL / -ESHUTDOWN / -ENOMEM / -ENOBUFS without
 * calling done. address is copied (ADD_VOTER only). */
int raftsvc_change(struct raftsvc *s, enum raftsvc_change_op op, uint64_t id,
		   const char *address, raftsvc_done_fn done, void *arg);

/* Replaces the TLS contexts for new peer connections (references taken). Any thread. */
void raftsvc_set_tls(struct raftsvc *s, SSL_CTX *server_ctx, SSL_CTX *client_ctx);

/* The peers seen on connections that passed the handshake (latest per raft id), at most max,
 * into out. Returns how many. Any thread. */
size_t raftsvc_peers_seen(const struct raftsvc *s, struct peer_info *out, size_t max);

/* Drops what raftsvc_peers_seen() reports for raft_id (it left, or is being added anew). */
void raftsvc_peer_forget(struct raftsvc *s, uint64_t raft_id);

/* One server of the Raft configuration. */
struct raftsvc_member {
	uint64_t id;
	char address[PEER_WIRE_ADDRESS_MAX];
	const char *role;             /* "voter", "standby", "spare" */
};

struct raftsvc_status {
	uint64_t id;
	uint64_t incarnation;         /* of this server's data directory */
	uint64_t leader_id;           /* 0 when no leader is known */
	char leader_address[64];
	const char *role;             /* "leader", "follower", "candidate", "unavailable" */
	uint64_t term;
	uint64_t last_index;          /* last entry of the local log (appended, maybe not durable) */
	uint64_t commit_index;
	uint64_t last_applied;
	uint64_t snapshots_taken;     /* snapshots taken and written to disk since start */
	uint64_t restores;            /* fsm restores since start (at start, or installed) */
	uint64_t installs_held;       /* snapshots sent by the leader held back while this server
				       * wrote its own (see raftsvc_hold.c) */
	bool serving;                 /* = raftsvc_is_leader(): leader with its barrier applied */
	bool failed;                  /* the service failed (on_fatal) */
	uint64_t lease_until_ms;      /* CLOCK_MONOTONIC ms until which the read lease holds */
	unsigned n_members;           /* the current configuration (maybe not committed yet) */
	struct raftsvc_member members[RAFTSVC_MEMBERS_MAX];
	uint64_t peers_accepted;      /* peer connections that passed the handshake */
	uint64_t peers_refused;       /* peer connections dropped in the handshake */
};
/* A consistent copy of the raft status as last published by the raft thread (it publishes after
 * every iteration of its loop that handled an event). */
void raftsvc_status(const struct raftsvc *s, struct raftsvc_status *st);

/* Stops the raft thread cleanly (pending done callbacks get -ESHUTDOWN, on the libevent thread
 * before this returns) and frees the service. NULL is a no-op. Entries already applied when stop
 * begins still get status 0. on_leader_change and on_fatal are not called any more. */
void raftsvc_stop(struct raftsvc *s);

#endif /* DMLOG_RAFTSVC_H */
