/* conn.h: one client connection to a dmlogd: TCP connect, TLS handshake, frames in and out.
 *
 * A conn resolves the server, tries its addresses in turn with a non-blocking connect, runs the
 * TLS handshake through a bufferevent_openssl, then hands every whole incoming frame to its
 * owner and writes the frames it is given. It knows nothing of messages, requests or retries;
 * overall deadlines belong to the owner.
 *
 * Callbacks run from the event loop only, never from inside a conn_*() call. After `down`, the
 * conn calls nothing more and the owner must conn_free() it. conn_free() may be called from
 * inside any of the callbacks.
 */
#ifndef DMLOG_CLIENT_CONN_H
#define DMLOG_CLIENT_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct event_base;
struct conn;

struct conn_ops {
	/* The TLS handshake completed: frames can be written. */
	void (*up)(void *arg);
	/* One whole frame's payload, valid during the call only. */
	void (*frame)(void *arg, const uint8_t *payload, size_t len);
	/* The connection failed or was closed: err is a negative errno, cause says why (for
	 * example "Connection refused", "TLS handshake: certificate verify failed: ..."). */
	void (*down)(void *arg, int err, const char *cause);
};

/* Starts connecting to host:port, proving the server is verify_name. Returns 0 with *out set, or
 * a negative errno with the cause in cause[0..len) when nothing could even be started (name
 * resolution failed, every address refused at once). */
int conn_new(struct event_base *base, SSL_CTX *ctx, const char *host, const char *port,
	     const char *verify_name, const struct conn_ops *ops, void *arg, struct conn **out,
	     char *cause, size_t len);

/* Queues bytes (whole frames, header included) for sending. Only after `up`. Returns 0 or
 * -ENOMEM. */
int conn_write(struct conn *c, const void *p, size_t n);

/* The same, for a caller that waits for the answer right away (the blocking API): when nothing
 * is queued before them, the bytes go through TLS to the socket within this call instead of on
 * the loop's next writable event (which costs two epoll_ctl and one epoll_wait per frame). Any
 * bytes not written this way are queued as conn_write() would, and a failure is reported by
 * `down` from the loop, as for conn_write(). Calls no callback. Returns 0 or -ENOMEM. */
int conn_write_now(struct conn *c, const void *p, size_t n);

/* Closes the connection at once and releases it. NULL is a no-op. */
void conn_free(struct conn *c);

#endif /* DMLOG_CLIENT_CONN_H */
