/* uuid.h: name-based UUIDs (version 5, SHA-1).
 *
 * A source's UUID is the version-5 UUID of its lowercased relative path, computed
 * the way O3DE's Asset Processor does (AZ::Uuid::CreateName): SHA-1 over the
 * name bytes alone, with no namespace prefix, then the version (5) and variant
 * (RFC 4122) bits set. uuid_v5_ns() is the RFC 4122 form with a namespace. */
#ifndef KILN_UUID_H
#define KILN_UUID_H

#include <stddef.h>
#include <stdint.h>

typedef struct kuuid {
	uint8_t b[16];
} kuuid;

/* O3DE-style name UUID: SHA-1(name), version 5. */
void uuid_v5(const void *name, size_t len, kuuid *out);
/* RFC 4122 version 5: SHA-1(namespace bytes || name). */
void uuid_v5_ns(const kuuid *ns, const void *name, size_t len, kuuid *out);
/* The UUID of a source: lowercases rel (forward slashes) and calls uuid_v5. */
void uuid_for_source(const char *rel, kuuid *out);

/* 36 lowercase characters and a NUL: xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx. */
void uuid_format(const kuuid *u, char out[37]);
/* Accepts the 36-character form, with or without braces, any case. Returns
 * 0 or KILN_E_PROTO. */
int uuid_parse(const char *s, kuuid *out);

/* SHA-1, exposed for tests. */
void sha1(const void *data, size_t len, uint8_t out[20]);

#endif
