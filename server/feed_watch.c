/* feed_watch.c: the IN_SYNC feed's requests — Watch (a copy of one instance), Unwatch and
 * FeedAck (acknowledgement and lease) — see feed.h and proto/dmlog.proto.
 *
 * A copy is taken under the fsm lock right after the queued events were dispatched to the
 * copies that exist already (feed.c), so it reflects exactly the entries applied so far and
 * every later change reaches it as a push; pushes made before it are written to the
 * connection before its answer. Copies and leases are only given while this server may
 * answer reads from its applied state (it leads and holds the Raft read lease).
 */
#include "feed_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "fsm.h"
#include "log.h"
#include "server.h"
#include "session.h"

/* Collects the out-of-sync runs below a region count, at most FEED_RANGES_MAX. */
struct range_sink {
	Dmlog__RegionRange *v;
	size_t n, cap;
	uint64_t limit;              /* region_count of the instance */
	int err;
};

static void range_add(void *arg, uint64_t first, uint64_t last)
{
	struct range_sink *rs = arg;

	if (rs->err || first >= rs->limit)
		return;
	if (last >= rs->limit)
		last = rs->limit - 1;
	if (rs->n == FEED_RANGES_MAX) {
		rs->err = -E2BIG;
		return;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		Dmlog__RegionRange *v = realloc(rs->v, cap * sizeof(*v));

		if (!v) {
			rs->err = -ENOMEM;
			return;
		}
		rs->v = v;
		rs->cap = cap;
	}
	dmlog__region_range__init(&rs->v[rs->n]);
	rs->v[rs->n].first = first;
	rs->v[rs->n].last = last;
	rs->n++;
}

static struct feed_client *client_of(struct feed *f, struct session *s, bool create)
{
	struct feed_client *fc = session_feed(s);
	uint64_t id = 0;

	if (fc || !create)
		return fc;
	if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id) || id == 0)
		return NULL;
	fc = calloc(1, sizeof(*fc));
	if (!fc)
		return NULL;
	fc->s = s;
	fc->uid = ++f->next_uid;
	fc->feed_id = id;
	snprintf(fc->node, sizeof(fc->node), "%s", session_identity(s));
	LIST_INSERT_HEAD(&f->clients, fc, link);
	session_set_feed(s, fc);
	return fc;
}

static struct feed_watch *watch_find(struct feed_client *fc, const char *uuid, uint64_t luid)
{
	for (struct feed_watch *w = fc->watches; w; w = w->next)
		if (w->luid == luid && strcmp(w->uuid, uuid) == 0)
			return w;
	return NULL;
}

/* Under the fsm lock: takes the copy of (uuid, luid) and registers it. 0 or -errno + why. */
static int watch_take(struct feed *f, struct feed_client *fc, const Dmlog__LogRef *ref,
		      struct engine_instance_view *view, struct range_sink *rs,
		      struct feed_watch **out, const char **why)
{
	const struct engine *e = fsm_engine(f->srv->fsm);
	struct feed_watch *w, *old;

	feed_take_locked(f); /* changes up to now go to the copies that exist already */
	if (engine_instance_view(e, ref->uuid, fc->node, ref->luid, view) != 0 || !view->resumed) {
		*why = "no resumed instance of this log on this node";
		return -ENOENT;
	}
	rs->limit = view->region_count;
	engine_log_ranges(e, ref->uuid, false, range_add, rs);
	if (rs->err) {
		*why = rs->err == -E2BIG ? "the log is too fragmented to copy" : "out of memory";
		return rs->err;
	}
	old = watch_find(fc, ref->uuid, ref->luid);
	if (old)
		feed_watch_remove(f, old); /* a new copy replaces the old one */
	if (fc->nwatches >= FEED_WATCHES_MAX || f->nwatches >= FEED_WATCHES_TOTAL_MAX) {
		*why = "too many copies";
		return -ENOSPC;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		*why = "out of memory";
		return -ENOMEM;
	}
	w->fc = fc;
	w->id = ++f->next_watch;
	w->luid = ref->luid;
	w->region_count = view->region_count;
	snprintf(w->uuid, sizeof(w->uuid), "%s", ref->uuid);
	w->bucket = feed_bucket(w->uuid);
	w->next = fc->watches;
	fc->watches = w;
	w->bucket_next = f->buckets[w->bucket];
	f->buckets[w->bucket] = w;
	fc->nwatches++;
	f->nwatches++;
	feed_record_update(f);
	*out = w;
	return 0;
}

void feed_watch(struct feed *f, struct session *s, uint64_t id, const Dmlog__Watch *req)
{
	Dmlog__ServerMessage m = DMLOG__SERVER_MESSAGE__INIT;
	Dmlog__WatchReply wr = DMLOG__WATCH_REPLY__INIT;
	struct range_sink rs = {0};
	Dmlog__RegionRange **ptrs = NULL;
	struct engine_instance_view view;
	struct feed_client *fc;
	struct feed_watch *w = NULL;
	const char *why = NULL;
	uint64_t now;
	int rc;

	if (!req->log || !req->log->uuid || !req->log->uuid[0] ||
	    strlen(req->log->uuid) > ENGINE_UUID_MAX) {
		session_reply_error(s, id, -EINVAL, "watch: bad log reference");
		return;
	}
	if (!server_is_leader(f->srv)) {
		session_reply_not_leader(s, id);
		return;
	}
	/* Copies are taken only where reads are linearizable (the applied state reflects every
	 * acknowledged change, session.c). */
	if (!server_read_ok(f->srv)) {
		session_reply_error(s, id, -EAGAIN, "watch: no read lease yet; try again");
		return;
	}
	feed_gc(f);
	fc = client_of(f, s, true);
	if (!fc) {
		session_reply_error(s, id, -ENOMEM, "watch: out of memory");
		return;
	}
	fsm_lock(f->srv->fsm);
	rc = watch_take(f, fc, req->log, &view, &rs, &w, &why);
	fsm_unlock(f->srv->fsm);
	feed_flush(f); /* pushes made before the copy go out before it */
	if (rc) {
		char msg[128];

		snprintf(msg, sizeof(msg), "watch: %s", why);
		session_reply_error(s, id, rc, msg);
		free(rs.v);
		return;
	}
	if (rs.n && !(ptrs = malloc(rs.n * sizeof(*ptrs)))) {
		feed_watch_remove(f, w);
		session_reply_error(s, id, -ENOMEM, "watch: out of memory");
		free(rs.v);
		return;
	}
	for (size_t i = 0; i < rs.n; i++)
		ptrs[i] = &rs.v[i];
	now = feed_now_ms();
	wr.feed_id = fc->feed_id;
	wr.watch_id = w->id;
	wr.seq = fc->pushed;
	wr.sticky = view.sticky;
	wr.region_count = view.region_count;
	wr.n_out_of_sync = rs.n;
	wr.out_of_sync = ptrs;
	if (feed_may_grant(f, fc, now)) {
		feed_grant(f, fc, now);
		wr.lease_ms = FEED_LEASE_MS;
	}
	m.id = id;
	m.body_case = DMLOG__SERVER_MESSAGE__BODY_WATCH;
	m.watch = &wr;
	session_reply(s, &m);
	free(ptrs);
	free(rs.v);
}

void feed_unwatch(struct feed *f, struct session *s, uint64_t id, const Dmlog__Unwatch *u)
{
	Dmlog__ServerMessage m = DMLOG__SERVER_MESSAGE__INIT;
	Dmlog__Done done = DMLOG__DONE__INIT;
	struct feed_client *fc = client_of(f, s, false);

	if (fc && fc->feed_id == u->feed_id) {
		for (struct feed_watch *w = fc->watches; w; w = w->next) {
			if (w->id != u->watch_id)
				continue;
			fsm_lock(f->srv->fsm);
			feed_watch_remove(f, w);
			feed_record_update(f);
			fsm_unlock(f->srv->fsm);
			break;
		}
	}
	m.id = id;
	m.body_case = DMLOG__SERVER_MESSAGE__BODY_DONE;
	m.done = &done;
	session_reply(s, &m);
}

void feed_ack(struct feed *f, struct session *s, uint64_t id, const Dmlog__FeedAck *a)
{
	Dmlog__ServerMessage m = DMLOG__SERVER_MESSAGE__INIT;
	Dmlog__FeedGrant g = DMLOG__FEED_GRANT__INIT;
	struct feed_client *fc = client_of(f, s, false);
	uint64_t now = feed_now_ms();

	feed_drain(f); /* a grant never goes out ahead of a change already applied */
	if (fc && fc->feed_id == a->feed_id) {
		if (a->seq > fc->acked)
			fc->acked = a->seq < fc->pushed ? a->seq : fc->pushed;
		g.feed_id = fc->feed_id;
		g.acked = fc->acked;
		if (feed_may_grant(f, fc, now)) {
			feed_grant(f, fc, now);
			g.lease_ms = FEED_LEASE_MS;
		}
	} else if (fc) {
		g.feed_id = fc->feed_id; /* an older session's ack: nothing to grant */
	}
	m.id = id;
	m.body_case = DMLOG__SERVER_MESSAGE__BODY_FEED_GRANT;
	m.feed_grant = &g;
	session_reply(s, &m);
	if (fc)
		feed_hold_check(f);
}

