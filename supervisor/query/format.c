/* format.c: asset ids (written and read back), times and durations written
 * for people and for JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kerr.h"
#include "query/query.h"
#include "query/query_priv.h"
#include "uuid.h"

int query_asset_id(const char *uuid, int64_t sub_id, char *out, size_t outsz)
{
	char u[37];
	size_t i;
	uint64_t v;
	int n;

	for (i = 0; i < 36 && uuid[i]; i++) {
		char c = uuid[i];
		u[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	u[i] = '\0';
	/* Builders send sub ids as unsigned 32-bit numbers; one that went
	 * through a signed 32-bit integer on the way must still print as the
	 * same id. */
	if (sub_id >= INT32_MIN && sub_id <= (int64_t)UINT32_MAX)
		v = (uint32_t)sub_id;
	else
		v = (uint64_t)sub_id;
	n = snprintf(out, outsz, "{%s}:%" PRIx64, u, v);
	if (n < 0 || (size_t)n >= outsz)
		return KILN_E_TOOBIG;
	return 0;
}

void query_iso_time(int64_t ms, char out[32])
{
	/* Floor division, so that times before 1970 still print correctly. */
	int64_t secs = ms / 1000, frac = ms % 1000;
	if (frac < 0) {
		frac += 1000;
		secs -= 1;
	}
	time_t t = (time_t)secs;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(out, 32, "%" PRId64, ms);
		return;
	}
	char date[24];
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%.20s.%03dZ", date, (int)frac);
}

void q_fmt_duration(int64_t ms, char *out, size_t outsz)
{
	if (ms < 1000)
		snprintf(out, outsz, "%" PRId64 " ms", ms);
	else if (ms < 60000)
		snprintf(out, outsz, "%.1f s", (double)ms / 1000.0);
	else
		snprintf(out, outsz, "%" PRId64 " min %02" PRId64 " s", ms / 60000, (ms / 1000) % 60);
}

int q_parse_asset_id(const char *s, char uuid[37], uint64_t *sub)
{
	const char *colon = strrchr(s, ':');
	char head[40];
	kuuid u;
	char *end = NULL;
	size_t n;

	if (!colon)
		return KILN_E_PROTO;
	n = (size_t)(colon - s);
	if (n >= sizeof head)
		return KILN_E_PROTO;
	memcpy(head, s, n);
	head[n] = '\0';
	if (uuid_parse(head, &u) != 0)
		return KILN_E_PROTO;
	if (!colon[1] || colon[1] == '-' || colon[1] == '+')
		return KILN_E_PROTO;
	errno = 0;
	*sub = strtoull(colon + 1, &end, 16);
	if (errno != 0 || *end != '\0')
		return KILN_E_PROTO;
	uuid_format(&u, uuid);
	return 0;
}
