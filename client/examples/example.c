/* example.c: a small libdmlog program: open a log instance, mark, flush and read it back.
 *
 * Usage: dmlog_example SERVER CA CERT KEY [UUID]
 *   SERVER  host:port of a dmlogd (for example 127.0.0.1:7788)
 *   CA      the CA certificate the server's certificate chains to
 *   CERT    this node's certificate, KEY its private key
 *   UUID    the log to use (default: dmlog-example)
 *
 * It runs CTR, RESUME, MARK_REGION(5), FLUSH and IN_SYNC(5) through the blocking API and prints
 * each answer; on failure it prints the library's message and exits with status 1.
 */
#include <dmlog/dmlog.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int report(struct dmlog *h, const char *what, int rc)
{
	if (rc < 0)
		fprintf(stderr, "%s: %s (%s)\n", what, dmlog_errmsg(h), strerror(-rc));
	return rc;
}

int main(int argc, char **argv)
{
	struct dmlog_options opts;
	char errmsg[DMLOG_ERRMSG_SIZE];
	char device[128];
	struct dmlog *h;
	bool in_sync;
	uint64_t region = 5;
	int rc;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: %s SERVER CA CERT KEY [UUID]\n", argv[0]);
		return 2;
	}
	memset(&opts, 0, sizeof(opts));
	opts.servers[0] = argv[1];
	opts.ca_file = argv[2];
	opts.cert_file = argv[3];
	opts.key_file = argv[4];
	opts.client_name = "dmlog_example";
	opts.request_timeout_ms = 10000;

	const struct dmlog_log_ref log = {
		.uuid = argc == 6 ? argv[5] : "dmlog-example",
		.luid = 1,
		.version = 3,
	};

	h = dmlog_new(&opts, errmsg);
	if (!h) {
		fprintf(stderr, "dmlog_new: %s\n", errmsg);
		return 1;
	}
	/* As the kernel words it: target length (sectors), log type, region size (sectors). */
	rc = report(h, "CTR", dmlog_ctr(h, &log, "2097152 clustered-core 1024", false, device,
				      sizeof(device)));
	if (rc == 0)
		printf("CTR: ok, device '%s'\n", device);
	if (rc == 0 && (rc = report(h, "RESUME", dmlog_resume(h, &log))) == 0)
		printf("RESUME: ok\n");
	if (rc == 0 && (rc = report(h, "MARK_REGION", dmlog_mark_region(h, &log, &region, 1))) == 0)
		printf("MARK_REGION %" PRIu64 ": ok\n", region);
	if (rc == 0 && (rc = report(h, "FLUSH", dmlog_flush(h, &log, NULL, 0))) == 0)
		printf("FLUSH: ok\n");
	if (rc == 0 && (rc = report(h, "IN_SYNC", dmlog_in_sync(h, &log, region, &in_sync))) == 0)
		printf("IN_SYNC %" PRIu64 ": %s\n", region, in_sync ? "yes" : "no");
	dmlog_free(h);
	return rc == 0 ? 0 : 1;
}
