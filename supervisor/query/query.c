/* query.c: dispatch of the read-only commands and the helpers they share
 * (options, opening the database, the REGEXP function, JSON and tables). */
#include "query/query.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kerr.h"
#include "pattern.h"
#include "path.h"
#include "query/query_priv.h"

static const struct {
	const char *name;
	int (*fn)(qctx *q, int argc, char **argv);
} commands[] = {
    {"jobs", q_cmd_jobs},         {"job", q_cmd_job},           {"assets", q_cmd_assets},
    {"asset", q_cmd_asset},       {"products", q_cmd_products}, {"product", q_cmd_product},
    {"builders", q_cmd_builders}, {"status", q_cmd_status},     {"reprocess", q_cmd_reprocess},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

int query_is_command(const char *argv0)
{
	if (!argv0)
		return 0;
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(argv0, commands[i].name) == 0)
			return 1;
	return 0;
}

/* Runs one command; with capture set, the document and the messages are
 * kept in *out and err instead of printed. */
static int dispatch(const kiln_config *cfg, int argc, char **argv, bool capture, json_t **out, char *err,
                    size_t errsz)
{
	qctx *q = NULL;
	int rc = Q_USAGE;

	if (argc < 1 || !argv || !argv[0]) {
		if (capture)
			snprintf(err, errsz, "no command given");
		else
			fprintf(stderr, "kiln: no command given\n");
		return Q_USAGE;
	}
	if (!cfg || !cfg->cache) {
		if (capture)
			snprintf(err, errsz, "no project configuration");
		else
			fprintf(stderr, "kiln %s: no project configuration\n", argv[0]);
		return Q_USAGE;
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		/* The context is on the heap: it holds a path buffer and an
		 * error buffer that do not belong on a caller's stack. */
		q = calloc(1, sizeof *q);
		if (!q) {
			if (capture)
				snprintf(err, errsz, "out of memory");
			else
				fprintf(stderr, "kiln %s: out of memory\n", argv[0]);
			return Q_USAGE;
		}
		q->cfg = cfg;
		q->cmd = commands[i].name;
		q->capture = capture;
		q->json = capture;
		q->err = err;
		q->errsz = errsz;
		rc = commands[i].fn(q, argc, argv);
		/* Whatever the command printed must reach its reader even when
		 * the caller leaves with _exit(). */
		if (!capture && fflush(stdout) != 0 && rc == Q_OK) {
			q_err(q, "writing the output: %s", strerror(errno));
			rc = Q_USAGE;
		}
		q_close(q);
		if (capture) {
			*out = q->doc;
			q->doc = NULL;
			if (rc == Q_OK && !*out) {
				/* Only --help answers without a document. */
				snprintf(err, errsz, "%s: no answer", argv[0]);
				rc = Q_USAGE;
			}
		}
		json_decref(q->doc);
		free(q);
		return rc;
	}
	if (capture)
		snprintf(err, errsz, "unknown command '%s'", argv[0]);
	else
		fprintf(stderr, "kiln: unknown command '%s'\n", argv[0]);
	return Q_USAGE;
}

int query_run(const kiln_config *cfg, int argc, char **argv)
{
	return dispatch(cfg, argc, argv, false, NULL, NULL, 0);
}

int query_json(const kiln_config *cfg, int argc, char **argv, json_t **out, char *err, size_t errsz)
{
	char dummy[1];
	*out = NULL;
	if (!err || errsz == 0) {
		err = dummy;
		errsz = sizeof dummy;
	}
	err[0] = '\0';
	int rc = dispatch(cfg, argc, argv, true, out, err, errsz);
	if (rc != Q_OK && err[0] == '\0')
		snprintf(err, errsz, "%s failed", argc > 0 && argv && argv[0] ? argv[0] : "query");
	return rc;
}

/* ---- messages ---- */

static void q_vmsg(qctx *q, bool prefix, const char *fmt, va_list ap)
{
	if (!q->capture) {
		if (prefix)
			fprintf(stderr, "kiln %s: ", q->cmd);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		return;
	}
	if (!q->err || q->errsz == 0)
		return;
	size_t used = strlen(q->err);
	if (used > 0 && used + 2 < q->errsz) {
		memcpy(q->err + used, "; ", 3);
		used += 2;
	}
	if (used + 1 < q->errsz)
		vsnprintf(q->err + used, q->errsz - used, fmt, ap);
}

/* An argument as it may appear in a message: control characters escaped,
 * cut at 60 characters, so that a hostile argument can neither drive the
 * terminal nor flood it. Four buffers turn in round, for messages that
 * quote more than one. */
const char *q_arg(const char *a)
{
	static char bufs[4][128];
	static int turn;
	char *out = bufs[turn++ & 3];
	size_t o = 0, n = 0;
	for (; a && *a && o < sizeof bufs[0] - 8; a++, n++) {
		if (n >= 60) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		unsigned char c = (unsigned char)*a;
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, sizeof bufs[0] - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = 0;
	return out;
}

void q_err(qctx *q, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	q_vmsg(q, true, fmt, ap);
	va_end(ap);
}

void q_warn(qctx *q, const char *fmt, ...)
{
	va_list ap;
	if (q->capture)
		return;
	va_start(ap, fmt);
	q_vmsg(q, true, fmt, ap);
	va_end(ap);
}

void q_note(qctx *q, const char *fmt, ...)
{
	va_list ap;
	if (q->capture)
		return;
	va_start(ap, fmt);
	q_vmsg(q, false, fmt, ap);
	va_end(ap);
}

/* ---- formatting ---- */

int query_asset_id(const char *uuid, int64_t sub_id, char *out, size_t outsz)
{
	char u[37];
	size_t i;
	uint64_t v;
	int n;

	for (i = 0; i < 36 && uuid[i]; i++) {
		char c = uuid[i];
		u[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	u[i] = '\0';
	/* Builders send sub ids as unsigned 32-bit numbers; one that went
	 * through a signed 32-bit integer on the way must still print as the
	 * same id. */
	if (sub_id >= INT32_MIN && sub_id <= (int64_t)UINT32_MAX)
		v = (uint32_t)sub_id;
	else
		v = (uint64_t)sub_id;
	n = snprintf(out, outsz, "{%s}:%" PRIx64, u, v);
	if (n < 0 || (size_t)n >= outsz)
		return KILN_E_TOOBIG;
	return 0;
}

void query_iso_time(int64_t ms, char out[32])
{
	/* Floor division, so that times before 1970 still print correctly. */
	int64_t secs = ms / 1000, frac = ms % 1000;
	if (frac < 0) {
		frac += 1000;
		secs -= 1;
	}
	time_t t = (time_t)secs;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(out, 32, "%" PRId64, ms);
		return;
	}
	char date[24];
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%.20s.%03dZ", date, (int)frac);
}

void q_fmt_duration(int64_t ms, char *out, size_t outsz)
{
	if (ms < 1000)
		snprintf(out, outsz, "%" PRId64 " ms", ms);
	else if (ms < 60000)
		snprintf(out, outsz, "%.1f s", (double)ms / 1000.0);
	else
		snprintf(out, outsz, "%" PRId64 " min %02" PRId64 " s", ms / 60000, (ms / 1000) % 60);
}

/* ---- options ---- */

int q_parse_args(qctx *q, int argc, char **argv, const qopt *opts, const char **pos, int max_pos, int *n_pos,
                 const char *usage)
{
	bool only_pos = false;
	*n_pos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (*n_pos >= max_pos) {
				q_err(q, "unexpected argument '%s'\nusage: kiln %s", q_arg(a), usage);
				return Q_USAGE;
			}
			pos[(*n_pos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			q->json = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			if (q->capture) {
				q_err(q, "usage: kiln %s", usage);
				return Q_USAGE;
			}
			printf("usage: kiln %s\n", usage);
			return -1;
		}
		const qopt *o = NULL;
		const char *eq = strchr(a, '=');
		size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
		for (const qopt *p = opts; p && p->name; p++) {
			if (strlen(p->name) == nlen && strncmp(p->name, a, nlen) == 0) {
				o = p;
				break;
			}
		}
		if (!o) {
			q_err(q, "unknown option '%.*s'\nusage: kiln %s", (int)nlen, a, usage);
			return Q_USAGE;
		}
		if (!o->has_arg) {
			if (eq) {
				q_err(q, "option %s takes no value", o->name);
				return Q_USAGE;
			}
			*o->flag = true;
			continue;
		}
		if (eq) {
			*o->val = eq + 1;
		} else if (i + 1 < argc) {
			*o->val = argv[++i];
		} else {
			q_err(q, "option %s needs a value\nusage: kiln %s", o->name, usage);
			return Q_USAGE;
		}
	}
	return 0;
}

int q_status_index(const char *s)
{
	for (int i = 0; i < 6; i++)
		if (strcmp(s, db_statuses[i]) == 0)
			return i;
	return -1;
}

/* ---- database ---- */

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
		snprintf(q->regex_err, sizeof q->regex_err,
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
	db_describe_error(sqlite3_extended_errcode(q->db->h), path, sqlite3_errmsg(q->db->h), msg, sizeof msg);
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

/* ---- JSON ---- */

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 when it is not valid. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (left >= 2 && (s[1] & 0xc0) == 0x80) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (left < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (left < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

json_t *q_jstr(const char *s, size_t len)
{
	json_t *v = json_stringn(s, len);
	if (v)
		return v;
	/* Not UTF-8: replace every bad byte with U+FFFD (3 bytes). */
	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	char *buf = malloc(len * 3 + 1);
	size_t o = 0;
	if (!buf)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq((const unsigned char *)s + i, len - i);
		if (n == 0) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(buf + o, s + i, n);
			o += n;
			i += n;
		}
	}
	v = json_stringn(buf, o);
	free(buf);
	return v;
}

json_t *q_jstr0(const char *s)
{
	return s ? q_jstr(s, strlen(s)) : json_null();
}

json_t *q_jcol_str(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	const char *s = (const char *)sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	return s ? q_jstr(s, (size_t)n) : json_null();
}

json_t *q_jcol_int(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return json_integer(sqlite3_column_int64(st, i));
}

json_t *q_jcol_time(sqlite3_stmt *st, int i)
{
	char buf[32];
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	query_iso_time(sqlite3_column_int64(st, i), buf);
	return json_string(buf);
}

json_t *q_jcol_hex64(sqlite3_stmt *st, int i)
{
	char buf[17];
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	snprintf(buf, sizeof buf, "%016" PRIx64, (uint64_t)sqlite3_column_int64(st, i));
	return json_string(buf);
}

json_t *q_jasset_id(const char *uuid, int64_t sub_id)
{
	char buf[64];
	if (!uuid || query_asset_id(uuid, sub_id, buf, sizeof buf) != 0)
		return json_null();
	return q_jstr0(buf);
}

void q_set(json_t *obj, const char *key, json_t *v)
{
	json_object_set_new(obj, key, v ? v : json_null());
}

void q_add_unique(json_t *arr, json_t *s)
{
	size_t i;
	json_t *v;
	if (!s)
		return;
	json_array_foreach(arr, i, v)
	{
		if (json_equal(v, s)) {
			json_decref(s);
			return;
		}
	}
	json_array_append_new(arr, s);
}

int q_print_json(qctx *q, json_t *v)
{
	if (q->capture) {
		json_decref(q->doc);
		q->doc = json_incref(v);
		return 0;
	}
	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) != 0 ||
	    fputc('\n', stdout) == EOF) {
		q_err(q, "writing JSON: %s", strerror(errno));
		return Q_USAGE;
	}
	return 0;
}

const char *q_text(json_t *obj, const char *key, char *buf, size_t bufsz)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, bufsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, bufsz, "%.3f", json_real_value(v));
		return buf;
	}
	if (json_is_true(v))
		return "yes";
	if (json_is_false(v))
		return "no";
	return "-";
}

/* ---- tables ---- */

struct qtable {
	int ncols;
	char **cells; /* row-major; row 0 is the header */
	size_t nrows, cap;
};

qtable *q_table_new(int ncols, const char *const *headers)
{
	qtable *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->ncols = ncols;
	if (q_table_add(t, headers) != 0) {
		q_table_free(t);
		return NULL;
	}
	return t;
}

int q_table_add(qtable *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * (size_t)t->ncols * sizeof *c);
		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	char **row = t->cells + t->nrows * (size_t)t->ncols;
	for (int i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i] ? cells[i] : "-");
		if (!row[i]) {
			while (i-- > 0)
				free(row[i]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

/* Display width: code points, which is right for the paths and words that
 * tables hold (wide CJK characters are rare in asset paths). */
static size_t text_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void q_table_print(qtable *t, FILE *f)
{
	size_t *w = calloc((size_t)t->ncols, sizeof *w);
	if (!w)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			size_t cw = text_width(t->cells[r * (size_t)t->ncols + (size_t)c]);
			if (cw > w[c])
				w[c] = cw;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * (size_t)t->ncols + (size_t)c];
			fputs(cell, f);
			if (c + 1 < t->ncols) {
				for (size_t pad = text_width(cell); pad < w[c] + 2; pad++)
					fputc(' ', f);
			}
		}
		fputc('\n', f);
	}
	free(w);
}

void q_table_free(qtable *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* ---- paging ---- */

/* A decimal number without sign, spaces or leading junk, at most max. */
static int parse_count(const char *s, int64_t max, int64_t *out)
{
	int64_t v = 0;
	if (!s || !*s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		/* Checked before it is computed, so it cannot overflow. */
		if (v > (max - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 0;
}

int q_parse_page(qctx *q, const char *limit, const char *offset, qpage *pg)
{
	pg->on = limit || offset;
	pg->limit = 200;
	pg->offset = 0;
	if (limit && (parse_count(limit, Q_PAGE_MAX, &pg->limit) != 0 || pg->limit < 1)) {
		q_err(q, "--limit takes a number from 1 to %d", Q_PAGE_MAX);
		return Q_USAGE;
	}
	if (offset && parse_count(offset, Q_OFFSET_MAX, &pg->offset) != 0) {
		q_err(q, "--offset takes a number from 0 to %d", Q_OFFSET_MAX);
		return Q_USAGE;
	}
	return 0;
}

void q_page_sql(const qpage *pg, char *sql, size_t sqlsz)
{
	size_t n = strlen(sql);
	if (pg->on && n < sqlsz)
		snprintf(sql + n, sqlsz - n, " LIMIT %" PRId64 " OFFSET %" PRId64, pg->limit, pg->offset);
}

int q_count(qctx *q, sqlite3_stmt *st, int64_t *n)
{
	int src = sqlite3_step(st);
	if (src != SQLITE_ROW)
		return q_step_failed(q, src);
	*n = sqlite3_column_int64(st, 0);
	return 0;
}

json_t *q_page_doc(const qpage *pg, int64_t total, const char *key, json_t *arr)
{
	json_t *o = json_object();
	if (!o || !arr) {
		json_decref(o);
		json_decref(arr);
		return NULL;
	}
	q_set(o, "total", json_integer(total));
	q_set(o, "offset", json_integer(pg->offset));
	q_set(o, "limit", json_integer(pg->limit));
	json_object_set_new(o, key, arr);
	return o;
}

json_t *q_tree_doc(const qpage *pg, int64_t total, const char *key, json_t *arr, const char *dir_lo,
                   json_t *folders)
{
	json_t *doc = q_page_doc(pg, total, key, arr);
	if (doc && dir_lo) {
		/* dir_lo is the folder with its trailing slash ("" at the top). */
		q_set(doc, "dir", json_stringn(dir_lo, dir_lo[0] ? strlen(dir_lo) - 1 : 0));
		json_object_set_new(doc, "folders", folders);
	} else {
		json_decref(folders);
	}
	return doc;
}

void q_print_folders(const json_t *folders)
{
	size_t i;
	json_t *o;
	json_array_foreach(folders, i, o)
	{
		printf("%s/  (%lld)\n", json_string_value(json_object_get(o, "name")),
		       (long long)json_integer_value(json_object_get(o, "count")));
	}
}

void q_page_note(const qpage *pg, int64_t total, size_t shown)
{
	if (!pg->on)
		return;
	if (shown == 0)
		printf("no rows at offset %" PRId64 " of %" PRId64 "\n", pg->offset, total);
	else
		printf("rows %" PRId64 "-%" PRId64 " of %" PRId64 "\n", pg->offset + 1,
		       pg->offset + (int64_t)shown, total);
}

/* ---- folder trees ---- */

int q_dir_bounds(qctx *q, const char *dir, char *lo, char *hi, size_t sz, int *skip)
{
	size_t n = strlen(dir);
	while (n > 0 && dir[n - 1] == '/')
		n--;
	if (n == 0 || (n == 1 && dir[0] == '.')) {
		lo[0] = hi[0] = '\0';
		*skip = 1;
		return 0;
	}
	if (n + 2 > sz || n > 4096) {
		q_err(q, "--dir: the folder name is too long");
		return Q_USAGE;
	}
	/* Each part must be a plain name: stored paths never hold "." or
	 * ".." parts, empty parts or control characters. */
	const char *p = dir, *end = dir + n;
	if (*p == '/') {
		q_err(q, "--dir takes a folder relative to its scan folder or platform, not '%.*s'", (int)n,
		      dir);
		return Q_USAGE;
	}
	while (p < end) {
		const char *e = memchr(p, '/', (size_t)(end - p));
		size_t len = e ? (size_t)(e - p) : (size_t)(end - p);
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
			q_err(q, "--dir: '%.*s' is not a folder name (no empty, '.' or '..' parts)", (int)n,
			      dir);
			return Q_USAGE;
		}
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) {
				q_err(q, "--dir: the folder name holds a control character");
				return Q_USAGE;
			}
		p += len + 1;
	}
	memcpy(lo, dir, n);
	lo[n] = '/';
	lo[n + 1] = '\0';
	memcpy(hi, dir, n);
	hi[n] = '0';
	hi[n + 1] = '\0';
	*skip = (int)n + 2;
	return 0;
}

void q_bind_tree(sqlite3_stmt *st, const char *lo, const char *hi, int skip, const char *filter,
                 const char *extra)
{
	db_bind_text(st, 1, lo && lo[0] ? lo : NULL);
	db_bind_text(st, 2, hi);
	sqlite3_bind_int(st, 3, skip);
	db_bind_text(st, 4, filter);
	db_bind_text(st, 5, extra);
}

int q_list_folders(qctx *q, const char *base, const char *lo, const char *hi, int skip, const char *filter,
                   const char *extra, json_t *folders)
{
	sqlite3_stmt *st = NULL;
	char sql[1200];
	int rc, src;
	snprintf(
	    sql, sizeof sql,
	    "SELECT substr(rest, 1, instr(rest, '/') - 1) AS d, count(*) FROM (%s) WHERE instr(rest, '/') > 0"
	    " GROUP BY d ORDER BY d",
	    base);
	if ((rc = q_prepare(q, sql, &st)) != 0)
		return rc;
	q_bind_tree(st, lo, hi, skip, filter, extra);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *f = json_object();
		if (!f || json_array_append_new(folders, f) != 0) {
			json_decref(f);
			rc = -ENOMEM;
			goto out;
		}
		q_set(f, "name", q_jcol_str(st, 0));
		q_set(f, "count", q_jcol_int(st, 1));
	}
	if (src != SQLITE_DONE)
		rc = q_step_failed(q, src);
out:
	sqlite3_finalize(st);
	return rc;
}
