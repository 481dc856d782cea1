/* fmt.h: dmlogctl's output helpers: labelled text fields, region ranges, percentages, sizes,
 * and the JSON primitives (escaped strings, range arrays).
 *
 * Every function writes to the FILE it is given and reports nothing: a write error is noticed
 * once, when main.c flushes stdout before exiting.
 */
#ifndef DMLOGCTL_FMT_H
#define DMLOGCTL_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <dmlog/dmlog.h>

#define FMT_LABEL_WIDTH 17  /* "label:" is padded to this many columns in text blocks */

/* Writes "label:" padded to FMT_LABEL_WIDTH (at least one space follows the colon). */
void fmt_label(FILE *f, const char *label);

/* Writes "label:" padded to FMT_LABEL_WIDTH, then the formatted value and a newline. */
void fmt_field(FILE *f, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes ranges as "a-b,c,d-e" (a single region as "a"), or "none" when n is 0. */
void fmt_ranges(FILE *f, const struct dmlog_region_range *ranges, size_t n);

/* Writes ranges as a JSON array of [first,last] pairs: [[0,3],[7,7]]. */
void fmt_ranges_json(FILE *f, const struct dmlog_region_range *ranges, size_t n);

/* Compresses a list of regions (any order, duplicates allowed) into sorted, maximal, disjoint
 * ranges. *out is an owned array of *nout entries (free() it; NULL when n is 0). Returns 0 or
 * -ENOMEM. */
int fmt_compress(const uint64_t *regions, size_t n, struct dmlog_region_range **out, size_t *nout);

/* part/whole as a percentage with one decimal, rounded down so that "100.0" means all of it:
 * "62.5". A whole of 0 counts as complete ("100.0"). Valid as a JSON number. */
void fmt_percent(char *buf, size_t len, uint64_t part, uint64_t whole);

/* A size given in 512-byte sectors, in the largest binary unit that divides it exactly:
 * "512KiB", "4MiB", "1536B". */
void fmt_size(char *buf, size_t len, uint64_t sectors);

/* Writes s as a JSON string literal, quotes included. Control characters are escaped, and
 * bytes that are not valid UTF-8 become U+FFFD, so the output is always well-formed. */
void fmt_json_string(FILE *f, const char *s);

/* Writes "key": (the key escaped as a string); for building objects by hand. */
void fmt_json_key(FILE *f, const char *key);

/* Writes s as a JSON string, or null when s is empty. */
void fmt_json_string_or_null(FILE *f, const char *s);

/* Writes the member "key":s of an object (s as a JSON string; with _or_null, null when s is
 * empty), then the text after ("," before the next member, "" when none follows). */
void fmt_json_member(FILE *f, const char *key, const char *s, const char *after);
void fmt_json_member_or_null(FILE *f, const char *key, const char *s, const char *after);

#endif /* DMLOGCTL_FMT_H */
