/* sections.c: the sections of kiln.json (SPEC section 2): platforms,
 * scan_folders, excludes, builders, metadata and control.
 *
 * Each section is checked whole before the next: names against what they
 * will name on disk (platforms are cache folders), paths against the disk
 * (scan folders must exist, builders must be executable), patterns and
 * regexes by compiling them, and lists against repeats. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_priv.h"
#include "path.h"
#include "pattern.h"

#define TIMEOUT_MIN       1
#define TIMEOUT_MAX       86400
#define MEMORY_MIN        16
#define MEMORY_MAX        1048576
#define ORDER_LIMIT       1000000000
#define PLATFORM_NAME_MAX 64
#define ALLOW_MAX         256
#define TOKEN_MAX         256

static bool is_platform_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool is_ext_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
}

/* ---- platforms ---- */

int cfg_parse_platforms(cfg_ctx *x, const jp_value *v)
{
	/* Cache/<platform>/ sits beside these folders of the cache (SPEC 6). */
	static const char *const reserved[] = {"intermediate", "logs", "tmp"};
	kiln_config *c = x->c;
	size_t dup, first;

	if (cfg_get_strings(x, v, "platforms", true, &c->platforms, &c->n_platforms))
		return x->rc;
	if (c->n_platforms == 0)
		return CFG_FAILV(x, v, "platforms must name at least one platform");
	for (size_t i = 0; i < c->n_platforms; i++) {
		const char *p = c->platforms[i];
		const jp_value *iv = v->u.arr.items[i];
		size_t len = strlen(p);
		for (size_t j = 0; j < len; j++)
			if (!is_platform_char(p[j]))
				return CFG_FAILV(
				    x, iv,
				    "platform name %s may hold only a-z, 0-9, '_' and '-' (it names a cache "
				    "folder)",
				    cfg_quote(x, p));
		if (len > PLATFORM_NAME_MAX)
			return CFG_FAILV(x, iv, "platform name %s is longer than %d bytes", cfg_quote(x, p),
			                 PLATFORM_NAME_MAX);
		for (size_t r = 0; r < sizeof reserved / sizeof reserved[0]; r++)
			if (strcmp(p, reserved[r]) == 0)
				return CFG_FAILV(
				    x, iv, "platform name %s is reserved (Cache/%s/ holds something else)",
				    cfg_quote(x, p), p);
	}
	if (cfg_find_dup(x, c->platforms, c->n_platforms, &dup, &first))
		return x->rc;
	if (dup < c->n_platforms)
		return CFG_FAILV(x, v->u.arr.items[dup], "platform %s is listed twice (first at %d:%d)",
		                 cfg_quote(x, c->platforms[dup]), v->u.arr.items[first]->line,
		                 v->u.arr.items[first]->col);
	return 0;
}

static bool is_platform(const kiln_config *c, const char *p)
{
	for (size_t i = 0; i < c->n_platforms; i++)
		if (strcmp(c->platforms[i], p) == 0)
			return true;
	return false;
}

/* ---- scan_folders ---- */

static int check_folder_exists(cfg_ctx *x, const jp_value *v, const cfg_scan_folder *f)
{
	struct stat st;
	if (stat(f->abs, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return CFG_FAILV(x, v, "scan folder %s does not exist: %s", cfg_quote(x, f->path),
			                 f->abs);
		return CFG_FAILV(x, v, "scan folder %s cannot be reached: %s: %s", cfg_quote(x, f->path),
		                 f->abs, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return CFG_FAILV(x, v, "scan folder %s is not a folder: %s", cfg_quote(x, f->path), f->abs);
	return 0;
}

static int parse_folder(cfg_ctx *x, const jp_value *v, size_t idx, cfg_scan_folder *f)
{
	static const char *const keys[] = {"path", "recursive", "order", "platforms"};
	const jp_member *m[4];
	const char *where = cfg_item_name(x, "scan_folders", idx);
	const char *s;
	int64_t order;
	size_t dup, first;

	if (v->type != JP_OBJECT)
		return CFG_FAILV(x, v, "%s must be an object such as {\"path\": \"Assets\"}, %s", where,
		                 cfg_not_what(x, v));
	if (cfg_check_keys(x, v, where, keys, 4, m))
		return x->rc;
	f->recursive = true;
	if (!m[0])
		return CFG_FAILV(x, v, "%s has no \"path\"", where);
	x->folder_pv[idx] = m[0]->value;
	if (cfg_get_string(x, m[0]->value, cfg_sub(x, where, "path"), true, &s))
		return x->rc;
	f->path = (char *)s;
	if (cfg_resolve(x, m[0]->value, s, &f->abs) || check_folder_exists(x, m[0]->value, f))
		return x->rc;
	if (m[1] && cfg_get_bool(x, m[1]->value, cfg_sub(x, where, "recursive"), &f->recursive))
		return x->rc;
	if (m[2]) {
		if (cfg_get_int(x, m[2]->value, cfg_sub(x, where, "order"), -ORDER_LIMIT, ORDER_LIMIT,
		                &order))
			return x->rc;
		f->order = (int)order;
	}
	if (m[3]) {
		const jp_value *pv = m[3]->value;
		const char *name = cfg_sub(x, where, "platforms");
		if (cfg_get_strings(x, pv, name, true, &f->platforms, &f->n_platforms))
			return x->rc;
		if (f->n_platforms == 0)
			return CFG_FAILV(x, pv, "%s must name at least one platform (leave it out for all)",
			                 name);
		for (size_t i = 0; i < f->n_platforms; i++)
			if (!is_platform(x->c, f->platforms[i]))
				return CFG_FAILV(x, pv->u.arr.items[i],
				                 "%s is not one of the project's platforms",
				                 cfg_quote(x, f->platforms[i]));
		if (cfg_find_dup(x, f->platforms, f->n_platforms, &dup, &first))
			return x->rc;
		if (dup < f->n_platforms)
			return CFG_FAILV(x, pv->u.arr.items[dup],
			                 "platform %s is listed twice (first at %d:%d)",
			                 cfg_quote(x, f->platforms[dup]), pv->u.arr.items[first]->line,
			                 pv->u.arr.items[first]->col);
	}
	return 0;
}

typedef struct ordered {
	int order;
	size_t i;
} ordered;

static int cmp_ordered(const void *a, const void *b)
{
	const ordered *x = a, *y = b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

int cfg_parse_folders(cfg_ctx *x, const jp_value *v)
{
	kiln_config *c = x->c;
	cfg_scan_folder *tmp;
	ordered *ord;
	char **abs;
	size_t n, dup, first;

	if (v->type != JP_ARRAY)
		return CFG_FAILV(x, v, "scan_folders must be an array of objects, %s", cfg_not_what(x, v));
	n = v->u.arr.n;
	if (n == 0)
		return CFG_FAILV(x, v, "scan_folders must list at least one folder");
	tmp = arena_alloc(x->a, n * sizeof *tmp);
	x->folder_pv = arena_alloc(x->a, n * sizeof *x->folder_pv);
	abs = arena_alloc(x->a, n * sizeof *abs);
	ord = arena_alloc(x->a, n * sizeof *ord);
	c->folders = arena_alloc(x->a, n * sizeof *c->folders);
	if (!tmp || !x->folder_pv || !abs || !ord || !c->folders)
		return cfg_oom(x);
	for (size_t i = 0; i < n; i++) {
		if (parse_folder(x, v->u.arr.items[i], i, &tmp[i]))
			return x->rc;
		abs[i] = tmp[i].abs;
	}
	if (cfg_find_dup(x, abs, n, &dup, &first))
		return x->rc;
	if (dup < n)
		return CFG_FAILV(x, x->folder_pv[dup], "scan folder %s is listed twice (first at %d:%d)",
		                 cfg_quote(x, tmp[dup].path), x->folder_pv[first]->line,
		                 x->folder_pv[first]->col);
	/* Sorting on (order, position in the file) is a stable sort by order. */
	for (size_t i = 0; i < n; i++) {
		ord[i].order = tmp[i].order;
		ord[i].i = i;
	}
	qsort(ord, n, sizeof *ord, cmp_ordered);
	for (size_t i = 0; i < n; i++)
		c->folders[i] = tmp[ord[i].i];
	c->n_folders = n;
	return 0;
}

int cfg_default_folders(cfg_ctx *x, const jp_value *top)
{
	kiln_config *c = x->c;
	cfg_scan_folder *f = arena_alloc(x->a, sizeof *f);
	struct stat st;

	if (!f)
		return cfg_oom(x);
	f->path = arena_strdup(x->a, "Assets");
	if (!f->path || cfg_resolve(x, top, f->path, &f->abs))
		return x->rc ? x->rc : cfg_oom(x);
	f->recursive = true;
	if (stat(f->abs, &st) != 0 || !S_ISDIR(st.st_mode))
		return CFG_FAILV(
		    x, top,
		    "no scan_folders are listed and the default scan folder \"Assets\" is missing: %s "
		    "(create it or list scan_folders)",
		    f->abs);
	c->folders = f;
	c->n_folders = 1;
	return 0;
}

/* ---- excludes ---- */

int cfg_parse_excludes(cfg_ctx *x, const jp_value *v)
{
	kiln_config *c = x->c;
	if (cfg_get_strings(x, v, "excludes", false, &c->excludes, &c->n_excludes))
		return x->rc;
	for (size_t i = 0; i < c->n_excludes; i++) {
		const jp_value *iv = v->u.arr.items[i];
		kpattern *p = NULL;
		char msg[256] = "";
		int rc;
		if (c->excludes[i][0] == '\0')
			return CFG_FAILV(x, iv, "excludes[%zu] is empty; it would exclude every file", i);
		rc = regex_compile(c->excludes[i], &p, msg, sizeof msg);
		pattern_free(p);
		if (rc == -ENOMEM)
			return cfg_oom(x);
		if (rc)
			return CFG_FAILV(x, iv, "excludes[%zu] %s is not a valid regex: %s", i,
			                 cfg_quote(x, c->excludes[i]), msg);
	}
	return 0;
}

/* ---- builders ---- */

/* Notes why b's executable cannot be run, with the position of its "exec"
 * value. It is no error of kiln.json: the builder is disabled for the run
 * and the others work (SPEC 7). */
static void check_exec(cfg_ctx *x, const jp_value *v, cfg_builder *b)
{
	struct stat st;
	const char *why = NULL;
	if (stat(b->exec_abs, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			why = arena_printf(
			    x->a, "builder %s not found: %s does not exist%s", cfg_quote(x, b->exec),
			    b->exec_abs,
			    b->internal ? " (an exec without '/' names a builder shipped beside kiln)" : "");
		else
			why = arena_printf(x->a, "builder %s cannot be reached: %s: %s",
			                   cfg_quote(x, b->exec), b->exec_abs, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		why = arena_printf(x->a, "builder %s is not a file: %s", cfg_quote(x, b->exec), b->exec_abs);
	} else if (access(b->exec_abs, X_OK) != 0) {
		why = arena_printf(x->a, "builder %s is not executable: %s", cfg_quote(x, b->exec),
		                   b->exec_abs);
	}
	if (why)
		b->problem = arena_printf(x->a, "%s:%d:%d: %s", x->file, v->line, v->col, why);
}

static int parse_builder(cfg_ctx *x, const jp_value *v, size_t idx, cfg_builder *b)
{
	static const char *const keys[] = {"exec",      "args",      "patterns",
	                                   "timeout_s", "memory_mb", "persistent"};
	const jp_member *m[6];
	const char *where = cfg_item_name(x, "builders", idx);
	const char *s;
	int64_t n;

	if (v->type != JP_OBJECT)
		return CFG_FAILV(x, v, "%s must be an object such as {\"exec\": \"kiln-copy\"}, %s", where,
		                 cfg_not_what(x, v));
	if (cfg_check_keys(x, v, where, keys, 6, m))
		return x->rc;
	b->timeout_s = 600;
	b->memory_mb = 4096;
	b->persistent = true;
	if (!m[0])
		return CFG_FAILV(x, v, "%s has no \"exec\"", where);
	if (cfg_get_string(x, m[0]->value, cfg_sub(x, where, "exec"), true, &s))
		return x->rc;
	b->exec = (char *)s;
	b->internal = strchr(s, '/') == NULL;
	if (b->internal) {
		char p[KILN_PATH_MAX];
		if (path_join(p, sizeof p, x->self_dir, s))
			return CFG_FAILV(x, m[0]->value, "builder %s: path too long", cfg_quote(x, s));
		b->exec_abs = arena_strdup(x->a, p);
		if (!b->exec_abs)
			return cfg_oom(x);
	} else if (cfg_resolve(x, m[0]->value, s, &b->exec_abs)) {
		return x->rc;
	}
	check_exec(x, m[0]->value, b);
	if (m[1] && cfg_get_strings(x, m[1]->value, cfg_sub(x, where, "args"), false, &b->args, &b->n_args))
		return x->rc;
	if (!b->args) {
		b->args = arena_alloc(x->a, sizeof *b->args);
		if (!b->args)
			return cfg_oom(x);
	}
	if (m[2]) {
		const jp_value *pv = m[2]->value;
		const char *name = cfg_sub(x, where, "patterns");
		if (cfg_get_strings(x, pv, name, true, &b->patterns, &b->n_patterns))
			return x->rc;
		if (b->n_patterns == 0)
			return CFG_FAILV(
			    x, pv, "%s must hold at least one pattern (leave it out for the builder's own)",
			    name);
		for (size_t i = 0; i < b->n_patterns; i++) {
			kpattern *p = NULL;
			char msg[256] = "";
			int rc = pattern_compile(b->patterns[i], &p, msg, sizeof msg);
			pattern_free(p);
			if (rc == -ENOMEM)
				return cfg_oom(x);
			if (rc)
				return CFG_FAILV(x, pv->u.arr.items[i], "%s[%zu] %s does not compile: %s",
				                 name, i, cfg_quote(x, b->patterns[i]), msg);
		}
		b->has_patterns = true;
	} else {
		b->patterns = arena_alloc(x->a, sizeof *b->patterns);
		if (!b->patterns)
			return cfg_oom(x);
	}
	if (m[3]) {
		if (cfg_get_int(x, m[3]->value, cfg_sub(x, where, "timeout_s"), TIMEOUT_MIN, TIMEOUT_MAX, &n))
			return x->rc;
		b->timeout_s = (uint32_t)n;
	}
	if (m[4]) {
		if (cfg_get_int(x, m[4]->value, cfg_sub(x, where, "memory_mb"), MEMORY_MIN, MEMORY_MAX, &n))
			return x->rc;
		b->memory_mb = (uint32_t)n;
	}
	if (m[5] && cfg_get_bool(x, m[5]->value, cfg_sub(x, where, "persistent"), &b->persistent))
		return x->rc;
	return 0;
}

/* The same program with the same arguments is the same builder (same
 * uuid); with other arguments it may well not be. Length prefixes keep
 * ("a b") and ("a", "b") apart. Built in one allocation: a hostile file may
 * hold very many args. */
static char *builder_ident(cfg_ctx *x, const cfg_builder *b)
{
	size_t total = 0, o = 0;
	char *id;

	total += strlen(b->exec_abs) + 24;
	for (size_t a = 0; a < b->n_args; a++)
		total += strlen(b->args[a]) + 24;
	id = arena_alloc(x->a, total + 1);
	if (!id)
		return NULL;
	o += (size_t)snprintf(id + o, total + 1 - o, "%zu:%s", strlen(b->exec_abs), b->exec_abs);
	for (size_t a = 0; a < b->n_args; a++)
		o += (size_t)snprintf(id + o, total + 1 - o, "%zu:%s", strlen(b->args[a]), b->args[a]);
	return id;
}

int cfg_parse_builders(cfg_ctx *x, const jp_value *v)
{
	kiln_config *c = x->c;
	char **ident;
	size_t n, dup, first;

	if (v->type != JP_ARRAY)
		return CFG_FAILV(x, v, "builders must be an array of objects, %s", cfg_not_what(x, v));
	n = v->u.arr.n;
	c->builders = arena_alloc(x->a, (n ? n : 1) * sizeof *c->builders);
	ident = arena_alloc(x->a, (n ? n : 1) * sizeof *ident);
	if (!c->builders || !ident)
		return cfg_oom(x);
	for (size_t i = 0; i < n; i++) {
		const cfg_builder *b = &c->builders[i];
		char *id;
		if (parse_builder(x, v->u.arr.items[i], i, &c->builders[i]))
			return x->rc;
		id = builder_ident(x, b);
		if (!id)
			return cfg_oom(x);
		ident[i] = id;
	}
	c->n_builders = n;
	if (cfg_find_dup(x, ident, n, &dup, &first))
		return x->rc;
	if (dup < n) {
		const jp_value *d = jp_get(v->u.arr.items[dup], "exec")->value;
		const jp_value *f = jp_get(v->u.arr.items[first], "exec")->value;
		return CFG_FAILV(x, d, "builder %s is listed twice with the same args (first at %d:%d)",
		                 cfg_quote(x, c->builders[dup].exec), f->line, f->col);
	}
	return 0;
}

/* ---- metadata ---- */

int cfg_parse_metadata(cfg_ctx *x, const jp_value *v)
{
	kiln_config *c = x->c;
	const jp_member *dm, *fm;
	char **exts;
	size_t n, dup, first;

	if (v->type != JP_OBJECT)
		return CFG_FAILV(x, v, "metadata must be an object such as {\"assetinfo\": [\"fbx\"]}, %s",
		                 cfg_not_what(x, v));
	if (jp_find_duplicate(x->a, v, &dm, &fm))
		return cfg_oom(x);
	if (dm)
		return CFG_FAIL(x, dm->line, dm->col, "duplicate key %s in metadata (first at %d:%d)",
		                cfg_quote(x, dm->key), fm->line, fm->col);
	n = v->u.obj.n;
	c->metadata = arena_alloc(x->a, (n ? n : 1) * sizeof *c->metadata);
	exts = arena_alloc(x->a, (n ? n : 1) * sizeof *exts);
	if (!c->metadata || !exts)
		return cfg_oom(x);
	for (size_t i = 0; i < n; i++) {
		const jp_member *m = &v->u.obj.members[i];
		cfg_metadata *md = &c->metadata[i];
		const char *name = arena_printf(x->a, "metadata.%s", m->key);
		if (m->key_len == 0)
			return CFG_FAIL(x, m->line, m->col, "a metadata extension must not be empty");
		for (size_t j = 0; j < m->key_len; j++)
			if (!is_ext_char(m->key[j]))
				return CFG_FAIL(
				    x, m->line, m->col,
				    "metadata extension %s may hold only letters, digits, '_' and '-' "
				    "(write it without the dot)",
				    cfg_quote(x, m->key));
		md->ext = arena_strdup(x->a, m->key);
		if (!md->ext || !name)
			return cfg_oom(x);
		path_lower(md->ext);
		exts[i] = md->ext;
		if (cfg_get_strings(x, m->value, name, true, &md->source_exts, &md->n_source_exts))
			return x->rc;
		if (md->n_source_exts == 0)
			return CFG_FAILV(x, m->value, "%s must name at least one source extension", name);
		for (size_t j = 0; j < md->n_source_exts; j++) {
			char *e = md->source_exts[j];
			for (const char *p = e; *p; p++)
				if (!is_ext_char(*p))
					return CFG_FAILV(
					    x, m->value->u.arr.items[j],
					    "extension %s may hold only letters, digits, '_' and "
					    "'-' (write it "
					    "without the dot)",
					    cfg_quote(x, e));
			/* The decoded string lives in the parse arena; lowercase a copy. */
			md->source_exts[j] = e = arena_strdup(x->a, e);
			if (!e)
				return cfg_oom(x);
			path_lower(e);
		}
		if (cfg_find_dup(x, md->source_exts, md->n_source_exts, &dup, &first))
			return x->rc;
		if (dup < md->n_source_exts)
			return CFG_FAILV(
			    x, m->value->u.arr.items[dup], "extension %s is listed twice (first at %d:%d)",
			    cfg_quote(x, md->source_exts[dup]), m->value->u.arr.items[first]->line,
			    m->value->u.arr.items[first]->col);
	}
	c->n_metadata = n;
	if (cfg_find_dup(x, exts, n, &dup, &first))
		return x->rc;
	if (dup < n)
		return CFG_FAIL(
		    x, v->u.obj.members[dup].line, v->u.obj.members[dup].col,
		    "metadata extension %s is listed twice (first at %d:%d; case does not matter)",
		    cfg_quote(x, v->u.obj.members[dup].key), v->u.obj.members[first].line,
		    v->u.obj.members[first].col);
	return 0;
}

/* ---- control ---- */

int cfg_parse_control(cfg_ctx *x, const jp_value *v)
{
	static const char *const keys[] = {"tcp", "allow", "token"};
	const jp_member *m[3];
	cfg_control *cc = &x->c->control;
	const char *s;

	if (v->type != JP_OBJECT)
		return CFG_FAILV(
		    x, v,
		    "control must be an object such as {\"tcp\": \"127.0.0.1:45645\", \"allow\": "
		    "[\"127.0.0.1\"], \"token\": \"...\"}, %s",
		    cfg_not_what(x, v));
	if (cfg_check_keys(x, v, "control", keys, 3, m))
		return x->rc;
	if (m[0]) {
		const char *why;
		if (cfg_get_string(x, m[0]->value, "control.tcp", false, &s))
			return x->rc;
		if ((why = cfg_hostport_problem(s)))
			return CFG_FAILV(
			    x, m[0]->value,
			    "control.tcp %s %s; write \"HOST:PORT\" such as \"127.0.0.1:45645\", or "
			    "leave it out for no TCP",
			    cfg_quote(x, s), why);
		cc->tcp = s[0] ? (char *)s : NULL;
	}
	if (m[1]) {
		const jp_value *av = m[1]->value;
		if (cfg_get_strings(x, av, "control.allow", true, &cc->allow, &cc->n_allow))
			return x->rc;
		if (cc->n_allow == 0)
			return CFG_FAILV(
			    x, av,
			    "control.allow must list at least one address (leave it out for this "
			    "machine only)");
		if (cc->n_allow > ALLOW_MAX)
			return CFG_FAILV(x, av, "control.allow lists more than %d entries", ALLOW_MAX);
		cc->allow_nets = arena_alloc(x->a, cc->n_allow * sizeof *cc->allow_nets);
		if (!cc->allow_nets)
			return cfg_oom(x);
		for (size_t i = 0; i < cc->n_allow; i++) {
			const char *why = "";
			if (config_parse_cidr(cc->allow[i], &cc->allow_nets[i], &why) != 0)
				return CFG_FAILV(
				    x, av->u.arr.items[i],
				    "control.allow[%zu] %s %s; write an address such as \"127.0.0.1\" "
				    "or a network such as \"10.0.0.0/8\"",
				    i, cfg_quote(x, cc->allow[i]), why);
		}
	}
	if (m[2]) {
		if (cfg_get_string(x, m[2]->value, "control.token", true, &s))
			return x->rc;
		if (m[2]->value->u.str.len > TOKEN_MAX)
			return CFG_FAILV(x, m[2]->value, "control.token is longer than %d bytes", TOKEN_MAX);
		cc->token = (char *)s;
	}
	if (cc->tcp && !cc->token)
		return CFG_FAILV(x, v,
		                 "control has \"tcp\" but no \"token\": every request over TCP must carry "
		                 "the token, so set one");
	return 0;
}

int cfg_default_control(cfg_ctx *x)
{
	static const char *const loopback[] = {"127.0.0.1", "::1"};
	cfg_control *cc = &x->c->control;
	const char *why = "";

	if (cc->allow)
		return 0;
	cc->allow = arena_alloc(x->a, 3 * sizeof *cc->allow);
	cc->allow_nets = arena_alloc(x->a, 2 * sizeof *cc->allow_nets);
	if (!cc->allow || !cc->allow_nets)
		return cfg_oom(x);
	for (size_t i = 0; i < 2; i++) {
		if (!(cc->allow[i] = arena_strdup(x->a, loopback[i])))
			return cfg_oom(x);
		(void)config_parse_cidr(loopback[i], &cc->allow_nets[i], &why);
	}
	cc->allow[2] = NULL;
	cc->n_allow = 2;
	return 0;
}
