/* page.c: paging of a listing (--limit, --offset): the options, the SQL,
 * the count, the paged document and the note of the text form. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "query/query_priv.h"

/* A decimal number without sign, spaces or leading junk, at most max. */
static int parse_count(const char *s, int64_t max, int64_t *out)
{
	int64_t v = 0;
	if (!s || !*s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		/* Checked before it is computed, so it cannot overflow. */
		if (v > (max - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 0;
}

int q_parse_page(qctx *q, const char *limit, const char *offset, qpage *pg)
{
	pg->on = limit || offset;
	pg->limit = 200;
	pg->offset = 0;
	if (limit && (parse_count(limit, Q_PAGE_MAX, &pg->limit) != 0 || pg->limit < 1)) {
		q_err(q, "--limit takes a number from 1 to %d", Q_PAGE_MAX);
		return Q_USAGE;
	}
	if (offset && parse_count(offset, Q_OFFSET_MAX, &pg->offset) != 0) {
		q_err(q, "--offset takes a number from 0 to %d", Q_OFFSET_MAX);
		return Q_USAGE;
	}
	return 0;
}

void q_page_sql(const qpage *pg, char *sql, size_t sqlsz)
{
	size_t n = strlen(sql);
	if (pg->on && n < sqlsz)
		snprintf(sql + n, sqlsz - n, " LIMIT %" PRId64 " OFFSET %" PRId64, pg->limit, pg->offset);
}

int q_count(qctx *q, sqlite3_stmt *st, int64_t *n)
{
	int src = sqlite3_step(st);
	if (src != SQLITE_ROW)
		return q_step_failed(q, src);
	*n = sqlite3_column_int64(st, 0);
	return 0;
}

json_t *q_page_doc(const qpage *pg, int64_t total, const char *key, json_t *arr)
{
	json_t *o = json_object();
	if (!o || !arr) {
		json_decref(o);
		json_decref(arr);
		return NULL;
	}
	q_set(o, "total", json_integer(total));
	q_set(o, "offset", json_integer(pg->offset));
	q_set(o, "limit", json_integer(pg->limit));
	json_object_set_new(o, key, arr);
	return o;
}

void q_page_note(const qpage *pg, int64_t total, size_t shown)
{
	if (!pg->on)
		return;
	if (shown == 0)
		printf("no rows at offset %" PRId64 " of %" PRId64 "\n", pg->offset, total);
	else
		printf("rows %" PRId64 "-%" PRId64 " of %" PRId64 "\n", pg->offset + 1,
		       pg->offset + (int64_t)shown, total);
}
