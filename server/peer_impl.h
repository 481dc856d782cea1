/* peer_impl.h: private layout of the TLS Raft transport, shared by the peer*.c family.
 *
 * peer.c is the transport (libraft's vtable, the listener, connect requests, closing, pings);
 * peer_conn.c is one connection: TCP, the TLS engine on memory BIOs, writes with back-pressure
 * and the relay to and from libraft's end of a socketpair; peer_proto.c is what the plaintext
 * means (handshake, frame dispatch, pings). Loop thread only, except the TLS contexts
 * (ctx_lock).
 */
#ifndef DMLOG_PEER_IMPL_H
#define DMLOG_PEER_IMPL_H

#include <pthread.h>

#include "peer.h"

#define PEER_READ_CHUNK 65536u

enum peer_conn_state {
	PEER_CONN_RESOLVING,  /* outgoing: getaddrinfo */
	PEER_CONN_CONNECTING, /* outgoing: TCP connect */
	PEER_CONN_TLS,        /* TLS handshake */
	PEER_CONN_HELLO,      /* waiting for HELLO (accepting) or WELCOME (connecting) */
	PEER_CONN_QUIET,      /* accepting: HELLO read, held until the quiet period ends */
	PEER_CONN_RELAY,      /* libraft has the stream */
	PEER_CONN_CLOSING,
};

struct peer_transport;

struct peer_conn {
	struct peer_transport *pt;
	struct peer_conn *next, *prev;
	bool outgoing;
	enum peer_conn_state state;

	/* outgoing only */
	struct raft_uv_connect *req;  /* until its callback is called */
	raft_uv_connect_cb cb;
	raft_id target_id;
	char target[PEER_WIRE_ADDRESS_MAX];
	char host[PEER_WIRE_ADDRESS_MAX];
	char port[8];
	uv_getaddrinfo_t gai;
	bool resolving;               /* gai in flight */
	uv_connect_t connect;

	uv_tcp_t tcp;
	uv_pipe_t inner;              /* our end of the socketpair */
	uv_pipe_t *raft_stream;       /* libraft's end; ours until handed over */
	uv_timer_t timer;             /* handshake deadline, quiet wait, then stall check */
	bool tcp_open, inner_open, timer_open, raft_stream_open;
	unsigned closing_handles;     /* close callbacks still to come */

	SSL *ssl;
	BIO *rbio;                    /* network -> TLS */
	BIO *wbio;                    /* TLS -> network */
	struct peer_info who;

	/* frame parser (plaintext from TLS) */
	uint8_t hdr[PEER_WIRE_HEADER];
	size_t hdr_got;
	uint8_t type;
	uint32_t len, got;
	uint8_t ctl[PEER_WIRE_CONTROL_MAX];

	/* relay */
	bool inner_paused;            /* not reading libraft's bytes: TLS output queue full */
	bool tcp_paused;              /* not reading the network: libraft's input queue full */
	uint64_t progress_ms;         /* last time queued network output moved */
	uint8_t netbuf[PEER_READ_CHUNK];
	uint8_t outbuf[PEER_WIRE_HEADER + PEER_READ_CHUNK]; /* DATA header room, then bytes */
	uint8_t plain[16384];

	int status;                   /* for the connect callback: 0 or a RAFT_* code */
	char why[256];
};

struct peer_transport {
	struct raft_uv_transport *t;
	uv_loop_t *loop;
	raft_id id;
	char address[PEER_WIRE_ADDRESS_MAX];
	char client_address[PEER_WIRE_ADDRESS_MAX];
	uint64_t incarnation;
	unsigned handshake_timeout_ms;
	uint64_t quiet_until_ms;      /* uv_now() before which incoming HELLOs wait */
	struct peer_hooks hooks;

	pthread_mutex_t ctx_lock;
	SSL_CTX *server_ctx;
	SSL_CTX *client_ctx;

	uv_tcp_t listener;
	bool listener_open;
	raft_uv_accept_cb accept_cb;

	struct peer_conn *conns;
	unsigned nconns;
	struct peer_stats stats;

	bool closing;
	unsigned closing_handles;     /* listener and the close tick */
	raft_uv_transport_close_cb close_cb;

	char last_warning[256];       /* repeated warnings are logged once per PEER_WARN_EVERY_MS */
	uint64_t last_warning_ms;
};

#define PEER_WARN_EVERY_MS 10000u

/* peer_conn.c */
/* A new connection object (not yet in the transport's list). NULL on out of memory. */
struct peer_conn *peer_conn_new(struct peer_transport *pt, bool outgoing);
/* Accepting side: takes the accepted TCP handle over and starts the TLS handshake. */
int peer_conn_accept(struct peer_conn *c);
/* Connecting side: resolves c->host/c->port, connects, handshakes; c->req/c->cb set. */
int peer_conn_connect(struct peer_conn *c);
/* Closes the connection (why is logged at debug level; warn: as a warning). The object is
 * freed once every handle is closed; a pending connect callback is then called. */
void peer_conn_close(struct peer_conn *c, bool warn, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sends PING on an established outgoing connection. */
void peer_conn_ping(struct peer_conn *c, uint64_t term, uint64_t stamp);
/* False once the connection is closing. */
bool peer_conn_live(const struct peer_conn *c);
/* "raft_id=2 address=..." or "from=HOST:PORT ...", for log lines. */
void peer_conn_name(const struct peer_conn *c, char *out, size_t len);
/* Encrypts and sends plaintext (a whole frame, or DATA header plus bytes). */
void peer_conn_send(struct peer_conn *c, const uint8_t *p, size_t n);
/* Hands relayed DATA bytes to libraft's stream. */
void peer_conn_to_raft(struct peer_conn *c, const uint8_t *p, size_t n);
/* Makes the socketpair and enters the relay state. 0 or a negative errno. */
int peer_conn_relay_start(struct peer_conn *c);

/* peer_proto.c */
/* After the TLS handshake: the certificate must be a dmlog-peer one; the connecting side then
 * says HELLO. 0, or -1 when the connection was closed. */
int peer_proto_handshake_done(struct peer_conn *c);
/* Feeds plaintext to the frame parser (closes the connection on a protocol error). */
void peer_proto_parse(struct peer_conn *c, const uint8_t *p, size_t n);
/* The connection's timer during the handshake: the deadline, or the end of the quiet wait. */
void peer_proto_deadline(uv_timer_t *t);

/* peer.c */
/* Unlinks and frees a connection whose handles are all closed, fires what it owed. */
void peer_transport_conn_gone(struct peer_conn *c);
/* Logs a warning, at most once per PEER_WARN_EVERY_MS for the same text. */
void peer_transport_warn(struct peer_transport *pt, const char *msg);
/* An established incoming connection is ready for libraft. */
void peer_transport_deliver(struct peer_transport *pt, struct peer_conn *c);

#endif /* DMLOG_PEER_IMPL_H */
