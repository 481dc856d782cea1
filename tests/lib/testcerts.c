/* testcerts.c: development certificates for the tests (see testcerts.h). */
#include "testcerts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#ifndef DMLOG_SOURCE_DIR
#error "DMLOG_SOURCE_DIR must name the source tree"
#endif

int testcerts_make(const char *dir, ...)
{
	va_list ap;
	const char *what;
	int rc = 0;

	va_start(ap, dir);
	while (rc == 0 && (what = va_arg(ap, const char *)) != NULL) {
		char cmd[1400];
		int st;

		snprintf(cmd, sizeof(cmd), "'%s/deploy/dmlog-certs.sh' '%.1000s' %s >/dev/null",
			 DMLOG_SOURCE_DIR, dir, what);
		st = system(cmd);
		if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "testcerts: '%s' failed\n", cmd);
			rc = -1;
		}
	}
	va_end(ap);
	return rc;
}

void testcerts_path(char *out, size_t len, const char *dir, const char *stem, const char *ext)
{
	snprintf(out, len, "%s/%s.%s", dir, stem, ext);
}
