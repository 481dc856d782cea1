/* peer_wire.h: the framing dmlogd peers speak inside their TLS connections (Raft transport).
 *
 * Every byte a peer connection carries after the TLS handshake is in a frame: a 4-byte header
 * (1 byte type, 3 bytes big-endian payload length) then the payload. The connecting peer sends
 * HELLO first; the accepting peer answers WELCOME (accepted, or refused with a reason, then it
 * closes). After that, DATA frames carry libraft's own byte stream unchanged, PING frames (from
 * the leader) and PONG frames (back) carry the read lease (see peer.h). Anything else closes the
 * connection.
 *
 * HELLO and WELCOME payloads: u32 magic "dmlp", u32 version, u64 raft id, u64 incarnation,
 * then three strings (u16 big-endian length + bytes, no NUL): raft address, client address,
 * reason (empty in HELLO). WELCOME adds a u32 status before the magic (0 accepted, else a
 * positive errno). PING: u64 term, u64 stamp. PONG: u64 term, u64 stamp (echoed), i32 promise
 * in ms (-1: none). Integers are big-endian.
 *
 * Pure functions over bytes: no I/O, no allocation.
 */
#ifndef DMLOG_PEER_WIRE_H
#define DMLOG_PEER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PEER_WIRE_HEADER 4
#define PEER_WIRE_MAGIC 0x646d6c70u /* "dmlp" */
#define PEER_WIRE_VERSION 1u
/* Longest payload of a control frame (HELLO, WELCOME, PING, PONG). */
#define PEER_WIRE_CONTROL_MAX 1024u
/* Longest payload of any frame (3 length bytes). */
#define PEER_WIRE_PAYLOAD_MAX 0xffffffu
#define PEER_WIRE_ADDRESS_MAX 272 /* bytes of an address, NUL included */
#define PEER_WIRE_REASON_MAX 160
#define PEER_WIRE_ID_MAX 64 /* a certificate CN, NUL included (TLS_IDENTITY_MAX) */

enum peer_frame {
	PEER_FRAME_HELLO = 1,
	PEER_FRAME_WELCOME = 2,
	PEER_FRAME_DATA = 3,
	PEER_FRAME_PING = 4,
	PEER_FRAME_PONG = 5,
};

/* What each side says about itself in HELLO / WELCOME. */
struct peer_hello {
	uint32_t status; /* WELCOME only: 0 accepted, else a positive errno */
	uint64_t raft_id;
	uint64_t incarnation;
	char address[PEER_WIRE_ADDRESS_MAX];        /* raft address */
	char client_address[PEER_WIRE_ADDRESS_MAX]; /* where clients connect */
	char reason[PEER_WIRE_REASON_MAX];          /* WELCOME refusal: why */
};

/* Who is at the other end of a peer connection: its handshake plus its certificate's CN. */
struct peer_info {
	uint64_t raft_id;
	uint64_t incarnation;
	char id[PEER_WIRE_ID_MAX];                  /* certificate CN */
	char address[PEER_WIRE_ADDRESS_MAX];        /* its raft address */
	char client_address[PEER_WIRE_ADDRESS_MAX]; /* where its clients connect */
	uint64_t heard_ms; /* CLOCK_MONOTONIC ms when it was last heard from (not on the wire) */
};

struct peer_ping {
	uint64_t term;
	uint64_t stamp;
	int32_t promise_ms; /* PONG only */
};

/* Writes a frame header. len must be <= PEER_WIRE_PAYLOAD_MAX. */
void peer_wire_header(uint8_t out[PEER_WIRE_HEADER], enum peer_frame type, uint32_t len);

/* Reads a frame header. */
void peer_wire_parse_header(const uint8_t in[PEER_WIRE_HEADER], uint8_t *type, uint32_t *len);

/* Writes a whole HELLO or WELCOME frame (header included) into out. Returns its length, or 0
 * when cap is too small or a string does not fit its field. */
size_t peer_wire_hello(uint8_t *out, size_t cap, enum peer_frame type, const struct peer_hello *h);

/* Parses a HELLO or WELCOME payload. 0, -EBADMSG (malformed, truncated, trailing bytes, a
 * string with a NUL or too long) or -EPROTONOSUPPORT (other magic or version). */
int peer_wire_parse_hello(const uint8_t *p, size_t n, enum peer_frame type, struct peer_hello *h);

/* Writes a whole PING or PONG frame into out (at least peer_wire_ping_size() bytes). */
size_t peer_wire_ping(uint8_t *out, enum peer_frame type, const struct peer_ping *pg);
size_t peer_wire_ping_size(enum peer_frame type);

/* Parses a PING or PONG payload. 0 or -EBADMSG. */
int peer_wire_parse_ping(const uint8_t *p, size_t n, enum peer_frame type, struct peer_ping *pg);

#endif /* DMLOG_PEER_WIRE_H */
