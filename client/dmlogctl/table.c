/* table.c: column-aligned text tables (see table.h).
 *
 * Cells are kept row-major in one growable array of owned strings; row 0 is the header.
 */
#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct table {
	size_t ncols;
	bool right[TABLE_MAX_COLUMNS];
	size_t width[TABLE_MAX_COLUMNS];
	char **cells;        /* nrows * ncols */
	size_t nrows;
	size_t cap_rows;
};

int table_add(struct table *t, const char *const *cells)
{
	char *row[TABLE_MAX_COLUMNS];

	if (t->nrows == t->cap_rows) {
		size_t cap = t->cap_rows ? t->cap_rows * 2 : 8;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));

		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap_rows = cap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i] ? cells[i] : "");
		if (!row[i]) {
			while (i--)
				free(row[i]);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < t->ncols; i++) {
		size_t w = strlen(row[i]);

		t->cells[t->nrows * t->ncols + i] = row[i];
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
	return 0;
}

struct table *table_new(size_t ncols, const char *const *headers, const bool *right)
{
	struct table *t;

	if (ncols == 0 || ncols > TABLE_MAX_COLUMNS)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	for (size_t i = 0; i < ncols && right; i++)
		t->right[i] = right[i];
	if (table_add(t, headers)) {
		table_free(t);
		return NULL;
	}
	return t;
}

/* Writes n spaces. */
static void pad(FILE *f, size_t n)
{
	while (n--)
		fputc(' ', f);
}

void table_print(const struct table *t, FILE *f, int indent)
{
	for (size_t r = 0; r < t->nrows; r++) {
		/* Padding is held back until a non-empty cell follows: no trailing blanks. */
		size_t pending = indent > 0 ? (size_t)indent : 0;

		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			size_t len = strlen(cell);

			if (c)
				pending += 2;
			if (t->right[c])
				pending += t->width[c] - len;
			if (len) {
				pad(f, pending);
				fputs(cell, f);
				pending = 0;
			}
			if (!t->right[c])
				pending += t->width[c] - len;
		}
		fputc('\n', f);
	}
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
