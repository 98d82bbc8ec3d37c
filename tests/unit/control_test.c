/* control_test.c: the control API against a fake engine (the ops below) on
 * a temporary cache with a small database: every request type through
 * kclient, deferred compile replies out of order through a raw REQ socket,
 * hostile input (garbage, wrong types, huge messages, unknown types, junk at
 * the socket level) answered while the control keeps serving, the socket
 * files' mode, events with topic filtering (kclient and a plain SUB
 * socket), TCP allow-list refusal and the token check, and the Python client
 * (common/python/kiln_client.py --selftest, scripts/editor_client.py)
 * against the same control.
 *
 * The control is single-threaded: a server thread polls its descriptor and
 * calls control_on_readable(), and the test thread takes the same mutex
 * before control_reply() or control_publish(). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/req.h>

#include "config/config.h"
#include "control/control.h"
#include "db/db.h"
#include "kclient.h"
#include "kerr.h"
#include "path.h"
#include "test.h"
#include "uuid.h"

static char tmpdir[256], root[300], cache[320], cache2[320], cache3[320];
static char *platforms[] = {"pc", "linux", NULL};
static char src_dir[1024]; /* the source tree, for the Python files */

/* NNG 1.5.2 never frees the parts of an ipc listener that it stopped after
 * a hung-up handshake (the bug the control's watchdog works around), even
 * once the listener is closed, and now and then keeps an event that was
 * queued for a subscriber closing at the same moment as the socket.
 * LeakSanitizer would report them; only allocations made by NNG under
 * listen_on() and nng_send() (which copies, so the message is NNG's) are
 * excused. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:listen_on\nleak:nng_send\n";
}

/* ---- the fake engine ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static struct fake {
	control *ctl;
	int flushes, rescans, tools;
	char tool[32];
	bool tool_on;
	control_token tokens[64];
	int n_tokens;
	control_token auto_tokens[64];
	int n_auto;
	char last_compile[256], last_platform[64];
	int64_t last_timeout;
	size_t last_reprocess_n;
	char last_reprocess0[256];
	int publish_ms; /* the server publishes events this often (0: never) */
} F;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_t *op_status(void *ud)
{
	(void)ud;
	return json_pack("{s:s, s:b, s:i, s:i, s:s}", "state", "idle", "ready", 1, "jobs_active", 0,
	                 "jobs_remaining", 0, "project", "demo");
}

static void op_flush(void *ud)
{
	(void)ud;
	F.flushes++;
}

static json_t *op_asset_status(void *ud, const char *arg, char *err, size_t errsz)
{
	(void)ud;
	if (strcmp(arg, "missing") == 0) {
		snprintf(err, errsz, "no source '%s'", arg);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:[]}", "uuid", "0b8c5a7e-0000-5000-8000-000000000000", "source",
	                 arg, "state", "compiled", "jobs");
}

static int op_compile(void *ud, const char *arg, const char *platform, int64_t timeout_ms,
                      control_token token, char *err, size_t errsz)
{
	(void)ud;
	snprintf(F.last_compile, sizeof F.last_compile, "%s", arg);
	snprintf(F.last_platform, sizeof F.last_platform, "%s", platform ? platform : "");
	F.last_timeout = timeout_ms;
	if (strcmp(arg, "now") == 0) {
		/* The engine may answer from inside compile. */
		json_t *r = json_pack("{s:s, s:[]}", "result", "missing", "jobs");
		control_reply(F.ctl, token, r);
		json_decref(r);
		return 0;
	}
	if (strcmp(arg, "bad") == 0) {
		snprintf(err, errsz, "unknown platform \"%s\"", platform ? platform : "");
		return -EINVAL;
	}
	if (strncmp(arg, "auto", 4) == 0) {
		if (F.n_auto < 64)
			F.auto_tokens[F.n_auto++] = token;
		return 0;
	}
	if (F.n_tokens < 64)
		F.tokens[F.n_tokens++] = token;
	return 0;
}

static json_t *op_reprocess(void *ud, const char *const *paths, size_t n, char *err, size_t errsz)
{
	(void)ud;
	F.last_reprocess_n = n;
	snprintf(F.last_reprocess0, sizeof F.last_reprocess0, "%s", paths[0]);
	if (strcmp(paths[0], "unknown") == 0) {
		snprintf(err, errsz, "unknown source 'unknown'");
		return NULL;
	}
	return json_pack("{s:i, s:i}", "jobs", (int)n * 2, "sources", (int)n);
}

static void op_rescan(void *ud)
{
	(void)ud;
	F.rescans++;
}

static int op_set_tool(void *ud, const char *name, bool on)
{
	(void)ud;
	F.tools++;
	snprintf(F.tool, sizeof F.tool, "%s", name);
	F.tool_on = on;
	return 0;
}

static json_t *op_hosts(void *ud)
{
	(void)ud;
	return json_pack("[{s:i, s:s, s:b, s:s}]", "pid", 4242, "kind", "builder_host", "automatic", 1,
	                 "since", "2026-01-01T00:00:00.000Z");
}

static const control_ops OPS = {.status = op_status,
                                .flush = op_flush,
                                .asset_status = op_asset_status,
                                .compile = op_compile,
                                .reprocess = op_reprocess,
                                .rescan = op_rescan,
                                .set_tool = op_set_tool,
                                .hosts = op_hosts,
                                .ud = NULL};

/* ---- the server thread ---- */

typedef struct server {
	control *ctl;
	pthread_t th;
	volatile int stop;
} server;

static void *serve(void *arg)
{
	server *s = arg;
	struct pollfd p = {.fd = control_fd(s->ctl), .events = POLLIN};
	int64_t last_pub = 0;
	while (!s->stop) {
		(void)poll(&p, 1, 10);
		pthread_mutex_lock(&mu);
		control_on_readable(s->ctl);
		for (int i = 0; i < F.n_auto; i++) {
			json_t *r = json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "result", "completed", "jobs",
			                      "platform", "pc", "job_key", "copy", "status", "completed");
			control_reply(s->ctl, F.auto_tokens[i], r);
			json_decref(r);
		}
		F.n_auto = 0;
		if (F.publish_ms && mono_ms() - last_pub >= F.publish_ms) {
			json_t *j =
			    json_pack("{s:i, s:s, s:s, s:s, s:s, s:n}", "id", 1, "source", "textures/a.png",
			              "platform", "pc", "job_key", "copy", "status", "completed", "reason");
			json_t *pr = json_pack("{s:s, s:s, s:s, s:s}", "event", "changed", "asset_id",
			                       "{0b8c5a7e-0000-5000-8000-000000000000}:0", "platform", "pc",
			                       "path", "textures/a.dds");
			control_publish(s->ctl, "job", j);
			control_publish(s->ctl, "product", pr);
			json_decref(j);
			json_decref(pr);
			last_pub = mono_ms();
		}
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

/* Opens a control on cfg and serves it from a thread of its own; NULL
 * (reported) when it does not open. */
static control *server_start(server *s, const kiln_config *cfg)
{
	char err[512] = "";
	control *ctl = NULL;
	int rc = control_open(cfg, &OPS, &ctl, err, sizeof err);

	if (rc != 0)
		fprintf(stderr, "control_open: %s\n", err);
	CHECK_EQ_INT(rc, 0);
	memset(s, 0, sizeof *s);
	if (!ctl)
		return NULL;
	s->ctl = F.ctl = ctl;
	CHECK_EQ_INT(pthread_create(&s->th, NULL, serve, s), 0);
	return ctl;
}

/* Stops the server thread and closes its control. */
static void server_stop(server *s)
{
	s->stop = 1;
	pthread_join(s->th, NULL);
	control_close(s->ctl);
	F.ctl = NULL;
}

/* ---- helpers ---- */

static void exec_sql(kdb *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "SQL failed: %s\n  %s\n", msg, sql);
		CHECK(0);
	}
	sqlite3_free(msg);
}

static char uuid_a[37];

static void fill_db(void)
{
	kdb *db = NULL;
	char err[512], path[512], *sql;
	kuuid u;

	snprintf(path, sizeof path, "%s/assetdb.sqlite", cache);
	CHECK_EQ_INT(db_open(path, false, &db, err, sizeof err), 0);
	if (!db)
		return;
	uuid_for_source("textures/a.png", &u);
	uuid_format(&u, uuid_a);
	exec_sql(
	    db,
	    "INSERT INTO builders(id, exec, name, uuid, version, analysis_fingerprint, patterns, internal,"
	    " active, cj_count, cj_total_us, pj_count, pj_total_us) VALUES"
	    " (1, 'kiln-copy', 'copy', '11111111-1111-5111-8111-111111111111', '1.2', 'fp1',"
	    "  '[\"*.png\"]', 1, 1, 1, 1000, 1, 1000),"
	    " (2, 'tools/old', 'old', '22222222-2222-5222-8222-222222222222', '0.1', '', '[]', 0, 0,"
	    "  0, 0, 0, 0)");
	sql = sqlite3_mprintf("INSERT INTO sources(id, uuid, scan_folder, path, size, mtime_ns, hash) VALUES"
	                      " (1, %Q, '%q/Assets', 'textures/a.png', 10, 0, 1)",
	                      uuid_a, root);
	exec_sql(db, sql);
	sqlite3_free(sql);
	exec_sql(
	    db,
	    "INSERT INTO jobs(id, source_id, builder_id, job_key, platform, critical, priority, status,"
	    " reason, run_reason, warnings, errors, completed_at, duration_ms, log, fingerprint) VALUES"
	    " (1, 1, 1, 'copy', 'pc', 0, 0, 'completed', NULL, 'new', 0, 0, 1795290238123, 1200, NULL, 1),"
	    " (2, 1, 1, 'copy', 'linux', 0, 0, 'failed', 'crashed', 'new', 0, 1, 1795290239000, 50, NULL,"
	    "  NULL)");
	exec_sql(db,
	         "INSERT INTO products(id, job_id, sub_id, platform, path, asset_type, size, hash, built_at)"
	         " VALUES (1, 1, 0, 'pc', 'textures/a.dds', 'texture', 100, 7, 1795290238123)");
	db_close(db);
}

static kiln_config make_cfg(const char *cache_dir)
{
	kiln_config c;
	memset(&c, 0, sizeof c);
	c.root = root;
	c.cache = (char *)cache_dir;
	c.project = "demo";
	c.platforms = platforms;
	c.n_platforms = 2;
	return c;
}

/* Sends the JSON text as a request and returns the reply (NULL reported). */
static json_t *ask_at(kclient *k, const char *text, int line)
{
	json_error_t je;
	json_t *req = json_loads(text, JSON_ALLOW_NUL, &je), *rep = NULL;
	if (!req) {
		fprintf(stderr, "control_test.c:%d: bad JSON in the test: %s\n", line, je.text);
		CHECK(0);
		return NULL;
	}
	int rc = kclient_request(k, req, &rep, 5000);
	if (rc != 0)
		fprintf(stderr, "control_test.c:%d: request failed: %s\n", line, kiln_strerror(rc));
	CHECK_EQ_INT(rc, 0);
	json_decref(req);
	return rep;
}
#define ASK(k, text) ask_at((k), (text), __LINE__)

/* A JSON string's value, or "" for anything else. */
static const char *sv(json_t *v)
{
	const char *s = json_string_value(v);
	return s ? s : "";
}

static bool ok_of(json_t *r)
{
	return json_is_true(json_object_get(r, "ok"));
}

static const char *err_of(json_t *r)
{
	const char *e = json_string_value(json_object_get(r, "error"));
	return e ? e : "";
}

/* Checks that r (taken) is an error reply whose message holds part. */
static void check_error_at(json_t *r, const char *part, int line)
{
	bool good = r && json_is_false(json_object_get(r, "ok")) && strstr(err_of(r), part);
	if (!good) {
		char *d = r ? json_dumps(r, JSON_COMPACT) : NULL;
		fprintf(stderr, "control_test.c:%d: want an error with \"%s\", got %s\n", line, part,
		        d ? d : "nothing");
		free(d);
	}
	CHECK(good);
	json_decref(r);
}

/* Expects an error reply whose message holds part. */
static void expect_error_at(kclient *k, const char *text, const char *part, int line)
{
	check_error_at(ask_at(k, text, line), part, line);
}
#define EXPECT_ERROR(k, text, part) expect_error_at((k), (text), (part), __LINE__)

static json_t *find_client(json_t *conns, const char *name)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(conns, "clients"), i, c)
	{
		const char *n = json_string_value(json_object_get(c, "name"));
		if (n && strcmp(n, name) == 0)
			return c;
	}
	return NULL;
}

/* The deferred requests of every client, as a connections request lists
 * them. */
static json_int_t pending_total(kclient *k)
{
	json_t *r = ASK(k, "{\"type\": \"connections\"}"), *c;
	json_int_t n = 0;
	size_t i;
	json_array_foreach(json_object_get(r, "clients"), i, c)
	{
		n += json_integer_value(json_object_get(c, "pending"));
	}
	json_decref(r);
	return n;
}

/* A raw REQ socket: several requests in flight, ids chosen by the test. */
static nng_socket raw_req(const char *cache_dir)
{
	nng_socket s = NNG_SOCKET_INITIALIZER;
	char url[600];
	snprintf(url, sizeof url, "ipc://%s/kiln.sock", cache_dir);
	CHECK_EQ_INT(nng_req0_open_raw(&s), 0);
	CHECK_EQ_INT(nng_dial(s, url, NULL, 0), 0);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	return s;
}

static void raw_send(nng_socket s, uint32_t id, const void *body, size_t len)
{
	nng_msg *m = NULL;
	CHECK_EQ_INT(nng_msg_alloc(&m, 0), 0);
	if (!m)
		return;
	nng_msg_header_append_u32(m, id | 0x80000000u);
	nng_msg_append(m, body, len);
	int rv = nng_sendmsg(s, m, 0);
	CHECK_EQ_INT(rv, 0);
	if (rv)
		nng_msg_free(m);
}

static void raw_send_json(nng_socket s, uint32_t id, const char *text)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	json_t *j = json_loads(text, 0, NULL);
	CHECK(j != NULL);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	CHECK_EQ_INT(kclient_pack_json(&pk, j), 0);
	raw_send(s, id, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	json_decref(j);
}

/* Receives one reply; *id gets its request id (without the top bit). */
static json_t *raw_recv(nng_socket s, uint32_t *id)
{
	nng_msg *m = NULL;
	json_t *out = NULL;
	char err[256];
	*id = 0;
	int rv = nng_recvmsg(s, &m, 0);
	CHECK_EQ_INT(rv, 0);
	if (rv)
		return NULL;
	if (nng_msg_header_len(m) >= 4) {
		const uint8_t *h = nng_msg_header(m);
		*id =
		    ((uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3]) & 0x7fffffffu;
	}
	CHECK_EQ_INT(kclient_decode_map(nng_msg_body(m), nng_msg_len(m), &out, err, sizeof err), 0);
	nng_msg_free(m);
	return out;
}

/* Sends body as request id over the raw socket and expects the error reply
 * to it, whose message holds part. */
static void raw_expect_error_at(nng_socket s, uint32_t id, const void *body, size_t len, const char *part,
                                int line)
{
	uint32_t got = 0;
	raw_send(s, id, body, len);
	json_t *r = raw_recv(s, &got);
	CHECK_EQ_INT(got, id);
	check_error_at(r, part, line);
}
#define RAW_EXPECT_ERROR(s, id, body, len, part)                                                             \
	raw_expect_error_at((s), (id), (body), (len), (part), __LINE__)

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* ---- tests ---- */

static void test_open(void)
{
	kiln_config cfg = make_cfg(cache);
	control *a = NULL, *b = NULL;
	char err[512] = "", path[600];
	struct stat st;

	CHECK_EQ_INT(control_open(&cfg, &OPS, &a, err, sizeof err), 0);
	CHECK(a != NULL);
	CHECK(control_fd(a) >= 0);
	snprintf(path, sizeof path, "%s/kiln.sock", cache);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ_INT(st.st_mode & 0777, 0600);
	snprintf(path, sizeof path, "%s/kiln.events", cache);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0600);

	/* A second supervisor on the same cache is refused, and says why. */
	err[0] = '\0';
	CHECK(control_open(&cfg, &OPS, &b, err, sizeof err) != 0);
	CHECK(b == NULL);
	CHECK(strstr(err, "already serving") != NULL);
	control_close(a);

	/* A socket file left behind by a supervisor that was killed does not
	 * stop the next one. */
	{
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		snprintf(path, sizeof path, "%s/kiln.sock", cache);
		unlink(path);
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
		CHECK_EQ_INT(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
		close(fd);
		CHECK_EQ_INT(stat(path, &st), 0);
		a = NULL;
		CHECK_EQ_INT(control_open(&cfg, &OPS, &a, err, sizeof err), 0);
		control_close(a);
	}

	/* No supervisor: kclient says so with the codes the command line maps
	 * to exit 3. */
	kclient *k = NULL;
	int rc = kclient_open(cache, &k);
	CHECK(rc == -ECONNREFUSED || rc == -ENOENT);
	CHECK(k == NULL);
	control_close(NULL);
}

static void test_requests(void)
{
	kiln_config cfg = make_cfg(cache);
	control *ctl = NULL;
	server s;
	kclient *k = NULL;
	char text[600];
	json_t *r, *v;

	if (!(ctl = server_start(&s, &cfg)))
		return;
	CHECK_EQ_INT(kclient_open(cache, &k), 0);
	if (!k)
		goto out;

	r = ASK(k, "{\"type\": \"hello\", \"name\": \"test-editor\", \"pid\": 77}");
	CHECK(ok_of(r));
	CHECK(json_integer_value(json_object_get(r, "client_id")) > 0);
	CHECK_EQ_STR(json_string_value(json_object_get(r, "project")), "demo");
	json_decref(r);

	r = ASK(k, "{\"type\": \"status\"}");
	CHECK(ok_of(r));
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r, "status"), "state")), "idle");
	CHECK(json_is_true(json_object_get(json_object_get(r, "status"), "ready")));
	json_decref(r);

	/* Queries: the documents of --json, under the request's name. */
	int flushes = F.flushes;
	r = ASK(k, "{\"type\": \"jobs\"}");
	CHECK(ok_of(r));
	CHECK_EQ_INT(json_array_size(json_object_get(r, "jobs")), 2);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "exit_code")), 0);
	CHECK(F.flushes > flushes);
	json_decref(r);
	r = ASK(k, "{\"type\": \"jobs\", \"status\": [\"failed\"], \"sort\": \"platform\"}");
	CHECK_EQ_INT(json_array_size(json_object_get(r, "jobs")), 1);
	v = json_array_get(json_object_get(r, "jobs"), 0);
	CHECK_EQ_STR(json_string_value(json_object_get(v, "reason")), "crashed");
	json_decref(r);
	r = ASK(k, "{\"type\": \"jobs\", \"status\": \"completed,failed\", \"filter\": \"^textures/\"}");
	CHECK_EQ_INT(json_array_size(json_object_get(r, "jobs")), 2);
	json_decref(r);
	r = ASK(k, "{\"type\": \"jobs\", \"filter\": \"^models/\"}");
	CHECK(ok_of(r));
	CHECK_EQ_INT(json_array_size(json_object_get(r, "jobs")), 0);
	json_decref(r);
	EXPECT_ERROR(k, "{\"type\": \"jobs\", \"sort\": \"size\"}", "cannot sort by 'size'");
	EXPECT_ERROR(k, "{\"type\": \"jobs\", \"status\": \"done\"}", "unknown status 'done'");
	EXPECT_ERROR(k, "{\"type\": \"jobs\", \"status\": []}", "at least one status word");
	EXPECT_ERROR(k, "{\"type\": \"jobs\", \"status\": 5}", "expected a string or an array");
	EXPECT_ERROR(k, "{\"type\": \"jobs\", \"filter\": \"(\"}", "filter:");
	/* A regex that would run away stops at the query module's limit. */
	r = ASK(k, "{\"type\": \"jobs\", \"filter\": \"^(a|a)*(a|a)*(a|a)*(a|a)*(a|a)*b$\"}");
	CHECK(r != NULL);
	json_decref(r);
	EXPECT_ERROR(k, "{\"type\": \"jobs\", \"fliter\": \"x\"}", "unknown field \"fliter\"");

	r = ASK(k, "{\"type\": \"job\", \"id\": 1}");
	CHECK(ok_of(r));
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "exit_code")), 0);
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r, "job"), "status")), "completed");
	CHECK(json_is_array(json_object_get(json_object_get(r, "job"), "lines")));
	json_decref(r);
	/* A failed job is an answer with exit code 1, as on the command line. */
	r = ASK(k, "{\"type\": \"job\", \"id\": 2}");
	CHECK(ok_of(r));
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "exit_code")), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r, "job"), "reason")), "crashed");
	json_decref(r);
	r = ASK(k, "{\"type\": \"job\", \"id\": 99}");
	CHECK(!ok_of(r));
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "exit_code")), 1);
	CHECK(strstr(err_of(r), "no job with id 99") != NULL);
	json_decref(r);
	EXPECT_ERROR(k, "{\"type\": \"job\", \"id\": \"1\"}", "id: expected an integer");
	EXPECT_ERROR(k, "{\"type\": \"job\", \"id\": 0}", "not a job id");
	EXPECT_ERROR(k, "{\"type\": \"job\"}", "id");

	r = ASK(k, "{\"type\": \"assets\", \"filter\": \"a\\\\.png$\"}");
	CHECK_EQ_INT(json_array_size(json_object_get(r, "assets")), 1);
	json_decref(r);
	r = ASK(k, "{\"type\": \"asset\", \"path\": \"textures/a.png\"}");
	CHECK(ok_of(r));
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r, "asset"), "uuid")), uuid_a);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "exit_code")), 1); /* one job failed */
	json_decref(r);
	snprintf(text, sizeof text, "{\"type\": \"asset\", \"uuid\": \"{%s}\"}", uuid_a);
	r = ASK(k, text);
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r, "asset"), "source")),
	             "textures/a.png");
	json_decref(r);
	/* A path that looks like an option is still a path. */
	EXPECT_ERROR(k, "{\"type\": \"asset\", \"path\": \"--json\"}", "no source '--json'");
	EXPECT_ERROR(k, "{\"type\": \"asset\", \"path\": \"a\", \"uuid\": \"b\"}", "exactly one of");
	EXPECT_ERROR(k, "{\"type\": \"asset\"}", "exactly one of");
	EXPECT_ERROR(k, "{\"type\": \"asset\", \"path\": \"\"}", "must not be empty");
	EXPECT_ERROR(k, "{\"type\": \"asset\", \"path\": [\"a\"]}", "path: expected a string");

	r = ASK(k, "{\"type\": \"products\"}");
	CHECK_EQ_INT(json_array_size(json_object_get(r, "products")), 1);
	json_decref(r);
	r = ASK(k, "{\"type\": \"product\", \"path\": \"textures/a.dds\", \"platform\": \"pc\"}");
	CHECK(ok_of(r));
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r, "product"), "source")),
	             "textures/a.png");
	json_decref(r);
	EXPECT_ERROR(k, "{\"type\": \"product\", \"path\": \"nope.dds\"}", "no product 'nope.dds'");
	r = ASK(k, "{\"type\": \"builders\"}");
	CHECK_EQ_INT(json_array_size(json_object_get(r, "builders")), 1);
	json_decref(r);
	r = ASK(k, "{\"type\": \"builders\", \"all\": true}");
	CHECK_EQ_INT(json_array_size(json_object_get(r, "builders")), 2);
	json_decref(r);
	EXPECT_ERROR(k, "{\"type\": \"builders\", \"all\": 1}", "all: expected a boolean");

	r = ASK(k, "{\"type\": \"asset_status\", \"path\": \"textures/a.png\"}");
	CHECK(ok_of(r));
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r, "asset_status"), "state")),
	             "compiled");
	json_decref(r);
	EXPECT_ERROR(k, "{\"type\": \"asset_status\", \"uuid\": \"missing\"}", "no source 'missing'");

	r = ASK(k, "{\"type\": \"reprocess\", \"paths\": [\"textures/a.png\", \"b\"]}");
	CHECK(ok_of(r));
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "jobs")), 4);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "sources")), 2);
	CHECK_EQ_INT(F.last_reprocess_n, 2);
	CHECK_EQ_STR(F.last_reprocess0, "textures/a.png");
	json_decref(r);
	EXPECT_ERROR(k, "{\"type\": \"reprocess\", \"paths\": [\"unknown\"]}", "unknown source");
	EXPECT_ERROR(k, "{\"type\": \"reprocess\", \"paths\": []}", "from 1 to 100000");
	EXPECT_ERROR(k, "{\"type\": \"reprocess\", \"paths\": [\"a\", 3]}", "paths[1]: expected a string");
	EXPECT_ERROR(k, "{\"type\": \"reprocess\", \"paths\": [\"a\\u0000b\"]}", "NUL");
	EXPECT_ERROR(k, "{\"type\": \"reprocess\", \"paths\": \"a\"}", "paths");
	{
		/* A path over 4096 bytes is refused before it reaches the engine. */
		char *big = malloc(5000), *req = malloc(5100);
		memset(big, 'x', 4097);
		big[4097] = '\0';
		snprintf(req, 5100, "{\"type\": \"reprocess\", \"paths\": [\"%s\"]}", big);
		EXPECT_ERROR(k, req, "longer than 4096");
		snprintf(req, 5100, "{\"type\": \"compile\", \"path\": \"%s\"}", big);
		EXPECT_ERROR(k, req, "longer than 4096");
		free(big);
		free(req);
	}

	int rescans = F.rescans;
	r = ASK(k, "{\"type\": \"rescan\"}");
	CHECK(ok_of(r));
	CHECK_EQ_INT(F.rescans, rescans + 1);
	json_decref(r);
	r = ASK(k, "{\"type\": \"tools\", \"debug_output\": true}");
	CHECK(ok_of(r));
	CHECK_EQ_STR(F.tool, "debug_output");
	CHECK(F.tool_on);
	CHECK(json_is_true(json_object_get(r, "debug_output")));
	json_decref(r);
	r = ASK(k, "{\"type\": \"tools\", \"fast_scan\": false}");
	CHECK_EQ_STR(F.tool, "fast_scan");
	CHECK(!F.tool_on);
	json_decref(r);
	EXPECT_ERROR(k, "{\"type\": \"tools\"}", "give \"fast_scan\" or \"debug_output\"");
	EXPECT_ERROR(k, "{\"type\": \"tools\", \"fast_scan\": \"yes\"}", "fast_scan: expected a boolean");

	/* compile answered inline by the engine, refused by it, and checked
	 * before it. */
	r = ASK(k, "{\"type\": \"compile\", \"path\": \"now\", \"platform\": \"pc\", \"timeout_ms\": 500}");
	CHECK(ok_of(r));
	CHECK_EQ_STR(json_string_value(json_object_get(r, "result")), "missing");
	CHECK_EQ_STR(F.last_platform, "pc");
	CHECK_EQ_INT(F.last_timeout, 500);
	json_decref(r);
	EXPECT_ERROR(k, "{\"type\": \"compile\", \"path\": \"bad\", \"platform\": \"xbox\"}",
	             "unknown platform");
	EXPECT_ERROR(k, "{\"type\": \"compile\", \"path\": \"x\", \"timeout_ms\": -1}", "timeout_ms");
	r = ASK(k, "{\"type\": \"compile\", \"uuid\": \"auto-1\"}");
	CHECK(ok_of(r));
	CHECK_EQ_STR(json_string_value(json_object_get(r, "result")), "completed");
	json_decref(r);

	/* Unknown and malformed requests. */
	EXPECT_ERROR(k, "{\"type\": \"format_disk\"}", "unknown request type \"format_disk\"");
	EXPECT_ERROR(k, "{\"name\": \"x\"}", "type: missing");
	EXPECT_ERROR(k, "{\"type\": 5}", "type: expected a string");
	EXPECT_ERROR(k, "{\"type\": \"hello\"}", "name");
	EXPECT_ERROR(k, "{\"type\": \"hello\", \"name\": \"x\", \"pid\": \"1\"}", "pid: expected an integer");
	EXPECT_ERROR(k, "{\"type\": \"status\", \"verbose\": true}", "unknown field \"verbose\"");

	r = ASK(k, "{\"type\": \"connections\"}");
	CHECK(ok_of(r));
	v = find_client(r, "test-editor");
	CHECK(v != NULL);
	CHECK_EQ_INT(json_integer_value(json_object_get(v, "pid")), 77);
	CHECK_EQ_INT(json_integer_value(json_object_get(v, "peer_pid")), getpid());
	CHECK_EQ_STR(json_string_value(json_object_get(v, "transport")), "ipc");
	CHECK(json_integer_value(json_object_get(v, "requests")) > 40);
	CHECK(json_integer_value(json_object_get(v, "errors")) > 20);
	CHECK(json_is_string(json_object_get(v, "since")));
	CHECK(json_is_string(json_object_get(v, "last_request")));
	CHECK_EQ_INT(
	    json_integer_value(json_object_get(json_array_get(json_object_get(r, "hosts"), 0), "pid")), 4242);
	CHECK(json_is_null(json_object_get(r, "tcp")));
	CHECK_EQ_INT(json_array_size(json_object_get(r, "refused")), 0);
	json_decref(r);

	/* Deferred replies out of order, through a raw REQ socket with two
	 * requests in flight. */
	{
		nng_socket raw = raw_req(cache);
		uint32_t id = 0;
		F.n_tokens = 0;
		raw_send_json(raw, 1, "{\"type\": \"compile\", \"path\": \"textures/a.png\"}");
		raw_send_json(raw, 2, "{\"type\": \"status\"}");
		r = raw_recv(raw, &id);
		CHECK_EQ_INT(id, 2);
		CHECK(json_is_object(json_object_get(r, "status")));
		json_decref(r);
		pthread_mutex_lock(&mu);
		int n = F.n_tokens;
		control_token t = n ? F.tokens[0] : 0;
		pthread_mutex_unlock(&mu);
		CHECK_EQ_INT(n, 1);
		CHECK_EQ_STR(F.last_compile, "textures/a.png");
		raw_send_json(raw, 3, "{\"type\": \"compile\", \"path\": \"second\"}");
		/* Wait until the second compile reached the engine. */
		for (int i = 0; i < 500; i++) {
			pthread_mutex_lock(&mu);
			n = F.n_tokens;
			pthread_mutex_unlock(&mu);
			if (n == 2)
				break;
			usleep(2000);
		}
		CHECK_EQ_INT(n, 2);
		pthread_mutex_lock(&mu);
		json_t *rep2 = json_pack("{s:s, s:[]}", "result", "failed", "jobs");
		control_reply(ctl, F.tokens[1], rep2);
		json_t *rep1 =
		    json_pack("{s:s, s:[{s:s}]}", "result", "completed", "jobs", "status", "completed");
		control_reply(ctl, t, rep1);
		/* A token answered twice, or never issued, is ignored. */
		control_reply(ctl, t, rep1);
		control_reply(ctl, 999999, rep1);
		pthread_mutex_unlock(&mu);
		json_decref(rep1);
		json_decref(rep2);
		r = raw_recv(raw, &id);
		CHECK_EQ_INT(id, 3);
		CHECK_EQ_STR(json_string_value(json_object_get(r, "result")), "failed");
		CHECK(ok_of(r));
		json_decref(r);
		r = raw_recv(raw, &id);
		CHECK_EQ_INT(id, 1);
		CHECK_EQ_STR(json_string_value(json_object_get(r, "result")), "completed");
		json_decref(r);
		nng_close(raw);
	}

	/* A client that gives up: its late reply is dropped, and its compile
	 * is no longer listed once it has gone. */
	{
		kclient *k2 = NULL;
		json_t *req = json_pack("{s:s, s:s}", "type", "compile", "path", "slow");
		json_t *rep = NULL;
		F.n_tokens = 0;
		CHECK_EQ_INT(kclient_open(cache, &k2), 0);
		CHECK_EQ_INT(kclient_request(k2, req, &rep, 200), -ETIMEDOUT);
		CHECK(rep == NULL);
		CHECK_EQ_INT(pending_total(k), 1);
		kclient_close(k2);
		usleep(100000);
		CHECK_EQ_INT(pending_total(k), 0);
		pthread_mutex_lock(&mu);
		if (F.n_tokens == 1) {
			json_t *late = json_pack("{s:s}", "result", "completed");
			control_reply(ctl, F.tokens[0], late);
			json_decref(late);
		}
		pthread_mutex_unlock(&mu);
		json_decref(req);
		/* Still serving. */
		r = ASK(k, "{\"type\": \"status\"}");
		CHECK(ok_of(r));
		json_decref(r);
	}
	/* A compile still waiting when the control closes is freed with it. */
	{
		nng_socket raw = raw_req(cache);
		raw_send_json(raw, 9, "{\"type\": \"compile\", \"path\": \"forever\"}");
		for (int i = 0; i < 500 && strcmp(F.last_compile, "forever") != 0; i++)
			usleep(2000);
		CHECK_EQ_STR(F.last_compile, "forever");
		nng_close(raw);
	}
out:
	kclient_close(k);
	server_stop(&s);
}

static void test_hostile(void)
{
	kiln_config cfg = make_cfg(cache);
	control *ctl = NULL;
	server s;
	kclient *k = NULL;
	json_t *r;
	uint32_t id;

	if (!(ctl = server_start(&s, &cfg)))
		return;
	nng_socket raw = raw_req(cache);

	/* Bytes that are not MessagePack, not a map, or a map with a
	 * non-string key. */
	RAW_EXPECT_ERROR(raw, 1, "\xc1\xc1\xc1garbage", 10, "one MessagePack map");
	RAW_EXPECT_ERROR(raw, 2, "\x93\x01\x02\x03", 4, "expected a map"); /* [1, 2, 3] */
	RAW_EXPECT_ERROR(raw, 3, "\x81\x01\xa1x", 4, "not a string");      /* {1: "x"} */
	RAW_EXPECT_ERROR(raw, 4, "", 0, "");
	/* A map that claims more entries than it holds, and one nested too
	 * deeply. */
	RAW_EXPECT_ERROR(raw, 5, "\xdf\xff\xff\xff\xff", 5, "");
	{
		uint8_t deep[64];
		deep[0] = 0x81;
		deep[1] = 0xa1;
		deep[2] = 'a';
		for (int i = 3; i < 63; i++)
			deep[i] = 0x91; /* [[[[...]]]] */
		deep[63] = 0x01;
		RAW_EXPECT_ERROR(raw, 6, deep, sizeof deep, "");
	}
	/* Over 1 MiB: an error reply. */
	{
		size_t n = (1u << 20) + 100;
		uint8_t *big = malloc(n);
		memset(big, 0xc0, n);
		big[0] = 0x81;
		RAW_EXPECT_ERROR(raw, 7, big, n, "the limit is 1048576");
		free(big);
	}
	/* Still serving on the same connection. */
	raw_send_json(raw, 8, "{\"type\": \"status\"}");
	r = raw_recv(raw, &id);
	CHECK_EQ_INT(id, 8);
	CHECK(json_is_true(json_object_get(r, "ok")));
	json_decref(r);

	/* A client name that is not text is refused. */
	RAW_EXPECT_ERROR(raw, 9, "\x82\xa4type\xa5hello\xa4name\xa2\xff\xfe", 20, "not UTF-8");
	/* The raw client's errors were counted. */
	CHECK_EQ_INT(kclient_open(cache, &k), 0);
	r = ASK(k, "{\"type\": \"connections\"}");
	CHECK(json_integer_value(json_object_get(r, "errors")) >= 8);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "listener_restarts")), 0);
	json_decref(r);
	kclient_close(k);
	k = NULL;

	/* Over 4 MiB: NNG closes that connection, and nobody else notices. */
	{
		nng_socket huge = raw_req(cache);
		size_t n = (5u << 20);
		uint8_t *big = calloc(1, n);
		raw_send(huge, 1, big, n);
		free(big);
		nng_close(huge);
	}
	/* Junk at the socket level: not NNG's protocol at all, a frame of an
	 * absurd length, and connections closed in the middle of the
	 * handshake, which stop NNG 1.5.2's ipc listener for good unless the
	 * watchdog replaces it. */
	control_set_probe_interval(ctl, 100);
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd;
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s/kiln.sock", cache);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			static const char junk[] = "GET / HTTP/1.0\r\n\r\n";
			CHECK(write(fd, junk, sizeof junk - 1) > 0);
		}
		close(fd);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			static const uint8_t hs[] = {0,    'S',  'P',  0,    0,    0x30, 0,    0,   1,
			                             0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
			CHECK(write(fd, hs, sizeof hs) > 0);
			usleep(50000);
		}
		close(fd);
		for (int i = 0; i < 20; i++) {
			fd = socket(AF_UNIX, SOCK_STREAM, 0);
			CHECK_EQ_INT(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
			close(fd);
		}
		/* The same on the events socket. */
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s/kiln.events", cache);
		for (int i = 0; i < 20; i++) {
			fd = socket(AF_UNIX, SOCK_STREAM, 0);
			CHECK_EQ_INT(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
			close(fd);
		}
	}
	/* New clients get in again within a few probe rounds, and the
	 * watchdog has replaced at least one listener (a connection closed in
	 * the handshake stops it most of the time; forty of them, nearly
	 * always). */
	bool served = false;
	json_int_t restarts = 0;
	int64_t t0 = mono_ms();
	while ((!served || restarts < 1) && mono_ms() - t0 < 15000) {
		kclient *kn = NULL;
		json_t *req = json_pack("{s:s, s:s}", "type", "hello", "name", "after-the-storm"),
		       *rep = NULL;
		if (kclient_open(cache, &kn) == 0 && kclient_request(kn, req, &rep, 1000) == 0 &&
		    ok_of(rep)) {
			served = true;
			json_decref(rep);
			rep = NULL;
			json_decref(req);
			req = json_pack("{s:s}", "type", "connections");
			if (kclient_request(kn, req, &rep, 1000) == 0)
				restarts = json_integer_value(json_object_get(rep, "listener_restarts"));
			kclient_close(k);
			k = kn;
			kn = NULL;
		}
		json_decref(req);
		json_decref(rep);
		kclient_close(kn);
		usleep(50000);
	}
	CHECK(served);
	CHECK(restarts >= 1);
	if (k) {
		r = ASK(k, "{\"type\": \"connections\"}");
		CHECK(find_client(r, "after-the-storm") != NULL);
		json_decref(r);
		/* Events get through a fresh subscription too. */
		CHECK_EQ_INT(kclient_subscribe(k, "scan"), 0);
		bool got = false;
		for (int i = 0; i < 100 && !got; i++) {
			char *topic = NULL;
			json_t *body = json_pack("{s:s, s:i}", "event", "finished", "files", i);
			pthread_mutex_lock(&mu);
			control_publish(ctl, "scan", body);
			pthread_mutex_unlock(&mu);
			json_decref(body);
			body = NULL;
			if (kclient_next_event(k, &topic, &body, 100) == 0) {
				got = strcmp(topic, "scan") == 0;
				free(topic);
				json_decref(body);
			}
		}
		CHECK(got);
	}
	nng_close(raw);
	kclient_close(k);
	server_stop(&s);
}

static void test_events(void)
{
	kiln_config cfg = make_cfg(cache);
	control *ctl = NULL;
	server s;
	kclient *k = NULL, *kall = NULL;
	nng_socket sub = NNG_SOCKET_INITIALIZER;
	char err[512] = "", url[600];
	char *topic = NULL;
	json_t *body = NULL, *r;

	if (!(ctl = server_start(&s, &cfg)))
		return;
	CHECK_EQ_INT(kclient_open(cache, &k), 0);
	CHECK_EQ_INT(kclient_open(cache, &kall), 0);
	if (!k || !kall)
		goto out;
	CHECK_EQ_INT(kclient_event_fd(k), -1);
	CHECK_EQ_INT(kclient_subscribe(k, "product"), 0);
	CHECK(kclient_event_fd(k) >= 0);
	CHECK_EQ_INT(kclient_subscribe(kall, ""), 0);
	CHECK_EQ_INT(kclient_subscribe(k, "two words"), -EINVAL);
	/* A plain NNG SUB socket, subscribed to "ready " by hand. */
	snprintf(url, sizeof url, "ipc://%s/kiln.events", cache);
	CHECK_EQ_INT(nng_sub0_open(&sub), 0);
	CHECK_EQ_INT(nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, "ready ", 6), 0);
	CHECK_EQ_INT(nng_dial(sub, url, NULL, 0), 0);
	nng_socket_set_ms(sub, NNG_OPT_RECVTIMEO, 3000);
	/* The subscriptions are live once the supervisor counts them. */
	for (int i = 0; i < 200; i++) {
		r = ASK(k, "{\"type\": \"connections\"}");
		json_int_t n = json_integer_value(json_object_get(r, "subscribers"));
		json_decref(r);
		if (n == 3)
			break;
		usleep(5000);
	}
	CHECK_EQ_INT(kclient_next_event(k, &topic, &body, 0), -ETIMEDOUT);

	pthread_mutex_lock(&mu);
	json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:n}", "id", 7, "source", "a.png", "platform", "pc",
	                      "job_key", "copy", "status", "processing", "reason");
	json_t *p = json_pack("{s:s, s:s, s:s, s:s}", "event", "removed", "asset_id", "{x}:0", "platform",
	                      "pc", "path", "a.dds");
	json_t *rd = json_pack("{s:b}", "ready", 1);
	control_publish(ctl, "job", j);
	control_publish(ctl, "product", p);
	control_publish(ctl, "ready", rd);
	control_publish(ctl, "bad topic", rd); /* not a topic: not sent */
	control_publish(ctl, "productx", rd);
	pthread_mutex_unlock(&mu);
	json_decref(j);
	json_decref(p);
	json_decref(rd);

	CHECK_EQ_INT(kclient_next_event(k, &topic, &body, 3000), 0);
	CHECK_EQ_STR(topic, "product");
	CHECK_EQ_STR(json_string_value(json_object_get(body, "event")), "removed");
	CHECK_EQ_STR(json_string_value(json_object_get(body, "path")), "a.dds");
	free(topic);
	json_decref(body);
	/* "productx" does not match a subscription to "product". */
	CHECK_EQ_INT(kclient_next_event(k, &topic, &body, 200), -ETIMEDOUT);
	CHECK(topic == NULL && body == NULL);

	const char *want[] = {"job", "product", "ready", "productx"};
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(kclient_next_event(kall, &topic, &body, 3000), 0);
		CHECK_EQ_STR(topic, want[i]);
		if (i == 0) {
			CHECK_EQ_INT(json_integer_value(json_object_get(body, "id")), 7);
			CHECK(json_is_null(json_object_get(body, "reason")));
		}
		free(topic);
		json_decref(body);
	}
	CHECK_EQ_INT(kclient_next_event(kall, &topic, &body, 100), -ETIMEDOUT);
	{
		nng_msg *m = NULL;
		json_t *b = NULL;
		CHECK_EQ_INT(nng_recvmsg(sub, &m, 0), 0);
		if (m) {
			CHECK(nng_msg_len(m) > 6 && memcmp(nng_msg_body(m), "ready ", 6) == 0);
			CHECK_EQ_INT(kclient_decode_map((char *)nng_msg_body(m) + 6, nng_msg_len(m) - 6, &b,
			                                err, sizeof err),
			             0);
			CHECK(json_is_true(json_object_get(b, "ready")));
			json_decref(b);
			nng_msg_free(m);
		}
	}
out:
	nng_close(sub);
	kclient_close(k);
	kclient_close(kall);
	server_stop(&s);
}

/* Runs argv with a time limit; returns its exit status (-1 on a signal or
 * timeout). Its stdout goes to out. */
static int run_child(char *const argv[], char *out, size_t outsz, int timeout_s)
{
	int pfd[2];
	if (pipe(pfd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		alarm((unsigned)timeout_s);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	size_t used = 0;
	ssize_t n;
	while ((n = read(pfd[0], out + used, outsz - 1 - used)) > 0 && used + 1 < outsz)
		used += (size_t)n;
	out[used] = '\0';
	close(pfd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_tcp(void)
{
	kiln_config cfg = make_cfg(cache2);
	server s;
	kclient *k = NULL, *kt = NULL;
	char hostport[64], url[80];
	cfg_cidr nets[2];
	char *allow_ten[] = {"10.0.0.0/8", NULL}, *allow_lo[] = {"127.0.0.1", NULL};
	const char *why = NULL;
	json_t *r;
	int port = free_port();

	CHECK(port > 0);
	snprintf(hostport, sizeof hostport, "127.0.0.1:%d", port);
	snprintf(url, sizeof url, "tcp://%s", hostport);
	CHECK_EQ_INT(config_parse_cidr("10.0.0.0/8", &nets[0], &why), 0);
	CHECK_EQ_INT(config_parse_cidr("127.0.0.1", &nets[1], &why), 0);

	/* Only 10.0.0.0/8 may connect: a connection from 127.0.0.1 is closed
	 * at once, and listed. */
	cfg.control.tcp = hostport;
	cfg.control.token = "s3cret";
	cfg.control.allow = allow_ten;
	cfg.control.allow_nets = &nets[0];
	cfg.control.n_allow = 1;
	if (!server_start(&s, &cfg))
		return;
	int rc = kclient_open(url, &kt);
	if (rc == 0) {
		json_t *req = json_pack("{s:s, s:s}", "type", "status", "token", "s3cret");
		r = NULL;
		CHECK(kclient_request(kt, req, &r, 500) != 0);
		CHECK(r == NULL);
		json_decref(r);
		json_decref(req);
		kclient_close(kt);
		kt = NULL;
	}
	CHECK_EQ_INT(kclient_open(cache2, &k), 0);
	r = ASK(k, "{\"type\": \"connections\"}");
	CHECK_EQ_STR(json_string_value(json_object_get(r, "tcp")), hostport);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(r, "allowed"), 0)), "10.0.0.0/8");
	json_t *ref = json_array_get(json_object_get(r, "refused"), 0);
	CHECK(ref != NULL);
	CHECK(strncmp(sv(json_object_get(ref, "address")), "127.0.0.1:", 10) == 0);
	CHECK_EQ_STR(json_string_value(json_object_get(ref, "reason")), "address not allowed");
	CHECK(json_is_string(json_object_get(ref, "time")));
	CHECK(json_integer_value(json_object_get(r, "refused_total")) >= 1);
	/* No TCP client got as far as a request. */
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(r, "clients"), i, c)
	    CHECK_EQ_STR(json_string_value(json_object_get(c, "transport")), "ipc");
	json_decref(r);
	kclient_close(k);
	k = NULL;
	server_stop(&s);

	/* 127.0.0.1 allowed: the token decides. */
	cfg.control.allow = allow_lo;
	cfg.control.allow_nets = &nets[1];
	if (!server_start(&s, &cfg))
		return;
	CHECK_EQ_INT(kclient_open(url, &kt), 0);
	if (kt) {
		EXPECT_ERROR(kt, "{\"type\": \"status\"}", "must carry the project's \"token\"");
		EXPECT_ERROR(kt, "{\"type\": \"status\", \"token\": \"s3cre\"}", "wrong token");
		EXPECT_ERROR(kt, "{\"type\": \"status\", \"token\": \"s3cret!\"}", "wrong token");
		EXPECT_ERROR(kt, "{\"type\": \"status\", \"token\": 5}", "wrong token");
		CHECK_EQ_INT(kclient_set_token(kt, "s3cret"), 0);
		r = ASK(kt, "{\"type\": \"hello\", \"name\": \"remote\"}");
		CHECK(ok_of(r));
		json_decref(r);
		r = ASK(kt, "{\"type\": \"connections\"}");
		CHECK(ok_of(r));
		json_t *me = find_client(r, "remote");
		CHECK(me != NULL);
		CHECK_EQ_STR(json_string_value(json_object_get(me, "transport")), "tcp");
		CHECK(strncmp(sv(json_object_get(me, "address")), "127.0.0.1:", 10) == 0);
		CHECK(json_is_null(json_object_get(me, "peer_pid")));
		CHECK_EQ_INT(json_integer_value(json_object_get(me, "errors")), 4);
		/* Bad tokens are listed with the refused. */
		CHECK(json_array_size(json_object_get(r, "refused")) >= 4);
		json_decref(r);
		/* No events over TCP. */
		CHECK_EQ_INT(kclient_subscribe(kt, "job"), -ENOTSUP);
		/* The ipc socket needs no token. */
		CHECK_EQ_INT(kclient_open(cache2, &k), 0);
		r = ASK(k, "{\"type\": \"status\"}");
		CHECK(ok_of(r));
		json_decref(r);
		/* The Python client over TCP (8-byte length frames, no type byte). */
		if (access("/usr/bin/python3", X_OK) == 0) {
			char client_py[1200], out[4096];
			snprintf(client_py, sizeof client_py, "%s/common/python/kiln_client.py", src_dir);
			char *argv[] = {"/usr/bin/python3", client_py, "--token", "s3cret", url,
			                "status",           NULL};
			CHECK_EQ_INT(run_child(argv, out, sizeof out, 30), 0);
			CHECK(strstr(out, "\"idle\"") != NULL);
			char *nok[] = {"/usr/bin/python3", client_py, url, "status", NULL};
			CHECK_EQ_INT(run_child(nok, out, sizeof out, 30), 1);
			CHECK(strstr(out, "must carry") != NULL);
		}
	}
	kclient_close(k);
	kclient_close(kt);
	server_stop(&s);
}

static void test_python(void)
{
	kiln_config cfg = make_cfg(cache3);
	server s;
	char client_py[1200], editor_py[1200], out[8192];

	if (access("/usr/bin/python3", X_OK) != 0) {
		fprintf(stderr, "control_test: no /usr/bin/python3, the Python client is not tested\n");
		return;
	}
	snprintf(client_py, sizeof client_py, "%s/common/python/kiln_client.py", src_dir);
	snprintf(editor_py, sizeof editor_py, "%s/scripts/editor_client.py", src_dir);
	CHECK_EQ_INT(access(client_py, R_OK), 0);
	F.publish_ms = 50;
	if (!server_start(&s, &cfg))
		return;

	char *selftest[] = {"/usr/bin/python3", client_py, "--selftest", cache3, "--expect-event", NULL};
	int st = run_child(selftest, out, sizeof out, 30);
	if (st != 0)
		fprintf(stderr, "kiln_client.py --selftest: exit %d, output:\n%s\n", st, out);
	CHECK_EQ_INT(st, 0);
	CHECK(strstr(out, "checks passed") != NULL);

	/* The socket path works as well as the cache folder. */
	char sock[600];
	snprintf(sock, sizeof sock, "%s/kiln.sock", cache3);
	char *one[] = {"/usr/bin/python3", client_py,         sock, "compile",
	               "path=auto-py",     "timeout_ms=1000", NULL};
	st = run_child(one, out, sizeof out, 30);
	CHECK_EQ_INT(st, 0);
	CHECK(strstr(out, "\"completed\"") != NULL);
	char *bad[] = {"/usr/bin/python3", client_py, sock, "frobnicate", NULL};
	CHECK_EQ_INT(run_child(bad, out, sizeof out, 30), 1);
	CHECK(strstr(out, "unknown request type") != NULL);

	/* The example editor: hello, ready, compile, then product events. */
	char *editor[] = {"/usr/bin/python3", editor_py, "--connect",  cache3,
	                  "--count",          "2",       "auto-asset", NULL};
	st = run_child(editor, out, sizeof out, 30);
	if (st != 0)
		fprintf(stderr, "editor_client.py: exit %d, output:\n%s\n", st, out);
	CHECK_EQ_INT(st, 0);
	CHECK(strstr(out, "ready") != NULL);
	CHECK(strstr(out, "compile auto-asset: completed") != NULL);
	CHECK(strstr(out, "product changed: pc/textures/a.dds") != NULL);
	server_stop(&s);
	F.publish_ms = 0;

	/* Nobody there: exit 3. */
	CHECK_EQ_INT(run_child(editor, out, sizeof out, 30), 3);
}

static void test_convert(void)
{
	/* JSON -> MessagePack -> JSON keeps every type. */
	json_t *in = json_pack("{s:s, s:I, s:I, s:f, s:b, s:b, s:n, s:[i, s, {s:[]}], s:{}}", "s",
	                       "h\u00e9llo", "big", (json_int_t)1 << 53, "neg", (json_int_t)-5, "real", 2.5,
	                       "t", 1, "f", 0, "nil", "arr", 1, "x", "inner", "obj");
	msgpack_sbuffer sb;
	msgpack_packer pk;
	json_t *out = NULL;
	char err[256];
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	CHECK_EQ_INT(kclient_pack_json(&pk, in), 0);
	CHECK_EQ_INT(kclient_decode_map(sb.data, sb.size, &out, err, sizeof err), 0);
	CHECK(json_equal(in, out));
	json_decref(out);
	msgpack_sbuffer_destroy(&sb);
	json_decref(in);

	/* A nesting of 70 arrays is refused by the packer. */
	json_t *deep = json_array(), *cur = deep;
	for (int i = 0; i < 70; i++) {
		json_t *n = json_array();
		json_array_append_new(cur, n);
		cur = n;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	CHECK_EQ_INT(kclient_pack_json(&pk, deep), -EINVAL);
	msgpack_sbuffer_destroy(&sb);
	json_decref(deep);

	/* Things JSON cannot hold. */
	CHECK_EQ_INT(kclient_decode_map("\x81\xa1x\xc4\x01z", 6, &out, err, sizeof err),
	             KILN_E_PROTO); /* bin */
	CHECK_EQ_INT(kclient_decode_map("\x81\xa1x\xa1\xff", 5, &out, err, sizeof err),
	             KILN_E_PROTO); /* not UTF-8 */
	CHECK(strstr(err, "UTF-8") != NULL);
	CHECK_EQ_INT(kclient_decode_map("\x81\xa1x\x81\x01\x02", 6, &out, err, sizeof err),
	             KILN_E_PROTO); /* int key */
	CHECK_EQ_INT(
	    kclient_decode_map("\x81\xa1x\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 12, &out, err, sizeof err),
	    KILN_E_PROTO);                                                                    /* NaN */
	CHECK_EQ_INT(kclient_decode_map("\x91\x01", 2, &out, err, sizeof err), KILN_E_PROTO); /* not a map */
	CHECK(out == NULL);
	/* An unsigned 64-bit integer above INT64_MAX becomes a real. */
	CHECK_EQ_INT(
	    kclient_decode_map("\x81\xa1x\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 12, &out, err, sizeof err),
	    0);
	CHECK(json_is_real(json_object_get(out, "x")));
	json_decref(out);
	CHECK_EQ_INT(kclient_open("http://example", &(kclient *){NULL}), -EINVAL);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpdir, sizeof tmpdir, "/tmp/kiln-control-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(root, sizeof root, "%s/p", tmpdir);
	snprintf(cache, sizeof cache, "%s/Cache", root);
	snprintf(cache2, sizeof cache2, "%s/Cache2", root);
	snprintf(cache3, sizeof cache3, "%s/Cache3", root);
	mkdir(root, 0755);
	mkdir(cache, 0755);
	{
		char assets[400];
		snprintf(assets, sizeof assets, "%s/Assets", root);
		mkdir(assets, 0755);
	}
	/* The source tree: this file is tests/unit/control_test.c in it. */
	snprintf(src_dir, sizeof src_dir, "%s", __FILE__);
	char *cut = strstr(src_dir, "/tests/unit/control_test.c");
	if (cut)
		*cut = '\0';
	else
		snprintf(src_dir, sizeof src_dir, "%s/../..",
		         getenv("KILN_TEST_DATA") ? getenv("KILN_TEST_DATA") : ".");

	fill_db();
	test_convert();
	test_open();
	test_requests();
	test_hostile();
	test_events();
	test_tcp();
	test_python();

	if (getenv("KILN_TEST_KEEP"))
		fprintf(stderr, "kept %s\n", tmpdir);
	else
		path_rmtree(tmpdir);
	TEST_DONE();
}
