/* format.c: the .kmesh writer (see format.h and README.md). */
#include "format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

/* Bytes of each attribute, in storage order. */
static const struct {
	uint32_t attr;
	uint32_t size;
} attrs[] = {
    {MESH_ATTR_POSITION, 12}, {MESH_ATTR_NORMAL, 12}, {MESH_ATTR_TANGENT, 16},
    {MESH_ATTR_UV0, 8},       {MESH_ATTR_COLOR0, 4},
};

uint32_t mesh_fmt_stride(uint32_t layout)
{
	uint32_t s = 0;
	if (!(layout & MESH_ATTR_POSITION) || (layout & ~(uint32_t)MESH_ATTR_ALL))
		return 0;
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (layout & attrs[i].attr)
			s += attrs[i].size;
	return s;
}

int mesh_fmt_attr_offset(uint32_t layout, uint32_t attr)
{
	uint32_t off = 0;
	if (!(layout & attr))
		return -1;
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		if (attrs[i].attr == attr)
			return (int)off;
		if (layout & attrs[i].attr)
			off += attrs[i].size;
	}
	return -1;
}

uint32_t mesh_fmt_index_size(uint32_t n_vertices)
{
	return n_vertices <= 65536u ? 2u : 4u;
}

uint32_t mesh_fmt_prim_indices(uint32_t primitive)
{
	return primitive == MESH_PRIM_TRIANGLES ? 3u : primitive == MESH_PRIM_LINES ? 2u : 0u;
}

uint32_t mesh_fmt_version(uint32_t primitive)
{
	return primitive == MESH_PRIM_TRIANGLES ? MESH_FMT_VERSION_1 : MESH_FMT_VERSION;
}

const char *mesh_fmt_prim_name(uint32_t primitive)
{
	static const char *const names[MESH_PRIM_COUNT] = {"triangles", "lines", "points"};
	return primitive < MESH_PRIM_COUNT ? names[primitive] : "unknown";
}

static uint64_t index_offset(const mesh_fmt_mesh *m)
{
	uint64_t end = MESH_FMT_HEADER_SIZE + (uint64_t)m->n_vertices * mesh_fmt_stride(m->layout);
	/* Every stride is a multiple of 4, so the index array is aligned for
	 * 32-bit reads without padding; the rounding keeps that true should a
	 * future attribute break it. */
	return (end + 3u) & ~(uint64_t)3u;
}

uint64_t mesh_fmt_file_size(const mesh_fmt_mesh *m)
{
	return index_offset(m) + (uint64_t)m->n_indices * mesh_fmt_index_size(m->n_vertices);
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_f32(uint8_t *p, float f)
{
	uint32_t v;
	memcpy(&v, &f, 4);
	put_u32(p, v);
}

void mesh_fmt_header(const mesh_fmt_mesh *m, uint8_t out[MESH_FMT_HEADER_SIZE])
{
	memset(out, 0, MESH_FMT_HEADER_SIZE);
	memcpy(out + MESH_FMT_OFF_MAGIC, MESH_FMT_MAGIC, 4);
	put_u16(out + MESH_FMT_OFF_VERSION, (uint16_t)mesh_fmt_version(m->primitive));
	put_u16(out + MESH_FMT_OFF_HEADER_SIZE, MESH_FMT_HEADER_SIZE);
	put_u32(out + MESH_FMT_OFF_LAYOUT, m->layout);
	put_u32(out + MESH_FMT_OFF_STRIDE, mesh_fmt_stride(m->layout));
	put_u32(out + MESH_FMT_OFF_VERTEX_COUNT, m->n_vertices);
	put_u32(out + MESH_FMT_OFF_INDEX_COUNT, m->n_indices);
	put_u32(out + MESH_FMT_OFF_INDEX_SIZE, mesh_fmt_index_size(m->n_vertices));
	put_u32(out + MESH_FMT_OFF_MATERIAL, m->material);
	for (int i = 0; i < 3; i++) {
		put_f32(out + MESH_FMT_OFF_BBOX_MIN + 4 * i, m->bbox_min[i]);
		put_f32(out + MESH_FMT_OFF_BBOX_MAX + 4 * i, m->bbox_max[i]);
	}
	put_u64(out + MESH_FMT_OFF_VERTEX_OFFSET, MESH_FMT_HEADER_SIZE);
	put_u64(out + MESH_FMT_OFF_INDEX_OFFSET, index_offset(m));
	put_u32(out + MESH_FMT_OFF_SUB_ID, m->sub_id);
	put_u32(out + MESH_FMT_OFF_PRIMITIVE, m->primitive);
}

/* A buffered writer: the file is written in 64 KiB pieces, so a large mesh
 * needs no second full-size copy in memory. */
typedef struct wbuf {
	int fd;
	size_t n;
	int err;
	uint8_t b[64 * 1024];
} wbuf;

static void wb_flush(wbuf *w)
{
	size_t off = 0;
	while (off < w->n && !w->err) {
		ssize_t r = write(w->fd, w->b + off, w->n - off);
		if (r < 0) {
			if (errno != EINTR)
				w->err = -errno;
			continue;
		}
		off += (size_t)r;
	}
	w->n = 0;
}

/* Room for at least need bytes at w->b + w->n. */
static uint8_t *wb_room(wbuf *w, size_t need)
{
	if (sizeof(w->b) - w->n < need)
		wb_flush(w);
	return w->b + w->n;
}

static int check_mesh(const mesh_fmt_mesh *m)
{
	if (mesh_fmt_stride(m->layout) == 0 || m->primitive >= MESH_PRIM_COUNT)
		return -EINVAL;
	uint32_t per = mesh_fmt_prim_indices(m->primitive);
	if (per ? m->n_indices % per != 0 : m->n_indices != 0)
		return -EINVAL;
	if (m->n_vertices && !m->vertices)
		return -EINVAL;
	if (m->n_indices && !m->indices)
		return -EINVAL;
	for (uint32_t i = 0; i < m->n_indices; i++)
		if (m->indices[i] >= m->n_vertices)
			return -EINVAL;
	return 0;
}

int mesh_fmt_write(const char *path, const mesh_fmt_mesh *m)
{
	static wbuf w; /* 64 KiB: too big for the stack of a sanitised build */
	int rc = check_mesh(m);
	if (rc)
		return rc;
	uint32_t stride = mesh_fmt_stride(m->layout);
	uint32_t isize = mesh_fmt_index_size(m->n_vertices);

	w.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w.fd < 0)
		return -errno;
	w.n = 0;
	w.err = 0;

	mesh_fmt_header(m, wb_room(&w, MESH_FMT_HEADER_SIZE));
	w.n += MESH_FMT_HEADER_SIZE;

	/* Vertex attributes are all 4-byte words (float32, or four uint8 for
	 * the colour), so little-endian output is one conversion per word,
	 * except the colour's bytes, which are copied as they are. */
	int color_off = mesh_fmt_attr_offset(m->layout, MESH_ATTR_COLOR0);
	const uint8_t *src = m->vertices;
	for (uint32_t v = 0; v < m->n_vertices && !w.err; v++) {
		uint8_t *dst = wb_room(&w, stride);
		for (uint32_t o = 0; o < stride; o += 4) {
			if ((int)o == color_off) {
				memcpy(dst + o, src + o, 4);
			} else {
				uint32_t word;
				memcpy(&word, src + o, 4);
				put_u32(dst + o, word);
			}
		}
		w.n += stride;
		src += stride;
	}

	uint64_t pad = index_offset(m) - (MESH_FMT_HEADER_SIZE + (uint64_t)m->n_vertices * stride);
	memset(wb_room(&w, (size_t)pad), 0, (size_t)pad);
	w.n += (size_t)pad;

	for (uint32_t i = 0; i < m->n_indices && !w.err; i++) {
		uint8_t *dst = wb_room(&w, 4);
		if (isize == 2)
			put_u16(dst, (uint16_t)m->indices[i]);
		else
			put_u32(dst, m->indices[i]);
		w.n += isize;
	}
	wb_flush(&w);
	rc = w.err;
	if (close(w.fd) < 0 && !rc)
		rc = -errno;
	if (rc)
		unlink(path);
	return rc;
}
