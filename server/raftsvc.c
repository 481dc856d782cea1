/* raftsvc.c: the libevent side of the Raft service — start, submit, status, stop, delivery.
 *
 * raftsvc_start() prepares everything, creates the raft thread (raftsvc_loop.c) and waits until it
 * reports this server serving or a failure. raftsvc_submit() copies the entry into raft_malloc'ed
 * memory, in the envelope of raftsvc_fsm.c (libraft takes it over in raft_apply()), and queues it
 * for the raft thread. Results come back in sh->doneq; the raft thread activates s->ev and
 * raftsvc_deliver() calls the done callbacks, leadership changes and the fatal error here, on the
 * base's thread, at most RAFTSVC_DELIVER_BATCH results per round so that a steady stream of
 * commits cannot starve the base's other events.
 *
 * Exactly once: a request is in exactly one place at a time (submit queue, in flight in libraft,
 * done queue) and its done callback is called only when it is taken out of the done queue, after
 * which it is freed. raftsvc_stop() joins the raft thread, which has by then moved every request
 * it knew to the done queue, and delivers the rest itself.
 */
#include "raftsvc_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/event.h>
#include <event2/thread.h>

#define RAFTSVC_DEFAULT_SNAPSHOT_THRESHOLD 16384u
#define RAFTSVC_DEFAULT_SNAPSHOT_TRAILING 4096u
#define RAFTSVC_DEFAULT_ELECTION_MS 300u
#define RAFTSVC_DEFAULT_HEARTBEAT_MS 30u
#define RAFTSVC_DEFAULT_START_TIMEOUT_MS 10000u
#define RAFTSVC_DEFAULT_MAX_PENDING 65536u
#define RAFTSVC_DELIVER_BATCH 1024

static void raftsvc_free(struct raftsvc *s);

/* What raftsvc_start() copied or referenced from the config. */
static void raftsvc_free_copies(struct raftsvc *s)
{
	if (s->peers)
		for (size_t i = 0; i < s->cfg.n_peers; i++)
			free((char *)s->peers[i].address);
	free(s->peers);
	free(s->data_dir);
	free(s->address);
	free(s->client_address);
	SSL_CTX_free(s->cfg.tls_server);
	SSL_CTX_free(s->cfg.tls_client);
}

static int raftsvc_check_config(const struct raftsvc_config *cfg, char *errmsg, size_t errlen)
{
	const char *why = NULL;

	if (!cfg->data_dir || !cfg->data_dir[0])
		why = "data_dir is empty";
	else if (cfg->id == 0)
		why = "id must be > 0";
	else if (!cfg->address || !cfg->address[0])
		why = "address is empty";
	else if (!cfg->base)
		why = "no event base";
	else if (!cfg->fsm.apply || !cfg->fsm.snapshot || !cfg->fsm.restore)
		why = "fsm apply, snapshot and restore are required";
	else if (!cfg->tls_server != !cfg->tls_client)
		why = "give both TLS contexts or neither";
	else if (cfg->tls_server && !cfg->authorize)
		why = "TLS contexts need an authorize callback";
	else if ((cfg->n_peers > 0 || cfg->join) && !cfg->tls_server)
		why = "a group with peers needs TLS contexts";
	else if (cfg->n_peers >= RAFTSVC_MEMBERS_MAX)
		why = "too many peers";
	for (size_t i = 0; !why && i < cfg->n_peers; i++) {
		if (cfg->peers[i].id == 0 || cfg->peers[i].id == cfg->id)
			why = "a peer has raft id 0 or this server's id";
		else if (!cfg->peers[i].address || !cfg->peers[i].address[0] ||
			 strlen(cfg->peers[i].address) >= PEER_WIRE_ADDRESS_MAX)
			why = "a peer has no address or one too long";
		for (size_t j = 0; !why && j < i; j++)
			if (cfg->peers[j].id == cfg->peers[i].id)
				why = "two peers have the same raft id";
	}
	if (why) {
		snprintf(errmsg, errlen, "raftsvc: config: %s", why);
		return -EINVAL;
	}
	return 0;
}

static int raftsvc_make_dir(const char *dir, char *errmsg, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST) {
		int err = errno;

		snprintf(errmsg, errlen, "raftsvc: data dir %s: mkdir: %s", dir, strerror(err));
		return -err;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(errmsg, errlen, "raftsvc: data dir %s: not a directory", dir);
		return -ENOTDIR;
	}
	return 0;
}

/* Calls the callbacks of one delivery round. Stops early when a callback stopped the service. */
static void raftsvc_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct raftsvc *s = arg;
	struct raftsvc_shared *sh = s->sh;
	struct raftsvc_req *req;
	uint64_t seq, steps;
	bool serving, fatal, more = false;
	int fatal_err = 0, n = 0;
	char fatal_msg[RAFTSVC_ERRMSG_SIZE];

	(void)fd;
	(void)what;
	s->dispatching = true;
	pthread_mutex_lock(&sh->lock);
	sh->notified = false;
	seq = sh->leader_seq;
	serving = sh->pub.serving;
	fatal = sh->fatal && !s->fatal_delivered;
	if (fatal) {
		fatal_err = sh->fatal_err;
		memcpy(fatal_msg, sh->fatal_msg, sizeof(fatal_msg));
	}
	pthread_mutex_unlock(&sh->lock);

	/* Leadership first, so that -EAGAIN results below find the new state. An even number of
	 * changes back to the delivered value still hides a loss: report both edges. */
	steps = seq - s->delivered_seq;
	s->delivered_seq = seq;
	if (steps > 0 && !s->stopping) {
		bool flap = serving == s->delivered_leader;

		s->delivered_leader = serving;
		if (s->cfg.on_leader_change) {
			if (flap)
				s->cfg.on_leader_change(s->cfg.on_leader_change_arg, !serving);
			if (!s->stopping)
				s->cfg.on_leader_change(s->cfg.on_leader_change_arg, serving);
		}
	}
	while (!s->stopping) {
		pthread_mutex_lock(&sh->lock);
		req = n < RAFTSVC_DELIVER_BATCH ? raftsvc_queue_pop(&sh->doneq) : NULL;
		if (!req && sh->doneq.head && !sh->notified) {
			/* Round full: come back after the base's other events. */
			sh->notified = true;
			more = true;
		}
		pthread_mutex_unlock(&sh->lock);
		if (!req)
			break;
		n++;
		s->pending--;
		req->done(req->arg, req->status, req->index);
		raftsvc_queue_free_req(req);
	}
	if (more && !s->stopping)
		event_active(s->ev, 0, 0);
	if (fatal && !s->stopping) {
		s->fatal_delivered = true;
		if (s->cfg.on_fatal)
			s->cfg.on_fatal(s->cfg.on_fatal_arg, fatal_err, fatal_msg);
	}
	s->dispatching = false;
	if (s->stopping)
		raftsvc_free(s); /* raftsvc_stop() was called from a callback above */
}

/* Asks the raft thread to end (it closes raft, then its loop). */
static void raftsvc_request_stop(struct raftsvc *s)
{
	pthread_mutex_lock(&s->sh->lock);
	s->sh->stop_requested = true;
	if (s->sh->async_open)
		uv_async_send(&s->async);
	pthread_mutex_unlock(&s->sh->lock);
}

/* Waits for the raft thread to leave RAFTSVC_STARTING, at most timeout_ms. */
static enum raftsvc_phase raftsvc_wait_started(struct raftsvc *s, unsigned timeout_ms)
{
	struct raftsvc_shared *sh = s->sh;
	enum raftsvc_phase phase;
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&sh->lock);
	while (sh->phase == RAFTSVC_STARTING) {
		if (pthread_cond_timedwait(&sh->cond, &sh->lock, &deadline) == ETIMEDOUT)
			break;
	}
	phase = sh->phase;
	pthread_mutex_unlock(&sh->lock);
	return phase;
}

struct raftsvc *raftsvc_start(const struct raftsvc_config *cfg, char *errmsg, size_t errlen)
{
	static const struct timeval keepalive = { 3600, 0 };
	struct raftsvc *s;
	pthread_condattr_t ca;
	enum raftsvc_phase phase;
	int rv;

	if (raftsvc_check_config(cfg, errmsg, errlen) != 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(errmsg, errlen, "raftsvc: %s", strerror(ENOMEM));
		return NULL;
	}
	s->cfg = *cfg;
	if (s->cfg.tls_server) {
		SSL_CTX_up_ref(s->cfg.tls_server);
		SSL_CTX_up_ref(s->cfg.tls_client);
	}
	s->data_dir = strdup(cfg->data_dir);
	s->address = strdup(cfg->address);
	s->client_address = strdup(cfg->client_address ? cfg->client_address : "");
	s->peers = calloc(cfg->n_peers ? cfg->n_peers : 1, sizeof(*s->peers));
	if (!s->data_dir || !s->address || !s->client_address || !s->peers) {
		snprintf(errmsg, errlen, "raftsvc: %s", strerror(ENOMEM));
		goto err_strings;
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		s->peers[i].id = cfg->peers[i].id;
		s->peers[i].address = strdup(cfg->peers[i].address);
		if (!s->peers[i].address) {
			snprintf(errmsg, errlen, "raftsvc: %s", strerror(ENOMEM));
			goto err_strings;
		}
	}
	s->cfg.data_dir = s->data_dir;
	s->cfg.address = s->address;
	s->cfg.client_address = s->client_address;
	s->cfg.peers = s->peers;
	if (!s->cfg.snapshot_threshold)
		s->cfg.snapshot_threshold = RAFTSVC_DEFAULT_SNAPSHOT_THRESHOLD;
	if (!s->cfg.snapshot_trailing)
		s->cfg.snapshot_trailing = RAFTSVC_DEFAULT_SNAPSHOT_TRAILING;
	if (!s->cfg.election_timeout_ms)
		s->cfg.election_timeout_ms = RAFTSVC_DEFAULT_ELECTION_MS;
	if (!s->cfg.heartbeat_ms)
		s->cfg.heartbeat_ms = RAFTSVC_DEFAULT_HEARTBEAT_MS;
	if (!s->cfg.start_timeout_ms)
		s->cfg.start_timeout_ms = RAFTSVC_DEFAULT_START_TIMEOUT_MS;
	if (!s->cfg.max_pending)
		s->cfg.max_pending = RAFTSVC_DEFAULT_MAX_PENDING;
	if (s->cfg.heartbeat_ms >= s->cfg.election_timeout_ms) {
		snprintf(errmsg, errlen, "raftsvc: config: heartbeat %u ms not below election "
			 "timeout %u ms", s->cfg.heartbeat_ms, s->cfg.election_timeout_ms);
		goto err_strings;
	}
	if (raftsvc_make_dir(s->data_dir, errmsg, errlen) != 0)
		goto err_strings;
	if (raftsvc_member_incarnation(s, errmsg, errlen) != 0)
		goto err_strings;

	s->sh = &s->shared;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&s->sh->lock, NULL);
	pthread_cond_init(&s->sh->cond, &ca);
	pthread_condattr_destroy(&ca);
	s->sh->phase = RAFTSVC_STARTING;
	s->sh->pub.id = cfg->id;
	s->sh->pub.role = "unavailable";

	/* Added with a long timeout, so that the base always has this event pending while the
	 * service runs: event_base_dispatch() must not return for lack of events while results
	 * are still to come. */
	s->ev = event_new(cfg->base, -1, EV_PERSIST, raftsvc_deliver, s);
	if (!s->ev || event_add(s->ev, &keepalive) != 0) {
		snprintf(errmsg, errlen, "raftsvc: cannot add an event to the base");
		goto err_event;
	}
	if (raftsvc_loop_init(s, errmsg, errlen) != 0)
		goto err_event;
	rv = pthread_create(&s->thread, NULL, raftsvc_loop_main, s);
	if (rv != 0) {
		snprintf(errmsg, errlen, "raftsvc: pthread_create: %s", strerror(rv));
		raftsvc_loop_abandon(s);
		goto err_event;
	}

	phase = raftsvc_wait_started(s, s->cfg.start_timeout_ms);
	if (phase != RAFTSVC_READY) {
		pthread_mutex_lock(&s->sh->lock);
		if (phase == RAFTSVC_FAILED)
			snprintf(errmsg, errlen, "%s", s->sh->start_err);
		else
			snprintf(errmsg, errlen, "raftsvc: %s: not leader after %u ms",
				 s->data_dir, s->cfg.start_timeout_ms);
		pthread_mutex_unlock(&s->sh->lock);
		s->stopping = true;
		raftsvc_request_stop(s);
		pthread_join(s->thread, NULL);
		raftsvc_free(s);
		return NULL;
	}
	/* Callers learn of changes from here on; the current state is "serving". */
	pthread_mutex_lock(&s->sh->lock);
	s->delivered_seq = s->sh->leader_seq;
	s->delivered_leader = s->sh->pub.serving;
	pthread_mutex_unlock(&s->sh->lock);
	return s;

err_event:
	if (s->ev)
		event_free(s->ev);
	pthread_cond_destroy(&s->sh->cond);
	pthread_mutex_destroy(&s->sh->lock);
err_strings:
	raftsvc_free_copies(s);
	free(s);
	return NULL;
}

/* A zeroed request, or NULL with *rc: -ESHUTDOWN when stopping, -ENOBUFS when max_pending
 * requests are in flight, -ENOMEM. */
static struct raftsvc_req *raftsvc_req_new(struct raftsvc *s, int *rc)
{
	struct raftsvc_req *req;

	if (s->stopping) {
		*rc = -ESHUTDOWN;
		return NULL;
	}
	if (s->pending >= s->cfg.max_pending) {
		*rc = -ENOBUFS;
		return NULL;
	}
	req = calloc(1, sizeof(*req));
	if (!req)
		*rc = -ENOMEM;
	return req;
}

/* Hands req (done(arg) when it ends) to the loop thread: 0, or -ESHUTDOWN with req freed when
 * the loop is stopping. */
static int raftsvc_enqueue(struct raftsvc *s, struct raftsvc_req *req, raftsvc_done_fn done,
			   void *arg)
{
	bool stopping, was_empty;

	req->s = s;
	req->done = done;
	req->arg = arg;
	pthread_mutex_lock(&s->sh->lock);
	stopping = s->sh->stop_requested || !s->sh->async_open;
	if (!stopping) {
		was_empty = s->sh->submitq.head == NULL;
		raftsvc_queue_push(&s->sh->submitq, req);
		if (was_empty)
			uv_async_send(&s->async);
	}
	pthread_mutex_unlock(&s->sh->lock);
	if (stopping) {
		raftsvc_queue_free_req(req);
		return -ESHUTDOWN;
	}
	s->pending++;
	return 0;
}

int raftsvc_submit(struct raftsvc *s, const uint8_t *buf, size_t len, raftsvc_done_fn done,
		   void *arg)
{
	struct raftsvc_req *req;
	int rc;

	if (!buf || len == 0 || !done)
		return -EINVAL;
	if (len > RAFTSVC_ENTRY_MAX)
		return -EMSGSIZE;
	req = raftsvc_req_new(s, &rc);
	if (!req)
		return rc;
	req->buf.len = raftsvc_fsm_encoded_size(len);
	req->buf.base = raft_malloc(req->buf.len);
	if (!req->buf.base) {
		free(req);
		return -ENOMEM;
	}
	raftsvc_fsm_encode(req->buf.base, buf, len);
	return raftsvc_enqueue(s, req, done, arg);
}

bool raftsvc_is_leader(const struct raftsvc *s)
{
	bool serving;

	pthread_mutex_lock(&s->sh->lock);
	serving = s->sh->pub.serving;
	pthread_mutex_unlock(&s->sh->lock);
	return serving;
}

bool raftsvc_read_ok(const struct raftsvc *s)
{
	bool ok;

	pthread_mutex_lock(&s->sh->lock);
	ok = s->sh->pub.serving && raftsvc_lease_now_ms() < s->sh->pub.lease_until_ms;
	pthread_mutex_unlock(&s->sh->lock);
	return ok;
}

int raftsvc_change(struct raftsvc *s, enum raftsvc_change_op op, uint64_t id,
		   const char *address, raftsvc_done_fn done, void *arg)
{
	struct raftsvc_req *req;
	int rc;

	if (!done || (op != RAFTSVC_TRANSFER && id == 0) ||
	    (op == RAFTSVC_ADD_VOTER && (!address || !address[0] ||
					 strlen(address) >= PEER_WIRE_ADDRESS_MAX)) ||
	    (op != RAFTSVC_ADD_VOTER && op != RAFTSVC_REMOVE && op != RAFTSVC_TRANSFER))
		return -EINVAL;
	req = raftsvc_req_new(s, &rc);
	if (!req)
		return rc;
	if (op == RAFTSVC_ADD_VOTER) {
		req->change_address = strdup(address);
		if (!req->change_address) {
			free(req);
			return -ENOMEM;
		}
	}
	req->kind = RAFTSVC_REQ_CHANGE;
	req->op = op;
	req->change_id = id;
	return raftsvc_enqueue(s, req, done, arg);
}

void raftsvc_set_tls(struct raftsvc *s, SSL_CTX *server_ctx, SSL_CTX *client_ctx)
{
	pthread_mutex_lock(&s->sh->lock);
	if (s->sh->transport_open)
		peer_transport_set_tls(&s->transport, server_ctx, client_ctx);
	pthread_mutex_unlock(&s->sh->lock);
}

size_t raftsvc_peers_seen(const struct raftsvc *s, struct peer_info *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&s->sh->lock);
	n = s->sh->n_seen < max ? s->sh->n_seen : max;
	memcpy(out, s->sh->seen, n * sizeof(*out));
	pthread_mutex_unlock(&s->sh->lock);
	return n;
}

void raftsvc_peer_forget(struct raftsvc *s, uint64_t raft_id)
{
	struct raftsvc_shared *sh = s->sh;

	pthread_mutex_lock(&sh->lock);
	for (size_t i = 0; i < sh->n_seen; i++)
		if (sh->seen[i].raft_id == raft_id) {
			sh->seen[i] = sh->seen[--sh->n_seen];
			break;
		}
	pthread_mutex_unlock(&sh->lock);
}

void raftsvc_status(const struct raftsvc *s, struct raftsvc_status *st)
{
	pthread_mutex_lock(&s->sh->lock);
	*st = s->sh->pub;
	pthread_mutex_unlock(&s->sh->lock);
}

/* Frees everything; the raft thread is joined (or was never created) and every request is
 * delivered. */
static void raftsvc_free(struct raftsvc *s)
{
	struct raftsvc_req *req;

	/* Only requests of a start that failed can be left here; their callers never got s. */
	while ((req = raftsvc_queue_pop(&s->sh->doneq)) != NULL)
		raftsvc_queue_free_req(req);
	while ((req = raftsvc_queue_pop(&s->sh->submitq)) != NULL)
		raftsvc_queue_free_req(req);
	event_free(s->ev);
	pthread_cond_destroy(&s->sh->cond);
	pthread_mutex_destroy(&s->sh->lock);
	raftsvc_free_copies(s);
	free(s);
}

void raftsvc_stop(struct raftsvc *s)
{
	struct raftsvc_req *req;

	if (!s || s->stopping)
		return;
	s->stopping = true;
	raftsvc_request_stop(s);
	pthread_join(s->thread, NULL);

	/* The raft thread is gone: the queues are ours. Results it produced first, in order, then
	 * whatever it never took. Callbacks may call raftsvc_submit() (-ESHUTDOWN now). */
	while ((req = raftsvc_queue_pop(&s->sh->doneq)) != NULL) {
		s->pending--;
		req->done(req->arg, req->status, req->index);
		raftsvc_queue_free_req(req);
	}
	while ((req = raftsvc_queue_pop(&s->sh->submitq)) != NULL) {
		s->pending--;
		req->done(req->arg, -ESHUTDOWN, 0);
		raftsvc_queue_free_req(req);
	}
	if (!s->dispatching)
		raftsvc_free(s);
}
