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
#include "uuid.h"

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
	 * "textures/" finds products by either name. Parameters as
	 * q_tree_read() binds them, the platform as ?5. */
	static const char where_p[] = " WHERE (?1 IS NULL OR (p.path >= ?1 AND p.path < ?2))"
	                              " AND (?5 IS NULL OR p.platform = ?5)";
	static const char where_s[] = " AND (p.path REGEXP ?4 OR s.path REGEXP ?4)";
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

/* Splits "{uuid}:hex" (braces optional) into the canonical uuid and the
 * sub id. Returns 0 or KILN_E_PROTO. */
static int parse_asset_id(const char *s, char uuid[37], uint64_t *sub)
{
	const char *colon = strrchr(s, ':');
	char head[40];
	kuuid u;
	char *end = NULL;
	size_t n;

	if (!colon)
		return KILN_E_PROTO;
	n = (size_t)(colon - s);
	if (n >= sizeof head)
		return KILN_E_PROTO;
	memcpy(head, s, n);
	head[n] = '\0';
	if (uuid_parse(head, &u) != 0)
		return KILN_E_PROTO;
	if (!colon[1] || colon[1] == '-' || colon[1] == '+')
		return KILN_E_PROTO;
	errno = 0;
	*sub = strtoull(colon + 1, &end, 16);
	if (errno != 0 || *end != '\0')
		return KILN_E_PROTO;
	uuid_format(&u, uuid);
	return 0;
}

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

	if (parse_asset_id(arg, uuid, &sub) == 0) {
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

/* Fills dependencies, unmet and source_dependencies of product o (row id
 * pid, on platform plat). */
static int product_deps_out(qctx *q, json_t *o, int64_t pid, const char *plat)
{
	sqlite3_stmt *st = NULL, *by_path = NULL, *src_find = NULL, *src_products = NULL;
	json_t *deps = json_array(), *unmet = json_array(), *srcdeps = json_array();
	int rc = 0, src;

	q_set(o, "dependencies", deps);
	q_set(o, "unmet", unmet);
	q_set(o, "source_dependencies", srcdeps);
	if (!deps || !unmet || !srcdeps)
		return -ENOMEM;
	if ((rc = q_prepare(q,
	                    "SELECT dep_asset_id, dep_path, dep_kind FROM product_deps WHERE product_id = ?1"
	                    " ORDER BY rowid",
	                    &st)) != 0 ||
	    (rc = q_prepare(
	         q,
	         "SELECT s.uuid, p.sub_id FROM products p JOIN jobs j ON j.id = p.job_id"
	         " JOIN sources s ON s.id = j.source_id WHERE p.path = ?1 ORDER BY p.platform = ?2 DESC,"
	         " p.platform LIMIT 1",
	         &by_path)) != 0 ||
	    (rc = q_prepare(q,
	                    "SELECT id, path FROM sources WHERE path = ?1 OR uuid = ?2 OR scan_folder || '/' "
	                    "|| path = ?1"
	                    " ORDER BY path = ?1 DESC LIMIT 1",
	                    &src_find)) != 0 ||
	    (rc = q_prepare(q,
	                    "SELECT DISTINCT s.uuid, p.sub_id FROM products p JOIN jobs j ON j.id = p.job_id"
	                    " JOIN sources s ON s.id = j.source_id WHERE j.source_id = ?1 AND p.platform = ?2"
	                    " ORDER BY p.sub_id",
	                    &src_products)) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, pid);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *aid = (const char *)sqlite3_column_text(st, 0);
		const char *dpath = (const char *)sqlite3_column_text(st, 1);
		const char *kind = (const char *)sqlite3_column_text(st, 2);
		char uuid[37], buf[64], norm[KILN_PATH_MAX];
		uint64_t sub;
		int s2;

		if (aid) {
			/* Written back in the one canonical form when it parses. */
			if (parse_asset_id(aid, uuid, &sub) == 0 &&
			    query_asset_id(uuid, (int64_t)sub, buf, sizeof buf) == 0)
				q_add_unique(deps, json_string(buf));
			else
				q_add_unique(deps, q_jstr0(aid));
			continue;
		}
		if (!dpath)
			continue;
		if (kind && strcmp(kind, "source_path") == 0) {
			sqlite3_reset(src_find);
			sqlite3_clear_bindings(src_find);
			q_bind_dep_path(src_find, dpath);
			s2 = sqlite3_step(src_find);
			if (s2 == SQLITE_ROW) {
				int64_t sid = sqlite3_column_int64(src_find, 0);
				q_add_unique(srcdeps, q_jcol_str(src_find, 1));
				sqlite3_reset(src_products);
				sqlite3_bind_int64(src_products, 1, sid);
				db_bind_text(src_products, 2, plat);
				while ((s2 = sqlite3_step(src_products)) == SQLITE_ROW)
					q_add_unique(
					    deps,
					    q_jasset_id((const char *)sqlite3_column_text(src_products, 0),
					                sqlite3_column_int64(src_products, 1)));
				sqlite3_reset(src_products);
			} else if (s2 == SQLITE_DONE) {
				q_add_unique(unmet, q_jstr0(dpath));
			}
			sqlite3_reset(src_find);
			if (s2 != SQLITE_DONE && s2 != SQLITE_ROW) {
				rc = q_step_failed(q, s2);
				goto out;
			}
			continue;
		}
		/* A product path: relative to Cache/<platform>/, lowercase; a
		 * leading "<platform>/" of this product's platform is allowed. */
		bool met = false;
		if (dpath[0] != '/' && path_normalize(dpath, norm, sizeof norm) == 0) {
			size_t pl = strlen(plat);
			path_lower(norm);
			const char *tries[2] = {norm, NULL};
			if (strncmp(norm, plat, pl) == 0 && norm[pl] == '/')
				tries[1] = norm + pl + 1;
			for (int i = 0; i < 2 && tries[i] && !met; i++) {
				sqlite3_reset(by_path);
				db_bind_text(by_path, 1, tries[i]);
				db_bind_text(by_path, 2, plat);
				s2 = sqlite3_step(by_path);
				if (s2 == SQLITE_ROW) {
					q_add_unique(
					    deps, q_jasset_id((const char *)sqlite3_column_text(by_path, 0),
					                      sqlite3_column_int64(by_path, 1)));
					met = true;
				}
				sqlite3_reset(by_path);
				if (s2 != SQLITE_DONE && s2 != SQLITE_ROW) {
					rc = q_step_failed(q, s2);
					goto out;
				}
			}
		}
		if (!met)
			q_add_unique(unmet, q_jstr0(dpath));
	}
	if (src != SQLITE_DONE)
		rc = q_step_failed(q, src);
out:
	sqlite3_finalize(st);
	sqlite3_finalize(by_path);
	sqlite3_finalize(src_find);
	sqlite3_finalize(src_products);
	return rc;
}

/* Fills dependants: products whose dependencies name this one, by asset id
 * or by product path. */
static int product_deps_in(qctx *q, json_t *o, int64_t pid, const char *uuid, int64_t sub, const char *plat,
                           const char *path)
{
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array();
	char aid[64], *bare = NULL, *ppath = NULL;
	int rc, src;

	q_set(o, "dependants", arr);
	if (!arr || query_asset_id(uuid, sub, aid, sizeof aid) != 0)
		return -ENOMEM;
	/* "{uuid}:x" and "uuid:x" are the same id. */
	char *close = strchr(aid, '}');
	if (asprintf(&bare, "%.*s%s", (int)(close - aid - 1), aid + 1, close + 1) < 0)
		bare = NULL;
	if (asprintf(&ppath, "%s/%s", plat, path) < 0)
		ppath = NULL;
	if (!bare || !ppath) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = q_prepare(
	         q,
	         "SELECT DISTINCT s.uuid, p.sub_id FROM product_deps d JOIN products p ON p.id = d.product_id"
	         " JOIN jobs j ON j.id = p.job_id JOIN sources s ON s.id = j.source_id"
	         " WHERE d.product_id != ?1 AND (lower(d.dep_asset_id) = ?2 OR lower(d.dep_asset_id) = ?3"
	         " OR (d.dep_asset_id IS NULL AND d.dep_kind = 'product_path'"
	         " AND (lower(d.dep_path) = ?4 OR lower(d.dep_path) = ?5)))"
	         " ORDER BY s.uuid, p.sub_id",
	         &st)) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, pid);
	db_bind_text(st, 2, aid);
	db_bind_text(st, 3, bare);
	db_bind_text(st, 4, path);
	db_bind_text(st, 5, ppath);
	while ((src = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(
		    arr, q_jasset_id((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1)));
	if (src != SQLITE_DONE)
		rc = q_step_failed(q, src);
out:
	free(bare);
	free(ppath);
	sqlite3_finalize(st);
	return rc;
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
		json_array_foreach(arr, i, v) printf("    %s\n", json_string_value(v));
	}
}

int q_cmd_product(qctx *q, int argc, char **argv)
{
	static const char usage[] = "product PATH|ASSET_ID [--platform P] [--json]";
	const char *platform = NULL;
	const qopt opts[] = {{"--platform", true, &platform, NULL}, {NULL, false, NULL, NULL}};
	const char *arg;
	int rc, src;
	int64_t pid = 0;
	sqlite3_stmt *st = NULL;
	json_t *o = NULL;
	char *uuid = NULL, *plat = NULL, *path = NULL;
	bool failed = false;

	if ((rc = q_parse_one(q, argc, argv, opts, "product", usage, &arg)) != 0)
		return rc < 0 ? Q_OK : rc;
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
	const char *u = (const char *)sqlite3_column_text(st, PC_UUID);
	const char *pl = (const char *)sqlite3_column_text(st, PC_PLATFORM);
	const char *pa = (const char *)sqlite3_column_text(st, PC_PATH);
	int64_t sub = sqlite3_column_int64(st, PC_SUB_ID);
	if (!u || !pl || !pa || !(uuid = strdup(u)) || !(plat = strdup(pl)) || !(path = strdup(pa)))
		goto oom;
	sqlite3_finalize(st);
	st = NULL;

	if ((rc = product_deps_out(q, o, pid, plat)) != 0 ||
	    (rc = product_deps_in(q, o, pid, uuid, sub, plat, path)) != 0) {
		if (rc == -ENOMEM)
			goto oom;
		goto out;
	}
	rc = q_print_answer(q, o, print_product_text, failed);
	goto out;
oom:
	rc = q_oom(q);
out:
	free(uuid);
	free(plat);
	free(path);
	sqlite3_finalize(st);
	json_decref(o);
	return rc;
}
