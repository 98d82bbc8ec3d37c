/* assets.c: `kiln assets` and `kiln asset`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kerr.h"
#include "query/query_priv.h"

/* ---- kiln assets ---- */

/* One row of the listing (uuid, path, scan_folder, size) as its object. */
static json_t *asset_json(sqlite3_stmt *st)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	q_set(o, "uuid", q_jcol_str(st, 0));
	q_set(o, "source", q_jcol_str(st, 1));
	q_set(o, "scan_folder", q_jcol_str(st, 2));
	q_set(o, "size", q_jcol_int(st, 3));
	return o;
}

int q_cmd_assets(qctx *q, int argc, char **argv)
{
	static const char usage[] = "assets [--filter RE] [--dir DIR] [--limit N] [--offset N] [--json]";
	static const qcol cols[] = {
	    {"UUID", "uuid", NULL}, {"SOURCE", "source", NULL}, {"SCAN_FOLDER", "scan_folder", NULL}};
	static const qlisting listing = {"assets", cols, 3};
	/* Parameters as q_tree_read() binds them; ?5 is set for --dir: a
	 * folder tree shows sources from scan folders only, intermediate
	 * assets have a tree of their own (products --platform intermediate
	 * --dir). The filter matches the path or the uuid. */
	static const char base[] =
	    "SELECT substr(path, ?3) AS rest, uuid, path, scan_folder, size FROM sources"
	    " WHERE (?1 IS NULL OR (path >= ?1 AND path < ?2))"
	    " AND (?4 IS NULL OR path REGEXP ?4 OR uuid REGEXP ?4) AND (?5 IS NULL OR intermediate = 0)";
	qtree tr = {0};
	const char *limit = NULL, *offset = NULL;
	const qopt opts[] = {{"--filter", true, &tr.filter, NULL},
	                     {"--dir", true, &tr.dir, NULL},
	                     {"--limit", true, &limit, NULL},
	                     {"--offset", true, &offset, NULL},
	                     {NULL, false, NULL, NULL}};
	const char *pos[1];
	int n_pos, rc;
	char count[1024], rows[1024];

	rc = q_parse_args(q, argc, argv, opts, pos, 0, &n_pos, usage);
	if (rc != 0)
		return rc < 0 ? Q_OK : rc;
	tr.extra = tr.dir ? "1" : NULL;
	if ((rc = q_tree_start(q, &tr, limit, offset)) != 0)
		goto out;
	if (q->db) {
		const char *files = tr.dir ? " WHERE instr(rest, '/') = 0" : "";
		snprintf(count, sizeof count, "SELECT count(*) FROM (%s)%s", base, files);
		snprintf(rows, sizeof rows,
		         "SELECT uuid, path, scan_folder, size FROM (%s)%s ORDER BY path, scan_folder", base,
		         files);
		q_page_sql(&tr.pg, rows, sizeof rows);
		if ((rc = q_tree_read(q, &tr, base, count, rows, asset_json)) != 0)
			goto out;
	}
	rc = q_tree_print(q, &listing, &tr);
out:
	q_tree_free(&tr);
	return rc;
}

/* ---- kiln asset ---- */

/* An entry of a dependency tree of sources as text. */
static void print_dep_source(json_t *e)
{
	printf("%s", q_text(e, "source", NULL, 0));
}

static void print_asset_text(json_t *o)
{
	static const char *const hdr[] = {"ID", "STATUS", "PLATFORM", "JOB_KEY", "BUILDER", "REASON"};
	size_t i;
	json_t *v;
	char b[32];

	printf("asset %s\n", q_text(o, "source", NULL, 0));
	printf("  %-15s %s\n", "uuid", q_text(o, "uuid", NULL, 0));
	printf("  %-15s %s\n", "scan folder", q_text(o, "scan_folder", NULL, 0));
	static const qlabel lists[] = {{"depends on", "depends_on"}, {"depended on by", "depended_on_by"}};
	for (size_t l = 0; l < 2; l++) {
		json_t *arr = json_object_get(o, lists[l].key);
		if (json_is_object(json_array_get(arr, 0))) {
			/* A tree (--depth): one source a line, indented. */
			printf("  %s\n", lists[l].label);
			q_print_deps(arr, lists[l].key, 4, print_dep_source);
			continue;
		}
		printf("  %-15s %s", lists[l].label, json_array_size(arr) ? "" : "-");
		json_array_foreach(arr, i, v) printf("%s%s", i ? ", " : "", json_string_value(v));
		printf("\n");
	}
	if (json_is_true(json_object_get(o, "truncated")))
		printf("  (cut short: a tree lists at most %d entries, %d levels deep)\n", Q_TREE_MAX,
		       Q_DEPTH_MAX);
	json_t *files = json_object_get(o, "product_files");
	printf("products (%zu):\n", json_array_size(files));
	json_array_foreach(files, i, v)
	{
		printf("  %s  %s/%s\n", q_text(v, "asset_id", NULL, 0), q_text(v, "platform", NULL, 0),
		       q_text(v, "path", NULL, 0));
	}
	json_t *jobs = json_object_get(o, "jobs");
	printf("jobs (%zu):\n", json_array_size(jobs));
	if (json_array_size(jobs) == 0)
		return;
	qtable *t = q_table_new(6, hdr);
	if (!t)
		return;
	json_array_foreach(jobs, i, v)
	{
		const char *cells[6] = {q_text(v, "id", b, sizeof b),   q_text(v, "status", NULL, 0),
		                        q_text(v, "platform", NULL, 0), q_text(v, "job_key", NULL, 0),
		                        q_text(v, "builder", NULL, 0),  q_text(v, "reason", NULL, 0)};
		q_table_add(t, cells);
	}
	/* Indented under the heading; the table prints its own lines. */
	q_table_print(t, stdout);
	q_table_free(t);
}

/* One of the asset's jobs (id, status, platform, job_key, builder, reason,
 * completed_at) as its object. */
static json_t *asset_job_json(sqlite3_stmt *st)
{
	json_t *j = json_object();
	if (!j)
		return NULL;
	q_set(j, "id", q_jcol_int(st, 0));
	q_set(j, "status", q_jcol_str(st, 1));
	q_set(j, "platform", q_jcol_str(st, 2));
	q_set(j, "job_key", q_jcol_str(st, 3));
	q_set(j, "builder", q_jcol_str(st, 4));
	/* As in kiln jobs: the reason only of a job that is failed now. */
	q_set(j, "reason",
	      q_is_failed((const char *)sqlite3_column_text(st, 1)) ? q_jcol_str(st, 5) : json_null());
	q_set(j, "completed_at", q_jcol_time(st, 6));
	return j;
}

/* Starts the list key of the asset document o: a new array there, *arr
 * (OUT, owned by o), and sql prepared as *st (OUT) with ?1 bound to the
 * source's id sid. Returns 0, or Q_USAGE after printing why. */
static int asset_list(qctx *q, json_t *o, const char *key, const char *sql, int64_t sid, json_t **arr,
                      sqlite3_stmt **st)
{
	int rc;
	*arr = json_array();
	q_set(o, key, *arr);
	if (!*arr)
		return q_oom(q);
	if ((rc = q_prepare(q, sql, st)) != 0)
		return rc;
	sqlite3_bind_int64(*st, 1, sid);
	return 0;
}

int q_cmd_asset(qctx *q, int argc, char **argv)
{
	static const char usage[] = "asset PATH|UUID [--depth N|all] [--json]";
	const char *depth_arg = NULL;
	const qopt opts[] = {{"--depth", true, &depth_arg, NULL}, {NULL, false, NULL, NULL}};
	const char *arg;
	int rc, src;
	int64_t sid = 0;
	sqlite3_stmt *st = NULL;
	json_t *o = NULL, *arr, *v;
	char *uuid = NULL;
	bool failed = false;
	size_t i;
	qdepth depth;

	if ((rc = q_parse_one(q, argc, argv, opts, "asset", usage, &arg)) != 0)
		return rc < 0 ? Q_OK : rc;
	if ((rc = q_parse_depth(q, depth_arg, &depth)) != 0)
		return rc;
	if ((rc = q_open(q, true)) != 0)
		return rc;
	if (!q->db) {
		q_err(q, "no source '%s'", q_arg(arg));
		return Q_FAILED;
	}
	rc = q_resolve_source(q, arg, &sid);
	if (rc == KILN_E_NOTFOUND) {
		q_err(q, "no source '%s' (give its path or UUID, as kiln assets lists them)", q_arg(arg));
		rc = Q_FAILED;
		goto out;
	}
	if (rc != 0)
		goto out;

	if (!(o = json_object()))
		goto oom;
	if ((rc = q_prepare(q, "SELECT uuid, path, scan_folder, size, hash FROM sources WHERE id = ?1",
	                    &st)) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, sid);
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		rc = q_step_failed(q, src);
		goto out;
	}
	q_set(o, "uuid", q_jcol_str(st, 0));
	q_set(o, "source", q_jcol_str(st, 1));
	q_set(o, "scan_folder", q_jcol_str(st, 2));
	q_set(o, "size", q_jcol_int(st, 3));
	q_set(o, "hash", q_jcol_hex64(st, 4));
	if (!(uuid = strdup((const char *)sqlite3_column_text(st, 0))))
		goto oom;
	sqlite3_finalize(st);
	st = NULL;

	/* Products: asset ids once each (a product exists per platform), and
	 * the files themselves. */
	json_t *ids = json_array(), *files = NULL;
	q_set(o, "products", ids);
	if (!ids)
		goto oom;
	if ((rc = asset_list(q, o, "product_files",
	                     "SELECT p.sub_id, p.platform, p.path, p.asset_type FROM products p"
	                     " JOIN jobs j ON j.id = p.job_id WHERE j.source_id = ?1 ORDER BY (p.sub_id & "
	                     "0xffffffff), p.platform",
	                     sid, &files, &st)) != 0)
		goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *f = json_object();
		if (!f)
			goto oom;
		q_set(f, "asset_id", q_jasset_id(uuid, sqlite3_column_int64(st, 0)));
		q_set(f, "platform", q_jcol_str(st, 1));
		q_set(f, "path", q_jcol_str(st, 2));
		q_set(f, "asset_type", q_jcol_str(st, 3));
		q_add_unique(ids, json_incref(json_object_get(f, "asset_id")));
		json_array_append_new(files, f);
	}
	if ((rc = q_finish(q, &st, src)) != 0)
		goto out;

	if ((rc = q_source_deps(q, o, sid, &depth)) != 0) {
		if (rc == -ENOMEM)
			goto oom;
		goto out;
	}

	/* Its jobs; the asset failed when one of them did. */
	if ((rc = asset_list(q, o, "jobs",
	                     "SELECT j.id, j.status, j.platform, j.job_key, b.name, j.reason, j.completed_at"
	                     " FROM jobs j JOIN builders b ON b.id = j.builder_id WHERE j.source_id = ?1"
	                     " ORDER BY j.platform, j.job_key, j.id",
	                     sid, &arr, &st)) != 0 ||
	    (rc = q_collect(q, st, asset_job_json, arr)) != 0)
		goto out;
	json_array_foreach(arr, i, v) failed =
	    failed || q_is_failed(json_string_value(json_object_get(v, "status")));

	rc = q_print_answer(q, o, print_asset_text, failed);
	goto out;
oom:
	rc = q_oom(q);
out:
	free(uuid);
	sqlite3_finalize(st);
	json_decref(o);
	return rc;
}
