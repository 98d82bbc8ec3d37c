/* builders.c: `kiln builders`, `kiln status` (no supervisor running) and
 * `kiln reprocess` (recorded in the database). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kerr.h"
#include "query/query.h"
#include "query/query_priv.h"

/* ---- kiln builders ---- */

/* Milliseconds from microseconds, rounded to three decimals so the JSON
 * reads 2.5 rather than 2.4999999999999996 (us is never negative). */
static double us_to_ms(double us)
{
	return (double)(int64_t)(us + 0.5) / 1000.0;
}

static json_t *metrics_json(sqlite3_stmt *st, int jobs_col, int cj_col)
{
	json_t *m = json_object();
	int64_t cjn = sqlite3_column_int64(st, cj_col), cjus = sqlite3_column_int64(st, cj_col + 1);
	int64_t pjn = sqlite3_column_int64(st, cj_col + 2), pjus = sqlite3_column_int64(st, cj_col + 3);
	if (!m)
		return NULL;
	q_set(m, "jobs", json_integer(sqlite3_column_int64(st, jobs_col)));
	q_set(m, "create_jobs_count", json_integer(cjn));
	q_set(m, "create_jobs_total_ms", json_integer((cjus + 500) / 1000));
	q_set(m, "create_jobs_avg_ms", json_real(cjn > 0 ? us_to_ms((double)cjus / (double)cjn) : 0.0));
	q_set(m, "process_job_count", json_integer(pjn));
	q_set(m, "process_job_total_ms", json_integer((pjus + 500) / 1000));
	q_set(m, "process_job_avg_ms", json_real(pjn > 0 ? us_to_ms((double)pjus / (double)pjn) : 0.0));
	return m;
}

int q_cmd_builders(qctx *q, int argc, char **argv)
{
	static const char usage[] = "builders [--all] [--json]";
	static const char *const hdr[] = {"NAME",        "TYPE",        "VERSION", "JOBS",
	                                  "CREATE_JOBS", "PROCESS_JOB", "UUID",    "PATTERNS"};
	bool all = false;
	const qopt opts[] = {{"--all", false, NULL, &all}, {NULL, false, NULL, NULL}};
	const char *pos[1];
	int n_pos, rc, src;
	sqlite3_stmt *st = NULL;
	json_t *arr = NULL;
	qtable *t = NULL;

	rc = q_parse_args(q, argc, argv, opts, pos, 0, &n_pos, usage);
	if (rc != 0)
		return rc < 0 ? Q_OK : rc;
	if (!(arr = json_array()))
		goto oom;
	if ((rc = q_open(q, true)) != 0)
		goto out;
	if (q->db) {
		if ((rc = q_prepare(
		         q,
		         "SELECT b.name, b.uuid, b.version, b.analysis_fingerprint, b.internal, b.patterns,"
		         " b.exec, b.active, b.disabled_reason, b.args,"
		         " (SELECT count(*) FROM jobs j WHERE j.builder_id = b.id),"
		         " b.cj_count, b.cj_total_us, b.pj_count, b.pj_total_us"
		         " FROM builders b WHERE (?1 OR b.active = 1) ORDER BY b.name, b.uuid",
		         &st)) != 0)
			goto out;
		sqlite3_bind_int(st, 1, all);
		while ((src = sqlite3_step(st)) == SQLITE_ROW) {
			json_t *o = json_object(), *pat = NULL, *args = NULL;
			const char *ptext = (const char *)sqlite3_column_text(st, 5);
			const char *atext = (const char *)sqlite3_column_text(st, 9);
			if (!o || json_array_append_new(arr, o) != 0)
				goto oom;
			q_set(o, "name", q_jcol_str(st, 0));
			q_set(o, "uuid", q_jcol_str(st, 1));
			q_set(o, "version", q_jcol_str(st, 2));
			q_set(o, "analysis_fingerprint", q_jcol_str(st, 3));
			q_set(o, "type", json_string(sqlite3_column_int(st, 4) ? "internal" : "external"));
			/* Stored as JSON by the supervisor; a damaged value
			 * shows as no patterns rather than failing the list. */
			pat = ptext ? json_loads(ptext, 0, NULL) : NULL;
			q_set(o, "patterns", json_is_array(pat) ? pat : (json_decref(pat), json_array()));
			q_set(o, "metrics", metrics_json(st, 10, 11));
			q_set(o, "exec", q_jcol_str(st, 6));
			args = atext ? json_loads(atext, 0, NULL) : NULL;
			q_set(o, "args", json_is_array(args) ? args : (json_decref(args), json_array()));
			q_set(o, "active", json_boolean(sqlite3_column_int(st, 7) != 0));
			q_set(o, "disabled_reason", q_jcol_str(st, 8));
		}
		if (src != SQLITE_DONE) {
			rc = q_step_failed(q, src);
			goto out;
		}
	}
	if (q->json) {
		rc = q_print_json(q, arr);
	} else if (json_array_size(arr) == 0) {
		printf("no builders%s\n", all ? "" : " (kiln builders --all also lists inactive ones)");
	} else {
		size_t i, k;
		json_t *o, *p;
		if (!(t = q_table_new(8, hdr)))
			goto oom;
		json_array_foreach(arr, i, o)
		{
			json_t *m = json_object_get(o, "metrics");
			char jobs[32], nb[32], cj[96], pj[96], pats[512] = "";
			size_t used = 0;
			const char *jobs_s = q_text(m, "jobs", jobs, sizeof jobs);
			snprintf(cj, sizeof cj, "%s x %.1f ms", q_text(m, "create_jobs_count", nb, sizeof nb),
			         json_real_value(json_object_get(m, "create_jobs_avg_ms")));
			snprintf(pj, sizeof pj, "%s x %.1f ms", q_text(m, "process_job_count", nb, sizeof nb),
			         json_real_value(json_object_get(m, "process_job_avg_ms")));
			json_array_foreach(json_object_get(o, "patterns"), k, p)
			{
				int n = snprintf(pats + used, sizeof pats - used, "%s%s", k ? " " : "",
				                 json_is_string(p) ? json_string_value(p) : "?");
				if (n < 0 || (size_t)n >= sizeof pats - used)
					break;
				used += (size_t)n;
			}
			char type[64];
			snprintf(type, sizeof type, "%s%s", q_text(o, "type", NULL, 0),
			         json_is_true(json_object_get(o, "active")) ? "" : " (inactive)");
			const char *cells[8] = {q_text(o, "name", NULL, 0),
			                        type,
			                        q_text(o, "version", NULL, 0),
			                        jobs_s,
			                        cj,
			                        pj,
			                        q_text(o, "uuid", NULL, 0),
			                        pats[0] ? pats : "-"};
			if (q_table_add(t, cells) != 0)
				goto oom;
		}
		q_table_print(t, stdout);
	}
	goto out;
oom:
	q_err(q, "out of memory");
	rc = Q_USAGE;
out:
	q_table_free(t);
	sqlite3_finalize(st);
	json_decref(arr);
	return rc;
}

/* ---- kiln status ---- */

int q_cmd_status(qctx *q, int argc, char **argv)
{
	static const char usage[] = "status [--json]";
	const char *pos[1];
	int n_pos, rc, src;
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;
	int64_t active = 0, remaining = 0, critical_left = 0, total = 0, failed = 0, requested = 0,
	        sources = 0, products = 0;
	char control[4200];

	rc = q_parse_args(q, argc, argv, NULL, pos, 0, &n_pos, usage);
	if (rc != 0)
		return rc < 0 ? Q_OK : rc;
	if ((rc = q_open(q, true)) != 0)
		return rc;
	if (q->db) {
		if ((rc = q_prepare(
		         q,
		         "SELECT (SELECT count(*) FROM jobs WHERE status = 'processing'),"
		         " (SELECT count(*) FROM jobs WHERE status = 'pending'),"
		         " (SELECT count(*) FROM jobs WHERE critical != 0"
		         "  AND status IN ('pending', 'processing')),"
		         " (SELECT count(*) FROM jobs), (SELECT count(*) FROM jobs WHERE status = 'failed'),"
		         " (SELECT count(*) FROM jobs WHERE requested != 0),"
		         " (SELECT count(*) FROM sources), (SELECT count(*) FROM products)",
		         &st)) != 0)
			goto out;
		if ((src = sqlite3_step(st)) != SQLITE_ROW) {
			rc = q_step_failed(q, src);
			goto out;
		}
		active = sqlite3_column_int64(st, 0);
		remaining = sqlite3_column_int64(st, 1);
		critical_left = sqlite3_column_int64(st, 2);
		total = sqlite3_column_int64(st, 3);
		failed = sqlite3_column_int64(st, 4);
		requested = sqlite3_column_int64(st, 5);
		sources = sqlite3_column_int64(st, 6);
		products = sqlite3_column_int64(st, 7);
	}
	snprintf(control, sizeof control, "%s/kiln.sock", q->cfg->cache);
	if (!(o = json_object())) {
		q_err(q, "out of memory");
		rc = Q_USAGE;
		goto out;
	}
	/* Without a supervisor nothing scans or runs: the state is idle and
	 * the times of the last phases are unknown. */
	q_set(o, "state", json_string("idle"));
	q_set(o, "ready", json_boolean(critical_left == 0));
	q_set(o, "jobs_active", json_integer(active));
	q_set(o, "jobs_remaining", json_integer(remaining));
	q_set(o, "last_scan_ms", json_null());
	q_set(o, "last_analysis_ms", json_null());
	q_set(o, "last_processing_ms", json_null());
	q_set(o, "project", q_jstr0(q->cfg->project));
	q_set(o, "root", q_jstr0(q->cfg->root));
	q_set(o, "control", q_jstr0(control));
	q_set(o, "running", json_false());
	q_set(o, "jobs_total", json_integer(total));
	q_set(o, "jobs_failed", json_integer(failed));
	q_set(o, "jobs_requested", json_integer(requested));
	q_set(o, "critical_remaining", json_integer(critical_left));
	q_set(o, "sources", json_integer(sources));
	q_set(o, "products", json_integer(products));
	q_set(o, "database", q->db ? q_jstr0(q->dbpath) : json_null());
	if (q->json) {
		rc = q_print_json(q, o);
	} else {
		printf("project %s (%s): no supervisor running\n", q->cfg->project ? q->cfg->project : "-",
		       q->cfg->root ? q->cfg->root : "-");
		printf("  %-9s idle\n", "state");
		printf("  %-9s %s\n", "ready", critical_left == 0 ? "yes" : "no (critical jobs left)");
		printf("  %-9s %lld active, %lld remaining, %lld failed, %lld requested, %lld in all\n",
		       "jobs", (long long)active, (long long)remaining, (long long)failed,
		       (long long)requested, (long long)total);
		printf("  %-9s %lld\n", "sources", (long long)sources);
		printf("  %-9s %lld\n", "products", (long long)products);
		printf("  %-9s %s\n", "control", control);
	}
out:
	sqlite3_finalize(st);
	json_decref(o);
	return rc;
}

/* ---- kiln reprocess ---- */

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
		q_err(q, "out of memory");
		rc = Q_USAGE;
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
