/* config.c: loading and checking kiln.json (SPEC section 2).
 *
 * The file is parsed by jsonpos, which keeps the line and column of every
 * key and value, and then checked against the schema below. The first
 * problem found ends the load with "FILE:LINE:COL: message". Everything in
 * the resulting kiln_config lives in one arena owned by the config, so a
 * failed load cannot leak and config_free() is one call. */
#include "config/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "jsonpos.h"
#include "kerr.h"
#include "path.h"
#include "pattern.h"

/* A kiln.json beyond this is not a project file; refusing it early keeps a
 * hostile file from costing more than a few MiB of tree. */
#define CFG_MAX_FILE (1u << 20)

#define TIMEOUT_MIN       1
#define TIMEOUT_MAX       86400
#define MEMORY_MIN        16
#define MEMORY_MAX        1048576
#define HOSTS_MAX         256
#define ORDER_LIMIT       1000000000
#define PLATFORM_NAME_MAX 64
#define ALLOW_MAX         256
#define TOKEN_MAX         256

/* The config and the arena that holds everything it points to. */
typedef struct cfg_holder {
	kiln_config c; /* first, so that a kiln_config * is a cfg_holder * */
	arena *a;
} cfg_holder;

typedef struct ctx {
	arena *a;
	const char *file; /* for messages */
	const char *root; /* absolute, normalised */
	const char *self_dir;
	char *err;
	size_t errsz;
	int rc;
	kiln_config *c;
	const jp_value *cache_v;    /* the "cache" value, when given */
	const jp_value **folder_pv; /* each folder's "path" value, in file order */
} ctx;

static int cfg_fail(ctx *x, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int cfg_fail(ctx *x, int line, int col, const char *fmt, ...)
{
	if (x->rc == 0) {
		x->rc = KILN_E_CONFIG;
		if (x->err && x->errsz) {
			int n = snprintf(x->err, x->errsz, "%s:%d:%d: ", x->file, line, col);
			if (n >= 0 && (size_t)n < x->errsz) {
				va_list ap;
				va_start(ap, fmt);
				vsnprintf(x->err + n, x->errsz - (size_t)n, fmt, ap);
				va_end(ap);
			}
		}
	}
	return x->rc;
}

#define FAILV(x, v, ...) cfg_fail((x), (v)->line, (v)->col, __VA_ARGS__)

static int oom(ctx *x)
{
	if (x->rc == 0) {
		x->rc = -ENOMEM;
		if (x->err && x->errsz)
			snprintf(x->err, x->errsz, "%s: out of memory", x->file);
	}
	return x->rc;
}

/* Quotes a string from the file for a message: escapes what would garble
 * a terminal and cuts long ones short, at a UTF-8 character boundary. */
static const char *q(ctx *x, const char *s)
{
	enum { SHOWN = 60 };
	char buf[SHOWN * 4 + 8];
	size_t o = 0, i = 0, n = strlen(s);
	size_t cut = n > SHOWN ? SHOWN : n;
	const char *r;

	while (cut < n && cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	buf[o++] = '"';
	for (; i < cut; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (c == '\t') {
			buf[o++] = '\\';
			buf[o++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, sizeof buf - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	if (cut < n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	r = arena_strndup(x->a, buf, o);
	return r ? r : "\"?\"";
}

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions, so "porject" is one edit from "project"), for "did you
 * mean" suggestions. Returns a large value for strings too long to matter. */
static int edit_distance(const char *a, const char *b)
{
	enum { MAXL = 32 };
	int d[MAXL + 1][MAXL + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > MAXL || lb > MAXL)
		return 1000;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* Checks every key of obj against allowed (in document order, so the first
 * wrong key in the file is the one reported) and fills found[i] with the
 * member for allowed[i], or NULL. where names obj in messages. */
static int check_keys(ctx *x, const jp_value *obj, const char *where, const char *const *allowed,
                      size_t n_allowed, const jp_member **found)
{
	for (size_t i = 0; i < n_allowed; i++)
		found[i] = NULL;
	for (size_t m = 0; m < obj->u.obj.n; m++) {
		const jp_member *mem = &obj->u.obj.members[m];
		size_t k;
		for (k = 0; k < n_allowed; k++)
			if (strcmp(mem->key, allowed[k]) == 0)
				break;
		if (k < n_allowed) {
			if (found[k])
				return cfg_fail(x, mem->line, mem->col,
				                "duplicate key %s in %s (first at %d:%d)", q(x, mem->key),
				                where, found[k]->line, found[k]->col);
			found[k] = mem;
			continue;
		}
		const char *best = NULL;
		int best_d = 3;
		for (k = 0; k < n_allowed; k++) {
			int dist = edit_distance(mem->key, allowed[k]);
			if (dist < best_d) {
				best_d = dist;
				best = allowed[k];
			}
		}
		if (best)
			return cfg_fail(x, mem->line, mem->col, "unknown key %s in %s; did you mean \"%s\"?",
			                q(x, mem->key), where, best);
		char list[256];
		size_t o = 0;
		list[0] = '\0';
		for (k = 0; k < n_allowed; k++)
			o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", k ? ", " : "", allowed[k]);
		return cfg_fail(x, mem->line, mem->col, "unknown key %s in %s (known keys: %s)",
		                q(x, mem->key), where, list);
	}
	return 0;
}

/* "not 0", "not 1.5", "not a string": what the file held instead. */
static const char *not_what(ctx *x, const jp_value *v)
{
	const char *s = NULL;
	if (v->type == JP_NUMBER && v->u.num.is_integer)
		s = arena_printf(x->a, "not %lld", (long long)v->u.num.i);
	else if (v->type == JP_NUMBER && v->u.num.d > -1e15 && v->u.num.d < 1e15 &&
	         v->u.num.d == (double)(int64_t)v->u.num.d)
		/* 4.0 or 4e0: show why "4" is not taken for an integer. */
		s = arena_printf(x->a, "not %.0f written with a fraction or an exponent", v->u.num.d);
	else if (v->type == JP_NUMBER)
		s = arena_printf(x->a, "not %g", v->u.num.d);
	else if (v->type == JP_BOOL)
		s = v->u.b ? "not true" : "not false";
	else
		s = arena_printf(x->a, "not %s", jp_type_name(v->type));
	return s ? s : "not that";
}

static int get_string(ctx *x, const jp_value *v, const char *name, bool nonempty, const char **out)
{
	if (v->type != JP_STRING)
		return FAILV(x, v, "%s must be a string, %s", name, not_what(x, v));
	if (nonempty && v->u.str.len == 0)
		return FAILV(x, v, "%s must not be empty", name);
	*out = v->u.str.s;
	return 0;
}

static int get_bool(ctx *x, const jp_value *v, const char *name, bool *out)
{
	if (v->type != JP_BOOL)
		return FAILV(x, v, "%s must be true or false, %s", name, not_what(x, v));
	*out = v->u.b;
	return 0;
}

static int get_int(ctx *x, const jp_value *v, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
	if (v->type != JP_NUMBER || !v->u.num.is_integer || v->u.num.i < lo || v->u.num.i > hi)
		return FAILV(x, v, "%s must be an integer from %lld to %lld, %s", name, (long long)lo,
		             (long long)hi, not_what(x, v));
	*out = v->u.num.i;
	return 0;
}

static const char *item_name(ctx *x, const char *name, size_t i)
{
	const char *s = arena_printf(x->a, "%s[%zu]", name, i);
	return s ? s : name;
}

static const char *sub(ctx *x, const char *where, const char *key)
{
	const char *s = arena_printf(x->a, "%s.%s", where, key);
	return s ? s : key;
}

/* An array of strings into a NULL-terminated arena array. */
static int get_strings(ctx *x, const jp_value *v, const char *name, bool nonempty_items, char ***out,
                       size_t *n)
{
	char **list;
	if (v->type != JP_ARRAY)
		return FAILV(x, v, "%s must be an array of strings, %s", name, not_what(x, v));
	list = arena_alloc(x->a, (v->u.arr.n + 1) * sizeof *list);
	if (!list)
		return oom(x);
	for (size_t i = 0; i < v->u.arr.n; i++) {
		const char *s = NULL;
		if (get_string(x, v->u.arr.items[i], item_name(x, name, i), nonempty_items, &s))
			return x->rc;
		list[i] = (char *)s;
	}
	list[v->u.arr.n] = NULL;
	*out = list;
	*n = v->u.arr.n;
	return 0;
}

typedef struct keyed {
	const char *s;
	size_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	int c = strcmp(x->s, y->s);
	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Finds the string of s[0..n) that repeats an earlier one, earliest in the
 * list, in O(n log n): a hostile file may hold a very long list. Sets *dup
 * and *first to its index and the index of the earlier copy, or *dup to n. */
static int find_dup(ctx *x, char *const *s, size_t n, size_t *dup, size_t *first)
{
	keyed *k;
	*dup = n;
	*first = n;
	if (n < 2)
		return 0;
	k = arena_alloc(x->a, n * sizeof *k);
	if (!k)
		return oom(x);
	for (size_t i = 0; i < n; i++) {
		k[i].s = s[i];
		k[i].i = i;
	}
	qsort(k, n, sizeof *k, cmp_keyed);
	for (size_t i = 1, run = 0; i < n; i++) {
		if (strcmp(k[i].s, k[run].s) != 0) {
			run = i;
		} else if (k[i].i < *dup) {
			*dup = k[i].i;
			*first = k[run].i;
		}
	}
	return 0;
}

/* root + p, normalised, into the arena. */
static int resolve(ctx *x, const jp_value *v, const char *p, char **out)
{
	char joined[KILN_PATH_MAX], norm[KILN_PATH_MAX];
	if (path_join(joined, sizeof joined, x->root, p) || path_normalize(joined, norm, sizeof norm))
		return FAILV(x, v, "path %s is too long", q(x, p));
	*out = arena_strdup(x->a, norm);
	return *out ? 0 : oom(x);
}

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

static int do_platforms(ctx *x, const jp_value *v)
{
	/* Cache/<platform>/ sits beside these folders of the cache (SPEC 6). */
	static const char *const reserved[] = {"intermediate", "logs", "tmp"};
	kiln_config *c = x->c;
	size_t dup, first;

	if (get_strings(x, v, "platforms", true, &c->platforms, &c->n_platforms))
		return x->rc;
	if (c->n_platforms == 0)
		return FAILV(x, v, "platforms must name at least one platform");
	for (size_t i = 0; i < c->n_platforms; i++) {
		const char *p = c->platforms[i];
		const jp_value *iv = v->u.arr.items[i];
		size_t len = strlen(p);
		for (size_t j = 0; j < len; j++)
			if (!is_platform_char(p[j]))
				return FAILV(
				    x, iv,
				    "platform name %s may hold only a-z, 0-9, '_' and '-' (it names a cache "
				    "folder)",
				    q(x, p));
		if (len > PLATFORM_NAME_MAX)
			return FAILV(x, iv, "platform name %s is longer than %d bytes", q(x, p),
			             PLATFORM_NAME_MAX);
		for (size_t r = 0; r < sizeof reserved / sizeof reserved[0]; r++)
			if (strcmp(p, reserved[r]) == 0)
				return FAILV(x, iv,
				             "platform name %s is reserved (Cache/%s/ holds something else)",
				             q(x, p), p);
	}
	if (find_dup(x, c->platforms, c->n_platforms, &dup, &first))
		return x->rc;
	if (dup < c->n_platforms)
		return FAILV(x, v->u.arr.items[dup], "platform %s is listed twice (first at %d:%d)",
		             q(x, c->platforms[dup]), v->u.arr.items[first]->line,
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

static int check_folder_exists(ctx *x, const jp_value *v, const cfg_scan_folder *f)
{
	struct stat st;
	if (stat(f->abs, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return FAILV(x, v, "scan folder %s does not exist: %s", q(x, f->path), f->abs);
		return FAILV(x, v, "scan folder %s cannot be reached: %s: %s", q(x, f->path), f->abs,
		             strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return FAILV(x, v, "scan folder %s is not a folder: %s", q(x, f->path), f->abs);
	return 0;
}

static int do_folder(ctx *x, const jp_value *v, size_t idx, cfg_scan_folder *f)
{
	static const char *const keys[] = {"path", "recursive", "order", "platforms"};
	const jp_member *m[4];
	const char *where = item_name(x, "scan_folders", idx);
	const char *s = NULL;
	int64_t order;
	size_t dup, first;

	if (v->type != JP_OBJECT)
		return FAILV(x, v, "%s must be an object such as {\"path\": \"Assets\"}, %s", where,
		             not_what(x, v));
	if (check_keys(x, v, where, keys, 4, m))
		return x->rc;
	f->recursive = true;
	if (!m[0])
		return FAILV(x, v, "%s has no \"path\"", where);
	x->folder_pv[idx] = m[0]->value;
	if (get_string(x, m[0]->value, sub(x, where, "path"), true, &s))
		return x->rc;
	f->path = (char *)s;
	if (resolve(x, m[0]->value, s, &f->abs) || check_folder_exists(x, m[0]->value, f))
		return x->rc;
	if (m[1] && get_bool(x, m[1]->value, sub(x, where, "recursive"), &f->recursive))
		return x->rc;
	if (m[2]) {
		if (get_int(x, m[2]->value, sub(x, where, "order"), -ORDER_LIMIT, ORDER_LIMIT, &order))
			return x->rc;
		f->order = (int)order;
	}
	if (m[3]) {
		const jp_value *pv = m[3]->value;
		const char *name = sub(x, where, "platforms");
		if (get_strings(x, pv, name, true, &f->platforms, &f->n_platforms))
			return x->rc;
		if (f->n_platforms == 0)
			return FAILV(x, pv, "%s must name at least one platform (leave it out for all)",
			             name);
		for (size_t i = 0; i < f->n_platforms; i++)
			if (!is_platform(x->c, f->platforms[i]))
				return FAILV(x, pv->u.arr.items[i],
				             "%s is not one of the project's platforms",
				             q(x, f->platforms[i]));
		if (find_dup(x, f->platforms, f->n_platforms, &dup, &first))
			return x->rc;
		if (dup < f->n_platforms)
			return FAILV(x, pv->u.arr.items[dup], "platform %s is listed twice (first at %d:%d)",
			             q(x, f->platforms[dup]), pv->u.arr.items[first]->line,
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

static int do_folders(ctx *x, const jp_value *v)
{
	kiln_config *c = x->c;
	cfg_scan_folder *tmp;
	ordered *ord;
	char **abs;
	size_t n, dup, first;

	if (v->type != JP_ARRAY)
		return FAILV(x, v, "scan_folders must be an array of objects, %s", not_what(x, v));
	n = v->u.arr.n;
	if (n == 0)
		return FAILV(x, v, "scan_folders must list at least one folder");
	tmp = arena_alloc(x->a, n * sizeof *tmp);
	x->folder_pv = arena_alloc(x->a, n * sizeof *x->folder_pv);
	abs = arena_alloc(x->a, n * sizeof *abs);
	ord = arena_alloc(x->a, n * sizeof *ord);
	c->folders = arena_alloc(x->a, n * sizeof *c->folders);
	if (!tmp || !x->folder_pv || !abs || !ord || !c->folders)
		return oom(x);
	for (size_t i = 0; i < n; i++) {
		if (do_folder(x, v->u.arr.items[i], i, &tmp[i]))
			return x->rc;
		abs[i] = tmp[i].abs;
	}
	if (find_dup(x, abs, n, &dup, &first))
		return x->rc;
	if (dup < n)
		return FAILV(x, x->folder_pv[dup], "scan folder %s is listed twice (first at %d:%d)",
		             q(x, tmp[dup].path), x->folder_pv[first]->line, x->folder_pv[first]->col);
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

static int default_folders(ctx *x, const jp_value *top)
{
	kiln_config *c = x->c;
	cfg_scan_folder *f = arena_alloc(x->a, sizeof *f);
	struct stat st;

	if (!f)
		return oom(x);
	f->path = arena_strdup(x->a, "Assets");
	if (!f->path || resolve(x, top, f->path, &f->abs))
		return x->rc ? x->rc : oom(x);
	f->recursive = true;
	if (stat(f->abs, &st) != 0 || !S_ISDIR(st.st_mode))
		return FAILV(
		    x, top,
		    "no scan_folders are listed and the default scan folder \"Assets\" is missing: %s "
		    "(create it or list scan_folders)",
		    f->abs);
	c->folders = f;
	c->n_folders = 1;
	return 0;
}

/* ---- excludes ---- */

static int do_excludes(ctx *x, const jp_value *v)
{
	kiln_config *c = x->c;
	if (get_strings(x, v, "excludes", false, &c->excludes, &c->n_excludes))
		return x->rc;
	for (size_t i = 0; i < c->n_excludes; i++) {
		const jp_value *iv = v->u.arr.items[i];
		kpattern *p = NULL;
		char msg[256] = "";
		int rc;
		if (c->excludes[i][0] == '\0')
			return FAILV(x, iv, "excludes[%zu] is empty; it would exclude every file", i);
		rc = regex_compile(c->excludes[i], &p, msg, sizeof msg);
		pattern_free(p);
		if (rc == -ENOMEM)
			return oom(x);
		if (rc)
			return FAILV(x, iv, "excludes[%zu] %s is not a valid regex: %s", i,
			             q(x, c->excludes[i]), msg);
	}
	return 0;
}

/* ---- builders ---- */

static int check_exec(ctx *x, const jp_value *v, const cfg_builder *b)
{
	struct stat st;
	if (stat(b->exec_abs, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return FAILV(
			    x, v, "builder %s not found: %s does not exist%s", q(x, b->exec), b->exec_abs,
			    b->internal ? " (an exec without '/' names a builder shipped beside kiln)" : "");
		return FAILV(x, v, "builder %s cannot be reached: %s: %s", q(x, b->exec), b->exec_abs,
		             strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return FAILV(x, v, "builder %s is not a file: %s", q(x, b->exec), b->exec_abs);
	if (access(b->exec_abs, X_OK) != 0)
		return FAILV(x, v, "builder %s is not executable: %s", q(x, b->exec), b->exec_abs);
	return 0;
}

static int do_builder(ctx *x, const jp_value *v, size_t idx, cfg_builder *b)
{
	static const char *const keys[] = {"exec",      "args",      "patterns",
	                                   "timeout_s", "memory_mb", "persistent"};
	const jp_member *m[6];
	const char *where = item_name(x, "builders", idx);
	const char *s = NULL;
	int64_t n = 0;

	if (v->type != JP_OBJECT)
		return FAILV(x, v, "%s must be an object such as {\"exec\": \"kiln-copy\"}, %s", where,
		             not_what(x, v));
	if (check_keys(x, v, where, keys, 6, m))
		return x->rc;
	b->timeout_s = 600;
	b->memory_mb = 4096;
	b->persistent = true;
	if (!m[0])
		return FAILV(x, v, "%s has no \"exec\"", where);
	if (get_string(x, m[0]->value, sub(x, where, "exec"), true, &s))
		return x->rc;
	b->exec = (char *)s;
	b->internal = strchr(s, '/') == NULL;
	if (b->internal) {
		char p[KILN_PATH_MAX];
		if (path_join(p, sizeof p, x->self_dir, s))
			return FAILV(x, m[0]->value, "builder %s: path too long", q(x, s));
		b->exec_abs = arena_strdup(x->a, p);
		if (!b->exec_abs)
			return oom(x);
	} else if (resolve(x, m[0]->value, s, &b->exec_abs)) {
		return x->rc;
	}
	if (check_exec(x, m[0]->value, b))
		return x->rc;
	if (m[1] && get_strings(x, m[1]->value, sub(x, where, "args"), false, &b->args, &b->n_args))
		return x->rc;
	if (!b->args) {
		b->args = arena_alloc(x->a, sizeof *b->args);
		if (!b->args)
			return oom(x);
	}
	if (m[2]) {
		const jp_value *pv = m[2]->value;
		const char *name = sub(x, where, "patterns");
		if (get_strings(x, pv, name, true, &b->patterns, &b->n_patterns))
			return x->rc;
		if (b->n_patterns == 0)
			return FAILV(x, pv,
			             "%s must hold at least one pattern (leave it out for the builder's own)",
			             name);
		for (size_t i = 0; i < b->n_patterns; i++) {
			kpattern *p = NULL;
			char msg[256] = "";
			int rc = pattern_compile(b->patterns[i], &p, msg, sizeof msg);
			pattern_free(p);
			if (rc == -ENOMEM)
				return oom(x);
			if (rc)
				return FAILV(x, pv->u.arr.items[i], "%s[%zu] %s does not compile: %s", name,
				             i, q(x, b->patterns[i]), msg);
		}
		b->has_patterns = true;
	} else {
		b->patterns = arena_alloc(x->a, sizeof *b->patterns);
		if (!b->patterns)
			return oom(x);
	}
	if (m[3]) {
		if (get_int(x, m[3]->value, sub(x, where, "timeout_s"), TIMEOUT_MIN, TIMEOUT_MAX, &n))
			return x->rc;
		b->timeout_s = (uint32_t)n;
	}
	if (m[4]) {
		if (get_int(x, m[4]->value, sub(x, where, "memory_mb"), MEMORY_MIN, MEMORY_MAX, &n))
			return x->rc;
		b->memory_mb = (uint32_t)n;
	}
	if (m[5] && get_bool(x, m[5]->value, sub(x, where, "persistent"), &b->persistent))
		return x->rc;
	return 0;
}

/* The same program with the same arguments is the same builder (same
 * uuid); with other arguments it may well not be. Length prefixes keep
 * ("a b") and ("a", "b") apart. Built in one allocation: a hostile file may
 * hold very many args. */
static char *builder_ident(ctx *x, const cfg_builder *b)
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

static int do_builders(ctx *x, const jp_value *v)
{
	kiln_config *c = x->c;
	char **ident;
	size_t n, dup, first;

	if (v->type != JP_ARRAY)
		return FAILV(x, v, "builders must be an array of objects, %s", not_what(x, v));
	n = v->u.arr.n;
	c->builders = arena_alloc(x->a, (n ? n : 1) * sizeof *c->builders);
	ident = arena_alloc(x->a, (n ? n : 1) * sizeof *ident);
	if (!c->builders || !ident)
		return oom(x);
	for (size_t i = 0; i < n; i++) {
		const cfg_builder *b = &c->builders[i];
		char *id;
		if (do_builder(x, v->u.arr.items[i], i, &c->builders[i]))
			return x->rc;
		id = builder_ident(x, b);
		if (!id)
			return oom(x);
		ident[i] = id;
	}
	c->n_builders = n;
	if (find_dup(x, ident, n, &dup, &first))
		return x->rc;
	if (dup < n) {
		const jp_value *d = jp_get(v->u.arr.items[dup], "exec")->value;
		const jp_value *f = jp_get(v->u.arr.items[first], "exec")->value;
		return FAILV(x, d, "builder %s is listed twice with the same args (first at %d:%d)",
		             q(x, c->builders[dup].exec), f->line, f->col);
	}
	return 0;
}

/* ---- http, scan, metadata ---- */

/* "" or HOST:PORT, where HOST is a name, an IPv4 address or a bracketed IPv6
 * address and PORT is 1..65535. Returns NULL or why not. */
static const char *http_problem(const char *s)
{
	const char *colon = strrchr(s, ':');
	const char *h, *he;
	long port = 0;

	if (*s == '\0')
		return NULL;
	if (!colon)
		return "has no \":PORT\"";
	if (colon[1] == '\0')
		return "has no port after ':'";
	for (const char *p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9' || p - colon > 5)
			return "has a port that is not a number from 1 to 65535";
		port = port * 10 + (*p - '0');
	}
	if (port < 1 || port > 65535)
		return "has a port that is not a number from 1 to 65535";
	h = s;
	he = colon;
	if (h == he)
		return "has no host before ':' (use 127.0.0.1 for this machine only)";
	if (*h == '[') {
		if (he[-1] != ']' || he - h < 3)
			return "has an IPv6 host without its closing ']'";
		for (const char *p = h + 1; p < he - 1; p++)
			if (!(is_ext_char(*p) || *p == ':' || *p == '.' || *p == '%'))
				return "has a character that cannot appear in an IPv6 address";
		return NULL;
	}
	for (const char *p = h; p < he; p++) {
		if (*p == ':')
			return "has an IPv6 host that is not in brackets ([::1]:PORT)";
		if (!(is_ext_char(*p) || *p == '.'))
			return "has a character that cannot appear in a host name";
	}
	return NULL;
}

static int do_metadata(ctx *x, const jp_value *v)
{
	kiln_config *c = x->c;
	const jp_member *dm, *fm;
	char **exts;
	size_t n, dup, first;

	if (v->type != JP_OBJECT)
		return FAILV(x, v, "metadata must be an object such as {\"assetinfo\": [\"fbx\"]}, %s",
		             not_what(x, v));
	if (jp_find_duplicate(x->a, v, &dm, &fm))
		return oom(x);
	if (dm)
		return cfg_fail(x, dm->line, dm->col, "duplicate key %s in metadata (first at %d:%d)",
		                q(x, dm->key), fm->line, fm->col);
	n = v->u.obj.n;
	c->metadata = arena_alloc(x->a, (n ? n : 1) * sizeof *c->metadata);
	exts = arena_alloc(x->a, (n ? n : 1) * sizeof *exts);
	if (!c->metadata || !exts)
		return oom(x);
	for (size_t i = 0; i < n; i++) {
		const jp_member *m = &v->u.obj.members[i];
		cfg_metadata *md = &c->metadata[i];
		const char *name = arena_printf(x->a, "metadata.%s", m->key);
		if (m->key_len == 0)
			return cfg_fail(x, m->line, m->col, "a metadata extension must not be empty");
		for (size_t j = 0; j < m->key_len; j++)
			if (!is_ext_char(m->key[j]))
				return cfg_fail(
				    x, m->line, m->col,
				    "metadata extension %s may hold only letters, digits, '_' and '-' "
				    "(write it without the dot)",
				    q(x, m->key));
		md->ext = arena_strdup(x->a, m->key);
		if (!md->ext || !name)
			return oom(x);
		path_lower(md->ext);
		exts[i] = md->ext;
		if (get_strings(x, m->value, name, true, &md->source_exts, &md->n_source_exts))
			return x->rc;
		if (md->n_source_exts == 0)
			return FAILV(x, m->value, "%s must name at least one source extension", name);
		for (size_t j = 0; j < md->n_source_exts; j++) {
			char *e = md->source_exts[j];
			for (const char *p = e; *p; p++)
				if (!is_ext_char(*p))
					return FAILV(x, m->value->u.arr.items[j],
					             "extension %s may hold only letters, digits, '_' and "
					             "'-' (write it "
					             "without the dot)",
					             q(x, e));
			/* The decoded string lives in the parse arena; lowercase a copy. */
			md->source_exts[j] = e = arena_strdup(x->a, e);
			if (!e)
				return oom(x);
			path_lower(e);
		}
		if (find_dup(x, md->source_exts, md->n_source_exts, &dup, &first))
			return x->rc;
		if (dup < md->n_source_exts)
			return FAILV(x, m->value->u.arr.items[dup],
			             "extension %s is listed twice (first at %d:%d)",
			             q(x, md->source_exts[dup]), m->value->u.arr.items[first]->line,
			             m->value->u.arr.items[first]->col);
	}
	c->n_metadata = n;
	if (find_dup(x, exts, n, &dup, &first))
		return x->rc;
	if (dup < n)
		return cfg_fail(
		    x, v->u.obj.members[dup].line, v->u.obj.members[dup].col,
		    "metadata extension %s is listed twice (first at %d:%d; case does not matter)",
		    q(x, v->u.obj.members[dup].key), v->u.obj.members[first].line,
		    v->u.obj.members[first].col);
	return 0;
}

/* ---- control ---- */

int config_parse_cidr(const char *s, cfg_cidr *out, const char **why)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	long prefix = -1;

	memset(out, 0, sizeof *out);
	if (hlen == 0 || hlen >= sizeof host) {
		*why = "is not an IPv4 or IPv6 address";
		return KILN_E_CONFIG;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = 4;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = 6;
	} else {
		*why = "is not an IPv4 or IPv6 address (names are not looked up)";
		return KILN_E_CONFIG;
	}
	int max = out->family == 4 ? 32 : 128;
	if (slash) {
		const char *p = slash + 1;
		if (*p == '\0') {
			*why = "has no prefix length after '/'";
			return KILN_E_CONFIG;
		}
		prefix = 0;
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || prefix > 128) {
				*why = "has a prefix length that is not a number";
				return KILN_E_CONFIG;
			}
			prefix = prefix * 10 + (*p - '0');
		}
		if (prefix > max) {
			*why =
			    out->family == 4 ? "has a prefix length over 32" : "has a prefix length over 128";
			return KILN_E_CONFIG;
		}
	}
	out->prefix = prefix < 0 ? max : (int)prefix;
	/* 10.1.0.0/8 most likely means 10.0.0.0/8, but it may be a typo for
	 * /16: say so rather than guess. */
	for (int bit = out->prefix; bit < max; bit++) {
		if (out->addr[bit / 8] & (0x80u >> (bit % 8))) {
			*why = "has address bits set beyond its prefix length";
			return KILN_E_CONFIG;
		}
	}
	return 0;
}

bool config_cidr_match(const cfg_cidr *net, int family, const uint8_t *addr)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (family == 6 && net->family == 4 && memcmp(addr, mapped, sizeof mapped) == 0) {
		family = 4;
		addr += 12;
	}
	if (family != net->family)
		return false;
	int full = net->prefix / 8, rest = net->prefix % 8;
	if (memcmp(addr, net->addr, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (addr[full] & mask) == (net->addr[full] & mask);
}

static int do_control(ctx *x, const jp_value *v)
{
	static const char *const keys[] = {"tcp", "allow", "token"};
	const jp_member *m[3];
	cfg_control *cc = &x->c->control;
	const char *s = NULL;

	if (v->type != JP_OBJECT)
		return FAILV(x, v,
		             "control must be an object such as {\"tcp\": \"127.0.0.1:45645\", \"allow\": "
		             "[\"127.0.0.1\"], \"token\": \"...\"}, %s",
		             not_what(x, v));
	if (check_keys(x, v, "control", keys, 3, m))
		return x->rc;
	if (m[0]) {
		const char *why;
		if (get_string(x, m[0]->value, "control.tcp", false, &s))
			return x->rc;
		if ((why = http_problem(s)))
			return FAILV(x, m[0]->value,
			             "control.tcp %s %s; write \"HOST:PORT\" such as \"127.0.0.1:45645\", or "
			             "leave it out for no TCP",
			             q(x, s), why);
		cc->tcp = s[0] ? (char *)s : NULL;
	}
	if (m[1]) {
		const jp_value *av = m[1]->value;
		if (get_strings(x, av, "control.allow", true, &cc->allow, &cc->n_allow))
			return x->rc;
		if (cc->n_allow == 0)
			return FAILV(x, av,
			             "control.allow must list at least one address (leave it out for this "
			             "machine only)");
		if (cc->n_allow > ALLOW_MAX)
			return FAILV(x, av, "control.allow lists more than %d entries", ALLOW_MAX);
		cc->allow_nets = arena_alloc(x->a, cc->n_allow * sizeof *cc->allow_nets);
		if (!cc->allow_nets)
			return oom(x);
		for (size_t i = 0; i < cc->n_allow; i++) {
			const char *why = "";
			if (config_parse_cidr(cc->allow[i], &cc->allow_nets[i], &why) != 0)
				return FAILV(
				    x, av->u.arr.items[i],
				    "control.allow[%zu] %s %s; write an address such as \"127.0.0.1\" "
				    "or a network such as \"10.0.0.0/8\"",
				    i, q(x, cc->allow[i]), why);
		}
	}
	if (m[2]) {
		if (get_string(x, m[2]->value, "control.token", true, &s))
			return x->rc;
		if (m[2]->value->u.str.len > TOKEN_MAX)
			return FAILV(x, m[2]->value, "control.token is longer than %d bytes", TOKEN_MAX);
		cc->token = (char *)s;
	}
	if (cc->tcp && !cc->token)
		return FAILV(x, v,
		             "control has \"tcp\" but no \"token\": every request over TCP must carry "
		             "the token, so set one");
	return 0;
}

static int default_control(ctx *x)
{
	static const char *const loopback[] = {"127.0.0.1", "::1"};
	cfg_control *cc = &x->c->control;
	const char *why = "";

	if (cc->allow)
		return 0;
	cc->allow = arena_alloc(x->a, 3 * sizeof *cc->allow);
	cc->allow_nets = arena_alloc(x->a, 2 * sizeof *cc->allow_nets);
	if (!cc->allow || !cc->allow_nets)
		return oom(x);
	for (size_t i = 0; i < 2; i++) {
		if (!(cc->allow[i] = arena_strdup(x->a, loopback[i])))
			return oom(x);
		(void)config_parse_cidr(loopback[i], &cc->allow_nets[i], &why);
	}
	cc->allow[2] = NULL;
	cc->n_allow = 2;
	return 0;
}

/* ---- the whole file ---- */

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
	K_N
};

static int check_top(ctx *x, const jp_value *top)
{
	static const char *const keys[K_N] = {"project",  "platforms", "cache",  "scan_folders",
	                                      "excludes", "builders",  "hosts",  "http",
	                                      "scan",     "metadata",  "control"};
	const jp_member *m[K_N];
	kiln_config *c = x->c;
	const char *s = NULL;
	int64_t n = 0;

	if (top->type != JP_OBJECT)
		return FAILV(x, top, "kiln.json must hold one JSON object, %s", not_what(x, top));
	if (check_keys(x, top, "the top-level object", keys, K_N, m))
		return x->rc;

	/* Scan folders narrow the project's platforms, so those come first;
	 * everything else is checked in the order of the file. */
	if (m[K_PLATFORMS]) {
		if (do_platforms(x, m[K_PLATFORMS]->value))
			return x->rc;
	} else {
		c->platforms = arena_alloc(x->a, 2 * sizeof *c->platforms);
		if (!c->platforms || !(c->platforms[0] = arena_strdup(x->a, "pc")))
			return oom(x);
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
			if (get_string(x, v, "project", true, &s))
				return x->rc;
			c->project = (char *)s;
			break;
		case K_CACHE:
			if (get_string(x, v, "cache", true, &s) || resolve(x, v, s, &c->cache))
				return x->rc;
			x->cache_v = v;
			break;
		case K_FOLDERS:
			if (do_folders(x, v))
				return x->rc;
			break;
		case K_EXCLUDES:
			if (do_excludes(x, v))
				return x->rc;
			break;
		case K_BUILDERS:
			if (do_builders(x, v))
				return x->rc;
			break;
		case K_HOSTS:
			if (get_int(x, v, "hosts", 0, HOSTS_MAX, &n))
				return x->rc;
			c->hosts = (int)n;
			break;
		case K_HTTP: {
			const char *why;
			if (get_string(x, v, "http", false, &s))
				return x->rc;
			if ((why = http_problem(s)))
				return FAILV(
				    x, v,
				    "http %s %s; write \"HOST:PORT\" such as \"127.0.0.1:45644\", or \"\" "
				    "for no dashboard",
				    q(x, s), why);
			c->http = (char *)s;
			break;
		}
		case K_SCAN:
			if (get_string(x, v, "scan", false, &s))
				return x->rc;
			if (strcmp(s, "fast") && strcmp(s, "hash"))
				return FAILV(x, v, "scan must be \"fast\" or \"hash\", not %s", q(x, s));
			c->scan_hash = strcmp(s, "hash") == 0;
			break;
		case K_METADATA:
			if (do_metadata(x, v))
				return x->rc;
			break;
		case K_CONTROL:
			if (do_control(x, v))
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
		resolve(x, top, "Cache", &c->cache);
	if (!c->http)
		c->http = arena_strdup(x->a, "127.0.0.1:45644");
	if (!c->excludes)
		c->excludes = arena_alloc(x->a, sizeof *c->excludes);
	if (x->rc || !c->project || !c->cache || !c->http || !c->excludes)
		return x->rc ? x->rc : oom(x);
	if (!c->builders && !(c->builders = arena_alloc(x->a, sizeof *c->builders)))
		return oom(x);
	if (!m[K_FOLDERS] && default_folders(x, top))
		return x->rc;
	if (default_control(x))
		return x->rc;

	/* The cache must be a folder (or not exist yet). */
	{
		struct stat cst;
		if (stat(c->cache, &cst) == 0 && !S_ISDIR(cst.st_mode))
			return FAILV(x, x->cache_v ? x->cache_v : top, "the cache %s exists and is not a folder",
			             c->cache);
		if (stat(c->cache, &cst) != 0 && errno != ENOENT)
			return FAILV(x, x->cache_v ? x->cache_v : top, "cannot use the cache %s: %s", c->cache,
			             strerror(errno));
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
		return FAILV(x, at, "scan folder %s lies inside the cache %s; kiln would delete its files",
		             q(x, c->folders[i].path), c->cache);
	}
	return 0;
}

static int absolute_dir(const char *in, char *out, size_t outsz)
{
	char buf[KILN_PATH_MAX];
	if (in[0] != '/') {
		char cwd[KILN_PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			return -errno;
		if (path_join(buf, sizeof buf, cwd, in))
			return -ENAMETOOLONG;
		in = buf;
	}
	return path_normalize(in, out, outsz) ? -ENAMETOOLONG : 0;
}

int config_parse(const char *text, size_t len, const char *file, const char *root, const char *self_dir,
                 kiln_config **out, char *err, size_t errsz)
{
	cfg_holder *h = NULL;
	arena *a = NULL;
	char rootbuf[KILN_PATH_MAX], selfbuf[KILN_PATH_MAX], filebuf[KILN_PATH_MAX];
	jp_value *top = NULL;
	jp_error jerr;
	ctx x = {0};
	int rc;

	*out = NULL;
	if (err && errsz)
		err[0] = '\0';
	x.file = file ? file : "kiln.json";
	x.err = err;
	x.errsz = errsz;
	if (!(a = arena_new()) || !(h = arena_alloc(a, sizeof *h))) {
		rc = oom(&x);
		goto fail;
	}
	h->a = a;
	x.a = a;
	x.c = &h->c;
	if ((rc = absolute_dir(root, rootbuf, sizeof rootbuf))) {
		snprintf(err, errsz, "%s: project root %s: %s", x.file, root, strerror(-rc));
		goto fail;
	}
	if (self_dir)
		rc = absolute_dir(self_dir, selfbuf, sizeof selfbuf);
	else
		rc = path_self_dir(selfbuf, sizeof selfbuf);
	if (rc) {
		snprintf(err, errsz, "%s: cannot find the kiln binary's folder: %s", x.file, strerror(-rc));
		goto fail;
	}
	x.root = rootbuf;
	x.self_dir = selfbuf;
	if (path_join(filebuf, sizeof filebuf, rootbuf, x.file)) {
		rc = cfg_fail(&x, 1, 1, "path too long");
		goto fail;
	}
	h->c.file = arena_strdup(a, filebuf);
	h->c.root = arena_strdup(a, rootbuf);
	if (!h->c.file || !h->c.root) {
		rc = oom(&x);
		goto fail;
	}
	if (len > CFG_MAX_FILE) {
		rc = cfg_fail(&x, 1, 1, "the file is larger than %u bytes; this is not a project file",
		              CFG_MAX_FILE);
		goto fail;
	}
	rc = jp_parse(a, text, len, &top, &jerr);
	if (rc == -ENOMEM) {
		rc = oom(&x);
		goto fail;
	}
	if (rc) {
		rc = cfg_fail(&x, jerr.line, jerr.col, "%s", jerr.msg);
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

int config_load(const char *root, const char *self_dir, kiln_config **out, char *err, size_t errsz)
{
	char absroot[KILN_PATH_MAX], file[KILN_PATH_MAX];
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	int fd = -1, rc;

	*out = NULL;
	if ((rc = absolute_dir(root, absroot, sizeof absroot)) ||
	    (path_join(file, sizeof file, absroot, "kiln.json") && (rc = -ENAMETOOLONG))) {
		snprintf(err, errsz, "%s/kiln.json: %s", root, strerror(-rc));
		return rc;
	}
	/* O_NONBLOCK: a FIFO in kiln.json's place must not hang the open. */
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = -errno;
		snprintf(err, errsz, "%s: cannot read: %s", file, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = KILN_E_CONFIG;
		snprintf(err, errsz, "%s: not a regular file", file);
		goto out;
	}
	if ((uint64_t)st.st_size > CFG_MAX_FILE) {
		rc = KILN_E_CONFIG;
		snprintf(err, errsz, "%s:1:1: the file is larger than %u bytes; this is not a project file",
		         file, CFG_MAX_FILE);
		goto out;
	}
	/* One byte more than the size: a file that grows while read is still
	 * bounded, and the read loop sees its end. */
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		rc = -ENOMEM;
		snprintf(err, errsz, "%s: out of memory", file);
		goto out;
	}
	while (len < (size_t)st.st_size + 1) {
		ssize_t r = read(fd, text + len, (size_t)st.st_size + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			snprintf(err, errsz, "%s: cannot read: %s", file, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	rc = config_parse(text, len, file, absroot, self_dir, out, err, errsz);
out:
	free(text);
	if (fd >= 0)
		close(fd);
	return rc;
}

void config_free(kiln_config *c)
{
	if (c)
		arena_free(((cfg_holder *)c)->a);
}

int config_find_root(const char *start, char *out, size_t outsz)
{
	char dir[KILN_PATH_MAX], probe[KILN_PATH_MAX];
	struct stat st;

	if (absolute_dir(start, dir, sizeof dir))
		return KILN_E_NOTFOUND;
	for (;;) {
		if (path_join(probe, sizeof probe, dir, "kiln.json") == 0 && stat(probe, &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			if (strlen(dir) + 1 > outsz)
				return KILN_E_TOOBIG;
			memcpy(out, dir, strlen(dir) + 1);
			return 0;
		}
		if (strcmp(dir, "/") == 0)
			return KILN_E_NOTFOUND;
		char *slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

/* Writes s as a JSON string body (without quotes) into f. */
static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

int config_init_project(const char *dir, char *err, size_t errsz)
{
	char abs[KILN_PATH_MAX], file[KILN_PATH_MAX], tmp[KILN_PATH_MAX], assets[KILN_PATH_MAX];
	const char *name;
	FILE *f = NULL;
	int fd = -1, rc;
	bool tmp_made = false;

	if ((rc = absolute_dir(dir, abs, sizeof abs)) || path_join(file, sizeof file, abs, "kiln.json") ||
	    path_join(tmp, sizeof tmp, abs, ".kiln.json.init") ||
	    path_join(assets, sizeof assets, abs, "Assets")) {
		rc = rc ? rc : -ENAMETOOLONG;
		snprintf(err, errsz, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	if (access(file, F_OK) == 0) {
		snprintf(err, errsz, "%s already exists; kiln init does not overwrite it", file);
		return -EEXIST;
	}
	if ((rc = path_mkdirs(abs, 0755)) || (rc = path_mkdirs(assets, 0755))) {
		snprintf(err, errsz, "cannot create %s: %s", rc == 0 ? abs : assets, strerror(-rc));
		return rc;
	}
	name = path_basename(abs);
	if (!*name)
		name = "kiln";
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		rc = -errno;
		snprintf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	tmp_made = true;
	fd = -1;
	fputs("{\n  \"project\": \"", f);
	json_escape(f, name);
	fputs("\",\n"
	      "  \"platforms\": [\"pc\"],\n"
	      "  \"cache\": \"Cache\",\n"
	      "  \"scan_folders\": [\n"
	      "    {\"path\": \"Assets\", \"recursive\": true, \"order\": 0}\n"
	      "  ],\n"
	      "  \"excludes\": [\"(^|/)\\\\.git/\", \"\\\\.swp$\", \"~$\"],\n"
	      "  \"builders\": [\n"
	      "    {\"exec\": \"kiln-copy\"}\n"
	      "  ],\n"
	      "  \"hosts\": 0,\n"
	      "  \"scan\": \"fast\"\n"
	      "}\n",
	      f);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
		rc = -errno;
		snprintf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fclose(f);
	f = NULL;
	/* link() refuses an existing name, so a kiln.json that appeared since
	 * the check above is never overwritten, and readers see the file whole. */
	if (link(tmp, file) != 0) {
		rc = -errno;
		if (rc == -EEXIST)
			snprintf(err, errsz, "%s already exists; kiln init does not overwrite it", file);
		else
			snprintf(err, errsz, "cannot create %s: %s", file, strerror(errno));
		goto fail;
	}
	unlink(tmp);
	snprintf(err, errsz, "wrote %s and created %s/", file, assets);
	return 0;
fail:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (tmp_made)
		unlink(tmp);
	return rc;
}
