/* addr.c: the addresses of kiln.json (SPEC sections 2 and 8): HOST:PORT
 * for http and control.tcp, and the addresses and CIDR networks of
 * control.allow with the match the control API does against them.
 *
 * Nothing here looks a name up or touches the parse: these read and compare
 * text and bytes only, so the control API can match a peer without a
 * config at hand. */
#include "config/config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "config/config_priv.h"

/* A host name's characters: letters, digits, '_' and '-'. */
static bool is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
}

/* ---- HOST:PORT ---- */

/* "" or HOST:PORT, where HOST is a name, an IPv4 address or a bracketed IPv6
 * address and PORT is 1..65535. Returns NULL or why not. */
const char *cfg_hostport_problem(const char *s)
{
	const char *colon = strrchr(s, ':');
	const char *h, *he;
	long port = 0;

	if (*s == '\0')
		return NULL;
	if (!colon)
		return "has no \":PORT\"";
	if (colon[1] == '\0')
		return "has no port after ':'";
	for (const char *p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9' || p - colon > 5)
			return "has a port that is not a number from 1 to 65535";
		port = port * 10 + (*p - '0');
	}
	if (port < 1 || port > 65535)
		return "has a port that is not a number from 1 to 65535";
	h = s;
	he = colon;
	if (h == he)
		return "has no host before ':' (use 127.0.0.1 for this machine only)";
	if (*h == '[') {
		if (he[-1] != ']' || he - h < 3)
			return "has an IPv6 host without its closing ']'";
		for (const char *p = h + 1; p < he - 1; p++)
			if (!(is_host_char(*p) || *p == ':' || *p == '.' || *p == '%'))
				return "has a character that cannot appear in an IPv6 address";
		return NULL;
	}
	for (const char *p = h; p < he; p++) {
		if (*p == ':')
			return "has an IPv6 host that is not in brackets ([::1]:PORT)";
		if (!(is_host_char(*p) || *p == '.'))
			return "has a character that cannot appear in a host name";
	}
	return NULL;
}

/* ---- control.allow ---- */

int config_parse_cidr(const char *s, cfg_cidr *out, const char **why)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	long prefix = -1;

	memset(out, 0, sizeof *out);
	if (hlen == 0 || hlen >= sizeof host) {
		*why = "is not an IPv4 or IPv6 address";
		return KILN_E_CONFIG;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = 4;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = 6;
	} else {
		*why = "is not an IPv4 or IPv6 address (names are not looked up)";
		return KILN_E_CONFIG;
	}
	int max = out->family == 4 ? 32 : 128;
	if (slash) {
		const char *p = slash + 1;
		if (*p == '\0') {
			*why = "has no prefix length after '/'";
			return KILN_E_CONFIG;
		}
		prefix = 0;
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || prefix > 128) {
				*why = "has a prefix length that is not a number";
				return KILN_E_CONFIG;
			}
			prefix = prefix * 10 + (*p - '0');
		}
		if (prefix > max) {
			*why =
			    out->family == 4 ? "has a prefix length over 32" : "has a prefix length over 128";
			return KILN_E_CONFIG;
		}
	}
	out->prefix = prefix < 0 ? max : (int)prefix;
	/* 10.1.0.0/8 most likely means 10.0.0.0/8, but it may be a typo for
	 * /16: say so rather than guess. */
	for (int bit = out->prefix; bit < max; bit++) {
		if (out->addr[bit / 8] & (0x80u >> (bit % 8))) {
			*why = "has address bits set beyond its prefix length";
			return KILN_E_CONFIG;
		}
	}
	return 0;
}

bool config_cidr_match(const cfg_cidr *net, int family, const uint8_t *addr)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (family == 6 && net->family == 4 && memcmp(addr, mapped, sizeof mapped) == 0) {
		family = 4;
		addr += 12;
	}
	if (family != net->family)
		return false;
	int full = net->prefix / 8, rest = net->prefix % 8;
	if (memcmp(addr, net->addr, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (addr[full] & mask) == (net->addr[full] & mask);
}
