/* status.c: `kiln status` when no supervisor runs, counted from the
 * database. */
#include <stdio.h>

#include "query/query_priv.h"

/* "unmatched 3 files match no builder: Assets/a.png, ..." */
void q_print_unmatched(const json_t *u)
{
	json_int_t n = json_integer_value(json_object_get(u, "count"));
	if (n <= 0)
		return;
	printf("  %-9s %lld file%s match%s no builder:", "unmatched", (long long)n, n == 1 ? "" : "s",
	       n == 1 ? "es" : "");
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(u, "examples"), i, v)
	    printf("%s %s", i ? "," : "", json_string_value(v));
	printf("%s\n", (size_t)n > json_array_size(json_object_get(u, "examples")) ? ", ..." : "");
}

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
	json_t *unmatched = NULL;

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
		         " (SELECT count(*) FROM sources), (SELECT count(*) FROM products),"
		         " (SELECT value FROM state WHERE key = 'unmatched')",
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
		if (sqlite3_column_type(st, 8) == SQLITE_TEXT)
			unmatched = json_loads((const char *)sqlite3_column_text(st, 8), 0, NULL);
	}
	snprintf(control, sizeof control, "%s/kiln.sock", q->cfg->cache);
	if (!(o = json_object())) {
		rc = q_oom(q);
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
	/* What the last scan found that no builder takes (SPEC is silent;
	 * issue 13: a user must learn why a dropped file does nothing). */
	q_set(o, "unmatched", json_is_object(unmatched) ? json_incref(unmatched) : json_null());
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
		q_print_unmatched(unmatched);
	}
out:
	json_decref(unmatched);
	sqlite3_finalize(st);
	json_decref(o);
	return rc;
}
