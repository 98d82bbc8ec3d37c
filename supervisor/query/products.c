/* products.c: `kiln products` and `kiln product`. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kerr.h"
#include "path.h"
#include "query/query.h"
#include "query/query_priv.h"

#define PRODUCT_SELECT                                                                                       \
	"SELECT p.id, s.uuid, p.sub_id, p.path, p.platform, s.path, p.job_id, p.asset_type, p.size, "        \
	"j.job_key,"                                                                                         \
	" p.built_at, p.intermediate, s.scan_folder, b.name, p.hash, j.status, s.id"                         \
	" FROM products p JOIN jobs j ON j.id = p.job_id JOIN sources s ON s.id = j.source_id"               \
	" JOIN builders b ON b.id = j.builder_id"

enum {
	PC_ID,
	PC_UUID,
	PC_SUB_ID,
	PC_PATH,
	PC_PLATFORM,
	PC_SOURCE,
	PC_JOB_ID,
	PC_ASSET_TYPE,
	PC_SIZE,
	PC_JOB_KEY,
	PC_BUILT_AT,
	PC_INTERMEDIATE,
	PC_SCAN_FOLDER,
	PC_BUILDER,
	PC_HASH,
	PC_STATUS,
	PC_SOURCE_ID,
};

static json_t *product_json(sqlite3_stmt *st)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	q_set(
	    o, "asset_id",
	    q_jasset_id((const char *)sqlite3_column_text(st, PC_UUID), sqlite3_column_int64(st, PC_SUB_ID)));
	q_set(o, "path", q_jcol_str(st, PC_PATH));
	q_set(o, "platform", q_jcol_str(st, PC_PLATFORM));
	q_set(o, "source", q_jcol_str(st, PC_SOURCE));
	q_set(o, "job_id", q_jcol_int(st, PC_JOB_ID));
	q_set(o, "sub_id", q_jcol_int(st, PC_SUB_ID));
	q_set(o, "asset_type", q_jcol_str(st, PC_ASSET_TYPE));
	q_set(o, "size", q_jcol_int(st, PC_SIZE));
	q_set(o, "job_key", q_jcol_str(st, PC_JOB_KEY));
	q_set(o, "built_at", q_jcol_time(st, PC_BUILT_AT));
	q_set(o, "intermediate", json_boolean(sqlite3_column_int64(st, PC_INTERMEDIATE) != 0));
	q_set(o, "scan_folder", q_jcol_str(st, PC_SCAN_FOLDER));
	q_set(o, "source_uuid", q_jcol_str(st, PC_UUID));
	q_set(o, "builder", q_jcol_str(st, PC_BUILDER));
	q_set(o, "hash", q_jcol_hex64(st, PC_HASH));
	return o;
}

/* ---- kiln products ---- */

int q_cmd_products(qctx *q, int argc, char **argv)
{
	static const char usage[] =
	    "products [--filter RE] [--platform P] [--dir DIR] [--limit N] [--offset N] [--json]";
	static const qcol cols[] = {{"ASSET_ID", "asset_id", NULL}, {"PLATFORM", "platform", NULL},
	                            {"PATH", "path", NULL},         {"TYPE", "asset_type", NULL},
	                            {"SIZE", "size", NULL},         {"SOURCE", "source", NULL}};
	static const qlisting listing = {"products", cols, 6};
	/* The filter matches the product's path or its source's path, so
	 * "textures/" finds products by either name, or its ids: the source's
	 * uuid and the asset id as the listing writes it (query_asset_id()),
	 * so that an id copied from anywhere finds its products. Names come
	 * first: SQLite stops at the first term that matches, and every
	 * REGEXP call of the command draws on the one time budget. Parameters
	 * as q_tree_read() binds them, the platform as ?5. */
	static const char where_p[] = " WHERE (?1 IS NULL OR (p.path >= ?1 AND p.path < ?2))"
	                              " AND (?5 IS NULL OR p.platform = ?5)";
	static const char where_s[] =
	    " AND (p.path REGEXP ?4 OR s.path REGEXP ?4 OR s.uuid REGEXP ?4"
	    " OR ('{' || s.uuid || '}:' || printf('%x', CASE WHEN p.sub_id BETWEEN -2147483648 AND 4294967295"
	    " THEN p.sub_id & 4294967295 ELSE p.sub_id END)) REGEXP ?4)";
	static const char join_s[] = " JOIN jobs j ON j.id = p.job_id JOIN sources s ON s.id = j.source_id";
	qtree tr = {0};
	const char *limit = NULL, *offset = NULL;
	const qopt opts[] = {
	    {"--filter", true, &tr.filter, NULL}, {"--platform", true, &tr.extra, NULL},
	    {"--dir", true, &tr.dir, NULL},       {"--limit", true, &limit, NULL},
	    {"--offset", true, &offset, NULL},    {NULL, false, NULL, NULL},
	};
	const char *pos[1];
	int n_pos, rc;
	char folders[1024], count[1024], rows[2048];

	rc = q_parse_args(q, argc, argv, opts, pos, 0, &n_pos, usage);
	if (rc != 0)
		return rc < 0 ? Q_OK : rc;
	if ((rc = q_tree_start(q, &tr, limit, offset)) != 0)
		goto out;
	if (q->db) {
		const char *files = tr.dir ? " AND instr(substr(p.path, ?3), '/') = 0" : "";
		/* The source is joined only when the filter needs its path. */
		const char *join = tr.filter ? join_s : "", *where_f = tr.filter ? where_s : "";
		snprintf(folders, sizeof folders, "SELECT substr(p.path, ?3) AS rest FROM products p%s%s%s",
		         join, where_p, where_f);
		snprintf(count, sizeof count, "SELECT count(*) FROM products p%s%s%s%s", join, where_p,
		         where_f, files);
		if (!tr.pg.on) {
			snprintf(rows, sizeof rows, PRODUCT_SELECT "%s%s ORDER BY p.platform, p.path",
			         where_p, where_f);
		} else {
			/* The page is chosen among product ids on the (platform,
			 * path) index first, then its rows are read. */
			snprintf(
			    rows, sizeof rows,
			    PRODUCT_SELECT
			    " WHERE p.id IN (SELECT p.id FROM products p%s%s%s%s ORDER BY p.platform, p.path",
			    join, where_p, where_f, files);
			q_page_sql(&tr.pg, rows, sizeof rows);
			size_t n = strlen(rows);
			snprintf(rows + n, sizeof rows - n, ") ORDER BY p.platform, p.path");
		}
		if ((rc = q_tree_read(q, &tr, folders, count, rows, product_json)) != 0)
			goto out;
	}
	rc = q_tree_print(q, &listing, &tr);
out:
	q_tree_free(&tr);
	return rc;
}

/* ---- kiln product ---- */

/* Rank of a platform in the project's list (unknown ones last), to choose
 * among the copies of one asset when no --platform was given. */
static size_t platform_rank(const kiln_config *cfg, const char *p)
{
	for (size_t i = 0; cfg->platforms && i < cfg->n_platforms && cfg->platforms[i]; i++)
		if (p && strcmp(cfg->platforms[i], p) == 0)
			return i;
	return SIZE_MAX;
}

/* Finds the product arg names. Returns 0 with *pid (OUT), KILN_E_NOTFOUND,
 * KILN_E_PATH for a path that cannot name a product, or Q_USAGE after a
 * database error. */
static int resolve_product(qctx *q, const char *arg, const char *platform, int64_t *pid)
{
	sqlite3_stmt *st = NULL;
	char uuid[37], norm[KILN_PATH_MAX], first[KILN_PATH_MAX];
	const char *rest = NULL;
	uint64_t sub;
	int rc = KILN_E_NOTFOUND, src;
	size_t best = SIZE_MAX;
	bool best_exact = false, found = false;

	if (q_parse_asset_id(arg, uuid, &sub) == 0) {
		if ((rc =
		         q_prepare(q,
		                   "SELECT p.id, p.platform, 0 FROM products p JOIN jobs j ON j.id = p.job_id"
		                   " JOIN sources s ON s.id = j.source_id WHERE s.uuid = ?1"
		                   " AND (p.sub_id = ?2 OR p.sub_id = ?3) AND (?4 IS NULL OR p.platform = ?4)"
		                   " ORDER BY p.platform",
		                   &st)) != 0)
			return rc;
		db_bind_text(st, 1, uuid);
		sqlite3_bind_int64(st, 2, (int64_t)sub);
		/* The same id as it reads when stored sign-extended. */
		sqlite3_bind_int64(st, 3, sub <= UINT32_MAX ? (int64_t)(int32_t)(uint32_t)sub : (int64_t)sub);
		db_bind_text(st, 4, platform);
	} else {
		const char *p = arg;
		size_t clen = strlen(q->cfg->cache);
		/* An absolute path inside the cache reads as "<platform>/path". */
		if (p[0] == '/' && strncmp(p, q->cfg->cache, clen) == 0 && p[clen] == '/')
			p += clen + 1;
		if (p[0] == '/' || path_normalize(p, norm, sizeof norm) != 0)
			return KILN_E_PATH;
		path_lower(norm);
		const char *slash = strchr(norm, '/');
		if (slash) {
			memcpy(first, norm, (size_t)(slash - norm));
			first[slash - norm] = '\0';
			rest = slash + 1;
		}
		if ((rc = q_prepare(
		         q,
		         "SELECT p.id, p.platform, (p.platform = ?1 AND p.path = ?2) FROM products p"
		         " WHERE ((p.platform = ?1 AND p.path = ?2) OR p.path = ?3)"
		         " AND (?4 IS NULL OR p.platform = ?4) ORDER BY p.platform",
		         &st)) != 0)
			return rc;
		db_bind_text(st, 1, rest ? first : NULL);
		db_bind_text(st, 2, rest);
		db_bind_text(st, 3, norm);
		db_bind_text(st, 4, platform);
	}
	/* "<platform>/path" beats a product whose own path happens to start
	 * with that folder name; then the project's platform order decides. */
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		bool exact = sqlite3_column_int(st, 2) != 0;
		size_t rank = platform_rank(q->cfg, (const char *)sqlite3_column_text(st, 1));
		if (!found || (exact && !best_exact) || (exact == best_exact && rank < best)) {
			*pid = sqlite3_column_int64(st, 0);
			best = rank;
			best_exact = exact;
			found = true;
		}
	}
	if (src != SQLITE_DONE)
		rc = q_step_failed(q, src);
	else
		rc = found ? 0 : KILN_E_NOTFOUND;
	sqlite3_finalize(st);
	return rc;
}

/* An entry of dependencies or dependants as text: its asset id, and where
 * the product is ("-" for an asset id that names none). */
static void print_dep_name(json_t *e)
{
	const char *path = json_string_value(json_object_get(e, "path"));
	printf("%s  ", q_text(e, "asset_id", NULL, 0));
	if (path)
		printf("%s/%s", q_text(e, "platform", NULL, 0), path);
	else
		printf("-");
}

static void print_product_text(json_t *o)
{
	static const qlabel fields[] = {
	    {"asset id", "asset_id"},
	    {"platform", "platform"},
	    {"path", "path"},
	    {"asset type", "asset_type"},
	    {"size", "size"},
	    {"built at", "built_at"},
	    {"source", "source"},
	    {"scan folder", "scan_folder"},
	    {"job", "job_id"},
	    {"job key", "job_key"},
	    {"builder", "builder"},
	    {"job status", "job_status"},
	    {"intermediate", "intermediate"},
	};
	static const qlabel lists[] = {
	    {"dependencies", "dependencies"},
	    {"dependants", "dependants"},
	    {"unmet", "unmet"},
	    {"source deps", "source_dependencies"},
	};
	char buf[64];
	size_t i;
	json_t *v;

	printf("product %s/%s\n", q_text(o, "platform", NULL, 0), q_text(o, "path", NULL, 0));
	for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
		printf("  %-13s %s\n", fields[f].label, q_text(o, fields[f].key, buf, sizeof buf));
	for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
		json_t *arr = json_object_get(o, lists[l].key);
		if (json_array_size(arr))
			printf("  %s\n", lists[l].label);
		else
			printf("  %-13s -\n", lists[l].label);
		if (l < 2)
			q_print_deps(arr, lists[l].key, 4, print_dep_name);
		else
			json_array_foreach(arr, i, v) printf("    %s\n", json_string_value(v));
	}
	if (json_is_true(json_object_get(o, "truncated")))
		printf("  (cut short: a tree lists at most %d entries, %d levels deep)\n", Q_TREE_MAX,
		       Q_DEPTH_MAX);
}

int q_cmd_product(qctx *q, int argc, char **argv)
{
	static const char usage[] = "product PATH|ASSET_ID [--platform P] [--depth N|all] [--json]";
	const char *platform = NULL, *depth_arg = NULL;
	const qopt opts[] = {{"--platform", true, &platform, NULL},
	                     {"--depth", true, &depth_arg, NULL},
	                     {NULL, false, NULL, NULL}};
	const char *arg;
	int rc, src;
	int64_t pid = 0;
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;
	bool failed = false;
	qdepth depth;

	if ((rc = q_parse_one(q, argc, argv, opts, "product", usage, &arg)) != 0)
		return rc < 0 ? Q_OK : rc;
	if ((rc = q_parse_depth(q, depth_arg, &depth)) != 0)
		return rc;
	if ((rc = q_open(q, true)) != 0)
		return rc;
	if (!q->db) {
		q_err(q, "no product '%s'", q_arg(arg));
		return Q_FAILED;
	}
	rc = resolve_product(q, arg, platform, &pid);
	if (rc == KILN_E_NOTFOUND || rc == KILN_E_PATH) {
		q_err(q,
		      "no product '%s'%s%s (give its path under Cache/<platform>/ or its asset id, as"
		      " kiln products lists them)",
		      q_arg(arg), platform ? " on platform " : "", platform ? q_arg(platform) : "");
		rc = Q_FAILED;
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((rc = q_prepare(q, PRODUCT_SELECT " WHERE p.id = ?1", &st)) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, pid);
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		rc = q_step_failed(q, src);
		goto out;
	}
	if (!(o = product_json(st)))
		goto oom;
	q_set(o, "job_status", q_jcol_str(st, PC_STATUS));
	failed = q_is_failed((const char *)sqlite3_column_text(st, PC_STATUS));
	sqlite3_finalize(st);
	st = NULL;

	if ((rc = q_product_deps(q, o, pid, &depth)) != 0) {
		if (rc == -ENOMEM)
			goto oom;
		goto out;
	}
	rc = q_print_answer(q, o, print_product_text, failed);
	goto out;
oom:
	rc = q_oom(q);
out:
	sqlite3_finalize(st);
	json_decref(o);
	return rc;
}
