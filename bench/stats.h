/* stats.h: latency samples, percentiles and the monotonic clock shared by the bench programs.
 *
 * A series is a growable array of samples in microseconds. Percentiles are nearest-rank on the
 * sorted samples. Single-threaded; nothing here does I/O except stats_write(). */
#ifndef DMLOG_BENCH_STATS_H
#define DMLOG_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct stats {
	double *v;
	size_t n;
	size_t cap;
	int sorted;
};

/* Microseconds on CLOCK_MONOTONIC. */
double stats_now_us(void);

/* Orders doubles ascending, for qsort(). */
int stats_cmp(const void *a, const void *b);

/* Appends one sample. 0 or -ENOMEM. */
int stats_add(struct stats *s, double us);

/* The p-quantile (0 <= p <= 1) by nearest rank; sorts the samples first. 0 when empty. */
double stats_pct(struct stats *s, double p);

double stats_mean(const struct stats *s);

/* Writes the samples as one line of space-separated values (one decimal). */
void stats_write(const struct stats *s, FILE *f);

void stats_reset(struct stats *s);
void stats_free(struct stats *s);

#endif /* DMLOG_BENCH_STATS_H */
