/* sync.c: the blocking handle, built on a dmlog_async handle and a private event_base.
 *
 * dmlog_call() submits one request and runs the private loop until that request's callback has
 * run; the async layer guarantees it runs exactly once (reply, deadline or failure), so the loop
 * always ends. Between calls nothing runs: an idle connection that the server closed is noticed
 * by the next call's loop, and its request, if written to it, goes again on the new connection
 * with the same id (applied once). The request is written to the socket from inside the submit
 * (write_now), without a loop pass of its own. SIGPIPE needs no masking:
 * the connection's writes never raise it (ctls_socket_bio()), they fail with EPIPE.
 */
#include <dmlog/async.h>
#include <dmlog/dmlog.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core.h"
#include "sync.h"

struct dmlog {
	struct event_base *base;
	struct dmlog_async *ac;
	char errmsg[DMLOG_ERRMSG_SIZE];
};

struct sync_call {
	bool done;
	bool want_result;
	int status;
	struct dmlog_result *res;
	char errmsg[DMLOG_ERRMSG_SIZE];
};

DMLOG_API struct dmlog *dmlog_new(const struct dmlog_options *opts, char *errmsg)
{
	struct dmlog *h = calloc(1, sizeof(*h));

	if (errmsg)
		errmsg[0] = '\0';
	if (!h || !(h->base = event_base_new())) {
		if (errmsg)
			snprintf(errmsg, DMLOG_ERRMSG_SIZE, "dmlog_new: out of memory");
		free(h);
		return NULL;
	}
	h->ac = dmlog_async_new(h->base, opts, errmsg);
	if (!h->ac) {
		event_base_free(h->base);
		free(h);
		return NULL;
	}
	h->ac->write_now = true; /* each call waits for its answer at once: no loop pass to write */
	return h;
}

DMLOG_API void dmlog_free(struct dmlog *h)
{
	if (!h)
		return;
	dmlog_async_free(h->ac);
	/* The connection's bufferevent is released by callbacks it had queued: run them. */
	event_base_loop(h->base, EVLOOP_NONBLOCK);
	event_base_loop(h->base, EVLOOP_NONBLOCK);
	event_base_free(h->base);
	free(h);
}

void sync_set_error(struct dmlog *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->errmsg, sizeof(h->errmsg), fmt, ap);
	va_end(ap);
}

DMLOG_API const char *dmlog_errmsg(const struct dmlog *h)
{
	return h ? h->errmsg : "no handle";
}

static void sync_on_reply(struct dmlog_async *ac, int status, const struct dmlog_result *res,
			  void *arg)
{
	struct sync_call *c = arg;

	c->done = true;
	c->status = status;
	if (status < 0) {
		snprintf(c->errmsg, sizeof(c->errmsg), "%s", dmlog_async_errmsg(ac));
		return;
	}
	if (c->want_result) {
		c->res = dmlog_result_dup(res);
		if (!c->res) {
			c->status = -ENOMEM;
			snprintf(c->errmsg, sizeof(c->errmsg), "%s request %llu: out of memory",
				 dmlog_op_name(res->op), (unsigned long long)res->request_id);
		}
	}
}

DMLOG_API int dmlog_call(struct dmlog *h, const struct dmlog_request *req,
			 struct dmlog_result **out)
{
	struct sync_call c;
	int rc;

	if (out)
		*out = NULL;
	if (!h)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	c.want_result = out != NULL;
	h->errmsg[0] = '\0';
	/* No loop pass before the submit: what happened while the handle was idle (the server
	 * closing the connection) is seen by the loop below, and a request written to a connection
	 * that turns out dead is sent again on the next one with its id, as after any failure. */
	rc = dmlog_async_submit(h->ac, req, sync_on_reply, &c);
	if (rc) {
		snprintf(h->errmsg, sizeof(h->errmsg), "%s", dmlog_async_errmsg(h->ac));
		return rc;
	}
	while (!c.done) {
		if (event_base_loop(h->base, EVLOOP_ONCE) != 0 && !c.done) {
			/* The loop has nothing left to wait for: a bug, but never leave c dangling. */
			async_fail_all(h->ac, -EIO, "internal error: the event loop stopped");
		}
	}
	if (c.status < 0) {
		snprintf(h->errmsg, sizeof(h->errmsg), "%s", c.errmsg);
		return c.status;
	}
	if (out)
		*out = c.res;
	return 0;
}
