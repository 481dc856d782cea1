/* ctl.h: what the parts of dmlogctl share: its settings, exit codes and verb entry points.
 *
 * dmlogctl is a one-shot program: main.c parses the global options, picks a verb and calls its
 * entry point, which connects (remote.c), asks one admin query, prints the answer as text or
 * JSON (fmt.c, table.c) and returns the process exit code. Nothing here is thread-aware; the
 * program has one thread.
 */
#ifndef DMLOGCTL_CTL_H
#define DMLOGCTL_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include <dmlog/dmlog.h>

/* Exit codes, documented in --help and dmlogctl(8). */
enum ctl_exit {
	CTL_EXIT_OK = 0,          /* success; for status: healthy (a leader, every voter reachable) */
	CTL_EXIT_FAILED = 1,      /* status: degraded (a leader and a reachable majority, not every
				   * voter); other verbs: the server answered with an error (unknown
				   * log, permission denied) */
	CTL_EXIT_UNREACHABLE = 2, /* no server answered, TLS failed, the TLS files are unusable; for
				   * status also: no leader or no reachable majority */
	CTL_EXIT_USAGE = 3,       /* bad command line */
};

#define CTL_DEFAULT_SERVER "127.0.0.1:7788"
#define CTL_DEFAULT_CA "/etc/dmlog/tls/ca.crt"
#define CTL_DEFAULT_CERT "/etc/dmlog/tls/admin.crt"
#define CTL_DEFAULT_KEY "/etc/dmlog/tls/admin.key"
#define CTL_DEFAULT_TIMEOUT_MS 5000u

/* The settings of one run, from the defaults, the environment and the command line (in that
 * order of precedence, the last winning). Strings point into argv, the environment or
 * server_buf; none is owned except server_buf. */
struct ctl {
	const char *servers[DMLOG_MAX_SERVERS];
	unsigned server_count;
	bool servers_from_cli;     /* the first --server replaces the environment's list */
	char *server_buf;          /* owned copy of DMLOG_SERVER, split in place */
	const char *ca;
	const char *cert;
	const char *key;
	uint32_t timeout_ms;
	bool json;
	bool help;
};

/* A verb: reads its own arguments (argv[0] is the verb's name; the global options are also
 * accepted there) and returns an exit code. */
typedef int ctl_verb_fn(struct ctl *ctl, int argc, char **argv);

ctl_verb_fn status_run;   /* status.c: `status` */
ctl_verb_fn peers_run;    /* status.c: `peers` */
ctl_verb_fn logs_run;     /* logs.c: `logs` */
ctl_verb_fn show_run;     /* show.c: `log show UUID` (argv[0] is "show") */
ctl_verb_fn peer_run;     /* peer.c: `peer add ...`, `peer remove ...` (argv[0] is "peer") */
ctl_verb_fn digest_run;   /* peer.c: `digest` */

/* peer.c: `help peer [add|remove]` (sub may be NULL). */
int peer_help(struct ctl *ctl, const char *sub);

#endif /* DMLOGCTL_CTL_H */
