/* server.h: dmlogd's running state, shared by its modules on the libevent thread.
 *
 * One struct server lives for the whole process. Everything in it is touched only on the
 * libevent thread, except `fsm` (locked; the raft thread applies to it) and `raft` (its own
 * thread behind a queue). Sessions, the group-commit batch and the node lease tracker hang off it.
 */
#ifndef DMLOG_SERVER_H
#define DMLOG_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct event_base;
struct evconnlistener;
struct event;
struct fsm;
struct raftsvc;
struct batch;
struct lease;
struct session;
struct tls_holder;

/* Limits and knobs the request path needs (filled from the config at start). */
struct server_limits {
	uint32_t max_frame;          /* bytes */
	uint32_t max_connections;
	uint32_t idle_timeout_ms;
	uint32_t handshake_timeout_ms;
	uint32_t node_lease_ms;
	uint32_t write_high_watermark; /* bytes of unsent replies before a session stops reading */
	uint32_t max_in_flight;      /* requests of one session waiting for a commit */
};

struct server {
	struct event_base *base;
	struct evconnlistener *listener;
	struct tls_holder *tls;      /* current TLS contexts (swapped by SIGHUP reload) */
	struct fsm *fsm;
	struct raftsvc *raft;
	struct batch *batch;
	struct lease *lease;
	struct server_limits lim;
	const char *id;              /* this peer's id */
	const char *listen;          /* the client address this server listens on */
	const char *version;
	LIST_HEAD(, session) sessions;
	uint32_t nsessions;
	uint64_t next_serial;
	bool stopping;
	bool failed;                 /* stopping because something broke (exit status 1) */
};

/* Whether this server may answer log requests now (it is the Raft leader). */
bool server_is_leader(const struct server *srv);

/* The current leader's id and client address as far as this server knows ("" when unknown). */
void server_leader(const struct server *srv, char *id, size_t idlen, char *addr, size_t addrlen);

/* dmlogd's whole life: configuration, start-up, the event loop, shutdown. Returns the exit
 * status (see config.h for the start-step codes). */
int server_main(int argc, char *argv[]);

#endif /* DMLOG_SERVER_H */
