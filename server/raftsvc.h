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
 * Standalone dmlogd is a one-voter group: bootstrap on first start, then restart from the data
 * directory. Replication to more peers only adds voters (see ARCHITECTURE.md).
 */
#ifndef DMLOG_RAFTSVC_H
#define DMLOG_RAFTSVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

/* The replicated state machine. All callbacks run on the raft thread. */
struct raftsvc_fsm {
	void *arg;
	/* Apply one committed entry (bytes exactly as submitted). index is its raft index. Must be
	 * deterministic. Returns 0, or a negative errno that is fatal for the service (the entry
	 * could not be applied: the service stops and reports it). */
	int (*apply)(void *arg, uint64_t index, const uint8_t *buf, size_t len);
	/* Serialise the whole state as of the last applied entry into one malloc'ed buffer that the
	 * service owns afterwards (it frees it with free()). Returns 0 or a negative errno. */
	int (*snapshot)(void *arg, uint8_t **buf, size_t *len);
	/* Replace the whole state with a snapshot's bytes (borrowed for the call). 0 or -errno. */
	int (*restore)(void *arg, const uint8_t *buf, size_t len);
};

struct raftsvc_config {
	const char *data_dir;         /* created if missing (mode 0700) */
	uint64_t id;                  /* this server's raft id, > 0 */
	const char *address;          /* this server's raft address ("127.0.0.1:7790") */
	struct event_base *base;      /* where done callbacks and state events are delivered */
	struct raftsvc_fsm fsm;
	unsigned snapshot_threshold;  /* entries between snapshots (0: 16384) */
	unsigned snapshot_trailing;   /* entries kept after a snapshot (0: 4096) */
	unsigned election_timeout_ms; /* 0: 300 */
	unsigned heartbeat_ms;        /* 0: 30 */
	/* Called on the libevent thread when this server becomes or stops being the leader
	 * (may be NULL). */
	void (*on_leader_change)(void *arg, bool leader);
	void *on_leader_change_arg;
	/* Called on the libevent thread when the service fails and stops (fsm apply error, disk
	 * error). May be NULL. */
	void (*on_fatal)(void *arg, int err, const char *msg);
	void *on_fatal_arg;
};

struct raftsvc;

/* Done callback of a submitted entry, called exactly once on the libevent thread: status 0 when
 * the entry was committed and applied, -ENOTLEADER-like errors as negative errnos otherwise
 * (-EAGAIN: not leader or leadership lost before commit; -ESHUTDOWN: the service is stopping;
 * -EIO: the service failed). */
typedef void (*raftsvc_done_fn)(void *arg, int status, uint64_t index);

/* Starts the service: opens (or creates and bootstraps as a one-voter group) the data directory,
 * restores the last snapshot and replays the log through fsm->restore/fsm->apply, starts the raft
 * thread. Blocks until the local state is loaded and this server has been elected (one voter:
 * immediate) or timeout. NULL with a reason in errmsg on failure. */
struct raftsvc *raftsvc_start(const struct raftsvc_config *cfg, char *errmsg, size_t errlen);

/* Hands one entry (buf copied) to the raft thread to append. done is called exactly once. Never
 * blocks. Returns 0, or a negative errno if the entry could not even be queued (then done is not
 * called). */
int raftsvc_submit(struct raftsvc *s, const uint8_t *buf, size_t len, raftsvc_done_fn done,
		   void *arg);

/* True while this server is the leader (as last reported by the raft thread). */
bool raftsvc_is_leader(const struct raftsvc *s);

struct raftsvc_status {
	uint64_t id;
	uint64_t leader_id;
	char leader_address[64];
	const char *role;             /* "leader", "follower", "candidate", "unavailable" */
	uint64_t term;
	uint64_t commit_index;
	uint64_t last_applied;
	uint64_t snapshots_taken;
};
/* A consistent copy of the raft status as last published by the raft thread. */
void raftsvc_status(const struct raftsvc *s, struct raftsvc_status *st);

/* Stops the raft thread cleanly (pending done callbacks get -ESHUTDOWN, on the libevent thread
 * before this returns or from the base's next loop) and frees the service. NULL is a no-op. */
void raftsvc_stop(struct raftsvc *s);

#endif /* DMLOG_RAFTSVC_H */
