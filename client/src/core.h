/* core.h: the inside of a dmlog_async handle, shared by async.c (requests and callbacks) and
 * link.c (the connection: connect, Hello, redirects, reconnects, backoff).
 *
 * Single-threaded: everything runs on the handle's event_base. Callbacks of the user may free
 * the handle; to make that safe, every entry from libevent into the handle is bracketed by
 * async_enter()/async_leave(), and the memory is released only when the outermost bracket
 * closes (`depth` reaches 0 with `freeing` set). Code that calls a user callback must not touch
 * the connection state afterwards without checking `freeing`.
 */
#ifndef DMLOG_CLIENT_CORE_H
#define DMLOG_CLIENT_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include <openssl/ssl.h>

#include <dmlog/async.h>

#include "options.h"
#include "reqtab.h"

struct conn;
struct event;
struct event_base;

enum link_state {
	LINK_IDLE,        /* no connection, nothing scheduled */
	LINK_WAITING,     /* the timer will start the next connection attempt */
	LINK_CONNECTING,  /* TCP + TLS under way; the timer is the connect deadline */
	LINK_HELLO,       /* Hello sent, its answer awaited; same deadline */
	LINK_READY,       /* requests flow */
};

struct dmlog_async {
	struct event_base *base;
	struct options opts;
	SSL_CTX *ssl_ctx;
	uint64_t client_id;
	uint64_t last_id;                /* ids are drawn from here, requests and Hellos alike */
	struct reqtab reqs;
	struct timeval req_tv;           /* request deadline, when no common timeout is left */
	const struct timeval *req_timeout; /* NULL without deadlines */
	bool write_now;                  /* requests go to the socket at submit (conn_write_now()):
					  * set by the blocking handle, which waits right away */

	/* link.c */
	enum link_state state;
	struct conn *conn;
	struct event *timer;             /* attempt delay, connect deadline, deferred failure */
	struct server_addr target;       /* where conn goes */
	bool target_is_redirect;
	struct server_addr redirect;     /* the leader a server sent us to */
	bool has_redirect;
	size_t next_server;              /* configured server of the next attempt */
	unsigned failed_attempts;        /* since the last Hello answered */
	unsigned hello_redirects;        /* since the last Hello answered */
	uint32_t refused_mask;           /* configured servers that failed permanently */
	uint64_t hello_id;
	uint32_t lease_ms;               /* from the last HelloReply */
	uint32_t features;               /* from the last HelloReply (DMLOG_FEATURE_*) */
	bool down_pending;               /* a ready connection ended: tell the push callback */
	dmlog_async_push_cb *push_cb;    /* server pushes (NULL: dropped) */
	void *push_arg;
	int deferred_err;                /* a write failure waiting for the timer */
	char last_error[DMLOG_ERRMSG_SIZE]; /* the last connection failure */
	/* The same, kept when a connection then succeeds, and how many failures there were: a
	 * request that times out names the last one that happened while it waited. */
	char last_failure[DMLOG_ERRMSG_SIZE];
	uint64_t failures;

	/* async.c */
	unsigned depth;
	bool freeing;
	char errmsg[DMLOG_ERRMSG_SIZE];
};

/* snprintf() for messages, where cutting a long one short is the intended behaviour. */
void async_format(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Brackets every entry from the event loop. async_leave() returns true when it released the
 * handle (which must not be touched any more). Leaving the outermost bracket first tells the
 * push callback about a ready connection that ended inside it (DMLOG_PUSH_LINK_DOWN), so that
 * it hears of it before anything from the next connection and outside the link's code. */
void async_enter(struct dmlog_async *ac);
bool async_leave(struct dmlog_async *ac);

/* Removes r from the table and calls its callback (status 0 with res, or a negative errno with
 * the message `why`, which becomes the handle's errmsg), then frees r. The handle may be marked
 * `freeing` on return. */
void async_complete(struct dmlog_async *ac, struct req *r, int status,
		    const struct dmlog_result *res, const char *why);

/* Completes every request pending now with status and why (requests submitted from their
 * callbacks are left alone). */
void async_fail_all(struct dmlog_async *ac, int status, const char *why);

/* Creates the link's timer. Returns 0 or -ENOMEM. */
int link_init(struct dmlog_async *ac);

/* Makes sure a connection is being made while requests are pending (from submit). */
void link_kick(struct dmlog_async *ac);

/* Sends r now if the connection is ready; otherwise it goes when it is. */
void link_send(struct dmlog_async *ac, struct req *r);

/* Closes the connection and releases the link's resources (handle teardown). */
void link_close(struct dmlog_async *ac);

#endif /* DMLOG_CLIENT_CORE_H */
