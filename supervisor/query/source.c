/* source.c: finding a source from what a user typed (a path in one of its
 * forms, or a UUID) or from a dependency that names it by path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kerr.h"
#include "path.h"
#include "query/query_priv.h"
#include "uuid.h"

/* The UUID that a source at the relative path rel has, into us; norm (OUT)
 * is rel normalized. Returns 0, or -1 for an absolute path or one that does
 * not normalize. */
static int source_uuid(const char *rel, char norm[KILN_PATH_MAX], char us[37])
{
	kuuid u;
	if (rel[0] == '/' || path_normalize(rel, norm, KILN_PATH_MAX) != 0)
		return -1;
	uuid_for_source(norm, &u);
	uuid_format(&u, us);
	return 0;
}

/* Looks up one candidate with st (one text parameter, first column the id).
 * Returns 0 when found, KILN_E_NOTFOUND, or Q_USAGE after a database error. */
static int lookup_id(qctx *q, sqlite3_stmt *st, const char *a, const char *b, int64_t *id)
{
	int src;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	db_bind_text(st, 1, a);
	db_bind_text(st, 2, b);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return q_step_failed(q, src);
	return KILN_E_NOTFOUND;
}

int q_resolve_source(qctx *q, const char *arg, int64_t *source_id)
{
	sqlite3_stmt *by_uuid = NULL, *by_abs = NULL, *by_rel = NULL;
	char *cands[4] = {NULL, NULL, NULL, NULL};
	char norm[KILN_PATH_MAX], cwd[KILN_PATH_MAX], joined[KILN_PATH_MAX * 2 + 2], us[37];
	int n = 0, rc;
	kuuid u;

	if (!arg[0])
		return KILN_E_NOTFOUND;
	if ((rc = q_prepare(q, "SELECT id FROM sources WHERE uuid = ?1", &by_uuid)) != 0 ||
	    (rc = q_prepare(q, "SELECT id FROM sources WHERE scan_folder || '/' || path = ?1", &by_abs)) !=
	        0 ||
	    (rc = q_prepare(q,
	                    "SELECT id FROM sources WHERE path = ?1 OR uuid = ?2"
	                    " ORDER BY path = ?1 DESC, id LIMIT 1",
	                    &by_rel)) != 0)
		goto out;

	if (uuid_parse(arg, &u) == 0) {
		uuid_format(&u, us);
		if ((rc = lookup_id(q, by_uuid, us, NULL, source_id)) != KILN_E_NOTFOUND)
			goto out;
	}

	/* The absolute forms, in the order the help promises: as given,
	 * from the current directory, from the project root, and the same
	 * with symbolic links resolved (scan folders may be stored either
	 * way). */
	if (arg[0] == '/') {
		cands[n++] = strdup(arg);
	} else {
		if (getcwd(cwd, sizeof cwd)) {
			snprintf(joined, sizeof joined, "%s/%s", cwd, arg);
			cands[n++] = strdup(joined);
		}
		if (q->cfg->root) {
			snprintf(joined, sizeof joined, "%s/%s", q->cfg->root, arg);
			cands[n++] = strdup(joined);
		}
	}
	cands[n++] = realpath(arg, NULL);
	for (int i = 0; i < n; i++) {
		if (!cands[i] || path_normalize(cands[i], norm, sizeof norm) != 0)
			continue;
		if ((rc = lookup_id(q, by_abs, norm, NULL, source_id)) != KILN_E_NOTFOUND)
			goto out;
	}

	/* Relative to its scan folder: the path as stored, or any path with
	 * the same UUID (which is case-insensitive by construction). */
	rc = KILN_E_NOTFOUND;
	if (source_uuid(arg, norm, us) == 0)
		rc = lookup_id(q, by_rel, norm, us, source_id);
out:
	for (int i = 0; i < 4; i++)
		free(cands[i]);
	sqlite3_finalize(by_uuid);
	sqlite3_finalize(by_abs);
	sqlite3_finalize(by_rel);
	return rc;
}

void q_bind_dep_path(sqlite3_stmt *find, const char *dep_path)
{
	char norm[KILN_PATH_MAX], us[37];
	db_bind_text(find, 1, dep_path);
	if (source_uuid(dep_path, norm, us) == 0)
		db_bind_text(find, 2, us);
}
