/* builders.c: builders: the describe cache, describe calls, patterns. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/engine_priv.h"
#include "hash.h"
#include "kerr.h"
#include "klog.h"
#include "uuid.h"

char *eng_json_str_array(char **items, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(items[i]));
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static int builder_compile_patterns(engine *e, ebuilder *b)
{
	char err[256];
	b->pats = arena_alloc(e->ar, (b->n_patterns + 1) * sizeof *b->pats);
	if (!b->pats)
		return -ENOMEM;
	for (size_t i = 0; i < b->n_patterns; i++) {
		if (pattern_compile(b->patterns[i], &b->pats[i], err, sizeof err) != 0) {
			b->why_disabled =
			    arena_printf(e->ar, "pattern \"%s\" does not compile: %s", b->patterns[i], err);
			b->ok = false;
			return 0;
		}
	}
	return 0;
}

static void builder_set_patterns(engine *e, ebuilder *b, const char *const *items, size_t n)
{
	/* The builder's own patterns are kept for the describe cache; kiln.json
	 * may replace the ones in force. */
	b->own_patterns = arena_alloc(e->ar, (n + 1) * sizeof *b->own_patterns);
	for (size_t i = 0; b->own_patterns && i < n; i++)
		b->own_patterns[i] = arena_strdup(e->ar, items[i]);
	b->n_own_patterns = b->own_patterns ? n : 0;
	if (b->cfg->has_patterns) {
		items = (const char *const *)b->cfg->patterns;
		n = b->cfg->n_patterns;
	}
	b->patterns = arena_alloc(e->ar, (n + 1) * sizeof *b->patterns);
	for (size_t i = 0; i < n; i++)
		b->patterns[i] = arena_strdup(e->ar, items[i]);
	b->n_patterns = n;
}

/* What the describe cache is keyed on besides the path and arguments: the
 * executable's size and time, and those of every argument that names a file
 * (a script run by an interpreter, `python3 tools/x.py`), so that editing
 * the script asks the builder again. */
static int64_t exec_signature(const ebuilder *b, const struct stat *xst)
{
	fp_state f;
	fp_init(&f);
	fp_u64(&f, (uint64_t)xst->st_size);
	fp_u64(&f, (uint64_t)xst->st_mtim.tv_sec);
	fp_u64(&f, (uint64_t)xst->st_mtim.tv_nsec);
	for (size_t i = 0; i < b->hp.args.n; i++) {
		struct stat ast;
		const char *a = b->hp.args.items[i];
		if (a[0] != '/' || stat(a, &ast) != 0 || !S_ISREG(ast.st_mode))
			continue;
		fp_str(&f, a);
		fp_u64(&f, (uint64_t)ast.st_size);
		fp_u64(&f, (uint64_t)ast.st_mtim.tv_sec);
		fp_u64(&f, (uint64_t)ast.st_mtim.tv_nsec);
	}
	return (int64_t)fp_final(&f);
}

static int builder_store(engine *e, ebuilder *b, const struct stat *xst, const char *args_json,
                         bool described)
{
	char *pj = eng_json_str_array(b->patterns, b->n_patterns);
	char *oj = eng_json_str_array(b->own_patterns, b->n_own_patterns);
	/* patterns holds the ones in force (for kiln builders); described_patterns
	 * the builder's own, which the describe cache must give back. */
	sqlite3_stmt *s = db_stmt_get(e->db, DBS_BUILDER_UPSERT);
	db_bind_text(s, 1, b->cfg->exec_abs);
	db_bind_text(s, 2, args_json);
	db_bind_int64(s, 3, described ? (int64_t)xst->st_size : -1);
	db_bind_int64(s, 4, described ? exec_signature(b, xst) : -1);
	db_bind_text(s, 5, b->name);
	db_bind_text(s, 6, b->uuid);
	db_bind_text(s, 7, b->version);
	db_bind_text(s, 8, b->afp);
	db_bind_text(s, 9, pj);
	db_bind_int64(s, 10, b->cfg->internal);
	db_bind_text(s, 11, b->ok ? NULL : b->why_disabled);
	db_bind_text(s, 12, oj);
	int rc = KILN_E_DB;
	if (sqlite3_step(s) == SQLITE_ROW) {
		b->db_id = sqlite3_column_int64(s, 0);
		rc = 0;
	} else {
		klog(KLOG_WARN, "storing builder %s: %s", b->name, db_errmsg(e->db));
	}
	sqlite3_reset(s);
	free(pj);
	free(oj);
	return rc;
}

/* The name, uuid, version, analysis fingerprint and patterns of a row of
 * DBS_BUILDER_BY_EXEC (the describe cache) into b. */
static void identity_from_row(engine *e, ebuilder *b, sqlite3_stmt *s)
{
	b->name = arena_strdup(e->ar, (const char *)sqlite3_column_text(s, 3));
	b->uuid = arena_strdup(e->ar, (const char *)sqlite3_column_text(s, 4));
	b->version = arena_strdup(e->ar, (const char *)sqlite3_column_text(s, 5));
	b->afp = arena_strdup(e->ar, (const char *)sqlite3_column_text(s, 6));
	json_t *pj = json_loads((const char *)sqlite3_column_text(s, 7), 0, NULL);
	size_t n = json_is_array(pj) ? json_array_size(pj) : 0;
	const char **items = calloc(n + 1, sizeof *items);
	for (size_t i = 0; items && i < n; i++)
		items[i] =
		    json_string_value(json_array_get(pj, i)) ? json_string_value(json_array_get(pj, i)) : "";
	builder_set_patterns(e, b, items, items ? n : 0);
	free(items);
	json_decref(pj);
}

/* Fills builder b from the describe cache when the executable is unchanged.
 * Returns true on a hit. */
static bool builder_from_cache(engine *e, ebuilder *b, const struct stat *xst, const char *args_json)
{
	sqlite3_stmt *s = db_stmt_get(e->db, DBS_BUILDER_BY_EXEC);
	db_bind_text(s, 1, b->cfg->exec_abs);
	db_bind_text(s, 2, args_json);
	bool hit = false;
	int64_t mt = exec_signature(b, xst);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_int64(s, 1) != (int64_t)xst->st_size || sqlite3_column_int64(s, 2) != mt ||
		    sqlite3_column_type(s, 7) == SQLITE_NULL)
			continue;
		b->db_id = sqlite3_column_int64(s, 0);
		identity_from_row(e, b, s);
		hit = true;
		break;
	}
	sqlite3_reset(s);
	return hit;
}

void eng_on_describe_reply(engine *e, erun *r, const hp_reply *rep)
{
	ebuilder *b = &e->b[r->builder];
	char err[512];
	arena *a = arena_new();
	msg_describe d;
	if (rep->status != HP_OK) {
		char tail[1024] = "";
		size_t tl = 0;
		for (size_t i = rep->stderr_tail.n > 5 ? rep->stderr_tail.n - 5 : 0; i < rep->stderr_tail.n;
		     i++)
			tl += (size_t)snprintf(tail + tl, tl < sizeof tail ? sizeof tail - tl : 0, "%s%s",
			                       tl ? " | " : "; stderr: ", rep->stderr_tail.items[i]);
		b->why_disabled =
		    arena_printf(e->ar, "describe failed (%s): %s%s", hp_status_name(rep->status),
		                 rep->detail ? rep->detail : "", tail);
		b->ok = false;
		goto out;
	}
	if (msg_decode_describe(rep->frame.data, rep->frame.len, a, &d, err, sizeof err) != 0) {
		b->why_disabled = arena_printf(e->ar, "describe reply is malformed: %s", err);
		b->ok = false;
		goto out;
	}
	kuuid u;
	if (uuid_parse(d.uuid, &u) != 0) {
		b->why_disabled = arena_printf(e->ar, "describe reply has a bad uuid \"%s\"", d.uuid);
		b->ok = false;
		goto out;
	}
	char us[37];
	uuid_format(&u, us);
	b->name = arena_strdup(e->ar, d.name);
	b->uuid = arena_strdup(e->ar, us);
	b->version = arena_strdup(e->ar, d.version);
	b->afp = arena_strdup(e->ar, d.analysis_fingerprint ? d.analysis_fingerprint : "");
	builder_set_patterns(e, b, d.patterns.items, d.patterns.n);
	b->ok = true;
out:
	b->describing = false;
	arena_free(a);
	eng_run_end(r);
}

/* A builder disabled for the run keeps a row and an identity, so that kiln
 * builders shows it with its reason, its earlier jobs and products stay
 * (loaded, never run), and the sources that only it matches fail with the
 * cause. The identity and patterns are those of its last describe when
 * there is one (the describe cache, whatever the executable's state now),
 * else made up from its exec and args; kiln.json's patterns apply as ever. */
static void builder_disabled(engine *e, ebuilder *b)
{
	sqlite3_stmt *s = db_stmt_get(e->db, DBS_BUILDER_BY_EXEC);
	db_bind_text(s, 1, b->cfg->exec_abs);
	db_bind_text(s, 2, b->args_json);
	bool known = false;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 7) != SQLITE_NULL) {
		identity_from_row(e, b, s);
		known = b->name && b->uuid && b->version && b->afp;
	}
	sqlite3_reset(s);
	if (!known) {
		char seed[KILN_PATH_MAX * 2], us[37];
		kuuid u;
		snprintf(seed, sizeof seed, "kiln-disabled-builder:%s %s", b->cfg->exec_abs,
		         b->args_json ? b->args_json : "");
		uuid_for_source(seed, &u);
		uuid_format(&u, us);
		b->name = arena_strdup(e->ar, b->cfg->exec);
		b->uuid = arena_strdup(e->ar, us);
		b->version = "";
		b->afp = "";
		builder_set_patterns(e, b, NULL, 0);
	}
	char *why = b->why_disabled;
	if (b->name && b->uuid && builder_compile_patterns(e, b) == 0) {
		b->ok = false; /* compiling patterns never enables a builder */
		if (!b->why_disabled)
			b->why_disabled = why;
		struct stat none;
		memset(&none, 0, sizeof none);
		b->disabled_matching = b->n_patterns > 0;
		builder_store(e, b, &none, b->args_json, false);
	}
}

/* Describe runs still out (no other kind runs when a batch starts, but a
 * live refresh must not wait for jobs). */
static bool describes_active(const engine *e)
{
	for (size_t i = 0; i < e->n_runs; i++)
		if (e->runs[i].active && e->runs[i].kind == RUN_DESCRIBE)
			return true;
	return false;
}

int eng_describe(engine *e)
{
	struct stat xst[MAX_BUILDERS];
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msg_encode_describe_req(&sb);
	hp_bytes frame = {(const uint8_t *)sb.data, sb.size};
	size_t pending = 0;
	for (size_t i = 0; i < e->nb; i++) {
		ebuilder *b = &e->b[i];
		memset(&xst[i], 0, sizeof xst[i]);
		if (b->cfg->problem) {
			b->why_disabled = b->cfg->problem;
			continue;
		}
		if (stat(b->cfg->exec_abs, &xst[i]) != 0) {
			b->why_disabled =
			    arena_printf(e->ar, "cannot find %s: %s", b->cfg->exec_abs, strerror(errno));
			continue;
		}
		if (builder_from_cache(e, b, &xst[i], e->b[i].args_json)) {
			b->ok = true;
			continue;
		}
		pending++;
	}
	/* Ask the builders that are not in the describe cache, each in a run of
	 * its own (the builder differs from run to run). */
	size_t next = 0;
	while ((pending > 0 || describes_active(e)) && !e->stop) {
		pool_ensure(e->pool, pending);
		while (pending > 0 && pool_can_submit(e->pool)) {
			while (next < e->nb && (e->b[next].ok || e->b[next].why_disabled))
				next++;
			if (next >= e->nb) {
				pending = 0;
				break;
			}
			erun *r = eng_run_new(e, RUN_DESCRIBE, (int)next);
			if (!r || pool_submit(e->pool, r->id, &e->b[next].hp, "", &frame, 1) != 0) {
				if (r)
					eng_run_end(r);
				break;
			}
			next++;
			pending--;
		}
		if (pool_given_up(e->pool)) {
			for (size_t i = 0; i < e->nb; i++)
				if (!e->b[i].ok && !e->b[i].why_disabled)
					e->b[i].why_disabled = "builder hosts cannot be started";
			break;
		}
		pool_poll(e->pool, 100);
	}
	msgpack_sbuffer_destroy(&sb);
	eng_begin(e);
	sqlite3_stmt *s = db_stmt_get(e->db, DBS_BUILDER_SET_ACTIVE_ALL);
	db_bind_int64(s, 1, 0);
	db_step_done(e->db, s);
	for (size_t i = 0; i < e->nb; i++) {
		ebuilder *b = &e->b[i];
		if (b->ok) {
			builder_compile_patterns(e, b);
			if (b->ok)
				builder_store(e, b, &xst[i], e->b[i].args_json, true);
		}
		if (!b->ok) {
			klog(KLOG_ERROR, "builder %s is disabled: %s", b->cfg->exec,
			     b->why_disabled ? b->why_disabled : "unknown");
			fprintf(stderr, "kiln: builder %s is disabled: %s\n", b->cfg->exec,
			        b->why_disabled ? b->why_disabled : "unknown");
			e->st->builder_failures++;
			builder_disabled(e, b);
		}
	}
	for (size_t i = 0; i < e->nb; i++)
		for (size_t k = 0; k < i; k++)
			if (e->b[i].ok && e->b[k].ok && strcmp(e->b[i].uuid, e->b[k].uuid) == 0) {
				fprintf(
				    stderr,
				    "kiln: builders %s and %s share the uuid %s; the second is disabled\n",
				    e->b[k].cfg->exec, e->b[i].cfg->exec, e->b[i].uuid);
				e->b[i].ok = false;
				e->st->builder_failures++;
			}
	eng_maybe_commit(e, true);
	return 0;
}

/* What makes a builder's jobs what they are, as one string (malloc'd). */
static char *identity(const ebuilder *b)
{
	char *pj = eng_json_str_array(b->patterns, b->n_patterns);
	char *s = NULL;
	if (asprintf(&s, "%s\n%s\n%s\n%s\n%s\n%d", b->name ? b->name : "", b->uuid ? b->uuid : "",
	             b->version ? b->version : "", b->afp ? b->afp : "", pj ? pj : "", b->ok) < 0)
		s = NULL;
	free(pj);
	return s;
}

void eng_builders_refresh(engine *e, uint64_t mask)
{
	for (size_t i = 0; i < e->nb && i < 64; i++) {
		ebuilder *b = &e->b[i];
		if (!(mask & (1ULL << i)) || b->refresh)
			continue;
		free(b->prev_ident);
		b->prev_ident = identity(b);
		b->gen++;
		snprintf(b->key, sizeof b->key, "b%zu.%u", i, b->gen);
		b->ok = false;
		b->why_disabled = NULL;
		b->refresh = true;
		e->refreshing = true;
		klog(KLOG_INFO, "builder %s: its files changed; describing it again", b->cfg->exec);
	}
}

bool eng_builders_poll(engine *e)
{
	if (!e->refreshing)
		return false;
	bool waiting = false;
	struct stat xst;
	for (size_t i = 0; i < e->nb; i++) {
		ebuilder *b = &e->b[i];
		if (!b->refresh || b->describing || b->ok || b->why_disabled)
			continue;
		if (stat(b->cfg->exec_abs, &xst) != 0) {
			b->why_disabled =
			    arena_printf(e->ar, "cannot find %s: %s", b->cfg->exec_abs, strerror(errno));
			continue;
		}
		if (builder_from_cache(e, b, &xst, b->args_json)) {
			b->ok = true;
			continue;
		}
		waiting = true;
		if (!pool_can_submit(e->pool)) {
			pool_ensure(e->pool, 1);
			continue;
		}
		msgpack_sbuffer sb;
		msgpack_sbuffer_init(&sb);
		msg_encode_describe_req(&sb);
		hp_bytes frame = {(const uint8_t *)sb.data, sb.size};
		erun *r = eng_run_new(e, RUN_DESCRIBE, (int)i);
		if (r && pool_submit(e->pool, r->id, &b->hp, "", &frame, 1) == 0)
			b->describing = true;
		else if (r)
			eng_run_end(r);
		msgpack_sbuffer_destroy(&sb);
	}
	for (size_t i = 0; i < e->nb; i++)
		if (e->b[i].refresh && (e->b[i].describing || (!e->b[i].ok && !e->b[i].why_disabled)))
			waiting = true;
	if (waiting)
		return false;
	/* Every refreshed builder answered (or cannot be started). */
	bool changed = false;
	eng_begin(e);
	for (size_t i = 0; i < e->nb; i++) {
		ebuilder *b = &e->b[i];
		if (!b->refresh)
			continue;
		b->refresh = false;
		if (b->ok)
			builder_compile_patterns(e, b);
		if (b->ok && stat(b->cfg->exec_abs, &xst) == 0)
			builder_store(e, b, &xst, b->args_json, true);
		if (!b->ok)
			klog(KLOG_ERROR, "builder %s is disabled: %s", b->cfg->exec,
			     b->why_disabled ? b->why_disabled : "unknown");
		char *now = identity(b);
		bool same = now && b->prev_ident && strcmp(now, b->prev_ident) == 0;
		klog(KLOG_INFO, "builder %s described again: %s", b->cfg->exec,
		     same ? "unchanged; its process restarts at its next job"
		          : "changed; its jobs are weighed again");
		changed |= !same;
		free(now);
		free(b->prev_ident);
		b->prev_ident = NULL;
	}
	e->refreshing = false;
	eng_maybe_commit(e, true);
	return changed;
}

uint64_t eng_match_builders(engine *e, const char *rel)
{
	uint64_t m = 0;
	for (size_t i = 0; i < e->nb; i++) {
		ebuilder *b = &e->b[i];
		if (!b->ok && !b->disabled_matching)
			continue;
		for (size_t k = 0; k < b->n_patterns; k++) {
			if (pattern_match(b->pats[k], rel) == 1) {
				m |= 1ULL << i;
				break;
			}
		}
	}
	return m;
}
