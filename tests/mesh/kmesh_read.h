/* kmesh_read.h: a .kmesh reader for the tests, written from the table in
 * builders/kiln-mesh/README.md, not from format.c's code, so that a writer
 * that drifts from the documented format fails the tests.
 *
 * It reads what a version 2 reader must: versions 1 and 2, the primitive
 * type at offset 76 (always 0, triangles, in version 1), and it checks that
 * the sizes add up, that the index count fits the primitive type and that
 * every index is below the vertex count. Header-only (static functions), so
 * that every test can include it. */
#ifndef KILN_TEST_KMESH_READ_H
#define KILN_TEST_KMESH_READ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rd {
	uint8_t *buf;
	size_t len;
	char magic[5];
	unsigned version, header_size, layout, stride, vcount, icount, isize, material, sub_id, primitive;
	float bmin[3], bmax[3];
	uint64_t voff, ioff;
} rd;

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static inline float lef(const uint8_t *p)
{
	uint32_t v = le32(p);
	float f;
	memcpy(&f, &v, 4);
	return f;
}

static inline uint32_t rd_index(const rd *r, uint32_t i)
{
	const uint8_t *p = r->buf + r->ioff + (uint64_t)i * r->isize;
	return r->isize == 2 ? (uint32_t)(p[0] | p[1] << 8) : le32(p);
}

static inline float rd_float(const rd *r, uint32_t v, uint32_t byte_off)
{
	return lef(r->buf + r->voff + (uint64_t)v * r->stride + byte_off);
}

/* Reads the whole file and its header; returns 0 when it is well formed.
 * r->buf is malloc'd (also on most errors); free it with rd_free. */
static inline int rd_load(const char *path, rd *r)
{
	memset(r, 0, sizeof *r);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	r->buf = malloc((size_t)n + 1);
	r->len = fread(r->buf, 1, (size_t)n, f);
	fclose(f);
	if (r->len < 80)
		return -2;
	const uint8_t *h = r->buf;
	memcpy(r->magic, h, 4);
	r->version = h[4] | h[5] << 8;
	r->header_size = h[6] | h[7] << 8;
	r->layout = le32(h + 8);
	r->stride = le32(h + 12);
	r->vcount = le32(h + 16);
	r->icount = le32(h + 20);
	r->isize = le32(h + 24);
	r->material = le32(h + 28);
	for (int i = 0; i < 3; i++) {
		r->bmin[i] = lef(h + 32 + 4 * i);
		r->bmax[i] = lef(h + 44 + 4 * i);
	}
	r->voff = le64(h + 56);
	r->ioff = le64(h + 64);
	r->sub_id = le32(h + 72);
	r->primitive = le32(h + 76);
	if (memcmp(r->magic, "KMSH", 4) != 0 || r->version < 1 || r->version > 2)
		return -7;
	if (r->version == 1 && r->primitive != 0)
		return -8; /* reserved, 0, in version 1 */
	if (r->voff + (uint64_t)r->vcount * r->stride > r->ioff)
		return -3;
	if (r->ioff + (uint64_t)r->icount * r->isize != r->len)
		return -4;
	if (r->primitive == 0   ? r->icount % 3
	    : r->primitive == 1 ? r->icount % 2
	    : r->primitive == 2 ? r->icount
	                        : 1)
		return -5;
	for (uint32_t i = 0; i < r->icount; i++)
		if (rd_index(r, i) >= r->vcount)
			return -6;
	return 0;
}

static inline void rd_free(rd *r)
{
	free(r->buf);
	r->buf = NULL;
}

#endif
