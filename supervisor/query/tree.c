/* tree.c: listings as a folder tree (--dir): the options, the bounds of
 * one folder, the parameters, the subfolders and the count, the document
 * and the text form of the subfolders. */
#include <stdio.h>
#include <string.h>

#include "query/query_priv.h"

int q_dir_bounds(qctx *q, const char *dir, qtree *t)
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

void q_bind_tree(sqlite3_stmt *st, const qtree *t)
{
	db_bind_text(st, 1, t->lo[0] ? t->lo : NULL);
	db_bind_text(st, 2, t->hi);
	sqlite3_bind_int(st, 3, t->skip);
	db_bind_text(st, 4, t->filter);
	db_bind_text(st, 5, t->extra);
}

int q_tree_start(qctx *q, const char *dir, const char *limit, const char *offset, qtree *t, qpage *pg,
                 json_t **arr, json_t **folders)
{
	int rc;
	*arr = *folders = NULL;
	if (t->filter && (rc = q_check_regex(q, t->filter)) != 0)
		return rc;
	if ((rc = q_parse_page(q, limit, offset, pg)) != 0)
		return rc;
	if (dir) {
		if ((rc = q_dir_bounds(q, dir, t)) != 0)
			return rc;
		pg->on = true;
		if (!(*folders = json_array()))
			goto oom;
	}
	if (!(*arr = json_array()))
		goto oom;
	return q_open(q, true);
oom:
	return q_oom(q);
}

/* One row of q_list_folders(): {name, count}. */
static json_t *folder_json(sqlite3_stmt *st)
{
	json_t *f = json_object();
	if (!f)
		return NULL;
	q_set(f, "name", q_jcol_str(st, 0));
	q_set(f, "count", q_jcol_int(st, 1));
	return f;
}

int q_list_folders(qctx *q, const char *base, const qtree *t, json_t *folders)
{
	sqlite3_stmt *st = NULL;
	char sql[1200];
	int rc;
	snprintf(
	    sql, sizeof sql,
	    "SELECT substr(rest, 1, instr(rest, '/') - 1) AS d, count(*) FROM (%s) WHERE instr(rest, '/') > 0"
	    " GROUP BY d ORDER BY d",
	    base);
	if ((rc = q_prepare(q, sql, &st)) != 0)
		return rc;
	q_bind_tree(st, t);
	rc = q_collect(q, st, folder_json, folders);
	sqlite3_finalize(st);
	return rc;
}

int q_tree_count(qctx *q, const char *sql, const qtree *t, int64_t *total)
{
	sqlite3_stmt *st = NULL;
	int rc;
	if ((rc = q_prepare(q, sql, &st)) != 0)
		return rc;
	q_bind_tree(st, t);
	rc = q_count(q, st, total);
	sqlite3_finalize(st);
	return rc;
}

json_t *q_tree_doc(const qpage *pg, int64_t total, const char *key, json_t *arr, const char *dir_lo,
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

void q_print_folders(const json_t *folders)
{
	size_t i;
	json_t *o;
	json_array_foreach(folders, i, o)
	{
		printf("%s/  (%lld)\n", json_string_value(json_object_get(o, "name")),
		       (long long)json_integer_value(json_object_get(o, "count")));
	}
}
