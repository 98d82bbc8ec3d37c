/* catalog.c: the asset catalog, one per platform (issue 4, SPEC section 6).
 *
 * Cache/<platform>/assetcatalog.json maps every product's asset id to its
 * path, type, size and dependencies (asset ids, with path dependencies
 * resolved to the products they name). It is written whole to a temporary
 * file and renamed into place, so a game never reads half a catalog.
 *
 * The file is streamed: products come from one query and their resolved
 * dependencies from another, both in asset id order, merged as they go, so
 * memory stays flat whatever the number of products. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/engine_priv.h"
#include "kerr.h"
#include "klog.h"

/* A JSON string literal, escaped by jansson. */
static void put_str(FILE *f, const char *s)
{
	json_t *j = json_string(s ? s : "");
	char *d = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
	fputs(d ? d : "\"\"", f);
	free(d);
	json_decref(j);
}

/* Dependencies of the platform's products, resolved in SQL, ordered like
 * the products (by source uuid, then sub id). Path dependencies name a
 * product path (kind product_path) or a source (kind source_path: every
 * product of that source on this platform); asset ids are kept as given. */
/* Each branch starts from product_deps (CROSS JOIN fixes the loop order in
 * SQLite), so the work grows with the number of dependencies, never with
 * products times products. */
static const char *const DEPS_SQL =
    "SELECT s.uuid, p.sub_id, d.dep_asset_id FROM product_deps d"
    " CROSS JOIN products p ON p.id = d.product_id CROSS JOIN jobs j ON j.id = p.job_id"
    " CROSS JOIN sources s ON s.id = j.source_id"
    " WHERE p.platform = ?1 AND p.intermediate = 0 AND d.dep_asset_id IS NOT NULL"
    " UNION"
    " SELECT s.uuid, p.sub_id, '{' || s2.uuid || '}:' || printf('%x', p2.sub_id) FROM product_deps d"
    " CROSS JOIN products p ON p.id = d.product_id CROSS JOIN jobs j ON j.id = p.job_id"
    " CROSS JOIN sources s ON s.id = j.source_id"
    " CROSS JOIN products p2 ON p2.platform = p.platform AND p2.path = lower(d.dep_path) AND p2.id <> p.id"
    " CROSS JOIN jobs j2 ON j2.id = p2.job_id CROSS JOIN sources s2 ON s2.id = j2.source_id"
    " WHERE p.platform = ?1 AND p.intermediate = 0 AND d.dep_kind = 'product_path'"
    " UNION"
    " SELECT s.uuid, p.sub_id, '{' || s2.uuid || '}:' || printf('%x', p2.sub_id) FROM product_deps d"
    " CROSS JOIN products p ON p.id = d.product_id CROSS JOIN jobs j ON j.id = p.job_id"
    " CROSS JOIN sources s ON s.id = j.source_id"
    " CROSS JOIN sources s2 ON lower(s2.path) = lower(d.dep_path)"
    " CROSS JOIN jobs j2 ON j2.source_id = s2.id"
    " CROSS JOIN products p2 ON p2.job_id = j2.id AND p2.platform = p.platform AND p2.intermediate = 0"
    " AND p2.id <> p.id"
    " WHERE p.platform = ?1 AND p.intermediate = 0 AND d.dep_kind = 'source_path'"
    " ORDER BY 1, 2, 3";

static int cmp_key(const char *u1, int64_t s1, const char *u2, int64_t s2)
{
	int c = strcmp(u1, u2);
	if (c)
		return c;
	return (s1 > s2) - (s1 < s2);
}

static int write_platform(engine *e, const char *plat)
{
	sqlite3 *h = e->db->h;
	sqlite3_stmt *ps = NULL, *ds = NULL;
	FILE *f = NULL;
	int rc = KILN_E_DB;
	char path[KILN_PATH_MAX], tmp[KILN_PATH_MAX], ts[32];

	if (sqlite3_prepare_v2(h,
	                       "SELECT s.uuid, p.sub_id, p.path, p.asset_type, p.size, s.path FROM products p"
	                       " JOIN jobs j ON j.id = p.job_id JOIN sources s ON s.id = j.source_id"
	                       " WHERE p.platform = ?1 AND p.intermediate = 0 ORDER BY s.uuid, p.sub_id",
	                       -1, &ps, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, DEPS_SQL, -1, &ds, NULL) != SQLITE_OK) {
		klog(KLOG_ERROR, "asset catalog: %s", db_errmsg(e->db));
		goto out;
	}
	if (sqlite3_bind_text(ps, 1, plat, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(ds, 1, plat, -1, SQLITE_STATIC) != SQLITE_OK) {
		klog(KLOG_ERROR, "asset catalog: %s", db_errmsg(e->db));
		goto out;
	}
	snprintf(path, sizeof path, "%s/%s/assetcatalog.json", e->cfg->cache, plat);
	snprintf(tmp, sizeof tmp, "%s/%s/.assetcatalog.json.tmp", e->cfg->cache, plat);
	if ((rc = path_mkdirs_for(path, 0755)) != 0) {
		klog(KLOG_ERROR, "asset catalog: the folder of %s: %s", path, kiln_strerror(rc));
		goto out;
	}
	rc = KILN_E_DB;
	f = fopen(tmp, "we");
	if (!f) {
		rc = -errno;
		klog(KLOG_ERROR, "asset catalog: %s: %s", tmp, strerror(errno));
		goto out;
	}
	iso8601_ms(wall_ms(), ts);
	fputs("{\"kiln_catalog\":1,\"platform\":", f);
	put_str(f, plat);
	fprintf(f, ",\"generated_at\":\"%s\",\"assets\":{", ts);
	int drc = sqlite3_step(ds);
	int prc;
	bool first = true;
	while ((prc = sqlite3_step(ps)) == SQLITE_ROW) {
		const char *uuid = (const char *)sqlite3_column_text(ps, 0);
		int64_t sub = sqlite3_column_int64(ps, 1);
		fprintf(f, "%s\"{%s}:%x\":{\"path\":", first ? "" : ",", uuid, (unsigned)(uint32_t)sub);
		first = false;
		put_str(f, (const char *)sqlite3_column_text(ps, 2));
		fputs(",\"type\":", f);
		put_str(f, (const char *)sqlite3_column_text(ps, 3));
		fprintf(f, ",\"size\":%lld,\"source\":", (long long)sqlite3_column_int64(ps, 4));
		put_str(f, (const char *)sqlite3_column_text(ps, 5));
		fputs(",\"dependencies\":[", f);
		/* Skip dependency rows of products that are gone, then take ours. */
		bool dfirst = true;
		while (drc == SQLITE_ROW) {
			int c = cmp_key((const char *)sqlite3_column_text(ds, 0), sqlite3_column_int64(ds, 1),
			                uuid, sub);
			if (c > 0)
				break;
			if (c == 0) {
				if (!dfirst)
					fputc(',', f);
				put_str(f, (const char *)sqlite3_column_text(ds, 2));
				dfirst = false;
			}
			drc = sqlite3_step(ds);
		}
		fputs("]}", f);
	}
	if (prc != SQLITE_DONE || (drc != SQLITE_DONE && drc != SQLITE_ROW)) {
		/* A read that failed half way: the old catalog stays. */
		klog(KLOG_ERROR, "asset catalog for %s: %s", plat, db_errmsg(e->db));
		goto out;
	}
	fputs("}}\n", f);
	/* On disk before the rename, so that a crash never leaves a catalog
	 * that is whole by name and empty or short by content. */
	bool ok = !ferror(f) && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = false;
	if (!ok) {
		f = NULL;
		rc = -EIO;
		klog(KLOG_ERROR, "asset catalog: writing %s failed", tmp);
		unlink(tmp);
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0) {
		rc = -errno;
		klog(KLOG_ERROR, "asset catalog: %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	if (f) {
		fclose(f);
		unlink(tmp);
	}
	sqlite3_finalize(ps);
	sqlite3_finalize(ds);
	return rc;
}

void eng_catalog_write(engine *e)
{
	eng_maybe_commit(e, true);
	for (size_t i = 0; i < e->cfg->n_platforms; i++) {
		const char *plat = e->cfg->platforms[i];
		char path[KILN_PATH_MAX];
		snprintf(path, sizeof path, "%s/%s/assetcatalog.json", e->cfg->cache, plat);
		if (!e->catalog_dirty && access(path, F_OK) == 0)
			continue;
		write_platform(e, plat);
	}
	e->catalog_dirty = false;
}
