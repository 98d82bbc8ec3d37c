/* dash_test.c: the dashboard's checks on untrusted requests, directly
 * (query strings, Host, Origin, the token, numbers, log lines) and through
 * its real HTTP server on a free port: hostile query strings, bad paging
 * arguments, foreign hosts and origins, missing or wrong tokens, wrong
 * methods, over-long targets; each must be a clean 4xx. No supervisor runs,
 * so actions that pass every check end in 503, and listings come from a
 * small database made here. Also: a port in use is an error that says so,
 * and closing answers a long poll that waits. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "dash/dash.h"
#include "dash/dash_priv.h"
#include "db/db.h"
#include "kerr.h"
#include "test.h"

static char tmpdir[256];
static int port;
static char resp[1 << 20];

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof a;
	bind(s, (struct sockaddr *)&a, sizeof a);
	getsockname(s, (struct sockaddr *)&a, &l);
	close(s);
	return ntohs(a.sin_port);
}

/* Sends raw (a whole HTTP request) and returns the status code of the
 * answer (0 when the server closed without one); the answer is in resp. */
static int http_raw(const char *raw, size_t len)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	size_t got = 0;
	resp[0] = '\0';
	if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
		close(s);
		return -1;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = send(s, raw + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	for (;;) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		if (poll(&p, 1, 30000) <= 0)
			break;
		ssize_t n = recv(s, resp + got, sizeof resp - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		resp[got] = '\0';
		/* The body is complete when Content-Length bytes follow the
		 * headers (keep-alive connections do not close). */
		char *hdr_end = strstr(resp, "\r\n\r\n");
		char *cl = strcasestr(resp, "Content-Length:");
		if (hdr_end && cl && cl < hdr_end) {
			size_t want = (size_t)atol(cl + 15);
			if (got >= (size_t)(hdr_end + 4 - resp) + want)
				break;
		}
	}
	close(s);
	int code = 0;
	if (sscanf(resp, "HTTP/1.%*d %d", &code) != 1)
		code = 0;
	return code;
}

/* A request with the right Host unless host is given. */
static int req(const char *method, const char *target, const char *host, const char *extra, const char *body)
{
	char *raw = NULL;
	char hb[64];
	if (!host) {
		snprintf(hb, sizeof hb, "127.0.0.1:%d", port);
		host = hb;
	}
	int n = asprintf(&raw,
	                 "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n%s",
	                 method, target, host, extra ? extra : "", body ? strlen(body) : 0, body ? body : "");
	if (n < 0)
		return -1;
	int code = http_raw(raw, (size_t)n);
	free(raw);
	return code;
}

static const char *body_of(void)
{
	const char *b = strstr(resp, "\r\n\r\n");
	return b ? b + 4 : "";
}

static void test_query_strings(void)
{
	char out[64];
	const char *why = NULL;
	CHECK_EQ_INT(dash_query_get("a=1&filter=x%2Fy+z&b=2", "filter", out, sizeof out, &why), 0);
	CHECK_EQ_STR(out, "x/y z");
	CHECK_EQ_INT(dash_query_get("a=1&b=2", "filter", out, sizeof out, &why), 1);
	CHECK_EQ_INT(dash_query_get("", "a", out, sizeof out, &why), 1);
	CHECK_EQ_INT(dash_query_get("a", "a", out, sizeof out, &why), 0);
	CHECK_EQ_STR(out, "");
	CHECK_EQ_INT(dash_query_get("a=1&a=2", "a", out, sizeof out, &why), 0);
	CHECK_EQ_STR(out, "2");
	CHECK_EQ_INT(dash_query_get("ab=1", "a", out, sizeof out, &why), 1);
	/* NUL, control characters, broken escapes, bad UTF-8, too long. */
	CHECK_EQ_INT(dash_query_get("a=x%00y", "a", out, sizeof out, &why), -EINVAL);
	CHECK(why && strstr(why, "NUL"));
	CHECK_EQ_INT(dash_query_get("a=x%0ay", "a", out, sizeof out, &why), -EINVAL);
	CHECK_EQ_INT(dash_query_get("a=%", "a", out, sizeof out, &why), -EINVAL);
	CHECK_EQ_INT(dash_query_get("a=%4", "a", out, sizeof out, &why), -EINVAL);
	CHECK_EQ_INT(dash_query_get("a=%zz", "a", out, sizeof out, &why), -EINVAL);
	CHECK_EQ_INT(dash_query_get("a=%ff%fe", "a", out, sizeof out, &why), -EINVAL);
	CHECK(why && strstr(why, "UTF-8"));
	CHECK_EQ_INT(dash_query_get("a=%c3%a9", "a", out, sizeof out, &why), 0);
	CHECK_EQ_STR(out, "\xc3\xa9");
	char big[200];
	memset(big, 'x', sizeof big - 1);
	big[0] = 'a';
	big[1] = '=';
	big[sizeof big - 1] = '\0';
	CHECK_EQ_INT(dash_query_get(big, "a", out, sizeof out, &why), KILN_E_TOOBIG);
	/* Tabs are allowed (a regex may hold one). */
	CHECK_EQ_INT(dash_query_get("a=%09", "a", out, sizeof out, &why), 0);

	char path[32] = "a%2Fb";
	CHECK_EQ_INT(dash_unescape(path, &why), 0);
	CHECK_EQ_STR(path, "a/b");
	snprintf(path, sizeof path, "x%%00");
	CHECK_EQ_INT(dash_unescape(path, &why), -EINVAL);
}

static void test_host_origin_token(void)
{
	CHECK(dash_host_ok("127.0.0.1:45644", 45644));
	CHECK(dash_host_ok("localhost:45644", 45644));
	CHECK(dash_host_ok("LOCALHOST:45644", 45644));
	CHECK(dash_host_ok("[::1]:45644", 45644));
	CHECK(dash_host_ok("10.1.2.3:45644", 45644));
	CHECK(!dash_host_ok("127.0.0.1:45645", 45644));
	CHECK(!dash_host_ok("127.0.0.1", 45644));
	CHECK(!dash_host_ok("evil.example:45644", 45644));
	CHECK(!dash_host_ok("localhost.evil.example:45644", 45644));
	CHECK(!dash_host_ok("127.0.0.1:45644x", 45644));
	CHECK(!dash_host_ok("[::1:45644", 45644));
	CHECK(!dash_host_ok("", 45644));
	CHECK(!dash_host_ok(NULL, 45644));
	CHECK(dash_origin_ok(NULL, 45644));
	CHECK(dash_origin_ok("http://127.0.0.1:45644", 45644));
	CHECK(dash_origin_ok("http://localhost:45644", 45644));
	CHECK(!dash_origin_ok("http://evil.example:45644", 45644));
	CHECK(!dash_origin_ok("https://127.0.0.1:45644", 45644));
	CHECK(!dash_origin_ok("null", 45644));
	CHECK(!dash_origin_ok("http://127.0.0.1:45644/x", 45644));
	CHECK(dash_token_ok("abc123", "abc123"));
	CHECK(!dash_token_ok("abc123", "abc124"));
	CHECK(!dash_token_ok("abc123", "abc12"));
	CHECK(!dash_token_ok("abc123", "abc1234"));
	CHECK(!dash_token_ok("abc123", ""));
	CHECK(!dash_token_ok("abc123", NULL));
	CHECK(!dash_token_ok("", ""));

	int64_t n = -1;
	CHECK_EQ_INT(dash_parse_count("200", 10000, &n), 0);
	CHECK_EQ_INT((int)n, 200);
	CHECK_EQ_INT(dash_parse_count("10001", 10000, &n), -EINVAL);
	CHECK_EQ_INT(dash_parse_count("-1", 10000, &n), -EINVAL);
	CHECK_EQ_INT(dash_parse_count(" 1", 10000, &n), -EINVAL);
	CHECK_EQ_INT(dash_parse_count("", 10000, &n), -EINVAL);
	CHECK_EQ_INT(dash_parse_count("99999999999999999999999", INT64_MAX / 2, &n), -EINVAL);

	const char l1[] = "2026-11-21T19:43:58.123Z WARN [kiln] host 1: gone";
	const char l2[] = "2026-11-21T19:43:58.123Z DEBUG [host-0] x";
	CHECK_EQ_INT(dash_log_level(l1, strlen(l1)), 2);
	CHECK_EQ_INT(dash_log_level(l2, strlen(l2)), 0);
	CHECK_EQ_INT(dash_log_level("  continued", 11), -1);
	CHECK_EQ_INT(dash_log_level("2026-11-21T19:43:58.123Z LOUD x", 31), -1);
}

/* A project with a database of a few jobs. */
static kiln_config *make_project(int http_port)
{
	char path[512], text[512], err[1024];
	kiln_config *cfg = NULL;
	kdb *db = NULL;
	snprintf(path, sizeof path, "%s/Assets", tmpdir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/Cache", tmpdir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/Cache/logs", tmpdir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/Cache/logs/kiln.log", tmpdir);
	FILE *f = fopen(path, "w");
	if (f) {
		fprintf(
		    f,
		    "2026-11-21T19:43:58.123Z INFO [kiln] started\n2026-11-21T19:43:59.000Z WARN [kiln] "
		    "something odd\n  and its second line\n2026-11-21T19:44:00.000Z DEBUG [kiln] detail\n");
		fclose(f);
	}
	int n =
	    snprintf(text, sizeof text,
	             "{\"platforms\": [\"pc\"], \"builders\": [], \"http\": \"127.0.0.1:%d\"}", http_port);
	if (config_parse(text, (size_t)n, "kiln.json", tmpdir, NULL, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "config: %s\n", err);
		return NULL;
	}
	snprintf(path, sizeof path, "%s/Cache/assetdb.sqlite", tmpdir);
	if (db_open(path, false, &db, err, sizeof err) != 0) {
		fprintf(stderr, "db: %s\n", err);
		config_free(cfg);
		return NULL;
	}
	char sql[2048];
	snprintf(sql, sizeof sql,
	         "INSERT INTO builders(exec, name, uuid, version) VALUES('x', 'copy', "
	         "'11111111-1111-5111-8111-111111111111', '1');"
	         "INSERT INTO sources(uuid, scan_folder, path, size, mtime_ns, hash) VALUES"
	         "('22222222-2222-5222-8222-222222222222', '%s/Assets', 'textures/a.png', 1, 0, 1),"
	         "('33333333-3333-5333-8333-333333333333', '%s/Assets', 'textures/b.png', 1, 0, 2),"
	         "('44444444-4444-5444-8444-444444444444', '%s/Assets', 'sounds/c.wav', 1, 0, 3);"
	         "INSERT INTO jobs(source_id, builder_id, job_key, platform, status, reason, completed_at, "
	         "duration_ms)"
	         " VALUES(1, 1, 'k', 'pc', 'completed', NULL, 1000, 5), (2, 1, 'k', 'pc', 'failed', "
	         "'crashed', 2000, 7),"
	         " (3, 1, 'k', 'pc', 'completed', NULL, 3000, 9);",
	         tmpdir, tmpdir, tmpdir);
	CHECK_EQ_INT(db_exec(db, sql), 0);
	db_close(db);
	return cfg;
}

static void test_server(void)
{
	char err[512] = "", target[16384], hdr[256];
	dash *d = NULL;
	port = free_port();
	kiln_config *cfg = make_project(port);
	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK_EQ_INT(dash_open(cfg, NULL, &d, err, sizeof err), 0);
	CHECK(d != NULL);
	if (!d) {
		fprintf(stderr, "dash_open: %s\n", err);
		config_free(cfg);
		return;
	}
	snprintf(target, sizeof target, "http://127.0.0.1:%d/", port);
	CHECK_EQ_STR(dash_url(d), target);

	/* The page, with the token written in. */
	CHECK_EQ_INT(req("GET", "/", NULL, NULL, NULL), 200);
	CHECK(strstr(body_of(), d->token) != NULL);
	CHECK(strstr(body_of(), "__KILN_TOKEN__") == NULL);
	CHECK(strstr(resp, "no-store") != NULL);
	CHECK_EQ_INT(req("GET", "/nope.html", NULL, NULL, NULL), 404);

	/* Listings from the database, paged. */
	CHECK_EQ_INT(req("GET", "/api/jobs?limit=2&sort=completed&order=desc", NULL, NULL, NULL), 200);
	json_t *j = json_loads(body_of(), 0, NULL);
	CHECK_EQ_INT((int)json_integer_value(json_object_get(j, "total")), 3);
	CHECK_EQ_INT((int)json_array_size(json_object_get(j, "jobs")), 2);
	CHECK_EQ_STR(
	    json_string_value(json_object_get(json_array_get(json_object_get(j, "jobs"), 0), "source")),
	    "sounds/c.wav");
	json_decref(j);
	CHECK_EQ_INT(req("GET", "/api/jobs?filter=failed", NULL, NULL, NULL), 200);
	j = json_loads(body_of(), 0, NULL);
	CHECK_EQ_INT((int)json_integer_value(json_object_get(j, "total")), 1);
	json_decref(j);
	CHECK_EQ_INT(req("GET", "/api/jobs?filter=%5Etextures%2F", NULL, NULL, NULL), 200);
	j = json_loads(body_of(), 0, NULL);
	CHECK_EQ_INT((int)json_integer_value(json_object_get(j, "total")), 2);
	json_decref(j);
	CHECK_EQ_INT(req("GET", "/api/assets?dir=textures", NULL, NULL, NULL), 200);
	j = json_loads(body_of(), 0, NULL);
	CHECK_EQ_INT((int)json_integer_value(json_object_get(j, "total")), 2);
	json_decref(j);
	CHECK_EQ_INT(req("GET", "/api/assets?dir=.", NULL, NULL, NULL), 200);
	j = json_loads(body_of(), 0, NULL);
	CHECK_EQ_INT((int)json_array_size(json_object_get(j, "folders")), 2);
	json_decref(j);
	CHECK_EQ_INT(req("GET", "/api/job/2", NULL, NULL, NULL), 200);
	CHECK(strstr(body_of(), "\"failed\":true") != NULL);
	CHECK_EQ_INT(req("GET", "/api/job/99", NULL, NULL, NULL), 404);
	CHECK_EQ_INT(req("GET", "/api/asset?path=textures/a.png", NULL, NULL, NULL), 200);
	CHECK_EQ_INT(req("GET", "/api/asset?path=nope.png", NULL, NULL, NULL), 404);
	CHECK_EQ_INT(req("GET", "/api/logs?view=problems", NULL, NULL, NULL), 200);
	CHECK(strstr(body_of(), "something odd\\n  and its second line") != NULL);
	CHECK(strstr(body_of(), "started") == NULL);
	CHECK_EQ_INT(req("GET", "/api/logs?view=debug&filter=det", NULL, NULL, NULL), 200);
	CHECK(strstr(body_of(), "\"matched\":1") != NULL);
	CHECK_EQ_INT(req("GET", "/api/shared-cache", NULL, NULL, NULL), 200);
	CHECK_EQ_INT(req("GET", "/api/events", NULL, NULL, NULL), 200);
	CHECK(strstr(body_of(), "\"seq\":0") != NULL);

	/* Paging arguments. */
	static const char *const bad_pages[] = {
	    "/api/jobs?limit=0",
	    "/api/jobs?limit=10001",
	    "/api/jobs?limit=abc",
	    "/api/jobs?limit=-5",
	    "/api/jobs?offset=-1",
	    "/api/jobs?offset=1e3",
	    "/api/jobs?offset=99999999999999999999",
	    "/api/jobs?limit=%2B5",
	    "/api/assets?limit=",
	    "/api/products?offset=x",
	    "/api/logs?limit=0",
	    "/api/events?since=-1",
	    "/api/events?since=x",
	    NULL,
	};
	for (int i = 0; bad_pages[i]; i++) {
		int code = req("GET", bad_pages[i], NULL, NULL, NULL);
		if (code != 400)
			fprintf(stderr, "%s: %d %s\n", bad_pages[i], code, body_of());
		CHECK_EQ_INT(code, 400);
	}
	/* Hostile query strings: NUL, control characters, broken escapes,
	 * bad UTF-8, bad regexes, unknown words, paths that climb. */
	static const char *const hostile[] = {
	    "/api/jobs?filter=a%00b",
	    "/api/jobs?filter=%0d%0aX-Evil:%201",
	    "/api/jobs?filter=%",
	    "/api/jobs?filter=%zz",
	    "/api/jobs?filter=%ff",
	    "/api/jobs?filter=(",
	    "/api/jobs?filter=%5B",
	    "/api/jobs?filter=a%7B99999999%7D",
	    "/api/jobs?sort=nope",
	    "/api/jobs?order=sideways",
	    "/api/jobs?status=bogus",
	    "/api/assets?dir=..",
	    "/api/assets?dir=a/../..",
	    "/api/assets?dir=/etc",
	    "/api/products?dir=a//b",
	    "/api/asset",
	    "/api/asset?path=a&uuid=b",
	    "/api/job/abc",
	    "/api/job/0",
	    "/api/job/%00",
	    "/api/job/-1",
	    "/api/logs?view=all",
	    "/api/logs?filter=(",
	    "/api/builder/%ff",
	    "/api/product?path=%00",
	    NULL,
	};
	for (int i = 0; hostile[i]; i++) {
		int code = req("GET", hostile[i], NULL, NULL, NULL);
		if (code != 400)
			fprintf(stderr, "%s: %d %s\n", hostile[i], code, body_of());
		CHECK_EQ_INT(code, 400);
		CHECK(strstr(body_of(), "\"error\"") != NULL);
	}
	/* A huge argument: over the dashboard's limit. */
	memcpy(target, "/api/jobs?filter=", 17);
	memset(target + 17, 'a', 6000);
	target[6017] = '\0';
	CHECK_EQ_INT(req("GET", target, NULL, NULL, NULL), 400);
	/* A huge target: NNG itself reads at most 8 KiB of a request's head
	 * and closes a connection whose head is longer, before the dashboard
	 * sees it; either way nothing is answered but an error, and the
	 * server goes on. */
	memset(target + 17, 'a', 9000);
	target[9017] = '\0';
	int code = req("GET", target, NULL, NULL, NULL);
	CHECK(code == 0 || (code >= 400 && code < 500));
	CHECK_EQ_INT(req("GET", "/api/status", NULL, NULL, NULL), 200);
	/* A catastrophic regex stops at its limit. */
	CHECK_EQ_INT(req("GET", "/api/jobs?filter=(a%2B)%2B%24", NULL, NULL, NULL), 200);
	CHECK_EQ_INT(req("GET", "/api/nope", NULL, NULL, NULL), 404);

	/* Foreign hosts and origins. */
	CHECK_EQ_INT(req("GET", "/api/jobs", "evil.example:80", NULL, NULL), 403);
	snprintf(hdr, sizeof hdr, "evil.example:%d", port);
	CHECK_EQ_INT(req("GET", "/", hdr, NULL, NULL), 403);
	CHECK_EQ_INT(req("GET", "/api/jobs", NULL, "Origin: http://evil.example\r\n", NULL), 403);
	snprintf(hdr, sizeof hdr, "localhost:%d", port);
	CHECK_EQ_INT(req("GET", "/api/jobs", hdr, NULL, NULL), 200);

	/* Actions: the token, the origin, the method. */
	CHECK_EQ_INT(req("POST", "/api/rescan", NULL, NULL, "{}"), 403);
	CHECK_EQ_INT(req("POST", "/api/rescan", NULL, "X-Kiln-Token: wrong\r\n", "{}"), 403);
	snprintf(hdr, sizeof hdr, "X-Kiln-Token: %s\r\nOrigin: http://evil.example\r\n", d->token);
	CHECK_EQ_INT(req("POST", "/api/rescan", NULL, hdr, "{}"), 403);
	snprintf(hdr, sizeof hdr, "X-Kiln-Token: %s\r\nOrigin: http://127.0.0.1:%d\r\n", d->token, port);
	CHECK_EQ_INT(req("POST", "/api/reprocess", NULL, hdr, "not json"), 400);
	CHECK_EQ_INT(req("POST", "/api/reprocess", NULL, hdr, "{\"paths\": 5}"), 400);
	CHECK_EQ_INT(req("POST", "/api/reprocess", NULL, hdr, "[1]"), 400);
	CHECK_EQ_INT(req("POST", "/api/tools", NULL, hdr, "{\"fast_scan\": \"yes\"}"), 400);
	CHECK_EQ_INT(req("POST", "/api/tools", NULL, hdr, "{\"other\": true}"), 400);
	/* Every check passed: no supervisor answers here. */
	CHECK_EQ_INT(req("POST", "/api/rescan", NULL, hdr, "{}"), 503);
	CHECK_EQ_INT(req("POST", "/api/jobs", NULL, hdr, "{}"), 405);
	CHECK_EQ_INT(req("GET", "/api/rescan", NULL, NULL, NULL), 405);
	CHECK_EQ_INT(req("PUT", "/api/jobs", NULL, NULL, NULL), 405);
	CHECK_EQ_INT(req("DELETE", "/", NULL, NULL, NULL), 405);
	CHECK_EQ_INT(req("POST", "/index.html", NULL, hdr, "{}"), 405);

	/* Garbage instead of HTTP does not stop the server. */
	http_raw("\x16\x03\x01garbage\r\n\r\n", 14);
	CHECK_EQ_INT(req("GET", "/api/status", NULL, NULL, NULL), 200);

	/* A port in use is an error that says so. */
	{
		int s = socket(AF_INET, SOCK_STREAM, 0);
		int busy = free_port();
		struct sockaddr_in a = {.sin_family = AF_INET,
		                        .sin_port = htons((uint16_t)busy),
		                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		CHECK_EQ_INT(bind(s, (struct sockaddr *)&a, sizeof a), 0);
		listen(s, 1);
		kiln_config *cfg2 = NULL;
		char text[256], e2[512] = "";
		int n =
		    snprintf(text, sizeof text,
		             "{\"platforms\": [\"pc\"], \"builders\": [], \"http\": \"127.0.0.1:%d\"}", busy);
		CHECK_EQ_INT(config_parse(text, (size_t)n, "kiln.json", tmpdir, NULL, &cfg2, e2, sizeof e2),
		             0);
		dash *d2 = NULL;
		CHECK(dash_open(cfg2, NULL, &d2, e2, sizeof e2) != 0);
		CHECK(d2 == NULL);
		CHECK(strstr(e2, "in use") != NULL);
		config_free(cfg2);
		close(s);
	}

	/* Closing answers a long poll that waits. */
	{
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET,
		                        .sin_port = htons((uint16_t)port),
		                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		CHECK_EQ_INT(connect(s, (struct sockaddr *)&a, sizeof a), 0);
		char poll_req[256];
		int n = snprintf(
		    poll_req, sizeof poll_req,
		    "GET /api/events?since=0 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n",
		    port);
		CHECK(send(s, poll_req, (size_t)n, MSG_NOSIGNAL) == n);
		usleep(300 * 1000);
		dash_close(d);
		d = NULL;
		struct pollfd p = {.fd = s, .events = POLLIN};
		CHECK(poll(&p, 1, 5000) == 1);
		char buf[512] = "";
		ssize_t got = recv(s, buf, sizeof buf - 1, 0);
		CHECK(got > 0);
		if (got > 0)
			buf[got] = '\0';
		CHECK(strncmp(buf, "HTTP/1.1 200", 12) == 0);
		close(s);
	}
	/* "" turns the dashboard off. */
	{
		kiln_config *cfg3 = NULL;
		char e3[256];
		const char text[] = "{\"platforms\": [\"pc\"], \"builders\": [], \"http\": \"\"}";
		CHECK_EQ_INT(
		    config_parse(text, sizeof text - 1, "kiln.json", tmpdir, NULL, &cfg3, e3, sizeof e3), 0);
		dash *d3 = (dash *)1;
		CHECK_EQ_INT(dash_open(cfg3, NULL, &d3, e3, sizeof e3), 0);
		CHECK(d3 == NULL);
		dash_close(d3);
		config_free(cfg3);
	}
	config_free(cfg);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/kiln-dash-test.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_query_strings();
	test_host_origin_token();
	test_server();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	TEST_DONE();
}
