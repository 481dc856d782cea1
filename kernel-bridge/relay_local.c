/* relay_local.c: IN_SYNC, GET_SYNC_COUNT, GET_RESYNC_WORK's "no work" and FLUSH without marks
 * answered from the replica's copy (replica.h) and what is measured of it — the local answer on
 * the hot path (no allocation, no request to dmlogd, no log line), the IN_SYNC answer's latency
 * histogram from the datagram's arrival to the reply having been sent, and the replica's
 * counters for the state dump and tests. */
#include <inttypes.h>
#include <string.h>

#include <dmlog/async.h>
#include <event2/event.h>
#include <linux/dm-log-userspace.h>

#include "log.h"
#include "relay_impl.h"
#include "replica.h"

uint64_t relay_local_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void relay_local_reply(struct relay *r, const struct ulog_codec_req *req,
		       const struct ulog_codec_res *res)
{
	relay_reply_send(r, &req->hdr, false, res);
	r->stats.requests++;
	r->stats.by_type[req->hdr.type]++;
	r->stats.answered++;
}

/* The recovery requests the kernel sends with each batch of reads while the mirror is not
 * known in sync, and the FLUSH without marks that ends each batch of marks or clears: answered
 * from the copy when it proves dmlogd's answer (replica.c). */
static bool relay_local_recovery(struct relay *r, const struct ulog_codec_req *req)
{
	struct ulog_codec_res res;
	uint64_t count;

	memset(&res, 0, sizeof(res));
	if (req->hdr.type == DM_ULOG_FLUSH) {
		if (relay_marks_in_flight(r, req->hdr.uuid, req->hdr.luid) ||
		    replica_flush(r->replica, req->hdr.uuid, req->hdr.luid) != 0)
			return false;
		r->stats.local_flush++;
	} else if (req->hdr.type == DM_ULOG_GET_RESYNC_WORK) {
		if (replica_resync_work(r->replica, req->hdr.uuid, req->hdr.luid) != 0)
			return false;
		r->stats.local_resync_work++; /* {flag 0, value 0}: no work */
	} else {
		if (replica_sync_count(r->replica, req->hdr.uuid, req->hdr.luid, &count) != 0)
			return false;
		res.value = count;
		r->stats.local_sync_count++;
	}
	relay_local_reply(r, req, &res);
	return true;
}

bool relay_local_answer(struct relay *r, const struct ulog_codec_req *req, uint64_t t0)
{
	struct ulog_codec_res res;
	bool flag;
	uint64_t ns;

	if (req->hdr.type != DM_ULOG_IN_SYNC)
		return relay_local_recovery(r, req);
	if (replica_in_sync(r->replica, req->hdr.uuid, req->hdr.luid, req->region, &flag) != 0)
		return false;
	memset(&res, 0, sizeof(res));
	res.flag = flag;
	relay_local_reply(r, req, &res);
	if (!flag) /* rare (a resync runs): the evidence a real-kernel test needs */
		log_debug("answered locally log=%s seq=%u type=IN_SYNC region=%" PRIu64 " flag=0",
			  RELAY_UUID(req->hdr.uuid), req->hdr.seq, req->region);
	r->stats.local_in_sync++;
	ns = relay_local_now_ns() - t0;
	r->lat[ns / RELAY_LAT_BUCKET_NS < RELAY_LAT_BUCKETS - 1 ? ns / RELAY_LAT_BUCKET_NS
								 : RELAY_LAT_BUCKETS - 1]++;
	if (ns > r->lat_max_ns)
		r->lat_max_ns = ns;
	return true;
}

void relay_local_on_replica_done(void *arg, struct dmlog_async *ac)
{
	struct relay *r = arg;

	if (ac == r->retired && r->reap != NULL)
		event_active(r->reap, EV_TIMEOUT, 0);
}

void relay_get_replica_stats(const struct relay *r, struct replica_stats *out)
{
	if (r->replica != NULL)
		replica_get_stats(r->replica, out);
	else
		memset(out, 0, sizeof(*out));
}

/* The upper edge of the bucket holding the q-th fraction of the samples. */
static uint64_t relay_quantile(const struct relay *r, uint64_t count, double q)
{
	uint64_t want = (uint64_t)((double)count * q), seen = 0;

	if (want >= count)
		want = count - 1;
	for (size_t i = 0; i < RELAY_LAT_BUCKETS; i++) {
		seen += r->lat[i];
		if (seen > want)
			return i == RELAY_LAT_BUCKETS - 1 ? r->lat_max_ns
							  : (uint64_t)(i + 1) * RELAY_LAT_BUCKET_NS;
	}
	return r->lat_max_ns;
}

void relay_get_local_latency(const struct relay *r, struct relay_local_latency *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < RELAY_LAT_BUCKETS; i++)
		out->count += r->lat[i];
	if (out->count == 0)
		return;
	out->p50_ns = relay_quantile(r, out->count, 0.50);
	out->p90_ns = relay_quantile(r, out->count, 0.90);
	out->p99_ns = relay_quantile(r, out->count, 0.99);
	out->max_ns = r->lat_max_ns;
}

