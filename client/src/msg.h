/* msg.h: requests to wire messages and wire replies to results.
 *
 * Pure functions between libdmlog's public request/result structs and the protobuf-c messages
 * of proto/dmlog.proto, with the frame header already in front of encoded messages. No I/O.
 */
#ifndef DMLOG_CLIENT_MSG_H
#define DMLOG_CLIENT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <dmlog/async.h>
#include <dmlog/dmlog.h>

#include "dmlog.pb-c.h"

/* Validates req and encodes it as the frame of a ClientMessage with this id. On success *frame
 * is an owned buffer (free()) of *len bytes. Returns 0, -EINVAL (cause says which field) or
 * -ENOMEM. */
int msg_encode(const struct dmlog_request *req, uint64_t id, uint8_t **frame, size_t *len,
	       char *cause, size_t cause_len);

/* Encodes the frame of a Hello with this id. Returns 0 or -ENOMEM. */
int msg_encode_hello(uint64_t id, const char *client_name, uint64_t client_id, uint8_t **frame,
		     size_t *len);

/* Fills res from the reply m to a request of type op. The strings of res point into m, so res
 * is valid while m is; arrays of admin results are allocated and released by
 * msg_result_release(). Returns 0, -EPROTO (m's body does not answer op; cause says what came)
 * or -ENOMEM. On failure nothing needs releasing. */
int msg_result(enum dmlog_op op, uint64_t id, const Dmlog__ServerMessage *m,
	       struct dmlog_result *res, char *cause, size_t cause_len);

/* Releases what msg_result() allocated. */
void msg_result_release(struct dmlog_result *res);

struct dmlog_push;

/* Fills out from a FeedPush (its changes array allocated; release with msg_push_release()).
 * 0 or -ENOMEM. An unknown change kind reads as DMLOG_FEED_RESET. */
int msg_push(const Dmlog__FeedPush *p, struct dmlog_push *out);
void msg_push_release(struct dmlog_push *p);

#endif /* DMLOG_CLIENT_MSG_H */
