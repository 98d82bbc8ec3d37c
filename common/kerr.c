/* kerr.c: texts for kiln's error codes. */
#include <string.h>

#include "kerr.h"

const char *kiln_strerror(int rc)
{
	switch (rc) {
	case KILN_OK:
		return "success";
	case KILN_E_PROTO:
		return "protocol error";
	case KILN_E_TOOBIG:
		return "over the size limit";
	case KILN_E_EOF:
		return "end of stream";
	case KILN_E_TRUNC:
		return "end of stream inside a frame";
	case KILN_E_CONFIG:
		return "configuration error";
	case KILN_E_PATH:
		return "invalid path";
	case KILN_E_REGEX:
		return "invalid regular expression";
	case KILN_E_LIMIT:
		return "regular expression match limit reached";
	case KILN_E_DB:
		return "database error";
	case KILN_E_NOTFOUND:
		return "not found";
	case KILN_E_STATE:
		return "not possible in the current state";
	default:
		break;
	}
	if (rc < 0 && rc > KILN_E_BASE) {
		/* strerrordesc_np returns a static string and is thread-safe,
		 * unlike strerror for unknown values. */
		const char *s = strerrordesc_np(-rc);
		if (s)
			return s;
	}
	return "unknown error";
}
