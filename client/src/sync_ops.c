/* sync_ops.c: the typed blocking calls, each a thin wrapper around dmlog_call(). */
#include <dmlog/dmlog.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sync.h"

static struct dmlog_request sync_ops_request(enum dmlog_op op, const struct dmlog_log_ref *log)
{
	struct dmlog_request req;

	memset(&req, 0, sizeof(req));
	req.op = op;
	if (log)
		req.log = *log;
	return req;
}

/* The same, for one region. */
static struct dmlog_request sync_ops_region(enum dmlog_op op, const struct dmlog_log_ref *log,
					    uint64_t region)
{
	struct dmlog_request req = sync_ops_request(op, log);

	req.region = region;
	return req;
}

/* Runs req and hands back its owned result in *res. */
static int sync_ops_run(struct dmlog *h, const struct dmlog_request *req, struct dmlog_result **res)
{
	return dmlog_call(h, req, res);
}

/* Copies a text result into the caller's buffer; -ERANGE when it does not fit. */
static int sync_ops_text(struct dmlog *h, const struct dmlog_result *res, const char *text,
			 char *buf, size_t size)
{
	size_t n = strlen(text);

	if (!buf || n >= size) {
		sync_set_error(h, "%s request %llu: the answer (%zu bytes) does not fit in %zu bytes",
			       dmlog_op_name(res->op), (unsigned long long)res->request_id, n + 1,
			       buf ? size : 0);
		return -ERANGE;
	}
	memcpy(buf, text, n + 1);
	return 0;
}

DMLOG_API int dmlog_ctr(struct dmlog *h, const struct dmlog_log_ref *log, const char *args,
			bool reconnect, char *device, size_t device_size)
{
	struct dmlog_request req = sync_ops_request(DMLOG_OP_CTR, log);
	struct dmlog_result *res;
	int rc;

	req.args = args;
	req.reconnect = reconnect;
	rc = sync_ops_run(h, &req, &res);
	if (rc)
		return rc;
	rc = sync_ops_text(h, res, res->device, device, device_size);
	dmlog_result_free(res);
	return rc;
}

#define SYNC_NO_DATA(name, OP)                                                           \
	DMLOG_API int dmlog_##name(struct dmlog *h, const struct dmlog_log_ref *log)     \
	{                                                                                \
		struct dmlog_request req = sync_ops_request(DMLOG_OP_##OP, log);         \
		return sync_ops_run(h, &req, NULL);                                      \
	}

SYNC_NO_DATA(dtr, DTR)
SYNC_NO_DATA(presuspend, PRESUSPEND)
SYNC_NO_DATA(postsuspend, POSTSUSPEND)
SYNC_NO_DATA(resume, RESUME)

/* The body of a call whose answer is one field of the result, copied to *out when out is not
 * NULL (req is the request, h the handle). */
#define SYNC_ANSWER_BODY(field)                                                          \
	struct dmlog_result *res;                                                        \
	int rc = sync_ops_run(h, &req, &res);                                            \
                                                                                         \
	if (rc)                                                                          \
		return rc;                                                               \
	if (out)                                                                         \
		*out = res->field;                                                       \
	dmlog_result_free(res);                                                          \
	return 0

/* The calls on a log whose answer is one field of the result; the same with one region. */
#define SYNC_FIELD(name, OP, type, field)                                                \
	DMLOG_API int dmlog_##name(struct dmlog *h, const struct dmlog_log_ref *log,     \
				   type *out)                                            \
	{                                                                                \
		struct dmlog_request req = sync_ops_request(DMLOG_OP_##OP, log);         \
		SYNC_ANSWER_BODY(field);                                                 \
	}

#define SYNC_REGION_FIELD(name, OP, type, field)                                         \
	DMLOG_API int dmlog_##name(struct dmlog *h, const struct dmlog_log_ref *log,     \
				   uint64_t region, type *out)                           \
	{                                                                                \
		struct dmlog_request req = sync_ops_region(DMLOG_OP_##OP, log, region);  \
		SYNC_ANSWER_BODY(field);                                                 \
	}

SYNC_FIELD(get_region_size, GET_REGION_SIZE, uint64_t, region_size)
SYNC_FIELD(get_resync_work, GET_RESYNC_WORK, struct dmlog_resync_work, resync_work)
SYNC_FIELD(get_sync_count, GET_SYNC_COUNT, uint64_t, sync_count)
SYNC_REGION_FIELD(is_clean, IS_CLEAN, bool, clean)
SYNC_REGION_FIELD(in_sync, IN_SYNC, bool, in_sync)
SYNC_REGION_FIELD(is_remote_recovering, IS_REMOTE_RECOVERING, struct dmlog_remote_recovering,
		  remote_recovering)

#define SYNC_REGIONS(name, OP)                                                           \
	DMLOG_API int dmlog_##name(struct dmlog *h, const struct dmlog_log_ref *log,     \
				   const uint64_t *regions, size_t count)                \
	{                                                                                \
		struct dmlog_request req = sync_ops_request(DMLOG_OP_##OP, log);         \
		req.regions = regions;                                                   \
		req.region_count = count;                                                \
		return sync_ops_run(h, &req, NULL);                                      \
	}

SYNC_REGIONS(flush, FLUSH)
SYNC_REGIONS(mark_region, MARK_REGION)
SYNC_REGIONS(clear_region, CLEAR_REGION)

DMLOG_API int dmlog_set_region_sync(struct dmlog *h, const struct dmlog_log_ref *log,
				    uint64_t region, bool in_sync)
{
	struct dmlog_request req = sync_ops_region(DMLOG_OP_SET_REGION_SYNC, log, region);

	req.in_sync = in_sync;
	return sync_ops_run(h, &req, NULL);
}

static int sync_ops_status(struct dmlog *h, enum dmlog_op op, const struct dmlog_log_ref *log,
			   char *text, size_t text_size)
{
	struct dmlog_request req = sync_ops_request(op, log);
	struct dmlog_result *res;
	int rc = sync_ops_run(h, &req, &res);

	if (rc)
		return rc;
	rc = sync_ops_text(h, res, res->text, text, text_size);
	dmlog_result_free(res);
	return rc;
}

DMLOG_API int dmlog_status_info(struct dmlog *h, const struct dmlog_log_ref *log, char *text,
				size_t text_size)
{
	return sync_ops_status(h, DMLOG_OP_STATUS_INFO, log, text, text_size);
}

DMLOG_API int dmlog_status_table(struct dmlog *h, const struct dmlog_log_ref *log, char *text,
				 size_t text_size)
{
	return sync_ops_status(h, DMLOG_OP_STATUS_TABLE, log, text, text_size);
}

DMLOG_API int dmlog_ping(struct dmlog *h)
{
	struct dmlog_request req = sync_ops_request(DMLOG_OP_PING, NULL);

	return sync_ops_run(h, &req, NULL);
}

DMLOG_API int dmlog_admin_status(struct dmlog *h, struct dmlog_result **out)
{
	struct dmlog_request req = sync_ops_request(DMLOG_OP_ADMIN_STATUS, NULL);

	return sync_ops_run(h, &req, out);
}

DMLOG_API int dmlog_admin_list_logs(struct dmlog *h, struct dmlog_result **out)
{
	struct dmlog_request req = sync_ops_request(DMLOG_OP_ADMIN_LIST_LOGS, NULL);

	return sync_ops_run(h, &req, out);
}

DMLOG_API int dmlog_admin_show_log(struct dmlog *h, const char *uuid, struct dmlog_result **out)
{
	struct dmlog_request req = sync_ops_request(DMLOG_OP_ADMIN_SHOW_LOG, NULL);

	req.log.uuid = uuid;
	return sync_ops_run(h, &req, out);
}

DMLOG_API int dmlog_admin_peer_add(struct dmlog *h, uint64_t raft_id, const char *raft_address,
				   const char *id, struct dmlog_result **out)
{
	struct dmlog_request req = sync_ops_request(DMLOG_OP_ADMIN_PEER_ADD, NULL);

	req.peer_raft_id = raft_id;
	req.peer_raft_address = raft_address;
	req.peer_id = id;
	return sync_ops_run(h, &req, out);
}

DMLOG_API int dmlog_admin_peer_remove(struct dmlog *h, uint64_t raft_id,
				      struct dmlog_result **out)
{
	struct dmlog_request req = sync_ops_request(DMLOG_OP_ADMIN_PEER_REMOVE, NULL);

	req.peer_raft_id = raft_id;
	return sync_ops_run(h, &req, out);
}

DMLOG_API int dmlog_admin_digest(struct dmlog *h, struct dmlog_result **out)
{
	struct dmlog_request req = sync_ops_request(DMLOG_OP_ADMIN_DIGEST, NULL);

	return sync_ops_run(h, &req, out);
}
