/* info.c: the .assetinfo sidecar (see info.h).
 *
 * The text is parsed by kiln's position-keeping JSON parser (jsonpos, the
 * one kiln.json uses), so that an unknown key or a wrong value is reported
 * where it was written, as kiln.json's errors are. */
#include "info.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "jsonpos.h"
#include "kerr.h"

static const char known_keys[] = "normals, tangents, smoothing_angle, flip_uvs, optimize, scale";

void mesh_info_defaults(mesh_info *out)
{
	memset(out, 0, sizeof *out);
	out->normals = MESH_NORMALS_AUTO;
	out->smoothing_angle = 175.0f;
	out->optimize = true;
	out->scale = 1.0f;
}

static int fail_at(char *err, size_t errsz, const char *name, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int fail_at(char *err, size_t errsz, const char *name, int line, int col, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errsz, "%s:%d:%d: ", name, line, col);
	if (n >= 0 && (size_t)n < errsz) {
		va_start(ap, fmt);
		vsnprintf(err + n, errsz - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return KILN_E_CONFIG;
}

static int get_bool(const jp_member *m, bool *out, char *err, size_t errsz, const char *name)
{
	if (m->value->type != JP_BOOL)
		return fail_at(err, errsz, name, m->value->line, m->value->col,
		               "%s must be true or false, not %s", m->key, jp_type_name(m->value->type));
	*out = m->value->u.b;
	return 0;
}

/* A finite number in [lo, hi] (exclusive at lo when lo_open). */
static int get_num(const jp_member *m, double lo, int lo_open, double hi, float *out, char *err, size_t errsz,
                   const char *name)
{
	const jp_value *v = m->value;
	if (v->type != JP_NUMBER)
		return fail_at(err, errsz, name, v->line, v->col, "%s must be a number, not %s", m->key,
		               jp_type_name(v->type));
	double d = v->u.num.d;
	if (!isfinite(d) || d > hi || d < lo || (lo_open && d == lo))
		return fail_at(err, errsz, name, v->line, v->col, "%s must be %s %g and at most %g, not %g",
		               m->key, lo_open ? "above" : "at least", lo, hi, d);
	*out = (float)d;
	return 0;
}

static int do_member(const jp_member *m, mesh_info *o, char *err, size_t errsz, const char *name)
{
	const jp_value *v = m->value;
	if (strcmp(m->key, "normals") == 0) {
		static const char *const modes[] = {"auto", "custom", "generate", "none"};
		if (v->type != JP_STRING)
			return fail_at(err, errsz, name, v->line, v->col,
			               "normals must be a string (auto, custom, generate or none), not %s",
			               jp_type_name(v->type));
		for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
			if (strcmp(v->u.str.s, modes[i]) == 0) {
				o->normals = (mesh_normals)i;
				return 0;
			}
		}
		return fail_at(err, errsz, name, v->line, v->col,
		               "normals must be auto, custom, generate or none, not \"%.64s\"", v->u.str.s);
	}
	if (strcmp(m->key, "tangents") == 0)
		return get_bool(m, &o->tangents, err, errsz, name);
	if (strcmp(m->key, "flip_uvs") == 0)
		return get_bool(m, &o->flip_uvs, err, errsz, name);
	if (strcmp(m->key, "optimize") == 0)
		return get_bool(m, &o->optimize, err, errsz, name);
	if (strcmp(m->key, "smoothing_angle") == 0)
		return get_num(m, 0.0, 0, 180.0, &o->smoothing_angle, err, errsz, name);
	if (strcmp(m->key, "scale") == 0)
		return get_num(m, 0.0, 1, 1e6, &o->scale, err, errsz, name);
	return fail_at(err, errsz, name, m->line, m->col, "unknown key \"%.64s\" (known keys: %s)", m->key,
	               known_keys);
}

int mesh_info_parse(const char *text, size_t len, const char *name, mesh_info *out, char *err, size_t errsz)
{
	arena *a = NULL;
	jp_value *top = NULL;
	jp_error jerr;
	mesh_info o;
	int rc;

	mesh_info_defaults(&o);
	if (len > MESH_INFO_MAX_FILE)
		return fail_at(err, errsz, name, 1, 1,
		               "the file is larger than %u bytes; this is not an options file",
		               MESH_INFO_MAX_FILE);
	a = arena_new();
	if (!a)
		return -ENOMEM;
	rc = jp_parse(a, text, len, &top, &jerr);
	if (rc == -ENOMEM)
		goto out;
	if (rc) {
		rc = fail_at(err, errsz, name, jerr.line, jerr.col, "%s", jerr.msg);
		goto out;
	}
	if (top->type != JP_OBJECT) {
		rc = fail_at(err, errsz, name, top->line, top->col,
		             "the options must be a JSON object such as {\"tangents\": true}, not %s",
		             jp_type_name(top->type));
		goto out;
	}
	const jp_member *dup = NULL, *first = NULL;
	if ((rc = jp_find_duplicate(a, top, &dup, &first)))
		goto out;
	if (dup) {
		rc = fail_at(err, errsz, name, dup->line, dup->col,
		             "duplicate key \"%.64s\" (first at %d:%d)", dup->key, first->line, first->col);
		goto out;
	}
	const jp_member *tangents_m = NULL;
	for (size_t i = 0; i < top->u.obj.n; i++) {
		const jp_member *m = &top->u.obj.members[i];
		if ((rc = do_member(m, &o, err, errsz, name)))
			goto out;
		if (strcmp(m->key, "tangents") == 0)
			tangents_m = m;
	}
	/* Tangents are built from normals; asking for both is a contradiction
	 * that is better refused here than half-honoured. */
	if (o.tangents && o.normals == MESH_NORMALS_NONE) {
		rc = fail_at(err, errsz, name, tangents_m->line, tangents_m->col,
		             "tangents need normals, but normals is \"none\"");
		goto out;
	}
	*out = o;
out:
	arena_free(a);
	return rc;
}

int mesh_info_load(const char *path, mesh_info *out, char *err, size_t errsz)
{
	int fd = -1, rc = 0;
	char *text = NULL;
	struct stat st;

	mesh_info_defaults(out);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		if (rc != -ENOENT)
			snprintf(err, errsz, "%s: cannot read: %s", path, strerror(-rc));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		snprintf(err, errsz, "%s: cannot read: %s", path, strerror(-rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = KILN_E_CONFIG;
		snprintf(err, errsz, "%s: not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > MESH_INFO_MAX_FILE) {
		rc = KILN_E_TOOBIG;
		snprintf(err, errsz, "%s:1:1: the file is larger than %u bytes; this is not an options file",
		         path, MESH_INFO_MAX_FILE);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		rc = -ENOMEM;
		snprintf(err, errsz, "%s: out of memory", path);
		goto out;
	}
	size_t len = 0;
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, text + len, (size_t)st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			snprintf(err, errsz, "%s: cannot read: %s", path, strerror(-rc));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	rc = mesh_info_parse(text, len, path, out, err, errsz);
	if (rc == -ENOMEM)
		snprintf(err, errsz, "%s: out of memory", path);
out:
	free(text);
	if (fd >= 0)
		close(fd);
	return rc;
}
