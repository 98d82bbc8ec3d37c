/* mpwrite.h: the encoding helpers that only common/'s own codecs use (msg.c
 * for the builder protocol, hostproto.c for the host messages).
 *
 * msg_enc and its writers are declared in msg.h, because msg.h is installed
 * as the C SDK's header and has to stand alone (the SDK writes with them
 * too); mpwrite.c defines both sets. Everything is appended to an sbuffer
 * that the caller initialised and owns. */
#ifndef KILN_MPWRITE_H
#define KILN_MPWRITE_H

#include "msg.h"

#endif
