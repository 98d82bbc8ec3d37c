/* mpscan.h: a walk over the bytes of one MessagePack object that checks its
 * shape without allocating anything.
 *
 * msgpack-c allocates a container's elements as soon as it reads the count,
 * so a ten-byte frame can ask it for gigabytes. Walking the bytes first
 * refuses every count that the remaining bytes cannot hold (each element
 * takes at least one byte), nesting deeper than MPSCAN_DEPTH_MAX levels, the
 * never-used byte 0xc1, more than MPSCAN_OBJECTS_MAX objects in all,
 * truncation and trailing bytes. What it accepts is
 * exactly what msgpack_unpack_next parses. */
#ifndef KILN_MPSCAN_H
#define KILN_MPSCAN_H

#include <stddef.h>
#include <stdint.h>

/* msgpack-c refuses more than 32 levels; our messages need 4. */
#define MPSCAN_DEPTH_MAX 16
/* msgpack-c spends about 24 bytes on every object it decodes, a one-byte nil
 * included: 16 MiB of nils took a process to 400 MiB. A message may hold at
 * most this many objects (about 100 MiB decoded), which leaves room for a
 * reply of the most products a job may make (100,000, about 17 objects
 * each). */
#define MPSCAN_OBJECTS_MAX ((uint64_t)4 << 20)

/* Checks that buf holds exactly one MessagePack object within the limits
 * above. Returns 0, or KILN_E_PROTO with a reason written into err (which
 * may be NULL). buf stays the caller's. */
int mpscan_check(const uint8_t *buf, size_t len, char *err, size_t errsz);

#endif
