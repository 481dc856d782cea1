/* ops.c: dm_ulog request builders for the integration tests (see ops.h). */
#include "ops.h"

#include <string.h>

int op_build(struct op_msg *out, uint64_t id, const struct op *o)
{
	dmlog__client_message__init(&out->m);
	dmlog__log_ref__init(&out->ref);
	out->ref.uuid = (char *)o->uuid;
	out->ref.luid = o->luid;
	out->ref.request_version = o->version ? o->version : 3;
	memcpy(out->regions, o->regions, sizeof(out->regions));
	out->m.id = id;
	out->m.body_case = (Dmlog__ClientMessage__BodyCase)o->kind;
	/* Every op message is the protobuf-c header followed by its LogRef pointer, and every
	 * body pointer shares one union slot: set them generically, then the typed fields. */
	switch (o->kind) {
	case DMLOG__CLIENT_MESSAGE__BODY_CTR:
		dmlog__ctr__init(&out->u.ctr);
		out->u.ctr.args = (char *)o->args;
		out->u.ctr.reconnect = o->reconnect;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_DTR:
		dmlog__dtr__init(&out->u.dtr);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_PRESUSPEND:
		dmlog__presuspend__init((Dmlog__Presuspend *)&out->u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_POSTSUSPEND:
		dmlog__postsuspend__init((Dmlog__Postsuspend *)&out->u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_RESUME:
		dmlog__resume__init((Dmlog__Resume *)&out->u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_GET_REGION_SIZE:
		dmlog__get_region_size__init((Dmlog__GetRegionSize *)&out->u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN:
		dmlog__is_clean__init(&out->u.is_clean);
		out->u.is_clean.region = o->region;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC:
		dmlog__in_sync__init(&out->u.in_sync);
		out->u.in_sync.region = o->region;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_FLUSH:
		dmlog__flush__init(&out->u.flush);
		out->u.flush.n_marks = o->n;
		out->u.flush.marks = out->regions;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION:
		dmlog__mark_region__init(&out->u.mark);
		out->u.mark.n_regions = o->n;
		out->u.mark.regions = out->regions;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_CLEAR_REGION:
		dmlog__clear_region__init(&out->u.clear);
		out->u.clear.n_regions = o->n;
		out->u.clear.regions = out->regions;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_GET_RESYNC_WORK:
		dmlog__get_resync_work__init((Dmlog__GetResyncWork *)&out->u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_SET_REGION_SYNC:
		dmlog__set_region_sync__init(&out->u.srs);
		out->u.srs.region = o->region;
		out->u.srs.in_sync = o->in_sync;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_GET_SYNC_COUNT:
		dmlog__get_sync_count__init((Dmlog__GetSyncCount *)&out->u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_STATUS_INFO:
		dmlog__status_info__init((Dmlog__StatusInfo *)&out->u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_STATUS_TABLE:
		dmlog__status_table__init((Dmlog__StatusTable *)&out->u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_IS_REMOTE_RECOVERING:
		dmlog__is_remote_recovering__init(&out->u.irr);
		out->u.irr.region = o->region;
		break;
	default:
		return -1;
	}
	out->u.dtr.log = &out->ref; /* the LogRef pointer sits at the same place in every op message */
	out->m.ctr = &out->u.ctr;
	return 0;
}

int op_send(struct rawconn *c, uint64_t id, const struct op *o)
{
	struct op_msg msg;

	if (op_build(&msg, id, o) != 0)
		return -1;
	return rawconn_send(c, &msg.m);
}

Dmlog__ServerMessage *op_call(struct rawconn *c, uint64_t id, const struct op *o)
{
	if (op_send(c, id, o) != 0)
		return NULL;
	return rawconn_recv(c, 10000);
}

int op_errno(const Dmlog__ServerMessage *r)
{
	return r && r->body_case == DMLOG__SERVER_MESSAGE__BODY_ERROR ? r->error->errno_neg : 0;
}
