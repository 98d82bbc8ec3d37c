/* control_access_test.c: the control's access control (supervisor/control/
 * access.c) on its own, without sockets: copying the TCP settings from the
 * config (and nothing when TCP is off), the allow list against IPv4, IPv6,
 * IPv4-mapped and ipc peers, the token check of a TCP request (missing, of
 * the wrong type, a prefix, too long, right, and no token configured), the
 * ring of refused connections keeping the newest 64, and the connections
 * list that shows them. control_test.c covers the same rules through real
 * sockets. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>

#include "config/config.h"
#include "control/control_priv.h"
#include "kclient.h"
#include "test.h"

static char *allow[] = {"10.0.0.0/8", "::1", NULL};
static cfg_cidr nets[2];

/* A config with TCP on (tcp non-NULL) and the allow list above. */
static kiln_config make_cfg(const char *tcp, const char *token)
{
	kiln_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.cache = "/nonexistent";
	cfg.control.tcp = (char *)tcp;
	cfg.control.token = (char *)token;
	cfg.control.allow = allow;
	cfg.control.allow_nets = nets;
	cfg.control.n_allow = 2;
	return cfg;
}

/* A control with only what access.c uses: its mutex and the copied
 * settings. NULL (reported) when ctl_access_init fails. */
static control *access_open(const kiln_config *cfg)
{
	char err[256] = "";
	control *c = calloc(1, sizeof *c);
	CHECK(c != NULL);
	if (!c)
		return NULL;
	c->cfg = cfg;
	CHECK_EQ_INT(pthread_mutex_init(&c->mu, NULL), 0);
	int rc = ctl_access_init(c, cfg, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "ctl_access_init: %s\n", err);
	CHECK_EQ_INT(rc, 0);
	return c;
}

static void access_close(control *c)
{
	if (!c)
		return;
	ctl_access_free(c);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static nng_sockaddr inet4(const char *a)
{
	nng_sockaddr sa;
	memset(&sa, 0, sizeof sa);
	sa.s_in.sa_family = NNG_AF_INET;
	CHECK_EQ_INT(inet_pton(AF_INET, a, &sa.s_in.sa_addr), 1);
	sa.s_in.sa_port = htons(5678);
	return sa;
}

static nng_sockaddr inet6(const char *a)
{
	nng_sockaddr sa;
	memset(&sa, 0, sizeof sa);
	sa.s_in6.sa_family = NNG_AF_INET6;
	CHECK_EQ_INT(inet_pton(AF_INET6, a, sa.s_in6.sa_addr), 1);
	return sa;
}

static void test_init(void)
{
	char tcp[] = "127.0.0.1:4000", token[] = "s3cret";
	kiln_config cfg = make_cfg(NULL, NULL);
	control *c;

	/* TCP off, by NULL or by "": nothing is copied. */
	c = access_open(&cfg);
	if (c) {
		CHECK(!c->tcp_on);
		CHECK(c->tcp == NULL && c->token == NULL && c->nets == NULL);
		CHECK_EQ_INT(c->n_nets, 0);
		/* Without an allow list no TCP peer gets in. */
		nng_sockaddr lo = inet4("10.1.2.3");
		CHECK(!ctl_addr_allowed(c, &lo));
	}
	access_close(c);
	cfg = make_cfg("", "s3cret");
	c = access_open(&cfg);
	CHECK(c && !c->tcp_on && c->tcp == NULL);
	access_close(c);

	/* TCP on: copies that outlive the config's strings. */
	cfg = make_cfg(tcp, token);
	c = access_open(&cfg);
	if (c) {
		CHECK(c->tcp_on);
		CHECK(c->tcp != tcp && c->token != token);
		memset(tcp, 'x', sizeof tcp - 1);
		memset(token, 'x', sizeof token - 1);
		CHECK_EQ_STR(c->tcp, "127.0.0.1:4000");
		CHECK_EQ_STR(c->token, "s3cret");
		CHECK_EQ_INT(c->n_nets, 2);
		CHECK(c->nets != nets && memcmp(c->nets, nets, sizeof nets) == 0);
	}
	access_close(c);

	/* An empty allow list still gets an array, and lets nobody in. */
	cfg = make_cfg("127.0.0.1:4000", NULL);
	cfg.control.n_allow = 0;
	c = access_open(&cfg);
	if (c) {
		CHECK(c->nets != NULL);
		CHECK(c->token == NULL);
		nng_sockaddr lo = inet4("127.0.0.1");
		CHECK(!ctl_addr_allowed(c, &lo));
	}
	access_close(c);
}

static void test_allowed(void)
{
	kiln_config cfg = make_cfg("127.0.0.1:4000", "s3cret");
	control *c = access_open(&cfg);
	nng_sockaddr sa;

	if (!c)
		return;
	sa = inet4("10.0.0.1");
	CHECK(ctl_addr_allowed(c, &sa));
	sa = inet4("10.255.255.255");
	CHECK(ctl_addr_allowed(c, &sa));
	sa = inet4("11.0.0.1");
	CHECK(!ctl_addr_allowed(c, &sa));
	sa = inet4("127.0.0.1");
	CHECK(!ctl_addr_allowed(c, &sa));
	sa = inet6("::1");
	CHECK(ctl_addr_allowed(c, &sa));
	sa = inet6("::2");
	CHECK(!ctl_addr_allowed(c, &sa));
	/* A dual-stack listener sees IPv4 peers as IPv4-mapped IPv6
	 * addresses: they count as their IPv4 address. */
	sa = inet6("::ffff:10.0.0.1");
	CHECK(ctl_addr_allowed(c, &sa));
	sa = inet6("::ffff:11.0.0.1");
	CHECK(!ctl_addr_allowed(c, &sa));
	/* Not TCP at all: never in the list (the callback lets ipc through
	 * before asking). */
	memset(&sa, 0, sizeof sa);
	sa.s_family = NNG_AF_IPC;
	CHECK(!ctl_addr_allowed(c, &sa));
	access_close(c);
}

/* The refusal of a request whose map is the JSON text, from "1.2.3.4:5". */
static const char *refusal(control *c, const char *text)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const char *why = "unpacked nothing";
	json_t *j = json_loads(text, 0, NULL);

	CHECK(j != NULL);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_unpacked_init(&u);
	CHECK_EQ_INT(kclient_pack_json(&pk, j), 0);
	if (msgpack_unpack_next(&u, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS)
		why = ctl_token_refusal(c, &u.data, "1.2.3.4:5");
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	json_decref(j);
	return why;
}

/* The newest entry of the refused ring. */
static const refused *last_refused(control *c)
{
	return c->n_refused ? &c->refused[(c->n_refused - 1) % REFUSED_KEEP] : NULL;
}

static void test_token(void)
{
	kiln_config cfg = make_cfg("127.0.0.1:4000", "s3cret");
	control *c = access_open(&cfg);
	const char *why;

	if (!c)
		return;
	why = refusal(c, "{\"type\": \"status\"}");
	CHECK(why && strstr(why, "must carry the project's \"token\""));
	CHECK_EQ_INT(c->n_refused, 1);
	CHECK_EQ_STR(last_refused(c)->reason, "no token");
	CHECK_EQ_STR(last_refused(c)->address, "1.2.3.4:5");
	const char *wrong[] = {"{\"token\": \"s3cre\"}",  "{\"token\": \"s3cret!\"}",
	                       "{\"token\": \"S3CRET\"}", "{\"token\": \"\"}",
	                       "{\"token\": 5}",          "{\"token\": null}"};
	for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
		why = refusal(c, wrong[i]);
		if (!why || strcmp(why, "wrong token") != 0)
			fprintf(stderr, "%s: refused with %s\n", wrong[i], why ? why : "nothing");
		CHECK(why && strcmp(why, "wrong token") == 0);
		CHECK_EQ_STR(last_refused(c)->reason, "wrong token");
	}
	CHECK_EQ_INT(c->n_refused, 1 + sizeof wrong / sizeof wrong[0]);
	/* The right token passes and is not noted. */
	uint64_t n = c->n_refused;
	CHECK(refusal(c, "{\"type\": \"status\", \"token\": \"s3cret\"}") == NULL);
	CHECK_EQ_INT(c->n_refused, n);
	access_close(c);

	/* No token configured: nothing passes over TCP. */
	cfg = make_cfg("127.0.0.1:4000", NULL);
	c = access_open(&cfg);
	if (!c)
		return;
	why = refusal(c, "{\"token\": \"\"}");
	CHECK(why && strcmp(why, "wrong token") == 0);
	access_close(c);
}

static void test_refused_ring(void)
{
	kiln_config cfg = make_cfg("127.0.0.1:4000", "s3cret");
	control *c = access_open(&cfg);
	char a[32], long_addr[200];

	if (!c)
		return;
	for (int i = 0; i < REFUSED_KEEP + 6; i++) {
		snprintf(a, sizeof a, "10.0.0.%d:1", i);
		ctl_note_refused(c, a, "address not allowed");
	}
	/* Over-long texts are cut to fit. */
	memset(long_addr, 'a', sizeof long_addr - 1);
	long_addr[sizeof long_addr - 1] = '\0';
	ctl_note_refused(c, long_addr, long_addr);
	CHECK_EQ_INT(strlen(last_refused(c)->address), ADDR_MAX - 1);
	CHECK_EQ_INT(strlen(last_refused(c)->reason), sizeof last_refused(c)->reason - 1);
	CHECK(last_refused(c)->time_ms > 0);

	json_t *r = ctl_connections_json(c), *list = json_object_get(r, "refused");
	CHECK(json_is_true(json_object_get(r, "ok")));
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "refused_total")), REFUSED_KEEP + 7);
	/* The newest REFUSED_KEEP, oldest first. */
	CHECK_EQ_INT(json_array_size(list), REFUSED_KEEP);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "address")), "10.0.0.7:1");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, REFUSED_KEEP - 2), "address")),
	             "10.0.0.69:1");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "reason")),
	             "address not allowed");
	CHECK(json_is_string(json_object_get(json_array_get(list, 0), "time")));
	json_decref(r);
	access_close(c);
}

static json_t *no_hosts(void *ud)
{
	(void)ud;
	return json_string("not an array");
}

static void test_connections(void)
{
	kiln_config cfg = make_cfg("127.0.0.1:4000", "s3cret");
	control *c = access_open(&cfg);
	json_t *r;

	if (!c)
		return;
	snprintf(c->sock_path, sizeof c->sock_path, "/p/Cache/kiln.sock");
	snprintf(c->events_path, sizeof c->events_path, "/p/Cache/kiln.events");
	c->requests_total = 12;
	c->errors_total = 3;
	c->untracked = 1;
	c->restarts = 2;
	r = ctl_connections_json(c);
	CHECK(json_is_true(json_object_get(r, "ok")));
	CHECK_EQ_STR(json_string_value(json_object_get(r, "tcp")), "127.0.0.1:4000");
	CHECK_EQ_INT(json_array_size(json_object_get(r, "allowed")), 2);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(r, "allowed"), 1)), "::1");
	CHECK_EQ_STR(json_string_value(json_object_get(r, "control")), "/p/Cache/kiln.sock");
	CHECK_EQ_STR(json_string_value(json_object_get(r, "events")), "/p/Cache/kiln.events");
	CHECK_EQ_INT(json_array_size(json_object_get(r, "clients")), 0);
	CHECK_EQ_INT(json_array_size(json_object_get(r, "refused")), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "refused_total")), 0);
	CHECK(json_is_array(json_object_get(r, "hosts")));
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "subscribers")), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "listener_restarts")), 2);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "requests")), 12);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "errors")), 3);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "untracked_requests")), 1);
	json_decref(r);
	/* Hosts that are not a list become an empty one. */
	c->ops.hosts = no_hosts;
	r = ctl_connections_json(c);
	CHECK(json_is_array(json_object_get(r, "hosts")));
	CHECK_EQ_INT(json_array_size(json_object_get(r, "hosts")), 0);
	json_decref(r);
	access_close(c);

	/* TCP off: no address and no allow list shown. */
	cfg = make_cfg(NULL, NULL);
	c = access_open(&cfg);
	if (!c)
		return;
	r = ctl_connections_json(c);
	CHECK(json_is_null(json_object_get(r, "tcp")));
	CHECK_EQ_INT(json_array_size(json_object_get(r, "allowed")), 0);
	json_decref(r);
	access_close(c);
}

int main(void)
{
	const char *why = NULL;
	CHECK_EQ_INT(config_parse_cidr(allow[0], &nets[0], &why), 0);
	CHECK_EQ_INT(config_parse_cidr(allow[1], &nets[1], &why), 0);
	test_init();
	test_allowed();
	test_token();
	test_refused_ring();
	test_connections();
	TEST_DONE();
}
