/* raftsvc_lease.c: the leader's read lease (ARCHITECTURE.md invariant 5), on the raft thread.
 *
 * Why it holds. A follower of libraft that knows a leader refuses every vote and pre-vote
 * (recv_request_vote.c: "has_leader -> reject") until its election timer runs out, which is at
 * least election_timeout ms after it last heard from that leader; only a leadership transfer
 * that the leader itself starts overrides that, and a leader never votes for another server.
 * So when a voter tells the leader "I follow you in term T and will refuse votes for R more ms",
 * no other leader can be elected with its vote before then. The leader asks with a PING carrying
 * its term and the time it was sent (peer_transport_ping()); the follower answers in its PONG
 * with R = election_timeout - (now - its last contact from the leader), or -1 when it does not
 * follow this leader in this term. Counting from the PING's send time (which is before the
 * follower's answer) the promise lasts at least until send + R on the leader's clock, less a
 * margin for clock rate differences. When a majority of the voters (the leader counts itself)
 * hold such promises, no other server can become leader, and hence no entry can be committed
 * that this leader has not applied once its term's barrier is applied: reads from the applied
 * state are linearizable until the majority's earliest promise runs out (raftsvc_lease_until()).
 *
 * Restarts: a follower that crashes loses its knowledge of the leader and could vote at once
 * after restarting; the peer transport therefore holds incoming connections for an election
 * timeout after start (peer.h, quiet start), which covers every promise given before the crash.
 * Transfers: the service stops serving before it asks libraft for a transfer (raftsvc_member.c).
 * Membership changes: during a change both the old and the new configuration need a majority.
 *
 * Pings go out every heartbeat interval while this server leads, and at once when it becomes
 * ready. Clocks: libuv's uv_hrtime() and uv_now() and the libevent side's CLOCK_MONOTONIC are
 * the same clock, in ms here.
 */
#include "raftsvc_impl.h"

#include "clock.h"

#include <stdint.h>
#include <string.h>

uint64_t raftsvc_lease_now_ms(void)
{
	return clock_mono_ms();
}

/* Margin against clock rate differences between two hosts: 5% of the election timeout (far
 * beyond the drift of any working clock over that time), at least 2 ms. */
static uint64_t lease_margin(const struct raftsvc *s)
{
	uint64_t m = s->cfg.election_timeout_ms / 20;

	return m < 2 ? 2 : m;
}

int32_t raftsvc_lease_promise(void *arg, uint64_t from, uint64_t term)
{
	struct raftsvc *s = arg;
	struct raft *r = &s->raft;
	uint64_t now, elapsed;

	if (!s->raft_started || s->raft_closing || s->failed)
		return -1;
	if (raft_state(r) != RAFT_FOLLOWER || r->current_term != term ||
	    r->follower_state.current_leader.id != from)
		return -1;
	/* election_timer_start is libuv loop time (uv_now(), which lags the clock, never leads
	 * it): elapsed is over-estimated, the promise under-estimated. */
	now = raftsvc_lease_now_ms();
	elapsed = now > r->election_timer_start ? now - r->election_timer_start : 0;
	if (elapsed >= r->election_timeout)
		return -1;
	return (int32_t)(r->election_timeout - elapsed);
}

static void lease_reset(struct raftsvc *s, raft_term term)
{
	s->lease_term = term;
	s->n_lease = 0;
}

void raftsvc_lease_pong(void *arg, uint64_t from, uint64_t term, uint64_t stamp,
			int32_t promise_ms)
{
	struct raftsvc *s = arg;
	uint64_t until, margin = lease_margin(s);
	unsigned i;

	if (!s->raft_started || s->raft_closing || promise_ms < 0 ||
	    raft_state(&s->raft) != RAFT_LEADER || term != raft_current_term(&s->raft) ||
	    term != s->lease_term)
		return;
	if ((uint64_t)promise_ms <= margin)
		return;
	until = stamp + (uint64_t)promise_ms - margin;
	for (i = 0; i < s->n_lease; i++)
		if (s->lease[i].id == from)
			break;
	if (i == s->n_lease) {
		if (s->n_lease == RAFTSVC_MEMBERS_MAX)
			return;
		s->lease[s->n_lease].id = from;
		s->lease[s->n_lease].until_ms = 0;
		s->n_lease++;
	}
	if (until > s->lease[i].until_ms)
		s->lease[i].until_ms = until;
}

void raftsvc_lease_ping(struct raftsvc *s)
{
	raft_term term;

	if (!s->raft_started || s->raft_closing || raft_state(&s->raft) != RAFT_LEADER)
		return;
	term = raft_current_term(&s->raft);
	if (term != s->lease_term)
		lease_reset(s, term);
	peer_transport_ping(&s->transport, term, raftsvc_lease_now_ms());
}

static void lease_tick(uv_timer_t *t)
{
	raftsvc_lease_ping(t->data);
}

void raftsvc_lease_start(struct raftsvc *s)
{
	uv_timer_init(&s->loop, &s->lease_timer);
	s->lease_timer.data = s;
	uv_timer_start(&s->lease_timer, lease_tick, s->cfg.heartbeat_ms, s->cfg.heartbeat_ms);
}

static void lease_timer_closed(uv_handle_t *h)
{
	(void)h;
}

void raftsvc_lease_stop(struct raftsvc *s)
{
	if (!uv_is_closing((uv_handle_t *)&s->lease_timer))
		uv_close((uv_handle_t *)&s->lease_timer, lease_timer_closed);
}

static uint64_t lease_of(const struct raftsvc *s, raft_id id)
{
	if (id == s->cfg.id)
		return UINT64_MAX;
	for (unsigned i = 0; i < s->n_lease; i++)
		if (s->lease[i].id == id)
			return s->lease[i].until_ms;
	return 0;
}

/* The latest time until which a majority of c's voters hold promises. */
static uint64_t quorum_until(const struct raftsvc *s, const struct raft_configuration *c)
{
	uint64_t v[RAFTSVC_MEMBERS_MAX];
	unsigned n = 0, i, j;

	for (i = 0; i < c->n && n < RAFTSVC_MEMBERS_MAX; i++)
		if (c->servers[i].role == RAFT_VOTER)
			v[n++] = lease_of(s, c->servers[i].id);
	if (n == 0)
		return 0;
	/* Sort descending (a handful of voters). */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] < v[j]; j--) {
			uint64_t x = v[j];

			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	return v[n / 2]; /* the (n/2 + 1)-th largest: a majority holds at least this */
}

uint64_t raftsvc_lease_until(struct raftsvc *s)
{
	struct raft *r = &s->raft;
	uint64_t until;

	if (!s->raft_started || s->raft_closing || raft_state(r) != RAFT_LEADER ||
	    raft_current_term(r) != s->lease_term)
		return 0;
	until = quorum_until(s, &r->configuration);
	if (r->configuration_uncommitted_index != 0) {
		uint64_t old = quorum_until(s, &r->configuration_committed);

		if (old < until)
			until = old;
	}
	return until;
}
