/* jsonpos.h: a small strict JSON parser (RFC 8259) that remembers where
 * every value and every object key was written.
 *
 * kiln.json errors must name the line and column of the offending value, and
 * general-purpose parsers throw positions away, so this one keeps them: every
 * jp_value and every object key carries a 1-based line and a 1-based column
 * counted in bytes. Objects keep their keys in document order and keep
 * duplicates, so that the caller can report a duplicate where it was written
 * (jp_find_duplicate).
 *
 * Strictness: no comments, no trailing commas, no leading zeros, no NaN or
 * Infinity, no control characters inside strings, no invalid UTF-8 anywhere,
 * no unpaired surrogate escapes, and no \u0000 (it would cut a C string
 * short, so every decoded string is also a valid C string of len bytes). A
 * leading UTF-8 byte-order mark is skipped, as RFC 8259 allows; it still
 * counts as three bytes of column on line 1.
 *
 * Limits: input at most JP_MAX_INPUT bytes and nesting at most JP_MAX_DEPTH
 * arrays and objects, so hostile input cannot exhaust the stack or memory.
 *
 * Memory: the whole tree is allocated from the caller's arena and lives as
 * long as it does; nothing in it is freed one by one. */
#ifndef KILN_JSONPOS_H
#define KILN_JSONPOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

#define JP_MAX_DEPTH 64
#define JP_MAX_INPUT (16u * 1024u * 1024u)

typedef enum jp_type { JP_NULL = 0, JP_BOOL, JP_NUMBER, JP_STRING, JP_ARRAY, JP_OBJECT } jp_type;

typedef struct jp_value jp_value;

typedef struct jp_member {
	const char *key; /* decoded, NUL-terminated, no NUL inside */
	size_t key_len;
	int line, col; /* of the key's opening quote */
	jp_value *value;
} jp_member;

struct jp_value {
	jp_type type;
	int line, col; /* of the value's first byte */
	union {
		bool b; /* JP_BOOL */
		struct {
			double d;
			/* The literal had no fraction and no exponent and fits in
			 * int64_t exactly; i then holds it. */
			bool is_integer;
			int64_t i;
		} num; /* JP_NUMBER */
		struct {
			const char *s; /* decoded UTF-8, NUL-terminated */
			size_t len;
		} str; /* JP_STRING */
		struct {
			jp_value **items;
			size_t n;
		} arr; /* JP_ARRAY */
		struct {
			jp_member *members; /* in document order, duplicates kept */
			size_t n;
		} obj; /* JP_OBJECT */
	} u;
};

typedef struct jp_error {
	int line, col; /* of the offending byte (or of the end of input) */
	char msg[160];
} jp_error;

/* Parses exactly one JSON value from text[0..len) (whitespace around it is
 * allowed, nothing else). On success *out (OUT) points into a (the caller's
 * arena) and 0 is returned. On error returns KILN_E_CONFIG for bad syntax or
 * encoding, KILN_E_TOOBIG when len exceeds JP_MAX_INPUT, or -ENOMEM; *err
 * then says what and where. err may be NULL. */
int jp_parse(arena *a, const char *text, size_t len, jp_value **out, jp_error *err);

/* Looks up key in an object (the first member with that key). Returns NULL
 * when obj is not an object or has no such key. */
const jp_member *jp_get(const jp_value *obj, const char *key);

/* Finds the duplicate key of obj that appears earliest in the document (its
 * second occurrence) in O(n log n). Returns 0 and sets *dup and *first (OUT;
 * the member and the earlier member with the same key), or sets both to NULL
 * when every key is unique. Scratch memory comes from a. Returns -ENOMEM. */
int jp_find_duplicate(arena *a, const jp_value *obj, const jp_member **dup, const jp_member **first);

/* "null", "a boolean", "a number", "a string", "an array", "an object":
 * for messages such as "must be a string, not an array". */
const char *jp_type_name(jp_type t);

#endif
