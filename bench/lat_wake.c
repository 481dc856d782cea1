/* lat_wake.c: what one thread waking another costs on this machine, the unit every hop of a
 * commit pays (client -> dmlogd, the libevent thread -> the raft thread and back, leader ->
 * follower and back, the disk's completion).
 *
 * One sample is an eventfd round trip: the agent's thread (pinned to CPU 0) writes one eventfd,
 * a responder thread blocked in read() on it wakes and writes a second eventfd, on which the
 * agent's thread is blocked: two wake-ups. Series wake_cross has the responder pinned to CPU 1
 * (each wake-up crosses CPUs, as the hops between dmlogd's threads and processes usually do);
 * wake_same has it on CPU 0 too (a switch on one CPU). On a machine with one CPU both are
 * wake_same's set-up. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "agent.h"
#include "lat.h"

struct wake_pair {
	int ping, pong;     /* eventfds: agent -> responder, responder -> agent */
	int cpu;
	pthread_t thread;
};

static int wake_pin(pthread_t t, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(t, sizeof(set), &set);
}

static void *wake_responder(void *arg)
{
	struct wake_pair *p = arg;
	uint64_t v;

	for (;;) {
		if (read(p->ping, &v, sizeof(v)) != sizeof(v) || v == UINT64_MAX - 1)
			return NULL;
		if (write(p->pong, &v, sizeof(v)) != sizeof(v))
			return NULL;
	}
}

static int wake_run(void *arg, int n, struct stats *s, char *err)
{
	struct wake_pair *pairs = arg;

	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < n; i++) {
			uint64_t v = 1;
			double t0 = stats_now_us();

			if (write(pairs[k].ping, &v, sizeof(v)) != sizeof(v) ||
			    read(pairs[k].pong, &v, sizeof(v)) != sizeof(v)) {
				snprintf(err, AGENT_ERR_MAX, "eventfd round trip: %m");
				return -1;
			}
			stats_add(&s[k], stats_now_us() - t0);
		}
	}
	return 0;
}

int lat_wake_main(int argc, char **argv)
{
	static struct wake_pair pairs[2];
	struct agent a = {2, {"wake_cross", "wake_same"}, wake_run, pairs};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int rc;

	(void)argc;
	(void)argv;
	if (wake_pin(pthread_self(), 0) != 0)
		return agent_fail("wake: cannot pin to CPU 0");
	pairs[0].cpu = ncpu > 1 ? 1 : 0;
	pairs[1].cpu = 0;
	for (int k = 0; k < 2; k++) {
		pairs[k].ping = eventfd(0, EFD_CLOEXEC);
		pairs[k].pong = eventfd(0, EFD_CLOEXEC);
		if (pairs[k].ping < 0 || pairs[k].pong < 0)
			return agent_fail("wake: eventfd: %m");
		if (pthread_create(&pairs[k].thread, NULL, wake_responder, &pairs[k]) != 0 ||
		    wake_pin(pairs[k].thread, pairs[k].cpu) != 0)
			return agent_fail("wake: responder thread on CPU %d failed", pairs[k].cpu);
	}
	rc = agent_serve(&a);
	for (int k = 0; k < 2; k++) {
		uint64_t stop = UINT64_MAX - 1;

		if (write(pairs[k].ping, &stop, sizeof(stop)) == sizeof(stop))
			pthread_join(pairs[k].thread, NULL);
	}
	return rc;
}
