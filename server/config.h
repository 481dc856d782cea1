/* config.h: dmlogd's settings — one table of options, the INI file, the command line, SIGHUP.
 *
 * Every setting is one row of a single table (config.c): its name, type, default, bounds, whether
 * SIGHUP reloads it and a one-line doc. The file parser, the command-line parser, --help, the
 * effective-config printer, the example file (deploy/dmlogd.ini) and the reload diff are all
 * driven by that table through the generic machinery of optab.h, so a new option is one new row
 * plus one field here. This file holds what is dmlogd's own: the table, the rules between
 * options, the peers list and the TLS check of --check-config.
 *
 * Precedence: built-in defaults, then the file (--config FILE, /etc/dmlog/dmlogd.ini by
 * default), then --key=value overrides from the command line. A reload repeats the same steps
 * with the same path and the same overrides.
 *
 * File syntax: "key = value" lines; blank lines and lines starting with '#' or ';' are ignored;
 * an unquoted value ends at a '#' or ';' preceded by whitespace; a value may be written in double
 * quotes (with \" and \\ escapes); an optional single "[dmlogd]" section header. Keys may be
 * spelled with '-' or '_'. Each key may appear once. Errors name the line: "dmlogd.ini:12:
 * unknown key 'lisen' (did you mean 'listen'?)".
 *
 * Value syntax by type: int: decimal; bool: yes/no, true/false, on/off, 1/0; duration:
 * an integer with ms, s, m or h (a bare number is milliseconds); size: an integer with K, M or G
 * (binary: 1K = 1024; KiB, MiB, GiB and B also accepted); address: HOST:PORT or [IPv6]:PORT;
 * name: 1-63 of [A-Za-z0-9._-] starting with a letter or digit (the peer's certificate CN).
 *
 * Ownership: a struct config owns its strings; config_free() releases them. Not thread-safe:
 * the main (libevent) thread loads and reloads; other threads get copies of what they need.
 */
#ifndef DMLOG_SERVER_CONFIG_H
#define DMLOG_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "optab.h"

#define CONFIG_DEFAULT_PATH "/etc/dmlog/dmlogd.ini"
/* Longest accepted line of the file, newline excluded. */
#define CONFIG_LINE_MAX OPTAB_LINE_MAX
/* Most entries in the peers list (a group has 3 or 5 voters; this is room to spare). */
#define CONFIG_PEERS_MAX 8

/* Exit statuses of dmlogd, one per failed start step (deploy/dmlogd.service documents them and
 * keeps systemd from restarting on the ones a restart cannot fix). */
enum config_exit {
	CONFIG_EXIT_OK = OPTAB_EXIT_OK,
	CONFIG_EXIT_FAILURE = OPTAB_EXIT_FAILURE, /* runtime failure; --check-config failed */
	CONFIG_EXIT_USAGE = OPTAB_EXIT_USAGE,     /* bad command line or configuration */
	/* The CA, certificate or key could not be loaded, or they do not fit (key of another
	 * certificate, not a dmlog-peer certificate, CN is not id); with no configuration at all,
	 * the development certificates could not be made. */
	CONFIG_EXIT_TLS = 3,
	/* The state directory could not be created or written, or another process holds its lock
	 * (STATE_DIR/dmlogd.lock: another dmlogd uses it). */
	CONFIG_EXIT_STATE = 4,
	/* The Raft service did not start: what it keeps in STATE_DIR/raft could not be loaded
	 * (unreadable or corrupt metadata, log, snapshot or incarnation file), raft_address could
	 * not be bound, or it did not come up in time. */
	CONFIG_EXIT_RAFT = 5,
	CONFIG_EXIT_LISTEN = 6,  /* the listening socket could not be opened */
};

/* One key per option, in table order; the key is also the option's bit in a reload mask. */
enum config_key {
	CONFIG_LISTEN,
	CONFIG_ID,
	CONFIG_RAFT_ID,
	CONFIG_RAFT_ADDRESS,
	CONFIG_PEERS,
	CONFIG_JOIN,
	CONFIG_STATE_DIR,
	CONFIG_CA_FILE,
	CONFIG_CERT_FILE,
	CONFIG_KEY_FILE,
	CONFIG_MAX_CONNECTIONS,
	CONFIG_MAX_FRAME,
	CONFIG_WRITE_HIGH_WATERMARK,
	CONFIG_IDLE_TIMEOUT,
	CONFIG_NODE_LEASE,
	CONFIG_DEDUP_WINDOW,
	CONFIG_EARLY_CLEAR_ACK,
	CONFIG_ELECTION_TIMEOUT,
	CONFIG_HEARTBEAT,
	CONFIG_SNAPSHOT_THRESHOLD,
	CONFIG_SNAPSHOT_TRAILING,
	CONFIG_LOG_LEVEL,
	CONFIG_LOG_TARGET,
	CONFIG_LOG_TIMESTAMPS,
	CONFIG__COUNT
};

#define CONFIG_BIT(key) OPTAB_BIT(key)

/* The rows of dmlogd's table are optab's generic rows (server/optab.h): config_option and
 * config_choice are their names here. */
#define config_option optab_option
#define config_choice optab_choice

/* The effective settings. Strings are owned; numbers are in ms (durations) or bytes (sizes). */
struct config {
	char *listen;
	char *id;
	int64_t raft_id;
	char *raft_address;
	char *peers;
	bool join;
	char *state_dir;
	char *ca_file;
	char *cert_file;
	char *key_file;
	int64_t max_connections;
	int64_t max_frame;
	int64_t write_high_watermark;
	int64_t idle_timeout_ms;
	int64_t node_lease_ms;
	int64_t dedup_window;
	bool early_clear_ack;
	int64_t election_timeout_ms;
	int64_t heartbeat_ms;
	int64_t snapshot_threshold;
	int64_t snapshot_trailing;
	int log_level;  /* enum log_level */
	int log_target; /* enum log_target */
	bool log_timestamps;

	/* Where the settings came from, for reloads. */
	char *path;          /* the file read (NULL: none) */
	bool path_explicit;  /* given with --config: a missing file is an error */
	char **overrides;    /* "key=value" from the command line, in order */
	size_t n_overrides;
};

/* What the command line asks for. */
enum config_action {
	CONFIG_ACTION_RUN = OPTAB_ACTION_RUN,
	CONFIG_ACTION_HELP = OPTAB_ACTION_HELP,
	CONFIG_ACTION_VERSION = OPTAB_ACTION_VERSION,
	CONFIG_ACTION_CHECK = OPTAB_ACTION_CHECK,       /* --check-config */
	CONFIG_ACTION_PRINT = OPTAB_ACTION_PRINT,       /* --print-config: the effective settings */
	CONFIG_ACTION_PRINT_DEFAULT = OPTAB_ACTION_PRINT_DEFAULT, /* --print-default-config */
};

/* One entry of the peers list. */
struct config_peer {
	uint64_t raft_id;
	char host[256];
	uint16_t port;
	char address[272]; /* "HOST:PORT" as written (brackets kept for IPv6) */
};

/* What a reload did. */
struct config_reload {
	uint64_t changed; /* CONFIG_BIT()s of reloadable options now holding a new value */
	uint64_t ignored; /* CONFIG_BIT()s of options whose new value waits for a restart */
};

/* The row of key. */
const struct config_option *config_option_get(enum config_key key);

/* The row named name ('-' and '_' alike), and its key in *key if key is not NULL; NULL if
 * there is none. */
const struct config_option *config_option_find(const char *name, enum config_key *key);

/* Fills cfg with the defaults (any previous content is overwritten, not freed). 0, or -ENOMEM
 * (cfg is then left freeable). */
int config_init(struct config *cfg);

/* Frees what cfg owns and zeroes it. A zeroed cfg is fine. */
void config_free(struct config *cfg);

/* Parses value for the option named name, checks type and bounds and stores it. On error cfg
 * is unchanged and err holds "NAME: cause". 0, -EINVAL (unknown name or bad value) or -ENOMEM. */
int config_set(struct config *cfg, const char *name, const char *value, char *err, size_t errlen);

/* Reads an INI file into cfg (on top of what cfg holds). On error err holds "PATH:LINE: cause"
 * or "open PATH: cause" and cfg may hold the lines before the bad one. 0, -EINVAL, -ENOMEM or
 * the -errno of open/read. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* The rules between options (heartbeat below election_timeout, peers distinct from each other
 * and from this server, ...). 0 or -EINVAL with err. */
int config_validate(const struct config *cfg, char *err, size_t errlen);

/* Builds cfg from the command line (argv[0] is the program): defaults, the file, then the
 * overrides, then config_validate(). *action is set from the flags before anything can fail, so
 * a caller can tell a failed --check-config apart. For HELP, VERSION and PRINT_DEFAULT no file
 * is read. cfg must be config_free()d whatever the result. 0, -EINVAL (err says why), -ENOMEM
 * or an -errno from reading the file. */
int config_from_args(struct config *cfg, int argc, char *const argv[], enum config_action *action,
		     char *err, size_t errlen);

/* Re-reads cfg's file with cfg's overrides. If anything fails, cfg is untouched and the error is
 * returned. Otherwise reloadable options take their new values (res->changed) and the others
 * keep theirs (res->ignored names those whose new value needs a restart). */
int config_reload(struct config *cfg, struct config_reload *res, char *err, size_t errlen);

/* Writes the value of key as the file would spell it ("1MiB", "60s", "notice"). Returns the
 * length it needed (snprintf-like). */
int config_format(const struct config *cfg, enum config_key key, char *buf, size_t len);

/* True when a and b hold the same value for key. */
bool config_same(const struct config *a, const struct config *b, enum config_key key);

/* Writes the names of the options in mask, comma-separated ("log_level,ca_file"), or "none". */
void config_mask_names(uint64_t mask, char *buf, size_t len);

/* Splits "HOST:PORT" or "[IPv6]:PORT" (port 1-65535). host gets the host without brackets.
 * 0 or -EINVAL with err. */
int config_split_address(const char *addr, char *host, size_t hostlen, uint16_t *port, char *err,
			 size_t errlen);

/* Parses a peers list ("" gives none). At most max entries. 0 or -EINVAL with err. */
int config_parse_peers(const char *list, struct config_peer *out, size_t max, size_t *n, char *err,
		       size_t errlen);

/* Writes the effective settings as a valid INI file. Only paths of the TLS files are printed,
 * never their contents. */
void config_print(const struct config *cfg, FILE *out);

/* Writes the example file: every key documented and commented out at its default (this is how
 * deploy/dmlogd.ini is made). */
void config_print_default(FILE *out);

/* Writes --help, generated from the table. */
void config_usage(FILE *out, const char *prog);

/* What --check-config does after a successful parse: loads the CA, certificate and key as the
 * server would (tls_holder_new(): key matches, certificate verifies against the CA and is a
 * dmlog-peer one) and checks that the certificate's CN is cfg->id. 0 or a negative errno with
 * err. */
int config_check(const struct config *cfg, char *err, size_t errlen);

/* Finishes the actions that end the process. Given the action and the result of
 * config_from_args() (load_rc, load_err), prints what the action prints (results on out,
 * errors as "PROG: error" on errout) and returns the exit status; for CONFIG_ACTION_RUN with
 * load_rc == 0 returns -1: go on and start. A load error gives CONFIG_EXIT_USAGE, except under
 * --check-config, which exits 1 ("config OK" and 0 when everything loads). */
int config_run_action(enum config_action action, int load_rc, const char *load_err,
		      const struct config *cfg, const char *prog, FILE *out, FILE *errout);

#endif
