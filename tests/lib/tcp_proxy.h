/* tcp_proxy.h: a fault-injecting TCP proxy for tests, between ports of 127.0.0.1.
 *
 * A proxy holds a fixed set of routes, each a listening port on 127.0.0.1 that forwards every
 * accepted connection to a target port on 127.0.0.1. Faults are set per route and per direction
 * (up: from the connecting side to the target; down: back) while connections are open:
 *   - pass: bytes go through at once;
 *   - delay: bytes go through delay_ms after they arrived (order kept);
 *   - drop: bytes are read and thrown away; the connection stays up (a stream with a hole);
 *   - blackhole: bytes are neither read nor sent on, the connection stays up and new ones are
 *     accepted and connected but carry nothing; when the direction passes again, what waited
 *     goes through (a partition that TCP rides out). A connection whose end goes away while
 *     held is closed.
 * and per route, whole connections:
 *   - tcp_proxy_cut(): every open connection of the route is reset (RST both ways) now;
 *   - refuse: while on, connections are reset as soon as they are accepted.
 *
 * The proxy's work is done by one loop, in a thread of the calling process or in a child
 * process (options.child_process); either way it is driven through a socketpair, so every call
 * below returns once the loop has applied the change. A child ends when the proxy is freed or
 * its parent dies. Everything is bounded: connections per route, bytes buffered per direction
 * (a full buffer stops reading that side), and each command waits at most 5 s for its answer.
 *
 * Ownership: tcp_proxy_new() returns an owned proxy; tcp_proxy_free(NULL) is a no-op. Not
 * thread-safe: one thread drives a proxy at a time.
 */
#ifndef DMLOG_TESTS_TCP_PROXY_H
#define DMLOG_TESTS_TCP_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCP_PROXY_ROUTES_MAX 32
/* Route argument meaning "every route". */
#define TCP_PROXY_ALL ((size_t)-1)

enum tcp_proxy_mode {
	TCP_PROXY_PASS = 0,
	TCP_PROXY_DELAY,
	TCP_PROXY_DROP,
	TCP_PROXY_BLACKHOLE,
};

enum tcp_proxy_dir {
	TCP_PROXY_UP = 1,      /* connecting side -> target */
	TCP_PROXY_DOWN = 2,    /* target -> connecting side */
	TCP_PROXY_BOTH = 3,
};

struct tcp_proxy_route {
	int listen_port;       /* port on 127.0.0.1 to listen on; 0: any free one */
	int target_port;       /* port on 127.0.0.1 to forward to */
};

struct tcp_proxy_options {
	const struct tcp_proxy_route *routes;
	size_t n_routes;               /* 1..TCP_PROXY_ROUTES_MAX */
	bool child_process;            /* run the loop in a forked child instead of a thread */
	unsigned max_conns;            /* per route; default 64 (more are reset when accepted) */
	size_t buffer_max;             /* bytes held per direction of a connection; default 1 MiB */
};

struct tcp_proxy_stats {
	uint64_t accepted;             /* connections accepted */
	uint64_t reset;                /* connections reset by cut, refuse or the limit */
	uint64_t failed;               /* connections whose target could not be reached */
	uint64_t open;                 /* connections open now */
	uint64_t bytes[2];             /* bytes delivered [0] up, [1] down */
	uint64_t dropped[2];           /* bytes thrown away in drop mode */
};

struct tcp_proxy;

/* Binds every route's listener, then starts the loop. NULL with the reason in err (256 bytes,
 * may be NULL). */
struct tcp_proxy *tcp_proxy_new(const struct tcp_proxy_options *o, char *err);

/* Stops the loop (joins the thread or reaps the child), closes every socket. NULL: no-op. */
void tcp_proxy_free(struct tcp_proxy *p);

/* The port route listens on. */
int tcp_proxy_port(const struct tcp_proxy *p, size_t route);

/* The child's pid (0 in thread mode). */
int tcp_proxy_pid(const struct tcp_proxy *p);

/* Sets the mode of dir on route (or TCP_PROXY_ALL). delay_ms is read for TCP_PROXY_DELAY.
 * Switching to drop throws away what was held. 0 or -errno (-EINVAL, -EPIPE: loop gone,
 * -ETIMEDOUT: no answer). */
int tcp_proxy_set(struct tcp_proxy *p, size_t route, enum tcp_proxy_dir dir,
		  enum tcp_proxy_mode mode, unsigned delay_ms);

/* Resets every open connection of route (or TCP_PROXY_ALL). 0 or -errno. */
int tcp_proxy_cut(struct tcp_proxy *p, size_t route);

/* While on, route (or TCP_PROXY_ALL) resets connections as soon as they are accepted. */
int tcp_proxy_refuse(struct tcp_proxy *p, size_t route, bool on);

/* The counters of route. 0 or -errno. */
int tcp_proxy_stats(struct tcp_proxy *p, size_t route, struct tcp_proxy_stats *out);

#endif /* DMLOG_TESTS_TCP_PROXY_H */
