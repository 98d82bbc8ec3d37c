/* schema.c: the parse context's errors and the checkers of kiln.json's
 * values (SPEC section 2).
 *
 * Every checker reports what is wrong at the line and column of the value
 * and names it as the file does ("builders[1].timeout_s"); an unknown key
 * gets a "did you mean" from the keys it is nearest to. Messages quote the
 * file's strings escaped and cut short, so a hostile file cannot garble a
 * terminal. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_priv.h"
#include "path.h"

void cfg_report(cfg_ctx *x, int line, int col, const char *fmt, ...)
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
}

int cfg_oom(cfg_ctx *x)
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
const char *cfg_quote(cfg_ctx *x, const char *s)
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
int cfg_check_keys(cfg_ctx *x, const jp_value *obj, const char *where, const char *const *allowed,
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
				return CFG_FAIL(x, mem->line, mem->col,
				                "duplicate key %s in %s (first at %d:%d)",
				                cfg_quote(x, mem->key), where, found[k]->line, found[k]->col);
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
			return CFG_FAIL(x, mem->line, mem->col, "unknown key %s in %s; did you mean \"%s\"?",
			                cfg_quote(x, mem->key), where, best);
		char list[256];
		size_t o = 0;
		list[0] = '\0';
		for (k = 0; k < n_allowed; k++)
			o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", k ? ", " : "", allowed[k]);
		return CFG_FAIL(x, mem->line, mem->col, "unknown key %s in %s (known keys: %s)",
		                cfg_quote(x, mem->key), where, list);
	}
	return 0;
}

/* "not 0", "not 1.5", "not a string": what the file held instead. */
const char *cfg_not_what(cfg_ctx *x, const jp_value *v)
{
	const char *s;
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

int cfg_get_string(cfg_ctx *x, const jp_value *v, const char *name, bool nonempty, const char **out)
{
	if (v->type != JP_STRING)
		return CFG_FAILV(x, v, "%s must be a string, %s", name, cfg_not_what(x, v));
	if (nonempty && v->u.str.len == 0)
		return CFG_FAILV(x, v, "%s must not be empty", name);
	*out = v->u.str.s;
	return 0;
}

int cfg_get_bool(cfg_ctx *x, const jp_value *v, const char *name, bool *out)
{
	if (v->type != JP_BOOL)
		return CFG_FAILV(x, v, "%s must be true or false, %s", name, cfg_not_what(x, v));
	*out = v->u.b;
	return 0;
}

int cfg_get_int(cfg_ctx *x, const jp_value *v, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
	if (v->type != JP_NUMBER || !v->u.num.is_integer || v->u.num.i < lo || v->u.num.i > hi)
		return CFG_FAILV(x, v, "%s must be an integer from %lld to %lld, %s", name, (long long)lo,
		                 (long long)hi, cfg_not_what(x, v));
	*out = v->u.num.i;
	return 0;
}

const char *cfg_item_name(cfg_ctx *x, const char *name, size_t i)
{
	const char *s = arena_printf(x->a, "%s[%zu]", name, i);
	return s ? s : name;
}

const char *cfg_sub(cfg_ctx *x, const char *where, const char *key)
{
	const char *s = arena_printf(x->a, "%s.%s", where, key);
	return s ? s : key;
}

/* An array of strings into a NULL-terminated arena array. */
int cfg_get_strings(cfg_ctx *x, const jp_value *v, const char *name, bool nonempty_items, char ***out,
                    size_t *n)
{
	char **list;
	if (v->type != JP_ARRAY)
		return CFG_FAILV(x, v, "%s must be an array of strings, %s", name, cfg_not_what(x, v));
	list = arena_alloc(x->a, (v->u.arr.n + 1) * sizeof *list);
	if (!list)
		return cfg_oom(x);
	for (size_t i = 0; i < v->u.arr.n; i++) {
		const char *s;
		if (cfg_get_string(x, v->u.arr.items[i], cfg_item_name(x, name, i), nonempty_items, &s))
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
int cfg_find_dup(cfg_ctx *x, char *const *s, size_t n, size_t *dup, size_t *first)
{
	keyed *k;
	*dup = n;
	*first = n;
	if (n < 2)
		return 0;
	k = arena_alloc(x->a, n * sizeof *k);
	if (!k)
		return cfg_oom(x);
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
int cfg_resolve(cfg_ctx *x, const jp_value *v, const char *p, char **out)
{
	char joined[KILN_PATH_MAX], norm[KILN_PATH_MAX];
	if (path_join(joined, sizeof joined, x->root, p) || path_normalize(joined, norm, sizeof norm))
		return CFG_FAILV(x, v, "path %s is too long", cfg_quote(x, p));
	*out = arena_strdup(x->a, norm);
	return *out ? 0 : cfg_oom(x);
}
