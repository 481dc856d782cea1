/* peer.h: dmlogd's Raft transport — libraft's peer connections over mutual TLS.
 *
 * An implementation of libraft's struct raft_uv_transport (version 1) that runs on the raft
 * thread's libuv loop. libraft keeps its own wire protocol and reads and writes a plain libuv
 * stream; this transport hands it one end of a socketpair and relays the other end through TLS
 * in the same loop (OpenSSL with memory BIOs over a libuv TCP handle), so peer traffic never
 * leaves the process unencrypted and never crosses a thread.
 *
 * Connections and authentication: libraft opens one connection per peer and direction. The
 * connecting side checks the accepting peer's certificate against the dmlog CA and the host of
 * the address it dialled (subjectAltName); the accepting side requires a client certificate from
 * the same CA. On both sides the certificate must have the dmlog-peer role (OU), else the
 * connection is dropped. Inside TLS the connecting peer says HELLO (raft id, incarnation, raft
 * and client addresses, see peer_wire.h) and the accepting one answers WELCOME with the same
 * about itself, or a refusal and its reason. Each side then asks hooks.authorize() whether that
 * raft id may be that certificate CN with that incarnation (the server keeps the bindings in
 * its replicated state), and the connecting side checks that the raft id it reached is the one
 * libraft asked for. Only then does libraft get the stream.
 *
 * Quiet start: incoming connections are held (not answered) for quiet_ms after the transport is
 * created. Set to the election timeout, this keeps a restarted peer from granting any vote
 * within an election timeout of the moment it went down, which the read lease relies on.
 *
 * Read lease: peer_transport_ping() sends PING{term, stamp} on every outgoing connection that
 * is established; the receiving side answers PONG with hooks.promise(): how many more ms it
 * will certainly refuse to vote for anyone but the pinging leader. hooks.pong() reports each
 * answer on the pinging side (see raftsvc_lease.c).
 *
 * Bounds: a handshake must finish within handshake_timeout_ms; at most PEER_CONNECTIONS_MAX
 * connections exist at once (more are refused); a relay stops reading one side while more than
 * PEER_QUEUE_HIGH bytes wait to be written to the other; a connection whose queued output has
 * not moved for PEER_STALL_MS is closed (libraft reconnects).
 *
 * Threading: everything runs on the loop's thread, except peer_transport_set_tls(), which may
 * be called from any thread.
 */
#ifndef DMLOG_PEER_H
#define DMLOG_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "peer_wire.h"
#include "tls.h"

#define PEER_CONNECTIONS_MAX 64
#define PEER_QUEUE_HIGH (4u * 1024u * 1024u)
#define PEER_STALL_MS 10000u
#define PEER_HEARD_EVERY_MS 10u

_Static_assert(PEER_WIRE_ID_MAX == TLS_IDENTITY_MAX, "a peer id is a certificate CN");

/* Callbacks into the owner, all on the loop's thread. */
struct peer_hooks {
	void *arg;
	/* May this peer be who it says? 0, or a negative errno with a reason in why. Required. */
	int (*authorize)(void *arg, const struct peer_info *who, char *why, size_t whylen);
	/* A peer passed the handshake, and again at most every PEER_HEARD_EVERY_MS while frames
	 * come from it on that connection (who->heard_ms tells when): how a leader knows which
	 * voters it can reach (dmlogctl status). May be NULL. */
	void (*seen)(void *arg, const struct peer_info *who);
	/* A PING from raft id `from` in `term`: the ms for which this server will refuse to vote
	 * for anyone else, or -1 when it makes no promise. Required. */
	int32_t (*promise)(void *arg, uint64_t from, uint64_t term);
	/* A PONG from raft id `from` for a PING of `term` sent at `stamp`. Required. */
	void (*pong)(void *arg, uint64_t from, uint64_t term, uint64_t stamp, int32_t promise_ms);
};

struct peer_config {
	uint64_t incarnation;       /* of this server's data directory */
	const char *client_address; /* copied; "" when there is none */
	unsigned quiet_ms;
	unsigned handshake_timeout_ms; /* 0: 5000 */
	/* TLS contexts (referenced while in use; NULL: no peer connection is ever made or
	 * accepted, for a one-voter group without certificates). */
	SSL_CTX *server_ctx;
	SSL_CTX *client_ctx;
	struct peer_hooks hooks;
};

struct peer_stats {
	uint64_t accepted;  /* connections that passed the handshake, both directions */
	uint64_t refused;   /* connections dropped in the handshake */
	unsigned open;      /* connections now */
};

/* Fills t (zeroed by the caller) as a transport on loop; libraft calls its init, listen,
 * connect and close. 0, or a negative errno with errmsg. */
int peer_transport_init(struct raft_uv_transport *t, uv_loop_t *loop, const struct peer_config *cfg,
			char *errmsg, size_t errlen);

/* Releases what peer_transport_init() allocated; libraft must have closed the transport (its
 * close callback fired) or never used it. */
void peer_transport_free(struct raft_uv_transport *t);

/* Replaces the TLS contexts used for new connections (references taken; existing connections
 * keep theirs). Any thread. */
void peer_transport_set_tls(struct raft_uv_transport *t, SSL_CTX *server_ctx, SSL_CTX *client_ctx);

/* Sends PING{term, stamp} on every established outgoing connection. Returns how many. */
unsigned peer_transport_ping(struct raft_uv_transport *t, uint64_t term, uint64_t stamp);

void peer_transport_stats(const struct raft_uv_transport *t, struct peer_stats *st);

#endif /* DMLOG_PEER_H */
