/* bridge_config.h: dmlog-bridge's settings — one table of options (bridge_config.c) driven by the
 * generic machinery of server/optab.h: the INI file (/etc/dmlog/dmlog-bridge.ini by default),
 * --key=value overrides, --help, --check-config, --print-config, --print-default-config (which
 * makes deploy/dmlog-bridge.ini) and SIGHUP reloads.
 *
 * Ownership: a struct bridge_config owns its strings; bridge_config_free() releases them.
 * Main thread only.
 */
#ifndef DMLOG_BRIDGE_CONFIG_H
#define DMLOG_BRIDGE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <dmlog/dmlog.h>

#include "optab.h"
#include "relay.h"

#define BRIDGE_CONFIG_DEFAULT_PATH "/etc/dmlog/dmlog-bridge.ini"

/* Exit statuses of dmlog-bridge, one per failed start step (deploy/dmlog-bridge.service keeps
 * systemd from restarting on the ones a restart cannot fix). */
enum bridge_exit {
	BRIDGE_EXIT_OK = OPTAB_EXIT_OK,
	BRIDGE_EXIT_FAILURE = OPTAB_EXIT_FAILURE, /* runtime failure; --check-config failed */
	BRIDGE_EXIT_USAGE = OPTAB_EXIT_USAGE,     /* bad command line or configuration */
	BRIDGE_EXIT_TLS = 3,       /* the CA, certificate or key could not be loaded */
	BRIDGE_EXIT_TRANSPORT = 4, /* the kernel connector (or the test socket) did not open */
	BRIDGE_EXIT_READY = 5,     /* the ready file could not be written */
};

/* One key per option, in table order; also the option's bit in a reload mask. */
enum bridge_key {
	BRIDGE_SERVERS,
	BRIDGE_CA_FILE,
	BRIDGE_CERT_FILE,
	BRIDGE_KEY_FILE,
	BRIDGE_VERIFY_NAME,
	BRIDGE_TRANSPORT,
	BRIDGE_NO_SERVER_POLICY,
	BRIDGE_FAIL_AFTER,
	BRIDGE_REQUEST_EXPIRY,
	BRIDGE_CONNECT_TIMEOUT,
	BRIDGE_RECONNECT_MIN,
	BRIDGE_RECONNECT_MAX,
	BRIDGE_KEEPALIVE,
	BRIDGE_MAX_OUTSTANDING,
	BRIDGE_RCVBUF,
	BRIDGE_READY_FILE,
	BRIDGE_REFRESH_AFTER_LOSS,
	BRIDGE_EARLY_CLEAR_ACK,
	BRIDGE_LOG_LEVEL,
	BRIDGE_LOG_TARGET,
	BRIDGE_LOG_TIMESTAMPS,
	BRIDGE__COUNT
};

/* The effective settings. Strings are owned; durations in ms, sizes in bytes. */
struct bridge_config {
	char *servers;            /* "HOST:PORT,HOST:PORT" */
	char *ca_file;
	char *cert_file;
	char *key_file;
	char *verify_name;        /* "" = the host of each address */
	char *transport;          /* "netlink" or "dgram:PATH" */
	int no_server_policy;     /* enum relay_policy */
	int64_t fail_after_ms;
	int64_t request_expiry_ms;
	int64_t connect_timeout_ms;
	int64_t reconnect_min_ms;
	int64_t reconnect_max_ms;
	int64_t keepalive_ms;
	int64_t max_outstanding;
	int64_t rcvbuf;
	char *ready_file;         /* "" = none */
	bool refresh_after_loss;  /* suspend/resume a mirror dmlogd had lost (dm_refresh.h) */
	bool early_clear_ack;     /* answer a valid CLEAR_REGION before dmlogd has it */
	int log_level;            /* enum log_level */
	int log_target;           /* enum log_target */
	bool log_timestamps;

	struct optab_sources src; /* where the settings came from, for reloads */
};

/* The server addresses of a servers list, split ("" entries are errors). */
struct bridge_servers {
	size_t count;
	char addr[DMLOG_MAX_SERVERS][272];
};

/* The row of key, or NULL. */
const struct optab_option *bridge_config_option(enum bridge_key key);

/* Defaults (any previous content is overwritten). 0 or -ENOMEM. */
int bridge_config_init(struct bridge_config *cfg);

/* Frees what cfg owns and zeroes it. A zeroed cfg is fine. */
void bridge_config_free(struct bridge_config *cfg);

/* Sets one option as the file would. 0 or -EINVAL/-ENOMEM with err "NAME: cause". */
int bridge_config_set(struct bridge_config *cfg, const char *name, const char *value, char *err,
		      size_t errlen);

/* Reads an INI file into cfg, on top of what it holds (see optab_load_file()). */
int bridge_config_load_file(struct bridge_config *cfg, const char *path, char *err,
			    size_t errlen);

/* True when a and b hold the same value for key. */
bool bridge_config_same(const struct bridge_config *a, const struct bridge_config *b,
			enum bridge_key key);

/* The rules between options (reconnect_min at most reconnect_max). 0 or -EINVAL with err. */
int bridge_config_validate(const struct bridge_config *cfg, char *err, size_t errlen);

/* Builds cfg from the command line (see optab_from_args()). cfg must be bridge_config_free()d
 * whatever the result. 0 or a negative errno with err. */
int bridge_config_from_args(struct bridge_config *cfg, int argc, char *const argv[],
			    enum optab_action *action, char *err, size_t errlen);

/* Re-reads the file with the same overrides; reloadable options change (*changed), the others
 * keep their values (*ignored). On error cfg is untouched. */
int bridge_config_reload(struct bridge_config *cfg, uint64_t *changed, uint64_t *ignored,
			 char *err, size_t errlen);

/* Writes the names of the options in mask ("servers,log_level"), or "none". */
void bridge_config_mask_names(uint64_t mask, char *buf, size_t len);

/* Splits a servers list. 0 or -EINVAL with err. */
int bridge_config_servers(const char *list, struct bridge_servers *out, char *err, size_t errlen);

/* The relay options of cfg; the server strings point into servers, which must outlive o.
 * 0 or -EINVAL with err. */
int bridge_config_relay_options(const struct bridge_config *cfg, struct bridge_servers *servers,
				struct relay_options *o, char *err, size_t errlen);

/* The CN of the certificate in cert_file when its one OU is dmlog-node (the node's identity,
 * as dmlogd will see it; name needs 64 bytes). 0, or a negative errno with err. */
int bridge_config_node_identity(const char *cert_file, char *name, size_t namelen, char *err,
				size_t errlen);

/* What --check-config does after parsing: loads the CA, certificate and key as libdmlog does,
 * checks that the certificate is a node certificate, and checks the transport spec. 0 or a
 * negative errno with err. */
int bridge_config_check(const struct bridge_config *cfg, char *err, size_t errlen);

/* Writes --help, generated from the table. */
void bridge_config_usage(FILE *out, const char *prog);

/* Writes the example file (deploy/dmlog-bridge.ini): every key documented and commented out
 * at its default. */
void bridge_config_print_default(FILE *out);

/* Finishes the actions that end the process (see optab_run_action()): -1 means "run". */
int bridge_config_run_action(enum optab_action action, int load_rc, const char *load_err,
			     const struct bridge_config *cfg, const char *prog, FILE *out,
			     FILE *errout);

#endif /* DMLOG_BRIDGE_CONFIG_H */
