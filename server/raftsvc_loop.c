/* raftsvc_loop.c: the raft thread of the Raft service — its libuv loop and raft instance.
 *
 * Everything that touches the raft instance runs here: setting it up (bootstrap on first start),
 * turning queued submissions into raft_apply() calls, the barrier after each election, publishing
 * status and leadership after every loop iteration (a uv_check handle runs after each poll, so
 * after every batch of I/O callbacks), the fatal path and the shutdown.
 *
 * Shutdown: raft_close() first (libraft fails its pending requests, which come back through
 * loop_apply_cb), then in its close callback the I/O backend and transport are released; the
 * async and check handles are closed only once raftsvc_stop() asked for it, so that after a
 * fatal error the thread keeps answering submissions with -EIO until then. The loop ends when
 * those handles are closed.
 */
#include "raftsvc_impl.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void loop_close_raft(struct raftsvc *s);

int raftsvc_loop_errno(int raft_rv)
{
	switch (raft_rv) {
	case 0:
		return 0;
	case RAFT_NOMEM:
		return -ENOMEM;
	case RAFT_NOTLEADER:
	case RAFT_LEADERSHIPLOST:
		return -EAGAIN;
	case RAFT_SHUTDOWN:
	case RAFT_CANCELED:
		return -ESHUTDOWN;
	case RAFT_NOSPACE:
		return -ENOSPC;
	case RAFT_TOOBIG:
		return -EMSGSIZE;
	case RAFT_NOTFOUND:
		return -ENOENT;
	case RAFT_INVALID:
	case RAFT_BADID:
	case RAFT_BADROLE:
		return -EINVAL;
	case RAFT_NAMETOOLONG:
		return -ENAMETOOLONG;
	case RAFT_UNAUTHORIZED:
		return -EACCES;
	case RAFT_CANTBOOTSTRAP:
	case RAFT_DUPLICATEID:
	case RAFT_DUPLICATEADDRESS:
		return -EEXIST;
	case RAFT_BUSY:
	case RAFT_CANTCHANGE:
		return -EBUSY;
	case RAFT_NOCONNECTION:
		return -ENOTCONN;
	case RAFT_MALFORMED:
	case RAFT_CORRUPT:
		return -EBADMSG;
	case RAFT_TOOMANY:
		return -EMFILE;
	default:
		return -EIO;
	}
}

void raftsvc_loop_fail(struct raftsvc *s, int err, uint64_t index, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return;
	s->failed = true;
	s->fail_err = err < 0 ? err : -EIO;
	s->fail_index = index ? index : (uint64_t)raft_last_applied(&s->raft) + 1;
	va_start(ap, fmt);
	vsnprintf(s->fail_msg, sizeof(s->fail_msg), fmt, ap);
	va_end(ap);
}

/* Start failed: tell raftsvc_start() why (it waits for the phase to change). */
static void loop_start_failed(struct raftsvc *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void loop_start_failed(struct raftsvc *s, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->sh->lock);
	if (s->sh->phase == RAFTSVC_STARTING) {
		va_start(ap, fmt);
		vsnprintf(s->sh->start_err, sizeof(s->sh->start_err), fmt, ap);
		va_end(ap);
		s->sh->phase = RAFTSVC_FAILED;
		pthread_cond_broadcast(&s->sh->cond);
	}
	pthread_mutex_unlock(&s->sh->lock);
}

static const char *loop_role(int state)
{
	switch (state) {
	case RAFT_LEADER:
		return "leader";
	case RAFT_FOLLOWER:
		return "follower";
	case RAFT_CANDIDATE:
		return "candidate";
	default:
		return "unavailable";
	}
}

/* Copies the raft state into sh->pub, reports leadership changes and a fatal error to the
 * libevent thread and ends raftsvc_start()'s wait. */
void raftsvc_loop_publish(struct raftsvc *s)
{
	struct raftsvc_shared *sh = s->sh;
	struct raftsvc_status st;
	const char *leader_address = NULL;
	raft_id leader_id = 0;
	int state = RAFT_UNAVAILABLE;
	bool notify = false;

	memset(&st, 0, sizeof(st));
	st.id = s->cfg.id;
	st.incarnation = s->incarnation;
	if (s->raft_started && !s->raft_closing) {
		struct peer_stats ps;

		state = raft_state(&s->raft);
		raft_leader(&s->raft, &leader_id, &leader_address);
		st.term = raft_current_term(&s->raft);
		st.last_index = raft_last_index(&s->raft);
		st.commit_index = raft_commit_index(&s->raft);
		st.last_applied = raft_last_applied(&s->raft);
		raftsvc_member_publish(s, &st);
		peer_transport_stats(&s->transport, &ps);
		st.peers_accepted = ps.accepted;
		st.peers_refused = ps.refused;
	}
	st.role = loop_role(state);
	st.leader_id = leader_id;
	if (leader_address)
		snprintf(st.leader_address, sizeof(st.leader_address), "%s", leader_address);
	st.snapshots_taken = s->snapshots;
	st.installs_held = s->installs_held;
	st.restores = s->restores;
	st.serving = s->ready && state == RAFT_LEADER && !s->failed && !s->transferring &&
		     raft_transferee(&s->raft) == 0;
	st.failed = s->failed;
	st.lease_until_ms = st.serving ? raftsvc_lease_until(s) : 0;

	pthread_mutex_lock(&sh->lock);
	if (!s->raft_started || s->raft_closing) {
		/* Keep the last known figures; only the role and flags change. */
		st.term = sh->pub.term;
		st.last_index = sh->pub.last_index;
		st.commit_index = sh->pub.commit_index;
		st.last_applied = sh->pub.last_applied;
		st.n_members = sh->pub.n_members;
		memcpy(st.members, sh->pub.members, sizeof(st.members));
		st.peers_accepted = sh->pub.peers_accepted;
		st.peers_refused = sh->pub.peers_refused;
	}
	if (st.serving != sh->pub.serving) {
		sh->leader_seq++;
		notify = true;
	}
	sh->pub = st;
	if (s->failed && !sh->fatal) {
		sh->fatal = true;
		sh->fatal_err = s->fail_err;
		snprintf(sh->fatal_msg, sizeof(sh->fatal_msg), "%s", s->fail_msg);
		notify = true;
	}
	if (sh->phase == RAFTSVC_STARTING) {
		if (s->failed) {
			snprintf(sh->start_err, sizeof(sh->start_err), "%s", s->fail_msg);
			sh->phase = RAFTSVC_FAILED;
			pthread_cond_broadcast(&sh->cond);
		} else if (st.serving || (s->raft_started && !s->solo_start)) {
			sh->phase = RAFTSVC_READY;
			pthread_cond_broadcast(&sh->cond);
		}
	}
	pthread_mutex_unlock(&sh->lock);
	if (notify)
		raftsvc_queue_notify(s);
}

static void loop_barrier_cb(struct raft_barrier *b, int status)
{
	struct raftsvc *s = b->data;

	s->barrier_pending = false;
	if (status != 0 || s->raft_closing)
		return;
	if (raft_state(&s->raft) == RAFT_LEADER &&
	    raft_current_term(&s->raft) == s->barrier_term) {
		s->ready = true;
		s->ready_term = s->barrier_term;
		raftsvc_lease_ping(s); /* the first read lease of the term, without waiting */
	}
}

/* After every loop iteration: follow leadership (a barrier before serving), react to a fatal
 * error, publish. */
static void loop_check_cb(uv_check_t *h)
{
	struct raftsvc *s = h->data;
	int state;

	if (!s->raft_started || s->raft_closing)
		return;
	raftsvc_hold_release(s);
	state = raft_state(&s->raft);
	if (state == RAFT_UNAVAILABLE && !s->failed)
		raftsvc_loop_fail(s, -EIO, 0, "raft: unavailable: %s", raft_errmsg(&s->raft));
	if (s->failed) {
		s->ready = false;
		raftsvc_loop_publish(s);
		loop_close_raft(s);
		return;
	}
	if (state == RAFT_LEADER) {
		if (s->lease_term != raft_current_term(&s->raft))
			raftsvc_lease_ping(s); /* new term: empty lease table, ask at once */
		if (s->ready && s->ready_term != raft_current_term(&s->raft))
			s->ready = false;
		if (!s->ready && !s->barrier_pending) {
			s->barrier.data = s;
			s->barrier_term = raft_current_term(&s->raft);
			s->barrier_pending = true;
			/* On failure (leadership just lost) the next iteration retries. */
			if (raft_barrier(&s->raft, &s->barrier, loop_barrier_cb) != 0)
				s->barrier_pending = false;
		}
	} else {
		s->ready = false;
	}
	raftsvc_loop_publish(s);
}

static void loop_apply_cb(struct raft_apply *a, int status, void *result)
{
	struct raftsvc_req *req = a->data;
	struct raftsvc *s = req->s;
	uint64_t index = a->index;
	int err;

	(void)result;
	raftsvc_queue_unlink(&s->inflight, req);
	if (s->failed && (status != 0 || index >= s->fail_index))
		err = -EIO;
	else if (status == 0)
		err = 0;
	else if (s->stop_seen)
		err = -ESHUTDOWN;
	else
		err = raftsvc_loop_errno(status);
	raftsvc_queue_complete(s, req, err, index);
}

/* Hands one queued request to raft, or answers it right away. */
static void loop_submit(struct raftsvc *s, struct raftsvc_req *req)
{
	struct raft_buffer buf;
	int rv;

	if (req->kind == RAFTSVC_REQ_CHANGE) {
		raftsvc_member_submit(s, req);
		return;
	}
	if (s->failed) {
		raftsvc_queue_complete(s, req, -EIO, 0);
		return;
	}
	if (s->stop_seen || s->raft_closing) {
		raftsvc_queue_complete(s, req, -ESHUTDOWN, 0);
		return;
	}
	if (!s->ready || raft_state(&s->raft) != RAFT_LEADER || raft_transferee(&s->raft) != 0) {
		raftsvc_queue_complete(s, req, -EAGAIN, 0);
		return;
	}
	/* From here the bytes are libraft's if raft_apply() succeeds, and req may be completed
	 * (even freed) as soon as loop_apply_cb runs: touch neither after a success. */
	buf = req->buf;
	req->buf.base = NULL;
	req->apply.data = req;
	raftsvc_queue_link(&s->inflight, req);
	rv = raft_apply(&s->raft, &req->apply, &buf, 1, loop_apply_cb);
	if (rv == 0)
		return;
	raftsvc_queue_unlink(&s->inflight, req);
	if (rv == RAFT_NOTLEADER) {
		req->buf = buf; /* refused up front: still ours */
		raftsvc_queue_complete(s, req, -EAGAIN, 0);
		return;
	}
	/* Any other error may come after libraft took the entry over (its compatibility layer
	 * frees a submitted batch once copied into its log): leave the bytes alone rather than
	 * risk a double free, and stop the service, whose raft state is now uncertain. */
	raftsvc_loop_fail(s, raftsvc_loop_errno(rv), 0, "raft_apply: %s",
			  raft_errmsg(&s->raft)[0] ? raft_errmsg(&s->raft) : raft_strerror(rv));
	raftsvc_queue_complete(s, req, raftsvc_loop_errno(rv), 0);
}

static void loop_handle_closed(uv_handle_t *h)
{
	(void)h;
}

/* Once raft is closed, every handle of libraft's should be closed too. libraft 0.22 can leave a
 * connection client behind (it asks the transport for connections during raft_close() and
 * after), whose retry timer would keep the loop running, and the thread with it, for ever: such
 * a leftover is closed here. Its memory stays libraft's (never freed). */
static void loop_close_leftover(uv_handle_t *h, void *arg)
{
	struct raftsvc *s = arg;

	if (h == (uv_handle_t *)&s->async || h == (uv_handle_t *)&s->check || uv_is_closing(h))
		return;
	uv_close(h, NULL);
}

/* Closes the async and check handles: the loop ends once they are closed. */
static void loop_close_handles(struct raftsvc *s)
{
	pthread_mutex_lock(&s->sh->lock);
	s->sh->async_open = false;
	pthread_mutex_unlock(&s->sh->lock);
	if (!uv_is_closing((uv_handle_t *)&s->async))
		uv_close((uv_handle_t *)&s->async, loop_handle_closed);
	if (!uv_is_closing((uv_handle_t *)&s->check))
		uv_close((uv_handle_t *)&s->check, loop_handle_closed);
	if (s->raft_closed)
		uv_walk(&s->loop, loop_close_leftover, s);
}

static void loop_fail_inflight(struct raftsvc *s)
{
	struct raftsvc_req *req;

	while ((req = s->inflight.head) != NULL) {
		raftsvc_queue_unlink(&s->inflight, req);
		raftsvc_queue_complete(s, req, s->failed ? -EIO : -ESHUTDOWN, 0);
	}
}

static void loop_raft_closed(struct raft *r)
{
	struct raftsvc *s = r->data;

	raft_uv_close(&s->io);
	pthread_mutex_lock(&s->sh->lock);
	s->sh->transport_open = false;
	pthread_mutex_unlock(&s->sh->lock);
	peer_transport_free(&s->transport);
	s->raft_closed = true;
	s->ready = false;
	/* libraft failed its pending requests in raft_close(); anything left is ours to end. */
	loop_fail_inflight(s);
	raftsvc_loop_publish(s);
	if (s->stop_seen)
		loop_close_handles(s);
}

static void loop_close_raft(struct raftsvc *s)
{
	if (s->raft_closing)
		return;
	s->raft_closing = true;
	uv_check_stop(&s->check);
	if (s->raft_started)
		raftsvc_lease_stop(s);
	raftsvc_hold_drop(s);
	raft_close(&s->raft, loop_raft_closed);
}

/* raftsvc_stop() (or a failed start) asked the thread to end. */
static void loop_shutdown(struct raftsvc *s)
{
	s->stop_seen = true;
	if (!s->raft_started)
		return; /* the start path cleans up on its own */
	if (s->raft_closed)
		loop_close_handles(s);
	else
		loop_close_raft(s); /* its close callback closes the handles */
}

static void loop_async_cb(uv_async_t *h)
{
	struct raftsvc *s = h->data;
	struct raftsvc_queue batch = { NULL, NULL };
	struct raftsvc_req *req;
	bool stop;

	pthread_mutex_lock(&s->sh->lock);
	raftsvc_queue_take(&batch, &s->sh->submitq);
	stop = s->sh->stop_requested;
	pthread_mutex_unlock(&s->sh->lock);
	if (stop)
		s->stop_seen = true;
	while ((req = raftsvc_queue_pop(&batch)) != NULL)
		loop_submit(s, req);
	if (stop && !uv_is_closing((uv_handle_t *)&s->async))
		loop_shutdown(s);
}

int raftsvc_loop_init(struct raftsvc *s, char *errmsg, size_t errlen)
{
	int rv;

	rv = uv_loop_init(&s->loop);
	if (rv != 0) {
		snprintf(errmsg, errlen, "raftsvc: uv_loop_init: %s", uv_strerror(rv));
		return rv;
	}
	rv = uv_async_init(&s->loop, &s->async, loop_async_cb);
	if (rv != 0) {
		snprintf(errmsg, errlen, "raftsvc: uv_async_init: %s", uv_strerror(rv));
		uv_loop_close(&s->loop);
		return rv;
	}
	s->async.data = s;
	uv_check_init(&s->loop, &s->check);
	s->check.data = s;
	s->sh->async_open = true;
	return 0;
}

void raftsvc_loop_abandon(struct raftsvc *s)
{
	s->sh->async_open = false;
	uv_close((uv_handle_t *)&s->async, loop_handle_closed);
	uv_close((uv_handle_t *)&s->check, loop_handle_closed);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	uv_loop_close(&s->loop);
}

/* The transport after a failure before libraft could close it. */
static void loop_drop_transport(struct raftsvc *s)
{
	pthread_mutex_lock(&s->sh->lock);
	s->sh->transport_open = false;
	pthread_mutex_unlock(&s->sh->lock);
	peer_transport_free(&s->transport);
}

/* Sets up the raft instance and starts it. On failure everything opened here is released or,
 * once raft_init() succeeded, is being closed through raft_close(); the reason is reported. */
static int loop_open(struct raftsvc *s)
{
	struct raft_configuration conf;
	int rv;

	struct peer_config pc;
	char err[RAFTSVC_ERRMSG_SIZE];

	memset(&pc, 0, sizeof(pc));
	pc.incarnation = s->incarnation;
	pc.client_address = s->client_address;
	pc.quiet_ms = s->cfg.election_timeout_ms; /* see raftsvc_lease.c: restarts */
	pc.server_ctx = s->cfg.tls_server;
	pc.client_ctx = s->cfg.tls_client;
	pc.hooks.arg = s;
	pc.hooks.authorize = raftsvc_member_authorize;
	pc.hooks.seen = raftsvc_member_seen;
	pc.hooks.promise = raftsvc_lease_promise;
	pc.hooks.pong = raftsvc_lease_pong;
	memset(&s->transport, 0, sizeof(s->transport));
	rv = peer_transport_init(&s->transport, &s->loop, &pc, err, sizeof(err));
	if (rv != 0) {
		loop_start_failed(s, "raftsvc: %s", err);
		return RAFT_NOMEM;
	}
	pthread_mutex_lock(&s->sh->lock);
	s->sh->transport_open = true;
	pthread_mutex_unlock(&s->sh->lock);
	memset(&s->io, 0, sizeof(s->io));
	rv = raft_uv_init(&s->io, &s->loop, s->data_dir, &s->transport);
	if (rv != 0) {
		loop_start_failed(s, "raftsvc: raft io %s: %s", s->data_dir,
				  s->io.errmsg[0] ? s->io.errmsg : raft_strerror(rv));
		loop_drop_transport(s);
		return rv;
	}
	raftsvc_hold_wrap(s);
	raftsvc_fsm_init(s);
	rv = raft_init(&s->raft, &s->io, &s->fsm, s->cfg.id, s->address);
	if (rv != 0) {
		loop_start_failed(s, "raftsvc: raft_init %s: %s", s->data_dir,
				  s->raft.errmsg[0] ? s->raft.errmsg : raft_strerror(rv));
		raft_uv_close(&s->io);
		loop_drop_transport(s);
		return rv;
	}
	s->raft.data = s;
	raft_set_election_timeout(&s->raft, s->cfg.election_timeout_ms);
	raft_set_heartbeat_timeout(&s->raft, s->cfg.heartbeat_ms);
	raft_set_pre_vote(&s->raft, true);
	raft_set_snapshot_threshold(&s->raft, s->cfg.snapshot_threshold);
	raft_set_snapshot_trailing(&s->raft, s->cfg.snapshot_trailing);

	/* First start: this server and the configured peers, all voters (every peer of the group
	 * bootstraps the same configuration). An existing data directory refuses it with
	 * RAFT_CANTBOOTSTRAP and is simply started. A joining server bootstraps nothing. */
	raft_configuration_init(&conf);
	rv = 0;
	if (!s->cfg.join) {
		rv = raft_configuration_add(&conf, s->cfg.id, s->address, RAFT_VOTER);
		for (size_t i = 0; rv == 0 && i < s->cfg.n_peers; i++)
			rv = raft_configuration_add(&conf, s->cfg.peers[i].id, s->cfg.peers[i].address,
						    RAFT_VOTER);
		if (rv == 0) {
			rv = raft_bootstrap(&s->raft, &conf);
			if (rv == RAFT_CANTBOOTSTRAP)
				rv = 0;
		}
	}
	raft_configuration_close(&conf);
	if (rv != 0) {
		loop_start_failed(s, "raftsvc: bootstrap %s: %s", s->data_dir,
				  s->raft.errmsg[0] ? s->raft.errmsg : raft_strerror(rv));
		loop_close_raft(s);
		return rv;
	}

	s->in_start = true;
	rv = raft_start(&s->raft);
	s->in_start = false;
	if (rv != 0) {
		/* libraft reports a transport that cannot listen as a bare "I/O error"; the
		 * transport's own message says which address and why. */
		const char *why = s->raft.errmsg[0] ? s->raft.errmsg : raft_strerror(rv);
		const char *tmsg = s->transport.errmsg;

		if (s->failed)
			loop_start_failed(s, "raftsvc: start %s: %s", s->data_dir, s->fail_msg);
		else if (tmsg[0] && !strstr(why, tmsg))
			loop_start_failed(s, "raftsvc: start %s: %s (%s)", s->data_dir, why, tmsg);
		else
			loop_start_failed(s, "raftsvc: start %s: %s", s->data_dir, why);
		loop_close_raft(s);
		return rv;
	}
	s->raft_started = true;
	/* Alone in the configuration: raftsvc_start() waits until this server serves (it elects
	 * itself at once). Otherwise it returns as a follower. */
	s->solo_start = s->raft.configuration.n == 1 && s->raft.configuration.servers[0].id ==
			s->cfg.id && s->raft.configuration.servers[0].role == RAFT_VOTER;
	raftsvc_lease_start(s);
	uv_check_start(&s->check, loop_check_cb);
	raftsvc_loop_publish(s);
	return 0;
}

void *raftsvc_loop_main(void *arg)
{
	struct raftsvc *s = arg;
	sigset_t pipe;
	int rv;

	/* A write to a peer (or libraft's stream) that closed must fail with EPIPE, not kill the
	 * process, whatever the process does with SIGPIPE. */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);

	if (loop_open(s) != 0) {
		/* raftsvc_start() will not ask for anything more: end the loop. */
		s->stop_seen = true;
		if (!s->raft_closing || s->raft_closed)
			loop_close_handles(s);
	}
	uv_run(&s->loop, UV_RUN_DEFAULT);
	/* Requests the loop still held (none once raft's close callback ran). */
	loop_fail_inflight(s);
	rv = uv_loop_close(&s->loop);
	/* Every handle is ours or libraft's and all are closed by now: busy would be a bug. */
	assert(rv == 0);
	(void)rv;
	return NULL;
}
