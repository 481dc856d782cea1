/* show.c: the `log show UUID` verb: one log in detail, from ADMIN_SHOW_LOG.
 *
 * The text form is a block of "label: value" lines (the summary), the dirty and out-of-sync
 * regions as compressed ranges ("0-3,7,9"), the marks held by each node (sorted by node, each
 * node's regions compressed the same way) and a table of the kernel instances. The JSON form
 * carries the same, ranges as [first,last] pairs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "fmt.h"
#include "logs.h"
#include "options.h"
#include "remote.h"
#include "table.h"

static const char show_usage[] =
	"Usage: dmlogctl [OPTIONS] log show UUID\n"
	"Show one log: its type, device, region size, regions, dirty regions, the share in sync,\n"
	"its state and recoverer; then the dirty and the out-of-sync regions as ranges (a-b,c),\n"
	"the regions each node has marked, and the kernel instances (node, luid, state, in-sync\n"
	"hint).\n"
	"\n"
	"Options: --json, and the global options (dmlogctl --help).\n"
	"Exit status: 0 success, 1 no such log or the server refused, 2 unreachable or TLS\n"
	"failure, 3 usage error.\n";

/* A node's marks as compressed ranges. */
struct show_marks {
	const char *node;
	struct dmlog_region_range *ranges;
	size_t count;
};

static int by_node(const void *a, const void *b)
{
	return strcmp(((const struct show_marks *)a)->node, ((const struct show_marks *)b)->node);
}

static void show_marks_free(struct show_marks *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++)
		free(m[i].ranges);
	free(m);
}

/* Compresses every node's marks and sorts the nodes by name. Returns 0 or -ENOMEM; *out is
 * owned (show_marks_free()). */
static int show_marks_build(const struct dmlog_log_detail *d, struct show_marks **out)
{
	struct show_marks *m = calloc(d->mark_count ? d->mark_count : 1, sizeof(*m));

	*out = NULL;
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < d->mark_count; i++) {
		m[i].node = d->marks[i].node;
		if (fmt_compress(d->marks[i].regions, d->marks[i].region_count, &m[i].ranges,
				 &m[i].count)) {
			show_marks_free(m, d->mark_count);
			return -ENOMEM;
		}
	}
	qsort(m, d->mark_count, sizeof(*m), by_node);
	*out = m;
	return 0;
}

static void show_json(FILE *f, const struct dmlog_log_detail *d, const struct show_marks *m)
{
	fputc('{', f);
	logs_summary_json(f, &d->summary);
	fprintf(f, ",\"fully_synced\":%s,\"dirty_ranges\":", d->fully_synced ? "true" : "false");
	fmt_ranges_json(f, d->dirty, d->dirty_count);
	fputs(",\"out_of_sync_ranges\":", f);
	fmt_ranges_json(f, d->out_of_sync, d->out_of_sync_count);
	fputs(",\"marks\":[", f);
	for (size_t i = 0; i < d->mark_count; i++) {
		fputs(i ? ",{" : "{", f);
		fmt_json_member(f, "node", m[i].node, "");
		fputs(",\"ranges\":", f);
		fmt_ranges_json(f, m[i].ranges, m[i].count);
		fputc('}', f);
	}
	fputs("],\"instances\":[", f);
	for (size_t i = 0; i < d->instance_count; i++) {
		const struct dmlog_instance_info *in = &d->instances[i];

		fputs(i ? ",{" : "{", f);
		fmt_json_member(f, "node", in->node, "");
		fprintf(f, ",\"luid\":%" PRIu64 ",\"luid_hex\":\"0x%" PRIx64 "\",", in->luid, in->luid);
		fmt_json_member(f, "state", in->state, "");
		fprintf(f, ",\"in_sync_hint\":%" PRIu64 "}", in->in_sync_hint);
	}
	fputs("]}\n", f);
}

static int show_instances(FILE *f, const struct dmlog_log_detail *d)
{
	static const char *const headers[] = {"NODE", "LUID", "STATE", "IN_SYNC_HINT"};
	struct table *t;
	int rc = 0;

	if (d->instance_count == 0) {
		fmt_field(f, "instances", "none");
		return 0;
	}
	t = table_new(4, headers, NULL);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < d->instance_count && rc == 0; i++) {
		const struct dmlog_instance_info *in = &d->instances[i];
		char luid[24], hint[24];
		const char *cells[] = {in->node, luid, in->state, hint};

		snprintf(luid, sizeof(luid), "0x%" PRIx64, in->luid);
		snprintf(hint, sizeof(hint), "%" PRIu64, in->in_sync_hint);
		rc = table_add(t, cells);
	}
	if (rc == 0) {
		fputs("instances:\n", f);
		table_print(t, f, 2);
	}
	table_free(t);
	return rc;
}

static int show_text(FILE *f, const struct dmlog_log_detail *d, const struct show_marks *m)
{
	const struct dmlog_log_summary *s = &d->summary;
	char size[32], pct[32];

	fmt_size(size, sizeof(size), s->region_size);
	fmt_percent(pct, sizeof(pct), s->sync_count, s->region_count);
	fmt_field(f, "uuid", "%s", s->uuid);
	fmt_field(f, "type", "%s", s->log_type);
	fmt_field(f, "device", "%s", *s->device ? s->device : "-");
	fmt_field(f, "region size", "%" PRIu64 " sectors (%s)", s->region_size, size);
	fmt_field(f, "regions", "%" PRIu64, s->region_count);
	fmt_field(f, "dirty", "%" PRIu64, s->dirty_count);
	fmt_field(f, "in sync", "%" PRIu64 " of %" PRIu64 " (%s%%)", s->sync_count,
		  s->region_count, pct);
	fmt_field(f, "state", "%s", s->state);
	if (*s->recoverer)
		fmt_field(f, "recoverer", "%s (region %" PRIu64 ")", s->recoverer,
			  s->recovering_region);
	else
		fmt_field(f, "recoverer", "none");
	fmt_field(f, "fully synced", "%s", d->fully_synced ? "yes" : "no");
	fmt_label(f, "dirty regions");
	fmt_ranges(f, d->dirty, d->dirty_count);
	fputc('\n', f);
	fmt_label(f, "out of sync");
	fmt_ranges(f, d->out_of_sync, d->out_of_sync_count);
	fputc('\n', f);
	if (d->mark_count == 0) {
		fmt_field(f, "marks", "none");
	} else {
		fputs("marks:\n", f);
		for (size_t i = 0; i < d->mark_count; i++) {
			fprintf(f, "  %s: ", m[i].node);
			fmt_ranges(f, m[i].ranges, m[i].count);
			fputc('\n', f);
		}
	}
	return show_instances(f, d);
}

int show_run(struct ctl *ctl, int argc, char **argv)
{
	struct dmlog_result *res = NULL;
	struct show_marks *marks;
	struct dmlog *h;
	const char *uuid;
	int first, code = CTL_EXIT_OK;
	int rc = options_verb(ctl, argc, argv, "log show", show_usage, 1, 1, &first);

	if (rc)
		return rc > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	uuid = argv[first];
	if (!*uuid || strlen(uuid) > DMLOG_UUID_MAX) {
		options_usage_error("log show", "a UUID is 1 to %d bytes", DMLOG_UUID_MAX);
		return CTL_EXIT_USAGE;
	}
	h = remote_open(ctl);
	if (!h)
		return CTL_EXIT_UNREACHABLE;
	rc = dmlog_admin_show_log(h, uuid, &res);
	if (rc == -ENOENT) {
		fprintf(stderr, "dmlogctl: no log with uuid %s\n", uuid);
		code = CTL_EXIT_FAILED;
	} else if (rc) {
		code = remote_fail(ctl, h, rc);
	}
	dmlog_free(h);
	if (rc)
		return code;
	if (show_marks_build(&res->log, &marks)) {
		fprintf(stderr, "dmlogctl: out of memory\n");
		dmlog_result_free(res);
		return CTL_EXIT_FAILED;
	}
	if (ctl->json) {
		show_json(stdout, &res->log, marks);
	} else if (show_text(stdout, &res->log, marks)) {
		fprintf(stderr, "dmlogctl: out of memory\n");
		code = CTL_EXIT_FAILED;
	}
	show_marks_free(marks, res->log.mark_count);
	dmlog_result_free(res);
	return code;
}
