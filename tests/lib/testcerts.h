/* testcerts.h: development certificates for the tests, made by deploy/dmlog-certs.sh.
 *
 * The script's layout is what the tests rely on: DIR/ca.crt, DIR/peer-ID.{crt,key},
 * DIR/node-NAME.{crt,key}, DIR/admin-NAME.{crt,key}; "dev" makes the CA, peer dmlogd1 (for
 * localhost and 127.0.0.1), node node1 and admin admin.
 */
#ifndef DMLOG_TESTS_LIB_TESTCERTS_H
#define DMLOG_TESTS_LIB_TESTCERTS_H

#include <stddef.h>

/* Runs `deploy/dmlog-certs.sh DIR WHAT` quietly for each WHAT of the NULL-terminated list, in
 * order ("dev", "ca", "peer dmlogd2", "node node3", "admin bob"; words are split on spaces),
 * stopping at the first failure. 0, or -1 (the script's complaint is on stderr). */
int testcerts_make(const char *dir, ...) __attribute__((sentinel));

/* "DIR/STEM.EXT" into out (len bytes): testcerts_path(p, sizeof(p), dir, "node-node1", "key"). */
void testcerts_path(char *out, size_t len, const char *dir, const char *stem, const char *ext);

/* A client certificate dmlog-certs.sh would not make: DIR/STEM.key and DIR/STEM.crt with the
 * given subject ("/O=dmlog/CN=x" without an OU, "/O=dmlog/OU=other/CN=x"), a fresh P-256 key,
 * signed by DIR's CA (ca.crt, ca.key) with the script's client extensions. 0, or -1 (the
 * failing command is on stderr). */
int testcerts_sign(const char *dir, const char *stem, const char *subject);

#endif /* DMLOG_TESTS_LIB_TESTCERTS_H */
