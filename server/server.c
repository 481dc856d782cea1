/* server.c: dmlogd start-up, shutdown, signals and the pieces that tie the modules together.
 *
 * Start-up steps, each with its own exit code (see config.h): configuration, TLS contexts, the
 * state directory (created, then locked: one dmlogd per state directory), the Raft service
 * (which replays the state), the listener. Then the libevent loop runs until SIGTERM/SIGINT.
 * SIGHUP reloads what can be reloaded (log level, TLS files: a new context replaces the old only
 * if it loads and passes the start-up checks, CN included, for clients and peers alike);
 * SIGUSR1 writes a state dump to the log.
 *
 * First run with no configuration at all (no file, no TLS flags, none of the default TLS files):
 * dmlogd makes development certificates at the default place with deploy/dmlog-certs.sh and
 * says loudly that they are for development only (dev_certs()).
 *
 * Replication: `peers` lists the other voters ("RAFT_ID@HOST:PORT", their raft_address). On a
 * first start (empty state directory) every peer bootstraps the same configuration, itself plus
 * its peers, all voters: give each peer the same set. Peers talk mutual TLS with dmlog-peer
 * certificates (peer.h). Which certificate CN belongs to which raft id, and where each peer
 * takes client connections, is in the replicated peer table: the leader commits PeerAnnounce
 * for itself after each election and for every peer whose handshake shows something the table
 * does not hold yet (the first time a raft id is seen, its CN is bound to it; `peer add` binds
 * the CN the admin gives). From then on a connection that claims that raft id with another CN,
 * or another raft id with that CN, or that raft id with a different data-directory incarnation
 * (its state directory was wiped), is refused on both ends (authorize_peer()). A wiped peer
 * rejoins by `peer remove` then `peer add` of the same raft id (the add clears the incarnation
 * and the leader catches it up from its log or a snapshot).
 */
#include "server.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "batch.h"
#include "clock.h"
#include "config.h"
#include "engine.h"
#include "feed.h"
#include "fsm.h"
#include "lease.h"
#include "log.h"
#include "notify.h"
#include "raftsvc.h"
#include "peer_wire.h"
#include "session.h"
#include "signals.h"
#include "tls.h"

#ifndef DMLOG_VERSION
#define DMLOG_VERSION "0.0.0"
#endif

/* Where deploy/dmlog-certs.sh is looked for when dmlogd makes development certificates (see
 * dev_certs()): the installed copy, then the source tree dmlogd was built from. CMake sets both;
 * the environment variable DMLOG_CERTS_TOOL, when set, replaces them. */
#ifndef DMLOG_CERTS_TOOL_INSTALLED
#define DMLOG_CERTS_TOOL_INSTALLED "/usr/local/libexec/dmlog/dmlog-certs.sh"
#endif
#ifndef DMLOG_CERTS_TOOL_SOURCE
#define DMLOG_CERTS_TOOL_SOURCE ""
#endif

/* The lock file inside state_dir (see lock_state_dir()). */
#define STATE_LOCK_NAME "dmlogd.lock"

/* The running daemon, with its configuration. */
struct daemon {
	struct server srv;
	struct config cfg;
	struct signals sig;
	int lock_fd;          /* holds the state directory's lock; -1 before it is taken */
};

bool server_is_leader(const struct server *srv)
{
	return srv->raft && raftsvc_is_leader(srv->raft);
}

bool server_read_ok(const struct server *srv)
{
	return srv->raft && raftsvc_read_ok(srv->raft);
}

void server_leader(const struct server *srv, char *id, size_t idlen, char *addr, size_t addrlen)
{
	struct raftsvc_status st;
	struct fsm_peer p;
	bool known;

	id[0] = '\0';
	addr[0] = '\0';
	if (!srv->raft)
		return;
	raftsvc_status(srv->raft, &st);
	if (st.leader_id == 0)
		return;
	if (st.leader_id == srv->raft_id) {
		snprintf(id, idlen, "%s", srv->id);
		snprintf(addr, addrlen, "%s", srv->listen);
		return;
	}
	fsm_lock(srv->fsm);
	known = fsm_peer_get(srv->fsm, st.leader_id, &p);
	fsm_unlock(srv->fsm);
	if (known) {
		snprintf(id, idlen, "%s", p.id);
		snprintf(addr, addrlen, "%s", p.client_address);
	}
}

int server_commit(struct server *srv, const Dmlog__Command *cmd,
		  void (*done)(void *arg, int status, uint64_t index), void *arg)
{
	Dmlog__PeerEntry e = DMLOG__PEER_ENTRY__INIT;
	Dmlog__Command *cmds[1] = {(Dmlog__Command *)cmd};
	uint8_t *buf;
	size_t len;
	int rc;

	e.n_commands = 1;
	e.commands = cmds;
	len = dmlog__peer_entry__get_packed_size(&e);
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	dmlog__peer_entry__pack(&e, buf);
	rc = raftsvc_submit(srv->raft, buf, len, done, arg);
	free(buf);
	return rc;
}

/* Raft thread: may this peer connect? See the file comment. */
static int authorize_peer(void *arg, const struct peer_info *who, char *why, size_t whylen)
{
	struct server *srv = arg;
	struct fsm_peer row;
	uint64_t bound;
	bool have;

	fsm_lock(srv->fsm);
	have = fsm_peer_get(srv->fsm, who->raft_id, &row);
	bound = fsm_peer_by_id(srv->fsm, who->id);
	fsm_unlock(srv->fsm);
	if (bound && bound != who->raft_id) {
		snprintf(why, whylen, "certificate CN %s belongs to raft id %llu, not %llu", who->id,
			 (unsigned long long)bound, (unsigned long long)who->raft_id);
		return -EACCES;
	}
	if (have && row.id[0] && strcmp(row.id, who->id) != 0) {
		snprintf(why, whylen, "raft id %llu belongs to certificate CN %s, not %s",
			 (unsigned long long)who->raft_id, row.id, who->id);
		return -EACCES;
	}
	if (have && row.incarnation && row.incarnation != who->incarnation) {
		snprintf(why, whylen, "raft id %llu has a new data directory (wiped?): remove it "
			 "and add it again", (unsigned long long)who->raft_id);
		return -ESTALE;
	}
	return 0;
}

/* Leader: queues a PeerAnnounce (group commit, fire and forget). */
static void announce(struct server *srv, uint64_t raft_id, const char *id, const char *client,
		     uint64_t incarnation)
{
	Dmlog__Command cmd = DMLOG__COMMAND__INIT;
	Dmlog__PeerAnnounce a = DMLOG__PEER_ANNOUNCE__INIT;
	int rc;

	a.raft_id = raft_id;
	a.id = (char *)id;
	a.client_address = (char *)client;
	a.incarnation = incarnation;
	cmd.body_case = DMLOG__COMMAND__BODY_ANNOUNCE;
	cmd.announce = &a;
	rc = batch_add(srv->batch, &cmd, NULL, 0, 0, 0);
	if (rc)
		log_err("cannot announce peer: %s raft_id=%llu", strerror(-rc),
			(unsigned long long)raft_id);
}

static bool row_differs(struct server *srv, uint64_t raft_id, const char *id, const char *client,
			uint64_t incarnation)
{
	struct fsm_peer row;
	bool have;

	fsm_lock(srv->fsm);
	have = fsm_peer_get(srv->fsm, raft_id, &row);
	fsm_unlock(srv->fsm);
	return !have || strcmp(row.id, id) != 0 || strcmp(row.client_address, client) != 0 ||
	       row.incarnation != incarnation;
}

/* Leader, every 200 ms: brings the peer table up to date with this server and with every
 * member of the configuration whose handshake was seen. At most one round per second while
 * differences last (the previous round may still be on its way to the log). */
static void announce_tick(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct raftsvc_status st;
	struct peer_info seen[RAFTSVC_MEMBERS_MAX];
	size_t n;
	uint64_t now = clock_mono_ms();
	bool sent = false;

	(void)fd;
	(void)what;
	if (!server_is_leader(srv) || now - srv->announced_ms < 1000)
		return;
	raftsvc_status(srv->raft, &st);
	if (row_differs(srv, srv->raft_id, srv->id, srv->listen, st.incarnation)) {
		announce(srv, srv->raft_id, srv->id, srv->listen, st.incarnation);
		sent = true;
	}
	n = raftsvc_peers_seen(srv->raft, seen, RAFTSVC_MEMBERS_MAX);
	for (size_t i = 0; i < n; i++) {
		bool member = false;

		for (unsigned j = 0; j < st.n_members; j++)
			member = member || st.members[j].id == seen[i].raft_id;
		if (!member || !row_differs(srv, seen[i].raft_id, seen[i].id, seen[i].client_address,
					    seen[i].incarnation))
			continue;
		announce(srv, seen[i].raft_id, seen[i].id, seen[i].client_address,
			 seen[i].incarnation);
		sent = true;
	}
	if (sent)
		srv->announced_ms = now;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	(void)l;
	session_accept(arg, fd, sa, salen);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();

	(void)l;
	(void)arg;
	/* EMFILE and friends: keep running; the listener retries on the next readiness. */
	log_err("accept failed: %s", evutil_socket_error_to_string(err));
}

static void on_leader_change(void *arg, bool leader)
{
	struct server *srv = arg;

	log_notice("raft leadership %s", leader ? "gained" : "lost");
	lease_set_leader(srv->lease, leader);
	feed_leader(srv->feed, leader);
	if (leader) {
		struct raftsvc_status st;

		/* After each election: clients of the followers learn where this leader is. */
		raftsvc_status(srv->raft, &st);
		announce(srv, srv->raft_id, srv->id, srv->listen, st.incarnation);
		srv->announced_ms = 0;
	}
}

static void on_raft_fatal(void *arg, int err, const char *msg)
{
	struct server *srv = arg;

	log_err("raft service failed, stopping: %s (%s)", msg, strerror(-err));
	srv->stopping = true;
	srv->failed = true;
	event_base_loopbreak(srv->base);
}

static int fsm_cb_apply(void *arg, uint64_t index, const uint8_t *buf, size_t len)
{
	return fsm_apply(arg, index, buf, len);
}

static int fsm_cb_snapshot(void *arg, uint8_t **buf, size_t *len)
{
	return fsm_snapshot(arg, buf, len);
}

static int fsm_cb_restore(void *arg, const uint8_t *buf, size_t len)
{
	int rc = fsm_restore(arg, buf, len);

	if (rc)
		log_err("snapshot restore failed: %s", fsm_last_error(arg));
	else
		log_info("state restored from a snapshot bytes=%zu", len);
	return rc;
}

static void dump_state(struct server *srv)
{
	struct engine_log_info li;
	struct feed_stats fs;
	const struct engine *e;

	log_notice("state dump: leader=%s connections=%u nodes=%u batch=%zu applied=%llu "
		   "early_clears=%llu",
		   server_is_leader(srv) ? "yes" : "no", srv->nsessions, lease_count(srv->lease),
		   batch_pending(srv->batch), (unsigned long long)fsm_applied_index(srv->fsm),
		   (unsigned long long)srv->early_clears);
	feed_get_stats(srv->feed, &fs);
	log_notice("state dump: feed clients=%u watches=%u holds=%u pushes=%llu changes=%llu "
		   "grants=%llu held=%llu held_by_expiry=%llu resets=%llu",
		   fs.clients, fs.watches, fs.holds, (unsigned long long)fs.pushes,
		   (unsigned long long)fs.changes, (unsigned long long)fs.grants,
		   (unsigned long long)fs.held, (unsigned long long)fs.held_by_expiry,
		   (unsigned long long)fs.resets);
	fsm_lock(srv->fsm);
	e = fsm_engine(srv->fsm);
	for (size_t i = 0; engine_log_info_at(e, i, &li) == 0; i++)
		log_notice("state dump: log=%s type=%s regions=%llu region_size=%llu dirty=%llu in_sync=%llu state=%s instances=%u recovering=%u",
			   log_short_uuid(li.uuid), li.type, (unsigned long long)li.region_count,
			   (unsigned long long)li.region_size, (unsigned long long)li.dirty_count,
			   (unsigned long long)li.sync_count, li.state, li.instances, li.assignments);
	fsm_unlock(srv->fsm);
}

/* The TLS paths of the running configuration. */
static char **tls_path(struct config *cfg, int i)
{
	return i == 0 ? &cfg->ca_file : i == 1 ? &cfg->cert_file : &cfg->key_file;
}

#define TLS_PATH_BITS (CONFIG_BIT(CONFIG_CA_FILE) | CONFIG_BIT(CONFIG_CERT_FILE) | \
		       CONFIG_BIT(CONFIG_KEY_FILE))

/* Loads the TLS files named by d->cfg and swaps them in. They must pass what start-up demands:
 * they load, the key matches, the CA signed a dmlog-peer certificate, and its CN is this
 * server's id (which a reload never changes), checked on the contexts that are swapped in
 * (the files are read once). 0, or a negative errno with err. */
static int reload_tls(struct daemon *d, char *err, size_t errlen)
{
	struct tls_files files = {d->cfg.ca_file, d->cfg.cert_file, d->cfg.key_file};
	int rc = tls_holder_reload(d->srv.tls, &files, d->cfg.id, err, errlen);

	if (rc != 0)
		return rc;
	raftsvc_set_tls(d->srv.raft, tls_holder_server(d->srv.tls), tls_holder_client(d->srv.tls));
	return 0;
}

/* SIGHUP. The configuration is re-read first; then the TLS files it names are loaded. When the
 * TLS files are refused, the TLS paths of the running configuration go back to the ones in use,
 * so that what d->cfg says is what serves (and the next reload compares against it). */
static void reload(struct daemon *d)
{
	struct config_reload res = {0, 0};
	char *old[3];
	char err[512], names[256];
	bool loaded;

	notify_reloading("reloading", err, sizeof(err));
	for (int i = 0; i < 3; i++)
		old[i] = strdup(*tls_path(&d->cfg, i));
	if (!old[0] || !old[1] || !old[2]) {
		log_err("reload: out of memory, nothing changed");
		goto out;
	}
	loaded = config_reload(&d->cfg, &res, err, sizeof(err)) == 0;
	if (!loaded) {
		log_err("reload: configuration kept: %s", err);
	} else {
		log_set_level(d->cfg.log_level);
		log_set_target(d->cfg.log_target);
		log_set_timestamps(d->cfg.log_timestamps);
		d->srv.lim.max_connections = (uint32_t)d->cfg.max_connections;
		d->srv.lim.idle_timeout_ms = (uint32_t)d->cfg.idle_timeout_ms; /* new sessions */
	}
	if (reload_tls(d, err, sizeof(err)) != 0) {
		log_err("reload: TLS contexts kept (ca_file=%s cert_file=%s key_file=%s): %s",
			old[0], old[1], old[2], err);
		for (int i = 0; i < 3; i++) {
			char **p = tls_path(&d->cfg, i);

			free(*p);
			*p = old[i];
			old[i] = NULL;
		}
		res.changed &= ~(uint64_t)TLS_PATH_BITS;
	} else {
		log_notice("reload: TLS contexts replaced generation=%u",
			   tls_holder_generation(d->srv.tls));
	}
	if (loaded && res.changed) {
		config_mask_names(res.changed, names, sizeof(names));
		log_notice("reload: applied %s", names);
	}
	if (loaded && res.ignored) {
		config_mask_names(res.ignored, names, sizeof(names));
		log_warning("reload: %s changed but need a restart", names);
	}
out:
	for (int i = 0; i < 3; i++)
		free(old[i]);
	notify_ready("serving", err, sizeof(err));
}

static void on_stop_signal(void *arg)
{
	((struct daemon *)arg)->srv.stopping = true;
}

static void on_reload_signal(void *arg)
{
	reload(arg);
}

static void on_dump_signal(void *arg)
{
	dump_state(&((struct daemon *)arg)->srv);
}

static const struct signals_ops daemon_signals = {on_stop_signal, on_reload_signal,
						  on_dump_signal};

static int mkdir_error(const char *path, char *err, size_t errlen)
{
	int e = errno;

	snprintf(err, errlen, "mkdir %.*s: %s", (int)(errlen / 2), path, strerror(e));
	return -e;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "state directory path too long");
		return -ENAMETOOLONG;
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return mkdir_error(tmp, err, errlen);
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return mkdir_error(tmp, err, errlen);
	return 0;
}

/* Makes this process the only dmlogd using dir: an exclusive fcntl() lock on dir/dmlogd.lock,
 * held as long as *fd stays open (the process's life; the kernel drops it when the process dies,
 * however it dies). Two dmlogds on one state directory would both write one Raft log. The file
 * holds the holder's pid for people; the lock, not the file, is what counts, so the file is left
 * in place at exit. 0, -EBUSY when another process holds the lock (err names it when the kernel
 * can tell), or another negative errno. */
static int lock_state_dir(const char *dir, int *fd, char *err, size_t errlen)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char path[4200], pid[32];
	int e, n;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_LOCK_NAME);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0) {
		e = errno;
		snprintf(err, errlen, "open %.400s: %s", path, strerror(e));
		return -e;
	}
	if (fcntl(*fd, F_SETLK, &fl) != 0) {
		e = errno;
		if (e == EAGAIN || e == EACCES) {
			struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

			if (fcntl(*fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK && who.l_pid > 0)
				snprintf(err, errlen, "%.300s is in use by another dmlogd (pid %ld holds "
					 "the lock on %.400s)", dir, (long)who.l_pid, path);
			else
				snprintf(err, errlen, "%.300s is in use by another dmlogd (%.400s is locked)",
					 dir, path);
			e = EBUSY;
		} else {
			snprintf(err, errlen, "lock %.400s: %s", path, strerror(e));
		}
		close(*fd);
		*fd = -1;
		return -e;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(*fd, 0) != 0 || pwrite(*fd, pid, (size_t)n, 0) != n) {
		e = errno;
		snprintf(err, errlen, "write %.400s: %s", path, strerror(e));
		close(*fd);
		*fd = -1;
		return -e;
	}
	return 0;
}

/* True when the string option key holds its built-in default. */
static bool at_default(const char *value, enum config_key key)
{
	return strcmp(value, config_option_get(key)->def) == 0;
}

static bool missing(const char *path)
{
	struct stat st;

	return lstat(path, &st) != 0 && errno == ENOENT;
}

/* Whether dmlogd runs with no configuration at all: no file (none given, the default one
 * absent), the TLS files and the id at their defaults, and none of the three TLS files there.
 * That is a first run on a fresh machine, which gets development certificates (dev_certs()). */
static bool wants_dev_certs(const struct config *cfg)
{
	if (cfg->path_explicit || !cfg->path || !missing(cfg->path))
		return false;
	if (!at_default(cfg->ca_file, CONFIG_CA_FILE) ||
	    !at_default(cfg->cert_file, CONFIG_CERT_FILE) ||
	    !at_default(cfg->key_file, CONFIG_KEY_FILE) || !at_default(cfg->id, CONFIG_ID))
		return false;
	return missing(cfg->ca_file) && missing(cfg->cert_file) && missing(cfg->key_file);
}

/* True when dir does not exist or holds nothing. */
static bool dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool empty = true;

	if (!d)
		return errno == ENOENT;
	while (empty && (de = readdir(d)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/* The dmlog-certs.sh to run: DMLOG_CERTS_TOOL if set, else the first executable of the installed
 * copy and the source tree's. NULL when there is none. */
static const char *certs_tool(void)
{
	const char *env = getenv("DMLOG_CERTS_TOOL");
	const char *where[] = {DMLOG_CERTS_TOOL_INSTALLED, DMLOG_CERTS_TOOL_SOURCE};

	if (env && *env)
		return access(env, X_OK) == 0 ? env : NULL;
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (where[i][0] && access(where[i], X_OK) == 0)
			return where[i];
	return NULL;
}

/* First run with no configuration: makes the development certificates at the default place
 * with the project's own tool (`dmlog-certs.sh DIR dev`: a CA, peer dmlogd1, node node1, admin
 * admin), so that `dmlogd` alone starts. Only into a missing or empty directory: nothing that
 * exists is ever overwritten. 0, or a negative errno with err saying what to run instead. */
static int dev_certs(const struct config *cfg, char *err, size_t errlen)
{
	char dir[4096];
	const char *slash = strrchr(cfg->cert_file, '/'), *tool;
	pid_t pid;
	int st;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - cfg->cert_file) : 1,
		 slash ? cfg->cert_file : ".");
	if (!dir_empty(dir)) {
		snprintf(err, errlen, "no configuration and no certificates, and %.300s is not empty: "
			 "not making development certificates there; run `dmlog-certs.sh %.300s dev` "
			 "or give ca_file, cert_file and key_file", dir, dir);
		return -EEXIST;
	}
	tool = certs_tool();
	if (!tool) {
		snprintf(err, errlen, "no configuration and no certificates, and dmlog-certs.sh "
			 "was not found (looked at %.250s%s%.250s): run `deploy/dmlog-certs.sh %.250s dev` from "
			 "the dmlog sources or give ca_file, cert_file and key_file",
			 getenv("DMLOG_CERTS_TOOL") ? "$DMLOG_CERTS_TOOL" : DMLOG_CERTS_TOOL_INSTALLED,
			 getenv("DMLOG_CERTS_TOOL") || !DMLOG_CERTS_TOOL_SOURCE[0] ? "" : ", ",
			 getenv("DMLOG_CERTS_TOOL") ? "" : DMLOG_CERTS_TOOL_SOURCE, dir);
		return -ENOENT;
	}
	log_warning("=================================================================");
	log_warning("no configuration file and no TLS files: making DEVELOPMENT "
		    "certificates in %s with %s dev", dir, tool);
	log_warning("their CA key lies next to them: anyone who can read it can pass for any "
		    "node, peer or admin; never use them in production");
	log_warning("=================================================================");
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -EAGAIN;
	}
	if (pid == 0) {
		/* The tool's "wrote FILE" lines go where dmlogd logs (stderr), not to stdout. */
		dup2(2, 1);
		execl(tool, tool, dir, "dev", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			return -ECHILD;
		}
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "`%.300s %.300s dev` failed (%s %d): run it by hand to see why, or "
			 "give ca_file, cert_file and key_file", tool, dir,
			 WIFEXITED(st) ? "exit status" : "signal",
			 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return -EIO;
	}
	log_warning("development certificates written to %s (ca, peer-dmlogd1, node-node1, "
		    "admin-admin)", dir);
	return 0;
}

static struct evconnlistener *listen_on(struct server *srv, const char *address, char *err,
					size_t errlen)
{
	char host[256], port[8];
	uint16_t p;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	struct evconnlistener *l = NULL;
	int rc;

	if (config_split_address(address, host, sizeof(host), &p, err, errlen) != 0)
		return NULL;
	snprintf(port, sizeof(port), "%u", p);
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "listen %s: %s", address, gai_strerror(rc));
		return NULL;
	}
	l = evconnlistener_new_bind(srv->base, on_accept, srv,
				    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
				    128, ai->ai_addr, (int)ai->ai_addrlen);
	if (!l)
		snprintf(err, errlen, "listen %s: %s", address, strerror(errno));
	else
		evconnlistener_set_error_cb(l, on_accept_error);
	freeaddrinfo(ai);
	return l;
}

static void daemon_cleanup(struct daemon *d)
{
	signals_stop(&d->sig);
	if (d->srv.listener)
		evconnlistener_free(d->srv.listener);
	if (d->srv.announce_timer)
		event_free(d->srv.announce_timer);
	session_reads_free(&d->srv);
	session_close_all(&d->srv);
	raftsvc_stop(d->srv.raft);
	d->srv.raft = NULL;
	feed_free(d->srv.feed); /* after the raft thread, which notifies it */
	d->srv.feed = NULL;
	batch_free(d->srv.batch);
	lease_free(d->srv.lease);
	fsm_free(d->srv.fsm);
	tls_holder_free(d->srv.tls);
	if (d->srv.base)
		event_base_free(d->srv.base);
	config_free(&d->cfg);
	if (d->lock_fd >= 0)
		close(d->lock_fd); /* the state directory is free from here on */
	d->lock_fd = -1;
}

int server_main(int argc, char *argv[])
{
	static struct daemon d;
	struct server *srv = &d.srv;
	enum config_action action = CONFIG_ACTION_RUN;
	struct tls_files files;
	struct raftsvc_config rc;
	struct config_peer cpeers[CONFIG_PEERS_MAX];
	struct raftsvc_peer rpeers[CONFIG_PEERS_MAX];
	size_t npeers = 0;
	char err[1024], raftdir[4200];
	int load, code;

	d.lock_fd = -1;
	log_init("dmlogd");
	load = config_from_args(&d.cfg, argc, argv, &action, err, sizeof(err));
	code = config_run_action(action, load, err, &d.cfg, "dmlogd", stdout, stderr);
	if (code >= 0) {
		config_free(&d.cfg);
		return code;
	}
	log_set_level(d.cfg.log_level);
	log_set_target(d.cfg.log_target);
	log_set_timestamps(d.cfg.log_timestamps);
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();

	srv->id = d.cfg.id;
	srv->listen = d.cfg.listen;
	srv->version = DMLOG_VERSION;
	srv->lim.max_frame = (uint32_t)d.cfg.max_frame;
	srv->lim.max_connections = (uint32_t)d.cfg.max_connections;
	srv->lim.idle_timeout_ms = (uint32_t)d.cfg.idle_timeout_ms;
	srv->lim.handshake_timeout_ms = 10000;
	srv->lim.node_lease_ms = (uint32_t)d.cfg.node_lease_ms;
	srv->lim.write_high_watermark = (uint32_t)d.cfg.write_high_watermark;
	srv->lim.max_in_flight = (uint32_t)(d.cfg.dedup_window / 2);
	srv->lim.read_wait_ms = (uint32_t)(2 * d.cfg.election_timeout_ms);
	srv->lim.election_timeout_ms = (uint32_t)d.cfg.election_timeout_ms;
	srv->lim.early_clear_ack = d.cfg.early_clear_ack;
	srv->raft_id = (uint64_t)d.cfg.raft_id;
	LIST_INIT(&srv->sessions);
	TAILQ_INIT(&srv->parked);
	if (config_parse_peers(d.cfg.peers, cpeers, CONFIG_PEERS_MAX, &npeers, err,
			       sizeof(err)) != 0) {
		log_err("cannot start: peers: %s", err);
		config_free(&d.cfg);
		return CONFIG_EXIT_USAGE;
	}
	for (size_t i = 0; i < npeers; i++) {
		rpeers[i].id = cpeers[i].raft_id;
		rpeers[i].address = cpeers[i].address;
	}

	srv->base = event_base_new();
	if (!srv->base) {
		log_err("cannot create the event loop");
		daemon_cleanup(&d);
		return CONFIG_EXIT_FAILURE;
	}
	files.ca_file = d.cfg.ca_file;
	files.cert_file = d.cfg.cert_file;
	files.key_file = d.cfg.key_file;
	if (wants_dev_certs(&d.cfg) && dev_certs(&d.cfg, err, sizeof(err)) != 0) {
		log_err("cannot start: TLS: %s", err);
		daemon_cleanup(&d);
		return CONFIG_EXIT_TLS;
	}
	/* Read once: the files that are checked are the ones that serve. */
	srv->tls = tls_holder_new(&files, d.cfg.id, err, sizeof(err));
	if (!srv->tls) {
		log_err("cannot start: TLS: %s", err);
		daemon_cleanup(&d);
		return CONFIG_EXIT_TLS;
	}
	snprintf(raftdir, sizeof(raftdir), "%s/raft", d.cfg.state_dir);
	if (make_dir(raftdir, err, sizeof(err)) != 0) {
		log_err("cannot start: state directory: %s", err);
		daemon_cleanup(&d);
		return CONFIG_EXIT_STATE;
	}
	if (lock_state_dir(d.cfg.state_dir, &d.lock_fd, err, sizeof(err)) != 0) {
		log_err("cannot start: state directory: %s", err);
		daemon_cleanup(&d);
		return CONFIG_EXIT_STATE;
	}
	srv->fsm = fsm_new((uint32_t)d.cfg.dedup_window);
	srv->batch = batch_new(srv);
	srv->lease = srv->base ? lease_new(srv) : NULL;
	srv->announce_timer = event_new(srv->base, -1, EV_PERSIST, announce_tick, srv);
	srv->feed = srv->fsm && srv->base ? feed_new(srv) : NULL;
	if (!srv->fsm || !srv->batch || !srv->lease || !srv->announce_timer || !srv->feed ||
	    session_reads_init(srv) != 0) {
		log_err("cannot start: out of memory");
		daemon_cleanup(&d);
		return CONFIG_EXIT_FAILURE;
	}
	memset(&rc, 0, sizeof(rc));
	rc.data_dir = raftdir;
	rc.id = (uint64_t)d.cfg.raft_id;
	rc.address = d.cfg.raft_address;
	rc.base = srv->base;
	rc.fsm.arg = srv->fsm;
	rc.fsm.apply = fsm_cb_apply;
	rc.fsm.snapshot = fsm_cb_snapshot;
	rc.fsm.restore = fsm_cb_restore;
	rc.snapshot_threshold = (unsigned)d.cfg.snapshot_threshold;
	rc.snapshot_trailing = (unsigned)d.cfg.snapshot_trailing;
	rc.election_timeout_ms = (unsigned)d.cfg.election_timeout_ms;
	rc.heartbeat_ms = (unsigned)d.cfg.heartbeat_ms;
	rc.on_leader_change = on_leader_change;
	rc.on_leader_change_arg = srv;
	rc.on_fatal = on_raft_fatal;
	rc.on_fatal_arg = srv;
	rc.join = d.cfg.join;
	rc.peers = rpeers;
	rc.n_peers = npeers;
	rc.tls_server = tls_holder_server(srv->tls);
	rc.tls_client = tls_holder_client(srv->tls);
	rc.client_address = d.cfg.listen;
	rc.authorize = authorize_peer;
	rc.authorize_arg = srv;
	srv->raft = raftsvc_start(&rc, err, sizeof(err));
	if (!srv->raft) {
		log_err("cannot start: raft: %s", err);
		daemon_cleanup(&d);
		return CONFIG_EXIT_RAFT;
	}
	srv->listener = listen_on(srv, d.cfg.listen, err, sizeof(err));
	if (!srv->listener) {
		log_err("cannot start: %s", err);
		daemon_cleanup(&d);
		return CONFIG_EXIT_LISTEN;
	}
	signals_start(&d.sig, srv->base, &daemon_signals, &d);
	{
		struct timeval every = {0, 200 * 1000};

		event_add(srv->announce_timer, &every);
	}
	if (server_is_leader(srv))
		on_leader_change(srv, true);
	log_notice("dmlogd %s ready id=%s listen=%s state_dir=%s raft_id=%llu raft_address=%s peers=%zu",
		   DMLOG_VERSION, srv->id, d.cfg.listen, d.cfg.state_dir,
		   (unsigned long long)srv->raft_id, d.cfg.raft_address, npeers);
	notify_ready("serving", err, sizeof(err));
	event_base_dispatch(srv->base);
	code = srv->failed ? CONFIG_EXIT_FAILURE : CONFIG_EXIT_OK;
	log_notice("dmlogd stopped");
	daemon_cleanup(&d);
	return code;
}
