/* bridge_config.c: the table of dmlog-bridge's options and the rules between them.
 *
 * The rows below are the single source of truth for the file, the command line, --help, the
 * example file deploy/dmlog-bridge.ini and reloads; server/optab.c walks them. What the options
 * mean at run time is in relay.h (policy, bounds, keepalive) and transport.h (transports).
 */
#include "bridge_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <dmlog/async.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "log.h"

#ifndef DMLOG_VERSION
#define DMLOG_VERSION "unknown"
#endif

#define KIB INT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define SEC INT64_C(1000)
#define MIN (SEC * 60)
#define HOUR (MIN * 60)

static const struct optab_choice bridge_levels[] = {
	{"err", LOG_LEVEL_ERR},   {"warning", LOG_LEVEL_WARNING}, {"notice", LOG_LEVEL_NOTICE},
	{"info", LOG_LEVEL_INFO}, {"debug", LOG_LEVEL_DEBUG},     {NULL, 0},
};

static const struct optab_choice bridge_targets[] = {
	{"stderr", LOG_TARGET_STDERR},
	{"syslog", LOG_TARGET_SYSLOG},
	{NULL, 0},
};

static const struct optab_choice bridge_policies[] = {
	{"wait", RELAY_POLICY_WAIT},
	{"fail", RELAY_POLICY_FAIL},
	{NULL, 0},
};

/* servers: 1 to DMLOG_MAX_SERVERS addresses. */
static int bridge_check_servers(const struct optab_option *o, const char *v, char *err,
				size_t errlen)
{
	struct bridge_servers s;
	char why[320];

	if (bridge_config_servers(v, &s, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s", o->name, why);
	return -EINVAL;
}

/* transport: "netlink" or "dgram:PATH" with a path that fits a unix socket address. */
static int bridge_check_transport(const struct optab_option *o, const char *v, char *err,
				  size_t errlen)
{
	size_t n = strlen(v);

	if (strcmp(v, "netlink") == 0)
		return 0;
	if (strncmp(v, "dgram:", 6) == 0 && n > 6 && n - 6 < 108) {
		for (size_t i = 6; i < n; i++) {
			if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
				goto bad;
		}
		return 0;
	}
bad:
	snprintf(err, errlen, "%s: '%.64s' is not netlink or dgram:PATH (PATH of 1-107 bytes)",
		 o->name, v);
	return -EINVAL;
}

#define AT(field) offsetof(struct bridge_config, field)

/* The options. Keep docs to one line: they become --help and deploy/dmlog-bridge.ini. */
static const struct optab_option bridge_table[BRIDGE__COUNT] = {
	[BRIDGE_SERVERS] = {"servers", OPTAB_T_CUSTOM, AT(servers), "127.0.0.1:7788", 0, 0, NULL,
			    true,
			    "dmlogd peers (their listen address), comma-separated; any one "
			    "will do, it names the leader",
			    "LIST", bridge_check_servers, "HOST:PORT,... at most 8"},
	[BRIDGE_CA_FILE] = {"ca_file", OPTAB_T_STRING, AT(ca_file), "/etc/dmlog/tls/ca.crt", 1,
			    4095, NULL, true,
			    "the dmlog CA (PEM) dmlogd's certificates must chain to", "FILE", NULL,
			    NULL},
	[BRIDGE_CERT_FILE] = {"cert_file", OPTAB_T_STRING, AT(cert_file),
			      "/etc/dmlog/tls/node.crt", 1, 4095, NULL, true,
			      "this node's certificate (PEM; OU=dmlog-node, CN=the node's name)",
			      "FILE", NULL, NULL},
	[BRIDGE_KEY_FILE] = {"key_file", OPTAB_T_STRING, AT(key_file), "/etc/dmlog/tls/node.key",
			     1, 4095, NULL, true,
			     "its private key (unencrypted PEM, keep it mode 0600)", "FILE", NULL,
			     NULL},
	[BRIDGE_VERIFY_NAME] = {"verify_name", OPTAB_T_STRING, AT(verify_name), "", 0, 253, NULL,
				true,
				"name dmlogd's certificates must carry; empty: the host of each "
				"address",
				"NAME", NULL, "a DNS name or IP address, or empty"},
	[BRIDGE_TRANSPORT] = {"transport", OPTAB_T_CUSTOM, AT(transport), "netlink", 0, 0, NULL,
			      false,
			      "netlink (the kernel's connector) or dgram:PATH (a test stand-in)",
			      "SPEC", bridge_check_transport, "netlink or dgram:PATH"},
	[BRIDGE_NO_SERVER_POLICY] = {"no_server_policy", OPTAB_T_ENUM, AT(no_server_policy),
				     "wait", 0, 0, bridge_policies, true,
				     "no dmlogd answers: wait (the kernel waits and resends) or "
				     "fail (-EIO after fail_after; IN_SYNC always waits)",
				     "POLICY", NULL, NULL},
	[BRIDGE_FAIL_AFTER] = {"fail_after", OPTAB_T_DURATION, AT(fail_after_ms), "10s", 100,
			       HOUR, NULL, true,
			       "policy fail: answer -EIO when no dmlogd answered within this",
			       "DURATION", NULL, NULL},
	[BRIDGE_REQUEST_EXPIRY] = {"request_expiry", OPTAB_T_DURATION, AT(request_expiry_ms),
				   "20s", SEC, HOUR, NULL, true,
				   "policy wait: give up unanswered requests after this (the "
				   "kernel resends after 15s)",
				   "DURATION", NULL, NULL},
	[BRIDGE_CONNECT_TIMEOUT] = {"connect_timeout", OPTAB_T_DURATION, AT(connect_timeout_ms),
				    "5s", 100, MIN, NULL, true,
				    "TCP connect, TLS handshake and Hello with one dmlogd",
				    "DURATION", NULL, NULL},
	[BRIDGE_RECONNECT_MIN] = {"reconnect_min", OPTAB_T_DURATION, AT(reconnect_min_ms),
				  "100ms", 10, MIN, NULL, true,
				  "first pause after every dmlogd failed, doubled each round",
				  "DURATION", NULL, NULL},
	[BRIDGE_RECONNECT_MAX] = {"reconnect_max", OPTAB_T_DURATION, AT(reconnect_max_ms), "2s",
				  10, MIN, NULL, true,
				  "longest pause between rounds (kernel I/O waits meanwhile)",
				  "DURATION", NULL, NULL},
	[BRIDGE_KEEPALIVE] = {"keepalive", OPTAB_T_DURATION, AT(keepalive_ms), "2s", 100, HOUR,
			      NULL, true,
			      "ping dmlogd this often; well below its node_lease or this node's "
			      "marks are dropped",
			      "DURATION", NULL, NULL},
	[BRIDGE_MAX_OUTSTANDING] = {"max_outstanding", OPTAB_T_INT, AT(max_outstanding), "4096",
				    1, RELAY_OUTSTANDING_MAX, NULL, false,
				    "kernel requests waiting for dmlogd at once; then the kernel "
				    "is not read",
				    "N", NULL, NULL},
	[BRIDGE_RCVBUF] = {"rcvbuf", OPTAB_T_SIZE, AT(rcvbuf), "8MiB", 64 * KIB, GIB, NULL, false,
			   "kernel socket receive buffer; an overrun looks like no bridge to the "
			   "kernel",
			   "SIZE", NULL, NULL},
	[BRIDGE_READY_FILE] = {"ready_file", OPTAB_T_STRING, AT(ready_file), "", 0, 4095, NULL,
			       false,
			       "file created once the kernel's requests are received; empty: none",
			       "FILE", NULL, NULL},
	[BRIDGE_REFRESH_AFTER_LOSS] = {"refresh_after_loss", OPTAB_T_BOOL, AT(refresh_after_loss),
				       "yes", 0, 0, NULL, true,
				       "suspend and resume a mirror whose log dmlogd had lost with "
				       "this node, once the kernel reconnected it, so that it "
				       "resyncs the regions the loss took out of sync",
				       "BOOL", NULL, NULL},
	[BRIDGE_EARLY_CLEAR_ACK] = {"early_clear_ack", OPTAB_T_BOOL, AT(early_clear_ack), "yes",
				    0, 0, NULL, true,
				    "answer a CLEAR_REGION the leased copy proves valid at once and "
				    "send it on (a lost clear only leaves its region dirty)",
				    "BOOL", NULL, NULL},
	[BRIDGE_LOG_LEVEL] = {"log_level", OPTAB_T_ENUM, AT(log_level), "notice", 0, 0,
			      bridge_levels, true, "least important messages logged", "LEVEL",
			      NULL, NULL},
	[BRIDGE_LOG_TARGET] = {"log_target", OPTAB_T_ENUM, AT(log_target), "stderr", 0, 0,
			       bridge_targets, true, "stderr (journald under systemd) or syslog",
			       "TARGET", NULL, NULL},
	[BRIDGE_LOG_TIMESTAMPS] = {"log_timestamps", OPTAB_T_BOOL, AT(log_timestamps), "no", 0,
				   0, NULL, true,
				   "stamp stderr lines with the time (journald stamps its own)",
				   "BOOL", NULL, NULL},
};

static int bridge_validate_obj(const void *obj, char *err, size_t errlen)
{
	return bridge_config_validate(obj, err, errlen);
}

static const struct optab bridge_optab = {
	.rows = bridge_table,
	.count = BRIDGE__COUNT,
	.size = sizeof(struct bridge_config),
	.section = "dmlog-bridge",
	.program = "dmlog-bridge",
	.version = DMLOG_VERSION,
	.validate = bridge_validate_obj,
};

const struct optab_option *bridge_config_option(enum bridge_key key)
{
	return key < BRIDGE__COUNT ? &bridge_table[key] : NULL;
}

int bridge_config_init(struct bridge_config *cfg)
{
	return optab_init(&bridge_optab, cfg);
}

void bridge_config_free(struct bridge_config *cfg)
{
	optab_free(&bridge_optab, cfg);
	optab_sources_free(&cfg->src);
	memset(cfg, 0, sizeof(*cfg));
}

int bridge_config_set(struct bridge_config *cfg, const char *name, const char *value, char *err,
		      size_t errlen)
{
	return optab_set(&bridge_optab, cfg, name, value, err, errlen);
}

int bridge_config_load_file(struct bridge_config *cfg, const char *path, char *err,
			    size_t errlen)
{
	return optab_load_file(&bridge_optab, cfg, path, err, errlen);
}

bool bridge_config_same(const struct bridge_config *a, const struct bridge_config *b,
			enum bridge_key key)
{
	return optab_same(&bridge_optab, a, b, key);
}

int bridge_config_validate(const struct bridge_config *cfg, char *err, size_t errlen)
{
	if (cfg->reconnect_min_ms > cfg->reconnect_max_ms) {
		snprintf(err, errlen,
			 "reconnect_min (%" PRId64 "ms) must not exceed reconnect_max (%" PRId64
			 "ms)",
			 cfg->reconnect_min_ms, cfg->reconnect_max_ms);
		return -EINVAL;
	}
	return 0;
}

int bridge_config_from_args(struct bridge_config *cfg, int argc, char *const argv[],
			    enum optab_action *action, char *err, size_t errlen)
{
	struct optab_sources src;
	int rc;

	rc = optab_from_args(&bridge_optab, cfg, &src, argc, argv, BRIDGE_CONFIG_DEFAULT_PATH,
			     action, err, errlen);
	cfg->src = src;
	return rc;
}

int bridge_config_reload(struct bridge_config *cfg, uint64_t *changed, uint64_t *ignored,
			 char *err, size_t errlen)
{
	struct optab_sources src = cfg->src;

	return optab_reload(&bridge_optab, cfg, &src, changed, ignored, err, errlen);
}

void bridge_config_mask_names(uint64_t mask, char *buf, size_t len)
{
	optab_mask_names(&bridge_optab, mask, buf, len);
}

int bridge_config_servers(const char *list, struct bridge_servers *out, char *err, size_t errlen)
{
	const char *p = list;

	out->count = 0;
	for (;;) {
		size_t len;
		char host[256], why[300];
		uint16_t port;

		p += strspn(p, " \t");
		len = strcspn(p, ",");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof(out->addr[0])) {
			snprintf(err, errlen, "%s entry in the servers list",
				 len == 0 ? "empty" : "too long an");
			return -EINVAL;
		}
		if (out->count == DMLOG_MAX_SERVERS) {
			snprintf(err, errlen, "more than %d servers", DMLOG_MAX_SERVERS);
			return -EINVAL;
		}
		memcpy(out->addr[out->count], p, len);
		out->addr[out->count][len] = '\0';
		if (optab_split_address(out->addr[out->count], host, sizeof(host), &port, why,
					sizeof(why)) != 0) {
			snprintf(err, errlen, "%s", why);
			return -EINVAL;
		}
		out->count++;
		p += strcspn(p, ",");
		if (*p == '\0')
			return 0;
		p++;
	}
}

int bridge_config_relay_options(const struct bridge_config *cfg, struct bridge_servers *servers,
				struct relay_options *o, char *err, size_t errlen)
{
	char why[320];

	if (bridge_config_servers(cfg->servers, servers, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "servers: %s", why);
		return -EINVAL;
	}
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < servers->count; i++)
		o->client.servers[i] = servers->addr[i];
	o->client.ca_file = cfg->ca_file;
	o->client.cert_file = cfg->cert_file;
	o->client.key_file = cfg->key_file;
	o->client.verify_name = cfg->verify_name[0] != '\0' ? cfg->verify_name : NULL;
	o->client.connect_timeout_ms = (uint32_t)cfg->connect_timeout_ms;
	o->client.reconnect_min_ms = (uint32_t)cfg->reconnect_min_ms;
	o->client.reconnect_max_ms = (uint32_t)cfg->reconnect_max_ms;
	o->client.client_name = "dmlog-bridge/" DMLOG_VERSION;
	o->policy = (enum relay_policy)cfg->no_server_policy;
	o->fail_after_ms = (uint32_t)cfg->fail_after_ms;
	o->expire_after_ms = (uint32_t)cfg->request_expiry_ms;
	o->max_outstanding = (uint32_t)cfg->max_outstanding;
	o->keepalive_ms = (uint32_t)cfg->keepalive_ms;
	o->refresh_after_loss = cfg->refresh_after_loss && strcmp(cfg->transport, "netlink") == 0;
	o->early_clear_ack = cfg->early_clear_ack;
	return 0;
}

/* The text of the one entry nid of subject, or -EACCES when it has none or several. */
static int bridge_subject_entry(X509_NAME *subject, int nid, char *out, size_t outlen)
{
	int at = X509_NAME_get_index_by_NID(subject, nid, -1);
	ASN1_STRING *data;
	int len;

	if (at < 0 || X509_NAME_get_index_by_NID(subject, nid, at) >= 0)
		return -EACCES;
	data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
	len = ASN1_STRING_length(data);
	if (len <= 0 || (size_t)len >= outlen)
		return -EACCES;
	memcpy(out, ASN1_STRING_get0_data(data), (size_t)len);
	out[len] = '\0';
	return strlen(out) == (size_t)len ? 0 : -EACCES;
}

/* 1-63 of [A-Za-z0-9._-] starting with a letter or digit: what deploy/dmlog-certs.sh issues. */
static bool bridge_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
				  (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int bridge_config_node_identity(const char *cert_file, char *name, size_t namelen, char *err,
				size_t errlen)
{
	char ou[64], cn[64];
	FILE *f = fopen(cert_file, "re");
	X509_NAME *subject;
	X509 *cert;
	int rc = 0;

	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "open %s: %s", cert_file, strerror(errno));
		return rc;
	}
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (cert == NULL) {
		snprintf(err, errlen, "load cert %s: not a PEM certificate", cert_file);
		return -EINVAL;
	}
	subject = X509_get_subject_name(cert);
	if (bridge_subject_entry(subject, NID_organizationalUnitName, ou, sizeof(ou)) != 0 ||
	    strcmp(ou, "dmlog-node") != 0) {
		snprintf(err, errlen, "cert %s is not a node certificate (it needs the one OU "
			 "dmlog-node)", cert_file);
		rc = -EACCES;
	} else if (bridge_subject_entry(subject, NID_commonName, cn, sizeof(cn)) != 0 ||
		   !bridge_name_valid(cn)) {
		snprintf(err, errlen, "cert %s has no valid CN (the node's name: 1-63 of A-Z a-z "
			 "0-9 . _ -)", cert_file);
		rc = -EACCES;
	} else {
		snprintf(name, namelen, "%s", cn);
	}
	X509_free(cert);
	return rc;
}

int bridge_config_check(const struct bridge_config *cfg, char *err, size_t errlen)
{
	struct bridge_servers servers;
	struct relay_options o;
	struct event_base *base;
	struct dmlog_async *ac;
	char name[64], why[DMLOG_ERRMSG_SIZE];
	int rc;

	rc = bridge_config_relay_options(cfg, &servers, &o, err, errlen);
	if (rc != 0)
		return rc;
	rc = bridge_config_node_identity(cfg->cert_file, name, sizeof(name), err, errlen);
	if (rc != 0)
		return rc;
	/* Loads CA, certificate and key exactly as the running bridge will. */
	base = event_base_new();
	if (base == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ac = dmlog_async_new(base, &o.client, why);
	if (ac == NULL) {
		snprintf(err, errlen, "%s", why);
		rc = -EINVAL;
	}
	dmlog_async_free(ac);
	event_base_free(base);
	return rc;
}

void bridge_config_usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [--config FILE] [--check-config] [--KEY=VALUE]...\n"
		"dmlog-bridge: relays the kernel's dm-log-userspace requests (device-mapper\n"
		"mirrors with a userspace log) to dmlogd, the dmlog server.\n"
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
		prog, BRIDGE_CONFIG_DEFAULT_PATH);
	optab_usage(&bridge_optab, out);
}

/* The head of deploy/dmlog-bridge.ini. */
static const char bridge_ini_header[] =
	"# dmlog-bridge.ini: configuration of dmlog-bridge, which relays the\n"
	"# kernel's dm-log-userspace requests to dmlogd.\n"
	"#\n"
	"# Every setting is listed with its default, commented out.\n"
	"# Syntax: 'key = value'; '#' or ';' starts a comment; values may be\n"
	"# double-quoted. Durations take ms, s, m or h; sizes take K, M or G\n"
	"# (1K = 1024). Any key can be overridden on the command line as\n"
	"# --key=value. Settings marked 'reloaded on SIGHUP' change with\n"
	"# 'systemctl reload dmlog-bridge'; the others need a restart.\n"
	"# Check a file with 'dmlog-bridge --config FILE --check-config'.\n"
	"#\n"
	"# When no dmlogd answers, no_server_policy decides what the kernel hears:\n"
	"#   wait  nothing: the bridge keeps trying every server and the kernel\n"
	"#         waits (mirror I/O stalls, nothing is ever answered on a guess);\n"
	"#         the kernel resends a request after 15 s, and the bridge gives\n"
	"#         up its copy of one after request_expiry, without a reply.\n"
	"#   fail  -EIO after fail_after: an IN_SYNC error sends I/O to the\n"
	"#         primary leg only, a FLUSH error fails the log (with\n"
	"#         handle_errors the mirror then holds writes until repaired).\n"
	"# The bridge needs CAP_NET_ADMIN (the kernel's connector group, rcvbuf)\n"
	"# and CAP_SYS_ADMIN (the kernel ignores replies without it), and must run\n"
	"# in the initial network namespace. The node's identity is the CN of\n"
	"# cert_file; dmlogd drops a node's marks when it is silent for its\n"
	"# node_lease, which keepalive prevents.\n"
	"# Generated by 'dmlog-bridge --print-default-config'.\n";

void bridge_config_print_default(FILE *out)
{
	optab_print_default(&bridge_optab, bridge_ini_header, out);
}

static int bridge_check_obj(const void *obj, char *err, size_t errlen)
{
	return bridge_config_check(obj, err, errlen);
}

static const char *bridge_path_of(const void *obj)
{
	return ((const struct bridge_config *)obj)->src.path;
}

int bridge_config_run_action(enum optab_action action, int load_rc, const char *load_err,
			     const struct bridge_config *cfg, const char *prog, FILE *out,
			     FILE *errout)
{
	static const struct optab_program program = {
		.table = &bridge_optab,
		.usage = bridge_config_usage,
		.print_default = bridge_config_print_default,
		.check = bridge_check_obj,
		.path = bridge_path_of,
	};

	return optab_run_action(&program, action, load_rc, load_err, cfg, prog, out, errout);
}
