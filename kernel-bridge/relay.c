/* relay.c: kernel requests to libdmlog and back (see relay.h for what the kernel is told).
 *
 * One datagram: the codec validates it (every check of reference §5 item 10); a replyable
 * failure is answered -EINVAL here, a broken frame dropped; a valid request takes a slot, becomes
 * a struct dmlog_request and is submitted. Its callback answers the kernel from dmlogd's result,
 * or applies the no-server policy when the library gave up. Slots bound the requests in flight:
 * when none is free the transport is paused, and resumed when an answer frees one.
 *
 * Nothing is logged per request above debug level: the kernel sends an IN_SYNC per read bio.
 * Warnings about bad input or lost replies are rate-limited (relay_may_warn()).
 */
#include "relay.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmlog/async.h>
#include <event2/event.h>
#include <linux/dm-log-userspace.h>

#include "log.h"
#include "relay_impl.h"
#include "replica.h"
#include "transport.h"

#define RELAY_WARN_WINDOW 10   /* seconds */
#define RELAY_WARN_BURST 100   /* warnings per window */
#define RELAY_DEFAULT_FAIL_AFTER_MS 10000
#define RELAY_DEFAULT_EXPIRE_AFTER_MS 20000
#define RELAY_DEFAULT_MAX_OUTSTANDING 4096
#define RELAY_DEFAULT_KEEPALIVE_MS 2000
#define RELAY_DEFAULT_MAX_REDIRECTS 10000
#define RELAY_CLIENT_IN_FLIGHT_MAX 65536u

bool relay_may_warn(struct relay *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - r->warn_window >= RELAY_WARN_WINDOW) {
		if (r->warn_suppressed > 0)
			log_warning("%llu similar warnings suppressed in the last %d s",
				    (unsigned long long)r->warn_suppressed, RELAY_WARN_WINDOW);
		r->warn_window = now.tv_sec;
		r->warn_count = 0;
		r->warn_suppressed = 0;
	}
	if (r->warn_count < RELAY_WARN_BURST) {
		r->warn_count++;
		return true;
	}
	r->warn_suppressed++;
	return false;
}

/* ---------------------------------------------------------------- slots and back-pressure */

bool relay_marks_in_flight(const struct relay *r, const char *uuid, uint64_t luid)
{
	if (r->marks_out == 0) /* the usual case: no slot to look at */
		return false;
	for (unsigned i = 0; i < r->max_outstanding; i++) {
		const struct relay_slot *s = &r->slots[i];

		if (s->busy && !s->acked && s->hdr.luid == luid &&
		    strncmp(s->hdr.uuid, uuid, sizeof(s->hdr.uuid)) == 0 &&
		    (s->hdr.type == DM_ULOG_MARK_REGION || s->hdr.type == DM_ULOG_CLEAR_REGION ||
		     s->hdr.type == DM_ULOG_FLUSH))
			return true;
	}
	return false;
}

static struct relay_slot *relay_slot_take(struct relay *r)
{
	struct relay_slot *s = r->free_slots;

	if (s == NULL)
		return NULL; /* reading pauses before the last slot goes: never here */
	r->free_slots = s->next_free;
	s->next_free = NULL;
	s->busy = true;
	r->stats.outstanding++;
	if (r->stats.outstanding > r->stats.outstanding_peak)
		r->stats.outstanding_peak = r->stats.outstanding;
	if (r->free_slots == NULL && !r->paused) {
		r->paused = true;
		r->stats.pauses++;
		transport_pause(r->t, true);
		if (relay_may_warn(r))
			log_warning("%u kernel requests wait for dmlogd (max_outstanding): not "
				    "reading the kernel until one is answered",
				    r->max_outstanding);
	}
	return s;
}

/* Whether slot s counts in r->marks_out (relay_marks_in_flight()). */
static bool relay_slot_marks(const struct relay_slot *s)
{
	return !s->acked && (s->hdr.type == DM_ULOG_MARK_REGION ||
			     s->hdr.type == DM_ULOG_CLEAR_REGION || s->hdr.type == DM_ULOG_FLUSH);
}

/* Marks a taken slot as carrying req's header (and, acked, a clear answered already). */
static void relay_slot_fill(struct relay *r, struct relay_slot *s,
			    const struct ulog_codec_req *req, bool acked)
{
	s->hdr = req->hdr;
	s->reconnect = req->reconnect;
	s->acked = acked;
	if (relay_slot_marks(s))
		r->marks_out++;
	if (acked)
		r->acked_out++;
}

static void relay_slot_release(struct relay *r, struct relay_slot *s)
{
	if (relay_slot_marks(s))
		r->marks_out--;
	if (s->acked && --r->acked_out == 0 && r->draining)
		event_base_loopbreak(r->base);
	s->busy = false;
	s->acked = false;
	s->next_free = r->free_slots;
	r->free_slots = s;
	r->stats.outstanding--;
	if (r->paused && !r->closing) {
		r->paused = false;
		transport_pause(r->t, false);
		log_debug("reading the kernel again outstanding=%u", r->stats.outstanding);
	}
}

/* ---------------------------------------------------------------- library callbacks */

/* Whether a request of this type that no dmlogd answered gets -EIO now (policy fail) rather
 * than no reply (the kernel resends it after 15 s). Never IN_SYNC: the mirror reads any error
 * as "not in sync" and writes to the default leg only, while the log may count the region in
 * sync: legs that differ silently. */
static bool relay_may_fail(const struct relay *r, uint32_t type)
{
	return r->policy == RELAY_POLICY_FAIL && type != DM_ULOG_IN_SYNC;
}

/* The failures that mean "no dmlogd answered" rather than "dmlogd answered this errno". */
static bool relay_no_answer(int status)
{
	return status == -ETIMEDOUT || status == -EACCES || status == -EPROTO || status == -ELOOP;
}

static void relay_on_result(struct dmlog_async *ac, int status, const struct dmlog_result *res,
			    void *arg)
{
	struct relay_slot *s = arg;
	struct relay *r = s->relay;
	struct ulog_codec_res cres;
	int rc;

	if (s->acked) {
		/* a clear the kernel was answered for (relay_clear_early()): nothing to reply; a
		 * refusal (its instance lost meanwhile) shows at the kernel's next request */
		if (status != 0 && status != -ECANCELED) {
			r->stats.early_clear_errors++;
			log_debug("early-answered clear not applied: %d (%s) log=%s seq=%u", status,
				  dmlog_async_errmsg(ac), RELAY_UUID(s->hdr.uuid), s->hdr.seq);
		}
	} else if (status == 0) {
		rc = relay_reply_map(s->hdr.type, res, &cres);
		if (rc != 0) {
			if (relay_may_warn(r))
				log_warning("unusable answer from dmlogd (%s, for %s): "
					    "answering %s log=%s seq=%u",
					    dmlog_op_name(res->op),
					    ulog_codec_type_name(s->hdr.type), strerror(-rc),
					    RELAY_UUID(s->hdr.uuid), s->hdr.seq);
			cres.error = rc;
		}
		r->stats.answered++;
		log_debug("answer log=%s seq=%u type=%s error=%d flag=%d value=%" PRIu64,
			  RELAY_UUID(s->hdr.uuid), s->hdr.seq, ulog_codec_type_name(s->hdr.type),
			  cres.error, cres.flag ? 1 : 0, cres.value);
		relay_reply_send(r, &s->hdr, s->reconnect, &cres);
		if (r->replica != NULL)
			replica_after(r->replica, s->hdr.type, s->hdr.uuid, s->hdr.luid, 0);
		if (s->hdr.type == DM_ULOG_RESUME && cres.error == 0 && r->nlost)
			relay_lost_resumed(r, &s->hdr);
	} else if (status == -ECANCELED) {
		/* The relay is going away: no reply; the kernel resends after its timeout. */
	} else if (relay_no_answer(status)) {
		if (relay_may_fail(r, s->hdr.type)) {
			r->stats.failed++;
			if (relay_may_warn(r))
				log_warning("no answer from dmlogd, answering -EIO (policy "
					    "fail): %s log=%s seq=%u type=%s",
					    dmlog_async_errmsg(ac), RELAY_UUID(s->hdr.uuid),
					    s->hdr.seq, ulog_codec_type_name(s->hdr.type));
			relay_reply_error(r, &s->hdr, s->reconnect, -EIO);
		} else {
			r->stats.expired++;
			if (relay_may_warn(r))
				log_warning("no answer from dmlogd, request given up without a "
					    "reply (policy wait; the kernel resends it): %s log=%s "
					    "seq=%u type=%s",
					    dmlog_async_errmsg(ac), RELAY_UUID(s->hdr.uuid),
					    s->hdr.seq, ulog_codec_type_name(s->hdr.type));
		}
	} else if (status == -ESTALE) {
		/* dmlogd lost this node (its lease ran out) and dropped its marks; the instance
		 * answers nothing until it is resumed. The kernel resumes a log on its own only
		 * through its reconnect loop, which -ESRCH starts: it sends CTR (accepted for the
		 * known instance) and RESUME (which revives it), then this request again. Passing
		 * -ESTALE on would fail reads and flushes for good (writes to one leg only). */
		r->stats.answered++;
		r->stats.server_errors++;
		log_notice("dmlogd lost this node's instance: asking the kernel to reconnect log=%s seq=%u type=%s",
			   RELAY_UUID(s->hdr.uuid), s->hdr.seq, ulog_codec_type_name(s->hdr.type));
		relay_lost_add(r, &s->hdr);
		relay_reply_error(r, &s->hdr, s->reconnect, -ESRCH);
	} else {
		r->stats.answered++;
		r->stats.server_errors++;
		log_debug("dmlogd answered %d (%s) log=%s seq=%u type=%s", status,
			  dmlog_async_errmsg(ac), RELAY_UUID(s->hdr.uuid), s->hdr.seq,
			  ulog_codec_type_name(s->hdr.type));
		relay_reply_error(r, &s->hdr, s->reconnect, status);
	}
	relay_slot_release(r, s);
	if (ac == r->retired && r->reap != NULL)
		event_active(r->reap, EV_TIMEOUT, 0);
}

static void relay_on_ping(struct dmlog_async *ac, int status, const struct dmlog_result *res,
			  void *arg)
{
	struct relay *r = arg;

	(void)res;
	if (ac == r->ping_ac)
		r->ping_ac = NULL;
	if (ac == r->retired && status != -ECANCELED)
		event_active(r->reap, EV_TIMEOUT, 0); /* it may have been its last request */
	if (status == -ECANCELED || ac != r->ac)
		return;
	/* Changes are reported, not every ping. */
	if (status == 0 && (!r->link_up || !r->link_reported))
		log_notice("connected to dmlogd");
	else if (status != 0 && (r->link_up || !r->link_reported))
		log_warning("dmlogd unreachable: %s", dmlog_async_errmsg(ac));
	r->link_up = status == 0;
	r->link_reported = true;
}

static void relay_ping(struct relay *r)
{
	if (r->ping_ac != NULL)
		return;
	if (dmlog_async_ping(r->ac, relay_on_ping, r) == 0)
		r->ping_ac = r->ac;
}

static void relay_on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;

	(void)fd;
	(void)what;
	/* The last ping is still pending: say so now rather than when it times out. */
	if (r->ping_ac != NULL && !dmlog_async_connected(r->ac) &&
	    (r->link_up || !r->link_reported)) {
		log_warning("dmlogd unreachable: no connection, keepalive unanswered for %u ms",
			    r->keepalive_ms);
		r->link_up = false;
		r->link_reported = true;
	}
	relay_ping(r);
}

static void relay_on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;

	(void)fd;
	(void)what;
	if (r->retired != NULL && dmlog_async_pending(r->retired) == 0) {
		struct dmlog_async *old = r->retired;

		r->retired = NULL;
		dmlog_async_free(old);
		log_info("previous dmlogd connection released after the reload");
	}
}

/* ---------------------------------------------------------------- requests in */

/* The library request of a parsed kernel request (pointers into req). */
static void relay_request(const struct ulog_codec_req *req, struct dmlog_request *out)
{
	memset(out, 0, sizeof(*out));
	out->op = (enum dmlog_op)req->hdr.type;
	out->log.uuid = req->hdr.uuid;
	out->log.luid = req->hdr.luid;
	out->log.version = req->hdr.version;
	out->args = req->ctr;
	out->reconnect = req->reconnect;
	out->region = req->region;
	out->in_sync = req->in_sync;
	out->regions = req->regions;
	out->region_count = req->nregions;
}

/* A request the codec could not accept. */
static void relay_refuse(struct relay *r, int rc, const struct ulog_codec_req *req, size_t len)
{
	if (rc == -ENOMSG) {
		r->stats.foreign++;
		log_debug("connector message of another id ignored: %s", req->errmsg);
		return;
	}
	if (!req->replyable) {
		r->stats.dropped++;
		if (relay_may_warn(r))
			log_warning("kernel datagram dropped, no reply possible: %s fault=%s "
				    "len=%zu",
				    req->errmsg, ulog_codec_fault_name(req->fault), len);
		return;
	}
	r->stats.rejected++;
	if (relay_may_warn(r))
		log_warning("kernel request refused with -EINVAL: %s fault=%s log=%s seq=%u",
			    req->errmsg, ulog_codec_fault_name(req->fault),
			    RELAY_UUID(req->hdr.uuid), req->hdr.seq);
	relay_reply_error(r, &req->hdr, req->reconnect, -EINVAL);
}

/* A CLEAR_REGION answered at once (early_clear_ack): a clear that is lost only leaves its
 * region dirty (a resync, never a wrong "clean"), so the kernel need not wait for dmlogd. It
 * goes to dmlogd right behind the answer, on the connection every later request of this node
 * takes, so dmlogd orders it first (and makes IS_CLEAN wait for it). Only when the leased copy
 * proves dmlogd will accept it (replica_clear(): the instance resumed, the regions in range);
 * otherwise it is relayed and answered as dmlogd answers. */
static bool relay_clear_early(struct relay *r, const struct ulog_codec_req *req)
{
	struct ulog_codec_res res;
	struct dmlog_request dr;
	struct relay_slot *s;

	if (!r->early_clear_ack || r->replica == NULL ||
	    replica_clear(r->replica, req->hdr.uuid, req->hdr.luid, req->regions,
			  req->nregions) != 0)
		return false;
	s = relay_slot_take(r);
	if (s == NULL)
		return false;
	relay_slot_fill(r, s, req, true);
	relay_request(req, &dr);
	if (dmlog_async_submit(r->ac, &dr, relay_on_result, s) != 0) {
		relay_slot_release(r, s);
		return false;
	}
	r->stats.early_clears++;
	memset(&res, 0, sizeof(res));
	relay_local_reply(r, req, &res);
	return true;
}

static void relay_on_datagram(struct transport *t, const uint8_t *buf, size_t len, void *arg)
{
	struct relay *r = arg;
	struct ulog_codec_req req;
	struct dmlog_request dr;
	struct relay_slot *s;
	uint64_t t0 = relay_local_now_ns();
	int rc;

	(void)t;
	rc = ulog_codec_parse(buf, len, &req);
	if (rc != 0) {
		relay_refuse(r, rc, &req, len);
		return;
	}
	if (r->replica != NULL &&
	    (req.hdr.type == DM_ULOG_IN_SYNC || req.hdr.type == DM_ULOG_GET_RESYNC_WORK ||
	     req.hdr.type == DM_ULOG_GET_SYNC_COUNT ||
	     (req.hdr.type == DM_ULOG_FLUSH && req.nregions == 0))) {
		if (relay_local_answer(r, &req, t0))
			return;
		if (req.hdr.type == DM_ULOG_IN_SYNC)
			r->stats.remote_in_sync++;
	}
	if (req.hdr.type == DM_ULOG_CLEAR_REGION && relay_clear_early(r, &req))
		return;
	if (log_enabled(LOG_LEVEL_DEBUG))
		relay_debug_request(&req);
	if (r->replica != NULL)
		replica_before(r->replica, req.hdr.type, req.hdr.uuid, req.hdr.luid);
	s = relay_slot_take(r);
	if (s != NULL) {
		relay_slot_fill(r, s, &req, false);
		relay_request(&req, &dr);
		rc = dmlog_async_submit(r->ac, &dr, relay_on_result, s);
		if (rc == 0) {
			r->stats.requests++;
			r->stats.by_type[req.hdr.type]++;
			return;
		}
		relay_slot_release(r, s);
	} else {
		rc = -EAGAIN;
	}
	if (rc == -EINVAL) {
		/* the library's own checks (a uuid it cannot carry, say) */
		r->stats.rejected++;
		if (relay_may_warn(r))
			log_warning("kernel request refused with -EINVAL: %s log=%s seq=%u",
				    dmlog_async_errmsg(r->ac), RELAY_UUID(req.hdr.uuid),
				    req.hdr.seq);
		relay_reply_error(r, &req.hdr, req.reconnect, -EINVAL);
	} else if (relay_may_fail(r, req.hdr.type)) {
		r->stats.failed++;
		if (relay_may_warn(r))
			log_warning("request not submitted, answering -EIO: %s log=%s seq=%u",
				    dmlog_async_errmsg(r->ac), RELAY_UUID(req.hdr.uuid),
				    req.hdr.seq);
		relay_reply_error(r, &req.hdr, req.reconnect, -EIO);
	} else {
		r->stats.expired++;
		if (relay_may_warn(r))
			log_warning("request not submitted, no reply (the kernel resends it): %s "
				    "log=%s seq=%u",
				    dmlog_async_errmsg(r->ac), RELAY_UUID(req.hdr.uuid),
				    req.hdr.seq);
	}
}

/* ---------------------------------------------------------------- life cycle */

/* A library handle made from o under the relay's policy. */
static struct dmlog_async *relay_handle(struct event_base *base, const struct relay_options *o,
					uint32_t max_outstanding, char *err, size_t errlen)
{
	struct dmlog_options copt = o->client;
	char why[DMLOG_ERRMSG_SIZE];
	struct dmlog_async *ac;

	copt.request_timeout_ms = o->policy == RELAY_POLICY_FAIL
					  ? (o->fail_after_ms ? o->fail_after_ms
							      : RELAY_DEFAULT_FAIL_AFTER_MS)
					  : (o->expire_after_ms ? o->expire_after_ms
								: RELAY_DEFAULT_EXPIRE_AFTER_MS);
	/* + the keepalive ping + the replica's own requests */
	copt.max_in_flight = max_outstanding + 1 + REPLICA_REQUESTS_MAX;
	if (copt.max_in_flight > RELAY_CLIENT_IN_FLIGHT_MAX)
		copt.max_in_flight = RELAY_CLIENT_IN_FLIGHT_MAX; /* the library's own bound */
	/* During an election the followers name the old leader until a new one is known: every
	 * round of that is a redirect. The request's deadline bounds the wait, not a count. */
	if (copt.max_redirects == 0)
		copt.max_redirects = RELAY_DEFAULT_MAX_REDIRECTS;
	ac = dmlog_async_new(base, &copt, why);
	if (ac == NULL)
		snprintf(err, errlen, "%s", why);
	return ac;
}

static void relay_apply(struct relay *r, const struct relay_options *o)
{
	r->policy = o->policy;
	r->refresh_after_loss = o->refresh_after_loss;
	r->early_clear_ack = o->early_clear_ack;
	r->fail_after_ms = o->fail_after_ms ? o->fail_after_ms : RELAY_DEFAULT_FAIL_AFTER_MS;
	r->expire_after_ms = o->expire_after_ms ? o->expire_after_ms
						: RELAY_DEFAULT_EXPIRE_AFTER_MS;
	r->keepalive_ms = o->keepalive_ms ? o->keepalive_ms : RELAY_DEFAULT_KEEPALIVE_MS;
}

static void relay_arm_keepalive(struct relay *r)
{
	struct timeval tv = {r->keepalive_ms / 1000, (r->keepalive_ms % 1000) * 1000};

	if (r->keepalive_ms == UINT32_MAX) {
		event_del(r->keepalive);
		return;
	}
	event_add(r->keepalive, &tv);
	relay_ping(r);
}

struct relay *relay_new(struct event_base *base, struct transport *t, const struct relay_options *o,
			char *err, size_t errlen)
{
	uint32_t max = o->max_outstanding ? o->max_outstanding : RELAY_DEFAULT_MAX_OUTSTANDING;
	struct relay *r;

	if (max > RELAY_OUTSTANDING_MAX || (o->policy != RELAY_POLICY_WAIT &&
					    o->policy != RELAY_POLICY_FAIL)) {
		snprintf(err, errlen, "relay: max_outstanding above %d or unknown policy",
			 RELAY_OUTSTANDING_MAX);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->slots = calloc(max, sizeof(*r->slots))) == NULL)
		goto nomem;
	r->base = base;
	r->t = t;
	r->max_outstanding = max;
	relay_apply(r, o);
	for (uint32_t i = max; i-- > 0;) {
		r->slots[i].relay = r;
		r->slots[i].next_free = r->free_slots;
		r->free_slots = &r->slots[i];
	}
	r->reap = event_new(base, -1, 0, relay_on_reap, r);
	r->keepalive = event_new(base, -1, EV_PERSIST, relay_on_keepalive, r);
	if (r->reap == NULL || r->keepalive == NULL)
		goto nomem;
	r->ac = relay_handle(base, o, max, err, errlen);
	if (r->ac == NULL) {
		relay_free(r);
		return NULL;
	}
	if (!o->no_local_reads) {
		struct replica_options ro = {o->lease_margin_ms, o->copy_retry_ms,
					     relay_local_on_replica_done, r};

		r->replica = replica_new(base, &ro);
		if (r->replica == NULL)
			goto nomem;
		replica_attach(r->replica, r->ac);
	}
	if (transport_start(t, relay_on_datagram, r) != 0)
		goto nomem;
	relay_arm_keepalive(r);
	return r;
nomem:
	snprintf(err, errlen, "relay: out of memory");
	relay_free(r);
	return NULL;
}

int relay_reconfigure(struct relay *r, const struct relay_options *o, char *err, size_t errlen)
{
	struct dmlog_async *ac;

	if (o->policy != RELAY_POLICY_WAIT && o->policy != RELAY_POLICY_FAIL) {
		snprintf(err, errlen, "relay: unknown policy");
		return -EINVAL;
	}
	ac = relay_handle(r->base, o, r->max_outstanding, err, errlen);
	if (ac == NULL)
		return -EINVAL;
	if (r->retired != NULL) {
		/* A second reload before the first handle drained: its last requests get no
		 * reply (the kernel resends them). */
		struct dmlog_async *old = r->retired;

		r->retired = NULL;
		log_warning("reload: %zu requests of the handle before the previous reload "
			    "dropped",
			    dmlog_async_pending(old));
		dmlog_async_free(old);
	}
	r->retired = r->ac;
	r->ac = ac;
	if (r->replica != NULL)
		replica_attach(r->replica, ac); /* copies of the old connection end */
	r->link_up = false;
	r->link_reported = false;
	relay_apply(r, o);
	relay_arm_keepalive(r);
	event_active(r->reap, EV_TIMEOUT, 0);
	return 0;
}

static void relay_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(r->base);
}

void relay_drain(struct relay *r, unsigned timeout_ms)
{
	struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
	struct event *deadline;
	uint32_t n = r ? r->acked_out : 0;

	if (n == 0)
		return;
	transport_pause(r->t, true);
	r->closing = true; /* no slot release resumes reading */
	deadline = evtimer_new(r->base, relay_drain_timeout, r);
	if (deadline == NULL || evtimer_add(deadline, &tv) != 0) {
		log_warning("stopping: %u clear(s) answered to the kernel may not reach dmlogd "
			    "(out of memory): their regions stay dirty until resynced", n);
		if (deadline != NULL)
			event_free(deadline);
		return;
	}
	log_notice("stopping: waiting up to %u ms for %u clear(s) answered to the kernel to reach "
		   "dmlogd", timeout_ms, n);
	r->draining = true;
	event_base_dispatch(r->base);
	r->draining = false;
	event_free(deadline);
	if (r->acked_out)
		log_warning("stopping: %u clear(s) answered to the kernel did not reach dmlogd: "
			    "their regions stay dirty until resynced", r->acked_out);
}

void relay_free(struct relay *r)
{
	struct dmlog_async *ac, *old;

	if (r == NULL)
		return;
	r->closing = true;
	if (r->t != NULL)
		transport_pause(r->t, true);
	/* Freeing a handle runs the callbacks of its requests (-ECANCELED): no replies. */
	if (r->replica != NULL)
		replica_attach(r->replica, NULL);
	ac = r->ac;
	old = r->retired;
	r->ac = r->retired = NULL;
	dmlog_async_free(ac);
	dmlog_async_free(old);
	replica_free(r->replica);
	r->replica = NULL;
	if (r->reap != NULL)
		event_free(r->reap);
	if (r->keepalive != NULL)
		event_free(r->keepalive);
	free(r->slots);
	free(r);
}

void relay_get_stats(const struct relay *r, struct relay_stats *out)
{
	*out = r->stats;
	out->connected = r->ac != NULL && dmlog_async_connected(r->ac);
	if (r->replica != NULL) {
		struct replica_stats rs;

		replica_get_stats(r->replica, &rs);
		out->copies = rs.copies;
		out->leased = rs.leased;
	}
}

void relay_dump(const struct relay *r)
{
	struct transport_stats ts;
	char types[512];
	size_t used = 0;

	transport_get_stats(r->t, &ts);
	for (uint32_t k = 1; k <= ULOG_CODEC_TYPE_MAX && used < sizeof(types); k++) {
		if (r->stats.by_type[k] == 0)
			continue;
		used += (size_t)snprintf(types + used, sizeof(types) - used, " %s=%llu",
					 ulog_codec_type_name(k),
					 (unsigned long long)r->stats.by_type[k]);
	}
	if (used == 0)
		snprintf(types, sizeof(types), " none");
	log_notice("state dump: transport=%s connected=%s policy=%s outstanding=%u peak=%u "
		   "max_outstanding=%u pauses=%u",
		   transport_name(r->t), r->ac && dmlog_async_connected(r->ac) ? "yes" : "no",
		   r->policy == RELAY_POLICY_FAIL ? "fail" : "wait", r->stats.outstanding,
		   r->stats.outstanding_peak, r->max_outstanding, r->stats.pauses);
	log_notice("state dump: requests=%llu answered=%llu server_errors=%llu rejected=%llu "
		   "dropped=%llu foreign=%llu failed=%llu expired=%llu unsent=%llu refreshes=%llu",
		   (unsigned long long)r->stats.requests, (unsigned long long)r->stats.answered,
		   (unsigned long long)r->stats.server_errors,
		   (unsigned long long)r->stats.rejected, (unsigned long long)r->stats.dropped,
		   (unsigned long long)r->stats.foreign, (unsigned long long)r->stats.failed,
		   (unsigned long long)r->stats.expired, (unsigned long long)r->stats.unsent,
		   (unsigned long long)r->stats.refreshes);
	log_notice("state dump: by type:%s", types);
	if (r->replica != NULL) {
		struct replica_stats rs;
		struct relay_local_latency ll;

		replica_get_stats(r->replica, &rs);
		relay_get_local_latency(r, &ll);
		log_notice("state dump: local_reads local=%llu remote=%llu remote_no_lease=%llu "
			   "copies=%u leased=%s lease_left_ms=%u watches=%llu watch_failures=%llu "
			   "copies_made=%llu drops=%llu resets=%llu pushes=%llu changes=%llu "
			   "acks=%llu grants=%llu local_p50_ns=%llu local_p99_ns=%llu "
			   "local_resync_work=%llu local_sync_count=%llu local_flush=%llu "
			   "early_clears=%llu early_clear_errors=%llu",
			   (unsigned long long)rs.local, (unsigned long long)rs.remote,
			   (unsigned long long)rs.remote_no_lease, rs.copies,
			   rs.leased ? "yes" : "no", rs.lease_left_ms,
			   (unsigned long long)rs.watches, (unsigned long long)rs.watch_failures,
			   (unsigned long long)rs.copies_made, (unsigned long long)rs.drops,
			   (unsigned long long)rs.resets, (unsigned long long)rs.pushes,
			   (unsigned long long)rs.changes, (unsigned long long)rs.acks,
			   (unsigned long long)rs.grants, (unsigned long long)ll.p50_ns,
			   (unsigned long long)ll.p99_ns,
			   (unsigned long long)rs.local_resync_work,
			   (unsigned long long)rs.local_sync_count,
			   (unsigned long long)rs.local_flush,
			   (unsigned long long)r->stats.early_clears,
			   (unsigned long long)r->stats.early_clear_errors);
	} else {
		log_notice("state dump: local_reads off");
	}
	log_notice("state dump: datagrams received=%llu sent=%llu queued=%llu dropped_in=%llu "
		   "dropped_out=%llu overruns=%llu peers=%llu",
		   (unsigned long long)ts.received, (unsigned long long)ts.sent,
		   (unsigned long long)ts.queued, (unsigned long long)ts.dropped_in,
		   (unsigned long long)ts.dropped_out, (unsigned long long)ts.overruns,
		   (unsigned long long)ts.peers);
}
