/* host_lines_test.c: the builder host's stderr line splitter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "test.h"

typedef struct seen {
	char *text[64];
	size_t len[64];
	size_t n;
} seen;

static void on_line(void *arg, const char *text, size_t len)
{
	seen *s = arg;
	if (s->n < 64) {
		s->text[s->n] = strdup(text);
		s->len[s->n] = len;
		s->n++;
	}
}

static void seen_free(seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->text[i]);
	memset(s, 0, sizeof(*s));
}

static void test_split(void)
{
	lines l;
	seen s = {0};
	lines_init(&l);

	/* Lines split across chunks, CRLF endings, an empty line. */
	const char *chunks[] = {"hel", "lo\nwor", "ld\r\n", "\n", "tail without newline"};
	for (size_t i = 0; i < 5; i++)
		CHECK_EQ_INT(lines_feed(&l, chunks[i], strlen(chunks[i]), on_line, &s), 0);
	CHECK_EQ_INT(s.n, 3);
	CHECK_EQ_STR(s.text[0], "hello");
	CHECK_EQ_STR(s.text[1], "world");
	CHECK_EQ_STR(s.text[2], "");
	CHECK_EQ_INT(s.len[2], 0);
	CHECK_EQ_INT(lines_flush(&l, on_line, &s), 0);
	CHECK_EQ_INT(s.n, 4);
	CHECK_EQ_STR(s.text[3], "tail without newline");
	/* Nothing pending: a second flush emits nothing. */
	CHECK_EQ_INT(lines_flush(&l, on_line, &s), 0);
	CHECK_EQ_INT(s.n, 4);

	const char *tail[LINES_TAIL];
	size_t nt = lines_tail(&l, tail, LINES_TAIL);
	CHECK_EQ_INT(nt, 4);
	CHECK_EQ_STR(tail[0], "hello");
	CHECK_EQ_STR(tail[3], "tail without newline");
	lines_free(&l);
	seen_free(&s);
}

static void test_long_line(void)
{
	lines l;
	seen s = {0};
	size_t big = LINES_MAX * 3 + 100;
	char *buf = malloc(big + 8);
	lines_init(&l);

	memset(buf, 'x', big);
	memcpy(buf + big, "\nnext\n", 6);
	/* Fed in odd-sized pieces so the cut happens mid-chunk. */
	for (size_t off = 0; off < big + 6;) {
		size_t n = big + 6 - off < 1000 ? big + 6 - off : 1000;
		lines_feed(&l, buf + off, n, on_line, &s);
		off += n;
	}
	CHECK_EQ_INT(s.n, 2);
	CHECK_EQ_INT(s.len[0], LINES_MAX);
	CHECK_EQ_INT(strlen(s.text[0]), LINES_MAX);
	CHECK_EQ_STR(s.text[1], "next");
	seen_free(&s);

	/* A line of exactly LINES_MAX bytes is whole, and the '\n' after it
	 * does not make an extra empty line. */
	memset(buf, 'y', LINES_MAX);
	buf[LINES_MAX] = '\n';
	lines_feed(&l, buf, LINES_MAX, on_line, &s);
	lines_feed(&l, buf + LINES_MAX, 1, on_line, &s);
	lines_feed(&l, "z\n", 2, on_line, &s);
	CHECK_EQ_INT(s.n, 2);
	CHECK_EQ_INT(s.len[0], LINES_MAX);
	CHECK_EQ_STR(s.text[1], "z");
	seen_free(&s);
	lines_free(&l);
	free(buf);
}

static void test_tail(void)
{
	lines l;
	char line[32];
	const char *tail[LINES_TAIL];
	lines_init(&l);

	for (int i = 0; i < 50; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		lines_feed(&l, line, strlen(line), NULL, NULL);
	}
	size_t n = lines_tail(&l, tail, LINES_TAIL);
	CHECK_EQ_INT(n, LINES_TAIL);
	CHECK_EQ_STR(tail[0], "line 30");
	CHECK_EQ_STR(tail[LINES_TAIL - 1], "line 49");
	/* Fewer asked for: the newest ones. */
	n = lines_tail(&l, tail, 2);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(tail[0], "line 48");
	CHECK_EQ_STR(tail[1], "line 49");
	lines_tail_clear(&l);
	CHECK_EQ_INT(lines_tail(&l, tail, LINES_TAIL), 0);
	lines_feed(&l, "after\n", 6, NULL, NULL);
	CHECK_EQ_INT(lines_tail(&l, tail, LINES_TAIL), 1);
	CHECK_EQ_STR(tail[0], "after");
	lines_free(&l);
}

static void test_level(void)
{
	const char *t = "W: careful";
	CHECK_EQ_INT(lines_level(&t), MSG_LEVEL_WARNING);
	CHECK_EQ_STR(t, "careful");
	t = "E: broken";
	CHECK_EQ_INT(lines_level(&t), MSG_LEVEL_ERROR);
	CHECK_EQ_STR(t, "broken");
	t = "W:no space";
	CHECK_EQ_INT(lines_level(&t), MSG_LEVEL_INFO);
	CHECK_EQ_STR(t, "W:no space");
	t = "E";
	CHECK_EQ_INT(lines_level(&t), MSG_LEVEL_INFO);
	t = "";
	CHECK_EQ_INT(lines_level(&t), MSG_LEVEL_INFO);
	t = "info: W: later";
	CHECK_EQ_INT(lines_level(&t), MSG_LEVEL_INFO);
}

int main(void)
{
	test_split();
	test_long_line();
	test_tail();
	test_level();
	TEST_DONE();
}
