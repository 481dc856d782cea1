/* async.c: the dmlog_async handle: creation, teardown, submission, completion and deadlines.
 *
 * Every accepted request lives in the handle's table until exactly one of these completes it:
 * its reply (link.c), its deadline (here), a permanent failure (link.c), or the handle being
 * freed (here). Completion removes it from the table before calling the user's callback, so a
 * callback that submits, or frees the handle, never sees the request twice.
 */
#include "core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <event2/event.h>

#include "msg.h"
#include "ctls.h"

static void async_destroy(struct dmlog_async *ac)
{
	struct req *r;

	link_close(ac);
	/* The table is empty by now (dmlog_async_free failed every request); be thorough. */
	while ((r = reqtab_first(&ac->reqs))) {
		reqtab_remove(&ac->reqs, r);
		if (r->deadline)
			event_free(r->deadline);
		free(r->frame);
		free(r);
	}
	reqtab_free(&ac->reqs);
	SSL_CTX_free(ac->ssl_ctx);
	options_free(&ac->opts);
	free(ac);
}

void async_format(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

void async_enter(struct dmlog_async *ac)
{
	ac->depth++;
}

bool async_leave(struct dmlog_async *ac)
{
	if (ac->depth == 1 && ac->down_pending && !ac->freeing) {
		struct dmlog_push down = {.type = DMLOG_PUSH_LINK_DOWN};

		ac->down_pending = false;
		if (ac->push_cb)
			ac->push_cb(ac, &down, ac->push_arg);
	}
	if (--ac->depth == 0 && ac->freeing) {
		async_destroy(ac);
		return true;
	}
	return false;
}

void async_complete(struct dmlog_async *ac, struct req *r, int status,
		    const struct dmlog_result *res, const char *why)
{
	reqtab_remove(&ac->reqs, r);
	if (r->deadline) {
		event_free(r->deadline);
		r->deadline = NULL;
	}
	if (status < 0)
		snprintf(ac->errmsg, sizeof(ac->errmsg), "%s", why ? why : strerror(-status));
	ac->depth++;
	r->cb(ac, status, status < 0 ? NULL : res, r->arg);
	ac->depth--;
	free(r->frame);
	free(r);
}

void async_fail_all(struct dmlog_async *ac, int status, const char *why)
{
	struct req *r;
	uint64_t last = ac->last_id;
	char msg[DMLOG_ERRMSG_SIZE];

	while ((r = reqtab_first(&ac->reqs)) && r->id <= last) {
		snprintf(msg, sizeof(msg), "%s request %llu: %s", dmlog_op_name(r->op),
			 (unsigned long long)r->id, why);
		async_complete(ac, r, status, NULL, msg);
	}
}

static void async_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct req *r = arg;
	struct dmlog_async *ac = r->ac;
	char why[DMLOG_ERRMSG_SIZE];
	int n;

	async_enter(ac);
	n = snprintf(why, sizeof(why), "%s request %llu: no reply within %u ms",
		     dmlog_op_name(r->op), (unsigned long long)r->id, ac->opts.request_timeout_ms);
	if (n > 0 && (size_t)n < sizeof(why)) {
		/* Why it was not answered: not connected now, or (connected again) the last
		 * failure while it waited, e.g. a NotLeader naming an unusable address. */
		if (ac->state != LINK_READY && ac->last_error[0])
			async_format(why + n, sizeof(why) - (size_t)n, " (not connected: %s)",
				     ac->last_error);
		else if (ac->failures != r->failures_before && ac->last_failure[0])
			async_format(why + n, sizeof(why) - (size_t)n, " (last failure: %s)",
				     ac->last_failure);
	}
	async_complete(ac, r, -ETIMEDOUT, NULL, why);
	async_leave(ac);
}

static int async_random_id(uint64_t *id)
{
	do {
		ssize_t n = getrandom(id, sizeof(*id), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(*id))
			return n < 0 ? -errno : -EIO;
	} while (*id == 0);
	return 0;
}

DMLOG_API struct dmlog_async *dmlog_async_new(struct event_base *base,
					      const struct dmlog_options *opts, char *errmsg)
{
	char local[DMLOG_ERRMSG_SIZE];
	char *err = errmsg ? errmsg : local;
	struct dmlog_async *ac;
	int rc;

	err[0] = '\0';
	if (!base) {
		snprintf(err, DMLOG_ERRMSG_SIZE, "dmlog_async_new: no event_base");
		return NULL;
	}
	ac = calloc(1, sizeof(*ac));
	if (!ac) {
		snprintf(err, DMLOG_ERRMSG_SIZE, "dmlog_async_new: out of memory");
		return NULL;
	}
	ac->base = base;
	if (options_load(&ac->opts, opts, err, DMLOG_ERRMSG_SIZE)) {
		free(ac);
		return NULL;
	}
	ac->ssl_ctx = ctls_ctx_new(ac->opts.ca_file, ac->opts.cert_file, ac->opts.key_file, err,
				  DMLOG_ERRMSG_SIZE);
	if (!ac->ssl_ctx)
		goto fail;
	rc = async_random_id(&ac->client_id);
	if (rc) {
		snprintf(err, DMLOG_ERRMSG_SIZE, "dmlog_async_new: getrandom: %s", strerror(-rc));
		goto fail;
	}
	if (reqtab_init(&ac->reqs, ac->opts.max_in_flight) || link_init(ac)) {
		snprintf(err, DMLOG_ERRMSG_SIZE, "dmlog_async_new: out of memory");
		goto fail;
	}
	if (ac->opts.request_timeout_ms != DMLOG_TIMEOUT_NONE) {
		struct timeval tv = {
			.tv_sec = ac->opts.request_timeout_ms / 1000,
			.tv_usec = (ac->opts.request_timeout_ms % 1000) * 1000,
		};

		/* Every request has the same timeout: libevent then keeps them in a queue
		 * instead of its heap (if the base has a common timeout left). */
		ac->req_tv = tv;
		ac->req_timeout = event_base_init_common_timeout(base, &tv);
		if (!ac->req_timeout)
			ac->req_timeout = &ac->req_tv;
	}
	return ac;
fail:
	link_close(ac);
	if (ac->reqs.buckets)
		reqtab_free(&ac->reqs);
	SSL_CTX_free(ac->ssl_ctx);
	options_free(&ac->opts);
	free(ac);
	return NULL;
}

DMLOG_API void dmlog_async_free(struct dmlog_async *ac)
{
	if (!ac || ac->freeing)
		return;
	ac->freeing = true;
	link_close(ac);
	async_fail_all(ac, -ECANCELED, "cancelled: the handle was freed");
	if (ac->depth == 0)
		async_destroy(ac);
}

DMLOG_API const char *dmlog_async_errmsg(const struct dmlog_async *ac)
{
	return ac ? ac->errmsg : "no handle";
}

DMLOG_API size_t dmlog_async_pending(const struct dmlog_async *ac)
{
	return ac ? ac->reqs.count : 0;
}

DMLOG_API bool dmlog_async_connected(const struct dmlog_async *ac)
{
	return ac && ac->state == LINK_READY;
}

DMLOG_API uint32_t dmlog_async_lease_ms(const struct dmlog_async *ac)
{
	return ac ? ac->lease_ms : 0;
}

DMLOG_API uint64_t dmlog_async_client_id(const struct dmlog_async *ac)
{
	return ac ? ac->client_id : 0;
}

DMLOG_API void dmlog_async_set_push_cb(struct dmlog_async *ac, dmlog_async_push_cb *cb,
				       void *arg)
{
	if (!ac)
		return;
	ac->push_cb = cb;
	ac->push_arg = cb ? arg : NULL;
}

DMLOG_API uint32_t dmlog_async_features(const struct dmlog_async *ac)
{
	return ac ? ac->features : 0;
}

DMLOG_API int dmlog_async_submit(struct dmlog_async *ac, const struct dmlog_request *req,
				 dmlog_async_cb *cb, void *arg)
{
	struct req *r;
	int rc;

	if (!ac)
		return -EINVAL;
	if (!req || !cb) {
		snprintf(ac->errmsg, sizeof(ac->errmsg), "submit: %s missing",
			 req ? "callback" : "request");
		return -EINVAL;
	}
	if (ac->freeing) {
		snprintf(ac->errmsg, sizeof(ac->errmsg), "submit %s: the handle is being freed",
			 dmlog_op_name(req->op));
		return -ECANCELED;
	}
	if (ac->reqs.count >= ac->opts.max_in_flight) {
		snprintf(ac->errmsg, sizeof(ac->errmsg),
			 "submit %s: %u requests already pending (max_in_flight)",
			 dmlog_op_name(req->op), ac->opts.max_in_flight);
		return -EAGAIN;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(ac->errmsg, sizeof(ac->errmsg), "submit %s: out of memory",
			 dmlog_op_name(req->op));
		return -ENOMEM;
	}
	r->id = ac->last_id + 1;
	r->op = req->op;
	r->cb = cb;
	r->arg = arg;
	r->ac = ac;
	rc = msg_encode(req, r->id, &r->frame, &r->frame_len, ac->errmsg, sizeof(ac->errmsg));
	if (rc) {
		free(r);
		return rc;
	}
	if (ac->req_timeout) {
		r->deadline = evtimer_new(ac->base, async_on_deadline, r);
		if (!r->deadline || evtimer_add(r->deadline, ac->req_timeout) < 0) {
			if (r->deadline)
				event_free(r->deadline);
			free(r->frame);
			free(r);
			snprintf(ac->errmsg, sizeof(ac->errmsg), "submit %s: out of memory",
				 dmlog_op_name(req->op));
			return -ENOMEM;
		}
	}
	ac->last_id = r->id;
	r->failures_before = ac->failures;
	reqtab_add(&ac->reqs, r);
	link_send(ac, r);
	return 0;
}
