/* main.c: the `kiln` command line (SPEC section 4).
 *
 * Exit codes: 0 success; 1 a job or the asked-for asset failed; 2 usage or
 * configuration error; 3 no supervisor is running where one is needed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "engine/engine.h"
#include "kerr.h"
#include "klog.h"
#include "path.h"
#include "pool/pool.h"
#include "query/query.h"
#include "kclient.h"
#include "uuid.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_NO_SUPERVISOR 3

static void usage(FILE *f)
{
	fputs("usage: kiln [-p DIR] COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  init [DIR]                         write a starter kiln.json and Assets/\n"
	      "  batch [--platform P]... [--hosts N] [--hash]\n"
	      "                                     scan, process everything, exit\n"
	      "  run [--hosts N]                    live mode (watch, serve the control API)\n"
	      "  status [--json]                    state, jobs active and remaining\n"
	      "  jobs [--filter RE] [--status S,...] [--sort COL] [--json]\n"
	      "  job ID [--json]                    one job and its log lines\n"
	      "  assets [--filter RE] [--json]      sources\n"
	      "  asset PATH|UUID [--depth N|all] [--json]\n"
	      "                                     one source, its dependencies out and in as a tree\n"
	      "  products [--filter RE] [--json]    products\n"
	      "  product PATH|ASSET_ID [--depth N|all] [--json]\n"
	      "                                     one product, its dependencies out and in as a tree\n"
	      "  builders [--json]                  builders and their metrics\n"
	      "  reprocess PATH...                  run those sources' jobs again\n"
	      "  compile PATH [--platform P] [--timeout S]\n"
	      "  scan                               a full scan now (live mode)\n"
	      "  logs [--follow]                    the supervisor's own log\n"
	      "\n"
	      "-p DIR names the project (default: the nearest folder upward holding kiln.json).\n",
	      f);
}

static int load_project(const char *project, const char *self_dir, kiln_config **cfg)
{
	char root[KILN_PATH_MAX], err[2048];
	if (project) {
		char *r = realpath(project, NULL);
		if (!r) {
			fprintf(stderr, "kiln: %s: %s\n", project, strerror(errno));
			return EXIT_USAGE;
		}
		snprintf(root, sizeof root, "%s", r);
		free(r);
	} else {
		char cwd[KILN_PATH_MAX];
		if (!getcwd(cwd, sizeof cwd) || config_find_root(cwd, root, sizeof root) != 0) {
			fprintf(stderr, "kiln: no kiln.json here or in any parent folder (use -p DIR or kiln init)\n");
			return EXIT_USAGE;
		}
	}
	int rc = config_load(root, self_dir, cfg, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "kiln: %s\n", err);
		return EXIT_USAGE;
	}
	return 0;
}

static int parse_uint(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > 4096)
		return -1;
	*out = (int)v;
	return 0;
}

static int cmd_batch(kiln_config *cfg, const char *self_dir, int argc, char **argv)
{
	engine_opts o = {.self_dir = self_dir, .progress = isatty(2)};
	const char **plats = calloc((size_t)argc + 1, sizeof *plats);
	size_t np = 0;
	int rc = 0;
	if (!plats)
		return EXIT_FAILED;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--platform") == 0 && i + 1 < argc) {
			const char *p = argv[++i];
			bool known = false;
			for (size_t k = 0; k < cfg->n_platforms; k++)
				known |= strcmp(cfg->platforms[k], p) == 0;
			if (!known) {
				fprintf(stderr, "kiln batch: platform \"%s\" is not in %s\n", p, cfg->file);
				rc = EXIT_USAGE;
				goto out;
			}
			plats[np++] = p;
		} else if (strcmp(argv[i], "--hosts") == 0 && i + 1 < argc) {
			if (parse_uint(argv[++i], &o.hosts) != 0 || o.hosts < 1 || o.hosts > 256) {
				fprintf(stderr, "kiln batch: --hosts takes a number from 1 to 256\n");
				rc = EXIT_USAGE;
				goto out;
			}
		} else if (strcmp(argv[i], "--hash") == 0) {
			o.hash = true;
		} else if (strcmp(argv[i], "--no-progress") == 0) {
			o.progress = false;
		} else {
			fprintf(stderr, "kiln batch: unknown argument \"%s\"\n", argv[i]);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (np)
		o.platforms = plats;
	engine_stats st;
	char err[2048] = "";
	int erc = engine_batch(cfg, &o, &st, err, sizeof err);
	if (erc != 0) {
		fprintf(stderr, "kiln batch: %s\n", err[0] ? err : kiln_strerror(erc));
		engine_stats_free(&st);
		rc = erc == KILN_E_CONFIG || erc == KILN_E_STATE ? EXIT_USAGE : EXIT_FAILED;
		goto out;
	}
	printf("%zu jobs: %zu completed, %zu with warnings, %zu with errors, %zu failed; %zu products; %.2f s\n",
	       st.jobs, st.completed, st.warnings, st.errors, st.failed, st.products, st.seconds);
	fflush(stdout);
	for (size_t i = 0; i < st.n_failed_lines; i++)
		fprintf(stderr, "%s\n", st.failed_lines[i]);
	if (st.n_failed_lines)
		fprintf(stderr, "kiln: %zu jobs failed; `kiln jobs --status failed` lists them, `kiln job ID` shows why\n",
			st.n_failed_lines);
	rc = (st.failed > 0 || st.builder_failures > 0) ? EXIT_FAILED : 0;
	if (st.db_error[0]) {
		fprintf(stderr, "kiln batch: %s\n", st.db_error);
		rc = EXIT_FAILED;
	}
	engine_stats_free(&st);
out:
	free(plats);
	return rc;
}

static int cmd_run(kiln_config *cfg, const char *self_dir, int argc, char **argv)
{
	engine_opts o = {.self_dir = self_dir};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--hosts") == 0 && i + 1 < argc) {
			if (parse_uint(argv[++i], &o.hosts) != 0 || o.hosts < 1 || o.hosts > 256) {
				fprintf(stderr, "kiln run: --hosts takes a number from 1 to 256\n");
				return EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--hash") == 0) {
			o.hash = true;
		} else {
			fprintf(stderr, "kiln run: unknown argument \"%s\"\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	char err[2048] = "";
	int rc = engine_live(cfg, &o, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "kiln run: %s\n", err[0] ? err : kiln_strerror(rc));
		return rc == KILN_E_CONFIG || rc == KILN_E_STATE ? EXIT_USAGE : EXIT_FAILED;
	}
	return 0;
}

static int cmd_logs(const kiln_config *cfg, int argc, char **argv)
{
	bool follow = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0) {
			follow = true;
		} else {
			fprintf(stderr, "kiln logs: unknown argument \"%s\"\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	char path[KILN_PATH_MAX];
	if (follow) {
		/* It runs until stopped: Ctrl-C and SIGTERM end it even when the
		 * shell that started it in the background ignores them. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
	}
	snprintf(path, sizeof path, "%s/logs/kiln.log", cfg->cache);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && !follow) {
		fprintf(stderr, "kiln logs: %s: %s\n", path, strerror(errno));
		return EXIT_FAILED;
	}
	char buf[65536];
	for (;;) {
		if (fd < 0) {
			fd = open(path, O_RDONLY | O_CLOEXEC);
		}
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : 0;
		if (n > 0) {
			fwrite(buf, 1, (size_t)n, stdout);
			continue;
		}
		if (!follow)
			break;
		fflush(stdout);
		struct timespec ts = {0, 200 * 1000000};
		nanosleep(&ts, NULL);
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

/* A running supervisor for this project, or NULL. */
static kclient *connect_supervisor(const kiln_config *cfg)
{
	kclient *c = NULL;
	char sock[KILN_PATH_MAX];
	snprintf(sock, sizeof sock, "%s/kiln.sock", cfg->cache);
	if (access(sock, F_OK) != 0)
		return NULL;
	/* A socket file left by a supervisor that died answers nothing: the
	 * cache's lock tells whether a supervisor lives. */
	char lock[KILN_PATH_MAX];
	snprintf(lock, sizeof lock, "%s/kiln.lock", cfg->cache);
	int lfd = open(lock, O_RDONLY | O_CLOEXEC);
	if (lfd < 0)
		return NULL;
	bool alive = flock(lfd, LOCK_SH | LOCK_NB) != 0;
	close(lfd);
	if (!alive)
		return NULL;
	/* It lives; it may be busy, or replacing a listener a broken client
	 * jammed: try for a while before giving up. */
	int64_t deadline = pool_now_ms() + 15000;
	while (pool_now_ms() < deadline) {
		if (kclient_open(cfg->cache, &c) == 0) {
			json_t *req = json_pack("{s:s}", "type", "status"), *rep = NULL;
			int rc = kclient_request(c, req, &rep, 3000);
			json_decref(req);
			json_decref(rep);
			if (rc == 0)
				return c;
			kclient_close(c);
			c = NULL;
		}
		struct timespec ts = {0, 200 * 1000000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static int print_json_or(json_t *v, bool json, void (*text)(json_t *))
{
	if (json || !text) {
		json_dumpf(v, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		text(v);
	}
	return 0;
}

static void status_text(json_t *v)
{
	const char *k;
	json_t *x;
	json_object_foreach(v, k, x)
	{
		if (json_is_string(x))
			printf("%-20s %s\n", k, json_string_value(x));
		else if (json_is_null(x))
			printf("%-20s -\n", k);
		else {
			char *d = json_dumps(x, JSON_ENCODE_ANY | JSON_COMPACT);
			printf("%-20s %s\n", k, d ? d : "?");
			free(d);
		}
	}
}

/* Sends one request; prints an error reply. Returns the reply or NULL. */
static json_t *ask(kclient *c, json_t *req, int timeout_ms, const char *cmd)
{
	json_t *rep = NULL;
	int rc = kclient_request(c, req, &rep, timeout_ms);
	json_decref(req);
	if (rc != 0) {
		fprintf(stderr, "kiln %s: the supervisor did not answer: %s\n", cmd, kiln_strerror(rc));
		return NULL;
	}
	if (!json_is_true(json_object_get(rep, "ok"))) {
		fprintf(stderr, "kiln %s: %s\n", cmd, json_string_value(json_object_get(rep, "error")) ?: "refused");
		json_decref(rep);
		return NULL;
	}
	return rep;
}

static bool has_flag(int argc, char **argv, const char *flag)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], flag) == 0)
			return true;
	return false;
}

static int cmd_live_client(const kiln_config *cfg, int argc, char **argv)
{
	const char *cmd = argv[0];
	bool json = has_flag(argc, argv, "--json");
	kclient *c = connect_supervisor(cfg);
	int rc = 0;
	if (!c) {
		if (strcmp(cmd, "status") == 0 || strcmp(cmd, "reprocess") == 0)
			return query_run(cfg, argc, argv); /* from the database */
		fprintf(stderr, "kiln %s: no supervisor is running for %s (start one with kiln run)\n", cmd, cfg->root);
		return EXIT_NO_SUPERVISOR;
	}
	if (strcmp(cmd, "status") == 0) {
		json_t *rep = ask(c, json_pack("{s:s}", "type", "status"), 10000, cmd);
		if (!rep) {
			rc = EXIT_FAILED;
			goto out;
		}
		json_t *st = json_object_get(rep, "status");
		print_json_or(json_is_object(st) ? st : rep, json, status_text);
		json_decref(rep);
	} else if (strcmp(cmd, "scan") == 0) {
		json_t *rep = ask(c, json_pack("{s:s}", "type", "rescan"), 600000, cmd);
		rc = rep ? 0 : EXIT_FAILED;
		if (rep)
			printf("scan started\n");
		json_decref(rep);
	} else if (strcmp(cmd, "reprocess") == 0) {
		json_t *paths = json_array();
		for (int i = 1; i < argc; i++)
			if (argv[i][0] != '-')
				json_array_append_new(paths, json_string(argv[i]));
		if (!json_array_size(paths)) {
			json_decref(paths);
			fprintf(stderr, "kiln reprocess: name at least one source\n");
			rc = EXIT_USAGE;
			goto out;
		}
		json_t *rep = ask(c, json_pack("{s:s, s:o}", "type", "reprocess", "paths", paths), 60000, cmd);
		if (!rep) {
			rc = EXIT_FAILED;
			goto out;
		}
		printf("%lld jobs of %lld sources will run again now\n",
		       (long long)json_integer_value(json_object_get(rep, "jobs")),
		       (long long)json_integer_value(json_object_get(rep, "sources")));
		json_decref(rep);
	} else if (strcmp(cmd, "compile") == 0) {
		const char *path = NULL, *platform = NULL;
		double timeout = 0;
		for (int i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--platform") == 0 && i + 1 < argc)
				platform = argv[++i];
			else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
				char *end;
				timeout = strtod(argv[++i], &end);
				if (*end || timeout < 0 || timeout > 86400) {
					fprintf(stderr, "kiln compile: --timeout takes seconds\n");
					rc = EXIT_USAGE;
					goto out;
				}
			} else if (strcmp(argv[i], "--json") == 0)
				continue;
			else if (!path && argv[i][0] != '-')
				path = argv[i];
			else {
				fprintf(stderr, "kiln compile: unexpected argument \"%s\"\n", argv[i]);
				rc = EXIT_USAGE;
				goto out;
			}
		}
		if (!path) {
			fprintf(stderr, "kiln compile: name the asset (a path or a UUID)\n");
			rc = EXIT_USAGE;
			goto out;
		}
		/* A path relative to the current folder is made absolute, since the
		 * supervisor may run elsewhere. */
		char abs[KILN_PATH_MAX];
		if (path[0] != '/' && access(path, F_OK) == 0 && realpath(path, abs))
			path = abs;
		kuuid u;
		json_t *req = json_pack("{s:s, s:s}", "type", "compile", uuid_parse(path, &u) == 0 ? "uuid" : "path", path);
		if (platform)
			json_object_set_new(req, "platform", json_string(platform));
		if (timeout > 0)
			json_object_set_new(req, "timeout_ms", json_integer((json_int_t)(timeout * 1000)));
		json_t *rep = ask(c, req, timeout > 0 ? (int)(timeout * 1000) + 5000 : -1, cmd);
		if (!rep) {
			rc = EXIT_FAILED;
			goto out;
		}
		const char *result = json_string_value(json_object_get(rep, "result"));
		json_object_del(rep, "ok");
		if (json)
			print_json_or(rep, true, NULL);
		else
			printf("%s: %s\n", path, result ? result : "?");
		rc = result && strcmp(result, "completed") == 0 ? 0 : EXIT_FAILED;
		json_decref(rep);
	}
out:
	kclient_close(c);
	return rc;
}

static bool is_query(const char *c)
{
	static const char *const q[] = {"jobs", "job", "assets", "asset", "products", "product", "builders", NULL};
	for (int i = 0; q[i]; i++)
		if (strcmp(q[i], c) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const char *project = NULL;
	char self_dir[KILN_PATH_MAX];
	char **args = calloc((size_t)argc + 1, sizeof *args);
	int n = 0, rc = 0;
	kiln_config *cfg = NULL;

	if (!args)
		return EXIT_FAILED;
	klog_set_name("kiln");
	klog_set_stderr_level(KLOG_ERROR);
	if (path_self_dir(self_dir, sizeof self_dir) != 0) {
		fprintf(stderr, "kiln: cannot find my own folder\n");
		rc = EXIT_FAILED;
		goto out;
	}
	/* Builders written in Python import the SDK shipped beside kiln; the
	 * environment passes through the hosts (PYTHONPATH is on the
	 * sandbox's allowlist). */
	{
		char pp[2 * KILN_PATH_MAX];
		const char *old = getenv("PYTHONPATH");
		snprintf(pp, sizeof pp, "%s/python%s%s", self_dir, old && *old ? ":" : "", old && *old ? old : "");
		setenv("PYTHONPATH", pp, 1);
	}
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--project") == 0) && i + 1 < argc) {
			project = argv[++i];
		} else if (strncmp(argv[i], "--project=", 10) == 0) {
			project = argv[i] + 10;
		} else if (n == 0 && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
			usage(stdout);
			goto out;
		} else {
			args[n++] = argv[i];
		}
	}
	if (n == 0) {
		usage(stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	const char *cmd = args[0];
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		goto out;
	}
	if (strcmp(cmd, "init") == 0) {
		char err[1024];
		const char *dir = n > 1 ? args[1] : project ? project : ".";
		if (n > 2) {
			fprintf(stderr, "kiln init: too many arguments\n");
			rc = EXIT_USAGE;
			goto out;
		}
		if (config_init_project(dir, err, sizeof err) != 0) {
			fprintf(stderr, "kiln init: %s\n", err);
			rc = EXIT_USAGE;
			goto out;
		}
		printf("%s\n", err);
		goto out;
	}
	static const char *const known[] = {"batch", "run", "status", "jobs", "job", "assets", "asset",
					    "products", "product", "builders", "reprocess", "compile", "scan",
					    "logs", NULL};
	bool ok = false;
	for (int i = 0; known[i]; i++)
		ok |= strcmp(known[i], cmd) == 0;
	if (!ok) {
		fprintf(stderr, "kiln: unknown command \"%s\"\n", cmd);
		usage(stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	rc = load_project(project, self_dir, &cfg);
	if (rc)
		goto out;
	if (strcmp(cmd, "batch") == 0 || strcmp(cmd, "run") == 0)
		/* The supervisor reads signals through the pool's signalfd only:
		 * block them before anything can start a thread (nothing has;
		 * commands other than these keep the default Ctrl-C). */
		pool_block_signals();
	if (strcmp(cmd, "batch") == 0) {
		rc = cmd_batch(cfg, self_dir, n, args);
	} else if (is_query(cmd)) {
		rc = query_run(cfg, n, args);
	} else if (strcmp(cmd, "logs") == 0) {
		rc = cmd_logs(cfg, n, args);
	} else if (strcmp(cmd, "compile") == 0 || strcmp(cmd, "scan") == 0 || strcmp(cmd, "status") == 0 ||
		   strcmp(cmd, "reprocess") == 0) {
		rc = cmd_live_client(cfg, n, args);
	} else if (strcmp(cmd, "run") == 0) {
		rc = cmd_run(cfg, self_dir, n, args);
	}
out:
	config_free(cfg);
	free(args);
	return rc;
}
