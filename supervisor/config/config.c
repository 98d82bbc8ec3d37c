/* config.c: loading and checking kiln.json (SPEC section 2): the whole
 * file, its top-level keys and the defaults of what it leaves out.
 *
 * The file is parsed by jsonpos, which keeps the line and column of every
 * key and value, and then checked against the schema: the top-level object
 * here, its sections in sections.c, with the value checkers of schema.c.
 * The first problem found ends the load with "FILE:LINE:COL: message".
 * Everything in the resulting kiln_config lives in one arena owned by the
 * config, so a failed load cannot leak and config_free() is one call. */
#include "config/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config_priv.h"
#include "path.h"

#define HOSTS_MAX 256

/* The config and the arena that holds everything it points to. */
typedef struct cfg_holder {
	kiln_config c; /* first, so that a kiln_config * is a cfg_holder * */
	arena *a;
} cfg_holder;

static bool is_inside(const char *inner, const char *outer)
{
	size_t n = strlen(outer);
	if (strcmp(outer, "/") == 0)
		return true;
	return strncmp(inner, outer, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}

enum {
	K_PROJECT,
	K_PLATFORMS,
	K_CACHE,
	K_FOLDERS,
	K_EXCLUDES,
	K_BUILDERS,
	K_HOSTS,
	K_HTTP,
	K_SCAN,
	K_METADATA,
	K_CONTROL,
	K_MAX_PRODUCTS,
	K_N
};

static int check_top(cfg_ctx *x, const jp_value *top)
{
	static const char *const keys[K_N] = {"project",  "platforms", "cache",   "scan_folders",
	                                      "excludes", "builders",  "hosts",   "http",
	                                      "scan",     "metadata",  "control", "max_products_per_job"};
	const jp_member *m[K_N];
	kiln_config *c = x->c;
	const char *s;
	int64_t n;

	if (top->type != JP_OBJECT)
		return CFG_FAILV(x, top, "kiln.json must hold one JSON object, %s", cfg_not_what(x, top));
	if (cfg_check_keys(x, top, "the top-level object", keys, K_N, m))
		return x->rc;

	/* Scan folders narrow the project's platforms, so those come first;
	 * everything else is checked in the order of the file. */
	if (m[K_PLATFORMS]) {
		if (cfg_parse_platforms(x, m[K_PLATFORMS]->value))
			return x->rc;
	} else {
		c->platforms = arena_alloc(x->a, 2 * sizeof *c->platforms);
		if (!c->platforms || !(c->platforms[0] = arena_strdup(x->a, "pc")))
			return cfg_oom(x);
		c->n_platforms = 1;
	}
	for (size_t i = 0; i < top->u.obj.n; i++) {
		const jp_member *mem = &top->u.obj.members[i];
		const jp_value *v = mem->value;
		int k;
		for (k = 0; k < K_N; k++)
			if (m[k] == mem)
				break;
		switch (k) {
		case K_PROJECT:
			if (cfg_get_string(x, v, "project", true, &s))
				return x->rc;
			c->project = (char *)s;
			break;
		case K_CACHE:
			if (cfg_get_string(x, v, "cache", true, &s) || cfg_resolve(x, v, s, &c->cache))
				return x->rc;
			x->cache_v = v;
			break;
		case K_FOLDERS:
			if (cfg_parse_folders(x, v))
				return x->rc;
			break;
		case K_EXCLUDES:
			if (cfg_parse_excludes(x, v))
				return x->rc;
			break;
		case K_BUILDERS:
			if (cfg_parse_builders(x, v))
				return x->rc;
			break;
		case K_HOSTS:
			if (cfg_get_int(x, v, "hosts", 0, HOSTS_MAX, &n))
				return x->rc;
			c->hosts = (int)n;
			break;
		case K_HTTP: {
			const char *why;
			if (cfg_get_string(x, v, "http", false, &s))
				return x->rc;
			if ((why = cfg_hostport_problem(s)))
				return CFG_FAILV(
				    x, v,
				    "http %s %s; write \"HOST:PORT\" such as \"127.0.0.1:45644\", or \"\" "
				    "for no dashboard",
				    cfg_quote(x, s), why);
			c->http = (char *)s;
			break;
		}
		case K_SCAN:
			if (cfg_get_string(x, v, "scan", false, &s))
				return x->rc;
			if (strcmp(s, "fast") && strcmp(s, "hash"))
				return CFG_FAILV(x, v, "scan must be \"fast\" or \"hash\", not %s",
				                 cfg_quote(x, s));
			c->scan_hash = strcmp(s, "hash") == 0;
			break;
		case K_METADATA:
			if (cfg_parse_metadata(x, v))
				return x->rc;
			break;
		case K_MAX_PRODUCTS:
			if (cfg_get_int(x, v, "max_products_per_job", 1, CFG_MAX_PRODUCTS_LIMIT, &n))
				return x->rc;
			c->max_products_per_job = (size_t)n;
			break;
		case K_CONTROL:
			if (cfg_parse_control(x, v))
				return x->rc;
			break;
		default: /* K_PLATFORMS, done above */
			break;
		}
	}

	if (!c->project) {
		const char *base = path_basename(x->root);
		c->project = arena_strdup(x->a, *base ? base : "kiln");
	}
	if (!c->cache)
		cfg_resolve(x, top, "Cache", &c->cache);
	if (!c->http)
		c->http = arena_strdup(x->a, "127.0.0.1:45644");
	if (!c->excludes)
		c->excludes = arena_alloc(x->a, sizeof *c->excludes);
	if (x->rc || !c->project || !c->cache || !c->http || !c->excludes)
		return x->rc ? x->rc : cfg_oom(x);
	if (!c->builders && !(c->builders = arena_alloc(x->a, sizeof *c->builders)))
		return cfg_oom(x);
	if (!m[K_FOLDERS] && cfg_default_folders(x, top))
		return x->rc;
	if (cfg_default_control(x))
		return x->rc;

	/* The cache must be a folder (or not exist yet). */
	{
		struct stat cst;
		if (stat(c->cache, &cst) == 0 && !S_ISDIR(cst.st_mode))
			return CFG_FAILV(x, x->cache_v ? x->cache_v : top,
			                 "the cache %s exists and is not a folder", c->cache);
		if (stat(c->cache, &cst) != 0 && errno != ENOENT)
			return CFG_FAILV(x, x->cache_v ? x->cache_v : top, "cannot use the cache %s: %s",
			                 c->cache, strerror(errno));
	}

	/* The supervisor deletes and rewrites files in the cache at will; a
	 * scan folder inside it would lose sources. (The cache inside a scan
	 * folder is fine: the scanner skips it.) */
	for (size_t i = 0; i < c->n_folders; i++) {
		if (!is_inside(c->folders[i].abs, c->cache))
			continue;
		const jp_value *at = x->cache_v;
		if (!at && x->folder_pv) {
			for (size_t j = 0; j < c->n_folders; j++)
				if (strcmp(x->folder_pv[j]->u.str.s, c->folders[i].path) == 0)
					at = x->folder_pv[j];
		}
		if (!at)
			at = top;
		return CFG_FAILV(x, at,
		                 "scan folder %s lies inside the cache %s; kiln would delete its files",
		                 cfg_quote(x, c->folders[i].path), c->cache);
	}
	return 0;
}

int config_parse(const char *text, size_t len, const char *file, const char *root, const char *self_dir,
                 kiln_config **out, char *err, size_t errsz)
{
	cfg_holder *h = NULL;
	arena *a = NULL;
	char rootbuf[KILN_PATH_MAX], selfbuf[KILN_PATH_MAX], filebuf[KILN_PATH_MAX];
	jp_value *top = NULL;
	jp_error jerr;
	cfg_ctx x = {0};
	int rc;

	*out = NULL;
	if (err && errsz)
		err[0] = '\0';
	x.file = file ? file : "kiln.json";
	x.err = err;
	x.errsz = errsz;
	if (!(a = arena_new()) || !(h = arena_alloc(a, sizeof *h))) {
		rc = cfg_oom(&x);
		goto fail;
	}
	h->a = a;
	x.a = a;
	x.c = &h->c;
	if ((rc = cfg_absolute_dir(root, rootbuf, sizeof rootbuf))) {
		snprintf(err, errsz, "%s: project root %s: %s", x.file, root, strerror(-rc));
		goto fail;
	}
	if (self_dir)
		rc = cfg_absolute_dir(self_dir, selfbuf, sizeof selfbuf);
	else
		rc = path_self_dir(selfbuf, sizeof selfbuf);
	if (rc) {
		snprintf(err, errsz, "%s: cannot find the kiln binary's folder: %s", x.file, strerror(-rc));
		goto fail;
	}
	x.root = rootbuf;
	x.self_dir = selfbuf;
	if (path_join(filebuf, sizeof filebuf, rootbuf, x.file)) {
		rc = CFG_FAIL(&x, 1, 1, "path too long");
		goto fail;
	}
	h->c.file = arena_strdup(a, filebuf);
	h->c.root = arena_strdup(a, rootbuf);
	if (!h->c.file || !h->c.root) {
		rc = cfg_oom(&x);
		goto fail;
	}
	if (len > CFG_MAX_FILE) {
		rc = CFG_FAIL(&x, 1, 1, "the file is larger than %u bytes; this is not a project file",
		              CFG_MAX_FILE);
		goto fail;
	}
	rc = jp_parse(a, text, len, &top, &jerr);
	if (rc == -ENOMEM) {
		rc = cfg_oom(&x);
		goto fail;
	}
	if (rc) {
		rc = CFG_FAIL(&x, jerr.line, jerr.col, "%s", jerr.msg);
		goto fail;
	}
	if ((rc = check_top(&x, top)))
		goto fail;
	*out = &h->c;
	return 0;
fail:
	arena_free(a);
	return rc;
}

void config_free(kiln_config *c)
{
	if (c)
		arena_free(((cfg_holder *)c)->a);
}
