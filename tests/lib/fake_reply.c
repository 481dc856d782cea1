/* fake_reply.c: the fake dmlogd's answers, built from the request and packed as frames. */
#include "fake_reply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "frame.h"

/* protobuf-c's structs take char * even for what they only read. */
static char *fake_str(const char *s)
{
	union {
		const char *c;
		char *m;
	} u = { .c = s };
	return u.m;
}

uint8_t *fake_reply_pack(const Dmlog__ServerMessage *m, size_t *len)
{
	size_t size = dmlog__server_message__get_packed_size(m);
	uint8_t *buf = malloc(FRAME_HEADER_SIZE + size);

	if (!buf)
		return NULL;
	frame_put_header(buf, (uint32_t)size);
	dmlog__server_message__pack(m, buf + FRAME_HEADER_SIZE);
	*len = FRAME_HEADER_SIZE + size;
	return buf;
}

uint8_t *fake_reply_hello(uint64_t id, const char *server_id, const char *role,
			  const char *identity, size_t *len)
{
	Dmlog__ServerMessage m;
	Dmlog__HelloReply h;

	dmlog__server_message__init(&m);
	dmlog__hello_reply__init(&h);
	h.protocol_version = DMLOG__VERSION__PROTOCOL_VERSION;
	h.server_id = fake_str(server_id);
	h.role = fake_str(role);
	h.identity = fake_str(identity);
	h.lease_ms = FAKE_LEASE_MS;
	m.id = id;
	m.body_case = DMLOG__SERVER_MESSAGE__BODY_HELLO;
	m.hello = &h;
	return fake_reply_pack(&m, len);
}

uint8_t *fake_reply_error(uint64_t id, int err, const char *message, size_t *len)
{
	Dmlog__ServerMessage m;
	Dmlog__Error e;

	dmlog__server_message__init(&m);
	dmlog__error__init(&e);
	e.errno_neg = err;
	e.message = fake_str(message);
	m.id = id;
	m.body_case = DMLOG__SERVER_MESSAGE__BODY_ERROR;
	m.error = &e;
	return fake_reply_pack(&m, len);
}

uint8_t *fake_reply_not_leader(uint64_t id, const char *address, size_t *len)
{
	Dmlog__ServerMessage m;
	Dmlog__NotLeader nl;

	dmlog__server_message__init(&m);
	dmlog__not_leader__init(&nl);
	nl.leader_id = fake_str("leader");
	nl.leader_address = fake_str(address);
	m.id = id;
	m.body_case = DMLOG__SERVER_MESSAGE__BODY_NOT_LEADER;
	m.not_leader = &nl;
	return fake_reply_pack(&m, len);
}

static const Dmlog__LogRef *fake_log_ref(const Dmlog__ClientMessage *cm)
{
	switch (cm->body_case) {
	case DMLOG__CLIENT_MESSAGE__BODY_CTR: return cm->ctr->log;
	case DMLOG__CLIENT_MESSAGE__BODY_DTR: return cm->dtr->log;
	case DMLOG__CLIENT_MESSAGE__BODY_PRESUSPEND: return cm->presuspend->log;
	case DMLOG__CLIENT_MESSAGE__BODY_POSTSUSPEND: return cm->postsuspend->log;
	case DMLOG__CLIENT_MESSAGE__BODY_RESUME: return cm->resume->log;
	case DMLOG__CLIENT_MESSAGE__BODY_GET_REGION_SIZE: return cm->get_region_size->log;
	case DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN: return cm->is_clean->log;
	case DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC: return cm->in_sync->log;
	case DMLOG__CLIENT_MESSAGE__BODY_FLUSH: return cm->flush->log;
	case DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION: return cm->mark_region->log;
	case DMLOG__CLIENT_MESSAGE__BODY_CLEAR_REGION: return cm->clear_region->log;
	case DMLOG__CLIENT_MESSAGE__BODY_GET_RESYNC_WORK: return cm->get_resync_work->log;
	case DMLOG__CLIENT_MESSAGE__BODY_SET_REGION_SYNC: return cm->set_region_sync->log;
	case DMLOG__CLIENT_MESSAGE__BODY_GET_SYNC_COUNT: return cm->get_sync_count->log;
	case DMLOG__CLIENT_MESSAGE__BODY_STATUS_INFO: return cm->status_info->log;
	case DMLOG__CLIENT_MESSAGE__BODY_STATUS_TABLE: return cm->status_table->log;
	case DMLOG__CLIENT_MESSAGE__BODY_IS_REMOTE_RECOVERING: return cm->is_remote_recovering->log;
	default: return NULL;
	}
}

static void fake_summary(Dmlog__LogSummary *s, const char *uuid, uint64_t n)
{
	dmlog__log_summary__init(s);
	s->uuid = fake_str(uuid);
	s->log_type = fake_str("clustered-core");
	s->region_size = FAKE_REGION_SIZE;
	s->region_count = 1000 * n;
	s->dirty_count = 3 * n;
	s->sync_count = 990 * n;
	s->state = (char *)"resumed";
	s->recoverer = (char *)(n == 1 ? "node1" : "");
	s->recovering_region = n == 1 ? 2 : 0;
	s->device = (char *)"";
}

/* Packs the canned answer to an admin query (see fake_server.h). */
static uint8_t *fake_reply_admin(const Dmlog__ClientMessage *cm,
				 const struct fake_reply_context *ctx, Dmlog__ServerMessage *m,
				 size_t *len)
{
	Dmlog__StatusReply st;
	Dmlog__PeerInfo p1, p2, *peers[2] = { &p1, &p2 };
	Dmlog__LogList ll;
	Dmlog__LogSummary s1, s2, *sums[2] = { &s1, &s2 };
	Dmlog__LogDetail d;
	Dmlog__RegionRange r1, r2, r3, *dirty[2] = { &r1, &r2 }, *oos[1] = { &r3 };
	uint64_t regions[3] = { 1, 2, 9 };
	Dmlog__NodeMarks nm, *marks[1] = { &nm };
	Dmlog__InstanceInfo in, *insts[1] = { &in };
	Dmlog__PeerChangeReply pc;
	Dmlog__StateDigestReply sd;
	uint8_t sha[32];

	switch (cm->body_case) {
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_PEER_ADD:
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_PEER_REMOVE:
		/* the configuration afterwards: one voter, the raft id asked, as peer4 */
		dmlog__peer_change_reply__init(&pc);
		dmlog__peer_info__init(&p1);
		pc.raft_id = cm->body_case == DMLOG__CLIENT_MESSAGE__BODY_ADMIN_PEER_ADD ?
			cm->admin_peer_add->raft_id : cm->admin_peer_remove->raft_id;
		p1.id = (char *)"peer4";
		p1.address = (char *)"127.0.0.1:7904";
		p1.role = (char *)"follower";
		p1.voter = true;
		p1.raft_id = pc.raft_id;
		p1.raft_address = (char *)"127.0.0.1:7904";
		p1.client_address = (char *)"";
		p1.membership = (char *)"voter";
		pc.n_peers = 1;
		pc.peers = peers;
		m->body_case = DMLOG__SERVER_MESSAGE__BODY_ADMIN_PEER_CHANGE;
		m->admin_peer_change = &pc;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_STATE_DIGEST:
		/* bytes 0x00..0x0f then 0xf0..0xff */
		dmlog__state_digest_reply__init(&sd);
		for (size_t i = 0; i < 16; i++) {
			sha[i] = (uint8_t)i;
			sha[16 + i] = (uint8_t)(0xf0 + i);
		}
		sd.applied_index = 40;
		sd.sha256.data = sha;
		sd.sha256.len = sizeof(sha);
		m->body_case = DMLOG__SERVER_MESSAGE__BODY_ADMIN_STATE_DIGEST;
		m->admin_state_digest = &sd;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_STATUS:
		dmlog__status_reply__init(&st);
		dmlog__peer_info__init(&p1);
		dmlog__peer_info__init(&p2);
		p1.id = fake_str(ctx->server_id);
		p1.address = fake_str(ctx->address);
		p1.role = (char *)"leader";
		p1.voter = true;
		p2.id = (char *)"peer2";
		p2.address = (char *)"127.0.0.1:1";
		p2.role = (char *)"follower";
		p2.voter = true;
		st.server_id = fake_str(ctx->server_id);
		st.raft_role = (char *)"leader";
		st.leader_id = fake_str(ctx->server_id);
		st.term = 7;
		st.commit_index = 41;
		st.applied_index = 40;
		st.n_peers = 2;
		st.peers = peers;
		st.log_count = 1;
		st.node_count = 2;
		st.connection_count = ctx->connections;
		st.healthy = true;
		st.version = (char *)"fake-1";
		m->body_case = DMLOG__SERVER_MESSAGE__BODY_ADMIN_STATUS;
		m->admin_status = &st;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_LIST_LOGS:
		dmlog__log_list__init(&ll);
		fake_summary(&s1, "log-a", 1);
		fake_summary(&s2, "log-b", 2);
		ll.n_logs = 2;
		ll.logs = sums;
		m->body_case = DMLOG__SERVER_MESSAGE__BODY_ADMIN_LOGS;
		m->admin_logs = &ll;
		break;
	default: /* ADMIN_SHOW_LOG */
		dmlog__log_detail__init(&d);
		fake_summary(&s1, cm->admin_show_log->uuid, 1);
		dmlog__region_range__init(&r1);
		dmlog__region_range__init(&r2);
		dmlog__region_range__init(&r3);
		r1.first = 1;
		r1.last = 3;
		r2.first = 9;
		r2.last = 9;
		r3.first = 2;
		r3.last = 3;
		dmlog__node_marks__init(&nm);
		nm.node = (char *)"node1";
		nm.n_regions = 3;
		nm.regions = regions;
		dmlog__instance_info__init(&in);
		in.node = (char *)"node1";
		in.luid = 5;
		in.state = (char *)"resumed";
		in.in_sync_hint = 17;
		d.summary = &s1;
		d.n_dirty = 2;
		d.dirty = dirty;
		d.n_out_of_sync = 1;
		d.out_of_sync = oos;
		d.n_marks = 1;
		d.marks = marks;
		d.n_instances = 1;
		d.instances = insts;
		d.fully_synced = false;
		m->body_case = DMLOG__SERVER_MESSAGE__BODY_ADMIN_LOG;
		m->admin_log = &d;
		break;
	}
	return fake_reply_pack(m, len);
}

uint8_t *fake_reply_canned(const Dmlog__ClientMessage *cm, const struct fake_reply_context *ctx,
			   size_t *len)
{
	const Dmlog__LogRef *log = fake_log_ref(cm);
	const char *uuid = log && log->uuid ? log->uuid : "";
	uint64_t luid = log ? log->luid : 0;
	Dmlog__ServerMessage m;
	Dmlog__Done done;
	Dmlog__Pong pong;
	Dmlog__CtrResult ctr;
	Dmlog__RegionSizeResult rs;
	Dmlog__BoolResult b;
	Dmlog__ResyncWorkResult rw;
	Dmlog__SyncCountResult sc;
	Dmlog__StatusResult st;
	Dmlog__RemoteRecoveringResult rr;
	char text[200];

	dmlog__server_message__init(&m);
	m.id = cm->id;
	switch (cm->body_case) {
	case DMLOG__CLIENT_MESSAGE__BODY_PING:
		dmlog__pong__init(&pong);
		m.body_case = DMLOG__SERVER_MESSAGE__BODY_PONG;
		m.pong = &pong;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_CTR:
		dmlog__ctr_result__init(&ctr);
		ctr.device = (char *)FAKE_DEVICE;
		m.body_case = DMLOG__SERVER_MESSAGE__BODY_CTR;
		m.ctr = &ctr;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_GET_REGION_SIZE:
		dmlog__region_size_result__init(&rs);
		rs.region_size = FAKE_REGION_SIZE;
		m.body_case = DMLOG__SERVER_MESSAGE__BODY_REGION_SIZE;
		m.region_size = &rs;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN:
	case DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC:
		dmlog__bool_result__init(&b);
		b.value = cm->body_case == DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN ?
			fake_clean(cm->is_clean->region) : fake_in_sync(cm->in_sync->region);
		m.body_case = DMLOG__SERVER_MESSAGE__BODY_BOOL_RESULT;
		m.bool_result = &b;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_GET_RESYNC_WORK:
		dmlog__resync_work_result__init(&rw);
		rw.has_work = true;
		rw.region = fake_resync_region(luid);
		m.body_case = DMLOG__SERVER_MESSAGE__BODY_RESYNC_WORK;
		m.resync_work = &rw;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_GET_SYNC_COUNT:
		dmlog__sync_count_result__init(&sc);
		sc.count = fake_sync_count(luid);
		m.body_case = DMLOG__SERVER_MESSAGE__BODY_SYNC_COUNT;
		m.sync_count = &sc;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_STATUS_INFO:
	case DMLOG__CLIENT_MESSAGE__BODY_STATUS_TABLE:
		dmlog__status_result__init(&st);
		snprintf(text, sizeof(text), "%s %s",
			 cm->body_case == DMLOG__CLIENT_MESSAGE__BODY_STATUS_INFO ? "info" : "table",
			 uuid);
		st.text = text;
		m.body_case = DMLOG__SERVER_MESSAGE__BODY_STATUS;
		m.status = &st;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_IS_REMOTE_RECOVERING:
		dmlog__remote_recovering_result__init(&rr);
		rr.recovering = fake_recovering(cm->is_remote_recovering->region);
		rr.in_sync_hint = fake_hint(cm->is_remote_recovering->region);
		m.body_case = DMLOG__SERVER_MESSAGE__BODY_REMOTE_RECOVERING;
		m.remote_recovering = &rr;
		break;
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_STATUS:
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_LIST_LOGS:
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_SHOW_LOG:
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_PEER_ADD:
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_PEER_REMOVE:
	case DMLOG__CLIENT_MESSAGE__BODY_ADMIN_STATE_DIGEST:
		return fake_reply_admin(cm, ctx, &m, len);
	case DMLOG__CLIENT_MESSAGE__BODY_HELLO:
		return fake_reply_error(cm->id, -EPROTO, "Hello sent twice", len);
	default:
		dmlog__done__init(&done);
		m.body_case = DMLOG__SERVER_MESSAGE__BODY_DONE;
		m.done = &done;
		break;
	}
	return fake_reply_pack(&m, len);
}
