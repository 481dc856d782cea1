/* fake_server.c: a scripted stand-in for dmlogd (TLS, framing, scripted behaviours) for tests.
 *
 * Everything network-side runs on the server's own thread and event_base (the answers are
 * built in fake_reply.c); the test's thread only reads what was recorded (under `lock`) and asks
 * the loop to stop through a pipe.
 */
#include "fake_server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "fake_reply.h"
#include "frame.h"

#define REORDER_FLUSH_MS 50

struct fake_conn;

/* An answer waiting for its delay or for its batch. */
struct fake_pending {
	struct fake_conn *c;
	struct event *ev;               /* delay timer; NULL when held for reordering */
	uint64_t id;
	uint8_t *frame;
	size_t len;
	TAILQ_ENTRY(fake_pending) link;
};
TAILQ_HEAD(fake_pending_list, fake_pending);

struct fake_conn {
	struct fake_server *fs;
	struct bufferevent *bev;
	struct frame_decoder dec;
	unsigned no;
	bool tls_up;
	bool hello_done;
	bool closing;                   /* closes once its output is written */
	unsigned answered;
	struct fake_pending_list delayed;
	struct fake_pending_list held;
	size_t held_count;
	struct event *flush_ev;
	LIST_ENTRY(fake_conn) link;
};

struct fake_record {
	uint8_t *data;
	size_t len;
	unsigned conn;
	bool request;
};

struct fake_server {
	struct fake_server_config cfg;
	char server_id[64];
	char address[32];
	uint16_t port;
	struct event_base *base;
	struct evconnlistener *listener;
	SSL_CTX *ctx;
	pthread_t thread;
	int stop_pipe[2];
	struct event *stop_ev;
	LIST_HEAD(, fake_conn) conns;
	unsigned conn_count;             /* accepted so far */
	bool dropped;
	unsigned not_leader_sent;        /* requests answered NotLeader (not_leader_count) */

	pthread_mutex_t lock;            /* guards what follows */
	pthread_cond_t cond;
	struct fake_record *records;
	size_t record_count, record_cap;
	size_t request_count;
	unsigned tls_connections;
	uint64_t *answered_ids;
	size_t answered_count, answered_cap;
};

/* ---------------------------------------------------------------- records */

static void fake_record(struct fake_server *fs, const uint8_t *p, size_t len, unsigned conn,
			bool request)
{
	pthread_mutex_lock(&fs->lock);
	if (fs->record_count == fs->record_cap) {
		size_t cap = fs->record_cap ? fs->record_cap * 2 : 64;
		struct fake_record *r = realloc(fs->records, cap * sizeof(*r));

		if (!r)
			goto out;
		fs->records = r;
		fs->record_cap = cap;
	}
	struct fake_record *rec = &fs->records[fs->record_count];

	rec->data = malloc(len ? len : 1);
	if (!rec->data)
		goto out;
	memcpy(rec->data, p, len);
	rec->len = len;
	rec->conn = conn;
	rec->request = request;
	fs->record_count++;
	if (request)
		fs->request_count++;
	pthread_cond_broadcast(&fs->cond);
out:
	pthread_mutex_unlock(&fs->lock);
}

static void fake_note_answer(struct fake_server *fs, uint64_t id)
{
	pthread_mutex_lock(&fs->lock);
	if (fs->answered_count == fs->answered_cap) {
		size_t cap = fs->answered_cap ? fs->answered_cap * 2 : 256;
		uint64_t *a = realloc(fs->answered_ids, cap * sizeof(*a));

		if (!a) {
			pthread_mutex_unlock(&fs->lock);
			return;
		}
		fs->answered_ids = a;
		fs->answered_cap = cap;
	}
	fs->answered_ids[fs->answered_count++] = id;
	pthread_mutex_unlock(&fs->lock);
}

/* ---------------------------------------------------------------- connections */

static void fake_pending_free(struct fake_pending *r)
{
	if (r->ev)
		event_free(r->ev);
	free(r->frame);
	free(r);
}

static void fake_conn_free(struct fake_conn *c)
{
	struct fake_pending *r;

	while ((r = TAILQ_FIRST(&c->delayed))) {
		TAILQ_REMOVE(&c->delayed, r, link);
		fake_pending_free(r);
	}
	while ((r = TAILQ_FIRST(&c->held))) {
		TAILQ_REMOVE(&c->held, r, link);
		fake_pending_free(r);
	}
	if (c->flush_ev)
		event_free(c->flush_ev);
	if (c->bev)
		bufferevent_free(c->bev);
	frame_decoder_free(&c->dec);
	LIST_REMOVE(c, link);
	free(c);
}

static void fake_on_event(struct bufferevent *bev, short what, void *arg);

static void fake_on_drained(struct bufferevent *bev, void *arg)
{
	struct fake_conn *c = arg;

	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		fake_conn_free(c);
}

/* Closes c once what it has written is on its way. */
static void fake_conn_close_soon(struct fake_conn *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, fake_on_drained, fake_on_event, c);
	bufferevent_trigger(c->bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

static void fake_write(struct fake_conn *c, uint64_t id, const uint8_t *frame, size_t len,
		       bool counts)
{
	if (c->closing)
		return;
	bufferevent_write(c->bev, frame, len);
	fake_note_answer(c->fs, id);
	if (counts && c->fs->cfg.close_after && ++c->answered >= c->fs->cfg.close_after)
		fake_conn_close_soon(c);
}

static void fake_flush_held(struct fake_conn *c)
{
	struct fake_pending *r;

	/* Newest first. */
	while ((r = TAILQ_LAST(&c->held, fake_pending_list))) {
		TAILQ_REMOVE(&c->held, r, link);
		fake_write(c, r->id, r->frame, r->len, true);
		fake_pending_free(r);
	}
	c->held_count = 0;
	if (c->flush_ev)
		evtimer_del(c->flush_ev);
}

static void fake_on_flush_timer(evutil_socket_t fd, short what, void *arg)
{
	fake_flush_held(arg);
}

static void fake_on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct fake_pending *r = arg;
	struct fake_conn *c = r->c;

	TAILQ_REMOVE(&c->delayed, r, link);
	fake_write(c, r->id, r->frame, r->len, true);
	fake_pending_free(r);
}

/* Sends the answer (frame, taken over; NULL is ignored) to request id, subject to delay and
 * reordering. */
static void fake_answer(struct fake_conn *c, uint64_t id, uint8_t *frame, size_t len)
{
	const struct fake_server_config *cfg = &c->fs->cfg;
	struct fake_pending *r;

	if (!frame)
		return;
	if (!cfg->delay_ms && !cfg->reorder_batch) {
		fake_write(c, id, frame, len, true);
		free(frame);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		free(frame);
		return;
	}
	r->c = c;
	r->id = id;
	r->frame = frame;
	r->len = len;
	if (cfg->delay_ms) {
		struct timeval tv = { cfg->delay_ms / 1000, (cfg->delay_ms % 1000) * 1000 };

		r->ev = evtimer_new(c->fs->base, fake_on_delay, r);
		TAILQ_INSERT_TAIL(&c->delayed, r, link);
		evtimer_add(r->ev, &tv);
		return;
	}
	TAILQ_INSERT_TAIL(&c->held, r, link);
	if (++c->held_count >= cfg->reorder_batch) {
		fake_flush_held(c);
	} else if (c->held_count == 1) {
		struct timeval tv = { 0, REORDER_FLUSH_MS * 1000 };

		evtimer_add(c->flush_ev, &tv);
	}
}

/* Sends a connection-level frame (taken over) at once: Hello answers, protocol errors. */
static void fake_send_now(struct fake_conn *c, uint64_t id, uint8_t *frame, size_t len)
{
	if (!frame)
		return;
	fake_write(c, id, frame, len, false);
	free(frame);
}

static void fake_send_error(struct fake_conn *c, uint64_t id, int err, const char *message,
			    bool now)
{
	size_t len = 0;
	uint8_t *frame = fake_reply_error(id, err, message, &len);

	if (now)
		fake_send_now(c, id, frame, len);
	else
		fake_answer(c, id, frame, len);
}

static void fake_send_not_leader(struct fake_conn *c, uint64_t id, bool now)
{
	size_t len = 0;
	uint8_t *frame = fake_reply_not_leader(id, c->fs->cfg.not_leader_address, &len);

	if (now)
		fake_send_now(c, id, frame, len);
	else
		fake_answer(c, id, frame, len);
}

/* The client certificate's OU (without "dmlog-") and CN. */
static void fake_peer_identity(struct fake_conn *c, char *role, size_t rlen, char *cn, size_t clen)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	X509_NAME *name = cert ? X509_get_subject_name(cert) : NULL;
	char ou[64] = "";

	snprintf(role, rlen, "unknown");
	snprintf(cn, clen, "unknown");
	if (!name)
		return;
	if (X509_NAME_get_text_by_NID(name, NID_organizationalUnitName, ou, sizeof(ou)) > 0)
		snprintf(role, rlen, "%s", strncmp(ou, "dmlog-", 6) ? ou : ou + 6);
	X509_NAME_get_text_by_NID(name, NID_commonName, cn, (int)clen);
}

static void fake_on_hello(struct fake_conn *c, const Dmlog__ClientMessage *cm)
{
	const struct fake_server_config *cfg = &c->fs->cfg;
	char role[64], cn[64];
	uint8_t *frame;
	size_t len = 0;

	if (cm->body_case != DMLOG__CLIENT_MESSAGE__BODY_HELLO) {
		fake_send_error(c, 0, -EPROTO, "first message must be Hello", true);
		fake_conn_close_soon(c);
		return;
	}
	if (cfg->hello_errno) {
		fake_send_error(c, cm->id, cfg->hello_errno,
				cfg->hello_message ? cfg->hello_message : "refused", true);
		fake_conn_close_soon(c);
		return;
	}
	if (cfg->not_leader_address && cfg->not_leader_on_hello) {
		fake_send_not_leader(c, cm->id, true);
		fake_conn_close_soon(c);
		return;
	}
	fake_peer_identity(c, role, sizeof(role), cn, sizeof(cn));
	frame = fake_reply_hello(cm->id, c->fs->server_id, role, cn, &len);
	c->hello_done = true;
	fake_send_now(c, cm->id, frame, len);
}

/* Answers a request with the canned result of its type. */
static void fake_on_request(struct fake_conn *c, const Dmlog__ClientMessage *cm)
{
	struct fake_reply_context ctx = { c->fs->server_id, c->fs->address, c->fs->conn_count };
	size_t len = 0;
	uint8_t *frame = fake_reply_canned(cm, &ctx, &len);

	fake_answer(c, cm->id, frame, len);
}

/* One whole frame from the client. Returns false when c was freed. */
static bool fake_on_frame(struct fake_conn *c, const uint8_t *p, size_t len)
{
	struct fake_server *fs = c->fs;
	const struct fake_server_config *cfg = &fs->cfg;
	Dmlog__ClientMessage *cm = dmlog__client_message__unpack(NULL, len, p);
	size_t n;

	if (!cm) {
		fake_send_error(c, 0, -EBADMSG, "undecodable message", true);
		fake_conn_close_soon(c);
		return true;
	}
	fake_record(fs, p, len, c->no, c->hello_done);
	if (!c->hello_done) {
		fake_on_hello(c, cm);
		dmlog__client_message__free_unpacked(cm, NULL);
		return true;
	}
	pthread_mutex_lock(&fs->lock);
	n = fs->request_count;
	pthread_mutex_unlock(&fs->lock);
	if (cfg->drop_at && n == cfg->drop_at && !fs->dropped) {
		fs->dropped = true;
		dmlog__client_message__free_unpacked(cm, NULL);
		fake_conn_free(c);
		return false;
	}
	if (!cfg->black_hole) {
		if (cfg->not_leader_address && !cfg->not_leader_on_hello &&
		    (!cfg->not_leader_count || fs->not_leader_sent++ < cfg->not_leader_count))
			fake_send_not_leader(c, cm->id, false);
		else if (cfg->error_errno)
			fake_send_error(c, cm->id, cfg->error_errno,
					cfg->error_message ? cfg->error_message : "error", false);
		else
			fake_on_request(c, cm);
	}
	dmlog__client_message__free_unpacked(cm, NULL);
	return true;
}

static void fake_on_read(struct bufferevent *bev, void *arg)
{
	struct fake_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!c->closing && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		const uint8_t *frame;
		uint32_t flen;
		ssize_t used;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		used = frame_decoder_feed(&c->dec, v.iov_base, v.iov_len, &frame, &flen);
		if (used < 0) {
			fake_send_error(c, 0, (int)used, "bad frame", true);
			fake_conn_close_soon(c);
			return;
		}
		evbuffer_drain(in, (size_t)used);
		if (frame && !fake_on_frame(c, frame, flen))
			return;
	}
}

static void fake_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct fake_conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		c->tls_up = true;
		pthread_mutex_lock(&c->fs->lock);
		c->fs->tls_connections++;
		pthread_mutex_unlock(&c->fs->lock);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		while (bufferevent_get_openssl_error(bev))
			;
		fake_conn_free(c);
	}
}

static void fake_on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
			   int salen, void *arg)
{
	struct fake_server *fs = arg;
	struct fake_conn *c = calloc(1, sizeof(*c));
	SSL *ssl = SSL_new(fs->ctx);

	if (!c || !ssl) {
		free(c);
		SSL_free(ssl);
		close(fd);
		return;
	}
	c->fs = fs;
	c->no = ++fs->conn_count;
	TAILQ_INIT(&c->delayed);
	TAILQ_INIT(&c->held);
	frame_decoder_init(&c->dec, 0);
	LIST_INSERT_HEAD(&fs->conns, c, link);
	c->flush_ev = evtimer_new(fs->base, fake_on_flush_timer, c);
	c->bev = bufferevent_openssl_socket_new(fs->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!c->bev || !c->flush_ev) {
		if (!c->bev)
			close(fd);
		fake_conn_free(c);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, fake_on_read, NULL, fake_on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* ---------------------------------------------------------------- lifecycle */

static void fake_on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct fake_server *fs = arg;

	event_base_loopbreak(fs->base);
}

static void *fake_thread(void *arg)
{
	struct fake_server *fs = arg;
	sigset_t set;

	/* Writing to a client that went away must not kill the test. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	event_base_dispatch(fs->base);
	return NULL;
}

static SSL_CTX *fake_ctx(const struct fake_server_config *cfg, char *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (cfg->tls12_only)
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1) {
		snprintf(err, 256, "fake server: loading certificates: %s",
			 ERR_reason_error_string(ERR_peek_last_error()));
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return ctx;
}

static void fake_destroy(struct fake_server *fs)
{
	while (!LIST_EMPTY(&fs->conns))
		fake_conn_free(LIST_FIRST(&fs->conns));
	/* A freed bufferevent with a deferred callback still queued is released by that
	 * callback: let the (now stopped) loop run what is queued. */
	if (fs->base) {
		event_base_loop(fs->base, EVLOOP_NONBLOCK);
		event_base_loop(fs->base, EVLOOP_NONBLOCK);
	}
	if (fs->listener)
		evconnlistener_free(fs->listener);
	if (fs->stop_ev)
		event_free(fs->stop_ev);
	if (fs->base)
		event_base_free(fs->base);
	if (fs->stop_pipe[0] >= 0)
		close(fs->stop_pipe[0]);
	if (fs->stop_pipe[1] >= 0)
		close(fs->stop_pipe[1]);
	SSL_CTX_free(fs->ctx);
	for (size_t i = 0; i < fs->record_count; i++)
		free(fs->records[i].data);
	free(fs->records);
	free(fs->answered_ids);
	pthread_mutex_destroy(&fs->lock);
	pthread_cond_destroy(&fs->cond);
	free(fs);
}

struct fake_server *fake_server_start(const struct fake_server_config *cfg, char *err)
{
	char local[256];
	struct fake_server *fs;
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);

	if (!err)
		err = local;
	err[0] = '\0';
	fs = calloc(1, sizeof(*fs));
	if (!fs) {
		snprintf(err, 256, "fake server: out of memory");
		return NULL;
	}
	fs->cfg = *cfg;
	fs->stop_pipe[0] = fs->stop_pipe[1] = -1;
	snprintf(fs->server_id, sizeof(fs->server_id), "%s", cfg->server_id ? cfg->server_id : "fake");
	pthread_mutex_init(&fs->lock, NULL);
	pthread_cond_init(&fs->cond, NULL);
	LIST_INIT(&fs->conns);
	fs->ctx = fake_ctx(cfg, err);
	if (!fs->ctx)
		goto fail;
	fs->base = event_base_new();
	if (!fs->base || pipe(fs->stop_pipe) < 0) {
		snprintf(err, 256, "fake server: event base or pipe: %s", strerror(errno));
		goto fail;
	}
	fs->stop_ev = event_new(fs->base, fs->stop_pipe[0], EV_READ, fake_on_stop, fs);
	event_add(fs->stop_ev, NULL);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(cfg->port);
	fs->listener = evconnlistener_new_bind(fs->base, fake_on_accept, fs,
					       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 64,
					       (struct sockaddr *)&sin, sizeof(sin));
	if (!fs->listener) {
		snprintf(err, 256, "fake server: listen: %s", strerror(errno));
		goto fail;
	}
	getsockname(evconnlistener_get_fd(fs->listener), (struct sockaddr *)&sin, &slen);
	fs->port = ntohs(sin.sin_port);
	snprintf(fs->address, sizeof(fs->address), "127.0.0.1:%u", fs->port);
	if (pthread_create(&fs->thread, NULL, fake_thread, fs)) {
		snprintf(err, 256, "fake server: cannot start its thread");
		goto fail;
	}
	return fs;
fail:
	fake_destroy(fs);
	return NULL;
}

void fake_server_stop(struct fake_server *fs)
{
	char b = 1;

	if (!fs)
		return;
	if (write(fs->stop_pipe[1], &b, 1) != 1)
		fprintf(stderr, "fake server: cannot signal its thread to stop\n");
	pthread_join(fs->thread, NULL);
	fake_destroy(fs);
}

uint16_t fake_server_port(const struct fake_server *fs)
{
	return fs->port;
}

const char *fake_server_address(const struct fake_server *fs)
{
	return fs->address;
}

size_t fake_server_received(struct fake_server *fs)
{
	size_t n;

	pthread_mutex_lock(&fs->lock);
	n = fs->record_count;
	pthread_mutex_unlock(&fs->lock);
	return n;
}

size_t fake_server_requests(struct fake_server *fs)
{
	size_t n;

	pthread_mutex_lock(&fs->lock);
	n = fs->request_count;
	pthread_mutex_unlock(&fs->lock);
	return n;
}

Dmlog__ClientMessage *fake_server_message(struct fake_server *fs, size_t i, unsigned *conn)
{
	Dmlog__ClientMessage *m = NULL;

	pthread_mutex_lock(&fs->lock);
	if (i < fs->record_count) {
		m = dmlog__client_message__unpack(NULL, fs->records[i].len, fs->records[i].data);
		if (conn)
			*conn = fs->records[i].conn;
	}
	pthread_mutex_unlock(&fs->lock);
	return m;
}

unsigned fake_server_connections(struct fake_server *fs)
{
	unsigned n;

	pthread_mutex_lock(&fs->lock);
	n = fs->tls_connections;
	pthread_mutex_unlock(&fs->lock);
	return n;
}

unsigned fake_server_answers(struct fake_server *fs, uint64_t id)
{
	unsigned n = 0;

	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < fs->answered_count; i++)
		n += fs->answered_ids[i] == id;
	pthread_mutex_unlock(&fs->lock);
	return n;
}

bool fake_server_wait_received(struct fake_server *fs, size_t n, unsigned timeout_ms)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&fs->lock);
	while (fs->record_count < n)
		if (pthread_cond_timedwait(&fs->cond, &fs->lock, &ts) == ETIMEDOUT)
			break;
	ok = fs->record_count >= n;
	pthread_mutex_unlock(&fs->lock);
	return ok;
}
