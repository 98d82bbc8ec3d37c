/* subid.c: stable sub_ids (see subid.h for the exact bytes hashed). */
#include "subid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* For XXH3_state_t on the stack: the header and the library come from the
 * same package, so the state's layout matches. */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

uint32_t mesh_subid_hash(const mesh_subid_key *k, uint32_t attempt)
{
	XXH3_state_t st;
	char num[16];
	const char *np = k->node_path ? k->node_path : "";
	const char *mn = k->mesh_name ? k->mesh_name : "";

	/* XXH3_64bits_reset and _update only fail for a NULL state. */
	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, np, strlen(np) + 1);
	XXH3_64bits_update(&st, mn, strlen(mn) + 1);
	int n = snprintf(num, sizeof num, "%u", (unsigned)k->index_in_node);
	XXH3_64bits_update(&st, num, (size_t)n);
	if (attempt) {
		XXH3_64bits_update(&st, "\0#", 2);
		n = snprintf(num, sizeof num, "%u", (unsigned)attempt);
		XXH3_64bits_update(&st, num, (size_t)n);
	}
	return (uint32_t)XXH3_64bits_digest(&st);
}

/* Open-addressing set of the ids given so far. */
typedef struct idset {
	uint32_t *slot; /* 0 = empty, which is why 0 is never an id */
	size_t mask;
} idset;

static int idset_has(const idset *s, uint32_t v)
{
	for (size_t i = v & s->mask;; i = (i + 1) & s->mask) {
		if (s->slot[i] == v)
			return 1;
		if (s->slot[i] == 0)
			return 0;
	}
}

static void idset_add(idset *s, uint32_t v)
{
	size_t i = v & s->mask;
	while (s->slot[i] != 0)
		i = (i + 1) & s->mask;
	s->slot[i] = v;
}

int mesh_subid_assign(const mesh_subid_key *keys, size_t n, uint32_t *out)
{
	idset s;
	size_t cap = 16;
	while (cap < n * 2 + 2)
		cap *= 2;
	s.slot = calloc(cap, sizeof *s.slot);
	if (!s.slot)
		return -ENOMEM;
	s.mask = cap - 1;
	for (size_t i = 0; i < n; i++) {
		uint32_t attempt = 0, id;
		do
			id = mesh_subid_hash(&keys[i], attempt++);
		while (id == 0 || idset_has(&s, id));
		idset_add(&s, id);
		out[i] = id;
	}
	free(s.slot);
	return 0;
}
