/* rounds.c: bench_rounds, the driver that interleaves latency agents round by round.
 *
 * Starts each agent (a shell command speaking agent.h's protocol), waits until all are set up,
 * runs one warm-up batch per agent (discarded), then ROUNDS rounds; in each round every agent
 * runs PER_ROUND operations per series, one agent after the other, the starting agent rotating
 * from round to round. So slow phases of the machine (a noisy neighbour, CPU frequency, the
 * disk's cache) hit every series alike, and what is compared was measured in the same minutes.
 * An agent that fails or stalls is stopped and reported; the others go on. Every wait is
 * bounded: setup, each batch, and the whole run (rounds stop at the time budget).
 *
 * Usage: bench_rounds [-n ROUNDS] [-r PER_ROUND] [-w WARMUP] [-b BUDGET_S] [-s STEP_S]
 *                     [-o OUTDIR] NAME=COMMAND...
 * Prints, per agent, "agent NAME ok" or "agent NAME failed REASON"; per series
 * "series NAME.SERIES COUNT P50 P90 P99 MEAN" (microseconds); and "rounds DONE". With -o, the
 * samples of each series go to OUTDIR/NAME.SERIES.txt (one per line). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "stats.h"

#define ROUNDS_AGENTS_MAX 16

struct proc {
	char name[64];
	const char *cmd;
	pid_t pid;
	int to;             /* its stdin */
	int from;           /* its stdout */
	char *buf;
	size_t len, cap, used; /* used: bytes of buf already returned as lines */
	int failed;
	char reason[AGENT_ERR_MAX];
	size_t nseries;
	char series[AGENT_SERIES_MAX][64];
	struct stats s[AGENT_SERIES_MAX];
};

static struct proc procs[ROUNDS_AGENTS_MAX];
static int nprocs;

static void proc_fail(struct proc *p, const char *what, const char *detail)
{
	if (p->failed)
		return;
	p->failed = 1;
	snprintf(p->reason, sizeof(p->reason), "%s%s", what, detail);
	fprintf(stderr, "bench_rounds: %s: %s\n", p->name, p->reason);
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		for (int i = 0; i < 50 && waitpid(p->pid, NULL, WNOHANG) == 0; i++)
			usleep(100000);
		if (waitpid(p->pid, NULL, WNOHANG) == 0) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, NULL, 0);
		}
		p->pid = 0;
	}
}

static int proc_start(struct proc *p)
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		return -1;
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		char *cmd;

		dup2(in[0], 0);
		dup2(out[1], 1);
		if (asprintf(&cmd, "exec %s", p->cmd) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	p->to = in[1];
	p->from = out[0];
	return 0;
}

/* The next line of the agent's output, NUL-terminated, or NULL (failure recorded) at EOF or
 * when deadline (stats_now_us() time) passes. Valid until the next call. */
static char *proc_line(struct proc *p, double deadline)
{
	for (;;) {
		char *nl;

		if (p->used) {
			memmove(p->buf, p->buf + p->used, p->len - p->used);
			p->len -= p->used;
			p->used = 0;
		}
		nl = p->len ? memchr(p->buf, '\n', p->len) : NULL;
		if (nl) {
			*nl = '\0';
			p->used = (size_t)(nl - p->buf) + 1;
			return p->buf;
		}
		if (p->len + 4096 > p->cap) {
			size_t cap = p->cap ? p->cap * 2 : 65536;
			char *b = realloc(p->buf, cap);

			if (!b) {
				proc_fail(p, "", "out of memory");
				return NULL;
			}
			p->buf = b;
			p->cap = cap;
		}
		{
			struct pollfd pf = {p->from, POLLIN, 0};
			double left = (deadline - stats_now_us()) / 1e3;
			ssize_t k;

			if (left <= 0 || poll(&pf, 1, (int)left + 1) == 0) {
				proc_fail(p, "", "timed out");
				return NULL;
			}
			k = read(p->from, p->buf + p->len, p->cap - p->len - 1);
			if (k <= 0) {
				proc_fail(p, "", "exited");
				return NULL;
			}
			p->len += (size_t)k;
		}
	}
}

/* Reads until the agent's "R" line. */
static void proc_ready(struct proc *p, double deadline)
{
	char *line = proc_line(p, deadline);

	if (!line)
		return;
	if (line[0] == 'X') {
		proc_fail(p, "", line + 2);
		return;
	}
	if (line[0] != 'R') {
		proc_fail(p, "unexpected line: ", line);
		return;
	}
	for (char *save = NULL, *w = strtok_r(line + 1, " ", &save);
	     w && p->nseries < AGENT_SERIES_MAX; w = strtok_r(NULL, " ", &save))
		snprintf(p->series[p->nseries++], sizeof(p->series[0]), "%s", w);
}

/* One batch of n operations; keep: add the samples to the series. */
static void proc_batch(struct proc *p, int n, int keep, double deadline)
{
	char cmd[32];
	int k = snprintf(cmd, sizeof(cmd), "run %d\n", n);

	if (p->failed)
		return;
	if (write(p->to, cmd, (size_t)k) != k) {
		proc_fail(p, "", "cannot write to it");
		return;
	}
	for (;;) {
		char *line = proc_line(p, deadline), *name, *rest;
		size_t i;

		if (!line)
			return;
		if (line[0] == 'E')
			return;
		if (line[0] == 'X') {
			proc_fail(p, "", line + 2);
			return;
		}
		if (line[0] != 'S' || !keep)
			continue;
		name = line + 2;
		rest = strchr(name, ' ');
		if (!rest)
			continue;
		*rest++ = '\0';
		for (i = 0; i < p->nseries && strcmp(p->series[i], name) != 0; i++)
			;
		if (i == p->nseries)
			continue;
		for (char *end; *rest; rest = end) {
			double v = strtod(rest, &end);

			if (end == rest)
				break;
			stats_add(&p->s[i], v);
		}
	}
}

static void proc_stop(struct proc *p)
{
	if (p->pid > 0) {
		if (write(p->to, "quit\n", 5) != 5)
			kill(p->pid, SIGTERM);
		close(p->to);
		for (int i = 0; i < 100 && waitpid(p->pid, NULL, WNOHANG) == 0; i++)
			usleep(100000);
		if (waitpid(p->pid, NULL, WNOHANG) == 0) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, NULL, 0);
		}
		p->pid = 0;
	} else if (p->to > 0) {
		close(p->to);
	}
}

static void proc_report(struct proc *p, const char *outdir)
{
	if (p->failed) {
		printf("agent %s failed %s\n", p->name, p->reason);
	} else {
		printf("agent %s ok\n", p->name);
	}
	for (size_t i = 0; i < p->nseries; i++) {
		struct stats *s = &p->s[i];

		if (s->n == 0)
			continue;
		printf("series %s.%s %zu %.1f %.1f %.1f %.1f\n", p->name, p->series[i], s->n,
		       stats_pct(s, 0.5), stats_pct(s, 0.9), stats_pct(s, 0.99), stats_mean(s));
		if (outdir) {
			char path[4096];
			FILE *f;

			snprintf(path, sizeof(path), "%s/%s.%s.txt", outdir, p->name, p->series[i]);
			f = fopen(path, "w");
			for (size_t j = 0; f && j < s->n; j++)
				fprintf(f, "%.1f\n", s->v[j]);
			if (f)
				fclose(f);
		}
	}
}

int main(int argc, char **argv)
{
	int rounds = 10, per = 200, warm = 20, budget = 300, step = 120, opt, done = 0;
	const char *outdir = NULL;
	double t0, deadline;

	while ((opt = getopt(argc, argv, "n:r:w:b:s:o:")) != -1) {
		switch (opt) {
		case 'n': rounds = atoi(optarg); break;
		case 'r': per = atoi(optarg); break;
		case 'w': warm = atoi(optarg); break;
		case 'b': budget = atoi(optarg); break;
		case 's': step = atoi(optarg); break;
		case 'o': outdir = optarg; break;
		default:
			fprintf(stderr, "usage: bench_rounds [-n ROUNDS] [-r PER_ROUND] [-w WARMUP] "
					"[-b BUDGET_S] [-s STEP_S] [-o OUTDIR] NAME=COMMAND...\n");
			return 2;
		}
	}
	if (rounds < 1 || per < 1 || optind >= argc)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	for (int i = optind; i < argc && nprocs < ROUNDS_AGENTS_MAX; i++) {
		struct proc *p = &procs[nprocs++];
		const char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof(p->name)) {
			fprintf(stderr, "bench_rounds: not NAME=COMMAND: %s\n", argv[i]);
			return 2;
		}
		memcpy(p->name, argv[i], (size_t)(eq - argv[i]));
		p->cmd = eq + 1;
		if (proc_start(p) != 0)
			proc_fail(p, "start: ", strerror(errno));
	}
	t0 = stats_now_us();
	deadline = t0 + (double)step * 1e6;
	for (int i = 0; i < nprocs; i++)
		if (!procs[i].failed)
			proc_ready(&procs[i], deadline);
	for (int i = 0; i < nprocs && warm > 0; i++)
		proc_batch(&procs[i], warm, 0, stats_now_us() + (double)step * 1e6);
	for (int r = 0; r < rounds; r++) {
		if (stats_now_us() - t0 > (double)budget * 1e6) {
			fprintf(stderr, "bench_rounds: time budget of %d s spent after %d rounds\n", budget,
				r);
			break;
		}
		for (int k = 0; k < nprocs; k++)
			proc_batch(&procs[(r + k) % nprocs], per, 1, stats_now_us() + (double)step * 1e6);
		done++;
	}
	for (int i = 0; i < nprocs; i++)
		proc_stop(&procs[i]);
	for (int i = 0; i < nprocs; i++)
		proc_report(&procs[i], outdir);
	printf("rounds %d\n", done);
	return 0;
}
