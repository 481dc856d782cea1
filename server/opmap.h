/* opmap.h: dm_ulog operations between the wire (protobuf) and the engine.
 *
 * The ClientMessage body cases 10..26 and the NodeOp op cases carry the same numbers and the
 * same message types, one per kernel request type (engine op = case - 9). These helpers check a
 * request's fields, turn it into a struct engine_req, and turn an engine result back into the
 * typed reply. No I/O, no state.
 */
#ifndef DMLOG_OPMAP_H
#define DMLOG_OPMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dedup.h"
#include "dmlog.pb-c.h"
#include "engine.h"

#define OPMAP_CASE_FIRST 10
#define OPMAP_CASE_LAST 26

/* The engine op of a ClientMessage/NodeOp case number, or 0 if the case is not a dm_ulog op. */
uint32_t opmap_op(uint32_t body_case);

/* The ClientMessage/NodeOp case number of an engine op. */
uint32_t opmap_case(uint32_t op);

/* Fills req from the op message `msg` (a Dmlog__Ctr *, Dmlog__InSync *, ... as the case says)
 * for `node`. Borrows strings from msg. 0, or -EINVAL with a reason in err (missing log
 * reference, uuid empty or over 128 bytes, too many or no regions, CTR args over the limit). */
int opmap_request(uint32_t body_case, const void *msg, const char *node, struct engine_req *req,
		  char *err, size_t errlen);

/* Storage for one typed reply built by opmap_reply (the ServerMessage points into it). */
struct opmap_reply {
	union {
		Dmlog__Done done;
		Dmlog__CtrResult ctr;
		Dmlog__RegionSizeResult region_size;
		Dmlog__BoolResult bool_result;
		Dmlog__ResyncWorkResult resync_work;
		Dmlog__SyncCountResult sync_count;
		Dmlog__StatusResult status;
		Dmlog__RemoteRecoveringResult remote_recovering;
		Dmlog__Error error;
	} u;
	char text[DEDUP_TEXT_MAX];
};

/* Sets out's body to the reply of `op` for result res (an Error when res->error != 0).
 * out->id is left to the caller. */
void opmap_reply(uint32_t op, const struct dedup_result *res, struct opmap_reply *store,
		 Dmlog__ServerMessage *out);

/* Copies an engine result into the compact form stored in the exactly-once table. */
void opmap_result(const struct engine_res *res, struct dedup_result *out);

#endif /* DMLOG_OPMAP_H */
