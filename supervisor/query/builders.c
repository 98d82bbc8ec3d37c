/* builders.c: `kiln builders`, the registered builders with their
 * patterns and timings. */
#include <stdio.h>

#include "query/query_priv.h"

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

/* One builder row as the object `kiln builders --json` prints. */
static json_t *builder_json(sqlite3_stmt *st)
{
	json_t *o = json_object(), *pat = NULL, *args = NULL;
	const char *ptext = (const char *)sqlite3_column_text(st, 5);
	const char *atext = (const char *)sqlite3_column_text(st, 9);
	if (!o)
		return NULL;
	q_set(o, "name", q_jcol_str(st, 0));
	q_set(o, "uuid", q_jcol_str(st, 1));
	q_set(o, "version", q_jcol_str(st, 2));
	q_set(o, "analysis_fingerprint", q_jcol_str(st, 3));
	q_set(o, "type", json_string(sqlite3_column_int(st, 4) ? "internal" : "external"));
	/* Stored as JSON by the supervisor; a damaged value shows as no
	 * patterns rather than failing the list. */
	pat = ptext ? json_loads(ptext, 0, NULL) : NULL;
	q_set(o, "patterns", json_is_array(pat) ? pat : (json_decref(pat), json_array()));
	q_set(o, "metrics", metrics_json(st, 10, 11));
	q_set(o, "exec", q_jcol_str(st, 6));
	args = atext ? json_loads(atext, 0, NULL) : NULL;
	q_set(o, "args", json_is_array(args) ? args : (json_decref(args), json_array()));
	q_set(o, "active", json_boolean(sqlite3_column_int(st, 7) != 0));
	q_set(o, "disabled_reason", q_jcol_str(st, 8));
	return o;
}

/* The text form of the builders arr (not empty). Returns 0, or Q_USAGE
 * after printing why. */
static int print_builders_table(qctx *q, json_t *arr)
{
	static const char *const hdr[] = {"NAME",        "TYPE",        "VERSION", "JOBS",
	                                  "CREATE_JOBS", "PROCESS_JOB", "UUID",    "PATTERNS"};
	qtable *t = q_table_new(8, hdr);
	size_t i, k;
	json_t *o, *p;
	if (!t)
		return q_oom(q);
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
		if (q_table_add(t, cells) != 0) {
			q_table_free(t);
			return q_oom(q);
		}
	}
	q_table_print(t, stdout);
	q_table_free(t);
	return 0;
}

int q_cmd_builders(qctx *q, int argc, char **argv)
{
	static const char usage[] = "builders [--all] [--json]";
	bool all = false;
	const qopt opts[] = {{"--all", false, NULL, &all}, {NULL, false, NULL, NULL}};
	const char *pos[1];
	int n_pos, rc;
	sqlite3_stmt *st = NULL;
	json_t *arr = NULL;

	rc = q_parse_args(q, argc, argv, opts, pos, 0, &n_pos, usage);
	if (rc != 0)
		return rc < 0 ? Q_OK : rc;
	if (!(arr = json_array()))
		return q_oom(q);
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
		if ((rc = q_collect(q, st, builder_json, arr)) != 0)
			goto out;
	}
	if (q->json)
		rc = q_print_json(q, arr);
	else if (json_array_size(arr) == 0)
		printf("no builders%s\n", all ? "" : " (kiln builders --all also lists inactive ones)");
	else
		rc = print_builders_table(q, arr);
out:
	sqlite3_finalize(st);
	json_decref(arr);
	return rc;
}
