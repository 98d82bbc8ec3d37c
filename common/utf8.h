/* utf8.h: checking UTF-8 as RFC 3629 defines it: no overlong forms, no
 * surrogates (U+D800 to U+DFFF), nothing above U+10FFFF.
 *
 * One check serves every reader of bytes that should be text: JSON strings
 * from paths and logs (supervisor/query), the dashboard's query strings,
 * kiln.json (jsonpos) and regexes and file names (pattern), so that they all
 * agree on what is UTF-8. */
#ifndef KILN_UTF8_H
#define KILN_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The length (1 to 4) of the valid character that starts at s, of which
 * left bytes (at least 1) may be read; an ASCII byte, NUL included, is 1.
 * 0 when it is not valid: then *bad (OUT, may be NULL) is the offset of the
 * first byte that makes it so, 0 for a byte that cannot start a character,
 * left when the input ends inside the character, else a byte that cannot
 * follow the ones before it. */
size_t utf8_char_len(const char *s, size_t left, size_t *bad);

/* True when the len bytes at s are valid UTF-8 throughout (NUL bytes are
 * ASCII here; a C string is checked with len = strlen(s)). */
bool utf8_valid(const char *s, size_t len);

#endif
