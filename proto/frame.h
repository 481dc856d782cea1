/* frame.h: dmlog's stream framing (4-byte big-endian length + one protobuf message).
 *
 * Parsing only, no I/O: the decoder takes bytes in any split and hands out whole frames. The
 * length is checked against the decoder's maximum before anything is allocated. Not
 * thread-safe; one decoder per connection.
 */
#ifndef DMLOG_FRAME_H
#define DMLOG_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FRAME_HEADER_SIZE 4
#define FRAME_DEFAULT_MAX (1024u * 1024u)

/* Writes the big-endian length header of a payload of len bytes. */
void frame_put_header(uint8_t out[FRAME_HEADER_SIZE], uint32_t len);

/* Reads a header. */
uint32_t frame_get_header(const uint8_t in[FRAME_HEADER_SIZE]);

/* Checks a frame length: 0 if 1 <= len <= max, -EMSGSIZE if over max, -EBADMSG if 0. */
int frame_check_length(uint32_t len, uint32_t max);

struct frame_decoder {
	uint32_t max;         /* largest payload accepted */
	uint8_t hdr[FRAME_HEADER_SIZE];
	size_t hdr_have;
	uint8_t *buf;         /* payload being assembled (owned) */
	uint32_t len;         /* its announced length */
	uint32_t have;
	int error;            /* sticky: once a stream is bad it stays bad */
};

/* Initialises a decoder; max 0 means FRAME_DEFAULT_MAX. */
void frame_decoder_init(struct frame_decoder *d, uint32_t max);

/* Releases the decoder's buffer. Safe on an initialised or zeroed decoder. */
void frame_decoder_free(struct frame_decoder *d);

/* Consumes bytes from p[0..n) until one frame is complete or the bytes run out.
 * Returns how many bytes were consumed (>= 0), or a negative errno: -EMSGSIZE (announced length
 * over the maximum), -EBADMSG (zero length), -ENOMEM. When a frame is complete, *frame points
 * at its payload and *frame_len is its length; the payload stays valid until the next call to
 * frame_decoder_feed() or frame_decoder_free(). Otherwise *frame is NULL. Call again with the
 * rest of the bytes to get the next frame. */
ssize_t frame_decoder_feed(struct frame_decoder *d, const uint8_t *p, size_t n,
			   const uint8_t **frame, uint32_t *frame_len);

#endif /* DMLOG_FRAME_H */
