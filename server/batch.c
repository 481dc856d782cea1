/* batch.c: group commit of mutating commands into Raft entries (see batch.h). */
#include "batch.h"

#include <errno.h>
#include <event2/event.h>
#include <stdbool.h>
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>

#include "fsm.h"
#include "log.h"
#include "raftsvc.h"
#include "server.h"
#include "session.h"
#include "snapbuf.h"

/* Bounds of one entry: beyond them new commands are refused with -ENOBUFS (sessions also stop
 * reading at their own in-flight limit long before). */
#define BATCH_MAX_COMMANDS 65536
#define BATCH_MAX_BYTES RAFTSVC_ENTRY_MAX

/* Entries handed to Raft and not yet applied: one. Whatever arrives while it is in flight
 * shares the next entry (group commit). Measured with bench_tput against 3 peers on one disk
 * (bench/README.md, "Where a commit's time goes"), one in flight beats two, four or eight at every
 * load tried: at 16 writers 20,000 against 14,000-16,000 durable marks/s with a lower p50 and
 * p99, at 64 writers 44,000-50,000 against 40,000. libraft writes one append at a time anyway,
 * so more entries in flight only meant more, smaller disk writes and peer messages for the
 * same commands. Raft applies entries in order, so replies leave in commit order. */
#define BATCH_INFLIGHT_MAX 1

/* How long clears answered at submission may wait for company. The kernel sends the clears of
 * the writes that completed, then the marks of the next ones, so the marks usually take them
 * along in one entry: one commit per write instead of two, and no commit of clears in flight
 * that the marks' append would queue behind. When nothing follows, they go alone after this
 * (long enough for a slow, emulated kernel; a clear lost meanwhile only leaves its region
 * dirty). A read that could see them sends them at once. */
#define BATCH_HOLD_US 50000

struct batch_waiter {
	struct session *s;   /* referenced; NULL for fire-and-forget commands */
	uint64_t request_id;
	uint32_t op;
	uint8_t slot;        /* the session's, handed back to session_write_ended() */
	bool acked;          /* answered at submission (batch_add_acked): no reply at the end */
};

/* One entry being filled or in flight. */
struct batch_entry {
	TAILQ_ENTRY(batch_entry) link;
	struct batch *b;
	struct snapbuf bytes;  /* packed PeerEntry: repeated field 1, one Command each */
	struct batch_waiter *w;
	size_t nw, capw;
	size_t ncommands;
	uint64_t nacked;       /* commands answered at submission */
};

struct batch {
	struct server *srv;
	struct batch_entry pending;
	TAILQ_HEAD(, batch_entry) inflight; /* submitted, in submission order */
	unsigned ninflight;
	size_t inflight_commands;
	uint64_t acked_added;  /* commands answered at submission, ever */
	uint64_t acked_ended;  /* of those, how many have been applied or dropped */
	struct event *hold;    /* ends the wait of a pending entry of early-answered clears */
	bool hold_due;         /* that wait is over: send the pending entry when possible */
};

static void entry_reset(struct batch_entry *e)
{
	free(e->bytes.data);
	free(e->w);
	memset(e, 0, sizeof(*e));
}

/* The entry is done with (applied or failed): counts its early answers as ended and lets the
 * reads that waited for them go (session_parked_kick()). */
static void entry_ended(struct batch *b, struct batch_entry *e)
{
	uint64_t n = e->nacked;

	entry_reset(e);
	if (n) {
		b->acked_ended += n;
		session_parked_kick(b->srv);
	}
}

static void batch_flush(struct batch *b, bool force);

static void batch_hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct batch *b = arg;

	(void)fd;
	(void)what;
	b->hold_due = true;
	batch_flush(b, true);
}

struct batch *batch_new(struct server *srv)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->srv = srv;
	TAILQ_INIT(&b->inflight);
	b->hold = evtimer_new(srv->base, batch_hold_cb, b);
	if (!b->hold) {
		free(b);
		return NULL;
	}
	return b;
}

/* Answers every waiter of an entry that was not applied. Losing leadership or stopping is not
 * the request's failure: the client is told "not leader" and retries with the same request id
 * where the leader now is (the exactly-once table makes that safe whether or not the entry was
 * committed after all). Anything else is an error reply. */
static void entry_fail(struct batch *b, struct batch_entry *e, int err, const char *msg)
{
	if (e->nacked) {
		/* Answered already: a clear that is lost leaves its region dirty, which costs a
		 * resync and nothing else (batch.h). */
		log_warning("cleared regions not committed; they stay dirty commands=%llu why=%s",
			    (unsigned long long)e->nacked, msg);
	}
	for (size_t i = 0; i < e->nw; i++) {
		struct session *s = e->w[i].s;

		if (!s)
			continue;
		if (e->w[i].acked) {
			session_release_acked(s);
		} else {
			session_write_ended(s, e->w[i].slot);
			if (err == -EAGAIN || err == -ESHUTDOWN)
				session_reply_release_not_leader(s, e->w[i].request_id);
			else
				session_reply_release_error(s, e->w[i].request_id, err, msg);
		}
		session_unref(s);
	}
	entry_ended(b, e);
}

void batch_free(struct batch *b)
{
	if (!b)
		return;
	entry_fail(b, &b->pending, -ESHUTDOWN, "server stopping");
	while (!TAILQ_EMPTY(&b->inflight)) {
		/* raftsvc_stop() already called the done callbacks or will not call them any more;
		 * either way nobody else owns these now. */
		struct batch_entry *e = TAILQ_FIRST(&b->inflight);

		TAILQ_REMOVE(&b->inflight, e, link);
		entry_fail(b, e, -ESHUTDOWN, "server stopping");
		free(e);
	}
	event_free(b->hold);
	free(b);
}

size_t batch_pending(const struct batch *b)
{
	return b->pending.ncommands + b->inflight_commands;
}

static void batch_done(void *arg, int status, uint64_t index)
{
	struct batch_entry *e = arg;
	struct batch *b = e->b;
	struct fsm *fsm = b->srv->fsm;

	(void)index;
	TAILQ_REMOVE(&b->inflight, e, link);
	b->ninflight--;
	b->inflight_commands -= e->ncommands;
	if (status != 0) {
		const char *why = status == -EAGAIN ? "leadership lost before commit; retry"
			      : status == -ESHUTDOWN ? "server stopping"
						     : "commit failed";

		log_warning("raft entry not committed: %s commands=%zu", why, e->ncommands);
		entry_fail(b, e, status, why);
		free(e);
		batch_flush(b, false);
		return;
	}
	for (size_t i = 0; i < e->nw; i++) {
		struct batch_waiter *w = &e->w[i];
		struct dedup_result res;
		bool found;

		if (!w->s)
			continue;
		if (w->acked) {
			session_release_acked(w->s);
			session_unref(w->s);
			continue;
		}
		session_write_ended(w->s, w->slot);
		fsm_lock(fsm);
		found = fsm_result(fsm, session_identity(w->s), session_client_id(w->s), w->request_id,
				   &res);
		fsm_unlock(fsm);
		if (found) {
			session_reply_result(w->s, w->request_id, w->op, &res);
		} else {
			/* Evicted already: the client exceeded the exactly-once window. */
			session_reply_release_error(w->s, w->request_id, -EOVERFLOW,
						    "result no longer held (too many requests in flight)");
		}
		session_unref(w->s);
	}
	entry_ended(b, e);
	free(e);
	batch_flush(b, false);
}

/* Submits the pending entry when fewer than BATCH_INFLIGHT_MAX are in flight; one that holds
 * only early-answered clears waits for company until its hold is over (or force). */
static void batch_flush(struct batch *b, bool force)
{
	struct batch_entry *e;
	int rc;

	if (b->ninflight >= BATCH_INFLIGHT_MAX || b->pending.ncommands == 0 || b->srv->stopping)
		return;
	if (!force && !b->hold_due && b->pending.nacked == b->pending.ncommands)
		return;
	b->hold_due = false;
	evtimer_del(b->hold);
	e = malloc(sizeof(*e));
	if (!e) {
		entry_fail(b, &b->pending, -ENOMEM, "out of memory");
		return;
	}
	*e = b->pending;
	e->b = b;
	memset(&b->pending, 0, sizeof(b->pending));
	TAILQ_INSERT_TAIL(&b->inflight, e, link);
	b->ninflight++;
	b->inflight_commands += e->ncommands;
	rc = raftsvc_submit(b->srv->raft, e->bytes.data, e->bytes.len, batch_done, e);
	if (rc) {
		TAILQ_REMOVE(&b->inflight, e, link);
		b->ninflight--;
		b->inflight_commands -= e->ncommands;
		log_err("raft submit failed: %s commands=%zu", strerror(-rc), e->ncommands);
		entry_fail(b, e, rc, "commit failed");
		free(e);
	}
}

/* Appends a protobuf varint. */
static void put_varint(struct snapbuf *out, uint64_t v)
{
	uint8_t x[10];
	size_t n = 0;

	do {
		x[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			x[n] |= 0x80;
		n++;
	} while (v);
	snapbuf_put(out, x, n);
}

static int batch_queue(struct batch *b, const Dmlog__Command *cmd, struct session *s, uint32_t op,
		       uint64_t request_id, uint8_t slot, bool acked)
{
	struct batch_entry *e = &b->pending;
	size_t len = dmlog__command__get_packed_size(cmd);
	size_t start = e->bytes.len;
	uint8_t *dst;

	if (e->ncommands >= BATCH_MAX_COMMANDS || e->bytes.len + len + 16 > BATCH_MAX_BYTES)
		return -ENOBUFS;
	if (s && e->nw == e->capw) {
		size_t cap = e->capw ? e->capw * 2 : 64;
		struct batch_waiter *w = realloc(e->w, cap * sizeof(*w));

		if (!w)
			return -ENOMEM;
		e->w = w;
		e->capw = cap;
	}
	/* PeerEntry field 1 (commands), wire type 2: tag, length, the packed Command. Packing
	 * each command as it arrives lets the entry be sent without re-encoding the batch. */
	snapbuf_u8(&e->bytes, 0x0a);
	put_varint(&e->bytes, len);
	dst = snapbuf_extend(&e->bytes, len);
	if (dst)
		dmlog__command__pack(cmd, dst);
	if (e->bytes.error) {
		e->bytes.error = 0;
		e->bytes.len = start;
		return -ENOMEM;
	}
	e->ncommands++;
	if (s) {
		e->w[e->nw++] = (struct batch_waiter){.s = s, .request_id = request_id, .op = op,
						      .slot = slot, .acked = acked};
		session_ref(s);
	}
	if (acked) {
		e->nacked++;
		b->acked_added++;
		if (e->nacked == e->ncommands && !evtimer_pending(b->hold, NULL)) {
			struct timeval tv = {0, BATCH_HOLD_US};

			evtimer_add(b->hold, &tv);
		}
	}
	batch_flush(b, false);
	return 0;
}

int batch_add(struct batch *b, const Dmlog__Command *cmd, struct session *s, uint32_t op,
	      uint64_t request_id, uint8_t slot)
{
	return batch_queue(b, cmd, s, op, request_id, slot, false);
}

int batch_add_acked(struct batch *b, const Dmlog__Command *cmd, struct session *s, uint32_t op,
		    uint64_t request_id)
{
	return batch_queue(b, cmd, s, op, request_id, 0, true);
}

uint64_t batch_acked_mark(const struct batch *b)
{
	return b->acked_added;
}

bool batch_acked_ended(const struct batch *b, uint64_t mark)
{
	return b->acked_ended >= mark;
}

void batch_send_acked(struct batch *b)
{
	if (b->pending.nacked) {
		b->hold_due = true;
		batch_flush(b, true);
	}
}
