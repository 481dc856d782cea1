/* table.h: column-aligned text tables for dmlogctl (peers, logs, instances).
 *
 * A table collects its rows first (each cell copied), then prints them with every column as
 * wide as its widest cell, two spaces apart, and no line ends in blanks. Numeric columns
 * are right-aligned.
 */
#ifndef DMLOGCTL_TABLE_H
#define DMLOGCTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLUMNS 8

struct table;

/* Creates a table whose columns are named by headers[0..ncols) (1 to TABLE_MAX_COLUMNS);
 * right[i] is true for a right-aligned column (right may be NULL: all left-aligned). Returns an
 * owned table, or NULL when out of memory. */
struct table *table_new(size_t ncols, const char *const *headers, const bool *right);

/* Appends a row of ncols cells (copied). Returns 0 or -ENOMEM. */
int table_add(struct table *t, const char *const *cells);

/* Writes the header and the rows, each line prefixed by indent spaces. */
void table_print(const struct table *t, FILE *f, int indent);

/* Frees the table and its cells. NULL is a no-op. */
void table_free(struct table *t);

#endif /* DMLOGCTL_TABLE_H */
