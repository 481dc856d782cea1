/* config.c: the table of dmlogd's options and everything driven by it.
 *
 * config_table is the single source of truth: parsing (file and command line), bounds, --help,
 * the printed effective settings, the example file and the reload diff all walk it. A value is
 * always parsed and checked completely before it replaces the stored one, so an error never
 * leaves an option half-set. See config.h for the syntax and the precedence rules.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static const struct config_choice config_levels[] = {
	{"err", LOG_LEVEL_ERR},   {"warning", LOG_LEVEL_WARNING}, {"notice", LOG_LEVEL_NOTICE},
	{"info", LOG_LEVEL_INFO}, {"debug", LOG_LEVEL_DEBUG},     {NULL, 0},
};

static const struct config_choice config_targets[] = {
	{"stderr", LOG_TARGET_STDERR},
	{"syslog", LOG_TARGET_SYSLOG},
	{NULL, 0},
};

#define AT(field) offsetof(struct config, field)

/* The options. Keep docs to one line: they become --help and deploy/dmlogd.ini. */
static const struct config_option config_table[CONFIG__COUNT] = {
	[CONFIG_LISTEN] = {"listen", CONFIG_T_ADDRESS, AT(listen), "127.0.0.1:7788", 0, 0, NULL,
			   false,
			   "where nodes (dmlog-bridge) and admins (dmlogctl) connect, mutual TLS",
			   "HOST:PORT"},
	[CONFIG_ID] = {"id", CONFIG_T_NAME, AT(id), "dmlogd1", 1, 63, NULL, false,
		       "this peer's name; must be the CN of cert_file", "NAME"},
	[CONFIG_RAFT_ID] = {"raft_id", CONFIG_T_INT, AT(raft_id), "1", 1, INT64_C(4294967295), NULL,
			    false, "this peer's Raft server id, unique in the group, never reused",
			    "N"},
	[CONFIG_RAFT_ADDRESS] = {"raft_address", CONFIG_T_ADDRESS, AT(raft_address),
				 "127.0.0.1:7789", 0, 0, NULL, false,
				 "where the other peers reach this peer's Raft traffic",
				 "HOST:PORT"},
	[CONFIG_PEERS] = {"peers", CONFIG_T_PEERS, AT(peers), "", 0, 0, NULL, false,
			  "the other peers as RAFT_ID@HOST:PORT (their raft_address), "
			  "comma-separated; empty: standalone",
			  "LIST"},
	[CONFIG_STATE_DIR] = {"state_dir", CONFIG_T_STRING, AT(state_dir), "/var/lib/dmlog", 1,
			      4095, NULL, false,
			      "directory of the Raft log and snapshots (created mode 0700)", "DIR"},
	[CONFIG_CA_FILE] = {"ca_file", CONFIG_T_STRING, AT(ca_file), "/etc/dmlog/tls/ca.crt", 1,
			    4095, NULL, true,
			    "the dmlog CA (PEM); only certificates it signed are accepted", "FILE"},
	[CONFIG_CERT_FILE] = {"cert_file", CONFIG_T_STRING, AT(cert_file),
			      "/etc/dmlog/tls/peer-dmlogd1.crt", 1, 4095, NULL, true,
			      "this peer's certificate (PEM; OU=dmlog-peer, CN=id)", "FILE"},
	[CONFIG_KEY_FILE] = {"key_file", CONFIG_T_STRING, AT(key_file),
			     "/etc/dmlog/tls/peer-dmlogd1.key", 1, 4095, NULL, true,
			     "its private key (unencrypted PEM, keep it mode 0600)", "FILE"},
	[CONFIG_MAX_CONNECTIONS] = {"max_connections", CONFIG_T_INT, AT(max_connections), "1024",
				    1, 1000000, NULL, true,
				    "most client connections at once; more are refused", "N"},
	[CONFIG_MAX_FRAME] = {"max_frame", CONFIG_T_SIZE, AT(max_frame), "1MiB", 4 * KIB, 64 * MIB,
			      NULL, false, "largest frame accepted or sent (length + message)",
			      "SIZE"},
	[CONFIG_WRITE_HIGH_WATERMARK] = {"write_high_watermark", CONFIG_T_SIZE,
					 AT(write_high_watermark), "4MiB", 64 * KIB, GIB, NULL,
					 false,
					 "queued output per connection that pauses reading it",
					 "SIZE"},
	[CONFIG_IDLE_TIMEOUT] = {"idle_timeout", CONFIG_T_DURATION, AT(idle_timeout_ms), "1m",
				 SEC, 24 * HOUR, NULL, true,
				 "close a connection that sent nothing for this long", "DURATION"},
	[CONFIG_NODE_LEASE] = {"node_lease", CONFIG_T_DURATION, AT(node_lease_ms), "10s", SEC,
			       HOUR, NULL, false,
			       "a node silent this long loses its marks (its regions stay dirty)",
			       "DURATION"},
	[CONFIG_DEDUP_WINDOW] = {"dedup_window", CONFIG_T_INT, AT(dedup_window), "4096", 16,
				 1048576, NULL, false,
				 "results remembered per client to answer retries exactly once",
				 "N"},
	[CONFIG_ELECTION_TIMEOUT] = {"election_timeout", CONFIG_T_DURATION,
				     AT(election_timeout_ms), "300ms", 50, 60 * SEC, NULL, false,
				     "Raft election timeout", "DURATION"},
	[CONFIG_HEARTBEAT] = {"heartbeat", CONFIG_T_DURATION, AT(heartbeat_ms), "30ms", 5,
			      10 * SEC, NULL, false,
			      "Raft heartbeat interval, below election_timeout", "DURATION"},
	[CONFIG_SNAPSHOT_THRESHOLD] = {"snapshot_threshold", CONFIG_T_INT, AT(snapshot_threshold),
				       "16384", 64, INT64_C(2147483647), NULL, false,
				       "Raft entries between two snapshots", "N"},
	[CONFIG_SNAPSHOT_TRAILING] = {"snapshot_trailing", CONFIG_T_INT, AT(snapshot_trailing),
				      "4096", 0, INT64_C(2147483647), NULL, false,
				      "Raft entries kept after a snapshot for lagging peers", "N"},
	[CONFIG_LOG_LEVEL] = {"log_level", CONFIG_T_ENUM, AT(log_level), "notice", 0, 0,
			      config_levels, true, "least important messages logged", "LEVEL"},
	[CONFIG_LOG_TARGET] = {"log_target", CONFIG_T_ENUM, AT(log_target), "stderr", 0, 0,
			       config_targets, true,
			       "stderr (journald under systemd) or syslog", "TARGET"},
	[CONFIG_LOG_TIMESTAMPS] = {"log_timestamps", CONFIG_T_BOOL, AT(log_timestamps), "no", 0, 0,
				   NULL, true,
				   "stamp stderr lines with the time (journald stamps its own)",
				   "BOOL"},
};

/* Typed access to the field of an option. */
static void *config_field(struct config *cfg, const struct config_option *o)
{
	return (char *)cfg + o->offset;
}

static const void *config_cfield(const struct config *cfg, const struct config_option *o)
{
	return (const char *)cfg + o->offset;
}

static bool config_is_string(enum config_type t)
{
	return t == CONFIG_T_STRING || t == CONFIG_T_NAME || t == CONFIG_T_ADDRESS ||
	       t == CONFIG_T_PEERS;
}

static bool config_is_number(enum config_type t)
{
	return t == CONFIG_T_INT || t == CONFIG_T_DURATION || t == CONFIG_T_SIZE;
}

static size_t config_field_size(enum config_type t)
{
	if (config_is_string(t))
		return sizeof(char *);
	if (config_is_number(t))
		return sizeof(int64_t);
	return t == CONFIG_T_BOOL ? sizeof(bool) : sizeof(int);
}

const struct config_option *config_option_get(enum config_key key)
{
	return key < CONFIG__COUNT ? &config_table[key] : NULL;
}

/* Compares an option name with a user's spelling, where '-' stands for '_'. */
static bool config_name_is(const char *name, const char *spelled, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = spelled[i] == '-' ? '_' : spelled[i];
		if (name[i] == '\0' || name[i] != c)
			return false;
	}
	return name[i] == '\0';
}

static const struct config_option *config_find_n(const char *name, size_t n, enum config_key *key)
{
	for (int k = 0; k < CONFIG__COUNT; k++) {
		if (config_name_is(config_table[k].name, name, n)) {
			if (key != NULL)
				*key = (enum config_key)k;
			return &config_table[k];
		}
	}
	return NULL;
}

const struct config_option *config_option_find(const char *name, enum config_key *key)
{
	return config_find_n(name, strlen(name), key);
}

/* The option name closest to a misspelling (edit distance at most 2), or NULL. */
static const char *config_suggest(const char *s, size_t n)
{
	const char *best = NULL;
	size_t best_d = 3;

	if (n > 40)
		return NULL;
	for (int k = 0; k < CONFIG__COUNT; k++) {
		const char *name = config_table[k].name;
		size_t m = strlen(name), row[41], prev, i, j;

		for (j = 0; j <= m && j <= 40; j++)
			row[j] = j;
		if (m > 40)
			continue;
		for (i = 1; i <= n; i++) {
			char c = s[i - 1] == '-' ? '_' : s[i - 1];
			prev = row[0];
			row[0] = i;
			for (j = 1; j <= m; j++) {
				size_t sub = prev + (c != name[j - 1]);
				size_t del = row[j] + 1, ins = row[j - 1] + 1;
				prev = row[j];
				size_t low = sub < del ? sub : del;
				row[j] = low < ins ? low : ins;
			}
		}
		if (row[m] < best_d && row[m] < m) {
			best_d = row[m];
			best = name;
		}
	}
	return best;
}

/* "unknown key 'lisen' (did you mean 'listen'?)" with the given noun and dash prefix. */
static void config_unknown(char *err, size_t errlen, const char *noun, const char *dash,
			   const char *s, size_t n)
{
	const char *hint = config_suggest(s, n);

	if (hint != NULL)
		snprintf(err, errlen, "unknown %s '%s%.*s' (did you mean '%s%s'?)", noun, dash,
			 (int)n, s, dash, hint);
	else
		snprintf(err, errlen, "unknown %s '%s%.*s'", noun, dash, (int)n, s);
}

/* Splits an unsigned decimal prefix of s; returns the rest, or NULL on no digits/overflow. */
static const char *config_digits(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return NULL;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return s;
}

struct config_unit {
	const char *name;
	int64_t mult;
};

static const struct config_unit config_duration_units[] = {
	{"ms", 1}, {"", 1}, {"s", SEC}, {"m", MIN}, {"min", MIN}, {"h", HOUR}, {NULL, 0},
};

static const struct config_unit config_size_units[] = {
	{"", 1},	  {"b", 1},	  {"k", KIB}, {"kib", KIB}, {"m", MIB},
	{"mib", MIB}, {"g", GIB}, {"gib", GIB}, {NULL, 0},
};

/* Parses a number with an optional unit from units (case-insensitive). */
static int config_parse_units(const char *s, const struct config_unit *units, int64_t *out)
{
	int64_t v;
	const char *rest = config_digits(s, &v);

	if (rest == NULL)
		return -EINVAL;
	for (; units->name != NULL; units++) {
		if (strcasecmp(rest, units->name) == 0) {
			if (v > INT64_MAX / units->mult)
				return -ERANGE;
			*out = v * units->mult;
			return 0;
		}
	}
	return -EINVAL;
}

/* Writes v with the largest unit that divides it exactly. */
static int config_format_units(int64_t v, enum config_type t, char *buf, size_t len)
{
	static const struct config_unit dur[] = {{"h", HOUR}, {"m", MIN}, {"s", SEC}, {NULL, 0}};
	static const struct config_unit size[] = {{"GiB", GIB}, {"MiB", MIB}, {"KiB", KIB},
						  {NULL, 0}};
	const struct config_unit *u = t == CONFIG_T_DURATION ? dur : size;

	for (; v != 0 && u->name != NULL; u++) {
		if (v % u->mult == 0)
			return snprintf(buf, len, "%" PRId64 "%s", v / u->mult, u->name);
	}
	return snprintf(buf, len, "%" PRId64 "%s", v, t == CONFIG_T_DURATION ? "ms" : "");
}

/* Checks "HOST" of an address: an IPv4 literal or a DNS name. */
static bool config_host_ok(const char *h, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return false;
	}
	return h[0] != '-' && h[0] != '.';
}

int config_split_address(const char *addr, char *host, size_t hostlen, uint16_t *port, char *err,
			 size_t errlen)
{
	const char *colon, *h = addr;
	size_t hn;
	int64_t p;
	const char *rest;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		unsigned char a6[16];
		char tmp[64];

		if (close == NULL || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof(tmp))
			goto bad;
		hn = (size_t)(close - addr - 1);
		memcpy(tmp, addr + 1, hn);
		tmp[hn] = '\0';
		if (inet_pton(AF_INET6, tmp, a6) != 1)
			goto bad;
		h = addr + 1;
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL)
			goto bad;
		hn = (size_t)(colon - addr);
		if (memchr(addr, ':', hn) != NULL || !config_host_ok(addr, hn))
			goto bad;
	}
	rest = config_digits(colon + 1, &p);
	if (rest == NULL || *rest != '\0' || p < 1 || p > 65535)
		goto bad;
	if (hn >= hostlen) {
		snprintf(err, errlen, "'%s': host name too long", addr);
		return -EINVAL;
	}
	memcpy(host, h, hn);
	host[hn] = '\0';
	*port = (uint16_t)p;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not HOST:PORT or [IPv6]:PORT with a port of 1-65535", addr);
	return -EINVAL;
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
		rest = at != NULL ? config_digits(item, &id) : NULL;
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

/* A parsed, checked value waiting to be stored. */
union config_value {
	char *s;
	int64_t i;
	bool b;
	int e;
};

/* The bound v as the file would spell it, for messages. */
static void config_bound(const struct config_option *o, int64_t v, char *buf, size_t len)
{
	if (o->type == CONFIG_T_INT)
		snprintf(buf, len, "%" PRId64, v);
	else
		config_format_units(v, o->type, buf, len);
}

/* Parses and checks one value; on success a string value is malloc'ed in out->s. */
static int config_parse(const struct config_option *o, const char *v, union config_value *out,
			char *err, size_t errlen)
{
	char lo[32], hi[32];
	size_t n = strlen(v);
	int rc;

	switch (o->type) {
	case CONFIG_T_STRING:
		for (size_t i = 0; i < n; i++) {
			if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
				snprintf(err, errlen, "%s: control character in value", o->name);
				return -EINVAL;
			}
		}
		if ((int64_t)n < o->min || (int64_t)n > o->max) {
			snprintf(err, errlen, "%s: %s", o->name,
				 n == 0 ? "must not be empty" : "value too long");
			return -EINVAL;
		}
		break;
	case CONFIG_T_NAME:
		if (!tls_identity_valid(v)) {
			snprintf(err, errlen,
				 "%s: '%.64s' is not 1-63 of A-Z a-z 0-9 . _ - starting with a "
				 "letter or digit",
				 o->name, v);
			return -EINVAL;
		}
		break;
	case CONFIG_T_ADDRESS: {
		char host[256], why[300];
		uint16_t port;

		if (config_split_address(v, host, sizeof(host), &port, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: %s", o->name, why);
			return -EINVAL;
		}
		break;
	}
	case CONFIG_T_PEERS: {
		struct config_peer peers[CONFIG_PEERS_MAX];
		char why[300];
		size_t count;

		if (config_parse_peers(v, peers, CONFIG_PEERS_MAX, &count, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: %s", o->name, why);
			return -EINVAL;
		}
		break;
	}
	case CONFIG_T_INT:
	case CONFIG_T_DURATION:
	case CONFIG_T_SIZE:
		if (o->type == CONFIG_T_INT) {
			const char *rest = config_digits(v, &out->i);
			rc = rest == NULL || *rest != '\0' ? -EINVAL : 0;
		} else {
			const struct config_unit *units = o->type == CONFIG_T_SIZE
								  ? config_size_units
								  : config_duration_units;
			rc = config_parse_units(v, units, &out->i);
		}
		if (rc == -EINVAL) {
			snprintf(err, errlen, "%s: '%.64s' is not %s", o->name, v,
				 o->type == CONFIG_T_INT ? "a whole number"
				 : o->type == CONFIG_T_SIZE
					 ? "a size (like 4096, 64K, 1M, 2G)"
					 : "a duration (like 300ms, 10s, 5m, 1h)");
			return -EINVAL;
		}
		config_bound(o, o->min, lo, sizeof(lo));
		config_bound(o, o->max, hi, sizeof(hi));
		if (rc != 0 || out->i < o->min || out->i > o->max) {
			snprintf(err, errlen, "%s: %.64s is out of range %s..%s", o->name, v, lo,
				 hi);
			return -EINVAL;
		}
		return 0;
	case CONFIG_T_BOOL:
		if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") ||
		    !strcmp(v, "1")) {
			out->b = true;
		} else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") ||
			   !strcasecmp(v, "off") || !strcmp(v, "0")) {
			out->b = false;
		} else {
			snprintf(err, errlen, "%s: '%.64s' is not yes or no", o->name, v);
			return -EINVAL;
		}
		return 0;
	case CONFIG_T_ENUM: {
		size_t used = 0;
		char list[128] = "";

		for (const struct config_choice *c = o->choices; c->name != NULL; c++) {
			if (strcmp(v, c->name) == 0) {
				out->e = c->value;
				return 0;
			}
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 used > 0 ? ", " : "", c->name);
		}
		snprintf(err, errlen, "%s: '%.64s' is not one of %s", o->name, v, list);
		return -EINVAL;
	}
	}
	out->s = strdup(v);
	if (out->s == NULL) {
		snprintf(err, errlen, "%s: out of memory", o->name);
		return -ENOMEM;
	}
	return 0;
}

/* Stores a parsed value, freeing the string it replaces. */
static void config_store(struct config *cfg, const struct config_option *o, union config_value *v)
{
	void *f = config_field(cfg, o);

	if (config_is_string(o->type)) {
		free(*(char **)f);
		*(char **)f = v->s;
	} else if (config_is_number(o->type)) {
		*(int64_t *)f = v->i;
	} else if (o->type == CONFIG_T_BOOL) {
		*(bool *)f = v->b;
	} else {
		*(int *)f = v->e;
	}
}

int config_set(struct config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
	const struct config_option *o = config_option_find(name, NULL);
	union config_value v;
	int rc;

	if (o == NULL) {
		config_unknown(err, errlen, "key", "", name, strlen(name));
		return -EINVAL;
	}
	rc = config_parse(o, value, &v, err, errlen);
	if (rc == 0)
		config_store(cfg, o, &v);
	return rc;
}

int config_init(struct config *cfg)
{
	char err[256];

	memset(cfg, 0, sizeof(*cfg));
	for (int k = 0; k < CONFIG__COUNT; k++) {
		const struct config_option *o = &config_table[k];
		int rc = config_set(cfg, o->name, o->def, err, sizeof(err));
		if (rc != 0)
			return rc; /* only -ENOMEM: every default parses (unit-tested) */
	}
	return 0;
}

void config_free(struct config *cfg)
{
	for (int k = 0; k < CONFIG__COUNT; k++) {
		if (config_is_string(config_table[k].type))
			free(*(char **)config_field(cfg, &config_table[k]));
	}
	free(cfg->path);
	for (size_t i = 0; i < cfg->n_overrides; i++)
		free(cfg->overrides[i]);
	free(cfg->overrides);
	memset(cfg, 0, sizeof(*cfg));
}

static char *config_trim(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Cuts an unquoted value at a comment ('#' or ';' at its start or after whitespace). */
static void config_cut_comment(char *v)
{
	for (char *p = v; *p != '\0'; p++) {
		if ((*p == '#' || *p == ';') && (p == v || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

/* Unquotes "..." in place (escapes \" and \\); anything after it must be a comment. */
static int config_unquote(char *v, char *err, size_t errlen)
{
	char *r = v + 1, *w = v;

	for (; *r != '"'; r++) {
		if (*r == '\0') {
			snprintf(err, errlen, "unterminated quoted value");
			return -EINVAL;
		}
		if (*r == '\\') {
			r++;
			if (*r != '"' && *r != '\\') {
				snprintf(err, errlen,
					 "unknown escape in quoted value (use \\\" or \\\\)");
				return -EINVAL;
			}
		}
		*w++ = *r;
	}
	*w = '\0';
	r = config_trim(r + 1);
	if (*r != '\0' && *r != '#' && *r != ';') {
		snprintf(err, errlen, "text after the closing quote");
		return -EINVAL;
	}
	return 0;
}

/* Handles one line; seen[] holds the line each key was set on, *section how often [dmlogd]
 * appeared. */
static int config_line(struct config *cfg, char *line, unsigned lineno, unsigned seen[],
		       unsigned *section, char *err, size_t errlen)
{
	char *s = config_trim(line), *eq, *key, *value;
	const struct config_option *o;
	enum config_key k;

	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		char *close = strchr(s, ']');
		char *after = close != NULL ? config_trim(close + 1) : NULL;

		if (close == NULL || (*after != '\0' && *after != '#' && *after != ';')) {
			snprintf(err, errlen, "malformed section header");
			return -EINVAL;
		}
		*close = '\0';
		if (strcmp(config_trim(s + 1), "dmlogd") != 0) {
			snprintf(err, errlen, "unknown section [%.64s] (only [dmlogd])",
				 config_trim(s + 1));
			return -EINVAL;
		}
		if ((*section)++ > 0) {
			snprintf(err, errlen, "second [dmlogd] section");
			return -EINVAL;
		}
		return 0;
	}
	eq = strchr(s, '=');
	if (eq == NULL) {
		snprintf(err, errlen, "expected 'key = value'");
		return -EINVAL;
	}
	*eq = '\0';
	key = config_trim(s);
	value = config_trim(eq + 1);
	o = config_option_find(key, &k);
	if (o == NULL) {
		config_unknown(err, errlen, "key", "", key, strlen(key));
		return -EINVAL;
	}
	if (seen[k] != 0) {
		snprintf(err, errlen, "%s already set on line %u", o->name, seen[k]);
		return -EINVAL;
	}
	seen[k] = lineno;
	if (*value == '"') {
		if (config_unquote(value, err, errlen) != 0)
			return -EINVAL;
	} else {
		config_cut_comment(value);
		value = config_trim(value);
	}
	return config_set(cfg, o->name, value, err, errlen);
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	unsigned seen[CONFIG__COUNT] = {0}, lineno = 0, section = 0;
	char *line = NULL, why[320];
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc = 0;

	f = fopen(path, "re");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "open %s: %s", path, strerror(-rc));
		return rc;
	}
	errno = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n > CONFIG_LINE_MAX || strlen(line) != (size_t)n) {
			snprintf(why, sizeof(why), n > CONFIG_LINE_MAX ? "line too long"
								      : "NUL byte in line");
			rc = -EINVAL;
		} else {
			rc = config_line(cfg, line, lineno, seen, &section, why, sizeof(why));
		}
		if (rc != 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			goto out;
		}
		errno = 0;
	}
	if (ferror(f)) {
		rc = errno != 0 ? -errno : -EIO;
		snprintf(err, errlen, "read %s: %s", path, strerror(-rc));
	}
out:
	free(line);
	fclose(f);
	return rc;
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

/* Defaults, then the file (a missing file is fine unless explicit), then the overrides. */
static int config_build(struct config *cfg, const char *path, bool explicit_path,
			char *const *overrides, size_t n_overrides, char *err, size_t errlen)
{
	char why[400];
	int rc = config_init(cfg);

	if (rc != 0) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	if (path != NULL) {
		rc = config_load_file(cfg, path, err, errlen);
		if (rc == -ENOENT && !explicit_path)
			rc = 0;
		if (rc != 0)
			return rc;
	}
	for (size_t i = 0; i < n_overrides; i++) {
		const char *eq = strchr(overrides[i], '=');
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)(eq - overrides[i]), overrides[i]);
		rc = config_set(cfg, name, eq + 1, why, sizeof(why));
		if (rc != 0) {
			snprintf(err, errlen, "command line: %s", why);
			return rc;
		}
	}
	return config_validate(cfg, err, errlen);
}

/* Records "name=value" as an override of cfg. */
static int config_add_override(struct config *cfg, const char *name, const char *value)
{
	char **grown = realloc(cfg->overrides, (cfg->n_overrides + 1) * sizeof(char *));
	size_t len = strlen(name) + strlen(value) + 2;

	if (grown == NULL)
		return -ENOMEM;
	cfg->overrides = grown;
	cfg->overrides[cfg->n_overrides] = malloc(len);
	if (cfg->overrides[cfg->n_overrides] == NULL)
		return -ENOMEM;
	snprintf(cfg->overrides[cfg->n_overrides++], len, "%s=%s", name, value);
	return 0;
}

/* The flags that pick an action; earlier rows win whatever the order on the command line. */
static const struct {
	const char *flag;
	enum config_action action;
} config_flags[] = {
	{"--help", CONFIG_ACTION_HELP},
	{"-h", CONFIG_ACTION_HELP},
	{"--version", CONFIG_ACTION_VERSION},
	{"-V", CONFIG_ACTION_VERSION},
	{"--print-default-config", CONFIG_ACTION_PRINT_DEFAULT},
	{"--check-config", CONFIG_ACTION_CHECK},
	{"--print-config", CONFIG_ACTION_PRINT},
};

#define CONFIG_N_FLAGS (sizeof(config_flags) / sizeof(config_flags[0]))

static bool config_is_flag(const char *arg)
{
	for (size_t f = 0; f < CONFIG_N_FLAGS; f++) {
		if (strcmp(arg, config_flags[f].flag) == 0)
			return true;
	}
	return false;
}

static enum config_action config_scan_action(int argc, char *const argv[])
{
	for (size_t f = 0; f < CONFIG_N_FLAGS; f++) {
		for (int i = 1; i < argc; i++) {
			if (strcmp(argv[i], config_flags[f].flag) == 0)
				return config_flags[f].action;
		}
	}
	return CONFIG_ACTION_RUN;
}

/* Collects --config and the --key=value overrides into cfg. */
static int config_scan_args(struct config *cfg, int argc, char *const argv[], char *err,
			    size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *value;
		const struct config_option *o;
		size_t n;

		if (config_is_flag(a))
			continue;
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			snprintf(err, errlen, "unexpected argument '%.64s' (see --help)", a);
			return -EINVAL;
		}
		name = a + 2;
		eq = strchr(name, '=');
		n = eq != NULL ? (size_t)(eq - name) : strlen(name);
		o = config_find_n(name, n, NULL);
		if (o == NULL && !config_name_is("config", name, n)) {
			config_unknown(err, errlen, "option", "--", name, n);
			return -EINVAL;
		}
		if (eq != NULL)
			value = eq + 1;
		else if (o != NULL && o->type == CONFIG_T_BOOL &&
			 (i + 1 == argc || strncmp(argv[i + 1], "--", 2) == 0))
			value = "yes"; /* a bare boolean flag */
		else if (i + 1 < argc)
			value = argv[++i];
		else {
			snprintf(err, errlen, "--%.*s needs a value", (int)n, name);
			return -EINVAL;
		}
		if (o == NULL) {
			free(cfg->path);
			cfg->path = strdup(value);
			cfg->path_explicit = true;
			if (cfg->path == NULL)
				goto nomem;
		} else if (config_add_override(cfg, o->name, value) != 0) {
			goto nomem;
		}
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

int config_from_args(struct config *cfg, int argc, char *const argv[], enum config_action *action,
		     char *err, size_t errlen)
{
	struct config src = {0};
	int rc;

	*action = config_scan_action(argc, argv);
	memset(cfg, 0, sizeof(*cfg));
	if (*action == CONFIG_ACTION_HELP || *action == CONFIG_ACTION_VERSION ||
	    *action == CONFIG_ACTION_PRINT_DEFAULT)
		return config_init(cfg);

	rc = config_scan_args(&src, argc, argv, err, errlen);
	if (rc == 0 && src.path == NULL) {
		src.path = strdup(CONFIG_DEFAULT_PATH);
		if (src.path == NULL) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
		}
	}
	if (rc == 0)
		rc = config_build(cfg, src.path, src.path_explicit, src.overrides, src.n_overrides,
				  err, errlen);
	/* The sources stay with cfg, for reloads. */
	cfg->path = src.path;
	cfg->path_explicit = src.path_explicit;
	cfg->overrides = src.overrides;
	cfg->n_overrides = src.n_overrides;
	return rc;
}

bool config_same(const struct config *a, const struct config *b, enum config_key key)
{
	const struct config_option *o = &config_table[key];
	const void *fa = config_cfield(a, o), *fb = config_cfield(b, o);

	if (config_is_string(o->type))
		return strcmp(*(char *const *)fa, *(char *const *)fb) == 0;
	return memcmp(fa, fb, config_field_size(o->type)) == 0;
}

int config_reload(struct config *cfg, struct config_reload *res, char *err, size_t errlen)
{
	struct config fresh, merged;
	int rc;

	res->changed = res->ignored = 0;
	rc = config_build(&fresh, cfg->path, cfg->path_explicit, cfg->overrides, cfg->n_overrides,
			  err, errlen);
	if (rc != 0)
		goto out;
	/* What the result would be: the old settings with the new reloadable values. */
	merged = *cfg;
	for (int k = 0; k < CONFIG__COUNT; k++) {
		const struct config_option *o = &config_table[k];

		if (config_same(cfg, &fresh, (enum config_key)k))
			continue;
		if (!o->reloadable) {
			res->ignored |= CONFIG_BIT(k);
			continue;
		}
		res->changed |= CONFIG_BIT(k);
		memcpy(config_field(&merged, o), config_cfield(&fresh, o),
		       config_field_size(o->type));
	}
	rc = config_validate(&merged, err, errlen);
	if (rc != 0) {
		res->changed = res->ignored = 0;
		goto out;
	}
	/* Swap the changed values in; fresh takes the old ones away to be freed. */
	for (int k = 0; k < CONFIG__COUNT; k++) {
		const struct config_option *o = &config_table[k];
		unsigned char tmp[sizeof(int64_t)];
		size_t sz = config_field_size(o->type);

		if (!(res->changed & CONFIG_BIT(k)))
			continue;
		memcpy(tmp, config_field(cfg, o), sz);
		memcpy(config_field(cfg, o), config_field(&fresh, o), sz);
		memcpy(config_field(&fresh, o), tmp, sz);
	}
out:
	config_free(&fresh);
	return rc;
}

int config_format(const struct config *cfg, enum config_key key, char *buf, size_t len)
{
	const struct config_option *o = &config_table[key];
	const void *f = config_cfield(cfg, o);

	switch (o->type) {
	case CONFIG_T_INT:
		return snprintf(buf, len, "%" PRId64, *(const int64_t *)f);
	case CONFIG_T_DURATION:
	case CONFIG_T_SIZE:
		return config_format_units(*(const int64_t *)f, o->type, buf, len);
	case CONFIG_T_BOOL:
		return snprintf(buf, len, "%s", *(const bool *)f ? "yes" : "no");
	case CONFIG_T_ENUM:
		for (const struct config_choice *c = o->choices; c->name != NULL; c++) {
			if (c->value == *(const int *)f)
				return snprintf(buf, len, "%s", c->name);
		}
		return snprintf(buf, len, "?");
	default:
		return snprintf(buf, len, "%s", *(char *const *)f);
	}
}

void config_mask_names(uint64_t mask, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (int k = 0; k < CONFIG__COUNT && used + 1 < len; k++) {
		if (mask & CONFIG_BIT(k)) {
			int n = snprintf(buf + used, len - used, "%s%s", used > 0 ? "," : "",
					 config_table[k].name);
			used = n > 0 && used + (size_t)n < len ? used + (size_t)n : len - 1;
		}
	}
	if (used == 0)
		snprintf(buf, len, "none");
}

/* Writes "key = value", quoting values the parser would otherwise cut or trim. */
static void config_print_pair(FILE *out, const char *prefix, const char *name, const char *v)
{
	bool quote = v[0] == '\0' || v[0] == ' ' || v[0] == '"' || strpbrk(v, "#;\t\\") != NULL ||
		     v[strlen(v) - 1] == ' ';

	fprintf(out, "%s%s = ", prefix, name);
	if (!quote) {
		fprintf(out, "%s\n", v);
		return;
	}
	fputc('"', out);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', out);
		fputc(*v, out);
	}
	fputs("\"\n", out);
}

void config_print(const struct config *cfg, FILE *out)
{
	char v[4200];

	fprintf(out, "# dmlogd %s effective configuration (file: %s)\n[dmlogd]\n", DMLOG_VERSION,
		cfg->path != NULL ? cfg->path : "none");
	for (int k = 0; k < CONFIG__COUNT; k++) {
		config_format(cfg, (enum config_key)k, v, sizeof(v));
		config_print_pair(out, "", config_table[k].name, v);
	}
}

/* One line on what values an option takes. */
static void config_describe(const struct config_option *o, char *buf, size_t len)
{
	char lo[32], hi[32];
	size_t used;

	switch (o->type) {
	case CONFIG_T_INT:
	case CONFIG_T_DURATION:
	case CONFIG_T_SIZE:
		config_bound(o, o->min, lo, sizeof(lo));
		config_bound(o, o->max, hi, sizeof(hi));
		snprintf(buf, len, "%s, %s..%s",
			 o->type == CONFIG_T_INT	? "number"
			 : o->type == CONFIG_T_SIZE ? "size"
						    : "duration",
			 lo, hi);
		break;
	case CONFIG_T_ENUM:
		used = (size_t)snprintf(buf, len, "one of:");
		for (const struct config_choice *c = o->choices; c->name != NULL && used < len; c++)
			used += (size_t)snprintf(buf + used, len - used, " %s", c->name);
		break;
	case CONFIG_T_BOOL:
		snprintf(buf, len, "yes or no");
		break;
	case CONFIG_T_ADDRESS:
		snprintf(buf, len, "HOST:PORT or [IPv6]:PORT");
		break;
	case CONFIG_T_NAME:
		snprintf(buf, len, "1-63 of A-Z a-z 0-9 . _ -");
		break;
	case CONFIG_T_PEERS:
		snprintf(buf, len, "RAFT_ID@HOST:PORT,... at most %d", CONFIG_PEERS_MAX);
		break;
	case CONFIG_T_STRING:
		snprintf(buf, len, "path");
		break;
	}
}

void config_print_default(FILE *out)
{
	char what[160];

	fputs("# dmlogd.ini: configuration of dmlogd, the dmlog server.\n"
	      "#\n"
	      "# Every setting is listed with its default, commented out.\n"
	      "# Syntax: 'key = value'; '#' or ';' starts a comment; values may be\n"
	      "# double-quoted. Durations take ms, s, m or h; sizes take K, M or G\n"
	      "# (1K = 1024). Any key can be overridden on the command line as\n"
	      "# --key=value. Settings marked 'reloaded on SIGHUP' change with\n"
	      "# 'systemctl reload dmlogd'; the others need a restart.\n"
	      "# Check a file with 'dmlogd --config FILE --check-config'.\n"
	      "# Generated by 'dmlogd --print-default-config'.\n"
	      "\n[dmlogd]\n",
	      out);
	for (int k = 0; k < CONFIG__COUNT; k++) {
		const struct config_option *o = &config_table[k];

		config_describe(o, what, sizeof(what));
		fprintf(out, "\n# %s\n# (%s; %s)\n", o->doc, what,
			o->reloadable ? "reloaded on SIGHUP" : "restart to change");
		config_print_pair(out, "#", o->name, o->def);
	}
}

void config_usage(FILE *out, const char *prog)
{
	char left[64];

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
	for (int k = 0; k < CONFIG__COUNT; k++) {
		const struct config_option *o = &config_table[k];

		snprintf(left, sizeof(left), "%s=%s", o->name, o->metavar);
		fprintf(out, "  --%-30s %s%s (default: %s)\n", left, o->reloadable ? "[R] " : "",
			o->doc, o->def[0] != '\0' ? o->def : "none");
	}
}

int config_check(const struct config *cfg, char *err, size_t errlen)
{
	struct tls_files files = {cfg->ca_file, cfg->cert_file, cfg->key_file};
	struct tls_identity id;
	struct tls_holder *h;
	char why[256];
	int rc = 0;

	h = tls_holder_new(&files, err, errlen);
	if (h == NULL)
		return -EINVAL;
	tls_identity_from_cert(SSL_CTX_get0_certificate(tls_holder_server(h)), &id, why,
			       sizeof(why));
	if (strcmp(id.name, cfg->id) != 0) {
		snprintf(err, errlen, "id is '%s' but cert %s is for '%s'", cfg->id, cfg->cert_file,
			 id.name);
		rc = -EINVAL;
	}
	tls_holder_free(h);
	return rc;
}

int config_run_action(enum config_action action, int load_rc, const char *load_err,
		      const struct config *cfg, const char *prog, FILE *out, FILE *errout)
{
	char err[512];

	switch (action) {
	case CONFIG_ACTION_HELP:
		config_usage(out, prog);
		return CONFIG_EXIT_OK;
	case CONFIG_ACTION_VERSION:
		fprintf(out, "dmlogd %s\n", DMLOG_VERSION);
		return CONFIG_EXIT_OK;
	case CONFIG_ACTION_PRINT_DEFAULT:
		config_print_default(out);
		return CONFIG_EXIT_OK;
	case CONFIG_ACTION_CHECK:
		if (load_rc != 0) {
			fprintf(errout, "%s: %s\n", prog, load_err);
			return CONFIG_EXIT_FAILURE;
		}
		if (config_check(cfg, err, sizeof(err)) != 0) {
			fprintf(errout, "%s: %s\n", prog, err);
			return CONFIG_EXIT_FAILURE;
		}
		fprintf(out, "config OK\n");
		return CONFIG_EXIT_OK;
	case CONFIG_ACTION_PRINT:
	case CONFIG_ACTION_RUN:
		if (load_rc != 0) {
			fprintf(errout, "%s: %s\n", prog, load_err);
			return CONFIG_EXIT_USAGE;
		}
		if (action == CONFIG_ACTION_RUN)
			return -1;
		config_print(cfg, out);
		return CONFIG_EXIT_OK;
	}
	return CONFIG_EXIT_USAGE;
}
