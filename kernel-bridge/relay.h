/* relay.h: the core of dmlog-bridge — kernel requests in, dmlogd answers out.
 *
 * For each datagram the transport delivers, the relay validates it with the codec, turns it into
 * a struct dmlog_request (the node identity is not in it: dmlogd takes it from the bridge's
 * certificate), submits it to libdmlog on the caller's event loop, and answers the kernel with
 * the kernel's own seq and exactly the reply size reference §2.0 gives for the type, once dmlogd
 * has answered. Many requests are outstanding at once; replies go out in the order answers come.
 *
 * What the kernel gets:
 *   - a valid request: dmlogd's answer (result or negative errno), never one the bridge made up;
 *   - a request with a whole header but invalid content (the codec says "replyable"): -EINVAL
 *     with data_size 0, and a warning in the log;
 *   - a datagram whose framing cannot be trusted: nothing (dropped, with a warning); connector
 *     traffic of another id: nothing (ignored silently);
 *   - no dmlogd answering: under RELAY_POLICY_WAIT nothing at all: the library keeps trying every
 *     configured server, the kernel waits (and resends after its 15 s timeout, a harmless
 *     duplicate); a request unanswered after expire_after_ms is given up without a reply, since
 *     the kernel has by then resent it under a new seq. Under RELAY_POLICY_FAIL, -EIO after
 *     fail_after_ms. The bridge never answers clean or in sync on its own.
 * IN_SYNC and GET_SYNC_COUNT are answered without a round trip when the replica (replica.h)
 * holds a current copy of the instance, and GET_RESYNC_WORK too when that copy has no region
 * out of sync ("no work"); such an answer is dmlogd's too (its copy, provably as new as every
 * change dmlogd acknowledged). Every other request, and these without such a copy, goes to
 * dmlogd.
 * A reply the kernel would refuse (a CTR device name longer than 127 bytes, a status text over
 * 255) becomes -EMSGSIZE; the reconnect-loop CTR, which has no reply buffer, always gets
 * data_size 0 (the codec sees to both).
 *
 * Bounds: at most max_outstanding requests wait for dmlogd; at that point the relay stops reading
 * the transport until one is answered (the kernel's own queue and the socket buffer hold the
 * rest). A keepalive ping every keepalive_ms holds the node's lease on dmlogd (a node silent for
 * dmlogd's node_lease loses its marks) and keeps the connection warm.
 *
 * Threads: everything runs on the event_base given to relay_new(). Ownership: relay_new()
 * borrows base and transport (both must outlive the relay) and copies the options.
 */
#ifndef DMLOG_BRIDGE_RELAY_H
#define DMLOG_BRIDGE_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dmlog/dmlog.h>

#include "ulog_codec.h"

struct event_base;
struct transport;
struct relay;

#define RELAY_OUTSTANDING_MAX 65536

/* What the kernel is told when no dmlogd answers. */
enum relay_policy {
	RELAY_POLICY_WAIT = 0, /* nothing: let the kernel wait and resend */
	RELAY_POLICY_FAIL = 1, /* -EIO after fail_after_ms */
};

/* Options of a relay. Zero fields take their defaults. */
struct relay_options {
	/* libdmlog's options: servers, TLS files (the node certificate), verify_name, connect
	 * timeout, reconnect backoff. request_timeout_ms and max_in_flight are ignored: the relay
	 * sets them from the policy and max_outstanding. max_redirects 0 means 10000: during an
	 * election every round of "the leader is (still) X" is a redirect, and the request's
	 * deadline bounds the wait anyway. */
	struct dmlog_options client;
	enum relay_policy policy;
	uint32_t fail_after_ms;    /* RELAY_POLICY_FAIL; default 10000 */
	uint32_t expire_after_ms;  /* RELAY_POLICY_WAIT; default 20000 */
	uint32_t max_outstanding;  /* 1..RELAY_OUTSTANDING_MAX; default 4096 */
	uint32_t keepalive_ms;     /* ping period; default 2000; UINT32_MAX: no pings */
	/* Local reads (replica.h): IN_SYNC, GET_SYNC_COUNT and GET_RESYNC_WORK's "no work"
	 * answered from a copy fed by dmlogd while it is provably current. On unless
	 * no_local_reads. */
	bool no_local_reads;
	uint32_t lease_margin_ms;  /* taken off each feed lease; 0: 50 + lease/20 */
	uint32_t copy_retry_ms;    /* a failed or ended copy is retried after; 0: 1000 */
	/* Suspend and resume the mirror of an instance dmlogd had lost, once the kernel's
	 * reconnect loop resumed it, so that it resyncs what the loss took out of sync
	 * (dm_refresh.h). Only meaningful with the real kernel (netlink transport). */
	bool refresh_after_loss;
	/* Answer a CLEAR_REGION at once when a leased copy proves it valid (its instance resumed,
	 * its regions in range) and send it to dmlogd behind the answer (relay_local.c). */
	bool early_clear_ack;
};

struct relay_stats {
	uint64_t requests;                          /* valid requests handled (relayed or local) */
	uint64_t by_type[ULOG_CODEC_TYPE_MAX + 1];  /* of those, per request type */
	uint64_t answered;                          /* replies carrying dmlogd's answer (from
						     * dmlogd or from its copy) */
	uint64_t local_in_sync;                     /* IN_SYNC answered from a copy */
	uint64_t remote_in_sync;                    /* IN_SYNC relayed to dmlogd */
	uint64_t local_resync_work;                 /* GET_RESYNC_WORK answered "no work" from
						     * a copy */
	uint64_t local_sync_count;                  /* GET_SYNC_COUNT answered from a copy */
	uint64_t local_flush;                       /* FLUSH without marks answered from a copy */
	uint64_t early_clears;                      /* CLEAR_REGION answered before dmlogd had it */
	uint64_t early_clear_errors;                /* of those, refused by dmlogd or not sent */
	uint64_t server_errors;                     /* of those, negative errnos from dmlogd */
	uint64_t refreshes;                         /* mirror refreshes started after a loss */
	uint64_t rejected;                          /* answered -EINVAL by the bridge */
	uint64_t dropped;                           /* datagrams dropped without a reply */
	uint64_t foreign;                           /* other connector traffic, ignored */
	uint64_t failed;                            /* RELAY_POLICY_FAIL: answered -EIO */
	uint64_t expired;                           /* RELAY_POLICY_WAIT: given up, no reply */
	uint64_t unsent;                            /* replies the transport did not take */
	uint32_t outstanding;                       /* requests waiting for dmlogd now */
	uint32_t outstanding_peak;
	uint32_t pauses;                            /* times reading stopped at the limit */
	bool connected;                             /* the library holds a ready connection */
	uint32_t copies;                            /* complete IN_SYNC copies held now */
	bool leased;                                /* their lease runs now */
};

/* Time from a datagram's arrival to its reply having been sent, for IN_SYNCs answered
 * locally: how many, and nanosecond quantiles (100 ns resolution; 0 when none). */
struct relay_local_latency {
	uint64_t count;
	uint64_t p50_ns, p90_ns, p99_ns, max_ns;
};

/* Creates a relay reading from t (transport_start() is called here) and relaying to the
 * servers of o. A first keepalive ping goes out at once, opening the connection. Returns NULL
 * with the reason in err on bad options, unreadable certificates or out of memory. */
struct relay *relay_new(struct event_base *base, struct transport *t, const struct relay_options *o,
			char *err, size_t errlen);

/* Stopping, before relay_free(): stops reading the kernel and runs base's loop until every
 * CLEAR answered early (the kernel counts it done, but dmlogd has not confirmed it) got
 * dmlogd's answer, or timeout_ms passed, or the loop is broken (a second stop signal). A clear
 * lost here would leave its region dirty: a needless resync, never a wrong "clean". Returns at
 * once when there is none. Other requests still outstanding may be answered meanwhile. */
void relay_drain(struct relay *r, unsigned timeout_ms);

/* Stops reading, drops every outstanding request without a reply (the kernel resends them
 * after its timeout, to whichever bridge is there then) and releases the relay. libdmlog
 * releases its TLS connection through callbacks it queues on base: run the loop once more
 * (event_base_loop(base, EVLOOP_NONBLOCK)) before freeing base. Not from inside a callback
 * of the relay's. NULL is a no-op. */
void relay_free(struct relay *r);

/* Applies new options (a SIGHUP reload): a new library handle is made from o; if that fails
 * the relay keeps the old one and returns the error. Requests already submitted finish on the
 * old handle, which is released once they are done; new requests use the new one.
 * max_outstanding keeps its value. 0, or a negative errno with err. */
int relay_reconfigure(struct relay *r, const struct relay_options *o, char *err, size_t errlen);

void relay_get_stats(const struct relay *r, struct relay_stats *out);

void relay_get_local_latency(const struct relay *r, struct relay_local_latency *out);

struct replica_stats;
/* The replica's counters (all zero with no_local_reads). */
void relay_get_replica_stats(const struct relay *r, struct replica_stats *out);

/* Logs the counters and the state of the connection (SIGUSR1), among them one line
 * "state dump: local_reads local=N remote=N ... local_resync_work=N local_sync_count=N
 * local_flush=N" with the replica's counters and the local IN_SYNC answer's latency. */
void relay_dump(const struct relay *r);

#endif /* DMLOG_BRIDGE_RELAY_H */
