/* fsm.h: dmlogd's replicated state machine — the engine, the exactly-once table, node leases.
 *
 * fsm_apply() runs on the raft thread for every committed entry (a packed PeerEntry: a batch of
 * commands, group commit); the libevent thread reads the same state (IN_SYNC and the other
 * reads, admin queries, and the stored result of each committed request). A mutex guards it:
 * every fsm_* call that touches state takes it, and fsm_lock()/fsm_unlock() bracket a caller's
 * several reads (the functions marked "locked" expect it held).
 *
 * The peer table (raft id -> certificate CN, client address, data-directory incarnation) is
 * replicated too (PeerAnnounce / PeerForget commands): followers use it to tell clients where
 * the leader is, and every peer uses it to authorize peer connections.
 *
 * Results travel through the exactly-once table: applying a NodeOp stores its result under
 * (node, client_id, request_id), and the submitter, told the entry was applied, reads it there.
 * A command whose key is already in the table is not applied again (a retry).
 *
 * The feed's events (feed.h): while recording is on, everything the engine reports about what
 * IN_SYNC answers (engine.h, "output events") is queued, in apply order, for the libevent
 * thread to push to the bridges; the raft thread calls the notify function after an entry that
 * queued events. The queue is bounded (FSM_FEED_EVENTS_MAX): beyond it, and when a snapshot
 * replaces the state, the queue collapses into one reset event (every copy must be rebuilt).
 * Events never influence the replicated state.
 */
#ifndef DMLOG_FSM_H
#define DMLOG_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dedup.h"
#include "engine.h"

#define FSM_LEASES_MAX 256
#define FSM_PEERS_MAX 16
#define FSM_PEER_ID_MAX 63          /* a certificate CN */
#define FSM_PEER_ADDRESS_MAX 271

/* One row of the peer table. */
struct fsm_peer {
	uint64_t raft_id;
	uint64_t incarnation;           /* 0: not known yet */
	char id[FSM_PEER_ID_MAX + 1];
	char client_address[FSM_PEER_ADDRESS_MAX + 1];
};

#define FSM_FEED_EVENTS_MAX 16384

/* kind of an fsm_event beyond the engine's: the queue was reset (see the file comment) */
#define FSM_EVENT_RESET 0

/* One queued engine event (engine.h's struct engine_event with its strings copied). */
struct fsm_event {
	int kind;                       /* enum engine_event_kind, or FSM_EVENT_RESET */
	char uuid[ENGINE_UUID_MAX + 1];
	char node[ENGINE_NODE_NAME_MAX + 1];
	uint64_t luid;
	uint64_t first, last;
	bool in_sync, resumed, sticky, gone;
};

struct fsm;

struct fsm *fsm_new(uint32_t dedup_window);
void fsm_free(struct fsm *f);

/* Raft thread: applies one committed PeerEntry. 0, or a negative errno when the entry cannot be
 * applied (undecodable bytes, out of memory): fatal, the server must stop. */
int fsm_apply(struct fsm *f, uint64_t index, const uint8_t *buf, size_t len);

/* Raft thread: the whole state as one malloc'ed buffer (checksummed). 0 or -ENOMEM. */
int fsm_snapshot(struct fsm *f, uint8_t **buf, size_t *len);

/* Raft thread: replaces the state with a snapshot. 0, or -EINVAL (corrupt; reason in errmsg of
 * fsm_last_error) / -ENOMEM, leaving the state unchanged. */
int fsm_restore(struct fsm *f, const uint8_t *buf, size_t len);
const char *fsm_last_error(const struct fsm *f);

void fsm_lock(struct fsm *f);
void fsm_unlock(struct fsm *f);

/* Locked: the engine, for engine_read() and inspection. */
const struct engine *fsm_engine(const struct fsm *f);

/* Locked: the stored result of a request. */
bool fsm_result(const struct fsm *f, const char *node, uint64_t client_id, uint64_t request_id,
		struct dedup_result *res);

/* Locked: the nodes holding a lease (name order); fn is called for each. */
void fsm_leases(const struct fsm *f, void (*fn)(void *arg, const char *node, uint32_t lease_ms),
		void *arg);

/* Locked: index of the last applied entry. */
uint64_t fsm_applied_index(const struct fsm *f);

/* Locked: the row of raft_id; false when there is none. */
bool fsm_peer_get(const struct fsm *f, uint64_t raft_id, struct fsm_peer *out);

/* Locked: the raft id bound to certificate CN id, 0 when none. */
uint64_t fsm_peer_by_id(const struct fsm *f, const char *id);

/* Locked: every row, in raft id order. */
void fsm_peers(const struct fsm *f, void (*fn)(void *arg, const struct fsm_peer *p), void *arg);

/* The SHA-256 of the state's snapshot and the applied index it is at (takes the lock). 0 or
 * -ENOMEM. */
int fsm_digest(struct fsm *f, uint8_t out[32], uint64_t *applied);

/* Raft thread, outside the lock, after an entry that queued feed events. */
typedef void (*fsm_feed_notify_fn)(void *arg);

/* Sets the notify function (before the raft service starts). */
void fsm_feed_init(struct fsm *f, fsm_feed_notify_fn fn, void *arg);

/* Locked: starts (true) or stops recording feed events; stopping drops what is queued. */
void fsm_feed_record(struct fsm *f, bool on);

/* Any thread, without the lock: whether events are queued (a hint; take them locked). */
bool fsm_feed_pending(const struct fsm *f);

/* Locked: hands every queued event to fn, in order, and empties the queue. */
void fsm_feed_take(struct fsm *f, void (*fn)(void *arg, const struct fsm_event *ev), void *arg);

#endif /* DMLOG_FSM_H */
