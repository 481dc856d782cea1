/* main.c: dmlog-bridge, the daemon that answers the kernel's dm-log-userspace requests by
 * relaying them to dmlogd.
 *
 * One libevent loop runs everything: the kernel transport, the relay and libdmlog's connection.
 * Start-up steps, each with its own exit status (bridge_config.h): settings, the node
 * certificate, the transport (joining the connector group needs CAP_NET_ADMIN), the relay
 * (loads the TLS files), then readiness: the ready file (if configured) and sd_notify READY=1,
 * both only once the kernel's requests are being received — a mirror created before that fails
 * at once with "userspace log server not found".
 *
 * Signals: SIGTERM/SIGINT stop (outstanding requests get no reply; the kernel resends them to
 * the next bridge; clears already answered get up to BRIDGE_DRAIN_MS to reach dmlogd), SIGHUP reloads the settings and the TLS files (a new dmlogd connection; the
 * old one finishes what it carries), SIGUSR1 logs the counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "bridge_config.h"
#include "log.h"
#include "notify.h"
#include "relay.h"
#include "signals.h"
#include "transport.h"

#ifndef DMLOG_VERSION
#define DMLOG_VERSION "unknown"
#endif

/* How long a stopping bridge waits for the clears it answered early to reach dmlogd (each lost
 * one costs a region's resync); a second stop signal cuts it short. */
#define BRIDGE_DRAIN_MS 2000u

/* The options a SIGHUP hands to the relay (a new libdmlog handle). */
#define RELAY_KEYS                                                                              \
	(OPTAB_BIT(BRIDGE_SERVERS) | OPTAB_BIT(BRIDGE_CA_FILE) | OPTAB_BIT(BRIDGE_CERT_FILE) |  \
	 OPTAB_BIT(BRIDGE_KEY_FILE) | OPTAB_BIT(BRIDGE_VERIFY_NAME) |                           \
	 OPTAB_BIT(BRIDGE_NO_SERVER_POLICY) | OPTAB_BIT(BRIDGE_FAIL_AFTER) |                    \
	 OPTAB_BIT(BRIDGE_REQUEST_EXPIRY) | OPTAB_BIT(BRIDGE_CONNECT_TIMEOUT) |                 \
	 OPTAB_BIT(BRIDGE_RECONNECT_MIN) | OPTAB_BIT(BRIDGE_RECONNECT_MAX) |                    \
	 OPTAB_BIT(BRIDGE_KEEPALIVE))

struct bridge {
	struct bridge_config cfg;
	struct event_base *base;
	struct transport *t;
	struct relay *relay;
	struct signals sig;
	char node[64];
	bool ready_written;
};

/* Creates the ready file atomically (a temporary name, then rename) holding our pid. */
static int write_ready_file(const char *path, char *err, size_t errlen)
{
	char tmp[4200];
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dprintf(fd, "%ld\n", (long)getpid()) < 0 || fsync(fd) != 0) {
		rc = -errno;
		snprintf(err, errlen, "ready file %.512s: %s", tmp, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	if (rc == 0 && rename(tmp, path) != 0) {
		rc = -errno;
		snprintf(err, errlen, "ready file %.512s: %s", path, strerror(errno));
	}
	if (rc != 0)
		unlink(tmp);
	return rc;
}

static void apply_logging(const struct bridge_config *cfg)
{
	log_set_level((enum log_level)cfg->log_level);
	log_set_target((enum log_target)cfg->log_target);
	log_set_timestamps(cfg->log_timestamps);
}

static void reload(struct bridge *b)
{
	struct bridge_servers servers;
	struct relay_options o;
	uint64_t changed, ignored;
	char err[1024], names[512], node[64];

	notify_reloading("reloading", err, sizeof(err));
	if (bridge_config_reload(&b->cfg, &changed, &ignored, err, sizeof(err)) != 0) {
		log_err("reload: configuration kept: %s", err);
		notify_ready("relaying", err, sizeof(err));
		return;
	}
	apply_logging(&b->cfg);
	if (changed) {
		bridge_config_mask_names(changed, names, sizeof(names));
		log_notice("reload: applied %s", names);
	}
	if (ignored) {
		bridge_config_mask_names(ignored, names, sizeof(names));
		log_warning("reload: %s changed but need a restart", names);
	}
	/* The TLS files are read again even at unchanged paths (certificate rotation). */
	if (bridge_config_node_identity(b->cfg.cert_file, node, sizeof(node), err, sizeof(err)) !=
		    0 ||
	    bridge_config_relay_options(&b->cfg, &servers, &o, err, sizeof(err)) != 0 ||
	    relay_reconfigure(b->relay, &o, err, sizeof(err)) != 0) {
		log_err("reload: dmlogd connection kept: %s", err);
	} else {
		if (strcmp(node, b->node) != 0)
			log_warning("reload: the node is now %s (was %s): dmlogd sees a new node",
				    log_q(node).s, log_q(b->node).s);
		snprintf(b->node, sizeof(b->node), "%s", node);
		log_notice("reload: new dmlogd connection node=%s relay_options=%s", b->node,
			   changed & RELAY_KEYS ? "changed" : "same");
	}
	notify_ready("relaying", err, sizeof(err));
}

static void on_reload_signal(void *arg)
{
	reload(arg);
}

static void on_dump_signal(void *arg)
{
	relay_dump(((struct bridge *)arg)->relay);
}

static const struct signals_ops bridge_signals = {NULL, on_reload_signal, on_dump_signal};

static void cleanup(struct bridge *b)
{
	signals_stop(&b->sig);
	relay_free(b->relay);
	transport_free(b->t);
	if (b->base != NULL) {
		/* libdmlog releases its connection from callbacks it queued: let them run */
		event_base_loop(b->base, EVLOOP_NONBLOCK);
		event_base_loop(b->base, EVLOOP_NONBLOCK);
		event_base_free(b->base);
	}
	if (b->ready_written)
		unlink(b->cfg.ready_file);
	bridge_config_free(&b->cfg);
}

/* Everything after the settings: returns the exit status. */
static int run(struct bridge *b)
{
	struct bridge_servers servers;
	struct relay_options o;
	char err[1024];

	b->base = event_base_new();
	if (b->base == NULL) {
		log_err("cannot start: out of memory");
		return BRIDGE_EXIT_FAILURE;
	}
	if (bridge_config_node_identity(b->cfg.cert_file, b->node, sizeof(b->node), err,
					sizeof(err)) != 0) {
		log_err("cannot start: TLS: %s", err);
		return BRIDGE_EXIT_TLS;
	}
	if (bridge_config_relay_options(&b->cfg, &servers, &o, err, sizeof(err)) != 0) {
		log_err("cannot start: %s", err);
		return BRIDGE_EXIT_USAGE;
	}
	b->t = transport_open(b->base, b->cfg.transport, (size_t)b->cfg.rcvbuf, err, sizeof(err));
	if (b->t == NULL) {
		log_err("cannot start: %s", err);
		return BRIDGE_EXIT_TRANSPORT;
	}
	b->relay = relay_new(b->base, b->t, &o, err, sizeof(err));
	if (b->relay == NULL) {
		log_err("cannot start: TLS: %s", err);
		return BRIDGE_EXIT_TLS;
	}
	if (signals_start(&b->sig, b->base, &bridge_signals, b) != 0) {
		log_err("cannot start: signal handler: out of memory");
		return BRIDGE_EXIT_FAILURE;
	}
	if (b->cfg.ready_file[0] != '\0') {
		if (write_ready_file(b->cfg.ready_file, err, sizeof(err)) != 0) {
			log_err("cannot start: %s", err);
			return BRIDGE_EXIT_READY;
		}
		b->ready_written = true;
	}
	log_notice("dmlog-bridge %s ready node=%s transport=%s servers=%s policy=%s",
		   DMLOG_VERSION, b->node, log_q(transport_name(b->t)).s, b->cfg.servers,
		   b->cfg.no_server_policy == RELAY_POLICY_FAIL ? "fail" : "wait");
	if (notify_ready("relaying", err, sizeof(err)) != 0)
		log_warning("sd_notify: %s", err);
	event_base_dispatch(b->base);
	relay_drain(b->relay, BRIDGE_DRAIN_MS);
	log_notice("dmlog-bridge stopped");
	return BRIDGE_EXIT_OK;
}

int main(int argc, char *argv[])
{
	static struct bridge b;
	enum optab_action action = OPTAB_ACTION_RUN;
	char err[1024];
	int load, code;

	log_init("dmlog-bridge");
	load = bridge_config_from_args(&b.cfg, argc, argv, &action, err, sizeof(err));
	code = bridge_config_run_action(action, load, err, &b.cfg, "dmlog-bridge", stdout, stderr);
	if (code >= 0) {
		bridge_config_free(&b.cfg);
		return code;
	}
	apply_logging(&b.cfg);
	signal(SIGPIPE, SIG_IGN);
	code = run(&b);
	cleanup(&b);
	return code;
}
