/* eng_catalog.c: the asset catalog, one per platform (issue 4, SPEC section 6).
 *
 * Cache/<platform>/assetcatalog.json maps every product's asset id to its
 * path, type, size and dependencies (asset ids, with path dependencies
 * resolved to the products they name). It is written whole to a temporary
 * file and renamed into place, so a game never reads half a catalog. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "eng.h"
#include "kerr.h"
#include "klog.h"

static char *asset_id(const char *uuid, int64_t sub)
{
	char *s = NULL;
	if (asprintf(&s, "{%s}:%x", uuid, (unsigned)(uint32_t)sub) < 0)
		return NULL;
	return s;
}

static int write_platform(engine *e, const char *plat)
{
	sqlite3 *h = e->db->h;
	sqlite3_stmt *ps = NULL, *ds = NULL;
	json_t *root = json_object(), *assets = json_object();
	json_t *by_path = json_object(), *by_source = json_object(), *by_id = json_object();
	int rc = KILN_E_DB;
	char path[KILN_PATH_MAX], tmp[KILN_PATH_MAX];

	if (sqlite3_prepare_v2(h,
			       "SELECT p.id, s.uuid, p.sub_id, p.path, p.asset_type, p.size, s.path FROM products p"
			       " JOIN jobs j ON j.id = p.job_id JOIN sources s ON s.id = j.source_id"
			       " WHERE p.platform = ?1 AND p.intermediate = 0 ORDER BY s.uuid, p.sub_id",
			       -1, &ps, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(ps, 1, plat, -1, SQLITE_STATIC);
	while (sqlite3_step(ps) == SQLITE_ROW) {
		char *id = asset_id((const char *)sqlite3_column_text(ps, 1), sqlite3_column_int64(ps, 2));
		if (!id)
			continue;
		json_t *a = json_object();
		json_object_set_new(a, "path", json_string((const char *)sqlite3_column_text(ps, 3)));
		json_object_set_new(a, "type", json_string((const char *)sqlite3_column_text(ps, 4)));
		json_object_set_new(a, "size", json_integer(sqlite3_column_int64(ps, 5)));
		json_object_set_new(a, "source", json_string((const char *)sqlite3_column_text(ps, 6)));
		json_object_set_new(a, "dependencies", json_array());
		json_object_set_new(assets, id, a);
		json_object_set_new(by_path, (const char *)sqlite3_column_text(ps, 3), json_string(id));
		char pid[32];
		snprintf(pid, sizeof pid, "%lld", (long long)sqlite3_column_int64(ps, 0));
		json_object_set_new(by_id, pid, json_string(id));
		/* products of each source, for "source" path dependencies */
		char skey[KILN_PATH_MAX];
		snprintf(skey, sizeof skey, "%s", (const char *)sqlite3_column_text(ps, 6));
		path_lower(skey);
		json_t *list = json_object_get(by_source, skey);
		if (!list) {
			list = json_array();
			json_object_set_new(by_source, skey, list);
		}
		json_array_append_new(list, json_string(id));
		free(id);
	}
	if (sqlite3_prepare_v2(h,
			       "SELECT d.product_id, d.dep_asset_id, d.dep_path, d.dep_kind FROM product_deps d"
			       " JOIN products p ON p.id = d.product_id WHERE p.platform = ?1 AND p.intermediate = 0",
			       -1, &ds, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(ds, 1, plat, -1, SQLITE_STATIC);
	while (sqlite3_step(ds) == SQLITE_ROW) {
		char pid[32];
		snprintf(pid, sizeof pid, "%lld", (long long)sqlite3_column_int64(ds, 0));
		const char *self = json_string_value(json_object_get(by_id, pid));
		if (!self)
			continue;
		json_t *deps = json_object_get(json_object_get(assets, self), "dependencies");
		const char *aid = (const char *)sqlite3_column_text(ds, 1);
		const char *dpath = (const char *)sqlite3_column_text(ds, 2);
		const char *kind = (const char *)sqlite3_column_text(ds, 3);
		if (aid) {
			json_array_append_new(deps, json_string(aid));
			continue;
		}
		if (!dpath)
			continue;
		char k[KILN_PATH_MAX];
		if (path_normalize(dpath, k, sizeof k) != 0)
			continue;
		path_lower(k);
		if (kind && strcmp(kind, "source_path") == 0) {
			json_t *list = json_object_get(by_source, k);
			size_t i;
			json_t *v;
			json_array_foreach(list, i, v)
			{
				if (strcmp(json_string_value(v), self) != 0)
					json_array_append(deps, v);
			}
		} else {
			json_t *v = json_object_get(by_path, k);
			if (v && strcmp(json_string_value(v), self) != 0)
				json_array_append(deps, v);
		}
	}
	char ts[32];
	iso8601_ms(wall_ms(), ts);
	json_object_set_new(root, "kiln_catalog", json_integer(1));
	json_object_set_new(root, "platform", json_string(plat));
	json_object_set_new(root, "generated_at", json_string(ts));
	json_object_set(root, "assets", assets);
	snprintf(path, sizeof path, "%s/%s/assetcatalog.json", e->cfg->cache, plat);
	snprintf(tmp, sizeof tmp, "%s/%s/.assetcatalog.json.tmp", e->cfg->cache, plat);
	path_mkdirs_for(path, 0755);
	if (json_dump_file(root, tmp, JSON_COMPACT | JSON_SORT_KEYS) != 0 || rename(tmp, path) != 0) {
		klog(KLOG_ERROR, "writing %s: %s", path, strerror(errno));
		unlink(tmp);
		rc = -EIO;
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(ps);
	sqlite3_finalize(ds);
	json_decref(root);
	json_decref(assets);
	json_decref(by_path);
	json_decref(by_source);
	json_decref(by_id);
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
