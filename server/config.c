/* config.c: the table of dmlogd's options, the rules between them, and dmlogd's wrappers around
 * the generic machinery of optab.c.
 *
 * config_table is the single source of truth: parsing (file and command line), bounds, --help,
 * the printed effective settings, the example file and the reload diff all walk it (optab.c does
 * the walking). What is dmlogd's own stays here: the rows, the identity and peers-list checks,
 * config_validate(), the TLS check of --check-config and the texts of --help and the example
 * file. See config.h for the syntax and the precedence rules.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tls.h"

#ifndef DMLOG_VERSION
#define DMLOG_VERSION "unknown"
#endif

#define KIB INT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define SEC INT64_C(1000)
#define MIN (SEC * 60)
#define HOUR (MIN * 60)

#define CONFIG_STR(x) #x
#define CONFIG_XSTR(x) CONFIG_STR(x)
#define CONFIG_PEERS_VALUES "RAFT_ID@HOST:PORT,... at most " CONFIG_XSTR(CONFIG_PEERS_MAX)

/* id: a name as a certificate CN carries it. */
static int config_check_name(const struct optab_option *o, const char *v, char *err,
			     size_t errlen)
{
	if (tls_identity_valid(v))
		return 0;
	snprintf(err, errlen,
		 "%s: '%.64s' is not 1-63 of A-Z a-z 0-9 . _ - starting with a letter or digit",
		 o->name, v);
	return -EINVAL;
}

/* peers: a list config_parse_peers() accepts. */
static int config_check_peers(const struct optab_option *o, const char *v, char *err,
			      size_t errlen)
{
	struct config_peer peers[CONFIG_PEERS_MAX];
	char why[300];
	size_t count;

	if (config_parse_peers(v, peers, CONFIG_PEERS_MAX, &count, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s", o->name, why);
	return -EINVAL;
}

static const struct optab_choice config_levels[] = {
	{"err", LOG_LEVEL_ERR},   {"warning", LOG_LEVEL_WARNING}, {"notice", LOG_LEVEL_NOTICE},
	{"info", LOG_LEVEL_INFO}, {"debug", LOG_LEVEL_DEBUG},     {NULL, 0},
};

static const struct optab_choice config_targets[] = {
	{"stderr", LOG_TARGET_STDERR},
	{"syslog", LOG_TARGET_SYSLOG},
	{NULL, 0},
};

#define AT(field) offsetof(struct config, field)

/* The options. Keep docs to one line: they become --help and deploy/dmlogd.ini. */
static const struct optab_option config_table[CONFIG__COUNT] = {
	[CONFIG_LISTEN] = {"listen", OPTAB_T_ADDRESS, AT(listen), "127.0.0.1:7788", 0, 0, NULL,
			   false,
			   "where nodes (dmlog-bridge) and admins (dmlogctl) connect, mutual TLS",
			   "HOST:PORT", NULL, NULL},
	[CONFIG_ID] = {"id", OPTAB_T_CUSTOM, AT(id), "dmlogd1", 1, 63, NULL, false,
		       "this peer's name; must be the CN of cert_file", "NAME",
		       config_check_name, "1-63 of A-Z a-z 0-9 . _ -"},
	[CONFIG_RAFT_ID] = {"raft_id", OPTAB_T_INT, AT(raft_id), "1", 1, INT64_C(4294967295), NULL,
			    false, "this peer's Raft server id, unique in the group, never reused",
			    "N", NULL, NULL},
	[CONFIG_RAFT_ADDRESS] = {"raft_address", OPTAB_T_ADDRESS, AT(raft_address),
				 "127.0.0.1:7789", 0, 0, NULL, false,
				 "where the other peers reach this peer's Raft traffic",
				 "HOST:PORT", NULL, NULL},
	[CONFIG_PEERS] = {"peers", OPTAB_T_CUSTOM, AT(peers), "", 0, 0, NULL, false,
			  "the other peers as RAFT_ID@HOST:PORT (their raft_address), "
			  "comma-separated; empty: standalone",
			  "LIST", config_check_peers, CONFIG_PEERS_VALUES},
	[CONFIG_JOIN] = {"join", OPTAB_T_BOOL, AT(join), "no", 0, 0, NULL, false,
			 "with an empty state_dir, wait to be added (dmlogctl peer add) instead of "
			 "bootstrapping a new group",
			 "yes|no", NULL, NULL},
	[CONFIG_STATE_DIR] = {"state_dir", OPTAB_T_STRING, AT(state_dir), "/var/lib/dmlog", 1,
			      4095, NULL, false,
			      "directory of the Raft log and snapshots (created mode 0700)", "DIR",
			      NULL, NULL},
	[CONFIG_CA_FILE] = {"ca_file", OPTAB_T_STRING, AT(ca_file), "/etc/dmlog/tls/ca.crt", 1,
			    4095, NULL, true,
			    "the dmlog CA (PEM); only certificates it signed are accepted", "FILE",
			    NULL, NULL},
	[CONFIG_CERT_FILE] = {"cert_file", OPTAB_T_STRING, AT(cert_file),
			      "/etc/dmlog/tls/peer-dmlogd1.crt", 1, 4095, NULL, true,
			      "this peer's certificate (PEM; OU=dmlog-peer, CN=id)", "FILE",
			      NULL, NULL},
	[CONFIG_KEY_FILE] = {"key_file", OPTAB_T_STRING, AT(key_file),
			     "/etc/dmlog/tls/peer-dmlogd1.key", 1, 4095, NULL, true,
			     "its private key (unencrypted PEM, keep it mode 0600)", "FILE",
			     NULL, NULL},
	[CONFIG_MAX_CONNECTIONS] = {"max_connections", OPTAB_T_INT, AT(max_connections), "1024",
				    1, 1000000, NULL, true,
				    "most client connections at once; more are refused", "N",
				    NULL, NULL},
	[CONFIG_MAX_FRAME] = {"max_frame", OPTAB_T_SIZE, AT(max_frame), "1MiB", 4 * KIB, 64 * MIB,
			      NULL, false, "largest frame accepted or sent (length + message)",
			      "SIZE", NULL, NULL},
	[CONFIG_WRITE_HIGH_WATERMARK] = {"write_high_watermark", OPTAB_T_SIZE,
					 AT(write_high_watermark), "4MiB", 64 * KIB, GIB, NULL,
					 false,
					 "queued output per connection that pauses reading it",
					 "SIZE", NULL, NULL},
	[CONFIG_IDLE_TIMEOUT] = {"idle_timeout", OPTAB_T_DURATION, AT(idle_timeout_ms), "1m",
				 SEC, 24 * HOUR, NULL, true,
				 "close a connection that sent nothing for this long", "DURATION",
				 NULL, NULL},
	[CONFIG_NODE_LEASE] = {"node_lease", OPTAB_T_DURATION, AT(node_lease_ms), "10s", SEC,
			       HOUR, NULL, false,
			       "a node silent this long loses its marks (its regions stay dirty)",
			       "DURATION", NULL, NULL},
	[CONFIG_DEDUP_WINDOW] = {"dedup_window", OPTAB_T_INT, AT(dedup_window), "4096", 16,
				 1048576, NULL, false,
				 "results remembered per client to answer retries exactly once",
				 "N", NULL, NULL},
	[CONFIG_EARLY_CLEAR_ACK] = {"early_clear_ack", OPTAB_T_BOOL, AT(early_clear_ack), "yes", 0,
				    0, NULL, false,
				    "answer a valid CLEAR_REGION before its commit (a lost clear "
				    "only leaves its region dirty)",
				    "yes|no", NULL, NULL},
	[CONFIG_ELECTION_TIMEOUT] = {"election_timeout", OPTAB_T_DURATION,
				     AT(election_timeout_ms), "300ms", 50, 60 * SEC, NULL, false,
				     "Raft election timeout", "DURATION", NULL, NULL},
	[CONFIG_HEARTBEAT] = {"heartbeat", OPTAB_T_DURATION, AT(heartbeat_ms), "30ms", 5,
			      10 * SEC, NULL, false,
			      "Raft heartbeat interval, below election_timeout", "DURATION",
			      NULL, NULL},
	[CONFIG_SNAPSHOT_THRESHOLD] = {"snapshot_threshold", OPTAB_T_INT, AT(snapshot_threshold),
				       "16384", 64, INT64_C(2147483647), NULL, false,
				       "Raft entries between two snapshots", "N", NULL, NULL},
	[CONFIG_SNAPSHOT_TRAILING] = {"snapshot_trailing", OPTAB_T_INT, AT(snapshot_trailing),
				      "4096", 0, INT64_C(2147483647), NULL, false,
				      "Raft entries kept after a snapshot for lagging peers", "N",
				      NULL, NULL},
	[CONFIG_LOG_LEVEL] = {"log_level", OPTAB_T_ENUM, AT(log_level), "notice", 0, 0,
			      config_levels, true, "least important messages logged", "LEVEL",
			      NULL, NULL},
	[CONFIG_LOG_TARGET] = {"log_target", OPTAB_T_ENUM, AT(log_target), "stderr", 0, 0,
			       config_targets, true,
			       "stderr (journald under systemd) or syslog", "TARGET", NULL, NULL},
	[CONFIG_LOG_TIMESTAMPS] = {"log_timestamps", OPTAB_T_BOOL, AT(log_timestamps), "no", 0, 0,
				   NULL, true,
				   "stamp stderr lines with the time (journald stamps its own)",
				   "BOOL", NULL, NULL},
};

static int config_validate_obj(const void *obj, char *err, size_t errlen)
{
	return config_validate(obj, err, errlen);
}

static const struct optab config_optab = {
	.rows = config_table,
	.count = CONFIG__COUNT,
	.size = sizeof(struct config),
	.section = "dmlogd",
	.program = "dmlogd",
	.version = DMLOG_VERSION,
	.validate = config_validate_obj,
};

const struct config_option *config_option_get(enum config_key key)
{
	return key < CONFIG__COUNT ? &config_table[key] : NULL;
}

const struct config_option *config_option_find(const char *name, enum config_key *key)
{
	size_t k;
	const struct optab_option *o = optab_find(&config_optab, name, strlen(name), &k);

	if (o != NULL && key != NULL)
		*key = (enum config_key)k;
	return o;
}

int config_split_address(const char *addr, char *host, size_t hostlen, uint16_t *port, char *err,
			 size_t errlen)
{
	return optab_split_address(addr, host, hostlen, port, err, errlen);
}

int config_parse_peers(const char *list, struct config_peer *out, size_t max, size_t *n, char *err,
		       size_t errlen)
{
	const char *p = list;
	char item[300];

	*n = 0;
	p += strspn(p, " \t");
	if (*p == '\0')
		return 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *at, *rest;
		struct config_peer peer;
		int64_t id = 0;

		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof(item)) {
			snprintf(err, errlen, "%s entry in the peers list",
				 len == 0 ? "empty" : "too long an");
			return -EINVAL;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		at = strchr(item, '@');
		rest = at != NULL ? optab_digits(item, &id) : NULL;
		if (rest != at || rest == NULL || id < 1 || id > INT64_C(4294967295)) {
			snprintf(err, errlen, "peer '%s' is not RAFT_ID@HOST:PORT", item);
			return -EINVAL;
		}
		if (config_split_address(at + 1, peer.host, sizeof(peer.host), &peer.port, err,
					 errlen) != 0)
			return -EINVAL;
		peer.raft_id = (uint64_t)id;
		snprintf(peer.address, sizeof(peer.address), "%s", at + 1);
		for (size_t i = 0; i < *n; i++) {
			if (out[i].raft_id == peer.raft_id) {
				snprintf(err, errlen, "raft id %" PRIu64 " appears twice in peers",
					 peer.raft_id);
				return -EINVAL;
			}
		}
		if (*n == max) {
			snprintf(err, errlen, "more than %zu peers", max);
			return -EINVAL;
		}
		out[(*n)++] = peer;
		p += strcspn(p, ",");
		if (*p == '\0')
			return 0;
		p++;
		p += strspn(p, " \t");
	}
}

int config_set(struct config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
	return optab_set(&config_optab, cfg, name, value, err, errlen);
}

int config_init(struct config *cfg)
{
	return optab_init(&config_optab, cfg);
}

/* The sources of a struct config, as optab keeps them. */
static struct optab_sources config_sources(const struct config *cfg)
{
	struct optab_sources src = {cfg->path, cfg->path_explicit, cfg->overrides,
				    cfg->n_overrides};

	return src;
}

void config_free(struct config *cfg)
{
	struct optab_sources src = config_sources(cfg);

	optab_free(&config_optab, cfg);
	optab_sources_free(&src);
	memset(cfg, 0, sizeof(*cfg));
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	return optab_load_file(&config_optab, cfg, path, err, errlen);
}

int config_validate(const struct config *cfg, char *err, size_t errlen)
{
	struct config_peer peers[CONFIG_PEERS_MAX];
	char why[300];
	size_t n;

	if (cfg->heartbeat_ms >= cfg->election_timeout_ms) {
		snprintf(err, errlen,
			 "heartbeat (%" PRId64 "ms) must be below election_timeout (%" PRId64 "ms)",
			 cfg->heartbeat_ms, cfg->election_timeout_ms);
		return -EINVAL;
	}
	if (strcmp(cfg->listen, cfg->raft_address) == 0) {
		snprintf(err, errlen, "listen and raft_address are both %s", cfg->listen);
		return -EINVAL;
	}
	if (config_parse_peers(cfg->peers, peers, CONFIG_PEERS_MAX, &n, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "peers: %s", why);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (peers[i].raft_id == (uint64_t)cfg->raft_id) {
			snprintf(err, errlen, "peers: raft id %" PRIu64 " is this peer's raft_id",
				 peers[i].raft_id);
			return -EINVAL;
		}
		if (strcmp(peers[i].address, cfg->raft_address) == 0) {
			snprintf(err, errlen, "peers: %s is this peer's raft_address",
				 peers[i].address);
			return -EINVAL;
		}
	}
	return 0;
}

int config_from_args(struct config *cfg, int argc, char *const argv[], enum config_action *action,
		     char *err, size_t errlen)
{
	struct optab_sources src;
	enum optab_action act;
	int rc;

	rc = optab_from_args(&config_optab, cfg, &src, argc, argv, CONFIG_DEFAULT_PATH, &act, err,
			     errlen);
	*action = (enum config_action)act;
	/* The sources stay with cfg, for reloads. */
	cfg->path = src.path;
	cfg->path_explicit = src.path_explicit;
	cfg->overrides = src.overrides;
	cfg->n_overrides = src.n_overrides;
	return rc;
}

bool config_same(const struct config *a, const struct config *b, enum config_key key)
{
	return optab_same(&config_optab, a, b, key);
}

int config_reload(struct config *cfg, struct config_reload *res, char *err, size_t errlen)
{
	struct optab_sources src = config_sources(cfg);

	return optab_reload(&config_optab, cfg, &src, &res->changed, &res->ignored, err, errlen);
}

int config_format(const struct config *cfg, enum config_key key, char *buf, size_t len)
{
	return optab_format(&config_optab, cfg, key, buf, len);
}

void config_mask_names(uint64_t mask, char *buf, size_t len)
{
	optab_mask_names(&config_optab, mask, buf, len);
}

void config_print(const struct config *cfg, FILE *out)
{
	optab_print(&config_optab, cfg, cfg->path, out);
}

void config_print_default(FILE *out)
{
	optab_print_default(&config_optab,
			    "# dmlogd.ini: configuration of dmlogd, the dmlog server.\n"
			    "#\n"
			    "# Every setting is listed with its default, commented out.\n"
			    "# Syntax: 'key = value'; '#' or ';' starts a comment; values may be\n"
			    "# double-quoted. Durations take ms, s, m or h; sizes take K, M or G\n"
			    "# (1K = 1024). Any key can be overridden on the command line as\n"
			    "# --key=value. Settings marked 'reloaded on SIGHUP' change with\n"
			    "# 'systemctl reload dmlogd'; the others need a restart.\n"
			    "# Check a file with 'dmlogd --config FILE --check-config'.\n"
			    "# Generated by 'dmlogd --print-default-config'.\n",
			    out);
}

void config_usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [--config FILE] [--check-config] [--KEY=VALUE]...\n"
		"dmlogd, the dmlog server: a cluster-coherent dirty log for device-mapper\n"
		"mirrors.\n"
		"\n"
		"  --config FILE           settings file (default %s)\n"
		"  --check-config          check the settings, load the TLS files, "
		"print \"config OK\"\n"
		"  --print-config          print the effective settings\n"
		"  --print-default-config  print every setting at its default, documented\n"
		"  -h, --help              this help\n"
		"  -V, --version           the version\n"
		"\n"
		"Settings: 'KEY = VALUE' in the file, --KEY=VALUE or --KEY VALUE here (the command "
		"line wins;\n'-' and '_' are alike). [R]: reloaded on SIGHUP.\n",
		prog, CONFIG_DEFAULT_PATH);
	optab_usage(&config_optab, out);
}

int config_check(const struct config *cfg, char *err, size_t errlen)
{
	struct tls_files files = {cfg->ca_file, cfg->cert_file, cfg->key_file};
	struct tls_holder *h = tls_holder_new(&files, cfg->id, err, errlen);

	if (h == NULL)
		return -EINVAL;
	tls_holder_free(h);
	return 0;
}

static int config_check_obj(const void *obj, char *err, size_t errlen)
{
	return config_check(obj, err, errlen);
}

static const char *config_path_of(const void *obj)
{
	return ((const struct config *)obj)->path;
}

int config_run_action(enum config_action action, int load_rc, const char *load_err,
		      const struct config *cfg, const char *prog, FILE *out, FILE *errout)
{
	static const struct optab_program program = {
		.table = &config_optab,
		.usage = config_usage,
		.print_default = config_print_default,
		.check = config_check_obj,
		.path = config_path_of,
	};

	return optab_run_action(&program, (enum optab_action)action, load_rc, load_err, cfg, prog,
				out, errout);
}
