/* feed.c: the IN_SYNC feed's clients, copies and pushes (see feed.h).
 *
 * Events reach here in apply order: the fsm queues them under its lock while the raft thread
 * applies an entry, and feed_drain() takes them under the same lock, turns each into changes
 * of the copies it concerns (a SYNC range cut to each copy's region_count, a sticky flag, the
 * end of a copy) and sends every client's changes as one push (more if they are many). A new
 * copy (feed_watch.c) is taken under that lock too, right after the queue was emptied: it reflects
 * exactly the entries applied so far, and every later event reaches it as a change. So a
 * bridge that applied pushes 1..n and holds a copy made after push m <= n has the state as of
 * some applied entry, never a mix. Pushes and replies to one session share its connection, in
 * the order they were written: a bridge has every push written before a reply when it reads
 * that reply.
 */
#include "feed_impl.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fsm.h"
#include "log.h"
#include "server.h"
#include "session.h"

uint64_t feed_now_ms(void)
{
	return clock_mono_ms();
}

uint32_t feed_bucket(const char *uuid)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)uuid; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % FEED_BUCKETS;
}

static void feed_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	feed_drain(arg);
}

static void feed_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	feed_hold_check(arg);
}

struct feed *feed_new(struct server *srv)
{
	struct feed *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->srv = srv;
	LIST_INIT(&f->clients);
	TAILQ_INIT(&f->held);
	f->drain_ev = event_new(srv->base, -1, 0, feed_drain_cb, f);
	f->timer = evtimer_new(srv->base, feed_timer_cb, f);
	if (!f->drain_ev || !f->timer) {
		feed_free(f);
		return NULL;
	}
	fsm_feed_init(srv->fsm, feed_notify, f);
	return f;
}

static void client_free(struct feed *f, struct feed_client *fc);

void feed_free(struct feed *f)
{
	if (!f)
		return;
	feed_hold_free(f);
	while (!LIST_EMPTY(&f->clients))
		client_free(f, LIST_FIRST(&f->clients));
	if (f->drain_ev)
		event_free(f->drain_ev);
	if (f->timer)
		event_free(f->timer);
	free(f);
}

void feed_notify(void *arg)
{
	struct feed *f = arg;

	/* libevent is thread-enabled (evthread_use_pthreads): activation is safe from here */
	event_active(f->drain_ev, EV_TIMEOUT, 0);
}

/* ---------------------------------------------------------------- clients and copies */

struct feed_client *feed_client_by_uid(struct feed *f, uint64_t uid)
{
	struct feed_client *fc;

	LIST_FOREACH(fc, &f->clients, link)
		if (fc->uid == uid)
			return fc;
	return NULL;
}

void feed_watch_remove(struct feed *f, struct feed_watch *w)
{
	struct feed_watch **pp;

	for (pp = &w->fc->watches; *pp && *pp != w; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = w->next;
	for (pp = &f->buckets[w->bucket]; *pp && *pp != w; pp = &(*pp)->bucket_next)
		;
	if (*pp)
		*pp = w->bucket_next;
	w->fc->nwatches--;
	f->nwatches--;
	free(w);
}

static void client_drop_watches(struct feed *f, struct feed_client *fc)
{
	while (fc->watches)
		feed_watch_remove(f, fc->watches);
}

static void client_free(struct feed *f, struct feed_client *fc)
{
	client_drop_watches(f, fc);
	LIST_REMOVE(fc, link);
	free(fc->pending);
	free(fc);
}

void feed_gc(struct feed *f)
{
	struct feed_client *fc, *next;
	uint64_t now = feed_now_ms();

	for (fc = LIST_FIRST(&f->clients); fc; fc = next) {
		next = LIST_NEXT(fc, link);
		if (!fc->s && fc->lease_until_ms <= now)
			client_free(f, fc);
	}
}

void feed_record_update(struct feed *f)
{
	fsm_feed_record(f->srv->fsm, f->nwatches > 0);
}

/* Queues one change for fc's next push. */
static void client_change(struct feed_client *fc, uint64_t watch_id, Dmlog__FeedChange__Kind kind,
			  uint64_t first, uint64_t last, bool value)
{
	Dmlog__FeedChange *c;

	if (fc->pending_failed || !fc->s)
		return;
	if (fc->npending == fc->cappending) {
		size_t cap = fc->cappending ? fc->cappending * 2 : 16;
		Dmlog__FeedChange *v = realloc(fc->pending, cap * sizeof(*v));

		if (!v) {
			fc->pending_failed = true; /* flushed as a RESET: the bridge rebuilds */
			return;
		}
		fc->pending = v;
		fc->cappending = cap;
	}
	c = &fc->pending[fc->npending++];
	dmlog__feed_change__init(c);
	c->watch_id = watch_id;
	c->kind = kind;
	c->first = first;
	c->last = last;
	c->value = value;
}

/* Ends copy w with a DROP change. */
static void watch_drop(struct feed *f, struct feed_watch *w)
{
	client_change(w->fc, w->id, DMLOG__FEED_CHANGE__KIND__DROP, 0, 0, false);
	feed_watch_remove(f, w);
}

/* Ends every copy of fc with one RESET change. */
static void client_reset(struct feed *f, struct feed_client *fc)
{
	client_drop_watches(f, fc);
	fc->npending = 0;
	fc->pending_failed = false;
	client_change(fc, 0, DMLOG__FEED_CHANGE__KIND__RESET, 0, 0, false);
	f->st.resets++;
}

/* One queued event: the changes of the copies it concerns. */
static void feed_dispatch(void *arg, const struct fsm_event *ev)
{
	struct feed *f = arg;
	struct feed_watch *w, *next;
	struct feed_client *fc;

	if (ev->kind == FSM_EVENT_RESET) {
		LIST_FOREACH(fc, &f->clients, link)
			if (fc->nwatches)
				client_reset(f, fc);
		return;
	}
	for (w = f->buckets[feed_bucket(ev->uuid)]; w; w = next) {
		next = w->bucket_next;
		if (strcmp(w->uuid, ev->uuid) != 0)
			continue;
		switch (ev->kind) {
		case ENGINE_EVENT_SYNC:
			if (ev->first < w->region_count)
				client_change(w->fc, w->id, DMLOG__FEED_CHANGE__KIND__SYNC, ev->first,
					      ev->last < w->region_count ? ev->last
									 : w->region_count - 1,
					      ev->in_sync);
			break;
		case ENGINE_EVENT_INSTANCE:
			if (w->luid != ev->luid || strcmp(w->fc->node, ev->node) != 0)
				break;
			if (ev->gone || !ev->resumed)
				watch_drop(f, w);
			else
				client_change(w->fc, w->id, DMLOG__FEED_CHANGE__KIND__STICKY, 0, 0,
					      ev->sticky);
			break;
		case ENGINE_EVENT_LOG_GONE:
			watch_drop(f, w);
			break;
		default:
			break;
		}
	}
}

/* Sends fc's queued changes as pushes. */
static void client_flush(struct feed *f, struct feed_client *fc, uint64_t now)
{
	Dmlog__FeedChange *ptrs[FEED_PUSH_CHANGES_MAX];
	size_t done = 0;

	if (fc->pending_failed)
		client_reset(f, fc);
	while (done < fc->npending) {
		Dmlog__ServerMessage m = DMLOG__SERVER_MESSAGE__INIT;
		Dmlog__FeedPush p = DMLOG__FEED_PUSH__INIT;
		size_t n = fc->npending - done;

		if (n > FEED_PUSH_CHANGES_MAX)
			n = FEED_PUSH_CHANGES_MAX;
		for (size_t i = 0; i < n; i++)
			ptrs[i] = &fc->pending[done + i];
		p.feed_id = fc->feed_id;
		p.seq = ++fc->pushed;
		p.n_changes = n;
		p.changes = ptrs;
		m.id = 0;
		m.body_case = DMLOG__SERVER_MESSAGE__BODY_FEED_PUSH;
		m.feed_push = &p;
		fc->push_ms[fc->pushed % FEED_RING] = now;
		session_reply(fc->s, &m);
		f->st.pushes++;
		f->st.changes += n;
		done += n;
	}
	fc->npending = 0;
	if (fc->cappending > 4 * FEED_PUSH_CHANGES_MAX) {
		free(fc->pending);
		fc->pending = NULL;
		fc->cappending = 0;
	}
}

void feed_flush(struct feed *f)
{
	struct feed_client *fc;
	uint64_t now = feed_now_ms();

	LIST_FOREACH(fc, &f->clients, link) {
		if (!fc->s) {
			fc->npending = 0;
			fc->pending_failed = false;
		} else if (fc->npending || fc->pending_failed) {
			client_flush(f, fc, now);
		}
	}
}

void feed_take_locked(struct feed *f)
{
	fsm_feed_take(f->srv->fsm, feed_dispatch, f);
	feed_record_update(f);
}

void feed_drain(struct feed *f)
{
	if (!f || !fsm_feed_pending(f->srv->fsm))
		return;
	fsm_lock(f->srv->fsm);
	feed_take_locked(f);
	fsm_unlock(f->srv->fsm);
	feed_flush(f);
}

void feed_reset_all(struct feed *f)
{
	struct feed_client *fc;

	fsm_lock(f->srv->fsm);
	feed_take_locked(f);
	LIST_FOREACH(fc, &f->clients, link)
		if (fc->nwatches)
			client_reset(f, fc);
	feed_record_update(f);
	fsm_unlock(f->srv->fsm);
	feed_flush(f);
}

void feed_session_closed(struct feed *f, struct feed_client *fc)
{
	if (!f || !fc)
		return;
	fc->s = NULL;
	fc->npending = 0;
	fc->pending_failed = false;
	if (fc->nwatches) {
		fsm_lock(f->srv->fsm);
		client_drop_watches(f, fc);
		feed_record_update(f);
		fsm_unlock(f->srv->fsm);
	}
	/* kept while its lease lasts: held replies wait for it to run out */
	feed_gc(f);
	feed_hold_check(f);
}

void feed_get_stats(const struct feed *f, struct feed_stats *out)
{
	const struct feed_client *fc;

	*out = f->st;
	out->clients = 0;
	LIST_FOREACH(fc, &f->clients, link)
		out->clients++;
	out->watches = f->nwatches;
}
