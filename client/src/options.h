/* options.h: a handle's validated copy of struct dmlog_options, and server address parsing.
 *
 * options_load() checks every field, applies the defaults documented in <dmlog/dmlog.h> and
 * copies the strings, so that nothing the caller passed is referenced afterwards.
 */
#ifndef DMLOG_CLIENT_OPTIONS_H
#define DMLOG_CLIENT_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include <dmlog/dmlog.h>

#define OPTIONS_HOST_MAX 255

/* One server address, split ("host" without brackets) and as written for messages. */
struct server_addr {
	char host[OPTIONS_HOST_MAX + 1];
	char port[6];
	char text[OPTIONS_HOST_MAX + 9]; /* "host:port" or "[v6]:port" */
};

struct options {
	struct server_addr servers[DMLOG_MAX_SERVERS];
	size_t server_count;
	char *ca_file;
	char *cert_file;
	char *key_file;
	char *verify_name;             /* NULL: the host being connected to */
	char *client_name;
	uint32_t connect_timeout_ms;
	uint32_t request_timeout_ms;   /* DMLOG_TIMEOUT_NONE: no deadline */
	uint32_t reconnect_min_ms;
	uint32_t reconnect_max_ms;
	uint32_t max_in_flight;
	uint32_t max_redirects;
};

/* Validates in and fills o (which owns copies of the strings). Returns 0, -EINVAL or -ENOMEM
 * with the reason in errmsg[0..errlen). On failure o holds nothing to free. */
int options_load(struct options *o, const struct dmlog_options *in, char *errmsg, size_t errlen);

/* Releases the strings of o. Safe on a zeroed struct. */
void options_free(struct options *o);

/* Parses "host:port" or "[ipv6]:port" (port 1..65535). Returns 0 or -EINVAL. */
int options_parse_address(const char *addr, struct server_addr *out);

#endif /* DMLOG_CLIENT_OPTIONS_H */
