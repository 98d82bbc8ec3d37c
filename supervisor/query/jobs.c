/* jobs.c: `kiln jobs` and `kiln job ID`. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"
#include "query/query_priv.h"

/* A log file larger than this is shown up to here, so that one runaway
 * builder cannot make `kiln job` eat the machine's memory. */
#define LOG_MAX_BYTES (64u << 20)

#define JOB_SELECT                                                                                           \
	"SELECT j.id, s.path, s.scan_folder, b.name, j.job_key, j.platform, j.status, j.reason, j.warnings," \
	" j.errors, j.completed_at, j.duration_ms, j.log, j.run_reason, s.uuid, j.critical, j.priority,"     \
	" j.fingerprint, j.started_at, j.escalated, j.requested, j.params, j.host"                           \
	" FROM jobs j JOIN sources s ON s.id = j.source_id JOIN builders b ON b.id = j.builder_id"

enum {
	JC_ID,
	JC_SOURCE,
	JC_SCAN_FOLDER,
	JC_BUILDER,
	JC_JOB_KEY,
	JC_PLATFORM,
	JC_STATUS,
	JC_REASON,
	JC_WARNINGS,
	JC_ERRORS,
	JC_COMPLETED_AT,
	JC_DURATION_MS,
	JC_LOG,
	JC_RUN_REASON,
	JC_SOURCE_UUID,
	JC_CRITICAL,
	JC_PRIORITY,
	JC_FINGERPRINT,
	JC_STARTED_AT,
	JC_ESCALATED,
	JC_REQUESTED,
	JC_PARAMS,
	JC_HOST,
};

/* ORDER BY clauses come only from this table: a user's --sort picks a row,
 * it never reaches the SQL text. Each has an ascending and a descending
 * form (rows without a value, not completed or no duration, come last in
 * both) and a default direction: durations list the longest first. */
static const struct {
	const char *name;
	const char *asc, *desc;
	bool def_desc;
	bool uses_source; /* the order names s.path */
} job_sorts[] = {
    {"source", " ORDER BY s.path, j.platform, j.job_key, j.id",
     " ORDER BY s.path DESC, j.platform DESC, j.job_key DESC, j.id DESC", false, true},
    {"status",
     " ORDER BY CASE j.status WHEN 'pending' THEN 0 WHEN 'processing' THEN 1 WHEN 'completed' THEN 2"
     " WHEN 'completed_warning' THEN 3 WHEN 'completed_error' THEN 4 ELSE 5 END,"
     " s.path, j.platform, j.job_key, j.id",
     " ORDER BY CASE j.status WHEN 'pending' THEN 0 WHEN 'processing' THEN 1 WHEN 'completed' THEN 2"
     " WHEN 'completed_warning' THEN 3 WHEN 'completed_error' THEN 4 ELSE 5 END DESC,"
     " s.path, j.platform, j.job_key, j.id",
     false, true},
    /* SQLite puts NULL first going up and last going down, so the
     * descending forms need no "IS NULL" term and can walk an index. */
    {"completed", " ORDER BY j.completed_at IS NULL, j.completed_at, j.id",
     " ORDER BY j.completed_at DESC, j.id DESC", false, false},
    {"platform", " ORDER BY j.platform, s.path, j.job_key, j.id",
     " ORDER BY j.platform DESC, s.path, j.job_key, j.id", false, true},
    {"job_key", " ORDER BY j.job_key, s.path, j.platform, j.id",
     " ORDER BY j.job_key DESC, s.path, j.platform, j.id", false, true},
    {"duration", " ORDER BY j.duration_ms IS NULL, j.duration_ms, j.id", " ORDER BY j.duration_ms DESC, j.id",
     true, false},
    {"id", " ORDER BY j.id", " ORDER BY j.id DESC", false, false},
};

#define N_SORTS (sizeof(job_sorts) / sizeof(job_sorts[0]))

/* One job row (JOB_SELECT) as the object `kiln jobs --json` prints. */
static json_t *job_json(sqlite3_stmt *st)
{
	json_t *o = json_object();
	bool failed = q_is_failed((const char *)sqlite3_column_text(st, JC_STATUS));
	if (!o)
		return NULL;
	q_set(o, "id", json_integer(sqlite3_column_int64(st, JC_ID)));
	q_set(o, "source", q_jcol_str(st, JC_SOURCE));
	q_set(o, "scan_folder", q_jcol_str(st, JC_SCAN_FOLDER));
	q_set(o, "builder", q_jcol_str(st, JC_BUILDER));
	q_set(o, "job_key", q_jcol_str(st, JC_JOB_KEY));
	q_set(o, "platform", q_jcol_str(st, JC_PLATFORM));
	q_set(o, "status", q_jcol_str(st, JC_STATUS));
	/* The reason of an earlier failure means nothing once a job ran
	 * again, so it is shown only for a job that is failed now. */
	q_set(o, "reason", failed ? q_jcol_str(st, JC_REASON) : json_null());
	q_set(o, "warnings", json_integer(sqlite3_column_int64(st, JC_WARNINGS)));
	q_set(o, "errors", json_integer(sqlite3_column_int64(st, JC_ERRORS)));
	q_set(o, "completed_at", q_jcol_time(st, JC_COMPLETED_AT));
	q_set(o, "duration_ms", q_jcol_int(st, JC_DURATION_MS));
	q_set(o, "log", q_jcol_str(st, JC_LOG));
	q_set(o, "host", q_jcol_str(st, JC_HOST));
	q_set(o, "run_reason", q_jcol_str(st, JC_RUN_REASON));
	q_set(o, "source_uuid", q_jcol_str(st, JC_SOURCE_UUID));
	q_set(o, "critical", json_boolean(sqlite3_column_int64(st, JC_CRITICAL) != 0));
	q_set(o, "priority", json_integer(sqlite3_column_int64(st, JC_PRIORITY)));
	return o;
}

/* Builds ",a,b," from "a,b" after checking every word, so that SQL can test
 * membership with instr() on one bound parameter. */
static int parse_status_list(qctx *q, const char *list, char *out, size_t outsz)
{
	size_t o = 0;
	const char *p = list;
	int n = 0;
	out[o++] = ',';
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len > 0) {
			char word[32];
			if (len >= sizeof word ||
			    (memcpy(word, p, len), word[len] = '\0', q_status_index(word) < 0)) {
				q_err(q,
				      "unknown status '%.*s' (pending, processing, completed,"
				      " completed_warning, completed_error or failed)",
				      (int)len, p);
				return Q_USAGE;
			}
			if (o + len + 2 > outsz)
				return Q_USAGE;
			memcpy(out + o, word, len);
			o += len;
			out[o++] = ',';
			n++;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	out[o] = '\0';
	if (n == 0) {
		q_err(q, "--status needs at least one status word");
		return Q_USAGE;
	}
	return 0;
}

/* The DURATION cell of the jobs table. */
static const char *duration_cell(json_t *row, const char *key, char *buf, size_t bufsz)
{
	json_t *d = json_object_get(row, key);
	if (!json_is_integer(d))
		return "-";
	q_fmt_duration(json_integer_value(d), buf, bufsz);
	return buf;
}

int q_cmd_jobs(qctx *q, int argc, char **argv)
{
	static const char usage[] =
	    "jobs [--filter RE|STATUS] [--status S,...] [--sort COL] [--order asc|desc]"
	    " [--limit N] [--offset N] [--json]";
	static const qcol cols[] = {{"ID", "id", NULL},
	                            {"STATUS", "status", NULL},
	                            {"SOURCE", "source", NULL},
	                            {"BUILDER", "builder", NULL},
	                            {"PLATFORM", "platform", NULL},
	                            {"JOB_KEY", "job_key", NULL},
	                            {"DURATION", "duration_ms", duration_cell},
	                            {"REASON", "reason", NULL}};
	static const qlisting listing = {"jobs", cols, 8};
	const char *filter = NULL, *status = NULL, *sort = NULL, *orderw = NULL, *limit = NULL,
	           *offset = NULL;
	const qopt opts[] = {
	    {"--filter", true, &filter, NULL}, {"--status", true, &status, NULL},
	    {"--sort", true, &sort, NULL},     {"--order", true, &orderw, NULL},
	    {"--limit", true, &limit, NULL},   {"--offset", true, &offset, NULL},
	    {NULL, false, NULL, NULL},
	};
	qpage pg;
	int64_t total = 0;
	int desc = -1; /* -1: the column's default */
	sqlite3_stmt *cst = NULL;
	const char *pos[1];
	int n_pos, rc;
	char statuses[128];
	const char *status_word = NULL, *regex = NULL, *order = NULL;
	size_t sort_i = 0;
	char sql[2048];
	sqlite3_stmt *st = NULL;
	json_t *arr = NULL;

	rc = q_parse_args(q, argc, argv, opts, pos, 0, &n_pos, usage);
	if (rc != 0)
		return rc < 0 ? Q_OK : rc;
	if (status && (rc = parse_status_list(q, status, statuses, sizeof statuses)) != 0)
		return rc;
	if ((rc = q_parse_page(q, limit, offset, &pg)) != 0)
		return rc;
	if (orderw) {
		if (strcmp(orderw, "asc") != 0 && strcmp(orderw, "desc") != 0) {
			q_err(q, "--order takes asc or desc");
			return Q_USAGE;
		}
		desc = strcmp(orderw, "desc") == 0;
	}
	if (sort) {
		size_t i;
		for (i = 0; i < N_SORTS && strcmp(sort, job_sorts[i].name) != 0; i++)
			;
		if (i == N_SORTS) {
			q_err(q,
			      "cannot sort by '%s' (status, source, completed, platform, job_key,"
			      " duration or id)",
			      sort);
			return Q_USAGE;
		}
		sort_i = i;
	}
	if (desc < 0)
		desc = job_sorts[sort_i].def_desc;
	order = desc ? job_sorts[sort_i].desc : job_sorts[sort_i].asc;
	if (filter) {
		if (q_status_index(filter) >= 0)
			status_word = filter;
		else if ((rc = q_check_regex(q, filter)) != 0)
			return rc;
		else
			regex = filter;
	}

	if (!(arr = json_array()))
		return q_oom(q);
	if ((rc = q_open(q, true)) != 0)
		goto out;
	if (q->db) {
		/* The conditions name the source only for a regex, so that a
		 * count or a page that needs no source reads jobs alone. A
		 * regex matches the source's path or its uuid, not the job id:
		 * ids are short decimals that a filter such as "12" (meant for
		 * textures/set12/) would match by the hundred, and kiln job ID
		 * finds a job by its id. */
		char where[300];
		snprintf(where, sizeof where,
		         " WHERE (?1 IS NULL OR instr(?1, ',' || j.status || ',') > 0)"
		         " AND (?2 IS NULL OR j.status = ?2)%s",
		         regex ? " AND (s.path REGEXP ?3 OR s.uuid REGEXP ?3)" : "");
		const char *join_s = " JOIN sources s ON s.id = j.source_id";
		if (!pg.on) {
			snprintf(sql, sizeof sql, "%s%s%s", JOB_SELECT, where, order);
		} else {
			/* A page is chosen among the job ids first, so that the
			 * sort carries ids rather than whole rows and an index on
			 * the sort column can end it early; the rows of the page
			 * are read afterwards. */
			bool need_s = regex || job_sorts[sort_i].uses_source;
			snprintf(sql, sizeof sql, "%s WHERE j.id IN (SELECT j.id FROM jobs j%s%s%s",
			         JOB_SELECT, need_s ? join_s : "", where, order);
			q_page_sql(&pg, sql, sizeof sql);
			size_t n = strlen(sql);
			snprintf(sql + n, sizeof sql - n, ")%s", order);
		}
		if ((rc = q_prepare(q, sql, &st)) != 0)
			goto out;
		db_bind_text(st, 1, status ? statuses : NULL);
		db_bind_text(st, 2, status_word);
		db_bind_text(st, 3, regex);
		if (pg.on) {
			char csql[400];
			snprintf(csql, sizeof csql, "SELECT count(*) FROM jobs j%s%s", regex ? join_s : "",
			         where);
			if ((rc = q_prepare(q, csql, &cst)) != 0)
				goto out;
			db_bind_text(cst, 1, status ? statuses : NULL);
			db_bind_text(cst, 2, status_word);
			db_bind_text(cst, 3, regex);
			if ((rc = q_count(q, cst, &total)) != 0)
				goto out;
		}
		if ((rc = q_collect(q, st, job_json, arr)) != 0)
			goto out;
	}
	rc = q_print_listing(q, &listing, &pg, total, arr, NULL, NULL);
	arr = NULL;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(cst);
	json_decref(arr);
	return rc;
}

/* ---- kiln job ID ---- */

/* One log line as {level, source, message, context}: a line that is not a
 * JSON object is kept whole as an info message from "log", so nothing a
 * builder wrote is hidden. */
static json_t *log_line_json(const char *line, size_t len)
{
	json_error_t jerr;
	json_t *in = json_loadb(line, len, 0, &jerr);
	json_t *o = json_object();
	json_t *ctx = json_object();
	if (!o || !ctx)
		goto fail;
	if (json_is_object(in)) {
		json_t *v;
		const char *k;
		v = json_object_get(in, "time");
		if (json_is_string(v))
			q_set(o, "time", json_incref(v));
		v = json_object_get(in, "level");
		q_set(o, "level", json_is_string(v) ? json_incref(v) : json_string("info"));
		v = json_object_get(in, "source");
		q_set(o, "source", json_is_string(v) ? json_incref(v) : json_string("log"));
		v = json_object_get(in, "message");
		if (json_is_string(v)) {
			q_set(o, "message", json_incref(v));
		} else if (v) {
			char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			q_set(o, "message", json_string(s ? s : ""));
			free(s);
		} else {
			q_set(o, "message", json_string(""));
		}
		/* Context values are strings by contract; anything else is
		 * shown as its JSON text rather than dropped. */
		json_t *c = json_object_get(in, "context");
		json_object_foreach(c, k, v)
		{
			if (json_is_string(v)) {
				json_object_set(ctx, k, v);
			} else {
				char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
				q_set(ctx, k, s ? json_string(s) : json_null());
				free(s);
			}
		}
	} else {
		q_set(o, "level", json_string("info"));
		q_set(o, "source", json_string("log"));
		q_set(o, "message", q_jstr(line, len));
	}
	json_object_set_new(o, "context", ctx);
	json_decref(in);
	return o;
fail:
	json_decref(in);
	json_decref(o);
	json_decref(ctx);
	return NULL;
}

/* Reads a job's JSON Lines log into lines. A missing file is no lines; any
 * other failure to read is returned as -errno (lines keeps what was read). */
static int read_log(const char *path, json_t *lines, bool *truncated)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t cap = 0, total = 0;
	ssize_t n;
	int rc = 0;

	*truncated = false;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while ((n = getline(&buf, &cap, f)) > 0) {
		size_t len = (size_t)n;
		total += len;
		if (total > LOG_MAX_BYTES) {
			*truncated = true;
			break;
		}
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			len--;
		size_t sp = 0;
		while (sp < len && (buf[sp] == ' ' || buf[sp] == '\t'))
			sp++;
		if (sp == len)
			continue;
		json_t *o = log_line_json(buf, len);
		if (!o || json_array_append_new(lines, o) != 0) {
			rc = -ENOMEM;
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = -EIO;
	free(buf);
	fclose(f);
	return rc;
}

static void print_job_text(json_t *o)
{
	static const qlabel fields[] = {
	    {"source", "source"},
	    {"scan folder", "scan_folder"},
	    {"source uuid", "source_uuid"},
	    {"builder", "builder"},
	    {"platform", "platform"},
	    {"job key", "job_key"},
	    {"status", "status"},
	    {"reason", "reason"},
	    {"run reason", "run_reason"},
	    {"critical", "critical"},
	    {"priority", "priority"},
	    {"warnings", "warnings"},
	    {"errors", "errors"},
	    {"started", "started_at"},
	    {"completed", "completed_at"},
	    {"duration", "duration_ms"},
	    {"host", "host"},
	    {"fingerprint", "fingerprint"},
	    {"log", "log"},
	};
	char buf[64];
	size_t i;
	json_t *line;

	printf("job %s\n", q_text(o, "id", buf, sizeof buf));
	for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		json_t *d = json_object_get(o, fields[i].key);
		if (strcmp(fields[i].key, "duration_ms") == 0 && json_is_integer(d)) {
			q_fmt_duration(json_integer_value(d), buf, sizeof buf);
			printf("  %-12s %s\n", fields[i].label, buf);
			continue;
		}
		printf("  %-12s %s\n", fields[i].label, q_text(o, fields[i].key, buf, sizeof buf));
	}
	json_t *lines = json_object_get(o, "lines");
	printf("\nlog lines (%zu):\n", json_array_size(lines));
	json_array_foreach(lines, i, line)
	{
		const char *k;
		json_t *v;
		printf("  %-7s [%s] %s\n", q_text(line, "level", buf, sizeof buf),
		       q_text(line, "source", NULL, 0), q_text(line, "message", NULL, 0));
		json_object_foreach(json_object_get(line, "context"), k, v)
		{
			printf("            %s: %s\n", k, json_is_string(v) ? json_string_value(v) : "-");
		}
	}
	if (json_is_true(json_object_get(o, "lines_truncated")))
		printf("  (the log is longer; only its first %u MiB are shown)\n", LOG_MAX_BYTES >> 20);
}

int q_cmd_job(qctx *q, int argc, char **argv)
{
	static const char usage[] = "job ID [--json]";
	const char *arg;
	int rc, src;
	char *end = NULL;
	long long id;
	sqlite3_stmt *st = NULL;
	json_t *o = NULL, *lines = NULL;
	bool failed = false, truncated = false;

	if ((rc = q_parse_one(q, argc, argv, NULL, "job", usage, &arg)) != 0)
		return rc < 0 ? Q_OK : rc;
	errno = 0;
	id = (arg[0] >= '0' && arg[0] <= '9') ? strtoll(arg, &end, 10) : 0;
	if (!(arg[0] >= '0' && arg[0] <= '9'))
		end = (char *)arg;
	if (errno != 0 || end == arg || *end != '\0' || id <= 0) {
		q_err(q, "'%s' is not a job id (a positive number, as kiln jobs lists them)", q_arg(arg));
		return Q_USAGE;
	}
	if ((rc = q_open(q, true)) != 0)
		return rc;
	if (!q->db) {
		q_err(q, "no job with id %lld", id);
		return Q_FAILED;
	}
	if ((rc = q_prepare(q, JOB_SELECT " WHERE j.id = ?1", &st)) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		q_err(q, "no job with id %lld", id);
		rc = Q_FAILED;
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = q_step_failed(q, src);
		goto out;
	}
	o = job_json(st);
	lines = json_array();
	if (!o || !lines)
		goto oom;
	failed = q_is_failed(json_string_value(json_object_get(o, "status")));
	q_set(o, "fingerprint", q_jcol_hex64(st, JC_FINGERPRINT));
	q_set(o, "started_at", q_jcol_time(st, JC_STARTED_AT));
	q_set(o, "escalated", json_boolean(sqlite3_column_int64(st, JC_ESCALATED) != 0));
	q_set(o, "requested", json_boolean(sqlite3_column_int64(st, JC_REQUESTED) != 0));
	{
		const char *params = (const char *)sqlite3_column_text(st, JC_PARAMS);
		json_t *p = params ? json_loads(params, 0, NULL) : NULL;
		q_set(o, "params", json_is_object(p) ? p : (json_decref(p), json_object()));
	}
	if (sqlite3_column_type(st, JC_LOG) != SQLITE_NULL) {
		const char *path = (const char *)sqlite3_column_text(st, JC_LOG);
		int lrc = path ? read_log(path, lines, &truncated) : 0;
		if (lrc == -ENOMEM)
			goto oom;
		if (lrc != 0) {
			q_warn(q, "reading %s: %s", path, strerror(-lrc));
			q_set(o, "log_error", json_string(strerror(-lrc)));
		}
	}
	json_object_set_new(o, "lines", lines);
	lines = NULL;
	if (truncated)
		q_set(o, "lines_truncated", json_true());
	rc = q_print_answer(q, o, print_job_text, failed);
	goto out;
oom:
	rc = q_oom(q);
out:
	sqlite3_finalize(st);
	json_decref(o);
	json_decref(lines);
	return rc;
}
