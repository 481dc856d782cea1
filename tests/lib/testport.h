/* testport.h: TCP ports on 127.0.0.1 for the tests' servers. */
#ifndef DMLOG_TESTS_LIB_TESTPORT_H
#define DMLOG_TESTS_LIB_TESTPORT_H

/* A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it for a socket that
 * is closed again), never one this process was given before. The port, or a negative errno
 * (-EADDRINUSE when every try gave an old one). Thread-safe. */
int testport_free(void);

#endif /* DMLOG_TESTS_LIB_TESTPORT_H */
