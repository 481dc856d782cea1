/* ops.c: dm_ulog request builders for the integration tests (see ops.h). */
#include "ops.h"

#include <string.h>

int op_send(struct rawconn *c, uint64_t id, const struct op *o)
{
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__LogRef ref = DMLOG__LOG_REF__INIT;
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

	ref.uuid = (char *)o->uuid;
	ref.luid = o->luid;
	ref.request_version = o->version ? o->version : 3;
	memcpy(regions, o->regions, sizeof(regions));
	m.id = id;
	m.body_case = (Dmlog__ClientMessage__BodyCase)o->kind;
	/* Every op message is the protobuf-c header followed by its LogRef pointer, and every
	 * body pointer shares one union slot: set them generically, then the typed fields. */
	switch (o->kind) {
	case DMLOG__CLIENT_MESSAGE__BODY_CTR:
		dmlog__ctr__init(&u.ctr);
		u.ctr.args = (char *)o->args;
		u.ctr.reconnect = o->reconnect;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_DTR:
		dmlog__dtr__init(&u.dtr);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_PRESUSPEND:
		dmlog__presuspend__init((Dmlog__Presuspend *)&u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_POSTSUSPEND:
		dmlog__postsuspend__init((Dmlog__Postsuspend *)&u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_RESUME:
		dmlog__resume__init((Dmlog__Resume *)&u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_GET_REGION_SIZE:
		dmlog__get_region_size__init((Dmlog__GetRegionSize *)&u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN:
		dmlog__is_clean__init(&u.is_clean);
		u.is_clean.region = o->region;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC:
		dmlog__in_sync__init(&u.in_sync);
		u.in_sync.region = o->region;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_FLUSH:
		dmlog__flush__init(&u.flush);
		u.flush.n_marks = o->n;
		u.flush.marks = regions;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION:
		dmlog__mark_region__init(&u.mark);
		u.mark.n_regions = o->n;
		u.mark.regions = regions;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_CLEAR_REGION:
		dmlog__clear_region__init(&u.clear);
		u.clear.n_regions = o->n;
		u.clear.regions = regions;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_GET_RESYNC_WORK:
		dmlog__get_resync_work__init((Dmlog__GetResyncWork *)&u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_SET_REGION_SYNC:
		dmlog__set_region_sync__init(&u.srs);
		u.srs.region = o->region;
		u.srs.in_sync = o->in_sync;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_GET_SYNC_COUNT:
		dmlog__get_sync_count__init((Dmlog__GetSyncCount *)&u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_STATUS_INFO:
		dmlog__status_info__init((Dmlog__StatusInfo *)&u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_STATUS_TABLE:
		dmlog__status_table__init((Dmlog__StatusTable *)&u);
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_IS_REMOTE_RECOVERING:
		dmlog__is_remote_recovering__init(&u.irr);
		u.irr.region = o->region;
		break;
	default:
		return -1;
	}
	u.dtr.log = &ref; /* the LogRef pointer sits at the same place in every op message */
	m.ctr = &u.ctr;
	return rawconn_send(c, &m);
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
