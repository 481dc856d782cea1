/* test_model.c: the engine against an independent reference model, driven by random operations.
 *
 * The model below re-implements the semantics written in server/engine/engine.h with plain
 * arrays and naive scans and shares no code with the engine: two implementations of one text.
 * A seeded generator drives both with the same operations, mostly in sensible sequences
 * (activation, table reload, teardown, resync, write marks, bursts of waiting writers) and
 * sometimes with bad arguments, unknown instances, out-of-range regions and lost nodes. After
 * every step the result and the observable state of the touched log (engine_log_info, ranges,
 * marks, instances) must agree; read ops must give the same answer through engine_read(), and
 * mutating ones must be refused by it. Every MODEL_FULL_EVERY steps all logs are compared, the
 * snapshot must equal that of a twin engine fed the same mutations but never restored, and the
 * engine goes through snapshot -> restore -> snapshot (byte-equal); the run continues on the
 * restored engine. A second run fails allocations inside mutating calls (the test wraps the
 * engine's malloc) and checks that -ENOMEM leaves the engine byte for byte unchanged. At the end
 * of a run of MODEL_COVERAGE_OPS steps or more, every op must have succeeded and failed at least
 * once and the model's interesting paths (node loss, priority assignment, sticky answers, ...)
 * must have been reached, so a generator that regressed cannot pass vacuously. A few
 * deterministic cases pin the table limits and the CTR argument length.
 *
 * Environment: DMLOG_MODEL_SEED (default MODEL_DEFAULT_SEED), DMLOG_MODEL_OPS (default
 * MODEL_DEFAULT_OPS; the allocation failure run takes a quarter), DMLOG_MODEL_TRACE (set: every
 * step and its answer on stderr). A mismatch reports the step, the seed, the op, both answers
 * and the recent history of the log involved.
 *
 * Where engine.h leaves a choice open, the model takes the reading documented at the point of
 * use (search for "reading:").
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define MODEL_DEFAULT_SEED UINT64_C(0x5eed2024)
#define MODEL_DEFAULT_OPS 200000UL
#define MODEL_FULL_EVERY 1000UL
#define MODEL_COVERAGE_OPS 40000UL /* shorter runs (DMLOG_MODEL_OPS) skip check_coverage() */

#define M_NODES 4
#define M_UUIDS 6
#define M_LUIDS 3
#define M_RC 256          /* model bitmap size; every valid generated CTR stays below it */
#define M_GEN_RC_MAX 200  /* largest region count the generator asks for */
#define M_HIST 400        /* remembered steps per log, for failure reports */
#define M_LINE 360
#define M_QUEUE 512

/* A broken assumption of this test itself. Unlike ck_assert, silent while it holds (Check
 * reports every ck_assert to its parent process, too slow for the inner loop). */
#define MODEL_ASSERT(c)                                                                           \
	do {                                                                                       \
		if (!(c))                                                                          \
			ck_abort_msg("test_model: assumption failed: %s", #c);                     \
	} while (0)

/* ================================================================ pools */

enum m_type { T_CCORE, T_CDISK, T_CORE, T_DISK, T_NTYPES };
enum m_mode { MODE_DEFAULT, MODE_SYNC, MODE_NOSYNC };
enum m_state { S_PENDING, S_RESUMED, S_PRESUSPENDED, S_SUSPENDED, S_LOST };

static const char *const type_name[T_NTYPES] = {"clustered-core", "clustered-disk", "core", "disk"};
static const char *const state_name[] = {"pending", "resumed", "presuspended", "suspended", "lost"};

/* Node names deliberately not in strcmp order of their index; the last one is 64 bytes. */
static char node_name[M_NODES][ENGINE_NODE_NAME_MAX + 1];
static char uuid_name[M_UUIDS][ENGINE_UUID_MAX + 1];
static const char *const uuid_disp[M_UUIDS] = {"LVM-b", "LVM-a", "c", "LVM-dd", "LVM-a0",
					       "<uuid128>"};
static const char *const node_disp[M_NODES] = {"n2", "n10", "n1", "<node64>"};
static const uint64_t luid_val[M_LUIDS] = {0x10, UINT64_C(0xffff88810a2b3c00), 0x7};
static char dev_name[3][ENGINE_DEV_MAX + 1];      /* the last one is 127 bytes */
static char bad_node[ENGINE_NODE_NAME_MAX + 2];   /* 65 bytes */
static char bad_uuid[ENGINE_UUID_MAX + 2];        /* 129 bytes */
static char bad_dev_args[ENGINE_ARGS_MAX];        /* clustered-disk with a 128-byte device */
static char max_args[ENGINE_ARGS_MAX + 1];        /* 512 bytes, valid */
static char long_args[ENGINE_ARGS_MAX + 2];       /* 513 bytes, otherwise valid */

#define UNKNOWN_LUID UINT64_C(0x999)
static const char unknown_node[] = "n-unknown";
static const char unknown_uuid[] = "LVM-unknown";

static void pools_init(void)
{
	strcpy(node_name[0], "n2");
	strcpy(node_name[1], "n10");
	strcpy(node_name[2], "n1");
	memset(node_name[3], 'q', ENGINE_NODE_NAME_MAX);
	memcpy(node_name[3], "node-", 5);
	node_name[3][ENGINE_NODE_NAME_MAX] = '\0';

	for (int u = 0; u < M_UUIDS - 1; u++)
		strcpy(uuid_name[u], uuid_disp[u]);
	memset(uuid_name[M_UUIDS - 1], 'Z', ENGINE_UUID_MAX);
	memcpy(uuid_name[M_UUIDS - 1], "LVM-", 4);
	uuid_name[M_UUIDS - 1][ENGINE_UUID_MAX] = '\0';

	strcpy(dev_name[0], "253:2");
	strcpy(dev_name[1], "/dev/mapper/vg-mirror_mlog");
	memset(dev_name[2], 'd', ENGINE_DEV_MAX);
	memcpy(dev_name[2], "/dev/", 5);
	dev_name[2][ENGINE_DEV_MAX] = '\0';

	memset(bad_node, 'b', sizeof(bad_node) - 1);
	bad_node[sizeof(bad_node) - 1] = '\0';
	memset(bad_uuid, 'B', sizeof(bad_uuid) - 1);
	bad_uuid[sizeof(bad_uuid) - 1] = '\0';

	char longdev[ENGINE_DEV_MAX + 2];
	memset(longdev, 'd', sizeof(longdev) - 1);
	longdev[sizeof(longdev) - 1] = '\0';
	snprintf(bad_dev_args, sizeof(bad_dev_args), "1024 clustered-disk %s 2", longdev);

	/* "2 clustered-core 2 " and one long unknown word, which clustered types ignore */
	for (size_t n = ENGINE_ARGS_MAX; n <= ENGINE_ARGS_MAX + 1; n++) {
		char *a = n == ENGINE_ARGS_MAX ? max_args : long_args;
		memset(a, 'w', n);
		memcpy(a, "2 clustered-core 2 ", 19);
		a[n] = '\0';
	}
}

/* ================================================================ PRNG (splitmix64) */

static uint64_t prng_state;

static uint64_t rnd(void)
{
	uint64_t z = (prng_state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool per_mille(unsigned k)
{
	return below(1000) < k;
}

/* ================================================================ allocation failure injection */

/* The test links with --wrap=malloc,--wrap=calloc,--wrap=realloc (CMakeLists.txt), so every
 * allocation of the engine (a static library) comes through here. Armed with n, the n-th
 * allocation from then on fails, once. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static unsigned long alloc_countdown; /* 0: nothing fails */
static bool alloc_failed;             /* the armed failure happened */

static void alloc_arm(unsigned long n)
{
	alloc_countdown = n;
	alloc_failed = false;
}

static bool alloc_fails(void)
{
	if (alloc_countdown == 0 || --alloc_countdown != 0)
		return false;
	alloc_failed = true;
	return true;
}

void *__wrap_malloc(size_t n)
{
	return alloc_fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return alloc_fails() ? NULL : __real_realloc(p, n);
}

/* ================================================================ growing string buffer */

struct sbuf {
	char *p;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		size_t room = sb->cap - sb->len;
		int n = 0;
		if (sb->p) {
			va_start(ap, fmt);
			n = vsnprintf(sb->p + sb->len, room, fmt, ap);
			va_end(ap);
			MODEL_ASSERT(n >= 0);
			if ((size_t)n < room) {
				sb->len += (size_t)n;
				return;
			}
		}
		size_t ncap = sb->cap ? sb->cap * 2 : 4096;
		while (ncap < sb->len + (size_t)n + 1)
			ncap *= 2;
		char *np = realloc(sb->p, ncap);
		MODEL_ASSERT(np != NULL);
		sb->p = np;
		sb->cap = ncap;
		sb->p[sb->len] = '\0';
	}
}

static void sb_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->p)
		sb->p[0] = '\0';
}

/* ================================================================ the reference model */

struct m_inst {
	bool used;
	enum m_state state;
	uint64_t rc;
	uint64_t hint;
	bool sticky;
	int64_t assigned; /* region this instance recovers, or -1 */
	size_t args_len;
	char args[ENGINE_ARGS_MAX + 1];
};

struct m_log {
	bool exists; /* has instances, or is a closed disk log */
	enum m_type type;
	uint64_t rs;
	char dev[ENGINE_DEV_MAX + 1];
	enum m_mode mode;
	bool boe;
	uint64_t rc;
	bool clean[M_RC];
	bool sync[M_RC];
	unsigned marks[M_RC]; /* bit n: node n has the region marked */
	uint64_t sync_search;
	int nprio;
	uint64_t prio[ENGINE_PRIORITY_MAX];
	struct m_inst inst[M_NODES][M_LUIDS];
};

struct model {
	struct m_log log[M_UUIDS];
	bool interned[M_NODES];
};

/* Expected answer. */
struct m_res {
	int error;
	bool flag;
	uint64_t value;
	char text[ENGINE_TEXT_MAX];
};

/* Which model paths ran, to show that the generator reaches them. */
static struct {
	unsigned long pending_replaced, repeat_ctr_ok, eexist, created, reopened_kept, reopened_new,
		grown, shrunk, deleted, closed, master_resume, plain_resume, prio_added, prio_full,
		prio_assigned, prio_dropped, scan_assigned, reassigned, no_work, sticky_set,
		sticky_answer, lost_instances, lost_marks, ctr_bad_args, ctr_geometry,
		snapshots, region_errors, stale_errors, stale_first, no_instance, replace_shrunk,
		inject_armed, inject_enomem, inject_absorbed, nodes_lost;
	/* MARK, CLEAR, FLUSH, SET_REGION_SYNC and IS_REMOTE_RECOVERING that succeeded on an
	 * instance that is not resumed, per state (pending, presuspended, suspended) */
	unsigned long idle_ok[S_LOST];
} cov;

struct m_ctr {
	enum m_type type;
	uint64_t rs, rc;
	char dev[ENGINE_DEV_MAX + 1];
	enum m_mode mode;
	bool boe;
};

static bool is_disk_type(enum m_type t)
{
	return t == T_CDISK || t == T_DISK;
}

static bool is_clustered(enum m_type t)
{
	return t == T_CCORE || t == T_CDISK;
}

static bool word_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(w, s, n) == 0;
}

/* Plain decimal without sign, fitting in 64 bits. */
static bool m_decimal(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* The CTR argument grammar of engine.h. */
static int m_parse(const char *args, size_t len, struct m_ctr *c)
{
	const char *w[24];
	size_t wl[24];
	size_t n = 0;

	memset(c, 0, sizeof(*c));
	if (len > ENGINE_ARGS_MAX || memchr(args, '\0', len) || (len > 0 && args[len - 1] == ' '))
		return -EINVAL; /* too long, a NUL, or an empty last word */
	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && args[j] != ' ')
			j++;
		if (j == i || n == 24)
			return -EINVAL;
		w[n] = args + i;
		wl[n] = j - i;
		n++;
		i = j + 1;
	}
	if (n < 2)
		return -EINVAL;
	uint64_t dev_len;
	if (!m_decimal(w[0], wl[0], &dev_len) || dev_len == 0)
		return -EINVAL;
	int t = -1;
	for (int k = 0; k < T_NTYPES; k++)
		if (word_is(w[1], wl[1], type_name[k]))
			t = k;
	if (t < 0)
		return -EINVAL;
	c->type = (enum m_type)t;

	size_t nargs = n - 2, need = is_disk_type(c->type) ? 2 : 1;
	if (nargs < need)
		return -EINVAL;
	if (is_clustered(c->type) ? nargs > 4 : nargs > need + 1)
		return -EINVAL;
	size_t at = 2;
	if (is_disk_type(c->type)) {
		if (wl[at] < 1 || wl[at] > ENGINE_DEV_MAX)
			return -EINVAL;
		memcpy(c->dev, w[at], wl[at]);
		c->dev[wl[at]] = '\0';
		at++;
	}
	if (!m_decimal(w[at], wl[at], &c->rs))
		return -EINVAL;
	if (c->rs < 2 || (c->rs & (c->rs - 1)) != 0 || c->rs > dev_len)
		return -EINVAL;
	c->rc = dev_len / c->rs + (dev_len % c->rs != 0);
	if (c->rc > ENGINE_REGION_COUNT_MAX)
		return -EINVAL;
	at++;

	bool sync = false, nosync = false;
	for (; at < n; at++) {
		if (word_is(w[at], wl[at], "sync"))
			sync = true;
		else if (word_is(w[at], wl[at], "nosync"))
			nosync = true;
		else if (is_clustered(c->type) && word_is(w[at], wl[at], "block_on_error"))
			c->boe = true;
		else if (!is_clustered(c->type))
			return -EINVAL;
	}
	if (sync && nosync)
		return -EINVAL;
	c->mode = sync ? MODE_SYNC : nosync ? MODE_NOSYNC : MODE_DEFAULT;
	return 0;
}

static struct m_inst *m_find(struct m_log *lg, int n, int l)
{
	if (!lg || !lg->exists || n < 0 || l < 0)
		return NULL;
	return lg->inst[n][l].used ? &lg->inst[n][l] : NULL;
}

static int m_ninst(const struct m_log *lg)
{
	int k = 0;
	for (int n = 0; n < M_NODES; n++)
		for (int l = 0; l < M_LUIDS; l++)
			k += lg->inst[n][l].used;
	return k;
}

static bool m_node_has_inst(const struct m_log *lg, int n)
{
	for (int l = 0; l < M_LUIDS; l++)
		if (lg->inst[n][l].used)
			return true;
	return false;
}

static uint64_t m_sync_count(const struct m_log *lg, uint64_t upto)
{
	uint64_t k = 0;
	for (uint64_t r = 0; r < upto && r < lg->rc; r++)
		k += lg->sync[r];
	return k;
}

static uint64_t m_first_unsynced(const struct m_log *lg)
{
	uint64_t r = 0;
	while (r < lg->rc && lg->sync[r])
		r++;
	return r;
}

static bool m_is_assigned(const struct m_log *lg, uint64_t r)
{
	for (int n = 0; n < M_NODES; n++)
		for (int l = 0; l < M_LUIDS; l++)
			if (lg->inst[n][l].used && lg->inst[n][l].assigned == (int64_t)r)
				return true;
	return false;
}

static void m_release_region(struct m_log *lg, uint64_t r)
{
	for (int n = 0; n < M_NODES; n++)
		for (int l = 0; l < M_LUIDS; l++)
			if (lg->inst[n][l].used && lg->inst[n][l].assigned == (int64_t)r)
				lg->inst[n][l].assigned = -1;
}

static bool m_prio_has(const struct m_log *lg, uint64_t r)
{
	for (int i = 0; i < lg->nprio; i++)
		if (lg->prio[i] == r)
			return true;
	return false;
}

static void m_prio_remove_at(struct m_log *lg, int i)
{
	memmove(&lg->prio[i], &lg->prio[i + 1], (size_t)(lg->nprio - i - 1) * sizeof(lg->prio[0]));
	lg->nprio--;
}

static void m_prio_drop(struct m_log *lg, uint64_t r)
{
	for (int i = 0; i < lg->nprio; i++)
		if (lg->prio[i] == r)
			m_prio_remove_at(lg, i--);
}

/* Resizes the bitmaps. Shrinking drops the bits, marks and priority entries beyond and clamps
 * the cursor (assignments beyond cannot exist: each lies below its instance's region_count);
 * growing adds regions clean and in sync under nosync, else dirty and out of sync. */
static void m_resize(struct m_log *lg, uint64_t nrc, bool nosync)
{
	if (nrc < lg->rc) {
		cov.shrunk++;
		for (uint64_t r = nrc; r < lg->rc; r++) {
			lg->clean[r] = lg->sync[r] = false;
			lg->marks[r] = 0;
		}
		for (int i = 0; i < lg->nprio; i++)
			if (lg->prio[i] >= nrc)
				m_prio_remove_at(lg, i--);
		for (int n = 0; n < M_NODES; n++)
			for (int l = 0; l < M_LUIDS; l++)
				MODEL_ASSERT(!lg->inst[n][l].used ||
					     lg->inst[n][l].assigned < (int64_t)nrc);
		if (lg->sync_search > nrc)
			lg->sync_search = nrc;
	} else if (nrc > lg->rc) {
		cov.grown++;
		for (uint64_t r = lg->rc; r < nrc; r++) {
			lg->clean[r] = lg->sync[r] = nosync;
			lg->marks[r] = 0;
		}
	}
	lg->rc = nrc;
}

static void m_log_fresh(struct m_log *lg, const struct m_ctr *c)
{
	MODEL_ASSERT(m_ninst(lg) == 0);
	memset(lg, 0, sizeof(*lg));
	lg->exists = true;
	lg->type = c->type;
	lg->rs = c->rs;
	strcpy(lg->dev, c->dev);
	lg->mode = c->mode;
	lg->boe = c->boe;
	lg->rc = c->rc;
	for (uint64_t r = 0; r < c->rc; r++)
		lg->clean[r] = lg->sync[r] = c->mode == MODE_NOSYNC;
	cov.created++;
}

/* DTR semantics: the instance goes, the node's marks go if it has no instance left, the log is
 * deleted (core) or closed (disk) with its last instance, else shrinks to the largest left.
 * replacing: the instance is about to be replaced by a new one of the same node, so neither the
 * node's marks nor the log's size change here (m_ctr settles the size afterwards). */
static void m_remove_instance(struct m_log *lg, int n, int l, bool replacing)
{
	memset(&lg->inst[n][l], 0, sizeof(lg->inst[n][l]));
	if (!replacing && !m_node_has_inst(lg, n))
		for (uint64_t r = 0; r < M_RC; r++)
			lg->marks[r] &= ~(1u << n);
	if (m_ninst(lg) == 0) {
		if (is_disk_type(lg->type)) {
			cov.closed++;
		} else {
			cov.deleted++;
			memset(lg, 0, sizeof(*lg));
		}
		return;
	}
	if (replacing)
		return;
	uint64_t mx = 0;
	for (int nn = 0; nn < M_NODES; nn++)
		for (int ll = 0; ll < M_LUIDS; ll++)
			if (lg->inst[nn][ll].used && lg->inst[nn][ll].rc > mx)
				mx = lg->inst[nn][ll].rc;
	if (mx < lg->rc)
		m_resize(lg, mx, false);
}

/* A new instance (node n, luid l) with parsed args c, on lg (which may not exist yet). */
static int m_add_instance(struct m_log *lg, int n, int l, const struct m_ctr *c, const char *args,
			  size_t args_len)
{
	bool fresh = !lg->exists;
	int ninst = lg->exists ? m_ninst(lg) : 0;

	if (lg->exists) {
		if (lg->type != c->type) {
			cov.ctr_geometry++;
			return -EINVAL;
		}
		bool same = lg->rs == c->rs && strcmp(lg->dev, c->dev) == 0;
		if (ninst == 0) {
			if (!same || c->mode == MODE_SYNC)
				fresh = true;
		} else if (!same) {
			cov.ctr_geometry++;
			return -EINVAL;
		}
	}
	if (fresh) {
		if (lg->exists)
			cov.reopened_new++;
		m_log_fresh(lg, c);
	} else if (ninst == 0) {
		/* Reopened closed disk log, bits kept; it takes this (only) instance's
		 * region_count either way, and the reopening CTR's mode and block_on_error. */
		cov.reopened_kept++;
		lg->mode = c->mode;
		lg->boe = c->boe;
		m_resize(lg, c->rc, c->mode == MODE_NOSYNC);
	} else if (c->rc > lg->rc) {
		m_resize(lg, c->rc, c->mode == MODE_NOSYNC);
	}
	struct m_inst *in = &lg->inst[n][l];
	memset(in, 0, sizeof(*in));
	in->used = true;
	in->state = S_PENDING;
	in->rc = c->rc;
	in->assigned = -1;
	in->args_len = args_len;
	memcpy(in->args, args, args_len);
	return 0;
}

/* One operation as the generator made it: pool indices (-1 = a valid name unknown to the
 * pools, -2 = an invalid name) plus the request handed to the engine. */
struct step {
	bool lost; /* engine_node_lost(node) instead of an op */
	int node, uuid, luid;
	struct engine_req req;
	char argbuf[ENGINE_ARGS_MAX + 32];
};

static void m_ctr_text(const struct m_log *lg, const struct engine_req *rq, struct m_res *res)
{
	if (is_disk_type(lg->type) && rq->version >= 2 && !rq->reconnect)
		snprintf(res->text, sizeof(res->text), "%s", lg->dev);
}

static void m_ctr(struct model *m, const struct step *s, struct m_res *res)
{
	const struct engine_req *rq = &s->req;
	struct m_log *lg = &m->log[s->uuid];
	struct m_inst *in = m_find(lg, s->node, s->luid);
	struct m_ctr c;

	int err = m_parse(rq->args, rq->args_len, &c);
	if (err) {
		cov.ctr_bad_args++;
		res->error = err;
		return; /* arguments are checked before the instance is looked up */
	}
	if (in && in->state != S_PENDING) {
		if (in->args_len == rq->args_len && memcmp(in->args, rq->args, rq->args_len) == 0) {
			cov.repeat_ctr_ok++;
			m_ctr_text(lg, rq, res);
		} else {
			cov.eexist++;
			res->error = -EEXIST;
		}
		return;
	}
	/* A stale pending instance is replaced: the CTR proceeds as if it did not exist (a
	 * core log without other instances is re-created, a closed disk log reopened or
	 * re-created), but the node keeps its marks unless the log is re-created, and the log
	 * goes straight to the largest region_count of the instances it then has (reading:
	 * no intermediate shrink to the others' size that would forget the bits between).
	 * Atomic: a refused CTR leaves the old pending instance in place. */
	static struct m_log tmp;
	tmp = *lg;
	if (in) {
		cov.pending_replaced++;
		m_remove_instance(&tmp, s->node, s->luid, true);
	}
	err = m_add_instance(&tmp, s->node, s->luid, &c, rq->args, rq->args_len);
	if (err) {
		res->error = err;
		return;
	}
	uint64_t mx = 0;
	for (int n = 0; n < M_NODES; n++)
		for (int l = 0; l < M_LUIDS; l++)
			if (tmp.inst[n][l].used && tmp.inst[n][l].rc > mx)
				mx = tmp.inst[n][l].rc;
	if (mx < tmp.rc) {
		cov.replace_shrunk++;
		m_resize(&tmp, mx, false);
	}
	*lg = tmp;
	m->interned[s->node] = true;
	m_ctr_text(lg, rq, res);
}

static void m_resume(struct m_log *lg, struct m_inst *in)
{
	if (in->state == S_RESUMED)
		return;
	bool master = true;
	for (int n = 0; n < M_NODES; n++)
		for (int l = 0; l < M_LUIDS; l++) {
			const struct m_inst *o = &lg->inst[n][l];
			if (o->used && o != in && (o->state == S_RESUMED || o->state == S_PRESUSPENDED))
				master = false;
		}
	if (master) {
		cov.master_resume++;
		for (uint64_t r = 0; r < lg->rc; r++)
			if (!lg->clean[r])
				lg->sync[r] = false;
	} else {
		cov.plain_resume++;
	}
	lg->sync_search = 0;
	in->hint = 0;
	in->sticky = false;
	in->state = S_RESUMED;
}

static void m_resync_work(struct m_log *lg, struct m_inst *in, struct m_res *res)
{
	if (in->state != S_RESUMED)
		return;
	if (in->assigned >= 0) {
		cov.reassigned++;
		res->flag = true;
		res->value = (uint64_t)in->assigned;
		return;
	}
	/* Only regions below the asking instance's region_count are considered. */
	uint64_t floor = 0, end = in->rc;
	for (int n = 0; n < M_NODES; n++)
		for (int l = 0; l < M_LUIDS; l++) {
			const struct m_inst *o = &lg->inst[n][l];
			bool counts = o->state == S_RESUMED || o->state == S_PRESUSPENDED;
			/* a sticky kernel's own hint is its region count (it saw N/N) */
			uint64_t h = o->sticky && o->rc > o->hint ? o->rc : o->hint;
			if (o->used && o != in && counts && h > floor)
				floor = h;
		}
	bool found = false, from_prio = false;
	uint64_t r = 0;
	/* Priority entries beyond the instance's view stay for a larger instance; the one handed
	 * out leaves the list like the dropped ones, and leaves the cursor alone. */
	for (int i = 0; i < lg->nprio;) {
		r = lg->prio[i];
		if (r >= end) {
			i++;
			continue;
		}
		m_prio_remove_at(lg, i);
		if (lg->sync[r] || r < floor || m_is_assigned(lg, r)) {
			cov.prio_dropped++;
			continue;
		}
		found = from_prio = true;
		cov.prio_assigned++;
		break;
	}
	if (!found) {
		for (r = lg->sync_search > floor ? lg->sync_search : floor; r < end; r++)
			if (!lg->sync[r] && !m_is_assigned(lg, r)) {
				found = true;
				cov.scan_assigned++;
				break;
			}
	}
	if (!found) {
		cov.no_work++;
		if (lg->sync_search < end)
			lg->sync_search = end;
		return;
	}
	in->assigned = (int64_t)r;
	if (!from_prio)
		lg->sync_search = r + 1;
	res->flag = true;
	res->value = r;
}

static void m_set_region_sync(struct m_log *lg, uint64_t r, bool in_sync)
{
	m_release_region(lg, r);
	m_prio_drop(lg, r);
	if (in_sync) {
		lg->sync[r] = true;
		if (m_sync_count(lg, lg->rc) == lg->rc) {
			for (int n = 0; n < M_NODES; n++)
				for (int l = 0; l < M_LUIDS; l++)
					if (lg->inst[n][l].used && lg->inst[n][l].state == S_RESUMED) {
						lg->inst[n][l].sticky = true;
						cov.sticky_set++;
					}
		}
	} else {
		lg->sync[r] = false;
		lg->clean[r] = false;
	}
}

static void m_status(const struct m_log *lg, bool table, struct m_res *res)
{
	static const char *const mode_word[] = {"", "sync ", "nosync "};
	char *t = res->text;
	size_t cap = sizeof(res->text);
	const char *mw = mode_word[lg->mode];
	const char *boe = lg->boe ? "block_on_error " : "";
	int words = lg->mode != MODE_DEFAULT;

	switch (lg->type) {
	case T_CCORE:
		if (table)
			snprintf(t, cap, "clustered-core %" PRIu64 " %s%s", lg->rs, mw, boe);
		else
			snprintf(t, cap, "1 clustered-core");
		break;
	case T_CDISK:
		if (table)
			snprintf(t, cap, "clustered-disk %s %" PRIu64 " %s%s", lg->dev, lg->rs, mw, boe);
		else
			snprintf(t, cap, "3 clustered-disk %s A", lg->dev);
		break;
	case T_CORE:
		if (table)
			snprintf(t, cap, "core %d %" PRIu64 " %s", 1 + words, lg->rs, mw);
		else
			snprintf(t, cap, "1 core");
		break;
	default:
		if (table)
			snprintf(t, cap, "disk %d %s %" PRIu64 " %s", 2 + words, lg->dev, lg->rs, mw);
		else
			snprintf(t, cap, "3 disk %s A", lg->dev);
		break;
	}
}

static bool op_has_region(uint32_t op)
{
	return op == ENGINE_IS_CLEAN || op == ENGINE_IN_SYNC || op == ENGINE_SET_REGION_SYNC ||
	       op == ENGINE_IS_REMOTE_RECOVERING;
}

static bool op_has_list(uint32_t op)
{
	return op == ENGINE_FLUSH || op == ENGINE_MARK_REGION || op == ENGINE_CLEAR_REGION;
}

static bool op_is_lifecycle(uint32_t op)
{
	return op == ENGINE_DTR || op == ENGINE_PRESUSPEND || op == ENGINE_POSTSUSPEND ||
	       op == ENGINE_RESUME;
}

static bool m_op_is_read(uint32_t op)
{
	return op == ENGINE_GET_REGION_SIZE || op == ENGINE_IS_CLEAN || op == ENGINE_IN_SYNC ||
	       op == ENGINE_GET_SYNC_COUNT || op == ENGINE_STATUS_INFO || op == ENGINE_STATUS_TABLE;
}

/* Applies one request to the model and fills the expected answer. */
static void m_apply(struct model *m, const struct step *s, struct m_res *res)
{
	const struct engine_req *rq = &s->req;
	uint32_t op = rq->op;

	memset(res, 0, sizeof(*res));
	if (op < ENGINE_CTR || op > ENGINE_IS_REMOTE_RECOVERING || s->uuid == -2 || s->node == -2) {
		res->error = -EINVAL;
		return;
	}
	if (op == ENGINE_CTR) {
		m_ctr(m, s, res);
		return;
	}
	struct m_log *lg = s->uuid >= 0 ? &m->log[s->uuid] : NULL;
	struct m_inst *in = m_find(lg, s->node, s->luid);
	bool bad_count = op_has_list(op) && (rq->nregions > ENGINE_REGIONS_MAX ||
					     (rq->nregions == 0 && op != ENGINE_FLUSH));
	bool stale = in && in->state == S_LOST && !op_is_lifecycle(op);
	bool bad_region = false;
	if (in && op_has_region(op))
		bad_region = rq->region >= in->rc;
	if (in && op_has_list(op) && !bad_count)
		for (uint32_t i = 0; i < rq->nregions; i++)
			bad_region |= rq->regions[i] >= in->rc;

	/* In the order engine.h lists them: instance, lost state, regions and their count. */
	if (!in) {
		cov.no_instance++;
		res->error = -EINVAL;
		return;
	}
	if (stale) {
		cov.stale_errors++;
		if (bad_region || bad_count)
			cov.stale_first++;
		res->error = -ESTALE;
		return;
	}
	if (bad_count) {
		res->error = -EINVAL;
		return;
	}
	if (bad_region) {
		cov.region_errors++;
		res->error = -EINVAL;
		return;
	}

	if (in->state != S_RESUMED && (op == ENGINE_MARK_REGION || op == ENGINE_CLEAR_REGION ||
				       op == ENGINE_FLUSH || op == ENGINE_SET_REGION_SYNC ||
				       op == ENGINE_IS_REMOTE_RECOVERING))
		cov.idle_ok[in->state]++;

	unsigned bit = 1u << s->node;
	switch (op) {
	case ENGINE_DTR:
		m_remove_instance(lg, s->node, s->luid, false);
		break;
	case ENGINE_PRESUSPEND:
		in->state = S_PRESUSPENDED;
		in->assigned = -1;
		break;
	case ENGINE_POSTSUSPEND:
		/* reading: "its hint no longer counts" (unlike DTR and a lost node, "hint
		 * dropped"): the value stays readable, the floor only looks at resumed ones. */
		in->state = S_SUSPENDED;
		in->assigned = -1;
		break;
	case ENGINE_RESUME:
		m_resume(lg, in);
		break;
	case ENGINE_GET_REGION_SIZE:
		res->value = lg->rs;
		break;
	case ENGINE_IS_CLEAN:
		res->flag = lg->clean[rq->region];
		break;
	case ENGINE_IN_SYNC:
		res->flag = in->sticky || lg->sync[rq->region];
		if (in->sticky && !lg->sync[rq->region])
			cov.sticky_answer++;
		break;
	case ENGINE_FLUSH:
	case ENGINE_MARK_REGION:
		for (uint32_t i = 0; i < rq->nregions; i++) {
			lg->marks[rq->regions[i]] |= bit;
			lg->clean[rq->regions[i]] = false;
		}
		break;
	case ENGINE_CLEAR_REGION:
		for (uint32_t i = 0; i < rq->nregions; i++) {
			uint64_t r = rq->regions[i];
			lg->marks[r] &= ~bit;
			if (lg->marks[r] == 0 && lg->sync[r])
				lg->clean[r] = true;
		}
		break;
	case ENGINE_GET_RESYNC_WORK:
		m_resync_work(lg, in, res);
		break;
	case ENGINE_SET_REGION_SYNC:
		m_set_region_sync(lg, rq->region, rq->in_sync);
		break;
	case ENGINE_GET_SYNC_COUNT:
		res->value = m_sync_count(lg, in->rc);
		break;
	case ENGINE_STATUS_INFO:
	case ENGINE_STATUS_TABLE:
		m_status(lg, op == ENGINE_STATUS_TABLE, res);
		break;
	case ENGINE_IS_REMOTE_RECOVERING:
		/* reading: low_unsynced is exact, the first out-of-sync region of the log (its
		 * region_count when none). */
		res->flag = !lg->sync[rq->region];
		res->value = m_first_unsynced(lg);
		in->hint = res->value;
		if (res->flag && !m_is_assigned(lg, rq->region) && !m_prio_has(lg, rq->region)) {
			if (lg->nprio < ENGINE_PRIORITY_MAX) {
				lg->prio[lg->nprio++] = rq->region;
				cov.prio_added++;
			} else {
				cov.prio_full++;
			}
		}
		break;
	default:
		ck_abort_msg("model: unhandled op %u", op);
	}
}

static void m_node_lost(struct model *m, int n)
{
	if (n < 0 || !m->interned[n])
		return;
	cov.nodes_lost++;
	for (int u = 0; u < M_UUIDS; u++) {
		struct m_log *lg = &m->log[u];
		if (!lg->exists)
			continue;
		for (uint64_t r = 0; r < lg->rc; r++)
			if (lg->marks[r] & (1u << n)) {
				cov.lost_marks++;
				lg->marks[r] &= ~(1u << n);
				lg->sync[r] = lg->clean[r] = false;
			}
		for (int l = 0; l < M_LUIDS; l++) {
			struct m_inst *in = &lg->inst[n][l];
			if (!in->used)
				continue;
			cov.lost_instances++;
			in->assigned = -1;
			in->state = S_LOST;
			in->hint = 0;
		}
	}
}

/* reading: "resumed" if any instance is, "closed" without instances, "pending" when all are
 * pending, else "suspended" (presuspended, suspended and lost instances). */
static const char *m_log_state(const struct m_log *lg)
{
	bool any = false, resumed = false, pending_only = true;
	for (int n = 0; n < M_NODES; n++)
		for (int l = 0; l < M_LUIDS; l++) {
			const struct m_inst *in = &lg->inst[n][l];
			if (!in->used)
				continue;
			any = true;
			resumed |= in->state == S_RESUMED;
			pending_only &= in->state == S_PENDING;
		}
	if (!any)
		return "closed";
	if (resumed)
		return "resumed";
	return pending_only ? "pending" : "suspended";
}

/* ================================================================ observable state, as text */

static int node_sorted[M_NODES]; /* node indices in strcmp order of their names */
static int luid_sorted[M_LUIDS]; /* luid indices in numeric order */

static void orders_init(void)
{
	for (int i = 0; i < M_NODES; i++)
		node_sorted[i] = i;
	for (int i = 0; i < M_NODES; i++)
		for (int j = i + 1; j < M_NODES; j++)
			if (strcmp(node_name[node_sorted[j]], node_name[node_sorted[i]]) < 0) {
				int t = node_sorted[i];
				node_sorted[i] = node_sorted[j];
				node_sorted[j] = t;
			}
	for (int i = 0; i < M_LUIDS; i++)
		luid_sorted[i] = i;
	for (int i = 0; i < M_LUIDS; i++)
		for (int j = i + 1; j < M_LUIDS; j++)
			if (luid_val[luid_sorted[j]] < luid_val[luid_sorted[i]]) {
				int t = luid_sorted[i];
				luid_sorted[i] = luid_sorted[j];
				luid_sorted[j] = t;
			}
}

static const char *disp_node(const char *name)
{
	for (int n = 0; n < M_NODES; n++)
		if (strcmp(name, node_name[n]) == 0)
			return node_disp[n];
	return name;
}

static const char *disp_uuid(const char *name)
{
	for (int u = 0; u < M_UUIDS; u++)
		if (strcmp(name, uuid_name[u]) == 0)
			return uuid_disp[u];
	return name;
}

static void dump_runs(struct sbuf *sb, const char *label, const bool *bits, uint64_t rc)
{
	sb_printf(sb, "%s:", label);
	for (uint64_t r = 0; r < rc;) {
		if (bits[r]) {
			r++;
			continue;
		}
		uint64_t first = r;
		while (r < rc && !bits[r])
			r++;
		sb_printf(sb, " %" PRIu64 "-%" PRIu64, first, r - 1);
	}
	sb_printf(sb, "\n");
}

/* The model's view of log u, in the same text form as eng_dump(). */
static void m_dump(const struct model *m, int u, struct sbuf *sb)
{
	const struct m_log *lg = &m->log[u];
	if (!lg->exists) {
		sb_printf(sb, "absent\n");
		return;
	}
	uint64_t dirty = 0, sc = m_sync_count(lg, lg->rc);
	for (uint64_t r = 0; r < lg->rc; r++)
		dirty += !lg->clean[r];
	int assignments = 0, low_node = -1;
	int64_t low = -1;
	for (int n = 0; n < M_NODES; n++)
		for (int l = 0; l < M_LUIDS; l++) {
			const struct m_inst *in = &lg->inst[n][l];
			if (!in->used || in->assigned < 0)
				continue;
			assignments++;
			if (low < 0 || in->assigned < low) {
				low = in->assigned;
				low_node = n;
			}
		}
	sb_printf(sb,
		  "uuid=%s type=%s device=%s rs=%" PRIu64 " rc=%" PRIu64 " dirty=%" PRIu64
		  " sync=%" PRIu64 " state=%s instances=%d assignments=%d",
		  uuid_disp[u], type_name[lg->type], is_disk_type(lg->type) ? lg->dev : "", lg->rs,
		  lg->rc, dirty, sc, m_log_state(lg), m_ninst(lg), assignments);
	if (low >= 0)
		sb_printf(sb, " recoverer=%s@%" PRId64, node_disp[low_node], low);
	sb_printf(sb, " fully_synced=%d\n", sc == lg->rc);
	dump_runs(sb, "dirty", lg->clean, lg->rc);
	dump_runs(sb, "unsync", lg->sync, lg->rc);
	sb_printf(sb, "marks:");
	for (uint64_t r = 0; r < lg->rc; r++)
		for (int i = 0; i < M_NODES; i++)
			if (lg->marks[r] & (1u << node_sorted[i]))
				sb_printf(sb, " %s@%" PRIu64, node_disp[node_sorted[i]], r);
	sb_printf(sb, "\n");
	for (int i = 0; i < M_NODES; i++)
		for (int j = 0; j < M_LUIDS; j++) {
			const struct m_inst *in = &lg->inst[node_sorted[i]][luid_sorted[j]];
			if (in->used)
				sb_printf(sb, "inst %s luid=%#" PRIx64 " state=%s rc=%" PRIu64
					  " hint=%" PRIu64 "\n",
					  node_disp[node_sorted[i]], luid_val[luid_sorted[j]],
					  state_name[in->state], in->rc, in->hint);
		}
}

static void eng_range_cb(void *arg, uint64_t first, uint64_t last)
{
	sb_printf(arg, " %" PRIu64 "-%" PRIu64, first, last);
}

static void eng_mark_cb(void *arg, const char *node, uint64_t region)
{
	sb_printf(arg, " %s@%" PRIu64, disp_node(node), region);
}

static void count_mark_cb(void *arg, const char *node, uint64_t region)
{
	(*(size_t *)arg)++;
}

static void eng_inst_cb(void *arg, const char *node, uint64_t luid, const char *state,
			uint64_t region_count, uint64_t hint)
{
	sb_printf(arg, "inst %s luid=%#" PRIx64 " state=%s rc=%" PRIu64 " hint=%" PRIu64 "\n",
		  disp_node(node), luid, state ? state : "(null)", region_count, hint);
}

/* The engine's view of the log named uuid, through the inspection API. */
static void eng_dump(const struct engine *e, const char *uuid, struct sbuf *sb)
{
	struct engine_log_info info;
	memset(&info, 0, sizeof(info));
	int rc = engine_log_info(e, uuid, &info);
	if (rc == -ENOENT) {
		sb_printf(sb, "absent\n");
		int r1 = engine_log_ranges(e, uuid, true, eng_range_cb, sb);
		int r2 = engine_log_marks(e, uuid, eng_mark_cb, sb);
		int r3 = engine_log_instances(e, uuid, eng_inst_cb, sb);
		if (r1 != -ENOENT || r2 != -ENOENT || r3 != -ENOENT)
			sb_printf(sb, "but ranges/marks/instances returned %d/%d/%d\n", r1, r2, r3);
		return;
	}
	if (rc != 0) {
		sb_printf(sb, "engine_log_info error %d\n", rc);
		return;
	}
	bool disk = strcmp(info.type, "disk") == 0 || strcmp(info.type, "clustered-disk") == 0;
	sb_printf(sb,
		  "uuid=%s type=%s device=%s rs=%" PRIu64 " rc=%" PRIu64 " dirty=%" PRIu64
		  " sync=%" PRIu64 " state=%s instances=%u assignments=%u",
		  disp_uuid(info.uuid), info.type, info.device, info.region_size, info.region_count,
		  info.dirty_count, info.sync_count, info.state ? info.state : "(null)",
		  info.instances, info.assignments);
	if (info.recoverer[0])
		sb_printf(sb, " recoverer=%s@%" PRIu64, disp_node(info.recoverer),
			  info.recovering_region);
	sb_printf(sb, " fully_synced=%d\n", info.fully_synced);
	if (!disk && info.device[0])
		sb_printf(sb, "(device set on a core log)\n");
	sb_printf(sb, "dirty:");
	rc = engine_log_ranges(e, uuid, true, eng_range_cb, sb);
	sb_printf(sb, rc ? " error %d\n" : "\n", rc);
	sb_printf(sb, "unsync:");
	rc = engine_log_ranges(e, uuid, false, eng_range_cb, sb);
	sb_printf(sb, rc ? " error %d\n" : "\n", rc);
	sb_printf(sb, "marks:");
	rc = engine_log_marks(e, uuid, eng_mark_cb, sb);
	sb_printf(sb, rc ? " error %d\n" : "\n", rc);
	rc = engine_log_instances(e, uuid, eng_inst_cb, sb);
	if (rc)
		sb_printf(sb, "instances error %d\n", rc);
}

/* ================================================================ the generator */

struct prof {
	enum m_type type;
	uint64_t rs, rc;
	int dev;
};

#define Q_LOST 0xffffffffu

struct qstep {
	uint32_t op; /* ENGINE_*, an unknown op, or Q_LOST */
	int node, uuid, luid;
	int ctr_from;      /* CTR: luid index of the same node whose args to reuse, or -1 */
	bool use_assigned; /* SET_REGION_SYNC: the region this instance recovers, if any */
	bool fixed;        /* region ops: use .region (lists: just that one) */
	uint64_t region;
};

struct ctx {
	struct engine *e;
	struct engine *twin; /* same mutations, never restored: determinism and restore fidelity */
	struct model m;
	struct prof prof[M_UUIDS];
	uint64_t seed;
	unsigned long step;
	struct qstep queue[M_QUEUE];
	int qhead, qlen;
	char hist[M_UUIDS + 1][M_HIST][M_LINE]; /* per log, and [M_UUIDS] for all steps */
	unsigned long hist_n[M_UUIDS + 1];
	unsigned long hist_born[M_UUIDS]; /* first entry since the log last did not exist */
	char desc[M_LINE];
	struct step st;
	struct sbuf want, got, msg;
	unsigned long done[ENGINE_IS_REMOTE_RECOVERING + 1][2]; /* per op: [ok, error] */
	bool trace;  /* DMLOG_MODEL_TRACE: every step and its answer to stderr */
	bool inject; /* fail allocations inside mutating calls now and then */
	uint8_t *inject_before; /* snapshot before the injected call */
	size_t inject_len;
	unsigned long inst_sum, resumed_sum; /* instances summed over steps */
};

/* Odd CTR arguments, mostly invalid; the model decides. */
static const char *const odd_args[] = {
	"",
	"0 core 2",
	"1024 core 3",
	"1024 core 1",
	"1024 core 0",
	"1024 core 2048",
	"1023 core 1024",
	"1 clustered-core 2",
	"1024 core 2 sync sync",
	"1024 disk 253:2 2 nosync nosync",
	"1024 mirror 2",
	"1024 CORE 2",
	"1024 core 2 block_on_error",
	"1024 core 2 sync nosync",
	"1024 core 2 foo",
	"1024 core 2x",
	"1024 clustered-core 2 sync nosync",
	"1024 clustered-core 2 nosync block_on_error sync",
	"1024 clustered-core 2 a b c d",
	"1024 clustered-core 253:2 2",
	"1024 clustered-disk 253:2 2 sync block_on_error x",
	"1024 clustered-disk 2",
	"1024 disk 2",
	"1024 disk 253:2 2 sync foo",
	"x1024 core 2",
	"-1024 core 2",
	"8589934594 core 2",
	"99999999999999999999999 core 2",
	"1024",
	"1024 core",
	"1024  core 2",
	" 1024 core 2",
	"1024 core 2 ",
	"1024 clustered-core 2  sync",
	"+1024 core 2",
	"0x400 core 2",
	"1024 core 0x2",
	"1024 clustered-core 2\0",     /* a NUL inside the counted bytes */
	NULL, /* bad_dev_args */
	NULL, /* max_args */
	NULL, /* long_args */
};

static void queue_push(struct ctx *x, struct qstep q)
{
	MODEL_ASSERT(x->qlen < M_QUEUE);
	x->queue[(x->qhead + x->qlen) % M_QUEUE] = q;
	x->qlen++;
}

static struct qstep qs(uint32_t op, int u, int n, int l)
{
	struct qstep q;
	memset(&q, 0, sizeof(q));
	q.op = op;
	q.uuid = u;
	q.node = n;
	q.luid = l;
	q.ctr_from = -1;
	return q;
}

static uint64_t gen_rc(void)
{
	unsigned k = (unsigned)below(10);
	return 1 + below(k < 4 ? 8 : k < 8 ? 64 : M_GEN_RC_MAX);
}

/* uuids 0 and 1 keep core types and 2 and 3 disk types (a closed disk log never goes away, so
 * without this every uuid would end up a disk log); 4 and 5 take any type. */
static void prof_roll(struct prof *p, int u)
{
	p->type = (enum m_type)below(T_NTYPES);
	if (u < 2)
		p->type = per_mille(500) ? T_CCORE : T_CORE;
	else if (u < 4)
		p->type = per_mille(500) ? T_CDISK : T_DISK;
	p->rs = UINT64_C(2) << below(10);
	p->rc = gen_rc();
	p->dev = (int)below(3);
}

static void prof_from_log(struct prof *p, const struct m_log *lg)
{
	p->type = lg->type;
	p->rs = lg->rs;
	p->rc = lg->rc;
	for (int d = 0; d < 3; d++)
		if (strcmp(dev_name[d], lg->dev) == 0)
			p->dev = d;
}

static size_t build_args(char *buf, size_t cap, const struct prof *p)
{
	const char *words[4];
	int nw = 0;
	uint64_t len = (p->rc == 1 && !per_mille(100)) ? p->rs : (p->rc - 1) * p->rs + 1 + below(p->rs);
	unsigned mode = (unsigned)below(100);

	if (mode < 20)
		words[nw++] = "sync";
	else if (mode < 55)
		words[nw++] = "nosync";
	if (is_clustered(p->type)) {
		if (per_mille(200))
			words[nw++] = "block_on_error";
		if (per_mille(150))
			words[nw++] = per_mille(500) ? "integrated_flush" : "frobnicate";
		int maxw = p->type == T_CCORE ? 3 : 2;
		if (nw > maxw)
			nw = maxw;
		for (int i = nw - 1; i > 0; i--) {
			int j = (int)below((uint64_t)i + 1);
			const char *t = words[i];
			words[i] = words[j];
			words[j] = t;
		}
	}
	int n = snprintf(buf, cap, "%" PRIu64 " %s", len, type_name[p->type]);
	if (is_disk_type(p->type))
		n += snprintf(buf + n, cap - (size_t)n, " %s", dev_name[p->dev]);
	n += snprintf(buf + n, cap - (size_t)n, " %" PRIu64, p->rs);
	for (int i = 0; i < nw; i++)
		n += snprintf(buf + n, cap - (size_t)n, " %s", words[i]);
	MODEL_ASSERT(n < ENGINE_ARGS_MAX);
	return (size_t)n;
}

static void gen_ctr_args(struct ctx *x, struct step *s, int from_luid)
{
	size_t n;
	char *buf = s->argbuf;
	size_t cap = sizeof(s->argbuf) - 16;

	if (s->uuid < 0) {
		n = (size_t)snprintf(buf, cap, "1024 clustered-core 2");
	} else if (per_mille(60)) {
		size_t nodd = sizeof(odd_args) / sizeof(odd_args[0]), k = below(nodd);
		const char *a = odd_args[k] ? odd_args[k]
			      : k == nodd - 3 ? bad_dev_args : k == nodd - 2 ? max_args : long_args;
		n = strlen(a);
		if (k == nodd - 4)
			n++; /* the NUL */
		memcpy(buf, a, n);
	} else {
		struct m_log *lg = &x->m.log[s->uuid];
		struct m_inst *from = m_find(lg, s->node, from_luid);
		if (from && !per_mille(150)) {
			n = from->args_len;
			memcpy(buf, from->args, n);
		} else {
			if (!lg->exists && per_mille(300)) {
				prof_roll(&x->prof[s->uuid], s->uuid);
			} else if (lg->exists && m_ninst(lg) == 0 && per_mille(150)) {
				/* a closed disk log: reopen it with other geometry */
				prof_roll(&x->prof[s->uuid], s->uuid);
				x->prof[s->uuid].type = lg->type;
			}
			struct prof p = x->prof[s->uuid];
			if (per_mille(150))
				p.rc = gen_rc();
			if (per_mille(25))
				p.rs = UINT64_C(2) << below(10);
			if (lg->exists && per_mille(25))
				p.type = (enum m_type)below(T_NTYPES);
			if (per_mille(25))
				p.dev = (int)below(3);
			n = build_args(buf, cap, &p);
		}
	}
	/* The request's args need not be NUL-terminated: put garbage behind them. */
	memcpy(buf + n, "#garbage", 8);
	s->req.args = buf;
	s->req.args_len = n;
}

static uint64_t pick_region(uint64_t rc)
{
	unsigned p = (unsigned)below(1000);
	if (p < 955)
		return below(rc);
	if (p < 972)
		return rc;
	if (p < 982)
		return rc + 1 + below(100);
	if (p < 988)
		return UINT64_MAX;
	if (p < 994)
		return UINT64_C(1) << 32;
	return below(M_RC);
}

static uint64_t pick_unsynced(const struct m_log *lg, uint64_t rc)
{
	uint64_t cand[M_RC];
	size_t k = 0;
	for (uint64_t r = 0; lg && r < rc && r < lg->rc; r++)
		if (!lg->sync[r])
			cand[k++] = r;
	return k ? cand[below(k)] : pick_region(rc);
}

static uint64_t pick_marked(const struct m_log *lg, int n, uint64_t rc)
{
	uint64_t cand[M_RC];
	size_t k = 0;
	for (uint64_t r = 0; lg && n >= 0 && r < rc && r < lg->rc; r++)
		if (lg->marks[r] & (1u << n))
			cand[k++] = r;
	return k && per_mille(750) ? cand[below(k)] : pick_region(rc);
}

static uint32_t pick_count(bool flush)
{
	unsigned p = (unsigned)below(1000);
	if (flush && p < 350)
		return 0;
	if (p < 10)
		return 0;
	if (p < 20)
		return ENGINE_REGIONS_MAX + 1 + (uint32_t)below(3);
	if (p < 600)
		return 1;
	if (p < 880)
		return 2 + (uint32_t)below(3);
	return 5 + (uint32_t)below(ENGINE_REGIONS_MAX - 4);
}

/* Turns a queued step into a concrete request, using the model's current state. */
static void build_step(struct ctx *x, const struct qstep *q, struct step *s)
{
	struct engine_req *rq = &s->req;

	memset(s, 0, sizeof(*s));
	s->node = q->node;
	s->uuid = q->uuid;
	s->luid = q->luid;
	rq->node = s->node >= 0 ? node_name[s->node] : s->node == -1 ? unknown_node
				: per_mille(500) ? "" : bad_node;
	if (q->op == Q_LOST) {
		s->lost = true;
		return;
	}
	rq->op = q->op;
	rq->uuid = s->uuid >= 0 ? uuid_name[s->uuid] : s->uuid == -1 ? unknown_uuid
				: per_mille(500) ? "" : bad_uuid;
	rq->luid = s->luid >= 0 ? luid_val[s->luid] : UNKNOWN_LUID;
	rq->version = 3;

	struct m_log *lg = s->uuid >= 0 ? &x->m.log[s->uuid] : NULL;
	struct m_inst *in = m_find(lg, s->node, s->luid);
	uint64_t rc = in ? in->rc : 16;

	switch (q->op) {
	case ENGINE_CTR:
		rq->version = (uint32_t)below(4);
		rq->reconnect = per_mille(300);
		gen_ctr_args(x, s, q->ctr_from);
		break;
	case ENGINE_IS_CLEAN:
	case ENGINE_IN_SYNC:
	case ENGINE_IS_REMOTE_RECOVERING:
		rq->region = q->fixed ? q->region : per_mille(500) ? pick_unsynced(lg, rc) : pick_region(rc);
		break;
	case ENGINE_SET_REGION_SYNC:
		if (in && in->assigned >= 0 && (q->use_assigned || per_mille(600)))
			rq->region = (uint64_t)in->assigned;
		else
			rq->region = per_mille(600) ? pick_unsynced(lg, rc) : pick_region(rc);
		rq->in_sync = per_mille(930);
		break;
	case ENGINE_FLUSH:
	case ENGINE_MARK_REGION:
	case ENGINE_CLEAR_REGION:
		if (q->fixed) {
			rq->nregions = 1;
			rq->regions[0] = q->region;
			break;
		}
		rq->nregions = pick_count(q->op == ENGINE_FLUSH);
		for (uint32_t i = 0; i < rq->nregions && i < ENGINE_REGIONS_MAX; i++)
			rq->regions[i] = q->op == ENGINE_CLEAR_REGION ? pick_marked(lg, s->node, rc)
								      : pick_region(rc);
		break;
	default:
		break;
	}
}

struct triple {
	int u, n, l;
};

static int collect(const struct model *m, struct triple *out, bool resumed_only)
{
	int k = 0;
	for (int u = 0; u < M_UUIDS; u++)
		for (int n = 0; n < M_NODES; n++)
			for (int l = 0; l < M_LUIDS; l++) {
				const struct m_inst *in = &m->log[u].inst[n][l];
				if (m->log[u].exists && in->used &&
				    (!resumed_only || in->state == S_RESUMED))
					out[k++] = (struct triple){u, n, l};
			}
	return k;
}

static struct triple random_triple(void)
{
	return (struct triple){(int)below(M_UUIDS), (int)below(M_NODES), (int)below(M_LUIDS)};
}

/* Mostly an existing instance (often a resumed one), sometimes any pool combination, rarely a
 * name or luid the engine has never seen. */
static struct triple pick_target(const struct ctx *x, unsigned resumed_pct)
{
	struct triple all[M_UUIDS * M_NODES * M_LUIDS], res[M_UUIDS * M_NODES * M_LUIDS];
	int na = collect(&x->m, all, false), nr = collect(&x->m, res, true);
	unsigned p = (unsigned)below(100);
	if (p < resumed_pct && nr)
		return res[below((uint64_t)nr)];
	if (p < 90 && na)
		return all[below((uint64_t)na)];
	struct triple t = random_triple();
	if (p >= 98) {
		switch (below(3)) {
		case 0:
			t.n = -1;
			break;
		case 1:
			t.u = -1;
			break;
		default:
			t.l = -1;
			break;
		}
	}
	return t;
}

enum gen_kind {
	G_BURST, G_ACTIVATE, G_RELOAD, G_TEARDOWN, G_RECOVER, G_WRITE, G_LOST, G_CTR, G_DTR, G_PRE, G_POST,
	G_RESUME, G_GRS, G_ISCLEAN, G_INSYNC, G_FLUSH, G_MARK, G_CLEAR, G_WORK, G_SETSYNC, G_COUNT,
	G_INFO, G_TABLE, G_IRR, G_BADOP, G_BADNAME, G_N
};

static const unsigned gen_weight[G_N] = {
	[G_BURST] = 2, [G_ACTIVATE] = 25, [G_RELOAD] = 8, [G_TEARDOWN] = 4, [G_RECOVER] = 60, [G_WRITE] = 60,
	[G_LOST] = 2, [G_CTR] = 25, [G_DTR] = 14, [G_PRE] = 15, [G_POST] = 15, [G_RESUME] = 40,
	[G_GRS] = 20, [G_ISCLEAN] = 40, [G_INSYNC] = 60, [G_FLUSH] = 70, [G_MARK] = 80,
	[G_CLEAR] = 90, [G_WORK] = 100, [G_SETSYNC] = 90, [G_COUNT] = 40, [G_INFO] = 20,
	[G_TABLE] = 20, [G_IRR] = 80, [G_BADOP] = 5, [G_BADNAME] = 5,
};

static const uint32_t single_op[G_N] = {
	[G_CTR] = ENGINE_CTR, [G_DTR] = ENGINE_DTR, [G_PRE] = ENGINE_PRESUSPEND,
	[G_POST] = ENGINE_POSTSUSPEND, [G_RESUME] = ENGINE_RESUME, [G_GRS] = ENGINE_GET_REGION_SIZE,
	[G_ISCLEAN] = ENGINE_IS_CLEAN, [G_INSYNC] = ENGINE_IN_SYNC, [G_FLUSH] = ENGINE_FLUSH,
	[G_MARK] = ENGINE_MARK_REGION, [G_CLEAR] = ENGINE_CLEAR_REGION,
	[G_WORK] = ENGINE_GET_RESYNC_WORK, [G_SETSYNC] = ENGINE_SET_REGION_SYNC,
	[G_COUNT] = ENGINE_GET_SYNC_COUNT, [G_INFO] = ENGINE_STATUS_INFO,
	[G_TABLE] = ENGINE_STATUS_TABLE, [G_IRR] = ENGINE_IS_REMOTE_RECOVERING,
};

/* Queues one random operation or one short scripted sequence. */
static void gen_random(struct ctx *x)
{
	unsigned total = 0;
	for (int g = 0; g < G_N; g++)
		total += gen_weight[g];
	unsigned p = (unsigned)below(total);
	int g = 0;
	while (p >= gen_weight[g])
		p -= gen_weight[g++];

	struct triple t;
	switch (g) {
	case G_ACTIVATE: {
		/* CTR, GET_REGION_SIZE, [GET_SYNC_COUNT], RESUME: a table load and resume. */
		t = per_mille(500) ? random_triple() : pick_target(x, 0);
		if (t.u < 0 || t.n < 0 || t.l < 0)
			t = random_triple();
		struct qstep c = qs(ENGINE_CTR, t.u, t.n, t.l);
		c.ctr_from = t.l;
		queue_push(x, c);
		queue_push(x, qs(ENGINE_GET_REGION_SIZE, t.u, t.n, t.l));
		if (per_mille(500))
			queue_push(x, qs(ENGINE_GET_SYNC_COUNT, t.u, t.n, t.l));
		queue_push(x, qs(ENGINE_RESUME, t.u, t.n, t.l));
		return;
	}
	case G_RELOAD: {
		/* A table reload: new instance beside the old one, then the old one goes. */
		struct triple all[M_UUIDS * M_NODES * M_LUIDS];
		int na = collect(&x->m, all, false);
		if (!na)
			break;
		t = all[below((uint64_t)na)];
		int nl = (t.l + 1 + (int)below(M_LUIDS - 1)) % M_LUIDS;
		struct qstep c = qs(ENGINE_CTR, t.u, t.n, nl);
		c.ctr_from = t.l;
		queue_push(x, c);
		queue_push(x, qs(ENGINE_GET_REGION_SIZE, t.u, t.n, nl));
		queue_push(x, qs(ENGINE_PRESUSPEND, t.u, t.n, t.l));
		queue_push(x, qs(ENGINE_POSTSUSPEND, t.u, t.n, t.l));
		queue_push(x, qs(ENGINE_RESUME, t.u, t.n, nl));
		queue_push(x, qs(ENGINE_DTR, t.u, t.n, t.l));
		return;
	}
	case G_TEARDOWN: {
		struct triple all[M_UUIDS * M_NODES * M_LUIDS];
		int na = collect(&x->m, all, false);
		if (!na)
			break;
		int u = all[below((uint64_t)na)].u;
		for (int i = 0; i < na; i++) {
			if (all[i].u != u)
				continue;
			queue_push(x, qs(ENGINE_PRESUSPEND, u, all[i].n, all[i].l));
			queue_push(x, qs(ENGINE_POSTSUSPEND, u, all[i].n, all[i].l));
			queue_push(x, qs(ENGINE_DTR, u, all[i].n, all[i].l));
		}
		return;
	}
	case G_RECOVER: {
		t = pick_target(x, 90);
		int k = 1 + (int)below(6);
		for (int i = 0; i < k; i++) {
			queue_push(x, qs(ENGINE_GET_RESYNC_WORK, t.u, t.n, t.l));
			struct qstep s = qs(ENGINE_SET_REGION_SYNC, t.u, t.n, t.l);
			s.use_assigned = true;
			queue_push(x, s);
		}
		return;
	}
	case G_WRITE: {
		/* A write: IS_REMOTE_RECOVERING, IN_SYNC, MARK or FLUSH, usually CLEAR. */
		t = pick_target(x, 90);
		const struct m_log *lg = t.u >= 0 ? &x->m.log[t.u] : NULL;
		const struct m_inst *in = lg ? &lg->inst[t.n < 0 ? 0 : t.n][t.l < 0 ? 0 : t.l] : NULL;
		uint64_t r = pick_region(in && in->used ? in->rc : 16);
		uint32_t ops[4] = {ENGINE_IS_REMOTE_RECOVERING, ENGINE_IN_SYNC,
				   per_mille(500) ? ENGINE_MARK_REGION : ENGINE_FLUSH,
				   ENGINE_CLEAR_REGION};
		int nops = per_mille(800) ? 4 : 3;
		for (int i = 0; i < nops; i++) {
			struct qstep s = qs(ops[i], t.u, t.n, t.l);
			s.fixed = true;
			s.region = r;
			queue_push(x, s);
		}
		return;
	}
	case G_BURST: {
		/* Writers waiting on many regions fill the priority list up to its limit (and
		 * beyond), then the instance works through it. */
		t = pick_target(x, 100);
		const struct m_inst *in = t.u >= 0 ? m_find(&x->m.log[t.u], t.n, t.l) : NULL;
		uint64_t cand[M_RC];
		int k = 0;
		for (uint64_t r = 0; in && r < in->rc; r++)
			if (!x->m.log[t.u].sync[r])
				cand[k++] = r;
		for (int i = k - 1; i > 0; i--) {
			int j = (int)below((uint64_t)i + 1);
			uint64_t tmp = cand[i];
			cand[i] = cand[j];
			cand[j] = tmp;
		}
		if (k > ENGINE_PRIORITY_MAX + 16)
			k = ENGINE_PRIORITY_MAX + 16;
		for (int i = 0; i < k; i++) {
			struct qstep q = qs(ENGINE_IS_REMOTE_RECOVERING, t.u, t.n, t.l);
			q.fixed = true;
			q.region = cand[i];
			queue_push(x, q);
		}
		for (int i = 0; i < k; i++) {
			queue_push(x, qs(ENGINE_GET_RESYNC_WORK, t.u, t.n, t.l));
			struct qstep q = qs(ENGINE_SET_REGION_SYNC, t.u, t.n, t.l);
			q.use_assigned = true;
			queue_push(x, q);
		}
		if (k)
			return;
		break;
	}
	case G_LOST:
		queue_push(x, qs(Q_LOST, -1, per_mille(900) ? (int)below(M_NODES) : -1, -1));
		return;
	case G_CTR: {
		t = per_mille(500) ? random_triple() : pick_target(x, 0);
		if (t.u < 0 || t.n < 0 || t.l < 0)
			t = random_triple();
		struct qstep c = qs(ENGINE_CTR, t.u, t.n, t.l);
		c.ctr_from = per_mille(800) ? t.l : (int)below(M_LUIDS);
		queue_push(x, c);
		return;
	}
	case G_BADOP: {
		static const uint32_t bad_ops[] = {0, 18, 19, 255, 0x1000 | ENGINE_GET_REGION_SIZE};
		t = pick_target(x, 50);
		queue_push(x, qs(bad_ops[below(5)], t.u, t.n, t.l));
		return;
	}
	case G_BADNAME: {
		t = pick_target(x, 50);
		if (per_mille(500))
			t.n = -2;
		else
			t.u = -2;
		queue_push(x, qs(1 + (uint32_t)below(ENGINE_IS_REMOTE_RECOVERING), t.u, t.n, t.l));
		return;
	}
	default:
		t = pick_target(x, g == G_RESUME ? 0 : 55);
		queue_push(x, qs(single_op[g], t.u, t.n, t.l));
		return;
	}
	/* A script that found nothing to work on: fall back to an activation. */
	t = random_triple();
	struct qstep c = qs(ENGINE_CTR, t.u, t.n, t.l);
	c.ctr_from = t.l;
	queue_push(x, c);
	queue_push(x, qs(ENGINE_RESUME, t.u, t.n, t.l));
}

/* ================================================================ running and checking */

static const char *op_name(uint32_t op)
{
	static const char *const names[] = {
		"OP0", "CTR", "DTR", "PRESUSPEND", "POSTSUSPEND", "RESUME", "GET_REGION_SIZE",
		"IS_CLEAN", "IN_SYNC", "FLUSH", "MARK", "CLEAR", "GET_RESYNC_WORK",
		"SET_REGION_SYNC", "GET_SYNC_COUNT", "STATUS_INFO", "STATUS_TABLE",
		"IS_REMOTE_RECOVERING"};
	return op < sizeof(names) / sizeof(names[0]) ? names[op] : "OP?";
}

static void describe(const struct step *s, char *buf, size_t cap)
{
	const struct engine_req *rq = &s->req;
	const char *node = s->node >= 0 ? node_disp[s->node] : s->node == -1 ? unknown_node
			   : rq->node[0] ? "<node65>" : "<emptynode>";
	int n;
	if (s->lost) {
		snprintf(buf, cap, "engine_node_lost(%s)", node);
		return;
	}
	const char *uuid = s->uuid >= 0 ? uuid_disp[s->uuid] : s->uuid == -1 ? unknown_uuid
			   : rq->uuid[0] ? "<uuid129>" : "<emptyuuid>";
	n = snprintf(buf, cap, "%s(%u) %s %s luid=%#" PRIx64, op_name(rq->op), rq->op, node, uuid,
		     rq->luid);
	if (n < 0 || (size_t)n >= cap)
		return;
	size_t at = (size_t)n;
	if (rq->op == ENGINE_CTR) {
		snprintf(buf + at, cap - at, " v%u%s args='%.*s'", rq->version,
			 rq->reconnect ? " reconnect" : "", (int)rq->args_len, rq->args);
	} else if (rq->op == ENGINE_SET_REGION_SYNC) {
		snprintf(buf + at, cap - at, " r=%" PRIu64 " in_sync=%d", rq->region, rq->in_sync);
	} else if (op_has_region(rq->op)) {
		snprintf(buf + at, cap - at, " r=%" PRIu64, rq->region);
	} else if (op_has_list(rq->op)) {
		n = snprintf(buf + at, cap - at, " n=%u [", rq->nregions);
		for (uint32_t i = 0; i < rq->nregions && i < ENGINE_REGIONS_MAX && n > 0; i++) {
			at += (size_t)n;
			if (at >= cap)
				return;
			n = snprintf(buf + at, cap - at, i ? ",%" PRIu64 : "%" PRIu64, rq->regions[i]);
		}
		if (n > 0 && at + (size_t)n < cap)
			snprintf(buf + at + (size_t)n, cap - at - (size_t)n, "]");
	}
}

static void hist_add(struct ctx *x, int slot)
{
	snprintf(x->hist[slot][x->hist_n[slot] % M_HIST], M_LINE, "#%lu %.330s", x->step, x->desc);
	x->hist_n[slot]++;
}

/* Fails the test with everything needed to reproduce and understand the mismatch. */
__attribute__((format(printf, 3, 4))) static void fail_at(struct ctx *x, int u, const char *fmt,
							   ...)
{
	struct sbuf *sb = &x->msg;
	va_list ap;
	char detail[8192];

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	sb_reset(sb);
	sb_printf(sb,
		  "\nmodel mismatch at step %lu, seed %" PRIu64
		  " (rerun: DMLOG_MODEL_SEED=%" PRIu64 " DMLOG_MODEL_OPS=%lu)\nop: %s\n%s\n",
		  x->step, x->seed, x->seed, x->step, x->desc, detail);
	int slot = u >= 0 ? u : M_UUIDS;
	unsigned long n = x->hist_n[slot];
	sb_printf(sb, "recent steps%s%s (oldest first):\n", u >= 0 ? " on " : "",
		  u >= 0 ? uuid_disp[u] : "");
	unsigned long from = n > M_HIST ? n - M_HIST : 0;
	if (u >= 0 && x->hist_born[u] > from)
		from = x->hist_born[u];
	if (u < 0 && n > 60)
		from = n - 60;
	for (unsigned long i = from; i < n; i++)
		sb_printf(sb, "  %s\n", x->hist[slot][i % M_HIST]);
	fprintf(stderr, "%s", sb->p);
	ck_abort_msg("model mismatch at step %lu (seed %" PRIu64 "): %s", x->step, x->seed,
		     x->desc);
}

static void res_poison(struct engine_res *r)
{
	memset(r, 0x5a, sizeof(*r));
	r->flag = true;
}

static void fmt_res(char *buf, size_t cap, int error, bool flag, uint64_t value, const char *text)
{
	snprintf(buf, cap, "error=%d flag=%d value=%" PRIu64 " text='%s'", error, flag, value, text);
}

static void check_res(struct ctx *x, const char *via, const struct m_res *want,
		      const struct engine_res *got)
{
	char w[ENGINE_TEXT_MAX + 96], g[ENGINE_TEXT_MAX + 96];
	bool text_ok = memchr(got->text, '\0', sizeof(got->text)) != NULL;
	bool ok = got->error == want->error;

	if (ok && got->error) {
		ok = !got->flag && got->value == 0 && text_ok && got->text[0] == '\0' &&
		     memchr(got->errmsg, '\0', sizeof(got->errmsg)) && got->errmsg[0];
	} else if (ok) {
		ok = text_ok && got->flag == want->flag && got->value == want->value &&
		     strcmp(got->text, want->text) == 0;
	}
	if (ok)
		return;
	fmt_res(w, sizeof(w), want->error, want->flag, want->value, want->text);
	if (text_ok)
		fmt_res(g, sizeof(g), got->error, got->flag, got->value, got->text);
	else
		snprintf(g, sizeof(g), "error=%d flag=%d value=%" PRIu64 " text not terminated",
			 got->error, got->flag, got->value);
	bool errmsg_ok = memchr(got->errmsg, '\0', sizeof(got->errmsg)) != NULL;
	fail_at(x, x->st.uuid >= 0 ? x->st.uuid : -1,
		"%s result differs\n  model:  %s\n  engine: %s\n  engine errmsg: %s", via, w, g,
		errmsg_ok ? got->errmsg : "(not terminated)");
}

static void compare_log(struct ctx *x, int u)
{
	sb_reset(&x->want);
	sb_reset(&x->got);
	m_dump(&x->m, u, &x->want);
	eng_dump(x->e, uuid_name[u], &x->got);
	if (strcmp(x->want.p, x->got.p) != 0)
		fail_at(x, u, "state of log %s differs\n--- model:\n%s--- engine:\n%s", uuid_disp[u],
			x->want.p, x->got.p);
}

static size_t m_log_count(const struct model *m)
{
	size_t k = 0;
	for (int u = 0; u < M_UUIDS; u++)
		k += m->log[u].exists;
	return k;
}

static void full_compare(struct ctx *x)
{
	size_t count = m_log_count(&x->m), got = engine_log_count(x->e);
	if (got != count)
		fail_at(x, -1, "engine_log_count %zu, model %zu", got, count);

	int order[M_UUIDS], k = 0;
	for (int u = 0; u < M_UUIDS; u++)
		if (x->m.log[u].exists)
			order[k++] = u;
	for (int i = 0; i < k; i++)
		for (int j = i + 1; j < k; j++)
			if (strcmp(uuid_name[order[j]], uuid_name[order[i]]) < 0) {
				int t = order[i];
				order[i] = order[j];
				order[j] = t;
			}
	for (int i = 0; i < k; i++) {
		struct engine_log_info info;
		int rc = engine_log_info_at(x->e, (size_t)i, &info);
		if (rc != 0 || strcmp(info.uuid, uuid_name[order[i]]) != 0)
			fail_at(x, -1, "engine_log_info_at(%d): %d '%s', model '%s'", i, rc,
				rc ? "" : disp_uuid(info.uuid), uuid_disp[order[i]]);
	}
	struct engine_log_info info;
	int rc = engine_log_info_at(x->e, count, &info);
	if (rc != -ENOENT)
		fail_at(x, -1, "engine_log_info_at(%zu) past the end: %d", count, rc);
	for (int u = 0; u < M_UUIDS; u++)
		compare_log(x, u);
	if (engine_log_info(x->e, unknown_uuid, &info) != -ENOENT)
		fail_at(x, -1, "engine_log_info(unknown uuid) is not -ENOENT");
}

/* snapshot -> restore -> snapshot must be byte-identical, and equal to the snapshot of the twin
 * that saw the same mutations but no restore; damaged copies must be refused. The run goes on
 * with the restored engine. */
static void snapshot_roundtrip(struct ctx *x)
{
	uint8_t *a = NULL, *b = NULL, *t = NULL;
	size_t la = 0, lb = 0, lt = 0;
	char err[256] = "";

	cov.snapshots++;
	if (engine_snapshot(x->e, &a, &la) != 0 || !a)
		fail_at(x, -1, "engine_snapshot failed");
	if (engine_snapshot(x->twin, &t, &lt) != 0 || !t)
		fail_at(x, -1, "engine_snapshot of the twin failed");
	if (la != lt || memcmp(a, t, la) != 0)
		fail_at(x, -1,
			"snapshot differs from the twin's (%zu vs %zu bytes), which applied the same "
			"operations without ever being restored",
			la, lt);
	free(t);
	if (x->inject) {
		/* Failing allocations in restore, snapshot and the mark listing: a clean refusal. */
		for (unsigned long k = 1; k <= 12; k++) {
			err[0] = '\0';
			alloc_arm(k);
			struct engine *r = engine_restore(a, la, err, sizeof(err));
			alloc_countdown = 0;
			if (alloc_failed && (r || !err[0]))
				fail_at(x, -1, "engine_restore survived allocation failure %lu", k);
			engine_free(r);
			alloc_arm(k);
			int rc = engine_snapshot(x->e, &t, &lt);
			alloc_countdown = 0;
			if (alloc_failed && rc != -ENOMEM)
				fail_at(x, -1, "engine_snapshot with allocation failure %lu: %d", k, rc);
			if (!rc)
				free(t);
		}
		for (int u = 0; u < M_UUIDS; u++) {
			size_t nmarks = 0;
			alloc_arm(1);
			int rc = engine_log_marks(x->e, uuid_name[u], count_mark_cb, &nmarks);
			alloc_countdown = 0;
			if (rc != 0 && rc != -ENOENT && !(alloc_failed && rc == -ENOMEM))
				fail_at(x, u, "engine_log_marks with an allocation failure: %d", rc);
		}
	}
	struct engine *r = engine_restore(a, la, err, sizeof(err));
	if (!r)
		fail_at(x, -1, "engine_restore of a fresh snapshot failed: %s", err);
	if (engine_snapshot(r, &b, &lb) != 0 || !b)
		fail_at(x, -1, "engine_snapshot of the restored engine failed");
	if (la != lb || memcmp(a, b, la) != 0)
		fail_at(x, -1, "snapshot after restore differs (%zu vs %zu bytes)", la, lb);
	if (la > 0) {
		err[0] = '\0';
		struct engine *bad = engine_restore(a, la - 1, err, sizeof(err));
		if (bad || !err[0])
			fail_at(x, -1, "engine_restore accepted a truncated snapshot, or gave no reason");
		a[la / 2] ^= 0x40;
		err[0] = '\0';
		bad = engine_restore(a, la, err, sizeof(err));
		if (bad || !err[0])
			fail_at(x, -1, "engine_restore accepted a snapshot with byte %zu flipped (or gave "
				"no reason)", la / 2);
		uint8_t junk[97];
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)rnd();
		err[0] = '\0';
		bad = engine_restore(junk, below(sizeof(junk) + 1), err, sizeof(err));
		if (bad || !err[0])
			fail_at(x, -1, "engine_restore accepted random bytes (or gave no reason)");
	}
	free(a);
	free(b);
	engine_free(x->e);
	x->e = r;
}

static void snapshot_or_fail(struct ctx *x, uint8_t **buf, size_t *len)
{
	if (engine_snapshot(x->e, buf, len) != 0 || !*buf)
		fail_at(x, x->st.uuid >= 0 ? x->st.uuid : -1, "engine_snapshot failed");
}

/* Runs call (an engine_apply or engine_node_lost of the current step) with the k-th allocation
 * failing. The call must then either report -ENOMEM and leave the engine byte for byte as it
 * was, or absorb the failure and go on as if nothing happened (the caller checks its answer).
 * Returns true when the call has to be repeated without the failure. */
static bool injected(struct ctx *x, int err)
{
	uint8_t *after = NULL;
	size_t la = 0;
	bool again = false;

	alloc_countdown = 0;
	if (!alloc_failed)
		return false;
	if (err == -ENOMEM) {
		cov.inject_enomem++;
		snapshot_or_fail(x, &after, &la);
		if (la != x->inject_len || memcmp(after, x->inject_before, la) != 0)
			fail_at(x, x->st.uuid >= 0 ? x->st.uuid : -1,
				"-ENOMEM after an allocation failure, but the state changed (snapshot "
				"%zu -> %zu bytes): not atomic",
				x->inject_len, la);
		free(after);
		again = true;
	} else {
		cov.inject_absorbed++;
	}
	return again;
}

static bool inject_now(struct ctx *x)
{
	uint32_t op = x->st.req.op;
	bool allocates = x->st.lost || op == ENGINE_CTR || op == ENGINE_MARK_REGION ||
			 op == ENGINE_FLUSH;

	if (!x->inject || !per_mille(allocates ? 900 : 200))
		return false;
	free(x->inject_before);
	x->inject_before = NULL;
	snapshot_or_fail(x, &x->inject_before, &x->inject_len);
	cov.inject_armed++;
	alloc_arm(1 + below(8));
	return true;
}

static void apply_step(struct ctx *x, struct engine_res *ap)
{
	const struct engine_req *rq = &x->st.req;

	if (!m_op_is_read(rq->op) && inject_now(x)) {
		engine_apply(x->e, rq, ap);
		if (!injected(x, ap->error))
			return;
		res_poison(ap);
	}
	engine_apply(x->e, rq, ap);
}

static int node_lost_step(struct ctx *x)
{
	if (inject_now(x)) {
		int rc = engine_node_lost(x->e, x->st.req.node);
		if (!injected(x, rc))
			return rc;
	}
	return engine_node_lost(x->e, x->st.req.node);
}

static void run_step(struct ctx *x)
{
	struct qstep q;
	struct step *s = &x->st;

	if (x->qlen == 0)
		gen_random(x);
	q = x->queue[x->qhead];
	x->qhead = (x->qhead + 1) % M_QUEUE;
	x->qlen--;
	build_step(x, &q, s);
	describe(s, x->desc, sizeof(x->desc));
	hist_add(x, M_UUIDS);

	if (s->lost) {
		for (int u = 0; u < M_UUIDS; u++)
			hist_add(x, u);
		m_node_lost(&x->m, s->node);
		int rc = node_lost_step(x);
		engine_node_lost(x->twin, s->req.node);
		if (rc != 0)
			fail_at(x, -1, "engine_node_lost returned %d", rc);
		for (int u = 0; u < M_UUIDS; u++)
			compare_log(x, u);
		return;
	}
	struct triple tmp[M_UUIDS * M_NODES * M_LUIDS];
	x->inst_sum += (unsigned long)collect(&x->m, tmp, false);
	x->resumed_sum += (unsigned long)collect(&x->m, tmp, true);
	if (s->uuid >= 0) {
		if (!x->m.log[s->uuid].exists)
			x->hist_born[s->uuid] = x->hist_n[s->uuid];
		hist_add(x, s->uuid);
	}

	struct m_res want;
	struct engine_res rd, ap;
	uint32_t op = s->req.op;

	m_apply(&x->m, s, &want);
	if (engine_op_is_read(op) != m_op_is_read(op))
		fail_at(x, s->uuid, "engine_op_is_read(%u) is %d", op, engine_op_is_read(op));
	res_poison(&rd);
	engine_read(x->e, &s->req, &rd);
	if (m_op_is_read(op)) {
		check_res(x, "engine_read", &want, &rd);
	} else if (rd.error != -EINVAL) {
		fail_at(x, s->uuid, "engine_read answered a non-read op with error %d", rd.error);
	}
	res_poison(&ap);
	apply_step(x, &ap);
	struct engine_res tw;
	engine_apply(x->twin, &s->req, &tw);
	check_res(x, "engine_apply", &want, &ap);
	check_res(x, "engine_apply on the twin", &want, &tw);
	if (m_op_is_read(op) && (rd.error != ap.error || rd.flag != ap.flag ||
				 rd.value != ap.value || strcmp(rd.text, ap.text) != 0))
		fail_at(x, s->uuid, "engine_read and engine_apply answer differently (%d vs %d)",
			rd.error, ap.error);
	if (op >= ENGINE_CTR && op <= ENGINE_IS_REMOTE_RECOVERING)
		x->done[op][ap.error != 0]++;
	if (x->trace)
		fprintf(stderr, "#%lu %s -> %d %d %" PRIu64 " '%s'\n", x->step, x->desc, ap.error,
			ap.flag, ap.value, ap.text);
	if (op == ENGINE_CTR && ap.error == 0)
		prof_from_log(&x->prof[s->uuid], &x->m.log[s->uuid]);
	if (s->uuid >= 0)
		compare_log(x, s->uuid);
	size_t count = m_log_count(&x->m), got = engine_log_count(x->e);
	if (got != count)
		fail_at(x, s->uuid, "engine_log_count %zu, model %zu", got, count);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return def;
	char *end = NULL;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 0);
	if (errno || !end || *end)
		ck_abort_msg("%s=%s is not a number", name, v);
	return (uint64_t)n;
}

static void print_summary(const struct ctx *x, unsigned long nops)
{
	fprintf(stderr,
		"test_model: seed %" PRIu64 ", %lu steps, %lu snapshots, %.1f instances (%.1f "
		"resumed) on average; ok/error per op:",
		x->seed, nops, cov.snapshots, (double)x->inst_sum / (double)(nops ? nops : 1),
		(double)x->resumed_sum / (double)(nops ? nops : 1));
	for (uint32_t op = ENGINE_CTR; op <= ENGINE_IS_REMOTE_RECOVERING; op++)
		fprintf(stderr, " %s %lu/%lu", op_name(op), x->done[op][0], x->done[op][1]);
	fprintf(stderr,
		"\ntest_model: paths: created %lu, pending replaced %lu, repeat ctr %lu, eexist %lu, "
		"geometry refused %lu, bad args %lu, replacement shrank %lu, reopened kept %lu, reopened new %lu, grown %lu, "
		"shrunk %lu, deleted %lu, closed %lu, master resume %lu, other resume %lu, prio "
		"added %lu (full %lu), prio assigned %lu, prio dropped %lu, scan assigned %lu, "
		"reassigned %lu, no work %lu, sticky set %lu, sticky answers %lu, lost instances "
		"%lu, lost marks %lu, stale %lu (%lu with a bad region too), region errors %lu, no "
		"instance %lu, allocation failures armed %lu (-ENOMEM %lu, absorbed %lu), nodes "
		"lost %lu, accepted while pending %lu, presuspended %lu, suspended %lu\n",
		cov.created, cov.pending_replaced, cov.repeat_ctr_ok, cov.eexist, cov.ctr_geometry,
		cov.ctr_bad_args, cov.replace_shrunk, cov.reopened_kept, cov.reopened_new, cov.grown, cov.shrunk,
		cov.deleted, cov.closed, cov.master_resume, cov.plain_resume, cov.prio_added,
		cov.prio_full, cov.prio_assigned, cov.prio_dropped, cov.scan_assigned, cov.reassigned,
		cov.no_work, cov.sticky_set, cov.sticky_answer, cov.lost_instances, cov.lost_marks,
		cov.stale_errors, cov.stale_first, cov.region_errors, cov.no_instance,
		cov.inject_armed, cov.inject_enomem, cov.inject_absorbed, cov.nodes_lost,
		cov.idle_ok[S_PENDING], cov.idle_ok[S_PRESUSPENDED], cov.idle_ok[S_SUSPENDED]);
}

/* A run of MODEL_COVERAGE_OPS steps or more must have reached what it is there to check: a
 * generator that regressed (every op refused, no node ever lost, no priority entry ever handed
 * out) would otherwise compare two engines doing nothing and pass. Only paths that every seed
 * reaches many times in such a run are required; the rarer ones are just printed above. */
static void check_coverage(const struct ctx *x, unsigned long nops)
{
	if (nops < MODEL_COVERAGE_OPS)
		return;
	/* Every op has an error path: at least the unknown instance (CTR: bad arguments). */
	for (uint32_t op = ENGINE_CTR; op <= ENGINE_IS_REMOTE_RECOVERING; op++) {
		ck_assert_msg(x->done[op][0] > 0, "seed %" PRIu64 ": no %s ever succeeded", x->seed,
			      op_name(op));
		ck_assert_msg(x->done[op][1] > 0, "seed %" PRIu64 ": no %s ever failed", x->seed,
			      op_name(op));
	}
	const struct {
		const char *what;
		unsigned long n;
	} need[] = {
		{"log created", cov.created},
		{"pending instance replaced", cov.pending_replaced},
		{"repeated CTR", cov.repeat_ctr_ok},
		{"CTR with other args (-EEXIST)", cov.eexist},
		{"CTR with other geometry refused", cov.ctr_geometry},
		{"CTR with bad args", cov.ctr_bad_args},
		{"closed disk log reopened with its bits", cov.reopened_kept},
		{"closed disk log re-created", cov.reopened_new},
		{"log grown", cov.grown},
		{"log shrunk", cov.shrunk},
		{"core log deleted", cov.deleted},
		{"disk log closed", cov.closed},
		{"master resume", cov.master_resume},
		{"resume beside another", cov.plain_resume},
		{"priority entry added", cov.prio_added},
		{"priority entry assigned", cov.prio_assigned},
		{"priority entry dropped", cov.prio_dropped},
		{"scan assignment", cov.scan_assigned},
		{"same region handed out again", cov.reassigned},
		{"no resync work", cov.no_work},
		{"sticky flag set", cov.sticky_set},
		{"sticky IN_SYNC answer", cov.sticky_answer},
		{"node lost", cov.nodes_lost},
		{"instance lost", cov.lost_instances},
		{"mark dropped by node loss", cov.lost_marks},
		{"-ESTALE", cov.stale_errors},
		{"-ESTALE before a bad region", cov.stale_first},
		{"region out of range", cov.region_errors},
		{"no such instance", cov.no_instance},
		{"mutation accepted while pending", cov.idle_ok[S_PENDING]},
		{"mutation accepted while presuspended", cov.idle_ok[S_PRESUSPENDED]},
		{"mutation accepted while suspended", cov.idle_ok[S_SUSPENDED]},
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		ck_assert_msg(need[i].n > 0, "seed %" PRIu64 ", %lu steps: never reached: %s",
			      x->seed, nops, need[i].what);
	if (x->inject)
		ck_assert_msg(cov.inject_enomem > 0, "no injected allocation failure reached the engine");
}

static void run_model(unsigned long nops, uint64_t seed, bool inject)
{
	struct ctx *x = calloc(1, sizeof(*x));
	ck_assert_ptr_nonnull(x);

	pools_init();
	orders_init();
	memset(&cov, 0, sizeof(cov));
	x->trace = getenv("DMLOG_MODEL_TRACE") != NULL;
	x->inject = inject;
	x->seed = seed;
	prng_state = x->seed;
	x->e = engine_new();
	x->twin = engine_new();
	ck_assert_ptr_nonnull(x->e);
	ck_assert_ptr_nonnull(x->twin);
	for (int u = 0; u < M_UUIDS; u++)
		prof_roll(&x->prof[u], u);

	for (x->step = 1; x->step <= nops; x->step++) {
		run_step(x);
		if (x->step % MODEL_FULL_EVERY == 0) {
			full_compare(x);
			snapshot_roundtrip(x);
			full_compare(x);
		}
	}
	x->step = nops;
	snprintf(x->desc, sizeof(x->desc), "(final check)");
	full_compare(x);
	snapshot_roundtrip(x);
	full_compare(x);
	print_summary(x, nops);
	/* Guards against a vacuous run, e.g. a generator that only makes errors, or an engine no
	 * longer linked statically whose allocations miss the wrappers. */
	check_coverage(x, nops);

	engine_free(x->e);
	engine_free(x->twin);
	free(x->inject_before);
	free(x->want.p);
	free(x->got.p);
	free(x->msg.p);
	free(x);
}

START_TEST(test_model_random_ops_agree_with_engine)
{
	run_model((unsigned long)env_u64("DMLOG_MODEL_OPS", MODEL_DEFAULT_OPS),
		  env_u64("DMLOG_MODEL_SEED", MODEL_DEFAULT_SEED), false);
}
END_TEST

/* The same (a quarter of the steps, another seed) with an allocation failing inside most CTR,
 * MARK, FLUSH and engine_node_lost calls and some others: -ENOMEM must leave the engine exactly
 * as it was, and a failure the engine absorbs must not change its answer. */
START_TEST(test_model_allocation_failures_are_atomic)
{
	run_model((unsigned long)env_u64("DMLOG_MODEL_OPS", MODEL_DEFAULT_OPS) / 4,
		  env_u64("DMLOG_MODEL_SEED", MODEL_DEFAULT_SEED) ^ UINT64_C(0xa110c), true);
}
END_TEST

START_TEST(test_model_read_ops_are_the_six_queries)
{
	for (uint32_t op = 0; op <= 20; op++)
		ck_assert_msg(engine_op_is_read(op) == m_op_is_read(op), "engine_op_is_read(%u)", op);
	ck_assert(!engine_op_is_read(0x1000 | ENGINE_GET_REGION_SIZE));
}
END_TEST

static int ctr_once(struct engine *e, const char *node, const char *uuid, uint64_t luid,
		    const char *args)
{
	struct engine_req rq;
	struct engine_res res;

	memset(&rq, 0, sizeof(rq));
	rq.op = ENGINE_CTR;
	rq.node = node;
	rq.uuid = uuid;
	rq.luid = luid;
	rq.version = 3;
	rq.args = args;
	rq.args_len = strlen(args);
	engine_apply(e, &rq, &res);
	return res.error;
}

/* The table limits of engine.h, checked in the order it lists them: names are interned on
 * first successful use only and the 65th is refused; the 4097th log and the 1025th instance of
 * a log are refused; a new log is refused before a new name is. */
START_TEST(test_model_table_limits_give_eusers_and_enospc)
{
	struct engine *e = engine_new();
	char name[32], uuid[32];
	static const char good[] = "1024 clustered-core 512", bad[] = "1024 clustered-core 3";
	struct engine_log_info info;

	ck_assert_ptr_nonnull(e);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "refused%d", i);
		ck_assert_int_eq(ctr_once(e, name, "LVM-nodes", 1, bad), -EINVAL);
	}
	for (int i = 0; i < ENGINE_NODE_MAX; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		ck_assert_int_eq(ctr_once(e, name, "LVM-nodes", 1, good), 0);
	}
	ck_assert_int_eq(ctr_once(e, "m64", "LVM-nodes", 1, good), -EUSERS);
	ck_assert_int_eq(ctr_once(e, "refused0", "LVM-nodes", 1, good), -EUSERS);
	ck_assert_int_eq(engine_node_lost(e, "never-seen"), 0);
	ck_assert_int_eq(engine_log_info(e, "LVM-nodes", &info), 0);
	ck_assert_uint_eq(info.instances, ENGINE_NODE_MAX);

	for (uint64_t luid = 2; luid < 2 + ENGINE_LOG_INSTANCE_MAX - ENGINE_NODE_MAX; luid++)
		ck_assert_int_eq(ctr_once(e, "m1", "LVM-nodes", luid, good), 0);
	ck_assert_int_eq(ctr_once(e, "m1", "LVM-nodes", 99999, good), -ENOSPC);
	ck_assert_int_eq(ctr_once(e, "m1", "LVM-nodes", 2, good), 0); /* existing: still fine */
	ck_assert_int_eq(engine_log_info(e, "LVM-nodes", &info), 0);
	ck_assert_uint_eq(info.instances, ENGINE_LOG_INSTANCE_MAX);

	for (int i = 1; i < ENGINE_LOG_MAX; i++) {
		snprintf(uuid, sizeof(uuid), "LVM-%05d", i);
		ck_assert_int_eq(ctr_once(e, "m0", uuid, 7, good), 0);
	}
	ck_assert_uint_eq(engine_log_count(e), ENGINE_LOG_MAX);
	ck_assert_int_eq(ctr_once(e, "m0", "LVM-one-too-many", 7, good), -ENOSPC);
	ck_assert_int_eq(ctr_once(e, "m64", "LVM-one-too-many", 7, good), -ENOSPC);
	ck_assert_int_eq(ctr_once(e, "m2", "LVM-00001", 7, good), 0); /* joining is fine */
	ck_assert_uint_eq(engine_log_count(e), ENGINE_LOG_MAX);
	ck_assert_int_eq(engine_log_info(e, "LVM-one-too-many", &info), -ENOENT);
	engine_free(e);
}
END_TEST

static struct engine_res op_once(struct engine *e, uint32_t op, const char *node, uint64_t luid,
				 uint64_t region, bool in_sync)
{
	struct engine_req rq;
	struct engine_res res;

	memset(&rq, 0, sizeof(rq));
	rq.op = op;
	rq.node = node;
	rq.uuid = "LVM-r";
	rq.luid = luid;
	rq.region = region;
	rq.in_sync = in_sync;
	engine_apply(e, &rq, &res);
	return res;
}

/* The reading of a replaced pending instance that the random test relies on, pinned where it
 * shows: the log goes straight from the old largest region_count to the new one, so regions
 * below both keep their bits (no shrink to the other instances' size first). */
START_TEST(test_model_replaced_pending_resizes_directly)
{
	struct engine *e = engine_new();

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(ctr_once(e, "n1", "LVM-r", 1, "16 clustered-core 2"), 0); /* 8 regions */
	ck_assert_int_eq(ctr_once(e, "n2", "LVM-r", 1, "4 clustered-core 2"), 0);  /* 2 regions */
	ck_assert_int_eq(op_once(e, ENGINE_SET_REGION_SYNC, "n1", 1, 4, true).error, 0);
	ck_assert_int_eq(op_once(e, ENGINE_SET_REGION_SYNC, "n1", 1, 7, true).error, 0);
	ck_assert_int_eq(ctr_once(e, "n1", "LVM-r", 1, "12 clustered-core 2"), 0); /* 6 regions */
	struct engine_res res = op_once(e, ENGINE_GET_SYNC_COUNT, "n1", 1, 0, false);
	ck_assert_int_eq(res.error, 0);
	ck_assert_uint_eq(res.value, 1); /* region 4 kept, region 7 gone */
	res = op_once(e, ENGINE_IN_SYNC, "n1", 1, 4, false);
	ck_assert(res.flag);
	struct engine_log_info info;
	ck_assert_int_eq(engine_log_info(e, "LVM-r", &info), 0);
	ck_assert_uint_eq(info.region_count, 6);
	ck_assert_uint_eq(info.sync_count, 1);
	engine_free(e);
}
END_TEST

/* CTR arguments of ENGINE_ARGS_MAX bytes are taken, one byte more is refused; so is a NUL. */
START_TEST(test_model_ctr_args_length_limit)
{
	struct engine *e = engine_new();
	static const char with_nul[] = "1024 clustered-core 2\0";

	pools_init();
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(strlen(max_args), ENGINE_ARGS_MAX);
	ck_assert_int_eq(ctr_once(e, "n1", "LVM-long", 1, long_args), -EINVAL);
	ck_assert_int_eq(ctr_once(e, "n1", "LVM-long", 1, max_args), 0);

	struct engine_req rq;
	struct engine_res res;
	memset(&rq, 0, sizeof(rq));
	rq.op = ENGINE_CTR;
	rq.node = "n1";
	rq.uuid = "LVM-nul";
	rq.luid = 1;
	rq.args = with_nul;
	rq.args_len = sizeof(with_nul) - 1; /* the words and the NUL */
	engine_apply(e, &rq, &res);
	ck_assert_int_eq(res.error, -EINVAL);
	rq.args_len--;
	engine_apply(e, &rq, &res);
	ck_assert_int_eq(res.error, 0);
	engine_free(e);
}
END_TEST

static Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("random");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_model_random_ops_agree_with_engine);
	tcase_add_test(tc, test_model_allocation_failures_are_atomic);
	tcase_add_test(tc, test_model_read_ops_are_the_six_queries);
	tcase_add_test(tc, test_model_table_limits_give_eusers_and_enospc);
	tcase_add_test(tc, test_model_ctr_args_length_limit);
	tcase_add_test(tc, test_model_replaced_pending_resizes_directly);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(model_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
