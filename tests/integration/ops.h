/* ops.h: building dm_ulog requests for the integration tests and reading their replies. */
#ifndef DMLOG_TEST_OPS_H
#define DMLOG_TEST_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmlog.pb-c.h"
#include "harness.h"

/* One request: which message (a ClientMessage body case), its log reference and fields. */
struct op {
	int kind;                 /* DMLOG__CLIENT_MESSAGE__BODY_* */
	const char *uuid;
	uint64_t luid;
	uint32_t version;
	const char *args;         /* CTR */
	bool reconnect;           /* CTR */
	uint64_t region;          /* IS_CLEAN, IN_SYNC, SET_REGION_SYNC, IS_REMOTE_RECOVERING */
	bool in_sync;             /* SET_REGION_SYNC */
	size_t n;                 /* MARK, CLEAR, FLUSH */
	uint64_t regions[32];
};

/* A ClientMessage built from an op, with the storage it points into. */
struct op_msg {
	Dmlog__ClientMessage m;
	Dmlog__LogRef ref;
	union {
		Dmlog__Ctr ctr;
		Dmlog__Dtr dtr;
		Dmlog__IsClean is_clean;
		Dmlog__InSync in_sync;
		Dmlog__Flush flush;
		Dmlog__MarkRegion mark;
		Dmlog__ClearRegion clear;
		Dmlog__SetRegionSync srs;
		Dmlog__IsRemoteRecovering irr;
	} u;
	uint64_t regions[32];
};

/* Builds op with request id `id` into out (out->m is the message; out must not move while it
 * is used). 0, or -1 for a kind that is not a dm_ulog request. */
int op_build(struct op_msg *out, uint64_t id, const struct op *o);

/* Sends op with request id `id` (no wait). 0 or -1. */
int op_send(struct rawconn *c, uint64_t id, const struct op *o);

/* Sends op and waits for its reply (free it); NULL on failure. */
Dmlog__ServerMessage *op_call(struct rawconn *c, uint64_t id, const struct op *o);

/* The reply's error code (0 when it is not an Error). */
int op_errno(const Dmlog__ServerMessage *r);

#endif /* DMLOG_TEST_OPS_H */
