/* harness.h: integration-test helpers — temporary dirs, certificates, dmlogd processes, and a
 * blocking TLS client that can send any bytes (well-formed requests or deliberate garbage).
 *
 * Everything runs on 127.0.0.1 with real TLS and real processes; every wait is bounded.
 */
#ifndef DMLOG_HARNESS_H
#define DMLOG_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "dmlog.pb-c.h"

/* A fresh directory under /tmp (removed by harness_rmdir). */
void harness_tmpdir(char *out, size_t len);
void harness_rmdir(const char *dir);

/* Makes certificates in dir with deploy/dmlog-certs.sh: ca, peer dmlogd1, node node1 and node2,
 * admin admin; and in dir/other a second, unrelated CA with a node node1 ("wrong CA"). */
void harness_certs(const char *dir);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int harness_free_port(void);

/* Milliseconds on the monotonic clock. */
uint64_t harness_now_ms(void);

struct dmlogd {
	pid_t pid;
	int port;
	int raft_port;
	char certs[512];
	char state[512];
	char logfile[600];
};

/* Starts dmlogd with certs from certs_dir, state in state_dir, and extra "--key=value" args
 * (NULL-terminated); waits until it accepts TLS connections (at most 20 s). Reuses d->port and
 * d->raft_port when set (a restart), else picks free ones. stderr goes to state_dir/dmlogd.log.
 * Returns 0 or -1 (it exited or never listened). */
int dmlogd_start(struct dmlogd *d, const char *certs_dir, const char *state_dir,
		 const char *const *extra);

/* Sends sig and waits for the exit (at most 20 s, then SIGKILL). Returns the exit status
 * (or 128 + signal). */
int dmlogd_stop(struct dmlogd *d, int sig);

/* Counts lines of dmlogd's log containing needle. */
int dmlogd_log_count(const struct dmlogd *d, const char *needle);

/* Counts lines of the file at path containing needle (0 when there is no such file). */
int harness_log_count(const char *path, const char *needle);

/* Sends sig to the child pid (0: none) and reaps it, waiting at most timeout_ms before a
 * SIGKILL. Returns its exit status or 128 + the signal that ended it; -1 when it had to be
 * killed after the wait. */
int harness_reap(pid_t pid, int sig, int timeout_ms);

/* dmlog-bridge as a process (the binary's path comes from the test: DMLOG_BRIDGE_PATH). */

/* Writes a dmlog-bridge settings file at path: [dmlog-bridge], servers, ca_file from certs,
 * cert_file and key_file of node-NODE there, transport dgram:sock, then tail (more
 * "key = value\n" lines; may be NULL). 0 or -1. */
int harness_bridge_ini(const char *path, const char *servers, const char *certs, const char *node,
		       const char *sock, const char *tail);

/* Starts `path --config ini EXTRA...` (extra NULL-terminated, may be NULL) with stdout and
 * stderr appended to logfile and NOTIFY_SOCKET set to notify (NULL: removed). Returns the
 * pid (-1 when fork failed). */
pid_t harness_bridge_spawn(const char *path, const char *ini, const char *const *extra,
			   const char *notify, const char *logfile);

/* Same, with only --ready-file=READY. */
pid_t harness_bridge_start(const char *path, const char *ini, const char *ready,
			   const char *logfile);

/* Waits (at most 10 s) until pid has made the file ready: true when it has; false when pid
 * exited first (it is reaped then) or time ran out. */
bool harness_wait_ready(pid_t pid, const char *ready);

/* A blocking TLS connection. */
struct rawconn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char err[256];
};

/* Connects with the given files (paths relative to nothing: full paths). 0, or -1 with c->err
 * (the handshake failing counts as failure) and nothing left to free. */
int rawconn_open(struct rawconn *c, int port, const char *ca, const char *cert, const char *key);
/* Same, as `who` of a dmlog-certs.sh directory: certs_dir/ca.crt, certs_dir/WHO.crt and
 * certs_dir/WHO.key ("node-node1", "admin-admin", "peer-dmlogd2"). */
int rawconn_open_as(struct rawconn *c, int port, const char *certs_dir, const char *who);
void rawconn_close(struct rawconn *c);

/* Writes raw bytes. 0 or -1. */
int rawconn_write(struct rawconn *c, const void *p, size_t n);

/* Reads exactly n raw bytes within timeout_ms (per read). 0, or -1 (EOF, error, timeout). */
int rawconn_read(struct rawconn *c, void *buf, size_t n, int timeout_ms);

/* Sends one ClientMessage as a frame. 0 or -1. */
int rawconn_send(struct rawconn *c, const Dmlog__ClientMessage *m);

/* Sends a Ping with request id `id` (no wait). 0 or -1. */
int rawconn_ping(struct rawconn *c, uint64_t id);

/* Reads one frame and decodes it (caller frees with dmlog__server_message__free_unpacked).
 * NULL on EOF, error or after timeout_ms. */
Dmlog__ServerMessage *rawconn_recv(struct rawconn *c, int timeout_ms);

/* True when the server closed the connection (EOF within timeout_ms). */
bool rawconn_closed(struct rawconn *c, int timeout_ms);

/* Sends Hello (client_id) and checks the HelloReply. 0 or -1. */
int rawconn_hello(struct rawconn *c, uint64_t client_id);

/* Node helpers: one request/reply round trip with a LogRef on uuid/luid. The reply is returned
 * (free it), NULL on failure. */
Dmlog__ServerMessage *rawconn_call(struct rawconn *c, Dmlog__ClientMessage *m, int timeout_ms);

#endif /* DMLOG_HARNESS_H */
