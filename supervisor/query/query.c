/* query.c: the read-only commands' table and their dispatch, printing
 * (query_run) or capturing the document and the messages (query_json). */
#include "query/query.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query_priv.h"

static const struct {
	const char *name;
	int (*fn)(qctx *q, int argc, char **argv);
} commands[] = {
    {"jobs", q_cmd_jobs},         {"job", q_cmd_job},           {"assets", q_cmd_assets},
    {"asset", q_cmd_asset},       {"products", q_cmd_products}, {"product", q_cmd_product},
    {"builders", q_cmd_builders}, {"status", q_cmd_status},     {"reprocess", q_cmd_reprocess},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

int query_is_command(const char *argv0)
{
	if (!argv0)
		return 0;
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(argv0, commands[i].name) == 0)
			return 1;
	return 0;
}

/* Runs one command; with capture set, the document and the messages are
 * kept in *out and err instead of printed. */
static int dispatch(const kiln_config *cfg, int argc, char **argv, bool capture, json_t **out, char *err,
                    size_t errsz)
{
	qctx *q = NULL;
	int rc = Q_USAGE;

	if (argc < 1 || !argv || !argv[0]) {
		if (capture)
			snprintf(err, errsz, "no command given");
		else
			fprintf(stderr, "kiln: no command given\n");
		return Q_USAGE;
	}
	if (!cfg || !cfg->cache) {
		if (capture)
			snprintf(err, errsz, "no project configuration");
		else
			fprintf(stderr, "kiln %s: no project configuration\n", argv[0]);
		return Q_USAGE;
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		/* The context is on the heap: it holds a path buffer and an
		 * error buffer that do not belong on a caller's stack. */
		q = calloc(1, sizeof *q);
		if (!q) {
			if (capture)
				snprintf(err, errsz, "out of memory");
			else
				fprintf(stderr, "kiln %s: out of memory\n", argv[0]);
			return Q_USAGE;
		}
		q->cfg = cfg;
		q->cmd = commands[i].name;
		q->capture = capture;
		q->json = capture;
		q->err = err;
		q->errsz = errsz;
		rc = commands[i].fn(q, argc, argv);
		/* Whatever the command printed must reach its reader even when
		 * the caller leaves with _exit(). */
		if (!capture && fflush(stdout) != 0 && rc == Q_OK) {
			q_err(q, "writing the output: %s", strerror(errno));
			rc = Q_USAGE;
		}
		q_close(q);
		if (capture) {
			*out = q->doc;
			q->doc = NULL;
			if (rc == Q_OK && !*out) {
				/* Only --help answers without a document. */
				snprintf(err, errsz, "%s: no answer", argv[0]);
				rc = Q_USAGE;
			}
		}
		json_decref(q->doc);
		free(q);
		return rc;
	}
	if (capture)
		snprintf(err, errsz, "unknown command '%s'", argv[0]);
	else
		fprintf(stderr, "kiln: unknown command '%s'\n", argv[0]);
	return Q_USAGE;
}

int query_run(const kiln_config *cfg, int argc, char **argv)
{
	return dispatch(cfg, argc, argv, false, NULL, NULL, 0);
}

int query_json(const kiln_config *cfg, int argc, char **argv, json_t **out, char *err, size_t errsz)
{
	char dummy[1];
	*out = NULL;
	if (!err || errsz == 0) {
		err = dummy;
		errsz = sizeof dummy;
	}
	err[0] = '\0';
	int rc = dispatch(cfg, argc, argv, true, out, err, errsz);
	if (rc != Q_OK && err[0] == '\0')
		snprintf(err, errsz, "%s failed", argc > 0 && argv && argv[0] ? argv[0] : "query");
	return rc;
}
