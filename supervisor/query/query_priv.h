/* query_priv.h: what the files of supervisor/query/ share; not for other
 * modules.
 *
 * Every command builds its answer as jansson values first and then prints it
 * either as JSON or as text, so that both forms always say the same thing. */
#ifndef KILN_QUERY_PRIV_H
#define KILN_QUERY_PRIV_H

/* How long the regex filter of one listing may take in all. */
#define Q_FILTER_BUDGET_MS 1500

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <sqlite3.h>

#include "config/config.h"
#include "db/db.h"

/* Exit codes (SPEC section 4). */
enum { Q_OK = 0, Q_FAILED = 1, Q_USAGE = 2 };

/* The state of one command run. */
typedef struct qctx {
	const kiln_config *cfg;
	const char *cmd;
	kdb *db; /* NULL when there is no database yet */
	char dbpath[4096];
	bool json;
	/* Set by the REGEXP function when it aborts a statement, so that the
	 * caller can tell a bad filter (usage) from a database failure. */
	int regex_rc;
	int64_t regex_started; /* ms (monotonic) of the command's first match */
	char regex_err[512];
	/* query_json(): the document is kept in doc instead of printed, and
	 * error messages go to err (joined by "; ") instead of stderr. json
	 * is then always set, so the commands take their JSON path. */
	bool capture;
	json_t *doc;
	char *err;
	size_t errsz;
} qctx;

/* ---- messages.c ---- */

/* An error message, without the "kiln CMD: " prefix and the newline that
 * it gets on stderr. */
void q_err(qctx *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* arg quoted for a message: control characters escaped, cut at 60 characters */
const char *q_arg(const char *a);
/* A warning that does not change the answer (the document says it too):
 * printed like q_err, dropped by query_json(). */
void q_warn(qctx *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A whole line for stderr, printed as written, dropped by query_json(). */
void q_note(qctx *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Says "out of memory" as q_err() does; returns Q_USAGE, the code of a
 * command that ran out. */
int q_oom(qctx *q);

/* ---- options.c ---- */

/* Options of one command. A NULL-terminated array of these is given to
 * q_parse_args(); an option with has_arg stores its value in *val, one
 * without sets *flag. */
typedef struct qopt {
	const char *name; /* "--filter" */
	bool has_arg;
	const char **val;
	bool *flag;
} qopt;

/* Parses argv[1..] against opts (plus --json and --help, always accepted).
 * Positional arguments are collected into pos (at most max_pos; more is a
 * usage error). Returns 0, Q_USAGE after printing why, or -1 when --help
 * was printed (the command then exits 0). */
int q_parse_args(qctx *q, int argc, char **argv, const qopt *opts, const char **pos, int max_pos, int *n_pos,
                 const char *usage);

/* q_parse_args() for a command about one thing (a job, an asset, a
 * product), which takes exactly one positional argument, *arg (OUT); what
 * names the thing in "which asset? usage: ...". Returns as q_parse_args()
 * does. */
int q_parse_one(qctx *q, int argc, char **argv, const qopt *opts, const char *what, const char *usage,
                const char **arg);

/* The status word index of s in db_statuses, or -1. */
int q_status_index(const char *s);
/* True when status (a job's, or NULL) is "failed". */
bool q_is_failed(const char *status);

/* ---- database.c ---- */

/* Opens the database. Returns 0 with q->db set; 0 with q->db NULL when there
 * is no database yet (the message is printed); or Q_USAGE after printing why
 * the database cannot be read. Registers REGEXP on the connection. */
int q_open(qctx *q, bool readonly);
void q_close(qctx *q);

/* Prepares sql on q->db, printing SQLite's message on failure. Returns 0 or
 * Q_USAGE. */
int q_prepare(qctx *q, const char *sql, sqlite3_stmt **out);

/* Reports a failed sqlite3_step() (src is its result): a filter that broke
 * prints its own message; anything else prints SQLite's. Returns Q_USAGE. */
/* status.c: prints a status's "unmatched" object as a line, when it
 * counts any file. */
void q_print_unmatched(const json_t *unmatched);
int q_step_failed(qctx *q, int src);

/* Ends the statement *st whose last sqlite3_step() returned src: reports
 * a step that failed (as q_step_failed() does), then finalizes *st and sets
 * it to NULL. Returns 0, or Q_USAGE after printing why. */
int q_finish(qctx *q, sqlite3_stmt **st, int src);

/* Checks a user regex before it is used in SQL, so that an empty table still
 * reports a bad filter. Prints "filter: ..." and returns Q_USAGE, or 0. */
int q_check_regex(qctx *q, const char *re);

/* ---- format.c (query_asset_id() and query_iso_time() are in query.h) ---- */

/* Formats a duration in ms for people: "850 ms", "12.3 s", "4 min 05 s". */
void q_fmt_duration(int64_t ms, char *out, size_t outsz);

/* Splits an asset id "{uuid}:hex" (braces optional, any case) into the
 * canonical uuid (OUT, lowercase) and the sub id *sub (OUT). Returns 0 or
 * KILN_E_PROTO. */
int q_parse_asset_id(const char *s, char uuid[37], uint64_t *sub);

/* ---- json.c ---- */

/* JSON strings from bytes that may not be UTF-8 (paths on disk, log files):
 * invalid sequences become U+FFFD. Never NULL unless out of memory. */
json_t *q_jstr(const char *s, size_t len);
json_t *q_jstr0(const char *s);
/* Column i of st as a JSON string, or null when the column is NULL. */
json_t *q_jcol_str(sqlite3_stmt *st, int i);
/* Column i as a JSON integer, or null. */
json_t *q_jcol_int(sqlite3_stmt *st, int i);
/* Column i (ms since the epoch) as an ISO 8601 string, or null. */
json_t *q_jcol_time(sqlite3_stmt *st, int i);
/* Column i (a 64-bit hash) as 16 lowercase hex digits, or null. */
json_t *q_jcol_hex64(sqlite3_stmt *st, int i);
/* Sets key on obj, taking the reference of v (a NULL v, out of memory, is
 * stored as null). */
void q_set(json_t *obj, const char *key, json_t *v);

/* The asset id of (uuid column, sub id column) of st as a JSON string. */
json_t *q_jasset_id(const char *uuid, int64_t sub_id);

/* Appends s to arr unless an equal value is there already. Takes the
 * reference of s (a NULL s is ignored). */
void q_add_unique(json_t *arr, json_t *s);

/* Prints v as one indented JSON document and a newline on stdout, or keeps
 * a reference to it as the answer of query_json(). Returns 0 or Q_USAGE
 * when stdout failed. */
int q_print_json(qctx *q, json_t *v);

/* Prints the answer o of a command about one thing (job, asset, product):
 * with --json the document, else text(o). Returns what q_print_json()
 * does, or Q_FAILED instead of 0 when failed is set (the job, or one of the
 * asset's jobs, failed). */
int q_print_answer(qctx *q, json_t *o, void (*text)(json_t *o), bool failed);

/* A string of obj[key] for text output: "-" for null or missing. Integers
 * and reals are formatted into buf. */
const char *q_text(json_t *obj, const char *key, char *buf, size_t bufsz);

/* A line of a command's text form: its label and the key of its value. */
typedef struct qlabel {
	const char *label, *key;
} qlabel;

/* ---- table.c ---- */

/* An aligned text table. Cells are copied. */
typedef struct qtable qtable;
qtable *q_table_new(int ncols, const char *const *headers);
/* Appends a row of ncols cells (NULL prints as "-"). Returns 0 or -ENOMEM. */
int q_table_add(qtable *t, const char *const *cells);
void q_table_print(qtable *t, FILE *f);
void q_table_free(qtable *t);

/* ---- page.c ---- */

/* Paging of a listing (--limit N --offset N). Without either option the
 * listing is the whole array, as before; with one of them the document is
 * {"total", "offset", "limit", KEY: [...]}, total counting every row that
 * matches, so a client can page through 100,000 rows without asking for
 * them all. */
typedef struct qpage {
	bool on;
	int64_t limit;  /* 1..Q_PAGE_MAX */
	int64_t offset; /* 0..Q_OFFSET_MAX */
} qpage;

#define Q_PAGE_MAX   10000
#define Q_OFFSET_MAX 1000000000

/* Checks --limit and --offset (either may be NULL); prints why a value is
 * wrong and returns Q_USAGE, or 0 with *pg set. */
int q_parse_page(qctx *q, const char *limit, const char *offset, qpage *pg);

/* Appends " LIMIT n OFFSET n" for pg (nothing when paging is off) to sql. */
void q_page_sql(const qpage *pg, char *sql, size_t sqlsz);

/* Runs a one-row count statement already bound; *n (OUT). Returns 0 or
 * Q_USAGE after printing why. */
int q_count(qctx *q, sqlite3_stmt *st, int64_t *n);

/* The paged document {total, offset, limit, key: arr}; takes the
 * reference of arr. NULL when out of memory. */
json_t *q_page_doc(const qpage *pg, int64_t total, const char *key, json_t *arr);

/* For text output: "rows 201-400 of 1234" on stdout when paging is on. */
void q_page_note(const qpage *pg, int64_t total, size_t shown);

/* ---- listing.c ---- */

/* A column of a listing's table: its header and the key of each row's
 * value, written by q_text() or, when set, by cell (into buf, which holds
 * bufsz bytes). */
typedef struct qcol {
	const char *header;
	const char *key;
	const char *(*cell)(json_t *row, const char *key, char *buf, size_t bufsz);
} qcol;

/* A listing: the key of its rows in the paged document ("jobs"), which
 * also names them in "no jobs", and the columns of its table. */
typedef struct qlisting {
	const char *key;
	const qcol *cols;
	int ncols;
} qlisting;

/* Steps st to its end and appends row(st) to arr for each row (row returns
 * a new reference, NULL when out of memory). Returns 0, or Q_USAGE after
 * printing why. */
int q_collect(qctx *q, sqlite3_stmt *st, json_t *(*row)(sqlite3_stmt *st), json_t *arr);

/* Prints the rows arr of listing l. With --json: the array, or with
 * paging on the paged document (q_page_doc(); with dir_lo, the --dir of a
 * tree listing with its trailing slash, it also holds "dir" and the
 * folders). As text: the folders, then
 * the table ("no KEY" when nothing matched and paging is off), then the
 * page note. Takes the references of arr and folders (which may be NULL).
 * Returns 0, or Q_USAGE after printing why. */
int q_print_listing(qctx *q, const qlisting *l, const qpage *pg, int64_t total, json_t *arr,
                    const char *dir_lo, json_t *folders);

/* ---- tree.c ---- */

/* A listing that is a folder tree (assets, products): one level of a tree
 * with --dir DIR, or every row. Its statements (q_tree_read()) are bound
 * to ?1 lo (NULL at the top), ?2 hi, ?3 skip, ?4 the filter regex (or
 * NULL) and ?5 extra (a platform, or any non-NULL text as a flag; NULL for
 * none). With --dir, lo = "DIR/" and hi = "DIR0" ('0' follows '/') bound
 * an index range, so that a folder of a big tree is read without scanning
 * the others, and skip is strlen(lo) + 1, where the rest of a path starts
 * (SQLite's substr counts from 1); at the top lo and hi are "" and skip is
 * 1. The caller sets filter, extra and dir (borrowed); q_tree_start() sets
 * the rest. */
typedef struct qtree {
	const char *filter, *extra, *dir;
	char lo[4200], hi[4200];
	int skip;
	qpage pg;
	int64_t total;          /* the rows that match, when paging is on */
	json_t *rows, *folders; /* owned; folders only with --dir */
} qtree;

/* Checks the filter, --limit and --offset (either may be NULL) and --dir
 * (a relative folder without "." or ".." parts, "" for the top; it turns
 * paging on), makes the arrays, and opens the database as q_open() does.
 * Returns 0, or Q_USAGE after printing why; q_tree_free() in every case. */
int q_tree_start(qctx *q, qtree *t, const char *limit, const char *offset);

/* Reads the listing: with --dir the folders one level below it from
 * folders_sql, a SELECT whose first column, rest, is what follows the
 * folder in each path ([{name, count}], count being the rows below); with
 * paging the total from count_sql, a one-row count; and the rows from
 * rows_sql, each made by row (which returns a new reference, NULL when out
 * of memory). Returns 0, or Q_USAGE after printing why. */
int q_tree_read(qctx *q, qtree *t, const char *folders_sql, const char *count_sql, const char *rows_sql,
                json_t *(*row)(sqlite3_stmt *st));

/* Prints t as the listing l (q_print_listing()), which takes its arrays. */
int q_tree_print(qctx *q, const qlisting *l, qtree *t);

/* Releases what t holds. */
void q_tree_free(qtree *t);

/* ---- source.c ---- */

/* Finds the source named by arg (PATH or UUID, see query.h). On success
 * *source_id (OUT) is its row id. Returns 0, KILN_E_NOTFOUND, or Q_USAGE
 * after printing a database error. */
int q_resolve_source(qctx *q, const char *arg, int64_t *source_id);

/* Binds a dependency on a source by path to find, a statement over sources
 * whose ?1 is a path and ?2 a UUID: ?1 dep_path and, for a relative path,
 * ?2 the UUID a source at that path has (a UUID does not depend on case,
 * so it finds the source however the dependency spells it). */
void q_bind_dep_path(sqlite3_stmt *find, const char *dep_path);

/* ---- deps.c ---- */

/* How far --depth follows dependencies: the deepest tree (also what
 * "--depth 0" and "--depth all" give), and the most entries one tree holds.
 * Every entry costs a few statements, each read stops at what the tree can
 * still show, and everything is read once however often it appears, so
 * these two bound what a walk over any graph (a cyclic one, or one where
 * everything depends on everything) reads and prints. */
#define Q_DEPTH_MAX 32
#define Q_TREE_MAX  1000

/* How deep a command follows dependencies: levels 1 (the direct ones, the
 * default) to Q_DEPTH_MAX; all for as deep as they go, up to Q_DEPTH_MAX,
 * where an entry with more below it is marked "truncated". */
typedef struct qdepth {
	int levels;
	bool all;
} qdepth;

/* Checks the value of --depth (NULL for the default, 1): a number from 1 to
 * Q_DEPTH_MAX, or 0 or "all". Returns 0 with *d set, or Q_USAGE after
 * printing why. */
int q_parse_depth(qctx *q, const char *s, qdepth *d);

/* Fills the dependency lists of the product with row id pid into o:
 * "dependencies", "unmet", "source_dependencies" and "dependants", each
 * entry of the first and last {asset_id, platform, path, source} (path,
 * platform and source null for an asset id that names no product on the
 * product's platform). With d->levels above 1 every entry of those two
 * lists also holds its own entries under the same key, down to d->levels,
 * except an entry that is its own ancestor, marked "cycle": true instead;
 * o gets "truncated": true when a tree was cut at Q_TREE_MAX entries or
 * at Q_DEPTH_MAX levels. Returns 0, -ENOMEM, or Q_USAGE after printing
 * why. */
int q_product_deps(qctx *q, json_t *o, int64_t pid, const qdepth *d);

/* Fills "depends_on" and "depended_on_by" of the source with row id sid
 * into o: the sources its create_jobs named and those its products name by
 * source path, and the sources that name it either way. At depth 1 each
 * entry is the source's path (a dependency that names no source: as
 * written); deeper, each is {source, uuid} (uuid null for no source) with
 * its own entries under the same key, marked as q_product_deps() marks
 * them. Returns as q_product_deps() does. */
int q_source_deps(qctx *q, json_t *o, int64_t sid, const qdepth *d);

/* Prints a dependency list arr of a command's text form, one entry a line
 * indented by indent spaces, written by name (without the newline), then
 * "(cycle)" or "(truncated)" when so marked, and below each entry its own
 * entries under key, two spaces further in. */
void q_print_deps(json_t *arr, const char *key, int indent, void (*name)(json_t *e));

/* Commands: jobs and job in jobs.c, assets and asset in assets.c, products
 * and product in products.c; builders.c, status.c and reprocess.c. */
int q_cmd_jobs(qctx *q, int argc, char **argv);
int q_cmd_job(qctx *q, int argc, char **argv);
int q_cmd_assets(qctx *q, int argc, char **argv);
int q_cmd_asset(qctx *q, int argc, char **argv);
int q_cmd_products(qctx *q, int argc, char **argv);
int q_cmd_product(qctx *q, int argc, char **argv);
int q_cmd_builders(qctx *q, int argc, char **argv);
int q_cmd_status(qctx *q, int argc, char **argv);
int q_cmd_reprocess(qctx *q, int argc, char **argv);

#endif
