/* replica.c: the replica's copies, the kernel's hooks and the local answers — IN_SYNC,
 * GET_RESYNC_WORK's "no work" and GET_SYNC_COUNT (see replica.h). The feed's protocol (Watch,
 * pushes, acknowledgements, the lease) is in replica_feed.c. */
#include "replica.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dmlog/async.h>
#include <event2/event.h>
#include <linux/dm-log-userspace.h>

#include "replica_impl.h"

#define REPLICA_DEFAULT_RETRY_MS 1000

uint64_t replica_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static size_t replica_bucket(uint64_t luid)
{
	/* luids are kernel addresses: the multiply spreads their low zero bits */
	return (size_t)((luid * UINT64_C(0x9e3779b97f4a7c15)) >> 54) % REPLICA_HASH;
}

struct replica *replica_new(struct event_base *base, const struct replica_options *o)
{
	struct replica *rp = calloc(1, sizeof(*rp));

	if (!rp)
		return NULL;
	rp->base = base;
	rp->refs = 1;
	rp->margin_ms = o ? o->margin_ms : 0;
	rp->retry_ms = o && o->retry_ms ? o->retry_ms : REPLICA_DEFAULT_RETRY_MS;
	rp->done = o ? o->done : NULL;
	rp->done_arg = o ? o->done_arg : NULL;
	rp->lease_ms = 1000;
	replica_renew_start(rp);
	if (!rp->renew) {
		free(rp);
		return NULL;
	}
	return rp;
}

static void copy_free(struct replica_copy *c)
{
	replica_ranges_free(&c->oos);
	free(c);
}

void replica_free(struct replica *rp)
{
	if (!rp)
		return;
	replica_attach(rp, NULL);
	for (size_t i = 0; i < REPLICA_HASH; i++) {
		while (rp->hash[i]) {
			struct replica_copy *c = rp->hash[i];

			rp->hash[i] = c->hnext;
			copy_free(c);
		}
	}
	event_free(rp->renew);
	rp->renew = NULL;
	rp->dead = true;
	replica_unref(rp);
}

void replica_unref(struct replica *rp)
{
	if (--rp->refs == 0)
		free(rp);
}

/* ---------------------------------------------------------------- entries */

struct replica_copy *replica_find(const struct replica *rp, const char *uuid, uint64_t luid)
{
	for (struct replica_copy *c = rp->hash[replica_bucket(luid)]; c; c = c->hnext)
		if (c->luid == luid && strcmp(c->uuid, uuid) == 0)
			return c;
	return NULL;
}

struct replica_copy *replica_get(struct replica *rp, const char *uuid, uint64_t luid)
{
	struct replica_copy *c = replica_find(rp, uuid, luid);
	size_t b;

	if (c || rp->ncopies >= REPLICA_COPIES_MAX || strlen(uuid) >= sizeof(c->uuid))
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	snprintf(c->uuid, sizeof(c->uuid), "%s", uuid);
	c->luid = luid;
	c->serial = ++rp->next_serial;
	c->state = REPLICA_IDLE;
	b = replica_bucket(luid);
	c->hnext = rp->hash[b];
	rp->hash[b] = c;
	rp->ncopies++;
	return c;
}

static void copy_remove(struct replica *rp, struct replica_copy *c)
{
	struct replica_copy **pp = &rp->hash[replica_bucket(c->luid)];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	rp->ncopies--;
	copy_free(c);
}

void replica_copy_end(struct replica *rp, struct replica_copy *c, bool retry_now)
{
	if (c->state == REPLICA_READY) {
		replica_unwatch(rp, c->watch_id);
		rp->st.drops++;
		if (rp->st.copies)
			rp->st.copies--;
	}
	c->state = REPLICA_IDLE;
	c->watch_id = 0;
	c->watch_serial = 0;
	c->sticky = false;
	c->region_count = 0;
	replica_ranges_free(&c->oos);
	c->retry_at_us = replica_now_us() + (retry_now ? 0 : (uint64_t)rp->retry_ms * 1000u);
}

void replica_reset(struct replica *rp, bool keep_watching)
{
	rp->gen++;
	rp->feed_id = 0;
	rp->applied = 0;
	rp->lease_until_us = 0;
	rp->ack_wanted = false;
	rp->st.resets++;
	for (size_t i = 0; i < REPLICA_HASH; i++) {
		for (struct replica_copy *c = rp->hash[i]; c; c = c->hnext) {
			if (c->state == REPLICA_READY) {
				rp->st.drops++;
				if (rp->st.copies)
					rp->st.copies--;
			}
			/* A Watch on its way stays valid on the same handle: the library sends it
			 * again on the next connection and its answer comes from that one. */
			if (keep_watching && c->state == REPLICA_WATCHING)
				continue;
			/* dmlogd forgot these copies already: no Unwatch */
			c->state = REPLICA_IDLE;
			c->watch_id = 0;
			c->watch_serial = 0;
			replica_ranges_free(&c->oos);
			c->retry_at_us = 0;
		}
	}
	for (size_t i = 0; i < REPLICA_HASH; i++)
		for (struct replica_copy *c = rp->hash[i]; c; c = c->hnext)
			if (c->wanted && !c->suspended && c->state == REPLICA_IDLE)
				replica_watch(rp, c);
}

void replica_attach(struct replica *rp, struct dmlog_async *ac)
{
	if (rp->ac) {
		/* The old session's copies end: tell dmlogd, so that it stops pushing to a
		 * session nobody reads (and waiting for it) before that session's lease ends. */
		for (size_t i = 0; i < REPLICA_HASH; i++)
			for (struct replica_copy *c = rp->hash[i]; c; c = c->hnext)
				if (c->state == REPLICA_READY)
					replica_unwatch(rp, c->watch_id);
		dmlog_async_set_push_cb(rp->ac, NULL, NULL);
	}
	rp->ac = ac;
	if (ac)
		replica_feed_attach(rp);
	replica_reset(rp, false);
}

/* ---------------------------------------------------------------- the kernel's requests */

int replica_in_sync(struct replica *rp, const char *uuid, uint64_t luid, uint64_t region,
		    bool *in_sync)
{
	struct replica_copy *c = replica_find(rp, uuid, luid);
	uint64_t now;

	if (c && c->state == REPLICA_READY && region < c->region_count) {
		now = replica_now_us();
		if (now < rp->lease_until_us) {
			*in_sync = c->sticky || !replica_ranges_has(&c->oos, region);
			rp->st.local++;
			return 0;
		}
		rp->st.remote_no_lease++;
	}
	rp->st.remote++;
	/* No copy: make one for next time (a bridge restarted under a resumed mirror). */
	if (!c)
		c = replica_get(rp, uuid, luid);
	if (c && c->state == REPLICA_IDLE && !c->suspended && replica_now_us() >= c->retry_at_us)
		replica_watch(rp, c);
	return -EAGAIN;
}

/* ---------------------------------------------------------------- recovery requests
 *
 * What a READY copy under an unexpired lease holds: dmlogd's sync bits below the instance's
 * region_count as they were right after some applied entry P (the Watch's snapshot, then the
 * pushes in commit order), with P at or after every change acknowledged before now. A
 * SET_REGION_SYNC, either way, is acknowledged only once this feed applied its push or its
 * lease ran out (feed_hold.c; docs/ARCHITECTURE.md "Why it holds"), and every answer this
 * bridge read from dmlogd came after the pushes written ahead of it. The other changes of sync
 * bits cannot be acknowledged past a live copy either: a CTR grows the log beyond every
 * instance's region_count; a master RESUME happens only when no other instance is resumed, and
 * this one is while its copy lives (PRESUSPEND, POSTSUSPEND and DTR end it before they are
 * relayed, dmlogd DROPs it when the instance leaves the resumed state, and a node dmlogd
 * declares lost was silent for node_lease >= the feed lease, so its lease ran out first); a
 * node loss has no requester, and its push comes within the bound the lease puts on unapplied
 * pushes. So the copy's answer is the one dmlogd would give at P, and the changes after P are
 * ones nobody has been told of: dmlogd could have ordered this request before all of them. */

/* The copy of (uuid, luid) if it may answer now: complete, under an unexpired lease. */
static struct replica_copy *leased_copy(struct replica *rp, const char *uuid, uint64_t luid)
{
	struct replica_copy *c = replica_find(rp, uuid, luid);

	if (!c || c->state != REPLICA_READY || replica_now_us() >= rp->lease_until_us)
		return NULL;
	return c;
}

/* "No work" only when the copy has no region out of sync below region_count (the copy holds
 * none beyond it). The sticky flag is no evidence: it says the log was fully synced once since
 * the resume, not that every sync bit is set now. Why dmlogd answers {0, 0} then (engine.h,
 * resync.c): the instance is resumed (the copy lives only then, see above); it holds no
 * assignment, since a region is assigned only while out of sync and the SET_REGION_SYNC that
 * sets its bit releases the assignment, and an assignment this instance got reached the bridge
 * after the push (or in the snapshot) that shows its region out of sync, which stays in the
 * copy until the push of that SET_REGION_SYNC; the priority list and the scan assign only a
 * region out of sync below region_count (the others are skipped or dropped), and there is
 * none. dmlogd's answer would also have had a side effect: sync_search = region_count (and
 * dropping priority entries in sync, of which there are none: IS_REMOTE_RECOVERING adds only
 * out-of-sync regions, SET_REGION_SYNC drops what it sets in sync). Skipping it breaks none of
 * dmlogd's rules: sync_search is only where the next scan starts, and every candidate is still
 * checked for its sync bit, an assignment and the floor (the hints of the other instances), so
 * a cursor left lower never assigns a region those rules forbid; it may hand out by the scan a
 * region that falls out of sync later, which dmlogd would otherwise hand out only from the
 * priority list or after the next resume reset the cursor to 0. No peer applied the answer
 * either (it never went through Raft): the replicas stay identical. "No work" is never unsafe
 * for the kernel anyway: it recovers nothing this round and asks again on its next pass (only
 * GET_SYNC_COUNT moves its in_sync_hint), so a copy behind on a change out of sync delays a
 * recovery by at most that push, never loses it. */
int replica_resync_work(struct replica *rp, const char *uuid, uint64_t luid)
{
	struct replica_copy *c = leased_copy(rp, uuid, luid);

	if (!c || c->oos.n != 0)
		return -EAGAIN;
	rp->st.local_resync_work++;
	return 0;
}

/* region_count minus the regions out of sync in the copy: dmlogd's popcount of the sync bits
 * below the instance's region_count (query.c) at P. It must never be too high: at region_count
 * the kernel sets its in_sync_hint to region_count, and until its next resume asks neither for
 * resync work nor IS_REMOTE_RECOVERING before a write. It is not: every region an acknowledged
 * change took out of sync (and no later applied change put back) is out of sync in the copy,
 * whose out-of-sync set therefore contains dmlogd's for the acknowledged changes, so the count
 * is at most dmlogd's for them; what the copy may lack are changes nobody has been told of,
 * which dmlogd could as well have ordered after this request. Too low is harmless: a copy
 * behind on changes into sync makes the kernel ask again on its next pass. */
int replica_sync_count(struct replica *rp, const char *uuid, uint64_t luid, uint64_t *count)
{
	struct replica_copy *c = leased_copy(rp, uuid, luid);

	/* the copy's ranges are checked against region_count on the way in */
	if (!c || c->oos.count > c->region_count)
		return -EAGAIN;
	*count = c->region_count - c->oos.count;
	rp->st.local_sync_count++;
	return 0;
}

/* A FLUSH without marks asks that what this instance marked and cleared before it be durable.
 * dmlogd answers a MARK only once committed, and may answer a CLEAR before (a lost clear only
 * leaves its region dirty: a resync, never a wrong "clean"); the kernel sends a flush's clears
 * and marks one at a time, each after the answer to the one before, and the FLUSH last (the
 * relay also checks that none of this instance's is still out: relay_marks_in_flight()). So
 * nothing is left to make durable and dmlogd's answer is its checks alone: the instance exists
 * and is not lost. A READY copy under its lease proves the first (the copy lives only while the
 * instance is resumed, see above); and dmlogd declares a node lost only after node_lease of
 * silence, longer than the feed lease this copy holds, so it is not lost either. */
int replica_flush(struct replica *rp, const char *uuid, uint64_t luid)
{
	if (!leased_copy(rp, uuid, luid))
		return -EAGAIN;
	rp->st.local_flush++;
	return 0;
}

/* A CLEAR_REGION dmlogd will accept: the instance is resumed (a READY copy under its lease,
 * and not lost, as for replica_flush()) and every region is below its region_count, the
 * engine's only other checks of a clear (engine.c resolve()). */
int replica_clear(struct replica *rp, const char *uuid, uint64_t luid, const uint64_t *regions,
		  uint32_t n)
{
	struct replica_copy *c = leased_copy(rp, uuid, luid);

	if (!c || n == 0)
		return -EAGAIN;
	for (uint32_t i = 0; i < n; i++)
		if (regions[i] >= c->region_count)
			return -EAGAIN;
	return 0;
}

void replica_before(struct replica *rp, uint32_t type, const char *uuid, uint64_t luid)
{
	struct replica_copy *c;

	if (type != DM_ULOG_PRESUSPEND && type != DM_ULOG_POSTSUSPEND && type != DM_ULOG_DTR)
		return;
	c = replica_find(rp, uuid, luid);
	if (!c)
		return;
	replica_copy_end(rp, c, false);
	c->wanted = false;
	c->suspended = true;
	if (type == DM_ULOG_DTR)
		copy_remove(rp, c);
}

void replica_after(struct replica *rp, uint32_t type, const char *uuid, uint64_t luid,
		   int status)
{
	struct replica_copy *c;

	if (type != DM_ULOG_RESUME || status != 0)
		return;
	c = replica_get(rp, uuid, luid);
	if (!c)
		return;
	c->wanted = true;
	c->suspended = false;
	if (c->state == REPLICA_READY)
		return; /* a repeated RESUME of a resumed instance changes nothing */
	replica_watch(rp, c);
}

void replica_get_stats(const struct replica *rp, struct replica_stats *out)
{
	uint64_t now = replica_now_us();

	*out = rp->st;
	out->leased = now < rp->lease_until_us;
	out->lease_left_ms = out->leased ? (uint32_t)((rp->lease_until_us - now) / 1000u) : 0;
}
