/* arena.h: a bump allocator for decoded messages and other short-lived trees.
 *
 * Everything allocated from an arena is freed at once by arena_free(); nothing
 * from it is freed one by one. */
#ifndef KILN_ARENA_H
#define KILN_ARENA_H

#include <stddef.h>

typedef struct arena arena;

/* Returns a new empty arena, or NULL when out of memory. The caller owns it. */
arena *arena_new(void);
/* Frees the arena and every block taken from it. NULL is accepted. */
void arena_free(arena *a);
/* Returns zeroed memory aligned for any type, or NULL when out of memory. */
void *arena_alloc(arena *a, size_t n);
/* Zeroed memory with no alignment (for strings and other bytes). */
void *arena_alloc_bytes(arena *a, size_t n);
/* Copies n bytes and adds a NUL (byte-aligned); returns NULL when out of
 * memory. */
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);
/* printf into the arena. */
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
