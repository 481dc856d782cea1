/* replica_feed.c: the replica's side of the IN_SYNC feed — Watch, pushes, acknowledgements and
 * the lease (protocol: proto/dmlog.proto; the server's side: server/feed.c).
 *
 * Order is what makes a copy current: the library hands over pushes and answers in the order
 * dmlogd wrote them on the connection, and everything is applied inside those callbacks. So
 * when a grant (an answer) is read, every push written before it has been applied; dmlogd
 * writes a change's push before it lets anyone see the change acknowledged (feed_hold.c).
 * A connection that ends takes every copy with it (DMLOG_PUSH_LINK_DOWN, before anything of
 * the next connection): the generation changes and answers of the old one are ignored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dmlog/async.h>
#include <event2/event.h>

#include "log.h"
#include "replica_impl.h"

enum replica_req_kind {
	REPLICA_REQ_WATCH,
	REPLICA_REQ_UNWATCH,
	REPLICA_REQ_ACK,
};

/* The context of one request to dmlogd; it holds a reference on the replica. */
struct replica_req {
	struct replica *rp;
	struct dmlog_async *ac; /* the handle it went to */
	enum replica_req_kind kind;
	uint64_t gen;
	uint64_t serial;        /* WATCH: the entry's serial; its watch_serial must be this req's */
	uint64_t req_serial;
	uint64_t sent_us;       /* when it was handed to the library (the lease counts from here) */
};

static void replica_on_answer(struct dmlog_async *ac, int status, const struct dmlog_result *res,
			      void *arg);

/* Hands a request to the library. NULL when the budget is spent or it was refused. */
static struct replica_req *replica_submit(struct replica *rp, enum replica_req_kind kind,
					  const struct dmlog_request *dr)
{
	struct replica_req *q;

	if (!rp->ac || rp->requests >= REPLICA_REQUESTS_MAX)
		return NULL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->rp = rp;
	q->ac = rp->ac;
	q->kind = kind;
	q->gen = rp->gen;
	q->req_serial = ++rp->next_serial;
	q->sent_us = replica_now_us();
	if (dmlog_async_submit(rp->ac, dr, replica_on_answer, q) != 0) {
		free(q);
		return NULL;
	}
	rp->requests++;
	rp->refs++;
	return q;
}

static bool replica_feed_offered(const struct replica *rp)
{
	return rp->ac && (dmlog_async_features(rp->ac) & DMLOG_FEATURE_FEED);
}

void replica_watch(struct replica *rp, struct replica_copy *c)
{
	struct dmlog_request dr;
	struct replica_req *q;

	if (!replica_feed_offered(rp))
		return; /* no Hello answered yet, or a server without the feed: asked on a miss */
	memset(&dr, 0, sizeof(dr));
	dr.op = DMLOG_OP_WATCH;
	dr.log.uuid = c->uuid;
	dr.log.luid = c->luid;
	dr.log.version = 3;
	q = replica_submit(rp, REPLICA_REQ_WATCH, &dr);
	if (!q) {
		c->retry_at_us = replica_now_us() + (uint64_t)rp->retry_ms * 1000u;
		return;
	}
	q->serial = c->serial;
	c->state = REPLICA_WATCHING;
	c->watch_serial = q->req_serial;
	rp->st.watches++;
}

void replica_unwatch(struct replica *rp, uint64_t watch_id)
{
	struct dmlog_request dr;

	if (!rp->feed_id)
		return;
	memset(&dr, 0, sizeof(dr));
	dr.op = DMLOG_OP_UNWATCH;
	dr.feed_id = rp->feed_id;
	dr.watch_id = watch_id;
	/* best effort: a copy dmlogd keeps only costs it pushes, and ends with the session */
	(void)replica_submit(rp, REPLICA_REQ_UNWATCH, &dr);
}

void replica_send_ack(struct replica *rp)
{
	struct dmlog_request dr;

	if (!rp->feed_id)
		return;
	if (rp->acks >= REPLICA_ACKS_MAX) {
		rp->ack_wanted = true;
		return;
	}
	memset(&dr, 0, sizeof(dr));
	dr.op = DMLOG_OP_FEED_ACK;
	dr.feed_id = rp->feed_id;
	dr.seq = rp->applied;
	if (replica_submit(rp, REPLICA_REQ_ACK, &dr)) {
		rp->acks++;
		rp->ack_wanted = false;
		rp->st.acks++;
	} else {
		rp->ack_wanted = true;
	}
}

/* A lease of lease_ms granted for a message sent at sent_us. */
static void replica_extend(struct replica *rp, uint64_t sent_us, uint32_t lease_ms)
{
	uint64_t margin = rp->margin_ms ? rp->margin_ms : 50u + lease_ms / 20u;
	uint64_t until;

	if (lease_ms == 0 || margin >= lease_ms)
		return;
	until = sent_us + (lease_ms - margin) * 1000u;
	if (until > rp->lease_until_us)
		rp->lease_until_us = until;
	rp->lease_ms = lease_ms;
	rp->st.grants++;
}

/* Adopts the feed of an answer or push; false when it names another feed than ours. */
static bool replica_same_feed(struct replica *rp, uint64_t feed_id)
{
	if (feed_id == 0)
		return false;
	if (rp->feed_id == 0)
		rp->feed_id = feed_id;
	return rp->feed_id == feed_id;
}

static struct replica_copy *copy_by_serial(struct replica *rp, uint64_t serial)
{
	for (size_t i = 0; i < REPLICA_HASH; i++)
		for (struct replica_copy *c = rp->hash[i]; c; c = c->hnext)
			if (c->serial == serial)
				return c;
	return NULL;
}

static struct replica_copy *copy_by_watch(struct replica *rp, uint64_t watch_id)
{
	for (size_t i = 0; i < REPLICA_HASH; i++)
		for (struct replica_copy *c = rp->hash[i]; c; c = c->hnext)
			if (c->state == REPLICA_READY && c->watch_id == watch_id)
				return c;
	return NULL;
}

/* No copy this time: the next attempt waits retry_ms, doubling with each failure in a row up
 * to REPLICA_RETRY_MAX_MS (a log dmlogd refuses to copy is not asked for every second). */
static void watch_failed(struct replica *rp, struct replica_copy *c)
{
	uint64_t ms = rp->retry_ms;

	replica_copy_end(rp, c, false);
	for (unsigned i = 0; i < c->failures && ms < REPLICA_RETRY_MAX_MS; i++)
		ms *= 2;
	if (ms > REPLICA_RETRY_MAX_MS)
		ms = REPLICA_RETRY_MAX_MS;
	c->retry_at_us = replica_now_us() + ms * 1000u;
	if (c->failures < 32)
		c->failures++;
}

/* A Watch answer: the copy, checked before it is trusted. */
static void replica_on_watch(struct replica *rp, const struct replica_req *q, int status,
			     const struct dmlog_result *res)
{
	struct replica_copy *c = copy_by_serial(rp, q->serial);
	const struct dmlog_watch *w = status == 0 ? &res->watch : NULL;
	uint64_t prev_end = 0;

	if (!c || c->state != REPLICA_WATCHING || c->watch_serial != q->req_serial) {
		if (w && replica_same_feed(rp, w->feed_id))
			replica_unwatch(rp, w->watch_id); /* nobody waits for this copy any more */
		return;
	}
	if (!w || !replica_same_feed(rp, w->feed_id)) {
		rp->st.watch_failures++;
		if (w) {
			/* another feed than this connection's: start over */
			replica_reset(rp, false);
			return;
		}
		log_debug("replica: watch failed log=%s status=%d", log_short_uuid(c->uuid),
			  status);
		watch_failed(rp, c);
		return;
	}
	replica_ranges_free(&c->oos);
	for (size_t i = 0; i < w->out_of_sync_count; i++) {
		const struct dmlog_region_range *r = &w->out_of_sync[i];

		if (r->first > r->last || r->last >= w->region_count ||
		    (i > 0 && r->first <= prev_end) ||
		    replica_ranges_add(&c->oos, r->first, r->last) != 0) {
			rp->st.watch_failures++;
			replica_unwatch(rp, w->watch_id);
			watch_failed(rp, c);
			return;
		}
		prev_end = r->last;
	}
	c->state = REPLICA_READY;
	c->watch_id = w->watch_id;
	c->sticky = w->sticky;
	c->region_count = w->region_count;
	c->failures = 0;
	rp->st.copies++;
	rp->st.copies_made++;
	replica_extend(rp, q->sent_us, w->lease_ms);
}

static void replica_on_grant(struct replica *rp, const struct replica_req *q, int status,
			     const struct dmlog_result *res)
{
	if (status == 0) {
		if (res->grant.feed_id != rp->feed_id) {
			replica_reset(rp, false); /* dmlogd does not know our feed: copies void */
			return;
		}
		replica_extend(rp, q->sent_us, res->grant.lease_ms);
	}
	if (rp->ack_wanted)
		replica_send_ack(rp);
}

static void replica_on_answer(struct dmlog_async *ac, int status, const struct dmlog_result *res,
			      void *arg)
{
	struct replica_req *q = arg;
	struct replica *rp = q->rp;

	rp->requests--;
	if (q->kind == REPLICA_REQ_ACK)
		rp->acks--;
	/* A grant from before the copies last ended (another generation) holds nothing. A Watch
	 * answer always describes the connection it came on, the current one: it counts as long
	 * as it came on the current handle and its entry still waits for it (replica_on_watch). */
	if (!rp->dead && status != -ECANCELED) {
		if (q->kind == REPLICA_REQ_WATCH && q->ac == rp->ac)
			replica_on_watch(rp, q, status, res);
		else if (q->kind == REPLICA_REQ_ACK && q->gen == rp->gen)
			replica_on_grant(rp, q, status, res);
	}
	free(q);
	if (!rp->dead && status != -ECANCELED && rp->done)
		rp->done(rp->done_arg, ac);
	replica_unref(rp);
}

/* Applies one change; a copy that cannot follow it ends (dmlogd answers for it). */
static void replica_apply(struct replica *rp, const struct dmlog_feed_change *ch)
{
	struct replica_copy *c;
	int rc = 0;

	if (ch->kind == DMLOG_FEED_RESET) {
		replica_reset(rp, true);
		return;
	}
	c = copy_by_watch(rp, ch->watch_id);
	if (!c)
		return; /* a copy that ended here already */
	switch (ch->kind) {
	case DMLOG_FEED_SYNC:
		if (ch->first > ch->last || ch->last >= c->region_count)
			rc = -EPROTO;
		else if (ch->value)
			rc = replica_ranges_remove(&c->oos, ch->first, ch->last);
		else
			rc = replica_ranges_add(&c->oos, ch->first, ch->last);
		break;
	case DMLOG_FEED_STICKY:
		c->sticky = ch->value;
		break;
	case DMLOG_FEED_DROP:
		c->state = REPLICA_IDLE; /* dmlogd ended it: no Unwatch */
		rp->st.drops++;
		if (rp->st.copies)
			rp->st.copies--;
		replica_copy_end(rp, c, false);
		return;
	default:
		break;
	}
	if (rc)
		replica_copy_end(rp, c, false); /* too fragmented to follow: dmlogd answers */
}

static void replica_on_push(struct dmlog_async *ac, const struct dmlog_push *p, void *arg)
{
	struct replica *rp = arg;
	uint64_t gen = rp->gen;

	(void)ac;
	if (p->type == DMLOG_PUSH_LINK_DOWN) {
		replica_reset(rp, true);
		return;
	}
	if (!replica_same_feed(rp, p->feed_id) || (rp->applied && p->seq != rp->applied + 1)) {
		replica_reset(rp, false); /* a push we cannot place: rebuild everything */
		return;
	}
	rp->applied = p->seq;
	for (size_t i = 0; i < p->change_count && rp->gen == gen; i++)
		replica_apply(rp, &p->changes[i]);
	rp->st.pushes++;
	rp->st.changes += p->change_count;
	if (rp->gen == gen)
		replica_send_ack(rp);
}

void replica_feed_attach(struct replica *rp)
{
	dmlog_async_set_push_cb(rp->ac, replica_on_push, rp);
}

/* Every quarter lease: renew while copies exist, and retry the wanted copies that failed. */
static void replica_on_renew(evutil_socket_t fd, short what, void *arg)
{
	struct replica *rp = arg;
	struct timeval tv;
	uint32_t every = rp->lease_ms / 4 ? rp->lease_ms / 4 : 50;

	uint64_t now = replica_now_us();

	(void)fd;
	(void)what;
	if (rp->feed_id && (rp->st.copies > 0 || rp->lease_until_us > now))
		replica_send_ack(rp);
	/* Copies the kernel wants that failed (a leader without its read lease yet, say) are
	 * asked for again without waiting for a read to miss. */
	for (size_t i = 0; i < REPLICA_HASH; i++)
		for (struct replica_copy *c = rp->hash[i]; c; c = c->hnext)
			if (c->wanted && !c->suspended && c->state == REPLICA_IDLE &&
			    now >= c->retry_at_us)
				replica_watch(rp, c);
	tv.tv_sec = every / 1000;
	tv.tv_usec = (every % 1000) * 1000;
	evtimer_add(rp->renew, &tv);
}

void replica_renew_start(struct replica *rp)
{
	struct timeval tv = {0, 250 * 1000};

	rp->renew = evtimer_new(rp->base, replica_on_renew, rp);
	if (rp->renew)
		evtimer_add(rp->renew, &tv);
}
