/* logs.h: the `logs` verb, and the summary fields it shares with `log show`. */
#ifndef DMLOGCTL_LOGS_H
#define DMLOGCTL_LOGS_H

#include <stdio.h>

#include <dmlog/dmlog.h>

/* Writes the JSON members of a log summary, without the braces: "uuid":...,"type":...,
 * "device":...,"region_size":N,"region_count":N,"dirty_count":N,"sync_count":N,
 * "in_sync_percent":N.N,"state":...,"recoverer":...,"recovering_region":N. An empty device or
 * recoverer is null, and so is recovering_region when nobody recovers. */
void logs_summary_json(FILE *f, const struct dmlog_log_summary *s);

#endif /* DMLOGCTL_LOGS_H */
