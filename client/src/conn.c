/* conn.c: one client connection to a dmlogd (TCP connect, TLS handshake, framing). */
#include "conn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "frame.h"
#include "ctls.h"

/* The largest frame conn_write_now() writes at once (well under one TLS record). */
#define CONN_WRITE_NOW_MAX 4096

struct conn {
	struct event_base *base;
	SSL_CTX *ctx;
	char *verify_name;
	const struct conn_ops *ops;
	void *arg;
	struct addrinfo *addrs;     /* resolved addresses, tried in turn */
	struct addrinfo *next_addr;
	int fd;                     /* socket being connected, before TLS; -1 after */
	struct event *connect_ev;
	int last_errno;             /* of the last address that failed */
	struct bufferevent *bev;    /* TLS, once TCP is connected; owns the SSL and the socket */
	SSL *ssl;
	struct frame_decoder decoder;
	bool up;
	bool failed;                /* `down` was called: silent from now on */
	bool dead;                  /* conn_free() was called from inside a callback */
	unsigned busy;              /* callbacks of this conn running */
};

static void conn_destroy(struct conn *c)
{
	frame_decoder_free(&c->decoder);
	if (c->addrs)
		freeaddrinfo(c->addrs);
	free(c->verify_name);
	free(c);
}

/* Releases every resource that touches the network; the struct itself may still be in use. */
static void conn_close(struct conn *c)
{
	if (c->connect_ev) {
		event_free(c->connect_ev);
		c->connect_ev = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->bev) {
		bufferevent_free(c->bev); /* with BEV_OPT_CLOSE_ON_FREE: the SSL and the socket too */
		c->bev = NULL;
		c->ssl = NULL;
	}
}

void conn_free(struct conn *c)
{
	if (!c)
		return;
	conn_close(c);
	if (c->busy) {
		c->dead = true;
		return;
	}
	conn_destroy(c);
}

static void conn_enter(struct conn *c)
{
	c->busy++;
}

/* Returns true when c was destroyed. */
static bool conn_leave(struct conn *c)
{
	if (--c->busy == 0 && c->dead) {
		conn_destroy(c);
		return true;
	}
	return false;
}

static void conn_fail(struct conn *c, int err, const char *cause)
{
	if (c->failed || c->dead)
		return;
	c->failed = true;
	conn_close(c);
	c->ops->down(c->arg, err, cause);
}

static void conn_on_connect(evutil_socket_t fd, short what, void *arg);

/* Starts a connect to the next address that does not fail at once. Returns 0 (a connect is in
 * progress) or the negative errno of the last address tried. */
static int conn_try(struct conn *c)
{
	while (c->next_addr) {
		struct addrinfo *ai = c->next_addr;
		int one = 1;

		c->next_addr = ai->ai_next;
		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       ai->ai_protocol);
		if (c->fd < 0) {
			c->last_errno = errno;
			continue;
		}
		/* Requests are small and latency-bound: never wait to coalesce them. */
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			c->last_errno = errno;
			close(c->fd);
			c->fd = -1;
			continue;
		}
		/* Even an immediate success is reported through writability, from the loop. */
		c->connect_ev = event_new(c->base, c->fd, EV_WRITE, conn_on_connect, c);
		if (!c->connect_ev || event_add(c->connect_ev, NULL) < 0) {
			c->last_errno = ENOMEM;
			conn_close(c);
			return -ENOMEM;
		}
		return 0;
	}
	return -(c->last_errno ? c->last_errno : EHOSTUNREACH);
}

static void conn_on_read(struct bufferevent *bev, void *arg);
static void conn_on_event(struct bufferevent *bev, short what, void *arg);

/* TCP is up: hand the socket to a TLS bufferevent and start the handshake. */
static int conn_start_tls(struct conn *c)
{
	SSL *ssl = ctls_new(c->ctx, c->verify_name);
	int fd = c->fd;
	BIO *bio = ssl ? ctls_socket_bio(fd) : NULL;

	if (!bio) {
		SSL_free(ssl);
		return -ENOMEM;
	}
	/* The bufferevent takes the fd from the BIO and closes it when it is freed. */
	SSL_set_bio(ssl, bio, bio);
	c->fd = -1;
	c->bev = bufferevent_openssl_socket_new(c->base, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
						BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!c->bev) {
		/* The SSL object went with the failed bufferevent; the socket is still ours. */
		close(fd);
		return -ENOMEM;
	}
	c->ssl = ssl;
	/* libevent sets it too; conn_write_now() relies on it. */
	SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, conn_on_read, NULL, conn_on_event, c);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) < 0)
		return -ENOMEM;
	return 0;
}

static void conn_on_connect(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int err = 0;
	socklen_t len = sizeof(err);
	int rc;

	conn_enter(c);
	event_free(c->connect_ev);
	c->connect_ev = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		c->last_errno = err;
		close(c->fd);
		c->fd = -1;
		rc = conn_try(c);
		if (rc < 0)
			conn_fail(c, rc, strerror(-rc));
	} else {
		rc = conn_start_tls(c);
		if (rc < 0)
			conn_fail(c, rc, "TLS: out of memory");
	}
	conn_leave(c);
}

static void conn_on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	conn_enter(c);
	while (!c->failed && !c->dead && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		const uint8_t *frame;
		uint32_t frame_len;
		ssize_t used;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		used = frame_decoder_feed(&c->decoder, v.iov_base, v.iov_len, &frame, &frame_len);
		if (used < 0) {
			char cause[96];

			snprintf(cause, sizeof(cause), "bad frame from the server: %s",
				 used == -EMSGSIZE ? "length over the limit" :
				 used == -EBADMSG ? "zero length" : strerror((int)-used));
			conn_fail(c, (int)used, cause);
			break;
		}
		evbuffer_drain(in, (size_t)used);
		if (frame)
			c->ops->frame(c->arg, frame, frame_len);
	}
	conn_leave(c);
}

/* After a failed write, reads what the server sent before it closed. Under TLS 1.3 a server
 * refuses a client certificate only after the client considers the handshake done, so the
 * first request can meet the reset that follows the server's alert before the alert is read;
 * the alert is still in the socket, and it is the real reason. Returns its OpenSSL error, or
 * 0. */
static unsigned long conn_last_words(struct conn *c)
{
	char buf[512];
	unsigned long e;

	ERR_clear_error();
	for (int i = 0; i < 8 && SSL_read(c->ssl, buf, sizeof(buf)) > 0; i++)
		;
	e = ERR_peek_error();
	return e && ERR_GET_LIB(e) != 0 ? e : 0;
}

static void conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	char cause[200];
	char detail[160];

	conn_enter(c);
	if (what & BEV_EVENT_CONNECTED) {
		c->up = true;
		c->ops->up(c->arg);
	} else if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		unsigned long ssl_err = 0, e;
		int sock_err = (what & BEV_EVENT_ERROR) ? EVUTIL_SOCKET_ERROR() : 0;
		int rc;

		/* libevent queues SSL_get_error()'s code (a small number of library 0) ahead of
		 * OpenSSL's own errors: keep the first real one, the root cause. */
		while ((e = bufferevent_get_openssl_error(bev)))
			if (!ssl_err && ERR_GET_LIB(e) != 0)
				ssl_err = e;
		if (!ssl_err && c->up && (what & BEV_EVENT_WRITING))
			ssl_err = conn_last_words(c);
		if (ssl_err)
			sock_err = 0;
		rc = ctls_describe(c->ssl, ssl_err, sock_err, detail, sizeof(detail));
		ERR_clear_error();
		if (c->up)
			snprintf(cause, sizeof(cause), "%s", detail);
		else
			snprintf(cause, sizeof(cause), "TLS handshake: %s", detail);
		conn_fail(c, rc, cause);
	}
	conn_leave(c);
}

int conn_new(struct event_base *base, SSL_CTX *ctx, const char *host, const char *port,
	     const char *verify_name, const struct conn_ops *ops, void *arg, struct conn **out,
	     char *cause, size_t len)
{
	struct addrinfo hints;
	struct conn *c;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->verify_name = strdup(verify_name))) {
		free(c);
		snprintf(cause, len, "out of memory");
		return -ENOMEM;
	}
	c->base = base;
	c->ctx = ctx;
	c->ops = ops;
	c->arg = arg;
	c->fd = -1;
	frame_decoder_init(&c->decoder, 0);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &c->addrs);
	if (rc == EAI_NONAME) {
		hints.ai_flags = AI_NUMERICSERV;
		rc = getaddrinfo(host, port, &hints, &c->addrs);
	}
	if (rc) {
		snprintf(cause, len, "resolve %s: %s", host,
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		c->addrs = NULL;
		conn_destroy(c);
		return -EHOSTUNREACH;
	}
	c->next_addr = c->addrs;
	rc = conn_try(c);
	if (rc < 0) {
		snprintf(cause, len, "%s", strerror(-rc));
		conn_destroy(c);
		return rc;
	}
	*out = c;
	return 0;
}

int conn_write(struct conn *c, const void *p, size_t n)
{
	if (!c->bev || c->failed)
		return -ENOTCONN;
	return bufferevent_write(c->bev, p, n) < 0 ? -ENOMEM : 0;
}

int conn_write_now(struct conn *c, const void *p, size_t n)
{
	if (!c->bev || c->failed)
		return -ENOTCONN;
	/* Only on a clean stream: nothing queued in the bufferevent and no TLS write left over
	 * from a read (a KeyUpdate answer) in OpenSSL, so that this SSL_write starts afresh. If it
	 * does not complete, OpenSSL wants the same bytes again: queued into the empty output
	 * they form one chunk under the bufferevent's 16 KiB write size, so its SSL_write retries
	 * exactly them (from another address: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER); a failure
	 * (its errno and OpenSSL errors) then recurs on that retry and reaches `down` as it would
	 * have without this shortcut. */
	if (c->up && n <= CONN_WRITE_NOW_MAX && SSL_want(c->ssl) != SSL_WRITING &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0 &&
	    SSL_write(c->ssl, p, (int)n) == (int)n)
		return 0;
	return bufferevent_write(c->bev, p, n) < 0 ? -ENOMEM : 0;
}
