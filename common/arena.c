/* arena.c: a bump allocator in chained blocks.
 *
 * Small requests are cut from the current block; a request larger than a
 * quarter of a block gets a block of its own, chained behind the current one
 * so the free tail of the current block is not wasted. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>

#include "arena.h"

#define ARENA_BLOCK (16u * 1024u)
#define ARENA_ALIGN (_Alignof(max_align_t))

typedef struct arena_block {
	struct arena_block *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	/* Keeps the payload that follows the header aligned for any type. */
	max_align_t data[];
} arena_block;

struct arena {
	arena_block *head; /* the block small requests are cut from */
};

static size_t align_up(size_t n)
{
	return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

static arena_block *block_new(size_t size)
{
	if (size > SIZE_MAX - sizeof(arena_block))
		return NULL;
	/* calloc: arena memory is handed out zeroed, and fresh pages from a
	 * large calloc come zeroed for free. */
	arena_block *b = calloc(1, sizeof(arena_block) + size);
	if (!b)
		return NULL;
	b->size = size;
	return b;
}

arena *arena_new(void)
{
	arena *a = calloc(1, sizeof(*a));
	return a;
}

void arena_free(arena *a)
{
	if (!a)
		return;
	arena_block *b = a->head;
	while (b) {
		arena_block *next = b->next;
		free(b);
		b = next;
	}
	free(a);
}

/* Cuts n bytes from the arena, rounded up to a multiple of align (a power
 * of two no larger than ARENA_ALIGN): block payloads start aligned for any
 * type, so a multiple of align keeps the next cut aligned for it too. */
static void *cut(arena *a, size_t n, size_t align)
{
	if (!a)
		return NULL;
	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	arena_block *b = a->head;
	size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
	if (b && at <= b->size && b->size - at >= n) {
		void *p = (char *)b->data + at;
		b->used = at + n;
		return p;
	}
	if (n > ARENA_BLOCK / 4) {
		arena_block *big = block_new(n);
		if (!big)
			return NULL;
		big->used = n;
		if (b) {
			big->next = b->next;
			b->next = big;
		} else {
			a->head = big;
		}
		return big->data;
	}
	arena_block *nb = block_new(ARENA_BLOCK);
	if (!nb)
		return NULL;
	nb->next = a->head;
	a->head = nb;
	nb->used = n;
	return nb->data;
}

void *arena_alloc(arena *a, size_t n)
{
	if (n > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	return cut(a, align_up(n ? n : 1), ARENA_ALIGN);
}

/* Strings need no alignment: packing them byte by byte is what keeps the
 * supervisor's paths (two or three short strings per source) small. */
void *arena_alloc_bytes(arena *a, size_t n)
{
	return cut(a, n, 1);
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *p = arena_alloc_bytes(a, n + 1);
	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(arena *a, const char *s)
{
	if (!s)
		return NULL;
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = arena_alloc_bytes(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
