/* pattern.h: builder patterns and user regexes, compiled to PCRE2 with match
 * and depth limits so that no pattern can run away.
 *
 * A builder pattern is a glob or, with the prefix "re:", a PCRE2 regex on the
 * path relative to its scan folder (SPEC section 2). Globs are
 * case-insensitive. "*" matches within one component, "**" across
 * components ("a/ ** /b" also matches "a/b"), "?" one character other than
 * '/', "[abc]" and "[!a-z]" classes. A glob without '/' matches the file name
 * alone; with '/', the whole relative path. */
#ifndef KILN_PATTERN_H
#define KILN_PATTERN_H

#include <stddef.h>

#define PATTERN_MATCH_LIMIT 100000u
#define PATTERN_DEPTH_LIMIT 2000u

typedef struct kpattern kpattern;

/* Compiles src. On success *out (OUT) belongs to the caller (pattern_free).
 * Returns 0 or KILN_E_REGEX with err saying why and where. */
int pattern_compile(const char *src, kpattern **out, char *err, size_t errsz);

/* Matches rel (path relative to the scan folder). Returns 1 on a match, 0 on
 * none, KILN_E_LIMIT when the regex hit a limit (any other PCRE2 failure,
 * which should not happen, is -ENOMEM or KILN_E_REGEX). Not thread-safe per
 * pattern (it keeps its match data). */
int pattern_match(kpattern *p, const char *rel);

/* The source text as given. */
const char *pattern_source(const kpattern *p);
void pattern_free(kpattern *p);

/* A plain PCRE2 regex (no glob translation) with the same limits, for
 * excludes and user filters. Case-sensitive unless the pattern says (?i). */
int regex_compile(const char *re, kpattern **out, char *err, size_t errsz);

/* Translates a glob into a PCRE2 pattern (exposed for tests). Returns 0,
 * KILN_E_TOOBIG, or KILN_E_REGEX for an unterminated '['. */
int glob_to_regex(const char *glob, char *out, size_t outsz);

#endif
