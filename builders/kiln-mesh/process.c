/* process.c: one kiln-mesh job (see process.h).
 *
 * The import runs in assimp passes over the same scene. The first
 * (aiImportFileExWithProperties) triangulates, splits meshes by primitive
 * type and validates; then the scene is inspected, because what happens
 * next depends on it: which meshes lack normals (a warning when the sidecar
 * promised custom normals) or UVs (an error when tangents were asked for).
 * The next pass (aiApplyPostProcessing) generates normals and tangents
 * where wanted, and a last one joins identical vertices. The order matters:
 * assimp's normal generator gives each vertex the normal of one face, so it
 * must see vertices that are not yet shared between faces, or smooth
 * shading comes out wrong.
 *
 * Every triangle, line and point mesh becomes a .kmesh product, and the
 * model as a whole a .kscene product (scene.h), which is all a model
 * without meshes gives. */
#include "process.h"

#include <assimp/cimport.h>
#include <assimp/config.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "geo.h"
#include "info.h"
#include "kerr.h"
#include "path.h"
#include "scene.h"
#include "subid.h"
#include "texpath.h"

_Static_assert(sizeof(struct aiVector3D) == 3 * sizeof(float), "aiVector3D must be three floats");
_Static_assert(sizeof(struct aiColor4D) == 4 * sizeof(float), "aiColor4D must be four floats");

#define IMPORT_FLAGS (aiProcess_Triangulate | aiProcess_SortByPType | aiProcess_ValidateDataStructure)

/* Deeper node hierarchies than this are not walked for identities (their
 * meshes count as on no node); a longer node path is not built either. Both
 * keep a hostile file from costing stack or memory; real scenes are far
 * below. */
#define MAX_NODE_DEPTH MESH_SCENE_MAX_DEPTH
#define MAX_NODE_PATH  8192

/* The identity of a mesh for sub_ids: where it is first referenced. */
typedef struct mref {
	unsigned mesh;         /* index in scene->mMeshes */
	char *node_path;       /* malloc'd; "" for the root node */
	const char *node_name; /* points into the scene */
	uint32_t index_in_node;
} mref;

typedef struct walk {
	const struct aiScene *s;
	mref *refs;
	size_t n;
	unsigned char *seen; /* per scene mesh */
	int oom;
} walk;

static void walk_node(walk *w, const struct aiNode *nd, const char *path, int depth)
{
	for (unsigned i = 0; i < nd->mNumMeshes && nd->mMeshes; i++) {
		unsigned m = nd->mMeshes[i];
		if (m >= w->s->mNumMeshes || w->seen[m])
			continue;
		char *p = strdup(path);
		if (!p) {
			w->oom = 1;
			return;
		}
		w->seen[m] = 1;
		w->refs[w->n++] = (mref){m, p, nd->mName.data, i};
	}
	if (depth >= MAX_NODE_DEPTH || !nd->mChildren)
		return;
	size_t lp = strlen(path);
	for (unsigned c = 0; c < nd->mNumChildren && !w->oom; c++) {
		const struct aiNode *ch = nd->mChildren[c];
		if (!ch)
			continue;
		size_t ln = strnlen(ch->mName.data, sizeof ch->mName.data);
		if (lp + 1 + ln >= MAX_NODE_PATH)
			continue;
		char *cp = malloc(lp + 1 + ln + 1);
		if (!cp) {
			w->oom = 1;
			return;
		}
		if (lp)
			snprintf(cp, lp + 1 + ln + 1, "%s/%.*s", path, (int)ln, ch->mName.data);
		else
			snprintf(cp, ln + 1, "%.*s", (int)ln, ch->mName.data);
		walk_node(w, ch, cp, depth + 1);
		free(cp);
	}
}

static void walk_free(walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->refs[i].node_path);
	free(w->refs);
	free(w->seen);
}

/* Every mesh of the scene once, in scene order: first by the node walk,
 * then those no node references, in array order. Returns 0 or -ENOMEM. */
static int walk_scene(walk *w, const struct aiScene *s)
{
	memset(w, 0, sizeof *w);
	w->s = s;
	w->refs = calloc(s->mNumMeshes ? s->mNumMeshes : 1, sizeof *w->refs);
	w->seen = calloc(s->mNumMeshes ? s->mNumMeshes : 1, 1);
	if (!w->refs || !w->seen)
		return -ENOMEM;
	if (s->mRootNode)
		walk_node(w, s->mRootNode, "", 0);
	for (unsigned m = 0; m < s->mNumMeshes && !w->oom; m++) {
		if (w->seen[m])
			continue;
		char *p = strdup("<no node>");
		if (!p)
			return -ENOMEM;
		w->seen[m] = 1;
		w->refs[w->n++] = (mref){m, p, "", m};
	}
	return w->oom ? -ENOMEM : 0;
}

int mesh_product_path(const char *source_file, const char *name, uint32_t sub_id, char *out, size_t outsz)
{
	char clean[65];
	size_t n = 0;
	for (const char *p = name; p && *p && n < sizeof clean - 1; p++) {
		char c = *p;
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		         c == '_' || c == '-' || (c == '.' && n > 0);
		clean[n++] = ok ? c : '_';
	}
	clean[n] = 0;
	if (!n)
		snprintf(clean, sizeof clean, "mesh");
	const char *ext = path_ext(source_file);
	size_t stem = *ext ? (size_t)(ext - 1 - source_file) : strlen(source_file);
	int w = snprintf(out, outsz, "%.*s/%s_%08x.kmesh", (int)stem, source_file, clean, sub_id);
	return (w < 0 || (size_t)w >= outsz) ? KILN_E_TOOBIG : 0;
}

/* The sidecar: the one the supervisor passed among the dependencies (it
 * may sit in another scan folder than the model, under the same relative
 * path), or else the file beside the model. out gets a path either way;
 * mesh_info_load tells whether it exists. */
static void sidecar_path(const msg_process_job_req *req, char *out, size_t outsz)
{
	char tail[KILN_PATH_MAX];
	snprintf(tail, sizeof tail, "/%s.assetinfo", req->source_file);
	size_t tl = strlen(tail);
	for (size_t i = 0; i < req->source_file_dependencies.n; i++) {
		const char *d = req->source_file_dependencies.items[i];
		size_t dl = d ? strlen(d) : 0;
		if (dl >= tl && strcasecmp(d + dl - tl, tail) == 0) {
			snprintf(out, outsz, "%s", d);
			return;
		}
	}
	snprintf(out, outsz, "%s.assetinfo", req->full_path);
}

static const char *mesh_label(const struct aiMesh *m, const mref *r)
{
	if (m->mName.data[0])
		return m->mName.data;
	if (r->node_name && r->node_name[0])
		return r->node_name;
	return "mesh";
}

/* A texture named by path that the scene embeds needs no dependency. */
static int is_embedded(const struct aiScene *s, const char *path)
{
	for (unsigned i = 0; i < s->mNumTextures && s->mTextures; i++)
		if (s->mTextures[i] && strcmp(s->mTextures[i]->mFilename.data, path) == 0)
			return 1;
	return 0;
}

static int texture_deps(const struct aiScene *s, const struct aiMesh *m, const msg_process_job_req *req,
                        msg_product *p, arena *a)
{
	if (!s->mMaterials || m->mMaterialIndex >= s->mNumMaterials || !s->mMaterials[m->mMaterialIndex])
		return 0;
	const struct aiMaterial *mat = s->mMaterials[m->mMaterialIndex];
	msg_path_dep *deps = arena_alloc(a, MESH_MAX_TEXTURE_DEPS * sizeof *deps);
	size_t n = 0;
	if (!deps)
		return -ENOMEM;
	for (int t = aiTextureType_DIFFUSE; t <= AI_TEXTURE_TYPE_MAX; t++) {
		unsigned count = aiGetMaterialTextureCount(mat, (enum aiTextureType)t);
		for (unsigned i = 0; i < count && n < MESH_MAX_TEXTURE_DEPS; i++) {
			struct aiString tp;
			char dep[KILN_PATH_MAX];
			if (aiGetMaterialTexture(mat, (enum aiTextureType)t, i, &tp, NULL, NULL, NULL, NULL,
			                         NULL, NULL) != aiReturn_SUCCESS)
				continue;
			if (is_embedded(s, tp.data))
				continue;
			if (mesh_tex_resolve(req->watch_folder, req->source_file, tp.data, dep, sizeof dep) !=
			    1)
				continue;
			size_t k = 0;
			while (k < n && strcmp(deps[k].path, dep) != 0)
				k++;
			if (k < n)
				continue;
			deps[n].path = arena_strdup(a, dep);
			deps[n].is_source = true;
			if (!deps[n].path)
				return -ENOMEM;
			n++;
		}
	}
	p->path_deps = deps;
	p->n_path_deps = n;
	return 0;
}

static const char *layout_text(uint32_t layout, char *buf, size_t bufsz)
{
	static const char *const names[] = {"position", "normal", "tangent", "uv0", "color0"};
	size_t o = 0;
	buf[0] = 0;
	for (int i = 0; i < 5; i++)
		if (layout & (1u << i))
			o += (size_t)snprintf(buf + o, bufsz - o, "%s%s", o ? "|" : "", names[i]);
	return buf;
}

/* One product to make: a mesh, or the faces of one primitive type of it. */
typedef struct part {
	size_t ref;         /* in walk.refs */
	uint32_t primitive; /* MESH_PRIM_* */
	uint64_t n;         /* primitives of that type */
} part;

/* The number of faces of each primitive type in m (faces of one, two and
 * three indices; larger ones cannot be left after triangulation). A mesh
 * with vertices and no faces at all is a point cloud: one point per vertex
 * (only an unvalidated scene has such a mesh, see import_fallback). */
static void count_prims(const struct aiMesh *m, uint64_t n[MESH_PRIM_COUNT])
{
	memset(n, 0, MESH_PRIM_COUNT * sizeof *n);
	if (!m || !m->mVertices || !m->mNumVertices)
		return;
	if (m->mNumFaces == 0) {
		n[MESH_PRIM_POINTS] = m->mNumVertices;
		return;
	}
	for (unsigned f = 0; f < m->mNumFaces && m->mFaces; f++) {
		const struct aiFace *fc = &m->mFaces[f];
		if (!fc->mIndices)
			continue;
		if (fc->mNumIndices == 3)
			n[MESH_PRIM_TRIANGLES]++;
		else if (fc->mNumIndices == 2)
			n[MESH_PRIM_LINES]++;
		else if (fc->mNumIndices == 1)
			n[MESH_PRIM_POINTS]++;
	}
}

/* Writes one product. Problems with this mesh alone are logged and the mesh
 * is skipped (return 0, *written 0). Returns -ENOMEM only when the reply
 * itself cannot be built. On success *out (OUT) describes the product for
 * the scene. */
static int write_mesh(kb_ctx *ctx, const msg_process_job_req *req, const struct aiScene *s, const mref *r,
                      const part *pt, uint32_t sub_id, const mesh_info *info, msg_process_job_resp *resp,
                      arena *a, int *written, mesh_scene_product *out)
{
	const struct aiMesh *m = s->mMeshes[r->mesh];
	const char *label = mesh_label(m, r);
	const char *what = mesh_fmt_prim_name(pt->primitive);
	uint32_t per = mesh_fmt_prim_indices(pt->primitive);
	uint32_t *idx = NULL;
	mesh_geo_out g = {0};
	char err[256], rel[KILN_PATH_MAX], abs[KILN_PATH_MAX], lay[64], hex[9];
	int rc = 0;

	*written = 0;
	snprintf(hex, sizeof hex, "%08x", sub_id);
	const char *ck[] = {"mesh", "node", "sub_id", NULL};
	const char *cv[] = {label, r->node_path, hex, NULL};

	/* A point list has one index per point here, which geo turns into the
	 * vertex list. */
	uint64_t n_idx = pt->n * (per ? per : 1);
	if (n_idx > MESH_GEO_MAX_INDICES) {
		kb_log_ctx(ctx, MSG_LEVEL_ERROR, ck, cv,
		           "mesh \"%.64s\" has %llu %s; at most %u are accepted", label,
		           (unsigned long long)pt->n, what, MESH_GEO_MAX_INDICES / (per ? per : 1));
		goto out;
	}
	/* A point cloud without faces takes every vertex in order: no list. */
	if (m->mNumFaces) {
		idx = malloc(n_idx ? n_idx * sizeof *idx : 1);
		if (!idx) {
			kb_log_ctx(ctx, MSG_LEVEL_ERROR, ck, cv, "mesh \"%.64s\": out of memory for %llu %s",
			           label, (unsigned long long)pt->n, what);
			goto out;
		}
		uint32_t face_size = per ? per : 1;
		uint64_t k = 0;
		for (unsigned f = 0; f < m->mNumFaces && m->mFaces && k < n_idx; f++) {
			const struct aiFace *fc = &m->mFaces[f];
			if (fc->mNumIndices == face_size && fc->mIndices)
				for (uint32_t i = 0; i < face_size; i++)
					idx[k++] = fc->mIndices[i];
		}
	}

	uint32_t layout = MESH_ATTR_POSITION;
	if (m->mNormals && info->normals != MESH_NORMALS_NONE)
		layout |= MESH_ATTR_NORMAL;
	if (info->tangents && m->mTangents && m->mNormals)
		layout |= MESH_ATTR_TANGENT;
	if (m->mTextureCoords[0])
		layout |= MESH_ATTR_UV0;
	if (m->mColors[0])
		layout |= MESH_ATTR_COLOR0;
	mesh_geo_in in = {
	    .n_vertices = m->mNumVertices,
	    .positions = (const float *)m->mVertices,
	    .normals = (const float *)m->mNormals,
	    .tangents = (const float *)m->mTangents,
	    .bitangents = (const float *)m->mBitangents,
	    .uv0 = (const float *)m->mTextureCoords[0],
	    .uv_stride = 3,
	    .color0 = (const float *)m->mColors[0],
	    .primitive = pt->primitive,
	    .indices = idx,
	    .n_indices = n_idx,
	    .layout = layout,
	    .optimize = info->optimize,
	    .flip_v = info->flip_uvs,
	    .scale = info->scale,
	};
	rc = mesh_geo_build(&in, &g, err, sizeof err);
	if (rc) {
		kb_log_ctx(ctx, MSG_LEVEL_ERROR, ck, cv, "mesh \"%.64s\" skipped: %s", label, err);
		rc = 0;
		goto out;
	}
	if (g.n_nonfinite)
		kb_log_ctx(ctx, MSG_LEVEL_WARNING, ck, cv,
		           "mesh \"%.64s\": %llu vertex values were NaN or infinite and were written as 0",
		           label, (unsigned long long)g.n_nonfinite);

	if (mesh_product_path(req->source_file, label, sub_id, rel, sizeof rel) != 0 ||
	    (path_lower(rel), path_join(abs, sizeof abs, req->temp_dir, rel)) != 0) {
		kb_log_ctx(ctx, MSG_LEVEL_ERROR, ck, cv, "mesh \"%.64s\": product path too long", label);
		goto out;
	}
	rc = path_mkdirs_for(abs, 0755);
	if (rc == 0) {
		mesh_fmt_mesh fm = {
		    .primitive = g.primitive,
		    .layout = g.layout,
		    .n_vertices = g.n_vertices,
		    .vertices = g.vertices,
		    .n_indices = g.n_indices,
		    .indices = g.indices,
		    .material = m->mMaterialIndex,
		    .sub_id = sub_id,
		};
		memcpy(fm.bbox_min, g.bbox_min, sizeof fm.bbox_min);
		memcpy(fm.bbox_max, g.bbox_max, sizeof fm.bbox_max);
		rc = mesh_fmt_write(abs, &fm);
	}
	if (rc) {
		kb_log_ctx(ctx, MSG_LEVEL_ERROR, ck, cv, "cannot write %s: %s", abs, kiln_strerror(rc));
		rc = 0;
		goto out;
	}
	size_t pi = resp->n_products;
	if (!kb_add_product(resp, a, rel, "mesh", sub_id)) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = texture_deps(s, m, req, &resp->products[pi], a)))
		goto out;
	*written = 1;
	*out = (mesh_scene_product){r->mesh, sub_id, g.primitive, resp->products[pi].file, label};
	kb_log_ctx(ctx, MSG_LEVEL_INFO, ck, cv,
	           "%s: mesh \"%.64s\" (node \"%.128s\"), %u vertices (%u imported), %u %s, %s, %zu textures",
	           rel, label, r->node_path, g.n_vertices, m->mNumVertices,
	           per ? g.n_indices / per : g.n_vertices, what, layout_text(g.layout, lay, sizeof lay),
	           resp->products[pi].n_path_deps);
out:
	free(idx);
	mesh_geo_free(&g);
	return rc;
}

/* Writes the scene product, the job's last. n_written mesh products are
 * listed in it. Problems are logged; returns -ENOMEM only when the reply
 * cannot be built, and sets *written. */
static int write_scene(kb_ctx *ctx, const msg_process_job_req *req, const struct aiScene *s,
                       const mesh_info *info, const mesh_scene_product *prods, size_t n_written,
                       msg_process_job_resp *resp, arena *a, int *written)
{
	char rel[KILN_PATH_MAX], abs[KILN_PATH_MAX];
	mesh_scene_stats st;
	int rc;

	*written = 0;
	if (mesh_scene_path(req->source_file, rel, sizeof rel) != 0 ||
	    (path_lower(rel), path_join(abs, sizeof abs, req->temp_dir, rel)) != 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "%s: the scene's product path is too long", req->source_file);
		return 0;
	}
	rc = path_mkdirs_for(abs, 0755);
	if (rc == 0)
		rc = mesh_scene_write(abs, s, req->source_file, req->full_path, info->scale, prods, n_written,
		                      &st);
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot write %s: %s", abs, kiln_strerror(rc));
		return 0;
	}
	if (!kb_add_product(resp, a, rel, "scene", MESH_SCENE_SUB_ID))
		return -ENOMEM;
	*written = 1;
	if (st.n_cut)
		kb_log(ctx, MSG_LEVEL_WARNING,
		       "%s: %llu node subtrees were left out of the scene (deeper than %d levels, or "
		       "beyond %u nodes)",
		       req->source_file, (unsigned long long)st.n_cut, MESH_SCENE_MAX_DEPTH,
		       MESH_SCENE_MAX_NODES);
	if (st.n_nonfinite)
		kb_log(ctx, MSG_LEVEL_WARNING,
		       "%s: %llu scene values were NaN or infinite and were written as 0", req->source_file,
		       (unsigned long long)st.n_nonfinite);
	kb_log(ctx, MSG_LEVEL_INFO,
	       "%s: scene of %llu nodes, %zu mesh products, %u cameras, %u lights, %u animations", rel,
	       (unsigned long long)st.n_nodes, n_written, s->mCameras ? s->mNumCameras : 0,
	       s->mLights ? s->mNumLights : 0, s->mAnimations ? s->mNumAnimations : 0);
	return 0;
}

/* assimp 5.2's PLY parser loops forever on a header cut short: refuse such
 * a file with a clear reason before it gets there, rather than wait for the
 * import deadline. A header longer than 64 KiB is refused as well; real
 * ones are a few hundred bytes. Returns 0 when the file may be imported. */
#define PLY_HEADER_MAX (64u * 1024u)

static int ply_header_cut(const char *path, char *why, size_t whysz)
{
	static char head[PLY_HEADER_MAX + 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* the import will say why it cannot read it */
	size_t len = 0;
	while (len < PLY_HEADER_MAX) {
		ssize_t r = read(fd, head + len, PLY_HEADER_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	head[len] = 0;
	if (len < 4 || memcmp(head, "ply", 3) != 0 || (head[3] != '\n' && head[3] != '\r'))
		return 0;
	if (memmem(head, len, "end_header", 10))
		return 0;
	snprintf(why, whysz,
	         len < PLY_HEADER_MAX ? "the PLY header has no end_header line: the file is cut short"
	                              : "the PLY header has no end_header line in its first 64 KiB");
	return 1;
}

static int is_triangles(const struct aiMesh *m)
{
	return m && (m->mPrimitiveTypes & aiPrimitiveType_TRIANGLE) && m->mVertices && m->mNumFaces;
}

/* A second import for a file that assimp's validation refused, when the
 * refusal is about something kiln-mesh can take; NULL in every other case,
 * and the caller reports the first import's reason. assimp 5.2 builds a
 * point cloud (a PLY or OBJ of vertices alone) as a mesh without faces,
 * which its validation rejects; and some importers (BVH, OpenGEX) leave a
 * scene without meshes unmarked as incomplete, which it rejects too. So
 * the file is read again without post-processing and accepted when every
 * mesh is a point cloud (vertices and no faces at all), or when it has no
 * mesh but cameras, lights or animations. A scene with nothing at all (an
 * OBJ read as UTF-16 garbage comes out so) stays refused.
 *
 * The scene is used unvalidated and is not post-processed: count_prims,
 * geo and scene.c read it defensively. It is not validated after all
 * either, because assimp 5.2's aiApplyPostProcessing, when its validation
 * fails, frees the scene and then releases it once more, which crashes
 * (OpenGEX/light_issue1262.ogex does it). */
static const struct aiScene *import_fallback(const char *path, struct aiPropertyStore *props)
{
	const struct aiScene *s = aiImportFileExWithProperties(path, 0, NULL, props);
	if (!s)
		return NULL;
	int ok;
	if (s->mNumMeshes == 0) {
		ok = (s->mCameras && s->mNumCameras) || (s->mLights && s->mNumLights) ||
		     (s->mAnimations && s->mNumAnimations);
	} else {
		ok = s->mMeshes != NULL;
		for (unsigned i = 0; ok && i < s->mNumMeshes; i++) {
			const struct aiMesh *m = s->mMeshes[i];
			ok = m && m->mNumFaces == 0 && m->mNumVertices && m->mVertices;
		}
	}
	if (!ok) {
		aiReleaseImport(s);
		return NULL;
	}
	return s;
}

/* Generates normals and tangents (pp), then joins identical vertices.
 * With aiProcess_ForceGenNormals, assimp 5.2 deletes the normals of a line
 * or point mesh and then, as normals are undefined there, leaves the
 * pointer to the freed array in the mesh. So the normals of such meshes are
 * hidden from that pass and put back after it: they are the file's, and
 * stay. Returns 0; -ENOMEM with the scene untouched; or -EIO when assimp
 * failed, and *sp is then NULL (assimp has released the scene; hidden
 * arrays leak, in a child process about to exit). */
static int post_process(const struct aiScene **sp, unsigned pp)
{
	const struct aiScene *s = *sp;
	if (pp) {
		struct aiVector3D **hidden = calloc(s->mNumMeshes ? s->mNumMeshes : 1, sizeof *hidden);
		if (!hidden)
			return -ENOMEM;
		for (unsigned i = 0; i < s->mNumMeshes; i++) {
			struct aiMesh *m = s->mMeshes[i];
			if (!(m->mPrimitiveTypes & (aiPrimitiveType_TRIANGLE | aiPrimitiveType_POLYGON))) {
				hidden[i] = m->mNormals;
				m->mNormals = NULL;
			}
		}
		s = aiApplyPostProcessing(s, pp);
		for (unsigned i = 0; s && i < s->mNumMeshes; i++)
			if (hidden[i])
				s->mMeshes[i]->mNormals = hidden[i];
		free(hidden);
		if (s)
			s = aiApplyPostProcessing(s, aiProcess_JoinIdenticalVertices);
	} else {
		s = aiApplyPostProcessing(s, aiProcess_JoinIdenticalVertices);
	}
	*sp = s;
	return s ? 0 : -EIO;
}

int mesh_process(kb_ctx *ctx, const msg_process_job_req *req, msg_process_job_resp *resp, arena *a)
{
	const struct aiScene *s = NULL;
	struct aiPropertyStore *props = NULL;
	walk w = {0};
	mesh_subid_key *keys = NULL;
	uint32_t *ids = NULL;
	part *parts = NULL;
	mesh_scene_product *prods = NULL;
	char err[512], side[KILN_PATH_MAX];
	mesh_info info;
	struct stat st;
	int rc = 0, unvalidated = 0;

	resp->result = MSG_RESULT_FAILED;
	if (stat(req->full_path, &st) != 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot read %s: %s", req->full_path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot read %s: not a regular file", req->full_path);
		goto out;
	}
	if ((uint64_t)st.st_size > MESH_MAX_SOURCE_BYTES) {
		kb_log(ctx, MSG_LEVEL_ERROR, "%s is %llu bytes; models over %llu MiB are refused",
		       req->source_file, (unsigned long long)st.st_size, MESH_MAX_SOURCE_BYTES >> 20);
		goto out;
	}

	if (ply_header_cut(req->full_path, err, sizeof err)) {
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot import %s: %s", req->source_file, err);
		goto out;
	}

	sidecar_path(req, side, sizeof side);
	rc = mesh_info_load(side, &info, err, sizeof err);
	if (rc == -ENOENT) {
		rc = 0;
	} else if (rc) {
		kb_log(ctx, MSG_LEVEL_ERROR, "%s", err);
		rc = rc == -ENOMEM ? rc : 0;
		goto out;
	} else {
		kb_log(ctx, MSG_LEVEL_INFO, "options from %s", side);
	}

	props = aiCreatePropertyStore();
	if (!props) {
		rc = -ENOMEM;
		goto out;
	}
	/* Some importers (FBX, MD5) invent meshes to show bones; they are not
	 * geometry anyone wants in the cache. */
	aiSetImportPropertyInteger(props, AI_CONFIG_IMPORT_NO_SKELETON_MESHES, 1);
	aiSetImportPropertyFloat(props, AI_CONFIG_PP_GSN_MAX_SMOOTHING_ANGLE, info.smoothing_angle);
	s = aiImportFileExWithProperties(req->full_path, IMPORT_FLAGS, NULL, props);
	if (!s) {
		snprintf(err, sizeof err, "%s", aiGetErrorString());
		/* assimp's validation says "Validation failed: ..."; only such a
		 * refusal is worth a second reading. */
		if (strncmp(err, "Validation failed", 17) == 0)
			s = import_fallback(req->full_path, props);
		if (!s) {
			kb_log(ctx, MSG_LEVEL_ERROR, "cannot import %s: %s", req->source_file, err);
			goto out;
		}
		unvalidated = 1;
		kb_log(ctx, MSG_LEVEL_INFO, "%s: read again after assimp refused it (%.200s): %s",
		       req->source_file, err,
		       s->mNumMeshes ? "its meshes are point clouds without faces"
		                     : "it holds no mesh, but cameras, lights or animations");
	}

	/* Decide the next passes from what the file holds. */
	unsigned pp = 0;
	unsigned no_normals = 0, no_uvs = 0;
	for (unsigned i = 0; i < s->mNumMeshes && s->mMeshes; i++) {
		const struct aiMesh *m = s->mMeshes[i];
		if (!is_triangles(m))
			continue;
		const char *name = m->mName.data[0] ? m->mName.data : "(unnamed)";
		if (!m->mNormals) {
			no_normals++;
			if (info.normals == MESH_NORMALS_CUSTOM)
				kb_log(ctx, MSG_LEVEL_WARNING,
				       "mesh \"%.64s\" has no normals although the options ask for the "
				       "file's own "
				       "(normals \"custom\"): smooth normals were generated",
				       name);
		}
		if (info.tangents && !m->mTextureCoords[0]) {
			no_uvs++;
			kb_log(ctx, MSG_LEVEL_ERROR,
			       "mesh \"%.64s\" has no UVs, so tangents cannot be computed: it is written "
			       "without "
			       "tangents",
			       name);
		}
	}
	if (info.normals == MESH_NORMALS_GENERATE)
		pp |= aiProcess_ForceGenNormals | aiProcess_GenSmoothNormals;
	else if (info.normals != MESH_NORMALS_NONE && no_normals)
		pp |= aiProcess_GenSmoothNormals;
	if (info.tangents)
		pp |= aiProcess_CalcTangentSpace;
	if (s->mNumMeshes && !unvalidated && (rc = post_process(&s, pp)) != 0) {
		if (rc == -EIO)
			kb_log(ctx, MSG_LEVEL_ERROR, "post-processing %s failed: %s", req->source_file,
			       aiGetErrorString());
		rc = rc == -ENOMEM ? rc : 0;
		goto out;
	}

	/* A scene of nothing but nodes is what assimp gives for some files it
	 * misreads (a UTF-16 ASE comes out as two empty nodes): a product of
	 * empty nodes would hide that, so such a model fails. */
	if (s->mNumMeshes == 0 && !(s->mCameras && s->mNumCameras) && !(s->mLights && s->mNumLights) &&
	    !(s->mAnimations && s->mNumAnimations)) {
		kb_log(ctx, MSG_LEVEL_ERROR,
		       "%s holds nothing to build: assimp found no meshes, cameras, lights or animations",
		       req->source_file);
		goto out;
	}

	if ((rc = walk_scene(&w, s)))
		goto out;
	/* At most one part per primitive type of each mesh. */
	size_t cap = w.n * MESH_PRIM_COUNT + 1;
	keys = calloc(cap, sizeof *keys);
	ids = calloc(cap, sizeof *ids);
	parts = calloc(cap, sizeof *parts);
	prods = calloc(cap, sizeof *prods);
	if (!keys || !ids || !parts || !prods) {
		rc = -ENOMEM;
		goto out;
	}
	/* Triangle meshes take their sub_ids first, in scene order, exactly as
	 * when they were the only products, so adding lines and points never
	 * changes an existing id, not even in the rare case of a collision.
	 * Then the lines and points, in scene order. SortByPType has split every
	 * mesh of mixed types into one per type; should one still mix them, each
	 * type is a product of its own, and the later ones get a salted id of
	 * the same identity (subid.h). */
	static const uint32_t order[2][2] = {{MESH_PRIM_TRIANGLES, MESH_PRIM_COUNT},
	                                     {MESH_PRIM_LINES, MESH_PRIM_POINTS}};
	size_t np = 0, dropped = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < w.n; i++) {
			const struct aiMesh *m = s->mMeshes[w.refs[i].mesh];
			uint64_t n[MESH_PRIM_COUNT];
			count_prims(m, n);
			if (pass == 1 && !n[0] && !n[1] && !n[2]) {
				kb_log(ctx, MSG_LEVEL_WARNING, "mesh \"%.64s\" (node \"%.128s\") %s: dropped",
				       m && m->mName.data[0] ? m->mName.data : "(unnamed)",
				       w.refs[i].node_path,
				       m ? "holds no triangles, lines or points" : "is missing");
				dropped++;
				continue;
			}
			for (int k = 0; k < 2; k++) {
				uint32_t t = order[pass][k];
				if (t >= MESH_PRIM_COUNT || !n[t])
					continue;
				keys[np] = (mesh_subid_key){w.refs[i].node_path, m->mName.data,
				                            w.refs[i].index_in_node};
				parts[np++] = (part){i, t, n[t]};
			}
		}
	}
	if ((rc = mesh_subid_assign(keys, np, ids)))
		goto out;
	size_t n_written = 0;
	for (size_t j = 0; j < np; j++) {
		int written;
		if ((rc = write_mesh(ctx, req, s, &w.refs[parts[j].ref], &parts[j], ids[j], &info, resp, a,
		                     &written, &prods[n_written])))
			goto out;
		n_written += (size_t)written;
	}
	if (s->mNumMeshes && n_written == 0) {
		kb_log(ctx, MSG_LEVEL_ERROR,
		       "%s: no mesh could be written (%u meshes, %zu without triangles, lines or points)",
		       req->source_file, s->mNumMeshes, dropped);
		goto out;
	}
	int scene_written;
	if ((rc = write_scene(ctx, req, s, &info, prods, n_written, resp, a, &scene_written)))
		goto out;
	if (n_written + (size_t)scene_written == 0)
		goto out;
	resp->result = MSG_RESULT_SUCCESS;
out:
	if (rc == -ENOMEM)
		kb_log(ctx, MSG_LEVEL_ERROR, "%s: out of memory", req->source_file);
	free(keys);
	free(ids);
	free(parts);
	free(prods);
	walk_free(&w);
	if (s)
		aiReleaseImport(s);
	if (props)
		aiReleasePropertyStore(props);
	return rc;
}

/* ---- isolation ---- */

/* The reply a child may send: a reply frame cannot be larger either. */
#define ISO_MAX_REPLY (64u << 20)

/* Exit codes of the child besides 0. */
#define ISO_EXIT_NOMEM 3
#define ISO_EXIT_IO    4

static void child_run(kb_ctx *ctx, const msg_process_job_req *req, int wfd)
{
	msg_process_job_resp r = {0};
	msgpack_sbuffer sb;
	arena *ca = arena_new();

	/* Should the builder die, its child has no one to report to. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Test knob: a crash or a hang on demand, so that tests can check
	 * both ends of the isolation without relying on an assimp bug. */
	const char *fault = getenv("KILN_MESH_TEST_FAULT");
	if (fault && strcmp(fault, "crash") == 0)
		abort();
	if (fault && strcmp(fault, "hang") == 0)
		for (;;)
			pause();
	if (!ca)
		_exit(ISO_EXIT_NOMEM);
	if (mesh_process(ctx, req, &r, ca) != 0)
		_exit(ISO_EXIT_NOMEM);
	msgpack_sbuffer_init(&sb);
	if (msg_encode_process_job_resp(&sb, &r) != 0)
		_exit(ISO_EXIT_NOMEM);
	for (size_t off = 0; off < sb.size;) {
		ssize_t w = write(wfd, sb.data + off, sb.size - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(ISO_EXIT_IO);
		off += (size_t)w;
	}
	_exit(0);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mesh_process_isolated(kb_ctx *ctx, const msg_process_job_req *req, msg_process_job_resp *resp, arena *a,
                          unsigned timeout_s)
{
	int p[2] = {-1, -1};
	pid_t pid = -1;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	/* stop: 1 when the deadline passed, 2 when reading failed (logged). */
	int rc = 0, stop = 0, status = 0;
	struct stat st;

	resp->result = MSG_RESULT_FAILED;
	if (timeout_s == 0) {
		uint64_t mib = stat(req->full_path, &st) == 0 ? (uint64_t)st.st_size >> 20 : 0;
		timeout_s = 60u + (unsigned)(mib > 3600 ? 3600 : mib);
	}
	if (pipe2(p, O_CLOEXEC) != 0) {
		rc = -errno;
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot make a pipe for the import: %s", strerror(-rc));
		return 0;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot start the import process: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(p[0]);
		child_run(ctx, req, p[1]);
	}
	close(p[1]);
	p[1] = -1;

	int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			stop = 1;
			break;
		}
		struct pollfd pfd = {.fd = p[0], .events = POLLIN};
		int n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			kb_log(ctx, MSG_LEVEL_ERROR, "waiting for the import process: %s", strerror(errno));
			stop = 2;
			break;
		}
		if (n == 0)
			continue;
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 64 * 1024;
			char *nb = ncap <= ISO_MAX_REPLY ? realloc(buf, ncap) : NULL;
			if (!nb) {
				kb_log(ctx, MSG_LEVEL_ERROR, "the import process's reply is too large");
				stop = 2;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(p[0], buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	if (stop)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;

	if (stop) {
		if (stop == 1)
			kb_log(
			    ctx, MSG_LEVEL_ERROR,
			    "importing %s did not finish within %u s and was stopped: the file is probably "
			    "damaged (some assimp parsers loop forever on truncated input)",
			    req->source_file, timeout_s);
		goto out;
	}
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		kb_log(ctx, MSG_LEVEL_ERROR,
		       "assimp crashed while importing %s (signal %d, %s): the file is damaged or uses "
		       "something "
		       "the importer cannot read",
		       req->source_file, sig, strsignal(sig));
		goto out;
	}
	if (WEXITSTATUS(status) == ISO_EXIT_NOMEM) {
		rc = -ENOMEM;
		goto out;
	}
	if (WEXITSTATUS(status) != 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "the import process of %s exited with code %d", req->source_file,
		       WEXITSTATUS(status));
		goto out;
	}
	char err[256];
	msg_process_job_resp r;
	if (msg_decode_process_job_resp((const uint8_t *)buf, len, a, &r, err, sizeof err) != 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "the import process of %s sent a bad reply: %s",
		       req->source_file, err);
		goto out;
	}
	*resp = r;
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	free(buf);
	return rc;
}
