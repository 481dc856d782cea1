/* workload.c: client nodes writing to a peer group under the checker (see workload.h). */
#include "workload.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static void cert_file(char *out, size_t len, const char *certs, const char *who, const char *ext)
{
	snprintf(out, len, "%s/%s.%s", certs, who, ext);
}

struct dmlog *workload_handle(const struct group_peer *p, const char *certs, const char *who,
			      int only, int group, uint32_t timeout_ms, char addr[][32])
{
	struct dmlog_options o;
	char ca[400], cert[400], key[400], err[DMLOG_ERRMSG_SIZE];
	struct dmlog *h;
	size_t k = 0;

	memset(&o, 0, sizeof(o));
	for (int i = 0; i < group; i++) {
		if (only >= 0 && i != only)
			continue;
		snprintf(addr[k], 32, "127.0.0.1:%d", p[i].d.port);
		o.servers[k] = addr[k];
		k++;
	}
	cert_file(ca, sizeof(ca), certs, "ca", "crt");
	cert_file(cert, sizeof(cert), certs, who, "crt");
	cert_file(key, sizeof(key), certs, who, "key");
	o.ca_file = ca;
	o.cert_file = cert;
	o.key_file = key;
	o.request_timeout_ms = timeout_ms;
	o.connect_timeout_ms = 1000;
	o.reconnect_min_ms = 20;
	o.reconnect_max_ms = 300;
	h = dmlog_new(&o, err);
	ck_assert_msg(h != NULL, "dmlog_new: %s", err);
	return h;
}

void workload_init(struct workload *wl, const struct workload_spec *spec)
{
	struct checker_options o;

	memset(wl, 0, sizeof(*wl));
	wl->spec = *spec;
	memset(&o, 0, sizeof(o));
	o.n_nodes = spec->n_nodes;
	o.node_names = spec->node_names;
	o.n_logs = spec->n_logs;
	o.log_uuids = spec->uuids;
	o.ctr_args = spec->ctr_args;
	o.region_count = spec->region_count;
	o.fresh_clean = true;
	wl->chk = checker_new(&o);
	ck_assert_ptr_nonnull(wl->chk);
}

int workload_op(struct dmlog *h, struct workload_worker *w, int log, enum checker_kind k,
		const uint64_t *r, size_t n, bool in_sync)
{
	const struct workload *wl = w->wl;
	struct dmlog_log_ref ref = {.uuid = wl->spec.uuids[log], .luid = w->luid, .version = 3};
	size_t t = checker_begin(wl->chk, w->node, log, k, r, n, in_sync, wl->spec.timeout_ms);
	bool v = false;
	int rc = -EINVAL;

	switch (k) {
	case CHECKER_MARK:
		rc = dmlog_mark_region(h, &ref, r, n);
		break;
	case CHECKER_FLUSH:
		rc = dmlog_flush(h, &ref, r, n);
		break;
	case CHECKER_CLEAR:
		rc = dmlog_clear_region(h, &ref, r, n);
		break;
	case CHECKER_SET_SYNC:
		rc = dmlog_set_region_sync(h, &ref, r[0], in_sync);
		break;
	case CHECKER_IS_CLEAN:
		rc = dmlog_is_clean(h, &ref, r[0], &v);
		break;
	case CHECKER_IN_SYNC:
		rc = dmlog_in_sync(h, &ref, r[0], &v);
		break;
	}
	checker_end(wl->chk, t, rc, v, rc ? dmlog_errmsg(h) : NULL);
	return rc;
}

static void *worker_main(void *arg)
{
	struct workload_worker *w = arg;
	const struct workload *wl = w->wl;
	char who[32], addr[WORKLOAD_MAX][32], dev[128];
	struct dmlog *h;

	snprintf(who, sizeof(who), "node-%s", wl->spec.node_names[w->node]);
	h = workload_handle(wl->spec.peers, wl->spec.certs, who, -1, w->group, wl->spec.timeout_ms,
			    addr);
	for (int log = 0; log < wl->spec.n_logs && w->setup_rc == 0; log++) {
		struct dmlog_log_ref ref = {.uuid = wl->spec.uuids[log], .luid = w->luid, .version = 3};

		w->setup_rc = dmlog_ctr(h, &ref, wl->spec.ctr_args, false, dev, sizeof(dev));
		if (w->setup_rc == 0)
			w->setup_rc = dmlog_resume(h, &ref);
		if (w->setup_rc)
			snprintf(w->setup_err, sizeof(w->setup_err), "%s", dmlog_errmsg(h));
	}
	for (unsigned c = 0; w->setup_rc == 0 && !atomic_load(&w->stop); c++) {
		wl->spec.cycle(h, w, c);
		atomic_store(&w->cycles, c + 1);
	}
	dmlog_free(h);
	return NULL;
}

void workload_start(struct workload *wl, int n, uint64_t luid_base, uint64_t luid_step,
		    int group)
{
	ck_assert_int_le(n, WORKLOAD_MAX);
	wl->n = n;
	for (int i = 0; i < n; i++) {
		struct workload_worker *w = &wl->w[i];

		memset(w, 0, sizeof(*w));
		w->wl = wl;
		w->node = i;
		w->luid = luid_base + (uint64_t)i * luid_step;
		w->group = group;
		ck_assert_int_eq(pthread_create(&w->th, NULL, worker_main, w), 0);
	}
}

void workload_progress(struct workload *wl, unsigned cycles, int timeout_ms)
{
	unsigned start[WORKLOAD_MAX];
	uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
	bool done = false;

	for (int i = 0; i < wl->n; i++)
		start[i] = atomic_load(&wl->w[i].cycles);
	while (!done && harness_now_ms() < deadline) {
		done = true;
		for (int i = 0; i < wl->n; i++) {
			ck_assert_msg(wl->w[i].setup_rc == 0, "worker %d: %s", i, wl->w[i].setup_err);
			done = done && atomic_load(&wl->w[i].cycles) >= start[i] + cycles;
		}
		if (!done)
			usleep(10 * 1000);
	}
	ck_assert_msg(done, "the workers made no progress for %d ms", timeout_ms);
}

void workload_stop(struct workload *wl)
{
	for (int i = 0; i < wl->n; i++)
		atomic_store(&wl->w[i].stop, true);
	for (int i = 0; i < wl->n; i++)
		pthread_join(wl->w[i].th, NULL);
	wl->n = 0;
}

int workload_verify(const struct workload *wl, int group, const char *node_who, uint64_t luid,
		    char *report, size_t len)
{
	char ca[400], ncert[400], nkey[400], acert[400], akey[400], addr[WORKLOAD_MAX][32];
	struct checker_servers s;

	ck_assert_int_le(group, WORKLOAD_MAX);
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < group; i++) {
		snprintf(addr[i], sizeof(addr[i]), "127.0.0.1:%d", wl->spec.peers[i].d.port);
		s.servers[i] = addr[i];
	}
	cert_file(ca, sizeof(ca), wl->spec.certs, "ca", "crt");
	cert_file(ncert, sizeof(ncert), wl->spec.certs, node_who, "crt");
	cert_file(nkey, sizeof(nkey), wl->spec.certs, node_who, "key");
	cert_file(acert, sizeof(acert), wl->spec.certs, "admin-admin", "crt");
	cert_file(akey, sizeof(akey), wl->spec.certs, "admin-admin", "key");
	s.ca_file = ca;
	s.node_cert = ncert;
	s.node_key = nkey;
	s.admin_cert = acert;
	s.admin_key = akey;
	s.luid = luid;
	return checker_verify(wl->chk, &s, report, len);
}

void workload_assert_verified(const struct workload *wl, int group, const char *node_who,
			      uint64_t luid)
{
	char report[8192];
	int rc = workload_verify(wl, group, node_who, luid, report, sizeof(report));

	fprintf(stderr, "%s", report);
	ck_assert_msg(rc == 0, "checker: %d\n%s", rc, report);
}

void workload_assert_no_errors(const struct workload *wl)
{
	char rep[4096];

	checker_error_report(wl->chk, rep, sizeof(rep), 10);
	ck_assert_msg(checker_errors(wl->chk) == 0, "%zu of %zu requests ended with an error:\n%s",
		      checker_errors(wl->chk), checker_count(wl->chk), rep);
}
