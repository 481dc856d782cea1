/* signals.h: the daemons' signals on their libevent loop (dmlogd and dmlog-bridge alike).
 *
 * SIGTERM and SIGINT stop: the signal is logged, systemd is told STOPPING=1, the daemon's stop
 * callback runs and the loop is broken. SIGHUP calls reload, SIGUSR1 calls dump (the daemon
 * writes its state to the log). The callbacks run on the loop's thread, as ordinary events.
 */
#ifndef DMLOG_SERVER_SIGNALS_H
#define DMLOG_SERVER_SIGNALS_H

#include <event2/event.h>

struct signals_ops {
	void (*stop)(void *arg);    /* before the loop is broken; may be NULL */
	void (*reload)(void *arg);  /* SIGHUP */
	void (*dump)(void *arg);    /* SIGUSR1 */
};

struct signals {
	struct event_base *base;
	const struct signals_ops *ops;
	void *arg;
	struct event *ev[4];
};

/* Watches SIGTERM, SIGINT, SIGHUP and SIGUSR1 on base for ops (which must outlive s), each
 * callback getting arg. 0, or -ENOMEM when a signal could not be watched (the others are). */
int signals_start(struct signals *s, struct event_base *base, const struct signals_ops *ops,
		  void *arg);

/* Stops watching (frees the events); a zeroed s, or one signals_stop() ran on, is fine. */
void signals_stop(struct signals *s);

#endif /* DMLOG_SERVER_SIGNALS_H */
