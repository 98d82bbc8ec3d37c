/* engine_fp_test.c: how a job's fingerprint and its fp_parts are made. Each
 * input (the source's content hash, the builder's uuid, version and
 * analysis fingerprint, the job key, the platform, the params, a source
 * dependency's hash, a fingerprint job dependency's print) changes the
 * fingerprint, and exactly the part of fp_parts it belongs to; other things
 * (sizes and times, priorities, names, other jobs, order-only job
 * dependencies) change nothing. Then the engine's decision on those prints:
 * a completed job stays put until an input changes, and says which. Last,
 * the analysis fingerprint that decides whether create_jobs runs again. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine_priv.h"
#include "test.h"

static const char *const json =
    "{\"platforms\": [\"pc\", \"linux\"], \"scan_folders\": [{\"path\": \"Assets\"}],"
    " \"builders\": [{\"exec\": \"/bin/true\", \"patterns\": [\"*.png\"]},"
    " {\"exec\": \"/bin/false\", \"patterns\": [\"*.wav\"]}]}";
static const char *const folders[] = {"Assets", NULL};

static efx X;

/* A print: the fingerprint and its parts. */
typedef struct print {
	uint64_t fp;
	char *text; /* fp_parts as the engine keeps them */
	json_t *parts;
} print;

static print take(size_t ji)
{
	print p = {0};
	p.fp = eng_job_fingerprint(&X.e, ji, &p.text);
	p.parts = p.text ? json_loads(p.text, 0, NULL) : NULL;
	CHECK(json_is_object(p.parts));
	return p;
}

static void drop(print *p)
{
	free(p->text);
	json_decref(p->parts);
}

/* The top-level parts that differ between a and b, comma-separated. */
static const char *diff(const print *a, const print *b)
{
	static char out[128];
	static const char *const keys[] = {"source", "builder", "params", "deps", "jobs"};
	out[0] = 0;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!json_equal(json_object_get(a->parts, keys[i]), json_object_get(b->parts, keys[i])))
			snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", out[0] ? "," : "",
			         keys[i]);
	/* Nothing else is in the parts. */
	if (json_object_size(a->parts) != 5 || json_object_size(b->parts) != 5)
		snprintf(out, sizeof out, "unexpected parts");
	return out;
}

/* ji's print now differs from base exactly in part ("" for none). */
static void expect(size_t ji, const print *base, const char *part)
{
	print now = take(ji);
	if (*part)
		CHECK(now.fp != base->fp);
	else
		CHECK(now.fp == base->fp);
	CHECK_EQ_STR(diff(base, &now), part);
	drop(&now);
}

/* The source rel, analysed by builder 0 with the given jobs (params
 * {"q": "1"} each) and source dependencies. Returns the source. */
static size_t source(const char *rel, msg_job_desc *jobs, size_t n_jobs, msg_source_dep *deps, size_t n_deps)
{
	static msg_kv q1 = {"q", "1"};
	size_t si = efx_file(&X, 0, rel, rel);
	CHECK(si != NONE);
	if (si == NONE)
		return NONE;
	for (size_t i = 0; i < n_jobs; i++)
		if (!jobs[i].params.n)
			jobs[i].params = (msg_kvs){&q1, 1};
	CHECK(efx_analyse(&X, si, 0, jobs, n_jobs, deps, n_deps));
	return si;
}

/* Job key on platform of source si. */
static size_t job(size_t si, const char *key, const char *platform)
{
	size_t ji = eng_job_find(&X.e, si, 0, key, platform);
	CHECK(ji != NONE);
	return ji;
}

/* Sources and jobs of the tests below, all run once. */
static size_t s_a, s_d, s_g, j_main, j_linux, j_alt, j_fpdep, j_orderdep, j_gen;

static bool setup(void)
{
	if (!efx_open(&X, "fp", json, folders))
		return false;
	msg_job_desc jd = efx_job("main", "pc");
	s_d = source("d.png", &jd, 1, NULL, 0);
	msg_job_desc jg = efx_job("gen", "pc");
	s_g = source("g.png", &jg, 1, NULL, 0);
	msg_job_desc ja[] = {efx_job("main", "pc"), efx_job("main", "linux"), efx_job("alt", "pc")};
	msg_source_dep da[] = {{.path = "d.png"}};
	s_a = source("a.png", ja, 3, da, 1);
	/* Two jobs that depend on g's job: one folds its print in, one only
	 * waits for it. */
	msg_job_dep on_g_fp = {.path = "g.png", .fingerprint = true}, on_g = {.path = "g.png"};
	msg_job_desc jh = {.job_key = "main", .platform = "pc", .job_deps = &on_g_fp, .n_job_deps = 1};
	size_t s_h = source("h.png", &jh, 1, NULL, 0);
	msg_job_desc jk = {.job_key = "main", .platform = "pc", .job_deps = &on_g, .n_job_deps = 1};
	size_t s_k = source("k.png", &jk, 1, NULL, 0);
	/* A source of the other builder. */
	CHECK(efx_file(&X, 0, "w.wav", "w") != NONE);
	if (s_a == NONE || s_d == NONE || s_g == NONE || s_h == NONE || s_k == NONE)
		return false;
	j_main = job(s_a, "main", "pc");
	j_linux = job(s_a, "main", "linux");
	j_alt = job(s_a, "alt", "pc");
	j_gen = job(s_g, "gen", "pc");
	j_fpdep = job(s_h, "main", "pc");
	j_orderdep = job(s_k, "main", "pc");
	CHECK_EQ_INT(efx_run_all(&X), 7);
	return true;
}

static void test_inputs(void)
{
	print base = take(j_main);
	ejob *j = &X.e.jobs[j_main];
	esource *a = &X.e.src[s_a];
	ebuilder *b = &X.e.b[0];

	/* The same inputs, the same print, to the byte. */
	print again = take(j_main);
	CHECK(again.fp == base.fp);
	CHECK_EQ_STR(again.text, base.text);
	drop(&again);

	uint64_t hash = a->hash;
	a->hash ^= 1;
	expect(j_main, &base, "source");
	a->hash = hash;
	expect(j_main, &base, "");

	char *version = b->version, *afp = b->afp, *uuid = b->uuid;
	b->version = "2";
	expect(j_main, &base, "builder");
	b->version = version;
	b->afp = "another analysis";
	expect(j_main, &base, "builder");
	b->afp = afp;
	b->uuid = "00000000-0000-4000-8000-0000000000ff";
	expect(j_main, &base, "builder");
	b->uuid = uuid;

	char *params = j->params;
	j->params = eng_intern(&X.e, "{\"q\":\"2\"}");
	expect(j_main, &base, "params");
	j->params = params;

	/* The job key and the platform go with the params: same source, same
	 * params, another key or platform, another print. */
	expect(j_alt, &base, "params");
	expect(j_linux, &base, "params");

	uint64_t dhash = X.e.src[s_d].hash;
	X.e.src[s_d].hash ^= 1;
	expect(j_main, &base, "deps");
	X.e.src[s_d].hash = dhash;
	expect(j_main, &base, "");
	drop(&base);

	/* A fingerprint job dependency folds in that job's print; an order-only
	 * one does not. */
	print hbase = take(j_fpdep), kbase = take(j_orderdep);
	X.e.jobs[j_gen].fp ^= 1;
	expect(j_fpdep, &hbase, "jobs");
	expect(j_orderdep, &kbase, "");
	X.e.jobs[j_gen].fp ^= 1;
	expect(j_fpdep, &hbase, "");
	drop(&hbase);
	drop(&kbase);
}

static void test_not_inputs(void)
{
	print base = take(j_main);
	ejob *j = &X.e.jobs[j_main];
	esource *a = &X.e.src[s_a];
	ebuilder *b = &X.e.b[0];
	/* Sizes and times (the content hash stands for the content), the
	 * analysis fingerprint, priorities and flags, the builder's name and
	 * patterns, other sources and other jobs: none is an input. What is
	 * changed here is put back afterwards. */
	esource a0 = *a;
	ejob j0 = *j;
	ebuilder b0 = *b;
	a->size += 100;
	a->mtime += 1000000000;
	a->afp ^= 1;
	j->priority = 99;
	j->critical = !j->critical;
	j->requested = true;
	b->name = "renamed";
	b->n_patterns = 0;
	X.e.src[efx_src(&X, "w.wav")].hash ^= 1;
	X.e.src[s_g].hash ^= 1;
	X.e.jobs[j_alt].fp ^= 1;
	X.e.jobs[j_linux].has_fp = false;
	expect(j_main, &base, "");
	drop(&base);
	*a = a0;
	*j = j0;
	*b = b0;
	X.e.src[efx_src(&X, "w.wav")].hash ^= 1;
	X.e.src[s_g].hash ^= 1;
	X.e.jobs[j_alt].fp ^= 1;
	X.e.jobs[j_linux].has_fp = true;
}

/* Takes every queued job out of the queue. */
static void drain(void)
{
	runq_item it;
	while (runq_pop(&X.e.q, &it))
		X.e.jobs[it.job].queued = false;
}

/* Weighs job ji as the engine does after a change: NULL when it stays as
 * it is, else why it runs. */
static const char *weigh(size_t ji)
{
	drain();
	eng_job_consider(&X.e, ji);
	const char *why = efx_queued(&X, ji);
	drain();
	return why;
}

static void test_decision(void)
{
	/* What a good run keeps: the print it ran with, and its parts. */
	print base = take(j_main);
	char sql[128];
	sqlite3_stmt *st = NULL;
	snprintf(sql, sizeof sql, "SELECT fingerprint, fp_parts FROM jobs WHERE id = %lld",
	         (long long)X.e.jobs[j_main].id);
	CHECK(sqlite3_prepare_v2(X.e.db->h, sql, -1, &st, NULL) == SQLITE_OK &&
	      sqlite3_step(st) == SQLITE_ROW);
	CHECK(st && sqlite3_column_int64(st, 0) == (int64_t)base.fp);
	CHECK(st && sqlite3_column_text(st, 1) &&
	      strcmp((const char *)sqlite3_column_text(st, 1), base.text) == 0);
	sqlite3_finalize(st);
	CHECK(X.e.jobs[j_main].has_fp && X.e.jobs[j_main].fp == base.fp);
	drop(&base);

	/* Unchanged inputs: it stays. A change: it runs, saying which input. */
	CHECK(weigh(j_main) == NULL);
	esource *a = &X.e.src[s_a];
	a->hash ^= 1;
	CHECK_EQ_STR(weigh(j_main), "source content changed");
	a->hash ^= 1;
	char *version = X.e.b[0].version;
	X.e.b[0].version = "2";
	CHECK_EQ_STR(weigh(j_main), "builder version or analysis fingerprint changed");
	X.e.b[0].version = version;
	char *params = X.e.jobs[j_main].params;
	X.e.jobs[j_main].params = "{}";
	CHECK_EQ_STR(weigh(j_main), "job parameters changed");
	X.e.jobs[j_main].params = params;
	X.e.src[s_d].hash ^= 1;
	CHECK_EQ_STR(weigh(j_main), "dependency d.png changed");
	X.e.src[s_d].hash ^= 1;
	X.e.jobs[j_gen].fp ^= 1;
	CHECK_EQ_STR(weigh(j_fpdep), "a job it depends on changed its fingerprint");
	X.e.jobs[j_gen].fp ^= 1;
	CHECK(weigh(j_main) == NULL);
	CHECK(weigh(j_fpdep) == NULL);

	/* A dependency missing at the last good run and still missing is no
	 * change: the one that did change is named (why_changed once said the
	 * missing one had appeared). */
	msg_job_desc jm = efx_job("main", "pc");
	msg_source_dep dm[] = {{.path = "a-never-there.png"}, {.path = "d.png"}};
	size_t s_m = source("m.png", &jm, 1, dm, 2);
	efx_run_all(&X);
	size_t j_m = job(s_m, "main", "pc");
	CHECK(weigh(j_m) == NULL);
	X.e.src[s_d].hash ^= 1;
	const char *why = weigh(j_m);
	CHECK(why != NULL);
	CHECK(why && strcmp(why, "dependency d.png changed") == 0);
	X.e.src[s_d].hash ^= 1;
}

static void test_analysis_fingerprint(void)
{
	ebuilder *b = &X.e.b[0];
	esource *a = &X.e.src[s_a];
	uint64_t base = eng_analysis_fingerprint(&X.e, a, b);
	CHECK(eng_analysis_fingerprint(&X.e, a, b) == base);
	/* Its inputs: content, place, the builder's identity, and (not tried
	 * here) the folder's platforms and the sidecar. */
	a->hash ^= 1;
	CHECK(eng_analysis_fingerprint(&X.e, a, b) != base);
	a->hash ^= 1;
	char *version = b->version;
	b->version = "2";
	CHECK(eng_analysis_fingerprint(&X.e, a, b) != base);
	b->version = version;
	char *afp = b->afp;
	b->afp = "x";
	CHECK(eng_analysis_fingerprint(&X.e, a, b) != base);
	b->afp = afp;
	/* The same content at another path is another analysis. */
	size_t twin = efx_file(&X, 0, "twin.png", "a.png");
	CHECK(twin != NONE && X.e.src[twin].hash == X.e.src[s_a].hash);
	CHECK(twin != NONE && eng_analysis_fingerprint(&X.e, &X.e.src[twin], b) != base);
	/* Not inputs: size, time, name. */
	a = &X.e.src[s_a];
	a->size += 1;
	a->mtime += 1;
	b->name = "another name";
	CHECK(eng_analysis_fingerprint(&X.e, a, b) == base);

	/* What that decides, through a file event: touching a file asks no
	 * create_jobs call, changing its content does. */
	for (size_t bi = 0; bi < X.e.nb; bi++)
		X.e.b[bi].aq_n = X.e.b[bi].aq_head = 0;
	X.e.aq_total = 0;
	efx_file(&X, 0, "d.png", "d.png");
	CHECK_EQ_INT(X.e.aq_total, 0);
	efx_file(&X, 0, "d.png", "new content");
	CHECK_EQ_INT(X.e.aq_total, 1);
	CHECK(X.e.src[s_d].analysing & 1);
}

int main(void)
{
	if (setup()) {
		test_inputs();
		test_not_inputs();
		test_decision();
		test_analysis_fingerprint();
	}
	efx_close(&X);
	TEST_DONE();
}
