/* database.c: opening the job database read-only, the REGEXP function
 * that evaluates --filter inside SQLite with a time budget, and reporting
 * what fails there. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kerr.h"
#include "path.h"
#include "pattern.h"
#include "query/query_priv.h"

static void q_pattern_free(void *p)
{
	pattern_free(p);
}

/* REGEXP(pattern, subject), which SQLite calls for "subject REGEXP pattern".
 * The compiled pattern is kept as auxiliary data of the (constant) pattern
 * argument, so it is compiled once per statement, not once per row. */
static void q_regexp_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	qctx *q = sqlite3_user_data(ctx);
	const char *re = (const char *)sqlite3_value_text(argv[0]);
	const char *subject = (const char *)sqlite3_value_text(argv[1]);
	kpattern *p = NULL;
	bool fresh = false;
	int m;

	(void)argc;
	if (!re || !subject) {
		sqlite3_result_null(ctx);
		return;
	}
	p = sqlite3_get_auxdata(ctx, 0);
	if (!p) {
		char err[256];
		int rc = regex_compile(re, &p, err, sizeof err);
		if (rc != 0) {
			q->regex_rc = rc;
			snprintf(q->regex_err, sizeof q->regex_err, "filter: %s", err);
			sqlite3_result_error(ctx, q->regex_err, -1);
			return;
		}
		fresh = true;
	}
	/* Each match is bounded by PCRE2's limits; the whole listing by time,
	 * so that a pattern just under the limit on every one of 100,000 names
	 * cannot hold the command (or the dashboard) for minutes. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (!q->regex_started)
		q->regex_started = now;
	else if (now - q->regex_started > Q_FILTER_BUDGET_MS) {
		q->regex_rc = KILN_E_LIMIT;
		snprintf(
		    q->regex_err, sizeof q->regex_err,
		    "filter: the regex takes too long over these names (more than %d ms); make it simpler",
		    Q_FILTER_BUDGET_MS);
		sqlite3_result_error(ctx, q->regex_err, -1);
		if (fresh)
			sqlite3_set_auxdata(ctx, 0, p, q_pattern_free);
		return;
	}
	m = pattern_match(p, subject);
	if (m == KILN_E_LIMIT) {
		q->regex_rc = m;
		snprintf(q->regex_err, sizeof q->regex_err, "filter: regex hit its match limit");
		sqlite3_result_error(ctx, q->regex_err, -1);
	} else {
		/* Other match errors (a subject that is not valid UTF-8) are
		 * no match: one odd file name must not break a listing. */
		sqlite3_result_int(ctx, m == 1);
	}
	/* SQLite may free the data at once, so p is not used after this. */
	if (fresh)
		sqlite3_set_auxdata(ctx, 0, p, q_pattern_free);
}

int q_check_regex(qctx *q, const char *re)
{
	kpattern *p = NULL;
	char err[256];
	if (regex_compile(re, &p, err, sizeof err) != 0) {
		q_err(q, "filter: %s", err);
		return Q_USAGE;
	}
	pattern_free(p);
	return 0;
}

int q_open(qctx *q, bool readonly)
{
	char err[1024];
	struct stat sb;
	int n = snprintf(q->dbpath, sizeof q->dbpath, "%s/assetdb.sqlite", q->cfg->cache);
	if (n < 0 || (size_t)n >= sizeof q->dbpath) {
		q_err(q, "the cache path is too long");
		return Q_USAGE;
	}
	/* Checked here rather than left to SQLite, which would create the
	 * file on a writable open and says only "unable to open" on a
	 * read-only one. */
	if (stat(q->dbpath, &sb) != 0 && errno == ENOENT) {
		q_note(q, "no database yet at %s: run kiln batch first", q->dbpath);
		return 0;
	}
	int rc = db_open(q->dbpath, readonly, &q->db, err, sizeof err);
	if (rc == KILN_E_NOTFOUND) {
		q_note(q, "no database yet at %s: run kiln batch first", q->dbpath);
		q->db = NULL;
		return 0;
	}
	if (rc != 0) {
		q_err(q, "%s", err);
		q->db = NULL;
		return Q_USAGE;
	}
	if (sqlite3_create_function_v2(q->db->h, "regexp", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, q,
	                               q_regexp_fn, NULL, NULL, NULL) != SQLITE_OK) {
		q_err(q, "registering REGEXP: %s", sqlite3_errmsg(q->db->h));
		db_close(q->db);
		q->db = NULL;
		return Q_USAGE;
	}
	return 0;
}

void q_close(qctx *q)
{
	if (q->db) {
		db_close(q->db);
		q->db = NULL;
	}
}

/* A database failure, with the file's name and what to do about it. */
static void q_db_err(qctx *q)
{
	char path[KILN_PATH_MAX], msg[1024];
	snprintf(path, sizeof path, "%s/assetdb.sqlite", q->cfg->cache);
	db_describe_error(sqlite3_extended_errcode(q->db->h), path, sqlite3_errmsg(q->db->h), msg,
	                  sizeof msg);
	q_err(q, "%s", msg);
}

int q_prepare(qctx *q, const char *sql, sqlite3_stmt **out)
{
	*out = NULL;
	if (sqlite3_prepare_v2(q->db->h, sql, -1, out, NULL) != SQLITE_OK) {
		q_db_err(q);
		sqlite3_finalize(*out);
		*out = NULL;
		return Q_USAGE;
	}
	return 0;
}

int q_step_failed(qctx *q, int src)
{
	if (q->regex_rc != 0)
		q_err(q, "%s", q->regex_err);
	else {
		(void)src;
		q_db_err(q);
	}
	return Q_USAGE;
}

int q_finish(qctx *q, sqlite3_stmt **st, int src)
{
	int rc = src == SQLITE_DONE ? 0 : q_step_failed(q, src);
	sqlite3_finalize(*st);
	*st = NULL;
	return rc;
}
