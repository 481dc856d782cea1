/* relay_reply.c: dmlogd's answers as the kernel's reply datagrams.
 *
 * The library's typed result becomes the codec's result; the codec gives each type exactly the
 * reply size the kernel takes (reference §2.0, §5 item 4), including data_size 0 for the
 * reconnect-loop CTR and for every error. A reply that cannot be encoded never goes out half
 * made: the kernel gets the encoding error instead.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/dm-log-userspace.h>

#include "log.h"
#include "relay_impl.h"
#include "transport.h"

/* Copies a result text; too long a text is an error, never cut. */
static int relay_reply_text(const char *text, struct ulog_codec_res *out)
{
	size_t n = text != NULL ? strlen(text) : 0;

	if (n >= sizeof(out->text))
		return -EMSGSIZE;
	memcpy(out->text, text != NULL ? text : "", n + 1);
	return 0;
}

int relay_reply_map(uint32_t type, const struct dmlog_result *res, struct ulog_codec_res *out)
{
	memset(out, 0, sizeof(*out));
	if ((uint32_t)res->op != type)
		return -EPROTO;
	switch (type) {
	case DM_ULOG_CTR:
		return relay_reply_text(res->device, out);
	case DM_ULOG_GET_REGION_SIZE:
		out->value = res->region_size;
		return 0;
	case DM_ULOG_IS_CLEAN:
		out->flag = res->clean;
		return 0;
	case DM_ULOG_IN_SYNC:
		out->flag = res->in_sync;
		return 0;
	case DM_ULOG_GET_RESYNC_WORK:
		out->flag = res->resync_work.has_work;
		out->value = res->resync_work.region;
		return 0;
	case DM_ULOG_GET_SYNC_COUNT:
		out->value = res->sync_count;
		return 0;
	case DM_ULOG_STATUS_INFO:
	case DM_ULOG_STATUS_TABLE:
		return relay_reply_text(res->text, out);
	case DM_ULOG_IS_REMOTE_RECOVERING:
		out->flag = res->remote_recovering.recovering;
		out->value = res->remote_recovering.in_sync_hint;
		return 0;
	default:
		return 0; /* no result data */
	}
}

/* Hands one datagram to the transport, counting and reporting what it did not take. */
static void relay_reply_out(struct relay *r, const struct ulog_codec_hdr *hdr, const uint8_t *buf,
			    size_t len)
{
	int rc = transport_send(r->t, buf, len);

	if (rc == 0)
		return;
	r->stats.unsent++;
	if (relay_may_warn(r))
		log_warning("reply not sent: %s: %s log=%s seq=%u type=%s", transport_name(r->t),
			    strerror(-rc), RELAY_UUID(hdr->uuid), hdr->seq,
			    ulog_codec_type_name(hdr->type));
}

void relay_reply_send(struct relay *r, const struct ulog_codec_hdr *hdr, bool reconnect,
		      const struct ulog_codec_res *res)
{
	struct ulog_codec_req req; /* the codec's encoder reads only hdr and reconnect */
	uint8_t buf[ULOG_CODEC_REPLY_MAX];
	struct ulog_codec_res err_res;
	size_t len = 0;
	int rc;

	req.hdr = *hdr;
	req.reconnect = reconnect;
	rc = ulog_codec_encode_reply(&req, res, transport_pid(r->t), buf, sizeof(buf), &len);
	if (rc != 0) {
		if (relay_may_warn(r))
			log_warning("reply cannot be encoded (%s): answering it instead log=%s "
				    "seq=%u type=%s",
				    strerror(-rc), RELAY_UUID(hdr->uuid), hdr->seq,
				    ulog_codec_type_name(hdr->type));
		memset(&err_res, 0, sizeof(err_res));
		err_res.error = rc;
		rc = ulog_codec_encode_reply(&req, &err_res, transport_pid(r->t), buf, sizeof(buf),
					     &len);
	}
	if (rc != 0 && ulog_codec_encode_ack(hdr->seq, res->error != 0 ? res->error : -EIO,
					     transport_pid(r->t), buf, sizeof(buf), &len) != 0) {
		log_err("no reply of any form can be encoded log=%s seq=%u",
			RELAY_UUID(hdr->uuid), hdr->seq);
		return;
	}
	relay_reply_out(r, hdr, buf, len);
}

void relay_reply_error(struct relay *r, const struct ulog_codec_hdr *hdr, bool reconnect,
		       int error)
{
	struct ulog_codec_res res;

	memset(&res, 0, sizeof(res));
	res.error = error;
	relay_reply_send(r, hdr, reconnect, &res);
}
