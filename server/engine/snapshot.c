/* snapshot.c: writing engine snapshots (format in snapshot.h).
 *
 * Everything is written in a defined order (logs by uuid, instances by node name and luid,
 * marks by region, nodes by interning order) and nothing depends on addresses or hash table
 * layout, so equal states give byte-identical snapshots on every peer.
 */
#include "engine_impl.h"
#include "snapshot.h"
#include "wire.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static int put_log(struct wire_writer *w, const struct log *l)
{
	struct marks_entry *marks;
	int err = marks_sorted(&l->marks, &marks);

	if (err)
		return err;
	wire_put_u8(w, (uint8_t)l->uuid_len);
	wire_put_bytes(w, l->uuid, l->uuid_len);
	wire_put_u8(w, (uint8_t)l->type);
	wire_put_u8(w, (uint8_t)l->mode);
	wire_put_u8(w, l->block_on_error);
	wire_put_u8(w, (uint8_t)strlen(l->dev));
	wire_put_bytes(w, l->dev, strlen(l->dev));
	wire_put_u64(w, l->region_size);
	wire_put_u64(w, l->region_count);
	wire_put_u64(w, l->sync_search);
	wire_put_u32(w, l->nprio);
	for (uint32_t i = 0; i < l->nprio; i++)
		wire_put_u64(w, l->prio[i]);
	wire_put_u32(w, l->ninst);
	for (uint32_t i = 0; i < l->ninst; i++) {
		const struct inst *in = l->insts[i];

		wire_put_u32(w, in->node);
		wire_put_u64(w, in->luid);
		wire_put_u8(w, (uint8_t)in->state);
		wire_put_u8(w, in->sticky);
		wire_put_u8(w, in->assigned);
		wire_put_u64(w, in->assigned_region);
		wire_put_u64(w, in->hint);
		wire_put_u64(w, in->region_count);
		wire_put_u32(w, (uint32_t)in->args_len);
		wire_put_bytes(w, in->args, in->args_len);
	}
	wire_put_u64(w, l->marks.count);
	for (size_t i = 0; i < l->marks.count; i++) {
		wire_put_u64(w, marks[i].region);
		wire_put_u64(w, marks[i].mask);
	}
	free(marks);
	wire_put_bitmap(w, &l->clean);
	wire_put_bitmap(w, &l->sync);
	return 0;
}

int engine_snapshot(const struct engine *e, uint8_t **buf, size_t *len)
{
	struct wire_writer w = { 0 };
	unsigned char digest[SNAPSHOT_DIGEST_LEN];
	unsigned int dlen = 0;

	*buf = NULL;
	*len = 0;
	wire_put_bytes(&w, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN);
	wire_put_u32(&w, SNAPSHOT_VERSION);
	wire_put_u32(&w, e->nnodes);
	for (uint32_t i = 0; i < e->nnodes; i++) {
		size_t n = strlen(e->nodes[i]);

		wire_put_u8(&w, (uint8_t)n);
		wire_put_bytes(&w, e->nodes[i], n);
	}
	wire_put_u32(&w, (uint32_t)e->nlogs);
	for (size_t i = 0; i < e->nlogs && !w.failed; i++)
		if (put_log(&w, e->logs[i]))
			w.failed = true;
	if (!w.failed && !EVP_Digest(w.buf, w.len, digest, &dlen, EVP_sha256(), NULL))
		w.failed = true;
	if (!w.failed)
		wire_put_bytes(&w, digest, sizeof(digest));
	if (w.failed) {
		free(w.buf);
		return -ENOMEM;
	}
	*buf = w.buf;
	*len = w.len;
	return 0;
}
