/* agent.h: the line protocol between a latency agent and bench_rounds, the driver.
 *
 * An agent is a process that holds one warmed-up client (a file for fdatasync, a libdmlog
 * handle, a fake kernel talking to dmlog-bridge, a TLS echo client, a libcpg handle, an HTTP
 * connection to etcd) and measures round trips only when the driver asks, so that the driver
 * can interleave agents round by round and drift hits every series alike. Setup (connecting,
 * handshakes, opening the log) is never timed.
 *
 * Protocol, one line each way, on stdin/stdout:
 *   agent -> driver, once set up:   "R <series> [<series>...]"   or "X <reason>" and exit 1
 *   driver -> agent:                "run <N>"
 *   agent -> driver:                "S <series> <us> <us> ..." (N samples) per series, then "E";
 *                                   or "X <reason>" and exit 1
 *   driver -> agent:                "quit" (or EOF): the agent cleans up and exits 0
 * stderr is free for diagnostics. Single-threaded. */
#ifndef DMLOG_BENCH_AGENT_H
#define DMLOG_BENCH_AGENT_H

#include <stddef.h>

#include "stats.h"

#define AGENT_SERIES_MAX 8
#define AGENT_ERR_MAX 256

struct agent {
	size_t nseries;
	const char *series[AGENT_SERIES_MAX];
	/* Runs n operations of each series, adding one sample per operation to s[i] (already
	 * reset). Returns 0, or -1 with the reason in err (AGENT_ERR_MAX bytes). */
	int (*run)(void *ctx, int n, struct stats *s, char *err);
	void *ctx;
};

/* Announces the series and serves the protocol until "quit" or EOF. Returns the process exit
 * status (0, or 1 after a failed run, which was reported with "X"). */
int agent_serve(const struct agent *a);

/* Reports a setup failure ("X <reason>") and returns 1, the exit status to use. */
int agent_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "key=value" arguments: the value of key, or def when absent. */
const char *agent_arg(int argc, char **argv, const char *key, const char *def);

#endif /* DMLOG_BENCH_AGENT_H */
