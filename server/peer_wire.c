/* peer_wire.c: encoding and decoding of the peer connection frames (see peer_wire.h). */
#include "peer_wire.h"

#include <errno.h>
#include <string.h>

static void put_u16(uint8_t **p, uint16_t v)
{
	(*p)[0] = (uint8_t)(v >> 8);
	(*p)[1] = (uint8_t)v;
	*p += 2;
}

static void put_u32(uint8_t **p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		(*p)[i] = (uint8_t)(v >> (24 - 8 * i));
	*p += 4;
}

static void put_u64(uint8_t **p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		(*p)[i] = (uint8_t)(v >> (56 - 8 * i));
	*p += 8;
}

/* A bounded reader: every get fails softly once the input is short (bad is then set). */
struct reader {
	const uint8_t *p;
	size_t n;
	bool bad;
};

static const uint8_t *get(struct reader *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || r->n < n) {
		r->bad = true;
		return NULL;
	}
	r->p += n;
	r->n -= n;
	return p;
}

static uint64_t get_be(struct reader *r, size_t n)
{
	const uint8_t *p = get(r, n);
	uint64_t v = 0;

	for (size_t i = 0; p && i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* A string into out (size cap, NUL added): no NUL inside, shorter than cap. */
static void get_str(struct reader *r, char *out, size_t cap)
{
	size_t len = (size_t)get_be(r, 2);
	const uint8_t *p = get(r, len);

	out[0] = '\0';
	if (!p)
		return;
	if (len >= cap || memchr(p, 0, len)) {
		r->bad = true;
		return;
	}
	memcpy(out, p, len);
	out[len] = '\0';
}

void peer_wire_header(uint8_t out[PEER_WIRE_HEADER], enum peer_frame type, uint32_t len)
{
	out[0] = (uint8_t)type;
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
}

void peer_wire_parse_header(const uint8_t in[PEER_WIRE_HEADER], uint8_t *type, uint32_t *len)
{
	*type = in[0];
	*len = (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

size_t peer_wire_hello(uint8_t *out, size_t cap, enum peer_frame type, const struct peer_hello *h)
{
	const char *s[3] = {h->address, h->client_address, type == PEER_FRAME_WELCOME ? h->reason : ""};
	const size_t caps[3] = {PEER_WIRE_ADDRESS_MAX, PEER_WIRE_ADDRESS_MAX, PEER_WIRE_REASON_MAX};
	size_t len = (type == PEER_FRAME_WELCOME ? 4 : 0) + 4 + 4 + 8 + 8;
	uint8_t *p = out;

	for (int i = 0; i < 3; i++) {
		size_t sl = strnlen(s[i], caps[i]);

		if (sl >= caps[i])
			return 0;
		len += 2 + sl;
	}
	if (len > PEER_WIRE_CONTROL_MAX || PEER_WIRE_HEADER + len > cap)
		return 0;
	peer_wire_header(p, type, (uint32_t)len);
	p += PEER_WIRE_HEADER;
	if (type == PEER_FRAME_WELCOME)
		put_u32(&p, h->status);
	put_u32(&p, PEER_WIRE_MAGIC);
	put_u32(&p, PEER_WIRE_VERSION);
	put_u64(&p, h->raft_id);
	put_u64(&p, h->incarnation);
	for (int i = 0; i < 3; i++) {
		size_t sl = strlen(s[i]);

		put_u16(&p, (uint16_t)sl);
		memcpy(p, s[i], sl);
		p += sl;
	}
	return (size_t)(p - out);
}

int peer_wire_parse_hello(const uint8_t *p, size_t n, enum peer_frame type, struct peer_hello *h)
{
	struct reader r = {p, n, false};
	uint32_t magic, version;

	memset(h, 0, sizeof(*h));
	if (type == PEER_FRAME_WELCOME)
		h->status = (uint32_t)get_be(&r, 4);
	magic = (uint32_t)get_be(&r, 4);
	version = (uint32_t)get_be(&r, 4);
	if (r.bad)
		return -EBADMSG;
	if (magic != PEER_WIRE_MAGIC || version != PEER_WIRE_VERSION)
		return -EPROTONOSUPPORT;
	h->raft_id = get_be(&r, 8);
	h->incarnation = get_be(&r, 8);
	get_str(&r, h->address, sizeof(h->address));
	get_str(&r, h->client_address, sizeof(h->client_address));
	get_str(&r, h->reason, sizeof(h->reason));
	if (r.bad || r.n != 0 || (type == PEER_FRAME_HELLO && h->reason[0]))
		return -EBADMSG;
	return 0;
}

size_t peer_wire_ping_size(enum peer_frame type)
{
	return PEER_WIRE_HEADER + 16 + (type == PEER_FRAME_PONG ? 4 : 0);
}

size_t peer_wire_ping(uint8_t *out, enum peer_frame type, const struct peer_ping *pg)
{
	size_t len = peer_wire_ping_size(type);
	uint8_t *p = out + PEER_WIRE_HEADER;

	peer_wire_header(out, type, (uint32_t)(len - PEER_WIRE_HEADER));
	put_u64(&p, pg->term);
	put_u64(&p, pg->stamp);
	if (type == PEER_FRAME_PONG)
		put_u32(&p, (uint32_t)pg->promise_ms);
	return len;
}

int peer_wire_parse_ping(const uint8_t *p, size_t n, enum peer_frame type, struct peer_ping *pg)
{
	struct reader r = {p, n, false};

	memset(pg, 0, sizeof(*pg));
	pg->term = get_be(&r, 8);
	pg->stamp = get_be(&r, 8);
	pg->promise_ms = type == PEER_FRAME_PONG ? (int32_t)(uint32_t)get_be(&r, 4) : -1;
	return r.bad || r.n != 0 ? -EBADMSG : 0;
}
