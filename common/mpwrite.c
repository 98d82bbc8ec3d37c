/* mpwrite.c: the encoding helpers (declared in msg.h and mpwrite.h): a
 * msg_enc that appends MessagePack values to a caller's sbuffer, remembers
 * the first failure and takes a half-written map back out. */
#include <errno.h>
#include <string.h>

#include "mpwrite.h"

void msg_enc_init(msg_enc *e, msgpack_sbuffer *sb)
{
	e->sb = sb;
	e->start = sb->size;
	e->failed = 0;
	msgpack_packer_init(&e->pk, sb, msgpack_sbuffer_write);
}

int msg_enc_done(msg_enc *e)
{
	if (!e->failed)
		return 0;
	e->sb->size = e->start;
	return -ENOMEM;
}

void msg_enc_map(msg_enc *e, size_t n)
{
	e->failed |= msgpack_pack_map(&e->pk, n) != 0;
}

void msg_enc_array(msg_enc *e, size_t n)
{
	e->failed |= msgpack_pack_array(&e->pk, n) != 0;
}

void msg_enc_str(msg_enc *e, const char *s)
{
	if (!s)
		s = "";
	e->failed |= msgpack_pack_str_with_body(&e->pk, s, strlen(s)) != 0;
}

void msg_enc_bool(msg_enc *e, bool v)
{
	e->failed |= (v ? msgpack_pack_true(&e->pk) : msgpack_pack_false(&e->pk)) != 0;
}

void msg_enc_i64(msg_enc *e, int64_t v)
{
	e->failed |= msgpack_pack_int64(&e->pk, v) != 0;
}

void msg_enc_u64(msg_enc *e, uint64_t v)
{
	e->failed |= msgpack_pack_uint64(&e->pk, v) != 0;
}

void msg_enc_nil(msg_enc *e)
{
	e->failed |= msgpack_pack_nil(&e->pk) != 0;
}

void msg_enc_bin(msg_enc *e, const void *data, size_t len)
{
	e->failed |= msgpack_pack_bin_with_body(&e->pk, len ? data : "", len) != 0;
}

void msg_enc_strs(msg_enc *e, const msg_strs *v)
{
	msg_enc_array(e, v->n);
	for (size_t i = 0; i < v->n; i++)
		msg_enc_str(e, v->items[i]);
}

void msg_enc_kvs(msg_enc *e, const msg_kvs *v)
{
	msg_enc_map(e, v->n);
	for (size_t i = 0; i < v->n; i++) {
		msg_enc_str(e, v->items[i].key);
		msg_enc_str(e, v->items[i].value);
	}
}

static void enc_value(msg_enc *e, const msg_field *f)
{
	switch (f->kind) {
	case MSG_FK_ABSENT:
		break;
	case MSG_FK_STR:
		msg_enc_str(e, f->v.s);
		break;
	case MSG_FK_BOOL:
		msg_enc_bool(e, f->v.b);
		break;
	case MSG_FK_I64:
		msg_enc_i64(e, f->v.i);
		break;
	case MSG_FK_U64:
		msg_enc_u64(e, f->v.u);
		break;
	case MSG_FK_NIL:
		msg_enc_nil(e);
		break;
	case MSG_FK_BIN:
		msg_enc_bin(e, f->v.bin.data, f->v.bin.len);
		break;
	case MSG_FK_STRS:
		msg_enc_strs(e, f->v.strs);
		break;
	case MSG_FK_KVS:
		msg_enc_kvs(e, f->v.kvs);
		break;
	case MSG_FK_VALUE:
		f->v.call.fn(e, f->v.call.arg);
		break;
	case MSG_FK_ARRAY:
		msg_enc_array(e, f->v.call.n);
		for (size_t i = 0; i < f->v.call.n; i++)
			f->v.call.fn(e, (const char *)f->v.call.arg + i * f->v.call.elsz);
		break;
	}
}

void msg_enc_fields(msg_enc *e, const msg_field *f, size_t n)
{
	size_t present = 0;
	for (size_t i = 0; i < n; i++)
		present += f[i].kind != MSG_FK_ABSENT;
	msg_enc_map(e, present);
	for (size_t i = 0; i < n; i++) {
		if (f[i].kind == MSG_FK_ABSENT)
			continue;
		msg_enc_str(e, f[i].key);
		enc_value(e, &f[i]);
	}
}

int msg_enc_message(msgpack_sbuffer *sb, const msg_field *f, size_t n)
{
	msg_enc e;
	msg_enc_init(&e, sb);
	msg_enc_fields(&e, f, n);
	return msg_enc_done(&e);
}
