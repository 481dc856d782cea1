/* raftsvc_fsm.c: the raft_fsm adapter between libraft and the caller's state machine.
 *
 * Runs on the raft thread, inside libraft's callbacks. libraft 0.22's compatibility layer asserts
 * when an fsm callback fails on its tick and receive paths, so once the service is running the
 * adapter never returns an error to libraft: it latches the failure (raftsvc_loop_fail()), the
 * raft thread then closes raft, and every entry from the failed one on is reported with -EIO.
 * After a failure the caller's state is no longer trusted: nothing more is applied to it and no
 * snapshot is taken of it. Only while raft_start() loads the data directory is a restore error
 * returned to libraft, which makes raftsvc_start() fail cleanly.
 *
 * Entry format: libraft 0.22's disk backend only takes entries whose length is a multiple of 8,
 * so every submitted entry is wrapped as "dmr1" (4 bytes), its length (u32, little endian), its
 * bytes, zero padding to a multiple of 8. apply unwraps it and hands the exact bytes on; an entry
 * that does not parse is a fatal -EBADMSG.
 *
 * Snapshot buffers: version 2 of raft_fsm, with snapshot_finalize, keeps their ownership here
 * (libraft does not free them), so the caller's malloc'ed buffer is handed over without a copy
 * and freed with free() when libraft has written it.
 */
#include "raftsvc_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t fsm_magic[4] = { 'd', 'm', 'r', '1' };

size_t raftsvc_fsm_encoded_size(size_t len)
{
	return RAFTSVC_FSM_HEADER + ((len + 7) & ~(size_t)7);
}

void raftsvc_fsm_encode(uint8_t *out, const uint8_t *buf, size_t len)
{
	size_t total = raftsvc_fsm_encoded_size(len);

	memcpy(out, fsm_magic, sizeof(fsm_magic));
	out[4] = (uint8_t)len;
	out[5] = (uint8_t)(len >> 8);
	out[6] = (uint8_t)(len >> 16);
	out[7] = (uint8_t)(len >> 24);
	memcpy(out + RAFTSVC_FSM_HEADER, buf, len);
	memset(out + RAFTSVC_FSM_HEADER + len, 0, total - RAFTSVC_FSM_HEADER - len);
}

int raftsvc_fsm_decode(const uint8_t *in, size_t inlen, const uint8_t **buf, size_t *len)
{
	size_t n;

	if (inlen < RAFTSVC_FSM_HEADER || memcmp(in, fsm_magic, sizeof(fsm_magic)) != 0)
		return -EBADMSG;
	n = (size_t)in[4] | (size_t)in[5] << 8 | (size_t)in[6] << 16 | (size_t)in[7] << 24;
	if (n > inlen - RAFTSVC_FSM_HEADER || raftsvc_fsm_encoded_size(n) != inlen)
		return -EBADMSG;
	*buf = in + RAFTSVC_FSM_HEADER;
	*len = n;
	return 0;
}

static int fsm_err(int rv)
{
	return rv < 0 ? rv : -EIO;
}

/* Index of the entry libraft is applying: it applies in order from last_applied + 1 and only
 * advances last_applied after a successful apply. */
static uint64_t fsm_next_index(struct raftsvc *s)
{
	return (uint64_t)raft_last_applied(&s->raft) + 1;
}

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
	struct raftsvc *s = fsm->data;
	uint64_t index = fsm_next_index(s);
	const uint8_t *data;
	size_t len;
	int rv;

	*result = NULL;
	if (s->failed)
		return 0;
	if (raftsvc_fsm_decode(buf->base, buf->len, &data, &len) != 0) {
		raftsvc_loop_fail(s, -EBADMSG, index, "fsm apply of entry %llu: malformed "
				  "%zu-byte entry", (unsigned long long)index, buf->len);
		return 0;
	}
	rv = s->cfg.fsm.apply(s->cfg.fsm.arg, index, data, len);
	if (rv != 0)
		raftsvc_loop_fail(s, fsm_err(rv), index, "fsm apply of entry %llu: %s",
				  (unsigned long long)index, strerror(-fsm_err(rv)));
	return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct raftsvc *s = fsm->data;
	struct raft_buffer *out;
	uint8_t *data = NULL;
	size_t len = 0;
	int rv;

	if (s->failed)
		return RAFT_CANCELED;
	rv = s->cfg.fsm.snapshot(s->cfg.fsm.arg, &data, &len);
	if (rv != 0) {
		free(data);
		raftsvc_loop_fail(s, fsm_err(rv), 0, "fsm snapshot at entry %llu: %s",
				  (unsigned long long)raft_last_applied(&s->raft),
				  strerror(-fsm_err(rv)));
		return RAFT_CANCELED;
	}
	out = malloc(sizeof(*out));
	if (!out) {
		free(data);
		raftsvc_loop_fail(s, -ENOMEM, 0, "fsm snapshot: %s", strerror(ENOMEM));
		return RAFT_NOMEM;
	}
	out->base = data;
	out->len = len;
	*bufs = out;
	*n_bufs = 1;
	return 0;
}

/* Called once libraft is done with a snapshot: written to disk, or abandoned because raft is
 * closing (a failed write outside closing is an assertion in libraft 0.22). */
static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[],
				 unsigned *n_bufs)
{
	struct raftsvc *s = fsm->data;
	unsigned i;

	if (!s->raft_closing)
		s->snapshots++;
	if (*bufs) {
		for (i = 0; i < *n_bufs; i++)
			free((*bufs)[i].base);
		free(*bufs);
	}
	*bufs = NULL;
	*n_bufs = 0;
	return 0;
}

/* On success the snapshot's bytes are ours to free (with raft_free); on an error returned to
 * libraft they stay libraft's. */
static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct raftsvc *s = fsm->data;
	int rv;

	if (s->failed) {
		raft_free(buf->base);
		return 0;
	}
	rv = s->cfg.fsm.restore(s->cfg.fsm.arg, buf->base, buf->len);
	if (rv != 0) {
		raftsvc_loop_fail(s, fsm_err(rv), 0, "fsm restore of a %zu-byte snapshot: %s",
				  buf->len, strerror(-fsm_err(rv)));
		if (s->in_start)
			return RAFT_CORRUPT;
		raft_free(buf->base);
		return 0;
	}
	raft_free(buf->base);
	s->restores++;
	return 0;
}

void raftsvc_fsm_init(struct raftsvc *s)
{
	memset(&s->fsm, 0, sizeof(s->fsm));
	s->fsm.version = 2;
	s->fsm.data = s;
	s->fsm.apply = fsm_apply;
	s->fsm.snapshot = fsm_snapshot;
	s->fsm.restore = fsm_restore;
	s->fsm.snapshot_finalize = fsm_snapshot_finalize;
}
