/* stats.c: latency samples and percentiles (see stats.h). */
#include "stats.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

double stats_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int stats_add(struct stats *s, double us)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		double *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = us;
	s->sorted = 0;
	return 0;
}

int stats_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double stats_pct(struct stats *s, double p)
{
	size_t i;

	if (s->n == 0)
		return 0;
	if (!s->sorted) {
		qsort(s->v, s->n, sizeof(*s->v), stats_cmp);
		s->sorted = 1;
	}
	/* nearest rank: the smallest sample with at least p of the samples at or below it */
	i = (size_t)(p * (double)s->n + 0.999999);
	if (i > 0)
		i--;
	if (i >= s->n)
		i = s->n - 1;
	return s->v[i];
}

double stats_mean(const struct stats *s)
{
	double sum = 0;

	for (size_t i = 0; i < s->n; i++)
		sum += s->v[i];
	return s->n ? sum / (double)s->n : 0;
}

void stats_write(const struct stats *s, FILE *f)
{
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, i ? " %.1f" : "%.1f", s->v[i]);
	fputc('\n', f);
}

void stats_reset(struct stats *s)
{
	s->n = 0;
	s->sorted = 0;
}

void stats_free(struct stats *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}
