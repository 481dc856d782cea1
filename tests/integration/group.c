/* group.c: dmlogd peers of one Raft group (see group.h). */
#include "group.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testcerts.h"

int group_certs(const char *certs, int n)
{
	for (int i = 2; i <= n; i++) {
		char what[32];

		snprintf(what, sizeof(what), "peer dmlogd%d", i);
		if (testcerts_make(certs, what, NULL) != 0)
			return -1;
	}
	return 0;
}

void group_init(struct group_peer *p, int n, const char *dir)
{
	memset(p, 0, (size_t)n * sizeof(*p));
	for (int i = 0; i < n; i++) {
		p[i].d.port = harness_free_port();
		p[i].d.raft_port = harness_free_port();
		snprintf(p[i].state, sizeof(p[i].state), "%s/s%d", dir, i + 1);
		mkdir(p[i].state, 0700);
	}
}

void group_args(struct group_peer *p, int i, int group, const char *certs, const int *raft_port)
{
	char list[400] = "";
	char (*a)[600] = p[i].arg;

	for (int j = 0; j < group; j++) {
		char one[48];

		if (j == i)
			continue;
		snprintf(one, sizeof(one), "%s%d@127.0.0.1:%d", list[0] ? "," : "", j + 1,
			 raft_port ? raft_port[j] : p[j].d.raft_port);
		strcat(list, one);
	}
	snprintf(a[0], sizeof(a[0]), "--cert-file=%s/peer-dmlogd%d.crt", certs, i + 1);
	snprintf(a[1], sizeof(a[1]), "--key-file=%s/peer-dmlogd%d.key", certs, i + 1);
	snprintf(a[2], sizeof(a[2]), "--id=dmlogd%d", i + 1);
	snprintf(a[3], sizeof(a[3]), "--raft-id=%d", i + 1);
	snprintf(a[4], sizeof(a[4]), "--peers=%s", list);
}

Dmlog__ServerMessage *group_admin_call(const struct dmlogd *d, const char *certs,
				       uint64_t client_id, Dmlog__ClientMessage *m)
{
	struct rawconn c;
	Dmlog__ServerMessage *r = NULL;

	if (d->pid <= 0)
		return NULL;
	if (rawconn_open_as(&c, d->port, certs, "admin-admin") == 0 &&
	    rawconn_hello(&c, client_id) == 0)
		r = rawconn_call(&c, m, 20000);
	rawconn_close(&c);
	return r;
}

bool group_digest(const struct dmlogd *d, const char *certs, uint64_t client_id,
		  struct group_digest *dg)
{
	Dmlog__ClientMessage m = DMLOG__CLIENT_MESSAGE__INIT;
	Dmlog__StateDigestRequest q = DMLOG__STATE_DIGEST_REQUEST__INIT;
	Dmlog__ServerMessage *r;
	bool ok;

	m.id = 6;
	m.body_case = DMLOG__CLIENT_MESSAGE__BODY_ADMIN_STATE_DIGEST;
	m.admin_state_digest = &q;
	r = group_admin_call(d, certs, client_id, &m);
	ok = r && r->body_case == DMLOG__SERVER_MESSAGE__BODY_ADMIN_STATE_DIGEST &&
	     r->admin_state_digest->sha256.len == 32;
	if (ok) {
		dg->applied = r->admin_state_digest->applied_index;
		memcpy(dg->sha, r->admin_state_digest->sha256.data, 32);
	}
	if (r)
		dmlog__server_message__free_unpacked(r, NULL);
	return ok;
}

void group_assert_converged(const struct group_peer *p, int n, unsigned mask, const char *certs,
			    uint64_t client_id, int timeout_ms)
{
	uint64_t deadline = harness_now_ms() + (uint64_t)timeout_ms;
	struct group_digest first = {0}, dg;
	bool same = false;

	while (!same && harness_now_ms() < deadline) {
		int seen = 0;

		same = true;
		for (int i = 0; i < n && same; i++) {
			if (!(mask & (1u << i)) || p[i].d.pid <= 0)
				continue;
			if (!group_digest(&p[i].d, certs, client_id, &dg))
				same = false;
			else if (seen++ == 0)
				first = dg;
			else
				same = dg.applied == first.applied &&
				       memcmp(dg.sha, first.sha, 32) == 0;
		}
		if (!same)
			usleep(100 * 1000);
	}
	ck_assert_msg(same, "peers did not converge to one state digest at one applied index");
	ck_assert_uint_gt(first.applied, 0);
}
