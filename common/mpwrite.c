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
