/* relay_impl.h: the inside of a relay, shared by relay.c (requests in, library callbacks,
 * policy, bounds) and relay_reply.c (results to reply datagrams).
 *
 * An outstanding kernel request lives in a slot taken from a pool allocated once
 * (max_outstanding of them): the slot keeps the request header the reply must echo, and is the
 * argument of the library callback. Single-threaded: the event_base's thread.
 */
#ifndef DMLOG_BRIDGE_RELAY_IMPL_H
#define DMLOG_BRIDGE_RELAY_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "log.h"
#include "relay.h"
#include "ulog_codec.h"

struct dmlog_async;
struct event;
struct replica;

/* Local answer latency histogram: 100 ns buckets up to 100 us, then one overflow bucket. */
#define RELAY_LAT_BUCKET_NS 100
#define RELAY_LAT_BUCKETS 1001
/* Lost instances remembered until their reconnect (the oldest is forgotten beyond). */
#define RELAY_LOST_MAX 32

/* A log's short UUID (last 8 characters) for a log line, quoted if the kernel sent odd bytes.
 * Valid within the full expression (the log call) it appears in. */
#define RELAY_UUID(uuid) (log_q(log_short_uuid(uuid)).s)

struct relay_slot {
	struct relay *relay;
	struct relay_slot *next_free;
	struct ulog_codec_hdr hdr;  /* the kernel's header, echoed in the reply */
	bool reconnect;             /* CTR of the reconnect loop: no reply buffer */
	bool busy;                  /* relayed, not answered yet */
	bool acked;                 /* a CLEAR the kernel was answered for already */
};

struct relay {
	struct event_base *base;
	struct transport *t;
	struct dmlog_async *ac;         /* new requests go here */
	struct dmlog_async *retired;    /* the handle before the last reload, draining */
	struct dmlog_async *ping_ac;    /* the handle of the outstanding ping; NULL: none */
	struct event *reap;             /* frees the retired handle once it drained */
	struct event *keepalive;
	enum relay_policy policy;
	uint32_t fail_after_ms;
	uint32_t expire_after_ms;
	uint32_t max_outstanding;
	uint32_t marks_out;             /* busy slots of MARK, CLEAR, FLUSH not answered early */
	uint32_t keepalive_ms;
	struct relay_slot *slots;       /* max_outstanding of them */
	struct relay_slot *free_slots;
	bool paused;                    /* reading stopped at max_outstanding */
	bool closing;                   /* relay_free() runs: reading stays stopped */
	bool draining;                  /* relay_drain() runs the loop */
	uint32_t acked_out;             /* busy slots of clears answered early (relay_drain()) */
	bool link_up;                   /* the last keepalive ping was answered */
	bool link_reported;             /* link_up was logged at least once */
	struct relay_stats stats;
	struct replica *replica;        /* local answers; NULL with no_local_reads */
	/* Instances dmlogd answered -ESTALE for (lost with this node): when the kernel's
	 * reconnect loop resumes one, its mirror is refreshed (dm_refresh.h). */
	bool refresh_after_loss;
	bool early_clear_ack;
	struct relay_lost {
		char uuid[ULOG_CODEC_UUID_LEN];
		uint64_t luid;
	} lost[RELAY_LOST_MAX];
	uint32_t nlost;
	uint64_t lat[RELAY_LAT_BUCKETS];
	uint64_t lat_max_ns;
	/* warning rate limit: at most RELAY_WARN_BURST lines per RELAY_WARN_WINDOW seconds */
	time_t warn_window;
	unsigned warn_count;
	uint64_t warn_suppressed;
};

/* True when one more warning may be logged now (see the rate limit above); counts the ones
 * that may not and reports them once the window has passed. */
bool relay_may_warn(struct relay *r);

/* relay_kernel.c: the debug line of a kernel request; remembering an instance dmlogd answered
 * -ESTALE for; after a successful RESUME, refreshing its mirror if it was such an instance. */
void relay_debug_request(const struct ulog_codec_req *req);
void relay_lost_add(struct relay *r, const struct ulog_codec_hdr *h);
void relay_lost_resumed(struct relay *r, const struct ulog_codec_hdr *h);

/* Fills out from a library result to a request of type `type`. 0, -EPROTO (the result answers
 * another type) or -EMSGSIZE (text too long for a reply). */
int relay_reply_map(uint32_t type, const struct dmlog_result *res, struct ulog_codec_res *out);

/* Encodes the reply to the request (hdr, reconnect) carrying res and hands it to the
 * transport. If the result cannot be encoded (codec error), the kernel gets that error with
 * data_size 0 instead; should even that fail, a bare NACK with the same error. */
void relay_reply_send(struct relay *r, const struct ulog_codec_hdr *hdr, bool reconnect,
		      const struct ulog_codec_res *res);

/* relay_reply_send() of an error (a negative errno) with no data. */
void relay_reply_error(struct relay *r, const struct ulog_codec_hdr *hdr, bool reconnect,
		       int error);

/* relay_local.c: CLOCK_MONOTONIC in ns (the start of a datagram's handling). */
uint64_t relay_local_now_ns(void);

/* Answers req (IN_SYNC, GET_RESYNC_WORK, GET_SYNC_COUNT, or a FLUSH without marks) from the
 * replica's copy if it holds a current one that proves dmlogd's answer (counted; an IN_SYNC
 * timed from t0): true when answered, false when dmlogd must answer. */
bool relay_local_answer(struct relay *r, const struct ulog_codec_req *req, uint64_t t0);

/* The replica's done hook: a request of it completed on handle ac (the retired handle may
 * have drained). */
void relay_local_on_replica_done(void *arg, struct dmlog_async *ac);

/* Sends a reply the bridge made itself (from the copy, or an early answer) and counts it as
 * answered. */
void relay_local_reply(struct relay *r, const struct ulog_codec_req *req,
		       const struct ulog_codec_res *res);

/* Whether a request of (uuid, luid) that changes marks (MARK_REGION, CLEAR_REGION, FLUSH) is
 * relayed and not answered yet (a clear answered early does not count: the kernel was told). */
bool relay_marks_in_flight(const struct relay *r, const char *uuid, uint64_t luid);

#endif /* DMLOG_BRIDGE_RELAY_IMPL_H */
