/* main.c: dmlogctl, the administration command of dmlog: global options and verb dispatch.
 *
 * dmlogctl asks one dmlogd (following redirects to the Raft leader) one admin query per run,
 * with an admin certificate, and prints the answer as text for people or JSON for programs.
 * The verbs live in status.c (status, peers), logs.c (logs), show.c (log show) and peer.c (peer
 * add, peer remove, digest); each returns
 * the process exit code (ctl.h), which --help and dmlogctl(8) document.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "options.h"

#ifndef DMLOGCTL_VERSION
#define DMLOGCTL_VERSION DMLOG_VERSION_STRING
#endif

static const char usage_text[] =
	"Usage: dmlogctl [OPTIONS] VERB [ARGS]\n"
	"Show the state of a dmlog cluster (dmlogd servers) to an administrator, and change its\n"
	"Raft membership.\n"
	"\n"
	"Verbs:\n"
	"  status          the server: Raft role, leader, term, indexes, peers, counts, health\n"
	"  peers           the Raft peers as the server sees them\n"
	"  logs            one line per log: region size, regions, dirty, in sync, state, recoverer\n"
	"  log show UUID   one log: dirty and out-of-sync ranges, marks by node, instances\n"
	"  peer add RAFT_ID HOST:PORT ID\n"
	"                  add a server to the Raft configuration (the leader answers)\n"
	"  peer remove RAFT_ID\n"
	"                  remove a server from the Raft configuration\n"
	"  digest          the SHA-256 of the server's state machine and its applied index\n"
	"  help [VERB]     this text, or the help of a verb (also: dmlogctl VERB --help)\n"
	"\n"
	"Options (before or after the verb):\n"
	"  -s, --server HOST:PORT  a dmlogd to ask; repeatable, tried in turn (default "
	CTL_DEFAULT_SERVER ")\n"
	"      --ca FILE           CA certificate (default " CTL_DEFAULT_CA ")\n"
	"      --cert FILE         admin certificate, OU=dmlog-admin (default " CTL_DEFAULT_CERT ")\n"
	"      --key FILE          its private key (default " CTL_DEFAULT_KEY ")\n"
	"  -t, --timeout MS        give up after MS milliseconds (default 5000)\n"
	"  -j, --json              print JSON instead of text\n"
	"  -h, --help              show this help\n"
	"  -V, --version           show the version\n"
	"\n"
	"Environment: DMLOG_SERVER (HOST:PORT[,HOST:PORT...]), DMLOG_CA, DMLOG_CERT, DMLOG_KEY\n"
	"replace the defaults; options override them.\n"
	"\n"
	"Exit status:\n"
	"  0  success; for status: healthy (a leader, every voter reachable)\n"
	"  1  status: degraded (a leader, a majority of the voters reachable, not all); other\n"
	"     verbs: the server refused the request (no such log, permission denied, a refused\n"
	"     membership change)\n"
	"  2  no server could be reached, TLS failed, or the TLS files cannot be used; for\n"
	"     status also: unavailable (no leader known, or no reachable majority)\n"
	"  3  usage error\n";

static const char log_usage_text[] =
	"Usage: dmlogctl [OPTIONS] log show UUID\n"
	"Commands about one log:\n"
	"  log show UUID   the log in detail (dmlogctl log show --help)\n";

struct verb {
	const char *name;
	ctl_verb_fn *run;
};

static const struct verb verbs[] = {
	{"status", status_run},
	{"peers", peers_run},
	{"logs", logs_run},
	{"peer", peer_run},
	{"digest", digest_run},
};

/* `log SUBVERB ...`: argv[0] is "log". */
static int log_run(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2) {
		options_usage_error("log", "missing sub-verb (show)");
		return CTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(log_usage_text, stdout);
		return CTL_EXIT_OK;
	}
	if (!strcmp(argv[1], "show"))
		return show_run(ctl, argc - 1, argv + 1);
	if (argv[1][0] == '-')
		options_usage_error("log", "options go after the sub-verb (log show %s ...)", argv[1]);
	else
		options_usage_error("log", "unknown sub-verb '%s' (known: show)", argv[1]);
	return CTL_EXIT_USAGE;
}

/* `help [VERB [SUBVERB]]`: runs the verb with --help. */
static int help_run(struct ctl *ctl, int argc, char **argv)
{
	char help[] = "--help";
	char *args[3];

	if (argc < 2) {
		fputs(usage_text, stdout);
		return CTL_EXIT_OK;
	}
	if (!strcmp(argv[1], "log")) {
		if (argc > 2 && !strcmp(argv[2], "show")) {
			args[0] = argv[2];
			args[1] = help;
			args[2] = NULL;
			return show_run(ctl, 2, args);
		}
		fputs(log_usage_text, stdout);
		return CTL_EXIT_OK;
	}
	if (!strcmp(argv[1], "peer"))
		return peer_help(ctl, argc > 2 ? argv[2] : NULL);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (!strcmp(argv[1], verbs[i].name)) {
			args[0] = argv[1];
			args[1] = help;
			args[2] = NULL;
			return verbs[i].run(ctl, 2, args);
		}
	}
	options_usage_error("help", "unknown verb '%s'", argv[1]);
	return CTL_EXIT_USAGE;
}

static int dispatch(struct ctl *ctl, int argc, char **argv)
{
	const char *name = argv[0];

	if (!strcmp(name, "log"))
		return log_run(ctl, argc, argv);
	if (!strcmp(name, "help"))
		return help_run(ctl, argc, argv);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(name, verbs[i].name))
			return verbs[i].run(ctl, argc, argv);
	options_usage_error(NULL, "unknown verb '%s'", name);
	return CTL_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct ctl ctl;
	bool version;
	int next, rc;

	/* A server closing the connection must not kill us, nor a reader closing our output. */
	signal(SIGPIPE, SIG_IGN);
	rc = options_init(&ctl);
	if (rc) {
		if (rc == -ENOMEM)
			fprintf(stderr, "dmlogctl: out of memory\n");
		options_free(&ctl);
		return rc == -ENOMEM ? CTL_EXIT_FAILED : CTL_EXIT_USAGE;
	}
	if (options_global(&ctl, argc, argv, &next, &version)) {
		rc = CTL_EXIT_USAGE;
	} else if (version) {
		printf("dmlogctl %s (libdmlog %s)\n", DMLOGCTL_VERSION, DMLOG_VERSION_STRING);
		rc = CTL_EXIT_OK;
	} else if (ctl.help) {
		fputs(usage_text, stdout);
		rc = CTL_EXIT_OK;
	} else if (next >= argc) {
		options_usage_error(NULL, "missing verb (status, peers, logs, log show, peer, digest)");
		rc = CTL_EXIT_USAGE;
	} else {
		rc = dispatch(&ctl, argc - next, argv + next);
	}
	options_free(&ctl);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "dmlogctl: writing the output: %s\n", strerror(errno));
		if (rc == CTL_EXIT_OK)
			rc = CTL_EXIT_FAILED;
	}
	return rc;
}
