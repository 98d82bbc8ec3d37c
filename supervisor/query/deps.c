/* deps.c: the dependency graph as `kiln product` and `kiln asset` show it:
 * what a product or a source depends on and what depends on it, one level
 * (--depth 1, the default) or followed as a tree.
 *
 * A product's dependency resolves on the product's own platform, as the
 * asset catalog resolves it (supervisor/engine/catalog.c): an asset id to
 * that asset's product; a product path (relative to Cache/<platform>/,
 * lowercase, "<platform>/" allowed in front) to the product at that path;
 * a source path to every product of that source, the source found by its
 * path in lowercase (the index sources_lpath). A product is never its own
 * dependency. Dependants are found by the same rules read backwards, so
 * that B is among A's dependencies exactly when A is among B's dependants,
 * and a tree read either way agrees with the other.
 *
 * A source depends on the sources its create_jobs named (source_deps, by
 * path or by UUID) and on the sources its products name by source path (so
 * that what kiln-refs finds shows between sources too); it is depended on
 * by the sources that name it either way.
 *
 * A tree is walked depth first. Each product or source is read once,
 * however often it appears, and its entries are kept for the next time; an
 * entry that is its own ancestor is marked "cycle" instead of followed. A
 * tree holds at most Q_TREE_MAX entries, a walk at most G_NODES_MAX nodes,
 * and each read stops stepping once it has what is left of the tree (and
 * one more, to tell that there is more), so what a walk reads is bounded
 * whatever the shape of the graph. What a node
 * depends on is read with look-ups on indexes, one node at a time. What
 * depends on it is not: dependency paths are stored as builders wrote them
 * and compared in lowercase, which no index of the schema serves, so those
 * are read for every node waiting to be read at once, in one pass over
 * the dependency tables (the nodes' keys bound as JSON arrays); a tree of
 * any width then costs a pass per level, not one per node. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "path.h"
#include "query/query.h"
#include "query/query_priv.h"
#include "uuid.h"

/* One product or source of a walk, or a dependency that names neither. */
typedef struct gnode {
	int64_t id;    /* products.id or sources.id; 0 for a dependency that names nothing */
	json_t *entry; /* how it is listed (owned); without its own entries */
	/* What reading its entries needs. A product: its platform, path, its
	 * source's path, its source's uuid and its sub id. A source: its
	 * path, its absolute path (in source), its uuid. */
	char *platform, *path, *source;
	char uuid[37];
	int64_t sub;
	size_t *kids; /* indices of its entries in the walk's nodes, once read */
	size_t n_kids, cap_kids;
	size_t seen_by; /* 1 + the node that listed it last */
	bool read;
	bool partial; /* entries were left out for want of room (G_NODES_MAX) */
} gnode;

typedef struct qgraph qgraph;

/* What one kind of walk reads: the key of its lists, its statements (the
 * first reads the root by its id), how a node is made from a row of them
 * (columns from col on), and how the entries of the nodes t[0..n-1] are
 * read, at most limit each (-1 for all). A kind that reads in batches
 * reads every node that waits to be read in one pass over its tables;
 * the others read one node at a time, by index. */
typedef struct gkind {
	const char *key;
	const char *const *sql;
	int nsql;
	bool batch;
	int (*node)(qgraph *g, sqlite3_stmt *st, int col, size_t *idx);
	int (*read)(qgraph *g, const size_t *t, size_t n, int64_t limit);
} gkind;

#define G_MAX_STMTS 6
/* Nodes one walk may hold (a tree lists Q_TREE_MAX entries, but a read
 * finds entries before the tree knows how many it will show), and how many
 * are read in one batch. */
#define G_NODES_MAX (4 * Q_TREE_MAX)
#define G_BATCH     256
/* g_add(): no room for another node. */
#define G_NO_ROOM 1

struct qgraph {
	qctx *q;
	const gkind *kind;
	bool tree; /* deeper than one level: entries are objects with their own */
	qdepth depth;
	sqlite3_stmt *st[G_MAX_STMTS];
	gnode *nodes;
	size_t n, cap;
	hmap ids;       /* node ids to indices */
	size_t waiting; /* nodes below this index are read (or name nothing) */
	size_t entries; /* listed so far (trees only) */
	bool truncated;
	/* Set while the root's own dependencies are read (products only). */
	json_t *unmet, *srcdeps;
};

/* ---- the nodes of a walk ---- */

/* Makes room in v (an array of *cap elements of size each) for element n:
 * returns v, or v moved to room for twice as many, or NULL (v unchanged)
 * when out of memory. */
static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	size_t nc = *cap ? *cap * 2 : 16;
	void *nv = realloc(v, nc * size);
	if (nv)
		*cap = nc;
	return nv;
}

/* The node of id, *idx (OUT): the one already there (*fresh false), or a
 * new one for the caller to fill (*fresh true). An id of 0 always makes a
 * new node. Returns 0, G_NO_ROOM when a tree has G_NODES_MAX nodes, or
 * -ENOMEM. */
static int g_add(qgraph *g, int64_t id, size_t *idx, bool *fresh)
{
	if (id != 0 && hmap_get_int(&g->ids, id, idx)) {
		*fresh = false;
		return 0;
	}
	if (g->tree && g->n >= G_NODES_MAX)
		return G_NO_ROOM;
	gnode *nodes = grow(g->nodes, &g->cap, g->n, sizeof *nodes);
	if (!nodes)
		return -ENOMEM;
	g->nodes = nodes;
	memset(&g->nodes[g->n], 0, sizeof g->nodes[g->n]);
	g->nodes[g->n].id = id;
	if (id != 0 && hmap_put_int(&g->ids, id, g->n) != 0)
		return -ENOMEM;
	*idx = g->n++;
	*fresh = true;
	return 0;
}

/* Lists node kid among the entries of node parent, once: reads give each
 * parent's entries in order, a batch interleaving its parents but keeping
 * the rows of one entry together, so a repeat is either the last entry or
 * one this parent marked. */
static int g_link(qgraph *g, size_t parent, size_t kid)
{
	gnode *p = &g->nodes[parent];
	if (g->nodes[kid].seen_by == parent + 1 || (p->n_kids && p->kids[p->n_kids - 1] == kid))
		return 0;
	g->nodes[kid].seen_by = parent + 1;
	size_t *kids = grow(p->kids, &p->cap_kids, p->n_kids, sizeof *kids);
	if (!kids)
		return -ENOMEM;
	p->kids = kids;
	p->kids[p->n_kids++] = kid;
	return 0;
}

/* Lists the node made from row st (columns from col on) under parent. */
static int g_link_row(qgraph *g, sqlite3_stmt *st, int col, size_t parent)
{
	size_t kid;
	int rc = g->kind->node(g, st, col, &kid);
	if (rc == G_NO_ROOM) {
		g->nodes[parent].partial = true;
		return 0;
	}
	return rc != 0 ? rc : g_link(g, parent, kid);
}

/* Lists a dependency of parent that names nothing, entry (taken), unless
 * an equal one is listed already. */
static int g_link_unknown(qgraph *g, size_t parent, json_t *entry)
{
	size_t idx;
	bool fresh;
	int rc;
	if (!entry)
		return -ENOMEM;
	for (size_t k = 0; k < g->nodes[parent].n_kids; k++) {
		gnode *o = &g->nodes[g->nodes[parent].kids[k]];
		if (o->id == 0 && json_equal(o->entry, entry)) {
			json_decref(entry);
			return 0;
		}
	}
	if ((rc = g_add(g, 0, &idx, &fresh)) != 0) {
		json_decref(entry);
		if (rc == G_NO_ROOM)
			g->nodes[parent].partial = true;
		return rc == G_NO_ROOM ? 0 : rc;
	}
	g->nodes[idx].entry = entry;
	return g_link(g, parent, idx);
}

/* True when node i has as many entries as a read of limit may give. */
static bool g_full(const qgraph *g, size_t i, int64_t limit)
{
	return limit >= 0 && (int64_t)g->nodes[i].n_kids >= limit;
}

/* Reads the entries of node i, at most limit (-1 for all); for a kind that
 * reads in batches, those of the nodes waiting to be read too. */
static int g_read(qgraph *g, size_t i, int64_t limit)
{
	size_t t[G_BATCH], n = 0;

	t[n++] = i;
	g->nodes[i].read = true;
	if (g->kind->batch) {
		while (g->waiting < g->n && (g->nodes[g->waiting].read || g->nodes[g->waiting].id == 0))
			g->waiting++;
		for (size_t k = g->waiting; k < g->n && n < G_BATCH; k++) {
			if (!g->nodes[k].read && g->nodes[k].id != 0) {
				g->nodes[k].read = true;
				t[n++] = k;
			}
		}
	}
	return g->kind->read(g, t, n, limit);
}

/* Appends the entries of node i, at level (1 for the root's), to arr,
 * following them while level is above the depth. path[0..level-1] holds the
 * ids from the root down to i. */
static int g_render(qgraph *g, size_t i, int level, int64_t *path, json_t *arr)
{
	int rc;
	for (size_t k = 0; k < g->nodes[i].n_kids; k++) {
		size_t c = g->nodes[i].kids[k];
		if (!g->tree) {
			if (json_array_append(arr, g->nodes[c].entry) != 0)
				return -ENOMEM;
			continue;
		}
		if (g->entries >= Q_TREE_MAX) {
			g->truncated = true;
			return 0;
		}
		g->entries++;
		/* A copy, so that the same product can carry other entries
		 * where it appears again. */
		json_t *e = json_copy(g->nodes[c].entry);
		if (!e || json_array_append_new(arr, e) != 0)
			return -ENOMEM;
		int64_t id = g->nodes[c].id;
		if (id == 0)
			continue;
		bool cycle = false;
		for (int a = 0; a < level && !cycle; a++)
			cycle = path[a] == id;
		if (cycle) {
			json_object_set_new(e, "cycle", json_true());
			continue;
		}
		if (level >= g->depth.levels && !g->depth.all)
			continue;
		/* No more than the tree can still show, and one to tell. */
		if (!g->nodes[c].read && (rc = g_read(g, c, (int64_t)(Q_TREE_MAX - g->entries) + 1)) != 0)
			return rc;
		bool more = g->nodes[c].partial;
		if (level < g->depth.levels) {
			json_t *sub = json_array();
			if (!sub || json_object_set_new(e, g->kind->key, sub) != 0)
				return -ENOMEM;
			path[level] = id;
			if ((rc = g_render(g, c, level + 1, path, sub)) != 0)
				return rc;
		} else {
			/* The whole graph was asked for, and it goes deeper. */
			more = more || g->nodes[c].n_kids > 0;
		}
		if (more) {
			json_object_set_new(e, "truncated", json_true());
			g->truncated = true;
		}
	}
	return 0;
}

static void g_free(qgraph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		json_decref(g->nodes[i].entry);
		free(g->nodes[i].platform);
		free(g->nodes[i].path);
		free(g->nodes[i].source);
		free(g->nodes[i].kids);
	}
	free(g->nodes);
	hmap_free(&g->ids);
	for (int i = 0; i < G_MAX_STMTS; i++)
		sqlite3_finalize(g->st[i]);
}

/* Walks the graph of kind from the product or source id into arr: its
 * entries, and theirs down to depth d. unmet and srcdeps (or NULL) get
 * what the root's own dependencies leave unmet and the sources they name.
 * *truncated is set when the tree was cut. Returns 0, -ENOMEM, or Q_USAGE
 * after printing why. */
static int g_walk(qctx *q, const gkind *kind, const qdepth *d, int64_t id, json_t *arr, json_t *unmet,
                  json_t *srcdeps, bool *truncated)
{
	qgraph g = {.q = q, .kind = kind, .tree = d->levels > 1, .depth = *d};
	int64_t path[Q_DEPTH_MAX + 1];
	size_t root;
	int rc = 0, src;

	hmap_init(&g.ids);
	for (int i = 0; i < kind->nsql; i++)
		if ((rc = q_prepare(q, kind->sql[i], &g.st[i])) != 0)
			goto out;
	sqlite3_bind_int64(g.st[0], 1, id);
	src = sqlite3_step(g.st[0]);
	if (src == SQLITE_DONE) /* gone since it was found: nothing to list */
		goto out;
	if (src != SQLITE_ROW) {
		rc = q_step_failed(q, src);
		goto out;
	}
	if ((rc = kind->node(&g, g.st[0], 0, &root)) != 0)
		goto out;
	sqlite3_reset(g.st[0]);
	/* All of the root's, so that unmet and source_dependencies are
	 * whole at any depth (a tree still holds at most G_NODES_MAX). */
	g.unmet = unmet;
	g.srcdeps = srcdeps;
	rc = g_read(&g, root, -1);
	g.unmet = g.srcdeps = NULL;
	if (rc != 0)
		goto out;
	path[0] = id;
	rc = g_render(&g, root, 1, path, arr);
	if (g.truncated || g.nodes[root].partial)
		*truncated = true;
out:
	g_free(&g);
	return rc;
}

/* Steps st, which reads entries of node i: true with a row, as long as
 * nothing failed (rc) and i has room for more (limit). *src (OUT) is
 * what the step gave. */
static bool g_next(const qgraph *g, sqlite3_stmt *st, size_t i, int64_t limit, int rc, int *src)
{
	return rc == 0 && !g_full(g, i, limit) && (*src = sqlite3_step(st)) == SQLITE_ROW;
}

/* Ends the statement st of a read of node i after g_next() said no:
 * reports a step that failed (src), unless rc already says why the read
 * stopped or node i is full. Returns rc or Q_USAGE. */
static int g_done(const qgraph *g, sqlite3_stmt *st, size_t i, int64_t limit, int rc, int src)
{
	if (rc == 0 && !g_full(g, i, limit) && src != SQLITE_DONE)
		rc = q_step_failed(g->q, src);
	sqlite3_reset(st);
	return rc;
}

/* Steps st, already bound, and lists every row as an entry of parent (made
 * from the columns from col on), up to limit entries. */
static int g_link_rows(qgraph *g, sqlite3_stmt *st, int col, size_t parent, int64_t limit)
{
	int rc = 0, src = SQLITE_DONE;
	while (g_next(g, st, parent, limit, rc, &src))
		rc = g_link_row(g, st, col, parent);
	return g_done(g, st, parent, limit, rc, src);
}

/* ---- reading the nodes that name a batch of nodes ---- */

/* The keys a batch of nodes is found by: each a kind letter and a value
 * (a lowercase path, an asset id, ...), with the node it finds. The
 * values of each kind also go to a JSON array that a statement reads with
 * json_each(), so that one pass over the dependency tables serves the
 * whole batch; the rows it gives are mapped back to their nodes here. */
typedef struct gkey {
	char *key;
	size_t node;
} gkey;

typedef struct gkeys {
	gkey *v;
	size_t n, cap;
} gkeys;

static void keys_free(gkeys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].key);
	free(k->v);
}

/* Adds value s of kind for node, lowercased when lower is set, to k and to
 * the array values. */
static int keys_add(gkeys *k, char kind, const char *s, bool lower, size_t node, json_t *values)
{
	char *key = NULL;
	if (!s)
		return 0;
	gkey *v = grow(k->v, &k->cap, k->n, sizeof *v);
	if (!v)
		return -ENOMEM;
	k->v = v;
	if (asprintf(&key, "%c%s", kind, s) < 0)
		return -ENOMEM;
	if (lower)
		path_lower(key + 1);
	k->v[k->n].key = key;
	k->v[k->n++].node = node;
	return json_array_append_new(values, q_jstr0(key + 1)) == 0 ? 0 : -ENOMEM;
}

static int key_order(const void *a, const void *b)
{
	return strcmp(((const gkey *)a)->key, ((const gkey *)b)->key);
}

/* key compared with kind and value s. */
static int key_cmp(const char *key, char kind, const char *s)
{
	if (key[0] != kind)
		return (unsigned char)key[0] - (unsigned char)kind;
	return strcmp(key + 1, s);
}

/* The first key of kind and value s in k (sorted), or k->n. */
static size_t keys_find(const gkeys *k, char kind, const char *s)
{
	size_t lo = 0, hi = k->n;
	if (!s)
		return k->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (key_cmp(k->v[mid].key, kind, s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < k->n && key_cmp(k->v[lo].key, kind, s) == 0 ? lo : k->n;
}

/* Binds the JSON text of arr to parameter i of st. */
static int bind_json(sqlite3_stmt *st, int i, json_t *arr)
{
	char *s = json_dumps(arr, JSON_COMPACT);
	if (!s)
		return -ENOMEM;
	sqlite3_bind_text(st, i, s, -1, free);
	return 0;
}

/* Lists the node of the current row of st (columns from col on) under
 * every node that key kind/value s finds, but not under itself, up to limit
 * entries each. *kid is the row's node once made (SIZE_MAX before). */
static int link_found(qgraph *g, const gkeys *k, char kind, const char *s, sqlite3_stmt *st, int col,
                      int64_t limit, size_t *kid)
{
	int64_t id = sqlite3_column_int64(st, col);
	for (size_t i = keys_find(k, kind, s); i < k->n && key_cmp(k->v[i].key, kind, s) == 0; i++) {
		size_t t = k->v[i].node;
		if (g->nodes[t].id == id || g_full(g, t, limit))
			continue;
		if (*kid == SIZE_MAX) {
			int rc = g->kind->node(g, st, col, kid);
			if (rc == G_NO_ROOM) {
				g->nodes[t].partial = true;
				continue;
			}
			if (rc != 0)
				return rc;
		}
		int rc = g_link(g, t, *kid);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* What a batch read binds: the keys of its nodes, and their values in
 * three JSON arrays, bound as ?1, ?2 and ?3. */
typedef struct gbatch {
	gkeys k;
	json_t *vals[3];
} gbatch;

/* Reads the entries of nodes t[0..n-1] with g->st[1] in one pass: keys()
 * gives each node's keys, extra (or NULL) is bound as ?4, and row() lists
 * each row of the statement under the nodes its keys find. */
static int g_batch(qgraph *g, const size_t *t, size_t n, int64_t limit, const char *extra,
                   int (*keys)(qgraph *g, size_t x, gbatch *b),
                   int (*row)(qgraph *g, const gkeys *k, sqlite3_stmt *st, int64_t limit))
{
	sqlite3_stmt *st = g->st[1];
	gbatch b = {0};
	int rc = 0, src = SQLITE_DONE;

	for (int i = 0; i < 3; i++)
		if (!(b.vals[i] = json_array()))
			rc = -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = keys(g, t[i], &b);
	if (rc == 0) {
		qsort(b.k.v, b.k.n, sizeof *b.k.v, key_order);
		for (int i = 0; i < 3 && rc == 0; i++)
			rc = bind_json(st, i + 1, b.vals[i]);
		if (extra)
			db_bind_text(st, 4, extra);
	}
	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW)
		rc = row(g, &b.k, st, limit);
	if (rc == 0 && src != SQLITE_DONE)
		rc = q_step_failed(g->q, src);
	sqlite3_reset(st);
	keys_free(&b.k);
	for (int i = 0; i < 3; i++)
		json_decref(b.vals[i]);
	return rc;
}

/* ---- products ---- */

/* The columns a product node is made from, and the joins they need. */
#define P_COLS  "p.id, s.uuid, p.sub_id, p.platform, p.path, s.path"
#define P_JOINS " JOIN jobs j ON j.id = p.job_id JOIN sources s ON s.id = j.source_id"
#define P_ROOT  "SELECT " P_COLS " FROM products p" P_JOINS " WHERE p.id = ?1"
/* The same joins in this order: SQLite keeps the order of a CROSS JOIN, and
 * a database that was never analysed would otherwise be read from the
 * biggest table (every product of a platform) inwards. */
#define P_CROSS " CROSS JOIN jobs j ON j.id = p.job_id CROSS JOIN sources s ON s.id = j.source_id"

enum { PO_ROOT, PO_DEPS, PO_ASSET, PO_PATH, PO_SOURCE, PO_SOURCE_PRODUCTS };

static const char *const product_out_sql[] = {
    [PO_ROOT] = P_ROOT,
    [PO_DEPS] = "SELECT dep_asset_id, dep_path, dep_kind FROM product_deps WHERE product_id = ?1"
                " ORDER BY rowid",
    /* A sub id may have been stored sign-extended (?3). */
    [PO_ASSET] =
        "SELECT " P_COLS " FROM sources s CROSS JOIN jobs j ON j.source_id = s.id"
        " CROSS JOIN products p ON p.job_id = j.id WHERE s.uuid = ?1 AND (p.sub_id = ?2 OR p.sub_id = ?3)"
        " AND p.platform = ?4 AND p.id != ?5 ORDER BY p.id LIMIT 1",
    [PO_PATH] = "SELECT " P_COLS " FROM products p" P_JOINS " WHERE p.platform = ?1 AND p.path = ?2"
                " AND p.id != ?3",
    [PO_SOURCE] = "SELECT id, path FROM sources WHERE lower(path) = lower(?1) ORDER BY id LIMIT 1",
    [PO_SOURCE_PRODUCTS] =
        "SELECT " P_COLS " FROM jobs j CROSS JOIN products p ON p.job_id = j.id"
        " CROSS JOIN sources s ON s.id = j.source_id WHERE j.source_id = ?1 AND p.platform = ?2"
        " AND p.id != ?3 ORDER BY p.sub_id, p.id",
};

/* The products on platform ?4 whose dependencies name one of a batch (see
 * product_keys()). Each row: what named it, lowercase, and the product. */
static const char *const product_in_sql[] = {
    P_ROOT,
    "SELECT lower(d.dep_asset_id), lower(d.dep_path), d.dep_kind, " P_COLS
    " FROM product_deps d CROSS JOIN products p ON p.id = d.product_id" P_CROSS
    " WHERE p.platform = ?4 AND (lower(d.dep_asset_id) IN (SELECT value FROM json_each(?1))"
    " OR (d.dep_asset_id IS NULL AND d.dep_kind = 'product_path'"
    " AND lower(d.dep_path) IN (SELECT value FROM json_each(?2)))"
    " OR (d.dep_asset_id IS NULL AND d.dep_kind = 'source_path'"
    " AND lower(d.dep_path) IN (SELECT value FROM json_each(?3))))"
    " ORDER BY s.uuid, p.sub_id, p.id",
};

static char *dup0(const char *s)
{
	return strdup(s ? s : "");
}

/* The node of the id in column col of st, *idx (OUT): *n (OUT) is the new
 * node for the caller to fill, its uuid copied from column ucol, or NULL
 * when it is there already. Returns as g_add() does. */
static int g_row_node(qgraph *g, sqlite3_stmt *st, int col, int ucol, size_t *idx, gnode **n)
{
	bool fresh;
	int rc = g_add(g, sqlite3_column_int64(st, col), idx, &fresh);
	*n = NULL;
	if (rc != 0 || !fresh)
		return rc;
	*n = &g->nodes[*idx];
	const char *uuid = (const char *)sqlite3_column_text(st, ucol);
	snprintf((*n)->uuid, sizeof(*n)->uuid, "%s", uuid ? uuid : "");
	return 0;
}

/* A product node from the P_COLS columns of st from col on. */
static int product_node(qgraph *g, sqlite3_stmt *st, int col, size_t *idx)
{
	gnode *n;
	int rc = g_row_node(g, st, col, col + 1, idx, &n);
	if (rc != 0 || !n)
		return rc;
	const char *uuid = (const char *)sqlite3_column_text(st, col + 1);
	n->sub = sqlite3_column_int64(st, col + 2);
	n->platform = dup0((const char *)sqlite3_column_text(st, col + 3));
	n->path = dup0((const char *)sqlite3_column_text(st, col + 4));
	n->source = dup0((const char *)sqlite3_column_text(st, col + 5));
	n->entry = json_object();
	if (!n->platform || !n->path || !n->source || !n->entry)
		return -ENOMEM;
	q_set(n->entry, "asset_id", q_jasset_id(uuid, n->sub));
	q_set(n->entry, "platform", q_jcol_str(st, col + 3));
	q_set(n->entry, "path", q_jcol_str(st, col + 4));
	q_set(n->entry, "source", q_jcol_str(st, col + 5));
	return 0;
}

/* The entry of a dependency by asset id that names no product here. */
static json_t *unknown_asset(json_t *id)
{
	json_t *e = json_object();
	if (!e || !id) {
		json_decref(e);
		json_decref(id);
		return NULL;
	}
	q_set(e, "asset_id", id);
	q_set(e, "platform", json_null());
	q_set(e, "path", json_null());
	q_set(e, "source", json_null());
	return e;
}

/* A dependency of product i by asset id aid. */
static int out_asset(qgraph *g, size_t i, const char *aid)
{
	sqlite3_stmt *st = g->st[PO_ASSET];
	char uuid[37], canon[64];
	uint64_t sub;
	int rc = 0, src;

	if (q_parse_asset_id(aid, uuid, &sub) != 0 ||
	    query_asset_id(uuid, (int64_t)sub, canon, sizeof canon) != 0)
		return g_link_unknown(g, i, unknown_asset(q_jstr0(aid)));
	db_bind_text(st, 1, uuid);
	sqlite3_bind_int64(st, 2, (int64_t)sub);
	sqlite3_bind_int64(st, 3, sub <= UINT32_MAX ? (int64_t)(int32_t)(uint32_t)sub : (int64_t)sub);
	db_bind_text(st, 4, g->nodes[i].platform);
	sqlite3_bind_int64(st, 5, g->nodes[i].id);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		rc = g_link_row(g, st, 0, i);
	else if (src == SQLITE_DONE) /* written back in the one canonical form */
		rc = g_link_unknown(g, i, unknown_asset(json_string(canon)));
	else
		rc = q_step_failed(g->q, src);
	sqlite3_reset(st);
	return rc;
}

/* A dependency of product i on the source at dpath: its products here. */
static int out_source(qgraph *g, size_t i, const char *dpath, int64_t limit)
{
	sqlite3_stmt *st = g->st[PO_SOURCE], *sp = g->st[PO_SOURCE_PRODUCTS];
	int rc = 0, src;

	db_bind_text(st, 1, dpath);
	src = sqlite3_step(st);
	if (src == SQLITE_DONE) {
		if (g->unmet)
			q_add_unique(g->unmet, q_jstr0(dpath));
		sqlite3_reset(st);
		return 0;
	}
	if (src != SQLITE_ROW) {
		rc = q_step_failed(g->q, src);
		sqlite3_reset(st);
		return rc;
	}
	if (g->srcdeps)
		q_add_unique(g->srcdeps, q_jcol_str(st, 1));
	sqlite3_bind_int64(sp, 1, sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	db_bind_text(sp, 2, g->nodes[i].platform);
	sqlite3_bind_int64(sp, 3, g->nodes[i].id);
	return g_link_rows(g, sp, 0, i, limit);
}

/* A dependency of product i on the product at dpath, on its platform. The
 * path is normalized here; dependants compare it as stored, lowercase, as
 * the asset catalog does, which builders that write clean paths never see
 * differ. */
static int out_path(qgraph *g, size_t i, const char *dpath)
{
	sqlite3_stmt *st = g->st[PO_PATH];
	char norm[KILN_PATH_MAX];
	const char *plat = g->nodes[i].platform;
	size_t pl = strlen(plat);
	int rc = 0, src;
	bool met = false;

	if (dpath[0] != '/' && path_normalize(dpath, norm, sizeof norm) == 0) {
		path_lower(norm);
		const char *tries[2] = {norm, NULL};
		if (strncmp(norm, plat, pl) == 0 && norm[pl] == '/')
			tries[1] = norm + pl + 1;
		for (int t = 0; t < 2 && tries[t] && !met && rc == 0; t++) {
			db_bind_text(st, 1, plat);
			db_bind_text(st, 2, tries[t]);
			sqlite3_bind_int64(st, 3, g->nodes[i].id);
			src = sqlite3_step(st);
			if (src == SQLITE_ROW) {
				met = true;
				rc = g_link_row(g, st, 0, i);
			} else if (src != SQLITE_DONE) {
				rc = q_step_failed(g->q, src);
			}
			sqlite3_reset(st);
		}
	}
	if (rc == 0 && !met && g->unmet)
		q_add_unique(g->unmet, q_jstr0(dpath));
	return rc;
}

/* The dependencies of products t[0..n-1], one at a time, each look-up on
 * an index. */
static int product_out(qgraph *g, const size_t *t, size_t n, int64_t limit)
{
	sqlite3_stmt *st = g->st[PO_DEPS];
	int rc = 0, src = SQLITE_DONE;

	for (size_t k = 0; k < n && rc == 0; k++) {
		size_t i = t[k];
		sqlite3_bind_int64(st, 1, g->nodes[i].id);
		while (g_next(g, st, i, limit, rc, &src)) {
			const char *aid = (const char *)sqlite3_column_text(st, 0);
			const char *dpath = (const char *)sqlite3_column_text(st, 1);
			const char *kind = (const char *)sqlite3_column_text(st, 2);
			if (aid)
				rc = out_asset(g, i, aid);
			else if (dpath && kind && strcmp(kind, "source_path") == 0)
				rc = out_source(g, i, dpath, limit);
			else if (dpath)
				rc = out_path(g, i, dpath);
		}
		rc = g_done(g, st, i, limit, rc, src);
	}
	return rc;
}

/* The keys that find what depends on product x: its asset id with and
 * without braces (?1), its path with and without "<platform>/" (?2), its
 * source's path (?3), all lowercase. */
static int product_keys(qgraph *g, size_t x, gbatch *b)
{
	const gnode *n = &g->nodes[x];
	char aid[64], bare[64], *ppath = NULL;
	int rc;

	if (query_asset_id(n->uuid, n->sub, aid, sizeof aid) != 0 ||
	    asprintf(&ppath, "%s/%s", n->platform, n->path) < 0)
		return -ENOMEM;
	/* "{uuid}:x" and "uuid:x" are the same id. */
	const char *close = strchr(aid, '}');
	snprintf(bare, sizeof bare, "%.*s%s", close ? (int)(close - aid - 1) : 0, aid + 1,
	         close ? close + 1 : "");
	if ((rc = keys_add(&b->k, 'a', aid, false, x, b->vals[0])) == 0 &&
	    (rc = keys_add(&b->k, 'a', bare, false, x, b->vals[0])) == 0 &&
	    (rc = keys_add(&b->k, 'p', n->path, true, x, b->vals[1])) == 0 &&
	    (rc = keys_add(&b->k, 'p', ppath, true, x, b->vals[1])) == 0)
		rc = keys_add(&b->k, 's', n->source, true, x, b->vals[2]);
	free(ppath);
	return rc;
}

/* A row of product_in_sql: the product under what it names. */
static int product_row(qgraph *g, const gkeys *k, sqlite3_stmt *st, int64_t limit)
{
	const char *aid = (const char *)sqlite3_column_text(st, 0);
	const char *dpath = (const char *)sqlite3_column_text(st, 1);
	const char *kind = (const char *)sqlite3_column_text(st, 2);
	size_t kid = SIZE_MAX;
	if (aid)
		return link_found(g, k, 'a', aid, st, 3, limit, &kid);
	if (kind && strcmp(kind, "product_path") == 0)
		return link_found(g, k, 'p', dpath, st, 3, limit, &kid);
	if (kind && strcmp(kind, "source_path") == 0)
		return link_found(g, k, 's', dpath, st, 3, limit, &kid);
	return 0;
}

/* The dependants of products t[0..n-1]. A product's dependants are on its
 * own platform, so those of a whole walk are on the root's. */
static int product_in(qgraph *g, const size_t *t, size_t n, int64_t limit)
{
	return g_batch(g, t, n, limit, g->nodes[t[0]].platform, product_keys, product_row);
}

static const gkind product_deps_out = {"dependencies", product_out_sql, 6, false, product_node, product_out};
static const gkind product_deps_in = {"dependants", product_in_sql, 2, true, product_node, product_in};

int q_product_deps(qctx *q, json_t *o, int64_t pid, const qdepth *d)
{
	json_t *deps = json_array(), *unmet = json_array(), *srcdeps = json_array(), *in = json_array();
	bool truncated = false;
	int rc;

	q_set(o, "dependencies", deps);
	q_set(o, "unmet", unmet);
	q_set(o, "source_dependencies", srcdeps);
	q_set(o, "dependants", in);
	if (!deps || !unmet || !srcdeps || !in)
		return -ENOMEM;
	if ((rc = g_walk(q, &product_deps_out, d, pid, deps, unmet, srcdeps, &truncated)) != 0 ||
	    (rc = g_walk(q, &product_deps_in, d, pid, in, NULL, NULL, &truncated)) != 0)
		return rc;
	if (truncated)
		q_set(o, "truncated", json_true());
	return 0;
}

/* ---- sources ---- */

#define S_COLS "s.id, s.path, s.uuid, s.scan_folder"
#define S_ROOT "SELECT " S_COLS " FROM sources s WHERE s.id = ?1"

enum { SO_ROOT, SO_DEPS, SO_FIND, SO_FIND_ABS, SO_PRODUCT_DEPS };

static const char *const source_out_sql[] = {
    [SO_ROOT] = S_ROOT,
    [SO_DEPS] = "SELECT dep_path, dep_uuid FROM source_deps WHERE source_id = ?1 ORDER BY rowid",
    /* A relative path as stored (?1), or any path with the same UUID (?2),
     * which does not depend on case. */
    [SO_FIND] = "SELECT " S_COLS " FROM sources s WHERE s.path = ?1 OR s.uuid = ?2"
                " ORDER BY s.path = ?1 DESC LIMIT 1",
    /* An absolute path, split into scan folder (?1) and path (?2). */
    [SO_FIND_ABS] = "SELECT " S_COLS " FROM sources s WHERE s.path = ?2 AND s.scan_folder = ?1 LIMIT 1",
    /* What its products name by source path, each path once; s2 is NULL
     * for a path that is no source. */
    [SO_PRODUCT_DEPS] = "SELECT min(d.dep_path), s2.id, s2.path, s2.uuid, s2.scan_folder FROM jobs j"
                        " CROSS JOIN products p ON p.job_id = j.id CROSS JOIN product_deps d"
                        " ON d.product_id = p.id"
                        " LEFT JOIN sources s2 ON lower(s2.path) = lower(d.dep_path)"
                        " WHERE j.source_id = ?1 AND d.dep_kind = 'source_path' AND d.dep_asset_id IS NULL"
                        " GROUP BY lower(d.dep_path) ORDER BY lower(d.dep_path)",
};

/* The sources that name one of a batch (see source_keys()): in their
 * create_jobs dependencies by UUID, path or absolute path, or by path in
 * their products' source path dependencies. Each row: what named it (uuid
 * and path lowercase, the path as written) and the source. */
static const char *const source_in_sql[] = {
    S_ROOT,
    "SELECT lower(trim(d.dep_uuid, '{}')), lower(d.dep_path), d.dep_path, " S_COLS
    " FROM source_deps d CROSS JOIN sources s ON s.id = d.source_id"
    " WHERE lower(trim(d.dep_uuid, '{}')) IN (SELECT value FROM json_each(?1))"
    " OR lower(d.dep_path) IN (SELECT value FROM json_each(?2)) OR d.dep_path IN (SELECT value FROM "
    "json_each(?3))"
    " UNION ALL SELECT NULL, lower(d.dep_path), NULL, " S_COLS
    " FROM product_deps d CROSS JOIN products p ON p.id = d.product_id" P_CROSS
    " WHERE d.dep_kind = 'source_path' AND d.dep_asset_id IS NULL"
    " AND lower(d.dep_path) IN (SELECT value FROM json_each(?2))"
    " ORDER BY 5, 4",
};

/* A source node from the S_COLS columns of st from col on. */
static int source_node(qgraph *g, sqlite3_stmt *st, int col, size_t *idx)
{
	gnode *n;
	int rc = g_row_node(g, st, col, col + 2, idx, &n);
	if (rc != 0 || !n)
		return rc;
	const char *path = (const char *)sqlite3_column_text(st, col + 1);
	const char *folder = (const char *)sqlite3_column_text(st, col + 3);
	n->path = dup0(path);
	if (asprintf(&n->source, "%s/%s", folder ? folder : "", path ? path : "") < 0)
		n->source = NULL;
	if (g->tree) {
		n->entry = json_object();
		if (n->entry) {
			q_set(n->entry, "source", q_jcol_str(st, col + 1));
			q_set(n->entry, "uuid", q_jcol_str(st, col + 2));
		}
	} else {
		n->entry = q_jcol_str(st, col + 1);
	}
	return n->path && n->source && n->entry ? 0 : -ENOMEM;
}

/* A dependency of a source that names no source: as written. */
static int unknown_source(qgraph *g, size_t parent, const char *name)
{
	json_t *e = q_jstr0(name);
	if (g->tree && e) {
		json_t *o = json_object();
		if (o) {
			q_set(o, "source", e);
			q_set(o, "uuid", json_null());
		} else {
			json_decref(e);
		}
		e = o;
	}
	return g_link_unknown(g, parent, e);
}

/* Finds the source a create_jobs dependency names (by UUID, or by a path
 * relative to its scan folder or absolute) and lists it under source i. */
static int out_source_dep(qgraph *g, size_t i, const char *dep_path, const char *dep_uuid)
{
	sqlite3_stmt *st = g->st[SO_FIND];
	kuuid u;
	char us[37];
	int rc = 0, src = SQLITE_DONE;

	if (dep_uuid && uuid_parse(dep_uuid, &u) == 0) {
		uuid_format(&u, us);
		sqlite3_bind_null(st, 1);
		db_bind_text(st, 2, us);
		src = sqlite3_step(st);
	} else if (dep_path && dep_path[0] != '/') {
		sqlite3_clear_bindings(st);
		q_bind_dep_path(st, dep_path);
		src = sqlite3_step(st);
	} else if (dep_path) {
		/* scan_folder || '/' || path would read every source; each
		 * split of the path at a '/' is one look-up on the index of
		 * paths instead. */
		st = g->st[SO_FIND_ABS];
		for (const char *sl = strchr(dep_path + 1, '/'); sl && src == SQLITE_DONE;
		     sl = strchr(sl + 1, '/')) {
			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, dep_path, (int)(sl - dep_path), SQLITE_TRANSIENT);
			db_bind_text(st, 2, sl + 1);
			src = sqlite3_step(st);
		}
	}
	if (src == SQLITE_ROW)
		rc = g_link_row(g, st, 0, i);
	else if (src == SQLITE_DONE)
		rc = unknown_source(g, i, dep_path ? dep_path : dep_uuid);
	else
		rc = q_step_failed(g->q, src);
	sqlite3_reset(st);
	return rc;
}

/* The dependencies of sources t[0..n-1], one at a time, each look-up on an
 * index: its create_jobs dependencies, then its products' source paths. */
static int source_out(qgraph *g, const size_t *t, size_t n, int64_t limit)
{
	int rc = 0, src = SQLITE_DONE;

	for (size_t k = 0; k < n && rc == 0; k++) {
		size_t i = t[k];
		int64_t sid = g->nodes[i].id;
		sqlite3_stmt *st = g->st[SO_DEPS];
		sqlite3_bind_int64(st, 1, sid);
		while (g_next(g, st, i, limit, rc, &src))
			rc = out_source_dep(g, i, (const char *)sqlite3_column_text(st, 0),
			                    (const char *)sqlite3_column_text(st, 1));
		if ((rc = g_done(g, st, i, limit, rc, src)) != 0)
			break;

		st = g->st[SO_PRODUCT_DEPS];
		sqlite3_bind_int64(st, 1, sid);
		while (g_next(g, st, i, limit, rc, &src)) {
			if (sqlite3_column_type(st, 1) == SQLITE_NULL)
				rc = unknown_source(g, i, (const char *)sqlite3_column_text(st, 0));
			else if (sqlite3_column_int64(st, 1) != sid) /* its own products name it */
				rc = g_link_row(g, st, 1, i);
		}
		rc = g_done(g, st, i, limit, rc, src);
	}
	return rc;
}

/* The keys that find what names source x: its uuid (?1), its path in
 * lowercase (?2), its absolute path as it is (?3). */
static int source_keys(qgraph *g, size_t x, gbatch *b)
{
	const gnode *n = &g->nodes[x];
	int rc;
	if ((rc = keys_add(&b->k, 'u', n->uuid, true, x, b->vals[0])) == 0 &&
	    (rc = keys_add(&b->k, 'l', n->path, true, x, b->vals[1])) == 0)
		rc = keys_add(&b->k, 'x', n->source, false, x, b->vals[2]);
	return rc;
}

/* A row of source_in_sql: the source under what it names. */
static int source_row(qgraph *g, const gkeys *k, sqlite3_stmt *st, int64_t limit)
{
	size_t kid = SIZE_MAX;
	int rc;
	if ((rc = link_found(g, k, 'u', (const char *)sqlite3_column_text(st, 0), st, 3, limit, &kid)) == 0 &&
	    (rc = link_found(g, k, 'l', (const char *)sqlite3_column_text(st, 1), st, 3, limit, &kid)) == 0)
		rc = link_found(g, k, 'x', (const char *)sqlite3_column_text(st, 2), st, 3, limit, &kid);
	return rc;
}

/* The sources that name sources t[0..n-1]. */
static int source_in(qgraph *g, const size_t *t, size_t n, int64_t limit)
{
	return g_batch(g, t, n, limit, NULL, source_keys, source_row);
}

static const gkind source_deps_out = {"depends_on", source_out_sql, 5, false, source_node, source_out};
static const gkind source_deps_in = {"depended_on_by", source_in_sql, 2, true, source_node, source_in};

int q_source_deps(qctx *q, json_t *o, int64_t sid, const qdepth *d)
{
	json_t *out = json_array(), *in = json_array();
	bool truncated = false;
	int rc;

	q_set(o, "depends_on", out);
	q_set(o, "depended_on_by", in);
	if (!out || !in)
		return -ENOMEM;
	if ((rc = g_walk(q, &source_deps_out, d, sid, out, NULL, NULL, &truncated)) != 0 ||
	    (rc = g_walk(q, &source_deps_in, d, sid, in, NULL, NULL, &truncated)) != 0)
		return rc;
	if (truncated)
		q_set(o, "truncated", json_true());
	return 0;
}

/* ---- options and text ---- */

int q_parse_depth(qctx *q, const char *s, qdepth *d)
{
	char *end = NULL;
	d->levels = 1;
	d->all = false;
	if (!s)
		return 0;
	if (strcmp(s, "all") == 0 || strcmp(s, "0") == 0) {
		d->levels = Q_DEPTH_MAX;
		d->all = true;
		return 0;
	}
	errno = 0;
	long v = strtol(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || errno != 0 || *end != '\0' || v < 1 || v > Q_DEPTH_MAX) {
		q_err(q, "--depth takes a number from 1 to %d, or 0 or all for every level (up to %d)",
		      Q_DEPTH_MAX, Q_DEPTH_MAX);
		return Q_USAGE;
	}
	d->levels = (int)v;
	return 0;
}

void q_print_deps(json_t *arr, const char *key, int indent, void (*name)(json_t *e))
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
	{
		printf("%*s", indent, "");
		name(e);
		if (json_is_true(json_object_get(e, "cycle")))
			printf("  (cycle)");
		if (json_is_true(json_object_get(e, "truncated")))
			printf("  (truncated)");
		printf("\n");
		q_print_deps(json_object_get(e, key), key, indent + 2, name);
	}
}
