/* peer_conn.c: one peer connection — TCP, TLS on memory BIOs, writes, relay to libraft.
 *
 * Bytes from the network go into the TLS engine's read BIO; what TLS writes lands in its write
 * BIO and is sent with uv_try_write() (queued with uv_write() only when the socket is full).
 * Plaintext goes to the frame parser of peer_proto.c, which hands DATA back here to be written
 * to libraft's end of the socketpair. Bytes libraft writes are read from our end, wrapped in one
 * DATA frame per read and encrypted. Either direction stops reading its source while more than
 * PEER_QUEUE_HIGH bytes wait for its destination. All of it runs in the loop thread, in the
 * callbacks of the connection's own handles.
 *
 * Order of a connecting side: resolve, TCP connect, TLS handshake (certificate, role, host),
 * then peer_proto.c (HELLO, WELCOME, authorize) hands libraft its stream. Accepting side: TLS
 * handshake (certificate, role), then peer_proto.c (HELLO, quiet wait, authorize, WELCOME).
 *
 * Closing: every handle of the connection is closed; when the last close callback has run the
 * transport frees the object (peer_transport_conn_gone()) and only then calls a pending connect
 * callback, so libraft never sees a callback for a request whose handles are still open.
 */
#include "peer_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>

#include "log.h"

struct wreq {
	uv_write_t req;
	struct peer_conn *c;
	uint8_t data[];
};

static void conn_pump(struct peer_conn *c);
static void on_inner_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);
static void alloc_inner(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_net_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);
static void alloc_net(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

bool peer_conn_live(const struct peer_conn *c)
{
	return c->state != PEER_CONN_CLOSING;
}

/* "raft_id=2 address=127.0.0.1:7790" or "from=127.0.0.1:40312", for log lines. */
void peer_conn_name(const struct peer_conn *c, char *out, size_t len)
{
	if (c->outgoing) {
		snprintf(out, len, "raft_id=%llu address=%s", (unsigned long long)c->target_id,
			 c->target);
	} else {
		struct sockaddr_storage ss;
		int sl = sizeof(ss);
		char host[64] = "?";
		int port = 0;

		if (c->tcp_open && uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0) {
			if (ss.ss_family == AF_INET) {
				const struct sockaddr_in *in = (const void *)&ss;

				uv_ip4_name(in, host, sizeof(host));
				port = ntohs(in->sin_port);
			} else if (ss.ss_family == AF_INET6) {
				const struct sockaddr_in6 *in6 = (const void *)&ss;

				uv_ip6_name(in6, host, sizeof(host));
				port = ntohs(in6->sin6_port);
			}
		}
		if (c->who.raft_id)
			snprintf(out, len, "from=%s:%d raft_id=%llu id=%s", host, port,
				 (unsigned long long)c->who.raft_id, c->who.id);
		else
			snprintf(out, len, "from=%s:%d", host, port);
	}
}

static void conn_gone_if_done(struct peer_conn *c)
{
	if (c->state == PEER_CONN_CLOSING && c->closing_handles == 0 && !c->resolving)
		peer_transport_conn_gone(c);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct peer_conn *c = h->data;

	c->closing_handles--;
	conn_gone_if_done(c);
}

static void on_raft_stream_closed(uv_handle_t *h)
{
	struct peer_conn *c = h->data;

	raft_free(h);
	c->closing_handles--;
	conn_gone_if_done(c);
}

static void close_handle(struct peer_conn *c, uv_handle_t *h, bool *open, uv_close_cb cb)
{
	if (!*open)
		return;
	*open = false;
	h->data = c;
	c->closing_handles++;
	uv_close(h, cb);
}

void peer_conn_close(struct peer_conn *c, bool warn, const char *fmt, ...)
{
	va_list ap;
	char name[PEER_WIRE_ADDRESS_MAX + 64], line[sizeof(c->why) + sizeof(name) + 2];

	if (!peer_conn_live(c))
		return;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	peer_conn_name(c, name, sizeof(name));
	snprintf(line, sizeof(line), "%s %s", c->why, name);
	if (warn) {
		c->pt->stats.refused++;
		peer_transport_warn(c->pt, line);
	} else {
		log_debug("raft peer connection closed: %s", line);
	}
	c->state = PEER_CONN_CLOSING;
	if (c->resolving)
		uv_cancel((uv_req_t *)&c->gai);
	close_handle(c, (uv_handle_t *)&c->timer, &c->timer_open, on_handle_closed);
	close_handle(c, (uv_handle_t *)&c->tcp, &c->tcp_open, on_handle_closed);
	close_handle(c, (uv_handle_t *)&c->inner, &c->inner_open, on_handle_closed);
	if (c->raft_stream)
		close_handle(c, (uv_handle_t *)c->raft_stream, &c->raft_stream_open,
			     on_raft_stream_closed);
	conn_gone_if_done(c);
}

struct peer_conn *peer_conn_new(struct peer_transport *pt, bool outgoing)
{
	struct peer_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->pt = pt;
	c->outgoing = outgoing;
	c->state = outgoing ? PEER_CONN_RESOLVING : PEER_CONN_TLS;
	uv_tcp_init(pt->loop, &c->tcp);
	c->tcp.data = c;
	c->tcp_open = true;
	uv_timer_init(pt->loop, &c->timer);
	c->timer.data = c;
	c->timer_open = true;
	return c;
}

/* ------------------------------------------------------------------ writing */

static void on_net_written(uv_write_t *req, int status)
{
	struct wreq *w = req->data;
	struct peer_conn *c = w->c;

	free(w);
	if (status == UV_ECANCELED || !peer_conn_live(c))
		return;
	if (status < 0) {
		peer_conn_close(c, false, "write: %s", uv_strerror(status));
		return;
	}
	c->progress_ms = uv_now(c->pt->loop);
	if (c->inner_paused && c->inner_open &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) <= PEER_QUEUE_HIGH / 2) {
		c->inner_paused = false;
		uv_read_start((uv_stream_t *)&c->inner, alloc_inner, on_inner_read);
	}
}

/* Queues bytes on a stream after whatever is queued already; tries to write them at once. */
static int conn_write(struct peer_conn *c, uv_stream_t *s, const uint8_t *p, size_t n,
		      uv_write_cb cb)
{
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
	struct wreq *w;
	int done = uv_try_write(s, &b, 1);

	if (done == (int)n)
		return 0;
	if (done < 0 && done != UV_EAGAIN)
		return done;
	if (done < 0)
		done = 0;
	w = malloc(sizeof(*w) + n - (size_t)done);
	if (!w)
		return UV_ENOMEM;
	memcpy(w->data, p + done, n - (size_t)done);
	w->c = c;
	w->req.data = w;
	b = uv_buf_init((char *)w->data, (unsigned)(n - (size_t)done));
	done = uv_write(&w->req, s, &b, 1, cb);
	if (done != 0)
		free(w);
	return done;
}

/* Sends what TLS has produced. */
static void conn_flush(struct peer_conn *c)
{
	size_t pending;
	uint8_t *tmp;
	int rv;

	if (!peer_conn_live(c))
		return;
	pending = BIO_ctrl_pending(c->wbio);
	if (pending == 0)
		return;
	tmp = malloc(pending);
	if (!tmp) {
		peer_conn_close(c, true, "raft peer connection: out of memory");
		return;
	}
	if (BIO_read(c->wbio, tmp, (int)pending) != (int)pending) {
		free(tmp);
		peer_conn_close(c, true, "raft peer connection: TLS output lost");
		return;
	}
	rv = conn_write(c, (uv_stream_t *)&c->tcp, tmp, pending, on_net_written);
	free(tmp);
	if (rv != 0) {
		peer_conn_close(c, false, "write: %s", uv_strerror(rv));
		return;
	}
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0)
		c->progress_ms = uv_now(c->pt->loop);
	if (!c->inner_paused && c->inner_open &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > PEER_QUEUE_HIGH) {
		/* Back-pressure: stop taking libraft's bytes until the network catches up. */
		c->inner_paused = true;
		uv_read_stop((uv_stream_t *)&c->inner);
	}
}

/* Encrypts one plaintext frame (or DATA run) and sends it. */
void peer_conn_send(struct peer_conn *c, const uint8_t *p, size_t n)
{
	if (!peer_conn_live(c))
		return;
	/* The shared TLS context enables partial writes, so SSL_write() may stop after one record
	 * (16 KiB): keep going until everything is encrypted (the memory BIO never blocks). */
	while (n > 0) {
		int w;

		ERR_clear_error();
		w = SSL_write(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
		if (w <= 0) {
			char err[200];

			tls_drain_errors(err, sizeof(err));
			peer_conn_close(c, true, "raft peer connection: TLS write: %s", err);
			return;
		}
		p += w;
		n -= (size_t)w;
	}
	conn_flush(c);
}

static void on_inner_written(uv_write_t *req, int status)
{
	struct wreq *w = req->data;
	struct peer_conn *c = w->c;

	free(w);
	if (status == UV_ECANCELED || !peer_conn_live(c))
		return;
	if (status < 0) {
		peer_conn_close(c, false, "raft stream write: %s", uv_strerror(status));
		return;
	}
	if (c->tcp_paused &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->inner) <= PEER_QUEUE_HIGH / 2) {
		c->tcp_paused = false;
		conn_pump(c); /* plaintext may already wait in the TLS engine */
		if (peer_conn_live(c) && !c->tcp_paused)
			uv_read_start((uv_stream_t *)&c->tcp, alloc_net, on_net_read);
	}
}

/* Hands relayed bytes to libraft. */
void peer_conn_to_raft(struct peer_conn *c, const uint8_t *p, size_t n)
{
	int rv = conn_write(c, (uv_stream_t *)&c->inner, p, n, on_inner_written);

	if (rv != 0) {
		peer_conn_close(c, false, "raft stream write: %s", uv_strerror(rv));
		return;
	}
	if (!c->tcp_paused &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->inner) > PEER_QUEUE_HIGH) {
		c->tcp_paused = true;
		uv_read_stop((uv_stream_t *)&c->tcp);
	}
}

/* ------------------------------------------------------------------ relay set-up */

static void alloc_inner(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct peer_conn *c = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)c->outbuf + PEER_WIRE_HEADER, PEER_READ_CHUNK);
}

static void on_inner_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct peer_conn *c = s->data;

	(void)buf;
	if (!peer_conn_live(c) || n == 0)
		return;
	if (n < 0) {
		peer_conn_close(c, false, "closed by raft");
		return;
	}
	peer_wire_header(c->outbuf, PEER_FRAME_DATA, (uint32_t)n);
	peer_conn_send(c, c->outbuf, (size_t)n + PEER_WIRE_HEADER);
}

static void on_stall_check(uv_timer_t *t)
{
	struct peer_conn *c = t->data;
	uint64_t now = uv_now(c->pt->loop);

	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > 0 &&
	    now - c->progress_ms > PEER_STALL_MS)
		peer_conn_close(c, true, "raft peer connection stalled: nothing sent for %u ms",
				PEER_STALL_MS);
}

/* The socketpair: libraft's end becomes c->raft_stream, ours c->inner (read at once). */
int peer_conn_relay_start(struct peer_conn *c)
{
	uv_loop_t *loop = c->pt->loop;
	int sv[2], rv;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	c->raft_stream = raft_malloc(sizeof(*c->raft_stream));
	if (!c->raft_stream) {
		close(sv[0]);
		close(sv[1]);
		return -ENOMEM;
	}
	uv_pipe_init(loop, c->raft_stream, 0);
	c->raft_stream->data = c;
	c->raft_stream_open = true;
	uv_pipe_init(loop, &c->inner, 0);
	c->inner.data = c;
	c->inner_open = true;
	rv = uv_pipe_open(c->raft_stream, sv[0]);
	if (rv != 0) {
		close(sv[0]);
		close(sv[1]);
		return rv;
	}
	rv = uv_pipe_open(&c->inner, sv[1]);
	if (rv != 0) {
		close(sv[1]);
		return rv;
	}
	rv = uv_read_start((uv_stream_t *)&c->inner, alloc_inner, on_inner_read);
	if (rv != 0)
		return rv;
	c->state = PEER_CONN_RELAY;
	c->progress_ms = uv_now(loop);
	c->pt->stats.accepted++;
	uv_timer_start(&c->timer, on_stall_check, 1000, 1000);
	return 0;
}

static void conn_pump(struct peer_conn *c)
{
	if (c->state == PEER_CONN_TLS) {
		int rv;

		ERR_clear_error();
		rv = SSL_do_handshake(c->ssl);
		if (rv != 1) {
			int e = SSL_get_error(c->ssl, rv);

			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				char err[256];

				tls_drain_errors(err, sizeof(err));
				conn_flush(c); /* the alert, if any */
				peer_conn_close(c, true, "raft peer connection: TLS handshake: %s",
						err);
				return;
			}
			conn_flush(c);
			return;
		}
		if (peer_proto_handshake_done(c) != 0)
			return;
	}
	while (peer_conn_live(c) && !c->tcp_paused) {
		int n, e;

		ERR_clear_error();
		n = SSL_read(c->ssl, c->plain, sizeof(c->plain));
		if (n > 0) {
			peer_proto_parse(c, c->plain, (size_t)n);
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			break;
		if (e == SSL_ERROR_ZERO_RETURN) {
			peer_conn_close(c, false, "closed by peer");
			return;
		} else {
			char err[256];

			tls_drain_errors(err, sizeof(err));
			peer_conn_close(c, true, "raft peer connection: TLS: %s", err);
			return;
		}
	}
	conn_flush(c);
}

/* ------------------------------------------------------------------ network side */

static void alloc_net(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct peer_conn *c = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)c->netbuf, sizeof(c->netbuf));
}

static void on_net_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct peer_conn *c = s->data;

	if (!peer_conn_live(c) || n == 0)
		return;
	if (n < 0) {
		peer_conn_close(c, false, n == UV_EOF ? "closed by peer" : "read: %s",
				uv_strerror((int)n));
		return;
	}
	if (BIO_write(c->rbio, buf->base, (int)n) != (int)n) {
		peer_conn_close(c, true, "raft peer connection: out of memory");
		return;
	}
	conn_pump(c);
}

static int conn_tls_new(struct peer_conn *c)
{
	struct peer_transport *pt = c->pt;

	pthread_mutex_lock(&pt->ctx_lock);
	if (c->outgoing ? pt->client_ctx : pt->server_ctx)
		c->ssl = SSL_new(c->outgoing ? pt->client_ctx : pt->server_ctx);
	pthread_mutex_unlock(&pt->ctx_lock);
	if (!c->ssl) {
		snprintf(c->why, sizeof(c->why), "no TLS context");
		return -ENOMEM;
	}
	c->rbio = BIO_new(BIO_s_mem());
	c->wbio = BIO_new(BIO_s_mem());
	if (!c->rbio || !c->wbio) {
		BIO_free(c->rbio);
		BIO_free(c->wbio);
		c->rbio = c->wbio = NULL;
		snprintf(c->why, sizeof(c->why), "out of memory");
		return -ENOMEM;
	}
	BIO_set_mem_eof_return(c->rbio, -1);
	BIO_set_mem_eof_return(c->wbio, -1);
	SSL_set_bio(c->ssl, c->rbio, c->wbio);
	if (!c->outgoing) {
		SSL_set_accept_state(c->ssl);
		return 0;
	}
	SSL_set_connect_state(c->ssl);
	return tls_client_set_host(c->ssl, c->host, c->why, sizeof(c->why));
}

static int conn_start_tls(struct peer_conn *c)
{
	int rv;

	uv_tcp_nodelay(&c->tcp, 1);
	rv = conn_tls_new(c);
	if (rv != 0)
		return rv;
	c->state = PEER_CONN_TLS;
	rv = uv_read_start((uv_stream_t *)&c->tcp, alloc_net, on_net_read);
	if (rv != 0) {
		snprintf(c->why, sizeof(c->why), "read: %s", uv_strerror(rv));
		return rv;
	}
	conn_pump(c); /* the client's first flight */
	return 0;
}

int peer_conn_accept(struct peer_conn *c)
{
	uv_timer_start(&c->timer, peer_proto_deadline, c->pt->handshake_timeout_ms, 0);
	return conn_start_tls(c);
}

static void on_connected(uv_connect_t *req, int status)
{
	struct peer_conn *c = req->data;

	if (status == UV_ECANCELED || !peer_conn_live(c))
		return;
	if (status < 0) {
		peer_conn_close(c, false, "connect: %s", uv_strerror(status));
		return;
	}
	if (conn_start_tls(c) != 0 && peer_conn_live(c))
		peer_conn_close(c, true, "raft peer connection: %s", c->why);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct peer_conn *c = req->data;
	int rv;

	c->resolving = false;
	if (!peer_conn_live(c)) {
		uv_freeaddrinfo(res);
		conn_gone_if_done(c);
		return;
	}
	if (status < 0 || !res) {
		uv_freeaddrinfo(res);
		peer_conn_close(c, true, "raft peer %s: cannot resolve: %s", c->target,
				uv_strerror(status));
		return;
	}
	c->state = PEER_CONN_CONNECTING;
	c->connect.data = c;
	rv = uv_tcp_connect(&c->connect, &c->tcp, res->ai_addr, on_connected);
	uv_freeaddrinfo(res);
	if (rv != 0)
		peer_conn_close(c, false, "connect: %s", uv_strerror(rv));
}

int peer_conn_connect(struct peer_conn *c)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	int rv;

	c->gai.data = c;
	rv = uv_getaddrinfo(c->pt->loop, &c->gai, on_resolved, c->host, c->port, &hints);
	if (rv != 0) {
		snprintf(c->why, sizeof(c->why), "resolve: %s", uv_strerror(rv));
		return rv;
	}
	c->resolving = true;
	uv_timer_start(&c->timer, peer_proto_deadline, c->pt->handshake_timeout_ms, 0);
	return 0;
}

void peer_conn_ping(struct peer_conn *c, uint64_t term, uint64_t stamp)
{
	struct peer_ping pg = {.term = term, .stamp = stamp, .promise_ms = -1};
	uint8_t frame[64];

	peer_conn_send(c, frame, peer_wire_ping(frame, PEER_FRAME_PING, &pg));
}
