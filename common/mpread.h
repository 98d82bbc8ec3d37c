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

#endif
