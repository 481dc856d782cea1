/* raftsvc_impl.h: private layout of the Raft service, shared by the raftsvc_*.c family.
 *
 * The family: raftsvc.c is the libevent side (the public API, delivery of results), raftsvc_loop.c
 * the raft thread (libuv loop, raft instance, submissions, leadership, shutdown), raftsvc_fsm.c
 * the raft_fsm adapter around the caller's state machine, raftsvc_queue.c the hand-over queues,
 * raftsvc_lease.c the read lease, raftsvc_member.c membership changes, the configuration and
 * the peer transport's hooks. The transport itself is peer.c.
 *
 * Ownership of struct raftsvc's fields, by thread:
 *  - "cfg": written by raftsvc_start() before the raft thread exists, read-only afterwards.
 *  - "sh" (struct raftsvc_shared): only under sh->lock, from either thread.
 *  - "ev side": the libevent thread only.
 *  - "raft side": the raft thread only (and raftsvc_start()/raftsvc_stop() before the thread
 *    is created or after it is joined).
 * Lock order: sh->lock is never held while calling into libevent, libraft or a callback, except
 * for uv_async_send(), which is called under sh->lock so that it can never race the closing of
 * the async handle.
 */
#ifndef DMLOG_RAFTSVC_IMPL_H
#define DMLOG_RAFTSVC_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "peer.h"
#include "raftsvc.h"

struct event;
struct raftsvc_held;

#define RAFTSVC_ERRMSG_SIZE 256

enum raftsvc_req_kind {
	RAFTSVC_REQ_ENTRY,           /* raftsvc_submit() */
	RAFTSVC_REQ_CHANGE,          /* raftsvc_change() */
};

/* One submitted entry or change, from submission until its done callback has been called. */
struct raftsvc_req {
	enum raftsvc_req_kind kind;
	struct raft_apply apply;     /* valid until raft's callback fired or raft is closed */
	struct raft_change change;   /* RAFTSVC_REQ_CHANGE: add, assign or remove */
	struct raft_transfer transfer;
	enum raftsvc_change_op op;
	uint64_t change_id;
	char *change_address;        /* malloc'ed (ADD_VOTER) */
	bool assigning;              /* ADD_VOTER: added, now being made a voter */
	struct raftsvc *s;
	struct raftsvc_req *next;    /* in exactly one queue at a time */
	struct raftsvc_req *prev;    /* in-flight list only */
	raftsvc_done_fn done;
	void *arg;
	struct raft_buffer buf;      /* raft_malloc'ed copy; base NULL once libraft owns it */
	int status;
	uint64_t index;
};

/* A FIFO of requests (singly linked through next). */
struct raftsvc_queue {
	struct raftsvc_req *head;
	struct raftsvc_req *tail;
};

enum raftsvc_phase {
	RAFTSVC_STARTING, /* raftsvc_start() waits */
	RAFTSVC_READY,    /* started: loaded, and when alone in its configuration also serving */
	RAFTSVC_FAILED,   /* start failed; start_err says why */
};

struct raftsvc_shared {
	pthread_mutex_t lock;
	pthread_cond_t cond;         /* phase changes, for raftsvc_start() */
	enum raftsvc_phase phase;
	char start_err[RAFTSVC_ERRMSG_SIZE];
	struct raftsvc_queue submitq; /* libevent -> raft thread */
	struct raftsvc_queue doneq;   /* raft thread -> libevent (status and index filled) */
	bool async_open;             /* the async handle may be sent to */
	bool stop_requested;
	bool notified;               /* the delivery event is active and not yet run */
	struct raftsvc_status pub;   /* role points to a static string */
	uint64_t leader_seq;         /* bumped at each change of pub.serving */
	bool fatal;                  /* set once, with fatal_err and fatal_msg */
	int fatal_err;
	char fatal_msg[RAFTSVC_ERRMSG_SIZE];
	struct peer_info seen[RAFTSVC_MEMBERS_MAX]; /* latest handshake per raft id */
	size_t n_seen;
	bool transport_open;         /* s->transport may be told about new TLS contexts */
};

struct raftsvc {
	/* cfg */
	struct raftsvc_config cfg;   /* strings and peers point to the copies below */
	char *data_dir;
	char *address;
	char *client_address;
	struct raftsvc_peer *peers;  /* addresses strdup'ed */
	uint64_t incarnation;
	struct event *ev;            /* delivery event on cfg.base */
	pthread_t thread;

	/* sh: points into this allocation, so that const handles can still lock */
	struct raftsvc_shared *sh;
	struct raftsvc_shared shared;

	/* ev side */
	size_t pending;              /* submitted, done not yet called */
	uint64_t delivered_seq;
	bool delivered_leader;
	bool fatal_delivered;
	bool dispatching;            /* inside the delivery callback */
	bool stopping;               /* raftsvc_stop() was called */

	/* raft side */
	uv_loop_t loop;
	uv_async_t async;
	uv_check_t check;
	struct raft_uv_transport transport;
	struct raft_io io;
	struct raft_fsm fsm;
	struct raft raft;
	bool raft_started;           /* raft_start() succeeded */
	bool raft_closing;           /* raft_close() called */
	bool raft_closed;            /* its close callback fired (io and transport freed) */
	bool stop_seen;              /* the raft thread saw stop_requested */
	bool in_start;               /* inside raft_start() */
	struct raftsvc_queue inflight; /* handed to raft_apply(), doubly linked */
	struct raft_barrier barrier;
	bool barrier_pending;
	raft_term barrier_term;
	bool ready;                  /* leader and the barrier of ready_term applied */
	raft_term ready_term;
	bool solo_start;             /* alone in the configuration at start: wait for serving */
	bool transferring;           /* a leadership transfer was asked for: not serving */
	uv_timer_t lease_timer;      /* pings the voters while leader */
	raft_term lease_term;        /* term the lease table below is for */
	struct { uint64_t id; uint64_t until_ms; } lease[RAFTSVC_MEMBERS_MAX];
	unsigned n_lease;
	uint64_t snapshots;
	uint64_t restores;
	/* raftsvc_hold.c: libraft's io->start and receive callback, and the InstallSnapshot held
	 * while a snapshot is being taken (the latest one) */
	int (*io_start)(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
			raft_io_recv_cb recv);
	raft_io_recv_cb raft_recv;
	struct raftsvc_held *held;
	uint64_t installs_held;
	bool failed;                 /* fatal: fail_err, fail_index, fail_msg */
	int fail_err;
	uint64_t fail_index;         /* entries from this index on were not applied */
	char fail_msg[RAFTSVC_ERRMSG_SIZE];
};

/* raftsvc_queue.c */
void raftsvc_queue_push(struct raftsvc_queue *q, struct raftsvc_req *req);
struct raftsvc_req *raftsvc_queue_pop(struct raftsvc_queue *q);
/* Moves every request of src, in order, to the empty queue dst; src is left empty. */
void raftsvc_queue_take(struct raftsvc_queue *dst, struct raftsvc_queue *src);
void raftsvc_queue_link(struct raftsvc_queue *q, struct raftsvc_req *req);   /* doubly linked */
void raftsvc_queue_unlink(struct raftsvc_queue *q, struct raftsvc_req *req); /* doubly linked */
/* Frees a request and its buffer (if libraft does not own it); the done callback is not called. */
void raftsvc_queue_free_req(struct raftsvc_req *req);
/* Raft thread: finishes req with status/index and hands it to the libevent thread. */
void raftsvc_queue_complete(struct raftsvc *s, struct raftsvc_req *req, int status,
			    uint64_t index);
/* Raft thread: makes sure the libevent thread runs raftsvc_deliver() soon. Call without
 * sh->lock. */
void raftsvc_queue_notify(struct raftsvc *s);

/* raftsvc_loop.c */
/* Caller thread, before the raft thread exists: initialises the uv loop and our handles. */
int raftsvc_loop_init(struct raftsvc *s, char *errmsg, size_t errlen);
/* Closes what raftsvc_loop_init() opened when the raft thread could not be created. */
void raftsvc_loop_abandon(struct raftsvc *s);
/* Body of the raft thread. */
void *raftsvc_loop_main(void *arg);
/* Raft thread: latches the service's fatal error (first one wins); the loop then closes raft.
 * index: first entry that was not applied (0: unknown, use last applied + 1). */
void raftsvc_loop_fail(struct raftsvc *s, int err, uint64_t index, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Negative errno for a libraft error code. */
int raftsvc_loop_errno(int raft_rv);
/* Raft thread: publishes the raft state to the libevent side now (also done after every loop
 * iteration). */
void raftsvc_loop_publish(struct raftsvc *s);

/* raftsvc_lease.c */
/* Milliseconds of CLOCK_MONOTONIC (the clock uv_hrtime() and uv_now() count). */
uint64_t raftsvc_lease_now_ms(void);
/* Raft thread: the peer transport hooks for PING and PONG. */
int32_t raftsvc_lease_promise(void *arg, uint64_t from, uint64_t term);
void raftsvc_lease_pong(void *arg, uint64_t from, uint64_t term, uint64_t stamp,
			int32_t promise_ms);
/* Raft thread: starts the ping timer (after raft_start) and stops it (closing). */
void raftsvc_lease_start(struct raftsvc *s);
void raftsvc_lease_stop(struct raftsvc *s);
/* Raft thread: pings now if this server leads (a new term starts with an empty table). */
void raftsvc_lease_ping(struct raftsvc *s);
/* Raft thread: the time until which a majority of voters promised (0: none, UINT64_MAX: this
 * server is the only voter). */
uint64_t raftsvc_lease_until(struct raftsvc *s);

/* raftsvc_member.c */
/* Raft thread: starts a queued RAFTSVC_REQ_CHANGE (or completes it with an error). */
void raftsvc_member_submit(struct raftsvc *s, struct raftsvc_req *req);
/* Raft thread: copies the configuration into st. */
void raftsvc_member_publish(struct raftsvc *s, struct raftsvc_status *st);
/* Raft thread: the peer transport hooks for authorization and for handshakes seen. */
int raftsvc_member_authorize(void *arg, const struct peer_info *who, char *why, size_t whylen);
void raftsvc_member_seen(void *arg, const struct peer_info *who);
/* Caller thread, before raft starts: reads or makes the data directory's incarnation. */
int raftsvc_member_incarnation(struct raftsvc *s, char *errmsg, size_t errlen);

/* raftsvc_hold.c */
/* Raft thread, after raft_uv_init(): routes received messages through the hold. */
void raftsvc_hold_wrap(struct raftsvc *s);
/* Raft thread, after every loop iteration: hands the held install to libraft once no snapshot
 * is being taken. */
void raftsvc_hold_release(struct raftsvc *s);
/* Raft thread, when raft closes: frees the held install. */
void raftsvc_hold_drop(struct raftsvc *s);

/* raftsvc_fsm.c */
#define RAFTSVC_FSM_HEADER 8
/* Size of the log entry that carries len bytes (header, bytes, padding to a multiple of 8). */
size_t raftsvc_fsm_encoded_size(size_t len);
/* Writes that entry into out (raftsvc_fsm_encoded_size(len) bytes). */
void raftsvc_fsm_encode(uint8_t *out, const uint8_t *buf, size_t len);
/* Finds the submitted bytes in a log entry: 0, or -EBADMSG if it is not one of ours. */
int raftsvc_fsm_decode(const uint8_t *in, size_t inlen, const uint8_t **buf, size_t *len);
/* Fills s->fsm, the raft_fsm adapter around s->cfg.fsm. */
void raftsvc_fsm_init(struct raftsvc *s);

#endif /* DMLOG_RAFTSVC_IMPL_H */
