/* restore.c: rebuilding an engine from a snapshot (format in snapshot.h).
 *
 * The input is untrusted until proven otherwise: the magic, version and SHA-256 trailer are
 * checked first, then every length, count and bound before anything is allocated for it, and
 * finally every invariant the engine relies on (orderings, clean implies in sync, marked
 * regions not clean, assignments unique and out of sync, ...). Anything off gives NULL with a
 * reason and frees whatever was built. A snapshot that restores re-snapshots byte-identically,
 * because every accepted encoding is the canonical one.
 */
#include "engine_impl.h"
#include "snapshot.h"
#include "wire.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A counted string of at most max bytes without NUL, copied into out (size > max). */
static bool get_string(struct wire_reader *r, size_t min, size_t max, char *out, const char *what)
{
	uint8_t n;
	const uint8_t *p = NULL;

	if (!wire_get_u8(r, &n))
		return false;
	if (n < min || n > max)
		return wire_bad(r, "%s length %u out of range", what, n);
	if (!wire_get_bytes(r, n, &p))
		return false;
	if (memchr(p, '\0', n))
		return wire_bad(r, "%s contains NUL", what);
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static bool get_nodes(struct wire_reader *r, struct engine *e)
{
	uint32_t n;

	if (!wire_get_u32(r, &n))
		return false;
	if (n > ENGINE_NODE_MAX)
		return wire_bad(r, "%u nodes exceed the limit", n);
	for (uint32_t i = 0; i < n; i++) {
		char name[ENGINE_NODE_NAME_MAX + 1];

		if (!get_string(r, 1, ENGINE_NODE_NAME_MAX, name, "node name"))
			return false;
		if (engine_node_find(e, name) >= 0)
			return wire_bad(r, "node '%s' listed twice", name);
		engine_node_intern(e, name);
	}
	return true;
}

static bool get_flag(struct wire_reader *r, bool *v, const char *what)
{
	uint8_t b;

	if (!wire_get_u8(r, &b))
		return false;
	if (b > 1)
		return wire_bad(r, "%s is %u, not 0 or 1", what, b);
	*v = b;
	return true;
}

static bool get_inst(struct wire_reader *r, struct engine *e, struct log *l, uint64_t *largest)
{
	uint32_t node, alen;
	uint64_t luid, assigned_region, hint, count;
	uint8_t state;
	bool sticky = false, assigned = false;
	const uint8_t *args = NULL;
	struct ctr_args a;
	char why[96];
	struct inst *in, *prev = l->ninst ? l->insts[l->ninst - 1] : NULL;

	if (!wire_get_u32(r, &node) || !wire_get_u64(r, &luid) || !wire_get_u8(r, &state) ||
	    !get_flag(r, &sticky, "sticky flag") || !get_flag(r, &assigned, "assigned flag") ||
	    !wire_get_u64(r, &assigned_region) || !wire_get_u64(r, &hint) ||
	    !wire_get_u64(r, &count) || !wire_get_u32(r, &alen))
		return false;
	if (node >= e->nnodes)
		return wire_bad(r, "instance of unknown node %u", node);
	if (prev) {
		int c = strcmp(e->nodes[prev->node], e->nodes[node]);

		if (c > 0 || (c == 0 && prev->luid >= luid))
			return wire_bad(r, "instances out of order");
	}
	if (state >= INST_STATE_COUNT)
		return wire_bad(r, "unknown instance state %u", state);
	if (alen > ENGINE_ARGS_MAX)
		return wire_bad(r, "CTR arguments of %u bytes", alen);
	if (!wire_get_bytes(r, alen, &args))
		return false;
	if (ctr_parse((const char *)args, alen, &a, why, sizeof(why)))
		return wire_bad(r, "instance CTR arguments: %s", why);
	if (a.type != l->type || a.region_size != l->region_size || strcmp(a.dev, l->dev) ||
	    a.region_count != count)
		return wire_bad(r, "instance arguments disagree with the log");
	if (count > l->region_count)
		return wire_bad(r, "instance has more regions than its log");
	if (assigned && (state != INST_RESUMED || assigned_region >= count ||
			 log_assignee(l, assigned_region)))
		return wire_bad(r, "bad recovery assignment");
	if (!assigned && assigned_region)
		return wire_bad(r, "assignment region without assignment");
	if (l->ninst >= ENGINE_LOG_INSTANCE_MAX)
		return wire_bad(r, "too many instances");
	in = log_inst_new(node, luid, (const char *)args, alen, count);
	if (!in || log_inst_reserve(l)) {
		log_inst_free(in);
		return wire_bad(r, "out of memory");
	}
	in->state = (enum inst_state)state;
	in->sticky = sticky;
	in->assigned = assigned;
	in->assigned_region = assigned_region;
	in->hint = hint;
	log_inst_insert(l, in, (const char (*)[ENGINE_NODE_NAME_MAX + 1])e->nodes);
	if (count > *largest)
		*largest = count;
	return true;
}

static bool get_marks(struct wire_reader *r, const struct engine *e, struct log *l)
{
	uint64_t n, prev = 0;
	uint64_t valid = e->nnodes == 64 ? ~UINT64_C(0) : (UINT64_C(1) << e->nnodes) - 1;

	if (!wire_get_u64(r, &n))
		return false;
	if (n > LOG_MARKS_MAX || n > (r->len - r->off) / 16)
		return wire_bad(r, "mark count %llu out of range", (unsigned long long)n);
	if (marks_reserve(&l->marks, (size_t)n))
		return wire_bad(r, "out of memory");
	for (uint64_t i = 0; i < n; i++) {
		uint64_t region, mask;

		if (!wire_get_u64(r, &region) || !wire_get_u64(r, &mask))
			return false;
		if ((i && region <= prev) || region >= l->region_count)
			return wire_bad(r, "mark region %llu out of order or range",
					(unsigned long long)region);
		if (!mask || (mask & ~valid))
			return wire_bad(r, "bad node mask on region %llu", (unsigned long long)region);
		marks_add(&l->marks, region, mask);
		prev = region;
	}
	return true;
}

/* The invariants linking bitmaps, marks and assignments. */
static bool check_log(struct wire_reader *r, const struct log *l)
{
	if (!bitmap_is_subset(&l->clean, &l->sync))
		return wire_bad(r, "a clean region is out of sync");
	for (size_t i = 0; i < l->marks.cap; i++)
		if (l->marks.slots[i].mask && bitmap_get(&l->clean, l->marks.slots[i].region))
			return wire_bad(r, "a marked region is clean");
	for (uint32_t i = 0; i < l->ninst; i++)
		if (l->insts[i]->assigned && bitmap_get(&l->sync, l->insts[i]->assigned_region))
			return wire_bad(r, "an assigned region is in sync");
	return true;
}

/* Reads one log into *out (owned by the caller even on failure). */
static bool get_log(struct wire_reader *r, struct engine *e, struct log **out)
{
	char uuid[ENGINE_UUID_MAX + 1], dev[ENGINE_DEV_MAX + 1];
	uint8_t type, mode;
	bool boe = false;
	uint64_t rs, count, search, largest = 0;
	uint32_t nprio, ninst;
	struct log *l;

	*out = NULL;
	if (!get_string(r, 1, ENGINE_UUID_MAX, uuid, "uuid"))
		return false;
	if (e->nlogs && strcmp(e->logs[e->nlogs - 1]->uuid, uuid) >= 0)
		return wire_bad(r, "logs out of order at '%s'", uuid);
	if (!wire_get_u8(r, &type) || !wire_get_u8(r, &mode) || !get_flag(r, &boe, "block_on_error"))
		return false;
	if (type >= CTR_TYPE_COUNT || mode >= CTR_MODE_COUNT)
		return wire_bad(r, "unknown log type %u or mode %u", type, mode);
	if (boe && (type == CTR_CORE || type == CTR_DISK))
		return wire_bad(r, "block_on_error on a %s log", ctr_type_name(type));
	if (!get_string(r, ctr_type_is_disk(type) ? 1 : 0, ctr_type_is_disk(type) ? ENGINE_DEV_MAX : 0,
			dev, "device"))
		return false;
	if (strchr(dev, ' '))
		return wire_bad(r, "device name contains a space");
	if (!wire_get_u64(r, &rs) || !wire_get_u64(r, &count) || !wire_get_u64(r, &search))
		return false;
	if (rs < 2 || (rs & (rs - 1)))
		return wire_bad(r, "region size %llu", (unsigned long long)rs);
	if (count == 0 || count > ENGINE_REGION_COUNT_MAX || search > count)
		return wire_bad(r, "region count %llu or cursor %llu out of range",
				(unsigned long long)count, (unsigned long long)search);
	if (!wire_get_u32(r, &nprio))
		return false;
	if (nprio > ENGINE_PRIORITY_MAX)
		return wire_bad(r, "%u priority entries", nprio);
	l = log_new(uuid, (enum ctr_type)type, dev, rs, CTR_MODE_DEFAULT, boe, count);
	if (!l)
		return wire_bad(r, "out of memory for %llu regions", (unsigned long long)count);
	*out = l;
	l->mode = (enum ctr_mode)mode;
	l->sync_search = search;
	for (uint32_t i = 0; i < nprio; i++) {
		uint64_t p;

		if (!wire_get_u64(r, &p))
			return false;
		if (p >= count)
			return wire_bad(r, "priority region %llu out of range", (unsigned long long)p);
		for (uint32_t j = 0; j < l->nprio; j++)
			if (l->prio[j] == p)
				return wire_bad(r, "priority region %llu listed twice",
						(unsigned long long)p);
		l->prio[l->nprio++] = p;
	}
	if (!wire_get_u32(r, &ninst))
		return false;
	if (ninst > ENGINE_LOG_INSTANCE_MAX || (!ninst && !ctr_type_is_disk(l->type)))
		return wire_bad(r, "%u instances of a %s log", ninst, ctr_type_name(l->type));
	for (uint32_t i = 0; i < ninst; i++)
		if (!get_inst(r, e, l, &largest))
			return false;
	if (ninst && largest != count)
		return wire_bad(r, "log region count is not its largest instance's");
	if (!get_marks(r, e, l) || !wire_get_bitmap(r, &l->clean) || !wire_get_bitmap(r, &l->sync))
		return false;
	if (!check_log(r, l))
		return false;
	l->sync_count = bitmap_popcount(&l->sync, count);
	l->low = 0;
	return true;
}

static bool get_body(struct wire_reader *r, struct engine *e)
{
	uint32_t nlogs;

	if (!get_nodes(r, e) || !wire_get_u32(r, &nlogs))
		return false;
	if (nlogs > ENGINE_LOG_MAX)
		return wire_bad(r, "%u logs exceed the limit", nlogs);
	for (uint32_t i = 0; i < nlogs; i++) {
		struct log *l;

		if (!get_log(r, e, &l)) {
			log_free(l);
			return false;
		}
		if (engine_log_reserve(e)) {
			log_free(l);
			return wire_bad(r, "out of memory");
		}
		engine_log_insert(e, l);
	}
	if (r->off != r->len)
		return wire_bad(r, "%zu bytes of trailing garbage", r->len - r->off);
	return true;
}

static void say(char *errmsg, size_t errlen, const char *what)
{
	if (errlen)
		snprintf(errmsg, errlen, "snapshot restore: %s", what);
}

struct engine *engine_restore(const uint8_t *buf, size_t len, char *errmsg, size_t errlen)
{
	const size_t head = SNAPSHOT_MAGIC_LEN + 4;
	unsigned char digest[SNAPSHOT_DIGEST_LEN];
	unsigned int dlen = 0;
	char why[160] = "";
	struct wire_reader r = { .p = buf, .len = len, .errmsg = why, .errlen = sizeof(why) };
	struct engine *e;
	uint32_t version;

	if (errlen)
		errmsg[0] = '\0';
	if (!buf || len < head + SNAPSHOT_DIGEST_LEN) {
		say(errmsg, errlen, "truncated (shorter than header and checksum)");
		return NULL;
	}
	if (memcmp(buf, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN)) {
		say(errmsg, errlen, "not a dmlog engine snapshot (bad magic)");
		return NULL;
	}
	r.off = SNAPSHOT_MAGIC_LEN;
	(void)wire_get_u32(&r, &version);
	if (version != SNAPSHOT_VERSION) {
		snprintf(why, sizeof(why), "unknown snapshot format version %u (this build reads %d)",
			 version, SNAPSHOT_VERSION);
		say(errmsg, errlen, why);
		return NULL;
	}
	if (!EVP_Digest(buf, len - SNAPSHOT_DIGEST_LEN, digest, &dlen, EVP_sha256(), NULL)) {
		say(errmsg, errlen, "SHA-256 unavailable");
		return NULL;
	}
	if (memcmp(digest, buf + len - SNAPSHOT_DIGEST_LEN, SNAPSHOT_DIGEST_LEN)) {
		say(errmsg, errlen, "checksum mismatch (corrupt or truncated snapshot)");
		return NULL;
	}
	e = engine_new();
	if (!e) {
		say(errmsg, errlen, "out of memory");
		return NULL;
	}
	r.len = len - SNAPSHOT_DIGEST_LEN;
	if (!get_body(&r, e)) {
		engine_free(e);
		say(errmsg, errlen, why);
		return NULL;
	}
	return e;
}
