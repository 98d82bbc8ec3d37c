/* db_test.c: the job database: a new database at the current schema, reopened
 * as it was left, an old schema migrated in order (and a migration that fails
 * stops at the version before it), a newer schema refused untouched, the
 * statement cache, transactions committed and rolled back, and the failures
 * the layer reports. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "kerr.h"
#include "path.h"
#include "test.h"

static char tmpdir[256];

/* A second connection, straight through SQLite, to look at (or damage) a
 * database the way another process would. */
static sqlite3 *raw_open(const char *path)
{
	sqlite3 *h = NULL;
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", path, h ? sqlite3_errmsg(h) : "cannot open");
		sqlite3_close(h);
		return NULL;
	}
	return h;
}

/* The first column of the first row of sql as an integer, -1 when there is
 * no row or the statement fails. */
static long long q_int(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static long long q_path_int(const char *path, const char *sql)
{
	sqlite3 *h = raw_open(path);
	long long v = h ? q_int(h, sql) : -1;
	sqlite3_close(h);
	return v;
}

static bool has_object(sqlite3 *h, const char *name)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE name = '%s'", name);
	return q_int(h, sql) == 1;
}

static bool has_column(sqlite3 *h, const char *table, const char *col)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'", table,
	         col);
	return q_int(h, sql) == 1;
}

static void db_path(char *out, size_t outsz, const char *name)
{
	snprintf(out, outsz, "%s/%s.sqlite", tmpdir, name);
}

/* path opened for writing (made and migrated as needed), or NULL with a
 * failed check. */
static kdb *open_rw(const char *path)
{
	kdb *db = NULL;
	char err[512] = "";
	int rc = db_open(path, false, &db, err, sizeof err);
	CHECK_EQ_INT(rc, 0);
	if (rc)
		fprintf(stderr, "%s\n", err);
	return rc == 0 ? db : NULL;
}

/* A new database TMPDIR/name.sqlite (its path in path) opened for writing. */
static kdb *open_named(const char *name, char *path, size_t pathsz)
{
	db_path(path, pathsz, name);
	return open_rw(path);
}

/* A fresh database at the current schema, closed again. */
static bool make_db(const char *path)
{
	kdb *db = open_rw(path);
	db_close(db);
	return db != NULL;
}

/* Inserts a source through the cached statement; returns db_step_done's
 * answer. */
static int insert_source(kdb *db, const char *uuid, const char *rel)
{
	sqlite3_stmt *st = db_stmt_get(db, DBS_SOURCE_INSERT);
	if (!st)
		return KILN_E_DB;
	db_bind_text(st, 1, uuid);
	db_bind_text(st, 2, "/project/Assets");
	db_bind_text(st, 3, rel);
	sqlite3_bind_int64(st, 4, 10);
	sqlite3_bind_int64(st, 5, 20);
	sqlite3_bind_int64(st, 6, 30);
	return db_step_done(db, st);
}

static void test_create(void)
{
	char path[512];
	kdb *db = open_named("create", path, sizeof path);
	if (!db)
		return;
	CHECK(!db->readonly);
	CHECK(!db->in_txn);
	CHECK_EQ_INT(q_int(db->h, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	CHECK_EQ_INT(q_int(db->h, "PRAGMA foreign_keys"), 1);
	sqlite3_stmt *jm = NULL;
	if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode", -1, &jm, NULL) == SQLITE_OK &&
	    sqlite3_step(jm) == SQLITE_ROW)
		CHECK_EQ_STR((const char *)sqlite3_column_text(jm, 0), "wal");
	else
		CHECK(!"PRAGMA journal_mode answered");
	sqlite3_finalize(jm);
	const char *tables[] = {"builders", "sources",      "analyses",   "jobs",
	                        "products", "product_deps", "source_deps"};
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
		CHECK(has_object(db->h, tables[i]));
	/* The last migration's work is there too. */
	CHECK(has_object(db->h, "jobs_completed"));
	CHECK(has_column(db->h, "jobs", "fp_parts"));
	/* Every statement is compiled once, and handed out again as the same
	 * object. */
	for (int s = 0; s < DBS__COUNT; s++)
		CHECK(db->stmts[s] != NULL);
	CHECK(db_stmt_get(db, DBS_JOB_UPSERT) == db_stmt_get(db, DBS_JOB_UPSERT));
	db_close(db);
}

static void test_reopen(void)
{
	char path[512];
	kdb *db = open_named("reopen", path, sizeof path);
	if (!db)
		return;
	CHECK_EQ_INT(db_begin(db), 0);
	CHECK_EQ_INT(insert_source(db, "00000000-0000-0000-0000-0000000000a1", "a.png"), 0);
	CHECK_EQ_INT(db_commit(db), 0);
	db_close(db);

	/* Reopened for writing: the row is there and nothing migrates again. */
	db = open_rw(path);
	if (db) {
		CHECK_EQ_INT(q_int(db->h, "SELECT count(*) FROM sources WHERE path = 'a.png'"), 1);
		CHECK_EQ_INT(q_int(db->h, "PRAGMA user_version"), DB_SCHEMA_VERSION);
		db_close(db);
	}

	/* Reopened read-only: it reads, holds no statements, and cannot write. */
	char err[512] = "";
	db = NULL;
	CHECK_EQ_INT(db_open(path, true, &db, err, sizeof err), 0);
	if (db) {
		CHECK(db->readonly);
		CHECK(db_stmt_get(db, DBS_SOURCE_INSERT) == NULL);
		CHECK_EQ_INT(q_int(db->h, "SELECT size FROM sources WHERE path = 'a.png'"), 10);
		CHECK_EQ_INT(db_exec(db, "DELETE FROM sources"), KILN_E_DB);
		CHECK_EQ_INT(db->errors, 1);
		db_close(db);
	}
	CHECK_EQ_INT(q_path_int(path, "SELECT count(*) FROM sources"), 1);
}

static void test_missing(void)
{
	char path[512], err[512] = "";
	db_path(path, sizeof path, "missing");
	kdb *db = NULL;
	CHECK_EQ_INT(db_open(path, true, &db, err, sizeof err), KILN_E_NOTFOUND);
	CHECK(db == NULL);
	CHECK(strstr(err, "no database yet") != NULL);
	/* Looking does not create it. */
	CHECK(!test_exists(tmpdir, "missing.sqlite"));
}

static void test_newer(void)
{
	char path[512], err[512] = "";
	db_path(path, sizeof path, "newer");
	if (!make_db(path))
		return;
	sqlite3 *h = raw_open(path);
	CHECK(h && sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(h);
	for (int ro = 0; ro < 2; ro++) {
		kdb *db = NULL;
		err[0] = 0;
		CHECK_EQ_INT(db_open(path, ro, &db, err, sizeof err), KILN_E_DB);
		CHECK(db == NULL);
		CHECK(strstr(err, "schema version 99 is newer") != NULL);
	}
	/* Refused, not downgraded or damaged. */
	CHECK_EQ_INT(q_path_int(path, "PRAGMA user_version"), 99);
	CHECK_EQ_INT(q_path_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'jobs'"), 1);
}

/* Takes a current database back to what schema version 1 left: every
 * column and index that migrations 2 to 5 add is dropped again. */
static const char *const to_v1 =
    "DROP INDEX product_deps_asset; DROP INDEX product_deps_path;"
    "DROP INDEX sources_lpath; DROP INDEX jobs_completed; DROP INDEX jobs_duration;"
    "DROP INDEX sources_path;"
    "ALTER TABLE jobs DROP COLUMN fp_parts; ALTER TABLE jobs DROP COLUMN job_deps;"
    "ALTER TABLE sources DROP COLUMN intermediate;"
    "ALTER TABLE sources DROP COLUMN origin_job; ALTER TABLE sources DROP COLUMN chain;"
    "ALTER TABLE builders DROP COLUMN described_patterns;"
    "ALTER TABLE jobs DROP COLUMN host; ALTER TABLE sources DROP COLUMN analysis_ms; DROP TABLE state;"
    "PRAGMA user_version = 1;";

/* A version 1 database holding one source, made from a current one. */
static bool make_v1(const char *path)
{
	if (!make_db(path))
		return false;
	sqlite3 *h = raw_open(path);
	char *msg = NULL;
	bool ok =
	    h && sqlite3_exec(h, to_v1, NULL, NULL, &msg) == SQLITE_OK &&
	    sqlite3_exec(h,
	                 "INSERT INTO sources(uuid, scan_folder, path, size, mtime_ns, hash)"
	                 " VALUES('00000000-0000-0000-0000-0000000000b1', '/p/Assets', 'old.png', 1, 2, 3)",
	                 NULL, NULL, &msg) == SQLITE_OK;
	if (!ok)
		fprintf(stderr, "making a version 1 database: %s\n", msg ? msg : "cannot open");
	sqlite3_free(msg);
	CHECK(ok);
	ok = ok && !has_column(h, "sources", "intermediate") && !has_object(h, "sources_lpath");
	CHECK(ok);
	sqlite3_close(h);
	return ok;
}

static void test_migrate(void)
{
	char path[512], err[512] = "";
	db_path(path, sizeof path, "v1");
	if (!make_v1(path))
		return;
	/* A read-only command does not migrate; it says what to do. */
	kdb *db = NULL;
	CHECK_EQ_INT(db_open(path, true, &db, err, sizeof err), KILN_E_DB);
	CHECK(strstr(err, "schema version 1; run kiln batch") != NULL);
	CHECK_EQ_INT(q_path_int(path, "PRAGMA user_version"), 1);

	db = open_rw(path);
	if (!db)
		return;
	CHECK_EQ_INT(q_int(db->h, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	CHECK(has_column(db->h, "jobs", "fp_parts"));
	CHECK(has_column(db->h, "jobs", "job_deps"));
	CHECK(has_column(db->h, "sources", "chain"));
	CHECK(has_column(db->h, "builders", "described_patterns"));
	CHECK(has_object(db->h, "sources_lpath"));
	CHECK(has_object(db->h, "jobs_duration"));
	/* The old row is kept, with the new columns' defaults. */
	CHECK_EQ_INT(q_int(db->h, "SELECT intermediate FROM sources WHERE path = 'old.png'"), 0);
	CHECK_EQ_INT(q_int(db->h, "SELECT hash FROM sources WHERE path = 'old.png'"), 3);
	/* And the statements that need the new columns compiled. */
	CHECK(db_stmt_get(db, DBS_SOURCE_SET_ORIGIN) != NULL);
	db_close(db);
}

static void test_migrate_fails(void)
{
	char path[512], err[512] = "";
	db_path(path, sizeof path, "v1-blocked");
	if (!make_v1(path))
		return;
	/* A table with the name of an index that migration 5 creates makes
	 * that migration fail; the ones before it each commit on their own. */
	sqlite3 *h = raw_open(path);
	CHECK(h && sqlite3_exec(h, "CREATE TABLE jobs_duration(x)", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(h);
	kdb *db = NULL;
	CHECK_EQ_INT(db_open(path, false, &db, err, sizeof err), KILN_E_DB);
	CHECK(db == NULL);
	CHECK(strstr(err, "migrating the database to version 5") != NULL);
	CHECK_EQ_INT(q_path_int(path, "PRAGMA user_version"), 4);
	h = raw_open(path);
	if (h) {
		CHECK(has_object(h, "sources_lpath"));   /* migration 4 stayed */
		CHECK(!has_object(h, "jobs_completed")); /* migration 5 rolled back whole */
	}
	sqlite3_close(h);
}

static void test_transactions(void)
{
	char path[512];
	kdb *db = open_named("txn", path, sizeof path);
	if (!db)
		return;
	/* Committing or rolling back outside a transaction is harmless. */
	CHECK_EQ_INT(db_commit(db), 0);
	CHECK_EQ_INT(db_rollback(db), 0);

	CHECK_EQ_INT(db_begin(db), 0);
	CHECK(db->in_txn);
	CHECK_EQ_INT(db_begin(db), 0); /* already in one: no nesting */
	CHECK_EQ_INT(insert_source(db, "00000000-0000-0000-0000-0000000000c1", "gone.png"), 0);
	CHECK_EQ_INT(q_int(db->h, "SELECT count(*) FROM sources"), 1);
	/* Another connection does not see what is not committed. */
	CHECK_EQ_INT(q_path_int(path, "SELECT count(*) FROM sources"), 0);
	CHECK_EQ_INT(db_rollback(db), 0);
	CHECK(!db->in_txn);
	CHECK_EQ_INT(q_int(db->h, "SELECT count(*) FROM sources"), 0);

	CHECK_EQ_INT(db_begin(db), 0);
	CHECK_EQ_INT(insert_source(db, "00000000-0000-0000-0000-0000000000c2", "kept.png"), 0);
	CHECK_EQ_INT(db_commit(db), 0);
	CHECK(!db->in_txn);
	CHECK_EQ_INT(q_path_int(path, "SELECT count(*) FROM sources WHERE path = 'kept.png'"), 1);
	db_close(db);
}

static void test_statements_and_errors(void)
{
	char path[512];
	kdb *db = open_named("stmts", path, sizeof path);
	if (!db)
		return;
	/* A statement comes back reset with its bindings cleared. */
	sqlite3_stmt *st = db_stmt_get(db, DBS_SOURCE_DELETE);
	sqlite3_bind_int64(st, 1, 42);
	char *sql = sqlite3_expanded_sql(st);
	CHECK(sql && strstr(sql, "id = 42") != NULL);
	sqlite3_free(sql);
	st = db_stmt_get(db, DBS_SOURCE_DELETE);
	sql = sqlite3_expanded_sql(st);
	CHECK(sql && strstr(sql, "id = NULL") != NULL);
	sqlite3_free(sql);

	/* Constraint failures are counted and described, not hidden. */
	CHECK_EQ_INT(insert_source(db, "00000000-0000-0000-0000-0000000000d1", "one.png"), 0);
	CHECK_EQ_INT(db->errors, 0);
	CHECK_EQ_INT(insert_source(db, "00000000-0000-0000-0000-0000000000d1", "two.png"), KILN_E_DB);
	CHECK_EQ_INT(db->errors, 1);
	CHECK_EQ_INT(db->last_errcode & 0xff, SQLITE_CONSTRAINT);
	CHECK(strstr(db->last_error, "UNIQUE") != NULL);
	/* Foreign keys are enforced: a job of no source is refused. */
	CHECK_EQ_INT(
	    db_exec(db,
	            "INSERT INTO jobs(source_id, builder_id, job_key, platform) VALUES(999, 999, 'k', 'pc')"),
	    KILN_E_DB);
	CHECK_EQ_INT(db->errors, 2);
	/* So is the list of statuses. */
	CHECK_EQ_INT(
	    db_exec(db, "INSERT INTO builders(exec, name, uuid, version) VALUES('/b', 'b', 'u', '1')"), 0);
	CHECK_EQ_INT(db_exec(db, "INSERT INTO jobs(source_id, builder_id, job_key, platform, status)"
	                         " VALUES(1, 1, 'k', 'pc', 'finished')"),
	             KILN_E_DB);
	CHECK_EQ_INT(db->errors, 3);
	CHECK_EQ_INT(db_exec(db, "INSERT INTO jobs(source_id, builder_id, job_key, platform, status)"
	                         " VALUES(1, 1, 'k', 'pc', 'completed_warning')"),
	             0);
	db_close(db);
}

static void test_not_a_database(void)
{
	char path[512], err[512] = "";
	kdb *db = NULL;
	/* A folder where the file should be. */
	snprintf(path, sizeof path, "%s/folder.sqlite", tmpdir);
	CHECK_EQ_INT(mkdir(path, 0755), 0);
	CHECK_EQ_INT(db_open(path, false, &db, err, sizeof err), KILN_E_DB);
	CHECK(strstr(err, "is a folder, not a database file") != NULL);
	/* A file that is no database: damage, with the way out. */
	CHECK_EQ_INT(
	    test_put(tmpdir, "junk.sqlite", "this is not an SQLite database, not even close to one\n"), 0);
	snprintf(path, sizeof path, "%s/junk.sqlite", tmpdir);
	err[0] = 0;
	CHECK_EQ_INT(db_open(path, false, &db, err, sizeof err), KILN_E_DB);
	CHECK(db == NULL);
	CHECK(strstr(err, "the database is damaged") != NULL);

	char out[512];
	db_describe_error(SQLITE_FULL, "/c/db", "database or disk is full", out, sizeof out);
	CHECK(strstr(out, "the disk is full") != NULL);
	db_describe_error(SQLITE_IOERR_WRITE, "/c/db", "disk I/O error", out, sizeof out);
	CHECK(strstr(out, "an I/O error") != NULL);
	db_describe_error(SQLITE_BUSY, "/c/db", "database is locked", out, sizeof out);
	CHECK_EQ_STR(out, "/c/db: database is locked");
}

int main(void)
{
	if (!test_tmpdir(tmpdir, sizeof tmpdir, "db"))
		return 1;
	test_create();
	test_reopen();
	test_missing();
	test_newer();
	test_migrate();
	test_migrate_fails();
	test_transactions();
	test_statements_and_errors();
	test_not_a_database();
	if (path_rmtree(tmpdir) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	TEST_DONE();
}
