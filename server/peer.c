/* peer.c: the TLS Raft transport — libraft's vtable, the listener, connect requests, closing.
 *
 * See peer.h for the design. This file keeps the list of connections, accepts new ones on the
 * raft address, turns libraft's connect requests into outgoing connections (peer_conn.c) and
 * closes everything when libraft closes the transport: pending connect requests get
 * RAFT_CANCELED, and the close callback fires once the listener and every connection handle
 * are closed.
 */
#include "peer_impl.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static struct peer_transport *pt_of(struct raft_uv_transport *t)
{
	return t->impl;
}

void peer_transport_warn(struct peer_transport *pt, const char *msg)
{
	uint64_t now = uv_now(pt->loop);

	if (strcmp(msg, pt->last_warning) == 0 && now - pt->last_warning_ms < PEER_WARN_EVERY_MS)
		return;
	snprintf(pt->last_warning, sizeof(pt->last_warning), "%s", msg);
	pt->last_warning_ms = now;
	log_warning("%s", msg);
}

/* Splits "HOST:PORT" or "[V6]:PORT". 0 or -EINVAL. */
static int split_address(const char *address, char *host, size_t hostlen, char *port,
			 size_t portlen)
{
	const char *colon, *h = address;
	size_t hl;

	if (address[0] == '[') {
		const char *close = strchr(address, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = address + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(address, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - address);
	}
	if (hl == 0 || hl >= hostlen || strlen(colon + 1) == 0 || strlen(colon + 1) >= portlen)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, portlen, "%s", colon + 1);
	for (const char *p = port; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	return 0;
}

static void maybe_closed(struct peer_transport *pt)
{
	raft_uv_transport_close_cb cb;

	if (!pt->closing || pt->closing_handles || pt->conns || !pt->close_cb)
		return;
	cb = pt->close_cb;
	pt->close_cb = NULL;
	cb(pt->t);
}

void peer_transport_conn_gone(struct peer_conn *c)
{
	struct peer_transport *pt = c->pt;
	struct raft_uv_connect *req = c->req;
	raft_uv_connect_cb cb = c->cb;
	int status = c->status ? c->status : RAFT_NOCONNECTION;

	if (c->prev)
		c->prev->next = c->next;
	else if (pt->conns == c)
		pt->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pt->nconns--;
	if (c->ssl)
		SSL_free(c->ssl); /* frees both BIOs */
	free(c);
	if (req)
		cb(req, NULL, pt->closing ? RAFT_CANCELED : status);
	maybe_closed(pt);
}

static void link_conn(struct peer_transport *pt, struct peer_conn *c)
{
	c->next = pt->conns;
	c->prev = NULL;
	if (pt->conns)
		pt->conns->prev = c;
	pt->conns = c;
	pt->nconns++;
}

void peer_transport_deliver(struct peer_transport *pt, struct peer_conn *c)
{
	uv_stream_t *stream = (uv_stream_t *)c->raft_stream;

	c->raft_stream = NULL; /* libraft's from now on: it closes and frees it */
	c->raft_stream_open = false;
	pt->accept_cb(pt->t, c->who.raft_id, c->who.address, stream);
}

static int transport_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
	struct peer_transport *pt = pt_of(t);

	if (strlen(address) >= sizeof(pt->address)) {
		snprintf(t->errmsg, sizeof(t->errmsg), "peer transport: address too long");
		return RAFT_INVALID;
	}
	pt->id = id;
	snprintf(pt->address, sizeof(pt->address), "%s", address);
	return 0;
}

static void on_incoming(uv_stream_t *listener, int status)
{
	struct peer_transport *pt = listener->data;
	struct peer_conn *c;

	if (status < 0 || pt->closing)
		return;
	c = pt->nconns < PEER_CONNECTIONS_MAX ? peer_conn_new(pt, false) : NULL;
	if (!c) {
		/* Take it off the backlog and drop it. */
		uv_tcp_t *tmp = malloc(sizeof(*tmp));

		pt->stats.refused++;
		peer_transport_warn(pt, "raft peer connection refused: too many connections");
		if (tmp && uv_tcp_init(pt->loop, tmp) == 0) {
			if (uv_accept(listener, (uv_stream_t *)tmp) != 0) {
				/* nothing to drop */
			}
			uv_close((uv_handle_t *)tmp, (uv_close_cb)free);
		} else {
			free(tmp);
		}
		return;
	}
	link_conn(pt, c);
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
		peer_conn_close(c, false, "accept failed");
		return;
	}
	if (peer_conn_accept(c) != 0)
		peer_conn_close(c, true, "raft peer connection: cannot start TLS: %s", c->why);
}

static int bind_listener(struct peer_transport *pt, char *err, size_t errlen)
{
	char host[PEER_WIRE_ADDRESS_MAX], port[8];
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	int rv;

	if (split_address(pt->address, host, sizeof(host), port, sizeof(port)) != 0) {
		snprintf(err, errlen, "bad raft address %.200s", pt->address);
		return RAFT_INVALID;
	}
	rv = getaddrinfo(host, port, &hints, &ai);
	if (rv != 0) {
		snprintf(err, errlen, "listen %.160s: %.60s", pt->address, gai_strerror(rv));
		return RAFT_IOERR;
	}
	rv = uv_tcp_bind(&pt->listener, ai->ai_addr, 0);
	freeaddrinfo(ai);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&pt->listener, 64, on_incoming);
	if (rv != 0) {
		snprintf(err, errlen, "listen %.160s: %.60s", pt->address, uv_strerror(rv));
		return RAFT_IOERR;
	}
	return 0;
}

static int transport_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
	struct peer_transport *pt = pt_of(t);
	bool tls;
	int rv;

	pt->accept_cb = cb;
	pthread_mutex_lock(&pt->ctx_lock);
	tls = pt->server_ctx != NULL;
	pthread_mutex_unlock(&pt->ctx_lock);
	if (!tls)
		return 0; /* no certificates: a one-voter group that talks to nobody */
	rv = uv_tcp_init(pt->loop, &pt->listener);
	if (rv != 0) {
		snprintf(t->errmsg, sizeof(t->errmsg), "peer transport: %s", uv_strerror(rv));
		return RAFT_IOERR;
	}
	pt->listener.data = pt;
	pt->listener_open = true;
	rv = bind_listener(pt, t->errmsg, sizeof(t->errmsg));
	if (rv != 0) {
		/* Closed with the transport. */
		return rv;
	}
	return 0;
}

static int transport_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
			     const char *address, raft_uv_connect_cb cb)
{
	struct peer_transport *pt = pt_of(t);
	struct peer_conn *c;
	char host[PEER_WIRE_ADDRESS_MAX], port[8];
	bool tls;

	/* libraft 0.22 may still ask for a connection while it closes, and even from a retry timer
	 * after its close callback, when peer_transport_free() has run (impl NULL). A connection
	 * made then would outlive the transport: refused. */
	if (!pt || pt->closing) {
		snprintf(t->errmsg, sizeof(t->errmsg), "peer transport: closed");
		return RAFT_CANCELED;
	}
	pthread_mutex_lock(&pt->ctx_lock);
	tls = pt->client_ctx != NULL;
	pthread_mutex_unlock(&pt->ctx_lock);
	if (!tls) {
		snprintf(t->errmsg, sizeof(t->errmsg), "peer transport: no TLS context");
		return RAFT_NOCONNECTION;
	}
	if (pt->nconns >= PEER_CONNECTIONS_MAX) {
		snprintf(t->errmsg, sizeof(t->errmsg), "peer transport: too many connections");
		return RAFT_NOCONNECTION;
	}
	if (strlen(address) >= PEER_WIRE_ADDRESS_MAX ||
	    split_address(address, host, sizeof(host), port, sizeof(port)) != 0) {
		snprintf(t->errmsg, sizeof(t->errmsg), "peer transport: bad address %s", address);
		return RAFT_NOCONNECTION;
	}
	c = peer_conn_new(pt, true);
	if (!c) {
		snprintf(t->errmsg, sizeof(t->errmsg), "peer transport: out of memory");
		return RAFT_NOMEM;
	}
	memcpy(c->host, host, sizeof(host));
	memcpy(c->port, port, sizeof(port));
	snprintf(c->target, sizeof(c->target), "%s", address);
	c->target_id = id;
	req->cb = cb;
	link_conn(pt, c);
	if (peer_conn_connect(c) != 0) {
		/* Failed before anything was started: undo, and let libraft retry. */
		snprintf(t->errmsg, sizeof(t->errmsg), "peer transport: connect %.120s: %.80s",
			 address, c->why);
		peer_conn_close(c, false, "%s", c->why);
		return RAFT_NOCONNECTION;
	}
	/* Only now does the connection owe libraft a callback. */
	c->req = req;
	c->cb = cb;
	return 0;
}

static void on_handle_closed(uv_handle_t *h)
{
	struct peer_transport *pt = h->data;

	if (h != (uv_handle_t *)&pt->listener)
		free(h);
	pt->closing_handles--;
	maybe_closed(pt);
}

static void transport_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
	struct peer_transport *pt = pt_of(t);
	uv_timer_t *tick = malloc(sizeof(*tick));

	pt->closing = true;
	pt->close_cb = cb;
	if (pt->listener_open) {
		pt->listener_open = false;
		pt->closing_handles++;
		uv_close((uv_handle_t *)&pt->listener, on_handle_closed);
	}
	/* A handle closed just for its callback, so that cb never runs inside this call. */
	if (tick && uv_timer_init(pt->loop, tick) == 0) {
		tick->data = pt;
		pt->closing_handles++;
		uv_close((uv_handle_t *)tick, on_handle_closed);
	} else {
		free(tick);
	}
	for (struct peer_conn *c = pt->conns, *next; c; c = next) {
		next = c->next;
		peer_conn_close(c, false, "transport closing");
	}
	maybe_closed(pt);
}

int peer_transport_init(struct raft_uv_transport *t, uv_loop_t *loop, const struct peer_config *cfg,
			char *errmsg, size_t errlen)
{
	struct peer_transport *pt = calloc(1, sizeof(*pt));

	if (!pt) {
		snprintf(errmsg, errlen, "peer transport: out of memory");
		return -ENOMEM;
	}
	if (cfg->client_address && strlen(cfg->client_address) >= sizeof(pt->client_address)) {
		snprintf(errmsg, errlen, "peer transport: client address too long");
		free(pt);
		return -EINVAL;
	}
	pt->t = t;
	pt->loop = loop;
	pt->incarnation = cfg->incarnation;
	snprintf(pt->client_address, sizeof(pt->client_address), "%s",
		 cfg->client_address ? cfg->client_address : "");
	pt->handshake_timeout_ms = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms : 5000;
	uv_update_time(loop);
	pt->quiet_until_ms = uv_now(loop) + cfg->quiet_ms;
	pt->hooks = cfg->hooks;
	pthread_mutex_init(&pt->ctx_lock, NULL);
	t->version = 1;
	t->impl = pt;
	t->init = transport_init;
	t->listen = transport_listen;
	t->connect = transport_connect;
	t->close = transport_close;
	peer_transport_set_tls(t, cfg->server_ctx, cfg->client_ctx);
	return 0;
}

void peer_transport_free(struct raft_uv_transport *t)
{
	struct peer_transport *pt = t ? pt_of(t) : NULL;

	if (!pt)
		return;
	SSL_CTX_free(pt->server_ctx);
	SSL_CTX_free(pt->client_ctx);
	pthread_mutex_destroy(&pt->ctx_lock);
	free(pt);
	t->impl = NULL;
}

void peer_transport_set_tls(struct raft_uv_transport *t, SSL_CTX *server_ctx, SSL_CTX *client_ctx)
{
	struct peer_transport *pt = pt_of(t);
	SSL_CTX *old_server, *old_client;

	if (!pt)
		return;
	if (server_ctx)
		SSL_CTX_up_ref(server_ctx);
	if (client_ctx)
		SSL_CTX_up_ref(client_ctx);
	pthread_mutex_lock(&pt->ctx_lock);
	old_server = pt->server_ctx;
	old_client = pt->client_ctx;
	pt->server_ctx = server_ctx;
	pt->client_ctx = client_ctx;
	pthread_mutex_unlock(&pt->ctx_lock);
	SSL_CTX_free(old_server);
	SSL_CTX_free(old_client);
}

unsigned peer_transport_ping(struct raft_uv_transport *t, uint64_t term, uint64_t stamp)
{
	struct peer_transport *pt = pt_of(t);
	unsigned n = 0;

	for (struct peer_conn *c = pt->conns; c; c = c->next)
		if (c->outgoing && c->state == PEER_CONN_RELAY) {
			peer_conn_ping(c, term, stamp);
			n++;
		}
	return n;
}

void peer_transport_stats(const struct raft_uv_transport *t, struct peer_stats *st)
{
	const struct peer_transport *pt = t->impl;

	*st = pt->stats;
	st->open = pt->nconns;
}
