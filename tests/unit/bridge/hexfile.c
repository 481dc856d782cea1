/* hexfile.c: the hex test-vector loader of the bridge unit tests (see hexfile.h). */
#include "hexfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

long hexfile_decode(const char *text, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (const char *s = text; *s != '\0'; s++) {
		int d;

		if (isspace((unsigned char)*s))
			continue;
		d = digit((unsigned char)*s);
		if (d < 0)
			return -EINVAL;
		if (hi < 0) {
			hi = d;
			continue;
		}
		if (n == cap)
			return -ENOSPC;
		out[n++] = (uint8_t)(hi << 4 | d);
		hi = -1;
	}
	if (hi >= 0)
		return -EINVAL;
	return (long)n;
}

/* Skips a leading "RX <len> " or "TX <len> " capture prefix. */
static const char *skip_prefix(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	if ((strncmp(s, "RX", 2) == 0 || strncmp(s, "TX", 2) == 0) && isspace((unsigned char)s[2])) {
		s += 2;
		while (isspace((unsigned char)*s))
			s++;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return s;
}

int hexfile_load(const char *relpath, uint8_t **buf, size_t *len)
{
	char path[1024];
	char *text = NULL;
	uint8_t *exact;
	size_t tlen = 0;
	FILE *f;
	long n;
	int err;

	snprintf(path, sizeof(path), "%s/%s", DMLOG_TEST_DATA_DIR, relpath);
	f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	if (getdelim(&text, &tlen, '\0', f) < 0) {
		err = ferror(f) ? -EIO : -EINVAL;
		free(text);
		fclose(f);
		return err;
	}
	fclose(f);
	*buf = malloc(strlen(text) / 2 + 1);
	if (*buf == NULL) {
		free(text);
		return -ENOMEM;
	}
	n = hexfile_decode(skip_prefix(text), *buf, strlen(text) / 2 + 1);
	free(text);
	if (n <= 0) {
		free(*buf);
		*buf = NULL;
		return n < 0 ? (int)n : -EINVAL;
	}
	/* Shrink to the exact size so that the sanitizers catch any read past the datagram. */
	exact = realloc(*buf, (size_t)n);
	if (exact == NULL) {
		free(*buf);
		*buf = NULL;
		return -ENOMEM;
	}
	*buf = exact;
	*len = (size_t)n;
	return 0;
}
