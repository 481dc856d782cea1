/* admin.c: admin queries answered from the applied state, and membership changes (see admin.h).
 *
 * Peer add: the binding raft id -> certificate CN is committed first (PeerAnnounce with an
 * unknown incarnation, which also lets a peer with a wiped data directory back in), then the
 * Raft service adds the server as a spare, catches it up and makes it a voter. Peer remove: the
 * server leaves the Raft configuration, then its binding is forgotten (PeerForget). Removing the
 * leader itself hands leadership over first and answers NotLeader, so the admin repeats the
 * request on the new leader.
 */
#include "admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "engine.h"
#include "fsm.h"
#include "lease.h"
#include "raftsvc.h"
#include "server.h"
#include "log.h"
#include "peer_wire.h"
#include "session.h"
#include "tls.h"

/* Allocates zeroed memory owned by the reply. */
static void *ar_alloc(struct admin_reply *ar, size_t n)
{
	void *p;

	if (ar->error)
		return NULL;
	if (ar->nallocs == ar->capallocs) {
		size_t cap = ar->capallocs ? ar->capallocs * 2 : 32;
		void **a = realloc(ar->allocs, cap * sizeof(*a));

		if (!a) {
			ar->error = -ENOMEM;
			return NULL;
		}
		ar->allocs = a;
		ar->capallocs = cap;
	}
	p = calloc(1, n ? n : 1);
	if (!p) {
		ar->error = -ENOMEM;
		return NULL;
	}
	ar->allocs[ar->nallocs++] = p;
	return p;
}

static char *ar_strdup(struct admin_reply *ar, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = ar_alloc(ar, n);

	if (p)
		memcpy(p, s, n);
	return p ? p : (char *)"";
}

void admin_reply_free(struct admin_reply *ar)
{
	for (size_t i = 0; i < ar->nallocs; i++)
		free(ar->allocs[i]);
	free(ar->allocs);
	memset(ar, 0, sizeof(*ar));
}

/* A growable array of message pointers owned by the reply. */
struct ptrvec {
	void **v;
	size_t n, cap;
};

static void ptrvec_push(struct admin_reply *ar, struct ptrvec *pv, void *p)
{
	if (!p || ar->error)
		return;
	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 16;
		void **v = ar_alloc(ar, cap * sizeof(*v));

		if (!v)
			return;
		if (pv->n)
			memcpy(v, pv->v, pv->n * sizeof(*v));
		pv->v = v; /* the old array stays owned by the reply until it is freed */
		pv->cap = cap;
	}
	pv->v[pv->n++] = p;
}

static Dmlog__LogSummary *summary(struct admin_reply *ar, const struct engine_log_info *li)
{
	Dmlog__LogSummary *s = ar_alloc(ar, sizeof(*s));

	if (!s)
		return NULL;
	dmlog__log_summary__init(s);
	s->uuid = ar_strdup(ar, li->uuid);
	s->log_type = ar_strdup(ar, li->type);
	s->region_size = li->region_size;
	s->region_count = li->region_count;
	s->dirty_count = li->dirty_count;
	s->sync_count = li->sync_count;
	s->state = ar_strdup(ar, li->state);
	s->recoverer = ar_strdup(ar, li->recoverer);
	s->recovering_region = li->recoverer[0] ? li->recovering_region : 0;
	s->device = ar_strdup(ar, li->device);
	return s;
}

/* The role shown for member raft_id. Only a leader hears from every voter (followers talk to
 * the leader alone), so only a leader can tell that one is gone: a member it has not heard
 * from within an election timeout (a live follower answers every heartbeat, and the lease
 * PINGs) is "unavailable". A follower shows the other members by what it knows: the leader,
 * or followers. */
static const char *peer_role(const struct server *srv, const struct raftsvc_status *st,
			     uint64_t raft_id, const struct peer_info *seen, size_t nseen,
			     uint64_t now)
{
	uint64_t heard = 0, window = srv->lim.election_timeout_ms;

	if (raft_id == st->id)
		return st->role;
	if (strcmp(st->role, "leader") != 0)
		return raft_id == st->leader_id ? "leader" : "follower";
	for (size_t i = 0; i < nseen; i++)
		if (seen[i].raft_id == raft_id)
			heard = seen[i].heard_ms;
	return heard && now - heard <= window ? "follower" : "unavailable";
}

/* One PeerInfo per member of the Raft configuration (this server alone before it has one). */
static Dmlog__PeerInfo **peer_list(struct server *srv, struct admin_reply *ar,
				   const struct raftsvc_status *st, size_t *n)
{
	unsigned count = st->n_members ? st->n_members : 1;
	Dmlog__PeerInfo **pv = ar_alloc(ar, count * sizeof(*pv));
	struct peer_info seen[RAFTSVC_MEMBERS_MAX];
	size_t nseen = raftsvc_peers_seen(srv->raft, seen, RAFTSVC_MEMBERS_MAX);
	uint64_t now = clock_mono_ms();

	*n = 0;
	if (!pv)
		return NULL;
	for (unsigned i = 0; i < count; i++) {
		Dmlog__PeerInfo *p = ar_alloc(ar, sizeof(*p));
		uint64_t raft_id = st->n_members ? st->members[i].id : st->id;
		struct fsm_peer row;
		bool known;

		if (!p)
			return NULL;
		dmlog__peer_info__init(p);
		fsm_lock(srv->fsm);
		known = fsm_peer_get(srv->fsm, raft_id, &row);
		fsm_unlock(srv->fsm);
		p->raft_id = raft_id;
		if (raft_id == st->id) {
			p->id = ar_strdup(ar, srv->id);
			p->client_address = ar_strdup(ar, srv->listen);
		} else {
			p->id = ar_strdup(ar, known ? row.id : "");
			p->client_address = ar_strdup(ar, known ? row.client_address : "");
		}
		p->address = p->client_address;
		p->raft_address = ar_strdup(ar, st->n_members ? st->members[i].address : "");
		p->membership = ar_strdup(ar, st->n_members ? st->members[i].role : "voter");
		p->voter = strcmp(p->membership, "voter") == 0;
		p->role = ar_strdup(ar, peer_role(srv, st, raft_id, seen, nseen, now));
		pv[(*n)++] = p;
	}
	return pv;
}

static int answer_status(struct server *srv, struct admin_reply *ar, Dmlog__ServerMessage *out)
{
	Dmlog__StatusReply *r = ar_alloc(ar, sizeof(*r));
	struct raftsvc_status st;
	char leader_id[64], leader_addr[PEER_WIRE_ADDRESS_MAX];

	if (ar->error)
		return ar->error;
	raftsvc_status(srv->raft, &st);
	dmlog__status_reply__init(r);
	r->server_id = ar_strdup(ar, srv->id);
	r->raft_role = ar_strdup(ar, st.role);
	server_leader(srv, leader_id, sizeof(leader_id), leader_addr, sizeof(leader_addr));
	r->leader_id = ar_strdup(ar, leader_id);
	r->term = st.term;
	r->commit_index = st.commit_index;
	r->applied_index = st.last_applied;
	r->peers = peer_list(srv, ar, &st, &r->n_peers);
	fsm_lock(srv->fsm);
	r->log_count = (uint32_t)engine_log_count(fsm_engine(srv->fsm));
	fsm_unlock(srv->fsm);
	r->node_count = lease_count(srv->lease);
	r->connection_count = srv->nsessions;
	/* "Serving": a leader is known. Whether every voter is reachable is in the peers' roles
	 * (peer_role()); dmlogctl status combines both into healthy, degraded or unavailable. */
	r->healthy = st.leader_id != 0 && !st.failed && !srv->stopping;
	r->version = ar_strdup(ar, srv->version);
	out->body_case = DMLOG__SERVER_MESSAGE__BODY_ADMIN_STATUS;
	out->admin_status = r;
	return ar->error;
}

static int answer_digest(struct server *srv, struct admin_reply *ar, Dmlog__ServerMessage *out)
{
	Dmlog__StateDigestReply *r = ar_alloc(ar, sizeof(*r));
	uint8_t *d = ar_alloc(ar, 32);
	uint64_t applied = 0;
	int rc;

	if (ar->error)
		return ar->error;
	rc = fsm_digest(srv->fsm, d, &applied);
	if (rc)
		return rc;
	dmlog__state_digest_reply__init(r);
	r->applied_index = applied;
	r->sha256.data = d;
	r->sha256.len = 32;
	out->body_case = DMLOG__SERVER_MESSAGE__BODY_ADMIN_STATE_DIGEST;
	out->admin_state_digest = r;
	return 0;
}

static int answer_logs(struct server *srv, struct admin_reply *ar, Dmlog__ServerMessage *out)
{
	Dmlog__LogList *l = ar_alloc(ar, sizeof(*l));
	struct ptrvec v = {0};
	struct engine_log_info li;
	const struct engine *e;

	if (!l)
		return ar->error;
	dmlog__log_list__init(l);
	fsm_lock(srv->fsm);
	e = fsm_engine(srv->fsm);
	for (size_t i = 0; engine_log_info_at(e, i, &li) == 0; i++)
		ptrvec_push(ar, &v, summary(ar, &li));
	fsm_unlock(srv->fsm);
	l->n_logs = v.n;
	l->logs = (Dmlog__LogSummary **)v.v;
	out->body_case = DMLOG__SERVER_MESSAGE__BODY_ADMIN_LOGS;
	out->admin_logs = l;
	return ar->error;
}

struct show_ctx {
	struct admin_reply *ar;
	struct ptrvec ranges;
	struct ptrvec marks;     /* Dmlog__NodeMarks, one per node in first-seen order */
	struct ptrvec instances;
};

static void on_range(void *arg, uint64_t first, uint64_t last)
{
	struct show_ctx *c = arg;
	Dmlog__RegionRange *r = ar_alloc(c->ar, sizeof(*r));

	if (!r)
		return;
	dmlog__region_range__init(r);
	r->first = first;
	r->last = last;
	ptrvec_push(c->ar, &c->ranges, r);
}

static void on_mark(void *arg, const char *node, uint64_t region)
{
	struct show_ctx *c = arg;
	Dmlog__NodeMarks *nm = NULL;

	for (size_t i = 0; i < c->marks.n; i++) {
		Dmlog__NodeMarks *x = c->marks.v[i];

		if (strcmp(x->node, node) == 0)
			nm = x;
	}
	if (!nm) {
		nm = ar_alloc(c->ar, sizeof(*nm));
		if (!nm)
			return;
		dmlog__node_marks__init(nm);
		nm->node = ar_strdup(c->ar, node);
		ptrvec_push(c->ar, &c->marks, nm);
	}
	/* Regions grow 64 at a time (marks are few: one per region a node is writing). */
	if (nm->n_regions % 64 == 0) {
		uint64_t *nr = ar_alloc(c->ar, (nm->n_regions + 64) * sizeof(uint64_t));

		if (!nr)
			return;
		if (nm->n_regions)
			memcpy(nr, nm->regions, nm->n_regions * sizeof(uint64_t));
		nm->regions = nr;
	}
	nm->regions[nm->n_regions++] = region;
}

static void on_instance(void *arg, const char *node, uint64_t luid, const char *state,
			uint64_t region_count, uint64_t hint)
{
	struct show_ctx *c = arg;
	Dmlog__InstanceInfo *ii = ar_alloc(c->ar, sizeof(*ii));

	(void)region_count;
	if (!ii)
		return;
	dmlog__instance_info__init(ii);
	ii->node = ar_strdup(c->ar, node);
	ii->luid = luid;
	ii->state = ar_strdup(c->ar, state);
	ii->in_sync_hint = hint;
	ptrvec_push(c->ar, &c->instances, ii);
}

static int answer_show(struct server *srv, const char *uuid, struct admin_reply *ar,
		       Dmlog__ServerMessage *out)
{
	Dmlog__LogDetail *d = ar_alloc(ar, sizeof(*d));
	struct show_ctx c = {.ar = ar};
	struct engine_log_info li;
	const struct engine *e;
	int rc;

	if (!d)
		return ar->error;
	dmlog__log_detail__init(d);
	fsm_lock(srv->fsm);
	e = fsm_engine(srv->fsm);
	rc = engine_log_info(e, uuid, &li);
	if (rc == 0) {
		d->summary = summary(ar, &li);
		d->fully_synced = li.fully_synced;
		engine_log_ranges(e, uuid, true, on_range, &c);
		d->n_dirty = c.ranges.n;
		d->dirty = (Dmlog__RegionRange **)c.ranges.v;
		memset(&c.ranges, 0, sizeof(c.ranges));
		engine_log_ranges(e, uuid, false, on_range, &c);
		d->n_out_of_sync = c.ranges.n;
		d->out_of_sync = (Dmlog__RegionRange **)c.ranges.v;
		engine_log_marks(e, uuid, on_mark, &c);
		d->n_marks = c.marks.n;
		d->marks = (Dmlog__NodeMarks **)c.marks.v;
		engine_log_instances(e, uuid, on_instance, &c);
		d->n_instances = c.instances.n;
		d->instances = (Dmlog__InstanceInfo **)c.instances.v;
	}
	fsm_unlock(srv->fsm);
	if (rc) {
		snprintf(ar->errmsg, sizeof(ar->errmsg), "no log with uuid %s", uuid);
		return rc;
	}
	out->body_case = DMLOG__SERVER_MESSAGE__BODY_ADMIN_LOG;
	out->admin_log = d;
	return ar->error;
}

int admin_answer(struct server *srv, const Dmlog__ClientMessage *cm, struct admin_reply *ar,
		 Dmlog__ServerMessage *out)
{
	int rc;

	memset(ar, 0, sizeof(*ar));
	switch (cm->body_case) {
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_STATUS:
		rc = answer_status(srv, ar, out);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_LIST_LOGS:
		rc = answer_logs(srv, ar, out);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_SHOW_LOG:
		rc = answer_show(srv, cm->admin_show_log->uuid, ar, out);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_STATE_DIGEST:
		rc = answer_digest(srv, ar, out);
		break;
	default:
		snprintf(ar->errmsg, sizeof(ar->errmsg), "unknown admin request");
		rc = -EINVAL;
		break;
	}
	if (rc == -ENOMEM && !ar->errmsg[0])
		snprintf(ar->errmsg, sizeof(ar->errmsg), "out of memory");
	if (rc) {
		char keep[sizeof(ar->errmsg)];

		memcpy(keep, ar->errmsg, sizeof(keep));
		admin_reply_free(ar);
		memcpy(ar->errmsg, keep, sizeof(keep));
	}
	return rc;
}

/* ------------------------------------------------------------------ membership changes */

enum change_step {
	STEP_BIND,     /* add: PeerAnnounce committing */
	STEP_ADD,      /* add: raft add + promote */
	STEP_REMOVE,   /* remove: raft remove */
	STEP_FORGET,   /* remove: PeerForget committing */
	STEP_TRANSFER, /* remove of this server: leadership transfer */
};

struct admin_change {
	struct server *srv;
	struct session *s;    /* referenced */
	uint64_t request_id;
	enum change_step step;
	uint64_t raft_id;
	char address[PEER_WIRE_ADDRESS_MAX];
	char id[TLS_IDENTITY_MAX];
};

static void change_finish(struct admin_change *c, int status)
{
	Dmlog__ServerMessage m = DMLOG__SERVER_MESSAGE__INIT;
	Dmlog__PeerChangeReply r = DMLOG__PEER_CHANGE_REPLY__INIT;
	struct admin_reply ar;
	struct raftsvc_status st;
	char why[200];

	memset(&ar, 0, sizeof(ar));
	if (status == -EAGAIN || (status == 0 && c->step == STEP_TRANSFER)) {
		session_reply_not_leader(c->s, c->request_id);
	} else if (status != 0) {
		snprintf(why, sizeof(why), "peer %s raft id %llu: %s",
			 c->step <= STEP_ADD ? "add" : "remove", (unsigned long long)c->raft_id,
			 status == -EEXIST   ? "already a member (or its address is)"
			 : status == -ENOENT ? "not a member"
			 : status == -EBUSY  ? "another membership change is in progress"
			 : status == -ENOTCONN ? "it did not catch up: is it running and reachable?"
					       : strerror(-status));
		session_reply_error(c->s, c->request_id, status, why);
	} else {
		raftsvc_status(c->srv->raft, &st);
		r.raft_id = c->raft_id;
		r.peers = peer_list(c->srv, &ar, &st, &r.n_peers);
		m.id = c->request_id;
		m.body_case = DMLOG__SERVER_MESSAGE__BODY_ADMIN_PEER_CHANGE;
		m.admin_peer_change = &r;
		if (ar.error)
			session_reply_error(c->s, c->request_id, ar.error, "out of memory");
		else
			session_reply(c->s, &m);
		log_notice("peer %s raft_id=%llu", c->step == STEP_ADD ? "added" : "removed",
			   (unsigned long long)c->raft_id);
	}
	admin_reply_free(&ar);
	session_unref(c->s);
	free(c);
}

static void change_step_done(void *arg, int status, uint64_t index);

/* Starts c's current step; a failure to start ends the change. */
static void change_run(struct admin_change *c)
{
	Dmlog__Command cmd = DMLOG__COMMAND__INIT;
	Dmlog__PeerAnnounce a = DMLOG__PEER_ANNOUNCE__INIT;
	Dmlog__PeerForget f = DMLOG__PEER_FORGET__INIT;
	struct raftsvc *raft = c->srv->raft;
	int rc;

	switch (c->step) {
	case STEP_BIND:
		a.raft_id = c->raft_id;
		a.id = c->id;
		a.client_address = (char *)"";
		cmd.body_case = DMLOG__COMMAND__BODY_ANNOUNCE;
		cmd.announce = &a;
		rc = server_commit(c->srv, &cmd, change_step_done, c);
		break;
	case STEP_ADD:
		rc = raftsvc_change(raft, RAFTSVC_ADD_VOTER, c->raft_id, c->address,
				    change_step_done, c);
		break;
	case STEP_REMOVE:
		rc = raftsvc_change(raft, RAFTSVC_REMOVE, c->raft_id, NULL, change_step_done, c);
		break;
	case STEP_FORGET:
		f.raft_id = c->raft_id;
		cmd.body_case = DMLOG__COMMAND__BODY_FORGET;
		cmd.forget = &f;
		rc = server_commit(c->srv, &cmd, change_step_done, c);
		break;
	default:
		rc = raftsvc_change(raft, RAFTSVC_TRANSFER, 0, NULL, change_step_done, c);
		break;
	}
	if (rc)
		change_finish(c, rc);
}

static void change_step_done(void *arg, int status, uint64_t index)
{
	struct admin_change *c = arg;

	(void)index;
	if (status != 0) {
		change_finish(c, status);
		return;
	}
	switch (c->step) {
	case STEP_BIND:
		c->step = STEP_ADD;
		change_run(c);
		return;
	case STEP_REMOVE:
		raftsvc_peer_forget(c->srv->raft, c->raft_id);
		c->step = STEP_FORGET;
		change_run(c);
		return;
	case STEP_FORGET:
		c->step = STEP_REMOVE; /* for the log line: the removal is what happened */
		change_finish(c, 0);
		return;
	default:
		change_finish(c, 0);
		return;
	}
}

static bool address_ok(const char *a)
{
	const char *colon = strrchr(a, ':');

	return a[0] && colon && colon != a && colon[1] &&
	       strlen(colon + 1) == strspn(colon + 1, "0123456789") &&
	       strlen(a) < PEER_WIRE_ADDRESS_MAX;
}

int admin_peer_change(struct server *srv, struct session *s, const Dmlog__ClientMessage *cm,
		      char *err, size_t errlen)
{
	struct admin_change *c;
	bool add = cm->body_case == DMLOG__CLIENT_MESSAGE__BODY_ADMIN_PEER_ADD;
	uint64_t raft_id = add ? cm->admin_peer_add->raft_id : cm->admin_peer_remove->raft_id;

	if (raft_id == 0 || raft_id > UINT32_MAX) {
		snprintf(err, errlen, "raft id must be 1..4294967295");
		return -EINVAL;
	}
	if (add && !address_ok(cm->admin_peer_add->raft_address)) {
		snprintf(err, errlen, "raft address must be HOST:PORT");
		return -EINVAL;
	}
	if (add && !tls_identity_valid(cm->admin_peer_add->id)) {
		snprintf(err, errlen, "peer id must be a certificate CN (1-63 of A-Za-z0-9._-)");
		return -EINVAL;
	}
	if (!server_is_leader(srv))
		return -EAGAIN;
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->srv = srv;
	c->s = s;
	c->request_id = cm->id;
	c->raft_id = raft_id;
	if (add) {
		snprintf(c->address, sizeof(c->address), "%s", cm->admin_peer_add->raft_address);
		snprintf(c->id, sizeof(c->id), "%s", cm->admin_peer_add->id);
		raftsvc_peer_forget(srv->raft, raft_id); /* a handshake from before counts no more */
		c->step = STEP_BIND;
	} else {
		c->step = raft_id == srv->raft_id ? STEP_TRANSFER : STEP_REMOVE;
	}
	session_ref(s);
	log_notice("peer %s requested raft_id=%llu%s%s", add ? "add" : "remove",
		   (unsigned long long)raft_id, add ? " id=" : "", add ? c->id : "");
	change_run(c);
	return 0;
}
