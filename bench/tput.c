/* tput.c: bench_tput, region marks per second with many concurrent writers, and their latency.
 *
 * Each writer stands for one mirror on one node writing as fast as it can, one write in flight:
 * a cycle marks `batch` regions it has not used recently and waits until they are durable
 * (mode markflush: MARK_REGION then FLUSH, as a kernel without integrated_flush; mode iflush:
 * one FLUSH carrying the marks), then clears them (CLEAR_REGION, sent together with the next
 * cycle's first request, as the kernel clears after the data write) and starts the next cycle.
 * Writers are spread over `nodes` node identities (one libdmlog async handle, so one TLS
 * connection, per node, as a bridge has) and over `logs` logs; each (node, log) pair is one
 * log instance (CTR + RESUME before the clock starts). Everything runs on one libevent loop.
 *
 * A cycle that fails with -EAGAIN (leadership lost before the commit) or -ELOOP (redirected in
 * circles during a leader change) is sent again with the same regions, as the kernel would
 * resend, and counted in `retries`.
 *
 * After a warm-up second the counters reset and the run lasts `seconds`; then no new cycle
 * starts and the pending requests drain (bounded). Printed: one line of key=value pairs with
 * the marks per second (regions made durable), cycles per second and the cycle latency p50,
 * p90, p99 and max in microseconds.
 *
 * Usage: bench_tput servers=H:P[,...] certs=DIR [nodes=4] [writers=64] [logs=16] [seconds=10]
 *                   [batch=1] [mode=markflush|iflush]
 * Node certificates node-node1 .. node-nodeN must exist in certs. */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dmlog/async.h>
#include <event2/event.h>

#include "agent.h"
#include "stats.h"

#define TPUT_NODES_MAX 16
#define TPUT_WRITERS_MAX 1024
#define TPUT_LOGS_MAX 256
#define TPUT_REGIONS (UINT64_C(1) << 20)
#define TPUT_CTR "1073741824 clustered-core 1024 nosync" /* 2^20 regions of 512 KiB */

struct tput;

struct writer {
	struct tput *t;
	int node;
	struct dmlog_log_ref log;
	uint64_t base, span, next;  /* its own regions: base + (next % span) */
	uint64_t regions[DMLOG_MAX_REGIONS];
	double t0;                   /* start of the current cycle */
	int mark_status;             /* markflush: the MARK_REGION's status in this cycle */
};

struct tput {
	struct event_base *base;
	struct dmlog_async *h[TPUT_NODES_MAX];
	struct writer w[TPUT_WRITERS_MAX];
	char uuids[TPUT_LOGS_MAX][64];
	int nodes, writers, logs, batch, iflush;
	int opening;                 /* CTR/RESUME still pending */
	int phase;                   /* 0 warm-up, 1 measuring, 2 draining */
	int failed;
	char err[300];
	uint64_t cycles, marks, clears_failed, retries;
	struct stats lat;
	double t_start, t_end;
	struct event *timer;
};

static void tput_fail(struct tput *t, const char *what, struct dmlog_async *h, int status)
{
	if (!t->failed)
		snprintf(t->err, sizeof(t->err), "%s: %s (%s)", what, strerror(-status),
			 h ? dmlog_async_errmsg(h) : "");
	t->failed = 1;
	event_base_loopbreak(t->base);
}

static void writer_cycle(struct writer *w, bool again);

static void on_clear(struct dmlog_async *ac, int status, const struct dmlog_result *res, void *arg)
{
	struct writer *w = arg;

	if (status != 0)
		w->t->clears_failed++;
}

static void on_durable(struct dmlog_async *ac, int status, const struct dmlog_result *res,
		       void *arg)
{
	struct writer *w = arg;
	struct tput *t = w->t;

	if (status == 0 && w->mark_status != 0)
		status = w->mark_status;
	if (status == -EAGAIN || status == -ELOOP) {
		/* the server lost leadership before the commit (dmlogd answers -EAGAIN), or the
		 * peers redirected the request in circles during a leader change (libdmlog gives up
		 * with -ELOOP): the kernel would resend; the cycle is not durable, so run it again
		 * with the same regions */
		t->retries++;
		if (t->phase < 2)
			writer_cycle(w, true);
		return;
	}
	if (status != 0) {
		tput_fail(t, w->mark_status ? "MARK_REGION" : "FLUSH", ac, status);
		return;
	}
	if (t->phase == 1) {
		stats_add(&t->lat, stats_now_us() - w->t0);
		t->cycles++;
		t->marks += (uint64_t)t->batch;
	}
	/* the kernel clears after the data write; the clear need not be waited for */
	if (dmlog_async_clear_region(ac, &w->log, w->regions, (size_t)t->batch, on_clear, w) != 0) {
		tput_fail(t, "CLEAR_REGION", ac, -EIO);
		return;
	}
	if (t->phase < 2)
		writer_cycle(w, false);
}

static void on_marked(struct dmlog_async *ac, int status, const struct dmlog_result *res,
		      void *arg)
{
	struct writer *w = arg;

	w->mark_status = status;  /* judged when the FLUSH behind it answers */
}

/* Starts one cycle: MARK then FLUSH pipelined (the FLUSH answers once both are durable; the
 * server applies a connection's requests in order), or one FLUSH carrying the marks. again:
 * the same regions as the last cycle, which was not made durable (its start time is kept, so
 * the retry's cost is in the latency). */
static void writer_cycle(struct writer *w, bool again)
{
	struct tput *t = w->t;
	struct dmlog_async *h = t->h[w->node];
	int rc;

	if (!again) {
		for (int j = 0; j < t->batch; j++)
			w->regions[j] = w->base + (w->next++ % w->span);
		w->t0 = stats_now_us();
	}
	w->mark_status = 0;
	if (t->iflush) {
		rc = dmlog_async_flush(h, &w->log, w->regions, (size_t)t->batch, on_durable, w);
	} else {
		rc = dmlog_async_mark_region(h, &w->log, w->regions, (size_t)t->batch, on_marked, w);
		if (rc == 0)
			rc = dmlog_async_flush(h, &w->log, NULL, 0, on_durable, w);
	}
	if (rc != 0)
		tput_fail(t, "submit", h, rc);
}

static void on_opened(struct dmlog_async *ac, int status, const struct dmlog_result *res,
		      void *arg)
{
	struct tput *t = arg;

	if (status != 0) {
		tput_fail(t, "CTR/RESUME", ac, status);
		return;
	}
	if (--t->opening == 0)
		event_base_loopbreak(t->base);
}

/* Ends the current phase: warm-up -> measuring -> draining. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct tput *t = arg;

	if (t->phase == 0)
		t->t_start = stats_now_us();
	else if (t->phase == 1)
		t->t_end = stats_now_us();
	t->phase++;
	event_base_loopbreak(t->base);
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static int tput_pending(const struct tput *t)
{
	int n = 0;

	for (int i = 0; i < t->nodes; i++)
		n += (int)dmlog_async_pending(t->h[i]);
	return n;
}

/* Runs the loop until something breaks it, at most limit_s seconds. */
static void tput_loop_for(struct tput *t, int limit_s)
{
	struct timeval tv = {limit_s, 0};
	struct event *guard = evtimer_new(t->base, on_guard, t->base);

	evtimer_add(guard, &tv);
	event_base_dispatch(t->base);
	event_free(guard);
}

/* Runs the loop until no request is pending, at most limit_s seconds. */
static void tput_drain(struct tput *t, int limit_s)
{
	struct timeval tick = {0, 20000};
	struct event *ticker = event_new(t->base, -1, EV_PERSIST, on_guard, t->base);
	double end = stats_now_us() + limit_s * 1e6;

	event_add(ticker, &tick);
	while (tput_pending(t) > 0 && stats_now_us() < end)
		event_base_dispatch(t->base);
	event_free(ticker);
}

int main(int argc, char **argv)
{
	static struct tput t;
	const char *list = agent_arg(argc - 1, argv + 1, "servers", NULL);
	const char *certs = agent_arg(argc - 1, argv + 1, "certs", NULL);
	int seconds = atoi(agent_arg(argc - 1, argv + 1, "seconds", "10"));
	char servers[512], ca[4096], cert[4096], key[4096], errmsg[DMLOG_ERRMSG_SIZE];
	struct dmlog_options o;
	struct timeval tv;
	int nserv = 0;
	double secs;

	t.nodes = atoi(agent_arg(argc - 1, argv + 1, "nodes", "4"));
	t.writers = atoi(agent_arg(argc - 1, argv + 1, "writers", "64"));
	t.logs = atoi(agent_arg(argc - 1, argv + 1, "logs", "16"));
	t.batch = atoi(agent_arg(argc - 1, argv + 1, "batch", "1"));
	t.iflush = strcmp(agent_arg(argc - 1, argv + 1, "mode", "markflush"), "iflush") == 0;
	if (!list || !certs || t.nodes < 1 || t.nodes > TPUT_NODES_MAX || t.writers < 1 ||
	    t.writers > TPUT_WRITERS_MAX || t.logs < 1 || t.logs > TPUT_LOGS_MAX || t.batch < 1 ||
	    t.batch > DMLOG_MAX_REGIONS || seconds < 1 || seconds > 300) {
		fprintf(stderr, "usage: bench_tput servers=H:P[,...] certs=DIR [nodes=4] [writers=64] "
				"[logs=16] [seconds=10] [batch=1] [mode=markflush|iflush]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	t.base = event_base_new();
	memset(&o, 0, sizeof(o));
	snprintf(servers, sizeof(servers), "%s", list);
	for (char *save = NULL, *p = strtok_r(servers, ",", &save); p && nserv < DMLOG_MAX_SERVERS;
	     p = strtok_r(NULL, ",", &save))
		o.servers[nserv++] = p;
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	o.ca_file = ca;
	o.cert_file = cert;
	o.key_file = key;
	o.request_timeout_ms = 30000;
	o.max_in_flight = 65536;
	o.client_name = "bench_tput";
	for (int i = 0; i < t.nodes; i++) {
		snprintf(cert, sizeof(cert), "%s/node-node%d.crt", certs, i + 1);
		snprintf(key, sizeof(key), "%s/node-node%d.key", certs, i + 1);
		t.h[i] = dmlog_async_new(t.base, &o, errmsg);
		if (!t.h[i]) {
			fprintf(stderr, "bench_tput: node%d: %s\n", i + 1, errmsg);
			return 1;
		}
	}
	for (int l = 0; l < t.logs; l++)
		snprintf(t.uuids[l], sizeof(t.uuids[l]), "LVM-bench-tput-%04d-0123456789abcdef", l);
	/* writer i: log i % logs, node (i / logs) % nodes; the writers of one log split its regions */
	for (int i = 0; i < t.writers; i++) {
		struct writer *w = &t.w[i];
		int per_log = (t.writers + t.logs - 1) / t.logs, slot = i / t.logs;

		w->t = &t;
		w->node = (i / t.logs) % t.nodes;
		w->log.uuid = t.uuids[i % t.logs];
		w->log.luid = (uint64_t)(i % t.logs) + 1;
		w->log.version = 3;
		w->span = TPUT_REGIONS / (uint64_t)per_log;
		w->base = w->span * (uint64_t)slot;
	}
	for (int n = 0; n < t.nodes; n++)
		for (int l = 0; l < t.logs; l++) {
			struct dmlog_log_ref ref = {t.uuids[l], (uint64_t)l + 1, 3};

			if (dmlog_async_ctr(t.h[n], &ref, TPUT_CTR, false, on_opened, &t) != 0 ||
			    dmlog_async_resume(t.h[n], &ref, on_opened, &t) != 0) {
				fprintf(stderr, "bench_tput: submit CTR: %s\n", dmlog_async_errmsg(t.h[n]));
				return 1;
			}
			t.opening += 2;
		}
	tput_loop_for(&t, 60);
	if (t.failed || t.opening) {
		fprintf(stderr, "bench_tput: opening the logs failed: %s\n",
			t.failed ? t.err : "timed out");
		return 1;
	}
	t.timer = evtimer_new(t.base, on_timer, &t);
	tv.tv_sec = 1;
	tv.tv_usec = 0;
	evtimer_add(t.timer, &tv);          /* warm-up */
	for (int i = 0; i < t.writers; i++)
		writer_cycle(&t.w[i], false);
	tput_loop_for(&t, 30);
	if (t.failed || t.phase != 1) {
		fprintf(stderr, "bench_tput: warm-up failed: %s\n", t.failed ? t.err : "timed out");
		return 1;
	}
	tv.tv_sec = seconds;
	evtimer_add(t.timer, &tv);
	tput_loop_for(&t, seconds + 30);
	if (t.phase != 2) {
		t.phase = 2;
		t.t_end = stats_now_us();
	}
	/* drain: every writer finishes its cycle, the clears go out */
	tput_drain(&t, 30);
	if (t.failed) {
		fprintf(stderr, "bench_tput: %s\n", t.err);
		return 1;
	}
	secs = (t.t_end - t.t_start) / 1e6;
	printf("tput mode=%s batch=%d nodes=%d writers=%d logs=%d seconds=%.1f "
	       "marks_per_s=%.0f cycles_per_s=%.0f p50=%.1f p90=%.1f p99=%.1f max=%.1f "
	       "clears_failed=%llu retries=%llu\n",
	       t.iflush ? "iflush" : "markflush", t.batch, t.nodes, t.writers, t.logs, secs,
	       (double)t.marks / secs, (double)t.cycles / secs, stats_pct(&t.lat, 0.5),
	       stats_pct(&t.lat, 0.9), stats_pct(&t.lat, 0.99), stats_pct(&t.lat, 1.0),
	       (unsigned long long)t.clears_failed, (unsigned long long)t.retries);
	for (int i = 0; i < t.nodes; i++)
		dmlog_async_free(t.h[i]);
	event_base_loop(t.base, EVLOOP_NONBLOCK);
	event_free(t.timer);
	event_base_free(t.base);
	stats_free(&t.lat);
	return 0;
}
