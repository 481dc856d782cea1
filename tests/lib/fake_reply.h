/* fake_reply.h: the fake dmlogd's answers, built and packed as whole frames (header included).
 *
 * Private to tests/lib. Every function returns a malloc()ed frame of *len bytes, or NULL when
 * out of memory. The canned answers are the ones fake_server.h documents.
 */
#ifndef DMLOG_TESTS_FAKE_REPLY_H
#define DMLOG_TESTS_FAKE_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "fake_server.h"

/* What the canned admin answers say about the server. */
struct fake_reply_context {
	const char *server_id;
	const char *address;
	unsigned connections;
};

uint8_t *fake_reply_pack(const Dmlog__ServerMessage *m, size_t *len);
uint8_t *fake_reply_hello(uint64_t id, const char *server_id, const char *role,
			  const char *identity, size_t *len);
uint8_t *fake_reply_error(uint64_t id, int err, const char *message, size_t *len);
uint8_t *fake_reply_not_leader(uint64_t id, const char *address, size_t *len);

/* The canned answer to request cm (a Hello gets an error: it may come only once). */
uint8_t *fake_reply_canned(const Dmlog__ClientMessage *cm, const struct fake_reply_context *ctx,
			   size_t *len);

#endif /* DMLOG_TESTS_FAKE_REPLY_H */
