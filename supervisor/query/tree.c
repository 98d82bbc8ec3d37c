/* tree.c: reading a listing that is a folder tree (assets, products): its
 * options, the bounds of one folder (--dir), and the statements of its
 * folders, its count and its rows. */
#include <stdio.h>
#include <string.h>

#include "query/query_priv.h"

/* Sets lo, hi and skip of t for --dir DIR: "" (the top) or a relative
 * folder without "." or ".." parts. Returns 0, or Q_USAGE after printing
 * why. */
static int dir_bounds(qctx *q, const char *dir, qtree *t)
{
	size_t n = strlen(dir);
	while (n > 0 && dir[n - 1] == '/')
		n--;
	if (n == 0 || (n == 1 && dir[0] == '.')) {
		t->lo[0] = t->hi[0] = '\0';
		t->skip = 1;
		return 0;
	}
	if (n + 2 > sizeof t->lo || n > 4096) {
		q_err(q, "--dir: the folder name is too long");
		return Q_USAGE;
	}
	/* Each part must be a plain name: stored paths never hold "." or
	 * ".." parts, empty parts or control characters. */
	const char *p = dir, *end = dir + n;
	if (*p == '/') {
		q_err(q, "--dir takes a folder relative to its scan folder or platform, not '%.*s'", (int)n,
		      dir);
		return Q_USAGE;
	}
	while (p < end) {
		const char *e = memchr(p, '/', (size_t)(end - p));
		size_t len = e ? (size_t)(e - p) : (size_t)(end - p);
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
			q_err(q, "--dir: '%.*s' is not a folder name (no empty, '.' or '..' parts)", (int)n,
			      dir);
			return Q_USAGE;
		}
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) {
				q_err(q, "--dir: the folder name holds a control character");
				return Q_USAGE;
			}
		p += len + 1;
	}
	memcpy(t->lo, dir, n);
	t->lo[n] = '/';
	t->lo[n + 1] = '\0';
	memcpy(t->hi, dir, n);
	t->hi[n] = '0';
	t->hi[n + 1] = '\0';
	t->skip = (int)n + 2;
	return 0;
}

int q_tree_start(qctx *q, qtree *t, const char *limit, const char *offset)
{
	int rc;
	t->lo[0] = t->hi[0] = '\0';
	t->skip = 1;
	t->total = 0;
	t->rows = t->folders = NULL;
	if (t->filter && (rc = q_check_regex(q, t->filter)) != 0)
		return rc;
	if ((rc = q_parse_page(q, limit, offset, &t->pg)) != 0)
		return rc;
	if (t->dir) {
		if ((rc = dir_bounds(q, t->dir, t)) != 0)
			return rc;
		t->pg.on = true;
		if (!(t->folders = json_array()))
			return q_oom(q);
	}
	if (!(t->rows = json_array()))
		return q_oom(q);
	return q_open(q, true);
}

/* Prepares sql with the parameters of t bound. Returns 0, or Q_USAGE after
 * printing why. */
static int tree_prepare(qctx *q, const qtree *t, const char *sql, sqlite3_stmt **st)
{
	int rc = q_prepare(q, sql, st);
	if (rc != 0)
		return rc;
	db_bind_text(*st, 1, t->lo[0] ? t->lo : NULL);
	db_bind_text(*st, 2, t->hi);
	sqlite3_bind_int(*st, 3, t->skip);
	db_bind_text(*st, 4, t->filter);
	db_bind_text(*st, 5, t->extra);
	return 0;
}

/* Appends row() of every row of sql to arr. Returns 0, or Q_USAGE after
 * printing why. */
static int tree_collect(qctx *q, const qtree *t, const char *sql, json_t *(*row)(sqlite3_stmt *st),
                        json_t *arr)
{
	sqlite3_stmt *st = NULL;
	int rc = tree_prepare(q, t, sql, &st);
	if (rc == 0)
		rc = q_collect(q, st, row, arr);
	sqlite3_finalize(st);
	return rc;
}

/* One row of the folders: {name, count}. */
static json_t *folder_json(sqlite3_stmt *st)
{
	json_t *f = json_object();
	if (!f)
		return NULL;
	q_set(f, "name", q_jcol_str(st, 0));
	q_set(f, "count", q_jcol_int(st, 1));
	return f;
}

int q_tree_read(qctx *q, qtree *t, const char *folders_sql, const char *count_sql, const char *rows_sql,
                json_t *(*row)(sqlite3_stmt *st))
{
	sqlite3_stmt *st = NULL;
	char sql[2400];
	int rc;
	if (t->dir) {
		snprintf(sql, sizeof sql,
		         "SELECT substr(rest, 1, instr(rest, '/') - 1) AS d, count(*) FROM (%s)"
		         " WHERE instr(rest, '/') > 0 GROUP BY d ORDER BY d",
		         folders_sql);
		if ((rc = tree_collect(q, t, sql, folder_json, t->folders)) != 0)
			return rc;
	}
	if (t->pg.on) {
		if ((rc = tree_prepare(q, t, count_sql, &st)) == 0)
			rc = q_count(q, st, &t->total);
		sqlite3_finalize(st);
		if (rc != 0)
			return rc;
	}
	return tree_collect(q, t, rows_sql, row, t->rows);
}

int q_tree_print(qctx *q, const qlisting *l, qtree *t)
{
	int rc = q_print_listing(q, l, &t->pg, t->total, t->rows, t->dir ? t->lo : NULL, t->folders);
	t->rows = t->folders = NULL;
	return rc;
}

void q_tree_free(qtree *t)
{
	json_decref(t->rows);
	json_decref(t->folders);
	t->rows = t->folders = NULL;
}
