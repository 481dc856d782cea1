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

int testcerts_sign(const char *dir, const char *stem, const char *subject)
{
	char ext[1100], cmd[6000];
	FILE *f;
	int st;

	snprintf(ext, sizeof(ext), "%.1000s/%.60s.ext", dir, stem);
	f = fopen(ext, "w");
	if (!f) {
		perror(ext);
		return -1;
	}
	fputs("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
	      "extendedKeyUsage=clientAuth\n", f);
	fclose(f);
	/* the same steps as dmlog-certs.sh's sign(), with the subject left to the caller */
	snprintf(cmd, sizeof(cmd),
		 "cd '%.1000s' && "
		 "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '%.60s.key' "
		 "2>/dev/null && "
		 "openssl req -new -key '%.60s.key' -subj '%.200s' -out '%.60s.csr' 2>/dev/null && "
		 "openssl x509 -req -in '%.60s.csr' -CA ca.crt -CAkey ca.key -CAcreateserial "
		 "-sha256 -days 30 -extfile '%.60s.ext' -out '%.60s.crt' 2>/dev/null && "
		 "rm -f '%.60s.csr'",
		 dir, stem, stem, subject, stem, stem, stem, stem, stem);
	st = system(cmd);
	remove(ext);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "testcerts: '%s' failed\n", cmd);
		return -1;
	}
	return 0;
}
