/* demo.c: dmlog-demo, the quick-start demo: one node driving a mirror log as the kernel would.
 *
 * With a node certificate it creates a clustered-core log of 16 regions, resumes it, recovers
 * every region (GET_RESYNC_WORK, SET_REGION_SYNC, CLEAR_REGION, FLUSH until there is no work),
 * runs a write cycle (IN_SYNC, MARK_REGION, FLUSH, IS_CLEAN dirty, CLEAR_REGION, FLUSH, IS_CLEAN
 * clean) and an integrated FLUSH that carries marks, and asks STATUS_INFO. Every request is
 * printed on one line with its answer, and every answer is checked against what the kernel
 * relies on: an unexpected one stops the demo with exit status 1.
 *
 * The log keeps a fixed UUID and luid so that runs are repeatable against one server. A log
 * left by an earlier run (this node's instance is still there, so CTR succeeds again) is
 * noticed right after CTR, by regions already in sync or by its instance having been lost with
 * the node's lease, and is destroyed and created again. At the end the log stays resumed for
 * dmlogctl to show; --remove suspends and destroys it instead, as `dmsetup remove` would.
 *
 * It uses libdmlog's blocking API; one thread.
 */
#include <dmlog/dmlog.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_UUID "LVM-dmlog-demo-quickstart"
#define DEMO_LUID 0x10u
#define DEMO_ARGS "16384 clustered-core 1024" /* 16384 sectors in regions of 1024: 16 */
#define DEMO_REGION_SIZE 1024u
#define DEMO_REGIONS 16u
#define DEMO_WRITE_REGION 3u
#define DEMO_FLUSH_MARK_A 5u
#define DEMO_FLUSH_MARK_B 6u

enum { EXIT_DEMO_FAILED = 1, EXIT_DEMO_USAGE = 2 };

struct demo {
	struct dmlog *h;
	struct dmlog_log_ref log;
	unsigned resynced;
	bool failed;
};

static const char usage_text[] =
	"Usage: dmlog-demo [OPTIONS]\n"
	"Drive a dmlog mirror log the way the kernel does on one node, printing each request\n"
	"and its answer: CTR, GET_REGION_SIZE, RESUME, a full resync, a write cycle, a FLUSH\n"
	"with marks, STATUS_INFO. Repeatable: a log left by an earlier run is re-created.\n"
	"\n"
	"Options:\n"
	"  -s, --server HOST:PORT  dmlogd to use; repeatable (default 127.0.0.1:7788)\n"
	"      --ca FILE           CA certificate (default /etc/dmlog/tls/ca.crt)\n"
	"      --cert FILE         node certificate, OU=dmlog-node (default /etc/dmlog/tls/node.crt)\n"
	"      --key FILE          its private key (default /etc/dmlog/tls/node.key)\n"
	"      --uuid UUID         the log's UUID (default " DEMO_UUID ")\n"
	"      --remove            suspend and destroy the log at the end (default: keep it)\n"
	"  -t, --timeout MS        deadline of each request (default 10000)\n"
	"  -h, --help              show this help\n"
	"\n"
	"Exit status: 0 every answer was as expected, 1 a request failed or an answer was\n"
	"unexpected, 2 usage error.\n";

/* Prints "dmlog-demo: ..." on stderr and marks the demo failed. */
static void demo_fail(struct demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void demo_fail(struct demo *d, const char *fmt, ...)
{
	va_list ap;

	fputs("dmlog-demo: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	d->failed = true;
}

/* Sends req, printing "label -> " first. Returns the owned result, or NULL with the failure
 * printed (then the demo is failed). */
static struct dmlog_result *demo_ask(struct demo *d, struct dmlog_request *req, const char *label)
{
	struct dmlog_result *res = NULL;
	int rc;

	req->log = d->log;
	printf("%s -> ", label);
	fflush(stdout);
	rc = dmlog_call(d->h, req, &res);
	if (rc) {
		printf("failed\n");
		demo_fail(d, "%s failed: %s (%s)", label, dmlog_errmsg(d->h), strerror(-rc));
		return NULL;
	}
	return res;
}

/* A request whose answer is only "done". */
static bool demo_do(struct demo *d, struct dmlog_request *req, const char *label)
{
	struct dmlog_result *res = demo_ask(d, req, label);

	if (!res)
		return false;
	printf("ok\n");
	dmlog_result_free(res);
	return true;
}

/* A request answering a boolean (IS_CLEAN, IN_SYNC) that must be `want`. */
static bool demo_check(struct demo *d, struct dmlog_request *req, const char *label,
		       const char *yes, const char *no, bool want, const char *why)
{
	struct dmlog_result *res = demo_ask(d, req, label);
	bool v;

	if (!res)
		return false;
	v = req->op == DMLOG_OP_IS_CLEAN ? res->clean : res->in_sync;
	dmlog_result_free(res);
	printf("%s\n", v ? yes : no);
	if (v != want) {
		demo_fail(d, "unexpected answer: %s should be %s %s", label, want ? yes : no, why);
		return false;
	}
	return true;
}

static bool demo_ctr(struct demo *d)
{
	struct dmlog_request req = {.op = DMLOG_OP_CTR, .args = DEMO_ARGS};
	struct dmlog_result *res = demo_ask(d, &req, "CTR " DEMO_ARGS);

	if (!res)
		return false;
	printf("%s%s%s\n", "ok", *res->device ? ", device " : "", res->device);
	dmlog_result_free(res);
	return true;
}

/* GET_SYNC_COUNT into *count; a lost instance (-ESTALE) counts as a leftover too. */
static int demo_sync_count(struct demo *d, uint64_t *count)
{
	struct dmlog_request req = {.op = DMLOG_OP_GET_SYNC_COUNT};
	struct dmlog_result *res;
	int rc;

	req.log = d->log;
	printf("GET_SYNC_COUNT -> ");
	fflush(stdout);
	rc = dmlog_call(d->h, &req, &res);
	if (rc == -ESTALE) {
		printf("stale (the instance was lost with its node)\n");
		return rc;
	}
	if (rc) {
		printf("failed\n");
		demo_fail(d, "GET_SYNC_COUNT failed: %s (%s)", dmlog_errmsg(d->h), strerror(-rc));
		return rc;
	}
	*count = res->sync_count;
	dmlog_result_free(res);
	printf("%" PRIu64 " of %u regions in sync\n", *count, DEMO_REGIONS);
	return 0;
}

/* CTR, the check for a log left by an earlier run, and GET_REGION_SIZE. A fresh log has no
 * region in sync before its first resume; a leftover one has some, or its instance was lost
 * with the node's lease (-ESTALE) since the earlier run ended. Either way it is destroyed and
 * created again, so that every run shows the same thing. */
static bool demo_open(struct demo *d)
{
	struct dmlog_request req;
	struct dmlog_result *res;
	uint64_t count = 0;
	int rc;

	if (!demo_ctr(d))
		return false;
	rc = demo_sync_count(d, &count);
	if (rc && rc != -ESTALE)
		return false;
	if (rc || count != 0) {
		printf("(the log is left from an earlier run: destroying and re-creating it)\n");
		req = (struct dmlog_request){.op = DMLOG_OP_DTR};
		if (!demo_do(d, &req, "DTR") || !demo_ctr(d))
			return false;
		if (demo_sync_count(d, &count))
			return false;
		if (count != 0) {
			demo_fail(d, "unexpected answer: a new log should have no region in sync yet "
				  "(another node may hold an instance of %s)", d->log.uuid);
			return false;
		}
	}
	req = (struct dmlog_request){.op = DMLOG_OP_GET_REGION_SIZE};
	res = demo_ask(d, &req, "GET_REGION_SIZE");
	if (!res)
		return false;
	printf("%" PRIu64 " sectors\n", res->region_size);
	if (res->region_size != DEMO_REGION_SIZE) {
		demo_fail(d, "unexpected answer: the region size should be %u", DEMO_REGION_SIZE);
		dmlog_result_free(res);
		return false;
	}
	dmlog_result_free(res);
	return true;
}

/* GET_RESYNC_WORK / SET_REGION_SYNC / CLEAR_REGION / FLUSH until there is no work, as
 * dm-raid1's recovery does; then every region must be in sync. */
static bool demo_resync(struct demo *d)
{
	char label[96];
	uint64_t count;

	for (unsigned i = 0; i <= DEMO_REGIONS; i++) {
		struct dmlog_request req = {.op = DMLOG_OP_GET_RESYNC_WORK};
		struct dmlog_result *res = demo_ask(d, &req, "GET_RESYNC_WORK");
		struct dmlog_resync_work w;

		if (!res)
			return false;
		w = res->resync_work;
		dmlog_result_free(res);
		if (!w.has_work) {
			printf("no work\n");
			if (demo_sync_count(d, &count))
				return false;
			if (count != DEMO_REGIONS) {
				demo_fail(d, "unexpected answer: all %u regions should be in sync",
					  DEMO_REGIONS);
				return false;
			}
			return true;
		}
		printf("region %" PRIu64 "\n", w.region);
		if (i == DEMO_REGIONS || w.region >= DEMO_REGIONS) {
			demo_fail(d, "unexpected answer: region %" PRIu64 " after %u recovered of %u",
				  w.region, d->resynced, DEMO_REGIONS);
			return false;
		}
		snprintf(label, sizeof(label), "SET_REGION_SYNC region %" PRIu64 " in sync", w.region);
		req = (struct dmlog_request){.op = DMLOG_OP_SET_REGION_SYNC, .region = w.region,
					     .in_sync = true};
		if (!demo_do(d, &req, label))
			return false;
		snprintf(label, sizeof(label), "CLEAR_REGION %" PRIu64, w.region);
		req = (struct dmlog_request){.op = DMLOG_OP_CLEAR_REGION, .regions = &w.region,
					     .region_count = 1};
		if (!demo_do(d, &req, label))
			return false;
		req = (struct dmlog_request){.op = DMLOG_OP_FLUSH};
		if (!demo_do(d, &req, "FLUSH"))
			return false;
		d->resynced++;
	}
	return false; /* not reached: the loop returns */
}

/* One write to a region: the kernel marks it before writing and clears it after. */
static bool demo_write_cycle(struct demo *d)
{
	const uint64_t r = DEMO_WRITE_REGION;
	char in_sync[48], mark[48], is_clean[48], clear[48];
	struct dmlog_request req;

	snprintf(in_sync, sizeof(in_sync), "IN_SYNC region %" PRIu64, r);
	snprintf(mark, sizeof(mark), "MARK_REGION %" PRIu64, r);
	snprintf(is_clean, sizeof(is_clean), "IS_CLEAN region %" PRIu64, r);
	snprintf(clear, sizeof(clear), "CLEAR_REGION %" PRIu64, r);
	req = (struct dmlog_request){.op = DMLOG_OP_IN_SYNC, .region = r};
	if (!demo_check(d, &req, in_sync, "in sync", "not in sync", true, "after the resync"))
		return false;
	req = (struct dmlog_request){.op = DMLOG_OP_MARK_REGION, .regions = &r, .region_count = 1};
	if (!demo_do(d, &req, mark))
		return false;
	req = (struct dmlog_request){.op = DMLOG_OP_FLUSH};
	if (!demo_do(d, &req, "FLUSH"))
		return false;
	req = (struct dmlog_request){.op = DMLOG_OP_IS_CLEAN, .region = r};
	if (!demo_check(d, &req, is_clean, "clean", "dirty", false, "after MARK_REGION and FLUSH"))
		return false;
	req = (struct dmlog_request){.op = DMLOG_OP_CLEAR_REGION, .regions = &r, .region_count = 1};
	if (!demo_do(d, &req, clear))
		return false;
	req = (struct dmlog_request){.op = DMLOG_OP_FLUSH};
	if (!demo_do(d, &req, "FLUSH"))
		return false;
	req = (struct dmlog_request){.op = DMLOG_OP_IS_CLEAN, .region = r};
	return demo_check(d, &req, is_clean, "clean", "dirty", true, "after CLEAR_REGION and FLUSH");
}

/* A FLUSH that carries its marks (one round trip instead of MARK_REGION + FLUSH). */
static bool demo_integrated_flush(struct demo *d)
{
	const uint64_t marks[2] = {DEMO_FLUSH_MARK_A, DEMO_FLUSH_MARK_B};
	char label[64];
	struct dmlog_request req;

	snprintf(label, sizeof(label), "FLUSH marks %u,%u", DEMO_FLUSH_MARK_A, DEMO_FLUSH_MARK_B);
	req = (struct dmlog_request){.op = DMLOG_OP_FLUSH, .regions = marks, .region_count = 2};
	if (!demo_do(d, &req, label))
		return false;
	for (unsigned i = 0; i < 2; i++) {
		snprintf(label, sizeof(label), "IS_CLEAN region %" PRIu64, marks[i]);
		req = (struct dmlog_request){.op = DMLOG_OP_IS_CLEAN, .region = marks[i]};
		if (!demo_check(d, &req, label, "clean", "dirty", false, "after a FLUSH marking it"))
			return false;
	}
	snprintf(label, sizeof(label), "CLEAR_REGION %u,%u", DEMO_FLUSH_MARK_A, DEMO_FLUSH_MARK_B);
	req = (struct dmlog_request){.op = DMLOG_OP_CLEAR_REGION, .regions = marks,
				     .region_count = 2};
	if (!demo_do(d, &req, label))
		return false;
	req = (struct dmlog_request){.op = DMLOG_OP_FLUSH};
	if (!demo_do(d, &req, "FLUSH"))
		return false;
	snprintf(label, sizeof(label), "IS_CLEAN region %u", DEMO_FLUSH_MARK_A);
	req = (struct dmlog_request){.op = DMLOG_OP_IS_CLEAN, .region = DEMO_FLUSH_MARK_A};
	return demo_check(d, &req, label, "clean", "dirty", true, "after CLEAR_REGION and FLUSH");
}

static bool demo_status(struct demo *d)
{
	struct dmlog_request req = {.op = DMLOG_OP_STATUS_INFO};
	struct dmlog_result *res = demo_ask(d, &req, "STATUS_INFO");

	if (!res)
		return false;
	printf("\"%s\"\n", res->text);
	dmlog_result_free(res);
	return true;
}

/* PRESUSPEND, POSTSUSPEND, DTR: what deactivating the mirror sends. */
static bool demo_remove(struct demo *d)
{
	static const enum dmlog_op ops[] = {DMLOG_OP_PRESUSPEND, DMLOG_OP_POSTSUSPEND, DMLOG_OP_DTR};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct dmlog_request req = {.op = ops[i]};

		if (!demo_do(d, &req, dmlog_op_name(ops[i])))
			return false;
	}
	return true;
}

static bool demo_run(struct demo *d, bool remove)
{
	struct dmlog_request req = {.op = DMLOG_OP_RESUME};

	return demo_open(d) && demo_do(d, &req, "RESUME") && demo_resync(d) &&
	       demo_write_cycle(d) && demo_integrated_flush(d) && demo_status(d) &&
	       (!remove || demo_remove(d));
}

static int parse_timeout(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v == 0 || v > 86400000ul)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("dmlog-demo: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'dmlog-demo --help'.\n", stderr);
	return EXIT_DEMO_USAGE;
}

int main(int argc, char **argv)
{
	enum { OPT_CA = 1000, OPT_CERT, OPT_KEY, OPT_UUID, OPT_REMOVE };
	static const struct option long_options[] = {
		{"server", required_argument, NULL, 's'},
		{"ca", required_argument, NULL, OPT_CA},
		{"cert", required_argument, NULL, OPT_CERT},
		{"key", required_argument, NULL, OPT_KEY},
		{"uuid", required_argument, NULL, OPT_UUID},
		{"remove", no_argument, NULL, OPT_REMOVE},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct dmlog_options o;
	struct demo d;
	char errmsg[DMLOG_ERRMSG_SIZE];
	unsigned nservers = 0;
	bool remove = false;
	int c;

	memset(&o, 0, sizeof(o));
	memset(&d, 0, sizeof(d));
	o.ca_file = "/etc/dmlog/tls/ca.crt";
	o.cert_file = "/etc/dmlog/tls/node.crt";
	o.key_file = "/etc/dmlog/tls/node.key";
	o.request_timeout_ms = 10000;
	o.client_name = "dmlog-demo/" DMLOG_VERSION_STRING;
	d.log = (struct dmlog_log_ref){.uuid = DEMO_UUID, .luid = DEMO_LUID, .version = 3};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:t:h", long_options, NULL)) != -1) {
		switch (c) {
		case 's':
			if (nservers == DMLOG_MAX_SERVERS)
				return usage_error("more than %d servers", DMLOG_MAX_SERVERS);
			o.servers[nservers++] = optarg;
			break;
		case OPT_CA:
			o.ca_file = optarg;
			break;
		case OPT_CERT:
			o.cert_file = optarg;
			break;
		case OPT_KEY:
			o.key_file = optarg;
			break;
		case OPT_UUID:
			if (!*optarg || strlen(optarg) > DMLOG_UUID_MAX)
				return usage_error("--uuid: '%s' is not 1 to %d bytes", optarg,
						   DMLOG_UUID_MAX);
			d.log.uuid = optarg;
			break;
		case OPT_REMOVE:
			remove = true;
			break;
		case 't':
			if (parse_timeout(optarg, &o.request_timeout_ms))
				return usage_error("--timeout: '%s' is not a number of milliseconds",
						   optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (nservers == 0)
		o.servers[0] = "127.0.0.1:7788";
	setvbuf(stdout, NULL, _IOLBF, 0); /* lines interleave with errors as they happen */

	d.h = dmlog_new(&o, errmsg);
	if (!d.h) {
		fprintf(stderr, "dmlog-demo: %s\n", errmsg);
		return EXIT_DEMO_FAILED;
	}
	printf("dmlog-demo: node certificate %s, server %s%s, log %s (luid 0x%" PRIx64 ")\n",
	       o.cert_file, o.servers[0], nservers > 1 ? " and others" : "", d.log.uuid,
	       d.log.luid);
	if (!demo_run(&d, remove) || d.failed) {
		dmlog_free(d.h);
		fprintf(stderr, "dmlog-demo: stopped after an error; see above\n");
		return EXIT_DEMO_FAILED;
	}
	dmlog_free(d.h);
	printf("dmlog-demo: done: %u regions of %u sectors, %u recovered, all in sync; write cycle "
	       "and FLUSH with marks as expected; log %s\n",
	       DEMO_REGIONS, DEMO_REGION_SIZE, d.resynced,
	       remove ? "removed" : "kept resumed (dmlogctl log show shows it; --remove deletes it)");
	return 0;
}
