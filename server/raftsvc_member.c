/* raftsvc_member.c: membership of the Raft service — changes, the configuration, peer hooks.
 *
 * Changes (raftsvc_change()) run on the raft thread as requests of the submit queue. Adding a
 * voter is two libraft steps: raft_add() makes it a spare, then raft_assign(RAFT_VOTER) lets the
 * leader catch it up (log entries, or a snapshot when the log was compacted) before the new
 * configuration is appended, so a new voter never counts towards a majority before it holds
 * the log. Removing is raft_remove(). A leadership transfer first withdraws this server from
 * serving (published before libraft is asked), because the transferee's election may override
 * the vote refusals the read lease relies on (raftsvc_lease.c).
 *
 * The incarnation: a random 64-bit number in DATA_DIR/dmlog-incarnation, made when the data
 * directory is first used and never changed after. A peer whose directory was wiped comes back
 * with a new one, which the server's authorize callback can tell apart.
 */
#include "raftsvc_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define INCARNATION_FILE "dmlog-incarnation"

static void member_done(struct raftsvc *s, struct raftsvc_req *req, int status)
{
	raftsvc_queue_unlink(&s->inflight, req);
	raftsvc_queue_complete(s, req, status, status == 0 ? (uint64_t)raft_last_index(&s->raft) : 0);
}

static int member_errno(struct raftsvc *s, int rv)
{
	if (s->stop_seen && rv != 0)
		return -ESHUTDOWN;
	switch (rv) {
	case RAFT_DUPLICATEID:
	case RAFT_DUPLICATEADDRESS:
		return -EEXIST;
	case RAFT_BADID:
	case RAFT_NOTFOUND:
		return -ENOENT;
	case RAFT_NOCONNECTION:
		return -ENOTCONN;
	default:
		return raftsvc_loop_errno(rv);
	}
}

static void member_changed(struct raft_change *change, int status)
{
	struct raftsvc_req *req = change->data;
	struct raftsvc *s = req->s;
	int rv;

	if (status == 0 && req->op == RAFTSVC_ADD_VOTER && !req->assigning && !s->raft_closing) {
		req->assigning = true;
		rv = raft_assign(&s->raft, &req->change, req->change_id, RAFT_VOTER, member_changed);
		if (rv == 0)
			return;
		status = rv;
	}
	member_done(s, req, member_errno(s, status));
}

static void member_transferred(struct raft_transfer *t)
{
	struct raftsvc_req *req = t->data;
	struct raftsvc *s = req->s;
	int status = 0;

	if (raft_state(&s->raft) == RAFT_LEADER || s->raft_closing)
		status = s->raft_closing ? -ESHUTDOWN : -ETIMEDOUT;
	s->transferring = false;
	member_done(s, req, status);
}

void raftsvc_member_submit(struct raftsvc *s, struct raftsvc_req *req)
{
	struct raft *r = &s->raft;
	int rv;

	if (s->failed) {
		raftsvc_queue_complete(s, req, -EIO, 0);
		return;
	}
	if (s->stop_seen || s->raft_closing) {
		raftsvc_queue_complete(s, req, -ESHUTDOWN, 0);
		return;
	}
	if (!s->ready || raft_state(r) != RAFT_LEADER || raft_transferee(r) != 0) {
		raftsvc_queue_complete(s, req, -EAGAIN, 0);
		return;
	}
	raftsvc_queue_link(&s->inflight, req);
	req->change.data = req;
	req->transfer.data = req;
	switch (req->op) {
	case RAFTSVC_ADD_VOTER:
		rv = raft_add(r, &req->change, req->change_id, req->change_address, member_changed);
		break;
	case RAFTSVC_REMOVE:
		rv = raft_remove(r, &req->change, req->change_id, member_changed);
		break;
	default:
		/* Stop serving reads before anyone may override the vote refusals. */
		s->transferring = true;
		raftsvc_loop_publish(s);
		rv = raft_transfer(r, &req->transfer, req->change_id, member_transferred);
		if (rv != 0)
			s->transferring = false;
		break;
	}
	if (rv != 0)
		member_done(s, req, member_errno(s, rv));
}

void raftsvc_member_publish(struct raftsvc *s, struct raftsvc_status *st)
{
	const struct raft_configuration *c = &s->raft.configuration;

	st->n_members = 0;
	for (unsigned i = 0; i < c->n && st->n_members < RAFTSVC_MEMBERS_MAX; i++) {
		struct raftsvc_member *m = &st->members[st->n_members++];

		m->id = c->servers[i].id;
		snprintf(m->address, sizeof(m->address), "%s", c->servers[i].address);
		m->role = c->servers[i].role == RAFT_VOTER     ? "voter"
			  : c->servers[i].role == RAFT_STANDBY ? "standby"
							       : "spare";
	}
}

int raftsvc_member_authorize(void *arg, const struct peer_info *who, char *why, size_t whylen)
{
	struct raftsvc *s = arg;

	if (who->raft_id == s->cfg.id) {
		snprintf(why, whylen, "raft id %" PRIu64 " is this server's own", who->raft_id);
		return -EACCES;
	}
	if (!s->cfg.authorize) {
		snprintf(why, whylen, "no authorization configured");
		return -EACCES;
	}
	return s->cfg.authorize(s->cfg.authorize_arg, who, why, whylen);
}

void raftsvc_member_seen(void *arg, const struct peer_info *who)
{
	struct raftsvc *s = arg;
	struct raftsvc_shared *sh = s->sh;
	size_t i;

	pthread_mutex_lock(&sh->lock);
	for (i = 0; i < sh->n_seen; i++)
		if (sh->seen[i].raft_id == who->raft_id)
			break;
	if (i == sh->n_seen && sh->n_seen < RAFTSVC_MEMBERS_MAX)
		sh->n_seen++;
	if (i < sh->n_seen)
		sh->seen[i] = *who;
	pthread_mutex_unlock(&sh->lock);
}

static int incarnation_write(const char *path, uint64_t v, char *errmsg, size_t errlen)
{
	char buf[32];
	int fd, n, err = 0;

	n = snprintf(buf, sizeof(buf), "%016" PRIx64 "\n", v);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, (size_t)n) != n || fsync(fd) != 0)
		err = errno ? errno : EIO;
	if (fd >= 0 && close(fd) != 0 && !err)
		err = errno;
	if (err) {
		snprintf(errmsg, errlen, "raftsvc: %s: %s", path, strerror(err));
		return -err;
	}
	return 0;
}

int raftsvc_member_incarnation(struct raftsvc *s, char *errmsg, size_t errlen)
{
	char path[4200], buf[40] = "";
	FILE *f;
	uint64_t v = 0;
	int dfd;

	snprintf(path, sizeof(path), "%s/%s", s->data_dir, INCARNATION_FILE);
	f = fopen(path, "re");
	if (f) {
		bool ok = fgets(buf, sizeof(buf), f) != NULL && sscanf(buf, "%" SCNx64, &v) == 1 &&
			  v != 0;

		fclose(f);
		if (!ok) {
			snprintf(errmsg, errlen, "raftsvc: %s: not an incarnation number", path);
			return -EINVAL;
		}
		s->incarnation = v;
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(errmsg, errlen, "raftsvc: %s: %s", path, strerror(errno));
		return -errno;
	}
	while (v == 0)
		if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v)) {
			snprintf(errmsg, errlen, "raftsvc: getrandom: %s", strerror(errno));
			return -EIO;
		}
	if (incarnation_write(path, v, errmsg, errlen) != 0)
		return -EIO;
	dfd = open(s->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	s->incarnation = v;
	return 0;
}
