/* transport.c: the event-loop side of every transport — the read loop, pausing, and the queue of
 * replies the socket could not take at once.
 *
 * Reading is level-triggered and takes at most TRANSPORT_BATCH datagrams per wakeup so that
 * replies and library traffic on the same loop are not starved by a burst of requests. Replies
 * keep their order: once one is queued, later ones queue behind it.
 */
#include "transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "transport_impl.h"

#define TRANSPORT_BATCH 64

/* Allows one warning of a kind per second: a flood of bad datagrams must not flood the log. */
static bool transport_may_warn(time_t *last)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (*last != 0 && now.tv_sec - *last < 1)
		return false;
	*last = now.tv_sec == 0 ? 1 : now.tv_sec;
	return true;
}

struct transport *transport_alloc(struct event_base *base, const struct transport_ops *ops,
				  const char *name)
{
	struct transport *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->ops = ops;
	t->base = base;
	t->fd = -1;
	t->lfd = -1;
	snprintf(t->name, sizeof(t->name), "%s", name);
	return t;
}

static void transport_drop_queue(struct transport *t)
{
	while (t->head != NULL) {
		struct transport_msg *m = t->head;

		t->head = m->next;
		free(m);
		t->stats.dropped_out++;
	}
	t->tail = NULL;
	t->qlen = 0;
}

void transport_detach(struct transport *t)
{
	if (t->rd != NULL) {
		event_free(t->rd);
		t->rd = NULL;
	}
	if (t->wr != NULL) {
		event_free(t->wr);
		t->wr = NULL;
	}
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	transport_drop_queue(t);
}

static void transport_on_read(evutil_socket_t fd, short what, void *arg);
static void transport_on_write(evutil_socket_t fd, short what, void *arg);

int transport_attach(struct transport *t, int fd)
{
	transport_detach(t);
	t->fd = fd;
	t->rd = event_new(t->base, fd, EV_READ | EV_PERSIST, transport_on_read, t);
	t->wr = event_new(t->base, fd, EV_WRITE | EV_PERSIST, transport_on_write, t);
	if (t->rd == NULL || t->wr == NULL) {
		transport_detach(t);
		return -ENOMEM;
	}
	if (t->started && !t->paused)
		event_add(t->rd, NULL);
	return 0;
}

int transport_start(struct transport *t, transport_recv_cb *cb, void *arg)
{
	t->cb = cb;
	t->arg = arg;
	t->started = true;
	if (t->rd != NULL && !t->paused)
		return event_add(t->rd, NULL) == 0 ? 0 : -ENOMEM;
	return 0;
}

void transport_pause(struct transport *t, bool paused)
{
	if (t->paused == paused)
		return;
	t->paused = paused;
	if (t->rd == NULL || !t->started)
		return;
	if (paused)
		event_del(t->rd);
	else
		event_add(t->rd, NULL);
}

static void transport_on_read(evutil_socket_t fd, short what, void *arg)
{
	static time_t warned_drop, warned_overrun, warned_error;
	struct transport *t = arg;

	(void)fd;
	(void)what;
	for (int i = 0; i < TRANSPORT_BATCH && t->fd >= 0 && !t->paused; i++) {
		size_t len = 0;
		int rc = t->ops->recv(t, t->buf, sizeof(t->buf), &len);

		switch (rc) {
		case 0:
			t->stats.received++;
			t->cb(t, t->buf, len, t->arg);
			continue;
		case -EAGAIN:
			return;
		case -EMSGSIZE:
		case -EPERM:
			t->stats.dropped_in++;
			if (transport_may_warn(&warned_drop))
				log_warning("%s: datagram dropped: %s", t->name,
					    rc == -EMSGSIZE ? "longer than 16 KiB"
							    : "not sent by the kernel");
			continue;
		case -ENOBUFS:
			t->stats.overruns++;
			if (transport_may_warn(&warned_overrun))
				log_warning("%s: receive queue overflowed: kernel requests "
					    "were lost (the kernel resends them after 15 s or "
					    "sees no bridge); raise rcvbuf",
					    t->name);
			continue;
		case -ECONNRESET:
			log_notice("%s: the kernel side disconnected", t->name);
			transport_detach(t);
			return;
		default:
			if (transport_may_warn(&warned_error))
				log_err("%s: receive: %s", t->name, strerror(-rc));
			return;
		}
	}
}

static void transport_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct transport *t = arg;

	(void)fd;
	(void)what;
	while (t->head != NULL) {
		struct transport_msg *m = t->head;
		int rc = t->ops->send(t, m->data, m->len);

		if (rc == -EAGAIN)
			return;
		t->head = m->next;
		if (t->head == NULL)
			t->tail = NULL;
		t->qlen--;
		free(m);
		if (rc == 0) {
			t->stats.sent++;
		} else if (rc == -ECONNRESET) {
			log_notice("%s: the kernel side disconnected", t->name);
			transport_detach(t);
			return;
		} else {
			t->stats.dropped_out++;
			log_warning("%s: send: %s", t->name, strerror(-rc));
		}
	}
	event_del(t->wr);
}

/* Appends a copy of buf to the queue and makes sure the write event is armed. */
static int transport_enqueue(struct transport *t, const void *buf, size_t len)
{
	struct transport_msg *m;

	if (t->qlen >= TRANSPORT_QUEUE_MAX) {
		t->stats.dropped_out++;
		return -ENOBUFS;
	}
	m = malloc(sizeof(*m) + len);
	if (m == NULL) {
		t->stats.dropped_out++;
		return -ENOMEM;
	}
	m->next = NULL;
	m->len = len;
	memcpy(m->data, buf, len);
	if (t->tail != NULL)
		t->tail->next = m;
	else
		t->head = m;
	t->tail = m;
	t->qlen++;
	t->stats.queued++;
	event_add(t->wr, NULL);
	return 0;
}

int transport_send(struct transport *t, const void *buf, size_t len)
{
	int rc;

	if (t->fd < 0) {
		t->stats.dropped_out++;
		return -ENOTCONN;
	}
	if (t->head != NULL)
		return transport_enqueue(t, buf, len);
	rc = t->ops->send(t, buf, len);
	if (rc == 0) {
		t->stats.sent++;
		return 0;
	}
	if (rc == -EAGAIN)
		return transport_enqueue(t, buf, len);
	t->stats.dropped_out++;
	if (rc == -ECONNRESET) {
		log_notice("%s: the kernel side disconnected", t->name);
		transport_detach(t);
		return -ENOTCONN;
	}
	return rc;
}

uint32_t transport_pid(const struct transport *t)
{
	return t->pid;
}

const char *transport_name(const struct transport *t)
{
	return t->name;
}

void transport_get_stats(const struct transport *t, struct transport_stats *out)
{
	*out = t->stats;
}

struct transport *transport_open(struct event_base *base, const char *spec, size_t rcvbuf,
				 char *err, size_t errlen)
{
	if (strcmp(spec, "netlink") == 0)
		return transport_netlink_new(base, rcvbuf, err, errlen);
	if (strncmp(spec, "dgram:", 6) == 0 && spec[6] != '\0')
		return transport_dgram_listen(base, spec + 6, rcvbuf, err, errlen);
	snprintf(err, errlen, "transport '%s': expected netlink or dgram:PATH", spec);
	return NULL;
}

void transport_free(struct transport *t)
{
	if (t == NULL)
		return;
	transport_detach(t);
	if (t->ops->release != NULL)
		t->ops->release(t);
	free(t);
}
