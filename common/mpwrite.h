/* mpwrite.h: the encoding helpers that only common/'s own codecs use (msg.c
 * for the builder protocol, hostproto.c for the host messages): field
 * tables, so that each message's encoder is the list of its fields.
 *
 * msg_enc and its writers are declared in msg.h, because msg.h is installed
 * as the C SDK's header and has to stand alone (the SDK writes with them
 * too); mpwrite.c defines both sets. Everything is appended to an sbuffer
 * that the caller initialised and owns. */
#ifndef KILN_MPWRITE_H
#define KILN_MPWRITE_H

#include "msg.h"

/* Writes the value at v (for MSG_F_VALUE, or one element of MSG_F_ARRAY). */
typedef void (*msg_enc_fn)(msg_enc *e, const void *v);

typedef enum msg_fkind {
	MSG_FK_ABSENT = 0, /* left out of the map and of its size */
	MSG_FK_STR,        /* NULL packs "", as msg_enc_str does */
	MSG_FK_BOOL,
	MSG_FK_I64,
	MSG_FK_U64,
	MSG_FK_NIL,
	MSG_FK_BIN,
	MSG_FK_STRS,
	MSG_FK_KVS,
	MSG_FK_VALUE, /* fn(e, arg) */
	MSG_FK_ARRAY, /* an array of n elements of elsz bytes from arg, fn on each */
} msg_fkind;

/* One key and its value. The table borrows every pointer in it: what they
 * point to must outlive the msg_enc_fields or msg_enc_message call. */
typedef struct msg_field {
	const char *key;
	msg_fkind kind;
	union {
		const char *s;
		bool b;
		int64_t i;
		uint64_t u;
		struct {
			const void *data;
			size_t len;
		} bin;
		const msg_strs *strs;
		const msg_kvs *kvs;
		struct {
			msg_enc_fn fn;
			const void *arg;
			size_t n;
			size_t elsz;
		} call;
	} v;
} msg_field;

/* The table's entries, one field each. MSG_F_ARRAY takes its element size
 * from the type items points to. MSG_F_IF keeps a field only when cond
 * holds; otherwise the map has one field fewer. */
#define MSG_F_STR(k, x)         ((msg_field){.key = (k), .kind = MSG_FK_STR, .v.s = (x)})
#define MSG_F_BOOL(k, x)        ((msg_field){.key = (k), .kind = MSG_FK_BOOL, .v.b = (x)})
#define MSG_F_I64(k, x)         ((msg_field){.key = (k), .kind = MSG_FK_I64, .v.i = (x)})
#define MSG_F_U64(k, x)         ((msg_field){.key = (k), .kind = MSG_FK_U64, .v.u = (x)})
#define MSG_F_NIL(k)            ((msg_field){.key = (k), .kind = MSG_FK_NIL})
#define MSG_F_BIN(k, p, n)      ((msg_field){.key = (k), .kind = MSG_FK_BIN, .v.bin = {(p), (n)}})
#define MSG_F_STRS(k, p)        ((msg_field){.key = (k), .kind = MSG_FK_STRS, .v.strs = (p)})
#define MSG_F_KVS(k, p)         ((msg_field){.key = (k), .kind = MSG_FK_KVS, .v.kvs = (p)})
#define MSG_F_VALUE(k, fn, arg) ((msg_field){.key = (k), .kind = MSG_FK_VALUE, .v.call = {(fn), (arg), 0, 0}})
#define MSG_F_ARRAY(k, fn, items, n)                                                                         \
	((msg_field){.key = (k), .kind = MSG_FK_ARRAY, .v.call = {(fn), (items), (n), sizeof(*(items))}})
#define MSG_F_IF(cond, field) ((cond) ? (field) : (msg_field){.kind = MSG_FK_ABSENT})

#define MSG_NFIELDS(table) (sizeof(table) / sizeof((table)[0]))

/* Writes a map of the n fields of f, in order, leaving out MSG_FK_ABSENT
 * ones. */
void msg_enc_fields(msg_enc *e, const msg_field *f, size_t n);

/* Appends the map of f to sb as one whole message: returns 0, or -ENOMEM
 * with sb as it was (msg_enc_init, msg_enc_fields, msg_enc_done). */
int msg_enc_message(msgpack_sbuffer *sb, const msg_field *f, size_t n);

#endif
