/* raftsvc_impl.h: private layout of the Raft service, shared by the raftsvc_*.c family.
 *
 * The family: raftsvc.c is the libevent side (the public API, delivery of results), raftsvc_loop.c
 * the raft thread (libuv loop, raft instance, submissions, leadership, shutdown), raftsvc_fsm.c
 * the raft_fsm adapter around the caller's state machine, raftsvc_queue.c the hand-over queues.
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

#include "raftsvc.h"

struct event;

#define RAFTSVC_ERRMSG_SIZE 256

/* One submitted entry, from raftsvc_submit() until its done callback has been called. */
struct raftsvc_req {
	struct raft_apply apply;     /* valid until raft's callback fired or raft is closed */
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
	RAFTSVC_READY,    /* started: leader with its barrier applied at least once */
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
};

struct raftsvc {
	/* cfg */
	struct raftsvc_config cfg;   /* data_dir and address point to the copies below */
	char *data_dir;
	char *address;
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
	uint64_t snapshots;
	uint64_t restores;
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
