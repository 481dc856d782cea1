/* remote.c: dmlogctl's connection to dmlogd and the wording of its failures (see remote.h).
 *
 * libdmlog words its failures "OP request N: cause"; dmlogctl sends one request per run, so
 * the request part says nothing to the user and is dropped. A request whose deadline passed
 * while no connection was up names the last connection error in "(not connected: ...)": that
 * is the one worth showing, as "cannot reach SERVERS: connect HOST:PORT: Connection refused".
 */
#include "remote.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NOT_CONNECTED "(not connected: "

struct dmlog *remote_open(const struct ctl *ctl)
{
	struct dmlog_options o;
	char errmsg[DMLOG_ERRMSG_SIZE];
	struct dmlog *h;

	memset(&o, 0, sizeof(o));
	for (unsigned i = 0; i < ctl->server_count; i++)
		o.servers[i] = ctl->servers[i];
	o.ca_file = ctl->ca;
	o.cert_file = ctl->cert;
	o.key_file = ctl->key;
	o.request_timeout_ms = ctl->timeout_ms;
	o.connect_timeout_ms = ctl->timeout_ms;
	o.client_name = "dmlogctl/" DMLOG_VERSION_STRING;
	h = dmlog_new(&o, errmsg);
	if (!h)
		fprintf(stderr, "dmlogctl: %s\n", errmsg[0] ? errmsg : "cannot create a client handle");
	return h;
}

/* The message without libdmlog's leading "OP request N: ". */
static const char *remote_cause(const char *msg)
{
	const char *p = msg;

	while (isupper((unsigned char)*p) || *p == '_')
		p++;
	if (p == msg || strncmp(p, " request ", 9))
		return msg;
	p += 9;
	if (!isdigit((unsigned char)*p))
		return msg;
	while (isdigit((unsigned char)*p))
		p++;
	return strncmp(p, ": ", 2) ? msg : p + 2;
}

static void remote_servers(const struct ctl *ctl, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < ctl->server_count && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? "," : "", ctl->servers[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static bool remote_transport_errno(int rc)
{
	switch (-rc) {
	case ETIMEDOUT:
	case EACCES:
	case EPROTO:
	case ELOOP:
	case ECONNREFUSED:
	case ECONNRESET:
	case ECONNABORTED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENOTCONN:
	case EPIPE:
		return true;
	default:
		return false;
	}
}

int remote_fail_verb(const struct ctl *ctl, struct dmlog *h, int rc, const char *verb)
{
	const char *cause = remote_cause(dmlog_errmsg(h));
	const char *nc = strstr(cause, NOT_CONNECTED);
	char servers[DMLOG_MAX_SERVERS * 64];
	char pre[64];

	if (!*cause)
		cause = strerror(-rc);
	snprintf(pre, sizeof(pre), "dmlogctl: %s%s", verb ? verb : "", verb ? ": " : "");
	remote_servers(ctl, servers, sizeof(servers));
	if (rc == -ETIMEDOUT && nc) {
		/* Never connected: the connection error is the reason. */
		const char *why = nc + strlen(NOT_CONNECTED);
		size_t n = strlen(why);

		if (n && why[n - 1] == ')')
			n--;
		fprintf(stderr, "%scannot reach %s: %.*s\n", pre, servers, (int)n, why);
		return CTL_EXIT_UNREACHABLE;
	}
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "%sno answer from %s: %s\n", pre, servers, cause);
		return CTL_EXIT_UNREACHABLE;
	}
	if (rc == -EACCES) {
		fprintf(stderr, "%sTLS authentication with %s failed: %s\n", pre, servers, cause);
		return CTL_EXIT_UNREACHABLE;
	}
	if (remote_transport_errno(rc)) {
		fprintf(stderr, "%scannot talk to %s: %s\n", pre, servers, cause);
		return CTL_EXIT_UNREACHABLE;
	}
	if (rc == -EPERM) {
		fprintf(stderr, "%spermission denied: %s (admin queries need a certificate "
			"with OU=dmlog-admin: see --cert and --key)\n", pre, cause);
		return CTL_EXIT_FAILED;
	}
	if (verb)
		fprintf(stderr, "%s%s\n", pre, cause);
	else
		fprintf(stderr, "%sthe server refused the request: %s\n", pre, cause);
	return CTL_EXIT_FAILED;
}

int remote_fail(const struct ctl *ctl, struct dmlog *h, int rc)
{
	return remote_fail_verb(ctl, h, rc, NULL);
}

struct dmlog_result *remote_query(const struct ctl *ctl, const struct dmlog_request *req,
				  const char *verb, int *code)
{
	struct dmlog_result *res = NULL;
	struct dmlog *h = remote_open(ctl);
	int rc;

	if (!h) {
		*code = CTL_EXIT_UNREACHABLE;
		return NULL;
	}
	rc = dmlog_call(h, req, &res);
	if (rc)
		*code = remote_fail_verb(ctl, h, rc, verb);
	dmlog_free(h);
	return rc ? NULL : res;
}
