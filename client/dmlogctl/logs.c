/* logs.c: the `logs` verb: one line (or one JSON object) per log, from ADMIN_LIST_LOGS. */
#include "logs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "fmt.h"
#include "options.h"
#include "remote.h"
#include "table.h"

static const char logs_usage[] =
	"Usage: dmlogctl [OPTIONS] logs\n"
	"List the logs the cluster holds, one per line: UUID, region size, number of regions,\n"
	"dirty regions (marked by some node), the share of regions in sync, the state (resumed\n"
	"when any instance is) and the node recovering a region now.\n"
	"\n"
	"Options: --json (an array of objects), and the global options (dmlogctl --help).\n"
	"Exit status: 0 success, 1 the server refused, 2 unreachable or TLS failure, 3 usage error.\n";

void logs_summary_json(FILE *f, const struct dmlog_log_summary *s)
{
	char pct[32];

	fmt_percent(pct, sizeof(pct), s->sync_count, s->region_count);
	fmt_json_member(f, "uuid", s->uuid, ",");
	fmt_json_member(f, "type", s->log_type, ",");
	fmt_json_member_or_null(f, "device", s->device, "");
	fprintf(f,
		",\"region_size\":%" PRIu64 ",\"region_count\":%" PRIu64 ",\"dirty_count\":%" PRIu64
		",\"sync_count\":%" PRIu64 ",\"in_sync_percent\":%s,",
		s->region_size, s->region_count, s->dirty_count, s->sync_count, pct);
	fmt_json_member(f, "state", s->state, ",");
	fmt_json_member_or_null(f, "recoverer", s->recoverer, "");
	if (*s->recoverer)
		fprintf(f, ",\"recovering_region\":%" PRIu64, s->recovering_region);
	else
		fputs(",\"recovering_region\":null", f);
}

static int by_uuid(const void *a, const void *b)
{
	const struct dmlog_log_summary *x = *(const struct dmlog_log_summary *const *)a;
	const struct dmlog_log_summary *y = *(const struct dmlog_log_summary *const *)b;

	return strcmp(x->uuid, y->uuid);
}

/* The logs sorted by UUID, for an output that does not depend on the server's order. Returns
 * an owned array of l->count pointers into l, or NULL when out of memory. */
static const struct dmlog_log_summary **logs_sorted(const struct dmlog_log_list *l)
{
	const struct dmlog_log_summary **v = calloc(l->count ? l->count : 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < l->count; i++)
		v[i] = &l->logs[i];
	qsort(v, l->count, sizeof(*v), by_uuid);
	return v;
}

static void logs_json(FILE *f, const struct dmlog_log_summary *const *v, size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",{" : "{", f);
		logs_summary_json(f, v[i]);
		fputc('}', f);
	}
	fputs("]\n", f);
}

static int logs_text(FILE *f, const struct dmlog_log_summary *const *v, size_t n)
{
	static const char *const headers[] = {"UUID", "REGION_SIZE", "REGIONS", "DIRTY",
					      "IN_SYNC", "STATE", "RECOVERER"};
	static const bool right[] = {false, true, true, true, true, false, false};
	struct table *t = table_new(7, headers, right);
	int rc = 0;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct dmlog_log_summary *s = v[i];
		char size[32], regions[24], dirty[24], pct[32];
		const char *cells[] = {s->uuid, size, regions, dirty, pct, s->state,
				       *s->recoverer ? s->recoverer : "-"};

		fmt_size(size, sizeof(size), s->region_size);
		snprintf(regions, sizeof(regions), "%" PRIu64, s->region_count);
		snprintf(dirty, sizeof(dirty), "%" PRIu64, s->dirty_count);
		fmt_percent(pct, sizeof(pct) - 1, s->sync_count, s->region_count);
		snprintf(pct + strlen(pct), 2, "%%");
		rc = table_add(t, cells);
	}
	if (rc == 0)
		table_print(t, f, 0);
	table_free(t);
	return rc;
}

int logs_run(struct ctl *ctl, int argc, char **argv)
{
	static const struct dmlog_request req = {.op = DMLOG_OP_ADMIN_LIST_LOGS};
	const struct dmlog_log_summary **sorted;
	struct dmlog_result *res;
	int first, code = CTL_EXIT_OK;
	int rc = options_verb(ctl, argc, argv, "logs", logs_usage, 0, 0, &first);

	if (rc)
		return rc > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	res = remote_query(ctl, &req, NULL, &code);
	if (!res)
		return code;
	sorted = logs_sorted(&res->logs);
	if (!sorted) {
		fprintf(stderr, "dmlogctl: out of memory\n");
		code = CTL_EXIT_FAILED;
	} else if (ctl->json) {
		logs_json(stdout, sorted, res->logs.count);
	} else if (logs_text(stdout, sorted, res->logs.count)) {
		fprintf(stderr, "dmlogctl: out of memory\n");
		code = CTL_EXIT_FAILED;
	}
	free(sorted);
	dmlog_result_free(res);
	return code;
}
