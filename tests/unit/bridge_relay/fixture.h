/* fixture.h: a relay under test — a real dmlogd (tests/integration/harness.h), the relay running
 * on its own thread and event loop over a SOCK_SEQPACKET socketpair, and a fake kernel
 * (tests/lib/fake_kernel.h) on the other end, driven by the test's thread.
 *
 * Certificates are made once per test program (fixture_global_setup(), an unchecked fixture);
 * each test gets a fresh state directory, dmlogd and relay. The relay's log lines go to a file
 * the test can search (fixture_log_count()). Every wait is bounded.
 */
#ifndef DMLOG_TESTS_BRIDGE_FIXTURE_H
#define DMLOG_TESTS_BRIDGE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fake_kernel.h"
#include "harness.h"
#include "relay.h"

#define FX_UUID "LVM-bridgerelay0123456789abcdefABCDEF0123456789"
#define FX_LUID UINT64_C(0xffff888012345600)

struct fixture {
	struct dmlogd d;              /* the server (d.pid 0 when not running) */
	char state[320];
	struct relay_options o;       /* what the relay is started with (fixture_relay()) */
	char server[64];              /* "127.0.0.1:PORT" */
	char ca[400], cert[400], key[400];
	struct fake_kernel *fk;       /* the kernel side */
	struct relay_stats stats;     /* filled by fixture_stats() */
};

extern struct fixture fx;

/* Unchecked fixture: makes the certificates and the log file (once per program). */
void fixture_global_setup(void);
void fixture_global_teardown(void);

/* Checked fixture: fresh state directory and fx defaults (policy wait, node1's certificate,
 * a free port for dmlogd); starts neither dmlogd nor the relay. */
void fixture_setup(void);
void fixture_teardown(void);

/* Starts dmlogd on fx.d.port (at most 20 s) and stops it (SIGKILL or SIGTERM). _with: extra
 * "--key=value" arguments (NULL-terminated). */
void fixture_dmlogd_start(void);
void fixture_dmlogd_start_with(const char *const *extra);
void fixture_dmlogd_stop(int sig);

/* Starts the relay thread with fx.o and connects fx.fk to it (resend after resend_ms). */
void fixture_relay(unsigned resend_ms);

/* Stops the relay thread (relay_free, transport_free) and frees fx.fk. */
void fixture_relay_stop(void);

/* Runs relay_reconfigure(fx.o) on the relay's thread; returns its result. */
int fixture_reconfigure(void);

/* Copies the relay's counters into fx.stats (on the relay's thread). */
void fixture_stats(void);

/* Lines of the relay's log containing needle. */
int fixture_log_count(const char *needle);

/* A request of the default log (FX_UUID, FX_LUID, version 3). */
struct fake_kernel_req fixture_req(uint32_t type, const void *data, size_t size);

/* Sends req and waits (at most timeout_ms) for its reply, asserting both work. */
void fixture_roundtrip(const struct fake_kernel_req *req, unsigned timeout_ms,
		       struct fake_kernel_reply *out);

/* fixture_roundtrip() asserting error 0 and the data size. */
void fixture_ok(const struct fake_kernel_req *req, uint32_t data_size,
		struct fake_kernel_reply *out);

/* Creates and resumes a log: CTR(args) + GET_REGION_SIZE + RESUME, each must succeed. */
void fixture_open_log(const char *uuid, uint64_t luid, const char *args);

/* Builds the reply datagram the kernel expects for a request header, independently of the
 * codec: nlmsghdr {NLMSG_LENGTH(20 + 160 + n), NLMSG_DONE, 0, seq 0, pid}, cn_msg
 * {7, 1, seq, 0, 160 + n, 0}, the request header echoed with error and data_size n, then
 * data. Returns the length. */
size_t fixture_expected_reply(uint8_t *out, uint64_t luid, const char *uuid, uint32_t version,
			      uint32_t seq, uint32_t type, int error, const void *data, size_t n,
			      uint32_t pid);

/* Asserts r is byte for byte the reply fixture_expected_reply() builds for these fields. */
void fixture_assert_reply(const struct fake_kernel_reply *r, uint64_t luid, const char *uuid,
			  uint32_t version, uint32_t seq, uint32_t type, int error,
			  const void *data, size_t n);

#endif /* DMLOG_TESTS_BRIDGE_FIXTURE_H */
