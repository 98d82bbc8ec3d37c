/* query_test.c: the read-only commands against a small database built by
 * hand: JSON shapes and values, filters by regex and by status, a runaway
 * regex, sorting, lookups by path and UUID, exit codes, and reprocess; and
 * on a second database the dependency graph of `kiln product` and `kiln
 * asset`: dependencies by source path (found in any case, on the product's
 * own platform) both ways, entries that name their asset id and path, trees
 * with --depth, a cycle that ends, and the caps on wide and deep graphs,
 * through query_json() as the dashboard and the control API read them. */
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "db/db.h"
#include "query/query.h"
#include "test.h"
#include "uuid.h"

static char tmpdir[256];
static char out_buf[1 << 20];
static char err_buf[1 << 16];

/* Runs query_run with a NULL-terminated argument list, capturing stdout and
 * stderr into out_buf and err_buf. */
/* Collects the NULL-terminated arguments of ap into argv (at most 31);
 * returns how many. */
static int collect_args(va_list ap, char *argv[32])
{
	int argc = 0;
	for (char *a; argc < 31 && (a = va_arg(ap, char *)) != NULL;)
		argv[argc++] = a;
	argv[argc] = NULL;
	return argc;
}

static int run(const kiln_config *cfg, ...)
{
	char *argv[32];
	int argc, rc;
	char outp[300], errp[300];
	va_list ap;

	va_start(ap, cfg);
	argc = collect_args(ap, argv);
	va_end(ap);

	snprintf(outp, sizeof outp, "%s/out.txt", tmpdir);
	snprintf(errp, sizeof errp, "%s/err.txt", tmpdir);
	fflush(stdout);
	fflush(stderr);
	int so = dup(1), se = dup(2);
	int fo = open(outp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	int fe = open(errp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fo, 1);
	dup2(fe, 2);
	rc = query_run(cfg, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	ssize_t n = pread(fo, out_buf, sizeof out_buf - 1, 0);
	out_buf[n > 0 ? n : 0] = '\0';
	n = pread(fe, err_buf, sizeof err_buf - 1, 0);
	err_buf[n > 0 ? n : 0] = '\0';
	close(fo);
	close(fe);
	return rc;
}

/* The captured stdout as JSON, or NULL (reported) when it does not parse. */
static json_t *out_json(void)
{
	json_error_t e;
	json_t *v = json_loads(out_buf, 0, &e);
	if (!v)
		fprintf(stderr, "output is not JSON (%s at %d): %s\n", e.text, e.line, out_buf);
	return v;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static long long jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* The element of arr whose "id" is id. */
static json_t *by_id(json_t *arr, long long id)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) if (jint(v, "id") == id) return v;
	return NULL;
}

static bool has_str(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i,
	                   v) if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) return true;
	return false;
}

/* True when arr holds a dependency entry {asset_id, path, ...} with this
 * asset id and path (SPEC section 4: each entry names both). */
static bool has_dep(json_t *arr, const char *asset_id, const char *path)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *a = json_string_value(json_object_get(v, "asset_id"));
		const char *p = json_string_value(json_object_get(v, "path"));
		if (a && p && strcmp(a, asset_id) == 0 && strcmp(p, path) == 0)
			return true;
	}
	return false;
}

/* UUIDs by number for the dependency graph, so that ids read back are
 * easy to write here. */
#define UUID(n) "00000000-0000-5000-8000-0000000000" #n
#define ID(n)   "{" UUID(n) "}"

/* Runs one command through query_json() with a NULL-terminated argument
 * list; checks its exit code and returns its document (NULL for none). */
static json_t *ask(const kiln_config *cfg, int want_rc, ...)
{
	char *argv[32], err[1024];
	json_t *doc = NULL;
	va_list ap;

	va_start(ap, want_rc);
	int argc = collect_args(ap, argv);
	va_end(ap);
	int rc = query_json(cfg, argc, argv, &doc, err, sizeof err);
	if (rc != want_rc)
		fprintf(stderr, "%s %s: exit %d, expected %d (%s)\n", argv[0], argc > 1 ? argv[1] : "", rc,
		        want_rc, err);
	CHECK_EQ_INT(rc, want_rc);
	return doc;
}

/* Entry i of list key of o. */
static json_t *entry(json_t *o, const char *key, size_t i)
{
	return json_array_get(json_object_get(o, key), i);
}

/* The paths of the entries of arr (products: "platform/path"; sources: the
 * source, or the string itself), joined by spaces. */
static const char *paths(json_t *arr)
{
	static char buf[4096];
	size_t i, o = 0;
	json_t *v;
	buf[0] = '\0';
	json_array_foreach(arr, i, v)
	{
		char one[600];
		if (json_is_string(v))
			snprintf(one, sizeof one, "%s", json_string_value(v));
		else if (jstr(v, "asset_id"))
			snprintf(one, sizeof one, "%s/%s", jstr(v, "platform") ? jstr(v, "platform") : "-",
			         jstr(v, "path") ? jstr(v, "path") : "-");
		else
			snprintf(one, sizeof one, "%s", jstr(v, "source") ? jstr(v, "source") : "-");
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? " " : "", one);
		if (o >= sizeof buf)
			break;
	}
	return buf;
}

/* How many entries the tree arr holds, its nested lists under key
 * included. */
static size_t count_entries(json_t *arr, const char *key)
{
	size_t i, n = 0;
	json_t *v;
	json_array_foreach(arr, i, v) n += 1 + count_entries(json_object_get(v, key), key);
	return n;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void exec_sql(kdb *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "SQL failed: %s\n  %s\n", msg, sql);
		CHECK(0);
	}
	sqlite3_free(msg);
}

static char uuid_a[37], uuid_b[37], uuid_evil[37];
static char log_path[512];
#define EVIL "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"

static void src_uuid(const char *rel, char out[37])
{
	kuuid u;
	uuid_for_source(rel, &u);
	uuid_format(&u, out);
}

static void fill_db(const kiln_config *cfg)
{
	kdb *db = NULL;
	char err[512], path[512], *sql;
	FILE *f;

	snprintf(path, sizeof path, "%s/assetdb.sqlite", cfg->cache);
	CHECK_EQ_INT(db_open(path, false, &db, err, sizeof err), 0);
	if (!db)
		return;
	src_uuid("textures/a.png", uuid_a);
	src_uuid("models/b.fbx", uuid_b);
	src_uuid(EVIL, uuid_evil);

	exec_sql(
	    db,
	    "INSERT INTO builders(id, exec, name, uuid, version, analysis_fingerprint, patterns, internal,"
	    " active, cj_count, cj_total_us, pj_count, pj_total_us) VALUES"
	    " (1, 'kiln-copy', 'copy', '11111111-1111-5111-8111-111111111111', '1.2', 'fp1',"
	    "  '[\"*.png\", \"*.fbx\"]', 1, 1, 4, 10000, 3, 7500),"
	    " (2, 'tools/old', 'old', '22222222-2222-5222-8222-222222222222', '0.1', '', '[]', 0, 0,"
	    "  0, 0, 0, 0)");
	sql = sqlite3_mprintf("INSERT INTO sources(id, uuid, scan_folder, path, size, mtime_ns, hash) VALUES"
	                      " (1, %Q, '%q/Assets', 'textures/a.png', 10, 0, 1),"
	                      " (2, %Q, '%q/Assets', 'models/b.fbx', 20, 0, 2),"
	                      " (3, %Q, '%q/Assets', %Q, 30, 0, 3)",
	                      uuid_a, cfg->root, uuid_b, cfg->root, uuid_evil, cfg->root, EVIL);
	exec_sql(db, sql);
	sqlite3_free(sql);

	snprintf(log_path, sizeof log_path, "%s/logs/jobs/1.jsonl", cfg->cache);
	snprintf(path, sizeof path, "%s/logs", cfg->cache);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/logs/jobs", cfg->cache);
	mkdir(path, 0755);
	f = fopen(log_path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("{\"time\":\"2026-11-21T19:43:57.000Z\",\"level\":\"info\",\"source\":\"builder\","
		      "\"message\":\"converting\",\"context\":{\"file\":\"a.png\",\"size\":\"12\"}}\n",
		      f);
		fputs("not json at all\n", f);
		fputs("\n", f);
		fputs("{\"level\":\"warning\",\"source\":\"host\",\"message\":\"slow\",\"context\":{\"n\":3}}"
		      "\n",
		      f);
		fputs("bad \xff\xfe bytes\n", f);
		fclose(f);
	}
	/* 2026-11-21T19:43:58.123Z is 1795290238123 ms. */
	sql = sqlite3_mprintf(
	    "INSERT INTO jobs(id, source_id, builder_id, job_key, platform, critical, priority, status, "
	    "reason,"
	    " run_reason, warnings, errors, completed_at, duration_ms, log, fingerprint) VALUES"
	    " (1, 1, 1, 'copy', 'pc', 0, 0, 'completed', NULL, 'new', 0, 0, 1795290238123, 1200, %Q, -1),"
	    " (2, 1, 1, 'copy', 'linux', 0, 0, 'failed', 'crashed', 'new', 0, 1, 1795290239000, 50, %Q,"
	    "  NULL),"
	    " (3, 2, 1, 'mesh', 'pc', 1, 5, 'pending', NULL, NULL, 0, 0, NULL, NULL, NULL, NULL),"
	    " (4, 3, 1, 'copy', 'pc', 0, 0, 'completed_warning', 'timeout', 'changed', 2, 0, 1795290237000,"
	    "  5000, NULL, 255)",
	    log_path, "/nonexistent/kiln/log.jsonl");
	exec_sql(db, sql);
	sqlite3_free(sql);
	exec_sql(db,
	         "INSERT INTO products(id, job_id, sub_id, platform, path, asset_type, size, hash, built_at)"
	         " VALUES (1, 1, 0, 'pc', 'textures/a.dds', 'texture', 100, 7, 1795290238123),"
	         " (2, 1, -1, 'pc', 'textures/a.meta', 'meta', 5, 8, 1795290238123),"
	         " (3, 4, 26, 'pc', 'evil.bin', 'blob', 9, 9, 1795290237000)");
	sql = sqlite3_mprintf("INSERT INTO product_deps(product_id, dep_asset_id, dep_path, dep_kind) VALUES"
	                      " (1, '{%s}:1A', NULL, 'asset'),"
	                      " (1, NULL, 'models/b.mesh', 'product_path'),"
	                      " (1, NULL, 'pc/Evil.bin', 'product_path'),"
	                      " (3, NULL, 'textures/a.dds', 'product_path')",
	                      uuid_evil);
	exec_sql(db, sql);
	sqlite3_free(sql);
	/* A dependency by UUID may come in any case, with braces. */
	char upper[37];
	for (int i = 0; i < 37; i++)
		upper[i] = (uuid_a[i] >= 'a' && uuid_a[i] <= 'f') ? (char)(uuid_a[i] - 'a' + 'A') : uuid_a[i];
	sql = sqlite3_mprintf(
	    "INSERT INTO source_deps(source_id, builder_id, dep_path, dep_uuid) VALUES"
	    " (1, 1, 'models/b.fbx', NULL), (1, 1, 'missing/x.png', NULL), (3, 1, NULL, '{%s}')",
	    upper);
	exec_sql(db, sql);
	sqlite3_free(sql);
	db_close(db);
}

static void test_formatting(void)
{
	char buf[64];
	CHECK_EQ_INT(query_asset_id("0B8C5A7E-1234-5678-9ABC-DEF012345678", 26, buf, sizeof buf), 0);
	CHECK_EQ_STR(buf, "{0b8c5a7e-1234-5678-9abc-def012345678}:1a");
	CHECK_EQ_INT(query_asset_id("0b8c5a7e-1234-5678-9abc-def012345678", -1, buf, sizeof buf), 0);
	CHECK_EQ_STR(buf, "{0b8c5a7e-1234-5678-9abc-def012345678}:ffffffff");
	CHECK_EQ_INT(query_asset_id("0b8c5a7e-1234-5678-9abc-def012345678", 0, buf, 10), -10000 + 2);
	query_iso_time(1795290238123LL, buf);
	CHECK_EQ_STR(buf, "2026-11-21T19:43:58.123Z");
	query_iso_time(0, buf);
	CHECK_EQ_STR(buf, "1970-01-01T00:00:00.000Z");
	query_iso_time(-1, buf);
	CHECK_EQ_STR(buf, "1969-12-31T23:59:59.999Z");
	CHECK(query_is_command("jobs"));
	CHECK(!query_is_command("batch"));
}

static void test_no_database(const kiln_config *cfg)
{
	json_t *v;
	CHECK_EQ_INT(run(cfg, "jobs", "--json", NULL), 0);
	v = out_json();
	CHECK(json_is_array(v) && json_array_size(v) == 0);
	json_decref(v);
	CHECK(strstr(err_buf, "no database yet at ") != NULL);
	CHECK(strstr(err_buf, "run kiln batch first") != NULL);
	CHECK_EQ_INT(run(cfg, "products", "--json", NULL), 0);
	v = out_json();
	CHECK(json_is_array(v) && json_array_size(v) == 0);
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "job", "1", NULL), 1);
	CHECK_EQ_INT(run(cfg, "status", "--json", NULL), 0);
	v = out_json();
	CHECK(json_is_true(json_object_get(v, "ready")));
	CHECK_EQ_INT(jint(v, "jobs_remaining"), 0);
	json_decref(v);
	/* reprocess must not create a database just to say it knows nothing. */
	CHECK_EQ_INT(run(cfg, "reprocess", "textures/a.png", NULL), 1);
	char path[512];
	struct stat sb;
	snprintf(path, sizeof path, "%s/assetdb.sqlite", cfg->cache);
	CHECK(stat(path, &sb) != 0);
	/* A bad regex is a usage error even with nothing to match. */
	CHECK_EQ_INT(run(cfg, "jobs", "--filter", "(", NULL), 2);
}

static void test_jobs(const kiln_config *cfg)
{
	json_t *v, *j;

	CHECK_EQ_INT(run(cfg, "jobs", "--json", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(json_array_size(v), 4);
	j = by_id(v, 1);
	CHECK(j != NULL);
	if (j) {
		char folder[512];
		snprintf(folder, sizeof folder, "%s/Assets", cfg->root);
		CHECK_EQ_STR(jstr(j, "source"), "textures/a.png");
		CHECK_EQ_STR(jstr(j, "scan_folder"), folder);
		CHECK_EQ_STR(jstr(j, "builder"), "copy");
		CHECK_EQ_STR(jstr(j, "job_key"), "copy");
		CHECK_EQ_STR(jstr(j, "platform"), "pc");
		CHECK_EQ_STR(jstr(j, "status"), "completed");
		CHECK(json_is_null(json_object_get(j, "reason")));
		CHECK_EQ_INT(jint(j, "warnings"), 0);
		CHECK_EQ_STR(jstr(j, "completed_at"), "2026-11-21T19:43:58.123Z");
		CHECK_EQ_INT(jint(j, "duration_ms"), 1200);
		CHECK_EQ_STR(jstr(j, "log"), log_path);
		CHECK_EQ_STR(jstr(j, "run_reason"), "new");
		CHECK_EQ_STR(jstr(j, "source_uuid"), uuid_a);
		CHECK(json_is_false(json_object_get(j, "critical")));
	}
	j = by_id(v, 2);
	CHECK(j && jstr(j, "reason") && strcmp(jstr(j, "reason"), "crashed") == 0);
	/* A stale reason on a job that is no longer failed is not shown. */
	j = by_id(v, 4);
	CHECK(j && json_is_null(json_object_get(j, "reason")));
	j = by_id(v, 3);
	CHECK(j && json_is_null(json_object_get(j, "completed_at")) &&
	      json_is_null(json_object_get(j, "log")));
	CHECK(j && json_is_true(json_object_get(j, "critical")) && jint(j, "priority") == 5);
	json_decref(v);

	/* A status word as the filter. */
	CHECK_EQ_INT(run(cfg, "jobs", "--filter", "failed", "--json", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(json_array_size(v), 1);
	CHECK(by_id(v, 2) != NULL);
	json_decref(v);

	/* A regex on the source path. */
	CHECK_EQ_INT(run(cfg, "jobs", "--json", "--filter=^textures/", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(json_array_size(v), 2);
	CHECK(by_id(v, 1) && by_id(v, 2));
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "jobs", "--json", "--filter", "\\.FBX$", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(json_array_size(v), 0);
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "jobs", "--json", "--filter", "(?i)\\.FBX$", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(json_array_size(v), 1);
	json_decref(v);

	/* --status with several words, combined with a regex. */
	CHECK_EQ_INT(run(cfg, "jobs", "--json", "--status", "pending,failed", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(json_array_size(v), 2);
	CHECK(by_id(v, 2) && by_id(v, 3));
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "jobs", "--json", "--status", "pending,failed", "--filter", "^models", NULL),
	             0);
	v = out_json();
	CHECK_EQ_INT(json_array_size(v), 1);
	CHECK(by_id(v, 3) != NULL);
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "jobs", "--status", "pending,done", NULL), 2);
	CHECK(strstr(err_buf, "done") != NULL);

	/* A regex that runs away stops at its limit, quickly, as a usage error. */
	double t0 = now();
	CHECK_EQ_INT(run(cfg, "jobs", "--json", "--filter", "(a+)+$", NULL), 2);
	CHECK(now() - t0 < 2.0);
	CHECK(strstr(err_buf, "filter: regex hit its match limit") != NULL);
	CHECK_EQ_INT(run(cfg, "assets", "--filter", "(a+)+$", NULL), 2);
	CHECK(strstr(err_buf, "filter: regex hit its match limit") != NULL);

	/* A regex that does not compile. */
	CHECK_EQ_INT(run(cfg, "jobs", "--filter", "a(b", NULL), 2);
	CHECK(strstr(err_buf, "filter:") != NULL);

	/* Sorting. */
	CHECK_EQ_INT(run(cfg, "jobs", "--json", "--sort", "duration", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(json_array_size(v), 4);
	CHECK_EQ_INT(jint(json_array_get(v, 0), "id"), 4);
	CHECK_EQ_INT(jint(json_array_get(v, 1), "id"), 1);
	CHECK_EQ_INT(jint(json_array_get(v, 2), "id"), 2);
	CHECK_EQ_INT(jint(json_array_get(v, 3), "id"), 3);
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "jobs", "--json", "--sort", "status", NULL), 0);
	v = out_json();
	CHECK_EQ_STR(jstr(json_array_get(v, 0), "status"), "pending");
	CHECK_EQ_STR(jstr(json_array_get(v, 3), "status"), "failed");
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "jobs", "--json", "--sort", "completed", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(jint(json_array_get(v, 0), "id"), 4);
	CHECK_EQ_INT(jint(json_array_get(v, 1), "id"), 1);
	CHECK_EQ_INT(jint(json_array_get(v, 3), "id"), 3);
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "jobs", "--json", "--sort", "platform", NULL), 0);
	v = out_json();
	CHECK_EQ_STR(jstr(json_array_get(v, 0), "platform"), "linux");
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "jobs", "--json", "--sort", "source", NULL), 0);
	v = out_json();
	CHECK_EQ_STR(jstr(json_array_get(v, 0), "source"), EVIL);
	CHECK_EQ_STR(jstr(json_array_get(v, 1), "source"), "models/b.fbx");
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "jobs", "--sort", "size", NULL), 2);
	CHECK_EQ_INT(run(cfg, "jobs", "--bogus", NULL), 2);
	CHECK_EQ_INT(run(cfg, "jobs", "extra", NULL), 2);

	/* The text table. */
	CHECK_EQ_INT(run(cfg, "jobs", NULL), 0);
	CHECK(strncmp(out_buf, "ID", 2) == 0);
	CHECK(strstr(out_buf, "STATUS") && strstr(out_buf, "JOB_KEY") && strstr(out_buf, "REASON"));
	CHECK(strstr(out_buf, "textures/a.png") != NULL);
	CHECK(strstr(out_buf, "crashed") != NULL);
	CHECK(strstr(out_buf, "1.2 s") != NULL);
}

static void test_job(const kiln_config *cfg)
{
	json_t *v, *lines, *l;

	CHECK_EQ_INT(run(cfg, "job", "1", "--json", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(jint(v, "id"), 1);
	CHECK_EQ_STR(jstr(v, "source"), "textures/a.png");
	CHECK_EQ_STR(jstr(v, "fingerprint"), "ffffffffffffffff");
	CHECK_EQ_STR(jstr(v, "run_reason"), "new");
	lines = json_object_get(v, "lines");
	CHECK_EQ_INT(json_array_size(lines), 4);
	l = json_array_get(lines, 0);
	CHECK_EQ_STR(jstr(l, "level"), "info");
	CHECK_EQ_STR(jstr(l, "source"), "builder");
	CHECK_EQ_STR(jstr(l, "message"), "converting");
	CHECK_EQ_STR(jstr(json_object_get(l, "context"), "size"), "12");
	l = json_array_get(lines, 1);
	CHECK_EQ_STR(jstr(l, "level"), "info");
	CHECK_EQ_STR(jstr(l, "source"), "log");
	CHECK_EQ_STR(jstr(l, "message"), "not json at all");
	CHECK(json_is_object(json_object_get(l, "context")) &&
	      json_object_size(json_object_get(l, "context")) == 0);
	l = json_array_get(lines, 2);
	CHECK_EQ_STR(jstr(l, "level"), "warning");
	CHECK_EQ_STR(jstr(json_object_get(l, "context"), "n"), "3");
	l = json_array_get(lines, 3);
	CHECK_EQ_STR(jstr(l, "message"), "bad \xef\xbf\xbd\xef\xbf\xbd bytes");
	json_decref(v);

	/* A failed job: exit 1, and a missing log file is no lines. */
	CHECK_EQ_INT(run(cfg, "job", "2", "--json", NULL), 1);
	v = out_json();
	CHECK_EQ_STR(jstr(v, "reason"), "crashed");
	CHECK(json_is_null(json_object_get(v, "fingerprint")));
	CHECK(json_is_array(json_object_get(v, "lines")) &&
	      json_array_size(json_object_get(v, "lines")) == 0);
	json_decref(v);

	CHECK_EQ_INT(run(cfg, "job", "999", NULL), 1);
	CHECK(strstr(err_buf, "999") != NULL);
	CHECK_EQ_INT(run(cfg, "job", "abc", NULL), 2);
	CHECK(strstr(err_buf, "abc") != NULL);
	CHECK_EQ_INT(run(cfg, "job", "1x", NULL), 2);
	CHECK_EQ_INT(run(cfg, "job", NULL), 2);
	CHECK_EQ_INT(run(cfg, "job", "1", "2", NULL), 2);

	CHECK_EQ_INT(run(cfg, "job", "1", NULL), 0);
	CHECK(strstr(out_buf, "converting") != NULL);
	CHECK(strstr(out_buf, "size: 12") != NULL);
}

static void test_assets(const kiln_config *cfg)
{
	json_t *v, *j;
	char id[64], arg[600];

	CHECK_EQ_INT(run(cfg, "assets", "--json", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(json_array_size(v), 3);
	j = json_array_get(v, 2);
	CHECK_EQ_STR(jstr(j, "source"), "textures/a.png");
	CHECK_EQ_STR(jstr(j, "uuid"), uuid_a);
	CHECK(jstr(j, "scan_folder") != NULL);
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "assets", "--json", "--filter", "\\.fbx$", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(json_array_size(v), 1);
	json_decref(v);

	/* One asset, with a failed job: exit 1 but the answer is printed. */
	CHECK_EQ_INT(run(cfg, "asset", "textures/a.png", "--json", NULL), 1);
	v = out_json();
	CHECK_EQ_STR(jstr(v, "uuid"), uuid_a);
	snprintf(id, sizeof id, "{%s}:0", uuid_a);
	CHECK(has_str(json_object_get(v, "products"), id));
	snprintf(id, sizeof id, "{%s}:ffffffff", uuid_a);
	CHECK(has_str(json_object_get(v, "products"), id));
	CHECK_EQ_INT(json_array_size(json_object_get(v, "products")), 2);
	CHECK(has_str(json_object_get(v, "depends_on"), "models/b.fbx"));
	CHECK(has_str(json_object_get(v, "depends_on"), "missing/x.png"));
	CHECK(has_str(json_object_get(v, "depended_on_by"), EVIL));
	CHECK_EQ_INT(json_array_size(json_object_get(v, "jobs")), 2);
	j = by_id(json_object_get(v, "jobs"), 2);
	CHECK(j && strcmp(jstr(j, "status"), "failed") == 0 && strcmp(jstr(j, "platform"), "linux") == 0);
	json_decref(v);

	/* The same source by UUID (braced, upper case), absolute path, path
	 * from the project root, and case-insensitive relative path. */
	snprintf(arg, sizeof arg, "{%s}", uuid_a);
	for (char *p = arg; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	const char *forms[4];
	char abs[600], fromroot[] = "Assets/textures/a.png";
	snprintf(abs, sizeof abs, "%s/Assets/./textures/a.png", cfg->root);
	forms[0] = arg;
	forms[1] = abs;
	forms[2] = fromroot;
	forms[3] = "Textures/A.png";
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(run(cfg, "asset", forms[i], "--json", NULL), 1);
		v = out_json();
		CHECK_EQ_STR(jstr(v, "source"), "textures/a.png");
		json_decref(v);
	}
	/* Relative to the current directory. */
	char cwd[600];
	if (getcwd(cwd, sizeof cwd) && chdir(cfg->root) == 0) {
		CHECK_EQ_INT(run(cfg, "asset", "Assets/models/b.fbx", "--json", NULL), 0);
		v = out_json();
		CHECK_EQ_STR(jstr(v, "source"), "models/b.fbx");
		CHECK(has_str(json_object_get(v, "depended_on_by"), "textures/a.png"));
		json_decref(v);
		CHECK_EQ_INT(chdir(cwd), 0);
	}
	CHECK_EQ_INT(run(cfg, "asset", "nothing/here.png", NULL), 1);
	CHECK(strstr(err_buf, "nothing/here.png") != NULL);
	CHECK_EQ_INT(run(cfg, "asset", NULL), 2);
	CHECK_EQ_INT(run(cfg, "asset", "models/b.fbx", NULL), 0);
	CHECK(strstr(out_buf, uuid_b) != NULL);
}

static void test_products(const kiln_config *cfg)
{
	json_t *v, *j;
	char id[64], id_evil[64];

	snprintf(id_evil, sizeof id_evil, "{%s}:1a", uuid_evil);
	CHECK_EQ_INT(run(cfg, "products", "--json", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(json_array_size(v), 3);
	j = json_array_get(v, 0);
	CHECK_EQ_STR(jstr(j, "path"), "evil.bin");
	CHECK_EQ_STR(jstr(j, "asset_id"), id_evil);
	CHECK_EQ_STR(jstr(j, "platform"), "pc");
	CHECK_EQ_STR(jstr(j, "source"), EVIL);
	CHECK_EQ_INT(jint(j, "job_id"), 4);
	CHECK_EQ_INT(jint(j, "sub_id"), 26);
	CHECK_EQ_STR(jstr(j, "asset_type"), "blob");
	CHECK_EQ_INT(jint(j, "size"), 9);
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "products", "--json", "--filter", "\\.dds$", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(json_array_size(v), 1);
	json_decref(v);

	/* One product by "<platform>/path", with its dependencies. */
	CHECK_EQ_INT(run(cfg, "product", "pc/textures/a.dds", "--json", NULL), 0);
	v = out_json();
	snprintf(id, sizeof id, "{%s}:0", uuid_a);
	CHECK_EQ_STR(jstr(v, "asset_id"), id);
	CHECK_EQ_STR(jstr(v, "built_at"), "2026-11-21T19:43:58.123Z");
	CHECK_EQ_STR(jstr(v, "job_key"), "copy");
	CHECK(has_dep(json_object_get(v, "dependencies"), id_evil, "evil.bin"));
	/* Named by asset id and by path: one dependency, listed once. */
	CHECK_EQ_INT(json_array_size(json_object_get(v, "dependencies")), 1);
	CHECK(has_str(json_object_get(v, "unmet"), "models/b.mesh"));
	CHECK_EQ_INT(json_array_size(json_object_get(v, "unmet")), 1);
	CHECK(has_dep(json_object_get(v, "dependants"), id_evil, "evil.bin"));
	json_decref(v);

	/* By asset id, and by path relative to Cache/<platform>/. */
	CHECK_EQ_INT(run(cfg, "product", id_evil, "--json", NULL), 0);
	v = out_json();
	CHECK_EQ_STR(jstr(v, "path"), "evil.bin");
	CHECK(has_dep(json_object_get(v, "dependants"), id, "textures/a.dds"));
	json_decref(v);
	snprintf(id, sizeof id, "%s:FFFFFFFF", uuid_a);
	CHECK_EQ_INT(run(cfg, "product", id, "--json", NULL), 0);
	v = out_json();
	CHECK_EQ_STR(jstr(v, "path"), "textures/a.meta");
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "product", "Textures/A.dds", "--json", NULL), 0);
	v = out_json();
	CHECK_EQ_STR(jstr(v, "path"), "textures/a.dds");
	json_decref(v);
	char abs[600];
	snprintf(abs, sizeof abs, "%s/pc/evil.bin", cfg->cache);
	CHECK_EQ_INT(run(cfg, "product", abs, "--json", NULL), 0);
	CHECK_EQ_INT(run(cfg, "product", "textures/a.dds", "--platform", "linux", NULL), 1);
	CHECK_EQ_INT(run(cfg, "product", "pc/none.bin", NULL), 1);
	CHECK_EQ_INT(run(cfg, "product", "textures/a.dds", NULL), 0);
	CHECK(strstr(out_buf, "models/b.mesh") != NULL);
}

/* How many rows cmd --filter filter lists (its total with --limit). */
static long long listed(const kiln_config *cfg, const char *cmd, const char *filter, const char *limit)
{
	json_t *v = limit ? ask(cfg, 0, cmd, "--filter", filter, "--limit", limit, NULL)
	                  : ask(cfg, 0, cmd, "--filter", filter, NULL);
	long long n = limit ? jint(v, "total") : (long long)json_array_size(v);
	json_decref(v);
	return n;
}

/* The key of the one row cmd --filter filter lists, or "(not one row)". */
static const char *only_row(const kiln_config *cfg, const char *cmd, const char *filter, const char *key)
{
	static char buf[300];
	json_t *v = ask(cfg, 0, cmd, "--filter", filter, NULL);
	snprintf(buf, sizeof buf, "%s",
	         json_array_size(v) == 1 && jstr(json_array_get(v, 0), key) ? jstr(json_array_get(v, 0), key)
	                                                                    : "(not one row)");
	json_decref(v);
	return buf;
}

/* --filter matches ids as well as paths (issue 13, item 5): a product's
 * source uuid and asset id, a source's uuid, a job's source uuid, through
 * query_json() as the dashboard's search asks, paged or not. */
static void test_filter_ids(const kiln_config *cfg)
{
	char prefix[9], upper[9], re[80];
	json_t *v;

	snprintf(prefix, sizeof prefix, "%.8s", uuid_a);
	for (int i = 0; i < 9; i++)
		upper[i] = (prefix[i] >= 'a' && prefix[i] <= 'f') ? (char)(prefix[i] - 'a' + 'A') : prefix[i];
	CHECK_EQ_INT(listed(cfg, "products", prefix, NULL), 2);
	CHECK_EQ_INT(listed(cfg, "products", prefix, "10"), 2);
	snprintf(re, sizeof re, "^%s$", uuid_a);
	CHECK_EQ_INT(listed(cfg, "products", re, NULL), 2);
	snprintf(re, sizeof re, "^\\{%s\\}:1a$", uuid_evil);
	CHECK_EQ_STR(only_row(cfg, "products", re, "path"), "evil.bin");
	/* An asset id pasted as it is: its braces are no quantifier. */
	snprintf(re, sizeof re, "{%s}:1a", uuid_evil);
	CHECK_EQ_STR(only_row(cfg, "products", re, "path"), "evil.bin");
	/* A sub id stored sign-extended reads as the listing writes it. */
	snprintf(re, sizeof re, "^\\{%s\\}:ffffffff$", uuid_a);
	CHECK_EQ_STR(only_row(cfg, "products", re, "path"), "textures/a.meta");
	/* Ids are lowercase; (?i) ignores case. */
	CHECK_EQ_INT(listed(cfg, "products", upper, NULL), 0);
	snprintf(re, sizeof re, "(?i)%s", upper);
	CHECK_EQ_INT(listed(cfg, "products", re, NULL), 2);

	CHECK_EQ_STR(only_row(cfg, "assets", uuid_b, "source"), "models/b.fbx");
	CHECK_EQ_INT(listed(cfg, "assets", prefix, "10"), 1);

	v = ask(cfg, 0, "jobs", "--filter", prefix, NULL);
	CHECK_EQ_INT(json_array_size(v), 2);
	CHECK(by_id(v, 1) && by_id(v, 2));
	json_decref(v);
	CHECK_EQ_INT(listed(cfg, "jobs", prefix, "10"), 2);
	/* Not the job id: kiln job ID finds that. */
	CHECK_EQ_INT(listed(cfg, "jobs", "^4$", NULL), 0);

	/* More columns, the same limits. */
	CHECK_EQ_INT(run(cfg, "products", "--filter", "(a+)+$", NULL), 2);
	CHECK(strstr(err_buf, "filter: regex hit its match limit") != NULL);
}

static void test_builders_status(const kiln_config *cfg)
{
	json_t *v, *b, *m;

	CHECK_EQ_INT(run(cfg, "builders", "--json", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(json_array_size(v), 1);
	b = json_array_get(v, 0);
	CHECK_EQ_STR(jstr(b, "name"), "copy");
	CHECK_EQ_STR(jstr(b, "uuid"), "11111111-1111-5111-8111-111111111111");
	CHECK_EQ_STR(jstr(b, "version"), "1.2");
	CHECK_EQ_STR(jstr(b, "analysis_fingerprint"), "fp1");
	CHECK_EQ_STR(jstr(b, "type"), "internal");
	CHECK(has_str(json_object_get(b, "patterns"), "*.fbx"));
	m = json_object_get(b, "metrics");
	CHECK_EQ_INT(jint(m, "jobs"), 4);
	CHECK_EQ_INT(jint(m, "create_jobs_count"), 4);
	CHECK_EQ_INT(jint(m, "create_jobs_total_ms"), 10);
	CHECK(json_real_value(json_object_get(m, "create_jobs_avg_ms")) == 2.5);
	CHECK_EQ_INT(jint(m, "process_job_total_ms"), 8);
	CHECK(json_real_value(json_object_get(m, "process_job_avg_ms")) == 2.5);
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "builders", "--all", "--json", NULL), 0);
	v = out_json();
	CHECK_EQ_INT(json_array_size(v), 2);
	CHECK_EQ_STR(jstr(json_array_get(v, 1), "type"), "external");
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "builders", NULL), 0);
	CHECK(strstr(out_buf, "copy") != NULL && strstr(out_buf, "*.png") != NULL);

	CHECK_EQ_INT(run(cfg, "status", "--json", NULL), 0);
	v = out_json();
	CHECK_EQ_STR(jstr(v, "state"), "idle");
	CHECK(json_is_false(json_object_get(v, "ready")));
	CHECK_EQ_INT(jint(v, "jobs_active"), 0);
	CHECK_EQ_INT(jint(v, "jobs_remaining"), 1);
	CHECK(json_is_null(json_object_get(v, "last_scan_ms")));
	CHECK_EQ_STR(jstr(v, "project"), "demo");
	CHECK(jstr(v, "control") && strstr(jstr(v, "control"), "/Cache/kiln.sock") != NULL);
	CHECK(json_is_false(json_object_get(v, "running")));
	json_decref(v);
	CHECK_EQ_INT(run(cfg, "status", NULL), 0);
	CHECK(strstr(out_buf, "idle") != NULL);
}

static int requested_count(const kiln_config *cfg)
{
	kdb *db = NULL;
	char err[256], path[512];
	sqlite3_stmt *st = NULL;
	int n = -1;
	snprintf(path, sizeof path, "%s/assetdb.sqlite", cfg->cache);
	if (db_open(path, true, &db, err, sizeof err) != 0)
		return -1;
	if (sqlite3_prepare_v2(db->h, "SELECT group_concat(id) FROM jobs WHERE requested = 1", -1, &st,
	                       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		n = 0;
		for (; s && *s; s++)
			n += *s != ',';
	}
	sqlite3_finalize(st);
	db_close(db);
	return n;
}

static void test_reprocess(const kiln_config *cfg)
{
	CHECK_EQ_INT(requested_count(cfg), 0);
	/* An unknown name anywhere marks nothing. */
	CHECK_EQ_INT(run(cfg, "reprocess", "textures/a.png", "no/such.png", NULL), 1);
	CHECK(strstr(err_buf, "no/such.png") != NULL);
	CHECK_EQ_INT(requested_count(cfg), 0);
	CHECK_EQ_INT(run(cfg, "reprocess", NULL), 2);

	CHECK_EQ_INT(run(cfg, "reprocess", "textures/a.png", "Assets/textures/a.png", NULL), 0);
	CHECK(strstr(out_buf, "2 jobs of 1 source will run again at the next kiln batch") != NULL);
	CHECK_EQ_INT(requested_count(cfg), 2);
	CHECK_EQ_INT(run(cfg, "reprocess", uuid_b, "--json", NULL), 0);
	json_t *v = out_json();
	CHECK_EQ_INT(jint(v, "jobs"), 1);
	CHECK_EQ_INT(jint(v, "sources"), 1);
	json_decref(v);
	CHECK_EQ_INT(requested_count(cfg), 3);
}

/* ---- the dependency graph ---- */

/* A level naming a model and a texture by source path (the way kiln-refs
 * names them), a model naming its texture in another case, two sources
 * whose products name each other, one source that names the sky by
 * create_jobs, a hub that 1,100 products depend on, a hub of 300 with 20
 * dependants each, and a chain of 40. */
static void fill_graph_db(const kiln_config *cfg)
{
	kdb *db = NULL;
	char err[512], path[512], *sql;

	snprintf(path, sizeof path, "%s/assetdb.sqlite", cfg->cache);
	CHECK_EQ_INT(db_open(path, false, &db, err, sizeof err), 0);
	if (!db)
		return;
	exec_sql(db, "INSERT INTO builders(id, exec, name, uuid, version) VALUES"
	             " (1, 'kiln-refs', 'refs', '11111111-1111-5111-8111-111111111111', '1')");
	sql = sqlite3_mprintf(
	    "INSERT INTO sources(id, uuid, scan_folder, path, size, mtime_ns, hash) VALUES"
	    " (1, '" UUID(
	        01) "', '%q/Assets', 'levels/level1.xml', 1, 0, 1),"
	            " (2, '" UUID(
	                02) "', '%q/Assets', 'models/crate.obj', 1, 0, 1),"
	                    " (3, '" UUID(
	                        03) "', '%q/Assets', 'textures/Crate.png', 1, 0, 1),"
	                            " (4, '" UUID(
	                                04) "', '%q/Assets', 'textures/sky.jpg', 1, 0, 1),"
	                                    " (5, '" UUID(
	                                        05) "', '%q/Assets', 'loop/a.dep', 1, 0, 1),"
	                                            " (6, '" UUID(
	                                                06) "', '%q/Assets', 'loop/b.dep', 1, 0, 1),"
	                                                    " (7, '" UUID(
	                                                        07) "', '%q/Assets', 'other.txt', 1, 0, 1),"
	                                                            " (8, '" UUID(
	                                                                08) "', '%q/Assets', 'fan.dep', 1, "
	                                                                    "0, 1),"
	                                                                    " (9, '" UUID(
	                                                                        09) "', '%q/Assets', "
	                                                                            "'hub.png', 1, 0, 1)",
	    cfg->root, cfg->root, cfg->root, cfg->root, cfg->root, cfg->root, cfg->root, cfg->root,
	    cfg->root);
	exec_sql(db, sql);
	sqlite3_free(sql);
	exec_sql(db, "INSERT INTO jobs(id, source_id, builder_id, job_key, platform, status) VALUES"
	             " (1, 1, 1, 'refs', 'pc', 'completed'), (2, 1, 1, 'refs', 'linux', 'completed'),"
	             " (3, 2, 1, 'refs', 'pc', 'completed'), (4, 2, 1, 'refs', 'linux', 'completed'),"
	             " (5, 3, 1, 'refs', 'pc', 'completed'), (6, 3, 1, 'refs', 'linux', 'completed'),"
	             " (7, 4, 1, 'refs', 'pc', 'completed'), (8, 5, 1, 'refs', 'pc', 'completed'),"
	             " (9, 6, 1, 'refs', 'pc', 'completed'), (10, 7, 1, 'refs', 'pc', 'completed'),"
	             " (11, 8, 1, 'refs', 'pc', 'completed'), (12, 9, 1, 'refs', 'pc', 'completed')");
	exec_sql(
	    db, "INSERT INTO products(id, job_id, sub_id, platform, path, size, hash) VALUES"
	        " (1, 1, 0, 'pc', 'levels/level1.xml', 1, 1), (2, 2, 0, 'linux', 'levels/level1.xml', 1, 1),"
	        " (3, 3, 0, 'pc', 'models/crate.mesh', 1, 1), (4, 3, 1, 'pc', 'models/crate.meta', 1, 1),"
	        " (5, 4, 0, 'linux', 'models/crate.mesh', 1, 1), (6, 5, 0, 'pc', 'textures/crate.dds', 1, 1),"
	        " (7, 6, 0, 'linux', 'textures/crate.ktx', 1, 1), (8, 7, 0, 'pc', 'textures/sky.dds', 1, 1),"
	        " (9, 8, 0, 'pc', 'loop/a.out', 1, 1), (10, 9, 0, 'pc', 'loop/b.out', 1, 1),"
	        " (11, 10, 0, 'pc', 'other.txt', 1, 1), (12, 12, 0, 'pc', 'hub.dds', 1, 1)");
	exec_sql(
	    db, "INSERT INTO product_deps(product_id, dep_asset_id, dep_path, dep_kind) VALUES"
	        " (1, NULL, 'models/crate.obj', 'source_path'), (1, NULL, 'textures/sky.jpg', 'source_path'),"
	        " (1, NULL, 'missing/none.png', 'source_path'),"
	        " (2, NULL, 'models/crate.obj', 'source_path'),"
	        " (3, NULL, 'textures/crate.png', 'source_path'),"
	        " (5, NULL, 'textures/crate.png', 'source_path'),"
	        " (9, NULL, 'loop/b.dep', 'source_path'), (10, NULL, 'loop/a.dep', 'source_path'),"
	        " (11, '" ID(04) ":0', NULL, 'asset'), (11, NULL, 'pc/Textures/Sky.dds', 'product_path')");
	exec_sql(db, "INSERT INTO source_deps(source_id, builder_id, dep_path, dep_uuid) VALUES"
	             " (7, 1, 'textures/sky.jpg', NULL)");
	/* The fan: 1,100 products of one job, each depending on hub.png. */
	exec_sql(db, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1099)"
	             " INSERT INTO products(id, job_id, sub_id, platform, path, size, hash)"
	             " SELECT 1000 + i, 11, i, 'pc', printf('fan/%04d.out', i), 1, 1 FROM n");
	exec_sql(db, "INSERT INTO product_deps(product_id, dep_asset_id, dep_path, dep_kind)"
	             " SELECT id, NULL, 'hub.png', 'source_path' FROM products WHERE job_id = 11");
	/* A wider fan: 300 products on hub2.png, each with 20 dependants of
	 * its own by asset id, 6,300 products in all. */
	exec_sql(db, "INSERT INTO sources(id, uuid, scan_folder, path, size, mtime_ns, hash) VALUES"
	             " (10, '" UUID(10) "', '/x', 'hub2.png', 1, 0, 1), (11, '" UUID(
	                 11) "', '/x', 'fan2.dep', 1, 0, 1),"
	                     " (12, '" UUID(12) "', '/x', 'leaf.dep', 1, 0, 1)");
	exec_sql(db, "INSERT INTO jobs(id, source_id, builder_id, job_key, platform, status) VALUES"
	             " (13, 10, 1, 'refs', 'pc', 'completed'), (14, 11, 1, 'refs', 'pc', 'completed'),"
	             " (15, 12, 1, 'refs', 'pc', 'completed')");
	exec_sql(db, "INSERT INTO products(id, job_id, sub_id, platform, path, size, hash)"
	             " VALUES (13, 13, 0, 'pc', 'hub2.dds', 1, 1)");
	exec_sql(db, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 299)"
	             " INSERT INTO products(id, job_id, sub_id, platform, path, size, hash)"
	             " SELECT 3000 + i, 14, i, 'pc', printf('fan2/%03d.out', i), 1, 1 FROM n");
	exec_sql(db, "INSERT INTO product_deps(product_id, dep_asset_id, dep_path, dep_kind)"
	             " SELECT id, NULL, 'hub2.png', 'source_path' FROM products WHERE job_id = 14");
	exec_sql(db, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 5999)"
	             " INSERT INTO products(id, job_id, sub_id, platform, path, size, hash)"
	             " SELECT 10000 + i, 15, i, 'pc', printf('leaf/%05d.out', i), 1, 1 FROM n");
	exec_sql(db, "INSERT INTO product_deps(product_id, dep_asset_id, dep_path, dep_kind)"
	             " SELECT id, printf('" ID(
	                 11) ":%x', sub_id / 20), NULL, 'asset' FROM products WHERE job_id = 15");
	/* 1,100 dependencies that name nothing, then one on target.png. */
	exec_sql(db, "INSERT INTO sources(id, uuid, scan_folder, path, size, mtime_ns, hash) VALUES"
	             " (13, '" UUID(13) "', '/x', 'many.dep', 1, 0, 1), (14, '" UUID(
	                 14) "', '/x', 'target.png', 1, 0, 1)");
	exec_sql(db,
	         "INSERT INTO jobs(id, source_id, builder_id, job_key, platform, status)"
	         " VALUES (16, 13, 1, 'refs', 'pc', 'completed'), (17, 14, 1, 'refs', 'pc', 'completed')");
	exec_sql(db, "INSERT INTO products(id, job_id, sub_id, platform, path, size, hash)"
	             " VALUES (14, 16, 0, 'pc', 'many.out', 1, 1), (15, 17, 0, 'pc', 'target.dds', 1, 1)");
	exec_sql(db, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1099)"
	             " INSERT INTO product_deps(product_id, dep_asset_id, dep_path, dep_kind)"
	             " SELECT 14, NULL, printf('gone/%04d.png', i), 'source_path' FROM n");
	exec_sql(db, "INSERT INTO product_deps(product_id, dep_asset_id, dep_path, dep_kind)"
	             " VALUES (14, NULL, 'target.png', 'source_path')");
	/* The chain: c00 -> c01 -> ... -> c39, by source path. */
	exec_sql(db, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 39)"
	             " INSERT INTO sources(id, uuid, scan_folder, path, size, mtime_ns, hash)"
	             " SELECT 100 + i, printf('00000000-0000-5000-8000-0000000001%02d', i), '/x',"
	             " printf('chain/c%02d.dep', i), 1, 0, 1 FROM n");
	exec_sql(db, "INSERT INTO jobs(id, source_id, builder_id, job_key, platform, status)"
	             " SELECT id, id, 1, 'refs', 'pc', 'completed' FROM sources WHERE id >= 100");
	exec_sql(
	    db,
	    "INSERT INTO products(id, job_id, sub_id, platform, path, size, hash)"
	    " SELECT id, id, 0, 'pc', printf('chain/c%02d.out', id - 100), 1, 1 FROM jobs WHERE id >= 100");
	exec_sql(db, "INSERT INTO product_deps(product_id, dep_asset_id, dep_path, dep_kind)"
	             " SELECT id, NULL, printf('chain/c%02d.dep', id - 99), 'source_path' FROM products"
	             " WHERE id >= 100 AND id < 139");
	db_close(db);
}

/* Each list of an answer at depth 1, as paths(): by source path every
 * product of the source on the product's platform (a source path in
 * another case than the source's finds it), what names no source unmet;
 * dependants by source path, asset id and product path, each once, on the
 * product's platform only (linux/levels/level1.xml names the sky's source
 * too, but has no sky to depend on); sources named by source path or by
 * create_jobs, both ways. */
static void test_deps_lists(const kiln_config *cfg)
{
	static const struct {
		const char *cmd, *arg, *key, *want;
	} lists[] = {
	    {"product", "pc/levels/level1.xml", "dependencies",
	     "pc/models/crate.mesh pc/models/crate.meta pc/textures/sky.dds"},
	    {"product", "pc/levels/level1.xml", "unmet", "missing/none.png"},
	    {"product", "pc/levels/level1.xml", "source_dependencies", "models/crate.obj textures/sky.jpg"},
	    {"product", "pc/levels/level1.xml", "dependants", ""},
	    {"product", "linux/levels/level1.xml", "dependencies", "linux/models/crate.mesh"},
	    {"product", "linux/models/crate.mesh", "dependencies", "linux/textures/crate.ktx"},
	    {"product", "linux/models/crate.mesh", "dependants", "linux/levels/level1.xml"},
	    {"product", "pc/textures/sky.dds", "dependants", "pc/levels/level1.xml pc/other.txt"},
	    {"product", "pc/other.txt", "dependencies", "pc/textures/sky.dds"},
	    {"product", "pc/textures/crate.dds", "dependants", "pc/models/crate.mesh"},
	    {"asset", "textures/sky.jpg", "depended_on_by", "levels/level1.xml other.txt"},
	    {"asset", "textures/Crate.png", "depended_on_by", "models/crate.obj"},
	    {"asset", "levels/level1.xml", "depends_on",
	     "missing/none.png models/crate.obj textures/sky.jpg"},
	    {"asset", "other.txt", "depends_on", "textures/sky.jpg"},
	};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		json_t *v = ask(cfg, 0, lists[i].cmd, lists[i].arg, NULL);
		const char *got = paths(json_object_get(v, lists[i].key));
		if (strcmp(got, lists[i].want) != 0)
			fprintf(stderr, "%s %s: %s\n", lists[i].cmd, lists[i].arg, lists[i].key);
		CHECK_EQ_STR(got, lists[i].want);
		json_decref(v);
	}

	/* Each entry names its asset id and path; nothing nested at depth 1,
	 * and nothing cut (1,100 dependants). */
	json_t *v = ask(cfg, 0, "product", "pc/levels/level1.xml", NULL);
	json_t *e = entry(v, "dependencies", 0);
	CHECK_EQ_STR(jstr(e, "asset_id"), ID(02) ":0");
	CHECK_EQ_STR(jstr(e, "platform"), "pc");
	CHECK_EQ_STR(jstr(e, "path"), "models/crate.mesh");
	CHECK_EQ_STR(jstr(e, "source"), "models/crate.obj");
	CHECK(json_object_get(e, "dependencies") == NULL);
	CHECK_EQ_STR(jstr(entry(v, "dependencies", 1), "asset_id"), ID(02) ":1");
	json_decref(v);
	v = ask(cfg, 0, "product", "pc/hub.dds", NULL);
	CHECK_EQ_INT(json_array_size(json_object_get(v, "dependants")), 1100);
	CHECK(json_object_get(v, "truncated") == NULL);
	json_decref(v);
}

static void test_deps_tree(const kiln_config *cfg)
{
	json_t *v, *e;

	v = ask(cfg, 0, "product", "pc/levels/level1.xml", "--depth", "3", NULL);
	e = entry(v, "dependencies", 0);
	CHECK_EQ_STR(jstr(e, "path"), "models/crate.mesh");
	CHECK_EQ_STR(paths(json_object_get(e, "dependencies")), "pc/textures/crate.dds");
	/* Level 2 is followed once more; level 3 is the last. */
	json_t *tex = entry(e, "dependencies", 0);
	CHECK(json_is_array(json_object_get(tex, "dependencies")) &&
	      json_array_size(json_object_get(tex, "dependencies")) == 0);
	CHECK(json_is_array(json_object_get(entry(v, "dependencies", 1), "dependencies")));
	CHECK_EQ_STR(paths(json_object_get(v, "unmet")), "missing/none.png");
	json_decref(v);

	/* Dependants the same way up. */
	v = ask(cfg, 0, "product", "pc/textures/crate.dds", "--depth", "2", NULL);
	e = entry(v, "dependants", 0);
	CHECK_EQ_STR(jstr(e, "path"), "models/crate.mesh");
	CHECK_EQ_STR(paths(json_object_get(e, "dependants")), "pc/levels/level1.xml");
	CHECK(json_object_get(entry(e, "dependants", 0), "dependants") == NULL);
	json_decref(v);

	/* A cycle ends: the entry that is its own ancestor is marked. */
	v = ask(cfg, 0, "product", "pc/loop/a.out", "--depth", "all", NULL);
	e = entry(v, "dependencies", 0);
	CHECK_EQ_STR(jstr(e, "path"), "loop/b.out");
	json_t *back = entry(e, "dependencies", 0);
	CHECK_EQ_STR(jstr(back, "path"), "loop/a.out");
	CHECK(json_is_true(json_object_get(back, "cycle")));
	CHECK(json_object_get(back, "dependencies") == NULL);
	CHECK_EQ_INT(json_array_size(json_object_get(e, "dependencies")), 1);
	CHECK(json_object_get(v, "truncated") == NULL);
	e = entry(v, "dependants", 0);
	CHECK_EQ_STR(jstr(e, "path"), "loop/b.out");
	CHECK(json_is_true(json_object_get(entry(e, "dependants", 0), "cycle")));
	json_decref(v);

	/* A wide tree stops at Q_TREE_MAX entries. */
	v = ask(cfg, 0, "product", "pc/hub.dds", "--depth", "2", NULL);
	CHECK_EQ_INT(json_array_size(json_object_get(v, "dependants")), 1000);
	CHECK(json_is_true(json_object_get(v, "truncated")));
	json_decref(v);

	/* What a tree leaves unmet is all of it, and an entry after 1,100
	 * that name nothing is still found. */
	v = ask(cfg, 0, "product", "pc/many.out", "--depth", "2", NULL);
	CHECK_EQ_STR(paths(json_object_get(v, "dependencies")), "pc/target.dds");
	CHECK_EQ_INT(json_array_size(json_object_get(v, "unmet")), 1100);
	json_decref(v);

	/* A tree whose reads find more than it can show holds what it shows
	 * and no more. */
	v = ask(cfg, 0, "product", "pc/hub2.dds", "--depth", "3", NULL);
	CHECK(json_is_true(json_object_get(v, "truncated")));
	CHECK_EQ_INT(count_entries(json_object_get(v, "dependants"), "dependants"), 1000);
	e = entry(v, "dependants", 0);
	CHECK_EQ_STR(jstr(e, "path"), "fan2/000.out");
	CHECK_EQ_INT(json_array_size(json_object_get(e, "dependants")), 20);
	CHECK_EQ_STR(jstr(entry(e, "dependants", 19), "path"), "leaf/00019.out");
	CHECK(json_is_array(json_object_get(entry(e, "dependants", 0), "dependants")));
	json_decref(v);

	/* A deep one at Q_DEPTH_MAX levels: the last entry says there is
	 * more; asked for exactly that depth, nothing is cut. */
	v = ask(cfg, 0, "product", "pc/chain/c00.out", "--depth", "0", NULL);
	e = entry(v, "dependencies", 0);
	for (int level = 1; level < 32 && e; level++)
		e = entry(e, "dependencies", 0);
	CHECK_EQ_STR(jstr(e, "path"), "chain/c32.out");
	CHECK(json_is_true(json_object_get(e, "truncated")));
	CHECK(json_object_get(e, "dependencies") == NULL);
	CHECK(json_is_true(json_object_get(v, "truncated")));
	json_decref(v);
	v = ask(cfg, 0, "product", "pc/chain/c00.out", "--depth", "32", NULL);
	CHECK(json_object_get(v, "truncated") == NULL);
	json_decref(v);
	v = ask(cfg, 0, "product", "pc/chain/c39.out", "--depth", "all", NULL);
	e = entry(v, "dependants", 0);
	CHECK_EQ_STR(jstr(e, "path"), "chain/c38.out");
	json_decref(v);

	/* --depth takes 0, all, or 1 to 32. */
	const char *bad[] = {"33", "-1", "x", "", "2x", "99999999999999999999"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = ask(cfg, 2, "product", "pc/hub.dds", "--depth", bad[i], NULL);
		CHECK(v == NULL);
	}
	v = ask(cfg, 2, "asset", "hub.png", "--depth", "33", NULL);
	CHECK(v == NULL);
}

static void test_deps_asset_tree(const kiln_config *cfg)
{
	json_t *v, *e;

	/* As a tree: objects, with their own entries. */
	v = ask(cfg, 0, "asset", "levels/level1.xml", "--depth", "2", NULL);
	e = entry(v, "depends_on", 0);
	CHECK_EQ_STR(jstr(e, "source"), "missing/none.png");
	CHECK(json_is_null(json_object_get(e, "uuid")) && !json_object_get(e, "depends_on"));
	e = entry(v, "depends_on", 1);
	CHECK_EQ_STR(jstr(e, "source"), "models/crate.obj");
	CHECK_EQ_STR(jstr(e, "uuid"), UUID(02));
	CHECK_EQ_STR(paths(json_object_get(e, "depends_on")), "textures/Crate.png");
	CHECK(!json_object_get(entry(e, "depends_on", 0), "depends_on"));
	json_decref(v);
	v = ask(cfg, 0, "asset", "loop/b.dep", "--depth", "all", NULL);
	e = entry(v, "depended_on_by", 0);
	CHECK_EQ_STR(jstr(e, "source"), "loop/a.dep");
	CHECK(json_is_true(json_object_get(entry(e, "depended_on_by", 0), "cycle")));
	json_decref(v);
	v = ask(cfg, 0, "asset", "chain/c00.dep", "--depth", "all", NULL);
	CHECK(json_is_true(json_object_get(v, "truncated")));
	json_decref(v);
}

static void test_deps_text(const kiln_config *cfg)
{
	CHECK_EQ_INT(run(cfg, "product", "pc/loop/a.out", "--depth", "all", NULL), 0);
	CHECK(strstr(out_buf, "  dependencies\n    " ID(06) ":0  pc/loop/b.out\n      " ID(
	                          05) ":0  pc/loop/a.out  (cycle)\n") != NULL);
	CHECK_EQ_INT(run(cfg, "asset", "levels/level1.xml", "--depth", "2", NULL), 0);
	CHECK(
	    strstr(out_buf,
	           "  depends on\n    missing/none.png\n    models/crate.obj\n      textures/Crate.png\n") !=
	    NULL);
	CHECK_EQ_INT(run(cfg, "asset", "textures/sky.jpg", NULL), 0);
	CHECK(strstr(out_buf, "  depended on by  levels/level1.xml, other.txt\n") != NULL);
	CHECK_EQ_INT(run(cfg, "product", "pc/hub.dds", "--depth", "2", NULL), 0);
	CHECK(strstr(out_buf, "(cut short: a tree lists at most 1000 entries, 32 levels deep)") != NULL);
}

int main(void)
{
	char root[300], cache[320], assets[320];
	char *platforms[] = {"pc", "linux", NULL};
	kiln_config cfg;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/kiln-query-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(root, sizeof root, "%s/proj", tmpdir);
	snprintf(cache, sizeof cache, "%s/Cache", root);
	snprintf(assets, sizeof assets, "%s/Assets", root);
	mkdir(root, 0755);
	mkdir(cache, 0755);
	mkdir(assets, 0755);
	memset(&cfg, 0, sizeof cfg);
	cfg.root = root;
	cfg.cache = cache;
	cfg.project = "demo";
	cfg.platforms = platforms;
	cfg.n_platforms = 2;

	test_formatting();
	test_no_database(&cfg);
	fill_db(&cfg);
	test_jobs(&cfg);
	test_job(&cfg);
	test_assets(&cfg);
	test_products(&cfg);
	test_filter_ids(&cfg);
	test_builders_status(&cfg);
	test_reprocess(&cfg);

	/* The dependency graph has a project of its own. */
	kiln_config gcfg = cfg;
	char groot[300], gcache[320];
	snprintf(groot, sizeof groot, "%s/graph", tmpdir);
	snprintf(gcache, sizeof gcache, "%s/Cache", groot);
	mkdir(groot, 0755);
	mkdir(gcache, 0755);
	gcfg.root = groot;
	gcfg.cache = gcache;
	fill_graph_db(&gcfg);
	test_deps_lists(&gcfg);
	test_deps_tree(&gcfg);
	test_deps_asset_tree(&gcfg);
	test_deps_text(&gcfg);

	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	/* KILN_TEST_KEEP=1 leaves the project behind to look at by hand. */
	if (getenv("KILN_TEST_KEEP"))
		fprintf(stderr, "kept %s\n", tmpdir);
	else if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	TEST_DONE();
}
