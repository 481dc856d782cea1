/* opmap.c: dm_ulog operations between protobuf messages and the engine (see opmap.h). */
#include "opmap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

uint32_t opmap_op(uint32_t body_case)
{
	if (body_case < OPMAP_CASE_FIRST || body_case > OPMAP_CASE_LAST)
		return 0;
	return body_case - (OPMAP_CASE_FIRST - ENGINE_CTR);
}

uint32_t opmap_case(uint32_t op)
{
	return op + (OPMAP_CASE_FIRST - ENGINE_CTR);
}

/* Every op message starts with the protobuf-c header followed by its LogRef pointer. */
struct op_head {
	ProtobufCMessage base;
	Dmlog__LogRef *log;
};

static int set_regions(struct engine_req *req, size_t n, const uint64_t *regions, size_t min,
		       char *err, size_t errlen)
{
	if (n < min || n > ENGINE_REGIONS_MAX) {
		snprintf(err, errlen, "%zu regions in one request (allowed %zu..%d)", n, min,
			 ENGINE_REGIONS_MAX);
		return -EINVAL;
	}
	req->nregions = (uint32_t)n;
	if (n)
		memcpy(req->regions, regions, n * sizeof(regions[0]));
	return 0;
}

int opmap_request(uint32_t body_case, const void *msg, const char *node, struct engine_req *req,
		  char *err, size_t errlen)
{
	const struct op_head *h = msg;
	uint32_t op = opmap_op(body_case);
	size_t ulen;

	memset(req, 0, sizeof(*req));
	if (!op || !msg) {
		snprintf(err, errlen, "not a log operation (message case %u)", body_case);
		return -EINVAL;
	}
	if (!h->log || !h->log->uuid) {
		snprintf(err, errlen, "request without a log reference");
		return -EINVAL;
	}
	ulen = strlen(h->log->uuid);
	if (ulen == 0 || ulen > ENGINE_UUID_MAX) {
		snprintf(err, errlen, "uuid of %zu bytes (allowed 1..%d)", ulen, ENGINE_UUID_MAX);
		return -EINVAL;
	}
	req->op = op;
	req->node = node;
	req->uuid = h->log->uuid;
	req->luid = h->log->luid;
	req->version = h->log->request_version;

	switch (op) {
	case ENGINE_CTR: {
		const Dmlog__Ctr *m = msg;

		req->args = m->args ? m->args : "";
		req->args_len = strlen(req->args);
		req->reconnect = m->reconnect;
		if (req->args_len == 0 || req->args_len > ENGINE_ARGS_MAX) {
			snprintf(err, errlen, "constructor string of %zu bytes (allowed 1..%d)",
				 req->args_len, ENGINE_ARGS_MAX);
			return -EINVAL;
		}
		return 0;
	}
	case ENGINE_IS_CLEAN:
		req->region = ((const Dmlog__IsClean *)msg)->region;
		return 0;
	case ENGINE_IN_SYNC:
		req->region = ((const Dmlog__InSync *)msg)->region;
		return 0;
	case ENGINE_IS_REMOTE_RECOVERING:
		req->region = ((const Dmlog__IsRemoteRecovering *)msg)->region;
		return 0;
	case ENGINE_SET_REGION_SYNC: {
		const Dmlog__SetRegionSync *m = msg;

		req->region = m->region;
		req->in_sync = m->in_sync;
		return 0;
	}
	case ENGINE_FLUSH: {
		const Dmlog__Flush *m = msg;

		return set_regions(req, m->n_marks, m->marks, 0, err, errlen);
	}
	case ENGINE_MARK_REGION: {
		const Dmlog__MarkRegion *m = msg;

		return set_regions(req, m->n_regions, m->regions, 1, err, errlen);
	}
	case ENGINE_CLEAR_REGION: {
		const Dmlog__ClearRegion *m = msg;

		return set_regions(req, m->n_regions, m->regions, 1, err, errlen);
	}
	default:
		return 0;
	}
}

void opmap_result(const struct engine_res *res, struct dedup_result *out)
{
	out->error = res->error;
	out->flag = res->flag;
	out->value = res->value;
	snprintf(out->text, sizeof(out->text), "%s", res->error ? res->errmsg : res->text);
}

void opmap_reply(uint32_t op, const struct dedup_result *res, struct opmap_reply *store,
		 Dmlog__ServerMessage *out)
{
	snprintf(store->text, sizeof(store->text), "%s", res->text);
	if (res->error) {
		dmlog__error__init(&store->u.error);
		store->u.error.errno_neg = res->error;
		store->u.error.message = store->text;
		out->body_case = DMLOG__SERVER_MESSAGE__BODY_ERROR;
		out->error = &store->u.error;
		return;
	}
	switch (op) {
	case ENGINE_CTR:
		dmlog__ctr_result__init(&store->u.ctr);
		store->u.ctr.device = store->text;
		out->body_case = DMLOG__SERVER_MESSAGE__BODY_CTR;
		out->ctr = &store->u.ctr;
		break;
	case ENGINE_GET_REGION_SIZE:
		dmlog__region_size_result__init(&store->u.region_size);
		store->u.region_size.region_size = res->value;
		out->body_case = DMLOG__SERVER_MESSAGE__BODY_REGION_SIZE;
		out->region_size = &store->u.region_size;
		break;
	case ENGINE_IS_CLEAN:
	case ENGINE_IN_SYNC:
		dmlog__bool_result__init(&store->u.bool_result);
		store->u.bool_result.value = res->flag;
		out->body_case = DMLOG__SERVER_MESSAGE__BODY_BOOL_RESULT;
		out->bool_result = &store->u.bool_result;
		break;
	case ENGINE_GET_RESYNC_WORK:
		dmlog__resync_work_result__init(&store->u.resync_work);
		store->u.resync_work.has_work = res->flag;
		store->u.resync_work.region = res->value;
		out->body_case = DMLOG__SERVER_MESSAGE__BODY_RESYNC_WORK;
		out->resync_work = &store->u.resync_work;
		break;
	case ENGINE_GET_SYNC_COUNT:
		dmlog__sync_count_result__init(&store->u.sync_count);
		store->u.sync_count.count = res->value;
		out->body_case = DMLOG__SERVER_MESSAGE__BODY_SYNC_COUNT;
		out->sync_count = &store->u.sync_count;
		break;
	case ENGINE_STATUS_INFO:
	case ENGINE_STATUS_TABLE:
		dmlog__status_result__init(&store->u.status);
		store->u.status.text = store->text;
		out->body_case = DMLOG__SERVER_MESSAGE__BODY_STATUS;
		out->status = &store->u.status;
		break;
	case ENGINE_IS_REMOTE_RECOVERING:
		dmlog__remote_recovering_result__init(&store->u.remote_recovering);
		store->u.remote_recovering.recovering = res->flag;
		store->u.remote_recovering.in_sync_hint = res->value;
		out->body_case = DMLOG__SERVER_MESSAGE__BODY_REMOTE_RECOVERING;
		out->remote_recovering = &store->u.remote_recovering;
		break;
	default:
		dmlog__done__init(&store->u.done);
		out->body_case = DMLOG__SERVER_MESSAGE__BODY_DONE;
		out->done = &store->u.done;
		break;
	}
}
