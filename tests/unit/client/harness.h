/* harness.h: what the client tests share: certificates, fake servers, options, loop running.
 *
 * harness_certs_create() runs deploy/dmlog-certs.sh into a fresh temporary directory twice:
 * "good" (the CA everyone trusts, a server certificate for localhost/127.0.0.1, node and admin
 * certificates) and "other" (an unrelated CA with its own certificates, for wrong-CA cases).
 * Call it once from main() before running the suite, and harness_certs_remove() after; or let
 * harness_run() do all three.
 */
#ifndef DMLOG_TESTS_CLIENT_HARNESS_H
#define DMLOG_TESTS_CLIENT_HARNESS_H

#include <limits.h>
#include <stdbool.h>

#include <check.h>

#include <dmlog/async.h>

#include "fake_server.h"

struct harness_identity {
	char ca[PATH_MAX];
	char server_cert[PATH_MAX];
	char server_key[PATH_MAX];
	char node_cert[PATH_MAX];
	char node_key[PATH_MAX];
	char admin_cert[PATH_MAX];
	char admin_key[PATH_MAX];
};

struct harness_certs {
	char dir[PATH_MAX];
	struct harness_identity good;
	struct harness_identity other;
};

extern struct harness_certs harness_certs;

/* Creates the certificates; exits the process if that fails. */
void harness_certs_create(void);
void harness_certs_remove(void);

/* main() of a suite that needs the certificates: creates them, runs s (see testmain_run()),
 * removes them; returns the exit status. */
int harness_run(Suite *s);

/* A zeroed server configuration with the good server certificate, trusting the good CA. */
void harness_server_config(struct fake_server_config *cfg);

/* Starts a fake server (failing the current test if it cannot). */
struct fake_server *harness_server_start(const struct fake_server_config *cfg);

/* Zeroed options for one server, as node1 trusting the good CA, with short backoffs. */
void harness_options(struct dmlog_options *o, const char *server);

/* Runs base until done(arg) is true or timeout_ms passed; returns done(arg). */
bool harness_run_until(struct event_base *base, bool (*done)(void *arg), void *arg,
		       unsigned timeout_ms);

/* An address on 127.0.0.1 where nothing listens ("127.0.0.1:PORT", static buffer): the port
 * is bound for the life of the process but never listened on, so connects are refused. */
const char *harness_closed_address(void);

/* Same, into addr (32 bytes), returning the bound socket: close it to let a server take the
 * port. */
int harness_reserve_port(char *addr, uint16_t *port);

/* Milliseconds on the monotonic clock. */
long long harness_now_ms(void);

#endif /* DMLOG_TESTS_CLIENT_HARNESS_H */
