/* options.c: validation, defaults and copying of struct dmlog_options. */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CONNECT_TIMEOUT_MS 5000u
#define DEFAULT_REQUEST_TIMEOUT_MS 30000u
#define DEFAULT_RECONNECT_MIN_MS 100u
#define DEFAULT_RECONNECT_MAX_MS 5000u
#define DEFAULT_MAX_IN_FLIGHT 1024u
#define LIMIT_MAX_IN_FLIGHT 65536u
#define DEFAULT_MAX_REDIRECTS 32u
#define DEFAULT_CLIENT_NAME "libdmlog/" DMLOG_VERSION_STRING

int options_parse_address(const char *addr, struct server_addr *out)
{
	const char *host, *port;
	size_t host_len;

	if (!addr)
		return -EINVAL;
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		host = addr + 1;
		host_len = (size_t)(end - host);
		port = end + 2;
	} else {
		const char *colon = strrchr(addr, ':');

		/* A bare IPv6 address would be ambiguous: it must be bracketed. */
		if (!colon || memchr(addr, ':', (size_t)(colon - addr)))
			return -EINVAL;
		host = addr;
		host_len = (size_t)(colon - addr);
		port = colon + 1;
	}
	if (host_len == 0 || host_len > OPTIONS_HOST_MAX)
		return -EINVAL;
	size_t port_len = strlen(port);
	if (port_len == 0 || port_len > 5 || strspn(port, "0123456789") != port_len)
		return -EINVAL;
	unsigned long p = strtoul(port, NULL, 10);
	if (p == 0 || p > 65535)
		return -EINVAL;

	memset(out, 0, sizeof(*out));
	memcpy(out->host, host, host_len);
	snprintf(out->port, sizeof(out->port), "%lu", p);
	if (memchr(host, ':', host_len))
		snprintf(out->text, sizeof(out->text), "[%s]:%s", out->host, out->port);
	else
		snprintf(out->text, sizeof(out->text), "%s:%s", out->host, out->port);
	return 0;
}

static int copy_string(char **dst, const char *src, const char *what, bool required,
		       char *errmsg, size_t errlen)
{
	*dst = NULL;
	if (!src || !*src) {
		if (!required)
			return 0;
		snprintf(errmsg, errlen, "options: %s is required", what);
		return -EINVAL;
	}
	*dst = strdup(src);
	if (!*dst) {
		snprintf(errmsg, errlen, "options: %s: out of memory", what);
		return -ENOMEM;
	}
	return 0;
}

static uint32_t or_default(uint32_t v, uint32_t def)
{
	return v ? v : def;
}

int options_load(struct options *o, const struct dmlog_options *in, char *errmsg, size_t errlen)
{
	int rc;

	memset(o, 0, sizeof(*o));
	if (!in) {
		snprintf(errmsg, errlen, "options: none given");
		return -EINVAL;
	}
	for (size_t i = 0; i < DMLOG_MAX_SERVERS && in->servers[i]; i++) {
		if (options_parse_address(in->servers[i], &o->servers[i])) {
			snprintf(errmsg, errlen,
				 "options: server '%.64s': expected host:port or [ipv6]:port",
				 in->servers[i]);
			return -EINVAL;
		}
		o->server_count++;
	}
	if (o->server_count == 0) {
		snprintf(errmsg, errlen, "options: no server given");
		return -EINVAL;
	}

	o->connect_timeout_ms = or_default(in->connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT_MS);
	o->request_timeout_ms = or_default(in->request_timeout_ms, DEFAULT_REQUEST_TIMEOUT_MS);
	o->reconnect_min_ms = or_default(in->reconnect_min_ms, DEFAULT_RECONNECT_MIN_MS);
	o->reconnect_max_ms = or_default(in->reconnect_max_ms, DEFAULT_RECONNECT_MAX_MS);
	o->max_in_flight = or_default(in->max_in_flight, DEFAULT_MAX_IN_FLIGHT);
	o->max_redirects = or_default(in->max_redirects, DEFAULT_MAX_REDIRECTS);
	if (o->reconnect_max_ms < o->reconnect_min_ms) {
		snprintf(errmsg, errlen,
			 "options: reconnect_max_ms (%u) is below reconnect_min_ms (%u)",
			 o->reconnect_max_ms, o->reconnect_min_ms);
		return -EINVAL;
	}
	if (o->max_in_flight > LIMIT_MAX_IN_FLIGHT) {
		snprintf(errmsg, errlen, "options: max_in_flight %u is over the limit of %u",
			 o->max_in_flight, LIMIT_MAX_IN_FLIGHT);
		return -EINVAL;
	}
	if (in->verify_name && strlen(in->verify_name) > OPTIONS_HOST_MAX) {
		snprintf(errmsg, errlen, "options: verify_name is longer than %d bytes",
			 OPTIONS_HOST_MAX);
		return -EINVAL;
	}

	if ((rc = copy_string(&o->ca_file, in->ca_file, "ca_file", true, errmsg, errlen)) ||
	    (rc = copy_string(&o->cert_file, in->cert_file, "cert_file", true, errmsg, errlen)) ||
	    (rc = copy_string(&o->key_file, in->key_file, "key_file", true, errmsg, errlen)) ||
	    (rc = copy_string(&o->verify_name, in->verify_name, "verify_name", false, errmsg,
			      errlen)) ||
	    (rc = copy_string(&o->client_name, in->client_name ? in->client_name : DEFAULT_CLIENT_NAME,
			      "client_name", true, errmsg, errlen))) {
		options_free(o);
		return rc;
	}
	return 0;
}

void options_free(struct options *o)
{
	free(o->ca_file);
	free(o->cert_file);
	free(o->key_file);
	free(o->verify_name);
	free(o->client_name);
	o->ca_file = o->cert_file = o->key_file = o->verify_name = o->client_name = NULL;
}
