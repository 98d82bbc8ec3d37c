/* listing.c: the rows of a listing (jobs, assets, products, builders): read
 * from a statement into an array, and printed as its JSON document or as
 * a table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query_priv.h"

/* The most a cell's text may take when it is formatted (a number, a
 * duration); strings are shown as they are. */
#define CELL_MAX 64

int q_collect(qctx *q, sqlite3_stmt *st, json_t *(*row)(sqlite3_stmt *st), json_t *arr)
{
	int src;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = row(st);
		if (!o || json_array_append_new(arr, o) != 0)
			return q_oom(q);
	}
	if (src != SQLITE_DONE)
		return q_step_failed(q, src);
	return 0;
}

/* The text form of arr as the table of l. Returns 0 or Q_USAGE after
 * printing why. */
static int print_table(qctx *q, const qlisting *l, json_t *arr)
{
	const char **cells = calloc((size_t)l->ncols, sizeof *cells);
	const char **hdr = calloc((size_t)l->ncols, sizeof *hdr);
	char *bufs = calloc((size_t)l->ncols, CELL_MAX);
	qtable *t = NULL;
	size_t i;
	json_t *o;
	int rc = 0;

	if (!cells || !hdr || !bufs)
		goto oom;
	for (int c = 0; c < l->ncols; c++)
		hdr[c] = l->cols[c].header;
	if (!(t = q_table_new(l->ncols, hdr)))
		goto oom;
	json_array_foreach(arr, i, o)
	{
		for (int c = 0; c < l->ncols; c++) {
			const qcol *col = &l->cols[c];
			char *buf = bufs + (size_t)c * CELL_MAX;
			cells[c] = col->cell ? col->cell(o, col->key, buf, CELL_MAX)
			                     : q_text(o, col->key, buf, CELL_MAX);
		}
		if (q_table_add(t, cells) != 0)
			goto oom;
	}
	q_table_print(t, stdout);
	goto out;
oom:
	rc = q_oom(q);
out:
	q_table_free(t);
	free(bufs);
	free(hdr);
	free(cells);
	return rc;
}

/* The paged document {total, offset, limit, key: arr}: with dir_lo (the
 * folder asked for, with its trailing slash) it also holds "dir" and the
 * folders. Takes arr and folders in every case; NULL when out of memory. */
static json_t *paged_doc(const qpage *pg, int64_t total, const char *key, json_t *arr, const char *dir_lo,
                         json_t *folders)
{
	json_t *doc = q_page_doc(pg, total, key, arr);
	if (doc && dir_lo) {
		/* dir_lo is the folder with its trailing slash ("" at the top). */
		q_set(doc, "dir", json_stringn(dir_lo, dir_lo[0] ? strlen(dir_lo) - 1 : 0));
		json_object_set_new(doc, "folders", folders);
	} else {
		json_decref(folders);
	}
	return doc;
}

/* The text form of a tree listing's folders: "name/  (count)" lines. */
static void print_folders(const json_t *folders)
{
	size_t i;
	json_t *o;
	json_array_foreach(folders, i, o)
	{
		printf("%s/  (%lld)\n", json_string_value(json_object_get(o, "name")),
		       (long long)json_integer_value(json_object_get(o, "count")));
	}
}

int q_print_listing(qctx *q, const qlisting *l, const qpage *pg, int64_t total, json_t *arr,
                    const char *dir_lo, json_t *folders)
{
	int rc = 0;
	if (q->json && pg->on) {
		json_t *doc = paged_doc(pg, total, l->key, arr, dir_lo, folders);
		if (!doc)
			return q_oom(q);
		rc = q_print_json(q, doc);
		json_decref(doc);
		return rc;
	}
	if (q->json) {
		rc = q_print_json(q, arr);
	} else {
		print_folders(folders);
		/* A page past the end says so in its note instead. */
		if (json_array_size(arr) == 0 && !pg->on)
			printf("no %s\n", l->key);
		else if (json_array_size(arr) > 0)
			rc = print_table(q, l, arr);
		if (rc == 0)
			q_page_note(pg, total, json_array_size(arr));
	}
	json_decref(arr);
	json_decref(folders);
	return rc;
}
