/* config_priv.h: what the files of supervisor/config/ share; not for other
 * modules, which include config/config.h.
 *
 * config.c parses the whole file and checks its top-level keys, schema.c
 * holds the parse context's error reporting and the value checkers,
 * sections.c checks each section (platforms, scan_folders, excludes,
 * builders, metadata, control), addr.c reads addresses, project.c finds and
 * reads kiln.json on disk, and init.c writes a new one (kiln init).
 *
 * Ownership: everything a checker returns or stores (strings, lists, the
 * sections of the kiln_config) is allocated from the parse's arena x->a and
 * lives as long as the config; nothing here is freed on its own. Strings
 * taken from the file point into the jsonpos tree, which lives in the same
 * arena. A checker that fails has recorded the error in x (the first one
 * wins) and returns non-zero; its outputs are then left unset. */
#ifndef KILN_CONFIG_PRIV_H
#define KILN_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "config/config.h"
#include "jsonpos.h"
#include "kerr.h"

/* A kiln.json beyond this is not a project file; refusing it early keeps a
 * hostile file from costing more than a few MiB of tree. */
#define CFG_MAX_FILE (1u << 20)

/* The state of one parse. The strings it points to belong to the caller of
 * config_parse (file, root, self_dir, err) or to the arena. */
typedef struct cfg_ctx {
	arena *a;
	const char *file; /* for messages */
	const char *root; /* absolute, normalised */
	const char *self_dir;
	char *err; /* the caller's buffer of errsz bytes, for the first error */
	size_t errsz;
	int rc; /* the first error: 0, KILN_E_CONFIG or -ENOMEM */
	kiln_config *c;
	const jp_value *cache_v;    /* the "cache" value, when given */
	const jp_value **folder_pv; /* each folder's "path" value, in file order */
} cfg_ctx;

/* ---- errors (schema.c) ---- */

/* Records "FILE:LINE:COL: message" as the parse's error unless one is
 * recorded already: the first problem found is the one reported. */
void cfg_report(cfg_ctx *x, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The parse's error, once one has been recorded: x->rc. That is never 0
 * then, but the compiler cannot see it across cfg_report(); the fallback,
 * never taken, lets it see that a failure path returns non-zero, so that it
 * knows a failed checker's unset outputs are not read (GCC -O3 warned
 * -Wmaybe-uninitialized about them). */
static inline int cfg_rc(const cfg_ctx *x)
{
	return x->rc ? x->rc : KILN_E_CONFIG;
}

/* Reports a problem at LINE:COL, or at a value of the file, and yields the
 * parse's error. */
#define CFG_FAIL(x, line, col, ...) (cfg_report((x), (line), (col), __VA_ARGS__), cfg_rc(x))
#define CFG_FAILV(x, v, ...)        CFG_FAIL((x), (v)->line, (v)->col, __VA_ARGS__)

/* Records that memory ran out ("FILE: out of memory") unless an error is
 * recorded already, and returns the parse's error. */
int cfg_oom(cfg_ctx *x);

/* ---- value checkers (schema.c) ---- */

/* Quotes a string from the file for a message: escaped, and cut short when
 * long. The result is in the arena (or a static stand-in when it is full). */
const char *cfg_quote(cfg_ctx *x, const char *s);

/* "not 0", "not 1.5", "not a string": what the file held instead. */
const char *cfg_not_what(cfg_ctx *x, const jp_value *v);

/* "name[i]" and "where.key" for messages, in the arena (or name and key
 * themselves when it is full). */
const char *cfg_item_name(cfg_ctx *x, const char *name, size_t i);
const char *cfg_sub(cfg_ctx *x, const char *where, const char *key);

/* Checks every key of obj against allowed, with "did you mean" for a near
 * miss, and fills found[i] with the member for allowed[i], or NULL. where
 * names obj in messages. */
int cfg_check_keys(cfg_ctx *x, const jp_value *obj, const char *where, const char *const *allowed,
                   size_t n_allowed, const jp_member **found);

/* A value of one type into *out (which then points into the tree); name
 * names it in messages. cfg_get_int takes only integers from lo to hi. */
int cfg_get_string(cfg_ctx *x, const jp_value *v, const char *name, bool nonempty, const char **out);
int cfg_get_bool(cfg_ctx *x, const jp_value *v, const char *name, bool *out);
int cfg_get_int(cfg_ctx *x, const jp_value *v, const char *name, int64_t lo, int64_t hi, int64_t *out);

/* An array of strings into a NULL-terminated array in the arena. */
int cfg_get_strings(cfg_ctx *x, const jp_value *v, const char *name, bool nonempty_items, char ***out,
                    size_t *n);

/* Finds the string of s[0..n) that repeats an earlier one, earliest in the
 * list. Sets *dup and *first to its index and the index of the earlier copy,
 * or *dup to n. */
int cfg_find_dup(cfg_ctx *x, char *const *s, size_t n, size_t *dup, size_t *first);

/* x->root + p, normalised, into the arena; v is where a too long path is
 * reported. */
int cfg_resolve(cfg_ctx *x, const jp_value *v, const char *p, char **out);

/* ---- sections (sections.c) ---- */

/* Each checks one value of the top-level object and fills its part of x->c.
 * cfg_parse_folders needs the project's platforms set first. */
int cfg_parse_platforms(cfg_ctx *x, const jp_value *v);
int cfg_parse_folders(cfg_ctx *x, const jp_value *v);
int cfg_parse_excludes(cfg_ctx *x, const jp_value *v);
int cfg_parse_builders(cfg_ctx *x, const jp_value *v);
int cfg_parse_metadata(cfg_ctx *x, const jp_value *v);
int cfg_parse_control(cfg_ctx *x, const jp_value *v);

/* The defaults of what the file leaves out: the scan folder "Assets" (which
 * must exist; top is where that is reported), and the loopback addresses as
 * control.allow (unless the file gave an allow list). */
int cfg_default_folders(cfg_ctx *x, const jp_value *top);
int cfg_default_control(cfg_ctx *x);

/* ---- addresses (addr.c) ---- */

/* "" or HOST:PORT, where HOST is a name, an IPv4 address or a bracketed IPv6
 * address and PORT is 1..65535. Returns NULL, or why not: a static string
 * worded to follow the quoted value in a message. */
const char *cfg_hostport_problem(const char *s);

/* ---- the project on disk (project.c) ---- */

/* in made absolute (against the working folder) and normalised into out.
 * Returns 0, -ENAMETOOLONG or -errno. */
int cfg_absolute_dir(const char *in, char *out, size_t outsz);

#endif
