/* util.c: the dashboard's checks on what a browser or a script sends:
 * query strings, Host and Origin, the session token, numbers, and the
 * shape of the supervisor's log lines. Everything here is pure, so the unit
 * test can throw hostile input at it directly. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dash/dash_priv.h"
#include "hex.h"
#include "kerr.h"
#include "utf8.h"

int64_t dash_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Decodes src[0..n) into out (outsz bytes with the NUL). plus: '+' is a
 * space (query strings), not in paths. */
static int decode(const char *src, size_t n, bool plus, char *out, size_t outsz, const char **why)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == '%') {
			if (i + 2 >= n) {
				*why = "a '%' escape is cut short";
				return -EINVAL;
			}
			int a = hex_value(src[i + 1]), b = hex_value(src[i + 2]);
			if (a < 0 || b < 0) {
				*why = "a '%' escape is not two hex digits";
				return -EINVAL;
			}
			c = (unsigned char)(a * 16 + b);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c == 0) {
			*why = "a value holds a NUL byte";
			return -EINVAL;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*why = "a value holds a control character";
			return -EINVAL;
		}
		if (o + 1 >= outsz)
			return KILN_E_TOOBIG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (!utf8_valid(out, o)) {
		*why = "a value is not UTF-8";
		return -EINVAL;
	}
	return 0;
}

int dash_query_get(const char *query, const char *key, char *out, size_t outsz, const char **why)
{
	static const char *dummy;
	size_t klen = strlen(key);
	int found = 1;
	if (!why)
		why = &dummy;
	*why = NULL;
	if (!query)
		return 1;
	for (const char *p = query; *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t nlen = eq ? (size_t)(eq - p) : len;
		if (nlen == klen && memcmp(p, key, klen) == 0) {
			const char *v = eq ? eq + 1 : p + len;
			size_t vlen = eq ? len - nlen - 1 : 0;
			int rc = decode(v, vlen, true, out, outsz, why);
			if (rc != 0) {
				if (rc == KILN_E_TOOBIG)
					*why = "a value is too long";
				return rc;
			}
			found = 0;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return found;
}

int dash_unescape(char *s, const char **why)
{
	size_t n = strlen(s);
	char *buf = malloc(n + 1);
	if (!buf)
		return -ENOMEM;
	int rc = decode(s, n, false, buf, n + 1, why);
	if (rc == 0)
		memcpy(s, buf, strlen(buf) + 1);
	free(buf);
	return rc == KILN_E_TOOBIG ? -EINVAL : rc;
}

bool dash_host_ok(const char *host, int port)
{
	char name[300];
	const char *colon;
	if (!host || !*host)
		return false;
	size_t n = strlen(host);
	if (n >= sizeof name)
		return false;
	if (host[0] == '[') {
		const char *close = strchr(host, ']');
		if (!close || close[1] != ':')
			return false;
		colon = close + 1;
	} else {
		colon = strrchr(host, ':');
		if (!colon)
			return false;
	}
	/* The port must be ours: browsers always send it for a port that is
	 * not 80. */
	int64_t p;
	if (dash_parse_count(colon + 1, 65535, &p) != 0 || p != port)
		return false;
	size_t hl = (size_t)(colon - host);
	memcpy(name, host, hl);
	name[hl] = '\0';
	if (strcasecmp(name, "localhost") == 0)
		return true;
	unsigned char addr[16];
	if (name[0] == '[') {
		if (hl < 3)
			return false;
		name[hl - 1] = '\0';
		return inet_pton(AF_INET6, name + 1, addr) == 1;
	}
	return inet_pton(AF_INET, name, addr) == 1;
}

bool dash_origin_ok(const char *origin, int port)
{
	if (!origin)
		return true;
	if (strncmp(origin, "http://", 7) != 0)
		return false;
	const char *h = origin + 7;
	/* No path may follow; browsers send none. */
	if (strchr(h, '/'))
		return false;
	return dash_host_ok(h, port);
}

bool dash_token_ok(const char *expected, const char *got)
{
	if (!expected || !got)
		return false;
	size_t n = strlen(expected), m = strlen(got);
	unsigned char diff = (unsigned char)(n != m);
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(expected[i] ^ (i < m ? got[i] : 0));
	return diff == 0 && n > 0;
}

int dash_parse_count(const char *s, int64_t max, int64_t *out)
{
	int64_t v = 0;
	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		/* Checked before it is computed, so it cannot overflow. */
		if (v > (max - (*p - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 0;
}

int dash_log_level(const char *line, size_t len)
{
	static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
	/* "2026-11-21T19:43:58.123Z LEVEL [who] message" */
	if (len < 26 || line[4] != '-' || line[10] != 'T' || line[23] != 'Z' || line[24] != ' ')
		return -1;
	for (int i = 0; i < 4; i++) {
		size_t l = strlen(names[i]);
		if (len > 25 + l && memcmp(line + 25, names[i], l) == 0 && line[25 + l] == ' ')
			return i;
	}
	return -1;
}
