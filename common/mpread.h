/* mpread.h: the decoding helpers that only common/'s own codecs use
 * (msg.c for the builder protocol, hostproto.c for the host messages).
 *
 * The helpers that the supervisor and builders call too (msg_unpack_map,
 * msg_dec and its getters) are declared in msg.h, because msg.h is installed
 * as the C SDK's header and has to stand alone; mpread.c defines both sets.
 * The rules are msg.h's: a getter looks key up in a map that was already
 * checked, honours MSG_DEC_OPTIONAL and MSG_DEC_TEXT, copies what it decodes
 * into d->a (the caller's arena), leaves the msgpack objects the caller's,
 * and returns 0, KILN_E_PROTO with d->err naming the field's path, or
 * -ENOMEM. */
#ifndef KILN_MPREAD_H
#define KILN_MPREAD_H

#include "msg.h"

/* Looks key up in map. Returns 1 with *o (OUT) set when the key is present
 * and not nil, 0 when it is absent (or nil) and MSG_DEC_OPTIONAL is given,
 * or KILN_E_PROTO ("missing", "missing (nil)") otherwise. */
int msg_dec_lookup(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags,
                   const msgpack_object **o);

/* Decodes one value o (a map for msg_dec_maps, msg_dec_sub and
 * msg_dec_frame; any object for msg_dec_each) into out, with d's path set
 * to the value's. */
typedef int (*msg_dec_fn)(msg_dec *d, const msgpack_object *o, void *out);

/* Decodes the array under key one element at a time: fn gets element i
 * with the path key[i] and out pointing at slot i of an arena array of
 * elsz-byte slots (zeroed). On success *out (OUT) is that array and *n
 * (OUT) its length; when the key is optional and absent, or on error,
 * neither is touched. msg_dec_maps first checks that each element is a map
 * whose keys are strings. */
int msg_dec_each(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, size_t elsz,
                 msg_dec_fn fn, void **out, size_t *n);
int msg_dec_maps(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, size_t elsz,
                 msg_dec_fn fn, void **out, size_t *n);

/* Decodes the map under key with fn, the path set to key. Optional and
 * absent leaves out untouched. */
int msg_dec_sub(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, msg_dec_fn fn,
                void *out);

/* Decodes one frame: unpacks buf (msg_unpack_map) and hands its map to fn
 * with an empty path, decoded memory coming from arena a. msgpack-c's zone
 * is gone when this returns, so fn must copy what it keeps (the getters
 * do). Returns what msg_unpack_map or fn returned; err is cleared first. */
int msg_dec_frame(const uint8_t *buf, size_t len, arena *a, msg_dec_fn fn, void *out, char *err,
                  size_t errsz);

#endif
