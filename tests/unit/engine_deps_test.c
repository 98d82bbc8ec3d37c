/* engine_deps_test.c: source dependencies as create_jobs gives them and as
 * the engine resolves them: by path (from the scan folder's root or the
 * dependent's own folder, any case), by UUID, by wildcard, their transitive
 * closure in the fingerprint, a dependency that appears later (a source or a
 * plain file), one that goes away, cycles between sources, and job
 * dependencies that wait, run, or form a cycle. Each check that a job "wakes"
 * looks at whether the engine queued it again, and why. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine_priv.h"
#include "test.h"

static const char *const json =
    "{\"platforms\": [\"pc\"], \"scan_folders\": [{\"path\": \"Assets\"}],"
    " \"builders\": [{\"exec\": \"/bin/true\", \"patterns\": [\"*.mat\", \"*.png\"]}]}";
static const char *const folders[] = {"Assets", NULL};

static efx X;

static bool open_engine(const char *name)
{
	return efx_open(&X, name, json, folders);
}

/* Source rel with content text, analysed with one job "k" on pc and the
 * given source dependencies. */
static size_t source(const char *rel, const char *text, msg_source_dep *deps, size_t n_deps)
{
	size_t si = efx_file(&X, 0, rel, text);
	CHECK(si != NONE);
	if (si == NONE)
		return NONE;
	msg_job_desc j = efx_job("k", "pc");
	CHECK(efx_analyse(&X, si, 0, &j, 1, deps, n_deps));
	return si;
}

static size_t job_of(size_t si)
{
	return X.e.src[si].first_job;
}

/* Why rel's job is queued again, or NULL. */
static const char *woken(const char *rel)
{
	size_t si = efx_src(&X, rel);
	return si == NONE ? NULL : efx_queued(&X, job_of(si));
}

static bool woken_for(const char *rel, const char *why)
{
	const char *w = woken(rel);
	if (!w || strcmp(w, why) != 0)
		fprintf(stderr, "  %s: queued for \"%s\", expected \"%s\"\n", rel, w ? w : "(not queued)",
		        why);
	return w && strcmp(w, why) == 0;
}

/* eng_deps_changed walks the dependents of a changed source, marking each
 * source it passes so that a cycle ends; the jobs it reaches are weighed only
 * after the marks are gone, because a job's fingerprint (collect, in deps.c)
 * passes over marked sources too: weighed during the walk, a job got a wrong
 * run_reason and a new_fp that was not the print of its inputs. */

/* rel's job was queued again by a change that reached it through
 * eng_deps_changed's walk, for reason why, with
 * the print of its inputs. */
static void woken_through_walk(const char *rel, const char *why)
{
	const char *w = woken(rel);
	CHECK(w != NULL);
	if (!w)
		return;
	size_t ji = job_of(efx_src(&X, rel));
	CHECK(strcmp(w, why) == 0);
	CHECK(X.e.jobs[ji].new_fp == eng_job_fingerprint(&X.e, ji, NULL));
}

/* What rel's dependency fingerprint says of dependency name: its hash in
 * hex, "missing", or NULL when it is not in it. */
static const char *dep_part(const char *rel, const char *name)
{
	static char buf[64];
	size_t si = efx_src(&X, rel);
	if (si == NONE)
		return NULL;
	json_t *parts = json_object();
	fp_state f;
	fp_init(&f);
	eng_deps_fingerprint(&X.e, si, &f, parts);
	const char *v = json_string_value(json_object_get(parts, name));
	snprintf(buf, sizeof buf, "%s", v ? v : "");
	json_decref(parts);
	return v ? buf : NULL;
}

static const char *hex_of(const char *rel)
{
	static char hex[17];
	hash_hex(X.e.src[efx_src(&X, rel)].hash, hex);
	return hex;
}

/* The live dependency that create_jobs gave for si, resolved: the source
 * it names, or NONE. */
static size_t resolved(size_t si, int nth)
{
	for (size_t di = X.e.src[si].first_dep; di != NONE; di = X.e.deps[di].next_in_src)
		if (!X.e.deps[di].dead && nth-- == 0)
			return eng_dep_resolve(&X.e, &X.e.deps[di]);
	return NONE;
}

static size_t n_live_deps(size_t si)
{
	size_t n = 0;
	for (size_t di = X.e.src[si].first_dep; di != NONE; di = X.e.deps[di].next_in_src)
		n += !X.e.deps[di].dead;
	return n;
}

static void test_by_path(void)
{
	if (!open_engine("deps-path"))
		return;
	size_t b = source("tex/b.png", "b1", NULL, 0);
	msg_source_dep d[] = {{.path = "tex/b.png"}};
	size_t a = source("a.mat", "a1", d, 1);
	source("unrelated.png", "u", NULL, 0);
	CHECK(woken_for("a.mat", "new source"));
	CHECK_EQ_INT(efx_run_all(&X), 3);
	CHECK_EQ_INT(resolved(a, 0), b);
	CHECK_EQ_STR(dep_part("a.mat", "tex/b.png"), hex_of("tex/b.png"));

	/* Another source changes: a stays as it is. */
	efx_file(&X, 0, "unrelated.png", "u2");
	CHECK(woken("a.mat") == NULL);
	/* Its dependency changes: a runs again, and says why. */
	efx_file(&X, 0, "tex/b.png", "b2");
	woken_through_walk("a.mat", "dependency tex/b.png changed");
	CHECK_EQ_STR(dep_part("a.mat", "tex/b.png"), hex_of("tex/b.png"));

	/* Relative to the dependent's own folder first, then the root, in any
	 * case; a path that leaves the scan folder is ignored. */
	source("c.png", "root c", NULL, 0);
	msg_source_dep md[] = {{.path = "C.PNG"}, {.path = "../../outside.png"}};
	size_t m = source("mats/m.mat", "m", md, 2);
	CHECK_EQ_INT(n_live_deps(m), 1);
	CHECK_EQ_INT(resolved(m, 0), efx_src(&X, "c.png"));
	efx_run_all(&X);
	size_t mc = source("mats/c.png", "near c", NULL, 0);
	CHECK_EQ_INT(resolved(m, 0), mc);
	CHECK(woken("mats/m.mat") != NULL);
	CHECK(dep_part("mats/m.mat", "mats/c.png") != NULL);
	CHECK(dep_part("mats/m.mat", "c.png") == NULL);
	efx_close(&X);
}

static void test_by_uuid(void)
{
	if (!open_engine("deps-uuid"))
		return;
	size_t u = source("tex/u.png", "u1", NULL, 0);
	/* The UUID as a C# tool might write it: upper case, in braces. */
	char upper[48];
	snprintf(upper, sizeof upper, "{%s}", X.e.src[u].uuid);
	for (char *c = upper; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	msg_source_dep d[] = {{.uuid = upper}, {.uuid = "not-a-uuid"}};
	size_t n = source("n.mat", "n", d, 2);
	CHECK_EQ_INT(n_live_deps(n), 1);
	CHECK_EQ_INT(resolved(n, 0), u);
	efx_run_all(&X);
	efx_file(&X, 0, "tex/u.png", "u2");
	woken_through_walk("n.mat", "dependency tex/u.png changed");
	efx_close(&X);
}

static void test_wildcard(void)
{
	if (!open_engine("deps-glob"))
		return;
	source("tex/one.png", "1", NULL, 0);
	source("tex/two.png", "2", NULL, 0);
	source("other/three.png", "3", NULL, 0);
	CHECK_EQ_INT(test_put(X.cfg->folders[0].abs, "tex/notes.txt", "plain"), 0);
	msg_source_dep d[] = {{.path = "tex/*"}};
	source("w.mat", "w", d, 1);
	efx_run_all(&X);
	/* Every match, source or plain file, and nothing else. */
	CHECK_EQ_STR(dep_part("w.mat", "tex/one.png"), hex_of("tex/one.png"));
	CHECK(dep_part("w.mat", "tex/two.png") != NULL);
	CHECK(dep_part("w.mat", "tex/notes.txt") != NULL);
	CHECK(dep_part("w.mat", "other/three.png") == NULL);
	efx_file(&X, 0, "tex/two.png", "2b");
	woken_through_walk("w.mat", "dependency tex/two.png changed");
	efx_run_all(&X);
	efx_file(&X, 0, "other/three.png", "3b");
	CHECK(woken("w.mat") == NULL);
	/* Known bug (reconcile.c and deps.c, wildcard matches that appear): a
	 * wildcard dependency's matches come from e->files, the file list of
	 * the last full scan (or of the first eng_files call), which live
	 * mode's eng_path_changed never adds to; and a new plain file wakes
	 * only the dependencies indexed by their key (dep_rev), which
	 * wildcards are not. A file that starts to match after that list was
	 * taken is not in the print, and its dependents do not run, until the
	 * next full scan. */
	const char *glob_bug = "a new match of a wildcard dependency is missed until a full scan";
	source("tex/new.png", "new", NULL, 0);
	SKIP_KNOWN_BUG(woken("w.mat") != NULL, glob_bug);
	SKIP_KNOWN_BUG(dep_part("w.mat", "tex/new.png") != NULL, glob_bug);
	efx_run_all(&X);
	efx_file(&X, 0, "tex/more.txt", "more");
	SKIP_KNOWN_BUG(woken("w.mat") != NULL, glob_bug);
	SKIP_KNOWN_BUG(dep_part("w.mat", "tex/more.txt") != NULL, glob_bug);
	efx_close(&X);
}

static void test_transitive(void)
{
	if (!open_engine("deps-closure"))
		return;
	source("t3.png", "3", NULL, 0);
	msg_source_dep d2[] = {{.path = "t3.png"}};
	source("t2.mat", "2", d2, 1);
	msg_source_dep d1[] = {{.path = "t2.mat"}};
	source("t1.mat", "1", d1, 1);
	efx_run_all(&X);
	/* t1's print covers t3, through t2. */
	CHECK_EQ_STR(dep_part("t1.mat", "t3.png"), hex_of("t3.png"));
	CHECK(dep_part("t1.mat", "t2.mat") != NULL);
	efx_file(&X, 0, "t3.png", "3b");
	woken_through_walk("t2.mat", "dependency t3.png changed");
	woken_through_walk("t1.mat", "dependency t3.png changed");
	efx_close(&X);
}

static void test_appears_later(void)
{
	if (!open_engine("deps-later"))
		return;
	msg_source_dep d[] = {{.path = "later.png"}, {.path = "notes.txt"}};
	size_t l = source("l.mat", "l", d, 2);
	efx_run_all(&X);
	CHECK_EQ_INT(resolved(l, 0) == NONE && resolved(l, 1) == NONE, 1);
	CHECK_EQ_STR(dep_part("l.mat", "later.png"), "missing");
	CHECK_EQ_STR(dep_part("l.mat", "notes.txt"), "missing");

	/* The source appears. */
	size_t later = source("later.png", "here now", NULL, 0);
	woken_through_walk("l.mat", "dependency later.png appeared");
	CHECK(resolved(l, 0) == later || resolved(l, 1) == later);
	efx_run_all(&X);
	/* A plain file (no builder wants it) appears, then changes. */
	efx_file(&X, 0, "notes.txt", "first notes");
	CHECK(woken_for("l.mat", "dependency notes.txt appeared"));
	efx_run_all(&X);
	efx_file(&X, 0, "notes.txt", "second, longer notes");
	CHECK(woken_for("l.mat", "dependency notes.txt changed"));
	efx_run_all(&X);
	/* The source goes away again. */
	efx_unlink(&X, 0, "later.png");
	CHECK(woken_for("l.mat", "dependency later.png went away"));
	CHECK_EQ_STR(dep_part("l.mat", "later.png"), "missing");
	efx_close(&X);
}

static void test_cycles(void)
{
	if (!open_engine("deps-cycle"))
		return;
	/* x and y depend on each other: each print holds the other once, and
	 * walking the graph ends. */
	msg_source_dep dx[] = {{.path = "y.mat"}};
	msg_source_dep dy[] = {{.path = "x.mat"}};
	size_t x = source("x.mat", "x", dx, 1);
	source("y.mat", "y", dy, 1);
	CHECK(dep_part("x.mat", "y.mat") != NULL);
	CHECK(dep_part("x.mat", "x.mat") == NULL);
	efx_run_all(&X);
	efx_file(&X, 0, "x.mat", "x2");
	woken_through_walk("y.mat", "dependency x.mat changed");
	/* x's own create_jobs call is asked again (its content changed). */
	CHECK(X.e.src[x].analysing & 1);
	efx_close(&X);
}

static void test_job_deps(void)
{
	if (!open_engine("deps-jobs"))
		return;
	char why[512];
	/* o waits for p's job; p waits for nothing. */
	msg_job_dep on_p = {.path = "p.mat"};
	msg_job_desc jo = {.job_key = "k", .platform = "pc", .job_deps = &on_p, .n_job_deps = 1};
	size_t p = source("p.mat", "p", NULL, 0);
	size_t o = efx_file(&X, 0, "o.mat", "o");
	CHECK(efx_analyse(&X, o, 0, &jo, 1, NULL, 0));
	CHECK_EQ_INT(eng_jdeps_ready(&X.e, job_of(o), why, sizeof why), 0);
	CHECK(strstr(why, "waiting for p.mat") != NULL);
	/* Once p's job has run, o may go. */
	X.e.jobs[job_of(p)].queued = false;
	erun *r = efx_start(&X, job_of(p));
	CHECK_EQ_INT(test_put(r->temp, "p.out", "p"), 0);
	msg_product prod = {.file = "p.out", .sub_id = 1, .dependencies_handled = true};
	msg_process_job_resp resp = {.result = MSG_RESULT_SUCCESS, .products = &prod, .n_products = 1};
	efx_reply(&X, r, HP_OK, &resp);
	CHECK_EQ_INT(eng_jdeps_ready(&X.e, job_of(o), why, sizeof why), 1);
	/* A job dependency on a source that does not exist waits for nothing. */
	msg_job_dep on_none = {.path = "none.mat"};
	msg_job_desc jn = {.job_key = "k", .platform = "pc", .job_deps = &on_none, .n_job_deps = 1};
	size_t n = efx_file(&X, 0, "n.mat", "n");
	CHECK(efx_analyse(&X, n, 0, &jn, 1, NULL, 0));
	CHECK_EQ_INT(eng_jdeps_ready(&X.e, job_of(n), why, sizeof why), 1);

	/* q and s wait for each other: a cycle, said as one. */
	msg_job_dep on_s = {.path = "s.mat"}, on_q = {.path = "q.mat"};
	msg_job_desc jq = {.job_key = "k", .platform = "pc", .job_deps = &on_s, .n_job_deps = 1};
	msg_job_desc js = {.job_key = "k", .platform = "pc", .job_deps = &on_q, .n_job_deps = 1};
	size_t q = efx_file(&X, 0, "q.mat", "q");
	size_t s = efx_file(&X, 0, "s.mat", "s");
	CHECK(efx_analyse(&X, q, 0, &jq, 1, NULL, 0));
	CHECK(efx_analyse(&X, s, 0, &js, 1, NULL, 0));
	CHECK(X.e.jobs[job_of(q)].queued && X.e.jobs[job_of(s)].queued);
	CHECK_EQ_INT(eng_jdeps_ready(&X.e, job_of(q), why, sizeof why), -1);
	CHECK(strstr(why, "job dependency cycle") != NULL);
	efx_close(&X);
}

int main(void)
{
	test_by_path();
	test_by_uuid();
	test_wildcard();
	test_transitive();
	test_appears_later();
	test_cycles();
	test_job_deps();
	TEST_DONE();
}
