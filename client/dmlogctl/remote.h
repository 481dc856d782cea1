/* remote.h: dmlogctl's connection to dmlogd and the wording of its failures.
 *
 * Each run opens one blocking libdmlog handle with the run's settings and makes one admin
 * query on it. A failure is printed on stderr as one "dmlogctl: ..." line, and mapped to the
 * exit code the caller returns (ctl.h).
 */
#ifndef DMLOGCTL_REMOTE_H
#define DMLOGCTL_REMOTE_H

#include <dmlog/dmlog.h>

#include "ctl.h"

/* Opens a handle for ctl's servers and TLS files (nothing connects yet: the first query does).
 * Returns an owned handle (dmlog_free()), or NULL with the reason printed; the exit code for
 * that is CTL_EXIT_UNREACHABLE (the TLS files cannot be used). */
struct dmlog *remote_open(const struct ctl *ctl);

/* Prints why a query failed with rc (a negative errno from libdmlog, h's errmsg holding the
 * detail) and returns the exit code: CTL_EXIT_UNREACHABLE when no server could be reached or
 * TLS failed, CTL_EXIT_FAILED when a server answered with an error. */
int remote_fail(const struct ctl *ctl, struct dmlog *h, int rc);

/* The same, each line saying "dmlogctl: VERB: ...", and a refusal as the server's own message
 * ("dmlogctl: peer add: raft id 4 already in use"). */
int remote_fail_verb(const struct ctl *ctl, struct dmlog *h, int rc, const char *verb);

/* One query: opens a handle (remote_open()), makes req on it (dmlog_call()) and frees it.
 * Returns the owned result (dmlog_result_free()), or NULL with the failure printed as
 * remote_fail_verb() does (verb may be NULL) and its exit code in *code. */
struct dmlog_result *remote_query(const struct ctl *ctl, const struct dmlog_request *req,
				  const char *verb, int *code);

#endif /* DMLOGCTL_REMOTE_H */
