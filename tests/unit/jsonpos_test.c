/* jsonpos_test.c: the strict JSON parser, its positions and its errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "jsonpos.h"
#include "kerr.h"
#include "test.h"

static void test_valid_tree(void)
{
	const char *text = "{\n"
	                   "  \"a\": [1, \"x\"],\n"
	                   "  \"b\": {\"c\": null},\n"
	                   "\t\"d\": true, \"e\": false\n"
	                   "}\n";
	arena *a = arena_new();
	jp_value *v = NULL;
	jp_error e;
	int rc = jp_parse(a, text, strlen(text), &v, &e);

	CHECK_EQ_INT(rc, 0);
	if (rc == 0) {
		CHECK_EQ_INT(v->type, JP_OBJECT);
		CHECK_EQ_INT(v->line, 1);
		CHECK_EQ_INT(v->col, 1);
		CHECK_EQ_INT(v->u.obj.n, 4);
		const jp_member *m = v->u.obj.members;
		CHECK_EQ_STR(m[0].key, "a");
		CHECK_EQ_INT(m[0].line, 2);
		CHECK_EQ_INT(m[0].col, 3);
		CHECK_EQ_INT(m[0].value->type, JP_ARRAY);
		CHECK_EQ_INT(m[0].value->line, 2);
		CHECK_EQ_INT(m[0].value->col, 8);
		CHECK_EQ_INT(m[0].value->u.arr.n, 2);
		CHECK_EQ_INT(m[0].value->u.arr.items[0]->col, 9);
		CHECK_EQ_INT(m[0].value->u.arr.items[0]->u.num.i, 1);
		CHECK_EQ_INT(m[0].value->u.arr.items[1]->col, 12);
		CHECK_EQ_STR(m[0].value->u.arr.items[1]->u.str.s, "x");
		CHECK_EQ_STR(m[1].key, "b");
		CHECK_EQ_INT(m[1].line, 3);
		CHECK_EQ_INT(m[1].value->col, 8);
		const jp_member *c = jp_get(m[1].value, "c");
		CHECK(c != NULL);
		if (c) {
			CHECK_EQ_INT(c->line, 3);
			CHECK_EQ_INT(c->col, 9);
			CHECK_EQ_INT(c->value->type, JP_NULL);
			CHECK_EQ_INT(c->value->col, 14);
		}
		/* A tab counts as one byte of column. */
		CHECK_EQ_STR(m[2].key, "d");
		CHECK_EQ_INT(m[2].line, 4);
		CHECK_EQ_INT(m[2].col, 2);
		CHECK_EQ_INT(m[2].value->col, 7);
		CHECK_EQ_INT(m[2].value->type, JP_BOOL);
		CHECK(m[2].value->u.b);
		CHECK_EQ_STR(m[3].key, "e");
		CHECK_EQ_INT(m[3].col, 13);
		CHECK(!m[3].value->u.b);
		CHECK(jp_get(v, "zz") == NULL);
		CHECK(jp_get(m[0].value, "a") == NULL);
	}
	arena_free(a);
}

static void test_strings(void)
{
	const char *text = "[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\", \"\\ud83d\\ude00\", "
	                   "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\", \"\"]";
	arena *a = arena_new();
	jp_value *v = NULL;
	int rc = jp_parse(a, text, strlen(text), &v, NULL);

	CHECK_EQ_INT(rc, 0);
	if (rc == 0) {
		CHECK_EQ_INT(v->u.arr.n, 5);
		CHECK_EQ_STR(v->u.arr.items[0]->u.str.s, "a\"b\\c/d\b\f\n\r\t");
		CHECK_EQ_INT(v->u.arr.items[0]->u.str.len, 12);
		CHECK_EQ_STR(v->u.arr.items[1]->u.str.s, "\xc3\xa9\xe2\x82\xac");
		CHECK_EQ_STR(v->u.arr.items[2]->u.str.s, "\xf0\x9f\x98\x80");
		CHECK_EQ_INT(v->u.arr.items[2]->u.str.len, 4);
		CHECK_EQ_STR(v->u.arr.items[3]->u.str.s, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
		CHECK_EQ_STR(v->u.arr.items[4]->u.str.s, "");
		CHECK_EQ_INT(v->u.arr.items[4]->u.str.len, 0);
	}
	arena_free(a);
}

static void test_numbers(void)
{
	const char *text = "[0, -0, 42, -17, 1.5, -2.5e3, 1E2, 9223372036854775807, -9223372036854775808, "
	                   "9223372036854775808, 1e-400, 12.0]";
	arena *a = arena_new();
	jp_value *v = NULL;
	int rc = jp_parse(a, text, strlen(text), &v, NULL);

	CHECK_EQ_INT(rc, 0);
	if (rc == 0) {
		jp_value **it = v->u.arr.items;
		CHECK_EQ_INT(v->u.arr.n, 12);
		CHECK(it[0]->u.num.is_integer && it[0]->u.num.i == 0);
		CHECK(it[1]->u.num.is_integer && it[1]->u.num.i == 0);
		CHECK(it[2]->u.num.is_integer && it[2]->u.num.i == 42);
		CHECK(it[3]->u.num.is_integer && it[3]->u.num.i == -17);
		CHECK(!it[4]->u.num.is_integer && it[4]->u.num.d == 1.5);
		CHECK(!it[5]->u.num.is_integer && it[5]->u.num.d == -2500.0);
		CHECK(!it[6]->u.num.is_integer && it[6]->u.num.d == 100.0);
		CHECK(it[7]->u.num.is_integer && it[7]->u.num.i == INT64_MAX);
		CHECK(it[8]->u.num.is_integer && it[8]->u.num.i == INT64_MIN);
		/* One past INT64_MAX is still a number, just not an exact integer. */
		CHECK(!it[9]->u.num.is_integer && it[9]->u.num.d > 9.2e18);
		CHECK(it[10]->type == JP_NUMBER && it[10]->u.num.d == 0.0);
		CHECK(!it[11]->u.num.is_integer);
		CHECK_EQ_INT(it[3]->col, 13);
	}
	arena_free(a);
}

static void test_duplicates(void)
{
	const char *text = "{\"x\": 1, \"b\": 2, \"a\": 3, \"b\": 4, \"a\": 5, \"x\": 6}";
	const char *uniq = "{\"x\": 1, \"xx\": 2, \"\": 3}";
	arena *a = arena_new();
	jp_value *v = NULL;
	const jp_member *dup = NULL, *first = NULL;

	CHECK_EQ_INT(jp_parse(a, text, strlen(text), &v, NULL), 0);
	if (v) {
		/* Duplicates are kept in document order... */
		CHECK_EQ_INT(v->u.obj.n, 6);
		CHECK_EQ_INT(jp_get(v, "b")->value->u.num.i, 2);
		/* ...and the earliest second occurrence is the one found. */
		CHECK_EQ_INT(jp_find_duplicate(a, v, &dup, &first), 0);
		CHECK(dup != NULL && first != NULL);
		if (dup && first) {
			CHECK_EQ_STR(dup->key, "b");
			CHECK_EQ_INT(dup->col, 26);
			CHECK_EQ_INT(first->col, 10);
		}
	}
	v = NULL;
	CHECK_EQ_INT(jp_parse(a, uniq, strlen(uniq), &v, NULL), 0);
	if (v) {
		CHECK_EQ_INT(jp_find_duplicate(a, v, &dup, &first), 0);
		CHECK(dup == NULL && first == NULL);
	}
	arena_free(a);
}

typedef struct bad_case {
	const char *text;
	size_t len; /* 0: strlen */
	int line, col;
	const char *msg_part;
} bad_case;

static const bad_case bad[] = {
    {"", 0, 1, 1, "unexpected end of input"},
    {"   ", 0, 1, 4, "unexpected end of input"},
    {"{", 0, 1, 2, "unterminated object"},
    {"[1,2", 0, 1, 5, "unterminated array"},
    {"[1,]", 0, 1, 3, "trailing comma before ']'"},
    {"{\"a\":1,}", 0, 1, 7, "trailing comma before '}'"},
    {"[\n  1,\n  2,\n]", 0, 3, 4, "trailing comma"},
    {"{\"a\" 1}", 0, 1, 6, "expected ':'"},
    {"{a:1}", 0, 1, 2, "expected a key in double quotes"},
    {"[1 2]", 0, 1, 4, "expected ',' or ']'"},
    {"{\n  \"a\": [1,\n    2\n  }", 0, 4, 3, "expected ',' or ']'"},
    {"{\"a\": 1 \"b\": 2}", 0, 1, 9, "expected ',' or '}'"},
    {"[01]", 0, 1, 3, "leading zeros"},
    {"[1.]", 0, 1, 4, "digit after '.'"},
    {"[-]", 0, 1, 3, "digit after '-'"},
    {"[1e]", 0, 1, 4, "exponent"},
    {"[+1]", 0, 1, 2, "unexpected '+'"},
    {"[.5]", 0, 1, 2, "unexpected '.'"},
    {"1e999", 0, 1, 1, "out of range"},
    {"\"abc", 0, 1, 5, "unterminated string"},
    {"\"a\nb\"", 0, 1, 3, "line break inside a string"},
    {"\"a\x01\"", 0, 1, 3, "control character 0x01"},
    {"\"\\q\"", 0, 1, 2, "invalid escape \\q"},
    {"\"\\u12G4\"", 0, 1, 6, "expected 4 hex digits"},
    {"\"\\u12", 0, 1, 6, "unterminated string"},
    {"\"ab\\u0000\"", 0, 1, 4, "\\u0000 is not allowed"},
    {"\"\\ud800\"", 0, 1, 2, "unpaired surrogate"},
    {"\"\\udc00\"", 0, 1, 2, "unpaired surrogate"},
    {"\"\\ud800\\u0041\"", 0, 1, 2, "unpaired surrogate"},
    {"\"\xff\"", 0, 1, 2, "invalid UTF-8"},
    {"\"a\xc3\x28\"", 0, 1, 4, "invalid UTF-8"},
    {"\"\xc0\x80\"", 0, 1, 2, "invalid UTF-8"},
    {"\"\xe0\x80\x80\"", 0, 1, 3, "invalid UTF-8"},
    {"\"\xed\xa0\x80\"", 0, 1, 3, "invalid UTF-8"},
    {"\"\xf4\x90\x80\x80\"", 0, 1, 3, "invalid UTF-8"},
    {"\"\xe2\x82", 0, 1, 4, "cut short"},
    {"\x80", 0, 1, 1, "unexpected byte 0x80"},
    {"tru", 0, 1, 1, "invalid literal"},
    {"[nul]", 0, 1, 2, "invalid literal"},
    {"NaN", 0, 1, 1, "unexpected 'N'"},
    {"{} x", 0, 1, 4, "after the JSON value"},
    {"{}\n\n  ]", 0, 3, 3, "after the JSON value"},
    {"// c\n{}", 0, 1, 1, "comments are not allowed"},
    {"'a'", 0, 1, 1, "double quotes"},
    {"{\n\t\"a\": tru\n}", 0, 2, 7, "invalid literal"},
    {"\xef\xbb\xbfx", 0, 1, 4, "unexpected 'x'"},
    {"[1]\0", 4, 1, 4, "byte 0x00"},
    {"{\"a\": }", 0, 1, 7, "expected a value, found '}'"},
    {"\r\n\r\n  [", 0, 3, 4, "unterminated array"},
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		arena *a = arena_new();
		jp_value *v = NULL;
		jp_error e;
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
		int rc = jp_parse(a, bad[i].text, len, &v, &e);
		if (rc != KILN_E_CONFIG || e.line != bad[i].line || e.col != bad[i].col ||
		    !strstr(e.msg, bad[i].msg_part))
			fprintf(stderr, "case %zu: rc %d at %d:%d: %s\n", i, rc, e.line, e.col, e.msg);
		CHECK_EQ_INT(rc, KILN_E_CONFIG);
		CHECK_EQ_INT(e.line, bad[i].line);
		CHECK_EQ_INT(e.col, bad[i].col);
		CHECK(strstr(e.msg, bad[i].msg_part) != NULL);
		CHECK(v == NULL);
		arena_free(a);
	}
}

static void test_bom(void)
{
	arena *a = arena_new();
	jp_value *v = NULL;
	CHECK_EQ_INT(jp_parse(a, "\xef\xbb\xbf{}", 5, &v, NULL), 0);
	CHECK(v && v->type == JP_OBJECT && v->col == 4);
	arena_free(a);
}

static void test_depth(void)
{
	char buf[2 * (JP_MAX_DEPTH + 1) + 1];
	arena *a = arena_new();
	jp_value *v = NULL;
	jp_error e;

	/* Exactly the limit parses. */
	memset(buf, '[', JP_MAX_DEPTH);
	memset(buf + JP_MAX_DEPTH, ']', JP_MAX_DEPTH);
	CHECK_EQ_INT(jp_parse(a, buf, 2 * JP_MAX_DEPTH, &v, &e), 0);
	/* One more does not, and the error points at the bracket too many. */
	memset(buf, '[', JP_MAX_DEPTH + 1);
	memset(buf + JP_MAX_DEPTH + 1, ']', JP_MAX_DEPTH + 1);
	v = NULL;
	CHECK_EQ_INT(jp_parse(a, buf, 2 * (JP_MAX_DEPTH + 1), &v, &e), KILN_E_CONFIG);
	CHECK_EQ_INT(e.line, 1);
	CHECK_EQ_INT(e.col, JP_MAX_DEPTH + 1);
	CHECK(strstr(e.msg, "nesting deeper") != NULL);
	CHECK(v == NULL);
	/* Objects count toward the same limit. */
	{
		char obj[8 * (JP_MAX_DEPTH + 1) + 2];
		size_t o = 0;
		for (int i = 0; i <= JP_MAX_DEPTH; i++) {
			memcpy(obj + o, "{\"k\":", 5);
			o += 5;
		}
		obj[o] = '\0';
		CHECK_EQ_INT(jp_parse(a, obj, o, &v, &e), KILN_E_CONFIG);
		CHECK_EQ_INT(e.col, 5 * JP_MAX_DEPTH + 1);
	}
	arena_free(a);
}

static void test_size_limit(void)
{
	size_t len = (size_t)JP_MAX_INPUT + 1;
	char *big = malloc(len);
	arena *a = arena_new();
	jp_value *v = NULL;
	jp_error e;

	CHECK(big != NULL);
	if (big) {
		memset(big, ' ', len);
		big[0] = '0';
		CHECK_EQ_INT(jp_parse(a, big, len, &v, &e), KILN_E_TOOBIG);
		CHECK(v == NULL);
		CHECK(strstr(e.msg, "larger than") != NULL);
		/* At the limit, whitespace around a value is fine. */
		CHECK_EQ_INT(jp_parse(a, big, len - 1, &v, &e), 0);
		CHECK(v && v->type == JP_NUMBER);
	}
	free(big);
	arena_free(a);
}

static void test_large_array(void)
{
	/* Many elements exercise the growth of the child stack. */
	size_t n = 100000, o = 0;
	char *buf = malloc(n * 2 + 2);
	arena *a = arena_new();
	jp_value *v = NULL;

	buf[o++] = '[';
	for (size_t i = 0; i < n; i++) {
		buf[o++] = (char)('0' + i % 10);
		buf[o++] = i + 1 < n ? ',' : ']';
	}
	CHECK_EQ_INT(jp_parse(a, buf, o, &v, NULL), 0);
	CHECK(v && v->u.arr.n == n);
	if (v && v->u.arr.n == n)
		CHECK_EQ_INT(v->u.arr.items[n - 1]->u.num.i, (int64_t)((n - 1) % 10));
	free(buf);
	arena_free(a);
}

static void test_type_names(void)
{
	CHECK_EQ_STR(jp_type_name(JP_STRING), "a string");
	CHECK_EQ_STR(jp_type_name(JP_ARRAY), "an array");
	CHECK_EQ_STR(jp_type_name(JP_OBJECT), "an object");
	CHECK_EQ_STR(jp_type_name(JP_NULL), "null");
}

int main(void)
{
	test_valid_tree();
	test_strings();
	test_numbers();
	test_duplicates();
	test_errors();
	test_bom();
	test_depth();
	test_size_limit();
	test_large_array();
	test_type_names();
	TEST_DONE();
}
