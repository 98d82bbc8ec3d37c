/* pattern.c: builder globs and user regexes on PCRE2, with match and depth
 * limits so that no pattern can run away.
 *
 * pattern_match runs for every file and every builder on trees of 100,000
 * files, so a compiled pattern carries everything a match needs (JIT code,
 * match context, match data) and a match allocates and copies nothing. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "pattern.h"
#include "kerr.h"
#include "utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

struct kpattern {
	pcre2_code *code;
	/* The same regex in byte mode, for subjects that are not UTF-8 (file
	 * names are bytes on Linux); NULL when code is in byte mode already or
	 * the regex only makes sense as UTF. */
	pcre2_code *bytes_code;
	pcre2_match_context *mctx;
	pcre2_match_data *md;
	bool basename_only; /* a glob without '/': match the last component */
	char *source;
};

/* ---- glob translation ---- */

typedef struct rbuf {
	char *p;
	size_t len, cap;
	bool over;
} rbuf;

static void put(rbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->over || b->len + n + 1 > b->cap) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void putc_raw(rbuf *b, char c)
{
	char s[2] = {c, '\0'};
	put(b, s);
}

/* A literal byte: any ASCII character other than a letter or a digit is
 * escaped (a backslash before a non-alphanumeric ASCII character is always
 * that character in PCRE2), so nothing in a file name can act as regex
 * syntax. Bytes of UTF-8 sequences pass through. */
static void put_literal(rbuf *b, char c)
{
	unsigned char u = (unsigned char)c;

	if (u < 0x80 &&
	    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/'))
		putc_raw(b, '\\');
	putc_raw(b, c);
}

/* Translates the class starting at g (just after '['). Returns the position
 * after its ']' or NULL when it is not terminated. */
static const char *put_class(rbuf *b, const char *g)
{
	const char *p = g;
	bool neg = false;

	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	/* A ']' right after "[" or "[!" is a member, as in fnmatch. */
	const char *first = p;
	while (*p && (*p != ']' || p == first))
		p++;
	if (!*p)
		return NULL;

	putc_raw(b, '[');
	if (neg)
		putc_raw(b, '^');
	for (const char *q = first; q < p; q++) {
		unsigned char u = (unsigned char)*q;
		/* '-' between two members is a range; anything else that is
		 * not alphanumeric is escaped so that "[", "]", "\\" and "^"
		 * (and POSIX "[:") are plain members. */
		if (*q == '-' && q != first && q + 1 < p)
			putc_raw(b, '-');
		else if (u >= 0x80 || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		         (*q >= '0' && *q <= '9'))
			putc_raw(b, *q);
		else {
			putc_raw(b, '\\');
			putc_raw(b, *q);
		}
	}
	/* A class stands for one character of a name, so a negated one must
	 * not match the separator either. */
	if (neg)
		put(b, "/");
	putc_raw(b, ']');
	return p + 1;
}

/* Translates glob into b; false on an unterminated '[', whose offset goes
 * to *bad. */
static bool translate(rbuf *b, const char *glob, size_t *bad)
{
	const char *g = glob;

	/* The relative paths never start with '/', so a leading one can only
	 * mean "from the scan folder's root", which anchoring already gives. */
	while (*g == '/')
		g++;
	put(b, "\\A");
	while (*g) {
		if (g[0] == '*' && g[1] == '*') {
			while (*g == '*')
				g++;
			if (*g == '/') {
				/* "**" then "/": zero or more whole folders, so that
				 * "a/ ** /b" matches "a/b" too. */
				put(b, "(?:.*/)?");
				g++;
			} else {
				put(b, ".*");
			}
		} else if (*g == '*') {
			put(b, "[^/]*");
			g++;
		} else if (*g == '?') {
			put(b, "[^/]");
			g++;
		} else if (*g == '[') {
			const char *next = put_class(b, g + 1);
			if (!next) {
				*bad = (size_t)(g - glob);
				return false;
			}
			g = next;
		} else if (*g == '\\' && g[1]) {
			/* fnmatch's escape: the next character is literal. */
			put_literal(b, g[1]);
			g += 2;
		} else {
			put_literal(b, *g);
			g++;
		}
	}
	put(b, "\\z");
	return true;
}

static int translate_into(const char *glob, char *out, size_t outsz, size_t *bad)
{
	rbuf b = {out, 0, outsz, false};

	if (outsz == 0)
		return KILN_E_TOOBIG;
	out[0] = '\0';
	if (!translate(&b, glob, bad))
		return KILN_E_REGEX;
	return b.over ? KILN_E_TOOBIG : 0;
}

int glob_to_regex(const char *glob, char *out, size_t outsz)
{
	size_t bad;

	return translate_into(glob, out, outsz, &bad);
}

/* ---- compiling ---- */

static void set_err(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* Compiles re into a new kpattern that remembers src as its source. */
static int compile(const char *src, const char *re, uint32_t opts, bool basename_only, kpattern **out,
                   char *err, size_t errsz)
{
	kpattern *p = NULL;
	int errcode = 0;
	PCRE2_SIZE erroff = 0;
	bool utf;

	*out = NULL;
	p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	p->basename_only = basename_only;
	p->source = strdup(src);
	if (!p->source)
		goto nomem;

	/* In UTF mode a multi-byte character is one character to "?" and to
	 * classes. A pattern that is not UTF-8 itself is matched byte by byte;
	 * utf8_valid() is as strict as PCRE2's own check, so PCRE2 never
	 * refuses what it passes. */
	utf = utf8_valid(re, strlen(re));
	p->code =
	    pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
	                  opts | (utf ? PCRE2_UTF | PCRE2_MATCH_INVALID_UTF : 0), &errcode, &erroff, NULL);
	if (!p->code) {
		PCRE2_UCHAR msg[256];
		if (pcre2_get_error_message(errcode, msg, sizeof msg) < 0)
			snprintf((char *)msg, sizeof msg, "error %d", errcode);
		if (strcmp(src, re) == 0)
			set_err(err, errsz, "%s at offset %zu", (const char *)msg, (size_t)erroff);
		else
			set_err(err, errsz, "%s at offset %zu of the translated regex %s", (const char *)msg,
			        (size_t)erroff, re);
		pattern_free(p);
		return KILN_E_REGEX;
	}
	/* JIT is several times faster; where it is unavailable (or out of
	 * executable memory) the interpreter gives the same answers. */
	(void)pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE);
	if (utf) {
		/* In UTF mode an invalid byte in a subject can match nothing
		 * (MATCH_INVALID_UTF only makes that safe), so "*.png" would
		 * miss a name in Latin-1; such names go to a byte-mode copy.
		 * A regex that needs UTF (say \x{100}) has no such copy, and
		 * those names then simply do not match. */
		p->bytes_code =
		    pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &errcode, &erroff, NULL);
		if (p->bytes_code)
			(void)pcre2_jit_compile(p->bytes_code, PCRE2_JIT_COMPLETE);
	}

	p->mctx = pcre2_match_context_create(NULL);
	if (!p->mctx)
		goto nomem;
	pcre2_set_match_limit(p->mctx, PATTERN_MATCH_LIMIT);
	pcre2_set_depth_limit(p->mctx, PATTERN_DEPTH_LIMIT);
	/* One ovector pair is all a yes/no match needs. */
	p->md = pcre2_match_data_create(1, NULL);
	if (!p->md)
		goto nomem;
	*out = p;
	return 0;

nomem:
	pattern_free(p);
	set_err(err, errsz, "out of memory");
	return -ENOMEM;
}

int pattern_compile(const char *src, kpattern **out, char *err, size_t errsz)
{
	char stackbuf[512];
	char *re = stackbuf;
	size_t cap, len, bad = 0;
	int rc;

	*out = NULL;
	if (err && errsz)
		err[0] = '\0';
	if (strncmp(src, "re:", 3) == 0)
		return compile(src, src + 3, 0, false, out, err, errsz);

	len = strlen(src);
	if (len == 0) {
		set_err(err, errsz, "empty pattern");
		return KILN_E_REGEX;
	}
	/* The longest translation is "[^/]*" for "*": 5 bytes a byte, plus the
	 * anchors. */
	cap = len * 8 + 16;
	if (cap > sizeof stackbuf) {
		re = malloc(cap);
		if (!re)
			return -ENOMEM;
	}
	rc = translate_into(src, re, cap, &bad);
	if (rc == KILN_E_REGEX) {
		set_err(err, errsz, "unterminated '[' at offset %zu of glob %s", bad, src);
	} else if (rc == 0) {
		rc = compile(src, re, PCRE2_CASELESS, strchr(src, '/') == NULL, out, err, errsz);
	}
	if (re != stackbuf)
		free(re);
	return rc;
}

int regex_compile(const char *re, kpattern **out, char *err, size_t errsz)
{
	*out = NULL;
	if (err && errsz)
		err[0] = '\0';
	return compile(re, re, 0, false, out, err, errsz);
}

/* Almost every path is ASCII, so the full UTF-8 check runs only when a byte
 * above 0x7f turns up. */
static bool ascii_or_utf8(const char *s)
{
	for (const char *u = s; *u; u++)
		if ((unsigned char)*u >= 0x80)
			return utf8_valid(u, strlen(u));
	return true;
}

int pattern_match(kpattern *p, const char *rel)
{
	const char *subject = rel;
	pcre2_code *code = p->code;
	int rc;

	if (p->basename_only) {
		const char *slash = strrchr(rel, '/');
		if (slash)
			subject = slash + 1;
	}
	if (p->bytes_code && !ascii_or_utf8(subject))
		code = p->bytes_code;
	rc = pcre2_match(code, (PCRE2_SPTR)subject, PCRE2_ZERO_TERMINATED, 0, 0, p->md, p->mctx);
	if (rc >= 0)
		return 1;
	switch (rc) {
	case PCRE2_ERROR_NOMATCH:
		return 0;
	case PCRE2_ERROR_MATCHLIMIT:
	case PCRE2_ERROR_DEPTHLIMIT:
	case PCRE2_ERROR_HEAPLIMIT:
	case PCRE2_ERROR_JIT_STACKLIMIT:
		return KILN_E_LIMIT;
	case PCRE2_ERROR_NOMEMORY:
		return -ENOMEM;
	default:
		return KILN_E_REGEX;
	}
}

const char *pattern_source(const kpattern *p)
{
	return p->source;
}

void pattern_free(kpattern *p)
{
	if (!p)
		return;
	pcre2_match_data_free(p->md);
	pcre2_match_context_free(p->mctx);
	pcre2_code_free(p->code);
	pcre2_code_free(p->bytes_code);
	free(p->source);
	free(p);
}
