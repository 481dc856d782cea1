/* ulog_codec.c: parse kernel dm-log-userspace datagrams and encode the replies.
 *
 * Every field is copied with memcpy at an explicit offset: inside a datagram the request starts
 * at byte 36, so its u64 fields are not 8-byte aligned. The offsets are checked at compile time
 * against the installed UAPI headers. Integers stay in host byte order, as on the wire (the
 * kernel and the bridge share the host). Pure functions, no state, no allocation.
 */
#include "ulog_codec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/connector.h>
#include <linux/dm-log-userspace.h>
#include <linux/netlink.h>

/* nlmsghdr, at 0 */
#define NL_OFF_LEN 0
#define NL_OFF_TYPE 4
#define NL_OFF_FLAGS 6
#define NL_OFF_SEQ 8
#define NL_OFF_PID 12
/* cn_msg, at 16 */
#define CN_OFF_IDX 16
#define CN_OFF_VAL 20
#define CN_OFF_SEQ 24
#define CN_OFF_ACK 28
#define CN_OFF_LEN 32
#define CN_OFF_FLAGS 34
/* dm_ulog_request, at 36; offsets relative to its start */
#define RQ_OFF_LUID 0
#define RQ_OFF_UUID 8
#define RQ_OFF_VERSION 140
#define RQ_OFF_ERROR 144
#define RQ_OFF_SEQ 148
#define RQ_OFF_TYPE 152
#define RQ_OFF_DATA_SIZE 156

_Static_assert(sizeof(struct nlmsghdr) == ULOG_CODEC_NL_LEN, "nlmsghdr is 16 bytes");
_Static_assert(NLMSG_HDRLEN == ULOG_CODEC_NL_LEN, "no padding after nlmsghdr");
_Static_assert(sizeof(struct cn_msg) == ULOG_CODEC_CN_LEN, "cn_msg is 20 bytes");
_Static_assert(sizeof(struct dm_ulog_request) == ULOG_CODEC_REQ_LEN, "dm_ulog_request size");
_Static_assert(ULOG_CODEC_HDR_LEN == ULOG_CODEC_NL_LEN + ULOG_CODEC_CN_LEN, "request offset");
_Static_assert(DM_UUID_LEN == ULOG_CODEC_UUID_LEN, "DM_UUID_LEN");
_Static_assert(DM_NAME_LEN == ULOG_CODEC_DEV_MAX, "DM_NAME_LEN");
_Static_assert(DM_ULOG_IS_REMOTE_RECOVERING == ULOG_CODEC_TYPE_MAX, "last request type");
_Static_assert(offsetof(struct nlmsghdr, nlmsg_pid) == NL_OFF_PID, "nlmsg_pid offset");
_Static_assert(offsetof(struct cn_msg, len) == CN_OFF_LEN - ULOG_CODEC_NL_LEN, "cn_msg.len offset");
_Static_assert(offsetof(struct cn_msg, flags) == CN_OFF_FLAGS - ULOG_CODEC_NL_LEN, "cn_msg.flags");
_Static_assert(offsetof(struct dm_ulog_request, uuid) == RQ_OFF_UUID, "uuid offset");
_Static_assert(offsetof(struct dm_ulog_request, version) == RQ_OFF_VERSION, "version offset");
_Static_assert(offsetof(struct dm_ulog_request, error) == RQ_OFF_ERROR, "error offset");
_Static_assert(offsetof(struct dm_ulog_request, seq) == RQ_OFF_SEQ, "seq offset");
_Static_assert(offsetof(struct dm_ulog_request, request_type) == RQ_OFF_TYPE, "type offset");
_Static_assert(offsetof(struct dm_ulog_request, data_size) == RQ_OFF_DATA_SIZE, "data_size");
_Static_assert(offsetof(struct dm_ulog_request, data) == ULOG_CODEC_REQ_LEN, "payload offset");
_Static_assert(ULOG_CODEC_REGIONS_MAX * 8 + ULOG_CODEC_REQ_LEN < UINT16_MAX, "cn_msg.len fits");

#define ERRNO_MAX 4095 /* the largest errno the kernel's error convention allows */

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static const char *const type_names[ULOG_CODEC_TYPE_MAX + 1] = {
	[DM_ULOG_CTR] = "CTR",
	[DM_ULOG_DTR] = "DTR",
	[DM_ULOG_PRESUSPEND] = "PRESUSPEND",
	[DM_ULOG_POSTSUSPEND] = "POSTSUSPEND",
	[DM_ULOG_RESUME] = "RESUME",
	[DM_ULOG_GET_REGION_SIZE] = "GET_REGION_SIZE",
	[DM_ULOG_IS_CLEAN] = "IS_CLEAN",
	[DM_ULOG_IN_SYNC] = "IN_SYNC",
	[DM_ULOG_FLUSH] = "FLUSH",
	[DM_ULOG_MARK_REGION] = "MARK_REGION",
	[DM_ULOG_CLEAR_REGION] = "CLEAR_REGION",
	[DM_ULOG_GET_RESYNC_WORK] = "GET_RESYNC_WORK",
	[DM_ULOG_SET_REGION_SYNC] = "SET_REGION_SYNC",
	[DM_ULOG_GET_SYNC_COUNT] = "GET_SYNC_COUNT",
	[DM_ULOG_STATUS_INFO] = "STATUS_INFO",
	[DM_ULOG_STATUS_TABLE] = "STATUS_TABLE",
	[DM_ULOG_IS_REMOTE_RECOVERING] = "IS_REMOTE_RECOVERING",
};

const char *ulog_codec_type_name(uint32_t type)
{
	if (type == 0 || type > ULOG_CODEC_TYPE_MAX)
		return "UNKNOWN";
	return type_names[type];
}

const char *ulog_codec_fault_name(enum ulog_codec_fault fault)
{
	switch (fault) {
	case ULOG_CODEC_FAULT_NONE: return "none";
	case ULOG_CODEC_FAULT_SHORT: return "short";
	case ULOG_CODEC_FAULT_FOREIGN: return "foreign";
	case ULOG_CODEC_FAULT_NL_TYPE: return "nl_type";
	case ULOG_CODEC_FAULT_CN_LEN_SHORT: return "cn_len_short";
	case ULOG_CODEC_FAULT_TRUNCATED: return "truncated";
	case ULOG_CODEC_FAULT_NL_LEN: return "nl_len";
	case ULOG_CODEC_FAULT_DATA_SIZE: return "data_size";
	case ULOG_CODEC_FAULT_UUID: return "uuid";
	case ULOG_CODEC_FAULT_TYPE: return "type";
	case ULOG_CODEC_FAULT_PAYLOAD_SIZE: return "payload_size";
	case ULOG_CODEC_FAULT_REGIONS_ALIGN: return "regions_align";
	case ULOG_CODEC_FAULT_REGIONS_COUNT: return "regions_count";
	case ULOG_CODEC_FAULT_CTR_EMPTY: return "ctr_empty";
	case ULOG_CODEC_FAULT_CTR_LONG: return "ctr_long";
	case ULOG_CODEC_FAULT_CTR_NUL: return "ctr_nul";
	case ULOG_CODEC_FAULT_IN_SYNC_VALUE: return "in_sync_value";
	}
	return "unknown";
}

/* Records a failed check and returns err. */
__attribute__((format(printf, 4, 5)))
static int fail(struct ulog_codec_req *req, int err, enum ulog_codec_fault fault,
		const char *fmt, ...)
{
	va_list ap;

	req->fault = fault;
	va_start(ap, fmt);
	vsnprintf(req->errmsg, sizeof(req->errmsg), fmt, ap);
	va_end(ap);
	return err;
}

/* CTR: the argument string, with or without a counted trailing NUL (reference §1.6, §2.1). */
static int parse_ctr(struct ulog_codec_req *req)
{
	size_t n = req->data_len;

	if (n > 0 && req->data[n - 1] == '\0') {
		req->reconnect = true;
		n--;
	}
	if (n == 0)
		return fail(req, -EINVAL, ULOG_CODEC_FAULT_CTR_EMPTY, "CTR: empty argument string");
	if (n > ULOG_CODEC_CTR_MAX)
		return fail(req, -EINVAL, ULOG_CODEC_FAULT_CTR_LONG,
			    "CTR: argument string of %zu bytes, at most %d", n, ULOG_CODEC_CTR_MAX);
	if (memchr(req->data, '\0', n) != NULL)
		return fail(req, -EINVAL, ULOG_CODEC_FAULT_CTR_NUL,
			    "CTR: NUL inside the argument string");
	memcpy(req->ctr, req->data, n);
	req->ctr[n] = '\0';
	req->ctr_len = n;
	return 0;
}

/* MARK_REGION, CLEAR_REGION (1..32 regions) and FLUSH (0..32 integrated marks). */
static int parse_regions(struct ulog_codec_req *req, uint32_t min)
{
	const char *name = ulog_codec_type_name(req->hdr.type);
	size_t n = req->data_len / 8;

	if (req->data_len % 8 != 0)
		return fail(req, -EINVAL, ULOG_CODEC_FAULT_REGIONS_ALIGN,
			    "%s: data_size %zu is not a multiple of 8", name, req->data_len);
	if (n < min || n > ULOG_CODEC_REGIONS_MAX)
		return fail(req, -EINVAL, ULOG_CODEC_FAULT_REGIONS_COUNT,
			    "%s: %zu regions, expected %u to %d", name, n, min,
			    ULOG_CODEC_REGIONS_MAX);
	for (size_t i = 0; i < n; i++)
		req->regions[i] = get64(req->data + 8 * i);
	req->nregions = (uint32_t)n;
	return 0;
}

/* Types whose payload has one fixed size (0 for the types without payload). */
static int check_size(struct ulog_codec_req *req, size_t want)
{
	if (req->data_len != want)
		return fail(req, -EINVAL, ULOG_CODEC_FAULT_PAYLOAD_SIZE, "%s: data_size %zu, expected %zu",
			    ulog_codec_type_name(req->hdr.type), req->data_len, want);
	return 0;
}

static int parse_payload(struct ulog_codec_req *req)
{
	int err;

	switch (req->hdr.type) {
	case DM_ULOG_CTR:
		return parse_ctr(req);
	case DM_ULOG_MARK_REGION:
	case DM_ULOG_CLEAR_REGION:
		return parse_regions(req, 1);
	case DM_ULOG_FLUSH:
		return parse_regions(req, 0);
	case DM_ULOG_IS_CLEAN:
	case DM_ULOG_IN_SYNC:
	case DM_ULOG_IS_REMOTE_RECOVERING:
		err = check_size(req, 8);
		if (err == 0)
			req->region = get64(req->data);
		return err;
	case DM_ULOG_SET_REGION_SYNC: {
		uint64_t in_sync;

		err = check_size(req, 16);
		if (err != 0)
			return err;
		req->region = get64(req->data);
		in_sync = get64(req->data + 8);
		if (in_sync > 1)
			return fail(req, -EINVAL, ULOG_CODEC_FAULT_IN_SYNC_VALUE,
				    "SET_REGION_SYNC: in_sync %lld is neither 0 nor 1",
				    (long long)in_sync);
		req->in_sync = in_sync == 1;
		return 0;
	}
	default:
		return check_size(req, 0);
	}
}

int ulog_codec_parse(const void *buf, size_t len, struct ulog_codec_req *req)
{
	const uint8_t *p = buf;
	const uint8_t *rq, *uuid;
	uint32_t raw_type;

	memset(req, 0, sizeof(*req));
	if (len < ULOG_CODEC_HDR_LEN)
		return fail(req, -EBADMSG, ULOG_CODEC_FAULT_SHORT,
			    "datagram of %zu bytes, shorter than the %d-byte headers", len,
			    ULOG_CODEC_HDR_LEN);

	req->nl_len = get32(p + NL_OFF_LEN);
	req->nl_type = get16(p + NL_OFF_TYPE);
	req->nl_flags = get16(p + NL_OFF_FLAGS);
	req->nl_seq = get32(p + NL_OFF_SEQ);
	req->nl_pid = get32(p + NL_OFF_PID);
	req->cn_idx = get32(p + CN_OFF_IDX);
	req->cn_val = get32(p + CN_OFF_VAL);
	req->cn_seq = get32(p + CN_OFF_SEQ);
	req->cn_ack = get32(p + CN_OFF_ACK);
	req->cn_len = get16(p + CN_OFF_LEN);
	req->cn_flags = get16(p + CN_OFF_FLAGS);

	if (req->cn_idx != CN_IDX_DM || req->cn_val != CN_VAL_DM_USERSPACE_LOG)
		return fail(req, -ENOMSG, ULOG_CODEC_FAULT_FOREIGN, "connector id {%u,%u} is not {%d,%d}",
			    req->cn_idx, req->cn_val, CN_IDX_DM, CN_VAL_DM_USERSPACE_LOG);
	if (req->nl_type != NLMSG_DONE)
		return fail(req, -EBADMSG, ULOG_CODEC_FAULT_NL_TYPE, "nlmsg_type %u is not NLMSG_DONE",
			    req->nl_type);
	if (req->cn_len < ULOG_CODEC_REQ_LEN)
		return fail(req, -EBADMSG, ULOG_CODEC_FAULT_CN_LEN_SHORT,
			    "cn_msg.len %u is shorter than a request header (%d)", req->cn_len,
			    ULOG_CODEC_REQ_LEN);
	if ((size_t)req->cn_len > len - ULOG_CODEC_HDR_LEN)
		return fail(req, -EBADMSG, ULOG_CODEC_FAULT_TRUNCATED,
			    "cn_msg.len %u but only %zu bytes received after the headers",
			    req->cn_len, len - ULOG_CODEC_HDR_LEN);
	if (req->nl_len < ULOG_CODEC_HDR_LEN + (uint32_t)req->cn_len || req->nl_len > len)
		return fail(req, -EBADMSG, ULOG_CODEC_FAULT_NL_LEN,
			    "nlmsg_len %u disagrees with cn_msg.len %u and %zu bytes received",
			    req->nl_len, req->cn_len, len);

	/* From here on the whole header is present: the kernel can be answered. */
	req->replyable = true;
	rq = p + ULOG_CODEC_HDR_LEN;
	req->hdr.luid = get64(rq + RQ_OFF_LUID);
	uuid = rq + RQ_OFF_UUID;
	memcpy(req->hdr.uuid, uuid, ULOG_CODEC_UUID_LEN - 1);
	req->hdr.uuid[ULOG_CODEC_UUID_LEN - 1] = '\0';
	req->hdr.version = get32(rq + RQ_OFF_VERSION);
	req->hdr.error = (int32_t)get32(rq + RQ_OFF_ERROR);
	req->hdr.seq = get32(rq + RQ_OFF_SEQ);
	raw_type = get32(rq + RQ_OFF_TYPE);
	req->hdr.type = raw_type & DM_ULOG_REQUEST_MASK;
	req->hdr.data_size = get32(rq + RQ_OFF_DATA_SIZE);

	if (req->hdr.data_size > (uint32_t)req->cn_len - ULOG_CODEC_REQ_LEN)
		return fail(req, -EINVAL, ULOG_CODEC_FAULT_DATA_SIZE,
			    "data_size %u exceeds cn_msg.len %u - %d", req->hdr.data_size,
			    req->cn_len, ULOG_CODEC_REQ_LEN);
	req->data = rq + ULOG_CODEC_REQ_LEN;
	req->data_len = req->hdr.data_size;
	if (memchr(uuid, '\0', ULOG_CODEC_UUID_LEN) == NULL)
		return fail(req, -EINVAL, ULOG_CODEC_FAULT_UUID,
			    "uuid is not NUL-terminated within %d bytes", ULOG_CODEC_UUID_LEN);
	if (req->hdr.type == 0 || req->hdr.type > ULOG_CODEC_TYPE_MAX)
		return fail(req, -EINVAL, ULOG_CODEC_FAULT_TYPE, "unknown request type %u (raw 0x%x)",
			    req->hdr.type, raw_type);
	return parse_payload(req);
}

size_t ulog_codec_result_size(uint32_t type)
{
	switch (type) {
	case DM_ULOG_GET_REGION_SIZE:
	case DM_ULOG_GET_SYNC_COUNT:
	case DM_ULOG_IS_CLEAN:
	case DM_ULOG_IN_SYNC:
		return 8;
	case DM_ULOG_GET_RESYNC_WORK:
	case DM_ULOG_IS_REMOTE_RECOVERING:
		return 16;
	default:
		return 0;
	}
}

/* The result payload of a successful reply: its size in *size, its bytes in out. */
static int reply_payload(const struct ulog_codec_req *req, const struct ulog_codec_res *res,
			 uint8_t *out, size_t *size)
{
	size_t tlen;

	*size = 0;
	switch (req->hdr.type) {
	case DM_ULOG_CTR:
	case DM_ULOG_STATUS_INFO:
	case DM_ULOG_STATUS_TABLE:
		if (memchr(res->text, '\0', sizeof(res->text)) == NULL)
			return -EINVAL;
		tlen = strlen(res->text);
		if (req->hdr.type == DM_ULOG_CTR) {
			/* The reconnect CTR and pre-v2 kernels have no reply buffer. */
			if (tlen == 0 || req->reconnect || req->hdr.version < 2)
				return 0;
			if (tlen + 1 > ULOG_CODEC_DEV_MAX)
				return -EMSGSIZE;
		}
		memcpy(out, res->text, tlen + 1);
		*size = tlen + 1;
		return 0;
	case DM_ULOG_GET_REGION_SIZE:
	case DM_ULOG_GET_SYNC_COUNT:
		put64(out, res->value);
		break;
	case DM_ULOG_IS_CLEAN:
	case DM_ULOG_IN_SYNC:
		put64(out, res->flag ? 1 : 0);
		break;
	case DM_ULOG_GET_RESYNC_WORK:
	case DM_ULOG_IS_REMOTE_RECOVERING:
		put64(out, res->flag ? 1 : 0);
		put64(out + 8, res->value);
		break;
	default:
		break;
	}
	*size = ulog_codec_result_size(req->hdr.type);
	return 0;
}

static void put_nl_cn(uint8_t *p, uint32_t nl_seq, uint32_t nl_pid, uint32_t cn_seq,
		      uint32_t cn_ack, uint16_t cn_len)
{
	put32(p + NL_OFF_LEN, (uint32_t)NLMSG_LENGTH(ULOG_CODEC_CN_LEN + (size_t)cn_len));
	put16(p + NL_OFF_TYPE, NLMSG_DONE);
	put16(p + NL_OFF_FLAGS, 0);
	put32(p + NL_OFF_SEQ, nl_seq);
	put32(p + NL_OFF_PID, nl_pid);
	put32(p + CN_OFF_IDX, CN_IDX_DM);
	put32(p + CN_OFF_VAL, CN_VAL_DM_USERSPACE_LOG);
	put32(p + CN_OFF_SEQ, cn_seq);
	put32(p + CN_OFF_ACK, cn_ack);
	put16(p + CN_OFF_LEN, cn_len);
	put16(p + CN_OFF_FLAGS, 0);
}

/* Writes the 160-byte request header (uuid zero-padded, padding zeroed) at rq. */
static void put_hdr(uint8_t *rq, const struct ulog_codec_hdr *hdr, int32_t error,
		    uint32_t data_size)
{
	memset(rq, 0, ULOG_CODEC_REQ_LEN);
	put64(rq + RQ_OFF_LUID, hdr->luid);
	memcpy(rq + RQ_OFF_UUID, hdr->uuid, strlen(hdr->uuid));
	put32(rq + RQ_OFF_VERSION, hdr->version);
	put32(rq + RQ_OFF_ERROR, (uint32_t)error);
	put32(rq + RQ_OFF_SEQ, hdr->seq);
	put32(rq + RQ_OFF_TYPE, hdr->type);
	put32(rq + RQ_OFF_DATA_SIZE, data_size);
}

int ulog_codec_encode_reply(const struct ulog_codec_req *req, const struct ulog_codec_res *res,
			    uint32_t nl_pid, uint8_t *buf, size_t cap, size_t *len)
{
	uint8_t payload[ULOG_CODEC_TEXT_MAX];
	size_t size = 0, total;
	int err;

	if (res->error > 0 || res->error < -ERRNO_MAX)
		return -EINVAL;
	if (memchr(req->hdr.uuid, '\0', sizeof(req->hdr.uuid)) == NULL)
		return -EINVAL;
	if (res->error == 0) {
		err = reply_payload(req, res, payload, &size);
		if (err != 0)
			return err;
	} else {
		/* The kernel stores an error reply's data_size as the caller's reply capacity,
		 * and its reconnect loop (after -ESRCH) and -EAGAIN resend the request with that
		 * capacity: a 0 here would turn the retried IN_SYNC into -ENOSPC, which the mirror
		 * reads as "not in sync" and writes to the default leg only. So an error carries
		 * the type's fixed-size result, zeroed (the kernel ignores it on error). */
		size = ulog_codec_result_size(req->hdr.type);
		memset(payload, 0, size);
	}
	total = ULOG_CODEC_HDR_LEN + ULOG_CODEC_REQ_LEN + size;
	if (cap < total)
		return -ENOSPC;
	put_nl_cn(buf, 0, nl_pid, req->hdr.seq, 0, (uint16_t)(ULOG_CODEC_REQ_LEN + size));
	put_hdr(buf + ULOG_CODEC_HDR_LEN, &req->hdr, res->error, (uint32_t)size);
	memcpy(buf + ULOG_CODEC_HDR_LEN + ULOG_CODEC_REQ_LEN, payload, size);
	*len = total;
	return 0;
}

int ulog_codec_encode_ack(uint32_t seq, int error, uint32_t nl_pid, uint8_t *buf, size_t cap,
			  size_t *len)
{
	if (error > 0 || error < -ERRNO_MAX)
		return -EINVAL;
	if (cap < ULOG_CODEC_ACK_SIZE)
		return -ENOSPC;
	put_nl_cn(buf, 0, nl_pid, seq, (uint32_t)-error, 0);
	*len = ULOG_CODEC_ACK_SIZE;
	return 0;
}

int ulog_codec_encode_request(const struct ulog_codec_hdr *hdr, const void *data, size_t size,
			      uint8_t *buf, size_t cap, size_t *len)
{
	size_t total = ULOG_CODEC_HDR_LEN + ULOG_CODEC_REQ_LEN + size;

	if (memchr(hdr->uuid, '\0', sizeof(hdr->uuid)) == NULL)
		return -EINVAL;
	if (size > UINT16_MAX - ULOG_CODEC_REQ_LEN)
		return -EMSGSIZE;
	if (cap < total)
		return -ENOSPC;
	put_nl_cn(buf, hdr->seq, 0, hdr->seq, 0, (uint16_t)(ULOG_CODEC_REQ_LEN + size));
	put_hdr(buf + ULOG_CODEC_HDR_LEN, hdr, hdr->error, (uint32_t)size);
	if (size > 0)
		memcpy(buf + ULOG_CODEC_HDR_LEN + ULOG_CODEC_REQ_LEN, data, size);
	*len = total;
	return 0;
}
