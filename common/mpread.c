/* mpread.c: the decoding helpers (declared in msg.h and mpread.h): unpacking
 * a frame into a map, and getters that check each field's presence and type
 * and name its path in every error.
 *
 * Decoded strings are copied into the caller's arena: msgpack-c points
 * strings into the frame buffer and keeps containers in its zone, and both
 * go away before the decoded message does. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kerr.h"
#include "mpread.h"
#include "mpscan.h"

/* ---- unpacking ---- */

int msg_unpack_map(const uint8_t *buf, size_t len, msgpack_unpacked *u, char *err, size_t errsz)
{
	/* Errors here are about the frame as a whole, so they name no field;
	 * err is written only on failure, which is why this is not
	 * msg_dec_init. */
	msg_dec d = {.err = err, .errsz = errsz};
	size_t off = 0;
	if (len == 0)
		return msg_dec_fail(&d, NULL, "empty frame");
	int rc = mpscan_check(buf, len, err, errsz);
	if (rc)
		return rc;
	msgpack_unpack_return ur = msgpack_unpack_next(u, (const char *)buf, len, &off);
	if (ur == MSGPACK_UNPACK_NOMEM_ERROR) {
		msg_dec_fail(&d, NULL, "out of memory unpacking a frame");
		return -ENOMEM;
	}
	/* The scan accepts exactly what msgpack-c parses, so this is
	 * defensive. */
	if (ur != MSGPACK_UNPACK_SUCCESS || off != len)
		return msg_dec_fail(&d, NULL, "malformed MessagePack object");
	return msg_dec_check_map(&d, NULL, &u->data);
}

/* ---- decoding helpers ---- */

void msg_dec_init(msg_dec *d, arena *a, char *err, size_t errsz)
{
	d->a = a;
	d->err = err;
	d->errsz = errsz;
	d->path[0] = '\0';
	d->plen = 0;
	if (err && errsz)
		err[0] = '\0';
}

const char *msg_dec_type_name(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return "nil";
	case MSGPACK_OBJECT_BOOLEAN:
		return "a boolean";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return "an integer";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return "a float";
	case MSGPACK_OBJECT_STR:
		return "a string";
	case MSGPACK_OBJECT_ARRAY:
		return "an array";
	case MSGPACK_OBJECT_MAP:
		return "a map";
	case MSGPACK_OBJECT_BIN:
		return "binary data";
	case MSGPACK_OBJECT_EXT:
		return "an extension";
	}
	return "an unknown type";
}

int msg_dec_fail(msg_dec *d, const char *key, const char *fmt, ...)
{
	if (!d->err || d->errsz == 0)
		return KILN_E_PROTO;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->plen && key)
		snprintf(d->err, d->errsz, "%s.%s: %s", d->path, key, msg);
	else if (d->plen || key)
		snprintf(d->err, d->errsz, "%s: %s", d->plen ? d->path : key, msg);
	else
		snprintf(d->err, d->errsz, "%s", msg);
	return KILN_E_PROTO;
}

static void path_append(msg_dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void path_append(msg_dec *d, const char *fmt, ...)
{
	if (d->plen >= sizeof(d->path) - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(d->path + d->plen, sizeof(d->path) - d->plen, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	d->plen += (size_t)n;
	if (d->plen > sizeof(d->path) - 1)
		d->plen = sizeof(d->path) - 1;
}

size_t msg_dec_push_key(msg_dec *d, const char *key)
{
	size_t saved = d->plen;
	path_append(d, "%s%s", d->plen ? "." : "", key);
	return saved;
}

size_t msg_dec_push_idx(msg_dec *d, size_t idx)
{
	size_t saved = d->plen;
	path_append(d, "[%zu]", idx);
	return saved;
}

void msg_dec_pop(msg_dec *d, size_t saved)
{
	if (saved < sizeof(d->path)) {
		d->plen = saved;
		d->path[saved] = '\0';
	}
}

int msg_dec_check_map(msg_dec *d, const char *key, const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_MAP)
		return msg_dec_fail(d, key, "expected a map, got %s", msg_dec_type_name(o));
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		if (o->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
			return msg_dec_fail(d, key, "map key %" PRIu32 " is %s, not a string", i,
			                    msg_dec_type_name(&o->via.map.ptr[i].key));
	}
	return 0;
}

const msgpack_object *msg_dec_get(const msgpack_object *map, const char *key)
{
	if (map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	size_t klen = strlen(key);
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
		    memcmp(k->via.str.ptr, key, klen) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

int msg_dec_lookup(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags,
                   const msgpack_object **o)
{
	*o = msg_dec_get(map, key);
	if (*o && (*o)->type != MSGPACK_OBJECT_NIL)
		return 1;
	if (flags & MSG_DEC_OPTIONAL)
		return 0;
	if (*o)
		return msg_dec_fail(d, key, "missing (nil)");
	return msg_dec_fail(d, key, "missing");
}

/* Copies a string object into the arena. */
static int copy_str(msg_dec *d, const char *key, const msgpack_object *o, unsigned flags, const char **out)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return msg_dec_fail(d, key, "expected a string, got %s", msg_dec_type_name(o));
	size_t n = o->via.str.size;
	const char *nul = n ? memchr(o->via.str.ptr, '\0', n) : NULL;
	if (nul) {
		if (!(flags & MSG_DEC_TEXT))
			return msg_dec_fail(d, key, "string holds a NUL byte");
		n = (size_t)(nul - o->via.str.ptr);
	}
	char *s = arena_strndup(d->a, n ? o->via.str.ptr : "", n);
	if (!s)
		return -ENOMEM;
	*out = s;
	return 0;
}

int msg_dec_expect_type(msg_dec *d, const msgpack_object *map, const char *key, const char *want)
{
	const msgpack_object *o;
	if (!key)
		key = "type";
	int rc = msg_dec_lookup(d, map, key, 0, &o);
	if (rc <= 0)
		return rc;
	if (o->type != MSGPACK_OBJECT_STR)
		return msg_dec_fail(d, key, "expected a string, got %s", msg_dec_type_name(o));
	size_t n = strlen(want);
	if (o->via.str.size != n || memcmp(o->via.str.ptr, want, n) != 0) {
		int shown = o->via.str.size > 64 ? 64 : (int)o->via.str.size;
		return msg_dec_fail(d, key, "expected \"%s\", got \"%.*s\"", want, shown, o->via.str.ptr);
	}
	return 0;
}

int msg_dec_str(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, const char **out)
{
	const msgpack_object *o;
	int rc = msg_dec_lookup(d, map, key, flags, &o);
	if (rc <= 0)
		return rc;
	return copy_str(d, key, o, flags, out);
}

int msg_dec_bool(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, bool *out)
{
	const msgpack_object *o;
	int rc = msg_dec_lookup(d, map, key, flags, &o);
	if (rc <= 0)
		return rc;
	if (o->type != MSGPACK_OBJECT_BOOLEAN)
		return msg_dec_fail(d, key, "expected a boolean, got %s", msg_dec_type_name(o));
	*out = o->via.boolean;
	return 0;
}

int msg_dec_i64(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, int64_t *out)
{
	const msgpack_object *o;
	int rc = msg_dec_lookup(d, map, key, flags, &o);
	if (rc <= 0)
		return rc;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return msg_dec_fail(d, key, "expected an integer, got %s", msg_dec_type_name(o));
	if (o->via.u64 > (uint64_t)INT64_MAX)
		return msg_dec_fail(d, key, "%" PRIu64 " is out of range", o->via.u64);
	*out = (int64_t)o->via.u64;
	return 0;
}

int msg_dec_u64(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, uint64_t max,
                uint64_t *out)
{
	const msgpack_object *o;
	int rc = msg_dec_lookup(d, map, key, flags, &o);
	if (rc <= 0)
		return rc;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return msg_dec_fail(d, key, "%" PRId64 " is out of range (0..%" PRIu64 ")", o->via.i64, max);
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return msg_dec_fail(d, key, "expected an integer, got %s", msg_dec_type_name(o));
	if (o->via.u64 > max)
		return msg_dec_fail(d, key, "%" PRIu64 " is out of range (0..%" PRIu64 ")", o->via.u64, max);
	*out = o->via.u64;
	return 0;
}

int msg_dec_array(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags,
                  const msgpack_object_array **out)
{
	const msgpack_object *o;
	int rc = msg_dec_lookup(d, map, key, flags, &o);
	if (rc <= 0)
		return rc;
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return msg_dec_fail(d, key, "expected an array, got %s", msg_dec_type_name(o));
	*out = &o->via.array;
	return 0;
}

int msg_dec_map(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags,
                const msgpack_object **out)
{
	const msgpack_object *o;
	int rc = msg_dec_lookup(d, map, key, flags, &o);
	if (rc <= 0)
		return rc;
	rc = msg_dec_check_map(d, key, o);
	if (rc)
		return rc;
	*out = o;
	return 0;
}

/* The loop behind msg_dec_each and msg_dec_maps; maps says whether every
 * element must be a map before fn sees it. */
static int dec_each(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, bool maps,
                    size_t elsz, msg_dec_fn fn, void **out, size_t *n)
{
	const msgpack_object_array *arr = NULL;
	int rc = msg_dec_array(d, map, key, flags, &arr);
	if (rc || !arr)
		return rc;
	char *items = arena_alloc(d->a, (arr->size ? arr->size : 1) * elsz);
	if (!items)
		return -ENOMEM;
	size_t saved = msg_dec_push_key(d, key);
	for (uint32_t i = 0; i < arr->size; i++) {
		size_t s2 = msg_dec_push_idx(d, i);
		rc = maps ? msg_dec_check_map(d, NULL, &arr->ptr[i]) : 0;
		if (!rc)
			rc = fn(d, &arr->ptr[i], items + i * elsz);
		msg_dec_pop(d, s2);
		if (rc)
			goto out;
	}
	*out = items;
	*n = arr->size;
out:
	msg_dec_pop(d, saved);
	return rc;
}

int msg_dec_each(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, size_t elsz,
                 msg_dec_fn fn, void **out, size_t *n)
{
	return dec_each(d, map, key, flags, false, elsz, fn, out, n);
}

int msg_dec_maps(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, size_t elsz,
                 msg_dec_fn fn, void **out, size_t *n)
{
	return dec_each(d, map, key, flags, true, elsz, fn, out, n);
}

int msg_dec_sub(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, msg_dec_fn fn,
                void *out)
{
	const msgpack_object *m = NULL;
	int rc = msg_dec_map(d, map, key, flags, &m);
	if (rc || !m)
		return rc;
	size_t saved = msg_dec_push_key(d, key);
	rc = fn(d, m, out);
	msg_dec_pop(d, saved);
	return rc;
}

int msg_dec_frame(const uint8_t *buf, size_t len, arena *a, msg_dec_fn fn, void *out, char *err, size_t errsz)
{
	msgpack_unpacked u;
	msg_dec d;

	msg_dec_init(&d, a, err, errsz);
	msgpack_unpacked_init(&u);
	int rc = msg_unpack_map(buf, len, &u, err, errsz);
	if (!rc)
		rc = fn(&d, &u.data, out);
	msgpack_unpacked_destroy(&u);
	return rc;
}

/* Array elements of msg_dec_strs, without and with MSG_DEC_TEXT. */
static int dec_str_el(msg_dec *d, const msgpack_object *o, void *out)
{
	return copy_str(d, NULL, o, 0, out);
}

static int dec_text_el(msg_dec *d, const msgpack_object *o, void *out)
{
	return copy_str(d, NULL, o, MSG_DEC_TEXT, out);
}

int msg_dec_strs(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, msg_strs *out)
{
	void *items = NULL;
	int rc = msg_dec_each(d, map, key, flags, sizeof(const char *),
	                      (flags & MSG_DEC_TEXT) ? dec_text_el : dec_str_el, &items, &out->n);
	if (!rc && items)
		out->items = items;
	return rc;
}

int msg_dec_kvs(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, msg_kvs *out)
{
	const msgpack_object *m = NULL;
	int rc = msg_dec_map(d, map, key, flags, &m);
	if (rc || !m)
		return rc;
	uint32_t n = m->via.map.size;
	msg_kv *items = arena_alloc(d->a, (n ? n : 1) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	size_t saved = msg_dec_push_key(d, key);
	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object_kv *kv = &m->via.map.ptr[i];
		rc = copy_str(d, NULL, &kv->key, 0, &items[i].key);
		if (rc)
			goto out;
		size_t s2 = msg_dec_push_key(d, items[i].key);
		rc = copy_str(d, NULL, &kv->val, flags, &items[i].value);
		msg_dec_pop(d, s2);
		if (rc)
			goto out;
	}
	out->items = items;
	out->n = n;
out:
	msg_dec_pop(d, saved);
	return rc;
}
