/* ulog_codec.h: bytes <-> structs for the kernel's dm-log-userspace datagrams.
 *
 * The kernel and the bridge exchange datagrams on the netlink connector: a nlmsghdr (16 bytes),
 * a cn_msg (20 bytes) and a struct dm_ulog_request (160 bytes) followed by data_size bytes of
 * payload, every integer in host byte order (reference §1.2, §1.3). This codec turns a received
 * datagram into a validated, typed request and turns a result back into the reply datagram the
 * kernel accepts, with exactly the reply size each request type can take (reference §2.0). It
 * does no I/O, keeps no state and allocates nothing: the caller owns every buffer, and every
 * function is safe to call from any thread.
 *
 * Error convention: functions return 0 or a negative errno. ulog_codec_parse() also says which
 * check failed (enum ulog_codec_fault) and why (errmsg), and tells the caller whether the
 * request can still be answered (see there).
 */
#ifndef DMLOG_ULOG_CODEC_H
#define DMLOG_ULOG_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ULOG_CODEC_NL_LEN 16              /* struct nlmsghdr */
#define ULOG_CODEC_CN_LEN 20              /* struct cn_msg without its data */
#define ULOG_CODEC_HDR_LEN 36             /* nlmsghdr + cn_msg: where the request starts */
#define ULOG_CODEC_REQ_LEN 160            /* struct dm_ulog_request without its payload */
#define ULOG_CODEC_UUID_LEN 129           /* DM_UUID_LEN: at most 128 characters + NUL */
#define ULOG_CODEC_TYPE_MAX 17            /* DM_ULOG_IS_REMOTE_RECOVERING */
#define ULOG_CODEC_REGIONS_MAX 32         /* regions in one MARK, CLEAR or FLUSH */
#define ULOG_CODEC_CTR_MAX 511            /* CTR argument string, without NUL */
#define ULOG_CODEC_DEV_MAX 128            /* CTR reply device string, with NUL (DM_NAME_LEN) */
#define ULOG_CODEC_TEXT_MAX 256           /* result text, with NUL (= ENGINE_TEXT_MAX) */
#define ULOG_CODEC_ACK_SIZE 36            /* a bare ACK/NACK datagram */
/* The largest reply datagram ulog_codec_encode_reply() writes. */
#define ULOG_CODEC_REPLY_MAX (ULOG_CODEC_HDR_LEN + ULOG_CODEC_REQ_LEN + ULOG_CODEC_TEXT_MAX)

/* Which check of ulog_codec_parse() failed. Each has its own value and name. */
enum ulog_codec_fault {
	ULOG_CODEC_FAULT_NONE = 0,
	ULOG_CODEC_FAULT_SHORT,           /* fewer bytes than nlmsghdr + cn_msg */
	ULOG_CODEC_FAULT_FOREIGN,         /* cn_msg id is not {CN_IDX_DM, CN_VAL_DM_USERSPACE_LOG} */
	ULOG_CODEC_FAULT_NL_TYPE,         /* nlmsg_type is not NLMSG_DONE */
	ULOG_CODEC_FAULT_CN_LEN_SHORT,    /* cn_msg.len < 160: no whole request header */
	ULOG_CODEC_FAULT_TRUNCATED,       /* cn_msg.len runs past the bytes received */
	ULOG_CODEC_FAULT_NL_LEN,          /* nlmsg_len < 36 + cn_msg.len or past the bytes received */
	ULOG_CODEC_FAULT_DATA_SIZE,       /* data_size > cn_msg.len - 160 */
	ULOG_CODEC_FAULT_UUID,            /* uuid has no NUL within its 129 bytes */
	ULOG_CODEC_FAULT_TYPE,            /* request_type & 0xFF is 0 or > 17 */
	ULOG_CODEC_FAULT_PAYLOAD_SIZE,    /* data_size wrong for a fixed-size (or payload-less) type */
	ULOG_CODEC_FAULT_REGIONS_ALIGN,   /* region list not a multiple of 8 bytes */
	ULOG_CODEC_FAULT_REGIONS_COUNT,   /* MARK/CLEAR with 0 or > 32 regions, FLUSH with > 32 */
	ULOG_CODEC_FAULT_CTR_EMPTY,       /* CTR with no argument string */
	ULOG_CODEC_FAULT_CTR_LONG,        /* CTR string longer than ULOG_CODEC_CTR_MAX */
	ULOG_CODEC_FAULT_CTR_NUL,         /* CTR string with a NUL before its last byte */
	ULOG_CODEC_FAULT_IN_SYNC_VALUE,   /* SET_REGION_SYNC in_sync neither 0 nor 1 */
};

/* The dm_ulog_request header fields. uuid is always NUL-terminated. */
struct ulog_codec_hdr {
	uint64_t luid;
	char uuid[ULOG_CODEC_UUID_LEN];
	uint32_t version;
	int32_t error;
	uint32_t seq;
	uint32_t type;                    /* parse: request_type & 0xFF; encode: written as is */
	uint32_t data_size;
};

/* A parsed kernel->user datagram. Filled by ulog_codec_parse(); zero-initialised first, so
 * fields a failed parse did not reach are zero. */
struct ulog_codec_req {
	/* nlmsghdr */
	uint32_t nl_len;
	uint16_t nl_type;
	uint16_t nl_flags;
	uint32_t nl_seq;
	uint32_t nl_pid;
	/* cn_msg */
	uint32_t cn_idx;
	uint32_t cn_val;
	uint32_t cn_seq;
	uint32_t cn_ack;
	uint16_t cn_len;
	uint16_t cn_flags;
	/* dm_ulog_request */
	struct ulog_codec_hdr hdr;
	const uint8_t *data;              /* the payload, borrowed from the parsed buffer */
	size_t data_len;                  /* = hdr.data_size */
	/* typed payload, by hdr.type */
	char ctr[ULOG_CODEC_CTR_MAX + 1]; /* CTR: the argument string, NUL-terminated */
	size_t ctr_len;                   /* CTR: strlen(ctr) */
	bool reconnect;                   /* CTR: data_size counted a trailing NUL (reconnect loop) */
	uint32_t nregions;                /* MARK, CLEAR, FLUSH (0 for a plain FLUSH) */
	uint64_t regions[ULOG_CODEC_REGIONS_MAX];
	uint64_t region;                  /* IS_CLEAN, IN_SYNC, IS_REMOTE_RECOVERING, SET_REGION_SYNC */
	bool in_sync;                     /* SET_REGION_SYNC */
	/* outcome */
	bool replyable;                   /* the header (seq above all) is valid: answer the kernel */
	enum ulog_codec_fault fault;
	char errmsg[128];                 /* "" on success */
};

/* A result to send back. Mirrors the engine's result but is the codec's own type. */
struct ulog_codec_res {
	int error;                        /* 0 or a negative errno */
	bool flag;                        /* IS_CLEAN, IN_SYNC, GET_RESYNC_WORK, IS_REMOTE_RECOVERING */
	uint64_t value;                   /* GET_REGION_SIZE, GET_SYNC_COUNT, resync region, hint */
	char text[ULOG_CODEC_TEXT_MAX];   /* CTR device, STATUS_INFO, STATUS_TABLE; NUL-terminated */
};

/* The size of type's fixed result (8 or 16 bytes), or 0 for a type with no result or a
 * variable one (CTR, STATUS_INFO, STATUS_TABLE). Error replies carry this many zero bytes. */
size_t ulog_codec_result_size(uint32_t type);

/* Parses and validates one datagram of len bytes (the kernel's nlmsg_len, or that rounded up
 * to 4 as recv() returns it) into *req. Never reads outside buf[0, len); req->data points into
 * buf. Returns:
 *   0         a valid request;
 *   -ENOMSG   connector traffic of another id: not for us, ignore it silently;
 *   -EBADMSG  broken framing (short, wrong nlmsg_type, lengths that disagree): nothing in it
 *             can be trusted, req->replyable is false, drop it;
 *   -EINVAL   a whole header with an invalid request (length, type, uuid, payload):
 *             req->replyable is true and the caller should answer hdr.seq with -EINVAL.
 * On failure req->fault and req->errmsg say what was wrong. */
int ulog_codec_parse(const void *buf, size_t len, struct ulog_codec_req *req);

/* Encodes the reply to req (a successfully parsed request, or one with req->replyable) into
 * buf[0, cap) and sets *len to the datagram's size. nlmsghdr: len = NLMSG_LENGTH(20 +
 * cn_msg.len), type NLMSG_DONE, flags 0, seq 0, pid = nl_pid; cn_msg: {7, 1}, seq = request
 * seq, ack 0, len = 160 + data_size; the request header echoed with error and data_size set.
 * On success the payload has exactly the size the kernel expects for the type: CTR the device
 * text with its NUL, or nothing when the text is empty, the request is the reconnect flavour
 * (no reply buffer) or version < 2; GET_REGION_SIZE, GET_SYNC_COUNT u64 value; IS_CLEAN,
 * IN_SYNC s64 flag; GET_RESYNC_WORK, IS_REMOTE_RECOVERING {s64 flag; u64 value};
 * STATUS_INFO, STATUS_TABLE the text with its NUL; nothing for the others. With res->error
 * != 0 the payload is ulog_codec_result_size(type) zero bytes (the kernel keeps data_size as
 * the capacity of the request's resend). Returns 0, -EINVAL (res->error not 0 or a negative errno, text
 * not NUL-terminated, hdr.uuid not terminated), -EMSGSIZE (CTR device longer than 127),
 * -ENOSPC (cap too small; ULOG_CODEC_REPLY_MAX always suffices). */
int ulog_codec_encode_reply(const struct ulog_codec_req *req, const struct ulog_codec_res *res,
			    uint32_t nl_pid, uint8_t *buf, size_t cap, size_t *len);

/* Encodes a bare ACK (error 0) or NACK (error < 0, e.g. -EAGAIN to make the kernel resend):
 * cn_msg.len 0, cn_msg.seq = seq, cn_msg.ack = -error; ULOG_CODEC_ACK_SIZE bytes. Returns 0,
 * -EINVAL (error positive or below -4095), -ENOSPC. */
int ulog_codec_encode_ack(uint32_t seq, int error, uint32_t nl_pid, uint8_t *buf, size_t cap,
			  size_t *len);

/* Encodes a kernel->user request as the kernel builds it (used by the fake kernel and tests):
 * nlmsghdr {len 36 + 160 + size (not rounded), NLMSG_DONE, 0, hdr->seq, pid 0}, cn_msg {7, 1,
 * hdr->seq, 0, 160 + size, 0}, then hdr with data_size = size (hdr->data_size is ignored) and
 * hdr->type written unmasked, then size bytes of data. *len = nlmsg_len: the kernel's zero
 * padding to 4 is not added. Returns 0, -EINVAL (uuid not terminated within 129 bytes),
 * -EMSGSIZE (160 + size does not fit cn_msg.len), -ENOSPC. */
int ulog_codec_encode_request(const struct ulog_codec_hdr *hdr, const void *data, size_t size,
			      uint8_t *buf, size_t cap, size_t *len);

/* "CTR", "MARK_REGION", ...; "UNKNOWN" outside 1..17. Static strings. */
const char *ulog_codec_type_name(uint32_t type);

/* "none", "short", "foreign", ...: a short stable name per fault. Static strings. */
const char *ulog_codec_fault_name(enum ulog_codec_fault fault);

#endif /* DMLOG_ULOG_CODEC_H */
