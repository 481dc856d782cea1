/* peer_proto.c: the peer protocol on one connection — handshake, frame dispatch, pings.
 *
 * What the plaintext of a peer connection means (peer_wire.h): after the TLS handshake the
 * certificate's role is checked (peer_proto_handshake_done()), the connecting side sends HELLO,
 * the accepting side holds it through the quiet start, asks hooks.authorize() and answers
 * WELCOME (a refusal is logged before it is sent, then the connection is shut down); the
 * connecting side checks the WELCOME (status, the raft id it wanted, hooks.authorize()) and only
 * then hands libraft its stream. In the relay state DATA goes to libraft and PING/PONG carry the
 * read lease. Any frame out of place closes the connection. Loop thread only.
 */
#include "peer_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

/* The peer is heard from now: tell hooks.seen(), at most every PEER_HEARD_EVERY_MS per
 * connection (the hook takes a lock; frames come far more often than that under load). */
static void conn_heard(struct peer_conn *c, bool force)
{
	struct peer_transport *pt = c->pt;
	uint64_t now = clock_mono_ms();

	if (!force && now - c->who.heard_ms < PEER_HEARD_EVERY_MS)
		return;
	c->who.heard_ms = now;
	if (pt->hooks.seen)
		pt->hooks.seen(pt->hooks.arg, &c->who);
}

static void own_hello(const struct peer_conn *c, struct peer_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->raft_id = c->pt->id;
	h->incarnation = c->pt->incarnation;
	snprintf(h->address, sizeof(h->address), "%s", c->pt->address);
	snprintf(h->client_address, sizeof(h->client_address), "%s", c->pt->client_address);
}

static void send_hello(struct peer_conn *c, enum peer_frame type, struct peer_hello *h)
{
	uint8_t frame[PEER_WIRE_HEADER + PEER_WIRE_CONTROL_MAX];
	size_t n = peer_wire_hello(frame, sizeof(frame), type, h);

	if (n == 0) {
		peer_conn_close(c, true, "raft peer connection: handshake too long to send");
		return;
	}
	peer_conn_send(c, frame, n);
}

static void on_refusal_deadline(uv_timer_t *t)
{
	peer_conn_close(t->data, false, "refusal not flushed in time");
}

static void on_refusal_sent(uv_shutdown_t *req, int status)
{
	struct peer_conn *c = req->data;

	(void)status;
	free(req);
	if (peer_conn_live(c))
		peer_conn_close(c, false, "refusal sent");
}

/* Accepting side: decide, answer, hand the stream to libraft. */
static void conn_admit(struct peer_conn *c)
{
	struct peer_transport *pt = c->pt;
	struct peer_hello w;
	char why[PEER_WIRE_REASON_MAX] = "";
	int rv;

	own_hello(c, &w);
	rv = pt->hooks.authorize(pt->hooks.arg, &c->who, why, sizeof(why));
	if (rv != 0) {
		char name[PEER_WIRE_ADDRESS_MAX + 64], line[600];
		uv_shutdown_t *sd = malloc(sizeof(*sd));

		w.status = (uint32_t)(rv < 0 ? -rv : rv);
		snprintf(w.reason, sizeof(w.reason), "%s", why[0] ? why : "not authorized");
		peer_conn_name(c, name, sizeof(name));
		snprintf(line, sizeof(line), "raft peer connection refused: %s %s", w.reason, name);
		pt->stats.refused++;
		peer_transport_warn(pt, line); /* logged before the peer can hear of it */
		send_hello(c, PEER_FRAME_WELCOME, &w);
		/* Let the refusal out, then close (the deadline timer still bounds it). */
		if (peer_conn_live(c) && sd) {
			sd->data = c;
			uv_timer_start(&c->timer, on_refusal_deadline, pt->handshake_timeout_ms, 0);
			if (uv_shutdown(sd, (uv_stream_t *)&c->tcp, on_refusal_sent) == 0)
				return;
		}
		free(sd);
		peer_conn_close(c, false, "refused");
		return;
	}
	rv = peer_conn_relay_start(c);
	if (rv != 0) {
		peer_conn_close(c, true, "raft peer connection: relay: %s", strerror(-rv));
		return;
	}
	send_hello(c, PEER_FRAME_WELCOME, &w);
	if (!peer_conn_live(c))
		return;
	log_debug("raft peer connected raft_id=%llu id=%s address=%s",
		  (unsigned long long)c->who.raft_id, c->who.id, c->who.address);
	conn_heard(c, true);
	peer_transport_deliver(pt, c);
}

void peer_proto_deadline(uv_timer_t *t)
{
	struct peer_conn *c = t->data;

	if (c->state == PEER_CONN_QUIET) {
		c->state = PEER_CONN_HELLO;
		uv_timer_start(&c->timer, peer_proto_deadline, c->pt->handshake_timeout_ms, 0);
		conn_admit(c);
		return;
	}
	if (c->state == PEER_CONN_RESOLVING || c->state == PEER_CONN_CONNECTING)
		peer_conn_close(c, false, "connect timed out");
	else
		peer_conn_close(c, true, "raft peer connection: handshake timed out");
}

static void conn_got_hello(struct peer_conn *c)
{
	struct peer_transport *pt = c->pt;
	struct peer_hello h;
	uint64_t now = uv_now(pt->loop);
	char id[TLS_IDENTITY_MAX];

	if (peer_wire_parse_hello(c->ctl, c->len, PEER_FRAME_HELLO, &h) != 0 || h.raft_id == 0) {
		peer_conn_close(c, true, "raft peer connection refused: malformed hello");
		return;
	}
	memcpy(id, c->who.id, sizeof(id));
	memset(&c->who, 0, sizeof(c->who));
	memcpy(c->who.id, id, sizeof(id));
	c->who.raft_id = h.raft_id;
	c->who.incarnation = h.incarnation;
	memcpy(c->who.address, h.address, sizeof(h.address));
	memcpy(c->who.client_address, h.client_address, sizeof(h.client_address));
	if (now < pt->quiet_until_ms) {
		c->state = PEER_CONN_QUIET;
		uv_timer_start(&c->timer, peer_proto_deadline, pt->quiet_until_ms - now, 0);
		return;
	}
	conn_admit(c);
}

static void conn_got_welcome(struct peer_conn *c)
{
	struct peer_transport *pt = c->pt;
	struct peer_hello w;
	struct raft_uv_connect *req;
	uv_stream_t *stream;
	char why[PEER_WIRE_REASON_MAX] = "";
	int rv;

	if (peer_wire_parse_hello(c->ctl, c->len, PEER_FRAME_WELCOME, &w) != 0) {
		peer_conn_close(c, true, "raft peer connection: malformed welcome");
		return;
	}
	if (w.status != 0) {
		peer_conn_close(c, true, "raft peer refused this peer: %s", w.reason);
		return;
	}
	if (w.raft_id != c->target_id) {
		peer_conn_close(c, true, "raft peer at this address is raft id %llu, not the one "
				"expected", (unsigned long long)w.raft_id);
		return;
	}
	c->who.raft_id = w.raft_id;
	c->who.incarnation = w.incarnation;
	memcpy(c->who.address, w.address, sizeof(w.address));
	memcpy(c->who.client_address, w.client_address, sizeof(w.client_address));
	rv = pt->hooks.authorize(pt->hooks.arg, &c->who, why, sizeof(why));
	if (rv != 0) {
		peer_conn_close(c, true, "raft peer connection refused: %s", why);
		return;
	}
	rv = peer_conn_relay_start(c);
	if (rv != 0) {
		peer_conn_close(c, true, "raft peer connection: relay: %s", strerror(-rv));
		return;
	}
	conn_heard(c, true);
	stream = (uv_stream_t *)c->raft_stream;
	c->raft_stream = NULL;
	c->raft_stream_open = false;
	req = c->req;
	c->req = NULL;
	req->cb(req, stream, 0);
}

static void conn_got_ping(struct peer_conn *c, enum peer_frame type)
{
	struct peer_hooks *hk = &c->pt->hooks;
	struct peer_ping pg;
	uint8_t frame[64];

	if (peer_wire_parse_ping(c->ctl, c->len, type, &pg) != 0) {
		peer_conn_close(c, true, "raft peer connection: malformed ping");
		return;
	}
	if (type == PEER_FRAME_PONG) {
		hk->pong(hk->arg, c->who.raft_id, pg.term, pg.stamp, pg.promise_ms);
		return;
	}
	pg.promise_ms = hk->promise(hk->arg, c->who.raft_id, pg.term);
	peer_conn_send(c, frame, peer_wire_ping(frame, PEER_FRAME_PONG, &pg));
}

/* Whether a frame of this type may come now. */
static bool frame_allowed(const struct peer_conn *c, uint8_t type)
{
	switch (c->state) {
	case PEER_CONN_HELLO:
		return type == (c->outgoing ? PEER_FRAME_WELCOME : PEER_FRAME_HELLO);
	case PEER_CONN_RELAY:
		return type == PEER_FRAME_DATA ||
		       type == (c->outgoing ? PEER_FRAME_PONG : PEER_FRAME_PING);
	default:
		return false;
	}
}

static void conn_control(struct peer_conn *c)
{
	switch (c->type) {
	case PEER_FRAME_HELLO:
		conn_got_hello(c);
		break;
	case PEER_FRAME_WELCOME:
		conn_got_welcome(c);
		break;
	default:
		conn_got_ping(c, (enum peer_frame)c->type);
		break;
	}
}

/* Feeds plaintext to the frame parser. */
void peer_proto_parse(struct peer_conn *c, const uint8_t *p, size_t n)
{
	while (n > 0 && peer_conn_live(c)) {
		size_t m;

		if (c->hdr_got < PEER_WIRE_HEADER) {
			m = PEER_WIRE_HEADER - c->hdr_got;
			m = m < n ? m : n;
			memcpy(c->hdr + c->hdr_got, p, m);
			c->hdr_got += m;
			p += m;
			n -= m;
			if (c->hdr_got < PEER_WIRE_HEADER)
				return;
			peer_wire_parse_header(c->hdr, &c->type, &c->len);
			c->got = 0;
			if (!frame_allowed(c, c->type) || c->len == 0 ||
			    (c->type != PEER_FRAME_DATA && c->len > PEER_WIRE_CONTROL_MAX)) {
				peer_conn_close(c, true, "raft peer connection: unexpected frame "
						"type %u length %u", c->type, c->len);
				return;
			}
			continue;
		}
		m = c->len - c->got;
		m = m < n ? m : n;
		if (c->type == PEER_FRAME_DATA)
			peer_conn_to_raft(c, p, m);
		else
			memcpy(c->ctl + c->got, p, m);
		c->got += (uint32_t)m;
		p += m;
		n -= m;
		if (c->got == c->len) {
			c->hdr_got = 0;
			if (c->state == PEER_CONN_RELAY)
				conn_heard(c, false);
			if (c->type != PEER_FRAME_DATA)
				conn_control(c);
		}
	}
}

int peer_proto_handshake_done(struct peer_conn *c)
{
	struct tls_identity id;
	char err[256];
	struct peer_hello h;

	if (tls_peer_identity(c->ssl, &id, err, sizeof(err)) != 0) {
		peer_conn_close(c, true, "raft peer connection refused: %s", err);
		return -1;
	}
	if (id.role != TLS_ROLE_PEER) {
		peer_conn_close(c, true, "raft peer connection refused: certificate role %s "
				"(CN %s), want peer", tls_role_name(id.role), id.name);
		return -1;
	}
	memcpy(c->who.id, id.name, sizeof(c->who.id));
	c->state = PEER_CONN_HELLO;
	if (c->outgoing) {
		own_hello(c, &h);
		send_hello(c, PEER_FRAME_HELLO, &h);
	}
	return peer_conn_live(c) ? 0 : -1;
}
