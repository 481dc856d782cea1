/* clock.h: the clock every timer, lease and deadline of dmlogd reads: CLOCK_MONOTONIC in
 * milliseconds (the clock libevent, uv_now() and uv_hrtime() count), from any thread. */
#ifndef DMLOG_CLOCK_H
#define DMLOG_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif /* DMLOG_CLOCK_H */
