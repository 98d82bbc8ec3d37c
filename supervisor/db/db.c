/* db.c: schema, migrations and cached statements of the job database. */
#include "db/db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kerr.h"
#include "klog.h"

const char *const db_statuses[6] = {"pending",           "processing",      "completed",
                                    "completed_warning", "completed_error", "failed"};
const char *const db_reasons[8] = {"failed",        "crashed",   "timeout",        "cancelled",
                                   "network_issue", "host_lost", "protocol_error", "invalid_product"};

/* Migrations run in order; migration i brings user_version from i to i+1.
 * A released migration is never edited, only followed by a new one. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE builders("
    " id INTEGER PRIMARY KEY,"
    " exec TEXT NOT NULL,"
    " args TEXT NOT NULL DEFAULT '[]',"
    " exec_size INTEGER NOT NULL DEFAULT 0,"
    " exec_mtime_ns INTEGER NOT NULL DEFAULT 0,"
    " name TEXT NOT NULL,"
    " uuid TEXT NOT NULL UNIQUE,"
    " version TEXT NOT NULL,"
    " analysis_fingerprint TEXT NOT NULL DEFAULT '',"
    " patterns TEXT NOT NULL DEFAULT '[]',"
    " internal INTEGER NOT NULL DEFAULT 0,"
    " active INTEGER NOT NULL DEFAULT 1,"
    " disabled_reason TEXT,"
    " cj_count INTEGER NOT NULL DEFAULT 0,"
    " cj_total_us INTEGER NOT NULL DEFAULT 0,"
    " pj_count INTEGER NOT NULL DEFAULT 0,"
    " pj_total_us INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE sources("
    " id INTEGER PRIMARY KEY,"
    " uuid TEXT NOT NULL UNIQUE,"
    " scan_folder TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL,"
    " hash INTEGER NOT NULL);"
    "CREATE TABLE analyses("
    " source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
    " builder_id INTEGER NOT NULL REFERENCES builders(id) ON DELETE CASCADE,"
    " fingerprint INTEGER NOT NULL,"
    " deps TEXT,"
    " PRIMARY KEY(source_id, builder_id)) WITHOUT ROWID;"
    "CREATE TABLE jobs("
    " id INTEGER PRIMARY KEY,"
    " source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
    " builder_id INTEGER NOT NULL REFERENCES builders(id) ON DELETE CASCADE,"
    " job_key TEXT NOT NULL,"
    " platform TEXT NOT NULL,"
    " critical INTEGER NOT NULL DEFAULT 0,"
    " priority INTEGER NOT NULL DEFAULT 0,"
    " params TEXT NOT NULL DEFAULT '{}',"
    " fingerprint INTEGER,"
    " status TEXT NOT NULL DEFAULT 'pending' CHECK(status IN ('pending','processing','completed',"
    "'completed_warning','completed_error','failed')),"
    " reason TEXT CHECK(reason IS NULL OR reason IN ('failed','crashed','timeout','cancelled',"
    "'network_issue','host_lost','protocol_error','invalid_product')),"
    " run_reason TEXT,"
    " warnings INTEGER NOT NULL DEFAULT 0,"
    " errors INTEGER NOT NULL DEFAULT 0,"
    " started_at INTEGER,"
    " completed_at INTEGER,"
    " duration_ms INTEGER,"
    " log TEXT,"
    " escalated INTEGER NOT NULL DEFAULT 0,"
    " requested INTEGER NOT NULL DEFAULT 0,"
    " failed_fingerprint INTEGER,"
    " UNIQUE(source_id, builder_id, job_key, platform));"
    "CREATE INDEX jobs_status ON jobs(status, priority);"
    "CREATE INDEX jobs_builder ON jobs(builder_id);"
    "CREATE TABLE products("
    " id INTEGER PRIMARY KEY,"
    " job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " sub_id INTEGER NOT NULL,"
    " platform TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " asset_type TEXT NOT NULL DEFAULT '',"
    " size INTEGER NOT NULL,"
    " hash INTEGER NOT NULL,"
    " intermediate INTEGER NOT NULL DEFAULT 0,"
    " built_at INTEGER,"
    " UNIQUE(platform, path),"
    " UNIQUE(job_id, sub_id));"
    "CREATE TABLE product_deps("
    " product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,"
    " dep_asset_id TEXT,"
    " dep_path TEXT,"
    " dep_kind TEXT NOT NULL CHECK(dep_kind IN ('asset','product_path','source_path')));"
    "CREATE INDEX product_deps_product ON product_deps(product_id);"
    "CREATE TABLE source_deps("
    " source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
    " builder_id INTEGER NOT NULL REFERENCES builders(id) ON DELETE CASCADE,"
    " dep_path TEXT,"
    " dep_uuid TEXT);"
    "CREATE INDEX source_deps_source ON source_deps(source_id);",
    /* 1 -> 2: the dependency graph and intermediate assets */
    "ALTER TABLE jobs ADD COLUMN fp_parts TEXT;"
    "ALTER TABLE jobs ADD COLUMN job_deps TEXT;"
    "ALTER TABLE sources ADD COLUMN intermediate INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sources ADD COLUMN origin_job INTEGER;"
    "ALTER TABLE sources ADD COLUMN chain TEXT;"
    "CREATE INDEX product_deps_asset ON product_deps(dep_asset_id);"
    "CREATE INDEX product_deps_path ON product_deps(dep_path);",
    /* 2 -> 3: the describe cache keeps the builder's own patterns apart
     * from the ones kiln.json puts in force */
    "ALTER TABLE builders ADD COLUMN described_patterns TEXT;",
    /* 3 -> 4: source path dependencies resolve through lower(path) */
    "CREATE INDEX sources_lpath ON sources(lower(path));",
    /* 4 -> 5: the dashboard sorts jobs by completion and duration, and
     * looks sources up by path */
    "CREATE INDEX jobs_completed ON jobs(completed_at);"
    "CREATE INDEX jobs_duration ON jobs(duration_ms);"
    "CREATE INDEX sources_path ON sources(path);",
    /* 5 -> 6: intermediate products are kept under the platform
     * "intermediate" (their folder in the cache), not their job's, so one
     * never collides with the final product at the same path; jobs say which
     * host ran them; sources keep their last analysis time. */
    "UPDATE OR REPLACE products SET platform = 'intermediate' WHERE intermediate = 1;"
    "ALTER TABLE jobs ADD COLUMN host TEXT;"
    "ALTER TABLE sources ADD COLUMN analysis_ms INTEGER;"
    "CREATE TABLE state(key TEXT PRIMARY KEY, value TEXT NOT NULL);",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char *const stmt_sql[DBS__COUNT] = {
    [DBS_BUILDER_BY_EXEC] = "SELECT id, exec_size, exec_mtime_ns, name, uuid, version, analysis_fingerprint,"
                            " described_patterns FROM builders WHERE exec = ?1 AND args = ?2",
    [DBS_BUILDER_UPSERT] =
        "INSERT INTO builders(exec, args, exec_size, exec_mtime_ns, name, uuid, version,"
        " analysis_fingerprint, patterns, internal, active, disabled_reason, described_patterns)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11, ?12)"
        " ON CONFLICT(uuid) DO UPDATE SET exec = excluded.exec, args = excluded.args,"
        " exec_size = excluded.exec_size, exec_mtime_ns = excluded.exec_mtime_ns, name = excluded.name,"
        " version = excluded.version, analysis_fingerprint = excluded.analysis_fingerprint,"
        " patterns = excluded.patterns, internal = excluded.internal, active = 1,"
        " disabled_reason = excluded.disabled_reason, described_patterns = excluded.described_patterns"
        " RETURNING id",
    [DBS_BUILDER_SET_ACTIVE_ALL] = "UPDATE builders SET active = ?1",
    [DBS_BUILDER_SET_ACTIVE] = "UPDATE builders SET active = ?2, disabled_reason = ?3 WHERE id = ?1",
    [DBS_BUILDER_METRICS] = "UPDATE builders SET cj_count = cj_count + ?2, cj_total_us = cj_total_us + ?3,"
                            " pj_count = pj_count + ?4, pj_total_us = pj_total_us + ?5 WHERE id = ?1",
    [DBS_SOURCE_INSERT] = "INSERT INTO sources(uuid, scan_folder, path, size, mtime_ns, hash)"
                          " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [DBS_SOURCE_UPDATE] = "UPDATE sources SET scan_folder = ?2, path = ?3, size = ?4, mtime_ns = ?5,"
                          " hash = ?6 WHERE id = ?1",
    [DBS_SOURCE_DELETE] = "DELETE FROM sources WHERE id = ?1",
    [DBS_ANALYSIS_UPSERT] =
        "INSERT INTO analyses(source_id, builder_id, fingerprint, deps) VALUES(?1, ?2, ?3, ?4)"
        " ON CONFLICT(source_id, builder_id) DO UPDATE SET fingerprint = excluded.fingerprint,"
        " deps = excluded.deps",
    [DBS_JOB_UPSERT] =
        "INSERT INTO jobs(source_id, builder_id, job_key, platform, critical, priority, params, status)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending')"
        " ON CONFLICT(source_id, builder_id, job_key, platform) DO UPDATE SET critical = excluded.critical,"
        " priority = excluded.priority, params = excluded.params"
        " RETURNING id",
    [DBS_JOB_DELETE] = "DELETE FROM jobs WHERE id = ?1",
    [DBS_JOB_START] = "UPDATE jobs SET status = 'pending', reason = NULL, run_reason = ?2, started_at = ?3,"
                      " warnings = 0, errors = 0, log = ?4, host = NULL WHERE id = ?1",
    [DBS_STATE_SET] = "INSERT INTO state(key, value) VALUES(?1, ?2)"
                      " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [DBS_JOB_BEGIN] = "UPDATE jobs SET status = 'processing', host = ?2, started_at = ?3 WHERE id = ?1",
    [DBS_JOB_FINISH_OK] = "UPDATE jobs SET status = ?2, reason = NULL, fingerprint = ?3, warnings = ?4,"
                          " errors = ?5, completed_at = ?6, duration_ms = ?7, log = ?8, escalated = 0,"
                          " requested = 0, failed_fingerprint = NULL WHERE id = ?1",
    [DBS_JOB_FINISH_FAIL] = "UPDATE jobs SET status = 'failed', reason = ?2, warnings = ?3, errors = ?4,"
                            " completed_at = ?5, duration_ms = ?6, log = ?7, escalated = 0, requested = 0,"
                            " failed_fingerprint = ?8 WHERE id = ?1",
    [DBS_JOB_SET_PENDING] = "UPDATE jobs SET status = 'pending' WHERE id = ?1",
    [DBS_PRODUCT_UPSERT] =
        "INSERT INTO products(job_id, sub_id, platform, path, asset_type, size, hash, intermediate, built_at)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        " ON CONFLICT(job_id, sub_id) DO UPDATE SET platform = excluded.platform, path = excluded.path,"
        " asset_type = excluded.asset_type, size = excluded.size, hash = excluded.hash,"
        " intermediate = excluded.intermediate, built_at = excluded.built_at"
        " RETURNING id",
    [DBS_PRODUCT_DELETE] = "DELETE FROM products WHERE id = ?1",
    [DBS_PRODUCTS_OF_JOB] = "SELECT id, sub_id, path FROM products WHERE job_id = ?1",
    [DBS_JOBS_REQUEST_BY_SOURCE] =
        "UPDATE jobs SET requested = 1 WHERE source_id IN (SELECT id FROM sources WHERE path = ?1"
        " OR uuid = ?2 OR (scan_folder || '/' || path) = ?1)",
    [DBS_JOB_SET_FP_PARTS] = "UPDATE jobs SET fp_parts = ?2 WHERE id = ?1",
    [DBS_JOB_SET_JOB_DEPS] = "UPDATE jobs SET job_deps = ?2 WHERE id = ?1",
    [DBS_JOBS_REQUEST_SOURCE_ID] = "UPDATE jobs SET requested = 1 WHERE source_id = ?1",
    [DBS_PRODUCT_DEPS_DELETE] = "DELETE FROM product_deps WHERE product_id = ?1",
    [DBS_PRODUCT_DEP_INSERT] = "INSERT INTO product_deps(product_id, dep_asset_id, dep_path, dep_kind)"
                               " VALUES(?1, ?2, ?3, ?4)",
    [DBS_SOURCE_SET_ORIGIN] =
        "UPDATE sources SET intermediate = 1, origin_job = ?2, chain = ?3 WHERE id = ?1",
};

const char *db_errmsg(kdb *db)
{
	return db && db->h ? sqlite3_errmsg(db->h) : "no database";
}

static void note_error(kdb *db)
{
	db->errors++;
	db->last_errcode = sqlite3_errcode(db->h);
	snprintf(db->last_error, sizeof db->last_error, "%s", sqlite3_errmsg(db->h));
}

void db_describe_error(int errcode, const char *path, const char *msg, char *out, size_t outsz)
{
	int prim = errcode & 0xff;
	if (prim == SQLITE_FULL)
		snprintf(out, outsz, "%s: the disk is full (%s); free some space and run kiln again", path,
		         msg);
	else if (prim == SQLITE_IOERR)
		snprintf(out, outsz, "%s: an I/O error (%s): the disk may be full or failing", path, msg);
	else if (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB)
		snprintf(
		    out, outsz,
		    "%s: the database is damaged (%s); to rebuild it, move assetdb.sqlite away and run kiln "
		    "batch (README, \"Rebuilding the database\")",
		    path, msg);
	else
		snprintf(out, outsz, "%s: %s", path, msg);
}

int db_exec(kdb *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		klog(KLOG_WARN, "database: %s", msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		note_error(db);
		return KILN_E_DB;
	}
	return 0;
}

static int get_user_version(sqlite3 *h, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = KILN_E_DB;
	if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	*out = sqlite3_column_int(st, 0);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int migrate(kdb *db, int from, char *err, size_t errsz)
{
	for (int v = from; v < N_MIGRATIONS; v++) {
		char *msg = NULL;
		char sql[64];
		if (db_begin(db) != 0)
			goto fail_msg;
		if (sqlite3_exec(db->h, migrations[v], NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errsz, "migrating the database to version %d: %s", v + 1,
			         msg ? msg : sqlite3_errmsg(db->h));
			sqlite3_free(msg);
			db_rollback(db);
			return KILN_E_DB;
		}
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
		if (db_exec(db, sql) != 0 || db_commit(db) != 0) {
			db_rollback(db);
			goto fail_msg;
		}
	}
	return 0;
fail_msg:
	snprintf(err, errsz, "migrating the database: %s", sqlite3_errmsg(db->h));
	return KILN_E_DB;
}

int db_open(const char *path, bool readonly, kdb **out, char *err, size_t errsz)
{
	kdb *db = calloc(1, sizeof *db);
	int rc = KILN_E_DB;
	int version = 0;
	if (!db)
		return -ENOMEM;
	db->readonly = readonly;
	struct stat pst;
	if (stat(path, &pst) == 0 && !S_ISREG(pst.st_mode)) {
		snprintf(err, errsz, "%s: is %s, not a database file; move it away and run kiln batch", path,
		         S_ISDIR(pst.st_mode) ? "a folder" : "not a regular file");
		free(db);
		return KILN_E_DB;
	}
	int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	flags |= SQLITE_OPEN_NOMUTEX;
	int src = sqlite3_open_v2(path, &db->h, flags, NULL);
	if (src != SQLITE_OK) {
		if (readonly && src == SQLITE_CANTOPEN && access(path, F_OK) == 0) {
			/* It is there but cannot be opened: say why, not "missing". */
			int e = access(path, R_OK) != 0 ? errno : EACCES;
			snprintf(err, errsz, "%s: cannot read the database: %s", path, strerror(e));
		} else if (readonly && (src == SQLITE_CANTOPEN)) {
			snprintf(err, errsz, "%s: no database yet (run kiln batch first)", path);
			rc = KILN_E_NOTFOUND;
		} else {
			snprintf(err, errsz, "%s: %s", path, db->h ? sqlite3_errmsg(db->h) : "cannot open");
		}
		goto fail;
	}
	sqlite3_busy_timeout(db->h, 10000);
	sqlite3_extended_result_codes(db->h, 1);
	if (get_user_version(db->h, &version) != 0) {
		db_describe_error(sqlite3_extended_errcode(db->h), path, sqlite3_errmsg(db->h), err, errsz);
		goto fail;
	}
	if (version > N_MIGRATIONS) {
		snprintf(err, errsz,
		         "%s: schema version %d is newer than this kiln understands (%d); use a newer kiln",
		         path, version, N_MIGRATIONS);
		goto fail;
	}
	if (!readonly) {
		/* WAL lets the editor and read-only commands read while the
		 * supervisor writes; NORMAL sync is durable across process
		 * crashes, which is the failure kiln must survive. Sorts (the
		 * asset catalog orders every product) spill to temporary
		 * files past the page cache: temp_store = FILE keeps a 100,000
		 * product catalog from holding 12 MB of sort runs in memory,
		 * and is faster than MEMORY at that size. */
		if (db_exec(db, "PRAGMA journal_mode = WAL") != 0 ||
		    db_exec(db, "PRAGMA synchronous = NORMAL") != 0 ||
		    db_exec(db, "PRAGMA foreign_keys = ON") != 0 ||
		    db_exec(db, "PRAGMA temp_store = FILE") != 0) {
			db_describe_error(sqlite3_extended_errcode(db->h), path, sqlite3_errmsg(db->h), err,
			                  errsz);
			goto fail;
		}
		if (version < N_MIGRATIONS) {
			rc = migrate(db, version, err, errsz);
			if (rc != 0)
				goto fail;
		}
		for (int i = 0; i < DBS__COUNT; i++) {
			if (sqlite3_prepare_v3(db->h, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
			                       &db->stmts[i], NULL) != SQLITE_OK) {
				snprintf(err, errsz, "%s: preparing statement %d: %s", path, i,
				         sqlite3_errmsg(db->h));
				rc = KILN_E_DB;
				goto fail;
			}
		}
	} else if (version < N_MIGRATIONS) {
		snprintf(err, errsz, "%s: the database is at schema version %d; run kiln batch to upgrade it",
		         path, version);
		goto fail;
	}
	*out = db;
	return 0;
fail:
	if (rc == 0)
		rc = KILN_E_DB;
	db_close(db);
	return rc;
}

void db_close(kdb *db)
{
	if (!db)
		return;
	for (int i = 0; i < DBS__COUNT; i++)
		sqlite3_finalize(db->stmts[i]);
	if (db->h)
		sqlite3_close_v2(db->h);
	free(db);
}

/* A bind that SQLite refused since the last step (or db_stmt_get) on this
 * thread. */
static _Thread_local int bind_failed;

sqlite3_stmt *db_stmt_get(kdb *db, db_stmt s)
{
	sqlite3_stmt *st = db->stmts[s];
	bind_failed = 0;
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	return st;
}

int db_begin(kdb *db)
{
	if (db->in_txn)
		return 0;
	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return KILN_E_DB;
	db->in_txn = true;
	return 0;
}

int db_commit(kdb *db)
{
	if (!db->in_txn)
		return 0;
	if (db_exec(db, "COMMIT") != 0) {
		/* SQLite may have rolled the transaction back (a full disk does):
		 * then there is no transaction left to commit or roll back. */
		if (sqlite3_get_autocommit(db->h)) {
			db->in_txn = false;
			db->commit_failed = true;
		}
		return KILN_E_DB;
	}
	db->in_txn = false;
	return 0;
}

int db_rollback(kdb *db)
{
	if (!db->in_txn)
		return 0;
	db->in_txn = false;
	return db_exec(db, "ROLLBACK");
}

static int bind_check(kdb *db, sqlite3_stmt *st)
{
	if (!bind_failed)
		return 0;
	klog(KLOG_ERROR, "database: a value could not be bound (%s) in: %s", sqlite3_errstr(bind_failed),
	     sqlite3_sql(st));
	bind_failed = 0;
	note_error(db);
	sqlite3_reset(st);
	return KILN_E_DB;
}

int db_step_row(kdb *db, sqlite3_stmt *st)
{
	if (bind_check(db, st))
		return KILN_E_DB;
	int src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		return 0;
	klog(KLOG_WARN, "database: %s (in: %s)",
	     src == SQLITE_DONE ? "no row returned" : sqlite3_errmsg(db->h), sqlite3_sql(st));
	if (src != SQLITE_DONE)
		note_error(db);
	sqlite3_reset(st);
	return KILN_E_DB;
}

void db_savepoint_rollback(kdb *db, const char *name)
{
	char sql[96];
	if (sqlite3_get_autocommit(db->h)) {
		db->in_txn = false;
		return;
	}
	snprintf(sql, sizeof sql, "ROLLBACK TO \"%s\"", name);
	db_exec(db, sql);
	snprintf(sql, sizeof sql, "RELEASE \"%s\"", name);
	db_exec(db, sql);
	if (sqlite3_get_autocommit(db->h))
		db->in_txn = false;
}

int db_step_done(kdb *db, sqlite3_stmt *st)
{
	if (bind_check(db, st))
		return KILN_E_DB;
	int src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		src = SQLITE_DONE; /* RETURNING rows are not wanted here */
	if (src != SQLITE_DONE) {
		klog(KLOG_WARN, "database: %s (in: %s)", sqlite3_errmsg(db->h), sqlite3_sql(st));
		note_error(db);
		sqlite3_reset(st);
		return KILN_E_DB;
	}
	sqlite3_reset(st);
	return 0;
}

static void bind_note(int rc)
{
	if (rc != SQLITE_OK && !bind_failed)
		bind_failed = rc;
}

void db_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	bind_note(s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, idx));
}

void db_bind_int64(sqlite3_stmt *st, int idx, int64_t v)
{
	bind_note(sqlite3_bind_int64(st, idx, v));
}

void db_bind_null(sqlite3_stmt *st, int idx)
{
	bind_note(sqlite3_bind_null(st, idx));
}
