/* fake_server.h: a scripted stand-in for dmlogd, for the client library's unit tests.
 *
 * A fake server listens on 127.0.0.1 (port chosen by the kernel), speaks mutual TLS and dmlog's
 * framing, and runs its own libevent loop on its own thread, so that blocking clients can be
 * tested against it as well as asynchronous ones. It records every ClientMessage it receives
 * (Hellos included), in arrival order, for the test to decode and check field by field, and
 * answers according to its configuration:
 *
 *   - Hello: HelloReply{protocol_version 1, server_id, role and identity from the client
 *     certificate's OU and CN, lease_ms 3000}, unless refused (hello_errno) or redirected
 *     (not_leader_address with not_leader_on_hello). Hellos are always answered at once.
 *   - requests: the canned answers below, or NotLeader, or Error, possibly delayed, reordered,
 *     dropped or never sent, as configured.
 *
 * Canned answers (functions of the request, so that tests can predict them):
 *   CTR                  CtrResult{device = FAKE_DEVICE}
 *   GET_REGION_SIZE      RegionSizeResult{FAKE_REGION_SIZE}
 *   IS_CLEAN             BoolResult{fake_clean(region)}
 *   IN_SYNC              BoolResult{fake_in_sync(region)}
 *   GET_RESYNC_WORK      ResyncWorkResult{has_work = true, region = fake_resync_region(luid)}
 *   GET_SYNC_COUNT       SyncCountResult{fake_sync_count(luid)}
 *   STATUS_INFO          StatusResult{"info " + uuid}
 *   STATUS_TABLE         StatusResult{"table " + uuid}
 *   IS_REMOTE_RECOVERING RemoteRecoveringResult{fake_recovering(region), fake_hint(region)}
 *   PING                 Pong
 *   ADMIN_STATUS         StatusReply of server_id, "leader", term 7, commit 41, applied 40,
 *                        peers {server_id, own address, "leader", voter} and
 *                        {"peer2", "127.0.0.1:1", "follower", voter}, 1 log, 2 nodes,
 *                        connection count = connections so far, healthy, version "fake-1"
 *   ADMIN_LIST_LOGS      LogList of two summaries, uuids "log-a" and "log-b" (see
 *                        fake_reply.c for every field)
 *   ADMIN_SHOW_LOG       LogDetail of the uuid asked: dirty {1..3, 9..9}, out_of_sync {2..3},
 *                        marks {node1: 1 2 9}, instances {node1, luid 5, "resumed", hint 17},
 *                        fully_synced false
 *   anything else        Done
 *
 * Threads: the fake_server_* functions may be called from any thread; the server's own thread
 * does all the network work.
 */
#ifndef DMLOG_TESTS_FAKE_SERVER_H
#define DMLOG_TESTS_FAKE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmlog.pb-c.h"

#define FAKE_DEVICE "253:4"
#define FAKE_REGION_SIZE 1024u
#define FAKE_LEASE_MS 3000u

static inline bool fake_clean(uint64_t region) { return region % 2 == 0; }
static inline bool fake_in_sync(uint64_t region) { return region % 3 != 0; }
static inline uint64_t fake_resync_region(uint64_t luid) { return luid + 7; }
static inline uint64_t fake_sync_count(uint64_t luid) { return luid * 10; }
static inline bool fake_recovering(uint64_t region) { return region % 2 == 1; }
static inline uint64_t fake_hint(uint64_t region) { return region + 100; }

struct fake_server_config {
	const char *cert_file;          /* server certificate and key (required) */
	const char *key_file;
	const char *ca_file;            /* CA that client certificates must chain to (required) */
	const char *server_id;          /* HelloReply.server_id; default "fake" */
	uint16_t port;                  /* 0: any free port */
	bool tls12_only;                /* refuse TLS 1.3 (client certificate checks then fail
					 * during the handshake, as with older servers) */
	/* Non-NULL: answer every request with NotLeader{leader_address = this} ("" = leader
	 * unknown); with not_leader_on_hello, answer the Hello that way instead. */
	const char *not_leader_address;
	bool not_leader_on_hello;
	unsigned not_leader_count;      /* non-zero: only the first this many requests (a leader
					 * that is not serving yet), then answer normally */
	int hello_errno;                /* non-zero: answer Hello with Error{hello_errno, ...} */
	const char *hello_message;
	int error_errno;                /* non-zero: answer every request with Error{...} */
	const char *error_message;
	/* Close the connection without answering when the drop_at-th request (1-based, counted
	 * over the server's life, Hellos excluded) arrives. Once only. */
	unsigned drop_at;
	unsigned close_after;           /* per connection: close after this many answers */
	unsigned delay_ms;              /* send each answer this long after its request came */
	/* Hold answers until this many are held, then send them newest first; answers still held
	 * 50 ms after the first of them was held go out the same way. */
	unsigned reorder_batch;
	bool black_hole;                /* never answer requests (Hellos still are) */
};

struct fake_server;

/* Starts a server (listening when this returns). Returns NULL with a reason in err (256 bytes,
 * may be NULL). */
struct fake_server *fake_server_start(const struct fake_server_config *cfg, char *err);

/* Stops the server's thread and releases everything. NULL is a no-op. */
void fake_server_stop(struct fake_server *fs);

uint16_t fake_server_port(const struct fake_server *fs);

/* "127.0.0.1:PORT", valid for the server's life. */
const char *fake_server_address(const struct fake_server *fs);

/* ClientMessages received so far (Hellos included) and requests among them. */
size_t fake_server_received(struct fake_server *fs);
size_t fake_server_requests(struct fake_server *fs);

/* The i-th ClientMessage received, decoded; *conn (may be NULL) gets the number (from 1) of
 * the connection it came on. Free with dmlog__client_message__free_unpacked(m, NULL). NULL if
 * i is out of range. */
Dmlog__ClientMessage *fake_server_message(struct fake_server *fs, size_t i, unsigned *conn);

/* TLS connections that completed their handshake so far. */
unsigned fake_server_connections(struct fake_server *fs);

/* How many answers carrying this id were written to a client. */
unsigned fake_server_answers(struct fake_server *fs, uint64_t id);

/* Waits until at least n ClientMessages were received, or timeout_ms passed. Only for clients
 * that do not need the calling thread to make progress. */
bool fake_server_wait_received(struct fake_server *fs, size_t n, unsigned timeout_ms);

#endif /* DMLOG_TESTS_FAKE_SERVER_H */
