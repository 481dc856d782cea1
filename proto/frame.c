/* frame.c: incremental decoder and header helpers for dmlog's length-prefixed frames. */
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void frame_put_header(uint8_t out[FRAME_HEADER_SIZE], uint32_t len)
{
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
}

uint32_t frame_get_header(const uint8_t in[FRAME_HEADER_SIZE])
{
	return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

int frame_check_length(uint32_t len, uint32_t max)
{
	if (len == 0)
		return -EBADMSG;
	if (len > max)
		return -EMSGSIZE;
	return 0;
}

void frame_decoder_init(struct frame_decoder *d, uint32_t max)
{
	memset(d, 0, sizeof(*d));
	d->max = max ? max : FRAME_DEFAULT_MAX;
}

void frame_decoder_free(struct frame_decoder *d)
{
	free(d->buf);
	d->buf = NULL;
	d->hdr_have = 0;
	d->have = 0;
	d->len = 0;
}

ssize_t frame_decoder_feed(struct frame_decoder *d, const uint8_t *p, size_t n,
			   const uint8_t **frame, uint32_t *frame_len)
{
	size_t used = 0;

	*frame = NULL;
	*frame_len = 0;
	if (d->error)
		return d->error;
	if (d->buf && d->have == d->len) {
		/* The previous call handed out this frame: start the next one. */
		free(d->buf);
		d->buf = NULL;
		d->hdr_have = 0;
		d->have = 0;
	}
	while (d->hdr_have < FRAME_HEADER_SIZE) {
		if (used == n)
			return (ssize_t)used;
		d->hdr[d->hdr_have++] = p[used++];
	}
	if (!d->buf) {
		uint32_t len = frame_get_header(d->hdr);
		int rc = frame_check_length(len, d->max);

		if (rc) {
			d->error = rc;
			return rc;
		}
		d->buf = malloc(len);
		if (!d->buf) {
			d->error = -ENOMEM;
			return -ENOMEM;
		}
		d->len = len;
		d->have = 0;
	}
	size_t take = d->len - d->have;
	if (take > n - used)
		take = n - used;
	memcpy(d->buf + d->have, p + used, take);
	d->have += (uint32_t)take;
	used += take;
	if (d->have == d->len) {
		*frame = d->buf;
		*frame_len = d->len;
	}
	return (ssize_t)used;
}
