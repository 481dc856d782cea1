/* testmain.h: the main() of a Check test program, shared by every suite. */
#ifndef DMLOG_TESTS_LIB_TESTMAIN_H
#define DMLOG_TESTS_LIB_TESTMAIN_H

#include <check.h>

/* Runs every test of s (CK_NORMAL output; CK_RUN_SUITE / CK_RUN_CASE apply), frees the runner
 * and with it s, and returns the program's exit status: EXIT_SUCCESS when no test failed. */
int testmain_run(Suite *s);

/* A test case named name, added to s: setup and teardown (NULL: none) run around each of its
 * tests, in the test's own process (a checked fixture), and each test may take timeout_s
 * seconds (0: Check's default, or CK_DEFAULT_TIMEOUT). */
TCase *testmain_tcase(Suite *s, const char *name, SFun setup, SFun teardown, double timeout_s);

#endif /* DMLOG_TESTS_LIB_TESTMAIN_H */
