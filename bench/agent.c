/* agent.c: the agent side of the driver protocol (see agent.h). */
#include "agent.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int agent_fail(const char *fmt, ...)
{
	char msg[AGENT_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	printf("X %s\n", msg);
	fflush(stdout);
	fprintf(stderr, "agent: %s\n", msg);
	return 1;
}

const char *agent_arg(int argc, char **argv, const char *key, const char *def)
{
	size_t k = strlen(key);

	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], key, k) == 0 && argv[i][k] == '=')
			return argv[i] + k + 1;
	return def;
}

int agent_serve(const struct agent *a)
{
	struct stats s[AGENT_SERIES_MAX];
	char line[128], err[AGENT_ERR_MAX];
	int rc = 0;

	memset(s, 0, sizeof(s));
	printf("R");
	for (size_t i = 0; i < a->nseries; i++)
		printf(" %s", a->series[i]);
	printf("\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		int n;

		if (strncmp(line, "quit", 4) == 0)
			break;
		if (sscanf(line, "run %d", &n) != 1 || n < 1 || n > 1000000) {
			rc = agent_fail("bad command: %.40s", line);
			break;
		}
		for (size_t i = 0; i < a->nseries; i++)
			stats_reset(&s[i]);
		err[0] = '\0';
		if (a->run(a->ctx, n, s, err) != 0) {
			rc = agent_fail("%s", err[0] ? err : "run failed");
			break;
		}
		for (size_t i = 0; i < a->nseries; i++) {
			printf("S %s ", a->series[i]);
			stats_write(&s[i], stdout);
		}
		printf("E\n");
		fflush(stdout);
	}
	for (size_t i = 0; i < a->nseries; i++)
		stats_free(&s[i]);
	return rc;
}
