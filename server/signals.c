/* signals.c: the daemons' signals on their libevent loop (see signals.h). */
#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>

#include "log.h"
#include "notify.h"

static void signals_on(evutil_socket_t sig, short what, void *arg)
{
	struct signals *s = arg;
	char err[128];

	(void)what;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_notice("stopping on signal %d", (int)sig);
		notify_stopping("stopping", err, sizeof(err));
		if (s->ops->stop)
			s->ops->stop(s->arg);
		event_base_loopbreak(s->base);
		break;
	case SIGHUP:
		s->ops->reload(s->arg);
		break;
	case SIGUSR1:
		s->ops->dump(s->arg);
		break;
	default:
		break;
	}
}

int signals_start(struct signals *s, struct event_base *base, const struct signals_ops *ops,
		  void *arg)
{
	static const int sigs[4] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	int rc = 0;

	s->base = base;
	s->ops = ops;
	s->arg = arg;
	for (size_t i = 0; i < 4; i++) {
		s->ev[i] = evsignal_new(base, sigs[i], signals_on, s);
		if (!s->ev[i] || event_add(s->ev[i], NULL) != 0)
			rc = -ENOMEM;
	}
	return rc;
}

void signals_stop(struct signals *s)
{
	for (size_t i = 0; i < 4; i++) {
		if (s->ev[i])
			event_free(s->ev[i]);
		s->ev[i] = NULL;
	}
}
