/* testdir.h: scratch directories and whole files for the tests.
 *
 * Every suite that needs a temporary directory takes it from testdir_make() and removes it with
 * testdir_remove(); both return errors and may be called anywhere (main(), fixtures, tests).
 * testdir_write() and testdir_read() fail the current Check test instead, so call them only
 * from a test or a checked fixture.
 */
#ifndef DMLOG_TESTS_LIB_TESTDIR_H
#define DMLOG_TESTS_LIB_TESTDIR_H

#include <stddef.h>

/* Makes a fresh, empty directory "/tmp/dmlog-NAME-XXXXXX" and puts its path in out (len
 * bytes). 0, or a negative errno. */
int testdir_make(char *out, size_t len, const char *name);

/* Removes path and everything below it (links are removed, not followed). 0, or a negative
 * errno (-ENOENT when path does not exist). */
int testdir_remove(const char *path);

/* Writes text to path, replacing what was there; fails the test if it cannot. */
void testdir_write(const char *path, const char *text);

/* The whole file at path, NUL-terminated (the caller frees it); fails the test if it cannot. */
char *testdir_read(const char *path);

#endif /* DMLOG_TESTS_LIB_TESTDIR_H */
