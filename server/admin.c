/* admin.c: admin queries answered from the applied state (see admin.h). */
#include "admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fsm.h"
#include "lease.h"
#include "raftsvc.h"
#include "server.h"

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

static int answer_status(struct server *srv, struct admin_reply *ar, Dmlog__ServerMessage *out)
{
	Dmlog__StatusReply *r = ar_alloc(ar, sizeof(*r));
	Dmlog__PeerInfo *p = ar_alloc(ar, sizeof(*p));
	Dmlog__PeerInfo **pv = ar_alloc(ar, sizeof(*pv));
	struct raftsvc_status st;
	char buf[32];

	if (ar->error)
		return ar->error;
	raftsvc_status(srv->raft, &st);
	dmlog__status_reply__init(r);
	dmlog__peer_info__init(p);
	r->server_id = ar_strdup(ar, srv->id);
	r->raft_role = ar_strdup(ar, st.role);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)st.leader_id);
	r->leader_id = ar_strdup(ar, st.leader_id ? (st.leader_id == st.id ? srv->id : buf) : "");
	r->term = st.term;
	r->commit_index = st.commit_index;
	r->applied_index = st.last_applied;
	p->id = ar_strdup(ar, srv->id);
	p->address = ar_strdup(ar, st.leader_address);
	p->role = ar_strdup(ar, st.role);
	p->voter = true;
	pv[0] = p;
	r->n_peers = 1;
	r->peers = pv;
	fsm_lock(srv->fsm);
	r->log_count = (uint32_t)engine_log_count(fsm_engine(srv->fsm));
	fsm_unlock(srv->fsm);
	r->node_count = lease_count(srv->lease);
	r->connection_count = srv->nsessions;
	r->healthy = server_is_leader(srv) && !srv->stopping;
	r->version = ar_strdup(ar, srv->version);
	out->body_case = DMLOG__SERVER_MESSAGE__BODY_ADMIN_STATUS;
	out->admin_status = r;
	return ar->error;
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
