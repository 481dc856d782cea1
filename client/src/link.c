/* link.c: a handle's connection to the dmlogd cluster.
 *
 * The link connects only while requests are pending. An attempt goes to the leader a server
 * redirected us to, if any, else to the next configured server; it must complete TCP, TLS and
 * Hello within connect_timeout_ms. When an attempt fails the next server is tried at once, and
 * after each round of failures over all servers the link waits (reconnect_min_ms, doubling up
 * to reconnect_max_ms). Losing an established connection waits reconnect_min_ms, then retries
 * the same server (the leader, if we were redirected to it).
 *
 * Once Hello is answered every pending request is (re)sent in id order with its original id;
 * the server deduplicates by (node, client id, request id), which makes resending safe. A
 * `not_leader` answer, to Hello or to a request, drops the connection and goes to the leader it
 * names (bounded per request by max_redirects).
 *
 * Failures are transient (keep trying until the requests' deadlines) except certificate and
 * protocol failures before Hello is answered, and Hello refusals: those fail every pending
 * request once each configured server has failed that way, or at once on a redirect target.
 */
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "conn.h"
#include "msg.h"

#define LINK_PERMANENT 1u   /* the failure will not go away by retrying this server */
#define LINK_SKIP 2u        /* this server is no use now: count an attempt and move on */
#define LINK_PACE 4u        /* wait reconnect_min_ms before the next attempt (an election) */

static void link_on_up(void *arg);
static void link_on_frame(void *arg, const uint8_t *payload, size_t len);
static void link_on_down(void *arg, int err, const char *cause);

static const struct conn_ops link_conn_ops = {
	.up = link_on_up,
	.frame = link_on_frame,
	.down = link_on_down,
};

static void link_arm(struct dmlog_async *ac, uint32_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	evtimer_add(ac->timer, &tv);
}

/* Drops the connection; pending requests will be sent again on the next one. */
static void link_drop(struct dmlog_async *ac)
{
	struct req *r;

	if (ac->state == LINK_READY)
		ac->down_pending = true; /* pushes of this connection are void (async_leave()) */
	conn_free(ac->conn);
	ac->conn = NULL;
	if (ac->timer)
		evtimer_del(ac->timer);
	ac->state = LINK_IDLE;
	ac->deferred_err = 0;
	TAILQ_FOREACH(r, &ac->reqs.list, order)
		r->sent = false;
}

/* Plans the next attempt in delay_ms, if anything is pending. */
static void link_schedule(struct dmlog_async *ac, uint32_t delay_ms)
{
	if (ac->freeing || !ac->timer)
		return;
	if (ac->reqs.count == 0) {
		ac->state = LINK_IDLE;
		return;
	}
	ac->state = LINK_WAITING;
	link_arm(ac, delay_ms);
}

static uint32_t link_backoff(const struct dmlog_async *ac, unsigned round)
{
	uint64_t d = ac->opts.reconnect_min_ms;

	for (unsigned i = 1; i < round && d < ac->opts.reconnect_max_ms; i++)
		d *= 2;
	return d > ac->opts.reconnect_max_ms ? ac->opts.reconnect_max_ms : (uint32_t)d;
}

static int link_errno(const Dmlog__Error *e)
{
	return e->errno_neg < 0 && e->errno_neg > -4096 ? e->errno_neg : -EIO;
}

static const char *link_message(const Dmlog__Error *e)
{
	return e->message && *e->message ? e->message : "error without a message";
}

/* A connection attempt or connection failed: record why, drop it, and decide what next. */
static void link_fail(struct dmlog_async *ac, int err, const char *cause, unsigned flags)
{
	bool was_ready = ac->state == LINK_READY && !(flags & LINK_SKIP);
	size_t n = ac->opts.server_count;
	uint32_t delay;

	async_format(ac->last_error, sizeof(ac->last_error), "%s %s: %s",
		     ac->state == LINK_READY ? "connection to" : "connect", ac->target.text, cause);
	memcpy(ac->last_failure, ac->last_error, sizeof(ac->last_failure));
	ac->failures++;
	link_drop(ac);
	if (flags & LINK_PERMANENT) {
		bool give_up = ac->target_is_redirect;

		if (!ac->target_is_redirect) {
			ac->refused_mask |= 1u << ac->next_server;
			give_up = ac->refused_mask == (1u << n) - 1;
		}
		if (give_up) {
			char why[DMLOG_ERRMSG_SIZE];

			ac->refused_mask = 0;
			ac->failed_attempts = 0;
			ac->has_redirect = false;
			async_format(why, sizeof(why), "%s", ac->last_error);
			/* Requests submitted by these callbacks start afresh (link_kick). */
			async_fail_all(ac, err, why);
			return;
		}
	}
	/* A leader we were connected to is tried again first; one we could not reach is
	 * forgotten, and the configured servers will name the current one. */
	if (!was_ready) {
		if (ac->target_is_redirect)
			ac->has_redirect = false;
		else
			ac->next_server = (ac->next_server + 1) % n;
	}
	if (was_ready) {
		ac->failed_attempts = 0;
		delay = ac->opts.reconnect_min_ms;
	} else {
		ac->failed_attempts++;
		delay = ac->failed_attempts % n ? 0 : link_backoff(ac, ac->failed_attempts / (unsigned)n);
	}
	/* A leader we were sent to that does not answer, or a server that knows no leader, means
	 * an election is under way: give it time instead of bouncing between a follower that still
	 * names the dead leader and that leader, which would use up max_redirects in milliseconds. */
	if ((flags & LINK_PACE || (!was_ready && ac->target_is_redirect)) &&
	    delay < ac->opts.reconnect_min_ms)
		delay = ac->opts.reconnect_min_ms;
	link_schedule(ac, delay);
}

/* Writes r on the ready connection. A failure to queue is handled from the loop. */
static int link_write(struct dmlog_async *ac, struct req *r)
{
	int rc = ac->write_now ? conn_write_now(ac->conn, r->frame, r->frame_len) :
				 conn_write(ac->conn, r->frame, r->frame_len);

	if (rc) {
		ac->deferred_err = rc;
		event_active(ac->timer, EV_TIMEOUT, 1);
		return rc;
	}
	r->sent = true;
	return 0;
}

static void link_attempt(struct dmlog_async *ac)
{
	const char *verify;
	char cause[DMLOG_ERRMSG_SIZE];
	int rc;

	if (ac->reqs.count == 0) {
		ac->state = LINK_IDLE;
		return;
	}
	if (ac->has_redirect) {
		ac->target = ac->redirect;
		ac->target_is_redirect = true;
	} else {
		ac->target = ac->opts.servers[ac->next_server];
		ac->target_is_redirect = false;
	}
	verify = ac->opts.verify_name ? ac->opts.verify_name : ac->target.host;
	ac->state = LINK_CONNECTING;
	link_arm(ac, ac->opts.connect_timeout_ms);
	rc = conn_new(ac->base, ac->ssl_ctx, ac->target.host, ac->target.port, verify,
		      &link_conn_ops, ac, &ac->conn, cause, sizeof(cause));
	if (rc)
		link_fail(ac, rc, cause, 0);
}

static void link_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dmlog_async *ac = arg;
	char cause[64];

	async_enter(ac);
	switch (ac->state) {
	case LINK_WAITING:
		link_attempt(ac);
		break;
	case LINK_CONNECTING:
	case LINK_HELLO:
		async_format(cause, sizeof(cause), "timed out after %u ms", ac->opts.connect_timeout_ms);
		link_fail(ac, -ETIMEDOUT, cause, 0);
		break;
	case LINK_READY:
		if (ac->deferred_err)
			link_fail(ac, ac->deferred_err, "cannot queue a request: out of memory", 0);
		break;
	case LINK_IDLE:
		break;
	}
	async_leave(ac);
}

static void link_on_up(void *arg)
{
	struct dmlog_async *ac = arg;
	uint8_t *frame;
	size_t len;
	int rc;

	async_enter(ac);
	if (!ac->freeing && ac->state == LINK_CONNECTING) {
		ac->hello_id = ++ac->last_id;
		rc = msg_encode_hello(ac->hello_id, ac->opts.client_name, ac->client_id, &frame, &len);
		if (rc == 0) {
			rc = conn_write(ac->conn, frame, len);
			free(frame);
		}
		if (rc)
			link_fail(ac, rc, "Hello: out of memory", 0);
		else
			ac->state = LINK_HELLO;
	}
	async_leave(ac);
}

static void link_ready(struct dmlog_async *ac, const Dmlog__HelloReply *hello)
{
	struct req *r;

	ac->state = LINK_READY;
	ac->lease_ms = hello->lease_ms;
	ac->features = hello->features;
	evtimer_del(ac->timer);
	ac->failed_attempts = 0;
	ac->hello_redirects = 0;
	ac->refused_mask = 0;
	ac->last_error[0] = '\0';
	TAILQ_FOREACH(r, &ac->reqs.list, order)
		if (!r->sent && link_write(ac, r))
			break;
}

/* The server is not the leader: go to the one it names. r is the request it answered, or NULL
 * for Hello. */
static void link_redirect(struct dmlog_async *ac, const Dmlog__NotLeader *nl, struct req *r)
{
	const char *addr = nl->leader_address ? nl->leader_address : "";
	struct server_addr next;
	char cause[DMLOG_ERRMSG_SIZE];
	bool self;

	if (!*addr) {
		/* No leader known (an election): not a redirect, so it does not count against
		 * max_redirects; retry paced, bounded by the request's deadline. */
		link_fail(ac, -EAGAIN, "not the leader, and the leader is unknown", LINK_SKIP | LINK_PACE);
		return;
	}
	if (options_parse_address(addr, &next)) {
		async_format(cause, sizeof(cause), "not the leader; unusable leader address '%.64s'",
			     addr);
		link_fail(ac, -EPROTO, cause, LINK_SKIP);
		return;
	}
	/* A new leader names itself before it serves (its barrier not applied yet): not a
	 * redirect either; the same server again, paced, bounded by the request's deadline. */
	self = strcmp(next.text, ac->target.text) == 0;
	if (r && !self && ++r->redirects > ac->opts.max_redirects) {
		async_format(cause, sizeof(cause),
			     "%s request %llu: more than %u leader redirects (last: %s to '%.64s')",
			     dmlog_op_name(r->op), (unsigned long long)r->id, ac->opts.max_redirects,
			     ac->target.text, addr);
		async_complete(ac, r, -ELOOP, NULL, cause);
		if (ac->freeing)
			return;
	} else if (!r && !self && ++ac->hello_redirects > ac->opts.max_redirects) {
		async_format(cause, sizeof(cause), "more than %u leader redirects in a row",
			     ac->opts.max_redirects);
		ac->has_redirect = false;
		ac->hello_redirects = 0; /* after the backoff, redirects are followed again */
		link_fail(ac, -ELOOP, cause, LINK_SKIP);
		return;
	}
	async_format(ac->last_error, sizeof(ac->last_error), "%s: not the leader, redirected to %s",
		     ac->target.text, next.text);
	ac->redirect = next;
	ac->has_redirect = true;
	link_drop(ac);
	link_schedule(ac, self ? ac->opts.reconnect_min_ms : 0);
}

static void link_on_hello(struct dmlog_async *ac, const Dmlog__ServerMessage *m)
{
	char cause[DMLOG_ERRMSG_SIZE];

	if (m->id != ac->hello_id) {
		link_fail(ac, -EPROTO, "answer to an unknown id before the answer to Hello",
			  LINK_PERMANENT);
		return;
	}
	switch (m->body_case) {
	case DMLOG__SERVER_MESSAGE__BODY_HELLO:
		if (m->hello->protocol_version &&
		    m->hello->protocol_version != DMLOG__VERSION__PROTOCOL_VERSION) {
			async_format(cause, sizeof(cause), "server speaks protocol version %u, not %d",
				     m->hello->protocol_version, DMLOG__VERSION__PROTOCOL_VERSION);
			link_fail(ac, -EPROTO, cause, LINK_PERMANENT);
			return;
		}
		link_ready(ac, m->hello);
		break;
	case DMLOG__SERVER_MESSAGE__BODY_ERROR:
		async_format(cause, sizeof(cause), "Hello refused: %s", link_message(m->error));
		link_fail(ac, link_errno(m->error), cause, LINK_PERMANENT);
		break;
	case DMLOG__SERVER_MESSAGE__BODY_NOT_LEADER:
		link_redirect(ac, m->not_leader, NULL);
		break;
	default:
		async_format(cause, sizeof(cause), "unexpected answer to Hello (body %d)",
			     (int)m->body_case);
		link_fail(ac, -EPROTO, cause, LINK_PERMANENT);
		break;
	}
}

static void link_on_reply(struct dmlog_async *ac, const Dmlog__ServerMessage *m)
{
	struct req *r = reqtab_find(&ac->reqs, m->id);
	struct dmlog_result res;
	char why[DMLOG_ERRMSG_SIZE];
	int rc;

	if (!r)
		return; /* answered after its deadline, or twice: nobody waits for it */
	switch (m->body_case) {
	case DMLOG__SERVER_MESSAGE__BODY_NOT_LEADER:
		link_redirect(ac, m->not_leader, r);
		break;
	case DMLOG__SERVER_MESSAGE__BODY_ERROR:
		async_format(why, sizeof(why), "%s request %llu: %s", dmlog_op_name(r->op),
			     (unsigned long long)r->id, link_message(m->error));
		async_complete(ac, r, link_errno(m->error), NULL, why);
		break;
	default:
		rc = msg_result(r->op, r->id, m, &res, why, sizeof(why));
		if (rc) {
			async_complete(ac, r, rc, NULL, why);
			break;
		}
		async_complete(ac, r, 0, &res, NULL);
		msg_result_release(&res);
		break;
	}
}

/* A message the server sent on its own (id 0): a push of the IN_SYNC feed. */
static void link_on_push(struct dmlog_async *ac, const Dmlog__ServerMessage *m)
{
	struct dmlog_push p;

	if (m->body_case != DMLOG__SERVER_MESSAGE__BODY_FEED_PUSH || !ac->push_cb)
		return;
	if (msg_push(m->feed_push, &p) != 0) {
		/* A push that cannot be delivered breaks the copies: end the connection, which
		 * the callback hears as LINK_DOWN (every copy gone). */
		link_fail(ac, -ENOMEM, "out of memory for a push", 0);
		return;
	}
	ac->push_cb(ac, &p, ac->push_arg);
	msg_push_release(&p);
}

static void link_on_frame(void *arg, const uint8_t *payload, size_t len)
{
	struct dmlog_async *ac = arg;
	Dmlog__ServerMessage *m;
	char cause[DMLOG_ERRMSG_SIZE];

	async_enter(ac);
	if (ac->freeing || !ac->conn)
		goto out;
	m = dmlog__server_message__unpack(NULL, len, payload);
	if (!m) {
		link_fail(ac, -EPROTO, "undecodable message from the server",
			  ac->state == LINK_READY ? 0 : LINK_PERMANENT);
		goto out;
	}
	if (m->id == 0 && m->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR) {
		/* About the connection, not a request; the server closes it. */
		async_format(cause, sizeof(cause), "server error: %s", link_message(m->error));
		link_fail(ac, link_errno(m->error), cause,
			  ac->state == LINK_READY ? 0 : LINK_PERMANENT);
	} else if (ac->state == LINK_HELLO) {
		link_on_hello(ac, m);
	} else if (ac->state == LINK_READY && m->id == 0) {
		link_on_push(ac, m);
	} else if (ac->state == LINK_READY) {
		link_on_reply(ac, m);
	}
	dmlog__server_message__free_unpacked(m, NULL);
out:
	async_leave(ac);
}

static void link_on_down(void *arg, int err, const char *cause)
{
	struct dmlog_async *ac = arg;

	async_enter(ac);
	if (!ac->freeing && ac->conn) {
		bool early = ac->state != LINK_READY;

		link_fail(ac, err, cause,
			  early && (err == -EACCES || err == -EPROTO) ? LINK_PERMANENT : 0);
	}
	async_leave(ac);
}

int link_init(struct dmlog_async *ac)
{
	ac->timer = evtimer_new(ac->base, link_on_timer, ac);
	return ac->timer ? 0 : -ENOMEM;
}

void link_kick(struct dmlog_async *ac)
{
	if (ac->state == LINK_IDLE)
		link_schedule(ac, 0);
}

void link_send(struct dmlog_async *ac, struct req *r)
{
	if (ac->state == LINK_READY)
		link_write(ac, r);
	else
		link_kick(ac);
}

void link_close(struct dmlog_async *ac)
{
	conn_free(ac->conn);
	ac->conn = NULL;
	if (ac->timer) {
		event_free(ac->timer);
		ac->timer = NULL;
	}
	ac->state = LINK_IDLE;
}
