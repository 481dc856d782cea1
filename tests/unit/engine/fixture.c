/* fixture.c: helpers shared by the engine's unit tests (see fixture.h). */
#include "fixture.h"
#include "testmain.h"

#include <stdlib.h>
#include <string.h>

struct engine_req fx_req(uint32_t op, const char *node, const char *uuid, uint64_t luid)
{
	struct engine_req req;

	memset(&req, 0, sizeof(req));
	req.op = op;
	req.node = node;
	req.uuid = uuid;
	req.luid = luid;
	req.version = 3;
	return req;
}

struct engine_res fx_apply(struct engine *e, const struct engine_req *req)
{
	struct engine_res res;

	engine_apply(e, req, &res);
	if (res.error) {
		ck_assert(!res.flag);
		ck_assert_uint_eq(res.value, 0);
		ck_assert_str_eq(res.text, "");
		ck_assert(res.errmsg[0] != '\0');
	}
	return res;
}

struct engine_res fx_ctr_res(struct engine *e, const char *node, const char *uuid, uint64_t luid,
			     const char *args, uint32_t version, bool reconnect)
{
	struct engine_req req = fx_req(ENGINE_CTR, node, uuid, luid);

	req.args = args;
	req.args_len = args ? strlen(args) : 0;
	req.version = version;
	req.reconnect = reconnect;
	return fx_apply(e, &req);
}

int fx_ctr(struct engine *e, const char *node, const char *uuid, uint64_t luid, const char *args)
{
	return fx_ctr_res(e, node, uuid, luid, args, 3, false).error;
}

void fx_open(struct engine *e, const char *node, const char *uuid, uint64_t luid, const char *args)
{
	ck_assert_int_eq(fx_ctr(e, node, uuid, luid, args), 0);
	ck_assert_int_eq(fx_simple(e, ENGINE_RESUME, node, uuid, luid), 0);
}

struct engine_res fx_op(struct engine *e, uint32_t op, const char *node, const char *uuid,
			uint64_t luid)
{
	struct engine_req req = fx_req(op, node, uuid, luid);

	return fx_apply(e, &req);
}

int fx_simple(struct engine *e, uint32_t op, const char *node, const char *uuid, uint64_t luid)
{
	return fx_op(e, op, node, uuid, luid).error;
}

int fx_regions(struct engine *e, uint32_t op, const char *node, const char *uuid, uint64_t luid,
	       uint32_t n, const uint64_t *regions)
{
	struct engine_req req = fx_req(op, node, uuid, luid);

	req.nregions = n;
	for (uint32_t i = 0; i < n && i < ENGINE_REGIONS_MAX; i++)
		req.regions[i] = regions[i];
	return fx_apply(e, &req).error;
}

int fx_mark(struct engine *e, const char *node, const char *uuid, uint64_t luid, uint64_t r)
{
	return fx_regions(e, ENGINE_MARK_REGION, node, uuid, luid, 1, &r);
}

int fx_clear(struct engine *e, const char *node, const char *uuid, uint64_t luid, uint64_t r)
{
	return fx_regions(e, ENGINE_CLEAR_REGION, node, uuid, luid, 1, &r);
}

struct engine_res fx_region_op(struct engine *e, uint32_t op, const char *node, const char *uuid,
			       uint64_t luid, uint64_t r)
{
	struct engine_req req = fx_req(op, node, uuid, luid);

	req.region = r;
	return fx_apply(e, &req);
}

int fx_set_sync(struct engine *e, const char *node, const char *uuid, uint64_t luid, uint64_t r,
		bool in_sync)
{
	struct engine_req req = fx_req(ENGINE_SET_REGION_SYNC, node, uuid, luid);

	req.region = r;
	req.in_sync = in_sync;
	return fx_apply(e, &req).error;
}

bool fx_clean(struct engine *e, const char *node, const char *uuid, uint64_t luid, uint64_t r)
{
	struct engine_res res = fx_region_op(e, ENGINE_IS_CLEAN, node, uuid, luid, r);

	ck_assert_int_eq(res.error, 0);
	return res.flag;
}

bool fx_in_sync(struct engine *e, const char *node, const char *uuid, uint64_t luid, uint64_t r)
{
	struct engine_res res = fx_region_op(e, ENGINE_IN_SYNC, node, uuid, luid, r);

	ck_assert_int_eq(res.error, 0);
	return res.flag;
}

uint64_t fx_sync_count(struct engine *e, const char *node, const char *uuid, uint64_t luid)
{
	struct engine_res res = fx_op(e, ENGINE_GET_SYNC_COUNT, node, uuid, luid);

	ck_assert_int_eq(res.error, 0);
	return res.value;
}

int64_t fx_work(struct engine *e, const char *node, const char *uuid, uint64_t luid)
{
	struct engine_res res = fx_op(e, ENGINE_GET_RESYNC_WORK, node, uuid, luid);

	ck_assert_int_eq(res.error, 0);
	if (!res.flag) {
		ck_assert_uint_eq(res.value, 0);
		return -1;
	}
	return (int64_t)res.value;
}

uint8_t *fx_snapshot(const struct engine *e, size_t *len)
{
	uint8_t *buf = NULL;

	ck_assert_int_eq(engine_snapshot(e, &buf, len), 0);
	ck_assert_ptr_nonnull(buf);
	return buf;
}

bool fx_state_equal(const struct engine *a, const struct engine *b)
{
	size_t la, lb;
	uint8_t *sa = fx_snapshot(a, &la), *sb = fx_snapshot(b, &lb);
	bool same = la == lb && !memcmp(sa, sb, la);

	free(sa);
	free(sb);
	return same;
}

struct engine *fx_clone(const struct engine *e)
{
	size_t len;
	uint8_t *buf = fx_snapshot(e, &len);
	char why[256];
	struct engine *c = engine_restore(buf, len, why, sizeof(why));

	ck_assert_msg(c != NULL, "restore failed: %s", why);
	free(buf);
	return c;
}

struct mark_probe {
	size_t count;
	const char *node;
	uint64_t region;
	bool found;
};

static void probe_mark(void *arg, const char *node, uint64_t region)
{
	struct mark_probe *p = arg;

	p->count++;
	if (p->node && !strcmp(node, p->node) && region == p->region)
		p->found = true;
}

size_t fx_mark_count(const struct engine *e, const char *uuid)
{
	struct mark_probe p = { 0 };

	ck_assert_int_eq(engine_log_marks(e, uuid, probe_mark, &p), 0);
	return p.count;
}

bool fx_has_mark(const struct engine *e, const char *uuid, const char *node, uint64_t region)
{
	struct mark_probe p = { .node = node, .region = region };

	ck_assert_int_eq(engine_log_marks(e, uuid, probe_mark, &p), 0);
	return p.found;
}

struct inst_probe {
	const char *node;
	uint64_t luid;
	const char *state;
	uint64_t hint;
	size_t count;
};

static void probe_inst(void *arg, const char *node, uint64_t luid, const char *state,
		       uint64_t region_count, uint64_t hint)
{
	struct inst_probe *p = arg;

	(void)region_count;
	p->count++;
	if (p->node && !strcmp(node, p->node) && luid == p->luid) {
		p->state = state;
		p->hint = hint;
	}
}

const char *fx_inst_state(const struct engine *e, const char *uuid, const char *node,
			  uint64_t luid)
{
	struct inst_probe p = { .node = node, .luid = luid, .state = "" };

	if (engine_log_instances(e, uuid, probe_inst, &p))
		return "";
	return p.state;
}

uint64_t fx_inst_hint(const struct engine *e, const char *uuid, const char *node, uint64_t luid)
{
	struct inst_probe p = { .node = node, .luid = luid, .state = "" };

	ck_assert_int_eq(engine_log_instances(e, uuid, probe_inst, &p), 0);
	return p.hint;
}

size_t fx_inst_count(const struct engine *e, const char *uuid)
{
	struct inst_probe p = { 0 };

	if (engine_log_instances(e, uuid, probe_inst, &p))
		return 0;
	return p.count;
}

int fx_run(Suite *s)
{
	return testmain_run(s);
}
