/* msg.c: requests to wire messages and wire replies to results. */
#include "msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

/* protobuf-c's structs take non-const pointers even to data it only reads while packing. */
static char *mut_str(const char *s)
{
	union {
		const char *c;
		char *m;
	} u = { .c = s };
	return u.m;
}

static uint64_t *mut_u64(const uint64_t *p)
{
	union {
		const uint64_t *c;
		uint64_t *m;
	} u = { .c = p };
	return u.m;
}

static void free_const(const void *p)
{
	union {
		const void *c;
		void *m;
	} u = { .c = p };
	free(u.m);
}

DMLOG_API const char *dmlog_op_name(enum dmlog_op op)
{
	switch (op) {
	case DMLOG_OP_CTR: return "CTR";
	case DMLOG_OP_DTR: return "DTR";
	case DMLOG_OP_PRESUSPEND: return "PRESUSPEND";
	case DMLOG_OP_POSTSUSPEND: return "POSTSUSPEND";
	case DMLOG_OP_RESUME: return "RESUME";
	case DMLOG_OP_GET_REGION_SIZE: return "GET_REGION_SIZE";
	case DMLOG_OP_IS_CLEAN: return "IS_CLEAN";
	case DMLOG_OP_IN_SYNC: return "IN_SYNC";
	case DMLOG_OP_FLUSH: return "FLUSH";
	case DMLOG_OP_MARK_REGION: return "MARK_REGION";
	case DMLOG_OP_CLEAR_REGION: return "CLEAR_REGION";
	case DMLOG_OP_GET_RESYNC_WORK: return "GET_RESYNC_WORK";
	case DMLOG_OP_SET_REGION_SYNC: return "SET_REGION_SYNC";
	case DMLOG_OP_GET_SYNC_COUNT: return "GET_SYNC_COUNT";
	case DMLOG_OP_STATUS_INFO: return "STATUS_INFO";
	case DMLOG_OP_STATUS_TABLE: return "STATUS_TABLE";
	case DMLOG_OP_IS_REMOTE_RECOVERING: return "IS_REMOTE_RECOVERING";
	case DMLOG_OP_PING: return "PING";
	case DMLOG_OP_ADMIN_STATUS: return "ADMIN_STATUS";
	case DMLOG_OP_ADMIN_LIST_LOGS: return "ADMIN_LIST_LOGS";
	case DMLOG_OP_ADMIN_SHOW_LOG: return "ADMIN_SHOW_LOG";
	case DMLOG_OP_WATCH: return "WATCH";
	case DMLOG_OP_UNWATCH: return "UNWATCH";
	case DMLOG_OP_FEED_ACK: return "FEED_ACK";
	case DMLOG_OP_ADMIN_PEER_ADD: return "ADMIN_PEER_ADD";
	case DMLOG_OP_ADMIN_PEER_REMOVE: return "ADMIN_PEER_REMOVE";
	case DMLOG_OP_ADMIN_DIGEST: return "ADMIN_DIGEST";
	}
	return "UNKNOWN";
}

static bool is_dm_op(enum dmlog_op op)
{
	return op >= DMLOG_OP_CTR && op <= DMLOG_OP_IS_REMOTE_RECOVERING;
}

static int check_uuid(const char *uuid, const char *name, char *cause, size_t cause_len)
{
	if (!uuid || !*uuid) {
		snprintf(cause, cause_len, "%s: log uuid missing", name);
		return -EINVAL;
	}
	if (strnlen(uuid, DMLOG_UUID_MAX + 1) > DMLOG_UUID_MAX) {
		snprintf(cause, cause_len, "%s: log uuid longer than %d bytes", name,
			 DMLOG_UUID_MAX);
		return -EINVAL;
	}
	return 0;
}

static int check_request(const struct dmlog_request *req, char *cause, size_t cause_len)
{
	const char *name = dmlog_op_name(req->op);
	size_t min = 0;

	if (!strcmp(name, "UNKNOWN")) {
		snprintf(cause, cause_len, "request type %d unknown", (int)req->op);
		return -EINVAL;
	}
	if (is_dm_op(req->op) || req->op == DMLOG_OP_ADMIN_SHOW_LOG || req->op == DMLOG_OP_WATCH) {
		int rc = check_uuid(req->log.uuid, name, cause, cause_len);

		if (rc)
			return rc;
	}
	switch (req->op) {
	case DMLOG_OP_MARK_REGION:
	case DMLOG_OP_CLEAR_REGION:
		min = 1;
		/* fall through */
	case DMLOG_OP_FLUSH:
		if (req->region_count < min || req->region_count > DMLOG_MAX_REGIONS) {
			snprintf(cause, cause_len, "%s: %zu regions (%zu to %d allowed)", name,
				 req->region_count, min, DMLOG_MAX_REGIONS);
			return -EINVAL;
		}
		if (req->region_count && !req->regions) {
			snprintf(cause, cause_len, "%s: regions missing", name);
			return -EINVAL;
		}
		break;
	case DMLOG_OP_ADMIN_PEER_ADD:
		if (!req->peer_raft_address || !*req->peer_raft_address) {
			snprintf(cause, cause_len, "%s: Raft address (HOST:PORT) missing", name);
			return -EINVAL;
		}
		if (!req->peer_id || !*req->peer_id) {
			snprintf(cause, cause_len, "%s: peer id (certificate CN) missing", name);
			return -EINVAL;
		}
		/* fall through */
	case DMLOG_OP_ADMIN_PEER_REMOVE:
		if (req->peer_raft_id == 0) {
			snprintf(cause, cause_len, "%s: Raft id 0 is not a server's", name);
			return -EINVAL;
		}
		break;
	default:
		break;
	}
	return 0;
}

static int msg_pack(const Dmlog__ClientMessage *cm, uint8_t **frame, size_t *len, char *cause,
		    size_t cause_len)
{
	size_t size = dmlog__client_message__get_packed_size(cm);
	uint8_t *buf;

	if (size == 0 || size > FRAME_DEFAULT_MAX) {
		snprintf(cause, cause_len, "request of %zu bytes does not fit in a frame", size);
		return -EINVAL;
	}
	buf = malloc(FRAME_HEADER_SIZE + size);
	if (!buf) {
		snprintf(cause, cause_len, "out of memory");
		return -ENOMEM;
	}
	frame_put_header(buf, (uint32_t)size);
	dmlog__client_message__pack(cm, buf + FRAME_HEADER_SIZE);
	*frame = buf;
	*len = FRAME_HEADER_SIZE + size;
	return 0;
}

int msg_encode(const struct dmlog_request *req, uint64_t id, uint8_t **frame, size_t *len,
	       char *cause, size_t cause_len)
{
	Dmlog__ClientMessage cm;
	Dmlog__LogRef log;
	union {
		Dmlog__Ping ping;
		Dmlog__Ctr ctr;
		Dmlog__Dtr dtr;
		Dmlog__Presuspend presuspend;
		Dmlog__Postsuspend postsuspend;
		Dmlog__Resume resume;
		Dmlog__GetRegionSize get_region_size;
		Dmlog__IsClean is_clean;
		Dmlog__InSync in_sync;
		Dmlog__Flush flush;
		Dmlog__MarkRegion mark_region;
		Dmlog__ClearRegion clear_region;
		Dmlog__GetResyncWork get_resync_work;
		Dmlog__SetRegionSync set_region_sync;
		Dmlog__GetSyncCount get_sync_count;
		Dmlog__StatusInfo status_info;
		Dmlog__StatusTable status_table;
		Dmlog__IsRemoteRecovering is_remote_recovering;
		Dmlog__StatusRequest admin_status;
		Dmlog__ListLogsRequest admin_list_logs;
		Dmlog__ShowLogRequest admin_show_log;
		Dmlog__Watch watch;
		Dmlog__Unwatch unwatch;
		Dmlog__FeedAck feed_ack;
		Dmlog__PeerAddRequest admin_peer_add;
		Dmlog__PeerRemoveRequest admin_peer_remove;
		Dmlog__StateDigestRequest admin_state_digest;
	} b;
	int rc;

	rc = check_request(req, cause, cause_len);
	if (rc)
		return rc;
	dmlog__client_message__init(&cm);
	cm.id = id;
	dmlog__log_ref__init(&log);
	if (is_dm_op(req->op) || req->op == DMLOG_OP_WATCH) {
		log.uuid = mut_str(req->log.uuid);
		log.luid = req->log.luid;
		log.request_version = req->log.version;
	}

/* Makes b.field, a Dmlog__TYPE initialised, the FIELD body of cm. */
#define BODY(type, field, FIELD)                                                     \
	do {                                                                         \
		dmlog__##type##__init(&b.field);                                     \
		cm.body_case = DMLOG__CLIENT_MESSAGE__BODY_##FIELD;                  \
		cm.field = &b.field;                                                 \
	} while (0)
/* The request types whose message holds the log reference only; with one region; with a list
 * of regions (n_list, list); with no field at all. */
#define LOG_ONLY(OP, field, FIELD)                                                   \
	case DMLOG_OP_##OP:                                                          \
		BODY(field, field, FIELD);                                           \
		b.field.log = &log;                                                  \
		break
#define LOG_REGION(OP, field, FIELD)                                                 \
	case DMLOG_OP_##OP:                                                          \
		BODY(field, field, FIELD);                                           \
		b.field.log = &log;                                                  \
		b.field.region = req->region;                                        \
		break
#define LOG_REGIONS(OP, field, FIELD, list)                                          \
	case DMLOG_OP_##OP:                                                          \
		BODY(field, field, FIELD);                                           \
		b.field.log = &log;                                                  \
		b.field.n_##list = req->region_count;                                \
		b.field.list = mut_u64(req->regions);                                \
		break
#define EMPTY(OP, type, field, FIELD)                                                \
	case DMLOG_OP_##OP:                                                          \
		BODY(type, field, FIELD);                                            \
		break

	switch (req->op) {
	case DMLOG_OP_CTR:
		BODY(ctr, ctr, CTR);
		b.ctr.log = &log;
		b.ctr.args = mut_str(req->args ? req->args : "");
		b.ctr.reconnect = req->reconnect;
		break;
	LOG_ONLY(DTR, dtr, DTR);
	LOG_ONLY(PRESUSPEND, presuspend, PRESUSPEND);
	LOG_ONLY(POSTSUSPEND, postsuspend, POSTSUSPEND);
	LOG_ONLY(RESUME, resume, RESUME);
	LOG_ONLY(GET_REGION_SIZE, get_region_size, GET_REGION_SIZE);
	LOG_ONLY(GET_RESYNC_WORK, get_resync_work, GET_RESYNC_WORK);
	LOG_ONLY(GET_SYNC_COUNT, get_sync_count, GET_SYNC_COUNT);
	LOG_ONLY(STATUS_INFO, status_info, STATUS_INFO);
	LOG_ONLY(STATUS_TABLE, status_table, STATUS_TABLE);
	LOG_ONLY(WATCH, watch, WATCH);
	LOG_REGION(IS_CLEAN, is_clean, IS_CLEAN);
	LOG_REGION(IN_SYNC, in_sync, IN_SYNC);
	LOG_REGION(IS_REMOTE_RECOVERING, is_remote_recovering, IS_REMOTE_RECOVERING);
	LOG_REGIONS(FLUSH, flush, FLUSH, marks);
	LOG_REGIONS(MARK_REGION, mark_region, MARK_REGION, regions);
	LOG_REGIONS(CLEAR_REGION, clear_region, CLEAR_REGION, regions);
	case DMLOG_OP_SET_REGION_SYNC:
		BODY(set_region_sync, set_region_sync, SET_REGION_SYNC);
		b.set_region_sync.log = &log;
		b.set_region_sync.region = req->region;
		b.set_region_sync.in_sync = req->in_sync;
		break;
	EMPTY(PING, ping, ping, PING);
	EMPTY(ADMIN_STATUS, status_request, admin_status, ADMIN_STATUS);
	EMPTY(ADMIN_LIST_LOGS, list_logs_request, admin_list_logs, ADMIN_LIST_LOGS);
	EMPTY(ADMIN_DIGEST, state_digest_request, admin_state_digest, ADMIN_STATE_DIGEST);
	case DMLOG_OP_ADMIN_SHOW_LOG:
		BODY(show_log_request, admin_show_log, ADMIN_SHOW_LOG);
		b.admin_show_log.uuid = mut_str(req->log.uuid);
		break;
	case DMLOG_OP_UNWATCH:
		BODY(unwatch, unwatch, UNWATCH);
		b.unwatch.feed_id = req->feed_id;
		b.unwatch.watch_id = req->watch_id;
		break;
	case DMLOG_OP_FEED_ACK:
		BODY(feed_ack, feed_ack, FEED_ACK);
		b.feed_ack.feed_id = req->feed_id;
		b.feed_ack.seq = req->seq;
		break;
	case DMLOG_OP_ADMIN_PEER_ADD:
		BODY(peer_add_request, admin_peer_add, ADMIN_PEER_ADD);
		b.admin_peer_add.raft_id = req->peer_raft_id;
		b.admin_peer_add.raft_address = mut_str(req->peer_raft_address);
		b.admin_peer_add.id = mut_str(req->peer_id);
		break;
	case DMLOG_OP_ADMIN_PEER_REMOVE:
		BODY(peer_remove_request, admin_peer_remove, ADMIN_PEER_REMOVE);
		b.admin_peer_remove.raft_id = req->peer_raft_id;
		break;
	}
#undef EMPTY
#undef LOG_REGIONS
#undef LOG_REGION
#undef LOG_ONLY
#undef BODY
	return msg_pack(&cm, frame, len, cause, cause_len);
}

int msg_encode_hello(uint64_t id, const char *client_name, uint64_t client_id, uint8_t **frame,
		     size_t *len)
{
	Dmlog__ClientMessage cm;
	Dmlog__Hello hello;
	char cause[80];

	dmlog__client_message__init(&cm);
	dmlog__hello__init(&hello);
	hello.protocol_version = DMLOG__VERSION__PROTOCOL_VERSION;
	hello.client_name = mut_str(client_name);
	hello.client_id = client_id;
	cm.id = id;
	cm.body_case = DMLOG__CLIENT_MESSAGE__BODY_HELLO;
	cm.hello = &hello;
	return msg_pack(&cm, frame, len, cause, sizeof(cause));
}

/* ---------------------------------------------------------------- replies */

static const char *str(const char *s)
{
	return s ? s : "";
}

static Dmlog__ServerMessage__BodyCase expected_body(enum dmlog_op op)
{
	switch (op) {
	case DMLOG_OP_CTR: return DMLOG__SERVER_MESSAGE__BODY_CTR;
	case DMLOG_OP_GET_REGION_SIZE: return DMLOG__SERVER_MESSAGE__BODY_REGION_SIZE;
	case DMLOG_OP_IS_CLEAN:
	case DMLOG_OP_IN_SYNC: return DMLOG__SERVER_MESSAGE__BODY_BOOL_RESULT;
	case DMLOG_OP_GET_RESYNC_WORK: return DMLOG__SERVER_MESSAGE__BODY_RESYNC_WORK;
	case DMLOG_OP_GET_SYNC_COUNT: return DMLOG__SERVER_MESSAGE__BODY_SYNC_COUNT;
	case DMLOG_OP_STATUS_INFO:
	case DMLOG_OP_STATUS_TABLE: return DMLOG__SERVER_MESSAGE__BODY_STATUS;
	case DMLOG_OP_IS_REMOTE_RECOVERING: return DMLOG__SERVER_MESSAGE__BODY_REMOTE_RECOVERING;
	case DMLOG_OP_PING: return DMLOG__SERVER_MESSAGE__BODY_PONG;
	case DMLOG_OP_ADMIN_STATUS: return DMLOG__SERVER_MESSAGE__BODY_ADMIN_STATUS;
	case DMLOG_OP_ADMIN_LIST_LOGS: return DMLOG__SERVER_MESSAGE__BODY_ADMIN_LOGS;
	case DMLOG_OP_ADMIN_SHOW_LOG: return DMLOG__SERVER_MESSAGE__BODY_ADMIN_LOG;
	case DMLOG_OP_WATCH: return DMLOG__SERVER_MESSAGE__BODY_WATCH;
	case DMLOG_OP_FEED_ACK: return DMLOG__SERVER_MESSAGE__BODY_FEED_GRANT;
	case DMLOG_OP_ADMIN_PEER_ADD:
	case DMLOG_OP_ADMIN_PEER_REMOVE: return DMLOG__SERVER_MESSAGE__BODY_ADMIN_PEER_CHANGE;
	case DMLOG_OP_ADMIN_DIGEST: return DMLOG__SERVER_MESSAGE__BODY_ADMIN_STATE_DIGEST;
	default: return DMLOG__SERVER_MESSAGE__BODY_DONE;
	}
}

static void *alloc_array(size_t n, size_t size, int *rc)
{
	void *p;

	if (n == 0)
		return NULL;
	p = calloc(n, size);
	if (!p)
		*rc = -ENOMEM;
	return p;
}

static void summary_from(const Dmlog__LogSummary *s, struct dmlog_log_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->uuid = out->log_type = out->state = out->recoverer = out->device = "";
	if (!s)
		return;
	out->uuid = str(s->uuid);
	out->log_type = str(s->log_type);
	out->region_size = s->region_size;
	out->region_count = s->region_count;
	out->dirty_count = s->dirty_count;
	out->sync_count = s->sync_count;
	out->state = str(s->state);
	out->recoverer = str(s->recoverer);
	out->recovering_region = s->recovering_region;
	out->device = str(s->device);
}

/* The peers of a reply as an allocated array (NULL when n is 0). Returns 0 or -ENOMEM. */
static int peers_from(Dmlog__PeerInfo **in, size_t n, const struct dmlog_peer_info **out)
{
	struct dmlog_peer_info *peers;
	int rc = 0;

	*out = NULL;
	peers = alloc_array(n, sizeof(*peers), &rc);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		peers[i].id = str(in[i]->id);
		peers[i].address = str(in[i]->address);
		peers[i].role = str(in[i]->role);
		peers[i].voter = in[i]->voter;
		peers[i].raft_id = in[i]->raft_id;
		peers[i].raft_address = str(in[i]->raft_address);
		peers[i].client_address = str(in[i]->client_address);
		peers[i].membership = str(in[i]->membership);
	}
	*out = peers;
	return 0;
}

static int digest_from(const Dmlog__StateDigestReply *d, struct dmlog_state_digest *out)
{
	static const char hex[] = "0123456789abcdef";

	out->applied_index = d->applied_index;
	out->sha256[0] = '\0';
	if (d->sha256.len != 32)
		return -EPROTO;
	for (size_t i = 0; i < d->sha256.len; i++) {
		out->sha256[2 * i] = hex[d->sha256.data[i] >> 4];
		out->sha256[2 * i + 1] = hex[d->sha256.data[i] & 15];
	}
	out->sha256[2 * d->sha256.len] = '\0';
	return 0;
}

static int status_from(const Dmlog__StatusReply *s, struct dmlog_server_status *out)
{
	int rc;

	out->server_id = str(s->server_id);
	out->raft_role = str(s->raft_role);
	out->leader_id = str(s->leader_id);
	out->term = s->term;
	out->commit_index = s->commit_index;
	out->applied_index = s->applied_index;
	out->log_count = s->log_count;
	out->node_count = s->node_count;
	out->connection_count = s->connection_count;
	out->healthy = s->healthy;
	out->version = str(s->version);
	rc = peers_from(s->peers, s->n_peers, &out->peers);
	if (rc)
		return rc;
	out->peer_count = s->n_peers;
	return 0;
}

static int logs_from(const Dmlog__LogList *l, struct dmlog_log_list *out)
{
	struct dmlog_log_summary *logs;
	int rc = 0;

	logs = alloc_array(l->n_logs, sizeof(*logs), &rc);
	if (rc)
		return rc;
	for (size_t i = 0; i < l->n_logs; i++)
		summary_from(l->logs[i], &logs[i]);
	out->logs = logs;
	out->count = l->n_logs;
	return 0;
}

static const struct dmlog_region_range *ranges_from(Dmlog__RegionRange **in, size_t n, int *rc)
{
	struct dmlog_region_range *r = alloc_array(n, sizeof(*r), rc);

	for (size_t i = 0; r && i < n; i++) {
		r[i].first = in[i]->first;
		r[i].last = in[i]->last;
	}
	return r;
}

static void detail_release(struct dmlog_log_detail *d)
{
	free_const(d->dirty);
	free_const(d->out_of_sync);
	free_const(d->marks);
	free_const(d->instances);
	d->dirty = d->out_of_sync = NULL;
	d->marks = NULL;
	d->instances = NULL;
}

static int detail_from(const Dmlog__LogDetail *d, struct dmlog_log_detail *out)
{
	struct dmlog_node_marks *marks;
	struct dmlog_instance_info *inst;
	int rc = 0;

	summary_from(d->summary, &out->summary);
	out->fully_synced = d->fully_synced;
	out->dirty = ranges_from(d->dirty, d->n_dirty, &rc);
	out->dirty_count = d->n_dirty;
	out->out_of_sync = ranges_from(d->out_of_sync, d->n_out_of_sync, &rc);
	out->out_of_sync_count = d->n_out_of_sync;
	out->marks = marks = alloc_array(d->n_marks, sizeof(*marks), &rc);
	out->mark_count = d->n_marks;
	out->instances = inst = alloc_array(d->n_instances, sizeof(*inst), &rc);
	out->instance_count = d->n_instances;
	if (rc) {
		detail_release(out);
		return rc;
	}
	for (size_t i = 0; i < d->n_marks; i++) {
		marks[i].node = str(d->marks[i]->node);
		marks[i].regions = d->marks[i]->regions;
		marks[i].region_count = d->marks[i]->n_regions;
	}
	for (size_t i = 0; i < d->n_instances; i++) {
		inst[i].node = str(d->instances[i]->node);
		inst[i].luid = d->instances[i]->luid;
		inst[i].state = str(d->instances[i]->state);
		inst[i].in_sync_hint = d->instances[i]->in_sync_hint;
	}
	return 0;
}

int msg_result(enum dmlog_op op, uint64_t id, const Dmlog__ServerMessage *m,
	       struct dmlog_result *res, char *cause, size_t cause_len)
{
	int rc = 0;

	memset(res, 0, sizeof(*res));
	res->op = op;
	res->request_id = id;
	if (m->body_case != expected_body(op)) {
		snprintf(cause, cause_len, "%s request %llu: unexpected reply (body %d)",
			 dmlog_op_name(op), (unsigned long long)id, (int)m->body_case);
		return -EPROTO;
	}
	switch (op) {
	case DMLOG_OP_CTR:
		res->device = str(m->ctr->device);
		break;
	case DMLOG_OP_GET_REGION_SIZE:
		res->region_size = m->region_size->region_size;
		break;
	case DMLOG_OP_IS_CLEAN:
		res->clean = m->bool_result->value;
		break;
	case DMLOG_OP_IN_SYNC:
		res->in_sync = m->bool_result->value;
		break;
	case DMLOG_OP_GET_RESYNC_WORK:
		res->resync_work.has_work = m->resync_work->has_work;
		res->resync_work.region = m->resync_work->region;
		break;
	case DMLOG_OP_GET_SYNC_COUNT:
		res->sync_count = m->sync_count->count;
		break;
	case DMLOG_OP_STATUS_INFO:
	case DMLOG_OP_STATUS_TABLE:
		res->text = str(m->status->text);
		break;
	case DMLOG_OP_IS_REMOTE_RECOVERING:
		res->remote_recovering.recovering = m->remote_recovering->recovering;
		res->remote_recovering.in_sync_hint = m->remote_recovering->in_sync_hint;
		break;
	case DMLOG_OP_ADMIN_STATUS:
		rc = status_from(m->admin_status, &res->status);
		break;
	case DMLOG_OP_ADMIN_LIST_LOGS:
		rc = logs_from(m->admin_logs, &res->logs);
		break;
	case DMLOG_OP_ADMIN_SHOW_LOG:
		rc = detail_from(m->admin_log, &res->log);
		break;
	case DMLOG_OP_WATCH:
		res->watch.feed_id = m->watch->feed_id;
		res->watch.watch_id = m->watch->watch_id;
		res->watch.seq = m->watch->seq;
		res->watch.sticky = m->watch->sticky;
		res->watch.region_count = m->watch->region_count;
		res->watch.lease_ms = m->watch->lease_ms;
		res->watch.out_of_sync = ranges_from(m->watch->out_of_sync, m->watch->n_out_of_sync,
						     &rc);
		res->watch.out_of_sync_count = rc ? 0 : m->watch->n_out_of_sync;
		break;
	case DMLOG_OP_FEED_ACK:
		res->grant.feed_id = m->feed_grant->feed_id;
		res->grant.lease_ms = m->feed_grant->lease_ms;
		res->grant.acked = m->feed_grant->acked;
		break;
	case DMLOG_OP_ADMIN_PEER_ADD:
	case DMLOG_OP_ADMIN_PEER_REMOVE:
		res->peer_change.raft_id = m->admin_peer_change->raft_id;
		rc = peers_from(m->admin_peer_change->peers, m->admin_peer_change->n_peers,
				&res->peer_change.peers);
		res->peer_change.peer_count = rc ? 0 : m->admin_peer_change->n_peers;
		break;
	case DMLOG_OP_ADMIN_DIGEST:
		if (digest_from(m->admin_state_digest, &res->digest)) {
			snprintf(cause, cause_len, "%s request %llu: a digest of %zu bytes (not 32)",
				 dmlog_op_name(op), (unsigned long long)id,
				 m->admin_state_digest->sha256.len);
			return -EPROTO;
		}
		break;
	default:
		break;
	}
	if (rc)
		snprintf(cause, cause_len, "%s request %llu: out of memory", dmlog_op_name(op),
			 (unsigned long long)id);
	return rc;
}

void msg_result_release(struct dmlog_result *res)
{
	switch (res->op) {
	case DMLOG_OP_ADMIN_STATUS:
		free_const(res->status.peers);
		res->status.peers = NULL;
		break;
	case DMLOG_OP_ADMIN_PEER_ADD:
	case DMLOG_OP_ADMIN_PEER_REMOVE:
		free_const(res->peer_change.peers);
		res->peer_change.peers = NULL;
		break;
	case DMLOG_OP_ADMIN_LIST_LOGS:
		free_const(res->logs.logs);
		res->logs.logs = NULL;
		break;
	case DMLOG_OP_ADMIN_SHOW_LOG:
		detail_release(&res->log);
		break;
	case DMLOG_OP_WATCH:
		free_const(res->watch.out_of_sync);
		res->watch.out_of_sync = NULL;
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------- pushes */

int msg_push(const Dmlog__FeedPush *p, struct dmlog_push *out)
{
	struct dmlog_feed_change *v = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->type = DMLOG_PUSH_FEED;
	out->feed_id = p->feed_id;
	out->seq = p->seq;
	v = alloc_array(p->n_changes, sizeof(*v), &rc);
	if (rc)
		return rc;
	for (size_t i = 0; i < p->n_changes; i++) {
		const Dmlog__FeedChange *c = p->changes[i];

		switch (c->kind) {
		case DMLOG__FEED_CHANGE__KIND__SYNC: v[i].kind = DMLOG_FEED_SYNC; break;
		case DMLOG__FEED_CHANGE__KIND__STICKY: v[i].kind = DMLOG_FEED_STICKY; break;
		case DMLOG__FEED_CHANGE__KIND__DROP: v[i].kind = DMLOG_FEED_DROP; break;
		default: v[i].kind = DMLOG_FEED_RESET; break; /* unknown: the safe reading */
		}
		v[i].watch_id = c->watch_id;
		v[i].first = c->first;
		v[i].last = c->last;
		v[i].value = c->value;
	}
	out->changes = v;
	out->change_count = p->n_changes;
	return 0;
}

void msg_push_release(struct dmlog_push *p)
{
	free_const(p->changes);
	p->changes = NULL;
}
