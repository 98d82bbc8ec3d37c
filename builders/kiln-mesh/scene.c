/* scene.c: the .kscene writer (see scene.h and README.md). */
#include "scene.h"

#include <assimp/material.h>
#include <assimp/scene.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "hmap.h"
#include "kerr.h"
#include "path.h"
#include "utf8.h"

int mesh_scene_path(const char *source_file, char *out, size_t outsz)
{
	const char *ext = path_ext(source_file);
	size_t stem = *ext ? (size_t)(ext - 1 - source_file) : strlen(source_file);
	const char *slash = strrchr(source_file, '/');
	const char *base = slash ? slash + 1 : source_file;
	int w = snprintf(out, outsz, "%.*s/%s.kscene", (int)stem, source_file, base);
	return (w < 0 || (size_t)w >= outsz) ? KILN_E_TOOBIG : 0;
}

/* The writer's state: the file, the products by mesh, and the node names
 * that cameras and lights look up. */
typedef struct sw {
	FILE *f;
	const struct aiScene *s;
	const char *source_file, *full_path;
	float scale;
	const mesh_scene_product *prods;
	size_t n_meshes;
	size_t *first; /* per scene mesh: its first product, or SIZE_MAX */
	size_t *next;  /* per product: the next one of the same mesh, or SIZE_MAX */
	hmap names;    /* node name -> index of the first node with it */
	uint64_t n_nodes;
	mesh_scene_stats *st;
	int oom;
} sw;

/* An aiString's bytes up to its terminator; *len 0 for one without any
 * (assimp always writes one, but the scene may not be validated). */
static const char *ai_str(const struct aiString *a, size_t *len)
{
	size_t n = strnlen(a->data, sizeof a->data);
	*len = n < sizeof a->data ? n : 0;
	return a->data;
}

/* A JSON string. Bytes that are not UTF-8 become U+FFFD, so the file is
 * always valid JSON whatever the model's names hold. */
static void put_str(sw *w, const char *s, size_t n)
{
	fputc('"', w->f);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			fprintf(w->f, "\\%c", c);
			i++;
		} else if (c < 0x20) {
			fprintf(w->f, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			fputc(c, w->f);
			i++;
		} else {
			size_t len = utf8_char_len(s + i, n - i, NULL);
			if (len) {
				fwrite(s + i, 1, len, w->f);
				i += len;
			} else {
				fputs("\\ufffd", w->f);
				i++;
			}
		}
	}
	fputc('"', w->f);
}

static void put_ai_str(sw *w, const struct aiString *a)
{
	size_t n;
	const char *s = ai_str(a, &n);
	put_str(w, s, n);
}

/* A number; JSON has no NaN or infinity, so those are written as 0 and
 * counted. Nine significant digits give every float back exactly. */
static void put_num(sw *w, double d, int digits)
{
	if (!isfinite(d)) {
		w->st->n_nonfinite++;
		d = 0.0;
	}
	fprintf(w->f, "%.*g", digits, d);
}

static void put_floats(sw *w, const float *v, int n, float mul)
{
	fputc('[', w->f);
	for (int i = 0; i < n; i++) {
		if (i)
			fputs(", ", w->f);
		put_num(w, (double)(v[i] * mul), 9);
	}
	fputc(']', w->f);
}

static void put_vec3(sw *w, const char *key, const struct aiVector3D *v, float mul)
{
	const float f[3] = {v->x, v->y, v->z};
	fprintf(w->f, ", \"%s\": ", key);
	put_floats(w, f, 3, mul);
}

static void put_float_key(sw *w, const char *key, float v)
{
	fprintf(w->f, ", \"%s\": ", key);
	put_num(w, (double)v, 9);
}

static void put_color(sw *w, const char *key, const struct aiColor3D *c)
{
	const float f[3] = {c->r, c->g, c->b};
	fprintf(w->f, ", \"%s\": ", key);
	put_floats(w, f, 3, 1.0f);
}

/* A list: key and the array of the entries fn writes. fn writes entry i
 * after sep and returns 1, or returns 0 and writes nothing (a NULL entry of
 * an unvalidated scene). */
static void write_list(sw *w, const char *key, size_t n, int (*fn)(sw *w, size_t i, const char *sep))
{
	size_t k = 0;
	fprintf(w->f, ",\n\"%s\": [", key);
	for (size_t i = 0; i < n; i++)
		k += (size_t)fn(w, i, k ? ",\n " : "\n ");
	fputs(k ? "\n]" : "]", w->f);
}

static int write_mesh(sw *w, size_t i, const char *sep)
{
	const struct aiScene *s = w->s;
	const mesh_scene_product *p = &w->prods[i];
	const struct aiMesh *m = p->mesh < s->mNumMeshes && s->mMeshes ? s->mMeshes[p->mesh] : NULL;
	fprintf(w->f, "%s{\"sub_id\": %u, \"file\": ", sep, (unsigned)p->sub_id);
	put_str(w, p->file, strlen(p->file));
	fputs(", \"name\": ", w->f);
	put_str(w, p->name, strlen(p->name));
	fprintf(w->f, ", \"primitive\": \"%s\"", mesh_fmt_prim_name(p->primitive));
	if (m && s->mMaterials && m->mMaterialIndex < s->mNumMaterials && s->mMaterials[m->mMaterialIndex]) {
		struct aiString mn;
		fprintf(w->f, ", \"material\": %u, \"material_name\": ", m->mMaterialIndex);
		if (aiGetMaterialString(s->mMaterials[m->mMaterialIndex], AI_MATKEY_NAME, &mn) ==
		    aiReturn_SUCCESS)
			put_ai_str(w, &mn);
		else
			fputs("null", w->f);
	} else {
		fputs(", \"material\": null, \"material_name\": null", w->f);
	}
	fputc('}', w->f);
	return 1;
}

/* One node and, depth first, its children. parent is the index of the
 * parent node, or -1 for the root. */
static void write_node(sw *w, const struct aiNode *nd, int64_t parent, int depth)
{
	int64_t self = (int64_t)w->n_nodes++;
	size_t nl;
	const char *name = ai_str(&nd->mName, &nl);
	if (parent < 0 && w->full_path && nl == strlen(w->full_path) && memcmp(name, w->full_path, nl) == 0) {
		name = w->source_file;
		nl = strlen(name);
	}

	/* The first node of a name is the one a camera or light of that name
	 * belongs to (assimp ties them by name). */
	size_t have;
	if (nl && !hmap_get(&w->names, name, &have) && hmap_put(&w->names, name, (size_t)self) != 0)
		w->oom = 1;

	fprintf(w->f, "%s\n {\"name\": ", self ? "," : "");
	put_str(w, name, nl);
	if (parent < 0)
		fputs(", \"parent\": null", w->f);
	else
		fprintf(w->f, ", \"parent\": %lld", (long long)parent);
	/* aiMatrix4x4 is row-major with the translation in a4, b4 and c4:
	 * those are lengths, and the only elements the scale applies to. */
	const struct aiMatrix4x4 *t = &nd->mTransformation;
	const float m[16] = {t->a1, t->a2, t->a3, t->a4 * w->scale, t->b1, t->b2, t->b3, t->b4 * w->scale,
	                     t->c1, t->c2, t->c3, t->c4 * w->scale, t->d1, t->d2, t->d3, t->d4};
	fputs(", \"matrix\": ", w->f);
	put_floats(w, m, 16, 1.0f);
	fputs(", \"meshes\": [", w->f);
	int any = 0;
	for (unsigned i = 0; i < nd->mNumMeshes && nd->mMeshes; i++) {
		unsigned mi = nd->mMeshes[i];
		if (mi >= w->n_meshes)
			continue;
		for (size_t p = w->first[mi]; p != SIZE_MAX; p = w->next[p]) {
			fprintf(w->f, "%s%u", any ? ", " : "", (unsigned)w->prods[p].sub_id);
			any = 1;
		}
	}
	fputs("]}", w->f);

	for (unsigned c = 0; c < nd->mNumChildren && nd->mChildren; c++) {
		const struct aiNode *ch = nd->mChildren[c];
		if (!ch)
			continue;
		if (depth >= MESH_SCENE_MAX_DEPTH || w->n_nodes >= MESH_SCENE_MAX_NODES) {
			w->st->n_cut++;
			continue;
		}
		write_node(w, ch, self, depth + 1);
	}
}

/* "node": the index of the node named like the camera or light, or null. */
static void put_node_of(sw *w, const struct aiString *name)
{
	size_t n, idx;
	const char *s = ai_str(name, &n);
	if (n && hmap_get(&w->names, s, &idx))
		fprintf(w->f, ", \"node\": %zu", idx);
	else
		fputs(", \"node\": null", w->f);
}

/* The start of a camera or light: its name and its node. */
static void put_named(sw *w, const char *sep, const struct aiString *name)
{
	fprintf(w->f, "%s{\"name\": ", sep);
	put_ai_str(w, name);
	put_node_of(w, name);
}

static int write_camera(sw *w, size_t i, const char *sep)
{
	const struct aiCamera *c = w->s->mCameras[i];
	if (!c)
		return 0;
	put_named(w, sep, &c->mName);
	put_vec3(w, "position", &c->mPosition, w->scale);
	put_vec3(w, "look_at", &c->mLookAt, 1.0f);
	put_vec3(w, "up", &c->mUp, 1.0f);
	put_float_key(w, "horizontal_fov", c->mHorizontalFOV);
	put_float_key(w, "aspect", c->mAspect);
	put_float_key(w, "near", c->mClipPlaneNear * w->scale);
	put_float_key(w, "far", c->mClipPlaneFar * w->scale);
	put_float_key(w, "orthographic_width", c->mOrthographicWidth * w->scale);
	fputc('}', w->f);
	return 1;
}

static const char *light_type(enum aiLightSourceType t)
{
	switch (t) {
	case aiLightSource_DIRECTIONAL:
		return "directional";
	case aiLightSource_POINT:
		return "point";
	case aiLightSource_SPOT:
		return "spot";
	case aiLightSource_AMBIENT:
		return "ambient";
	case aiLightSource_AREA:
		return "area";
	default:
		return "undefined";
	}
}

static int write_light(sw *w, size_t i, const char *sep)
{
	const struct aiLight *l = w->s->mLights[i];
	if (!l)
		return 0;
	put_named(w, sep, &l->mName);
	fprintf(w->f, ", \"type\": \"%s\"", light_type(l->mType));
	put_vec3(w, "position", &l->mPosition, w->scale);
	put_vec3(w, "direction", &l->mDirection, 1.0f);
	put_vec3(w, "up", &l->mUp, 1.0f);
	put_color(w, "color_diffuse", &l->mColorDiffuse);
	put_color(w, "color_specular", &l->mColorSpecular);
	put_color(w, "color_ambient", &l->mColorAmbient);
	const float att[3] = {l->mAttenuationConstant, l->mAttenuationLinear, l->mAttenuationQuadratic};
	fputs(", \"attenuation\": ", w->f);
	put_floats(w, att, 3, 1.0f);
	put_float_key(w, "inner_cone", l->mAngleInnerCone);
	put_float_key(w, "outer_cone", l->mAngleOuterCone);
	const float size[2] = {l->mSize.x, l->mSize.y};
	fputs(", \"size\": ", w->f);
	put_floats(w, size, 2, w->scale);
	fputc('}', w->f);
	return 1;
}

static int write_animation(sw *w, size_t i, const char *sep)
{
	const struct aiAnimation *an = w->s->mAnimations[i];
	if (!an)
		return 0;
	fprintf(w->f, "%s{\"name\": ", sep);
	put_ai_str(w, &an->mName);
	fputs(", \"duration_ticks\": ", w->f);
	put_num(w, an->mDuration, 17);
	fputs(", \"ticks_per_second\": ", w->f);
	put_num(w, an->mTicksPerSecond, 17);
	/* assimp leaves the rate at 0 when the file does not give it; the
	 * duration in seconds is then unknown, not infinite. */
	fputs(", \"duration_seconds\": ", w->f);
	if (an->mTicksPerSecond > 0.0 && isfinite(an->mTicksPerSecond))
		put_num(w, an->mDuration / an->mTicksPerSecond, 17);
	else
		fputs("null", w->f);
	fprintf(w->f, ", \"node_channels\": %u, \"mesh_channels\": %u, \"morph_channels\": %u}",
	        an->mChannels ? an->mNumChannels : 0, an->mMeshChannels ? an->mNumMeshChannels : 0,
	        an->mMorphMeshChannels ? an->mNumMorphMeshChannels : 0);
	return 1;
}

int mesh_scene_write(const char *path, const struct aiScene *s, const char *source_file,
                     const char *full_path, float scale, const mesh_scene_product *prods, size_t n_prods,
                     mesh_scene_stats *st)
{
	size_t n_meshes = s->mMeshes ? s->mNumMeshes : 0;
	sw w = {.s = s,
	        .source_file = source_file,
	        .full_path = full_path,
	        .scale = scale,
	        .prods = prods,
	        .n_meshes = n_meshes,
	        .st = st};
	int rc = 0;

	memset(st, 0, sizeof *st);
	hmap_init(&w.names);
	w.first = malloc((n_meshes ? n_meshes : 1) * sizeof *w.first);
	w.next = malloc((n_prods ? n_prods : 1) * sizeof *w.next);
	if (!w.first || !w.next) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_meshes; i++)
		w.first[i] = SIZE_MAX;
	/* Chained backwards, so each mesh lists its products in their order. */
	for (size_t i = n_prods; i-- > 0;) {
		w.next[i] = SIZE_MAX;
		if (prods[i].mesh < n_meshes) {
			w.next[i] = w.first[prods[i].mesh];
			w.first[prods[i].mesh] = i;
		}
	}

	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	w.f = fdopen(fd, "w");
	if (!w.f) {
		rc = -errno;
		close(fd);
		unlink(path);
		goto out;
	}
	fprintf(w.f, "{\"kscene\": %d, \"source\": ", MESH_SCENE_VERSION);
	put_str(&w, source_file, strlen(source_file));
	write_list(&w, "meshes", n_prods, write_mesh);
	fputs(",\n\"nodes\": [", w.f);
	if (s->mRootNode)
		write_node(&w, s->mRootNode, -1, 0);
	fputs(w.n_nodes ? "\n]" : "]", w.f);
	write_list(&w, "cameras", s->mCameras ? s->mNumCameras : 0, write_camera);
	write_list(&w, "lights", s->mLights ? s->mNumLights : 0, write_light);
	write_list(&w, "animations", s->mAnimations ? s->mNumAnimations : 0, write_animation);
	fputs("}\n", w.f);
	st->n_nodes = w.n_nodes;

	if (ferror(w.f))
		rc = -EIO;
	if (fclose(w.f) != 0 && !rc)
		rc = -errno;
	if (!rc && w.oom)
		rc = -ENOMEM;
	if (rc)
		unlink(path);
out:
	hmap_free(&w.names);
	free(w.first);
	free(w.next);
	return rc;
}
