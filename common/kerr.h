/* kerr.h: the one error convention of kiln.
 *
 * 0 is success; a negative value is either -errno or one of the project codes
 * below. Results come back through out-parameters marked OUT. */
#ifndef KILN_KERR_H
#define KILN_KERR_H

enum {
	KILN_OK = 0,
	KILN_E_BASE = -10000,
	KILN_E_PROTO,    /* peer bytes that break the protocol (bad frame, wrong type, missing field) */
	KILN_E_TOOBIG,   /* a frame or input over its size limit */
	KILN_E_EOF,      /* clean end of stream before any byte of a frame */
	KILN_E_TRUNC,    /* end of stream in the middle of a frame */
	KILN_E_CONFIG,   /* kiln.json is wrong; the error text names file, line and column */
	KILN_E_PATH,     /* a path that is absolute, empty, holds NUL or leaves its root */
	KILN_E_REGEX,    /* a pattern that does not compile */
	KILN_E_LIMIT,    /* a regex match hit its match or depth limit */
	KILN_E_DB,       /* SQLite said no; the text says why */
	KILN_E_NOTFOUND, /* the asked-for row, file or builder does not exist */
	KILN_E_STATE,    /* the call does not fit the current state */
};

/* Returns a static string describing rc (either a project code or -errno). */
const char *kiln_strerror(int rc);

#endif
