/* query.c: the read operations (GET_REGION_SIZE, IS_CLEAN, IN_SYNC, GET_SYNC_COUNT, STATUS_INFO,
 * STATUS_TABLE).
 *
 * They never change state and are answered for an instance in any state but lost (the
 * dispatcher rejects a lost one with -ESTALE). Each instance sees the log through its own
 * region_count, which may be smaller than the log's during a table reload.
 */
#include "engine_impl.h"

void query_apply(const struct log *l, const struct inst *in, const struct engine_req *req,
		 struct engine_res *res)
{
	switch (req->op) {
	case ENGINE_GET_REGION_SIZE:
		res->value = l->region_size;
		break;
	case ENGINE_IS_CLEAN:
		res->flag = bitmap_get(&l->clean, req->region);
		break;
	case ENGINE_IN_SYNC:
		res->flag = in->sticky || bitmap_get(&l->sync, req->region);
		break;
	case ENGINE_GET_SYNC_COUNT:
		res->value = in->region_count == l->region_count
				     ? l->sync_count
				     : bitmap_popcount(&l->sync, in->region_count);
		break;
	case ENGINE_STATUS_INFO:
		ctr_status_info(l->type, l->dev, res->text, sizeof(res->text));
		break;
	case ENGINE_STATUS_TABLE:
		ctr_status_table(l->type, l->dev, l->region_size, l->mode, l->block_on_error,
				 res->text, sizeof(res->text));
		break;
	default:
		break;
	}
}
