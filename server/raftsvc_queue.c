/* raftsvc_queue.c: the hand-over queues of the Raft service and the return path to libevent.
 *
 * Requests travel libevent -> raft thread in sh->submitq, sit in the raft thread's in-flight list
 * while libraft has them, and come back in sh->doneq. The queues themselves take no lock: the
 * shared ones are touched under sh->lock only, the in-flight list by the raft thread only.
 */
#include "raftsvc_impl.h"

#include <assert.h>
#include <stdlib.h>

#include <event2/event.h>

void raftsvc_queue_push(struct raftsvc_queue *q, struct raftsvc_req *req)
{
	req->next = NULL;
	req->prev = NULL;
	if (q->tail)
		q->tail->next = req;
	else
		q->head = req;
	q->tail = req;
}

struct raftsvc_req *raftsvc_queue_pop(struct raftsvc_queue *q)
{
	struct raftsvc_req *req = q->head;

	if (!req)
		return NULL;
	q->head = req->next;
	if (!q->head)
		q->tail = NULL;
	req->next = NULL;
	return req;
}

void raftsvc_queue_take(struct raftsvc_queue *dst, struct raftsvc_queue *src)
{
	assert(!dst->head);
	*dst = *src;
	src->head = NULL;
	src->tail = NULL;
}

void raftsvc_queue_link(struct raftsvc_queue *q, struct raftsvc_req *req)
{
	req->next = NULL;
	req->prev = q->tail;
	if (q->tail)
		q->tail->next = req;
	else
		q->head = req;
	q->tail = req;
}

void raftsvc_queue_unlink(struct raftsvc_queue *q, struct raftsvc_req *req)
{
	if (req->prev)
		req->prev->next = req->next;
	else
		q->head = req->next;
	if (req->next)
		req->next->prev = req->prev;
	else
		q->tail = req->prev;
	req->next = NULL;
	req->prev = NULL;
}

void raftsvc_queue_free_req(struct raftsvc_req *req)
{
	if (req->buf.base)
		raft_free(req->buf.base);
	free(req->change_address);
	free(req);
}

/* Pushes req (if any) to the done queue and activates the delivery event unless it already is
 * active and not yet run. */
static void queue_hand_back(struct raftsvc *s, struct raftsvc_req *req)
{
	bool activate;

	pthread_mutex_lock(&s->sh->lock);
	if (req)
		raftsvc_queue_push(&s->sh->doneq, req);
	activate = !s->sh->notified;
	s->sh->notified = true;
	pthread_mutex_unlock(&s->sh->lock);
	/* The base is thread-enabled (evthread_use_pthreads), so this wakes its loop. */
	if (activate)
		event_active(s->ev, 0, 0);
}

void raftsvc_queue_notify(struct raftsvc *s)
{
	queue_hand_back(s, NULL);
}

void raftsvc_queue_complete(struct raftsvc *s, struct raftsvc_req *req, int status,
			    uint64_t index)
{
	/* The bytes are not needed any more, whoever owned them. */
	if (req->buf.base) {
		raft_free(req->buf.base);
		req->buf.base = NULL;
	}
	req->status = status;
	req->index = status == 0 ? index : 0;
	queue_hand_back(s, req);
}
