/* fsm.c: the replicated state machine of dmlogd (see fsm.h). */
#include "fsm.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmlog.pb-c.h"
#include "opmap.h"
#include "snapbuf.h"

#define FSM_MAGIC "DMLOGFSM"
#define FSM_FORMAT 2     /* 2 added the peer table; 1 is still read */
#define FSM_DIGEST 32

struct fsm_lease {
	char node[ENGINE_NODE_NAME_MAX + 1];
	uint32_t lease_ms;
};

struct fsm {
	pthread_mutex_t lock;
	struct engine *engine;
	struct dedup *dedup;
	uint32_t nleases;
	struct fsm_lease leases[FSM_LEASES_MAX];
	uint32_t npeers;
	struct fsm_peer peers[FSM_PEERS_MAX]; /* sorted by raft id */
	uint64_t applied;
	char errmsg[256];
	/* the feed's event queue (not replicated, not in snapshots) */
	bool recording;
	bool overflow;                  /* events were lost: the queue is one reset */
	struct fsm_event *events;
	size_t nevents, capevents;
	atomic_bool pending;
	bool queued_now;                /* the entry being applied queued events */
	fsm_feed_notify_fn notify;
	void *notify_arg;
};

static void fsm_engine_event(void *arg, const struct engine_event *ev);

struct fsm *fsm_new(uint32_t dedup_window)
{
	struct fsm *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->engine = engine_new();
	f->dedup = dedup_new(dedup_window);
	if (!f->engine || !f->dedup) {
		fsm_free(f);
		return NULL;
	}
	pthread_mutex_init(&f->lock, NULL);
	atomic_init(&f->pending, false);
	return f;
}

void fsm_free(struct fsm *f)
{
	if (!f)
		return;
	engine_free(f->engine);
	dedup_free(f->dedup);
	free(f->events);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* ---------------------------------------------------------------- the feed's events */

void fsm_feed_init(struct fsm *f, fsm_feed_notify_fn fn, void *arg)
{
	f->notify = fn;
	f->notify_arg = arg;
}

void fsm_feed_record(struct fsm *f, bool on)
{
	/* Without a listener the engine skips the work of reporting (a master RESUME's scan). */
	if (on != f->recording)
		engine_set_events(f->engine, on ? fsm_engine_event : NULL, f);
	f->recording = on;
	if (!on) {
		f->nevents = 0;
		f->overflow = false;
		atomic_store(&f->pending, false);
	}
}

bool fsm_feed_pending(const struct fsm *f)
{
	return atomic_load(&f->pending);
}

/* Locked: everything queued becomes one reset. */
static void feed_reset(struct fsm *f)
{
	f->overflow = true;
	f->nevents = 0;
	f->queued_now = true;
	atomic_store(&f->pending, true);
}

/* Whether ev extends the last queued event: the same log and direction, the next region on
 * either side (resync walks regions in order; a batch of them makes one range). */
static bool feed_coalesce(struct fsm_event *last, const struct engine_event *ev)
{
	if (last->kind != ENGINE_EVENT_SYNC || ev->kind != ENGINE_EVENT_SYNC ||
	    last->in_sync != ev->in_sync || strcmp(last->uuid, ev->uuid) != 0)
		return false;
	if (ev->first == last->last + 1) {
		last->last = ev->last;
		return true;
	}
	if (ev->last + 1 == last->first) {
		last->first = ev->first;
		return true;
	}
	return false;
}

/* Engine event function, under the lock (apply or node loss). */
static void fsm_engine_event(void *arg, const struct engine_event *ev)
{
	struct fsm *f = arg;
	struct fsm_event *e;

	if (!f->recording || f->overflow)
		return;
	if (f->nevents && feed_coalesce(&f->events[f->nevents - 1], ev))
		return;
	if (f->nevents == f->capevents) {
		size_t cap = f->capevents ? f->capevents * 2 : 64;
		struct fsm_event *v;

		if (cap > FSM_FEED_EVENTS_MAX)
			cap = FSM_FEED_EVENTS_MAX;
		v = f->nevents < cap ? realloc(f->events, cap * sizeof(*v)) : NULL;
		if (!v) {
			feed_reset(f); /* full, or no memory: the bridges rebuild their copies */
			return;
		}
		f->events = v;
		f->capevents = cap;
	}
	e = &f->events[f->nevents++];
	memset(e, 0, sizeof(*e));
	e->kind = (int)ev->kind;
	snprintf(e->uuid, sizeof(e->uuid), "%s", ev->uuid);
	if (ev->node)
		snprintf(e->node, sizeof(e->node), "%s", ev->node);
	e->luid = ev->luid;
	e->first = ev->first;
	e->last = ev->last;
	e->in_sync = ev->in_sync;
	e->resumed = ev->resumed;
	e->sticky = ev->sticky;
	e->gone = ev->gone;
	f->queued_now = true;
	atomic_store(&f->pending, true);
}

void fsm_feed_take(struct fsm *f, void (*fn)(void *arg, const struct fsm_event *ev), void *arg)
{
	if (f->overflow) {
		struct fsm_event reset;

		memset(&reset, 0, sizeof(reset));
		reset.kind = FSM_EVENT_RESET;
		fn(arg, &reset);
	} else {
		for (size_t i = 0; i < f->nevents; i++)
			fn(arg, &f->events[i]);
	}
	f->nevents = 0;
	f->overflow = false;
	atomic_store(&f->pending, false);
	/* a long burst (a master resume of a huge log) gives its memory back */
	if (f->capevents > 1024) {
		free(f->events);
		f->events = NULL;
		f->capevents = 0;
	}
}

void fsm_lock(struct fsm *f)
{
	pthread_mutex_lock(&f->lock);
}

void fsm_unlock(struct fsm *f)
{
	pthread_mutex_unlock(&f->lock);
}

const struct engine *fsm_engine(const struct fsm *f)
{
	return f->engine;
}

const char *fsm_last_error(const struct fsm *f)
{
	return f->errmsg;
}

uint64_t fsm_applied_index(const struct fsm *f)
{
	return f->applied;
}

bool fsm_result(const struct fsm *f, const char *node, uint64_t client_id, uint64_t request_id,
		struct dedup_result *res)
{
	return dedup_get(f->dedup, node, client_id, request_id, res);
}

void fsm_leases(const struct fsm *f, void (*fn)(void *arg, const char *node, uint32_t lease_ms),
		void *arg)
{
	for (uint32_t i = 0; i < f->nleases; i++)
		fn(arg, f->leases[i].node, f->leases[i].lease_ms);
}

/* Leases are kept sorted by name so that snapshots are canonical. */
static void lease_set(struct fsm *f, const char *node, uint32_t lease_ms)
{
	uint32_t i = 0;

	if (!node[0] || strlen(node) > ENGINE_NODE_NAME_MAX)
		return;
	while (i < f->nleases && strcmp(f->leases[i].node, node) < 0)
		i++;
	if (i < f->nleases && strcmp(f->leases[i].node, node) == 0) {
		f->leases[i].lease_ms = lease_ms;
		return;
	}
	if (f->nleases == FSM_LEASES_MAX)
		return; /* bounded; the node just gets no lease tracking across failovers */
	memmove(&f->leases[i + 1], &f->leases[i], (f->nleases - i) * sizeof(f->leases[0]));
	snprintf(f->leases[i].node, sizeof(f->leases[i].node), "%s", node);
	f->leases[i].lease_ms = lease_ms;
	f->nleases++;
}

static void lease_drop(struct fsm *f, const char *node)
{
	for (uint32_t i = 0; i < f->nleases; i++)
		if (strcmp(f->leases[i].node, node) == 0) {
			memmove(&f->leases[i], &f->leases[i + 1],
				(f->nleases - i - 1) * sizeof(f->leases[0]));
			f->nleases--;
			return;
		}
}

bool fsm_peer_get(const struct fsm *f, uint64_t raft_id, struct fsm_peer *out)
{
	for (uint32_t i = 0; i < f->npeers; i++)
		if (f->peers[i].raft_id == raft_id) {
			*out = f->peers[i];
			return true;
		}
	return false;
}

uint64_t fsm_peer_by_id(const struct fsm *f, const char *id)
{
	for (uint32_t i = 0; i < f->npeers; i++)
		if (strcmp(f->peers[i].id, id) == 0)
			return f->peers[i].raft_id;
	return 0;
}

void fsm_peers(const struct fsm *f, void (*fn)(void *arg, const struct fsm_peer *p), void *arg)
{
	for (uint32_t i = 0; i < f->npeers; i++)
		fn(arg, &f->peers[i]);
}

/* PeerAnnounce: insert or replace the row (a CN moves to the announced raft id). Rows beyond
 * the bound or with bad fields are ignored: the schema may not refuse a committed entry. */
static void peer_announce(struct fsm *f, const Dmlog__PeerAnnounce *a)
{
	uint32_t i;

	if (a->raft_id == 0 || !a->id || strlen(a->id) > FSM_PEER_ID_MAX || !a->client_address ||
	    strlen(a->client_address) > FSM_PEER_ADDRESS_MAX)
		return;
	for (i = 0; i < f->npeers; i++)
		if (f->peers[i].raft_id != a->raft_id && a->id[0] &&
		    strcmp(f->peers[i].id, a->id) == 0)
			f->peers[i].id[0] = '\0';
	for (i = 0; i < f->npeers && f->peers[i].raft_id < a->raft_id; i++)
		;
	if (i == f->npeers || f->peers[i].raft_id != a->raft_id) {
		if (f->npeers == FSM_PEERS_MAX)
			return;
		memmove(&f->peers[i + 1], &f->peers[i], (f->npeers - i) * sizeof(f->peers[0]));
		f->npeers++;
	}
	memset(&f->peers[i], 0, sizeof(f->peers[i]));
	f->peers[i].raft_id = a->raft_id;
	f->peers[i].incarnation = a->incarnation;
	snprintf(f->peers[i].id, sizeof(f->peers[i].id), "%s", a->id);
	snprintf(f->peers[i].client_address, sizeof(f->peers[i].client_address), "%s",
		 a->client_address);
}

static void peer_forget(struct fsm *f, uint64_t raft_id)
{
	for (uint32_t i = 0; i < f->npeers; i++)
		if (f->peers[i].raft_id == raft_id) {
			memmove(&f->peers[i], &f->peers[i + 1],
				(f->npeers - i - 1) * sizeof(f->peers[0]));
			f->npeers--;
			return;
		}
}

static int apply_op(struct fsm *f, uint64_t index, const Dmlog__NodeOp *op)
{
	struct engine_req req;
	struct engine_res res;
	struct dedup_result dres;
	const void *msg = op->ctr; /* the union member: every op message pointer shares it */
	int rc;

	if (dedup_get(f->dedup, op->node, op->client_id, op->request_id, &dres))
		return 0; /* a retry of something already applied */
	memset(&res, 0, sizeof(res));
	rc = opmap_request(op->op_case, msg, op->node, &req, res.errmsg, sizeof(res.errmsg));
	if (rc) {
		res.error = rc;
	} else {
		engine_apply(f->engine, &req, &res);
		if (res.error == -ENOMEM)
			return -ENOMEM;
	}
	opmap_result(&res, &dres);
	return dedup_put(f->dedup, op->node, op->client_id, op->request_id, index, &dres);
}

int fsm_apply(struct fsm *f, uint64_t index, const uint8_t *buf, size_t len)
{
	Dmlog__PeerEntry *e = dmlog__peer_entry__unpack(NULL, len, buf);
	fsm_feed_notify_fn notify;
	int rc = 0;

	if (!e) {
		snprintf(f->errmsg, sizeof(f->errmsg), "entry %llu: undecodable (%zu bytes)",
			 (unsigned long long)index, len);
		return -EINVAL;
	}
	pthread_mutex_lock(&f->lock);
	f->queued_now = false;
	for (size_t i = 0; i < e->n_commands && rc == 0; i++) {
		const Dmlog__Command *c = e->commands[i];

		switch (c->body_case) {
		case DMLOG__COMMAND__BODY_OP:
			rc = apply_op(f, index, c->op);
			break;
		case DMLOG__COMMAND__BODY_LEASE:
			lease_set(f, c->lease->node, c->lease->lease_ms);
			break;
		case DMLOG__COMMAND__BODY_LOST:
			rc = engine_node_lost(f->engine, c->lost->node);
			lease_drop(f, c->lost->node);
			break;
		case DMLOG__COMMAND__BODY_ANNOUNCE:
			peer_announce(f, c->announce);
			break;
		case DMLOG__COMMAND__BODY_FORGET:
			peer_forget(f, c->forget->raft_id);
			break;
		default:
			break; /* a command from a newer version: ignored by design of the schema */
		}
	}
	if (rc == 0)
		f->applied = index;
	else
		snprintf(f->errmsg, sizeof(f->errmsg), "entry %llu: %s", (unsigned long long)index,
			 strerror(-rc));
	notify = f->queued_now ? f->notify : NULL;
	pthread_mutex_unlock(&f->lock);
	dmlog__peer_entry__free_unpacked(e, NULL);
	if (notify)
		notify(f->notify_arg);
	return rc;
}

static void digest(const uint8_t *p, size_t n, uint8_t out[FSM_DIGEST])
{
	unsigned int olen = FSM_DIGEST;

	if (!EVP_Digest(p, n, out, &olen, EVP_sha256(), NULL))
		memset(out, 0, FSM_DIGEST);
}

int fsm_snapshot(struct fsm *f, uint8_t **buf, size_t *len)
{
	struct snapbuf b = {0};
	uint8_t *eng = NULL;
	size_t englen = 0;
	uint8_t d[FSM_DIGEST];
	int rc;

	pthread_mutex_lock(&f->lock);
	rc = engine_snapshot(f->engine, &eng, &englen);
	if (rc == 0) {
		snapbuf_put(&b, FSM_MAGIC, 8);
		snapbuf_u32(&b, FSM_FORMAT);
		snapbuf_u64(&b, f->applied);
		snapbuf_u64(&b, englen);
		snapbuf_put(&b, eng, englen);
		dedup_save(f->dedup, &b);
		snapbuf_u32(&b, f->nleases);
		for (uint32_t i = 0; i < f->nleases; i++) {
			snapbuf_str(&b, f->leases[i].node);
			snapbuf_u32(&b, f->leases[i].lease_ms);
		}
		snapbuf_u32(&b, f->npeers);
		for (uint32_t i = 0; i < f->npeers; i++) {
			snapbuf_u64(&b, f->peers[i].raft_id);
			snapbuf_u64(&b, f->peers[i].incarnation);
			snapbuf_str(&b, f->peers[i].id);
			snapbuf_str(&b, f->peers[i].client_address);
		}
	}
	pthread_mutex_unlock(&f->lock);
	free(eng);
	if (rc)
		return rc;
	if (!b.error) {
		digest(b.data, b.len, d);
		snapbuf_put(&b, d, sizeof(d));
	}
	if (b.error) {
		free(b.data);
		return b.error;
	}
	*buf = b.data;
	*len = b.len;
	return 0;
}

int fsm_restore(struct fsm *f, const uint8_t *buf, size_t len)
{
	struct snapread r = {.p = buf, .len = len};
	struct engine *eng = NULL;
	struct dedup *dd = NULL;
	struct fsm_lease leases[FSM_LEASES_MAX];
	struct fsm_peer peers[FSM_PEERS_MAX];
	uint32_t nleases, npeers = 0, format;
	uint64_t applied, englen;
	const uint8_t *p;
	uint8_t d[FSM_DIGEST];
	char why[200] = "";
	fsm_feed_notify_fn notify;

	if (len < 8 + 4 + FSM_DIGEST || memcmp(buf, FSM_MAGIC, 8) != 0) {
		snprintf(f->errmsg, sizeof(f->errmsg), "snapshot: not a dmlogd snapshot");
		return -EINVAL;
	}
	digest(buf, len - FSM_DIGEST, d);
	if (memcmp(d, buf + len - FSM_DIGEST, FSM_DIGEST) != 0) {
		snprintf(f->errmsg, sizeof(f->errmsg), "snapshot: checksum mismatch");
		return -EINVAL;
	}
	r.len = len - FSM_DIGEST;
	snapread_bytes(&r, 8);
	format = snapread_u32(&r);
	if (format != 1 && format != FSM_FORMAT) {
		snprintf(f->errmsg, sizeof(f->errmsg), "snapshot: unknown format version");
		return -EINVAL;
	}
	applied = snapread_u64(&r);
	englen = snapread_u64(&r);
	p = snapread_bytes(&r, englen);
	if (p) {
		eng = engine_restore(p, englen, why, sizeof(why));
		if (eng)
			dd = dedup_load(&r);
	}
	nleases = snapread_u32(&r);
	if (nleases > FSM_LEASES_MAX)
		r.bad = true;
	for (uint32_t i = 0; i < nleases && !r.bad; i++) {
		snapread_str(&r, leases[i].node, ENGINE_NODE_NAME_MAX);
		leases[i].lease_ms = snapread_u32(&r);
	}
	if (format >= 2) {
		npeers = snapread_u32(&r);
		if (npeers > FSM_PEERS_MAX)
			r.bad = true;
	}
	for (uint32_t i = 0; i < npeers && !r.bad; i++) {
		memset(&peers[i], 0, sizeof(peers[i]));
		peers[i].raft_id = snapread_u64(&r);
		peers[i].incarnation = snapread_u64(&r);
		snapread_str(&r, peers[i].id, FSM_PEER_ID_MAX);
		snapread_str(&r, peers[i].client_address, FSM_PEER_ADDRESS_MAX);
		if (i > 0 && peers[i].raft_id <= peers[i - 1].raft_id)
			r.bad = true;
	}
	if (!eng || !dd || r.bad || r.off != r.len) {
		snprintf(f->errmsg, sizeof(f->errmsg), "snapshot: %s",
			 why[0] ? why : "truncated or inconsistent");
		engine_free(eng);
		dedup_free(dd);
		return -EINVAL;
	}
	pthread_mutex_lock(&f->lock);
	if (f->recording)
		engine_set_events(eng, fsm_engine_event, f);
	engine_free(f->engine);
	dedup_free(f->dedup);
	f->engine = eng;
	if (f->recording)
		feed_reset(f); /* a new state: every copy must be rebuilt */
	f->dedup = dd;
	f->nleases = nleases;
	memcpy(f->leases, leases, nleases * sizeof(leases[0]));
	f->npeers = npeers;
	memcpy(f->peers, peers, npeers * sizeof(peers[0]));
	f->applied = applied;
	notify = f->recording ? f->notify : NULL;
	pthread_mutex_unlock(&f->lock);
	if (notify)
		notify(f->notify_arg);
	return 0;
}

int fsm_digest(struct fsm *f, uint8_t out[32], uint64_t *applied)
{
	struct snapread r = {0};
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	/* The snapshot says at which index it is, under the same lock as its content. */
	rc = fsm_snapshot(f, &buf, &len);
	if (rc)
		return rc;
	r.p = buf;
	r.len = len;
	r.off = 8 + 4; /* magic, format */
	digest(buf, len, out);
	*applied = snapread_u64(&r);
	free(buf);
	return 0;
}
