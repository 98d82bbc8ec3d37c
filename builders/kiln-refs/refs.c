/* refs.c: reference extraction for kiln-refs (see refs.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Debian's libexpat is built with XML_DTD; expat.h only declares the
 * billion-laughs limits when the macro is set, and nothing else in the header
 * depends on it. */
#ifndef XML_DTD
#define XML_DTD 1
#endif
#include <expat.h>
#include <xxhash.h>

#include "arena.h"
#include "kerr.h"
#include "path.h"
#include "refs.h"

const refs_limits refs_default_limits = {
    .max_deps = 10000,
    .max_str = 4096,
    .max_lookups = 200000,
};

/* Quoted strings may hold quoted strings; two levels are enough for
 * "key='a.png'" in an attribute and keep hostile nesting flat. */
#define MAX_DEPTH 2

/* XML: entity declarations are the one way a small document turns into a
 * large amount of text. Values with nested references or over this size are
 * refused, and expat's own amplification limit is tightened. */
#define XML_MAX_ENTITY_VALUE   1024
#define XML_MAX_AMPLIFICATION  8.0f
#define XML_AMPLIFICATION_FROM (4ull << 20)
#define XML_CHUNK              (16u << 20)

enum { ST_EMPTY = 0, ST_MISSING, ST_FILE };

typedef struct entry {
	const char *key;
	uint64_t hash;
	int state;
} entry;

struct refs_scan {
	int root_fd;
	char root[KILN_PATH_MAX];
	size_t root_len;
	char *root_real; /* realpath(root), resolved the first time a link is met */
	char source[KILN_PATH_MAX];
	char src_dir[KILN_PATH_MAX]; /* "" when the source sits at the root */
	refs_limits lim;
	bool strict; /* binary input: candidates need a file extension */
	arena *a;    /* keys of the look-up table */

	entry *tab;
	size_t tab_cap, tab_used;
	size_t lookups;

	const char **deps;
	size_t n_deps, cap_deps;
	bool sorted;
	const char *limit_why;

	/* XML state: the current text node, the first error of a handler. */
	XML_Parser xp;
	char *text;
	size_t text_len;
	bool text_over;
	int xml_rc;
	char xml_stop_why[96];
};

/* ---- the look-up table: every path looked up, with what stat said ---- */

static int tab_grow(refs_scan *s)
{
	size_t cap = s->tab_cap ? s->tab_cap * 2 : 256;
	entry *t = calloc(cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < s->tab_cap; i++) {
		if (s->tab[i].state == ST_EMPTY)
			continue;
		size_t j = (size_t)s->tab[i].hash & (cap - 1);
		while (t[j].state != ST_EMPTY)
			j = (j + 1) & (cap - 1);
		t[j] = s->tab[i];
	}
	free(s->tab);
	s->tab = t;
	s->tab_cap = cap;
	return 0;
}

/* A link counts only when it resolves to a regular file inside the root, as
 * the scanner takes links, so a reference never points outside the project. */
static bool link_inside(refs_scan *s, const char *rel)
{
	char full[KILN_PATH_MAX], real[PATH_MAX];
	if (!s->root_real) {
		s->root_real = realpath(s->root, NULL);
		if (!s->root_real)
			return false;
	}
	if (path_join(full, sizeof(full), s->root, rel) != 0 || !realpath(full, real))
		return false;
	size_t n = strlen(s->root_real);
	if (n == 1) /* the root is "/" itself */
		return true;
	return strncmp(real, s->root_real, n) == 0 && real[n] == '/';
}

static int stat_state(refs_scan *s, const char *rel)
{
	struct stat st;
	if (fstatat(s->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return ST_MISSING;
	if (S_ISREG(st.st_mode))
		return ST_FILE;
	if (S_ISLNK(st.st_mode) && fstatat(s->root_fd, rel, &st, 0) == 0 && S_ISREG(st.st_mode) &&
	    link_inside(s, rel))
		return ST_FILE;
	return ST_MISSING;
}

/* Looks rel up, on disk the first time and in the table after that.
 * *state (OUT) is ST_FILE or ST_MISSING; *fresh (OUT) is true when this call
 * did the stat; *key (OUT) is the table's copy of rel. Returns 0,
 * KILN_E_LIMIT or -ENOMEM. */
static int lookup(refs_scan *s, const char *rel, int *state, bool *fresh, const char **key_out)
{
	size_t len = strlen(rel);
	uint64_t h = XXH3_64bits(rel, len);
	*fresh = false;
	if (s->tab_cap) {
		size_t j = (size_t)h & (s->tab_cap - 1);
		while (s->tab[j].state != ST_EMPTY) {
			if (s->tab[j].hash == h && strcmp(s->tab[j].key, rel) == 0) {
				*state = s->tab[j].state;
				*key_out = s->tab[j].key;
				return 0;
			}
			j = (j + 1) & (s->tab_cap - 1);
		}
	}
	if (s->lookups >= s->lim.max_lookups) {
		s->limit_why = "the look-up limit";
		return KILN_E_LIMIT;
	}
	if ((s->tab_used + 1) * 4 > s->tab_cap * 3 && tab_grow(s) != 0)
		return -ENOMEM;
	char *key = arena_strndup(s->a, rel, len);
	if (!key)
		return -ENOMEM;
	s->lookups++;
	size_t j = (size_t)h & (s->tab_cap - 1);
	while (s->tab[j].state != ST_EMPTY)
		j = (j + 1) & (s->tab_cap - 1);
	s->tab[j] = (entry){.key = key, .hash = h, .state = stat_state(s, rel)};
	s->tab_used++;
	*state = s->tab[j].state;
	*fresh = true;
	*key_out = key;
	return 0;
}

/* rel is the table's copy, which lives as long as the scan. */
static int add_dep(refs_scan *s, const char *rel)
{
	if (s->n_deps >= s->lim.max_deps) {
		s->limit_why = "the reference limit";
		return KILN_E_LIMIT;
	}
	if (s->n_deps == s->cap_deps) {
		size_t cap = s->cap_deps ? s->cap_deps * 2 : 16;
		const char **d = realloc(s->deps, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		s->deps = d;
		s->cap_deps = cap;
	}
	s->deps[s->n_deps++] = rel;
	s->sorted = false;
	return 0;
}

/* ---- candidates ---- */

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool is_alnum(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

/* The last component ends in ".ext" with 1 to 10 letters and digits, at
 * least one of them a letter: what a file that binary data names looks like.
 * Random printable bytes rarely do, which spares most of their look-ups. */
static bool has_extension(const char *p, size_t len)
{
	size_t i = len, letters = 0;
	while (i > 0 && is_alnum((unsigned char)p[i - 1])) {
		letters += is_alpha((unsigned char)p[i - 1]);
		i--;
	}
	size_t ext = len - i;
	return ext >= 1 && ext <= 10 && letters > 0 && i >= 2 && p[i - 1] == '.' && p[i - 2] != '/';
}

/* Whether a trimmed string may name a file: no control bytes, at least one
 * letter (numbers like "1.5" are never looked up), a '.' or a path separator
 * (bare words like "true" or "walk" are not either), no URL other than res://
 * and file://, and in strict (binary) mode a file extension. */
static bool plausible(const refs_scan *s, const char *p, size_t len)
{
	bool letter = false, dot_or_sep = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f)
			return false;
		letter |= is_alpha(c);
		dot_or_sep |= c == '.' || c == '/' || c == '\\';
	}
	if (!letter || !dot_or_sep)
		return false;
	const char *url = memmem(p, len, "://", 3);
	if (url &&
	    !((url - p == 3 && memcmp(p, "res", 3) == 0) || (url - p == 4 && memcmp(p, "file", 4) == 0)))
		return false;
	return !s->strict || has_extension(p, len);
}

/* Resolves a candidate against the source's folder, then the root. Returns 1
 * when it named a file (new or already reported, or the source itself), 0
 * when not, KILN_E_LIMIT or -ENOMEM. */
static int try_one(refs_scan *s, const char *str, size_t len)
{
	while (len && is_blank((unsigned char)*str)) {
		str++;
		len--;
	}
	while (len && is_blank((unsigned char)str[len - 1]))
		len--;
	if (len == 0 || len > s->lim.max_str || len >= KILN_PATH_MAX || !plausible(s, str, len))
		return 0;

	char buf[KILN_PATH_MAX], joined[2 * KILN_PATH_MAX], norm[KILN_PATH_MAX];
	memcpy(buf, str, len);
	buf[len] = '\0';
	/* Data written on Windows uses backslashes. */
	for (char *c = buf; *c; c++)
		if (*c == '\\')
			*c = '/';
	char *p = buf;
	bool root_only = false;
	if (strncmp(p, "res://", 6) == 0) { /* Godot: the project root */
		p += 6;
		root_only = true;
	} else if (strncmp(p, "file://", 7) == 0) {
		p += 7;
	}
	if (*p == '/') {
		/* An absolute path inside the root is taken relative to it; any
		 * other leading slash means "from the root", as engines use it. */
		if (strncmp(p, s->root, s->root_len) == 0 && p[s->root_len] == '/')
			p += s->root_len;
		while (*p == '/')
			p++;
		root_only = true;
	}
	if (*p == '\0')
		return 0;

	for (int pass = 0; pass < 2; pass++) {
		const char *base = pass == 0 ? s->src_dir : "";
		if (pass == 0 && (root_only || !*base))
			continue;
		if (*base)
			snprintf(joined, sizeof(joined), "%s/%s", base, p);
		else
			snprintf(joined, sizeof(joined), "%s", p);
		/* A ".." that climbs above the root is no reference. */
		if (path_normalize(joined, norm, sizeof(norm)) != 0 || strcmp(norm, ".") == 0)
			continue;
		int state, rc;
		bool fresh;
		const char *key;
		if ((rc = lookup(s, norm, &state, &fresh, &key)) != 0)
			return rc;
		if (state != ST_FILE)
			continue;
		if (fresh && strcmp(norm, s->source) != 0 && (rc = add_dep(s, key)) != 0)
			return rc;
		return 1;
	}
	return 0;
}

static bool is_delim(unsigned char c)
{
	return is_blank(c) || c == '"' || c == '\'' || c == '=' || c == ',' || c == ';' || c == ':' ||
	       c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}' || c == '<' || c == '>';
}

static int offer(refs_scan *s, const char *str, size_t len, int depth);

/* Splits text into quoted strings (one line at most, backslash escapes in
 * double quotes) and tokens between delimiters. A quote without its closing
 * partner on the same line (an apostrophe in prose) is a delimiter. Quoted
 * strings are offered whole and split again; tokens are tried as they are. */
static int tokenize(refs_scan *s, const char *t, size_t len, int depth)
{
	size_t i = 0, start = 0;
	bool in_tok = false;
	int rc;
	while (i < len) {
		unsigned char c = (unsigned char)t[i];
		if (!is_delim(c)) {
			if (!in_tok) {
				start = i;
				in_tok = true;
			}
			i++;
			continue;
		}
		if (in_tok) {
			in_tok = false;
			if ((rc = try_one(s, t + start, i - start)) < 0)
				return rc;
		}
		if (c == '"' || c == '\'') {
			/* Look for the partner no further than a candidate can be
			 * long, so that the scan stays linear. */
			size_t end = i + 1,
			       stop = len - i - 1 > s->lim.max_str + 1 ? i + 2 + s->lim.max_str : len;
			while (end < stop && t[end] != (char)c && t[end] != '\n') {
				if (c == '"' && t[end] == '\\' && end + 1 < stop && t[end + 1] != '\n')
					end++;
				end++;
			}
			if (end < stop && t[end] == (char)c) {
				if (depth < MAX_DEPTH) {
					if ((rc = offer(s, t + i + 1, end - i - 1, depth + 1)) < 0)
						return rc;
				} else if ((rc = try_one(s, t + i + 1, end - i - 1)) < 0) {
					return rc;
				}
				i = end + 1;
				continue;
			}
		}
		i++;
	}
	if (in_tok && (rc = try_one(s, t + start, len - start)) < 0)
		return rc;
	return 0;
}

/* A value (an attribute, a text node, a quoted string, a printable run) is
 * tried whole, and when it is not a file, split into its parts. */
static int offer(refs_scan *s, const char *str, size_t len, int depth)
{
	int rc = try_one(s, str, len);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	for (size_t i = 0; i < len; i++)
		if (is_delim((unsigned char)str[i]))
			return tokenize(s, str, len, depth);
	return 0;
}

int refs_scan_offer(refs_scan *s, const char *str, size_t len)
{
	return offer(s, str, len, 0);
}

/* ---- the scan ---- */

int refs_scan_new(const char *root, const char *source_file, const refs_limits *lim, refs_scan **out)
{
	int rc;
	refs_scan *s = calloc(1, sizeof(*s));
	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->root_fd = -1;
	s->lim = lim ? *lim : refs_default_limits;
	if (path_normalize(root, s->root, sizeof(s->root)) != 0 || s->root[0] != '/') {
		rc = KILN_E_PATH;
		goto fail;
	}
	s->root_len = strcmp(s->root, "/") == 0 ? 0 : strlen(s->root);
	if (path_check_relative(source_file, strlen(source_file)) != 0 ||
	    path_normalize(source_file, s->source, sizeof(s->source)) != 0) {
		rc = KILN_E_PATH;
		goto fail;
	}
	memcpy(s->src_dir, s->source, sizeof(s->src_dir));
	char *slash = strrchr(s->src_dir, '/');
	if (slash)
		*slash = '\0';
	else
		s->src_dir[0] = '\0';
	if (!(s->a = arena_new())) {
		rc = -ENOMEM;
		goto fail;
	}
	s->root_fd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0) {
		rc = -errno;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	refs_scan_free(s);
	return rc;
}

void refs_scan_free(refs_scan *s)
{
	if (!s)
		return;
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s->root_real);
	free(s->tab);
	free(s->deps);
	free(s->text);
	arena_free(s->a);
	free(s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *const *refs_scan_paths(refs_scan *s, size_t *n)
{
	if (!s->sorted && s->n_deps > 1)
		qsort(s->deps, s->n_deps, sizeof(*s->deps), cmp_str);
	s->sorted = true;
	*n = s->n_deps;
	return s->deps;
}

size_t refs_scan_lookups(const refs_scan *s)
{
	return s->lookups;
}

bool refs_scan_limited(const refs_scan *s, const char **why)
{
	if (why)
		*why = s->limit_why;
	return s->limit_why != NULL;
}

/* ---- formats ---- */

static const char *const xml_exts[] = {
    "xml",  "dae",   "svg",  "tmx",   "tsx",  "x3d",    "xsd", "xsl",
    "xslt", "plist", "xaml", "xhtml", "mtlx", "fsproj", NULL,
};

refs_format refs_guess_format(const char *source_file, const uint8_t *buf, size_t len)
{
	const char *ext = path_ext(source_file);
	for (size_t i = 0; xml_exts[i]; i++)
		if (strcasecmp(ext, xml_exts[i]) == 0)
			return REFS_XML;
	size_t i = 0;
	if (len >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
		i = 3;
	while (i < len && is_blank(buf[i]))
		i++;
	if (len - i >= 5 && memcmp(buf + i, "<?xml", 5) == 0)
		return REFS_XML;
	if (memchr(buf, 0, len < 65536 ? len : 65536))
		return REFS_BINARY;
	return REFS_TEXT;
}

const char *refs_format_name(refs_format f)
{
	switch (f) {
	case REFS_XML:
		return "xml";
	case REFS_BINARY:
		return "binary";
	default:
		return "text";
	}
}

int refs_scan_text(refs_scan *s, const uint8_t *buf, size_t len)
{
	s->strict = false;
	return tokenize(s, (const char *)buf, len, 0);
}

int refs_scan_binary(refs_scan *s, const uint8_t *buf, size_t len)
{
	int rc = 0;
	size_t i = 0;
	s->strict = true;
	while (i < len) {
		if (buf[i] < 0x20 || buf[i] > 0x7e) {
			i++;
			continue;
		}
		size_t start = i;
		while (i < len && buf[i] >= 0x20 && buf[i] <= 0x7e)
			i++;
		if (i - start >= REFS_MIN_RUN && (rc = offer(s, (const char *)buf + start, i - start, 0)) < 0)
			break;
	}
	s->strict = false;
	return rc;
}

/* XML handlers. A handler that meets a limit or runs out of memory stops the
 * parser and leaves the code in xml_rc. */
static void xml_fail(refs_scan *s, int rc)
{
	if (!s->xml_rc)
		s->xml_rc = rc;
	XML_StopParser(s->xp, XML_FALSE);
}

static void xml_flush_text(refs_scan *s)
{
	int rc;
	if (s->text_len && !s->text_over && (rc = offer(s, s->text, s->text_len, 0)) < 0)
		xml_fail(s, rc);
	s->text_len = 0;
	s->text_over = false;
}

static void XMLCALL xml_start(void *user, const XML_Char *name, const XML_Char **attrs)
{
	refs_scan *s = user;
	int rc;
	(void)name;
	xml_flush_text(s);
	for (size_t i = 0; !s->xml_rc && attrs[i] && attrs[i + 1]; i += 2)
		if ((rc = offer(s, attrs[i + 1], strlen(attrs[i + 1]), 0)) < 0)
			xml_fail(s, rc);
}

static void XMLCALL xml_end(void *user, const XML_Char *name)
{
	(void)name;
	xml_flush_text(user);
}

/* Text arrives in pieces; a node longer than a candidate may be is dropped
 * as it grows, so the buffer never exceeds max_str. */
static void XMLCALL xml_chars(void *user, const XML_Char *txt, int len)
{
	refs_scan *s = user;
	if (s->text_over || len <= 0)
		return;
	if (s->text_len + (size_t)len > s->lim.max_str) {
		s->text_over = true;
		return;
	}
	if (!s->text) {
		s->text = malloc(s->lim.max_str + 1);
		if (!s->text) {
			xml_fail(s, -ENOMEM);
			return;
		}
	}
	memcpy(s->text + s->text_len, txt, (size_t)len);
	s->text_len += (size_t)len;
}

static void XMLCALL xml_pi(void *user, const XML_Char *target, const XML_Char *data)
{
	refs_scan *s = user;
	int rc;
	(void)target;
	/* <?xml-stylesheet href="style.xsl"?> names a file in its data. */
	if (data && (rc = offer(s, data, strlen(data), 0)) < 0)
		xml_fail(s, rc);
}

static void XMLCALL xml_entity_decl(void *user, const XML_Char *name, int is_param, const XML_Char *value,
                                    int value_len, const XML_Char *base, const XML_Char *system_id,
                                    const XML_Char *public_id, const XML_Char *notation)
{
	refs_scan *s = user;
	(void)name, (void)is_param, (void)base, (void)system_id, (void)public_id, (void)notation;
	if (value && (value_len > XML_MAX_ENTITY_VALUE || memchr(value, '&', (size_t)value_len))) {
		snprintf(s->xml_stop_why, sizeof(s->xml_stop_why),
		         "entity \"%.40s\" is nested or over %d bytes, which is refused", name,
		         XML_MAX_ENTITY_VALUE);
		xml_fail(s, KILN_E_PROTO);
	}
}

int refs_scan_xml(refs_scan *s, const uint8_t *buf, size_t len, refs_xml_error *err)
{
	int rc = 0;
	if (err)
		memset(err, 0, sizeof(*err));
	s->strict = false;
	s->xml_rc = 0;
	s->xml_stop_why[0] = '\0';
	s->text_len = 0;
	s->text_over = false;
	s->xp = XML_ParserCreate(NULL);
	if (!s->xp)
		return -ENOMEM;
	XML_SetUserData(s->xp, s);
	XML_SetElementHandler(s->xp, xml_start, xml_end);
	XML_SetCharacterDataHandler(s->xp, xml_chars);
	XML_SetProcessingInstructionHandler(s->xp, xml_pi);
	XML_SetEntityDeclHandler(s->xp, xml_entity_decl);
	XML_SetBillionLaughsAttackProtectionMaximumAmplification(s->xp, XML_MAX_AMPLIFICATION);
	XML_SetBillionLaughsAttackProtectionActivationThreshold(s->xp, XML_AMPLIFICATION_FROM);

	size_t off = 0;
	do {
		size_t n = len - off > XML_CHUNK ? XML_CHUNK : len - off;
		bool last = off + n == len;
		if (XML_Parse(s->xp, (const char *)buf + off, (int)n, last) != XML_STATUS_OK) {
			if (s->xml_rc && s->xml_rc != KILN_E_PROTO) {
				rc = s->xml_rc;
				break;
			}
			rc = KILN_E_PROTO;
			if (err) {
				err->line = XML_GetCurrentLineNumber(s->xp);
				err->column = XML_GetCurrentColumnNumber(s->xp) + 1;
				snprintf(err->message, sizeof(err->message), "%s",
				         s->xml_stop_why[0] ? s->xml_stop_why
				                            : XML_ErrorString(XML_GetErrorCode(s->xp)));
			}
			break;
		}
		off += n;
	} while (off < len);
	if (rc == 0)
		xml_flush_text(s);
	if (rc == 0 && s->xml_rc)
		rc = s->xml_rc;
	XML_ParserFree(s->xp);
	s->xp = NULL;
	return rc;
}
