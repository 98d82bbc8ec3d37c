/* deps.c: files a model reads besides itself (see deps.h). */
#include "deps.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "path.h"

typedef struct dlist {
	arena *a;
	const char **items;
	size_t n;
	int oom;
} dlist;

/* Adds a path (len bytes of s), with backslashes as slashes, unless empty
 * or already listed. */
static void add(dlist *d, const char *s, size_t len)
{
	if (!len || d->n >= MESH_DEPS_MAX || d->oom)
		return;
	char *p = arena_strndup(d->a, s, len);
	if (!p) {
		d->oom = 1;
		return;
	}
	for (char *c = p; *c; c++)
		if (*c == '\\')
			*c = '/';
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->items[i], p) == 0)
			return;
	d->items[d->n++] = p;
}

/* "mtllib NAME" lines. assimp takes the rest of the line, trimmed, as one
 * file name (names may hold spaces), and so does this. */
static void scan_obj(FILE *f, dlist *d)
{
	char line[4096];
	int at_start = 1;
	while (fgets(line, sizeof line, f)) {
		size_t len = strlen(line);
		int whole = len > 0 && line[len - 1] == '\n';
		/* Only the start of a line can be a statement; the rest of an
		 * overlong line is skipped. */
		if (at_start && strncmp(line, "mtllib", 6) == 0 && (line[6] == ' ' || line[6] == '\t')) {
			const char *s = line + 7;
			while (*s == ' ' || *s == '\t')
				s++;
			size_t n = strlen(s);
			while (n &&
			       (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
				n--;
			add(d, s, n);
		}
		at_start = whole;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A buffer URI: data: URIs and URIs with a scheme other than file: need no
 * dependency; the rest is a relative or absolute path with %XX escapes. */
static void add_uri(dlist *d, const char *uri)
{
	char buf[KILN_PATH_MAX];
	size_t o = 0;
	if (strncasecmp(uri, "data:", 5) == 0)
		return;
	if (strncasecmp(uri, "file://", 7) == 0)
		uri += 7;
	else if (strstr(uri, "://"))
		return;
	for (const char *p = uri; *p && o < sizeof buf - 1; p++) {
		int hi, lo;
		if (*p == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0 && (hi || lo)) {
			buf[o++] = (char)(hi * 16 + lo);
			p += 2;
		} else {
			buf[o++] = *p;
		}
	}
	add(d, buf, o);
}

static void scan_gltf_json(const char *text, size_t len, dlist *d)
{
	json_t *root = json_loadb(text, len, 0, NULL);
	if (!root)
		return;
	/* glTF 2 keeps buffers in an array, glTF 1 in an object. */
	json_t *bufs = json_object_get(root, "buffers"), *b;
	if (json_is_array(bufs)) {
		size_t i;
		json_array_foreach(bufs, i, b)
		{
			const char *u = json_string_value(json_object_get(b, "uri"));
			if (u)
				add_uri(d, u);
		}
	} else if (json_is_object(bufs)) {
		const char *k;
		json_object_foreach(bufs, k, b)
		{
			const char *u = json_string_value(json_object_get(b, "uri"));
			if (u)
				add_uri(d, u);
		}
	}
	json_decref(root);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads n bytes at the current offset into a fresh buffer (NULL on a short
 * read or no memory; *oom tells which). */
static char *read_n(FILE *f, size_t n, int *oom)
{
	char *buf = malloc(n ? n : 1);
	if (!buf) {
		*oom = 1;
		return NULL;
	}
	if (fread(buf, 1, n, f) != n) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void scan_gltf(FILE *f, dlist *d)
{
	if (fseek(f, 0, SEEK_END) != 0)
		return;
	long size = ftell(f);
	if (size <= 0 || (unsigned long)size > MESH_DEPS_MAX_JSON || fseek(f, 0, SEEK_SET) != 0)
		return;
	char *text = read_n(f, (size_t)size, &d->oom);
	if (text)
		scan_gltf_json(text, (size_t)size, d);
	free(text);
}

/* A .glb: a 12-byte header ("glTF", version, length), then chunks; the
 * first holds the JSON (type "JSON" in glTF 2; glTF 1's binary form puts
 * the content length and format 0 there instead). */
static void scan_glb(FILE *f, dlist *d)
{
	unsigned char h[20];
	if (fread(h, 1, sizeof h, f) != sizeof h || memcmp(h, "glTF", 4) != 0)
		return;
	uint32_t clen = le32(h + 12);
	if (clen == 0 || clen > MESH_DEPS_MAX_JSON)
		return;
	if (le32(h + 4) == 2 && memcmp(h + 16, "JSON", 4) != 0)
		return;
	char *text = read_n(f, clen, &d->oom);
	if (text)
		scan_gltf_json(text, clen, d);
	free(text);
}

int mesh_deps_scan(const char *full_path, const char *name, arena *a, const char ***out, size_t *n)
{
	dlist d = {.a = a};
	const char *ext = path_ext(name);
	void (*scan)(FILE *, dlist *) = NULL;

	*out = NULL;
	*n = 0;
	if (strcasecmp(ext, "obj") == 0)
		scan = scan_obj;
	else if (strcasecmp(ext, "gltf") == 0)
		scan = scan_gltf;
	else if (strcasecmp(ext, "glb") == 0)
		scan = scan_glb;
	else
		return 0;
	d.items = arena_alloc(a, MESH_DEPS_MAX * sizeof *d.items);
	if (!d.items)
		return -ENOMEM;
	FILE *f = fopen(full_path, "rbe");
	if (!f)
		return 0;
	scan(f, &d);
	fclose(f);
	if (d.oom)
		return -ENOMEM;
	*out = d.items;
	*n = d.n;
	return 0;
}
