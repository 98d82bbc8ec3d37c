/* config_addr_test.c: the addresses of kiln.json (supervisor/config/addr.c):
 * the networks of control.allow, matching a peer against them, and the
 * HOST:PORT of http and control.tcp, each checked without a parse around
 * it. config_test.c covers the same through whole files, with positions. */
#include <arpa/inet.h>
#include <string.h>

#include "config/config.h"
#include "config/config_priv.h"
#include "kerr.h"
#include "test.h"

/* Expects s to parse as a network of family and prefix whose address begins
 * with the n bytes of want. */
static void expect_net(const char *s, int family, int prefix, const uint8_t *want, size_t n)
{
	cfg_cidr net;
	const char *why = NULL;
	int rc = config_parse_cidr(s, &net, &why);

	if (rc != 0)
		fprintf(stderr, "config_addr_test.c: %s: %s\n", s, why ? why : "(no reason)");
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(net.family, family);
	CHECK_EQ_INT(net.prefix, prefix);
	CHECK(memcmp(net.addr, want, n) == 0);
}

/* Expects s to be refused with a reason holding part. */
static void expect_bad_net(const char *s, const char *part)
{
	cfg_cidr net;
	const char *why = NULL;
	int rc = config_parse_cidr(s, &net, &why);
	bool ok = rc == KILN_E_CONFIG && why && strstr(why, part);

	if (!ok)
		fprintf(stderr, "config_addr_test.c: \"%s\": want \"%s\" (rc %d), got \"%s\"\n", s, part, rc,
		        why ? why : "(none)");
	CHECK(ok);
}

static void test_parse(void)
{
	static const uint8_t lo[4] = {127, 0, 0, 1}, ten[4] = {10}, any[16] = {0};
	static const uint8_t lo6[16] = {[15] = 1}, fd[16] = {0xfd}, doc[16] = {0x20, 0x01, 0x0d, 0xb8};
	static const uint8_t half[4] = {192, 168, 1, 128}, c23[4] = {192, 168};
	static const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, [12] = 10};

	/* A lone address is a network of one. */
	expect_net("127.0.0.1", 4, 32, lo, 4);
	expect_net("::1", 6, 128, lo6, 16);
	expect_net("10.0.0.0/8", 4, 8, ten, 4);
	expect_net("fd00::/8", 6, 8, fd, 16);
	expect_net("2001:db8::/32", 6, 32, doc, 16);
	expect_net("192.168.1.128/25", 4, 25, half, 4);
	expect_net("192.168.0.0/23", 4, 23, c23, 4);
	expect_net("0.0.0.0/0", 4, 0, any, 4);
	expect_net("::/0", 6, 0, any, 16);
	/* The mapped form is an IPv6 network like any other. */
	expect_net("::ffff:10.0.0.0/104", 6, 104, mapped, 16);
	/* The prefix is read as a decimal number, leading zeros and all. */
	expect_net("10.0.0.0/008", 4, 8, ten, 4);

	expect_bad_net("", "is not an IPv4 or IPv6 address");
	expect_bad_net("/8", "is not an IPv4 or IPv6 address");
	expect_bad_net("localhost", "names are not looked up");
	expect_bad_net("10.0.0", "is not an IPv4 or IPv6 address");
	expect_bad_net("10.0.0.0 /8", "is not an IPv4 or IPv6 address");
	/* A host longer than any address is refused before inet_pton. */
	expect_bad_net("1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee",
	               "is not an IPv4 or IPv6 address");
	expect_bad_net("10.0.0.0/", "has no prefix length after '/'");
	expect_bad_net("10.0.0.0/-1", "has a prefix length that is not a number");
	expect_bad_net("10.0.0.0/8/8", "has a prefix length that is not a number");
	expect_bad_net("10.0.0.0/ 8", "has a prefix length that is not a number");
	/* Digits past any prefix length stop the reading before they overflow. */
	expect_bad_net("10.0.0.0/99999999999999999999", "has a prefix length that is not a number");
	expect_bad_net("10.0.0.0/33", "has a prefix length over 32");
	expect_bad_net("::/129", "has a prefix length over 128");
	expect_bad_net("10.0.0.1/31", "has address bits set beyond its prefix length");
	expect_bad_net("192.168.1.0/23", "has address bits set beyond its prefix length");
	expect_bad_net("fd00::1/64", "has address bits set beyond its prefix length");
	expect_bad_net("0.0.0.1/0", "has address bits set beyond its prefix length");
}

/* Expects peer (an address as text) to be inside net or not. */
static void expect_match(const char *net, const char *peer, bool in)
{
	cfg_cidr n;
	const char *why = NULL;
	uint8_t addr[16];
	int family = inet_pton(AF_INET, peer, addr) == 1 ? 4 : inet_pton(AF_INET6, peer, addr) == 1 ? 6 : 0;
	bool ok =
	    family && config_parse_cidr(net, &n, &why) == 0 && config_cidr_match(&n, family, addr) == in;

	if (!ok)
		fprintf(stderr, "config_addr_test.c: want %s %s inside %s\n", peer,
		        in ? "to be" : "not to be", net);
	CHECK(ok);
}

static void test_match(void)
{
	static const struct {
		const char *net, *peer;
		bool in;
	} cases[] = {
	    {"127.0.0.1", "127.0.0.1", true},
	    {"127.0.0.1", "127.0.0.2", false},
	    /* A prefix that ends inside a byte compares only that byte's top bits. */
	    {"192.168.1.128/25", "192.168.1.128", true},
	    {"192.168.1.128/25", "192.168.1.255", true},
	    {"192.168.1.128/25", "192.168.1.127", false},
	    {"192.168.1.128/25", "192.168.2.128", false},
	    {"192.168.0.0/23", "192.168.1.77", true},
	    {"192.168.0.0/23", "192.168.2.77", false},
	    {"f000::/4", "f000::", true},
	    {"f000::/4", "fe80::1", true},
	    {"f000::/4", "e000::", false},
	    {"fd00::/8", "fd12::7", true},
	    {"fd00::/8", "fe00::", false},
	    /* /0 holds every address of its family, and only those. */
	    {"0.0.0.0/0", "192.168.1.127", true},
	    {"::/0", "fe00::", true},
	    {"::/0", "127.0.0.1", false},
	    {"0.0.0.0/0", "fe00::", false},
	    /* A v4-mapped peer (a v4 client of a dual-stack listener) is its v4
	     * address for v4 networks, and still the v6 address it is for v6
	     * ones; the old compatible form ::a.b.c.d is not mapped. */
	    {"127.0.0.1", "::ffff:127.0.0.1", true},
	    {"0.0.0.0/0", "::ffff:127.0.0.1", true},
	    {"::ffff:0:0/96", "::ffff:127.0.0.1", true},
	    {"127.0.0.1", "::127.0.0.1", false},
	    {"127.0.0.1", "::1", false},
	    /* The mapping goes one way: a v4 peer is not inside a v6 network. */
	    {"::ffff:0:0/96", "127.0.0.1", false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_match(cases[i].net, cases[i].peer, cases[i].in);
}

/* Expects cfg_hostport_problem(s) to be NULL (part NULL) or to hold part. */
static void expect_hostport(const char *s, const char *part)
{
	const char *why = cfg_hostport_problem(s);
	bool ok = part ? why && strstr(why, part) : why == NULL;

	if (!ok)
		fprintf(stderr, "config_addr_test.c: \"%s\": want %s, got %s\n", s, part ? part : "(fine)",
		        why ? why : "(fine)");
	CHECK(ok);
}

static void test_hostport(void)
{
	/* "" is off, for http as for control.tcp. */
	expect_hostport("", NULL);
	expect_hostport("127.0.0.1:45644", NULL);
	expect_hostport("localhost:1", NULL);
	expect_hostport("my-host_1.example.com:65535", NULL);
	expect_hostport("[::1]:8080", NULL);
	expect_hostport("[fe80::1%eth0]:80", NULL);

	expect_hostport("localhost", "has no \":PORT\"");
	expect_hostport("localhost:", "has no port after ':'");
	expect_hostport("localhost:0", "not a number from 1 to 65535");
	expect_hostport("localhost:65536", "not a number from 1 to 65535");
	expect_hostport("localhost:008080", "not a number from 1 to 65535");
	expect_hostport("localhost:80a", "not a number from 1 to 65535");
	expect_hostport("localhost:-80", "not a number from 1 to 65535");
	expect_hostport(":8080", "has no host before ':'");
	expect_hostport("::1:8080", "not in brackets");
	expect_hostport("[::1:8080", "without its closing ']'");
	expect_hostport("[]:8080", "without its closing ']'");
	expect_hostport("[::1/128]:8080", "cannot appear in an IPv6 address");
	expect_hostport("a b:8080", "cannot appear in a host name");
	expect_hostport("a/b:8080", "cannot appear in a host name");
}

int main(void)
{
	test_parse();
	test_match();
	test_hostport();
	TEST_DONE();
}
