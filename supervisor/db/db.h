/* db.h: the job database, Cache/assetdb.sqlite (SPEC section 6).
 *
 * One layer over SQLite: a versioned schema with ordered migrations (a
 * database newer than this kiln is refused), WAL, foreign keys, and prepared
 * statements compiled once and cached by an enum. Writers batch their work in
 * db_begin()/db_commit(); nothing here opens a transaction per row.
 *
 * Schema (version 1), which read-only commands and tools may rely on:
 *
 *   builders(id, exec, args, exec_size, exec_mtime_ns, name, uuid UNIQUE,
 *            version, analysis_fingerprint, patterns (JSON array), internal,
 *            active, disabled_reason, cj_count, cj_total_us, pj_count,
 *            pj_total_us)
 *   sources(id, uuid UNIQUE, scan_folder (absolute), path (relative to the
 *           scan folder, as on disk), size, mtime_ns, hash (XXH3-64 as a
 *           signed integer))
 *   analyses(source_id, builder_id, fingerprint, deps (JSON))  PK(source, builder)
 *   jobs(id, source_id, builder_id, job_key, platform, critical, priority,
 *        params (JSON object), fingerprint (of the last good run or NULL),
 *        status CHECK(6 statuses), reason CHECK(8 reasons or NULL),
 *        run_reason, warnings, errors, started_at, completed_at (ms since
 *        the epoch, UTC), duration_ms, log (absolute path), escalated,
 *        requested, failed_fingerprint)
 *        UNIQUE(source_id, builder_id, job_key, platform)
 *   products(id, job_id, sub_id, platform, path (relative to Cache/<platform>/,
 *            lowercase), asset_type, size, hash, intermediate, built_at)
 *            UNIQUE(platform, path), UNIQUE(job_id, sub_id)
 *   product_deps(product_id, dep_asset_id, dep_path, dep_kind) for issue 4
 *   source_deps(source_id, builder_id, dep_path, dep_uuid)
 *
 * Version 2 adds jobs.fp_parts (JSON: the inputs of the last good run's
 * fingerprint, so a rerun can say which one changed), jobs.job_deps (JSON:
 * the job dependencies create_jobs gave), sources.intermediate,
 * sources.origin_job and sources.chain (intermediate assets: the job that
 * made them and the builders along their chain). Version 3 adds
 * builders.described_patterns (the builder's own patterns, for the describe
 * cache; builders.patterns holds the ones in force). Version 4 indexes
 * sources by lower(path), for resolving source path dependencies. Version 5
 * indexes jobs by completed_at and duration_ms and sources by path (the
 * dashboard's sorts and lookups).
 */
#ifndef KILN_DB_H
#define KILN_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#define DB_SCHEMA_VERSION 6

/* Statements compiled once per connection. */
typedef enum db_stmt {
	DBS_BUILDER_BY_EXEC,
	DBS_BUILDER_UPSERT,
	DBS_BUILDER_SET_ACTIVE_ALL,
	DBS_BUILDER_SET_ACTIVE,
	DBS_BUILDER_METRICS,
	DBS_SOURCE_INSERT,
	DBS_SOURCE_UPDATE,
	DBS_SOURCE_DELETE,
	DBS_ANALYSIS_UPSERT,
	DBS_JOB_UPSERT,
	DBS_JOB_DELETE,
	DBS_JOB_START, /* sent to a host: still pending */
	DBS_JOB_BEGIN, /* its host began it: processing */
	DBS_JOB_FINISH_OK,
	DBS_JOB_FINISH_FAIL,
	DBS_JOB_SET_PENDING,
	DBS_PRODUCT_UPSERT,
	DBS_PRODUCT_DELETE,
	DBS_PRODUCTS_OF_JOB,
	DBS_JOBS_REQUEST_BY_SOURCE,
	DBS_JOB_SET_FP_PARTS,
	DBS_JOB_SET_JOB_DEPS,
	DBS_JOBS_REQUEST_SOURCE_ID,
	DBS_PRODUCT_DEPS_DELETE,
	DBS_PRODUCT_DEP_INSERT,
	DBS_SOURCE_SET_ORIGIN,
	DBS_STATE_SET, /* a key of the state table: what the last scan saw */
	DBS__COUNT
} db_stmt;

typedef struct kdb {
	sqlite3 *h;
	sqlite3_stmt *stmts[DBS__COUNT];
	bool readonly;
	bool in_txn;
	/* Writes that failed since the database was opened, and the last
	 * failure's SQLite message: the engine reports them at the end rather
	 * than pretending all went well. */
	unsigned errors;
	int last_errcode;
	char last_error[256];
	bool commit_failed; /* a COMMIT failed: what the transaction held is lost */
} kdb;

/* Opens (creating and migrating when writable) path. On success *out (OUT)
 * belongs to the caller (db_close). A read-only open of a missing database
 * is KILN_E_NOTFOUND. A database with a newer schema is KILN_E_DB with err
 * saying so; a corrupt one is KILN_E_DB with SQLite's message. */
int db_open(const char *path, bool readonly, kdb **out, char *err, size_t errsz);
void db_close(kdb *db);

/* The cached statement s, reset and with bindings cleared. Never NULL for a
 * writable connection. */
sqlite3_stmt *db_stmt_get(kdb *db, db_stmt s);

int db_begin(kdb *db);
int db_commit(kdb *db);
int db_rollback(kdb *db);

/* Runs sql (no results) and logs SQLite's message on failure. */
int db_exec(kdb *db, const char *sql);

/* Steps a statement that returns no rows; returns 0 or KILN_E_DB (logged
 * with the statement's SQL). Resets the statement. */
int db_step_done(kdb *db, sqlite3_stmt *st);

/* Binding. SQLite refuses a bind only for a wrong index, no memory or a
 * value over its limits; a refused bind is remembered (per thread) and makes
 * the next db_step_done() or db_step_row() fail without stepping, so no row is
 * written with a parameter missing. Text may be NULL (bound as NULL). */
void db_bind_text(sqlite3_stmt *st, int idx, const char *s);
void db_bind_int64(sqlite3_stmt *st, int idx, int64_t v);
void db_bind_null(sqlite3_stmt *st, int idx);

/* Steps a statement that must return a row (RETURNING). Returns 0 with the
 * row readable until the caller resets the statement, or KILN_E_DB (logged,
 * statement reset). */
int db_step_row(kdb *db, sqlite3_stmt *st);

/* ROLLBACK TO and RELEASE of a savepoint. When SQLite has rolled back the
 * whole transaction already (a full disk does), there is no savepoint left:
 * the connection is then marked as out of its transaction. */
void db_savepoint_rollback(kdb *db, const char *name);

/* SQLite's text for the last error on db. */
const char *db_errmsg(kdb *db);

/* A sentence for an SQLite failure on path, with the way out: a full disk
 * or I/O error says so; damage points at the rebuild procedure. */
void db_describe_error(int errcode, const char *path, const char *msg, char *out, size_t outsz);

/* The valid status and reason words (SPEC section 3). */
extern const char *const db_statuses[6];
extern const char *const db_reasons[8];

#endif
