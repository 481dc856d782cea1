/* tcp_proxy.c: the fault-injecting TCP proxy of the tests (see tcp_proxy.h).
 *
 * One poll() loop serves every route: the listeners, both sockets of each connection and the
 * command socket. Each connection has two flows (up: accepted socket -> target socket; down:
 * the reverse), each a queue of chunks stamped with the time they may leave, so delay, drop and
 * blackhole are decisions about reading and writing one flow. The loop runs in a thread or in a
 * forked child; either way it only ever touches memory of its own and talks to the caller over
 * the socketpair, one fixed-size command and one fixed-size answer at a time.
 */
#include "tcp_proxy.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 16384
#define COMMAND_WAIT_MS 5000
#define IDLE_POLL_MS 1000

enum { CMD_SET = 1, CMD_CUT, CMD_REFUSE, CMD_STATS, CMD_QUIT };

struct command {
	uint32_t op;
	uint32_t route;        /* UINT32_MAX: all */
	uint32_t dir;
	uint32_t mode;
	uint32_t delay_ms;
	uint32_t on;
};

struct answer {
	int32_t rc;
	struct tcp_proxy_stats st;
};

struct chunk {
	struct chunk *next;
	uint64_t due_ms;
	size_t len, off;
	uint8_t data[];
};

/* Bytes from fd[i] to fd[1 - i] for flow i. */
struct flow {
	struct chunk *head, *tail;
	size_t held;
	bool eof;              /* the source said it sends no more */
	bool shut;             /* ... and that was passed on */
};

struct conn {
	struct conn *next;
	int fd[2];             /* 0: accepted, 1: to the target */
	bool connecting;
	struct flow flow[2];
};

struct route {
	int lfd;
	int port, target;
	enum tcp_proxy_mode mode[2];
	unsigned delay_ms[2];
	bool refuse;
	struct conn *conns;
	struct tcp_proxy_stats st;
};

struct loop {
	struct route r[TCP_PROXY_ROUTES_MAX];
	size_t n;
	int ctl;
	unsigned max_conns;
	size_t buffer_max;
};

struct tcp_proxy {
	struct loop *lp;       /* thread mode: handed to the thread, freed after the join */
	int ctl;
	bool thread;
	pthread_t th;
	pid_t pid;
	size_t n;
	int ports[TCP_PROXY_ROUTES_MAX];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Closes fd so that the other end sees a reset. */
static void close_reset(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void flow_clear(struct flow *f)
{
	struct chunk *c = f->head, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	f->head = f->tail = NULL;
	f->held = 0;
}

/* Unlinks c from its route and frees it; reset: RST both ends, else a plain close. */
static void conn_close(struct route *rt, struct conn *c, bool reset)
{
	struct conn **pp = &rt->conns;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	for (int i = 0; i < 2; i++) {
		flow_clear(&c->flow[i]);
		if (reset)
			close_reset(c->fd[i]);
		else if (c->fd[i] >= 0)
			close(c->fd[i]);
	}
	rt->st.open--;
	free(c);
}

static void route_cut(struct route *rt)
{
	while (rt->conns) {
		rt->st.reset++;
		conn_close(rt, rt->conns, true);
	}
}

static void route_accept(struct loop *lp, struct route *rt)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)rt->target),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct conn *c;
	int fd = accept4(rt->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int one = 1, up;

	if (fd < 0)
		return;
	rt->st.accepted++;
	if (rt->refuse || rt->st.open >= lp->max_conns) {
		rt->st.reset++;
		close_reset(fd);
		return;
	}
	up = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	c = calloc(1, sizeof(*c));
	if (up < 0 || !c) {
		rt->st.failed++;
		close_reset(fd);
		if (up >= 0)
			close(up);
		free(c);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(up, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		rt->st.failed++;
		close_reset(fd);
		close(up);
		free(c);
		return;
	}
	c->fd[0] = fd;
	c->fd[1] = up;
	c->connecting = true;
	c->next = rt->conns;
	rt->conns = c;
	rt->st.open++;
}

/* Reads what flow i may take now. false when the connection must be reset. */
static bool flow_read(struct loop *lp, struct route *rt, struct conn *c, int i)
{
	struct flow *f = &c->flow[i];
	enum tcp_proxy_mode m = rt->mode[i];
	uint8_t buf[READ_CHUNK];
	ssize_t n;

	if (f->eof)
		return true;
	if (m == TCP_PROXY_DROP) {
		n = recv(c->fd[i], buf, sizeof(buf), 0);
		if (n > 0)
			rt->st.dropped[i] += (uint64_t)n;
	} else {
		size_t room = lp->buffer_max - f->held;
		struct chunk *ch;

		if (room == 0)
			return true; /* full: wait until some of it went out */
		if (room > READ_CHUNK)
			room = READ_CHUNK;
		ch = malloc(sizeof(*ch) + room);
		if (!ch)
			return true; /* try again on the next round */
		n = recv(c->fd[i], ch->data, room, 0);
		if (n > 0) {
			ch->next = NULL;
			ch->len = (size_t)n;
			ch->off = 0;
			ch->due_ms = now_ms() + (m == TCP_PROXY_DELAY ? rt->delay_ms[i] : 0);
			if (f->tail)
				f->tail->next = ch;
			else
				f->head = ch;
			f->tail = ch;
			f->held += (size_t)n;
		} else {
			free(ch);
		}
	}
	if (n == 0)
		f->eof = true;
	else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return false;
	return true;
}

/* Sends flow i's chunks that are due. false when the connection must be reset. */
static bool flow_write(struct route *rt, struct conn *c, int i)
{
	struct flow *f = &c->flow[i];
	uint64_t now = now_ms();

	while (f->head && f->head->due_ms <= now) {
		struct chunk *ch = f->head;
		ssize_t w = send(c->fd[1 - i], ch->data + ch->off, ch->len - ch->off, MSG_NOSIGNAL);

		if (w < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		ch->off += (size_t)w;
		f->held -= (size_t)w;
		rt->st.bytes[i] += (uint64_t)w;
		if (ch->off < ch->len)
			return true;
		f->head = ch->next;
		if (!f->head)
			f->tail = NULL;
		free(ch);
	}
	return true;
}

static bool flow_moves(const struct route *rt, int i)
{
	return rt->mode[i] == TCP_PROXY_PASS || rt->mode[i] == TCP_PROXY_DELAY;
}

/* The poll events flow i wants on its source and on its destination. */
static void flow_events(const struct loop *lp, const struct route *rt, const struct conn *c,
			int i, short *src, short *dst, uint64_t *wake)
{
	const struct flow *f = &c->flow[i];

	if (rt->mode[i] == TCP_PROXY_BLACKHOLE) {
		*src |= POLLRDHUP;
		return;
	}
	if (!f->eof && (rt->mode[i] == TCP_PROXY_DROP || f->held < lp->buffer_max))
		*src |= POLLIN;
	if (flow_moves(rt, i) && f->head) {
		if (f->head->due_ms <= now_ms())
			*dst |= POLLOUT;
		else if (f->head->due_ms < *wake)
			*wake = f->head->due_ms;
	}
}

static void apply_set(struct route *rt, const struct command *cmd)
{
	for (int i = 0; i < 2; i++) {
		if (!(cmd->dir & (1u << i)))
			continue;
		if (cmd->mode == TCP_PROXY_DROP) {
			for (struct conn *c = rt->conns; c; c = c->next) {
				rt->st.dropped[i] += c->flow[i].held;
				flow_clear(&c->flow[i]);
			}
		}
		rt->mode[i] = (enum tcp_proxy_mode)cmd->mode;
		rt->delay_ms[i] = cmd->delay_ms;
	}
}

/* One command. false: quit. */
static bool loop_command(struct loop *lp)
{
	struct command cmd;
	struct answer ans;
	ssize_t n = recv(lp->ctl, &cmd, sizeof(cmd), MSG_WAITALL);
	size_t first = 0, last = lp->n;

	if (n != (ssize_t)sizeof(cmd) || cmd.op == CMD_QUIT) {
		if (n == (ssize_t)sizeof(cmd)) {
			memset(&ans, 0, sizeof(ans));
			send(lp->ctl, &ans, sizeof(ans), MSG_NOSIGNAL);
		}
		return false;
	}
	memset(&ans, 0, sizeof(ans));
	if (cmd.route != UINT32_MAX) {
		first = cmd.route;
		last = cmd.route + 1u;
	}
	if (first >= lp->n || last > lp->n || (cmd.op == CMD_STATS && last - first != 1) ||
	    (cmd.op == CMD_SET && (cmd.mode > TCP_PROXY_BLACKHOLE || cmd.dir == 0 || cmd.dir > 3))) {
		ans.rc = -EINVAL;
	} else {
		for (size_t k = first; k < last; k++) {
			struct route *rt = &lp->r[k];

			switch (cmd.op) {
			case CMD_SET:
				apply_set(rt, &cmd);
				break;
			case CMD_CUT:
				route_cut(rt);
				break;
			case CMD_REFUSE:
				rt->refuse = cmd.on != 0;
				if (rt->refuse)
					route_cut(rt);
				break;
			case CMD_STATS:
				ans.st = rt->st;
				break;
			default:
				ans.rc = -EINVAL;
				break;
			}
		}
	}
	send(lp->ctl, &ans, sizeof(ans), MSG_NOSIGNAL);
	return true;
}

/* Handles the poll results of one connection. */
static void conn_serve(struct loop *lp, struct route *rt, struct conn *c, const short rev[2])
{
	if ((rev[0] & POLLERR) || (!c->connecting && (rev[1] & POLLERR))) {
		/* An end that reset: nothing more moves on this connection. */
		rt->st.reset++;
		conn_close(rt, c, true);
		return;
	}
	if (c->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (!(rev[1] & (POLLOUT | POLLERR | POLLHUP)))
			return;
		getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			rt->st.failed++;
			conn_close(rt, c, true);
			return;
		}
		c->connecting = false;
	}
	for (int i = 0; i < 2; i++) {
		short r = rev[i];

		if (rt->mode[i] == TCP_PROXY_BLACKHOLE) {
			if (r & (POLLRDHUP | POLLHUP | POLLERR)) {
				rt->st.reset++;
				conn_close(rt, c, true);
				return;
			}
			continue;
		}
		if ((r & (POLLIN | POLLHUP | POLLERR | POLLRDHUP)) && !flow_read(lp, rt, c, i)) {
			rt->st.reset++;
			conn_close(rt, c, true);
			return;
		}
	}
	for (int i = 0; i < 2; i++) {
		struct flow *f = &c->flow[i];

		if (flow_moves(rt, i) && !flow_write(rt, c, i)) {
			rt->st.reset++;
			conn_close(rt, c, true);
			return;
		}
		if (f->eof && !f->head && !f->shut) {
			shutdown(c->fd[1 - i], SHUT_WR);
			f->shut = true;
		}
	}
	if (c->flow[0].shut && c->flow[1].shut)
		conn_close(rt, c, false);
}

/* What one entry of the poll array stands for: a route's listener (c NULL) or one of the two
 * sockets of connection c (entries of a connection are adjacent, fd[0] first). */
struct slot {
	struct route *rt;
	struct conn *c;
};

static void loop_run(struct loop *lp)
{
	size_t cap = 1 + lp->n * (1 + 2 * (size_t)lp->max_conns);
	struct pollfd *pfd = calloc(cap, sizeof(*pfd));
	struct slot *slot = calloc(cap, sizeof(*slot));

	while (pfd && slot) {
		size_t n = 0;
		uint64_t wake = now_ms() + IDLE_POLL_MS, now;
		int timeout;

		pfd[n++] = (struct pollfd){.fd = lp->ctl, .events = POLLIN};
		for (size_t k = 0; k < lp->n; k++) {
			struct route *rt = &lp->r[k];

			slot[n] = (struct slot){rt, NULL};
			pfd[n++] = (struct pollfd){.fd = rt->lfd, .events = POLLIN};
			for (struct conn *c = rt->conns; c && n + 2 <= cap; c = c->next) {
				short ev[2] = {0, 0};

				if (c->connecting) {
					ev[1] = POLLOUT;
				} else {
					flow_events(lp, rt, c, 0, &ev[0], &ev[1], &wake);
					flow_events(lp, rt, c, 1, &ev[1], &ev[0], &wake);
				}
				/* A socket whose stream has ended and that has nothing to
				 * take is left out: its hang-up would wake poll forever. */
				for (int e = 0; e < 2; e++) {
					bool idle = ev[e] == 0 && c->flow[e].eof;

					slot[n] = (struct slot){rt, c};
					pfd[n++] = (struct pollfd){.fd = idle ? -1 : c->fd[e],
								   .events = ev[e]};
				}
			}
		}
		now = now_ms();
		timeout = wake > now ? (int)(wake - now) : 0;
		if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents) {
			/* A command may have closed connections of the array: serve them on the
			 * next round, from a fresh array. */
			if (!loop_command(lp))
				break;
			continue;
		}
		/* Serving a connection closes at most that connection, and accepting only adds
		 * connections at the head of a list: the rest of the array stays valid. */
		for (size_t i = 1; i < n;) {
			if (!slot[i].c) {
				if (pfd[i].revents & POLLIN)
					route_accept(lp, slot[i].rt);
				i++;
				continue;
			}
			conn_serve(lp, slot[i].rt, slot[i].c,
				   (short[2]){pfd[i].revents, pfd[i + 1].revents});
			i += 2;
		}
	}
	free(pfd);
	free(slot);
}

static void loop_free(struct loop *lp)
{
	if (!lp)
		return;
	for (size_t k = 0; k < lp->n; k++) {
		while (lp->r[k].conns)
			conn_close(&lp->r[k], lp->r[k].conns, true);
		if (lp->r[k].lfd >= 0)
			close(lp->r[k].lfd);
	}
	if (lp->ctl >= 0)
		close(lp->ctl);
	free(lp);
}

static void *loop_thread(void *arg)
{
	loop_run(arg);
	return NULL;
}

/* In the child: every descriptor but the loop's is closed, so that the child keeps none of
 * the parent's connections alive. */
static void child_close_others(const struct loop *lp)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int dfd = d ? dirfd(d) : -1;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		bool keep = fd <= 2 || fd == dfd || fd == lp->ctl || e->d_name[0] == '.';

		for (size_t k = 0; k < lp->n && !keep; k++)
			keep = fd == lp->r[k].lfd;
		if (!keep)
			close(fd);
	}
	closedir(d);
}

static int listen_on(int port, int *out_port, char *err)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, 256, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 128) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		snprintf(err, 256, "listen 127.0.0.1:%d: %s", port, strerror(errno));
		close(fd);
		return -1;
	}
	*out_port = ntohs(sa.sin_port);
	return fd;
}

struct tcp_proxy *tcp_proxy_new(const struct tcp_proxy_options *o, char *err)
{
	char scratch[256];
	struct tcp_proxy *p;
	struct loop *lp;
	int sv[2];

	if (!err)
		err = scratch;
	err[0] = '\0';
	if (!o || !o->routes || o->n_routes == 0 || o->n_routes > TCP_PROXY_ROUTES_MAX) {
		snprintf(err, 256, "tcp_proxy: 1 to %d routes", TCP_PROXY_ROUTES_MAX);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	lp = calloc(1, sizeof(*lp));
	if (!p || !lp) {
		free(p);
		free(lp);
		snprintf(err, 256, "tcp_proxy: out of memory");
		return NULL;
	}
	lp->ctl = -1;
	lp->max_conns = o->max_conns ? o->max_conns : 64;
	if (lp->max_conns > 256)
		lp->max_conns = 256;
	lp->buffer_max = o->buffer_max ? o->buffer_max : (1u << 20);
	for (size_t k = 0; k < o->n_routes; k++) {
		struct route *rt = &lp->r[k];

		rt->target = o->routes[k].target_port;
		rt->lfd = listen_on(o->routes[k].listen_port, &rt->port, err);
		lp->n = k + 1;
		if (rt->lfd < 0 || rt->target <= 0 || rt->target > 65535) {
			if (rt->lfd >= 0)
				snprintf(err, 256, "tcp_proxy: bad target port %d", rt->target);
			loop_free(lp);
			free(p);
			return NULL;
		}
		p->ports[k] = rt->port;
	}
	p->n = lp->n;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, 256, "tcp_proxy: socketpair: %s", strerror(errno));
		loop_free(lp);
		free(p);
		return NULL;
	}
	lp->ctl = sv[1];
	p->ctl = sv[0];
	if (!o->child_process) {
		p->thread = true;
		p->lp = lp;
		if (pthread_create(&p->th, NULL, loop_thread, lp) != 0) {
			snprintf(err, 256, "tcp_proxy: cannot start its thread");
			close(p->ctl);
			loop_free(lp);
			free(p);
			return NULL;
		}
		return p;
	}
	p->pid = fork();
	if (p->pid < 0) {
		snprintf(err, 256, "tcp_proxy: fork: %s", strerror(errno));
		close(p->ctl);
		loop_free(lp);
		free(p);
		return NULL;
	}
	if (p->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_IGN);
		child_close_others(lp);
		loop_run(lp);
		_exit(0);
	}
	/* The parent keeps only its end of the command socket. */
	loop_free(lp);
	return p;
}

static int command(struct tcp_proxy *p, const struct command *cmd, struct answer *ans)
{
	struct pollfd pfd = {.fd = p->ctl, .events = POLLIN};
	ssize_t n;

	if (send(p->ctl, cmd, sizeof(*cmd), MSG_NOSIGNAL) != (ssize_t)sizeof(*cmd))
		return -EPIPE;
	if (poll(&pfd, 1, COMMAND_WAIT_MS) <= 0)
		return -ETIMEDOUT;
	n = recv(p->ctl, ans, sizeof(*ans), MSG_WAITALL);
	if (n != (ssize_t)sizeof(*ans))
		return -EPIPE;
	return ans->rc;
}

static uint32_t route_arg(const struct tcp_proxy *p, size_t route, int *rc)
{
	*rc = 0;
	if (route == TCP_PROXY_ALL)
		return UINT32_MAX;
	if (route >= p->n)
		*rc = -EINVAL;
	return (uint32_t)route;
}

void tcp_proxy_free(struct tcp_proxy *p)
{
	struct command cmd = {.op = CMD_QUIT};
	struct answer ans;

	if (!p)
		return;
	command(p, &cmd, &ans);
	if (p->thread) {
		pthread_join(p->th, NULL);
		loop_free(p->lp);
	} else if (p->pid > 0) {
		int st;

		/* The child leaves on QUIT or on the closed socket; bounded anyway. */
		close(p->ctl);
		p->ctl = -1;
		for (int i = 0; i < 100 && waitpid(p->pid, &st, WNOHANG) == 0; i++)
			usleep(20000);
		if (waitpid(p->pid, &st, WNOHANG) == 0) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
		}
	}
	if (p->ctl >= 0)
		close(p->ctl);
	free(p);
}

int tcp_proxy_port(const struct tcp_proxy *p, size_t route)
{
	return route < p->n ? p->ports[route] : -1;
}

int tcp_proxy_pid(const struct tcp_proxy *p)
{
	return p->pid;
}

int tcp_proxy_set(struct tcp_proxy *p, size_t route, enum tcp_proxy_dir dir,
		  enum tcp_proxy_mode mode, unsigned delay_ms)
{
	struct command cmd = {.op = CMD_SET, .dir = (uint32_t)dir, .mode = (uint32_t)mode,
			      .delay_ms = delay_ms};
	struct answer ans;
	int rc;

	cmd.route = route_arg(p, route, &rc);
	return rc ? rc : command(p, &cmd, &ans);
}

int tcp_proxy_cut(struct tcp_proxy *p, size_t route)
{
	struct command cmd = {.op = CMD_CUT};
	struct answer ans;
	int rc;

	cmd.route = route_arg(p, route, &rc);
	return rc ? rc : command(p, &cmd, &ans);
}

int tcp_proxy_refuse(struct tcp_proxy *p, size_t route, bool on)
{
	struct command cmd = {.op = CMD_REFUSE, .on = on};
	struct answer ans;
	int rc;

	cmd.route = route_arg(p, route, &rc);
	return rc ? rc : command(p, &cmd, &ans);
}

int tcp_proxy_stats(struct tcp_proxy *p, size_t route, struct tcp_proxy_stats *out)
{
	struct command cmd = {.op = CMD_STATS};
	struct answer ans;
	int rc;

	if (route == TCP_PROXY_ALL)
		return -EINVAL;
	cmd.route = route_arg(p, route, &rc);
	if (rc)
		return rc;
	rc = command(p, &cmd, &ans);
	if (rc == 0)
		*out = ans.st;
	return rc;
}
