/* async_ops.c: the typed non-blocking calls, each a thin wrapper around dmlog_async_submit(). */
#include <dmlog/async.h>

#include <string.h>

static struct dmlog_request async_ops_request(enum dmlog_op op, const struct dmlog_log_ref *log)
{
	struct dmlog_request req;

	memset(&req, 0, sizeof(req));
	req.op = op;
	if (log)
		req.log = *log;
	return req;
}

DMLOG_API int dmlog_async_ctr(struct dmlog_async *ac, const struct dmlog_log_ref *log,
			      const char *args, bool reconnect, dmlog_async_cb *cb, void *arg)
{
	struct dmlog_request req = async_ops_request(DMLOG_OP_CTR, log);

	req.args = args;
	req.reconnect = reconnect;
	return dmlog_async_submit(ac, &req, cb, arg);
}

/* The requests that carry nothing but the log reference. */
#define ASYNC_LOG_ONLY(name, OP)                                                              \
	DMLOG_API int dmlog_async_##name(struct dmlog_async *ac, const struct dmlog_log_ref *log, \
					 dmlog_async_cb *cb, void *arg)                          \
	{                                                                                     \
		struct dmlog_request req = async_ops_request(DMLOG_OP_##OP, log);             \
		return dmlog_async_submit(ac, &req, cb, arg);                                 \
	}

ASYNC_LOG_ONLY(dtr, DTR)
ASYNC_LOG_ONLY(presuspend, PRESUSPEND)
ASYNC_LOG_ONLY(postsuspend, POSTSUSPEND)
ASYNC_LOG_ONLY(resume, RESUME)
ASYNC_LOG_ONLY(get_region_size, GET_REGION_SIZE)
ASYNC_LOG_ONLY(get_resync_work, GET_RESYNC_WORK)
ASYNC_LOG_ONLY(get_sync_count, GET_SYNC_COUNT)
ASYNC_LOG_ONLY(status_info, STATUS_INFO)
ASYNC_LOG_ONLY(status_table, STATUS_TABLE)

/* The requests about one region. */
#define ASYNC_REGION(name, OP)                                                                \
	DMLOG_API int dmlog_async_##name(struct dmlog_async *ac, const struct dmlog_log_ref *log, \
					 uint64_t region, dmlog_async_cb *cb, void *arg)         \
	{                                                                                     \
		struct dmlog_request req = async_ops_request(DMLOG_OP_##OP, log);             \
		req.region = region;                                                          \
		return dmlog_async_submit(ac, &req, cb, arg);                                 \
	}

ASYNC_REGION(is_clean, IS_CLEAN)
ASYNC_REGION(in_sync, IN_SYNC)
ASYNC_REGION(is_remote_recovering, IS_REMOTE_RECOVERING)

/* The requests about a list of regions. */
#define ASYNC_REGIONS(name, OP)                                                               \
	DMLOG_API int dmlog_async_##name(struct dmlog_async *ac, const struct dmlog_log_ref *log, \
					 const uint64_t *regions, size_t count,                  \
					 dmlog_async_cb *cb, void *arg)                          \
	{                                                                                     \
		struct dmlog_request req = async_ops_request(DMLOG_OP_##OP, log);             \
		req.regions = regions;                                                        \
		req.region_count = count;                                                     \
		return dmlog_async_submit(ac, &req, cb, arg);                                 \
	}

ASYNC_REGIONS(flush, FLUSH)
ASYNC_REGIONS(mark_region, MARK_REGION)
ASYNC_REGIONS(clear_region, CLEAR_REGION)

DMLOG_API int dmlog_async_set_region_sync(struct dmlog_async *ac, const struct dmlog_log_ref *log,
					  uint64_t region, bool in_sync, dmlog_async_cb *cb,
					  void *arg)
{
	struct dmlog_request req = async_ops_request(DMLOG_OP_SET_REGION_SYNC, log);

	req.region = region;
	req.in_sync = in_sync;
	return dmlog_async_submit(ac, &req, cb, arg);
}

DMLOG_API int dmlog_async_ping(struct dmlog_async *ac, dmlog_async_cb *cb, void *arg)
{
	struct dmlog_request req = async_ops_request(DMLOG_OP_PING, NULL);

	return dmlog_async_submit(ac, &req, cb, arg);
}

DMLOG_API int dmlog_async_watch(struct dmlog_async *ac, const struct dmlog_log_ref *log,
				dmlog_async_cb *cb, void *arg)
{
	struct dmlog_request req = async_ops_request(DMLOG_OP_WATCH, log);

	return dmlog_async_submit(ac, &req, cb, arg);
}

DMLOG_API int dmlog_async_unwatch(struct dmlog_async *ac, uint64_t feed_id, uint64_t watch_id,
				  dmlog_async_cb *cb, void *arg)
{
	struct dmlog_request req = async_ops_request(DMLOG_OP_UNWATCH, NULL);

	req.feed_id = feed_id;
	req.watch_id = watch_id;
	return dmlog_async_submit(ac, &req, cb, arg);
}

DMLOG_API int dmlog_async_feed_ack(struct dmlog_async *ac, uint64_t feed_id, uint64_t seq,
				   dmlog_async_cb *cb, void *arg)
{
	struct dmlog_request req = async_ops_request(DMLOG_OP_FEED_ACK, NULL);

	req.feed_id = feed_id;
	req.seq = seq;
	return dmlog_async_submit(ac, &req, cb, arg);
}

DMLOG_API int dmlog_async_admin_status(struct dmlog_async *ac, dmlog_async_cb *cb, void *arg)
{
	struct dmlog_request req = async_ops_request(DMLOG_OP_ADMIN_STATUS, NULL);

	return dmlog_async_submit(ac, &req, cb, arg);
}

DMLOG_API int dmlog_async_admin_list_logs(struct dmlog_async *ac, dmlog_async_cb *cb, void *arg)
{
	struct dmlog_request req = async_ops_request(DMLOG_OP_ADMIN_LIST_LOGS, NULL);

	return dmlog_async_submit(ac, &req, cb, arg);
}

DMLOG_API int dmlog_async_admin_show_log(struct dmlog_async *ac, const char *uuid,
					 dmlog_async_cb *cb, void *arg)
{
	struct dmlog_request req = async_ops_request(DMLOG_OP_ADMIN_SHOW_LOG, NULL);

	req.log.uuid = uuid;
	return dmlog_async_submit(ac, &req, cb, arg);
}

DMLOG_API int dmlog_async_admin_peer_add(struct dmlog_async *ac, uint64_t raft_id,
					 const char *raft_address, const char *id,
					 dmlog_async_cb *cb, void *arg)
{
	struct dmlog_request req = async_ops_request(DMLOG_OP_ADMIN_PEER_ADD, NULL);

	req.peer_raft_id = raft_id;
	req.peer_raft_address = raft_address;
	req.peer_id = id;
	return dmlog_async_submit(ac, &req, cb, arg);
}

DMLOG_API int dmlog_async_admin_peer_remove(struct dmlog_async *ac, uint64_t raft_id,
					    dmlog_async_cb *cb, void *arg)
{
	struct dmlog_request req = async_ops_request(DMLOG_OP_ADMIN_PEER_REMOVE, NULL);

	req.peer_raft_id = raft_id;
	return dmlog_async_submit(ac, &req, cb, arg);
}

DMLOG_API int dmlog_async_admin_digest(struct dmlog_async *ac, dmlog_async_cb *cb, void *arg)
{
	struct dmlog_request req = async_ops_request(DMLOG_OP_ADMIN_DIGEST, NULL);

	return dmlog_async_submit(ac, &req, cb, arg);
}
