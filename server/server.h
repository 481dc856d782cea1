/* server.h: dmlogd's running state, shared by its modules on the libevent thread.
 *
 * One struct server lives for the whole process. Everything in it is touched only on the
 * libevent thread, except `fsm` (locked; the raft thread applies to it and reads the peer table
 * to authorize peer connections) and `raft` (its own thread behind a queue). Sessions, the
 * group-commit batch, the node lease tracker, the IN_SYNC feed and the reads waiting for a read
 * lease hang off it.
 */
#ifndef DMLOG_SERVER_H
#define DMLOG_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "dmlog.pb-c.h"

struct event_base;
struct evconnlistener;
struct event;
struct fsm;
struct raftsvc;
struct batch;
struct lease;
struct feed;
struct session;
struct tls_holder;
struct session_parked;

/* Limits and knobs the request path needs (filled from the config at start). */
struct server_limits {
	uint32_t max_frame;          /* bytes */
	uint32_t max_connections;
	uint32_t idle_timeout_ms;
	uint32_t handshake_timeout_ms;
	uint32_t node_lease_ms;
	uint32_t write_high_watermark; /* bytes of unsent replies before a session stops reading */
	uint32_t max_in_flight;      /* requests of one session waiting for a commit */
	uint32_t read_wait_ms;       /* how long a read waits for the leader's read lease */
	uint32_t election_timeout_ms; /* Raft's (admin: a voter silent this long is unavailable) */
	bool early_clear_ack;        /* answer valid clears at submission (batch.h) */
};

struct server {
	struct event_base *base;
	struct evconnlistener *listener;
	struct tls_holder *tls;      /* current TLS contexts (swapped by SIGHUP reload) */
	struct fsm *fsm;
	struct raftsvc *raft;
	struct batch *batch;
	struct lease *lease;
	struct feed *feed;           /* the IN_SYNC feed to the bridges (feed.h) */
	struct server_limits lim;
	const char *id;              /* this peer's id */
	const char *listen;          /* the client address this server listens on */
	const char *version;
	uint64_t raft_id;
	LIST_HEAD(, session) sessions;
	uint32_t nsessions;
	TAILQ_HEAD(, session_parked) parked; /* reads waiting for the read lease, in order */
	uint32_t nparked;
	struct event *parked_timer;
	struct event *announce_timer; /* the leader keeps the replicated peer table current */
	uint64_t announced_ms;       /* when the last announcement was submitted */
	uint64_t next_serial;
	uint64_t early_clears;       /* CLEAR_REGIONs answered before their commit (SIGUSR1) */
	bool stopping;
	bool failed;                 /* stopping because something broke (exit status 1) */
};

/* Whether this server may answer log requests now (it is the Raft leader). */
bool server_is_leader(const struct server *srv);

/* Whether this server may answer a read from its applied state now: it is the leader and holds
 * its read lease (raftsvc_read_ok()). */
bool server_read_ok(const struct server *srv);

/* The current leader's id and client address as far as this server knows ("" when unknown):
 * the leader's raft id from Raft, its peer id and client address from the replicated peer
 * table (PeerAnnounce). */
void server_leader(const struct server *srv, char *id, size_t idlen, char *addr, size_t addrlen);

/* Commits a PeerEntry holding one command, outside group commit, and calls done (raftsvc_done_fn
 * contract) once it is applied. 0 or a negative errno (done is then not called). */
int server_commit(struct server *srv, const Dmlog__Command *cmd,
		  void (*done)(void *arg, int status, uint64_t index), void *arg);

/* dmlogd's whole life: configuration, start-up, the event loop, shutdown. Returns the exit
 * status (see config.h for the start-step codes). */
int server_main(int argc, char *argv[]);

#endif /* DMLOG_SERVER_H */
