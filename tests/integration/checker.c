/* checker.c: the operation recorder and checker of the fault tests (see checker.h).
 *
 * The history is an array of records guarded by a mutex. Verification indexes it by (log,
 * region): every record names the regions it touches, and the rules of checker.h are decided
 * per region from the records of that region alone. "May undo" is judged conservatively so
 * that the checker never blames the servers for something the history allows: a CLEAR (or
 * SET_REGION_SYNC 1) whose outcome is unknown may have been applied at any time after it was
 * sent, and an acknowledged one at any time between its sending and its acknowledgement.
 */
#include "checker.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dmlog/dmlog.h>

#define REPORT_LINES_MAX 20
#define FRESH_SAMPLE 8

struct rec {
	int node, log;
	enum checker_kind kind;
	size_t n;
	uint64_t regions[CHECKER_REGIONS_MAX];
	bool in_sync;
	uint32_t deadline_ms;
	uint64_t t_issue, t_end;
	bool ended;
	int status;
	bool value;
	char why[160];
};

struct checker {
	pthread_mutex_t mu;
	struct rec *v;
	size_t n, cap;
	size_t n_nodes, n_logs;
	char **nodes;
	char *uuids[CHECKER_LOGS_MAX];
	char *ctr_args;
	uint64_t region_count;
	bool fresh_clean;
	uint32_t grace_ms;
};

/* One (log, region) touched by record rec. */
struct ent {
	int log;
	uint64_t region;
	size_t rec;
};

/* The report being written by checker_verify(). */
struct report {
	char *buf;
	size_t len, used;
	int violations;
	int lines;
};

static const char *kind_name(enum checker_kind k)
{
	switch (k) {
	case CHECKER_MARK: return "MARK";
	case CHECKER_FLUSH: return "FLUSH";
	case CHECKER_CLEAR: return "CLEAR";
	case CHECKER_SET_SYNC: return "SET_REGION_SYNC";
	case CHECKER_IS_CLEAN: return "IS_CLEAN";
	case CHECKER_IN_SYNC: return "IN_SYNC";
	}
	return "?";
}

uint64_t checker_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

struct checker *checker_new(const struct checker_options *o)
{
	struct checker *c;

	if (!o || o->n_logs == 0 || o->n_logs > CHECKER_LOGS_MAX || o->n_nodes == 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	pthread_mutex_init(&c->mu, NULL);
	c->n_nodes = o->n_nodes;
	c->n_logs = o->n_logs;
	c->nodes = calloc(o->n_nodes, sizeof(*c->nodes));
	for (size_t i = 0; c->nodes && i < o->n_nodes; i++)
		c->nodes[i] = dup_or_empty(o->node_names ? o->node_names[i] : NULL);
	for (size_t i = 0; i < o->n_logs; i++)
		c->uuids[i] = dup_or_empty(o->log_uuids[i]);
	c->ctr_args = dup_or_empty(o->ctr_args);
	c->region_count = o->region_count;
	c->fresh_clean = o->fresh_clean;
	c->grace_ms = o->grace_ms ? o->grace_ms : 2000;
	return c;
}

void checker_free(struct checker *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->nodes && i < c->n_nodes; i++)
		free(c->nodes[i]);
	free(c->nodes);
	for (size_t i = 0; i < c->n_logs; i++)
		free(c->uuids[i]);
	free(c->ctr_args);
	free(c->v);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

size_t checker_begin(struct checker *c, int node, int log, enum checker_kind kind,
		     const uint64_t *regions, size_t n, bool in_sync, uint32_t deadline_ms)
{
	struct rec r;
	size_t h;

	memset(&r, 0, sizeof(r));
	r.node = node;
	r.log = log;
	r.kind = kind;
	r.n = n > CHECKER_REGIONS_MAX ? CHECKER_REGIONS_MAX : n;
	if (r.n)
		memcpy(r.regions, regions, r.n * sizeof(*regions));
	r.in_sync = in_sync;
	r.deadline_ms = deadline_ms;
	pthread_mutex_lock(&c->mu);
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		struct rec *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			pthread_mutex_unlock(&c->mu);
			abort(); /* a test without memory cannot judge anything */
		}
		c->v = v;
		c->cap = cap;
	}
	r.t_issue = checker_now_us();
	h = c->n++;
	c->v[h] = r;
	pthread_mutex_unlock(&c->mu);
	return h;
}

void checker_end(struct checker *c, size_t h, int status, bool value, const char *why)
{
	uint64_t now = checker_now_us();

	pthread_mutex_lock(&c->mu);
	if (h < c->n && !c->v[h].ended) {
		c->v[h].ended = true;
		c->v[h].t_end = now;
		c->v[h].status = status;
		c->v[h].value = value;
		if (status != 0 && why)
			snprintf(c->v[h].why, sizeof(c->v[h].why), "%s", why);
	}
	pthread_mutex_unlock(&c->mu);
}

static size_t count_if(struct checker *c, int what)
{
	size_t n = 0;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n; i++) {
		const struct rec *r = &c->v[i];

		n += what == 0 || (what == 1 && r->ended && r->status == 0) ||
		     (what == 2 && r->ended && r->status != 0);
	}
	pthread_mutex_unlock(&c->mu);
	return n;
}

size_t checker_count(struct checker *c)
{
	return count_if(c, 0);
}

size_t checker_acked(struct checker *c)
{
	return count_if(c, 1);
}

size_t checker_errors(struct checker *c)
{
	return count_if(c, 2);
}

static void rec_text(const struct checker *c, const struct rec *r, char *buf, size_t len)
{
	size_t used = (size_t)snprintf(buf, len, "%s %s log%d [", c->nodes[r->node],
				       kind_name(r->kind), r->log);

	for (size_t i = 0; i < r->n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%llu", i ? " " : "",
					 (unsigned long long)r->regions[i]);
	if (used < len)
		snprintf(buf + used, len - used, "]%s", r->kind == CHECKER_SET_SYNC
							? (r->in_sync ? " in_sync=1" : " in_sync=0") : "");
}

void checker_error_report(struct checker *c, char *buf, size_t len, size_t max)
{
	size_t used = 0, shown = 0;
	int codes[16];
	size_t counts[16], ncodes = 0;

	buf[0] = '\0';
	pthread_mutex_lock(&c->mu);
	/* First how many of each errno, then the first few requests. */
	for (size_t i = 0; i < c->n; i++) {
		const struct rec *r = &c->v[i];
		size_t k = 0;

		if (!r->ended || r->status == 0)
			continue;
		while (k < ncodes && codes[k] != r->status)
			k++;
		if (k == ncodes && ncodes < 16) {
			codes[ncodes] = r->status;
			counts[ncodes++] = 0;
		}
		if (k < ncodes)
			counts[k]++;
	}
	for (size_t k = 0; k < ncodes && used < len; k++)
		used += (size_t)snprintf(buf + used, len - used, "%zu x %d (%s)\n", counts[k],
					 codes[k], strerror(-codes[k]));
	for (size_t i = 0; i < c->n && shown < max && used < len; i++) {
		const struct rec *r = &c->v[i];
		char what[200];

		if (!r->ended || r->status == 0)
			continue;
		rec_text(c, r, what, sizeof(what));
		used += (size_t)snprintf(buf + used, len - used, "%s: %s (after %llu ms): %s\n",
					 what, strerror(-r->status),
					 (unsigned long long)(r->t_end - r->t_issue) / 1000u, r->why);
		shown++;
	}
	pthread_mutex_unlock(&c->mu);
}

static bool is_write(enum checker_kind k)
{
	return k == CHECKER_MARK || k == CHECKER_FLUSH || k == CHECKER_CLEAR ||
	       k == CHECKER_SET_SYNC;
}

uint64_t checker_first_write_ack(struct checker *c, uint64_t t_us)
{
	uint64_t best = 0;

	pthread_mutex_lock(&c->mu);
	for (size_t i = c->n; i-- > 0;) {
		const struct rec *r = &c->v[i];

		if (r->t_issue < t_us)
			break; /* records are in issue order */
		if (is_write(r->kind) && r->ended && r->status == 0 && (!best || r->t_end < best))
			best = r->t_end;
	}
	pthread_mutex_unlock(&c->mu);
	return best;
}

/* ------------------------------------------------------------------ verification */

static void say(struct report *rp, bool violation, const char *fmt, ...)
{
	va_list ap;

	if (violation)
		rp->violations++;
	if (rp->lines >= REPORT_LINES_MAX || rp->used + 1 >= rp->len)
		return;
	va_start(ap, fmt);
	rp->used += (size_t)vsnprintf(rp->buf + rp->used, rp->len - rp->used, fmt, ap);
	va_end(ap);
	if (rp->used >= rp->len)
		rp->used = rp->len - 1;
	rp->lines++;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->log != y->log)
		return x->log < y->log ? -1 : 1;
	if (x->region != y->region)
		return x->region < y->region ? -1 : 1;
	return x->rec < y->rec ? -1 : x->rec > y->rec;
}

/* Records that establish a mark on the region: an acknowledged MARK or FLUSH carrying it. */
static bool sets_mark(const struct rec *r)
{
	return (r->kind == CHECKER_MARK || r->kind == CHECKER_FLUSH) && r->ended &&
	       r->status == 0;
}

/* May record u have been applied after record m was sent (u sent before horizon)? */
static bool may_follow(const struct rec *u, const struct rec *m, uint64_t horizon)
{
	if (u->t_issue >= horizon)
		return false;
	if (!u->ended || u->status != 0)
		return true;
	return u->t_end > m->t_issue;
}

/* The region of group g[0..n) must hold a mark at a read sent at `issue` and answered at
 * `horizon` (final state: both UINT64_MAX). Returns the record that proves it, or NULL. */
static const struct rec *mark_holds(const struct rec *v, const struct ent *g, size_t n,
				    uint64_t issue, uint64_t horizon)
{
	for (size_t i = 0; i < n; i++) {
		const struct rec *m = &v[g[i].rec];
		bool undone = false;

		if (!sets_mark(m) || m->t_end > issue)
			continue;
		for (size_t j = 0; j < n && !undone; j++) {
			const struct rec *u = &v[g[j].rec];

			undone = u->kind == CHECKER_CLEAR && u->node == m->node && u != m &&
				 may_follow(u, m, horizon);
		}
		if (!undone)
			return m;
	}
	return NULL;
}

/* Likewise for "out of sync": an acknowledged SET_REGION_SYNC 0 that no SET_REGION_SYNC 1
 * (from anyone) may have followed. */
static const struct rec *unsync_holds(const struct rec *v, const struct ent *g, size_t n,
				      uint64_t issue, uint64_t horizon)
{
	for (size_t i = 0; i < n; i++) {
		const struct rec *s = &v[g[i].rec];
		bool undone = false;

		if (s->kind != CHECKER_SET_SYNC || s->in_sync || !s->ended || s->status != 0 ||
		    s->t_end > issue)
			continue;
		for (size_t j = 0; j < n && !undone; j++) {
			const struct rec *u = &v[g[j].rec];

			undone = u->kind == CHECKER_SET_SYNC && u->in_sync && may_follow(u, s, horizon);
		}
		if (!undone)
			return s;
	}
	return NULL;
}

/* Checks the reads answered during the run against the history of their region. */
static void check_reads(const struct checker *c, const struct ent *g, size_t n, struct report *rp)
{
	for (size_t i = 0; i < n; i++) {
		const struct rec *r = &c->v[g[i].rec];
		const struct rec *why = NULL;
		char a[200], b[200];

		if ((r->kind != CHECKER_IS_CLEAN && r->kind != CHECKER_IN_SYNC) || !r->ended ||
		    r->status != 0 || !r->value)
			continue;
		if (r->kind == CHECKER_IS_CLEAN)
			why = mark_holds(c->v, g, n, r->t_issue, r->t_end);
		if (!why)
			why = unsync_holds(c->v, g, n, r->t_issue, r->t_end);
		if (!why)
			continue;
		rec_text(c, r, a, sizeof(a));
		rec_text(c, why, b, sizeof(b));
		say(rp, true, "answered true during the run: %s, after %s was acknowledged %llu ms "
		    "before it was sent\n", a, b,
		    (unsigned long long)(r->t_issue - why->t_end) / 1000u);
	}
}

/* Liveness: every request ended within its deadline and the grace. */
static void check_ended(const struct checker *c, struct report *rp)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct rec *r = &c->v[i];
		char a[200];

		if (r->ended && (r->t_end - r->t_issue) / 1000u <=
				(uint64_t)r->deadline_ms + c->grace_ms)
			continue;
		rec_text(c, r, a, sizeof(a));
		if (!r->ended)
			say(rp, true, "never finished: %s (sent %llu ms ago)\n", a,
			    (unsigned long long)(checker_now_us() - r->t_issue) / 1000u);
		else
			say(rp, true, "hung: %s took %llu ms, deadline %u ms\n", a,
			    (unsigned long long)(r->t_end - r->t_issue) / 1000u, r->deadline_ms);
	}
}

/* The servers' view of one log. */
struct view {
	struct dmlog_result *show;      /* ADMIN_SHOW_LOG from the leader */
};

static bool in_ranges(const struct dmlog_region_range *v, size_t n, uint64_t r)
{
	for (size_t i = 0; i < n; i++)
		if (r >= v[i].first && r <= v[i].last)
			return true;
	return false;
}

/* A handle on one server (or all of them), with the given certificate. */
static struct dmlog *handle(const struct checker_servers *s, int only, bool admin, char *err)
{
	struct dmlog_options o;
	size_t k = 0;

	memset(&o, 0, sizeof(o));
	for (size_t i = 0; i < 8 && s->servers[i]; i++)
		if (only < 0 || (size_t)only == i)
			o.servers[k++] = s->servers[i];
	o.ca_file = s->ca_file;
	o.cert_file = admin ? s->admin_cert : s->node_cert;
	o.key_file = admin ? s->admin_key : s->node_key;
	o.request_timeout_ms = s->timeout_ms ? s->timeout_ms : 20000;
	o.connect_timeout_ms = 2000;
	o.reconnect_min_ms = 20;
	o.reconnect_max_ms = 200;
	o.client_name = "checker";
	return dmlog_new(&o, err);
}

/* The index of the server that says it leads, within timeout_ms; -1 if none. */
static int find_leader(const struct checker_servers *s, uint32_t timeout_ms, char *why,
		       size_t whylen)
{
	uint64_t deadline = checker_now_us() + (uint64_t)timeout_ms * 1000u;

	snprintf(why, whylen, "no server says it leads");
	while (checker_now_us() < deadline) {
		for (int i = 0; i < 8 && s->servers[i]; i++) {
			char err[DMLOG_ERRMSG_SIZE];
			struct dmlog *h = handle(s, i, true, err);
			struct dmlog_result *res = NULL;
			bool leads = false;

			if (!h) {
				snprintf(why, whylen, "admin handle: %.150s", err);
				return -1;
			}
			if (dmlog_admin_status(h, &res) == 0)
				leads = strcmp(res->status.raft_role, "leader") == 0 &&
					res->status.healthy;
			dmlog_result_free(res);
			dmlog_free(h);
			if (leads)
				return i;
		}
		usleep(100 * 1000);
	}
	return -1;
}

/* Sorted, distinct regions of log `log` that the history touches, and a few it does not. */
static size_t regions_to_query(const struct checker *c, const struct ent *e, size_t ne, int log,
			       uint64_t **out)
{
	size_t n = 0, cap = 64;
	uint64_t *v = malloc(cap * sizeof(*v));

	for (size_t i = 0; v && i < ne; i++) {
		if (e[i].log != log || (n && v[n - 1] == e[i].region))
			continue;
		if (n == cap) {
			uint64_t *w = realloc(v, 2 * cap * sizeof(*v));

			if (!w)
				break;
			v = w;
			cap *= 2;
		}
		v[n++] = e[i].region;
	}
	*out = v;
	return v ? n : 0;
}

static bool touched(const uint64_t *v, size_t n, uint64_t r)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v[mid] == r)
			return true;
		if (v[mid] < r)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Regions of [first, last] not in the sorted v. */
static uint64_t outside(const uint64_t *v, size_t n, uint64_t first, uint64_t last)
{
	uint64_t inside = 0;

	for (size_t i = 0; i < n; i++)
		inside += v[i] >= first && v[i] <= last;
	return last - first + 1 - inside;
}

/* Checks one log: the final state rules on every touched region and a sample of the others,
 * the leader's ranges against the node's answers, and phantoms. */
static int check_log(struct checker *c, int log, const struct ent *e, size_t ne,
		     struct dmlog *node, uint64_t luid, const struct dmlog_result *show,
		     struct report *rp)
{
	const struct dmlog_log_detail *d = &show->log;
	struct dmlog_log_ref ref = {.uuid = c->uuids[log], .luid = luid, .version = 3};
	uint64_t *all = NULL;
	size_t nall = regions_to_query(c, e, ne, log, &all), nmarked = 0, gi = 0;
	uint64_t fresh[FRESH_SAMPLE];
	size_t nfresh = 0;
	int rc = 0;

	if (!all)
		return -ENOMEM;
	/* Untouched regions to sample: spread over the log. */
	for (uint64_t k = 1; k <= 64 && nfresh < FRESH_SAMPLE && c->region_count; k++) {
		uint64_t r = (c->region_count - 1) / 64 * k + k % 7;

		if (r < c->region_count && !touched(all, nall, r))
			fresh[nfresh++] = r;
	}
	for (size_t i = 0; i < nall + nfresh; i++) {
		uint64_t r = i < nall ? all[i] : fresh[i - nall];
		const struct ent *g = NULL;
		size_t ng = 0;
		const struct rec *dirty_why = NULL, *unsync_why = NULL;
		bool clean = false, sync = false, in_dirty, in_oos, ever_marked = false,
		     ever_unsynced = false;
		char why[200];
		int q;

		if (i < nall) {
			while (gi < ne && (e[gi].log != log || e[gi].region < r))
				gi++;
			g = &e[gi];
			while (gi + ng < ne && e[gi + ng].log == log && e[gi + ng].region == r)
				ng++;
			check_reads(c, g, ng, rp);
			dirty_why = mark_holds(c->v, g, ng, UINT64_MAX, UINT64_MAX);
			unsync_why = unsync_holds(c->v, g, ng, UINT64_MAX, UINT64_MAX);
			for (size_t j = 0; j < ng; j++) {
				const struct rec *x = &c->v[g[j].rec];

				ever_marked |= x->kind == CHECKER_MARK || x->kind == CHECKER_FLUSH;
				ever_unsynced |= x->kind == CHECKER_SET_SYNC && !x->in_sync;
			}
		}
		q = dmlog_is_clean(node, &ref, r, &clean);
		if (q == 0)
			q = dmlog_in_sync(node, &ref, r, &sync);
		if (q != 0) {
			say(rp, false, "log%d region %llu: query failed: %s (%s)\n", log,
			    (unsigned long long)r, strerror(-q), dmlog_errmsg(node));
			rc = q;
			break;
		}
		in_dirty = in_ranges(d->dirty, d->dirty_count, r);
		in_oos = in_ranges(d->out_of_sync, d->out_of_sync_count, r);
		if (dirty_why && (clean || !in_dirty)) {
			rec_text(c, dirty_why, why, sizeof(why));
			say(rp, true, "lost mark: log%d region %llu is %s (leader's dirty ranges: %s) "
			    "after %s\n", log, (unsigned long long)r, clean ? "clean" : "not clean",
			    in_dirty ? "in" : "NOT in", why);
		}
		if (unsync_why && (sync || clean || !in_oos)) {
			rec_text(c, unsync_why, why, sizeof(why));
			say(rp, true, "lost out-of-sync: log%d region %llu in_sync=%d clean=%d (leader's "
			    "out-of-sync ranges: %s) after %s\n", log, (unsigned long long)r, sync,
			    clean, in_oos ? "in" : "NOT in", why);
		}
		if (clean && !sync)
			say(rp, true, "log%d region %llu clean but not in sync\n", log,
			    (unsigned long long)r);
		if (clean == in_dirty || sync == in_oos)
			say(rp, true, "log%d region %llu: IS_CLEAN=%d IN_SYNC=%d but the leader's "
			    "ranges say dirty=%d out_of_sync=%d\n", log, (unsigned long long)r, clean,
			    sync, in_dirty, in_oos);
		if (c->fresh_clean && !ever_marked && !ever_unsynced && (!clean || !sync))
			say(rp, true, "phantom: log%d region %llu was never marked nor set out of "
			    "sync, yet clean=%d in_sync=%d\n", log, (unsigned long long)r, clean,
			    sync);
		if (ever_marked)
			nmarked++;
	}
	if (rc == 0 && c->fresh_clean) {
		uint64_t extra = 0;

		for (size_t k = 0; k < d->dirty_count; k++)
			extra += outside(all, nall, d->dirty[k].first, d->dirty[k].last);
		if (extra)
			say(rp, true, "phantom: the leader holds %llu dirty regions of log%d that no "
			    "request touched\n", (unsigned long long)extra, log);
		extra = 0;
		for (size_t k = 0; k < d->out_of_sync_count; k++)
			extra += outside(all, nall, d->out_of_sync[k].first, d->out_of_sync[k].last);
		if (extra)
			say(rp, true, "phantom: the leader holds %llu out-of-sync regions of log%d that "
			    "no request touched\n", (unsigned long long)extra, log);
	}
	say(rp, false, "log%d: %zu regions touched (%zu marked at some point), %zu untouched "
	    "sampled, %zu dirty ranges, %zu out-of-sync ranges\n", log, nall, nmarked, nfresh,
	    d->dirty_count, d->out_of_sync_count);
	free(all);
	return rc;
}

int checker_verify(struct checker *c, const struct checker_servers *s, char *report,
		   size_t len)
{
	struct report rp = {.buf = report, .len = len};
	uint32_t timeout = s->timeout_ms ? s->timeout_ms : 20000;
	struct ent *e = NULL;
	size_t ne = 0, cap = 0;
	struct dmlog *admin = NULL, *node = NULL;
	char err[DMLOG_ERRMSG_SIZE], why[300];
	int leader, rc = 0;

	report[0] = '\0';
	pthread_mutex_lock(&c->mu);
	check_ended(c, &rp);
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		const struct rec *r = &c->v[i];

		for (size_t k = 0; k < r->n; k++) {
			if (ne == cap) {
				struct ent *w = realloc(e, (cap ? cap * 2 : 4096) * sizeof(*e));

				if (!w) {
					rc = -ENOMEM;
					break;
				}
				e = w;
				cap = cap ? cap * 2 : 4096;
			}
			e[ne++] = (struct ent){r->log, r->regions[k], i};
		}
	}
	if (rc == 0)
		qsort(e, ne, sizeof(*e), ent_cmp);
	/* Records come in issue order, so sorting by record index keeps each region's history
	 * in issue order too. */
	leader = rc ? -1 : find_leader(s, timeout, why, sizeof(why));
	if (rc == 0 && leader < 0) {
		snprintf(report, len, "checker: %s", why);
		rc = -EHOSTUNREACH;
	}
	if (rc == 0) {
		admin = handle(s, leader, true, err);
		node = handle(s, -1, false, err);
		if (!admin || !node) {
			snprintf(report, len, "checker: handle: %s", err);
			rc = -EINVAL;
		}
	}
	for (size_t log = 0; rc == 0 && log < c->n_logs; log++) {
		struct dmlog_log_ref ref = {.uuid = c->uuids[log], .luid = s->luid, .version = 3};
		struct dmlog_result *show = NULL;
		char dev[128];

		rc = dmlog_ctr(node, &ref, c->ctr_args, false, dev, sizeof(dev));
		if (rc == 0)
			rc = dmlog_resume(node, &ref);
		if (rc) {
			snprintf(report, len, "checker: CTR/RESUME of log%zu: %s", log,
				 dmlog_errmsg(node));
			break;
		}
		rc = dmlog_admin_show_log(admin, c->uuids[log], &show);
		if (rc) {
			snprintf(report, len, "checker: show log%zu on the leader: %s", log,
				 dmlog_errmsg(admin));
			break;
		}
		rc = check_log(c, (int)log, e, ne, node, s->luid, show, &rp);
		dmlog_result_free(show);
	}
	pthread_mutex_unlock(&c->mu);
	dmlog_free(admin);
	dmlog_free(node);
	free(e);
	if (rc)
		return rc < 0 ? rc : -EIO;
	say(&rp, false, "checker: %d violation(s) over %zu requests\n", rp.violations, c->n);
	return rp.violations;
}
