/* jsonpos.c: a strict RFC 8259 parser that keeps line and column. */
#include "jsonpos.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "kerr.h"
#include "utf8.h"

typedef struct parser {
	arena *a;
	const unsigned char *p;
	const unsigned char *end;
	const unsigned char *line_start; /* first byte of the current line */
	int line;
	int depth;
	int rc;
	jp_error *err;
	/* Children of every open array and object are collected on one
	 * malloc'ed stack and copied into the arena when their container
	 * closes, because the arena cannot grow an allocation in place and
	 * per-element list nodes would double the memory a large array needs. */
	jp_member *stk;
	size_t stk_n, stk_cap;
} parser;

static int col_of(const parser *ps, const unsigned char *at)
{
	return (int)(at - ps->line_start) + 1;
}

static int fail_at(parser *ps, int rc, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail_at(parser *ps, int rc, int line, int col, const char *fmt, ...)
{
	/* The first error is the one worth reporting; later ones follow from it. */
	if (ps->rc == 0) {
		ps->rc = rc;
		if (ps->err) {
			va_list ap;
			ps->err->line = line;
			ps->err->col = col;
			va_start(ap, fmt);
			vsnprintf(ps->err->msg, sizeof ps->err->msg, fmt, ap);
			va_end(ap);
		}
	}
	return ps->rc;
}

/* at must lie on the current line, which holds for every caller because
 * only whitespace between tokens may contain line breaks. */
#define FAIL(ps, at, ...) fail_at((ps), KILN_E_CONFIG, (ps)->line, col_of((ps), (at)), __VA_ARGS__)

static int oom(parser *ps)
{
	return fail_at(ps, -ENOMEM, ps->line, col_of(ps, ps->p), "out of memory");
}

/* Describes the byte at p for a message: 'x' when printable, else hex. */
static const char *byte_desc(const unsigned char *p, char buf[16])
{
	if (*p >= 0x21 && *p < 0x7f)
		snprintf(buf, 16, "'%c'", *p);
	else
		snprintf(buf, 16, "byte 0x%02x", *p);
	return buf;
}

static void skip_ws(parser *ps)
{
	while (ps->p < ps->end) {
		unsigned char c = *ps->p;
		if (c == '\n') {
			ps->p++;
			ps->line++;
			ps->line_start = ps->p;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			ps->p++;
		} else {
			break;
		}
	}
}

static int push(parser *ps, const jp_member *m)
{
	if (ps->stk_n == ps->stk_cap) {
		size_t cap = ps->stk_cap ? ps->stk_cap * 2 : 64;
		jp_member *n = realloc(ps->stk, cap * sizeof *n);
		if (!n)
			return oom(ps);
		ps->stk = n;
		ps->stk_cap = cap;
	}
	ps->stk[ps->stk_n++] = *m;
	return 0;
}

static jp_value *new_value(parser *ps, jp_type t, const unsigned char *at)
{
	jp_value *v = arena_alloc(ps->a, sizeof *v);
	if (!v) {
		oom(ps);
		return NULL;
	}
	v->type = t;
	v->line = ps->line;
	v->col = col_of(ps, at);
	return v;
}

static int parse_value(parser *ps, jp_value **out);

/* Reads the four hex digits after "\u" at p (p points at the 'u'). */
static int read_u4(parser *ps, const unsigned char *p, unsigned *cp)
{
	unsigned v = 0;
	for (int i = 1; i <= 4; i++) {
		int h;
		if (p + i >= ps->end)
			return FAIL(ps, ps->end, "unterminated string");
		h = hex_value(p[i]);
		if (h < 0) {
			char b[16];
			return FAIL(ps, p + i, "invalid \\u escape: expected 4 hex digits, found %s",
			            byte_desc(p + i, b));
		}
		v = v << 4 | (unsigned)h;
	}
	*cp = v;
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Checks the UTF-8 sequence at p (lead byte >= 0x80) and returns its length,
 * or 0 after reporting the offending byte. Overlong forms, surrogates and
 * code points above U+10FFFF are rejected (RFC 3629). */
static size_t check_utf8(parser *ps, const unsigned char *p)
{
	size_t bad, n = utf8_char_len((const char *)p, (size_t)(ps->end - p), &bad);
	if (n)
		return n;
	if (bad == 0)
		FAIL(ps, p, "invalid UTF-8: byte 0x%02x cannot start a character", p[0]);
	else if (p + bad >= ps->end)
		FAIL(ps, p + bad, "invalid UTF-8: character cut short by the end of input");
	else
		FAIL(ps, p + bad, "invalid UTF-8: byte 0x%02x after 0x%02x", p[bad], p[bad - 1]);
	return 0;
}

/* Parses the string whose opening quote is at ps->p into *s and *len. */
static int parse_string(parser *ps, const char **s, size_t *len)
{
	const unsigned char *open = ps->p;
	const unsigned char *q = open + 1;
	char *buf, *o;
	/* A first pass finds the closing quote, so that one arena block of the
	 * raw length holds the decoded text: no escape decodes longer than it
	 * is written. */
	while (q < ps->end && *q != '"') {
		if (*q == '\\' && q + 1 < ps->end)
			q++;
		q++;
	}
	buf = arena_alloc(ps->a, (size_t)(q - open));
	if (!buf)
		return oom(ps);
	o = buf;
	const unsigned char *p = open + 1;
	for (;;) {
		if (p >= ps->end)
			return FAIL(ps, ps->end, "unterminated string");
		unsigned char c = *p;
		if (c == '"')
			break;
		if (c == '\n')
			return FAIL(ps, p, "line break inside a string (write it as \\n)");
		if (c < 0x20)
			return FAIL(ps, p, "control character 0x%02x inside a string (write it as an escape)",
			            c);
		if (c >= 0x80) {
			size_t n = check_utf8(ps, p);
			if (!n)
				return ps->rc;
			memcpy(o, p, n);
			o += n;
			p += n;
			continue;
		}
		if (c != '\\') {
			*o++ = (char)c;
			p++;
			continue;
		}
		const unsigned char *esc = p;
		if (p + 1 >= ps->end)
			return FAIL(ps, ps->end, "unterminated string");
		switch (p[1]) {
		case '"':
			*o++ = '"';
			break;
		case '\\':
			*o++ = '\\';
			break;
		case '/':
			*o++ = '/';
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u': {
			unsigned cp, lo;
			if (read_u4(ps, p + 1, &cp))
				return ps->rc;
			p += 6;
			if (cp == 0)
				return FAIL(ps, esc,
				            "\\u0000 is not allowed (it would cut the string short)");
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return FAIL(
				    ps, esc,
				    "unpaired surrogate \\u%04x (a low surrogate must follow a high one)",
				    cp);
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (p + 1 >= ps->end || p[0] != '\\' || p[1] != 'u')
					return FAIL(ps, esc,
					            "unpaired surrogate \\u%04x (a high surrogate must be "
					            "followed by "
					            "\\udc00-\\udfff)",
					            cp);
				if (read_u4(ps, p + 1, &lo))
					return ps->rc;
				if (lo < 0xdc00 || lo > 0xdfff)
					return FAIL(ps, esc,
					            "unpaired surrogate \\u%04x (a high surrogate must be "
					            "followed by "
					            "\\udc00-\\udfff)",
					            cp);
				p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			o += put_utf8(o, cp);
			continue;
		}
		default: {
			char b[16];
			if (p[1] >= 0x21 && p[1] < 0x7f)
				snprintf(b, sizeof b, "%c", p[1]);
			else
				snprintf(b, sizeof b, "x%02x", p[1]);
			return FAIL(ps, esc, "invalid escape \\%s", b);
		}
		}
		p += 2;
	}
	*o = '\0';
	*s = buf;
	*len = (size_t)(o - buf);
	ps->p = p + 1;
	return 0;
}

static bool is_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

static int parse_number(parser *ps, jp_value *v)
{
	const unsigned char *start = ps->p, *p = ps->p;
	bool integer = true;
	char small[64], *copy;
	size_t n;

	if (*p == '-')
		p++;
	if (!is_digit(p, ps->end)) {
		char b[16];
		if (p >= ps->end)
			return FAIL(ps, p, "expected a digit after '-'");
		return FAIL(ps, p, "expected a digit after '-', found %s", byte_desc(p, b));
	}
	if (*p == '0') {
		p++;
		if (is_digit(p, ps->end))
			return FAIL(ps, p, "leading zeros are not allowed in numbers");
	} else {
		while (is_digit(p, ps->end))
			p++;
	}
	if (p < ps->end && *p == '.') {
		integer = false;
		p++;
		if (!is_digit(p, ps->end))
			return FAIL(ps, p, "expected a digit after '.'");
		while (is_digit(p, ps->end))
			p++;
	}
	if (p < ps->end && (*p == 'e' || *p == 'E')) {
		integer = false;
		p++;
		if (p < ps->end && (*p == '+' || *p == '-'))
			p++;
		if (!is_digit(p, ps->end))
			return FAIL(ps, p, "expected a digit in the exponent");
		while (is_digit(p, ps->end))
			p++;
	}
	/* strtod needs a NUL-terminated copy; a long literal goes to the arena. */
	n = (size_t)(p - start);
	if (n < sizeof small) {
		memcpy(small, start, n);
		small[n] = '\0';
		copy = small;
	} else {
		copy = arena_strndup(ps->a, (const char *)start, n);
		if (!copy)
			return oom(ps);
	}
	v->u.num.d = strtod(copy, NULL);
	if (isinf(v->u.num.d))
		return FAIL(ps, start, "number out of range");
	if (integer) {
		long long ll;
		errno = 0;
		ll = strtoll(copy, NULL, 10);
		if (errno == 0) {
			v->u.num.is_integer = true;
			v->u.num.i = (int64_t)ll;
		}
	}
	ps->p = p;
	return 0;
}

static int parse_literal(parser *ps, jp_value *v)
{
	static const struct {
		const char *word;
		jp_type type;
		bool b;
	} lits[] = {{"true", JP_BOOL, true}, {"false", JP_BOOL, false}, {"null", JP_NULL, false}};
	size_t left = (size_t)(ps->end - ps->p);
	for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
		size_t n = strlen(lits[i].word);
		if (left >= n && memcmp(ps->p, lits[i].word, n) == 0) {
			v->type = lits[i].type;
			v->u.b = lits[i].b;
			ps->p += n;
			return 0;
		}
	}
	return FAIL(ps, ps->p, "invalid literal (expected true, false or null)");
}

static int parse_array(parser *ps, jp_value *v)
{
	size_t base = ps->stk_n;
	int comma_line = 0, comma_col = 0;

	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return 0;
	}
	for (;;) {
		jp_member m = {0};
		if (ps->p >= ps->end)
			return FAIL(ps, ps->p, "unterminated array (opened at %d:%d)", v->line, v->col);
		if (parse_value(ps, &m.value) || push(ps, &m))
			return ps->rc;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return FAIL(ps, ps->p, "unterminated array (opened at %d:%d)", v->line, v->col);
		if (*ps->p == ']')
			break;
		if (*ps->p != ',') {
			char b[16];
			return FAIL(ps, ps->p, "expected ',' or ']' after an array element, found %s",
			            byte_desc(ps->p, b));
		}
		comma_line = ps->line;
		comma_col = col_of(ps, ps->p);
		ps->p++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ']')
			return fail_at(ps, KILN_E_CONFIG, comma_line, comma_col, "trailing comma before ']'");
	}
	ps->p++;
	v->u.arr.n = ps->stk_n - base;
	v->u.arr.items = arena_alloc(ps->a, v->u.arr.n * sizeof *v->u.arr.items);
	if (!v->u.arr.items)
		return oom(ps);
	for (size_t i = 0; i < v->u.arr.n; i++)
		v->u.arr.items[i] = ps->stk[base + i].value;
	ps->stk_n = base;
	return 0;
}

static int parse_object(parser *ps, jp_value *v)
{
	size_t base = ps->stk_n;
	int comma_line = 0, comma_col = 0;

	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return 0;
	}
	for (;;) {
		jp_member m = {0};
		char b[16];
		if (ps->p >= ps->end)
			return FAIL(ps, ps->p, "unterminated object (opened at %d:%d)", v->line, v->col);
		if (*ps->p == '}' && comma_line)
			return fail_at(ps, KILN_E_CONFIG, comma_line, comma_col, "trailing comma before '}'");
		if (*ps->p == '/')
			return FAIL(ps, ps->p, "comments are not allowed in JSON");
		if (*ps->p != '"')
			return FAIL(ps, ps->p, "expected a key in double quotes, found %s",
			            byte_desc(ps->p, b));
		m.line = ps->line;
		m.col = col_of(ps, ps->p);
		if (parse_string(ps, &m.key, &m.key_len))
			return ps->rc;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return FAIL(ps, ps->p, "unterminated object (opened at %d:%d)", v->line, v->col);
		if (*ps->p != ':')
			return FAIL(ps, ps->p, "expected ':' after the key, found %s", byte_desc(ps->p, b));
		ps->p++;
		if (parse_value(ps, &m.value) || push(ps, &m))
			return ps->rc;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return FAIL(ps, ps->p, "unterminated object (opened at %d:%d)", v->line, v->col);
		if (*ps->p == '}')
			break;
		if (*ps->p != ',')
			return FAIL(ps, ps->p, "expected ',' or '}' after an object member, found %s",
			            byte_desc(ps->p, b));
		comma_line = ps->line;
		comma_col = col_of(ps, ps->p);
		ps->p++;
		skip_ws(ps);
	}
	ps->p++;
	v->u.obj.n = ps->stk_n - base;
	v->u.obj.members = arena_alloc(ps->a, v->u.obj.n * sizeof *v->u.obj.members);
	if (!v->u.obj.members)
		return oom(ps);
	memcpy(v->u.obj.members, ps->stk + base, v->u.obj.n * sizeof *v->u.obj.members);
	ps->stk_n = base;
	return 0;
}

static int parse_value(parser *ps, jp_value **out)
{
	jp_value *v;
	char b[16];
	int rc;

	skip_ws(ps);
	if (ps->p >= ps->end)
		return FAIL(ps, ps->p, "unexpected end of input (expected a value)");
	unsigned char c = *ps->p;
	switch (c) {
	case '{':
	case '[':
		if (ps->depth >= JP_MAX_DEPTH)
			return FAIL(ps, ps->p, "nesting deeper than %d arrays and objects", JP_MAX_DEPTH);
		if (!(v = new_value(ps, c == '{' ? JP_OBJECT : JP_ARRAY, ps->p)))
			return ps->rc;
		ps->depth++;
		rc = c == '{' ? parse_object(ps, v) : parse_array(ps, v);
		ps->depth--;
		break;
	case '"':
		if (!(v = new_value(ps, JP_STRING, ps->p)))
			return ps->rc;
		rc = parse_string(ps, &v->u.str.s, &v->u.str.len);
		break;
	case 't':
	case 'f':
	case 'n':
		if (!(v = new_value(ps, JP_NULL, ps->p)))
			return ps->rc;
		rc = parse_literal(ps, v);
		break;
	case '\'':
		return FAIL(ps, ps->p, "strings must be in double quotes");
	case '/':
		return FAIL(ps, ps->p, "comments are not allowed in JSON");
	default:
		if (c == '-' || (c >= '0' && c <= '9')) {
			if (!(v = new_value(ps, JP_NUMBER, ps->p)))
				return ps->rc;
			rc = parse_number(ps, v);
			break;
		}
		if (c == ']' || c == '}')
			return FAIL(ps, ps->p, "expected a value, found '%c'", c);
		return FAIL(ps, ps->p, "unexpected %s (expected a value)", byte_desc(ps->p, b));
	}
	if (rc)
		return rc;
	*out = v;
	return 0;
}

int jp_parse(arena *a, const char *text, size_t len, jp_value **out, jp_error *err)
{
	parser ps = {0};
	jp_value *v = NULL;

	ps.a = a;
	ps.p = (const unsigned char *)text;
	ps.end = ps.p + len;
	ps.line_start = ps.p;
	ps.line = 1;
	ps.err = err;
	if (err) {
		err->line = 0;
		err->col = 0;
		err->msg[0] = '\0';
	}
	if (len > JP_MAX_INPUT)
		return fail_at(&ps, KILN_E_TOOBIG, 1, 1, "input is larger than %u bytes", JP_MAX_INPUT);
	if (len >= 3 && memcmp(ps.p, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3;
	if (parse_value(&ps, &v))
		goto out;
	skip_ws(&ps);
	if (ps.p < ps.end) {
		char b[16];
		FAIL(&ps, ps.p, "unexpected %s after the JSON value", byte_desc(ps.p, b));
		goto out;
	}
	*out = v;
out:
	free(ps.stk);
	return ps.rc;
}

const jp_member *jp_get(const jp_value *obj, const char *key)
{
	if (!obj || obj->type != JP_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->u.obj.n; i++)
		if (strcmp(obj->u.obj.members[i].key, key) == 0)
			return &obj->u.obj.members[i];
	return NULL;
}

static int cmp_member_ptr(const void *x, const void *y)
{
	const jp_member *a = *(const jp_member *const *)x, *b = *(const jp_member *const *)y;
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = memcmp(a->key, b->key, n);
	if (c)
		return c;
	if (a->key_len != b->key_len)
		return a->key_len < b->key_len ? -1 : 1;
	/* Members sit in one array in document order, so their addresses order
	 * them as the document does; this keeps the sort stable. */
	return a < b ? -1 : a > b;
}

int jp_find_duplicate(arena *a, const jp_value *obj, const jp_member **dup, const jp_member **first)
{
	const jp_member **sorted;
	size_t n;

	*dup = NULL;
	*first = NULL;
	if (!obj || obj->type != JP_OBJECT || obj->u.obj.n < 2)
		return 0;
	n = obj->u.obj.n;
	sorted = arena_alloc(a, n * sizeof *sorted);
	if (!sorted)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		sorted[i] = &obj->u.obj.members[i];
	qsort(sorted, n, sizeof *sorted, cmp_member_ptr);
	for (size_t i = 1, run = 0; i < n; i++) {
		if (sorted[i]->key_len == sorted[run]->key_len &&
		    memcmp(sorted[i]->key, sorted[run]->key, sorted[i]->key_len) == 0) {
			if (!*dup || sorted[i] < *dup) {
				*dup = sorted[i];
				*first = sorted[run];
			}
		} else {
			run = i;
		}
	}
	return 0;
}

const char *jp_type_name(jp_type t)
{
	switch (t) {
	case JP_NULL:
		return "null";
	case JP_BOOL:
		return "a boolean";
	case JP_NUMBER:
		return "a number";
	case JP_STRING:
		return "a string";
	case JP_ARRAY:
		return "an array";
	case JP_OBJECT:
		return "an object";
	}
	return "an unknown value";
}
