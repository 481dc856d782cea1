/* testdir.c: scratch directories and whole files for the tests (see testdir.h). */
#include "testdir.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

int testdir_make(char *out, size_t len, const char *name)
{
	int n = snprintf(out, len, "/tmp/dmlog-%s-XXXXXX", name);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return mkdtemp(out) ? 0 : -errno;
}

static int testdir_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) == 0 ? 0 : -errno;
}

int testdir_remove(const char *path)
{
	int rc = nftw(path, testdir_remove_one, 16, FTW_DEPTH | FTW_PHYS);

	return rc == -1 ? -errno : rc;
}

void testdir_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "cannot write %s", path);
	fputs(text, f);
	ck_assert_msg(fclose(f) == 0, "cannot write %s", path);
}

char *testdir_read(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}
