/* feed_hold.c: the feed's leases and the replies held back until every leased copy has the
 * change they acknowledge (see feed.h).
 *
 * Why a bridge's local IN_SYNC answer is never older than an acknowledged change.
 *
 * Leases. A bridge sends a FeedAck (or Watch) at time t0 on its clock; the server receives it
 * at t1 >= t0 and, if it grants, promises until t1 + L on its clock (lease_until_ms). The
 * bridge answers locally only before t0 + L - margin on its own clock: its lease always ends
 * first, as long as the two clocks run at nearly the same rate (the margin). A grant is given
 * only while this server holds the Raft read lease (no other leader can exist then) and only
 * to a feed that is not lagging (its oldest unacknowledged push is younger than L), so a
 * bridge that stops applying pushes stops being renewed.
 *
 * Which replies. Only a successful SET_REGION_SYNC changes what IN_SYNC answers for an
 * instance whose bridge may hold a copy. CTR and DTR touch only regions beyond every other
 * instance's region_count; PRESUSPEND, POSTSUSPEND and RESUME's sticky reset touch only the
 * requester's own instance, whose bridge ends its copy before it relays PRESUSPEND or
 * POSTSUSPEND and makes one only after RESUME. A master RESUME changes sync bits, but only when
 * no other instance of the log is resumed or presuspended, and then no other bridge holds a
 * leased copy of the log: a suspended instance's bridge ended its copy before suspending, and a
 * lost node sent nothing for node_lease (>= 1 s = L), so its last lease ended before it was
 * declared lost. Node loss itself has no requester; nobody is told of it.
 *
 * The rule. Let C be a change made by a SET_REGION_SYNC and R the reply that acknowledges it
 * (a first answer or the stored answer to a retry). Before R is considered, the events of every
 * applied entry, C's included, are pushed (feed_drain() runs first in the reply path). R is then
 * held until, for every other feed F that held an unexpired lease with pushes not yet
 * acknowledged: F acknowledged the push it had been sent when R became ready, or F's lease ran
 * out on this server's clock. The requester's own feed needs no wait: C's push went out on its
 * connection before R, and the bridge reads its connection in order.
 *
 * Why it holds. Take a bridge B answering locally at time t, using the lease of a grant G for
 * a message sent at t0 (so t < t0 + L - margin), and C acknowledged at a < t. B processed every
 * message the server wrote before G before it processed G (one connection, read in order),
 * so if C's push was written before G, B has C. Otherwise G was written after C's push, hence
 * after R became ready; R was released at a either because B's feed acknowledged C's push (B
 * has C), or because the server's lease of B's feed had run out at a: but that lease ran at
 * least until G's receipt t1 + L > t0 + L > t, and a < t: impossible. A copy taken after C was
 * applied includes C (feed.c takes copies under the fsm lock after the queue is emptied).
 *
 * Failover. A new leader does not know the leases its predecessor granted. The predecessor
 * granted only while it held the Raft read lease, which ends before another leader can be
 * elected; so every such lease ends by the new leader's election + L, and this server holds
 * every change reply until L + FEED_HOLD_MARGIN_MS after it became the serving leader (which
 * is after its election). Bridges re-watch at the new leader, whose copies include everything
 * committed before. A restarted standalone dmlogd is a new leader of its own and waits too.
 */
#include "feed_impl.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>

#include "engine.h"
#include "log.h"
#include "server.h"
#include "session.h"

struct feed_need {
	uint64_t uid;
	uint64_t seq;
};

struct feed_held {
	TAILQ_ENTRY(feed_held) link;
	struct session *s;           /* referenced */
	uint64_t id;
	uint32_t op;
	struct dedup_result res;
	uint32_t n;
	struct feed_need need[];
};

bool feed_may_grant(struct feed *f, const struct feed_client *fc, uint64_t now)
{
	uint64_t lag;

	if (!fc->s || !server_read_ok(f->srv))
		return false;
	lag = fc->pushed - fc->acked;
	if (lag == 0)
		return true;
	if (lag >= FEED_RING)
		return false;
	return now - fc->push_ms[(fc->acked + 1) % FEED_RING] < FEED_LEASE_MS;
}

void feed_grant(struct feed *f, struct feed_client *fc, uint64_t now)
{
	if (fc->lease_until_ms < now + FEED_LEASE_MS)
		fc->lease_until_ms = now + FEED_LEASE_MS;
	f->st.grants++;
}

/* Whether one requirement is met now; *expired tells it was met by a lease running out. */
static bool need_met(struct feed *f, const struct feed_need *n, uint64_t now, bool *expired,
		     uint64_t *wake)
{
	struct feed_client *fc = feed_client_by_uid(f, n->uid);

	if (!fc || fc->acked >= n->seq)
		return true; /* a client is freed only once its lease ran out */
	if (fc->lease_until_ms <= now) {
		*expired = true;
		return true;
	}
	if (fc->lease_until_ms < *wake)
		*wake = fc->lease_until_ms;
	return false;
}

static void feed_arm(struct feed *f, uint64_t wake, uint64_t now)
{
	struct timeval tv;
	uint64_t ms = wake > now ? wake - now : 0;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000 + 500); /* just past the ms boundary */
	evtimer_add(f->timer, &tv);
}

void feed_hold_check(struct feed *f)
{
	TAILQ_HEAD(, feed_held) ready = TAILQ_HEAD_INITIALIZER(ready);
	struct feed_held *h, *next;
	uint64_t now = feed_now_ms(), wake = UINT64_MAX;

	for (h = TAILQ_FIRST(&f->held); h; h = next) {
		bool met = true, expired = false;

		next = TAILQ_NEXT(h, link);
		if (now < f->hold_until_ms) {
			met = false;
			if (f->hold_until_ms < wake)
				wake = f->hold_until_ms;
		}
		for (uint32_t i = 0; i < h->n; i++)
			met = need_met(f, &h->need[i], now, &expired, &wake) && met;
		if (!met)
			continue;
		if (expired)
			f->st.held_by_expiry++;
		TAILQ_REMOVE(&f->held, h, link);
		f->st.holds--;
		TAILQ_INSERT_TAIL(&ready, h, link);
	}
	feed_gc(f);
	if (wake != UINT64_MAX)
		feed_arm(f, wake, now);
	else if (TAILQ_EMPTY(&f->held))
		evtimer_del(f->timer);
	/* Sent after the walk: a reply may make its session read, and reading may come back here. */
	while ((h = TAILQ_FIRST(&ready)) != NULL) {
		TAILQ_REMOVE(&ready, h, link);
		session_reply_release(h->s, h->id, h->op, &h->res);
		session_unref(h->s);
		free(h);
	}
}

bool feed_hold(struct feed *f, struct session *s, uint64_t id, uint32_t op,
	       const struct dedup_result *res)
{
	struct feed_client *self = session_feed(s), *fc;
	struct feed_held *h;
	uint64_t now = feed_now_ms();
	uint32_t n = 0;

	if (op != ENGINE_SET_REGION_SYNC || res->error != 0)
		return false;
	LIST_FOREACH(fc, &f->clients, link)
		if (fc != self && fc->pushed > fc->acked && fc->lease_until_ms > now)
			n++;
	if (n == 0 && now >= f->hold_until_ms)
		return false;
	h = f->st.holds < FEED_HOLDS_MAX ? malloc(sizeof(*h) + n * sizeof(h->need[0])) : NULL;
	if (!h) {
		/* Not acknowledged now (that could break the rule): the client retries, and the
		 * retry finds the stored result (exactly once) and is held like this one. */
		log_warning("feed: cannot hold a reply (%u held): answering -EAGAIN", f->st.holds);
		session_reply_release_error(s, id, -EAGAIN, "server busy: retry");
		return true;
	}
	h->s = s;
	h->id = id;
	h->op = op;
	h->res = *res;
	h->n = 0;
	LIST_FOREACH(fc, &f->clients, link)
		if (fc != self && fc->pushed > fc->acked && fc->lease_until_ms > now)
			h->need[h->n++] = (struct feed_need){fc->uid, fc->pushed};
	session_ref(s);
	TAILQ_INSERT_TAIL(&f->held, h, link);
	f->st.holds++;
	f->st.held++;
	feed_hold_check(f);
	return true;
}

void feed_leader(struct feed *f, bool leader)
{
	if (leader) {
		f->hold_until_ms = feed_now_ms() + FEED_LEASE_MS + FEED_HOLD_MARGIN_MS;
		return;
	}
	/* Copies end now rather than when their leases run out: the bridges re-watch (and are
	 * sent to the new leader). */
	feed_reset_all(f);
}

void feed_hold_free(struct feed *f)
{
	struct feed_held *h;

	while ((h = TAILQ_FIRST(&f->held)) != NULL) {
		TAILQ_REMOVE(&f->held, h, link);
		session_unref(h->s);
		free(h);
	}
	f->st.holds = 0;
}
