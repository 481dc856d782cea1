/* session.c: one client connection of dmlogd (see session.h). */
#include "session.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "batch.h"
#include "clock.h"
#include "dmlog.pb-c.h"
#include "engine.h"
#include "feed.h"
#include "frame.h"
#include "fsm.h"
#include "lease.h"
#include "log.h"
#include "opmap.h"
#include "phash.h"
#include "server.h"
#include "tls.h"

enum session_state {
	SESSION_HANDSHAKE, /* TLS handshake under way */
	SESSION_HELLO,     /* waiting for Hello */
	SESSION_READY,
	SESSION_CLOSING,   /* flushing a last reply, then closed */
	SESSION_DEAD,      /* closed; kept until the last reference goes */
};

#define SESSION_WRITE_SLOTS 16

struct session {
	LIST_ENTRY(session) link;
	struct server *srv;
	struct bufferevent *bev;
	struct frame_decoder dec;
	enum session_state state;
	struct tls_identity id;  /* role and name from the client's certificate */
	char addr[64];
	uint64_t serial;
	uint64_t client_id;
	unsigned refs;
	unsigned in_flight;
	/* Writes answered only at their commit and not yet committed, by instance (a hash of
	 * uuid and luid picks the slot; two instances sharing one only cost a FLUSH a commit). */
	unsigned uncommitted[SESSION_WRITE_SLOTS];
	unsigned parked;         /* reads of this session waiting for the read lease */
	uint64_t parked_mark;    /* the acked mark its last parked read waits for */
	bool read_paused;
	const uint8_t *frame;    /* the frame being dispatched (for parking a read) */
	uint32_t frame_len;
	struct feed_client *feed; /* its IN_SYNC feed, once it watched something */
	struct event *close_ev;  /* a close asked for where it cannot be done (session_doom) */
};

/* A read waiting for the read lease, or for the early-answered clears before it to be applied
 * (see session.h). */
struct session_parked {
	TAILQ_ENTRY(session_parked) link;
	struct session *s;       /* referenced */
	uint64_t id;
	uint64_t acked_mark;     /* batch_acked_mark() when it arrived (0: no wait) */
	uint64_t deadline_ms;
	uint32_t len;
	uint8_t frame[];
};

#define SESSION_PARKED_MAX 4096
#define SESSION_PARKED_POLL_US 1000

static void session_read_cb(struct bufferevent *bev, void *arg);
static void session_write_cb(struct bufferevent *bev, void *arg);
static void session_event_cb(struct bufferevent *bev, short what, void *arg);

static void timeval_ms(struct timeval *tv, uint32_t ms)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

bool session_alive(const struct session *s)
{
	return s->state != SESSION_DEAD && s->state != SESSION_CLOSING;
}

const char *session_identity(const struct session *s)
{
	return s->id.name;
}

uint64_t session_client_id(const struct session *s)
{
	return s->client_id;
}

struct feed_client *session_feed(const struct session *s)
{
	return s->feed;
}

void session_set_feed(struct session *s, struct feed_client *fc)
{
	s->feed = fc;
}

void session_ref(struct session *s)
{
	s->refs++;
}

static void session_destroy(struct session *s)
{
	frame_decoder_free(&s->dec);
	free(s);
}

void session_unref(struct session *s)
{
	if (--s->refs == 0)
		session_destroy(s);
}

/* Closes the connection now; the struct lives on while referenced. */
static void session_close(struct session *s)
{
	if (s->state == SESSION_DEAD)
		return;
	s->state = SESSION_DEAD;
	if (s->close_ev) {
		/* closed another way before session_doom's event ran: it holds a reference */
		event_free(s->close_ev);
		s->close_ev = NULL;
		session_unref(s);
	}
	if (s->bev) {
		SSL *ssl = bufferevent_openssl_get_ssl(s->bev);

		if (ssl)
			SSL_set_shutdown(ssl, SSL_RECEIVED_SHUTDOWN);
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	LIST_REMOVE(s, link);
	s->srv->nsessions--;
	if (s->feed) {
		struct feed_client *fc = s->feed;

		s->feed = NULL;
		feed_session_closed(s->srv->feed, fc);
	}
	session_unref(s);
}

/* Stops reading, lets the output drain, then closes (a last Error reply gets out). */
static void session_close_after_flush(struct session *s)
{
	if (s->state == SESSION_DEAD || s->state == SESSION_CLOSING)
		return;
	s->state = SESSION_CLOSING;
	bufferevent_disable(s->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0) {
		session_close(s);
		return;
	}
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
}

static void session_doomed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	event_free(s->close_ev);
	s->close_ev = NULL;
	session_close(s);
	session_unref(s);
}

/* Closes s as soon as control is back in the event loop, without sending anything more. For
 * the send path: its callers (the feed walking its clients, the batch releasing replies) do not
 * expect the session, and with it its feed client, to go away under them. */
static void session_doom(struct session *s, const char *why)
{
	log_warning("closing connection: %s session=%llu peer=%s identity=%s", why,
		    (unsigned long long)s->serial, s->addr, s->id.name[0] ? s->id.name : "-");
	s->state = SESSION_CLOSING;
	bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	s->close_ev = event_new(s->srv->base, -1, 0, session_doomed_cb, s);
	if (!s->close_ev) {
		session_close(s); /* out of memory: at once, the lesser evil */
		return;
	}
	session_ref(s);
	event_active(s->close_ev, EV_TIMEOUT, 0);
}

/* The most output a session may have queued: past the watermark reading stops, and what can
 * still come (the replies of requests in flight, parked reads, a feed push, one admin view of
 * at most max_frame) stays well below this for a client that reads at all; the write timeout
 * catches one that reads nothing. This only bounds the memory of one that reads too slowly to
 * keep up with its feed. */
static size_t session_output_cap(const struct session *s)
{
	return 2 * (size_t)s->srv->lim.write_high_watermark + s->srv->lim.max_frame;
}

/* A reply that would make a frame over max_frame (the option bounds what is sent as well as
 * what is accepted) is replaced by an Error naming both sizes; a push (id 0, nobody to answer)
 * ends the connection, and the client rebuilds its copies on the next one. */
static void session_oversized(struct session *s, const Dmlog__ServerMessage *m, size_t frame)
{
	char why[128];

	snprintf(why, sizeof(why), "%s of %zu bytes over max_frame %u",
		 m->id ? "reply" : "push", frame, s->srv->lim.max_frame);
	if (m->id == 0) {
		session_doom(s, why);
		return;
	}
	log_warning("refusing a reply: %s session=%llu peer=%s identity=%s id=%llu", why,
		    (unsigned long long)s->serial, s->addr, s->id.name[0] ? s->id.name : "-",
		    (unsigned long long)m->id);
	session_reply_error(s, m->id, -EMSGSIZE, why);
}

static void session_send(struct session *s, const Dmlog__ServerMessage *m)
{
	size_t len, queued;
	struct evbuffer *out;
	struct evbuffer_iovec v;
	uint8_t *p;

	if (!s->bev || s->state == SESSION_DEAD || s->close_ev)
		return;
	len = dmlog__server_message__get_packed_size(m);
	if (len + FRAME_HEADER_SIZE > s->srv->lim.max_frame) {
		session_oversized(s, m, len + FRAME_HEADER_SIZE);
		return;
	}
	out = bufferevent_get_output(s->bev);
	queued = evbuffer_get_length(out);
	if (queued + len + FRAME_HEADER_SIZE > session_output_cap(s)) {
		char why[160];

		snprintf(why, sizeof(why),
			 "client not reading: %zu bytes of replies queued, limit %zu", queued,
			 session_output_cap(s));
		session_doom(s, why);
		return;
	}
	if (evbuffer_reserve_space(out, (ev_ssize_t)(len + FRAME_HEADER_SIZE), &v, 1) < 1) {
		log_err("session: out of memory for a reply session=%llu", (unsigned long long)s->serial);
		session_close(s);
		return;
	}
	p = v.iov_base;
	frame_put_header(p, (uint32_t)len);
	dmlog__server_message__pack(m, p + FRAME_HEADER_SIZE);
	v.iov_len = len + FRAME_HEADER_SIZE;
	evbuffer_commit_space(out, &v, 1);
	if (!s->read_paused && evbuffer_get_length(out) > s->srv->lim.write_high_watermark) {
		/* Back-pressure: a client that does not read its replies gets no more service. */
		bufferevent_disable(s->bev, EV_READ);
		s->read_paused = true;
	}
}

void session_reply_error(struct session *s, uint64_t id, int err, const char *msg)
{
	Dmlog__ServerMessage m = DMLOG__SERVER_MESSAGE__INIT;
	Dmlog__Error e = DMLOG__ERROR__INIT;

	e.errno_neg = err < 0 ? err : -err;
	e.message = (char *)msg;
	m.id = id;
	m.body_case = DMLOG__SERVER_MESSAGE__BODY_ERROR;
	m.error = &e;
	session_send(s, &m);
}

/* Bad input: tell the client why (if it can still hear it), log it, close. */
static void session_reject(struct session *s, uint64_t id, int err, const char *why)
{
	log_warning("closing connection: %s session=%llu peer=%s identity=%s", why,
		    (unsigned long long)s->serial, s->addr, s->id.name[0] ? s->id.name : "-");
	if (s->state != SESSION_HANDSHAKE)
		session_reply_error(s, id, err, why);
	session_close_after_flush(s);
}

static void session_maybe_resume_reading(struct session *s)
{
	if (!s->read_paused || !s->bev || s->state != SESSION_READY)
		return;
	if (s->in_flight < s->srv->lim.max_in_flight &&
	    evbuffer_get_length(bufferevent_get_output(s->bev)) <= s->srv->lim.write_high_watermark / 2) {
		s->read_paused = false;
		bufferevent_enable(s->bev, EV_READ);
		/* Frames may already be buffered: process them without waiting for new bytes. */
		session_read_cb(s->bev, s);
	}
}

void session_reply_release(struct session *s, uint64_t id, uint32_t op,
			   const struct dedup_result *res)
{
	Dmlog__ServerMessage m = DMLOG__SERVER_MESSAGE__INIT;
	struct opmap_reply store;

	if (s->in_flight)
		s->in_flight--;
	if (!session_alive(s))
		return;
	m.id = id;
	opmap_reply(op, res, &store, &m);
	session_send(s, &m);
	session_maybe_resume_reading(s);
}

void session_release_acked(struct session *s)
{
	if (s->in_flight)
		s->in_flight--;
	if (session_alive(s))
		session_maybe_resume_reading(s);
}

void session_reply_release_error(struct session *s, uint64_t id, int err, const char *msg)
{
	if (s->in_flight)
		s->in_flight--;
	if (!session_alive(s))
		return;
	session_reply_error(s, id, err, msg);
	session_maybe_resume_reading(s);
}

void session_reply_release_not_leader(struct session *s, uint64_t id)
{
	if (s->in_flight)
		s->in_flight--;
	if (!session_alive(s))
		return;
	session_reply_not_leader(s, id);
	session_maybe_resume_reading(s);
}

void session_reply_result(struct session *s, uint64_t id, uint32_t op,
			  const struct dedup_result *res)
{
	/* Every change applied so far is pushed before this reply (feed_hold.c, "the rule"). */
	feed_drain(s->srv->feed);
	if (session_alive(s) && feed_hold(s->srv->feed, s, id, op, res))
		return;
	session_reply_release(s, id, op, res);
}

void session_reply(struct session *s, const Dmlog__ServerMessage *m)
{
	if (session_alive(s))
		session_send(s, m);
}

void session_reply_not_leader(struct session *s, uint64_t id)
{
	Dmlog__ServerMessage m = DMLOG__SERVER_MESSAGE__INIT;
	Dmlog__NotLeader nl = DMLOG__NOT_LEADER__INIT;
	char leader_id[32] = "", leader_addr[64] = "";

	server_leader(s->srv, leader_id, sizeof(leader_id), leader_addr, sizeof(leader_addr));
	nl.leader_id = leader_id;
	nl.leader_address = leader_addr;
	m.id = id;
	m.body_case = DMLOG__SERVER_MESSAGE__BODY_NOT_LEADER;
	m.not_leader = &nl;
	session_send(s, &m);
}

static void session_hello(struct session *s, const Dmlog__ClientMessage *cm)
{
	Dmlog__ServerMessage m = DMLOG__SERVER_MESSAGE__INIT;
	Dmlog__HelloReply hr = DMLOG__HELLO_REPLY__INIT;
	const Dmlog__Hello *h = cm->hello;

	if (h->protocol_version != DMLOG__VERSION__PROTOCOL_VERSION) {
		char why[96];

		snprintf(why, sizeof(why), "protocol version %u not supported (this server speaks %d)",
			 h->protocol_version, DMLOG__VERSION__PROTOCOL_VERSION);
		session_reject(s, cm->id, -EPROTONOSUPPORT, why);
		return;
	}
	s->client_id = h->client_id;
	s->state = SESSION_READY;
	hr.protocol_version = DMLOG__VERSION__PROTOCOL_VERSION;
	hr.server_id = (char *)s->srv->id;
	hr.role = (char *)tls_role_name(s->id.role);
	hr.identity = s->id.name;
	hr.lease_ms = s->srv->lim.node_lease_ms;
	hr.features = DMLOG__FEATURE__FEATURE_FEED;
	m.id = cm->id;
	m.body_case = DMLOG__SERVER_MESSAGE__BODY_HELLO;
	m.hello = &hr;
	session_send(s, &m);
	log_info("session ready session=%llu peer=%s role=%s identity=%s", (unsigned long long)s->serial,
		 s->addr, tls_role_name(s->id.role), s->id.name);
	if (s->id.role == TLS_ROLE_NODE)
		lease_hello(s->srv->lease, s->id.name);
}

/* Answers from the applied state now: a read, or a FLUSH without marks once its checks pass
 * (engine_check). */
static void session_read_op(struct session *s, const Dmlog__ClientMessage *cm,
			    const struct engine_req *req)
{
	struct engine_res res;
	struct dedup_result dres;
	Dmlog__ServerMessage m = DMLOG__SERVER_MESSAGE__INIT;
	struct opmap_reply store;

	/* Linearizable: the caller checked server_read_ok(): this server is the serving leader (its
	 * term's barrier is applied, so every entry committed by an earlier leader is in the
	 * applied state, and every mutation it acknowledged itself was applied before its reply)
	 * and it holds the read lease, so no other leader can exist that could have acknowledged
	 * anything since (raftsvc_lease.c). Reads without the lease wait in session_park().
	 * The feed's pending pushes go first, so a bridge never answers locally from a copy older
	 * than an answer it got here. */
	feed_drain(s->srv->feed);
	fsm_lock(s->srv->fsm);
	if (engine_op_is_read(req->op))
		engine_read(fsm_engine(s->srv->fsm), req, &res);
	else
		engine_check(fsm_engine(s->srv->fsm), req, &res);
	fsm_unlock(s->srv->fsm);
	if (res.out_of_range) {
		session_reject(s, cm->id, res.error, res.errmsg); /* see session_write_op() */
		return;
	}
	opmap_result(&res, &dres);
	m.id = cm->id;
	opmap_reply(req->op, &dres, &store, &m);
	session_send(s, &m);
}

/* The uncommitted[] slot of the instance req names. */
static uint8_t session_write_slot(const struct engine_req *req)
{
	return (uint8_t)(phash_bytes(req->uuid, strlen(req->uuid), req->luid) % SESSION_WRITE_SLOTS);
}

void session_write_ended(struct session *s, uint8_t slot)
{
	if (slot < SESSION_WRITE_SLOTS && s->uncommitted[slot])
		s->uncommitted[slot]--;
}

/* A write (or a FLUSH without marks that must be committed); slot is its instance's
 * uncommitted[] slot. */
static void session_write_op(struct session *s, const Dmlog__ClientMessage *cm, uint32_t op,
			     const struct engine_req *req, uint8_t slot)
{
	Dmlog__Command cmd = DMLOG__COMMAND__INIT;
	Dmlog__NodeOp nop = DMLOG__NODE_OP__INIT;
	const struct engine *e = fsm_engine(s->srv->fsm);
	struct dedup_result dres;
	struct engine_res res;
	enum { WRITE_COMMIT, WRITE_KNOWN, WRITE_BAD, WRITE_EARLY } how = WRITE_COMMIT;
	int rc;

	/* One look at the applied state decides (under one lock):
	 * - a retry of a request already applied gets the stored answer;
	 * - a region at or beyond its instance's region_count is bad input like any other (the
	 *   kernel never sends one, so the client is broken): the engine's error, a log line and
	 *   the close (session_reject); an instance whose CTR is not applied yet is left to the
	 *   engine's answer;
	 * - a CLEAR_REGION that passes every check against the applied state is answered now,
	 *   before its commit (early_clear_ack; batch.h says why a lost clear is harmless): a
	 *   clear that passes cannot fail when applied unless this node's own instance is
	 *   destroyed or lost first, and then its marks go anyway. One that fails the checks
	 *   takes the committed path and gets the applied answer. engine_check() checks the
	 *   ranges too, so such a clear needs no engine_out_of_range() of its own. */
	fsm_lock(s->srv->fsm);
	if (fsm_result(s->srv->fsm, s->id.name, s->client_id, cm->id, &dres)) {
		how = WRITE_KNOWN;
	} else if (op == ENGINE_CLEAR_REGION && s->srv->lim.early_clear_ack) {
		engine_check(e, req, &res);
		if (res.out_of_range) {
			how = WRITE_BAD;
		} else if (res.error == 0) {
			opmap_result(&res, &dres);
			how = WRITE_EARLY;
		}
	} else if (engine_out_of_range(e, req, &res)) {
		how = WRITE_BAD;
	}
	fsm_unlock(s->srv->fsm);
	if (how == WRITE_KNOWN) {
		s->in_flight++;
		session_reply_result(s, cm->id, op, &dres);
		return;
	}
	if (how == WRITE_BAD) {
		session_reject(s, cm->id, res.error, res.errmsg);
		return;
	}
	nop.node = s->id.name;
	nop.request_id = cm->id;
	nop.client_id = s->client_id;
	nop.op_case = (Dmlog__NodeOp__OpCase)cm->body_case;
	nop.ctr = cm->ctr; /* same union slot for every op message */
	cmd.body_case = DMLOG__COMMAND__BODY_OP;
	cmd.op = &nop;
	if (how == WRITE_EARLY)
		rc = batch_add_acked(s->srv->batch, &cmd, s, op, cm->id);
	else
		rc = batch_add(s->srv->batch, &cmd, s, op, cm->id, slot);
	if (rc) {
		session_reply_error(s, cm->id, rc, "server busy: commit queue full");
		return;
	}
	s->in_flight++;
	if (how == WRITE_COMMIT)
		s->uncommitted[slot]++;
	if (how == WRITE_EARLY) {
		Dmlog__ServerMessage m = DMLOG__SERVER_MESSAGE__INIT;
		struct opmap_reply store;

		s->srv->early_clears++;
		m.id = cm->id;
		opmap_reply(op, &dres, &store, &m);
		session_send(s, &m);
	}
	if (s->in_flight >= s->srv->lim.max_in_flight && !s->read_paused) {
		bufferevent_disable(s->bev, EV_READ);
		s->read_paused = true;
	}
}

/* Holds the current read until the read lease is there and, with acked_mark, until the clears
 * answered before it have been applied (session_parked_cb). */
static void session_park(struct session *s, uint64_t id, uint64_t acked_mark)
{
	struct server *srv = s->srv;
	struct session_parked *p;
	struct timeval tv = {0, SESSION_PARKED_POLL_US};

	if (srv->nparked >= SESSION_PARKED_MAX ||
	    !(p = malloc(sizeof(*p) + s->frame_len))) {
		session_reply_error(s, id, -EAGAIN, "server busy: too many reads waiting");
		return;
	}
	p->s = s;
	p->id = id;
	/* Later reads of a session never overtake earlier ones: a read parked behind another
	 * waits for at least what that one waits for. */
	if (s->parked && s->parked_mark > acked_mark)
		acked_mark = s->parked_mark;
	s->parked_mark = acked_mark;
	p->acked_mark = acked_mark;
	p->deadline_ms = clock_mono_ms() + srv->lim.read_wait_ms;
	p->len = s->frame_len;
	memcpy(p->frame, s->frame, s->frame_len);
	session_ref(s);
	s->parked++;
	TAILQ_INSERT_TAIL(&srv->parked, p, link);
	srv->nparked++;
	if (!evtimer_pending(srv->parked_timer, NULL))
		evtimer_add(srv->parked_timer, &tv);
	/* clears waiting for company (batch.h) go now: this read waits for them */
	if (!batch_acked_ended(srv->batch, acked_mark))
		batch_send_acked(srv->batch);
}

static void session_ulog(struct session *s, const Dmlog__ClientMessage *cm, bool replay);
static void session_admin(struct session *s, const Dmlog__ClientMessage *cm, bool replay);

void session_parked_kick(struct server *srv)
{
	if (srv->nparked && srv->parked_timer)
		event_active(srv->parked_timer, EV_TIMEOUT, 0);
}

static void session_parked_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct session_parked *p, *next;
	struct timeval tv = {0, SESSION_PARKED_POLL_US};
	uint64_t now = clock_mono_ms();
	bool ok = server_read_ok(srv), leader = server_is_leader(srv);

	(void)fd;
	(void)what;
	for (p = TAILQ_FIRST(&srv->parked); p; p = next) {
		struct session *s = p->s;

		bool admin = s->id.role == TLS_ROLE_ADMIN;
		bool applied = batch_acked_ended(srv->batch, p->acked_mark);

		next = TAILQ_NEXT(p, link);
		/* An admin view needs no lease (any peer answers it from its own state); a log
		 * read does. Both wait for the clears answered before them, until the deadline. */
		if (session_alive(s) && now < p->deadline_ms &&
		    (admin ? !applied : (!ok || !applied) && leader))
			continue;
		TAILQ_REMOVE(&srv->parked, p, link);
		srv->nparked--;
		s->parked--;
		if (session_alive(s) && (ok || admin)) {
			Dmlog__ClientMessage *cm = dmlog__client_message__unpack(NULL, p->len, p->frame);

			if (cm) {
				s->frame = p->frame;
				s->frame_len = p->len;
				if (admin)
					session_admin(s, cm, true);
				else
					session_ulog(s, cm, true);
				s->frame = NULL;
				dmlog__client_message__free_unpacked(cm, NULL);
			}
		} else if (session_alive(s)) {
			session_reply_not_leader(s, p->id);
		}
		free(p);
		session_unref(s);
	}
	if (!TAILQ_EMPTY(&srv->parked))
		evtimer_add(srv->parked_timer, &tv);
}

int session_reads_init(struct server *srv)
{
	srv->parked_timer = evtimer_new(srv->base, session_parked_cb, srv);
	return srv->parked_timer ? 0 : -ENOMEM;
}

void session_reads_free(struct server *srv)
{
	struct session_parked *p;

	while ((p = TAILQ_FIRST(&srv->parked)) != NULL) {
		TAILQ_REMOVE(&srv->parked, p, link);
		srv->nparked--;
		p->s->parked--;
		session_unref(p->s);
		free(p);
	}
	if (srv->parked_timer)
		event_free(srv->parked_timer);
	srv->parked_timer = NULL;
}

/* A log request. replay: a parked read coming back with the lease (it keeps its place ahead of
 * the session's later reads). */
static void session_ulog(struct session *s, const Dmlog__ClientMessage *cm, bool replay)
{
	struct engine_req req;
	char err[160];
	uint32_t op = opmap_op(cm->body_case);
	uint64_t acked_mark;
	int rc;

	if (s->id.role != TLS_ROLE_NODE) {
		session_reject(s, cm->id, -EPERM, "log requests are for the node role only");
		return;
	}
	rc = opmap_request(cm->body_case, cm->ctr, s->id.name, &req, err, sizeof(err));
	if (rc) {
		session_reject(s, cm->id, rc, err);
		return;
	}
	lease_touch(s->srv->lease, s->id.name);
	if (!server_is_leader(s->srv)) {
		session_reply_not_leader(s, cm->id);
		return;
	}
	/* A FLUSH without marks changes nothing once every write of its instance sent before it
	 * on this connection is committed: it is then answered like a read (under the read
	 * lease). The kernel waits for each MARK's answer before its FLUSH, so that is its case. A
	 * client that pipelines a MARK and the FLUSH behind it has the MARK still in a batch
	 * (answered at its commit): the FLUSH is committed too, in that entry or a later one, so
	 * that its answer never comes before the marks it covers are durable. Clears answered
	 * early do not count (a FLUSH owes them no durability), nor do other instances' writes
	 * (a bridge relays many mirrors on one connection). */
	if (!engine_op_is_read(op)) {
		uint8_t slot = session_write_slot(&req);

		if (!(op == ENGINE_FLUSH && req.nregions == 0 && s->uncommitted[slot] == 0)) {
			session_write_op(s, cm, op, &req, slot);
			return;
		}
	}
	/* IS_CLEAN is the one log read a clear changes: it waits for the clears answered early
	 * (session_write_op()) before it to be applied. */
	acked_mark = op == ENGINE_IS_CLEAN ? batch_acked_mark(s->srv->batch) : 0;
	if (!replay && (!server_read_ok(s->srv) || s->parked ||
			!batch_acked_ended(s->srv->batch, acked_mark))) {
		session_park(s, cm->id, acked_mark);
		return;
	}
	if (!server_read_ok(s->srv)) {
		session_reply_not_leader(s, cm->id);
		return;
	}
	session_read_op(s, cm, &req);
}

/* An admin view; replay: a parked one coming back once the clears before it were applied. */
static void session_admin(struct session *s, const Dmlog__ClientMessage *cm, bool replay)
{
	Dmlog__ServerMessage m = DMLOG__SERVER_MESSAGE__INIT;
	struct admin_reply ar;
	uint64_t acked_mark = batch_acked_mark(s->srv->batch);
	int rc;

	if (s->id.role != TLS_ROLE_ADMIN) {
		session_reject(s, cm->id, -EPERM, "admin requests are for the admin role only");
		return;
	}
	/* The views show marks and dirty counts: like IS_CLEAN, they wait for the clears
	 * answered before them. */
	if (!replay && (s->parked || !batch_acked_ended(s->srv->batch, acked_mark))) {
		session_park(s, cm->id, acked_mark);
		return;
	}
	m.id = cm->id;
	rc = admin_answer(s->srv, cm, &ar, &m);
	if (rc) {
		session_reply_error(s, cm->id, rc, ar.errmsg);
		return;
	}
	session_send(s, &m);
	admin_reply_free(&ar);
}

/* Membership changes: started here, answered later by admin.c (or NotLeader now). */
static void session_admin_change(struct session *s, const Dmlog__ClientMessage *cm)
{
	char err[200] = "";
	int rc;

	if (s->id.role != TLS_ROLE_ADMIN) {
		session_reject(s, cm->id, -EPERM, "admin requests are for the admin role only");
		return;
	}
	rc = admin_peer_change(s->srv, s, cm, err, sizeof(err));
	if (rc == -EAGAIN)
		session_reply_not_leader(s, cm->id);
	else if (rc)
		session_reply_error(s, cm->id, rc, err);
}

/* The IN_SYNC feed's requests (feed.h). Traffic renews the node's session lease too. */
static void session_feed_request(struct session *s, const Dmlog__ClientMessage *cm)
{
	if (s->id.role != TLS_ROLE_NODE) {
		session_reject(s, cm->id, -EPERM, "feed requests are for the node role only");
		return;
	}
	lease_touch(s->srv->lease, s->id.name);
	if (cm->body_case == DMLOG__CLIENT_MESSAGE__BODY_WATCH)
		feed_watch(s->srv->feed, s, cm->id, cm->watch);
	else if (cm->body_case == DMLOG__CLIENT_MESSAGE__BODY_UNWATCH)
		feed_unwatch(s->srv->feed, s, cm->id, cm->unwatch);
	else
		feed_ack(s->srv->feed, s, cm->id, cm->feed_ack);
}

static void session_dispatch(struct session *s, const Dmlog__ClientMessage *cm)
{
	if (cm->body_case == DMLOG__CLIENT_MESSAGE__BODY__NOT_SET) {
		session_reject(s, cm->id, -EBADMSG, "unknown or empty message");
		return;
	}
	if (s->state == SESSION_HELLO) {
		if (cm->body_case != DMLOG__CLIENT_MESSAGE__BODY_HELLO)
			session_reject(s, cm->id, -EPROTO, "request before hello");
		else
			session_hello(s, cm);
		return;
	}
	switch (cm->body_case) {
	case DMLOG__CLIENT_MESSAGE__BODY_HELLO:
		session_reject(s, cm->id, -EPROTO, "second hello");
		return;
	case DMLOG__CLIENT_MESSAGE__BODY_PING: {
		Dmlog__ServerMessage m = DMLOG__SERVER_MESSAGE__INIT;
		Dmlog__Pong pong = DMLOG__PONG__INIT;

		if (s->id.role == TLS_ROLE_NODE) {
			/* A node's ping renews its lease, which only the leader keeps: a follower
			 * sends the node to the leader rather than answer a ping that renews nothing. */
			if (!server_is_leader(s->srv)) {
				session_reply_not_leader(s, cm->id);
				return;
			}
			lease_touch(s->srv->lease, s->id.name);
		}
		m.id = cm->id;
		m.body_case = DMLOG__SERVER_MESSAGE__BODY_PONG;
		m.pong = &pong;
		session_send(s, &m);
		return;
	}
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_STATUS:
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_LIST_LOGS:
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_SHOW_LOG:
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_STATE_DIGEST:
		session_admin(s, cm, false);
		return;
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_PEER_ADD:
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_PEER_REMOVE:
		session_admin_change(s, cm);
		return;
	case DMLOG__CLIENT_MESSAGE__BODY_WATCH:
	case DMLOG__CLIENT_MESSAGE__BODY_UNWATCH:
	case DMLOG__CLIENT_MESSAGE__BODY_FEED_ACK:
		session_feed_request(s, cm);
		return;
	default:
		if (opmap_op(cm->body_case))
			session_ulog(s, cm, false);
		else
			session_reject(s, cm->id, -EBADMSG, "unknown message");
		return;
	}
}

static void session_frame(struct session *s, const uint8_t *frame, uint32_t len)
{
	Dmlog__ClientMessage *cm = dmlog__client_message__unpack(NULL, len, frame);

	if (!cm) {
		session_reject(s, 0, -EBADMSG, "undecodable message");
		return;
	}
	s->frame = frame;
	s->frame_len = len;
	session_dispatch(s, cm);
	s->frame = NULL;
	dmlog__client_message__free_unpacked(cm, NULL);
}

static void session_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	session_ref(s); /* the session may be closed by what it handles */
	while (s->state == SESSION_HELLO || s->state == SESSION_READY) {
		struct evbuffer_iovec v;
		const uint8_t *frame;
		uint32_t flen;
		ssize_t used;

		if (s->read_paused)
			break;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			break;
		used = frame_decoder_feed(&s->dec, v.iov_base, v.iov_len, &frame, &flen);
		if (used < 0) {
			char why[96];

			if (used == -EMSGSIZE)
				snprintf(why, sizeof(why), "frame over the %u-byte limit", s->dec.max);
			else if (used == -EBADMSG)
				snprintf(why, sizeof(why), "zero-length frame");
			else
				snprintf(why, sizeof(why), "frame: %s", strerror((int)-used));
			session_reject(s, 0, (int)used, why);
			break;
		}
		evbuffer_drain(in, (size_t)used);
		if (frame)
			session_frame(s, frame, flen);
	}
	session_unref(s);
}

static void session_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			session_close(s);
		return;
	}
	session_maybe_resume_reading(s);
}

static void session_connected(struct session *s)
{
	char err[256];
	struct timeval tv;

	if (tls_peer_identity(bufferevent_openssl_get_ssl(s->bev), &s->id, err, sizeof(err)) != 0) {
		log_warning("refusing connection: %s session=%llu peer=%s", err,
			    (unsigned long long)s->serial, s->addr);
		s->state = SESSION_HELLO; /* the TLS channel works: the client can hear why */
		session_reject(s, 0, -EACCES, err);
		return;
	}
	s->state = SESSION_HELLO;
	/* Read: a client silent this long is closed. Write: so is one whose replies have not
	 * moved for as long; once its replies pass the watermark it is no longer read, so the
	 * read timeout alone would keep it forever. A write that makes progress restarts it. */
	timeval_ms(&tv, s->srv->lim.idle_timeout_ms);
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	log_debug("tls established session=%llu peer=%s role=%s identity=%s",
		  (unsigned long long)s->serial, s->addr, tls_role_name(s->id.role), s->id.name);
}

static void session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	if (what & BEV_EVENT_CONNECTED) {
		session_connected(s);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_WRITING) &&
	    s->state != SESSION_HANDSHAKE) {
		log_warning("closing connection: client not reading: no reply could be written for "
			    "%u ms (%zu bytes queued) session=%llu peer=%s identity=%s",
			    s->srv->lim.idle_timeout_ms,
			    evbuffer_get_length(bufferevent_get_output(bev)),
			    (unsigned long long)s->serial, s->addr,
			    s->id.name[0] ? s->id.name : "-");
	} else if (what & BEV_EVENT_TIMEOUT) {
		log_info("closing connection: %s session=%llu peer=%s identity=%s",
			 s->state == SESSION_HANDSHAKE ? "handshake timeout" : "idle timeout",
			 (unsigned long long)s->serial, s->addr, s->id.name[0] ? s->id.name : "-");
	} else if (what & BEV_EVENT_ERROR) {
		unsigned long e;
		char ssl_err[256] = "";

		while ((e = bufferevent_get_openssl_error(bev)) != 0)
			ERR_error_string_n(e, ssl_err, sizeof(ssl_err));
		log_info("closing connection: %s%s%s session=%llu peer=%s identity=%s",
			 s->state == SESSION_HANDSHAKE ? "TLS handshake failed" : "connection error",
			 ssl_err[0] ? ": " : "", ssl_err[0] ? ssl_err : strerror(errno),
			 (unsigned long long)s->serial, s->addr, s->id.name[0] ? s->id.name : "-");
	} else if (what & BEV_EVENT_EOF) {
		log_debug("connection closed by peer session=%llu peer=%s", (unsigned long long)s->serial,
			  s->addr);
	}
	session_close(s);
}

static void format_addr(const struct sockaddr *sa, char *out, size_t n)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	snprintf(out, n, "%s:%u", host, port);
}

void session_accept(struct server *srv, int fd, const struct sockaddr *sa, int salen)
{
	struct session *s;
	SSL *ssl;
	struct timeval tv;
	char addr[64];

	(void)salen;
	format_addr(sa, addr, sizeof(addr));
	if (srv->stopping || srv->nsessions >= srv->lim.max_connections) {
		log_warning("refusing connection: %s peer=%s connections=%u",
			    srv->stopping ? "server stopping" : "connection limit reached", addr,
			    srv->nsessions);
		close(fd);
		return;
	}
	s = calloc(1, sizeof(*s));
	ssl = s ? SSL_new(tls_holder_server(srv->tls)) : NULL;
	if (!ssl) {
		log_err("refusing connection: out of memory peer=%s", addr);
		free(s);
		close(fd);
		return;
	}
	/* With BEV_OPT_CLOSE_ON_FREE the bufferevent owns ssl and fd, even when it fails. */
	/* Replies are small and latency-bound; without this, pipelined replies wait behind the
	 * client's delayed ACK (40 ms). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	s->bev = bufferevent_openssl_socket_new(srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
	if (!s->bev) {
		log_err("refusing connection: cannot set up TLS peer=%s", addr);
		free(s);
		return;
	}
	s->srv = srv;
	s->refs = 1;
	s->serial = ++srv->next_serial;
	s->state = SESSION_HANDSHAKE;
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	frame_decoder_init(&s->dec, srv->lim.max_frame);
	LIST_INSERT_HEAD(&srv->sessions, s, link);
	srv->nsessions++;
	bufferevent_setcb(s->bev, session_read_cb, session_write_cb, session_event_cb, s);
	timeval_ms(&tv, srv->lim.handshake_timeout_ms);
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	log_debug("connection accepted session=%llu peer=%s", (unsigned long long)s->serial, addr);
}

void session_close_all(struct server *srv)
{
	while (!LIST_EMPTY(&srv->sessions))
		session_close(LIST_FIRST(&srv->sessions));
}
