/* result.c: owned copies of results (dmlog_result_dup / dmlog_result_free).
 *
 * A copy is one allocation holding the struct dmlog_result followed by every array and string
 * it points to, so that the caller frees it with one call and the copy cannot be half-built.
 * The same walk runs twice: once to measure (no buffer), once to copy.
 */
#include <dmlog/dmlog.h>

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

struct flat {
	char *base;     /* NULL while measuring */
	size_t off;
};

static void *flat_take(struct flat *f, size_t size, size_t align)
{
	void *p;

	f->off = (f->off + align - 1) & ~(align - 1);
	p = f->base ? f->base + f->off : NULL;
	f->off += size;
	return p;
}

static const char *flat_str(struct flat *f, const char *s)
{
	size_t n;
	char *p;

	if (!s)
		s = "";
	n = strlen(s) + 1;
	p = flat_take(f, n, 1);
	if (p)
		memcpy(p, s, n);
	return p;
}

static void summary_copy(struct flat *f, struct dmlog_log_summary *dst,
			 const struct dmlog_log_summary *src)
{
	struct dmlog_log_summary t = *src;

	t.uuid = flat_str(f, src->uuid);
	t.log_type = flat_str(f, src->log_type);
	t.state = flat_str(f, src->state);
	t.recoverer = flat_str(f, src->recoverer);
	t.device = flat_str(f, src->device);
	if (dst)
		*dst = t;
}

static const struct dmlog_region_range *ranges_copy(struct flat *f,
						    const struct dmlog_region_range *src, size_t n)
{
	struct dmlog_region_range *dst;

	if (n == 0)
		return NULL;
	dst = flat_take(f, n * sizeof(*dst), alignof(struct dmlog_region_range));
	if (dst)
		memcpy(dst, src, n * sizeof(*dst));
	return dst;
}

static const struct dmlog_peer_info *peers_copy(struct flat *f,
						const struct dmlog_peer_info *src, size_t n)
{
	struct dmlog_peer_info *peers;

	if (n == 0)
		return NULL;
	peers = flat_take(f, n * sizeof(*peers), alignof(struct dmlog_peer_info));
	for (size_t i = 0; i < n; i++) {
		struct dmlog_peer_info p = src[i];

		p.id = flat_str(f, src[i].id);
		p.address = flat_str(f, src[i].address);
		p.role = flat_str(f, src[i].role);
		p.raft_address = flat_str(f, src[i].raft_address);
		p.client_address = flat_str(f, src[i].client_address);
		p.membership = flat_str(f, src[i].membership);
		if (peers)
			peers[i] = p;
	}
	return peers;
}

static void status_copy(struct flat *f, struct dmlog_server_status *dst,
			const struct dmlog_server_status *src)
{
	struct dmlog_server_status t = *src;

	t.server_id = flat_str(f, src->server_id);
	t.raft_role = flat_str(f, src->raft_role);
	t.leader_id = flat_str(f, src->leader_id);
	t.version = flat_str(f, src->version);
	t.peers = peers_copy(f, src->peers, src->peer_count);
	if (dst)
		*dst = t;
}

static void peer_change_copy(struct flat *f, struct dmlog_peer_change *dst,
			     const struct dmlog_peer_change *src)
{
	struct dmlog_peer_change t = *src;

	t.peers = peers_copy(f, src->peers, src->peer_count);
	if (dst)
		*dst = t;
}

static void logs_copy(struct flat *f, struct dmlog_log_list *dst, const struct dmlog_log_list *src)
{
	struct dmlog_log_list t = *src;
	struct dmlog_log_summary *logs = NULL;

	if (src->count)
		logs = flat_take(f, src->count * sizeof(*logs), alignof(struct dmlog_log_summary));
	for (size_t i = 0; i < src->count; i++)
		summary_copy(f, logs ? &logs[i] : NULL, &src->logs[i]);
	t.logs = src->count ? logs : NULL;
	if (dst)
		*dst = t;
}

static void detail_copy(struct flat *f, struct dmlog_log_detail *dst,
			const struct dmlog_log_detail *src)
{
	struct dmlog_log_detail t = *src;
	struct dmlog_node_marks *marks = NULL;
	struct dmlog_instance_info *inst = NULL;

	summary_copy(f, &t.summary, &src->summary);
	t.dirty = ranges_copy(f, src->dirty, src->dirty_count);
	t.out_of_sync = ranges_copy(f, src->out_of_sync, src->out_of_sync_count);
	if (src->mark_count)
		marks = flat_take(f, src->mark_count * sizeof(*marks),
				  alignof(struct dmlog_node_marks));
	for (size_t i = 0; i < src->mark_count; i++) {
		struct dmlog_node_marks m = src->marks[i];
		uint64_t *regions = NULL;

		m.node = flat_str(f, src->marks[i].node);
		if (m.region_count)
			regions = flat_take(f, m.region_count * sizeof(*regions), alignof(uint64_t));
		if (regions)
			memcpy(regions, src->marks[i].regions, m.region_count * sizeof(*regions));
		m.regions = regions;
		if (marks)
			marks[i] = m;
	}
	t.marks = src->mark_count ? marks : NULL;
	if (src->instance_count)
		inst = flat_take(f, src->instance_count * sizeof(*inst),
				 alignof(struct dmlog_instance_info));
	for (size_t i = 0; i < src->instance_count; i++) {
		struct dmlog_instance_info in = src->instances[i];

		in.node = flat_str(f, src->instances[i].node);
		in.state = flat_str(f, src->instances[i].state);
		if (inst)
			inst[i] = in;
	}
	t.instances = src->instance_count ? inst : NULL;
	if (dst)
		*dst = t;
}

/* One pass of the walk: lays out res's copy in f (copying when f->base is set). */
static struct dmlog_result *result_walk(struct flat *f, const struct dmlog_result *res)
{
	struct dmlog_result *dst = flat_take(f, sizeof(*dst), alignof(struct dmlog_result));
	struct dmlog_result t = *res;

	switch (res->op) {
	case DMLOG_OP_CTR:
		t.device = flat_str(f, res->device);
		break;
	case DMLOG_OP_STATUS_INFO:
	case DMLOG_OP_STATUS_TABLE:
		t.text = flat_str(f, res->text);
		break;
	case DMLOG_OP_ADMIN_STATUS:
		status_copy(f, &t.status, &res->status);
		break;
	case DMLOG_OP_ADMIN_PEER_ADD:
	case DMLOG_OP_ADMIN_PEER_REMOVE:
		peer_change_copy(f, &t.peer_change, &res->peer_change);
		break;
	case DMLOG_OP_ADMIN_LIST_LOGS:
		logs_copy(f, &t.logs, &res->logs);
		break;
	case DMLOG_OP_ADMIN_SHOW_LOG:
		detail_copy(f, &t.log, &res->log);
		break;
	case DMLOG_OP_WATCH:
		t.watch.out_of_sync = ranges_copy(f, res->watch.out_of_sync,
						  res->watch.out_of_sync_count);
		break;
	default:
		break;
	}
	if (dst)
		*dst = t;
	return dst;
}

DMLOG_API struct dmlog_result *dmlog_result_dup(const struct dmlog_result *res)
{
	struct flat f = { NULL, 0 };

	if (!res)
		return NULL;
	result_walk(&f, res);
	f.base = malloc(f.off);
	if (!f.base)
		return NULL;
	f.off = 0;
	return result_walk(&f, res);
}

DMLOG_API void dmlog_result_free(struct dmlog_result *res)
{
	free(res);
}
