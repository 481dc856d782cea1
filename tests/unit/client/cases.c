/* cases.c: one request of every type, with what the wire must carry and what must come back. */
#include "cases.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

static const uint64_t cases_regions[3] = { 4, 5, 1ull << 40 };

#define LOG_A { .uuid = "LVM-4fJ8dmlogTESTa1b2c3d4", .luid = 0xffff8881deadbeefull, .version = 3 }

static const struct dmlog_request cases[CASES_COUNT] = {
	{ .op = DMLOG_OP_CTR, .log = LOG_A, .args = "32768 clustered-core 1024", .reconnect = true },
	{ .op = DMLOG_OP_DTR, .log = LOG_A },
	{ .op = DMLOG_OP_PRESUSPEND, .log = LOG_A },
	{ .op = DMLOG_OP_POSTSUSPEND, .log = LOG_A },
	{ .op = DMLOG_OP_RESUME, .log = LOG_A },
	{ .op = DMLOG_OP_GET_REGION_SIZE, .log = LOG_A },
	{ .op = DMLOG_OP_IS_CLEAN, .log = LOG_A, .region = 10 },
	{ .op = DMLOG_OP_IN_SYNC, .log = LOG_A, .region = 9 },
	{ .op = DMLOG_OP_FLUSH, .log = LOG_A, .regions = cases_regions, .region_count = 3 },
	{ .op = DMLOG_OP_MARK_REGION, .log = LOG_A, .regions = cases_regions, .region_count = 2 },
	{ .op = DMLOG_OP_CLEAR_REGION, .log = LOG_A, .regions = cases_regions + 2, .region_count = 1 },
	{ .op = DMLOG_OP_GET_RESYNC_WORK, .log = LOG_A },
	{ .op = DMLOG_OP_SET_REGION_SYNC, .log = LOG_A, .region = 11, .in_sync = true },
	{ .op = DMLOG_OP_GET_SYNC_COUNT, .log = LOG_A },
	{ .op = DMLOG_OP_STATUS_INFO, .log = LOG_A },
	{ .op = DMLOG_OP_STATUS_TABLE, .log = LOG_A },
	{ .op = DMLOG_OP_IS_REMOTE_RECOVERING, .log = LOG_A, .region = 13 },
	{ .op = DMLOG_OP_PING },
	{ .op = DMLOG_OP_ADMIN_STATUS },
	{ .op = DMLOG_OP_ADMIN_LIST_LOGS },
	{ .op = DMLOG_OP_ADMIN_SHOW_LOG, .log = { .uuid = "log-x" } },
	{ .op = DMLOG_OP_ADMIN_PEER_ADD, .peer_raft_id = 4, .peer_raft_address = "127.0.0.1:7904",
	  .peer_id = "peer4" },
	{ .op = DMLOG_OP_ADMIN_PEER_REMOVE, .peer_raft_id = 2 },
	{ .op = DMLOG_OP_ADMIN_DIGEST },
};

const struct dmlog_request *cases_request(size_t i)
{
	ck_assert_uint_lt(i, CASES_COUNT);
	return &cases[i];
}

static void check_log(const Dmlog__LogRef *log, const struct dmlog_request *req)
{
	ck_assert_ptr_nonnull(log);
	ck_assert_str_eq(log->uuid, req->log.uuid);
	ck_assert_uint_eq(log->luid, req->log.luid);
	ck_assert_uint_eq(log->request_version, req->log.version);
}

static void check_regions(size_t n, const uint64_t *got, const struct dmlog_request *req)
{
	ck_assert_uint_eq(n, req->region_count);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(got[i], req->regions[i]);
}

void cases_check_wire(const struct dmlog_request *req, const Dmlog__ClientMessage *cm,
		      uint64_t id)
{
	ck_assert_ptr_nonnull(cm);
	ck_assert_uint_eq(cm->id, id);
	switch (req->op) {
	case DMLOG_OP_CTR:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_CTR);
		check_log(cm->ctr->log, req);
		ck_assert_str_eq(cm->ctr->args, req->args);
		ck_assert_int_eq(cm->ctr->reconnect, req->reconnect);
		break;
	case DMLOG_OP_DTR:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_DTR);
		check_log(cm->dtr->log, req);
		break;
	case DMLOG_OP_PRESUSPEND:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_PRESUSPEND);
		check_log(cm->presuspend->log, req);
		break;
	case DMLOG_OP_POSTSUSPEND:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_POSTSUSPEND);
		check_log(cm->postsuspend->log, req);
		break;
	case DMLOG_OP_RESUME:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_RESUME);
		check_log(cm->resume->log, req);
		break;
	case DMLOG_OP_GET_REGION_SIZE:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_GET_REGION_SIZE);
		check_log(cm->get_region_size->log, req);
		break;
	case DMLOG_OP_IS_CLEAN:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_IS_CLEAN);
		check_log(cm->is_clean->log, req);
		ck_assert_uint_eq(cm->is_clean->region, req->region);
		break;
	case DMLOG_OP_IN_SYNC:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_IN_SYNC);
		check_log(cm->in_sync->log, req);
		ck_assert_uint_eq(cm->in_sync->region, req->region);
		break;
	case DMLOG_OP_FLUSH:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_FLUSH);
		check_log(cm->flush->log, req);
		check_regions(cm->flush->n_marks, cm->flush->marks, req);
		break;
	case DMLOG_OP_MARK_REGION:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_MARK_REGION);
		check_log(cm->mark_region->log, req);
		check_regions(cm->mark_region->n_regions, cm->mark_region->regions, req);
		break;
	case DMLOG_OP_CLEAR_REGION:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_CLEAR_REGION);
		check_log(cm->clear_region->log, req);
		check_regions(cm->clear_region->n_regions, cm->clear_region->regions, req);
		break;
	case DMLOG_OP_GET_RESYNC_WORK:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_GET_RESYNC_WORK);
		check_log(cm->get_resync_work->log, req);
		break;
	case DMLOG_OP_SET_REGION_SYNC:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_SET_REGION_SYNC);
		check_log(cm->set_region_sync->log, req);
		ck_assert_uint_eq(cm->set_region_sync->region, req->region);
		ck_assert_int_eq(cm->set_region_sync->in_sync, req->in_sync);
		break;
	case DMLOG_OP_GET_SYNC_COUNT:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_GET_SYNC_COUNT);
		check_log(cm->get_sync_count->log, req);
		break;
	case DMLOG_OP_STATUS_INFO:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_STATUS_INFO);
		check_log(cm->status_info->log, req);
		break;
	case DMLOG_OP_STATUS_TABLE:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_STATUS_TABLE);
		check_log(cm->status_table->log, req);
		break;
	case DMLOG_OP_IS_REMOTE_RECOVERING:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_IS_REMOTE_RECOVERING);
		check_log(cm->is_remote_recovering->log, req);
		ck_assert_uint_eq(cm->is_remote_recovering->region, req->region);
		break;
	case DMLOG_OP_PING:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_PING);
		break;
	case DMLOG_OP_ADMIN_STATUS:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_ADMIN_STATUS);
		break;
	case DMLOG_OP_ADMIN_LIST_LOGS:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_ADMIN_LIST_LOGS);
		break;
	case DMLOG_OP_ADMIN_SHOW_LOG:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_ADMIN_SHOW_LOG);
		ck_assert_str_eq(cm->admin_show_log->uuid, req->log.uuid);
		break;
	case DMLOG_OP_WATCH:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_WATCH);
		check_log(cm->watch->log, req);
		break;
	case DMLOG_OP_UNWATCH:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_UNWATCH);
		ck_assert_uint_eq(cm->unwatch->feed_id, req->feed_id);
		ck_assert_uint_eq(cm->unwatch->watch_id, req->watch_id);
		break;
	case DMLOG_OP_FEED_ACK:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_FEED_ACK);
		ck_assert_uint_eq(cm->feed_ack->feed_id, req->feed_id);
		ck_assert_uint_eq(cm->feed_ack->seq, req->seq);
		break;
	case DMLOG_OP_ADMIN_PEER_ADD:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_ADMIN_PEER_ADD);
		ck_assert_uint_eq(cm->admin_peer_add->raft_id, req->peer_raft_id);
		ck_assert_str_eq(cm->admin_peer_add->raft_address, req->peer_raft_address);
		ck_assert_str_eq(cm->admin_peer_add->id, req->peer_id);
		break;
	case DMLOG_OP_ADMIN_PEER_REMOVE:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_ADMIN_PEER_REMOVE);
		ck_assert_uint_eq(cm->admin_peer_remove->raft_id, req->peer_raft_id);
		break;
	case DMLOG_OP_ADMIN_DIGEST:
		ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_ADMIN_STATE_DIGEST);
		break;
	}
}

static void check_summary(const struct dmlog_log_summary *s, const char *uuid, uint64_t n)
{
	ck_assert_str_eq(s->uuid, uuid);
	ck_assert_str_eq(s->log_type, "clustered-core");
	ck_assert_uint_eq(s->region_size, FAKE_REGION_SIZE);
	ck_assert_uint_eq(s->region_count, 1000 * n);
	ck_assert_uint_eq(s->dirty_count, 3 * n);
	ck_assert_uint_eq(s->sync_count, 990 * n);
	ck_assert_str_eq(s->state, "resumed");
	ck_assert_str_eq(s->recoverer, n == 1 ? "node1" : "");
	ck_assert_uint_eq(s->recovering_region, n == 1 ? 2 : 0);
	ck_assert_str_eq(s->device, "");
}

void cases_check_result(const struct dmlog_request *req, const struct dmlog_result *res)
{
	char text[200];

	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(res->op, req->op);
	ck_assert_uint_gt(res->request_id, 0);
	switch (req->op) {
	case DMLOG_OP_CTR:
		ck_assert_str_eq(res->device, FAKE_DEVICE);
		break;
	case DMLOG_OP_GET_REGION_SIZE:
		ck_assert_uint_eq(res->region_size, FAKE_REGION_SIZE);
		break;
	case DMLOG_OP_IS_CLEAN:
		ck_assert_int_eq(res->clean, fake_clean(req->region));
		break;
	case DMLOG_OP_IN_SYNC:
		ck_assert_int_eq(res->in_sync, fake_in_sync(req->region));
		break;
	case DMLOG_OP_GET_RESYNC_WORK:
		ck_assert(res->resync_work.has_work);
		ck_assert_uint_eq(res->resync_work.region, fake_resync_region(req->log.luid));
		break;
	case DMLOG_OP_GET_SYNC_COUNT:
		ck_assert_uint_eq(res->sync_count, fake_sync_count(req->log.luid));
		break;
	case DMLOG_OP_STATUS_INFO:
	case DMLOG_OP_STATUS_TABLE:
		snprintf(text, sizeof(text), "%s %s",
			 req->op == DMLOG_OP_STATUS_INFO ? "info" : "table", req->log.uuid);
		ck_assert_str_eq(res->text, text);
		break;
	case DMLOG_OP_IS_REMOTE_RECOVERING:
		ck_assert_int_eq(res->remote_recovering.recovering, fake_recovering(req->region));
		ck_assert_uint_eq(res->remote_recovering.in_sync_hint, fake_hint(req->region));
		break;
	case DMLOG_OP_ADMIN_STATUS:
		ck_assert_str_eq(res->status.raft_role, "leader");
		ck_assert_str_eq(res->status.server_id, res->status.leader_id);
		ck_assert_uint_eq(res->status.term, 7);
		ck_assert_uint_eq(res->status.commit_index, 41);
		ck_assert_uint_eq(res->status.applied_index, 40);
		ck_assert_uint_eq(res->status.peer_count, 2);
		ck_assert_str_eq(res->status.peers[0].id, res->status.server_id);
		ck_assert_str_eq(res->status.peers[0].role, "leader");
		ck_assert(res->status.peers[0].voter);
		ck_assert_str_eq(res->status.peers[1].id, "peer2");
		ck_assert_str_eq(res->status.peers[1].address, "127.0.0.1:1");
		ck_assert_str_eq(res->status.peers[1].role, "follower");
		ck_assert_uint_eq(res->status.log_count, 1);
		ck_assert_uint_eq(res->status.node_count, 2);
		ck_assert_uint_ge(res->status.connection_count, 1);
		ck_assert(res->status.healthy);
		ck_assert_str_eq(res->status.version, "fake-1");
		break;
	case DMLOG_OP_ADMIN_LIST_LOGS:
		ck_assert_uint_eq(res->logs.count, 2);
		check_summary(&res->logs.logs[0], "log-a", 1);
		check_summary(&res->logs.logs[1], "log-b", 2);
		break;
	case DMLOG_OP_ADMIN_SHOW_LOG:
		check_summary(&res->log.summary, req->log.uuid, 1);
		ck_assert_uint_eq(res->log.dirty_count, 2);
		ck_assert_uint_eq(res->log.dirty[0].first, 1);
		ck_assert_uint_eq(res->log.dirty[0].last, 3);
		ck_assert_uint_eq(res->log.dirty[1].first, 9);
		ck_assert_uint_eq(res->log.dirty[1].last, 9);
		ck_assert_uint_eq(res->log.out_of_sync_count, 1);
		ck_assert_uint_eq(res->log.out_of_sync[0].first, 2);
		ck_assert_uint_eq(res->log.out_of_sync[0].last, 3);
		ck_assert_uint_eq(res->log.mark_count, 1);
		ck_assert_str_eq(res->log.marks[0].node, "node1");
		ck_assert_uint_eq(res->log.marks[0].region_count, 3);
		ck_assert_uint_eq(res->log.marks[0].regions[0], 1);
		ck_assert_uint_eq(res->log.marks[0].regions[1], 2);
		ck_assert_uint_eq(res->log.marks[0].regions[2], 9);
		ck_assert_uint_eq(res->log.instance_count, 1);
		ck_assert_str_eq(res->log.instances[0].node, "node1");
		ck_assert_uint_eq(res->log.instances[0].luid, 5);
		ck_assert_str_eq(res->log.instances[0].state, "resumed");
		ck_assert_uint_eq(res->log.instances[0].in_sync_hint, 17);
		ck_assert(!res->log.fully_synced);
		break;
	case DMLOG_OP_ADMIN_PEER_ADD:
	case DMLOG_OP_ADMIN_PEER_REMOVE:
		/* the fake answers with the raft id asked and one peer: that server */
		ck_assert_uint_eq(res->peer_change.raft_id, req->peer_raft_id);
		ck_assert_uint_eq(res->peer_change.peer_count, 1);
		ck_assert_uint_eq(res->peer_change.peers[0].raft_id, req->peer_raft_id);
		ck_assert_str_eq(res->peer_change.peers[0].id, "peer4");
		ck_assert_str_eq(res->peer_change.peers[0].raft_address, "127.0.0.1:7904");
		ck_assert_str_eq(res->peer_change.peers[0].client_address, "");
		ck_assert_str_eq(res->peer_change.peers[0].membership, "voter");
		ck_assert(res->peer_change.peers[0].voter);
		break;
	case DMLOG_OP_ADMIN_DIGEST:
		ck_assert_uint_eq(res->digest.applied_index, 40);
		ck_assert_str_eq(res->digest.sha256,
				 "000102030405060708090a0b0c0d0e0f"
				 "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
		break;
	default:
		break;
	}
}

void cases_check_hello(const Dmlog__ClientMessage *cm, const char *client_name,
		       uint64_t client_id)
{
	ck_assert_ptr_nonnull(cm);
	ck_assert_int_eq(cm->body_case, DMLOG__CLIENT_MESSAGE__BODY_HELLO);
	ck_assert_uint_eq(cm->hello->protocol_version, 1);
	ck_assert_str_eq(cm->hello->client_name, client_name);
	ck_assert_uint_eq(cm->hello->client_id, client_id);
	ck_assert_uint_ne(cm->id, 0);
}
