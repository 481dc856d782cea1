/* test_raftsvc.c: unit tests of the Raft service (server/raftsvc.h) on a real one-voter group.
 *
 * Each test runs libraft with its libuv backend in a fresh temporary directory, on 127.0.0.1 and a
 * free port, with a small append-only state machine defined here (every applied entry is kept
 * with its index, so order, exactly-once and replay can be compared entry by entry). The libevent
 * base is thread-enabled (evthread_use_pthreads) as raftsvc.h requires.
 */
#include "raftsvc.h"
#include "testdir.h"
#include "testport.h"
#include "testmain.h"

#include <check.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

/* ------------------------------------------------------------------ the test state machine */

struct tentry {
	uint64_t index;
	size_t len;
	uint8_t *data;
};

struct tfsm {
	pthread_mutex_t lock;
	struct tentry *e;
	size_t n, cap;
	uint64_t last_index;
	bool order_ok;          /* every apply had a larger index than the one before */
	int restores;
	int snapshots;
	const char *poison;     /* applying exactly these bytes fails with -EIO */
	uint64_t fail_index;    /* applying this index fails with -EIO (0: never) */
	int restore_err;        /* restore returns this (0: works) */
};

static void tfsm_init(struct tfsm *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->order_ok = true;
}

static void tfsm_clear(struct tfsm *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->e[i].data);
	f->n = 0;
}

static void tfsm_destroy(struct tfsm *f)
{
	tfsm_clear(f);
	free(f->e);
	pthread_mutex_destroy(&f->lock);
}

static int tfsm_push(struct tfsm *f, uint64_t index, const uint8_t *buf, size_t len)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct tentry *e = realloc(f->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		f->e = e;
		f->cap = cap;
	}
	f->e[f->n].data = malloc(len ? len : 1);
	if (!f->e[f->n].data)
		return -ENOMEM;
	memcpy(f->e[f->n].data, buf, len);
	f->e[f->n].len = len;
	f->e[f->n].index = index;
	f->n++;
	return 0;
}

static int tfsm_apply(void *arg, uint64_t index, const uint8_t *buf, size_t len)
{
	struct tfsm *f = arg;
	int rv;

	pthread_mutex_lock(&f->lock);
	if ((f->poison && len == strlen(f->poison) && memcmp(buf, f->poison, len) == 0) ||
	    index == f->fail_index) {
		pthread_mutex_unlock(&f->lock);
		return -EIO;
	}
	if (index <= f->last_index)
		f->order_ok = false;
	f->last_index = index;
	rv = tfsm_push(f, index, buf, len);
	pthread_mutex_unlock(&f->lock);
	return rv;
}

/* Layout: u64 count, then per entry u64 index, u64 len, bytes (host order: same process). */
static int tfsm_snapshot(void *arg, uint8_t **out, size_t *outlen)
{
	struct tfsm *f = arg;
	size_t i, len = 8, off;
	uint8_t *p;
	uint64_t v;

	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->n; i++)
		len += 16 + f->e[i].len;
	p = malloc(len);
	if (!p) {
		pthread_mutex_unlock(&f->lock);
		return -ENOMEM;
	}
	v = f->n;
	memcpy(p, &v, 8);
	off = 8;
	for (i = 0; i < f->n; i++) {
		memcpy(p + off, &f->e[i].index, 8);
		v = f->e[i].len;
		memcpy(p + off + 8, &v, 8);
		memcpy(p + off + 16, f->e[i].data, f->e[i].len);
		off += 16 + f->e[i].len;
	}
	f->snapshots++;
	pthread_mutex_unlock(&f->lock);
	*out = p;
	*outlen = len;
	return 0;
}

static int tfsm_restore(void *arg, const uint8_t *buf, size_t len)
{
	struct tfsm *f = arg;
	uint64_t n, i, index, elen;
	size_t off = 8;
	int rv = 0;

	pthread_mutex_lock(&f->lock);
	f->restores++;
	if (f->restore_err) {
		rv = f->restore_err;
		goto out;
	}
	if (len < 8) {
		rv = -EINVAL;
		goto out;
	}
	tfsm_clear(f);
	memcpy(&n, buf, 8);
	f->last_index = 0;
	for (i = 0; i < n; i++) {
		if (len - off < 16) {
			rv = -EINVAL;
			goto out;
		}
		memcpy(&index, buf + off, 8);
		memcpy(&elen, buf + off + 8, 8);
		off += 16;
		if (len - off < elen) {
			rv = -EINVAL;
			goto out;
		}
		rv = tfsm_push(f, index, buf + off, elen);
		if (rv != 0)
			goto out;
		off += elen;
		f->last_index = index;
	}
out:
	pthread_mutex_unlock(&f->lock);
	return rv;
}

/* Same entries, same indexes, same bytes. */
static bool tfsm_equal(struct tfsm *a, struct tfsm *b)
{
	size_t i;
	bool eq;

	pthread_mutex_lock(&a->lock);
	pthread_mutex_lock(&b->lock);
	eq = a->n == b->n;
	for (i = 0; eq && i < a->n; i++)
		eq = a->e[i].index == b->e[i].index && a->e[i].len == b->e[i].len &&
		     memcmp(a->e[i].data, b->e[i].data, a->e[i].len) == 0;
	pthread_mutex_unlock(&b->lock);
	pthread_mutex_unlock(&a->lock);
	return eq;
}

static size_t tfsm_count(struct tfsm *f)
{
	size_t n;

	pthread_mutex_lock(&f->lock);
	n = f->n;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* ------------------------------------------------------------------ harness */

struct harness {
	char dir[64];           /* mkdtemp */
	char data_dir[96];
	char address[32];
	struct event_base *base;
	struct event *tick;     /* keeps EVLOOP_ONCE returning */
	struct raftsvc_config cfg;
	int leader_changes;
	bool last_leader;
	int fatal_calls;
	int fatal_err;
	char fatal_msg[256];
};

struct track {
	int calls;
	int status;
	uint64_t index;
	int order;              /* position among all done calls */
};

struct batch {
	struct track *t;
	int n;
	int done;
	int next_order;
	struct raftsvc **stop_at_svc; /* raftsvc_stop() from the done of entry stop_at */
	int stop_at;
	struct event_base *break_base; /* event_base_loopbreak() once all are done */
};

static void h_leader(void *arg, bool leader)
{
	struct harness *h = arg;

	h->leader_changes++;
	h->last_leader = leader;
}

static void h_fatal(void *arg, int err, const char *msg)
{
	struct harness *h = arg;

	h->fatal_calls++;
	h->fatal_err = err;
	snprintf(h->fatal_msg, sizeof(h->fatal_msg), "%s", msg);
}

static void h_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static int free_port(void)
{
	int port = testport_free();

	ck_assert_int_gt(port, 0);
	return port;
}

static void h_init(struct harness *h, struct tfsm *f)
{
	struct timeval tv = { 0, 5000 };

	memset(h, 0, sizeof(*h));
	ck_assert_int_eq(testdir_make(h->dir, sizeof(h->dir), "raftsvc"), 0);
	snprintf(h->data_dir, sizeof(h->data_dir), "%s/raft", h->dir);
	snprintf(h->address, sizeof(h->address), "127.0.0.1:%d", free_port());
	ck_assert_int_eq(evthread_use_pthreads(), 0);
	h->base = event_base_new();
	ck_assert_ptr_nonnull(h->base);
	h->tick = event_new(h->base, -1, EV_PERSIST, h_tick, NULL);
	ck_assert_ptr_nonnull(h->tick);
	event_add(h->tick, &tv);

	h->cfg.data_dir = h->data_dir;
	h->cfg.id = 1;
	h->cfg.address = h->address;
	h->cfg.base = h->base;
	h->cfg.on_leader_change = h_leader;
	h->cfg.on_leader_change_arg = h;
	h->cfg.on_fatal = h_fatal;
	h->cfg.on_fatal_arg = h;
	h->cfg.fsm.arg = f;
	h->cfg.fsm.apply = tfsm_apply;
	h->cfg.fsm.snapshot = tfsm_snapshot;
	h->cfg.fsm.restore = tfsm_restore;
}

static void h_set_fsm(struct harness *h, struct tfsm *f)
{
	h->cfg.fsm.arg = f;
}

static void h_destroy(struct harness *h)
{
	event_free(h->tick);
	event_base_free(h->base);
	testdir_remove(h->dir);
}

static struct raftsvc *h_start(struct harness *h)
{
	char err[256] = "";
	struct raftsvc *s = raftsvc_start(&h->cfg, err, sizeof(err));

	ck_assert_msg(s != NULL, "raftsvc_start: %s", err);
	return s;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the base until pred(arg) holds; false on timeout. */
static bool h_run_until(struct harness *h, bool (*pred)(void *), void *arg, unsigned timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;

	while (!pred(arg)) {
		if (now_ms() > deadline)
			return false;
		event_base_loop(h->base, EVLOOP_ONCE);
	}
	return true;
}

static void on_done(void *arg, int status, uint64_t index);

static void batch_init(struct batch *b, int n)
{
	memset(b, 0, sizeof(*b));
	b->t = calloc((size_t)n, sizeof(*b->t));
	ck_assert_ptr_nonnull(b->t);
	b->n = n;
	b->stop_at = -1;
}

struct cookie {
	struct batch *b;
	int i;
};

static struct cookie *cookies_for(struct batch *b)
{
	struct cookie *c = calloc((size_t)b->n, sizeof(*c));
	int i;

	ck_assert_ptr_nonnull(c);
	for (i = 0; i < b->n; i++) {
		c[i].b = b;
		c[i].i = i;
	}
	return c;
}

static void on_done(void *arg, int status, uint64_t index)
{
	struct cookie *c = arg;
	struct batch *b = c->b;
	struct track *t = &b->t[c->i];

	t->calls++;
	t->status = status;
	t->index = index;
	t->order = b->next_order++;
	b->done++;
	if (b->break_base && b->done == b->n)
		event_base_loopbreak(b->break_base);
	if (c->i == b->stop_at && b->stop_at_svc && *b->stop_at_svc) {
		struct raftsvc *s = *b->stop_at_svc;

		*b->stop_at_svc = NULL;
		raftsvc_stop(s);
	}
}

static bool batch_all_done(void *arg)
{
	struct batch *b = arg;

	return b->done >= b->n;
}

static void payload(char *buf, size_t len, int i)
{
	snprintf(buf, len, "entry-%06d", i);
}

/* Submits entries [from, to) of b. */
static void submit_range(struct raftsvc *s, struct batch *b, struct cookie *c, int from, int to)
{
	char p[32];
	int i;

	for (i = from; i < to; i++) {
		payload(p, sizeof(p), i);
		ck_assert_int_eq(raftsvc_submit(s, (const uint8_t *)p, strlen(p), on_done, &c[i]),
				 0);
	}
}

/* Submits n entries, waits for all of them, checks status 0 and order. */
static void submit_and_wait(struct harness *h, struct raftsvc *s, int n, uint64_t *indexes)
{
	struct batch b;
	struct cookie *c;
	int i;

	batch_init(&b, n);
	c = cookies_for(&b);
	submit_range(s, &b, c, 0, n);
	ck_assert(h_run_until(h, batch_all_done, &b, 20000));
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(b.t[i].calls, 1);
		ck_assert_int_eq(b.t[i].status, 0);
		ck_assert_int_eq(b.t[i].order, i);
		if (i > 0)
			ck_assert_uint_gt(b.t[i].index, b.t[i - 1].index);
		if (indexes)
			indexes[i] = b.t[i].index;
	}
	free(c);
	free(b.t);
}

struct status_wait {
	struct raftsvc *s;
	uint64_t snapshots;
};

static bool snapshots_reached(void *arg)
{
	struct status_wait *w = arg;
	struct raftsvc_status st;

	raftsvc_status(w->s, &st);
	return st.snapshots_taken >= w->snapshots;
}

static bool fatal_seen(void *arg)
{
	struct harness *h = arg;

	return h->fatal_calls > 0;
}

/* ------------------------------------------------------------------ tests */

START_TEST(test_submitted_entries_are_applied_in_order)
{
	struct harness h;
	struct tfsm f;
	struct raftsvc *s;
	uint64_t idx[200];
	char p[32];
	size_t i;

	tfsm_init(&f);
	h_init(&h, &f);
	s = h_start(&h);
	ck_assert(raftsvc_is_leader(s));
	submit_and_wait(&h, s, 200, idx);

	ck_assert(f.order_ok);
	ck_assert_uint_eq(tfsm_count(&f), 200);
	for (i = 0; i < 200; i++) {
		payload(p, sizeof(p), (int)i);
		ck_assert_uint_eq(f.e[i].index, idx[i]);
		ck_assert_uint_eq(f.e[i].len, strlen(p));
		ck_assert(memcmp(f.e[i].data, p, strlen(p)) == 0);
	}
	ck_assert_int_eq(h.leader_changes, 0);
	ck_assert_int_eq(h.fatal_calls, 0);
	raftsvc_stop(s);
	h_destroy(&h);
	tfsm_destroy(&f);
}
END_TEST

START_TEST(test_restart_replays_the_log)
{
	struct harness h;
	struct tfsm f1, f2;
	struct raftsvc *s;

	tfsm_init(&f1);
	tfsm_init(&f2);
	h_init(&h, &f1);
	s = h_start(&h);
	submit_and_wait(&h, s, 50, NULL);
	raftsvc_stop(s);
	ck_assert_uint_eq(tfsm_count(&f1), 50);

	h_set_fsm(&h, &f2);
	s = h_start(&h);
	/* raftsvc_start() returns once the replay is complete. */
	ck_assert(tfsm_equal(&f1, &f2));
	ck_assert_int_eq(f2.restores, 0);
	ck_assert(f2.order_ok);
	/* And it keeps going where it stopped. */
	submit_and_wait(&h, s, 5, NULL);
	ck_assert_uint_eq(tfsm_count(&f2), 55);
	ck_assert_uint_gt(f2.e[50].index, f2.e[49].index);
	raftsvc_stop(s);
	h_destroy(&h);
	tfsm_destroy(&f1);
	tfsm_destroy(&f2);
}
END_TEST

START_TEST(test_restart_from_snapshot_and_trailing_log)
{
	struct harness h;
	struct tfsm f1, f2;
	struct raftsvc *s;
	struct raftsvc_status st;
	struct status_wait w;
	int i;

	tfsm_init(&f1);
	tfsm_init(&f2);
	h_init(&h, &f1);
	h.cfg.snapshot_threshold = 16;
	h.cfg.snapshot_trailing = 8;
	s = h_start(&h);
	/* Rounds of 10: libraft takes a snapshot between events once 16 entries are past the
	 * last one (entries persisted together count as one event). */
	for (i = 0; i < 10; i++)
		submit_and_wait(&h, s, 10, NULL);
	w.s = s;
	w.snapshots = 2;
	ck_assert(h_run_until(&h, snapshots_reached, &w, 10000));
	ck_assert_int_ge(f1.snapshots, 2);
	/* Fewer entries than the threshold after the last snapshot: the restart needs the
	 * snapshot and the trailing log. */
	submit_and_wait(&h, s, 5, NULL);
	raftsvc_stop(s);
	ck_assert_uint_eq(tfsm_count(&f1), 105);

	h_set_fsm(&h, &f2);
	s = h_start(&h);
	ck_assert_int_eq(f2.restores, 1);
	ck_assert(tfsm_equal(&f1, &f2));
	raftsvc_status(s, &st);
	ck_assert_uint_eq(st.restores, 1);
	raftsvc_stop(s);
	h_destroy(&h);
	tfsm_destroy(&f1);
	tfsm_destroy(&f2);
}
END_TEST

START_TEST(test_thousand_back_to_back_entries_complete)
{
	struct harness h;
	struct tfsm f;
	struct raftsvc *s;

	tfsm_init(&f);
	h_init(&h, &f);
	s = h_start(&h);
	submit_and_wait(&h, s, 1000, NULL);
	ck_assert_uint_eq(tfsm_count(&f), 1000);
	ck_assert(f.order_ok);
	raftsvc_stop(s);
	h_destroy(&h);
	tfsm_destroy(&f);
}
END_TEST

/* More results than one delivery round takes (1024): the rest come in later rounds, in order. */
START_TEST(test_results_beyond_one_delivery_round_keep_order)
{
	struct harness h;
	struct tfsm f;
	struct raftsvc *s;

	tfsm_init(&f);
	h_init(&h, &f);
	h.cfg.max_pending = 5000;
	s = h_start(&h);
	submit_and_wait(&h, s, 5000, NULL);
	ck_assert_uint_eq(tfsm_count(&f), 5000);
	raftsvc_stop(s);
	h_destroy(&h);
	tfsm_destroy(&f);
}
END_TEST

static bool ten_done(void *arg)
{
	struct batch *b = arg;

	return b->done >= 10;
}

/* Every entry with status 0 in b is in f, at the index it was reported with. */
static void assert_acknowledged_present(struct batch *b, struct tfsm *f)
{
	size_t j;
	int i;

	for (i = 0; i < b->n; i++) {
		bool found = b->t[i].status != 0;

		for (j = 0; !found && j < f->n; j++)
			found = f->e[j].index == b->t[i].index;
		ck_assert_msg(found, "acknowledged entry %d (index %llu) lost", i,
			      (unsigned long long)b->t[i].index);
	}
}

START_TEST(test_stop_with_entries_in_flight_calls_each_done_once)
{
	static const unsigned delays_us[] = { 0, 100, 300, 1000, 3000 };
	struct harness h;
	struct tfsm f[6];
	struct raftsvc *s;
	struct batch b[5];
	struct cookie *c[5];
	size_t k;
	int i, ok, shut;

	for (k = 0; k < 6; k++)
		tfsm_init(&f[k]);
	h_init(&h, &f[0]);
	for (k = 0; k < 5; k++) {
		h_set_fsm(&h, &f[k]);
		s = h_start(&h);
		/* Nothing acknowledged before is lost: the restart replayed it. */
		if (k > 0)
			assert_acknowledged_present(&b[k - 1], &f[k]);
		batch_init(&b[k], 400);
		c[k] = cookies_for(&b[k]);
		submit_range(s, &b[k], c[k], 0, 200);
		ck_assert(h_run_until(&h, ten_done, &b[k], 20000));
		submit_range(s, &b[k], c[k], 200, 400);
		/* Let the raft thread hand some of them to libraft before stopping. */
		if (delays_us[k])
			usleep(delays_us[k]);
		raftsvc_stop(s);

		ck_assert_int_eq(b[k].done, 400);
		ok = shut = 0;
		for (i = 0; i < 400; i++) {
			ck_assert_int_eq(b[k].t[i].calls, 1);
			ck_assert_msg(b[k].t[i].status == 0 || b[k].t[i].status == -ESHUTDOWN,
				      "entry %d status %d", i, b[k].t[i].status);
			if (b[k].t[i].status == 0)
				ok++;
			else
				shut++;
		}
		ck_assert_int_ge(ok, 10);
		/* Nothing more is delivered later. */
		event_base_loop(h.base, EVLOOP_NONBLOCK);
		ck_assert_int_eq(b[k].done, 400);
		fprintf(stderr, "stop after %u us: %d done ok, %d shut down\n", delays_us[k], ok,
			shut);
	}
	h_set_fsm(&h, &f[5]);
	s = h_start(&h);
	for (k = 0; k < 5; k++)
		assert_acknowledged_present(&b[k], &f[5]);
	raftsvc_stop(s);
	for (k = 0; k < 5; k++) {
		free(c[k]);
		free(b[k].t);
	}
	h_destroy(&h);
	for (k = 0; k < 6; k++)
		tfsm_destroy(&f[k]);
}
END_TEST

/* Stops while libraft holds appended entries that are not durable yet (status shows the log
 * ahead of the commit index): raft_close() fails them, each done still fires exactly once. */
START_TEST(test_stop_while_libraft_holds_entries)
{
	struct harness h;
	struct tfsm f;
	struct raftsvc *s;
	struct raftsvc_status st;
	struct batch b;
	struct cookie *c;
	int attempt, caught = 0, i, shut;
	uint64_t deadline, first;

	tfsm_init(&f);
	h_init(&h, &f);
	for (attempt = 0; attempt < 50 && caught < 3; attempt++) {
		tfsm_clear(&f);
		f.last_index = 0;
		s = h_start(&h);
		batch_init(&b, 200);
		c = cookies_for(&b);
		raftsvc_status(s, &st);
		first = st.commit_index;
		submit_range(s, &b, c, 0, 200);
		deadline = now_ms() + 5000;
		do {
			raftsvc_status(s, &st);
		} while (st.last_index <= st.commit_index && st.commit_index < first + 200 &&
			 now_ms() < deadline);
		raftsvc_stop(s);
		shut = 0;
		for (i = 0; i < 200; i++) {
			ck_assert_int_eq(b.t[i].calls, 1);
			ck_assert(b.t[i].status == 0 || b.t[i].status == -ESHUTDOWN);
			shut += b.t[i].status != 0;
		}
		ck_assert_int_eq(b.done, 200);
		if (st.last_index > st.commit_index && shut > 0)
			caught++;
		free(c);
		free(b.t);
	}
	fprintf(stderr, "stopped with entries inside libraft %d times in %d attempts\n", caught,
		attempt);
	ck_assert_int_ge(caught, 1);
	h_destroy(&h);
	tfsm_destroy(&f);
}
END_TEST

/* With no other event on the base, event_base_dispatch() still waits for the results (the
 * service keeps an event pending); Check's timeout catches a hang, an early return fails. */
START_TEST(test_dispatch_waits_for_results)
{
	struct harness h;
	struct tfsm f;
	struct raftsvc *s;
	struct batch b;
	struct cookie *c;

	tfsm_init(&f);
	h_init(&h, &f);
	event_del(h.tick);
	s = h_start(&h);
	batch_init(&b, 50);
	b.break_base = h.base;
	c = cookies_for(&b);
	submit_range(s, &b, c, 0, 50);
	ck_assert_int_eq(event_base_dispatch(h.base), 0);
	ck_assert_int_eq(b.done, 50);
	raftsvc_stop(s);
	free(c);
	free(b.t);
	h_destroy(&h);
	tfsm_destroy(&f);
}
END_TEST

START_TEST(test_stop_from_a_done_callback)
{
	struct harness h;
	struct tfsm f;
	struct raftsvc *s, *handle;
	struct batch b;
	struct cookie *c;
	int i;

	tfsm_init(&f);
	h_init(&h, &f);
	s = h_start(&h);
	handle = s;
	batch_init(&b, 100);
	b.stop_at = 10;
	b.stop_at_svc = &handle;
	c = cookies_for(&b);
	submit_range(s, &b, c, 0, 100);
	ck_assert(h_run_until(&h, batch_all_done, &b, 20000));
	ck_assert_ptr_null(handle);
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(b.t[i].calls, 1);
		ck_assert(b.t[i].status == 0 || b.t[i].status == -ESHUTDOWN);
	}
	for (i = 0; i <= 10; i++)
		ck_assert_int_eq(b.t[i].status, 0);
	event_base_loop(h.base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(b.done, 100);
	free(c);
	free(b.t);
	h_destroy(&h);
	tfsm_destroy(&f);
}
END_TEST

START_TEST(test_fsm_apply_error_is_fatal)
{
	struct harness h;
	struct tfsm f;
	struct raftsvc *s;
	struct raftsvc_status st;
	struct batch b, after;
	struct cookie *c, *c2;
	char p[32];
	int i;

	tfsm_init(&f);
	f.poison = "poison";
	h_init(&h, &f);
	s = h_start(&h);
	batch_init(&b, 11);
	c = cookies_for(&b);
	for (i = 0; i < 11; i++) {
		if (i == 5)
			snprintf(p, sizeof(p), "poison");
		else
			payload(p, sizeof(p), i);
		ck_assert_int_eq(raftsvc_submit(s, (const uint8_t *)p, strlen(p), on_done, &c[i]),
				 0);
	}
	ck_assert(h_run_until(&h, batch_all_done, &b, 20000));
	ck_assert(h_run_until(&h, fatal_seen, &h, 10000));
	ck_assert_int_eq(h.fatal_calls, 1);
	ck_assert_int_eq(h.fatal_err, -EIO);
	ck_assert_msg(strstr(h.fatal_msg, "fsm apply of entry") != NULL, "msg: %s", h.fatal_msg);
	for (i = 0; i < 11; i++) {
		ck_assert_int_eq(b.t[i].calls, 1);
		ck_assert_int_eq(b.t[i].status, i < 5 ? 0 : -EIO);
	}
	/* Nothing after the failed entry reached the state machine. */
	ck_assert_uint_eq(tfsm_count(&f), 5);
	ck_assert_int_eq(h.leader_changes, 1);
	ck_assert(!h.last_leader);
	ck_assert(!raftsvc_is_leader(s));
	raftsvc_status(s, &st);
	ck_assert(st.failed);
	ck_assert(!st.serving);

	/* The service stays up answering -EIO until stopped. */
	batch_init(&after, 1);
	c2 = cookies_for(&after);
	submit_range(s, &after, c2, 0, 1);
	ck_assert(h_run_until(&h, batch_all_done, &after, 10000));
	ck_assert_int_eq(after.t[0].status, -EIO);
	raftsvc_stop(s);
	ck_assert_int_eq(h.fatal_calls, 1);
	free(c);
	free(c2);
	free(b.t);
	free(after.t);
	h_destroy(&h);
	tfsm_destroy(&f);
}
END_TEST

START_TEST(test_status_reports_leader_term_and_commit)
{
	struct harness h;
	struct tfsm f;
	struct raftsvc *s;
	struct raftsvc_status st;
	uint64_t idx[10];

	tfsm_init(&f);
	h_init(&h, &f);
	h.cfg.id = 7;
	s = h_start(&h);
	ck_assert(raftsvc_is_leader(s));
	raftsvc_status(s, &st);
	ck_assert_uint_eq(st.id, 7);
	ck_assert_str_eq(st.role, "leader");
	ck_assert_uint_eq(st.leader_id, 7);
	ck_assert_str_eq(st.leader_address, h.address);
	ck_assert_uint_ge(st.term, 1);
	ck_assert_uint_ge(st.commit_index, 2); /* bootstrap configuration, barrier */
	ck_assert_uint_eq(st.last_applied, st.commit_index);
	ck_assert(st.serving);
	ck_assert(!st.failed);

	submit_and_wait(&h, s, 10, idx);
	raftsvc_status(s, &st);
	ck_assert_uint_ge(st.commit_index, idx[9]);
	ck_assert_uint_ge(st.last_applied, idx[9]);
	ck_assert_str_eq(st.role, "leader");
	raftsvc_stop(s);
	h_destroy(&h);
	tfsm_destroy(&f);
}
END_TEST

START_TEST(test_submit_rejects_what_it_cannot_queue)
{
	struct harness h;
	struct tfsm f;
	struct raftsvc *s;
	struct batch b, again;
	struct cookie *c, *c2;
	uint8_t *big;
	const uint8_t one = 1;

	tfsm_init(&f);
	h_init(&h, &f);
	h.cfg.max_pending = 4;
	s = h_start(&h);
	batch_init(&b, 4);
	c = cookies_for(&b);
	ck_assert_int_eq(raftsvc_submit(s, &one, 0, on_done, &c[0]), -EINVAL);
	ck_assert_int_eq(raftsvc_submit(s, NULL, 1, on_done, &c[0]), -EINVAL);
	ck_assert_int_eq(raftsvc_submit(s, &one, 1, NULL, &c[0]), -EINVAL);
	big = calloc(1, RAFTSVC_ENTRY_MAX + 1);
	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(raftsvc_submit(s, big, RAFTSVC_ENTRY_MAX + 1, on_done, &c[0]),
			 -EMSGSIZE);
	free(big);
	submit_range(s, &b, c, 0, 4);
	ck_assert_int_eq(raftsvc_submit(s, &one, 1, on_done, &c[0]), -ENOBUFS);
	ck_assert(h_run_until(&h, batch_all_done, &b, 20000));
	/* Room again once the done callbacks ran. */
	batch_init(&again, 1);
	c2 = cookies_for(&again);
	ck_assert_int_eq(raftsvc_submit(s, &one, 1, on_done, &c2[0]), 0);
	ck_assert(h_run_until(&h, batch_all_done, &again, 20000));
	ck_assert_int_eq(again.t[0].calls, 1);
	ck_assert_int_eq(again.t[0].status, 0);
	raftsvc_stop(s);
	free(c);
	free(c2);
	free(b.t);
	free(again.t);
	h_destroy(&h);
	tfsm_destroy(&f);
}
END_TEST

/* The largest entry goes through intact, and is replayed intact, next to small ones. */
START_TEST(test_largest_entry_round_trips)
{
	struct harness h;
	struct tfsm f1, f2;
	struct raftsvc *s;
	struct batch b;
	struct cookie *c;
	uint8_t *big;
	size_t i;
	const uint8_t small[3] = { 1, 2, 3 };

	tfsm_init(&f1);
	tfsm_init(&f2);
	h_init(&h, &f1);
	big = malloc(RAFTSVC_ENTRY_MAX);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i < RAFTSVC_ENTRY_MAX; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 13));
	s = h_start(&h);
	batch_init(&b, 3);
	c = cookies_for(&b);
	ck_assert_int_eq(raftsvc_submit(s, small, 3, on_done, &c[0]), 0);
	ck_assert_int_eq(raftsvc_submit(s, big, RAFTSVC_ENTRY_MAX, on_done, &c[1]), 0);
	ck_assert_int_eq(raftsvc_submit(s, small, 1, on_done, &c[2]), 0);
	ck_assert(h_run_until(&h, batch_all_done, &b, 30000));
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(b.t[i].status, 0);
	raftsvc_stop(s);
	ck_assert_uint_eq(tfsm_count(&f1), 3);
	ck_assert_uint_eq(f1.e[0].len, 3);
	ck_assert_uint_eq(f1.e[1].len, RAFTSVC_ENTRY_MAX);
	ck_assert(memcmp(f1.e[1].data, big, RAFTSVC_ENTRY_MAX) == 0);
	ck_assert_uint_eq(f1.e[2].len, 1);

	h_set_fsm(&h, &f2);
	s = h_start(&h);
	ck_assert(tfsm_equal(&f1, &f2));
	raftsvc_stop(s);
	free(big);
	free(c);
	free(b.t);
	h_destroy(&h);
	tfsm_destroy(&f1);
	tfsm_destroy(&f2);
}
END_TEST

/* A server that cannot be elected (its id is not a voter of the stored configuration) makes
 * raftsvc_start() give up after start_timeout_ms, and the data directory stays usable. */
START_TEST(test_start_outside_the_configuration_returns_a_follower)
{
	struct harness h;
	struct tfsm f1, f2, f3;
	struct raftsvc *s;
	struct raftsvc_status st;
	struct batch b;
	struct cookie *c;
	uint64_t t0;

	tfsm_init(&f1);
	tfsm_init(&f2);
	tfsm_init(&f3);
	h_init(&h, &f1);
	s = h_start(&h);
	submit_and_wait(&h, s, 3, NULL);
	raftsvc_stop(s);

	/* Raft id 2 on a directory whose configuration is {1}: not its group's only voter, so
	 * the start does not wait for an election that cannot happen. */
	h_set_fsm(&h, &f2);
	h.cfg.id = 2;
	h.cfg.start_timeout_ms = 5000;
	t0 = now_ms();
	s = h_start(&h);
	ck_assert_uint_lt(now_ms() - t0, 2000);
	ck_assert(!raftsvc_is_leader(s));
	ck_assert(!raftsvc_read_ok(s));
	raftsvc_status(s, &st);
	ck_assert_str_eq(st.role, "follower");
	ck_assert_uint_eq(st.n_members, 1);
	ck_assert_uint_eq(st.members[0].id, 1);
	batch_init(&b, 1);
	c = cookies_for(&b);
	submit_range(s, &b, c, 0, 1);
	ck_assert(h_run_until(&h, batch_all_done, &b, 5000));
	ck_assert_int_eq(b.t[0].status, -EAGAIN);
	free(c);
	free(b.t);
	raftsvc_stop(s);
	ck_assert_int_eq(h.fatal_calls, 0);

	h_set_fsm(&h, &f3);
	h.cfg.id = 1;
	s = h_start(&h);
	ck_assert(tfsm_equal(&f1, &f3));
	ck_assert(raftsvc_read_ok(s)); /* the only voter: its lease needs nobody */
	raftsvc_stop(s);
	h_destroy(&h);
	tfsm_destroy(&f1);
	tfsm_destroy(&f2);
	tfsm_destroy(&f3);
}
END_TEST

START_TEST(test_start_rejects_bad_config)
{
	struct harness h;
	struct tfsm f;
	struct raftsvc_config cfg;
	char err[256];
	char dir[160];

	tfsm_init(&f);
	h_init(&h, &f);

	cfg = h.cfg;
	cfg.id = 0;
	ck_assert_ptr_null(raftsvc_start(&cfg, err, sizeof(err)));
	ck_assert_msg(strstr(err, "id") != NULL, "%s", err);

	cfg = h.cfg;
	cfg.data_dir = NULL;
	ck_assert_ptr_null(raftsvc_start(&cfg, err, sizeof(err)));
	ck_assert_msg(strstr(err, "data_dir") != NULL, "%s", err);

	cfg = h.cfg;
	cfg.fsm.snapshot = NULL;
	ck_assert_ptr_null(raftsvc_start(&cfg, err, sizeof(err)));
	ck_assert_msg(strstr(err, "fsm") != NULL, "%s", err);

	cfg = h.cfg;
	cfg.base = NULL;
	ck_assert_ptr_null(raftsvc_start(&cfg, err, sizeof(err)));

	cfg = h.cfg;
	cfg.heartbeat_ms = 500;
	ck_assert_ptr_null(raftsvc_start(&cfg, err, sizeof(err)));
	ck_assert_msg(strstr(err, "heartbeat") != NULL, "%s", err);

	cfg = h.cfg;
	snprintf(dir, sizeof(dir), "%s/missing/raft", h.dir);
	cfg.data_dir = dir;
	ck_assert_ptr_null(raftsvc_start(&cfg, err, sizeof(err)));
	ck_assert_msg(strstr(err, "mkdir") != NULL && strstr(err, dir) != NULL, "%s", err);

	h_destroy(&h);
	tfsm_destroy(&f);
}
END_TEST

START_TEST(test_start_fails_when_restore_fails)
{
	struct harness h;
	struct tfsm f1, f2;
	struct raftsvc *s;
	struct status_wait w;
	char err[256] = "";

	tfsm_init(&f1);
	tfsm_init(&f2);
	h_init(&h, &f1);
	h.cfg.snapshot_threshold = 16;
	h.cfg.snapshot_trailing = 8;
	s = h_start(&h);
	submit_and_wait(&h, s, 40, NULL);
	w.s = s;
	w.snapshots = 1;
	ck_assert(h_run_until(&h, snapshots_reached, &w, 10000));
	raftsvc_stop(s);

	f2.restore_err = -EINVAL;
	h_set_fsm(&h, &f2);
	ck_assert_ptr_null(raftsvc_start(&h.cfg, err, sizeof(err)));
	ck_assert_msg(strstr(err, "restore") != NULL, "%s", err);
	ck_assert_int_eq(f2.restores, 1);

	/* The data directory is intact: a working fsm starts from it. */
	f2.restore_err = 0;
	s = h_start(&h);
	ck_assert(tfsm_equal(&f1, &f2));
	raftsvc_stop(s);
	h_destroy(&h);
	tfsm_destroy(&f1);
	tfsm_destroy(&f2);
}
END_TEST

START_TEST(test_start_fails_when_replay_apply_fails)
{
	struct harness h;
	struct tfsm f1, f2;
	struct raftsvc *s;
	uint64_t idx[20];
	char err[256] = "";
	char want[64];

	tfsm_init(&f1);
	tfsm_init(&f2);
	h_init(&h, &f1);
	s = h_start(&h);
	submit_and_wait(&h, s, 20, idx);
	raftsvc_stop(s);

	f2.fail_index = idx[9];
	h_set_fsm(&h, &f2);
	ck_assert_ptr_null(raftsvc_start(&h.cfg, err, sizeof(err)));
	snprintf(want, sizeof(want), "fsm apply of entry %llu", (unsigned long long)idx[9]);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	ck_assert_uint_eq(tfsm_count(&f2), 9);
	ck_assert_int_eq(h.fatal_calls, 0);
	h_destroy(&h);
	tfsm_destroy(&f1);
	tfsm_destroy(&f2);
}
END_TEST

static Suite *raftsvc_suite(void)
{
	Suite *su = suite_create("raftsvc");
	TCase *tc = tcase_create("one voter");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_submitted_entries_are_applied_in_order);
	tcase_add_test(tc, test_restart_replays_the_log);
	tcase_add_test(tc, test_restart_from_snapshot_and_trailing_log);
	tcase_add_test(tc, test_thousand_back_to_back_entries_complete);
	tcase_add_test(tc, test_results_beyond_one_delivery_round_keep_order);
	tcase_add_test(tc, test_stop_with_entries_in_flight_calls_each_done_once);
	tcase_add_test(tc, test_stop_while_libraft_holds_entries);
	tcase_add_test(tc, test_dispatch_waits_for_results);
	tcase_add_test(tc, test_stop_from_a_done_callback);
	tcase_add_test(tc, test_fsm_apply_error_is_fatal);
	tcase_add_test(tc, test_status_reports_leader_term_and_commit);
	tcase_add_test(tc, test_submit_rejects_what_it_cannot_queue);
	tcase_add_test(tc, test_largest_entry_round_trips);
	tcase_add_test(tc, test_start_outside_the_configuration_returns_a_follower);
	tcase_add_test(tc, test_start_rejects_bad_config);
	tcase_add_test(tc, test_start_fails_when_restore_fails);
	tcase_add_test(tc, test_start_fails_when_replay_apply_fails);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return testmain_run(raftsvc_suite());
}
