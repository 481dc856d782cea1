/* fake_kernel.h: a stand-in for the kernel's dm-log-userspace side, for testing dmlog-bridge.
 *
 * A fake kernel sends request datagrams byte for byte as the kernel builds them (nlmsghdr +
 * cn_msg + dm_ulog_request + payload, one global seq counter) over a bridge's test transport
 * (dgram:PATH, or one end of a socketpair), and reads the replies the way the kernel matches
 * them (reference §1.5): by dm_ulog_request.seq, or by cn_msg.seq for a bare ACK, taking
 * data_size bytes of data, refusing more than the request's reply capacity with -ENOSPC.
 *
 * Three levels:
 *   - raw: send any bytes (golden captures, deliberately broken datagrams), receive any reply;
 *   - requests: build and send a request, wait for the reply to a given seq (replies to other
 *     seqs are kept aside, so many requests can be outstanding at once);
 *   - the kernel's behaviour around one request (fake_kernel_call()): resend with a new seq
 *     after resend_ms without a reply (the kernel's 15 s timeout), and when the bridge is gone
 *     (the stand-in for the kernel's -ESRCH), the reconnect loop: every reconnect_ms a CTR of
 *     the log with its NUL counted until one succeeds, then RESUME, then the request again.
 *
 * Every wait is bounded. Single-threaded: one thread uses a fake kernel at a time. Ownership:
 * fake_kernel_new() returns an owned object (takes the fd it is given); fake_kernel_free(NULL)
 * is a no-op; replies are copied into the caller's struct.
 */
#ifndef DMLOG_TESTS_FAKE_KERNEL_H
#define DMLOG_TESTS_FAKE_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest reply datagram kept whole (a bridge's largest is 36 + 160 + 256). */
#define FAKE_KERNEL_RAW_MAX 1024
/* Replies kept aside while another seq is awaited. */
#define FAKE_KERNEL_STASH_MAX 2048
/* CTR strings remembered for the reconnect loop. */
#define FAKE_KERNEL_LOGS_MAX 64

struct fake_kernel_options {
	const char *path;        /* connect to a bridge's dgram:PATH (SOCK_SEQPACKET); or NULL */
	int fd;                  /* path NULL: a connected datagram socket, owned from now on */
	uint32_t first_seq;      /* the first seq handed out (the kernel starts at 0) */
	unsigned resend_ms;      /* no reply this long: resend (kernel: 15000); default 15000 */
	unsigned reconnect_ms;   /* reconnect loop period (kernel: 2000); default 2000 */
	unsigned deadline_ms;    /* bound of one fake_kernel_call(); default 60000 */
};

/* A request as the kernel sends it. */
struct fake_kernel_req {
	uint32_t type;           /* DM_ULOG_*; written as is (the bridge masks it with 0xFF) */
	const char *uuid;        /* at most 128 characters */
	uint64_t luid;
	uint32_t version;        /* dm_ulog_request.version (0..3) */
	const void *data;        /* payload */
	size_t size;
};

/* A reply as the kernel reads it. */
struct fake_kernel_reply {
	uint32_t seq;            /* what the kernel matches: request seq, or cn_msg.seq if bare */
	bool bare;               /* cn_msg.len == 0: a bare ACK/NACK */
	bool incomplete;         /* 0 < cn_msg.len < 160, or shorter than its headers: ignored */
	int error;               /* dm_ulog_request.error, or -cn_msg.ack for a bare ACK */
	uint32_t data_size;      /* bytes of data, at fake_kernel_data() */
	/* the headers as received */
	uint32_t nl_len, nl_seq, nl_pid;
	uint16_t nl_type, nl_flags;
	uint32_t cn_idx, cn_val, cn_seq, cn_ack;
	uint16_t cn_len, cn_flags;
	uint64_t luid;
	char uuid[129];
	uint32_t version, type;
	/* the whole datagram */
	uint8_t raw[FAKE_KERNEL_RAW_MAX];
	size_t raw_len;
};

/* The reply's data: data_size bytes inside its raw datagram (after the 196 bytes of headers). */
static inline const uint8_t *fake_kernel_data(const struct fake_kernel_reply *r)
{
	return r->raw + 196;
}

struct fake_kernel_counts {
	uint64_t sent;           /* datagrams sent */
	uint64_t replies;        /* datagrams received */
	uint64_t resends;        /* fake_kernel_call(): requests resent after resend_ms */
	uint64_t reconnects;     /* fake_kernel_call(): reconnect loops completed */
	uint64_t stale;          /* replies to seqs no one waited for (dropped like the kernel) */
};

struct fake_kernel;

/* Connects (path) or adopts fd. NULL with the reason in err (256 bytes, may be NULL). */
struct fake_kernel *fake_kernel_new(const struct fake_kernel_options *o, char *err);

/* Closes the socket. NULL is a no-op. */
void fake_kernel_free(struct fake_kernel *fk);

/* Closes the connection and connects to path again (path mode). 0 or -errno. */
int fake_kernel_reconnect(struct fake_kernel *fk);

/* The seq the next fake_kernel_send() hands out. */
uint32_t fake_kernel_next_seq(const struct fake_kernel *fk);

/* Sends bytes as one datagram, waiting (at most 10 s) while the socket is full and keeping the
 * replies that arrive meanwhile. 0, -ECONNRESET (the bridge is gone: the kernel's -ESRCH),
 * -ETIMEDOUT or another -errno. */
int fake_kernel_send_raw(struct fake_kernel *fk, const void *buf, size_t len);

/* Builds req as the kernel does with the given seq and sends it. 0 or as above, -EINVAL for a
 * request the encoder refuses. */
int fake_kernel_send_seq(struct fake_kernel *fk, const struct fake_kernel_req *req, uint32_t seq);

/* fake_kernel_send_seq() with the next seq of the global counter (in *seq, may be NULL). */
int fake_kernel_send(struct fake_kernel *fk, const struct fake_kernel_req *req, uint32_t *seq);

/* The next reply (those kept aside first). 0, -ETIMEDOUT after timeout_ms, -ECONNRESET. */
int fake_kernel_recv(struct fake_kernel *fk, unsigned timeout_ms, struct fake_kernel_reply *out);

/* The reply to seq; replies to other seqs are kept aside. 0, -ETIMEDOUT, -ECONNRESET. */
int fake_kernel_wait(struct fake_kernel *fk, uint32_t seq, unsigned timeout_ms,
		     struct fake_kernel_reply *out);

/* Forgets the replies kept aside (counted as stale). */
void fake_kernel_flush(struct fake_kernel *fk);

/* How many bytes of reply data the kernel's caller accepts for a request (reference §2.0):
 * CTR 128 (0 for the reconnect CTR), GET_REGION_SIZE, IS_CLEAN, IN_SYNC, GET_SYNC_COUNT 8,
 * GET_RESYNC_WORK and IS_REMOTE_RECOVERING 16, STATUS_INFO and STATUS_TABLE 512 (a status
 * buffer), the others 0. */
size_t fake_kernel_capacity(uint32_t type, bool reconnect_ctr);

/* What the kernel's dm_consult_userspace() returns for reply r with the given capacity: the
 * reply's error, -ENOSPC when it carries more data than the capacity. */
int fake_kernel_result(const struct fake_kernel_reply *r, size_t capacity);

/* The kernel's handling of one request (see the top): returns fake_kernel_result() of the
 * accepted reply (copied to out when not NULL), -ESRCH when the RESUME after a reconnect failed
 * or a socketpair peer is gone, -ETIMEDOUT after deadline_ms. A successful CTR's string is
 * remembered for later reconnect loops. */
int fake_kernel_call(struct fake_kernel *fk, const struct fake_kernel_req *req,
		     struct fake_kernel_reply *out);

void fake_kernel_get_counts(const struct fake_kernel *fk, struct fake_kernel_counts *out);

/* Parses a reply datagram the way the kernel reads it (no I/O). */
void fake_kernel_parse_reply(const uint8_t *buf, size_t len, struct fake_kernel_reply *out);

#endif /* DMLOG_TESTS_FAKE_KERNEL_H */
