/* tlsecho.c: bench_tlsecho, a bare TLS frame echo on libevent, the floor of a dmlog round trip.
 *
 * It accepts mutual-TLS connections on 127.0.0.1 the way dmlogd does (the same OpenSSL server
 * settings, tlsctx.h; libevent's bufferevent_openssl over a plain accepted socket, no socket
 * options added, like dmlogd's sessions) and answers every frame (4-byte big-endian length +
 * payload) at once with one frame whose payload length is the first 4 bytes of the request's
 * payload (big-endian): so the client picks both sizes, and no decoding, dispatch or state is
 * involved. One thread, one event loop.
 *
 * Usage: bench_tlsecho certs=DIR [port=0] [lifetime=SECONDS]
 * Prints "port N" once listening; exits 0 on SIGTERM/SIGINT or after lifetime (default 900 s),
 * so it never outlives a benchmark that forgot it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "agent.h"
#include "tlsctx.h"

#define ECHO_FRAME_MAX (1u << 20)

struct echo {
	struct event_base *base;
	SSL_CTX *ctx;
};

/* a reply frame: its 4 header bytes are rewritten for each reply, the payload stays zero */
static uint8_t echo_frame[4 + ECHO_FRAME_MAX];

static uint32_t echo_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void echo_close(struct bufferevent *bev)
{
	bufferevent_free(bev); /* BEV_OPT_CLOSE_ON_FREE: the SSL object and the socket too */
}

static void echo_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev), *out = bufferevent_get_output(bev);
	uint8_t hdr[8];

	while (evbuffer_get_length(in) >= 4) {
		uint32_t len, reply;

		evbuffer_copyout(in, hdr, evbuffer_get_length(in) >= 8 ? 8 : 4);
		len = echo_be32(hdr);
		if (len > ECHO_FRAME_MAX) {
			echo_close(bev);
			return;
		}
		if (evbuffer_get_length(in) < 4 + (size_t)len)
			return;
		reply = len >= 4 ? echo_be32(hdr + 4) : len;
		if (reply > ECHO_FRAME_MAX)
			reply = ECHO_FRAME_MAX;
		evbuffer_drain(in, 4 + (size_t)len);
		hdr[0] = (uint8_t)(reply >> 24);
		hdr[1] = (uint8_t)(reply >> 16);
		hdr[2] = (uint8_t)(reply >> 8);
		hdr[3] = (uint8_t)reply;
		/* the whole frame in one add: one chain, one TLS record */
		memcpy(echo_frame, hdr, 4);
		evbuffer_add(out, echo_frame, 4 + (size_t)reply);
	}
}

static void echo_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		echo_close(bev);
}

static void echo_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
			int salen, void *arg)
{
	struct echo *e = arg;
	SSL *ssl = SSL_new(e->ctx);
	struct bufferevent *bev;

	if (!ssl) {
		evutil_closesocket(fd);
		return;
	}
	bev = bufferevent_openssl_socket_new(e->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		return;
	bufferevent_setcb(bev, echo_read, NULL, echo_event, e);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void echo_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
	const char *certs = agent_arg(argc - 1, argv + 1, "certs", NULL);
	int port = atoi(agent_arg(argc - 1, argv + 1, "port", "0"));
	struct timeval life = {atoi(agent_arg(argc - 1, argv + 1, "lifetime", "900")), 0};
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	struct evconnlistener *l;
	struct event *sigterm, *sigint, *timer;
	struct echo e;

	if (!certs) {
		fprintf(stderr, "usage: bench_tlsecho certs=DIR [port=0] [lifetime=SECONDS]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	e.ctx = tlsctx_server(certs);
	e.base = event_base_new();
	if (!e.ctx || !e.base)
		return 1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = evconnlistener_new_bind(e.base, echo_accept, &e,
				    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 64,
				    (struct sockaddr *)&sin, sizeof(sin));
	if (!l) {
		perror("bench_tlsecho: listen");
		return 1;
	}
	getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin, &slen);
	sigterm = evsignal_new(e.base, SIGTERM, echo_stop, e.base);
	sigint = evsignal_new(e.base, SIGINT, echo_stop, e.base);
	timer = evtimer_new(e.base, echo_stop, e.base);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	event_add(timer, &life);
	printf("port %d\n", ntohs(sin.sin_port));
	fflush(stdout);
	event_base_dispatch(e.base);
	event_free(sigterm);
	event_free(sigint);
	event_free(timer);
	evconnlistener_free(l);
	event_base_free(e.base);
	SSL_CTX_free(e.ctx);
	return 0;
}
