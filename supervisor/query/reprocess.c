/* reprocess.c: `kiln reprocess` when no supervisor runs: the jobs of the
 * named sources are marked in the database to run at the next kiln batch. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "kerr.h"
#include "query/query_priv.h"

int q_cmd_reprocess(qctx *q, int argc, char **argv)
{
	static const char usage[] = "reprocess PATH|UUID... [--json]";
	const char **pos = NULL;
	int64_t *ids = NULL;
	int n_pos = 0, n_ids = 0, rc, unknown = 0;
	int64_t marked = 0;
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;

	pos = calloc((size_t)argc + 1, sizeof *pos);
	ids = calloc((size_t)argc + 1, sizeof *ids);
	if (!pos || !ids) {
		rc = q_oom(q);
		goto out;
	}
	rc = q_parse_args(q, argc, argv, NULL, pos, argc, &n_pos, usage);
	if (rc != 0) {
		rc = rc < 0 ? Q_OK : rc;
		goto out;
	}
	if (n_pos == 0) {
		q_err(q, "which sources? usage: kiln %s", usage);
		rc = Q_USAGE;
		goto out;
	}
	if ((rc = q_open(q, false)) != 0)
		goto out;
	/* Every name is checked before anything is marked, so a typo in one
	 * of them changes nothing. */
	for (int i = 0; i < n_pos; i++) {
		int64_t id = 0;
		int r = q->db ? q_resolve_source(q, pos[i], &id) : KILN_E_NOTFOUND;
		if (r == KILN_E_NOTFOUND) {
			q_err(q, "unknown source '%s'", q_arg(pos[i]));
			unknown++;
			continue;
		}
		if (r != 0) {
			rc = r;
			goto out;
		}
		bool dup = false;
		for (int k = 0; k < n_ids; k++)
			dup = dup || ids[k] == id;
		if (!dup)
			ids[n_ids++] = id;
	}
	if (unknown) {
		q_err(q, "nothing marked");
		rc = Q_FAILED;
		goto out;
	}
	if ((rc = q_prepare(q, "UPDATE jobs SET requested = 1 WHERE source_id = ?1", &st)) != 0)
		goto out;
	if (db_begin(q->db) != 0) {
		rc = q_step_failed(q, SQLITE_ERROR);
		goto out;
	}
	for (int k = 0; k < n_ids; k++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, ids[k]);
		int src = sqlite3_step(st);
		if (src != SQLITE_DONE) {
			rc = q_step_failed(q, src);
			db_rollback(q->db);
			goto out;
		}
		marked += sqlite3_changes(q->db->h);
	}
	if (db_commit(q->db) != 0) {
		rc = q_step_failed(q, SQLITE_ERROR);
		db_rollback(q->db);
		goto out;
	}
	if (q->json) {
		if (!(o = json_object())) {
			rc = Q_USAGE;
			goto out;
		}
		q_set(o, "jobs", json_integer(marked));
		q_set(o, "sources", json_integer(n_ids));
		rc = q_print_json(q, o);
	} else {
		printf("%lld job%s of %d source%s will run again at the next kiln batch\n", (long long)marked,
		       marked == 1 ? "" : "s", n_ids, n_ids == 1 ? "" : "s");
	}
out:
	sqlite3_finalize(st);
	json_decref(o);
	free(pos);
	free(ids);
	return rc;
}
